/* check_bounce_log - the bounce daemon's status logs: escaping, parsing,
 * appending, reading, hashed paths. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "testsupport.h"

#define TEST_ID "4Xk9Bc1wFqz7"      /* a valid ID: hashed paths need one */

/* entry - a stack entry pointing at the caller's strings */
static BOUNCE_ENTRY entry(BOUNCE_ACTION action, const char *rcpt, const char *reason)
{
    BOUNCE_ENTRY e;

    memset(&e, 0, sizeof(e));
    e.action = action;
    e.offset = 123;
    e.notify = DSN_NOTIFY_FAILURE;
    e.status = (char *) "5.1.1";
    e.recipient = (char *) rcpt;
    e.orig_rcpt = (char *) rcpt;
    e.dsn_orcpt = (char *) "";
    e.reason = (char *) reason;
    return e;
}

static void use_config(const char *text)
{
    BUF    *why = buf_alloc(10);

    config_reset();
    ck_assert_msg(config_parse_text(text, strlen(text), why) == 0, "%s", buf_str(why));
    buf_free(why);
}

/* Values that must survive a round trip unchanged. */
static const char *const ugly[] = {
    "plain@example.com",
    "",
    "with space@example.com",
    "new\nline action=failed offset=1 notify=4 status=5.0.0",
    "percent %41 and %%",
    "equals=sign reason=forged",
    "tab\tcr\rdel\x7f",
    "utf8 \xc3\xa9t\xc3\xa9",
    "-",
};

START_TEST(test_round_trip)
{
    const char *v = ugly[_i];
    BOUNCE_ENTRY in = entry(BOUNCE_ACT_DELAYED, v, v);
    BOUNCE_ENTRY out;
    BUF    *line = buf_alloc(100);

    in.orig_rcpt = (char *) v;
    in.dsn_orcpt = (char *) v;
    bounce_log_format(line, &in);
    /* One line, and the only line end is the last byte. */
    ck_assert_ptr_eq(memchr(buf_str(line), '\n', buf_len(line)), buf_str(line) + buf_len(line) - 1);
    ck_assert_ptr_null(memchr(buf_str(line), '\r', buf_len(line)));
    ck_assert_msg(bounce_log_parse(buf_str(line), buf_len(line) - 1, &out) == 0,
                  "parse of value %d failed: %s", _i, buf_str(line));
    ck_assert_str_eq(out.recipient, v);
    ck_assert_str_eq(out.orig_rcpt, v);
    ck_assert_str_eq(out.dsn_orcpt, v);
    ck_assert_str_eq(out.reason, v);
    ck_assert_str_eq(out.status, "5.1.1");
    ck_assert_int_eq(out.action, BOUNCE_ACT_DELAYED);
    ck_assert_int_eq(out.offset, 123);
    ck_assert_int_eq(out.notify, DSN_NOTIFY_FAILURE);
    bounce_entry_free(&out);
    buf_free(line);
}
END_TEST

/* Lines the parser must refuse. */
static const char *const bad_lines[] = {
    "",
    "action=failed",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x extra=1",
    "action=bogus offset=1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x",
    "offset=1 action=failed notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=-1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=1x notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a%2 orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a%00 orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x%",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x%G0",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a  orig_rcpt=a dsn_orcpt= reason=x",
    "action=failed offset=1 notify=4 status=5.0.0 recipient=a orig_rcpt=a dsn_orcpt= reason=x ",
};

START_TEST(test_parse_refuses)
{
    BOUNCE_ENTRY out;

    ck_assert_msg(bounce_log_parse(bad_lines[_i], strlen(bad_lines[_i]), &out) < 0,
                  "accepted: \"%s\"", bad_lines[_i]);
}
END_TEST

