/* check_sendmail_args - sendmail's command line, address lists and the
 * records it writes for postdrop (sendmail/sendmail_args.c, _submit.c). */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"
#include "stream.h"
#include "testsupport.h"

/* parse - sm_parse_args over a NULL-terminated argv */
static int parse(SM_ARGS *a, BUF *why, const char **argv)
{
    int     argc = 0;

    while (argv[argc])
        argc++;
    return sm_parse_args(argc, (char **) argv, a, why);
}

START_TEST(test_deliver_flags)
{
    const char *argv[] = {"/usr/sbin/sendmail", "-t", "-oi", "-f", "a@b", "-F", "Al B",
        "-N", "success,delay", "-R", "hdrs", "-V", "env1", "-B", "8BITMIME",
        "-odi", "-oem", "-X", "/tmp/log", "-U", "-G", "-h", "5", "-L", "x", "-O", "k=v",
        "-C", "/etc/x", "--", "bob", "carol", NULL};
    SM_ARGS a;
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(parse(&a, why, argv), 0);
    ck_assert_int_eq(a.mode, SM_MODE_DELIVER);
    ck_assert_int_eq(a.extract, 1);
    ck_assert_int_eq(a.dot_ends, 0);
    ck_assert_str_eq(a.sender, "a@b");
    ck_assert_str_eq(a.fullname, "Al B");
    ck_assert_int_eq(a.dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY);
    ck_assert_str_eq(a.dsn_ret, "HDRS");
    ck_assert_str_eq(a.envid, "env1");
    ck_assert_str_eq(a.encoding, "8bitmime");
    ck_assert_str_eq(a.config_dir, "/etc/x");
    ck_assert_int_eq(a.nrcpt_args, 2);
    ck_assert_str_eq(a.rcpt_args[0], "bob");
    buf_free(why);
}
END_TEST

/* Modes by option and by program name. */
static const struct {
    const char *argv0;
    const char *opt;
    int     mode;
} modes[] = {
    {"sendmail", NULL, SM_MODE_DELIVER},
    {"sendmail", "-bm", SM_MODE_DELIVER},
    {"sendmail", "-bs", SM_MODE_SMTP},
    {"sendmail", "-bp", SM_MODE_MAILQ},
    {"sendmail", "-bi", SM_MODE_NEWALIASES},
    {"sendmail", "-I", SM_MODE_NEWALIASES},
    {"sendmail", "-bv", SM_MODE_VERIFY},
    {"sendmail", "-q", SM_MODE_FLUSH},
    {"sendmail", "-qRexample.org", SM_MODE_FLUSH},
    {"sendmail", "-q30m", SM_MODE_DELIVER},      /* interval: ignored */
    {"/usr/bin/mailq", NULL, SM_MODE_MAILQ},
    {"newaliases", NULL, SM_MODE_NEWALIASES},
};

START_TEST(test_modes)
{
    const char *argv[] = {modes[_i].argv0, modes[_i].opt, NULL};
    SM_ARGS a;
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(parse(&a, why, argv), 0);
    ck_assert_msg(a.mode == (SM_MODE) modes[_i].mode, "%s %s: mode %d", modes[_i].argv0,
                  modes[_i].opt ? modes[_i].opt : "", a.mode);
    buf_free(why);
}
END_TEST

static const char *const usage_errors[][3] = {
    {"sendmail", "-bd", NULL},
    {"sendmail", "-N", "sometimes"},
    {"sendmail", "-N", "never,success"},
    {"sendmail", "-R", "body"},
    {"sendmail", "-B", "BINARYMIME"},
    {"sendmail", "-Z", NULL},
    {"sendmail", "-f", NULL},
};

START_TEST(test_usage_errors)
{
    SM_ARGS a;
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(parse(&a, why, (const char **) usage_errors[_i]), -1);
    ck_assert_uint_gt(buf_len(why), 0);
    buf_free(why);
}
END_TEST

START_TEST(test_address_lists)
{
    char  **list = NULL;
    int     n = 0;
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(sm_parse_addresses("bob, Carol Doe <carol@example.org>,"
                                        " dave@example.org (Dave), <erin>", &list, &n, why), 0);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(list[0], "bob");
    ck_assert_str_eq(list[1], "carol@example.org");
    ck_assert_str_eq(list[2], "dave@example.org");
    ck_assert_str_eq(list[3], "erin");
    ck_assert_int_eq(sm_parse_addresses("\"x, y\" <frank@example.org>", &list, &n, why), 0);
    ck_assert_str_eq(list[4], "frank@example.org");
    ck_assert_int_eq(sm_parse_addresses("good, bad address", &list, &n, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "bad address syntax"));
    ck_assert_int_eq(sm_parse_addresses("-oQ/tmp", &list, &n, why), -1);
    sm_free_addresses(list, n);
    buf_free(why);
}
END_TEST

