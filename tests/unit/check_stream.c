/* check_stream - buffered streams: timeouts, line limits, read-ahead, memory. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* pair - a connected UNIX socket pair: sv[0] for the stream, sv[1] the peer */
static void pair(int sv[2])
{
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* put - the peer writes a whole string */
static void put(int fd, const char *text)
{
    size_t  len = strlen(text);

    ck_assert_int_eq(write(fd, text, len), (ssize_t) len);
}

START_TEST(test_read_timeout_fires_within_bound)
{
    int     sv[2];
    STREAM *s;
    long long t0;
    long long took;

    pair(sv);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    t0 = now_ms();
    ck_assert_int_eq(stream_getc(s), STREAM_ERROR);
    took = now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 3000, "timeout after %lld ms", took);
    ck_assert(stream_timed_out(s));
    ck_assert(stream_error(s));
    ck_assert(!stream_eof(s));
    /* Sticky: the next read fails at once, even though data is there now. */
    put(sv[1], "x\n");
    t0 = now_ms();
    ck_assert_int_eq(stream_getc(s), STREAM_ERROR);
    ck_assert_int_lt(now_ms() - t0, 500);
    stream_close(s);
    close(sv[1]);
}
END_TEST

/* issue 15: a socket read that filled the buffer makes the next read try
 * recv first (more content is likely waiting); when nothing is, the
 * timeout still holds and the bytes that do come are read whole. */
START_TEST(test_read_after_full_buffer_still_times_out)
{
    int     sv[2];
    STREAM *s;
    char    block[2 * 8192];       /* two full buffers: the third read tries recv first */
    char    got[sizeof(block)];
    long long t0;
    long long took;

    pair(sv);
    memset(block, 'a', sizeof(block));
    block[sizeof(block) - 1] = 'z';
    ck_assert_int_eq(write(sv[1], block, sizeof(block)), (ssize_t) sizeof(block));
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    ck_assert_int_eq(stream_read(s, got, sizeof(block)), (ssize_t) sizeof(block));
    ck_assert_int_eq(memcmp(got, block, sizeof(block)), 0);
    t0 = now_ms();
    ck_assert_int_eq(stream_getc(s), STREAM_ERROR);
    took = now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 3000, "timeout after %lld ms", took);
    ck_assert(stream_timed_out(s));
    stream_close(s);
    close(sv[1]);
}
END_TEST

/* After a read timeout a server says goodbye: stream_clear_error makes
 * the stream writable again (and readable), through the same I/O. */
START_TEST(test_clear_error_after_timeout)
{
    int     sv[2];
    STREAM *s;
    char    got[16];

    pair(sv);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    ck_assert_int_eq(stream_getc(s), STREAM_ERROR);
    ck_assert(stream_timed_out(s));
    ck_assert_int_eq(stream_puts(s, "bye\r\n"), -1);      /* sticky */
    stream_clear_error(s);
    ck_assert(!stream_error(s));
    ck_assert(!stream_timed_out(s));
    ck_assert_int_eq(stream_puts(s, "421\r\n"), 0);
    ck_assert_int_eq(stream_flush(s), 0);
    ck_assert_int_eq(read(sv[1], got, sizeof(got)), 5);
    ck_assert(memcmp(got, "421\r\n", 5) == 0);
    stream_close(s);
    close(sv[1]);
}
END_TEST

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
    (void) sig;
    alarms++;
}

