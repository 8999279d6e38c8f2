/* check_admin_postfix - Postfix's command lines rewritten into surel's
 * (admin/surel_postfix.c): each name with its common flags, and the flags
 * surel lacks refused by name rather than ignored. */
#include <check.h>
#include <stdarg.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "surel.h"
#include "testsupport.h"

/* rewrite - the surel command line for argv (NULL-terminated words), as one
 * string of words separated by spaces, or "ERROR: why" */
static char *rewrite(const char *first, ...)
{
    char   *argv[32];
    int     argc = 0;
    char  **out;
    int     outc;
    va_list ap;
    BUF    *why = buf_alloc(100);
    BUF    *text = buf_alloc(100);
    const char *word;
    int     i;

    va_start(ap, first);
    for (word = first; word && argc < 31; word = va_arg(ap, const char *))
        argv[argc++] = (char *) word;
    va_end(ap);
    argv[argc] = NULL;
    if (surel_postfix_argv(argc, argv, &out, &outc, why) < 0) {
        buf_sprintf(text, "ERROR: %s", buf_str(why));
    } else {
        for (i = 0; i < outc; i++)
            buf_printf(text, "%s%s", i ? " " : "", out[i]);
        ck_assert_ptr_null(out[outc]);
        xfree(out);
    }
    buf_free(why);
    return buf_steal(text);
}

#define ASSERT_REWRITE(expect, ...) do { \
        char *got_ = rewrite(__VA_ARGS__, (const char *) NULL); \
        ck_assert_str_eq(got_, expect); \
        xfree(got_); \
    } while (0)

START_TEST(test_names)
{
    ck_assert(surel_postfix_name("postconf"));
    ck_assert(surel_postfix_name("/usr/sbin/postqueue"));
    ck_assert(!surel_postfix_name("surel"));
    ck_assert(!surel_postfix_name("sendmail"));
    ck_assert(!surel_postfix_name("postdrop"));     /* a program of its own */
}
END_TEST

START_TEST(test_postconf)
{
    ASSERT_REWRITE("surel conf -n", "postconf", "-n");
    ASSERT_REWRITE("surel conf -d mail_name", "postconf", "-d", "mail_name");
    ASSERT_REWRITE("surel conf -h myhostname", "postconf", "-h", "myhostname");
    ASSERT_REWRITE("surel conf -c /etc/x -e a=b", "postconf", "-c", "/etc/x", "-e", "a=b");
}
END_TEST

START_TEST(test_postmap_postalias)
{
    ASSERT_REWRITE("surel map build lmdb:/etc/x", "postmap", "lmdb:/etc/x");
    ASSERT_REWRITE("surel -c /c map query lmdb:/etc/x key", "postmap", "-c", "/c", "-q", "key",
                   "lmdb:/etc/x");
    ASSERT_REWRITE("surel map query lmdb:/etc/x -", "postmap", "-q", "-", "lmdb:/etc/x");
    ASSERT_REWRITE("surel map build -a /etc/aliases", "postalias", "/etc/aliases");
    ASSERT_REWRITE("surel map query /etc/aliases root", "postalias", "-q", "root",
                   "/etc/aliases");
    ASSERT_REWRITE("surel map dump lmdb:/x hash:/y", "postmap", "-s", "lmdb:/x", "hash:/y");
    ASSERT_REWRITE("surel map delete lmdb:/x k", "postmap", "-d", "k", "lmdb:/x");
    ASSERT_REWRITE("surel map add lmdb:/x", "postmap", "-i", "lmdb:/x");
    ASSERT_REWRITE("ERROR: postmap: option -z is not supported by surel", "postmap", "-z",
                   "lmdb:/x");
    ASSERT_REWRITE("ERROR: postmap: give one of -q, -d, -s and -i", "postmap", "-s", "-i",
                   "lmdb:/x");
    ASSERT_REWRITE("ERROR: postmap -q: give exactly one table", "postmap", "-q", "k", "a:b",
                   "c:d");
}
END_TEST

START_TEST(test_postqueue)
{
    ASSERT_REWRITE("surel queue flush", "postqueue", "-f");
    ASSERT_REWRITE("surel queue flush example.com", "postqueue", "-s", "example.com");
    ASSERT_REWRITE("surel queue list", "postqueue", "-p");
    ASSERT_REWRITE("surel -c /c queue list -j", "postqueue", "-c", "/c", "-j");
    ASSERT_REWRITE("surel queue flush -i ID", "postqueue", "-i", "ID");
    ASSERT_REWRITE("ERROR: postqueue: option -x is not supported by surel", "postqueue",
                   "-x");
    ASSERT_REWRITE("ERROR: usage: postqueue [-c config_dir] -f | -i ID | -j | -p | -s site",
                   "postqueue");
}
END_TEST