/* records - the record types (and N/L data) a stream wrote to fd */
static void records(int fd, BUF *out)
{
    STREAM *s;
    BUF    *data = buf_alloc(100);
    int     type;

    lseek(fd, 0, SEEK_SET);
    s = stream_fdopen(dup(fd));
    buf_reset(out);
    while ((type = rec_get(s, data, REC_LEN_MAX)) > 0) {
        buf_putc(out, type);
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT || type == REC_TYPE_FROM
            || type == REC_TYPE_RCPT || type == REC_TYPE_ATTR || type == REC_TYPE_FULL
            || type == REC_TYPE_DSN_NOTIFY)
            buf_printf(out, "[%s]", buf_str(data));
    }
    stream_close(s);
    buf_free(data);
}

/* copy - sm_copy_message over text; the records written */
static void copy(const char *text, int dot_ends, BUF *out)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "out");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    STREAM *in = stream_memopen(text, strlen(text));
    STREAM *w = stream_fdopen(dup(fd));

    ck_assert_int_eq(sm_copy_message(in, w, dot_ends), 0);
    ck_assert_int_eq(stream_close(w), 0);
    records(fd, out);
    stream_release(in);
    close(fd);
    xfree(path);
}

static const struct {
    const char *input;
    int     dot_ends;
    const char *expect;
} copies[] = {
    {"a\nb\n", 1, "N[a]N[b]"},
    {"a\r\nb\r\n", 1, "N[a]N[b]"},                      /* CRLF is a line end */
    {"a\n.\nb\n", 1, "N[a]"},                           /* lone dot ends */
    {"a\n.\r\nb\n", 1, "N[a]"},
    {"a\n.\nb\n", 0, "N[a]N[.]N[b]"},                   /* -i: it does not */
    {"a\n..\nb", 1, "N[a]N[..]N[b]"},                   /* no dot-unstuffing in -bm */
    {"From alice Mon Jan 1\nSubject: x\n", 1, "N[Subject: x]"},   /* mbox From_ line */
    {"Subject: x\nFrom alice\n", 1, "N[Subject: x]N[From alice]"},
    {"no newline at end", 1, "N[no newline at end]"},
    {"", 1, ""},
};

START_TEST(test_copy_message)
{
    BUF    *out = buf_alloc(100);

    copy(copies[_i].input, copies[_i].dot_ends, out);
    ck_assert_msg(strcmp(buf_str(out), copies[_i].expect) == 0, "input %s: got %s, expected %s",
                  copies[_i].input, buf_str(out), copies[_i].expect);
    buf_free(out);
}
END_TEST

START_TEST(test_long_line_becomes_partial_records)
{
    size_t  len = MAILDROP_LINE_MAX * 2 + 10;
    char   *text = xmalloc(len + 2);
    BUF    *out = buf_alloc(100);

    memset(text, 'x', len);
    text[len] = '\n';
    text[len + 1] = 0;
    copy(text, 1, out);
    /* L, L, N: two full chunks, then the rest. */
    ck_assert_int_eq(buf_str(out)[0], 'L');
    ck_assert_ptr_nonnull(strstr(buf_str(out) + 1, "]L["));
    ck_assert_ptr_nonnull(strstr(buf_str(out), "]N[xxxxxxxxxx]"));
    xfree(text);
    buf_free(out);
}
END_TEST

START_TEST(test_envelope_records)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "env");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    STREAM *w = stream_fdopen(dup(fd));
    char   *rcpts[] = {"bob", "carol@example.org"};
    SM_ENVELOPE env;
    BUF    *out = buf_alloc(100);

    memset(&env, 0, sizeof(env));
    env.sender = "alice";
    env.fullname = "Alice A";
    env.flags = CLEANUP_FLAG_EXTRACT;
    env.dsn_notify = DSN_NOTIFY_FAILURE;
    env.dsn_ret = "FULL";
    env.rcpts = rcpts;
    env.nrcpt = 2;
    sm_put_envelope(w, &env);
    sm_put_line(w, "hi", 2, 0);
    sm_put_end(w);
    ck_assert_int_eq(stream_close(w), 0);
    records(fd, out);
    /* With -t, -N also travels as dsn_notify= for the extracted recipients. */
    ck_assert_str_eq(buf_str(out), "A[flags=16]A[dsn_ret=FULL]A[dsn_notify=4]F[Alice A]S[alice]"
                     "n[4]R[bob]n[4]R[carol@example.org]MN[hi]XE");
    close(fd);
    xfree(path);
    buf_free(out);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("sendmail_args");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_deliver_flags);
    tcase_add_loop_test(tc, test_modes, 0, sizeof(modes) / sizeof(modes[0]));
    tcase_add_loop_test(tc, test_usage_errors, 0, sizeof(usage_errors) / sizeof(usage_errors[0]));
    tcase_add_test(tc, test_address_lists);
    tcase_add_loop_test(tc, test_copy_message, 0, sizeof(copies) / sizeof(copies[0]));
    tcase_add_test(tc, test_long_line_becomes_partial_records);
    tcase_add_test(tc, test_envelope_records);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