START_TEST(test_timeout_survives_eintr)
{
    int     sv[2];
    STREAM *s;
    struct sigaction sa;
    struct itimerval it;
    long long t0;
    long long took;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;           /* no SA_RESTART: poll gets EINTR */
    sigaction(SIGALRM, &sa, NULL);
    memset(&it, 0, sizeof(it));
    it.it_value.tv_usec = 100000;
    it.it_interval.tv_usec = 100000;
    setitimer(ITIMER_REAL, &it, NULL);

    pair(sv);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    t0 = now_ms();
    ck_assert_int_eq(stream_getc(s), STREAM_ERROR);
    took = now_ms() - t0;
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_REAL, &it, NULL);
    ck_assert_int_gt(alarms, 2);
    ck_assert_msg(took >= 900 && took < 3000, "timeout after %lld ms", took);
    ck_assert(stream_timed_out(s));
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_write_timeout_when_peer_does_not_read)
{
    int     sv[2];
    int     small = 4096;
    STREAM *s;
    char    chunk[4096];
    long long t0;
    long long took;
    int     i;
    int     rc = 0;

    pair(sv);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    memset(chunk, 'x', sizeof(chunk));
    t0 = now_ms();
    for (i = 0; i < 4096 && rc == 0; i++)
        rc = stream_write(s, chunk, sizeof(chunk));
    if (rc == 0)
        rc = stream_flush(s);
    took = now_ms() - t0;
    ck_assert_int_eq(rc, -1);
    ck_assert(stream_timed_out(s));
    ck_assert_msg(took >= 900 && took < 4000, "timeout after %lld ms", took);
    ck_assert_int_eq(stream_write(s, "y", 1), -1);     /* sticky */
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_write_timeout_on_pipe)
{
    int     p[2];
    STREAM *s;
    char    chunk[1000];
    int     i;
    int     rc = 0;

    ck_assert_int_eq(pipe(p), 0);
    s = stream_fdopen(p[1]);
    stream_set_timeout(s, 1);
    memset(chunk, 'x', sizeof(chunk));
    /* 1 MB into a 64 kB pipe that nobody reads: must time out, not block. */
    for (i = 0; i < 1000 && rc == 0; i++)
        rc = stream_write(s, chunk, sizeof(chunk));
    if (rc == 0)
        rc = stream_flush(s);
    ck_assert_int_eq(rc, -1);
    ck_assert(stream_timed_out(s));
    stream_close(s);
    close(p[0]);
}
END_TEST

START_TEST(test_write_to_closed_peer_is_epipe_not_sigpipe)
{
    int     sv[2];
    STREAM *s;

    pair(sv);
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 1);
    ck_assert_int_eq(stream_puts(s, "hello\r\n"), 0);      /* buffered */
    ck_assert_int_eq(stream_flush(s), -1);
    ck_assert_int_eq(errno, EPIPE);
    ck_assert(stream_error(s));
    ck_assert(!stream_timed_out(s));
    ck_assert_int_eq(stream_close(s), -1);   /* the earlier failure is reported */
}
END_TEST

START_TEST(test_line_limit_gives_partial_then_rest)
{
    int     sv[2];
    STREAM *s;
    BUF    *line = buf_alloc(0);

    pair(sv);
    put(sv[1], "abcdefghij\nxy\n");
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_get_line(s, line, 4), STREAM_LINE_PARTIAL);
    ck_assert_str_eq(buf_str(line), "abcd");
    ck_assert_int_eq(stream_get_line(s, line, 4), STREAM_LINE_PARTIAL);
    ck_assert_str_eq(buf_str(line), "efgh");
    ck_assert_int_eq(stream_get_line(s, line, 4), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "ij\n");
    ck_assert_int_eq(stream_get_line(s, line, 3), STREAM_LINE_OK);  /* LF fits exactly */
    ck_assert_str_eq(buf_str(line), "xy\n");
    ck_assert_int_eq(stream_get_line(s, line, 4), STREAM_EOF);
    ck_assert_uint_eq(buf_len(line), 0);
    ck_assert(stream_eof(s));
    buf_free(line);
    stream_close(s);
}
END_TEST

START_TEST(test_crlf_kept_and_last_line_without_lf)
{
    int     sv[2];
    STREAM *s;
    BUF    *line = buf_alloc(0);

    pair(sv);
    put(sv[1], "HELO x\r\nbare\rcr\r\ntail");
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "HELO x\r\n");
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "bare\rcr\r\n");
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_LAST);
    ck_assert_str_eq(buf_str(line), "tail");
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_EOF);
    ck_assert_int_eq(stream_getc(s), STREAM_EOF);
    buf_free(line);
    stream_close(s);
}
END_TEST

START_TEST(test_line_with_nul_bytes)
{
    static const char data[] = "a\0b\nc";
    STREAM *s = stream_memopen(data, sizeof(data) - 1);
    BUF    *line = buf_alloc(0);

    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_uint_eq(buf_len(line), 4);
    ck_assert_int_eq(memcmp(buf_str(line), "a\0b\n", 4), 0);
    ck_assert_int_eq(stream_get_delim(s, line, 0, 100), STREAM_LINE_LAST);
    ck_assert_str_eq(buf_str(line), "c");
    buf_free(line);
    stream_close(s);
}
END_TEST

START_TEST(test_eof_from_peer)
{
    int     sv[2];
    STREAM *s;
    char    got[8];

    pair(sv);
    put(sv[1], "abc");
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_read(s, got, sizeof(got)), 3);     /* short at EOF */
    ck_assert_int_eq(memcmp(got, "abc", 3), 0);
    ck_assert(stream_eof(s));
    ck_assert(!stream_error(s));
    ck_assert_int_eq(stream_read(s, got, sizeof(got)), 0);
    ck_assert_int_eq(stream_getc(s), STREAM_EOF);
    stream_close(s);
}
END_TEST

