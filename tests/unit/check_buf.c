/* check_buf - the growable buffer: growth, formatting, truncation, NULs. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "testsupport.h"

START_TEST(test_append_grows_and_terminates)
{
    BUF    *b = buf_alloc(1);
    int     i;

    for (i = 0; i < 1000; i++)
        buf_puts(b, "ab");
    ck_assert_uint_eq(buf_len(b), 2000);
    ck_assert_int_eq(buf_str(b)[2000], 0);
    ck_assert_int_eq(strncmp(buf_str(b) + 1998, "ab", 2), 0);
    buf_free(b);
}
END_TEST

START_TEST(test_printf_appends_and_sprintf_replaces)
{
    BUF    *b = buf_alloc(4);

    buf_printf(b, "%s-%d", "x", 42);
    buf_printf(b, "/%0100d", 7);        /* forces a second vsnprintf */
    ck_assert_uint_eq(buf_len(b), 4 + 101);
    buf_sprintf(b, "%d", 5);
    ck_assert_str_eq(buf_str(b), "5");
    buf_free(b);
}
END_TEST

START_TEST(test_binary_content_and_truncate)
{
    BUF    *b = buf_alloc(0);

    buf_append(b, "a\0b", 3);
    ck_assert_uint_eq(buf_len(b), 3);
    ck_assert_int_eq(memcmp(buf_str(b), "a\0b", 3), 0);
    buf_truncate(b, 1);
    ck_assert_str_eq(buf_str(b), "a");
    buf_truncate(b, 10);                /* never lengthens */
    ck_assert_uint_eq(buf_len(b), 1);
    buf_set(b, "text  \t\n");
    buf_trim_right(b);
    ck_assert_str_eq(buf_str(b), "text");
    buf_free(b);
}
END_TEST

START_TEST(test_steal_returns_content)
{
    BUF    *b = buf_alloc(0);
    char   *s;

    buf_puts(b, "kept");
    s = buf_steal(b);
    ck_assert_str_eq(s, "kept");
    xfree(s);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("buf");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_append_grows_and_terminates);
    tcase_add_test(tc, test_printf_appends_and_sprintf_replaces);
    tcase_add_test(tc, test_binary_content_and_truncate);
    tcase_add_test(tc, test_steal_returns_content);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
