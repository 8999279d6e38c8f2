/* check_dict_core - the table registry and names, key folding, MAPS lists,
 * the text formats, and the small types: inline, static, texthash, unix. */
#include <check.h>
#include <pwd.h>
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
    msg_init("check_dict_core", 0);
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

/* find - open type_name, look key up, close; status, value in result */
static DICT_STATUS find(const char *type_name, int flags, const char *key, BUF *result)
{
    BUF    *why = buf_alloc(16);
    DICT   *d = dict_open(type_name, flags, why);
    DICT_STATUS st;

    ck_assert_msg(d != NULL, "open %s: %s", type_name, buf_str(why));
    st = dict_lookup(d, key, result, why);
    dict_close(d);
    buf_free(why);
    return st;
}

/* open_error - dict_open must fail; does why contain text? */
static void open_error(const char *type_name, const char *text)
{
    BUF    *why = buf_alloc(16);

    ck_assert_msg(dict_open(type_name, 0, why) == NULL, "%s opened", type_name);
    ck_assert_msg(strstr(buf_str(why), text) != NULL, "%s: why \"%s\" lacks \"%s\"",
                  type_name, buf_str(why), text);
    buf_free(why);
}

START_TEST(test_names)
{
    open_error("/etc/aliases", "has no type: write TYPE:NAME, e.g. lmdb:/etc/aliases");
    open_error("cdb:/etc/aliases", "unknown table type \"cdb\"");
    open_error("cdb:/etc/aliases", "lmdb hash btree pcre inline static texthash unix");
    open_error("unix:shadow", "unknown table");
    ck_assert_str_eq(dict_status_name(DICT_FOUND), "found");
    ck_assert_str_eq(dict_status_name(DICT_NOTFOUND), "not found");
    ck_assert_str_eq(dict_status_name(DICT_TRYLATER), "try again later");
}
END_TEST

