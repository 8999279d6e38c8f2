/* check_local_copy - the content as local writes it: byte-exact copies,
 * mbox framing and quoting, size limits, and the header scan for loops. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "local.h"
#include "mem.h"
#include "record.h"
#include "testsupport.h"

/* A content record list: type and text. */
typedef struct {
    int     type;
    const char *text;
} REC;

static const REC content[] = {
    {'N', "Received: from a by b"},
    {'N', "Delivered-To: First@Example.org "},
    {'N', "Subject: hi"},
    {'N', ""},
    {'N', "From the body"},
    {'L', "From a long "},             /* one line in two records: not quoted twice */
    {'N', "line From here"},
    {'N', "."},
    {'N', "Delivered-To: body@example.org"},
};

#define BODY_TEXT "Received: from a by b\nDelivered-To: First@Example.org \nSubject: hi\n\n" \
    "From the body\nFrom a long line From here\n.\nDelivered-To: body@example.org\n"

/* write_queue - a file with some envelope, then M, content, X; msg set up */
static void write_queue(LOCAL_MSG *msg)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "q");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    STREAM *s = stream_fdopen(fd);
    size_t  i;

    ck_assert_int_ge(fd, 0);
    rec_puts(s, 'S', "sender@example.org");
    memset(msg, 0, sizeof(*msg));
    msg->data_offset = (long) (rec_header_len(18) + 18);
    rec_put(s, 'M', "", 0);
    for (i = 0; i < sizeof(content) / sizeof(content[0]); i++)
        rec_puts(s, content[i].type, content[i].text);
    rec_put(s, 'X', "", 0);
    rec_put(s, 'E', "", 0);
    ck_assert_int_eq(stream_close(s), 0);
    msg->fd = open(path, O_RDONLY);
    msg->queue_id = "TESTID";
    msg->sender = "sender@example.org";
    free(path);
}

/* copy_to_string - run local_copy into a temp file and read it back */
static char *copy_to_string(LOCAL_MSG *msg, int flags, long limit, int *ret)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "out");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    BUF    *why = buf_alloc(10);
    char   *text;

    *ret = local_copy(msg, "s@x", "rcpt@example.org", fd, flags, limit, why);
    close(fd);
    text = ts_read_file(path, NULL);
    buf_free(why);
    free(path);
    return text;
}

START_TEST(test_plain_copy_is_exact)
{
    LOCAL_MSG msg;
    int     ret;
    char   *text;

    write_queue(&msg);
    text = copy_to_string(&msg, LOCAL_COPY_HEADERS, 0, &ret);
    ck_assert_int_eq(ret, LOCAL_COPY_OK);
    ck_assert_str_eq(text, "Return-Path: <s@x>\nDelivered-To: rcpt@example.org\n" BODY_TEXT);
    free(text);
    text = copy_to_string(&msg, 0, 0, &ret);
    ck_assert_str_eq(text, BODY_TEXT);
    free(text);
    close(msg.fd);
}
END_TEST

START_TEST(test_mbox_copy_frames_and_quotes)
{
    LOCAL_MSG msg;
    int     ret;
    char   *text, *nl;

    write_queue(&msg);
    text = copy_to_string(&msg, LOCAL_COPY_MBOX, 0, &ret);
    ck_assert_int_eq(ret, LOCAL_COPY_OK);
    ck_assert_msg(strncmp(text, "From s@x  ", 10) == 0, "first line: %s", text);
    nl = strchr(text, '\n');
    ck_assert_ptr_nonnull(nl);
    ck_assert_str_eq(nl + 1, "Return-Path: <s@x>\nDelivered-To: rcpt@example.org\n"
                     "Received: from a by b\nDelivered-To: First@Example.org \nSubject: hi\n\n"
                     ">From the body\n>From a long line From here\n.\n"
                     "Delivered-To: body@example.org\n\n");
    free(text);
    close(msg.fd);
}
END_TEST

START_TEST(test_limit_stops_the_copy)
{
    LOCAL_MSG msg;
    int     ret;
    char   *text;

    write_queue(&msg);
    text = copy_to_string(&msg, LOCAL_COPY_HEADERS, 20, &ret);
    ck_assert_int_eq(ret, LOCAL_COPY_LIMIT);
    ck_assert_str_eq(text, "");
    free(text);
    text = copy_to_string(&msg, 0, (long) strlen(BODY_TEXT), &ret);
    ck_assert_int_eq(ret, LOCAL_COPY_OK);
    free(text);
    close(msg.fd);
}
END_TEST

