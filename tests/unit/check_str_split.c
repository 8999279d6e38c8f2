/* check_str_split - the one list splitter (lib/util/str_split.c): Postfix's
 * mystrtokq rule, the same for main.cf lists, table lists, inline: tables
 * and match lists. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "match_list.h"
#include "mem.h"
#include "str_split.h"
#include "testsupport.h"

/* Items of well-formed lists; str_split_next(why) and str_split_list agree. */
static const struct {
    const char *text;
    int     count;
    const char *items[4];
} lists[] = {
    {"a, b c,,d", 4, {"a", "b", "c", "d"}},
    {" ,\t,\n", 0, {NULL}},
    {"", 0, {NULL}},
    {"inline:{a=1, b=2}, x", 2, {"inline:{a=1, b=2}", "x"}},
    {"{ x y }, z", 2, {"x y", "z"}},
    {"{ a, b }", 1, {"a, b"}},
    {"check_policy_service { inet:127.0.0.1:9, timeout=10s }", 2,
     {"check_policy_service", "inet:127.0.0.1:9, timeout=10s"}},
    {"{}", 1, {""}},
    {"{ {a} }", 1, {"{a}"}},
    {"{a}{b}", 1, {"{a}{b}"}},          /* two groups: not one, kept as written */
    {"{a}b, c", 2, {"{a}b", "c"}},
    {"pcre:{{/a b/ x}}", 1, {"pcre:{{/a b/ x}}"}},
    {"a}b, c", 2, {"a}b", "c"}},        /* a stray } is an ordinary character */
    {"\ta\n\tb", 2, {"a", "b"}},
};

START_TEST(test_next_items)
{
    BUF    *why = buf_alloc(10);
    const char *cp = lists[_i].text;
    char   *item;
    int     n = 0;

    while ((item = str_split_next(&cp, why)) != NULL) {
        ck_assert_msg(n < lists[_i].count, "\"%s\": extra item \"%s\"", lists[_i].text, item);
        ck_assert_msg(strcmp(item, lists[_i].items[n]) == 0, "\"%s\" item %d: \"%s\"",
                      lists[_i].text, n, item);
        xfree(item);
        n++;
    }
    ck_assert_msg(n == lists[_i].count, "\"%s\": %d items", lists[_i].text, n);
    ck_assert_msg(buf_len(why) == 0, "\"%s\": error %s", lists[_i].text, buf_str(why));
    ck_assert_int_eq(*cp, 0);
    buf_free(why);
}
END_TEST

START_TEST(test_list_items)
{
    int     n = -1;
    char  **list = str_split_list(lists[_i].text, &n);
    int     i;

    ck_assert_msg(n == lists[_i].count, "\"%s\": %d items", lists[_i].text, n);
    for (i = 0; i < n; i++)
        ck_assert_msg(strcmp(list[i], lists[_i].items[i]) == 0, "\"%s\" item %d: \"%s\"",
                      lists[_i].text, i, list[i]);
    ck_assert_ptr_null(list[n]);
    str_split_free(list);
}
END_TEST

/* An unclosed '{': an error for callers that ask (tables), the rest of the
 * text as one item for those that don't (main.cf lists, as mystrtokq). */
START_TEST(test_unclosed_group)
{
    BUF    *why = buf_alloc(10);
    const char *cp = "a, {b, c";
    char   *item = str_split_next(&cp, why);
    char  **list;
    int     n;

    ck_assert_str_eq(item, "a");
    xfree(item);
    ck_assert_ptr_null(str_split_next(&cp, why));
    ck_assert_msg(strstr(buf_str(why), "missing '}'") != NULL, "why: %s", buf_str(why));
    list = str_split_list("a, {b, c", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(list[1], "{b, c");
    str_split_free(list);
    buf_free(why);
}
END_TEST

/* The callers share the rule: config_split_list gives the same items, an
 * inline: table reads a one-group item as key = value, and a match list
 * refuses the unclosed group. */
START_TEST(test_callers_agree)
{
    BUF    *why = buf_alloc(10);
    BUF    *result = buf_alloc(10);
    char  **list;
    int     n;
    MAPS   *maps;

    list = config_split_list("{ a, b }, c", &n);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(list[0], "a, b");
    config_free_list(list);

    maps = maps_open("inline:{ { k = v w }, x=y }", 0, why);
    ck_assert_msg(maps != NULL, "maps_open: %s", buf_str(why));
    ck_assert_int_eq(maps_find(maps, "k", result, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(result), "v w");
    maps_close(maps);

    ck_assert_ptr_null(maps_open("inline:{a=1", 0, why));
    buf_free(result);
    buf_free(why);
}
END_TEST

/* str_split_has: the option words and login-owner lists of smtpd */
START_TEST(test_has_word)
{
    ck_assert(str_split_has("noanonymous,noplaintext", "noplaintext"));
    ck_assert(str_split_has("noanonymous, NoPlainText", "noplaintext"));
    ck_assert(str_split_has(" alice\tbob,carol ", "Bob"));
    ck_assert(!str_split_has("noanonymous", "noplaintext"));
    ck_assert(!str_split_has("noplaintextx, xnoplaintext", "noplaintext"));
    ck_assert(!str_split_has("{ noplaintext noanonymous }", "noplaintext"));
    ck_assert(!str_split_has("", "noplaintext"));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("str_split");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_next_items, 0, sizeof(lists) / sizeof(lists[0]));
    tcase_add_loop_test(tc, test_list_items, 0, sizeof(lists) / sizeof(lists[0]));
    tcase_add_test(tc, test_unclosed_group);
    tcase_add_test(tc, test_callers_agree);
    tcase_add_test(tc, test_has_word);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
