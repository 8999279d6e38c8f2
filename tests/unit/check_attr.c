/* check_attr - attribute IPC: round trips, the wire format, strict reading. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "mem.h"
#include "stream.h"
#include "testsupport.h"

/* now_ms - monotonic milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* streams - two streams over one socket pair */
static void streams(STREAM **a, STREAM **b)
{
    int     sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *a = stream_fdopen(sv[0]);
    *b = stream_fdopen(sv[1]);
    stream_set_timeout(*a, 5);
    stream_set_timeout(*b, 5);
}

START_TEST(test_round_trip_every_type)
{
    STREAM *w;
    STREAM *r;
    BUF    *str = buf_alloc(0);
    BUF    *empty = buf_alloc(0);
    BUF    *data = buf_alloc(0);
    BUF    *nodata = buf_alloc(0);
    int     i1 = 0;
    int     i2 = 0;
    int     i3 = 0;
    long    l1 = 0;
    long    l2 = 0;
    static const char bytes[] = {'a', 0, 'b', (char) 0xff, 0};

    streams(&w, &r);
    ck_assert_int_eq(attr_send(w,
                               SEND_STR("text", "hello world"),
                               SEND_STR("empty", ""),
                               SEND_INT("neg", -5),
                               SEND_INT("max", INT_MAX),
                               SEND_INT("min", INT_MIN),
                               SEND_LONG("lmin", LONG_MIN),
                               SEND_LONG("lmax", LONG_MAX),
                               SEND_DATA("data", bytes, sizeof(bytes)),
                               SEND_DATA("nodata", NULL, 0),
                               ATTR_END), 0);
    buf_set(empty, "stale");
    ck_assert_msg(attr_recv(r,
                            RECV_STR("text", str),
                            RECV_STR("empty", empty),
                            RECV_INT("neg", &i1),
                            RECV_INT("max", &i2),
                            RECV_INT("min", &i3),
                            RECV_LONG("lmin", &l1),
                            RECV_LONG("lmax", &l2),
                            RECV_DATA("data", data),
                            RECV_DATA("nodata", nodata),
                            ATTR_END) == 0, "recv: %s", attr_last_error());
    ck_assert_str_eq(buf_str(str), "hello world");
    ck_assert_uint_eq(buf_len(empty), 0);
    ck_assert_int_eq(i1, -5);
    ck_assert_int_eq(i2, INT_MAX);
    ck_assert_int_eq(i3, INT_MIN);
    ck_assert(l1 == LONG_MIN);
    ck_assert(l2 == LONG_MAX);
    ck_assert_uint_eq(buf_len(data), sizeof(bytes));
    ck_assert_int_eq(memcmp(buf_str(data), bytes, sizeof(bytes)), 0);
    ck_assert_uint_eq(buf_len(nodata), 0);

    /* A second list on the same stream, then a clean close between lists. */
    ck_assert_int_eq(attr_send(w, SEND_INT("status", 0), ATTR_END), 0);
    ck_assert_int_eq(attr_recv(r, RECV_INT("status", &i1), ATTR_END), 0);
    ck_assert_int_eq(i1, 0);
    ck_assert_int_eq(stream_close(w), 0);
    ck_assert_int_eq(attr_recv(r, RECV_INT("status", &i1), ATTR_END), -1);
    ck_assert(attr_last_eof());
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "end of input"));
    stream_close(r);
    buf_free(str);
    buf_free(empty);
    buf_free(data);
    buf_free(nodata);
}
END_TEST

