/* check_qmgr_time - retry and expiry arithmetic of qmgr (qmgr_time.c). */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "qmgr.h"
#include "testsupport.h"

START_TEST(test_backoff_table)
{
    static const struct {
        long    age, min, max, want;
    } t[] = {
        {0, 300, 4000, 300},            /* fresh: minimal_backoff_time */
        {299, 300, 4000, 300},
        {300, 300, 4000, 300},
        {301, 300, 4000, 301},          /* as long as it has waited */
        {1000, 300, 4000, 1000},
        {4000, 300, 4000, 4000},
        {99999, 300, 4000, 4000},       /* capped: maximal_backoff_time */
        {5, 1, 2, 2},
        {50, 600, 300, 600},            /* max below min: min wins */
        {-20, 300, 4000, 300},          /* clock went back */
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(qmgr_backoff(1000000 + t[i].age, 1000000, t[i].min, t[i].max) == t[i].want,
                      "age %ld min %ld max %ld: got %ld, want %ld", t[i].age, t[i].min, t[i].max,
                      qmgr_backoff(1000000 + t[i].age, 1000000, t[i].min, t[i].max), t[i].want);
}
END_TEST

/* Retrying at each next-attempt time: intervals never shrink, double
 * while below the cap, and then stay at the cap. */
START_TEST(test_backoff_doubles)
{
    long    arrival = 5000, now = arrival, prev = 0, delay;
    int     i;

    for (i = 0; i < 20; i++) {
        delay = qmgr_backoff(now, arrival, 300, 4000);
        ck_assert_msg(delay >= prev, "attempt %d: %ld after %ld", i, delay, prev);
        if (i >= 2 && 2 * prev <= 4000)     /* first two waits are both the minimum */
            ck_assert_int_eq(delay, 2 * prev);
        prev = delay;
        now += delay;
    }
    ck_assert_int_eq(prev, 4000);
}
END_TEST

START_TEST(test_expired)
{
    long    day = 86400;

    ck_assert(!qmgr_expired(100 + 5 * day - 1, 100, "a@b", 5 * day, 1 * day));
    ck_assert(qmgr_expired(100 + 5 * day, 100, "a@b", 5 * day, 1 * day));
    /* A bounce (null sender) uses bounce_queue_lifetime. */
    ck_assert(qmgr_expired(100 + day, 100, "", 5 * day, 1 * day));
    ck_assert(!qmgr_expired(100 + day - 1, 100, "", 5 * day, 1 * day));
    /* Lifetime 0: one attempt only. */
    ck_assert(qmgr_expired(100, 100, "a@b", 0, 0));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("qmgr_time");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_backoff_table);
    tcase_add_test(tc, test_backoff_doubles);
    tcase_add_test(tc, test_expired);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