START_TEST(test_read_exact_across_refills)
{
    int     sv[2];
    pid_t   pid;
    STREAM *s;
    char   *got = xmalloc(100000);
    int     status;
    int     i;

    pair(sv);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        STREAM *w;

        close(sv[0]);
        w = stream_fdopen(sv[1]);
        stream_set_timeout(w, 5);
        for (i = 0; i < 100000; i++)
            if (stream_printf(w, "%c", 'a' + i % 26) < 0)
                _exit(1);
        _exit(stream_close(w) == 0 ? 0 : 2);
    }
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_read(s, got, 100000), 100000);
    for (i = 0; i < 100000; i++)
        ck_assert_int_eq(got[i], 'a' + i % 26);
    ck_assert_int_eq(stream_getc(s), STREAM_EOF);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    xfree(got);
    stream_close(s);
}
END_TEST

START_TEST(test_big_write_goes_out_whole)
{
    int     sv[2];
    pid_t   pid;
    STREAM *s;
    char   *big = xmalloc(200000);
    char   *got = xmalloc(200003);
    int     status;
    ssize_t n;
    size_t  total = 0;

    memset(big, 'q', 200000);
    big[199999] = 'z';
    pair(sv);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(sv[0]);
        s = stream_fdopen(sv[1]);
        stream_set_timeout(s, 5);
        if (stream_puts(s, "hdr") < 0 || stream_write(s, big, 200000) < 0)
            _exit(1);
        _exit(stream_close(s) == 0 ? 0 : 2);
    }
    close(sv[1]);
    while (total < 200003 && (n = read(sv[0], got + total, 200003 - total)) > 0)
        total += (size_t) n;
    ck_assert_uint_eq(total, 200003);
    ck_assert_int_eq(memcmp(got, "hdr", 3), 0);
    ck_assert_int_eq(memcmp(got + 3, big, 200000), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    xfree(big);
    xfree(got);
    close(sv[0]);
}
END_TEST

START_TEST(test_printf_is_buffered_until_flush)
{
    int     sv[2];
    STREAM *s;
    char    got[64];
    ssize_t n;

    pair(sv);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_printf(s, "250 %s %d\r\n", "ok", 42), 0);
    ck_assert_int_eq(recv(sv[1], got, sizeof(got), MSG_DONTWAIT), -1);  /* nothing yet */
    ck_assert_int_eq(stream_flush(s), 0);
    n = read(sv[1], got, sizeof(got) - 1);
    ck_assert_int_eq(n, 11);
    got[n] = 0;
    ck_assert_str_eq(got, "250 ok 42\r\n");
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_discard_input_drops_pipelined_bytes)
{
    int     sv[2];
    STREAM *s;
    BUF    *line = buf_alloc(0);

    pair(sv);
    /* One segment: STARTTLS with an injected command behind it. */
    put(sv[1], "STARTTLS\r\nMAIL FROM:<evil>\r\n");
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_get_line(s, line, 512), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "STARTTLS\r\n");
    ck_assert_uint_eq(stream_buffered(s), strlen("MAIL FROM:<evil>\r\n"));
    stream_discard_input(s);
    ck_assert_uint_eq(stream_buffered(s), 0);
    put(sv[1], "EHLO after\r\n");
    ck_assert_int_eq(stream_get_line(s, line, 512), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "EHLO after\r\n");
    buf_free(line);
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_wipe_keeps_unread_input_and_unsent_output)
{
    int     sv[2];
    STREAM *s;
    BUF    *line = buf_alloc(0);
    char    got[64];
    ssize_t n;

    pair(sv);
    put(sv[1], "AUTH PLAIN c2VjcmV0\r\nQUIT\r\n");
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    ck_assert_int_eq(stream_get_line(s, line, 512), STREAM_LINE_OK);
    ck_assert_int_eq(stream_printf(s, "235 ok\r\n"), 0);
    ck_assert_int_eq(stream_flush(s), 0);
    ck_assert_int_eq(stream_printf(s, "221 bye\r\n"), 0);
    stream_wipe(s);
    /* What was read but not consumed, and what was not sent, survive. */
    ck_assert_int_eq(stream_get_line(s, line, 512), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "QUIT\r\n");
    ck_assert_int_eq(stream_flush(s), 0);
    n = read(sv[1], got, sizeof(got) - 1);
    ck_assert(n > 0);
    got[n] = 0;
    ck_assert_str_eq(got, "235 ok\r\n221 bye\r\n");
    buf_free(line);
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_memopen_reads_and_refuses_writes)
{
    static const char data[] = "one\ntwo";
    STREAM *s = stream_memopen(data, sizeof(data) - 1);
    BUF    *line = buf_alloc(0);

    ck_assert_int_eq(stream_fd(s), -1);
    ck_assert_uint_eq(stream_buffered(s), 7);
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "one\n");
    ck_assert_int_eq(stream_write(s, "x", 1), -1);
    ck_assert_int_eq(errno, EBADF);
    ck_assert_int_eq(stream_printf(s, "%d", 1), -1);
    ck_assert(!stream_error(s));        /* reading goes on */
    ck_assert_int_eq(stream_getc(s), 't');
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_LAST);
    ck_assert_str_eq(buf_str(line), "wo");
    ck_assert_int_eq(stream_getc(s), STREAM_EOF);
    ck_assert(stream_eof(s));
    ck_assert_int_eq(stream_close(s), 0);
    s = stream_memopen(NULL, 0);
    ck_assert_int_eq(stream_get_line(s, line, 1), STREAM_EOF);
    stream_close(s);
    buf_free(line);
}
END_TEST