/* A recipient full of line ends and field syntax stays one entry. */
START_TEST(test_newlines_cannot_forge_entries)
{
    static const char forged[] = "victim@example.com\naction=failed offset=9 notify=4 "
        "status=5.0.0 recipient=forged@example.com orig_rcpt=x dsn_orcpt= reason=x\n";
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, TEST_ID);
    BOUNCE_ENTRY e = entry(BOUNCE_ACT_FAILED, forged, "550 no\nreason=forged too\r\n");
    BOUNCE_LOG log;
    BUF    *why = buf_alloc(10);
    size_t  len;
    char   *text;
    char   *cp;
    int     lines = 0;

    ck_assert_int_eq(bounce_log_append(path, &e, why), 0);
    text = ts_read_file(path, &len);
    for (cp = text; (cp = strchr(cp, '\n')) != NULL; cp++)
        lines++;
    ck_assert_int_eq(lines, 1);
    bounce_log_init(&log);
    ck_assert_int_eq(bounce_log_read(path, &log, why), 1);
    ck_assert_int_eq(log.count, 1);
    ck_assert_str_eq(log.entries[0].recipient, forged);
    ck_assert_str_eq(log.entries[0].reason, "550 no\nreason=forged too\r\n");
    bounce_log_free(&log);
    xfree(text);
    xfree(path);
    buf_free(why);
}
END_TEST

START_TEST(test_append_and_read)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, TEST_ID);
    BOUNCE_ENTRY a = entry(BOUNCE_ACT_FAILED, "a@example.com", "550 a");
    BOUNCE_ENTRY b = entry(BOUNCE_ACT_DELIVERED, "b@example.com", "delivered");
    BOUNCE_LOG log;
    BUF    *why = buf_alloc(10);
    struct stat st;

    bounce_log_init(&log);
    ck_assert_int_eq(bounce_log_read(path, &log, why), 0);     /* no log yet */
    ck_assert_int_eq(bounce_log_append(path, &a, why), 0);
    ck_assert_int_eq(bounce_log_append(path, &b, why), 0);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(bounce_log_read(path, &log, why), 1);
    ck_assert_int_eq(log.count, 2);
    ck_assert_str_eq(log.entries[0].recipient, "a@example.com");
    ck_assert_int_eq(log.entries[1].action, BOUNCE_ACT_DELIVERED);
    bounce_log_free(&log);
    xfree(path);
    buf_free(why);
}
END_TEST

/* A crash in mid-append leaves a line without LF: readers skip it, and a
 * malformed line in the middle is skipped without losing the others. */
START_TEST(test_read_skips_partial_and_malformed)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, TEST_ID);
    BOUNCE_ENTRY a = entry(BOUNCE_ACT_FAILED, "a@example.com", "550 a");
    BOUNCE_LOG log;
    BUF    *line = buf_alloc(100);
    BUF    *text = buf_alloc(100);
    BUF    *why = buf_alloc(10);

    bounce_log_format(line, &a);
    buf_puts(text, buf_str(line));
    buf_puts(text, "garbage line\n");
    buf_puts(text, buf_str(line));
    buf_append(text, buf_str(line), buf_len(line) - 1);    /* no LF: unfinished */
    ts_write_file(path, buf_str(text));
    bounce_log_init(&log);
    ck_assert_int_eq(bounce_log_read(path, &log, why), 1);
    ck_assert_int_eq(log.count, 2);
    bounce_log_free(&log);
    xfree(path);
    buf_free(line);
    buf_free(text);
    buf_free(why);
}
END_TEST

START_TEST(test_append_refuses_symlink_and_hardlink)
{
    char   *dir = ts_tempdir();
    char   *target = ts_path(dir, "target");
    char   *path = ts_path(dir, TEST_ID);
    BOUNCE_ENTRY a = entry(BOUNCE_ACT_FAILED, "a@example.com", "550 a");
    BUF    *why = buf_alloc(10);
    size_t  len;
    char   *text;

    ts_write_file(target, "");
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(bounce_log_append(path, &a, why), -1);
    text = ts_read_file(target, &len);
    ck_assert_int_eq(len, 0);
    xfree(text);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(link(target, path), 0);
    ck_assert_int_eq(bounce_log_append(path, &a, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "one link"));
    xfree(target);
    xfree(path);
    buf_free(why);
}
END_TEST