START_TEST(test_wire_format)
{
    STREAM *w;
    STREAM *r;
    static const char want[] = "queue_id\0" "4XkAB\0" "status\0" "-1\0"
        "size\0" "123456789012\0" "blob\0" "00ff0a\0" "\0";
    static const char blob[] = {0, (char) 0xff, '\n'};
    char    got[sizeof(want) + 16];

    streams(&w, &r);
    ck_assert_int_eq(attr_send(w, SEND_STR("queue_id", "4XkAB"),
                               SEND_INT("status", -1),
                               SEND_LONG("size", 123456789012L),
                               SEND_DATA("blob", blob, sizeof(blob)),
                               ATTR_END), 0);
    stream_close(w);
    ck_assert_int_eq(stream_read(r, got, sizeof(got)), (ssize_t) sizeof(want) - 1);
    ck_assert_int_eq(memcmp(got, want, sizeof(want) - 1), 0);
    stream_close(r);
}
END_TEST

/* One strict-reading case: input bytes and the error expected (NULL: ok). */
struct strict_case {
    const char *label;
    const char *input;
    size_t  len;
    const char *error;
};

#define IN(s)   s, sizeof(s) - 1

static const struct strict_case strict_cases[] = {
    {"valid", IN("a\0x\0n\0" "5\0d\0" "00ff\0\0"), NULL},
    {"valid upper-case hex", IN("a\0x\0n\0" "-0\0d\0" "0AfF\0\0"), NULL},
    {"missing last", IN("a\0x\0n\0" "5\0\0"), "missing attribute \"d\""},
    {"missing first", IN("\0"), "missing attribute \"a\""},
    {"extra", IN("a\0x\0n\0" "5\0d\0" "\0e\0v\0\0"), "unexpected extra attribute \"e\""},
    {"wrong order", IN("n\0" "5\0a\0x\0d\0\0\0"), "\"n\" out of order: expected \"a\""},
    {"unknown", IN("a\0x\0zz\0" "5\0d\0\0\0"), "unexpected attribute \"zz\": expected \"n\""},
    {"unprintable name", IN("a\0x\0z\nz\0" "5\0\0"), "unexpected attribute \"z?z\""},
    {"number with letters", IN("a\0x\0n\0" "5x\0d\0\0\0"), "attribute \"n\": bad number \"5x\""},
    {"empty number", IN("a\0x\0n\0" "\0d\0\0\0"), "attribute \"n\": bad number"},
    {"plus sign", IN("a\0x\0n\0" "+5\0d\0\0\0"), "bad number"},
    {"leading space", IN("a\0x\0n\0" " 5\0d\0\0\0"), "bad number"},
    {"lone minus", IN("a\0x\0n\0" "-\0d\0\0\0"), "bad number"},
    {"int overflow", IN("a\0x\0n\0" "2147483648\0d\0\0\0"), "bad number \"2147483648\""},
    {"int underflow", IN("a\0x\0n\0" "-2147483649\0d\0\0\0"), "bad number"},
    {"huge number", IN("a\0x\0n\0" "99999999999999999999999\0d\0\0\0"), "bad number"},
    {"odd hex", IN("a\0x\0n\0" "5\0d\0" "0\0\0"), "attribute \"d\": bad hex data"},
    {"bad hex digit", IN("a\0x\0n\0" "5\0d\0" "0g\0\0"), "bad hex data"},
    {"no terminator", IN("a\0x\0n\0" "5\0d\0" "00\0"), "name after \"d\": unexpected end of input"},
    {"truncated value", IN("a\0x\0n\0" "5"), "value of attribute \"n\": unexpected end of input"},
    {"truncated name", IN("a\0x\0n"), "unexpected end of input"},
    {"empty input", IN(""), "unexpected end of input"},
};

