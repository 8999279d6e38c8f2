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

/* Postfix's cleanup_stat_map (global/cleanup_strerror.c), one bit each. */
static const struct {
    int     status;
    int     smtp;
    const char *dsn;
    int     permanent;
    const char *text;
} postfix[] = {
    {CLEANUP_STAT_DEFER, 451, "4.7.1", 0, "service unavailable"},
    {CLEANUP_STAT_BAD, 451, "4.3.0", 0, "internal protocol error"},
    {CLEANUP_STAT_RCPT, 550, "5.1.0", 1, "no recipients specified"},
    {CLEANUP_STAT_HOPS, 554, "5.4.0", 1, "too many hops"},
    {CLEANUP_STAT_SIZE, 552, "5.3.4", 1, "message file too big"},
    {CLEANUP_STAT_CONT, 550, "5.7.1", 1, "message content rejected"},
    {CLEANUP_STAT_WRITE, 451, "4.3.0", 0, "queue file write error"},
    {-1, 451, "4.3.0", 0, "queue file write error"},       /* no answer */
    {1 << 7, 451, "4.3.0", 0, "internal protocol error"},  /* unknown bit */
};

START_TEST(test_postfix_codes)
{
    const CLEANUP_STAT_DETAIL *d = cleanup_stat_detail(postfix[_i].status);
    BUF    *reply = buf_alloc(10);
    char    want[200];

    ck_assert_msg(d->smtp == postfix[_i].smtp && strcmp(d->dsn, postfix[_i].dsn) == 0
                  && d->permanent == postfix[_i].permanent
                  && strcmp(d->text, postfix[_i].text) == 0,
                  "status %d: %d %s %d %s", postfix[_i].status, d->smtp, d->dsn,
                  d->permanent, d->text);
    ck_assert_int_eq(cleanup_stat_permanent(postfix[_i].status), postfix[_i].permanent);
    ck_assert_str_eq(cleanup_strerror(postfix[_i].status), postfix[_i].text);
    cleanup_stat_reply(postfix[_i].status, reply);
    snprintf(want, sizeof(want), "%d %s Error: %s", postfix[_i].smtp, postfix[_i].dsn,
             postfix[_i].text);
    ck_assert_str_eq(buf_str(reply), want);
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

    tcase_add_loop_test(tc, test_postfix_codes, 0, (int) (sizeof(postfix) / sizeof(postfix[0])));
    tcase_add_test(tc, test_every_status);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