/* A replaced I/O layer: ROT13 both ways, counting calls (a stand-in for TLS). */
struct rot {
    int     reads;
    int     writes;
    int     fail_timeout;
};

static void rot13(char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] >= 'a' && p[i] <= 'z')
            p[i] = (char) ('a' + (p[i] - 'a' + 13) % 26);
    }
}

static ssize_t rot_read(void *ctx, int fd, void *buf, size_t len, int timeout)
{
    struct rot *r = ctx;
    ssize_t n;

    r->reads++;
    ck_assert_int_eq(timeout, 7);
    if (r->fail_timeout) {
        errno = ETIMEDOUT;
        return -1;
    }
    n = read(fd, buf, len);
    if (n > 0)
        rot13(buf, (size_t) n);
    return n;
}

static ssize_t rot_write(void *ctx, int fd, const void *buf, size_t len, int timeout)
{
    struct rot *r = ctx;
    char   *copy = xmemdup(buf, len);
    ssize_t n;

    r->writes++;
    rot13(copy, len);
    n = write(fd, copy, len);
    xfree(copy);
    return n;
}

START_TEST(test_replaced_io_functions)
{
    int     sv[2];
    STREAM *s;
    struct rot r = {0, 0, 0};
    BUF    *line = buf_alloc(0);
    char    got[16];
    ssize_t n;

    pair(sv);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 7);
    stream_set_io(s, rot_read, rot_write, &r);
    put(sv[1], "uryyb\n");
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "hello\n");
    ck_assert_int_eq(stream_puts(s, "abc\n"), 0);
    ck_assert_int_eq(stream_flush(s), 0);
    n = read(sv[1], got, sizeof(got));
    ck_assert_int_eq(n, 4);
    ck_assert_int_eq(memcmp(got, "nop\n", 4), 0);
    ck_assert_int_eq(r.reads, 1);
    ck_assert_int_eq(r.writes, 1);
    /* A replaced reader reporting ETIMEDOUT marks the stream timed out. */
    r.fail_timeout = 1;
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_ERROR);
    ck_assert(stream_timed_out(s));
    /* Back to plain I/O (on a fresh stream: errors are sticky). */
    stream_release(s);
    s = stream_fdopen(sv[0]);
    stream_set_io(s, NULL, NULL, NULL);
    put(sv[1], "plain\n");
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "plain\n");
    buf_free(line);
    stream_close(s);
    close(sv[1]);
}
END_TEST

START_TEST(test_no_timeout_waits_for_data)
{
    int     sv[2];
    pid_t   pid;
    STREAM *s;
    BUF    *line = buf_alloc(0);

    pair(sv);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct timespec ts = {0, 300 * 1000000};

        nanosleep(&ts, NULL);           /* the reader must be blocked by now */
        put(sv[1], "late\n");
        _exit(0);
    }
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 0);
    ck_assert_int_eq(stream_get_line(s, line, 100), STREAM_LINE_OK);
    ck_assert_str_eq(buf_str(line), "late\n");
    waitpid(pid, NULL, 0);
    buf_free(line);
    stream_close(s);
    close(sv[1]);
}
END_TEST

/* A deadline bounds the sum of the waits, not each one: a peer that
 * sends a byte every 150 ms, well within the 5 s per-call timeout, is cut
 * off once 700 ms of waiting are spent. */
