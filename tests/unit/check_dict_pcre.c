/* check_dict_pcre - pcre: tables in pcre_table(5) format: every flag,
 * negation, if/endif, $n substitution, and bad rules skipped with a warning
 * naming file and line. Table-driven: each case names its table and key. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "testsupport.h"

static char *tdir;
static char *logpath;

static void setup(void)
{
    tdir = ts_tempdir();
    logpath = ts_path(tdir, "log");
    msg_init("check_dict_pcre", 0);
    if (msg_set_logfile(logpath) < 0)
        msg_fatal("open %s: %m", logpath);
}

static int log_has(const char *text)
{
    char   *log = ts_read_file(logpath, NULL);
    int     found = log != NULL && strstr(log, text) != NULL;

    xfree(log);
    return found;
}

/* table - write the rules to a file and open it as pcre: */
static DICT *table(const char *rules)
{
    static int n;
    char    name[32];
    char   *path;
    BUF    *tn = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    DICT   *d;

    snprintf(name, sizeof(name), "t%d.pcre", n++);
    path = ts_path(tdir, name);
    ts_write_file(path, rules);
    buf_printf(tn, "pcre:%s", path);
    d = dict_open(buf_str(tn), 0, why);
    ck_assert_msg(d != NULL, "open %s: %s", buf_str(tn), buf_str(why));
    buf_free(tn);
    buf_free(why);
    xfree(path);
    return d;
}

/* One lookup and what it must give (NULL: not found). */
typedef struct CASE {
    const char *rules;
    const char *key;
    const char *want;
} CASE;

static const CASE cases[] = {
    /* Case: insensitive by default, i toggles; keys are never folded. */
    {"/abc/ hit\n", "xABCx", "hit"},
    {"/abc/i hit\n", "ABC", NULL},
    {"/^ABC$/i exact\n", "ABC", "exact"},
    /* m: ^ and $ at line ends. */
    {"/^b$/ hit\n", "a\nb\nc", NULL},
    {"/^b$/m hit\n", "a\nb\nc", "hit"},
    /* s: dot matches newline by default; s turns it off. */
    {"/a.b/ hit\n", "a\nb", "hit"},
    {"/a.b/s hit\n", "a\nb", NULL},
    /* x: white space in the pattern ignored. */
    {"/a b c/x hit\n", "abc", "hit"},
    {"/a b c/ hit\n", "abc", NULL},
    /* A: anchored at the start. */
    {"/b/A hit\n", "ab", NULL},
    {"/b/A hit\n", "ba", "hit"},
    /* E: $ only at the very end, not before a final newline. */
    {"/a$/ hit\n", "a\n", "hit"},
    {"/a$/E hit\n", "a\n", NULL},
    /* U: ungreedy. */
    {"/^(a+)/ $1\n", "aaa", "aaa"},
    {"/^(a+)/U $1\n", "aaa", "a"},
    /* X: obsolete, ignored. */
    {"/abc/X hit\n", "abc", "hit"},
    /* Several flags at once. */
    {"/^B$/im hit\n", "a\nB", "hit"},
    /* Other delimiters, escaped delimiters. */
    {"|a/b| pipe\n", "a/b", "pipe"},
    {"#a/b# comment\n/./ dot\n", "a/b", "dot"},      /* # starts a comment */
    {"/a\\/b/ escaped\n", "a/b", "escaped"},
    /* First matching rule wins. */
    {"/a/ first\n/a/ second\n", "a", "first"},
    {"/x/ no\n/a/ second\n", "a", "second"},
    /* Negation. */
    {"!/abc/ not-abc\n", "xyz", "not-abc"},
    {"!/abc/ not-abc\n", "abc", NULL},
    {"!!/abc/ double\n", "abc", "double"},
    /* Substitution. */
    {"/^(.*)@(.*)$/ ${2}-$1 $$5 $(1)x\n", "joe@example.org", "example.org-joe $5 joex"},
    {"/^(a)?(b)$/ [$1][$2]\n", "b", "[][b]"},
    {"/^(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)\\.(\\w+)$/ $9$8$1\n",
     "a.b.c.d.e.f.g.h.i", "iha"},
    {"/x/ costs $$10\n", "x", "costs $10"},
    /* Continuation lines join the result. */
    {"/abc/ 550 one\n two\n", "abc", "550 one two"},
    /* Comments and blank lines. */
    {"# comment\n\n   \n/abc/ hit\n", "abc", "hit"},
    /* if/endif, nested, negated. */
    {"if /^a/\n/b$/ ab\nendif\n/b$/ other\n", "axb", "ab"},
    {"if /^a/\n/b$/ ab\nendif\n/b$/ other\n", "xxb", "other"},
    {"if /^a/\nif /c/\n/b$/ acb\nendif\n/b$/ ab\nendif\n", "acb", "acb"},
    {"if /^a/\nif /c/\n/b$/ acb\nendif\n/b$/ ab\nendif\n", "axb", "ab"},
    {"if !/^a/\n/b$/ not-a\nendif\n", "xb", "not-a"},
    {"if !/^a/\n/b$/ not-a\nendif\n", "ab", NULL},
    {"IF /^a/\n/b/ upper\nENDIF\n", "ab", "upper"},
    /* Bad rules are skipped; the others still work. */
    {"/a(/ broken\n/a/ good\n", "a", "good"},
    {"/a/q bad-flag\n/a/ good\n", "a", "good"},
    {"/a/ $2\n/a/ good\n", "a", "good"},
    {"!/b(c)/ $1\n/a/ good\n", "a", "good"},
    {"/a/ $x\n/a/ good\n", "a", "good"},
    {"/a/ $0\n/a/ good\n", "a", "good"},
    {"/a \n/a/ good\n", "a", "good"},
    {"/a\\q/ unknown-escape\n/a/ good\n", "aq", "good"},
    /* A broken if never holds: the rules it guards do not apply. */
    {"if /a(/\n/a/ guarded\nendif\n/a/ after\n", "a", "after"},
    /* An if without endif guards the rest of the file. */
    {"if /^x/\n/a/ guarded\n", "a", NULL},
    /* An endif without if is ignored. */
    {"endif\n/a/ fine\n", "a", "fine"},
    /* No result text: an empty string. */
    {"/a/\n", "a", ""},
};

