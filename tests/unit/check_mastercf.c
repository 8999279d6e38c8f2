/* check_mastercf - master.cf columns, defaults, -o forms, braces, errors. */
#include <check.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mastercf.h"
#include "mem.h"
#include "testsupport.h"

/* parse - text that must parse */
static void parse(const char *text, MASTER_CF *cf)
{
    BUF    *why = buf_alloc(100);

    ck_assert_msg(mastercf_parse_text(text, 100, cf, why) == 0, "%s\ntext: %s",
                  buf_str(why), text);
    buf_free(why);
}

START_TEST(test_columns_and_defaults)
{
    MASTER_CF cf;
    const MASTER_ENT *e;

    parse("# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
          "smtp      inet  n       -       y       -       -       smtpd\n"
          "pickup    unix  n       -       n       60      1       pickup\n"
          "cleanup   unix  y       n       -       -       0       cleanup\n"
          "qmgr      unix  -       -       -       300?    1       qmgr\n"
          "dgram     unix-dgram -  -       -       -       -       x\n"
          "oldfifo   fifo  -       -       -       -       -       x\n"
          "smtpd     pass  -       -       -       -       7       smtpd\n", &cf);
    ck_assert_int_eq(cf.count, 7);

    e = mastercf_find(&cf, "smtp", MASTER_INET);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(e->private_, 0);
    ck_assert_int_eq(e->unpriv, 1);                     /* - is y */
    ck_assert_int_eq(e->chroot, 1);
    ck_assert_int_eq(e->wakeup, 0);
    ck_assert_int_eq(e->wakeup_on_use, 0);
    ck_assert_int_eq(e->maxproc, 100);                  /* - is default_maxproc */
    ck_assert_int_eq(e->argc, 1);
    ck_assert_str_eq(e->argv[0], "smtpd");
    ck_assert_ptr_null(e->argv[1]);
    ck_assert_int_eq(e->noverrides, 0);
    ck_assert_int_eq(e->lineno, 2);

    e = mastercf_find(&cf, "pickup", MASTER_UNIX);
    ck_assert_int_eq(e->wakeup, 60);
    ck_assert_int_eq(e->maxproc, 1);
    ck_assert_int_eq(e->chroot, 0);

    e = mastercf_find(&cf, "cleanup", MASTER_UNIX);
    ck_assert_int_eq(e->private_, 1);
    ck_assert_int_eq(e->unpriv, 0);
    ck_assert_int_eq(e->chroot, 0);                     /* - is n */
    ck_assert_int_eq(e->maxproc, 0);                    /* no limit */

    e = mastercf_find(&cf, "qmgr", MASTER_UNIX);
    ck_assert_int_eq(e->private_, 1);                   /* - is y */
    ck_assert_int_eq(e->wakeup, 300);
    ck_assert_int_eq(e->wakeup_on_use, 1);
    ck_assert_int_eq(e->lineno, 5);

    ck_assert_ptr_nonnull(mastercf_find(&cf, "dgram", MASTER_UNIX_DGRAM));
    ck_assert_ptr_nonnull(mastercf_find(&cf, "oldfifo", MASTER_FIFO));
    ck_assert_int_eq(mastercf_find(&cf, "smtpd", MASTER_PASS)->maxproc, 7);
    ck_assert_ptr_null(mastercf_find(&cf, "smtp", MASTER_UNIX));
    ck_assert_str_eq(mastercf_type_name(MASTER_UNIX_DGRAM), "unix-dgram");
    ck_assert_str_eq(mastercf_type_name(MASTER_INET), "inet");
    mastercf_free(&cf);
    ck_assert_int_eq(cf.count, 0);
}
END_TEST

START_TEST(test_overrides_every_form)
{
    MASTER_CF cf;
    const MASTER_ENT *e;

    parse("submission inet n - n - - smtpd -v\n"
          "  -o syslog_name=surel/submission\n"
          "  -o { smtpd_banner = $myhostname ESMTP ready }\n"
          "  -osmtpd_sasl_auth_enable=yes\n"
          "  -o {milter_macro = { a b } }\n"
          "  -o empty_value=\n"
          "  trailing-arg\n", &cf);
    e = &cf.ents[0];
    ck_assert_int_eq(e->argc, 3);
    ck_assert_str_eq(e->argv[0], "smtpd");
    ck_assert_str_eq(e->argv[1], "-v");
    ck_assert_str_eq(e->argv[2], "trailing-arg");
    ck_assert_int_eq(e->noverrides, 5);
    ck_assert_str_eq(e->overrides[0], "syslog_name=surel/submission");
    ck_assert_str_eq(e->overrides[1], "smtpd_banner=$myhostname ESMTP ready");
    ck_assert_str_eq(e->overrides[2], "smtpd_sasl_auth_enable=yes");
    ck_assert_str_eq(e->overrides[3], "milter_macro={ a b }");
    ck_assert_str_eq(e->overrides[4], "empty_value=");
    ck_assert_ptr_null(e->overrides[5]);
    mastercf_free(&cf);
}
END_TEST