/* Paths follow hash_queue_names; append makes the missing subfolder. */
START_TEST(test_hashed_path)
{
    char   *dir = ts_tempdir();
    char   *defer = ts_path(dir, "defer");
    BOUNCE_ENTRY a = entry(BOUNCE_ACT_DELAYED, "a@example.com", "451 later");
    BOUNCE_LOG log;
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(10);
    BUF    *want = buf_alloc(100);

    use_config("hash_queue_names = deferred, defer\nhash_queue_depth = 2\n");
    ck_assert_int_eq(mkdir(defer, 0700), 0);
    bounce_log_path(path, dir, "defer", TEST_ID);
    buf_sprintf(want, "%s/defer/%c/%c/%s", dir, TEST_ID[9], TEST_ID[8], TEST_ID);
    ck_assert_str_eq(buf_str(path), buf_str(want));
    bounce_log_path(want, dir, "bounce", TEST_ID);
    ck_assert_ptr_nonnull(strstr(buf_str(want), "/bounce/" TEST_ID));
    ck_assert_int_eq(bounce_log_append(buf_str(path), &a, why), 0);
    bounce_log_init(&log);
    ck_assert_int_eq(bounce_log_read(buf_str(path), &log, why), 1);
    ck_assert_int_eq(log.count, 1);
    bounce_log_free(&log);
    xfree(defer);
    buf_free(path);
    buf_free(why);
    buf_free(want);
}
END_TEST

START_TEST(test_dedup_keeps_last)
{
    BOUNCE_LOG log;
    BOUNCE_ENTRY e;
    int     i;

    bounce_log_init(&log);
    log.entries = xcalloc(4, sizeof(*log.entries));
    for (i = 0; i < 4; i++) {
        e = entry(BOUNCE_ACT_DELAYED, i == 2 ? "b@x" : "a@x", "r");
        e.offset = i == 2 ? 200 : 100;
        e.status = xstrdup("4.0.0");
        e.recipient = xstrdup(e.recipient);
        e.orig_rcpt = xstrdup(e.orig_rcpt);
        e.dsn_orcpt = xstrdup("");
        e.reason = xstrdup(i == 3 ? "latest" : "older");
        log.entries[log.count++] = e;
    }
    log.size = 4;
    bounce_log_dedup(&log);
    ck_assert_int_eq(log.count, 2);
    ck_assert_str_eq(log.entries[0].recipient, "b@x");
    ck_assert_str_eq(log.entries[1].recipient, "a@x");
    ck_assert_str_eq(log.entries[1].reason, "latest");
    bounce_log_free(&log);
}
END_TEST

START_TEST(test_action_names)
{
    BOUNCE_ACTION a;

    ck_assert_int_eq(bounce_action_parse("failed", &a), 0);
    ck_assert_int_eq(a, BOUNCE_ACT_FAILED);
    ck_assert_int_eq(bounce_action_parse("expanded", &a), 0);
    ck_assert_int_eq(a, BOUNCE_ACT_EXPANDED);
    ck_assert_int_eq(bounce_action_parse("Failed", &a), -1);
    ck_assert_str_eq(bounce_action_name(BOUNCE_ACT_DELIVERED), "delivered");
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("bounce_log");
    TCase  *tc = tcase_create("core");

    config_reset();
    tcase_add_loop_test(tc, test_round_trip, 0, sizeof(ugly) / sizeof(ugly[0]));
    tcase_add_loop_test(tc, test_parse_refuses, 0, sizeof(bad_lines) / sizeof(bad_lines[0]));
    tcase_add_test(tc, test_newlines_cannot_forge_entries);
    tcase_add_test(tc, test_append_and_read);
    tcase_add_test(tc, test_read_skips_partial_and_malformed);
    tcase_add_test(tc, test_append_refuses_symlink_and_hardlink);
    tcase_add_test(tc, test_hashed_path);
    tcase_add_test(tc, test_dedup_keeps_last);
    tcase_add_test(tc, test_action_names);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
