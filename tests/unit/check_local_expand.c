/* check_local_expand - local's $name expansion, destination lists, user+ext. */
#include <check.h>
#include <string.h>

#include "config.h"
#include "local.h"
#include "testsupport.h"

static const LOCAL_VARS vars = {
    .home = "/home/u", .user = "u", .shell = "/bin/sh", .local = "u+ext",
    .domain = "example.org", .extension = "ext", .recipient = "u+ext@example.org",
    .recipient_delimiter = "+", .sender = "s@x",
};

START_TEST(test_expand_table)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"$home/.forward", "/home/u/.forward"},
        {"${home}/.forward${recipient_delimiter}${extension}", "/home/u/.forward+ext"},
        {"${extension?+}${extension}", "+ext"},
        {"${extension:none}", ""},
        {"$$home", "$home"},
        {"$user@$domain", "u@example.org"},
        {"plain", "plain"},
    };
    BUF    *out = buf_alloc(10), *why = buf_alloc(10);
    size_t  i;
    int     flags;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_msg(local_expand(cases[i].in, &vars, out, &flags, why) == 0,
                      "%s: %s", cases[i].in, buf_str(why));
        ck_assert_msg(strcmp(buf_str(out), cases[i].out) == 0, "%s gave \"%s\", not \"%s\"",
                      cases[i].in, buf_str(out), cases[i].out);
        ck_assert_int_eq(flags, 0);
    }
    buf_free(out);
    buf_free(why);
}
END_TEST

START_TEST(test_expand_empty_extension_is_flagged)
{
    LOCAL_VARS v = vars;
    BUF    *out = buf_alloc(10), *why = buf_alloc(10);
    int     flags;

    v.extension = "";
    ck_assert_int_eq(local_expand("$home/.forward+${extension}", &v, out, &flags, why), 0);
    ck_assert(flags & LOCAL_EXP_EMPTY_EXT);
    ck_assert_int_eq(local_expand("$home/.forward", &v, out, &flags, why), 0);
    ck_assert_int_eq(flags, 0);
    buf_free(out);
    buf_free(why);
}
END_TEST

START_TEST(test_expand_refuses_unknown_and_malformed)
{
    static const char *const bad[] = {"$nosuch", "${home", "$", "${}", "${home?x"};
    BUF    *out = buf_alloc(10), *why = buf_alloc(10);
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_reset(why);
        ck_assert_msg(local_expand(bad[i], &vars, out, NULL, why) < 0, "accepted \"%s\"", bad[i]);
        ck_assert_msg(buf_len(why) > 0, "no reason for \"%s\"", bad[i]);
    }
    buf_free(out);
    buf_free(why);
}
END_TEST

START_TEST(test_tokens)
{
    int     n;
    char  **t = local_tokens("a, b@x\n\"|/bin/cmd -a x, y\"  ,, /file/path\n"
                             "# a comment, ignored\n:include:/etc/list, \\me", &n);

    ck_assert_int_eq(n, 6);
    ck_assert_str_eq(t[0], "a");
    ck_assert_str_eq(t[1], "b@x");
    ck_assert_str_eq(t[2], "|/bin/cmd -a x, y");
    ck_assert_str_eq(t[3], "/file/path");
    ck_assert_str_eq(t[4], ":include:/etc/list");
    ck_assert_str_eq(t[5], "\\me");
    ck_assert_ptr_null(t[6]);
    local_tokens_free(t);
    t = local_tokens("  \n , ", &n);
    ck_assert_int_eq(n, 0);
    local_tokens_free(t);
}
END_TEST

START_TEST(test_split_extension)
{
    static const struct {
        const char *in;
        const char *delims;
        const char *user;
        const char *ext;
        char    delim;
    } cases[] = {
        {"u+ext", "+", "u", "ext", '+'},
        {"u-a+b", "+-", "u", "a+b", '-'},
        {"u", "+", "u", "", 0},
        {"+u", "+", "+u", "", 0},           /* a leading delimiter is no extension */
        {"u+", "+", "u", "", '+'},
        {"u+ext", "", "u+ext", "", 0},      /* no delimiter configured */
        {"u+/../../x", "+", "u", "", '+'},  /* a slash could climb out of $home */
    };
    BUF    *user = buf_alloc(10), *ext = buf_alloc(10);
    size_t  i;
    char    d;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        local_split_extension(cases[i].in, cases[i].delims, user, ext, &d);
        ck_assert_msg(strcmp(buf_str(user), cases[i].user) == 0
                      && strcmp(buf_str(ext), cases[i].ext) == 0 && d == cases[i].delim,
                      "%s: user \"%s\" ext \"%s\"", cases[i].in, buf_str(user), buf_str(ext));
    }
    buf_free(user);
    buf_free(ext);
}
END_TEST

START_TEST(test_lists_and_local_domains)
{
    config_reset();
    config_set("mydestination", "Example.ORG, localhost");
    ck_assert(local_list_has("alias, forward", "FORWARD"));
    ck_assert(!local_list_has("alias, forward", "include"));
    ck_assert(local_domain_is_local("example.org"));
    ck_assert(local_domain_is_local(""));
    ck_assert(!local_domain_is_local("example.net"));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("local_expand");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_expand_table);
    tcase_add_test(tc, test_expand_empty_extension_is_flagged);
    tcase_add_test(tc, test_expand_refuses_unknown_and_malformed);
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_split_extension);
    tcase_add_test(tc, test_lists_and_local_domains);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