START_TEST(test_deadline_bounds_trickle)
{
    int     sv[2];
    STREAM *s;
    pid_t   pid;
    long long t0;
    int     got = 0;
    int     ch;

    pair(sv);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct timespec ts = {0, 150 * 1000000};
        int     i;

        close(sv[0]);
        for (i = 0; i < 40; i++) {
            nanosleep(&ts, NULL);
            if (write(sv[1], "x", 1) != 1)
                break;
        }
        _exit(0);
    }
    close(sv[1]);
    s = stream_fdopen(sv[0]);
    stream_set_timeout(s, 5);
    stream_set_deadline(s, 700);
    t0 = now_ms();
    while ((ch = stream_getc(s)) >= 0)
        got++;
    ck_assert_int_eq(ch, STREAM_ERROR);
    ck_assert(stream_timed_out(s));
    ck_assert_msg(now_ms() - t0 < 2000, "deadline ended after %lld ms", now_ms() - t0);
    ck_assert_int_ge(got, 2);
    ck_assert_int_le(got, 6);
    /* A cleared error and deadline: the stream reads again. */
    stream_clear_error(s);
    stream_set_deadline(s, 0);
    ck_assert_int_eq(stream_deadline_left(s), -1);
    ck_assert_int_eq(stream_getc(s), 'x');
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    stream_close(s);
}
END_TEST

/* Only waiting spends the budget: time the caller works between calls
 * does not. With a data rate, each byte read adds 1/rate s, up to a cap. */
START_TEST(test_data_rate_extends_deadline)
{
    int     sv[2];
    STREAM *s;
    char    big[4000];
    long long left;
    struct timespec ts = {0, 300 * 1000000};

    pair(sv);
    s = stream_fdopen(sv[0]);
    memset(big, 'y', sizeof(big));
    stream_set_deadline(s, 500);
    nanosleep(&ts, NULL);                       /* work, not I/O */
    ck_assert_int_eq(stream_deadline_left(s), 500);
    ck_assert_int_eq(write(sv[1], big, 1000), 1000);
    stream_set_data_rate(s, 1000, 10);          /* 1000 bytes buy 1 s */
    ck_assert_int_eq(stream_getc(s), 'y');
    left = stream_deadline_left(s);
    ck_assert_msg(left >= 1400 && left <= 1500, "budget %lld ms after 1000 bytes", left);
    /* The cap: 4000 bytes at 1000/s would buy 4 s; the cap is 2 s. */
    stream_discard_input(s);
    stream_set_data_rate(s, 1000, 2);
    ck_assert_int_eq(write(sv[1], big, sizeof(big)), (ssize_t) sizeof(big));
    ck_assert_int_eq(stream_getc(s), 'y');
    ck_assert_int_le(stream_deadline_left(s), 2000);
    /* Rate 0: reads leave the budget alone (but for the wait itself). */
    stream_discard_input(s);
    stream_set_data_rate(s, 0, 0);
    left = stream_deadline_left(s);
    ck_assert_int_eq(write(sv[1], big, 10), 10);
    ck_assert_int_eq(stream_getc(s), 'y');
    ck_assert_int_le(stream_deadline_left(s), left);
    ck_assert_int_ge(stream_deadline_left(s), left - 100);
    stream_close(s);
    close(sv[1]);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("stream");
    TCase  *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_read_timeout_fires_within_bound);
    tcase_add_test(tc, test_read_after_full_buffer_still_times_out);
    tcase_add_test(tc, test_clear_error_after_timeout);
    tcase_add_test(tc, test_timeout_survives_eintr);
    tcase_add_test(tc, test_write_timeout_when_peer_does_not_read);
    tcase_add_test(tc, test_write_timeout_on_pipe);
    tcase_add_test(tc, test_write_to_closed_peer_is_epipe_not_sigpipe);
    tcase_add_test(tc, test_line_limit_gives_partial_then_rest);
    tcase_add_test(tc, test_crlf_kept_and_last_line_without_lf);
    tcase_add_test(tc, test_line_with_nul_bytes);
    tcase_add_test(tc, test_eof_from_peer);
    tcase_add_test(tc, test_read_exact_across_refills);
    tcase_add_test(tc, test_big_write_goes_out_whole);
    tcase_add_test(tc, test_printf_is_buffered_until_flush);
    tcase_add_test(tc, test_discard_input_drops_pipelined_bytes);
    tcase_add_test(tc, test_wipe_keeps_unread_input_and_unsent_output);
    tcase_add_test(tc, test_memopen_reads_and_refuses_writes);
    tcase_add_test(tc, test_replaced_io_functions);
    tcase_add_test(tc, test_no_timeout_waits_for_data);
    tcase_add_test(tc, test_deadline_bounds_trickle);
    tcase_add_test(tc, test_data_rate_extends_deadline);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