START_TEST(test_strict_reading)
{
    const struct strict_case *tc = &strict_cases[_i];
    STREAM *s = stream_memopen(tc->input, tc->len);
    BUF    *a = buf_alloc(0);
    BUF    *d = buf_alloc(0);
    int     n = 0;
    int     rc;

    rc = attr_recv(s, RECV_STR("a", a), RECV_INT("n", &n), RECV_DATA("d", d), ATTR_END);
    if (tc->error == NULL) {
        ck_assert_msg(rc == 0, "%s: %s", tc->label, attr_last_error());
        ck_assert_str_eq(buf_str(a), "x");
        ck_assert_uint_eq(buf_len(d), 2);
    } else {
        ck_assert_msg(rc == -1, "%s: accepted", tc->label);
        ck_assert_msg(strstr(attr_last_error(), tc->error) != NULL,
                      "%s: error \"%s\", want \"%s\"", tc->label,
                      attr_last_error(), tc->error);
        ck_assert_msg(attr_last_eof() == (tc->len == 0),
                      "%s: eof flag %d", tc->label, attr_last_eof());
    }
    buf_free(a);
    buf_free(d);
    stream_close(s);
}
END_TEST

/* list_of - wire bytes of `count` attributes with the given name and value sizes */
static BUF *list_of(int count, size_t name_len, size_t value_len)
{
    BUF    *b = buf_alloc(0);
    int     i;
    size_t  j;

    for (i = 0; i < count; i++) {
        buf_printf(b, "%c", 'a' + i % 26);
        for (j = 1; j < name_len; j++)
            buf_putc(b, 'n');
        buf_putc(b, 0);
        for (j = 0; j < value_len; j++)
            buf_putc(b, 'v');
        buf_putc(b, 0);
    }
    buf_putc(b, 0);
    return b;
}

/* recv_list_on - attr_recv_list over memory; the count or -1 */
static int recv_list_on(BUF *wire)
{
    STREAM *s = stream_memopen(buf_str(wire), buf_len(wire));
    ATTR_LIST list;
    int     rc;

    rc = attr_recv_list(s, &list);
    if (rc == 0) {
        rc = list.count;
        attr_list_free(&list);
    } else {
        ck_assert_int_eq(list.count, 0);
        ck_assert_ptr_null(list.names);
    }
    stream_close(s);
    buf_free(wire);
    return rc;
}

START_TEST(test_bounds)
{
    ck_assert_int_eq(recv_list_on(list_of(1, ATTR_NAME_MAX, 1)), 1);
    ck_assert_int_eq(recv_list_on(list_of(1, ATTR_NAME_MAX + 1, 1)), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "longer than 100 bytes"));

    ck_assert_int_eq(recv_list_on(list_of(1, 1, ATTR_VALUE_MAX)), 1);
    ck_assert_int_eq(recv_list_on(list_of(1, 1, ATTR_VALUE_MAX + 1)), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "value of attribute \"a\": longer than"));

    ck_assert_int_eq(recv_list_on(list_of(ATTR_COUNT_MAX, 2, 0)), ATTR_COUNT_MAX);
    ck_assert_int_eq(recv_list_on(list_of(ATTR_COUNT_MAX + 1, 2, 0)), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "more than 1024 attributes"));

    ck_assert_int_eq(recv_list_on(list_of(4, 1, ATTR_VALUE_MAX - 1)), 4);
    ck_assert_int_eq(recv_list_on(list_of(5, 1, ATTR_VALUE_MAX)), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "list longer than"));
}
END_TEST

START_TEST(test_recv_list_and_get)
{
    static const char wire[] = "protocol\0cleanup\0" "blob\0" "00ff\0" "e\0\0" "\0";
    STREAM *s = stream_memopen(wire, sizeof(wire) - 1);
    ATTR_LIST list;

    ck_assert_int_eq(attr_recv_list(s, &list), 0);
    ck_assert_int_eq(list.count, 3);
    ck_assert_str_eq(attr_list_get(&list, "protocol"), "cleanup");
    ck_assert_str_eq(attr_list_get(&list, "blob"), "00ff");
    ck_assert_str_eq(attr_list_get(&list, "e"), "");
    ck_assert_ptr_null(attr_list_get(&list, "absent"));
    attr_list_free(&list);
    ck_assert_int_eq(list.count, 0);
    /* Nothing left: a clean end between lists. */
    ck_assert_int_eq(attr_recv_list(s, &list), -1);
    ck_assert(attr_last_eof());
    stream_close(s);
}
END_TEST