START_TEST(test_postsuper)
{
    ASSERT_REWRITE("surel queue delete ALL deferred", "postsuper", "-d", "ALL", "deferred");
    ASSERT_REWRITE("surel queue hold ABC", "postsuper", "-h", "ABC");
    ASSERT_REWRITE("surel queue release ABC", "postsuper", "-H", "ABC");
    ASSERT_REWRITE("surel queue requeue ALL", "postsuper", "-r", "ALL");
    ASSERT_REWRITE("surel -c /c queue delete -", "postsuper", "-c", "/c", "-d", "-");
    ASSERT_REWRITE("surel queue expire ABC", "postsuper", "-e", "ABC");
    ASSERT_REWRITE("surel queue delete A B deferred", "postsuper", "-d", "A", "-d", "B",
                   "deferred");
    ASSERT_REWRITE("ERROR: postsuper: ALL must be the only queue ID of the call",
                   "postsuper", "-d", "A", "-d", "ALL");
    ASSERT_REWRITE("surel queue expire-release ALL hold", "postsuper", "-f", "ALL", "hold");
    ASSERT_REWRITE("ERROR: postsuper: surel takes one of -d, -e, -f, -h, -H, -r per call",
                   "postsuper", "-d", "A", "-h", "B");
    ASSERT_REWRITE("ERROR: postsuper: option -d needs an argument", "postsuper", "-d");
    /* -s and -p, alone, together, or implied by no option at all. */
    ASSERT_REWRITE("surel queue repair -s", "postsuper", "-s");
    ASSERT_REWRITE("surel queue repair -p deferred", "postsuper", "-p", "deferred");
    ASSERT_REWRITE("surel queue repair -s -p", "postsuper", "-sp");
    ASSERT_REWRITE("surel -c /c queue repair", "postsuper", "-c", "/c");
    ASSERT_REWRITE("ERROR: postsuper: surel runs -s and -p in a call of their own "
                   "(before -d, -e, -f, -h, -H or -r, as Postfix orders them)",
                   "postsuper", "-s", "-d", "A");
    ASSERT_REWRITE("ERROR: postsuper: option -S is not supported by surel", "postsuper", "-S");
}
END_TEST

START_TEST(test_postcat)
{
    ASSERT_REWRITE("surel queue show ABC", "postcat", "-q", "ABC");
    ASSERT_REWRITE("surel queue show -h ABC", "postcat", "-hq", "ABC");
    ASSERT_REWRITE("surel queue show -b ABC", "postcat", "-b", "-q", "ABC");
    ASSERT_REWRITE("surel -c /c queue show -e ABC", "postcat", "-c", "/c", "-e", "-q", "ABC");
    {
        char   *got = rewrite("postcat", "/var/spool/x", NULL);

        ck_assert_msg(strncmp(got, "ERROR: usage", 12) == 0, "a file operand: %s", got);
        xfree(got);
    }
}
END_TEST

START_TEST(test_postfix)
{
    ASSERT_REWRITE("surel start", "postfix", "start");
    ASSERT_REWRITE("surel start -f", "postfix", "start-fg");
    ASSERT_REWRITE("surel -c /c stop", "postfix", "-c", "/c", "stop");
    ASSERT_REWRITE("surel reload", "postfix", "reload");
    ASSERT_REWRITE("surel check", "postfix", "check");
    ASSERT_REWRITE("surel status", "postfix", "status");
    ASSERT_REWRITE("surel queue flush", "postfix", "flush");
    ASSERT_REWRITE("surel -c /c check -f", "postfix", "-c", "/c", "set-permissions");
    ASSERT_REWRITE("ERROR: postfix: command upgrade-configuration is not supported by surel",
                   "postfix", "upgrade-configuration");
    ASSERT_REWRITE("surel -c /c logrotate", "postfix", "-c", "/c", "logrotate");
}
END_TEST

START_TEST(test_postlog)
{
    ASSERT_REWRITE("surel log -- hello world", "postlog", "hello", "world");
    ASSERT_REWRITE("surel -c /c log -p warn -t a/b -- -x", "postlog", "-i", "-c", "/c",
                   "-p", "warn", "-t", "a/b", "-v", "--", "-x");
    ASSERT_REWRITE("ERROR: postlog: option -z is not supported by surel", "postlog", "-z");
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("admin_postfix");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_postconf);
    tcase_add_test(tc, test_postmap_postalias);
    tcase_add_test(tc, test_postqueue);
    tcase_add_test(tc, test_postsuper);
    tcase_add_test(tc, test_postcat);
    tcase_add_test(tc, test_postfix);
    tcase_add_test(tc, test_postlog);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
