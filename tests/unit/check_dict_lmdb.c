/* check_dict_lmdb - lmdb: tables: build, query, folding, duplicates, missing
 * files, reopen after a rebuild, and readers never seeing a partial table. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "testsupport.h"

static char *tdir;                      /* this test's folder */
static char *logpath;                   /* where warnings go */

/* setup - a fresh folder and a log file per test (tests run in forks) */
static void setup(void)
{
    tdir = ts_tempdir();
    logpath = ts_path(tdir, "log");
    msg_init("check_dict_lmdb", 0);
    if (msg_set_logfile(logpath) < 0)
        msg_fatal("open %s: %m", logpath);
}

/* log_has - did some warning contain text? */
static int log_has(const char *text)
{
    char   *log = ts_read_file(logpath, NULL);
    int     found = log != NULL && strstr(log, text) != NULL;

    xfree(log);
    return found;
}

/* build - write a source file and build lmdb:<dir>/<name>; the table name */
static char *build(const char *name, const char *text)
{
    char   *src = ts_path(tdir, name);
    BUF    *why = buf_alloc(64);
    BUF    *tn = buf_alloc(64);

    ts_write_file(src, text);
    buf_printf(tn, "lmdb:%s", src);
    if (dict_build(buf_str(tn), why) != 0)
        ck_abort_msg("build %s: %s", buf_str(tn), buf_str(why));
    buf_free(why);
    xfree(src);
    return buf_steal(tn);
}

/* lookup - status of one lookup, value into result */
static DICT_STATUS lookup(DICT *d, const char *key, BUF *result)
{
    BUF    *why = buf_alloc(64);
    DICT_STATUS st = dict_lookup(d, key, result, why);

    if (st == DICT_TRYLATER)
        fprintf(stderr, "lookup %s: %s\n", key, buf_str(why));
    buf_free(why);
    return st;
}

static DICT *open_ok(const char *tn, int flags)
{
    BUF    *why = buf_alloc(64);
    DICT   *d = dict_open(tn, flags, why);

    if (d == NULL)
        ck_abort_msg("open %s: %s", tn, buf_str(why));
    buf_free(why);
    return d;
}