START_TEST(test_recv_timeout_on_silent_peer)
{
    STREAM *w;
    STREAM *r;
    int     n;
    long long t0;
    long long took;

    streams(&w, &r);
    stream_set_timeout(r, 1);
    /* The peer starts a list and then says nothing more. */
    ck_assert_int_eq(stream_write(w, "n\0", 2), 0);
    ck_assert_int_eq(stream_flush(w), 0);
    t0 = now_ms();
    ck_assert_int_eq(attr_recv(r, RECV_INT("n", &n), ATTR_END), -1);
    took = now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 3000, "timeout after %lld ms", took);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "value of attribute \"n\": timeout"));
    ck_assert(!attr_last_eof());
    stream_close(w);
    stream_close(r);
}
END_TEST

START_TEST(test_send_timeout_when_peer_does_not_read)
{
    STREAM *w;
    STREAM *r;
    char   *big = xcalloc(1, ATTR_VALUE_MAX / 2);
    int     small = 4096;

    streams(&w, &r);
    setsockopt(stream_fd(w), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    stream_set_timeout(w, 1);
    ck_assert_int_eq(attr_send(w, SEND_DATA("big", big, ATTR_VALUE_MAX / 2), ATTR_END), -1);
    ck_assert_str_eq(attr_last_error(), "write timeout");
    xfree(big);
    stream_close(w);
    stream_close(r);
}
END_TEST

START_TEST(test_send_refuses_what_reader_would_refuse)
{
    STREAM *w;
    STREAM *r;
    char   *big = xmalloc(ATTR_VALUE_MAX + 2);
    char    c;
    pid_t   pid;
    int     status;

    memset(big, 'x', ATTR_VALUE_MAX + 1);
    big[ATTR_VALUE_MAX + 1] = 0;
    streams(&w, &r);
    ck_assert_int_eq(attr_send(w, SEND_INT("ok", 1),
                               SEND_DATA("d", big, ATTR_VALUE_MAX / 2 + 1), ATTR_END), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "attribute \"d\": value longer"));
    ck_assert_int_eq(attr_send(w, SEND_STR("s", big), ATTR_END), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "attribute \"s\": value longer"));
    /* Nothing went out: the peer has no byte to read. */
    ck_assert_int_eq(recv(stream_fd(r), &c, 1, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);
    /* The largest value the reader takes goes through (read by a child). */
    big[ATTR_VALUE_MAX] = 0;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        BUF    *got = buf_alloc(0);

        _exit(attr_recv(r, RECV_STR("s", got), ATTR_END) == 0
              && buf_len(got) == ATTR_VALUE_MAX ? 0 : 1);
    }
    ck_assert_int_eq(attr_send(w, SEND_STR("s", big), ATTR_END), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    xfree(big);
    stream_close(w);
    stream_close(r);
}
END_TEST

START_TEST(test_send_to_closed_peer)
{
    STREAM *w;
    STREAM *r;

    streams(&w, &r);
    stream_close(r);
    ck_assert_int_eq(attr_send(w, SEND_INT("status", 0), ATTR_END), -1);
    ck_assert_ptr_nonnull(strstr(attr_last_error(), "write error"));
    stream_close(w);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("attr");
    TCase  *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_round_trip_every_type);
    tcase_add_test(tc, test_wire_format);
    tcase_add_loop_test(tc, test_strict_reading, 0,
                        (int) (sizeof(strict_cases) / sizeof(strict_cases[0])));
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_recv_list_and_get);
    tcase_add_test(tc, test_recv_timeout_on_silent_peer);
    tcase_add_test(tc, test_send_timeout_when_peer_does_not_read);
    tcase_add_test(tc, test_send_refuses_what_reader_would_refuse);
    tcase_add_test(tc, test_send_to_closed_peer);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
