/* check_smtp_mx - MX ordering (smtp_mx_sort) and the loop cut (smtp_mx_cut_self) */
#include <check.h>
#include <string.h>

#include "smtp.h"

static unsigned seq[64];
static int seq_i;

static unsigned fake_rnd(void)
{
    return seq[seq_i++ % 64];
}

static void set(SMTP_MX *mx, const char *host, int pref)
{
    strcpy(mx->host, host);
    mx->pref = pref;
}

START_TEST(sorted_by_preference)
{
    SMTP_MX mx[4];

    set(&mx[0], "c", 30);
    set(&mx[1], "a", 10);
    set(&mx[2], "d", 40);
    set(&mx[3], "b", 20);
    memset(seq, 0, sizeof(seq));
    smtp_mx_sort(mx, 4, fake_rnd);
    ck_assert_str_eq(mx[0].host, "a");
    ck_assert_str_eq(mx[1].host, "b");
    ck_assert_str_eq(mx[2].host, "c");
    ck_assert_str_eq(mx[3].host, "d");
}
END_TEST

START_TEST(equal_preferences_shuffled_within_their_run)
{
    SMTP_MX mx[4];
    int     seen_x_first = 0, seen_y_first = 0, i;

    for (i = 0; i < 2; i++) {
        set(&mx[0], "z", 20);
        set(&mx[1], "x", 10);
        set(&mx[2], "y", 10);
        set(&mx[3], "w", 5);
        seq_i = 0;
        seq[0] = (unsigned) i;          /* the swap of the run of two: 0 or 1 */
        smtp_mx_sort(mx, 4, fake_rnd);
        ck_assert_str_eq(mx[0].host, "w");
        ck_assert_str_eq(mx[3].host, "z");
        ck_assert_int_eq(mx[1].pref, 10);
        ck_assert_int_eq(mx[2].pref, 10);
        seen_x_first |= strcmp(mx[1].host, "x") == 0;
        seen_y_first |= strcmp(mx[1].host, "y") == 0;
    }
    ck_assert(seen_x_first && seen_y_first);
}
END_TEST

START_TEST(ourselves_cuts_the_list)
{
    SMTP_MX mx[3];

    set(&mx[0], "mx1.example", 10);
    set(&mx[1], "Me.Example", 20);
    set(&mx[2], "mx3.example", 20);
    ck_assert_int_eq(smtp_mx_cut_self(mx, 3, "me.example"), 1);
    ck_assert_int_eq(smtp_mx_cut_self(mx, 3, "other.example"), 3);
    set(&mx[0], "me.example", 10);
    ck_assert_int_eq(smtp_mx_cut_self(mx, 3, "me.example"), 0);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_mx");
    TCase  *tc = tcase_create("mx");
    SRunner *sr;
    int     failed;

    tcase_add_test(tc, sorted_by_preference);
    tcase_add_test(tc, equal_preferences_shuffled_within_their_run);
    tcase_add_test(tc, ourselves_cuts_the_list);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
