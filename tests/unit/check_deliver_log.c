/* check_deliver_log - delivery log lines in Postfix's shape: orig_to= only
 * when it differs from to=, delay= and delays= formatted as Postfix does. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "deliver_log.h"
#include "mail_proto.h"
#include "testsupport.h"

/* event - an event that arrived at 1000.0, handed off at 1000.25 */
static DELIVER_LOG event(const char *to, const char *orig_to)
{
    DELIVER_LOG ev = {.queue_id = "4Xk9Bc1wFqz7", .to = to, .orig_to = orig_to,
        .relay = "local", .arrival = {1000, 0}, .handoff = {1000, 250000},
    .dsn = "2.0.0", .status = "sent", .reason = "delivered to maildir"};

    return ev;
}

START_TEST(test_orig_to)
{
    static const struct {
        const char *to, *orig, *want;
    } t[] = {
        {"alice@sandbox.test", "alice@sandbox.test", "to=<alice@sandbox.test>, relay="},
        {"alice@sandbox.test", "Alice@Sandbox.TEST", "to=<alice@sandbox.test>, relay="},
        {"alice@sandbox.test", "", "to=<alice@sandbox.test>, relay="},
        {"alice@sandbox.test", NULL, "to=<alice@sandbox.test>, relay="},
        {"alice@sandbox.test", "postmaster@sandbox.test",
         "to=<alice@sandbox.test>, orig_to=<postmaster@sandbox.test>, relay="},
    };
    struct timeval now = {1001, 500000};
    BUF    *line = buf_alloc(16);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        DELIVER_LOG ev = event(t[i].to, t[i].orig);

        deliver_log_format(line, &ev, &now);
        ck_assert_msg(strstr(buf_str(line), t[i].want) != NULL, "to=%s orig=%s: %s", t[i].to,
                      t[i].orig ? t[i].orig : "(null)", buf_str(line));
    }
    buf_free(line);
}
END_TEST

START_TEST(test_whole_line)
{
    struct timeval now = {1001, 500000};
    DELIVER_LOG ev = event("a@b", "a@b");
    BUF    *line = buf_alloc(16);

    deliver_log_format(line, &ev, &now);
    ck_assert_str_eq(buf_str(line), "4Xk9Bc1wFqz7: to=<a@b>, relay=local, delay=1.5, "
                     "delays=0.25/0/0/1.2, dsn=2.0.0, status=sent (delivered to maildir)");
    buf_free(line);
}
END_TEST

/* delay=: two significant digits, whole seconds from 10, 0 below 0.01 and
 * when the clock went back */
START_TEST(test_delay_format)
{
    static const struct {
        long    sec, usec;
        const char *want;
    } t[] = {
        {1000, 0, "delay=0,"},
        {1000, 5000, "delay=0,"},
        {1000, 10000, "delay=0.01,"},
        {1000, 234000, "delay=0.23,"},
        {1009, 400000, "delay=9.4,"},
        {1012, 300000, "delay=12,"},
        {1250, 0, "delay=250,"},
        {4600, 0, "delay=3600,"},
        {999, 0, "delay=0,"},
    };
    BUF    *line = buf_alloc(16);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        DELIVER_LOG ev = event("a@b", "");
        struct timeval now = {t[i].sec, t[i].usec};

        ev.handoff = ev.arrival;
        deliver_log_format(line, &ev, &now);
        ck_assert_msg(strstr(buf_str(line), t[i].want) != NULL, "%ld.%06ld: %s", t[i].sec,
                      t[i].usec, buf_str(line));
    }
    ck_assert_str_eq(deliver_log_status(DELIVER_STAT_OK), "sent");
    ck_assert_str_eq(deliver_log_status(DELIVER_STAT_DEFER), "deferred");
    ck_assert_str_eq(deliver_log_status(DELIVER_STAT_BOUNCE), "bounced");
    buf_free(line);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("deliver_log");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_orig_to);
    tcase_add_test(tc, test_whole_line);
    tcase_add_test(tc, test_delay_format);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