START_TEST(test_build_and_query)
{
    char   *tn = build("t", "Alice   alice@Example.COM\n# comment\n\n"
                       "bob\tBob Smith,\n  second line\n");
    BUF    *r = buf_alloc(10);
    DICT   *d = open_ok(tn, 0);
    char   *db = ts_path(tdir, "t.lmdb");
    struct stat st;

    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(lookup(d, "alice", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "alice@Example.COM");      /* values keep case */
    ck_assert_int_eq(lookup(d, "ALICE", r), DICT_FOUND);    /* keys are folded */
    ck_assert_int_eq(lookup(d, "bob", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "Bob Smith,  second line");
    ck_assert_int_eq(lookup(d, "carol", r), DICT_NOTFOUND);
    ck_assert_str_eq(buf_str(r), "");
    ck_assert_int_eq(lookup(d, "", r), DICT_NOTFOUND);
    dict_close(d);

    /* With fixed case the key is used as given; built keys are lower case. */
    d = open_ok(tn, DICT_FLAG_FIXED_CASE);
    ck_assert_int_eq(lookup(d, "Alice", r), DICT_NOTFOUND);
    ck_assert_int_eq(lookup(d, "alice", r), DICT_FOUND);
    dict_close(d);
    buf_free(r);
    xfree(db);
    xfree(tn);
}
END_TEST

/* walk_collect - "key=value;" into a BUF */
static int walk_collect(const char *key, const char *value, int lineno, void *ctx)
{
    (void) lineno;
    buf_printf(ctx, "%s=%s;", key, value);
    return 0;
}

START_TEST(test_walk)
{
    char   *tn = build("w", "mail.Example.org /a.pem\n.example.net /b.pem, /c.pem\n");
    BUF    *out = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    MAPS   *maps;

    ck_assert((maps = maps_open(tn, 0, why)) != NULL);
    ck_assert_int_eq(maps_walk(maps, walk_collect, out, why), 0);
    ck_assert_str_eq(buf_str(out), ".example.net=/b.pem, /c.pem;mail.example.org=/a.pem;");
    maps_close(maps);
    buf_free(out);
    buf_free(why);
    xfree(tn);
}
END_TEST

START_TEST(test_duplicates_keep_first_and_warn)
{
    char   *tn = build("dup", "k first\nx y\nK second\nnovalue\n");
    BUF    *r = buf_alloc(10);
    DICT   *d = open_ok(tn, 0);

    ck_assert_int_eq(lookup(d, "k", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "first");
    ck_assert(log_has("line 3: duplicate entry: \"k\""));
    ck_assert(log_has("line 4: expected format: key whitespace value"));
    ck_assert_int_eq(lookup(d, "novalue", r), DICT_NOTFOUND);
    dict_close(d);
    buf_free(r);
    xfree(tn);
}
END_TEST

START_TEST(test_missing_database)
{
    BUF    *why = buf_alloc(10);
    char   *src = ts_path(tdir, "none");
    BUF    *tn = buf_alloc(10);

    buf_printf(tn, "lmdb:%s", src);
    ck_assert_ptr_null(dict_open(buf_str(tn), 0, why));
    ck_assert_msg(strstr(buf_str(why), "does not exist; run surel map build lmdb:") != NULL,
                  "why: %s", buf_str(why));
    /* Building from a missing source fails and leaves nothing behind. */
    ck_assert_int_eq(dict_build(buf_str(tn), why), -1);
    ck_assert_msg(strstr(buf_str(why), "No such file") != NULL, "why: %s", buf_str(why));
    buf_free(why);
    buf_free(tn);
    xfree(src);
}
END_TEST

START_TEST(test_no_temp_files_left)
{
    char   *tn = build("clean", "a b\n");
    FILE   *fp;
    char    line[4096];
    char    cmd[4200];
    int     n = 0;

    snprintf(cmd, sizeof(cmd), "ls -A '%s'", tdir);
    fp = popen(cmd, "r");
    ck_assert_ptr_nonnull(fp);
    while (fgets(line, sizeof(line), fp)) {
        ck_assert_msg(strstr(line, ".tmp") == NULL && strstr(line, "-lock") == NULL,
                      "left over: %s", line);
        n++;
    }
    pclose(fp);
    ck_assert_int_eq(n, 3);             /* clean, clean.lmdb, log */
    xfree(tn);
}
END_TEST

START_TEST(test_rebuilt_while_open)
{
    char   *tn = build("live", "key old\ngone here\n");
    BUF    *r = buf_alloc(10);
    DICT   *d = open_ok(tn, 0);

    ck_assert_int_eq(lookup(d, "key", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "old");
    xfree(build("live", "key new\nadded yes\n"));
    /* The same DICT sees the new table, without a reopen by the caller. */
    ck_assert_int_eq(lookup(d, "key", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "new");
    ck_assert_int_eq(lookup(d, "added", r), DICT_FOUND);
    ck_assert_int_eq(lookup(d, "gone", r), DICT_NOTFOUND);
    dict_close(d);
    buf_free(r);
    xfree(tn);
}
END_TEST

START_TEST(test_broken_or_removed_database_defers)
{
    char   *tn = build("fragile", "k v\n");
    char   *db = ts_path(tdir, "fragile.lmdb");
    char   *junk = ts_path(tdir, "junk");
    BUF    *r = buf_alloc(10);
    BUF    *why = buf_alloc(10);
    DICT   *d = open_ok(tn, 0);

    ck_assert_int_eq(lookup(d, "k", r), DICT_FOUND);
    /* A corrupt file renamed in: try later (mail waits), never "not found". */
    ts_write_file(junk, "this is not an LMDB file, not even close................\n");
    ck_assert_int_eq(rename(junk, db), 0);
    ck_assert_int_eq(dict_lookup(d, "k", r, why), DICT_TRYLATER);
    ck_assert_msg(strstr(buf_str(why), "fragile.lmdb") != NULL, "why: %s", buf_str(why));
    /* A removed file: the same. */
    ck_assert_int_eq(unlink(db), 0);
    ck_assert_int_eq(dict_lookup(d, "k", r, why), DICT_TRYLATER);
    /* A rebuild heals the open table. */
    xfree(build("fragile", "k healed\n"));
    ck_assert_int_eq(lookup(d, "k", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "healed");
    dict_close(d);
    buf_free(r);
    buf_free(why);
    xfree(db);
    xfree(junk);
    xfree(tn);
}
END_TEST

START_TEST(test_big_table_grows_the_map)
{
    char   *src = ts_path(tdir, "big");
    FILE   *fp = fopen(src, "w");
    BUF    *tn = buf_alloc(10);
    BUF    *why = buf_alloc(10);
    BUF    *r = buf_alloc(10);
    DICT   *d;
    int     i;

    /* Small entries cost LMDB several times their text: the first map size
     * guess is too small and the build must start over with more room. */
    ck_assert_ptr_nonnull(fp);
    for (i = 0; i < 200000; i++)
        fprintf(fp, "k%d %d\n", i, i);
    fclose(fp);
    buf_printf(tn, "lmdb:%s", src);
    msg_verbose = 1;
    ck_assert_msg(dict_build(buf_str(tn), why) == 0, "why: %s", buf_str(why));
    msg_verbose = 0;
    ck_assert(log_has("is too small; trying"));
    d = open_ok(buf_str(tn), 0);
    ck_assert_int_eq(lookup(d, "k0", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "0");
    ck_assert_int_eq(lookup(d, "k199999", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "199999");
    dict_close(d);
    buf_free(tn);
    buf_free(why);
    buf_free(r);
    xfree(src);
}
END_TEST

START_TEST(test_long_key_skipped)
{
    BUF    *text = buf_alloc(1000);
    BUF    *r = buf_alloc(10);
    char   *tn;
    DICT   *d;
    int     i;

    for (i = 0; i < 600; i++)
        buf_putc(text, 'x');
    buf_puts(text, " long\nshort ok\n");
    tn = build("long", buf_str(text));
    ck_assert(log_has("line 1: key longer than"));
    d = open_ok(tn, 0);
    ck_assert_int_eq(lookup(d, "short", r), DICT_FOUND);
    buf_truncate(text, 600);
    ck_assert_int_eq(lookup(d, buf_str(text), r), DICT_NOTFOUND);
    dict_close(d);
    buf_free(text);
    buf_free(r);
    xfree(tn);
}
END_TEST

START_TEST(test_aliases_build)
{
    char   *src = ts_path(tdir, "aliases");
    BUF    *tn = buf_alloc(10);
    BUF    *why = buf_alloc(10);
    BUF    *r = buf_alloc(10);
    DICT   *d;

    ts_write_file(src, "# system aliases\nPostmaster: root\n"
                  "staff: alice,\n\tbob, \"|/usr/bin/x\"\n"
                  "\"john doe\": john\nbroken line\nuser@remote: x\nroot: first\nROOT: second\n");
    buf_printf(tn, "lmdb:%s", src);
    ck_assert_msg(dict_build_aliases(buf_str(tn), why) == 0, "why: %s", buf_str(why));
    d = open_ok(buf_str(tn), 0);
    ck_assert_int_eq(lookup(d, "postmaster", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "root");
    ck_assert_int_eq(lookup(d, "staff", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "alice,\tbob, \"|/usr/bin/x\"");
    ck_assert_int_eq(lookup(d, "John Doe", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "john");
    ck_assert_int_eq(lookup(d, "root", r), DICT_FOUND);
    ck_assert_str_eq(buf_str(r), "first");
    ck_assert(log_has("line 6: need name:value pair"));
    ck_assert(log_has("line 7: name must be local"));
    ck_assert(log_has("line 9: duplicate entry: \"root\""));
    dict_close(d);
    buf_free(tn);
    buf_free(why);
    buf_free(r);
    xfree(src);
}
END_TEST

#define SNAP_KEYS   3000                /* keys in each generation */
#define SNAP_BUILDS 40                  /* generations the writer makes */

/* snap_write - generation g: every key's value is g */
static void snap_write(const char *src, int g)
{
    FILE   *fp = fopen(src, "w");
    int     i;

    if (fp == NULL)
        _exit(3);
    for (i = 0; i < SNAP_KEYS; i++)
        fprintf(fp, "key%d %d\n", i, g);
    if (fclose(fp) != 0)
        _exit(3);
}

START_TEST(test_reader_never_sees_partial_table)
{
    char   *src = ts_path(tdir, "snap");
    BUF    *tn = buf_alloc(10);
    BUF    *why = buf_alloc(10);
    BUF    *r = buf_alloc(10);
    DICT   *live;
    DICT   *fresh;
    pid_t   pid;
    int     status = 0;
    int     done = 0;
    int     g;
    long    lookups = 0;
    int     last_gen = 0;
    int     gen;
    char    key[32];
    time_t  deadline = time(NULL) + 60;

    buf_printf(tn, "lmdb:%s", src);
    snap_write(src, 0);
    ck_assert_int_eq(dict_build(buf_str(tn), why), 0);
    live = open_ok(buf_str(tn), 0);
    if ((pid = fork()) == 0) {
        for (g = 1; g <= SNAP_BUILDS; g++) {
            snap_write(src, g);
            if (dict_build(buf_str(tn), why) != 0)
                _exit(4);
        }
        _exit(0);
    }
    ck_assert_int_ge(pid, 0);
    /* Read while the child rebuilds: every key of every table we see is
     * there (a partial table would miss the later keys, a torn one would
     * fail), one open table never goes back in time, and a fresh open
     * always succeeds. */
    while (!done) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        ck_assert_msg(time(NULL) < deadline, "writer did not finish in time");
        snprintf(key, sizeof(key), "key%ld", (lookups * 7919) % SNAP_KEYS);
        ck_assert_int_eq(lookup(live, key, r), DICT_FOUND);
        gen = atoi(buf_str(r));
        ck_assert_int_ge(gen, last_gen);
        last_gen = gen;
        ck_assert_int_eq(lookup(live, "key2999", r), DICT_FOUND);
        ck_assert_int_ge(atoi(buf_str(r)), gen);
        fresh = dict_open(buf_str(tn), 0, why);
        ck_assert_msg(fresh != NULL, "open during rebuild: %s", buf_str(why));
        ck_assert_int_eq(lookup(fresh, "key2999", r), DICT_FOUND);
        dict_close(fresh);
        lookups++;
    }
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* After the writer: the last generation, everywhere. */
    ck_assert_int_eq(lookup(live, "key0", r), DICT_FOUND);
    ck_assert_int_eq(atoi(buf_str(r)), SNAP_BUILDS);
    ck_assert_int_gt(lookups, 0);
    dict_close(live);
    buf_free(tn);
    buf_free(why);
    buf_free(r);
    xfree(src);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("dict_lmdb");
    TCase  *tc = tcase_create("lmdb");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, test_build_and_query);
    tcase_add_test(tc, test_walk);
    tcase_add_test(tc, test_duplicates_keep_first_and_warn);
    tcase_add_test(tc, test_missing_database);
    tcase_add_test(tc, test_no_temp_files_left);
    tcase_add_test(tc, test_rebuilt_while_open);
    tcase_add_test(tc, test_broken_or_removed_database_defers);
    tcase_add_test(tc, test_big_table_grows_the_map);
    tcase_add_test(tc, test_long_key_skipped);
    tcase_add_test(tc, test_aliases_build);
    tcase_add_test(tc, test_reader_never_sees_partial_table);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