START_TEST(test_static)
{
    BUF    *r = buf_alloc(16);

    ck_assert_int_eq(find("static:smtp:[relay]", 0, "Anything", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "smtp:[relay]");
    ck_assert_int_eq(find("static:{  value with spaces }", 0, "x", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "value with spaces");
    ck_assert_int_eq(find("static:Upper", 0, "x", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "Upper");
    open_error("static:{ unclosed", "missing '}'");
    buf_free(r);
}
END_TEST

START_TEST(test_inline)
{
    const char *t = "inline:{ Alice=a1, bob=b1 { carol = value with spaces } ,dup=first, dup=second }";
    BUF    *r = buf_alloc(16);

    ck_assert_int_eq(find(t, 0, "alice", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "a1");
    ck_assert_int_eq(find(t, 0, "BOB", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "b1");
    ck_assert_int_eq(find(t, 0, "carol", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "value with spaces");
    ck_assert_int_eq(find(t, 0, "dup", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "first");
    ck_assert(log_has("duplicate entry: \"dup\""));
    ck_assert_int_eq(find(t, 0, "dave", r), DICT_NOTFOUND);
    ck_assert_int_eq(find(t, DICT_FLAG_FIXED_CASE, "Alice", r), DICT_FOUND);
    ck_assert_int_eq(find(t, DICT_FLAG_FIXED_CASE, "alice", r), DICT_NOTFOUND);
    open_error("inline:a=b", "expected inline:{ key=value, ... }");
    open_error("inline:{ a=b, novalue }", "expected key=value, found \"novalue\"");
    open_error("inline:{ a=b, { c=d }", "missing '}'");
    open_error("inline:{ =b }", "empty key");
    open_error("inline:{ }", "empty table");
    buf_free(r);
}
END_TEST

START_TEST(test_texthash)
{
    char   *path = ts_path(tdir, "th");
    BUF    *tn = buf_alloc(16);
    BUF    *r = buf_alloc(16);

    ts_write_file(path, "# header\nKey1 value one\nkey2\tv2\n  more\nkey1 later\nlonely\n");
    buf_printf(tn, "texthash:%s", path);
    ck_assert_int_eq(find(buf_str(tn), 0, "KEY1", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "value one");
    ck_assert(log_has("line 5: duplicate entry: \"key1\""));
    ck_assert(log_has("line 6: expected format: key whitespace value"));
    ck_assert_int_eq(find(buf_str(tn), 0, "key2", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "v2  more");
    ck_assert_int_eq(find(buf_str(tn), 0, "lonely", r), DICT_NOTFOUND);
    ck_assert_int_eq(find(buf_str(tn), 0, "key3", r), DICT_NOTFOUND);
    /* Fixed case: keys kept as written, two distinct keys. */
    ck_assert_int_eq(find(buf_str(tn), DICT_FLAG_FIXED_CASE, "Key1", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "value one");
    ck_assert_int_eq(find(buf_str(tn), DICT_FLAG_FIXED_CASE, "key1", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "later");
    ck_assert_int_eq(find(buf_str(tn), DICT_FLAG_FIXED_CASE, "KEY1", r), DICT_NOTFOUND);
    buf_sprintf(tn, "texthash:%s/absent", tdir);
    open_error(buf_str(tn), "absent");
    buf_free(tn);
    buf_free(r);
    xfree(path);
}
END_TEST

START_TEST(test_unix)
{
    BUF    *r = buf_alloc(16);
    BUF    *want = buf_alloc(16);
    struct passwd *pw = getpwnam("root");

    ck_assert_ptr_nonnull(pw);
    buf_printf(want, "root:%s:0:0:%s:%s:%s", pw->pw_passwd, pw->pw_gecos, pw->pw_dir,
               pw->pw_shell);
    ck_assert_int_eq(find("unix:passwd.byname", 0, "root", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), buf_str(want));
    ck_assert_int_eq(find("unix:passwd.byname", 0, "ROOT", r), DICT_FOUND);    /* folded */
    ck_assert_int_eq(find("unix:passwd.byname", 0, "no-such-user-xq7", r), DICT_NOTFOUND);
    ck_assert_int_eq(find("unix:passwd.byname", 0, "", r), DICT_NOTFOUND);
    ck_assert_int_eq(find("unix:group.byname", 0, "root", r), DICT_FOUND);
    ck_assert_int_eq(strncmp(buf_str(r), "root:", 5), 0);
    ck_assert(strstr(buf_str(r), ":0:") != NULL);
    buf_free(r);
    buf_free(want);
}
END_TEST

 /*
  * A test double: a type whose lookups fail ("try later") for keys that
  * start with "fail", and find keys that start with "hit".
  */
static DICT *flaky_open(const char *name, int flags, BUF *why);

static DICT_STATUS flaky_lookup(DICT *d, const char *key, BUF *result, BUF *why)
{
    if (strncmp(key, "fail", 4) == 0) {
        buf_set(why, "backend down");
        return DICT_TRYLATER;
    }
    if (strncmp(key, "hit", 3) == 0) {
        buf_sprintf(result, "flaky:%s", d->name);
        return DICT_FOUND;
    }
    return DICT_NOTFOUND;
}

static void flaky_close(DICT *d)
{
    dict_free(d);
}

static const DICT_TYPE flaky_type = {
    "flaky", flaky_open, flaky_lookup, flaky_close, NULL, NULL, NULL, NULL, NULL,
};

static DICT *flaky_open(const char *name, int flags, BUF *why)
{
    if (strcmp(name, "refuse") == 0) {
        buf_set(why, "cannot connect");
        return NULL;
    }
    return dict_alloc(&flaky_type, name, flags);
}

START_TEST(test_maps)
{
    MAPS   *m;
    MAPS   *m2;
    BUF    *r = buf_alloc(16);
    BUF    *why = buf_alloc(16);

    dict_register(&flaky_type);
    dict_register(&flaky_type);         /* the same type again: harmless */
    m = maps_open("inline:{ a=first, { b = from inline } }, static:{ catch all }", 0, why);
    ck_assert_msg(m != NULL, "why: %s", buf_str(why));
    ck_assert_int_eq(maps_find(m, "A", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "first");
    ck_assert_int_eq(maps_find(m, "b", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "from inline");
    ck_assert_int_eq(maps_find(m, "zzz", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "catch all");
    maps_close(m);

    /* The first table that finds the key wins; a failure before that defers;
     * a failure after it does not matter. */
    m = maps_open("inline:{hitme=inline} flaky:one,flaky:two", 0, why);
    ck_assert_msg(m != NULL, "why: %s", buf_str(why));
    ck_assert_int_eq(maps_find(m, "hitme", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "inline");
    ck_assert_int_eq(maps_find(m, "hitx", r, why), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "flaky:one");
    ck_assert_int_eq(maps_find(m, "failx", r, why), DICT_TRYLATER);
    ck_assert_str_eq(buf_str(why), "flaky:one: backend down");
    ck_assert_int_eq(maps_find(m, "other", r, why), DICT_NOTFOUND);
    maps_close(m);

    /* A table that cannot be opened now is a stand-in that defers. */
    m = maps_open("flaky:refuse, static:found", 0, why);
    ck_assert_msg(m != NULL, "why: %s", buf_str(why));
    ck_assert(log_has("flaky:refuse is unavailable: cannot connect"));
    ck_assert_int_eq(maps_find(m, "x", r, why), DICT_TRYLATER);
    ck_assert_msg(strstr(buf_str(why), "cannot connect") != NULL, "why: %s", buf_str(why));
    maps_close(m);

    /* An unknown type is a stand-in too: the program runs, lookups defer. */
    m = maps_open("static:x, nosuchtype:y", 0, why);
    ck_assert_msg(m != NULL, "why: %s", buf_str(why));
    ck_assert(log_has("nosuchtype:y is unavailable"));
    ck_assert_int_eq(maps_find(m, "k", r, why), DICT_FOUND);
    m2 = maps_open("nosuchtype:y, static:x", 0, why);
    ck_assert_int_eq(maps_find(m2, "k", r, why), DICT_TRYLATER);
    ck_assert(strstr(buf_str(why), "unknown table type \"nosuchtype\"") != NULL);
    maps_close(m);
    maps_close(m2);

    /* Configuration errors refuse the list. */
    ck_assert_ptr_null(maps_open("inline:{ a=b", 0, why));
    ck_assert(strstr(buf_str(why), "missing '}'") != NULL);
    ck_assert_ptr_null(maps_open("static:x, /no/type", 0, why));
    ck_assert(strstr(buf_str(why), "has no type") != NULL);

    /* An empty list finds nothing. */
    m = maps_open("  ", 0, why);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(maps_find(m, "x", r, why), DICT_NOTFOUND);
    maps_close(m);
    buf_free(r);
    buf_free(why);
}
END_TEST

/* collect - gather key=value|line; into a BUF */
static int collect(const char *key, const char *value, int lineno, void *ctx)
{
    buf_printf((BUF *) ctx, "%s=%s|%d;", key, value, lineno);
    return 0;
}

/* stop_at_two - stop reading at the second entry */
static int stop_at_two(const char *key, const char *value, int lineno, void *ctx)
{
    return ++*(int *) ctx == 2 ? -1 : 0;
}

START_TEST(test_text_formats)
{
    char   *path = ts_path(tdir, "src");
    BUF    *out = buf_alloc(64);
    BUF    *why = buf_alloc(16);
    int     n = 0;

    ts_write_file(path, "  lead x\n# c\nA  1 2  \n\n b\n#inner comment\n\tc\nD\t4\r\nE\n");
    ck_assert_int_eq(dict_read_text_file(path, collect, out, why), 0);
    /* Keys are not folded by the reader (the table type decides). */
    ck_assert_str_eq(buf_str(out), "lead=x|1;A=1 2 b\tc|3;D=4|8;");
    ck_assert(log_has("line 1: a table entry must not start with white space"));
    ck_assert(log_has("line 9: expected format: key whitespace value"));
    ck_assert_int_eq(dict_read_text_file(path, stop_at_two, &n, why), -1);
    ck_assert_int_eq(n, 2);

    buf_reset(out);
    ts_write_file(path, "Root: a,\n   b\n\"Quoted Name\" : q\nx\\\"y: z\n\"a\\\"b\": e\n"
                  "nocolon\nu@h: v\nempty:\na,b: c\n");
    ck_assert_int_eq(dict_read_alias_file(path, collect, out, why), 0);
    ck_assert_str_eq(buf_str(out), "root=a,   b|1;quoted name=q|3;x\"y=z|4;a\"b=e|5;");
    ck_assert(log_has("line 6: need name:value pair"));
    ck_assert(log_has("line 7: name must be local"));
    ck_assert(log_has("line 8: need name:value pair"));
    ck_assert(log_has("line 9: need name:value pair"));

    ck_assert_int_eq(dict_read_text_file("/nonexistent/x", collect, out, why), -1);
    ck_assert(strstr(buf_str(why), "/nonexistent/x") != NULL);
    buf_free(out);
    buf_free(why);
    xfree(path);
}
END_TEST

/* walk_collect - a maps_walk callback: "key=value;" into a BUF; stops at "stop" */
static int walk_collect(const char *key, const char *value, int lineno, void *ctx)
{
    (void) lineno;
    if (strcmp(key, "stop") == 0)
        return 1;
    buf_printf(ctx, "%s=%s;", key, value);
    return 0;
}

START_TEST(test_maps_walk)
{
    char   *path = ts_path(tdir, "walk");
    BUF    *list = buf_alloc(64);
    BUF    *out = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    MAPS   *maps;

    /* texthash in key order, then inline in written order; a key may repeat. */
    ts_write_file(path, "Zed z\nalpha a\n");
    buf_sprintf(list, "texthash:%s, inline:{k2=v2, alpha=again}", path);
    ck_assert((maps = maps_open(buf_str(list), 0, why)) != NULL);
    ck_assert_msg(maps_walk(maps, walk_collect, out, why) == 0, "%s", buf_str(why));
    ck_assert_str_eq(buf_str(out), "alpha=a;zed=z;k2=v2;alpha=again;");
    maps_close(maps);
    /* A stop, a table that cannot be listed, a table that is not there. */
    ck_assert((maps = maps_open("inline:{a=1, stop=2, b=3}", 0, why)) != NULL);
    buf_reset(out);
    ck_assert_int_eq(maps_walk(maps, walk_collect, out, why), -1);
    ck_assert_str_eq(buf_str(out), "a=1;");
    maps_close(maps);
    ck_assert((maps = maps_open("static:x", 0, why)) != NULL);
    ck_assert_int_eq(maps_walk(maps, walk_collect, out, why), -1);
    ck_assert_msg(strstr(buf_str(why), "cannot be listed") != NULL, "%s", buf_str(why));
    maps_close(maps);
    ck_assert((maps = maps_open("texthash:/nonexistent/walk", 0, why)) != NULL);
    ck_assert_int_eq(maps_walk(maps, walk_collect, out, why), -1);
    ck_assert_msg(strstr(buf_str(why), "/nonexistent/walk") != NULL, "%s", buf_str(why));
    maps_close(maps);
    buf_free(list);
    buf_free(out);
    buf_free(why);
    xfree(path);
}
END_TEST

START_TEST(test_build_not_supported)
{
    BUF    *why = buf_alloc(16);

    ck_assert_int_eq(dict_build("pcre:/x", why), -1);
    ck_assert(strstr(buf_str(why), "cannot be built") != NULL);
    ck_assert_int_eq(dict_build_aliases("texthash:/x", why), -1);
    ck_assert_int_eq(dict_build("nope:/x", why), -1);
    ck_assert(strstr(buf_str(why), "unknown table type") != NULL);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("dict_core");
    TCase  *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_static);
    tcase_add_test(tc, test_inline);
    tcase_add_test(tc, test_texthash);
    tcase_add_test(tc, test_unix);
    tcase_add_test(tc, test_maps);
    tcase_add_test(tc, test_text_formats);
    tcase_add_test(tc, test_build_not_supported);
    tcase_add_test(tc, test_maps_walk);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