START_TEST(test_scan_finds_delivered_to_in_headers_only)
{
    LOCAL_MSG msg;
    BUF    *why = buf_alloc(10);

    write_queue(&msg);
    ck_assert_int_eq(local_msg_scan(&msg, why), 0);
    /* Received: is a hop, Delivered-To: is not (header_name.h: the
     * count cleanup keeps against hopcount_limit too). */
    ck_assert_int_eq(msg.hops, 1);
    ck_assert_int_eq(msg.ndelivered, 1);
    ck_assert(local_msg_delivered(&msg, "first@example.org"));
    ck_assert(local_msg_delivered(&msg, "FIRST@example.ORG"));
    ck_assert(!local_msg_delivered(&msg, "body@example.org"));
    local_msg_free_headers(&msg);
    ck_assert_int_eq(msg.ndelivered, 0);
    close(msg.fd);
    buf_free(why);
}
END_TEST

START_TEST(test_bad_data_offset_is_a_read_error)
{
    LOCAL_MSG msg;
    BUF    *why = buf_alloc(10);
    int     ret;
    char   *text;

    write_queue(&msg);
    msg.data_offset = 0;                /* the S record, not M */
    ck_assert_int_eq(local_msg_scan(&msg, why), -1);
    text = copy_to_string(&msg, 0, 0, &ret);
    ck_assert_int_eq(ret, LOCAL_COPY_READ);
    free(text);
    close(msg.fd);
    buf_free(why);
}
END_TEST

START_TEST(test_addresses_are_written_quoted)
{
    LOCAL_MSG msg;
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "out");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    BUF    *why = buf_alloc(10);
    char   *text;
    const char *want_from = "From \"john q. public\"@example.org  ";
    const char *want_headers = "Return-Path: <\"john q. public\"@example.org>\n"
        "Delivered-To: \"x y\"@example.org\n";

    /* The sender comes in the internal form (as in the queue file); the
     * recipient as local_state_init made it (external). */
    write_queue(&msg);
    ck_assert_int_eq(local_copy(&msg, "john q. public@example.org", "\"x y\"@example.org", fd,
                                LOCAL_COPY_MBOX, 0, why), LOCAL_COPY_OK);
    close(fd);
    text = ts_read_file(path, NULL);
    ck_assert_msg(strncmp(text, want_from, strlen(want_from)) == 0, "%s", text);
    ck_assert_msg(strstr(text, want_headers) == strchr(text, '\n') + 1, "%s", text);
    free(text);
    close(msg.fd);
    buf_free(why);
    free(path);
}
END_TEST

START_TEST(test_delivered_to_matches_the_quoted_form)
{
    LOCAL_MSG msg;

    memset(&msg, 0, sizeof(msg));
    msg.delivered[msg.ndelivered++] = xstrdup("\"x y\"@example.org");
    msg.delivered[msg.ndelivered++] = xstrdup("old form@example.org");
    ck_assert(local_msg_delivered(&msg, "x y@example.org"));
    ck_assert(local_msg_delivered(&msg, "X Y@Example.org"));
    ck_assert(local_msg_delivered(&msg, "old form@example.org"));
    ck_assert(!local_msg_delivered(&msg, "xy@example.org"));
    local_msg_free_headers(&msg);
}
END_TEST

START_TEST(test_from_line_for_null_sender)
{
    BUF    *out = buf_alloc(10);

    local_from_line(out, "", 0);
    ck_assert_msg(strncmp(buf_str(out), "From MAILER-DAEMON  ", 20) == 0, "%s", buf_str(out));
    ck_assert_int_eq(buf_str(out)[buf_len(out) - 1], '\n');
    buf_free(out);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("local_copy");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_plain_copy_is_exact);
    tcase_add_test(tc, test_mbox_copy_frames_and_quotes);
    tcase_add_test(tc, test_limit_stops_the_copy);
    tcase_add_test(tc, test_scan_finds_delivered_to_in_headers_only);
    tcase_add_test(tc, test_bad_data_offset_is_a_read_error);
    tcase_add_test(tc, test_addresses_are_written_quoted);
    tcase_add_test(tc, test_delivered_to_matches_the_quoted_form);
    tcase_add_test(tc, test_from_line_for_null_sender);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
