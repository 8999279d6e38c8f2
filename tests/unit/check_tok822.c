/* check_tok822 - the RFC 5322 address-list tokenizer (lib/global/tok822.c). */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "testsupport.h"
#include "tok822.h"

/* A header value and the addresses (internal form) expected in it, "|"-joined. */
static const struct {
    const char *text;
    const char *addrs;
} cases[] = {
    {"a@b.example", "a@b.example"},
    {"  a@b.example , c@d.example ", "a@b.example|c@d.example"},
    {"John Smith <john@x.example>", "john@x.example"},
    {"\"Smith, John\" <john@x.example>, bob@y", "john@x.example|bob@y"},
    {"<@relay1,@relay2:user@z.example>", "user@z.example"},
    {"\"john smith\"@x.example", "john smith@x.example"},
    {"\"a\\\"b\"@x", "a\"b@x"},
    {"joe@x (Joe (the) Man), ann@y", "joe@x|ann@y"},
    {"undisclosed-recipients:;", ""},
    {"friends: a@x, b@y; c@z", "a@x|b@y|c@z"},
    {"<>", ""},                         /* one empty address */
    {"user@[192.0.2.1]", "user@[192.0.2.1]"},
    {"(only a comment)", ""},
    {"\"unterminated <a@b>", "unterminated <a@b>"},  /* the quote swallows the rest */
    {"a@b,,,c@d", "a@b|c@d"},
    {"Name <a@b", "a@b"},               /* missing > */
};

/* joined - the parsed addresses "|"-joined */
static void joined(const TOK822_LIST *list, BUF *out)
{
    int     i;

    buf_reset(out);
    for (i = 0; i < list->count; i++) {
        if (i)
            buf_putc(out, '|');
        buf_puts(out, list->addrs[i].addr);
    }
}

START_TEST(test_parse_cases)
{
    TOK822_LIST list;
    BUF    *got = buf_alloc(100);

    tok822_parse(cases[_i].text, strlen(cases[_i].text), &list);
    joined(&list, got);
    ck_assert_msg(strcmp(buf_str(got), cases[_i].addrs) == 0,
                  "input '%s': got '%s', expected '%s'", cases[_i].text, buf_str(got),
                  cases[_i].addrs);
    tok822_list_free(&list);
    buf_free(got);
}
END_TEST

START_TEST(test_empty_angle_is_one_address)
{
    TOK822_LIST list;

    ck_assert_int_eq(tok822_parse("<>", 2, &list), 1);
    ck_assert_str_eq(list.addrs[0].addr, "");
    tok822_list_free(&list);
}
END_TEST

START_TEST(test_rewrite_keeps_everything_else)
{
    const char *text = " \"Smith, John\" <john@x.example> (work),\n\tbob@y";
    TOK822_LIST list;
    char   *replace[2] = {"js@new.example", NULL};
    BUF    *out = buf_alloc(100);

    ck_assert_int_eq(tok822_parse(text, strlen(text), &list), 2);
    tok822_rewrite(text, strlen(text), &list, replace, out);
    ck_assert_str_eq(buf_str(out), " \"Smith, John\" <js@new.example> (work),\n\tbob@y");
    replace[0] = NULL;
    replace[1] = "robert smith@y";
    tok822_rewrite(text, strlen(text), &list, replace, out);
    ck_assert_str_eq(buf_str(out), " \"Smith, John\" <john@x.example> (work),\n\t\"robert smith\"@y");
    tok822_list_free(&list);
    buf_free(out);
}
END_TEST

START_TEST(test_quote)
{
    static const char *in[] = {"a@b", "john smith@x", "a.b.c@x", ".a@x", "a..b@x", "a\"b@x", "x"};
    static const char *want[] = {"a@b", "\"john smith\"@x", "a.b.c@x", "\".a\"@x",
                                 "\"a..b\"@x", "\"a\\\"b\"@x", "x"};
    BUF    *out = buf_alloc(50);
    size_t  i;

    for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        buf_reset(out);
        tok822_quote(in[i], out);
        ck_assert_msg(strcmp(buf_str(out), want[i]) == 0, "quote '%s': got '%s'", in[i],
                      buf_str(out));
    }
    buf_free(out);
}
END_TEST

START_TEST(test_token_limit_bounds_work)
{
    size_t  n = 3 * TOK822_TOKEN_LIMIT;
    char   *text = xmalloc(n + 1);
    TOK822_LIST list;
    size_t  i;

    for (i = 0; i < n; i++)
        text[i] = (i % 2) ? ',' : 'a';
    text[n] = 0;
    /* Only the first TOK822_TOKEN_LIMIT tokens are looked at. */
    ck_assert_int_eq(tok822_parse(text, n, &list), TOK822_TOKEN_LIMIT / 2);
    tok822_list_free(&list);
    xfree(text);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("tok822");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_parse_cases, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_empty_angle_is_one_address);
    tcase_add_test(tc, test_rewrite_keeps_everything_else);
    tcase_add_test(tc, test_quote);
    tcase_add_test(tc, test_token_limit_bounds_work);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
