/* check_smtpd_rules_table - tests/rules/recipients.table through smtpd's
 * RCPT TO check (smtpd_check_rcpt, as smtpd_cmd_rcpt calls it) from a
 * client in mynetworks: the verdict of each row. The same rows go through
 * qmgr's resolve and local's delivery in their own suites. And
 * tests/rules/cleanup_status.table through smtpd's end-of-DATA reply. */
#include <check.h>

#include "smtpd.h"
#include "smtpd_check.h"
#include "rules_table.inc"

START_TEST(test_rcpt_verdicts)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = "127.0.0.1", .client_name = "localhost",
          .helo = "client.test", .sender = "bob@sandbox.test"};
    BUF    *reply = buf_alloc(64);
    char   *sandbox;
    int     i, got;
    char    code[8];

    rules_load();
    sandbox = rules_sandbox();
    for (i = 0; i < rules_count; i++) {
        rules_configure(&rules[i], sandbox);
        smtpd_check_init();
        buf_reset(reply);
        got = smtpd_check_rcpt(&ctx, rules[i].rcpt, reply);
        if (got == SMTPD_CHECK_OK)
            strcpy(code, "ok");
        else
            snprintf(code, sizeof(code), "%.3s", buf_str(reply));
        ck_assert_msg(strcmp(code, rules[i].smtpd) == 0,
                      "<%s> (delimiter %s): smtpd says %s (%s), the table %s", rules[i].rcpt,
                      rules[i].delim, code, buf_str(reply), rules[i].smtpd);
    }
    free(sandbox);
    buf_free(reply);
}
END_TEST

/* tests/rules/cleanup_status.table: smtpd's reply at the end of DATA
 * for each cleanup status (smtpd_cleanup_reply, without a reason). */
START_TEST(test_cleanup_status_replies)
{
    BUF    *reply = buf_alloc(64);
    char    want[200];
    int     i;

    status_rules_load();
    for (i = 0; i < status_count; i++) {
        smtpd_cleanup_reply(status_rules[i].status, "", reply);
        snprintf(want, sizeof(want), "%d %s Error: %s", status_rules[i].smtp,
                 status_rules[i].dsn, status_rules[i].text);
        ck_assert_msg(strcmp(buf_str(reply), want) == 0, "status %d: \"%s\", the table \"%s\"",
                      status_rules[i].status, buf_str(reply), want);
    }
    buf_free(reply);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("smtpd_rules_table");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_rcpt_verdicts);
    tcase_add_test(tc, test_cleanup_status_replies);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