START_TEST(test_braced_arguments)
{
    MASTER_CF cf;
    const MASTER_ENT *e;

    parse("pipe unix - n n - - pipe flags=R user=nobody argv=/bin/cmd { two words }\n"
          "    {  -o  } {}\n", &cf);
    e = &cf.ents[0];
    ck_assert_int_eq(e->argc, 7);
    ck_assert_str_eq(e->argv[4], "two words");
    ck_assert_str_eq(e->argv[5], "-o");        /* a braced -o is an argument */
    ck_assert_str_eq(e->argv[6], "");
    ck_assert_int_eq(e->noverrides, 0);
    mastercf_free(&cf);
}
END_TEST

START_TEST(test_continuation_and_comments)
{
    MASTER_CF cf;

    parse("\n# comment\nsmtp inet n - n - - smtpd\n"
          "# a comment between entry lines does not end the entry\n"
          "    -o a=1\n"
          "\n"
          "\t-o b=2\n"
          "relay unix - - n - - smtp\n", &cf);
    ck_assert_int_eq(cf.count, 2);
    ck_assert_int_eq(cf.ents[0].noverrides, 2);
    ck_assert_int_eq(cf.ents[0].lineno, 3);
    ck_assert_int_eq(cf.ents[1].lineno, 8);
    ck_assert_str_eq(cf.ents[1].name, "relay");
    mastercf_free(&cf);
}
END_TEST

START_TEST(test_normalized_text)
{
    MASTER_CF a;
    MASTER_CF b;
    MASTER_CF c;

    parse("smtp inet n - n - - smtpd -o a=1 -v { x y }\n", &a);
    ck_assert_str_eq(a.ents[0].text, "smtp inet n y n 0 100 smtpd -o a=1 -v { x y }");
    /* Same meaning, different spelling: same text. */
    parse("smtp   inet n y n 0 100\n  smtpd -v\n  -o { a = 1 } {x y}\n", &b);
    ck_assert_str_eq(a.ents[0].text, b.ents[0].text);
    /* A different value: different text. */
    parse("smtp inet n - n - - smtpd -o a=2 -v { x y }\n", &c);
    ck_assert_str_ne(a.ents[0].text, c.ents[0].text);
    mastercf_free(&a);
    mastercf_free(&b);
    mastercf_free(&c);
    parse("qmgr unix n - n 300? 1 qmgr\n", &a);
    ck_assert_str_eq(a.ents[0].text, "qmgr unix n y n 300? 1 qmgr");
    mastercf_free(&a);
}
END_TEST

START_TEST(test_read_file)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "master.cf");
    MASTER_CF cf;
    BUF    *why = buf_alloc(100);

    ts_write_file(path, "smtp inet n - n - - smtpd\nbad inet n - n - -\n");
    ck_assert_int_eq(mastercf_read(path, 50, &cf, why), -1);
    ck_assert_msg(strstr(buf_str(why), path) && strstr(buf_str(why), "line 2: missing command"),
                  "why: %s", buf_str(why));
    ck_assert_int_eq(cf.count, 0);
    ts_write_file(path, "smtp inet n - n - - smtpd\n");
    ck_assert_int_eq(mastercf_read(path, 50, &cf, why), 0);
    ck_assert_int_eq(cf.ents[0].maxproc, 50);
    mastercf_free(&cf);
    ck_assert_int_eq(mastercf_read("/nonexistent/master.cf", 50, &cf, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "open /nonexistent/master.cf"));
    buf_free(why);
    xfree(path);
    xfree(dir);
}
END_TEST

