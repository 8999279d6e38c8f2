/* check_cleanup_status - the one table of cleanup statuses: every status
 * (each bit, every combination, no answer, an unknown bit) gets Postfix's
 * answer, the most severe bit wins, and the SMTP reply code, the enhanced
 * code and the permanent/temporary verdict never disagree, so that
 * smtpd's reply, local's bounce-or-defer and pickup's give-up-or-retry
 * (all read from this table) are the same answer. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mail_proto.h"
#include "testsupport.h"
#include "rules_table.inc"

/* Postfix's cleanup_stat_map (global/cleanup_strerror.c) is
 * tests/rules/cleanup_status.table, the rows smtpd's, pickup's, local's
 * and sendmail -bs's tests read too: each bit, combinations, no answer
 * (-1) and an unknown bit. */
START_TEST(test_postfix_codes)
{
    const CLEANUP_STAT_DETAIL *d;
    const STATUS_RULE *r;
    BUF    *reply = buf_alloc(10);
    char    want[200];
    int     i;

    status_rules_load();
    for (i = 0; i < status_count; i++) {
        r = &status_rules[i];
        d = cleanup_stat_detail(r->status);
        ck_assert_msg(d->smtp == r->smtp && strcmp(d->dsn, r->dsn) == 0
                      && d->permanent == r->permanent && strcmp(d->text, r->text) == 0,
                      "status %d: %d %s %d %s", r->status, d->smtp, d->dsn, d->permanent,
                      d->text);
        ck_assert_int_eq(cleanup_stat_permanent(r->status), r->permanent);
        ck_assert_str_eq(cleanup_strerror(r->status), r->text);
        cleanup_stat_reply(r->status, reply);
        snprintf(want, sizeof(want), "%d %s Error: %s", r->smtp, r->dsn, r->text);
        ck_assert_str_eq(buf_str(reply), want);
    }
    buf_free(reply);
}
END_TEST

/* Every combination of the known bits: the first table entry whose bit
 * is set answers, and its three forms of the verdict agree. */
START_TEST(test_every_status)
{
    const CLEANUP_STAT_DETAIL *table;
    const CLEANUP_STAT_DETAIL *d;
    int     n;
    int     status;
    int     i;
    int     all = 0;

    table = cleanup_stat_table(&n);
    ck_assert_int_eq(n, 7);
    for (i = 0; i < n; i++)
        all |= table[i].status;
    ck_assert_int_eq(all, 127);
    for (status = 1; status <= all; status++) {
        d = cleanup_stat_detail(status);
        for (i = 0; i < n && !(status & table[i].status); i++)
             /* void */ ;
        ck_assert_msg(d == table + i, "status %d: answered by %d, want %d", status,
                      d->status, table[i].status);
        ck_assert_msg(d->permanent == (d->smtp / 100 == 5) && d->permanent == (d->dsn[0] == '5')
                      && (d->smtp / 100 == 4 || d->smtp / 100 == 5),
                      "status %d: %d %s permanent=%d disagree", status, d->smtp, d->dsn,
                      d->permanent);
        /* A temporary cause makes the whole answer temporary, except a
         * write error next to a refusal (Postfix: the refusal stands). */
        if (status & (CLEANUP_STAT_DEFER | CLEANUP_STAT_BAD))
            ck_assert_msg(!d->permanent, "status %d", status);
        else if (status & ~CLEANUP_STAT_WRITE)
            ck_assert_msg(d->permanent, "status %d", status);
    }
    d = cleanup_stat_detail(CLEANUP_STAT_OK);
    ck_assert(d->smtp == 250 && strcmp(d->dsn, "2.0.0") == 0 && !d->permanent);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("cleanup_status");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_postfix_codes);
    tcase_add_test(tc, test_every_status);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
