/* check_local_expand - local's $name expansion, destination lists, user+ext. */
#include <check.h>
#include <stdio.h>
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
        ck_assert_msg(local_expand(cases[i].in, &vars, NULL, out, &flags, why) == 0,
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
    ck_assert_int_eq(local_expand("$home/.forward+${extension}", &v, NULL, out, &flags, why), 0);
    ck_assert(flags & LOCAL_EXP_EMPTY_EXT);
    ck_assert_int_eq(local_expand("$home/.forward", &v, NULL, out, &flags, why), 0);
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
        ck_assert_msg(local_expand(bad[i], &vars, NULL, out, NULL, why) < 0, "accepted \"%s\"", bad[i]);
        ck_assert_msg(buf_len(why) > 0, "no reason for \"%s\"", bad[i]);
    }
    buf_free(out);
    buf_free(why);
}
END_TEST

/* Postfix's default forward_expansion_filter and command_expansion_filter. */
#define POSTFIX_FILTER "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

START_TEST(test_filter_defaults_are_postfix)
{
    config_reset();
    ck_assert_str_eq(config_str(P_forward_expansion_filter), POSTFIX_FILTER);
    ck_assert_str_eq(config_str(P_command_expansion_filter), POSTFIX_FILTER);
}
END_TEST

START_TEST(test_censor)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"|id >/some/file;#", "_id__/some/file__"},
        {"a b\tc\nd", "a_b_c_d"},
        {"$(rm -rf ~)`x`", "__rm_-rf____x_"},
        {"\"q\"'s'&|<>", "_q__s_____"},
        {"user+ext@example.org", "user+ext@example.org"},
        {"\xc3\xa9", "__"},                     /* 8-bit too */
        {"", ""},
    };
    char    text[64];
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s", cases[i].in);
        local_censor(text, POSTFIX_FILTER);
        ck_assert_msg(strcmp(text, cases[i].out) == 0, "\"%s\" gave \"%s\", not \"%s\"",
                      cases[i].in, text, cases[i].out);
    }
}
END_TEST

START_TEST(test_expand_censors_values_not_text)
{
    LOCAL_VARS v = vars;
    BUF    *out = buf_alloc(10), *why = buf_alloc(10);

    v.user = "|id >/tmp/x;#";
    v.extension = "a b";
    /* The parameter's own text (here ';' and ' ') is kept; only the values
     * that came from the envelope are censored. */
    ck_assert_int_eq(local_expand("$home/.forward;${extension} $user", &v, POSTFIX_FILTER,
                                  out, NULL, why), 0);
    ck_assert_str_eq(buf_str(out), "/home/u/.forward;a_b _id__/tmp/x__");
    /* No filter: values as they are (luser_relay, which is only an address). */
    ck_assert_int_eq(local_expand("$user", &v, NULL, out, NULL, why), 0);
    ck_assert_str_eq(buf_str(out), "|id >/tmp/x;#");
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
        {"owner-list", "-", "owner-list", "", 0},   /* split_addr's rules */
        {"list-request", "+-", "list-request", "", 0},
        {"+u+ext", "+", "+u+ext", "", 0},
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

START_TEST(test_lists)
{
    /* (Which domains are ours is resolve_local's: check_resolve_local.) */
    ck_assert(local_list_has("alias, forward", "FORWARD"));
    ck_assert(!local_list_has("alias, forward", "include"));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("local_expand");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_expand_table);
    tcase_add_test(tc, test_expand_empty_extension_is_flagged);
    tcase_add_test(tc, test_expand_refuses_unknown_and_malformed);
    tcase_add_test(tc, test_filter_defaults_are_postfix);
    tcase_add_test(tc, test_censor);
    tcase_add_test(tc, test_expand_censors_values_not_text);
    tcase_add_test(tc, test_tokens);
    tcase_add_test(tc, test_split_extension);
    tcase_add_test(tc, test_lists);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
