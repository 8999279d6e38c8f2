/* check_queue_id - queue IDs: shape, uniqueness by inode, order by time. */
#include <check.h>
#include <string.h>

#include "queue_id.h"
#include "testsupport.h"

START_TEST(test_id_round_trips_time)
{
    struct timeval tv = {1763780000, 123456}, out;
    char    id[QUEUE_ID_BUFSZ];

    queue_id_make(id, &tv, 987654);
    ck_assert_msg(queue_id_valid(id), "invalid id %s", id);
    ck_assert_int_eq(queue_id_time(id, &out), 0);
    ck_assert_int_eq(out.tv_sec, tv.tv_sec);
    ck_assert_int_eq(out.tv_usec, tv.tv_usec);
}
END_TEST

START_TEST(test_ids_sort_by_arrival)
{
    struct timeval times[] = {{0, 0}, {0, 999999}, {1, 0}, {1763780000, 5},
                              {1763780000, 6}, {1763780001, 0}, {4102444800L, 0}};
    char    prev[QUEUE_ID_BUFSZ] = "", id[QUEUE_ID_BUFSZ];
    size_t  i;

    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        /* a larger inode must not beat a later time */
        queue_id_make(id, &times[i], i % 2 ? 1 : 0x7fffffffffffULL);
        ck_assert_msg(strcmp(prev, id) < 0, "%s !< %s", prev, id);
        strcpy(prev, id);
    }
}
END_TEST

START_TEST(test_largest_inode_fits)
{
    struct timeval tv = {4102444800L, 999999};
    char    id[QUEUE_ID_BUFSZ];

    queue_id_make(id, &tv, (ino_t) -1);
    ck_assert_uint_le(strlen(id), QUEUE_ID_MAX);
    ck_assert(queue_id_valid(id));
}
END_TEST

START_TEST(test_different_inodes_differ)
{
    struct timeval tv = {1763780000, 1};
    char    a[QUEUE_ID_BUFSZ], b[QUEUE_ID_BUFSZ];

    queue_id_make(a, &tv, 51);
    queue_id_make(b, &tv, 1);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_rejects_bad_ids)
{
    static const char *bad[] = {"", "short", "../etc/passwd", "4Xk9Bc1wFz.q7",
                                "AAAAAAAAAAzq",   /* vowels are not digits */
                                "0000000000zz",   /* z in the inode part */
                                "0000000000x1",   /* missing separator */
                                "0000000000z123456789012345"};
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!queue_id_valid(bad[i]), "accepted \"%s\"", bad[i]);
    ck_assert(queue_id_valid("0000000000z1"));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("queue_id");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_id_round_trips_time);
    tcase_add_test(tc, test_ids_sort_by_arrival);
    tcase_add_test(tc, test_largest_inode_fits);
    tcase_add_test(tc, test_different_inodes_differ);
    tcase_add_test(tc, test_rejects_bad_ids);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
