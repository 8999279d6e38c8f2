/* check_split_addr - the one address extension split (Postfix's split_addr). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "split_addr.h"
#include "testsupport.h"

/* One local part, the delimiter set, and how it splits ("" ext: not split
 * unless split says so). */
static const struct {
    const char *local;
    const char *delims;
    const char *base;                   /* the user part */
    const char *ext;                    /* the extension, without its delimiter */
    int     split;
} cases[] = {
    {"user+ext", "+", "user", "ext", 1},
    {"user", "+", "user", "", 0},
    {"user+a+b", "+", "user", "a+b", 1},         /* the first delimiter splits */
    {"user-a+b", "+-", "user", "a+b", 1},        /* the first of any delimiter */
    {"user+a-b", "+-", "user", "a-b", 1},
    {"user+", "+", "user", "", 1},               /* empty extension, still split */
    {"+user", "+", "+user", "", 0},              /* the user would be empty */
    {"+user+ext", "+", "+user+ext", "", 0},      /* the first occurrence decides */
    {"user+ext", "", "user+ext", "", 0},         /* no delimiter configured */
    {"user+ext", NULL, "user+ext", "", 0},
    {"", "+", "", "", 0},
    {"postmaster+x", "+", "postmaster", "x", 1}, /* only the bare names are reserved */
    {"Postmaster", "+", "Postmaster", "", 0},
    {"MAILER-DAEMON", "-", "MAILER-DAEMON", "", 0},
    {"double-bounce", "-", "double-bounce", "", 0},
    {"owner-list", "-", "owner-list", "", 0},    /* owner_request_special */
    {"OWNER-list", "+-", "OWNER-list", "", 0},
    {"owner+list", "+", "owner", "list", 1},     /* only with '-' among the delimiters */
    {"list-request", "-", "list-request", "", 0},
    {"list-Request", "+-", "list-Request", "", 0},
    {"list-request+x", "+-", "list", "request+x", 1},
    {"owner-list", "+", "owner-list", "", 0},    /* no '+' in it */
    {"-request", "-", "-request", "", 0},
    {"user-ext", "-", "user", "ext", 1},
};

START_TEST(test_table)
{
    const char *local = cases[_i].local;
    size_t  len = strlen(local);
    size_t  pos = split_addr(local, len, cases[_i].delims);
    char    base[64], ext[64];

    config_reset();
    ck_assert_msg((pos != 0) == cases[_i].split, "%s: split at %zu", local, pos);
    snprintf(base, sizeof(base), "%.*s", (int) (pos ? pos : len), local);
    snprintf(ext, sizeof(ext), "%s", pos ? local + pos + 1 : "");
    ck_assert_msg(strcmp(base, cases[_i].base) == 0 && strcmp(ext, cases[_i].ext) == 0,
                  "%s with \"%s\": \"%s\" + \"%s\"", local,
                  cases[_i].delims ? cases[_i].delims : "(null)", base, ext);
}
END_TEST

START_TEST(test_length_bounds_the_local_part)
{
    /* The local part of a whole address: the '+' of the domain is not seen. */
    const char *addr = "user@ex+ample.org";

    ck_assert_uint_eq(split_addr(addr, 4, "+"), 0);
    ck_assert_uint_eq(split_addr("a+b@x", 3, "+"), 1);
    ck_assert_uint_eq(split_addr("owner-x@y", 7, "-"), 0);
}
END_TEST

START_TEST(test_owner_request_special_off)
{
    config_reset();
    config_set("owner_request_special", "no");
    ck_assert_uint_eq(split_addr("owner-list", 10, "-"), 5);
    ck_assert_uint_eq(split_addr("list-request", 12, "-"), 4);
    config_set("double_bounce_sender", "bounce-me");
    ck_assert_uint_eq(split_addr("bounce-me", 9, "-"), 0);
    ck_assert_uint_eq(split_addr("double-bounce", 13, "-"), 6);
    config_reset();
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("split_addr");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_table, 0, (int) (sizeof(cases) / sizeof(cases[0])));
    tcase_add_test(tc, test_length_bounds_the_local_part);
    tcase_add_test(tc, test_owner_request_special_off);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