static const struct {
    const char *text;
    const char *why;
} errors[] = {
    {"smtp inet n - n - - smtpd\nx tcp n - n - - y\n", "line 2: bad service type"},
    {"x unix maybe - n - - y\n", "line 1: bad private field"},
    {"x unix - Y n - - y\n", "line 1: bad unpriv field"},
    {"x unix - - yes - - y\n", "line 1: bad chroot field"},
    {"x unix - - - ten - y\n", "line 1: bad wakeup time"},
    {"x unix - - - -5 - y\n", "line 1: bad wakeup time"},
    {"x unix - - - ? - y\n", "line 1: bad wakeup time"},
    {"x unix - - - 99999999999 - y\n", "line 1: bad wakeup time"},
    {"x unix - - - - many y\n", "line 1: bad process limit"},
    {"x unix - - - - -1 y\n", "line 1: bad process limit"},
    {"\n\nx\n", "line 3: missing type field"},
    {"x unix\n", "line 1: missing private field"},
    {"x unix - - - - -\n", "line 1: missing command field"},
    {"x unix - - - -\n  -\n", "line 1: missing command field"},
    {"a unix - - - - - y\nb unix - - - - - y\n\na unix - - - - - z\n",
     "line 4: duplicate service: a/unix (also at line 1)"},
    {"x unix - - - - - y -o\n", "line 1: -o needs name=value"},
    {"x unix - - - - - y -o novalue\n", "line 1: -o needs name=value"},
    {"x unix - - - - - y -o =v\n", "line 1: -o needs name=value"},
    {"x unix - - - - - y -o { bad name = v }\n", "line 1: -o: bad parameter name"},
    {"x unix - - - - - y { open\n", "line 1: missing '}'"},
    {"x unix - - - - - y {a}b\n", "line 1: text after '}'"},
    {"  x unix - - - - - y\n", "line 1: continuation line"},
    {"../x unix - - - - - y\n", "line 1: bad service name"},
    {"a/b unix - - - - - y\n", "line 1: bad service name"},
};

START_TEST(test_errors_name_line)
{
    MASTER_CF cf;
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(mastercf_parse_text(errors[_i].text, 100, &cf, why), -1);
    ck_assert_msg(strstr(buf_str(why), errors[_i].why) != NULL, "case %d: \"%s\" lacks \"%s\"",
                  _i, buf_str(why), errors[_i].why);
    ck_assert_int_eq(cf.count, 0);
    ck_assert_ptr_null(cf.ents);
    buf_free(why);
}
END_TEST

START_TEST(test_same_name_other_type_is_fine)
{
    MASTER_CF cf;

    parse("smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n"
          "127.0.0.1:smtp inet n - n - - smtpd\n", &cf);
    ck_assert_int_eq(cf.count, 3);
    mastercf_free(&cf);
}
END_TEST

/* The program a command names: relative to daemon_directory unless
 * absolute; only an executable regular file counts. */
START_TEST(test_program_path_and_presence)
{
    char   *dir = ts_tempdir();
    char   *prog = ts_path(dir, "prog");
    char   *plain = ts_path(dir, "plain");
    char   *sub = ts_path(dir, "sub");
    BUF    *path = buf_alloc(10);

    ts_write_file(prog, "#!/bin/sh\n");
    ck_assert_int_eq(chmod(prog, 0755), 0);
    ts_write_file(plain, "x\n");
    ck_assert_int_eq(chmod(plain, 0644), 0);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_eq(mastercf_program("prog", dir, path), 1);
    ck_assert_str_eq(buf_str(path), prog);
    ck_assert_int_eq(mastercf_program(prog, "/nonexistent", path), 1);
    ck_assert_str_eq(buf_str(path), prog);
    ck_assert_int_eq(mastercf_program("missing", dir, path), 0);
    ck_assert_int_eq(mastercf_program("sub", dir, path), 0);        /* a folder */
    ck_assert_int_eq(mastercf_program("plain", dir, path), 0);      /* no x bit, root too */
    buf_free(path);
    xfree(prog);
    xfree(plain);
    xfree(sub);
}
END_TEST

static Suite *mastercf_suite(void)
{
    Suite  *s = suite_create("mastercf");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_columns_and_defaults);
    tcase_add_test(tc, test_overrides_every_form);
    tcase_add_test(tc, test_braced_arguments);
    tcase_add_test(tc, test_continuation_and_comments);
    tcase_add_test(tc, test_normalized_text);
    tcase_add_test(tc, test_program_path_and_presence);
    tcase_add_test(tc, test_read_file);
    tcase_add_loop_test(tc, test_errors_name_line, 0, sizeof(errors) / sizeof(errors[0]));
    tcase_add_test(tc, test_same_name_other_type_is_fine);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(mastercf_suite());
}