START_TEST(test_case)
{
    const CASE *c = cases + _i;
    DICT   *d = table(c->rules);
    BUF    *r = buf_alloc(16);
    BUF    *why = buf_alloc(16);
    DICT_STATUS st = dict_lookup(d, c->key, r, why);

    if (c->want == NULL)
        ck_assert_msg(st == DICT_NOTFOUND, "rules \"%s\" key \"%s\": want not found, got %s \"%s\"",
                      c->rules, c->key, dict_status_name(st), buf_str(r));
    else
        ck_assert_msg(st == DICT_FOUND && strcmp(buf_str(r), c->want) == 0,
                      "rules \"%s\" key \"%s\": want \"%s\", got %s \"%s\"",
                      c->rules, c->key, c->want, dict_status_name(st), buf_str(r));
    dict_close(d);
    buf_free(r);
    buf_free(why);
}
END_TEST

/* Each bad rule is warned about with file and line. */
static const struct {
    const char *rules;
    const char *warning;
} warnings[] = {
    {"/ok/ x\n/a(/ broken\n", ".pcre, line 2: error in pattern at offset"},
    {"/a/q x\n", ".pcre, line 1: unknown flag \"q\": skipping this rule"},
    {"/a/ $2\n", ".pcre, line 1: out of range replacement index \"2\""},
    {"!/b(c)/ $1\n", ".pcre, line 1: $number found in negative match result"},
    {"/a/ ${1\n", ".pcre, line 1: bad result text: missing closing bracket"},
    {"/a/ $x\n", ".pcre, line 1: bad result text: non-numeric replacement index"},
    {"/a \n", ".pcre, line 1: no closing pattern delimiter"},
    {"\n\nendif\n", ".pcre, line 3: ignoring endif without matching if"},
    {"if /a/\n", ".pcre, line 1: if has no matching endif"},
    {"if /a/ junk\nendif\n", ".pcre, line 1: ignoring extra text after if"},
    {"if /a(/\nendif\n", ".pcre, line 1: the rules up to the matching endif are skipped"},
    {"/a/X x\n", ".pcre, line 1: ignoring obsolete flag \"X\""},
    {"/a/\n", ".pcre, line 1: no result text"},
    {"abc def\n", ".pcre, line 1: ignoring unrecognized line"},
    {"/a/ x\n/b/ y\n  continued\n/c(/ z\n", ".pcre, line 4: error in pattern"},
};

START_TEST(test_warning)
{
    DICT   *d = table(warnings[_i].rules);

    ck_assert_msg(log_has(warnings[_i].warning), "rules \"%s\": no warning \"%s\"",
                  warnings[_i].rules, warnings[_i].warning);
    dict_close(d);
}
END_TEST

START_TEST(test_missing_file)
{
    BUF    *why = buf_alloc(16);
    char   *path = ts_path(tdir, "absent");
    BUF    *tn = buf_alloc(16);

    buf_printf(tn, "pcre:%s", path);
    ck_assert_ptr_null(dict_open(buf_str(tn), 0, why));
    ck_assert_msg(strstr(buf_str(why), "absent") != NULL, "why: %s", buf_str(why));
    buf_free(why);
    buf_free(tn);
    xfree(path);
}
END_TEST

START_TEST(test_utf8)
{
    /* (*UTF) opts a pattern into UTF-8; a bad UTF-8 key is a warning and no match. */
    DICT   *d = table("/(*UTF)^.$/ one-char\n/x/ fallback\n");
    BUF    *r = buf_alloc(16);
    BUF    *why = buf_alloc(16);

    ck_assert_int_eq(dict_lookup(d, "\xc3\xa9", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "one-char");
    ck_assert_int_eq(dict_lookup(d, "x\xff", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "fallback");
    ck_assert(log_has("line 1: matching error"));
    dict_close(d);
    buf_free(r);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("dict_pcre");
    TCase  *tc = tcase_create("pcre");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_case, 0, (int) (sizeof(cases) / sizeof(cases[0])));
    tcase_add_loop_test(tc, test_warning, 0, (int) (sizeof(warnings) / sizeof(warnings[0])));
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_utf8);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
