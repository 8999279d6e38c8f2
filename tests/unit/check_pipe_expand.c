/* check_pipe_expand - pipe's argv= macros and master.cf attributes. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "pipe.h"
#include "testsupport.h"

static const PIPE_RCPT_VARS rcpts[] = {
    {"a+x@d.test", "orig-a@d.test", "a+x", "a", "x", "d.test"},
    {"b@e.test", "b@e.test", "b", "b", "", "e.test"},
};

static const PIPE_VARS vars = {.sender = "s@x.test", .nexthop = "hop", .queue_id = "QID",
    .size = "123", .client_address = "192.0.2.1", .sasl_username = "", .nrcpt = 2,
.rcpt = rcpts};

/* join - the expansion of a template as one "|"-separated string */
static void expand(const char *const *tmpl, int n, BUF *out)
{
    BUF    *why = buf_alloc(16);
    char  **argv = pipe_expand_argv(n, (char **) tmpl, &vars, why);
    char  **p;

    ck_assert_msg(argv != NULL, "%s", buf_str(why));
    buf_reset(out);
    for (p = argv; *p; p++)
        buf_printf(out, "%s%s", p == argv ? "" : "|", *p);
    pipe_argv_free(argv);
    buf_free(why);
}

START_TEST(test_expand)
{
    static const struct {
        const char *tmpl[4];
        int     n;
        const char *want;
    } t[] = {
        {{"/bin/x", "-f", "${sender}"}, 3, "/bin/x|-f|s@x.test"},
        {{"$sender", "$(nexthop)", "${queue_id}-${size}"}, 3, "s@x.test|hop|QID-123"},
        {{"-d", "${recipient}"}, 2, "-d|a+x@d.test|b@e.test"},
        {{"${user}@${domain}", "${extension}"}, 2, "a@d.test|b@e.test|x|"},
        {{"${mailbox}", "${original_recipient}"}, 2, "a+x|b|orig-a@d.test|b@e.test"},
        {{"${client_address}", "[${sasl_username}]"}, 2, "192.0.2.1|[]"},
        {{"${sasl_username?has}", "${sasl_username:none}", "${sender?yes}"}, 3, "|none|yes"},
        {{"$$sender", "a$$"}, 2, "$sender|a$"},
        /* Debian's master.cf: uucp, bsmtp */
        {{"-a$sender", "$nexthop!rmail", "($recipient)"}, 3,
         "-as@x.test|hop!rmail|(a+x@d.test)|(b@e.test)"},
        {{"-t$nexthop", "-f$sender", "$recipient"}, 3, "-thop|-fs@x.test|a+x@d.test|b@e.test"},
        /* values are never split or interpreted */
        {{"x;${sender} y"}, 1, "x;s@x.test y"},
    };
    BUF    *out = buf_alloc(64);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        expand(t[i].tmpl, t[i].n, out);
        ck_assert_msg(strcmp(buf_str(out), t[i].want) == 0, "case %zu: got \"%s\", want \"%s\"",
                      i, buf_str(out), t[i].want);
    }
    buf_free(out);
}
END_TEST

START_TEST(test_check)
{
    static const struct {
        const char *arg;
        int     ok;
    } t[] = {
        {"${recipient}", 1}, {"$user", 1}, {"$(domain)", 1}, {"plain", 1}, {"$$", 1},
        {"${nosuch}", 0}, {"${recipient", 0}, {"$", 0}, {"${}", 0}, {"$(user}", 0},
    };
    BUF    *why = buf_alloc(16);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char   *argv[] = {(char *) t[i].arg, NULL};

        ck_assert_msg((pipe_expand_check(1, argv, why) == 0) == t[i].ok, "\"%s\": %s",
                      t[i].arg, buf_str(why));
    }
    buf_free(why);
}
END_TEST

START_TEST(test_attr)
{
    static const struct {
        const char *args[6];
        int     n;
        const char *why;            /* NULL: accepted */
    } t[] = {
        {{"user=nobody", "argv=/bin/cat", "-"}, 3, NULL},
        {{"flags=DRXhuqFOB.>", "user=nobody:nogroup", "size=100", "eol=\\r\\n",
          "argv=/bin/cat"}, 5, NULL},
        {{"user=root", "argv=/bin/cat"}, 2, "root privileges"},
        {{"user=nobody:root", "argv=/bin/cat"}, 2, "group id 0"},
        {{"user=no-such-user-x", "argv=/bin/cat"}, 2, "unknown user"},
        {{"argv=/bin/cat"}, 1, "missing user="},
        {{"user=nobody"}, 1, "missing argv="},
        {{"flags=Z", "user=nobody", "argv=/bin/cat"}, 3, "unknown flag"},
        {{"bogus=1", "user=nobody", "argv=/bin/cat"}, 3, "unknown attribute"},
        {{"size=x", "user=nobody", "argv=/bin/cat"}, 3, "bad size="},
        {{"user=nobody", "argv=/bin/echo", "${bad}"}, 3, "unknown macro"},
    };
    PIPE_ATTR attr;
    BUF    *why = buf_alloc(16);
    size_t  i;
    int     ret;

    config_set("mail_owner", "surel-no-such-owner");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        buf_reset(why);
        ret = pipe_attr_parse(t[i].n, (char **) t[i].args, &attr, why);
        if (t[i].why == NULL)
            ck_assert_msg(ret == 0, "case %zu: %s", i, buf_str(why));
        else
            ck_assert_msg(ret < 0 && strstr(buf_str(why), t[i].why), "case %zu: %d \"%s\"", i,
                          ret, buf_str(why));
        pipe_attr_free(&attr);
    }
    ck_assert_int_eq(pipe_attr_parse(5, (char **) t[1].args, &attr, why), 0);
    ck_assert_str_eq(attr.eol, "\r\n");
    ck_assert_int_eq(attr.size_limit, 100);
    ck_assert_int_eq(attr.argc, 1);
    ck_assert(attr.flags & PIPE_FLAG_QUOTE_FROM);
    pipe_attr_free(&attr);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("pipe_expand");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_expand);
    tcase_add_test(tc, test_check);
    tcase_add_test(tc, test_attr);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
