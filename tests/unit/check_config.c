/* check_config - main.cf syntax, expansion, types, defaults, warnings, lists. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "testsupport.h"

/* parse - parse text that must be good */
static void parse(const char *text)
{
    BUF    *why = buf_alloc(100);

    config_reset();
    ck_assert_msg(config_parse_text(text, strlen(text), why) == 0,
                  "parse failed: %s\ntext: %s", buf_str(why), text);
    buf_free(why);
}

/* expand - config_expand() that must succeed; the result is static */
static const char *expand(const char *text)
{
    static BUF *out;
    BUF    *why = buf_alloc(100);

    if (out == NULL)
        out = buf_alloc(100);
    ck_assert_msg(config_expand(text, out, why) == 0, "expand \"%s\": %s", text, buf_str(why));
    buf_free(why);
    return buf_str(out);
}

/* expand_error - config_expand() that must fail; returns the reason (static) */
static const char *expand_error(const char *text)
{
    static BUF *why;
    BUF    *out = buf_alloc(100);

    if (why == NULL)
        why = buf_alloc(100);
    ck_assert_msg(config_expand(text, out, why) == -1, "expand \"%s\" gave \"%s\"",
                  text, buf_str(out));
    buf_free(out);
    return buf_str(why);
}

/* Captured stderr of a forked child that must die with msg_fatal(). */
static char fatal_text[4096];

/* expect_fatal - run fn in a child; it must exit 1 saying needle on stderr */
static void expect_fatal(void (*fn)(void), const char *needle)
{
    int     fds[2];
    pid_t   pid;
    int     status;
    ssize_t n;
    size_t  used = 0;

    ck_assert_int_eq(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn();
        _exit(0);
    }
    close(fds[1]);
    while (used < sizeof(fatal_text) - 1
           && (n = read(fds[0], fatal_text + used, sizeof(fatal_text) - 1 - used)) > 0)
        used += (size_t) n;
    fatal_text[used] = 0;
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
                  "expected exit 1, status 0x%x, stderr: %s", status, fatal_text);
    ck_assert_msg(strstr(fatal_text, "fatal: ") != NULL, "no fatal line: %s", fatal_text);
    ck_assert_msg(strstr(fatal_text, needle) != NULL, "\"%s\" not in: %s", needle, fatal_text);
}

/* Stderr capture for warnings, in this process. */
static int saved_stderr = -1;
static char *capture_path;

static void capture_begin(void)
{
    int     fd;

    char   *dir = ts_tempdir();

    capture_path = ts_path(dir, "stderr");
    xfree(dir);
    fd = open(capture_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

static char *capture_end(void)
{
    char   *text;

    dup2(saved_stderr, 2);
    close(saved_stderr);
    text = ts_read_file(capture_path, NULL);
    xfree(capture_path);
    capture_path = NULL;
    return text;
}

/* ------------------------------------------------------------------------- */

START_TEST(test_syntax_continuation_comments)
{
    int     n;
    char  **list;

    parse("# leading comment\n"
          "mydestination = a.example,\n"
          "    b.example\n"
          "  # an indented comment inside the logical line is skipped\n"
          "\n"
          "\tc.example   \n"
          "relayhost=[mx.example]:587\n"
          "smtpd_banner   =   $myhostname  # not a comment here  \n");
    ck_assert_str_eq(config_raw("relayhost"), "[mx.example]:587");
    /* '#' starts a comment only at the start of a line. */
    ck_assert_str_eq(config_raw("smtpd_banner"), "$myhostname  # not a comment here");
    list = config_split_list(config_str(P_mydestination), &n);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(list[0], "a.example");
    ck_assert_str_eq(list[1], "b.example");
    ck_assert_str_eq(list[2], "c.example");
    config_free_list(list);
}
END_TEST

START_TEST(test_syntax_last_wins_and_crlf)
{
    parse("relayhost = first\r\nmail_name = x\r\nrelayhost = second\r\n");
    ck_assert_str_eq(config_str(P_relayhost), "second");
    ck_assert_str_eq(config_str(P_mail_name), "x");
    parse("relayhost =\n");             /* an explicitly empty value */
    ck_assert_int_eq(config_is_set("relayhost"), 1);
    ck_assert_str_eq(config_str(P_relayhost), "");
}
END_TEST

static const struct {
    const char *text;
    const char *why;                /* substring of the error */
} syntax_errors[] = {
    {"a = b\n\nno equals sign here\n", "line 3: missing '='"},
    {"a = b\n= value\n", "line 2: missing parameter name"},
    {"a = b\nbad-name = x\n", "line 2: bad parameter name"},
    {"  indented = first\n", "line 1: continuation line"},
    {"# c\nmail_name = x\nmulti\n  line\n", "line 3: missing '='"},
};

START_TEST(test_syntax_errors_name_line)
{
    BUF    *why = buf_alloc(100);
    const char *text = syntax_errors[_i].text;

    config_reset();
    config_set("relayhost", "kept");
    ck_assert_int_eq(config_parse_text(text, strlen(text), why), -1);
    ck_assert_msg(strstr(buf_str(why), syntax_errors[_i].why) != NULL,
                  "text %d: \"%s\" lacks \"%s\"", _i, buf_str(why), syntax_errors[_i].why);
    /* A bad text changes nothing, not even its good lines. */
    ck_assert_int_eq(config_is_set("a"), 0);
    ck_assert_str_eq(config_raw("relayhost"), "kept");
    buf_free(why);
}
END_TEST

START_TEST(test_read_file_names_file)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "main.cf");
    BUF    *why = buf_alloc(100);

    config_reset();
    ts_write_file(path, "mail_name = ok\n\noops\n");
    ck_assert_int_eq(config_read_file(path, why), -1);
    ck_assert_msg(strstr(buf_str(why), path) && strstr(buf_str(why), "line 3: missing '='"),
                  "why: %s", buf_str(why));
    ck_assert_int_eq(config_read_file("/nonexistent/main.cf", why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "open /nonexistent/main.cf"));
    buf_free(why);
    xfree(path);
    xfree(dir);
}
END_TEST

START_TEST(test_parse_rejects_nul)
{
    BUF    *why = buf_alloc(100);
    static const char text[] = "a = b\nc = d\0e\n";

    config_reset();
    ck_assert_int_eq(config_parse_text(text, sizeof(text) - 1, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "line 2: NUL"));
    buf_free(why);
}
END_TEST

/* ------------------------------------------------------------------------- */

static const struct {
    const char *in;
    const char *out;
} expansions[] = {
    {"$full", "yes"},
    {"${full}", "yes"},
    {"$(full)", "yes"},
    {"<$full>", "<yes>"},
    {"$full.$full", "yes.yes"},
    {"$full_x", ""},                /* the name is the longest [A-Za-z0-9_] run */
    {"${full}_x", "yes_x"},
    {"$undefined", ""},
    {"${full?set}", "set"},
    {"${empty?set}", ""},
    {"${undefined?set}", ""},
    {"${full:unset}", ""},
    {"${empty:unset}", "unset"},
    {"${undefined:unset}", "unset"},
    {"${full?$other}", "other-value"},
    {"${full?{text with spaces}}", "text with spaces"},
    {"${empty:{ braced }}", "braced"},
    {"${full?{t}:{f}}", "t"},
    {"${empty?{t}:{f}}", "f"},
    {"$(full?a b)", "a b"},
    {"$$", "$"},
    {"$$full", "$full"},
    {"a$$$full", "a$yes"},
    {"$chain", "yes/other-value"},
    {"${full?${empty:x}}", "x"},
    {"no dollars", "no dollars"},
    {"", ""},
};

START_TEST(test_expand_forms)
{
    parse("full = yes\nempty =\nother = other-value\nchain = $full/${other}\n");
    ck_assert_msg(strcmp(expand(expansions[_i].in), expansions[_i].out) == 0,
                  "\"%s\" expanded to \"%s\", want \"%s\"", expansions[_i].in,
                  expand(expansions[_i].in), expansions[_i].out);
}
END_TEST

static const struct {
    const char *in;
    const char *why;
} expand_errors[] = {
    {"cost: 5$", "empty macro name"},
    {"$-x", "empty macro name"},
    {"${}", "empty macro name"},
    {"${full", "truncated macro reference"},
    {"$(full", "truncated macro reference"},
    {"${full!x}", "bad macro reference"},
    {"$a", "recursive definition"},
    {"$self", "recursive definition"},
    {"${a?x}", "recursive definition"},
};

START_TEST(test_expand_errors)
{
    const char *why;

    parse("full = yes\na = $b\nb = x${c}\nc = $a\nself = <$self>\n");
    why = expand_error(expand_errors[_i].in);
    ck_assert_msg(strstr(why, expand_errors[_i].why) != NULL, "\"%s\": \"%s\" lacks \"%s\"",
                  expand_errors[_i].in, why, expand_errors[_i].why);
}
END_TEST

START_TEST(test_expand_deep_chain_stops)
{
    BUF    *text = buf_alloc(1000);
    int     i;

    /* p0 = $p1, p1 = $p2, ... p4999 = end: no cycle, but too deep. */
    for (i = 0; i < 5000; i++)
        buf_printf(text, "p%d = $p%d\n", i, i + 1);
    buf_printf(text, "p5000 = end\nshort0 = $short1\nshort1 = $short2\nshort2 = end\n");
    config_reset();
    ck_assert_int_eq(config_parse_text(buf_str(text), buf_len(text), NULL), 0);
    ck_assert_ptr_nonnull(strstr(expand_error("$p0"), "nested too deeply"));
    ck_assert_str_eq(expand("$short0"), "end");
    buf_free(text);
}
END_TEST

START_TEST(test_expand_exponential_stops)
{
    BUF    *text = buf_alloc(1000);
    int     i;

    /* e0 doubles 40 times: 2^40 bytes unless bounded. */
    for (i = 0; i < 40; i++)
        buf_printf(text, "e%d = $e%d$e%d\n", i, i + 1, i + 1);
    buf_printf(text, "e40 = xx\n");
    config_reset();
    ck_assert_int_eq(config_parse_text(buf_str(text), buf_len(text), NULL), 0);
    ck_assert_ptr_nonnull(strstr(expand_error("$e0"), "longer than"));
    ck_assert_str_eq(expand("$e39"), "xxxx");
    ck_assert_str_eq(expand("$e38"), "xxxxxxxx");
    buf_free(text);
}
END_TEST

START_TEST(test_raw_parameters_are_not_expanded)
{
    parse("recipient_delimiter = +\nmailbox_command = /usr/bin/deliver -u \"$USER\" $$x\n"
          "home = not-a-parameter\n");
    ck_assert_str_eq(config_str(P_forward_path),
                     "$home/.forward${recipient_delimiter}${extension}, $home/.forward");
    ck_assert_str_eq(config_str(P_mailbox_command), "/usr/bin/deliver -u \"$USER\" $$x");
    ck_assert_str_eq(config_str(P_luser_relay), "");
    /* Names that only RAW values mention are still unknown to main.cf. */
    ck_assert_int_eq(config_known("home", NULL, 0), 0);
    ck_assert_int_eq(config_known("recipient_delimiter", NULL, 0), 1);
}
END_TEST

static void recursive_table_param(void)
{
    parse("myorigin = $mydomain\nmyhostname = x.$myorigin\n");
    (void) config_str(P_mydomain);
}

START_TEST(test_recursion_in_getter_is_fatal)
{
    expect_fatal(recursive_table_param, "recursive definition");
}
END_TEST

START_TEST(test_values_are_cached_and_refreshed)
{
    const char *first;

    parse("mail_name = one\nsmtpd_banner = $mail_name banner\n");
    first = config_str(P_smtpd_banner);
    ck_assert_str_eq(first, "one banner");
    ck_assert_ptr_eq(config_str(P_smtpd_banner), first);        /* cached */
    config_set("mail_name", "two");
    ck_assert_str_eq(config_str(P_smtpd_banner), "two banner");
    ck_assert_str_eq(first, "one banner");      /* old pointers stay valid */
}
END_TEST

/* ------------------------------------------------------------------------- */

START_TEST(test_overrides_win_and_expand)
{
    BUF    *why = buf_alloc(100);

    parse("myhostname = file.example\nmyorigin = $myhostname\nmail_name = file\n");
    ck_assert_str_eq(config_str(P_myorigin), "file.example");
    ck_assert_int_eq(config_override_arg("myhostname = over.example", why), 0);
    config_override("mail_name", "over");
    ck_assert_str_eq(config_str(P_myorigin), "over.example");
    ck_assert_str_eq(config_str(P_mail_name), "over");
    config_set("mail_name", "file again");              /* main.cf never beats -o */
    ck_assert_str_eq(config_str(P_mail_name), "over");
    ck_assert_str_eq(config_raw("mail_name"), "over");
    ck_assert_int_eq(config_override_arg("no_equals", why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "missing '='"));
    ck_assert_int_eq(config_override_arg("bad name=x", why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "bad parameter name"));
    ck_assert_int_eq(config_override_arg("=x", why), -1);
    buf_free(why);
}
END_TEST

/* ------------------------------------------------------------------------- */

START_TEST(test_int_values_and_bounds)
{
    parse("message_size_limit = 1000\nsmtpd_recipient_limit = 1\n"
          "default_process_limit = 100000\nsize = 5000\n");
    ck_assert_int_eq(config_int(P_message_size_limit), 1000);
    ck_assert_int_eq(config_int(P_smtpd_recipient_limit), 1);  /* min is allowed */
    ck_assert_int_eq(config_int(P_default_process_limit), 100000);     /* max too */
    ck_assert_int_eq(config_int(P_header_size_limit), 102400); /* default */
    config_set("message_size_limit", "$size");
    ck_assert_int_eq(config_int(P_message_size_limit), 5000);  /* expanded first */
}
END_TEST

static void int_not_number(void)
{
    parse("message_size_limit = 10MB\n");
    (void) config_int(P_message_size_limit);
}

static void int_below_min(void)
{
    parse("smtpd_recipient_limit = 0\n");
    (void) config_int(P_smtpd_recipient_limit);
}

static void int_above_max(void)
{
    parse("hash_queue_depth = 5\n");
    (void) config_int(P_hash_queue_depth);
}

static void int_negative(void)
{
    parse("message_size_limit = -1\n");
    (void) config_int(P_message_size_limit);
}

static void int_overflow(void)
{
    parse("message_size_limit = 99999999999999999999999\n");
    (void) config_int(P_message_size_limit);
}

START_TEST(test_int_bad_values_are_fatal)
{
    expect_fatal(int_not_number, "message_size_limit = 10MB");
    expect_fatal(int_below_min, "smtpd_recipient_limit");
    expect_fatal(int_above_max, "hash_queue_depth parameter value 5");
    expect_fatal(int_negative, "message_size_limit");
    expect_fatal(int_overflow, "99999999999999999999999");
}
END_TEST

START_TEST(test_bool_values)
{
    static const struct {
        const char *text;
        int     status;
        int     value;
    } cases[] = {
        {"yes", 0, 1}, {"YES", 0, 1}, {"Yes", 0, 1}, {"no", 0, 0}, {"No", 0, 0},
        {"true", -1, 0}, {"1", -1, 0}, {"", -1, 0}, {"yes ", -1, 0}, {"y", -1, 0},
    };
    size_t  i;
    int     v;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = -7;
        ck_assert_msg(config_parse_bool(cases[i].text, &v) == cases[i].status,
                      "\"%s\"", cases[i].text);
        if (cases[i].status == 0)
            ck_assert_int_eq(v, cases[i].value);
    }
    parse("soft_bounce = YES\nsmtpd_delay_reject = no\n");
    ck_assert_int_eq(config_bool(P_soft_bounce), 1);
    ck_assert_int_eq(config_bool(P_smtpd_delay_reject), 0);
    ck_assert_int_eq(config_bool(P_smtputf8_enable), 1);        /* default yes */
}
END_TEST

static void bool_bad(void)
{
    parse("soft_bounce = true\n");
    (void) config_bool(P_soft_bounce);
}

START_TEST(test_bool_bad_is_fatal)
{
    expect_fatal(bool_bad, "bad boolean configuration: soft_bounce = true");
}
END_TEST

START_TEST(test_time_units)
{
    static const struct {
        const char *text;
        char    unit;
        int     status;
        long    seconds;
    } cases[] = {
        {"10", 's', 0, 10}, {"10s", 'd', 0, 10}, {"2m", 's', 0, 120}, {"3h", 's', 0, 10800},
        {"5d", 's', 0, 432000}, {"1w", 's', 0, 604800}, {"3", 'd', 0, 259200},
        {"3", 'h', 0, 10800}, {"0", 's', 0, 0}, {"", 's', -1, 0}, {"m", 's', -1, 0},
        {"5x", 's', -1, 0}, {"5ms", 's', -1, 0}, {"-5", 's', -1, 0}, {" 5", 's', -1, 0},
        {"5 s", 's', -1, 0}, {"99999999999999999999w", 's', -1, 0},
        {"9223372036854775807w", 's', -1, 0},
    };
    size_t  i;
    long    secs;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        secs = -7;
        ck_assert_msg(config_parse_time(cases[i].text, cases[i].unit, &secs) == cases[i].status,
                      "\"%s\"", cases[i].text);
        if (cases[i].status == 0)
            ck_assert_msg(secs == cases[i].seconds, "\"%s\": %ld", cases[i].text, secs);
    }
}
END_TEST

START_TEST(test_time_parameters)
{
    parse("maximal_queue_lifetime = 2\nqueue_run_delay = 2m\ndelay_warning_time = 4\n"
          "max_idle = 86400\n");
    ck_assert_int_eq(config_time(P_maximal_queue_lifetime), 2 * 86400);    /* default 5d */
    ck_assert_int_eq(config_time(P_queue_run_delay), 120);
    ck_assert_int_eq(config_time(P_delay_warning_time), 4 * 3600);         /* default 0h */
    ck_assert_int_eq(config_time(P_max_idle), 86400);                      /* max */
    ck_assert_int_eq(config_time(P_minimal_backoff_time), 300);            /* default */
}
END_TEST

static void time_above_max(void)
{
    parse("max_idle = 2d\n");
    (void) config_time(P_max_idle);
}

static void time_bad_unit(void)
{
    parse("queue_run_delay = 5y\n");
    (void) config_time(P_queue_run_delay);
}

static void time_below_min(void)
{
    parse("queue_run_delay = 0\n");
    (void) config_time(P_queue_run_delay);
}

START_TEST(test_time_bad_values_are_fatal)
{
    expect_fatal(time_above_max, "max_idle");
    expect_fatal(time_bad_unit, "queue_run_delay: bad time value or unit: 5y");
    expect_fatal(time_below_min, "queue_run_delay");
}
END_TEST

START_TEST(test_validate)
{
    BUF    *why = buf_alloc(100);

    parse("soft_bounce = yes\nmessage_size_limit = 5\nmy_own = $my_own\n");
    ck_assert_int_eq(config_validate(why), -1);         /* my_own recurses */
    ck_assert_ptr_nonnull(strstr(buf_str(why), "my_own"));
    parse("soft_bounce = maybe\n");
    ck_assert_int_eq(config_validate(why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "soft_bounce = maybe"));
    parse("soft_bounce = yes\nmessage_size_limit = 5\n");
    ck_assert_int_eq(config_validate(why), 0);
    buf_free(why);
}
END_TEST

static void wrong_type_getter(void)
{
    config_reset();
    (void) config_int(P_myorigin);
}

START_TEST(test_wrong_type_getter_panics)
{
    int     fds[2];
    pid_t   pid;
    int     status;

    ck_assert_int_eq(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        dup2(fds[1], 2);
        wrong_type_getter();
        _exit(0);
    }
    close(fds[1]);
    close(fds[0]);
    waitpid(pid, &status, 0);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}
END_TEST

/* ------------------------------------------------------------------------- */

START_TEST(test_service_specific_ints)
{
    parse("smtp_destination_concurrency_limit = 7\n"
          "default_destination_concurrency_limit = 9\n");
    ck_assert_int_eq(config_int_for("smtp", P_default_destination_concurrency_limit), 7);
    ck_assert_int_eq(config_int_for("relay", P_default_destination_concurrency_limit), 9);
    /* local_* is in the table with its own default (2), as in Postfix. */
    ck_assert_int_eq(config_int_for("local", P_default_destination_concurrency_limit), 2);
    ck_assert_int_eq(config_int_for("local", P_default_destination_recipient_limit), 1);
    ck_assert_int_eq(config_int_for("smtp", P_default_destination_recipient_limit), 50);
    config_set("smtp_max_use", "3");
    ck_assert_int_eq(config_int_for("smtp", P_max_use), 3);
    ck_assert_str_eq(config_lookup("smtp_destination_concurrency_limit"), "7");
    ck_assert_ptr_null(config_lookup("lmtp_destination_concurrency_limit"));
    ck_assert_str_eq(config_lookup("mail_name"), "surel");     /* table default */
}
END_TEST

static void service_int_bad(void)
{
    parse("smtp_destination_concurrency_limit = 0\n");
    (void) config_int_for("smtp", P_default_destination_concurrency_limit);
}

START_TEST(test_service_specific_bounds)
{
    expect_fatal(service_int_bad, "smtp_destination_concurrency_limit");
}
END_TEST

START_TEST(test_warn_unknown)
{
    static const char *const services[] = {"smtp", "relay", "local", "mytransport"};
    char   *text;
    int     n;

    parse("mail_name = x\n"
          "misspeled_parameter = 1\n"
          "relay_destination_recipient_limit = 5\n"
          "local_destination_concurrency_limit = 1\n"
          "mytransport_destination_concurrency_limit = 3\n"
          "smtp_max_use = 4\n"
          "nosuchservice_destination_concurrency_limit = 3\n"
          "my_maps = lmdb:/etc/x\n"
          "alias_maps = $my_maps\n"
          "also_used = y\n"
          "mydestination = ${also_used?z}\n");
    config_override("override_only", "1");       /* -o names are not main.cf's */
    msg_init("check_config", MSG_TO_STDERR);
    capture_begin();
    n = config_warn_unknown(services, 4);
    text = capture_end();
    ck_assert_int_eq(n, 2);
    ck_assert_msg(strstr(text, "warning: main.cf: unused parameter: misspeled_parameter=1")
                  != NULL, "stderr: %s", text);
    ck_assert_ptr_nonnull(strstr(text, "unused parameter: "
                                 "nosuchservice_destination_concurrency_limit=3"));
    ck_assert_ptr_null(strstr(text, "relay_destination"));
    ck_assert_ptr_null(strstr(text, "my_maps"));
    ck_assert_ptr_null(strstr(text, "also_used"));
    ck_assert_ptr_null(strstr(text, "override_only"));
    xfree(text);
    ck_assert_int_eq(config_known("mytransport_destination_concurrency_limit", services, 4), 1);
    ck_assert_int_eq(config_known("nosuchservice_destination_concurrency_limit", services, 4), 0);
    ck_assert_ptr_eq(config_service_param("relay_destination_recipient_limit", services, 4),
                     config_param_info(P_default_destination_recipient_limit));
    /* Postfix's transport_time_limit (pipe) */
    ck_assert_ptr_eq(config_service_param("relay_time_limit", services, 4),
                     config_param_info(P_command_time_limit));
    ck_assert_ptr_null(config_service_param("nosuchservice_time_limit", services, 4));
}
END_TEST

START_TEST(test_warn_unknown_names_file)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "main.cf");
    char   *text;
    BUF    *why = buf_alloc(100);

    config_reset();
    ts_write_file(path, "bogus = 1\n");
    ck_assert_int_eq(config_read_file(path, why), 0);
    msg_init("check_config", MSG_TO_STDERR);
    capture_begin();
    ck_assert_int_eq(config_warn_unknown(NULL, 0), 1);
    text = capture_end();
    ck_assert_msg(strstr(text, "warning: ") && strstr(text, path)
                  && strstr(text, ": unused parameter: bogus=1"), "stderr: %s", text);
    xfree(text);
    buf_free(why);
    xfree(path);
    xfree(dir);
}
END_TEST

/* issue 10: a parameter surel declares but does not implement (params.def
 * PARAM_UNIMPL) warns when set to a value surel does not behave as. */
START_TEST(test_warn_unimplemented)
{
    char   *text;
    int     security = -1;
    int     n;

    parse("mail_name = x\n"                          /* implemented: silent */
          "fallback_transport = relay:x\n"         /* WARN */
          "notify_classes = resource,software\n"     /* = as_if, as a list: silent */
          "biff = NO\n"                              /* = as_if, as a boolean: silent */
          "ipc_idle = 5\n"                           /* = 5s: silent */
          "empty =\n"
          "smtpd_tls_req_ccert = yes\n"             /* SECURITY */
          "content_filter = smtp:[127.0.0.1]:10025\n"   /* implemented: silent */
          "compatibility_level = 3.6\n");            /* Debian's: silent */
    config_override("smtpd_tls_ask_ccert", "yes");   /* -o counts too */
    msg_init("check_config", MSG_TO_STDERR);
    capture_begin();
    n = config_warn_unimplemented("main.cf", &security);
    text = capture_end();
    ck_assert_msg(n == 3, "warned %d: %s", n, text);
    ck_assert_int_eq(security, 1);
    ck_assert_msg(strstr(text, "warning: main.cf: parameter fallback_transport is not "
                         "implemented and is ignored") != NULL, "stderr: %s", text);
    ck_assert_ptr_nonnull(strstr(text, "parameter smtpd_tls_ask_ccert is not implemented"));
    ck_assert_ptr_nonnull(strstr(text, "parameter smtpd_tls_req_ccert is not "
                                 "implemented and is ignored: SECURITY"));
    ck_assert_ptr_null(strstr(text, "content_filter"));
    ck_assert_ptr_null(strstr(text, "notify_classes"));
    ck_assert_ptr_null(strstr(text, "biff"));
    ck_assert_ptr_null(strstr(text, "ipc_idle"));
    ck_assert_ptr_null(strstr(text, "compatibility_level"));
    ck_assert_ptr_null(strstr(text, "mail_name"));
    xfree(text);

    ck_assert_int_eq(config_ignored_value("fallback_transport", "$empty"),
                     PARAM_IMPL_YES);                  /* expands to the default */
    ck_assert_int_eq(config_ignored_value("fallback_transport", "x"), PARAM_IMPL_WARN);
    ck_assert_int_eq(config_ignored_value("mail_name", "x"), PARAM_IMPL_YES);
    ck_assert_int_eq(config_ignored_value("no_such_name", "x"), PARAM_IMPL_YES);

    capture_begin();
    ck_assert_int_eq(config_warn_unimplemented_arg("master.cf line 3: service submission",
                                                   "smtpd_tls_req_ccert=yes"),
                     PARAM_IMPL_SECURITY);
    ck_assert_int_eq(config_warn_unimplemented_arg("x", "mail_name=y"), PARAM_IMPL_YES);
    ck_assert_int_eq(config_warn_unimplemented_arg("x", "biff=no"),
                     PARAM_IMPL_YES);
    text = capture_end();
    ck_assert_msg(strstr(text, "warning: master.cf line 3: service submission: parameter "
                         "smtpd_tls_req_ccert is not implemented") != NULL,
                  "stderr: %s", text);
    ck_assert_ptr_null(strstr(text, "mail_name"));
    ck_assert_ptr_null(strstr(text, "biff"));
    xfree(text);
}
END_TEST

/* Debian's main.cf (main.cf.debian, main.cf.tls) and its post-install
 * questions: everything it sets is known; nothing there warns except what
 * surel ignores and the administrator relies on. */
START_TEST(test_debian_main_cf_parameters)
{
    char   *text;
    int     security = -1;
    int     n;

    parse("smtpd_banner = $myhostname ESMTP $mail_name (Debian/GNU)\n"
          "biff = no\n"
          "append_dot_mydomain = no\n"
          "readme_directory = no\n"
          "compatibility_level = 3.6\n"
          "smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem\n"
          "smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key\n"
          "smtpd_tls_security_level=may\n"
          "smtp_tls_security_level=may\n"
          "smtp_tls_CApath=/etc/ssl/certs\n"
          "smtp_tls_session_cache_database = btree:${data_directory}/smtp_scache\n"
          "smtpd_tls_session_cache_database = btree:${data_directory}/smtpd_scache\n"
          "smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated "
          "defer_unauth_destination\n"
          "mailbox_size_limit = 0\n"
          "recipient_delimiter = +\n"
          "inet_interfaces = all\n"
          "inet_protocols = all\n"
          "html_directory = /usr/share/doc/postfix/html\n");
    msg_init("check_config", MSG_TO_STDERR);
    capture_begin();
    n = config_warn_unimplemented("main.cf", &security);
    text = capture_end();
    ck_assert_msg(n == 0 && security == 0, "warned %d: %s", n, text);
    xfree(text);

    /* What the guides add: loud where ignoring it weakens security. */
    parse("biff = yes\n"
          "smtpd_tls_req_ccert = yes\n"
          "smtpd_tls_ask_ccert = no\n"                  /* Postfix's default */
          "content_filter = amavis:[127.0.0.1]:10024\n"  /* implemented: silent */
          "smtpd_tls_auth_only = yes\n");               /* no AUTH at all: moot */
    capture_begin();
    n = config_warn_unimplemented("main.cf", &security);
    text = capture_end();
    ck_assert_msg(n == 2 && security == 1, "warned %d (security %d): %s", n, security, text);
    ck_assert_ptr_nonnull(strstr(text, "parameter biff is not implemented and is ignored ("));
    ck_assert_ptr_nonnull(strstr(text, "parameter smtpd_tls_req_ccert is not implemented and "
                                 "is ignored: SECURITY"));
    ck_assert_ptr_null(strstr(text, "content_filter"));
    ck_assert_ptr_null(strstr(text, "ask_ccert"));
    ck_assert_ptr_null(strstr(text, "auth_only"));
    xfree(text);
}
END_TEST

/* Postfix's obsolete smtpd_use_tls / smtpd_enforce_tls still mean what they
 * did when smtpd_tls_security_level is not set. */
START_TEST(test_obsolete_tls_switches)
{
    parse("");
    ck_assert_str_eq(config_str(P_smtpd_tls_security_level), "");
    parse("smtpd_use_tls = yes\n");
    ck_assert_str_eq(config_str(P_smtpd_tls_security_level), "may");
    parse("smtpd_use_tls = yes\nsmtpd_enforce_tls = yes\n");
    ck_assert_str_eq(config_str(P_smtpd_tls_security_level), "encrypt");
    parse("smtpd_enforce_tls = yes\nsmtpd_tls_security_level = may\n");
    ck_assert_str_eq(config_str(P_smtpd_tls_security_level), "may");
}
END_TEST

/* issue 13: myorigin = /etc/mailname (Debian's installer) is the first
 * line of that file, as in Debian's Postfix, not a domain "/etc/mailname". */
START_TEST(test_myorigin_from_file)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "mailname");
    char   *missing = ts_path(dir, "missing");
    char   *empty = ts_path(dir, "empty");
    BUF    *text = buf_alloc(100);
    BUF    *why = buf_alloc(100);

    ts_write_file(path, "  mail.example.org \nsecond.example\n");
    buf_sprintf(text, "mf = %s\nmyorigin = $mf\nmasquerade_domains = x.$myorigin\n", path);
    parse(buf_str(text));
    ck_assert_str_eq(config_str(P_myorigin), "mail.example.org");
    ck_assert_str_eq(config_str(P_masquerade_domains), "x.mail.example.org");
    /* Read once: after a chroot hides the file, a stale cache still has it. */
    ck_assert_int_eq(unlink(path), 0);
    config_override("mail_name", "changed");
    ck_assert_str_eq(config_str(P_myorigin), "mail.example.org");

    buf_sprintf(text, "myorigin = %s\n", missing);
    parse(buf_str(text));
    ck_assert_int_eq(config_validate(why), -1);
    ck_assert_msg(strstr(buf_str(why), "parameter myorigin: cannot read") != NULL
                  && strstr(buf_str(why), missing) != NULL, "why: %s", buf_str(why));

    ts_write_file(empty, "\n");
    buf_sprintf(text, "myorigin = %s\n", empty);
    parse(buf_str(text));
    ck_assert_int_eq(config_validate(why), -1);
    ck_assert_msg(strstr(buf_str(why), "first line is empty") != NULL, "why: %s", buf_str(why));

    /* Other parameters keep a leading / as written (mydestination's files
     * are match_list's: check_match_list). */
    parse("myorigin = example.net\nmail_name = /not/a/file\n");
    ck_assert_str_eq(config_str(P_myorigin), "example.net");
    ck_assert_str_eq(config_str(P_mail_name), "/not/a/file");
    buf_free(text);
    buf_free(why);
    xfree(path);
    xfree(missing);
    xfree(empty);
    xfree(dir);
}
END_TEST

START_TEST(test_warn_old_compatibility_level)
{
    char   *text;

    parse("compatibility_level = 1\n");
    msg_init("check_config", MSG_TO_STDERR);
    capture_begin();
    ck_assert_int_eq(config_warn_unimplemented("main.cf", NULL), 1);
    text = capture_end();
    ck_assert_msg(strstr(text, "compatibility_level = 1 is not implemented") != NULL,
                  "stderr: %s", text);
    xfree(text);
}
END_TEST

/* ------------------------------------------------------------------------- */

START_TEST(test_computed_defaults)
{
    const char *host;
    const char *domain;
    char  **list;
    int     n;
    int     i;

    config_reset();
    host = config_str(P_myhostname);
    ck_assert_msg(strchr(host, '.') != NULL, "myhostname %s has no dot", host);
    domain = config_str(P_mydomain);
    ck_assert_str_eq(domain, strchr(host, '.') + 1);
    ck_assert_str_eq(config_str(P_myorigin), host);
    list = config_split_list(config_str(P_mynetworks), &n);
    ck_assert_int_ge(n, 3);
    ck_assert_str_eq(list[0], "127.0.0.0/8");
    ck_assert_str_eq(list[1], "[::ffff:127.0.0.0]/104");
    ck_assert_str_eq(list[2], "[::1]/128");
    for (i = 3; i < n; i++)
        ck_assert_msg((list[i][0] == '[' && strstr(list[i], "]/128"))
                      || strstr(list[i], "/32"), "host style item %s", list[i]);
    config_free_list(list);

    parse("myhostname = mail.example.com\n");
    ck_assert_str_eq(config_str(P_mydomain), "example.com");
    ck_assert_str_eq(config_str(P_mydestination),
                     "mail.example.com, localhost.example.com, localhost");
    parse("myhostname = single\n");
    ck_assert_str_eq(config_str(P_mydomain), "localdomain");
    parse("mydomain = set.example\n");
    ck_assert_str_eq(config_str(P_mydomain), "set.example");
}
END_TEST

START_TEST(test_mynetworks_styles)
{
    BUF    *why = buf_alloc(100);
    char  **list;
    int     n;
    int     i;

    parse("mynetworks_style = subnet\n");
    list = config_split_list(config_str(P_mynetworks), &n);
    ck_assert_int_ge(n, 3);
    ck_assert_str_eq(list[0], "127.0.0.0/8");
    for (i = 0; i < n; i++)
        ck_assert_msg(strchr(list[i], '/') != NULL, "subnet item %s", list[i]);
    config_free_list(list);
    parse("mynetworks_style = class\n");
    ck_assert_ptr_nonnull(strstr(config_str(P_mynetworks), "127.0.0.0/8"));
    parse("mynetworks = 10.0.0.0/8\nmynetworks_style = nonsense\n");
    ck_assert_str_eq(config_str(P_mynetworks), "10.0.0.0/8");   /* style unused */
    parse("mynetworks_style = nonsense\n");
    ck_assert_int_eq(config_validate(why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "mynetworks_style"));
    buf_free(why);
}
END_TEST

START_TEST(test_choose_dir_and_init)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "main.cf");
    char   *other = ts_tempdir();

    const char *builtin;

    unsetenv("MAIL_CONFIG");
    builtin = config_choose_dir(NULL);
    ck_assert_msg(builtin[0] == '/' && strstr(builtin, "surel"), "built-in %s", builtin);
    ck_assert_str_eq(config_choose_dir(""), builtin);
    setenv("MAIL_CONFIG", "", 1);                       /* empty is unset */
    ck_assert_str_eq(config_choose_dir(NULL), builtin);
    setenv("MAIL_CONFIG", other, 1);
    ck_assert_str_eq(config_choose_dir(NULL), other);
    ck_assert_str_eq(config_choose_dir(dir), dir);             /* -c wins */
    ts_write_file(path, "mail_name = from-file\n");
    config_reset();
    config_init(dir);
    ck_assert_str_eq(config_str(P_mail_name), "from-file");
    ck_assert_str_eq(config_str(P_config_directory), dir);
    config_reset();
    xfree(path);
    path = ts_path(other, "main.cf");
    ts_write_file(path, "mail_name = from-env\n");
    config_init(NULL);
    ck_assert_str_eq(config_str(P_mail_name), "from-env");
    ck_assert_str_eq(config_str(P_config_directory), other);
    config_reset();
    xfree(path);
    xfree(dir);
    xfree(other);
}
END_TEST

static void init_missing(void)
{
    config_reset();
    config_init("/nonexistent-surel-dir");
}

START_TEST(test_init_missing_is_fatal)
{
    expect_fatal(init_missing, "/nonexistent-surel-dir/main.cf");
}
END_TEST

/* ------------------------------------------------------------------------- */

static const struct {
    const char *text;
    int     count;
    const char *items[4];
} lists[] = {
    {"a, b c,,d", 4, {"a", "b", "c", "d"}},
    {"  ", 0, {NULL}},
    {"", 0, {NULL}},
    {"inline:{a=1, b=2}, x", 2, {"inline:{a=1, b=2}", "x"}},
    {"{ x y }, z", 2, {"x y", "z"}},
    {"check_policy_service { inet:127.0.0.1:9, timeout=10s }", 2,
     {"check_policy_service", "inet:127.0.0.1:9, timeout=10s"}},
    {"{}", 1, {""}},
    {"pcre:{{/a b/ x}}", 1, {"pcre:{{/a b/ x}}"}},
    {"{unbalanced, x", 1, {"{unbalanced, x"}},
    {"a}b, c", 2, {"a}b", "c"}},
    {"\ta\n\tb", 2, {"a", "b"}},
};

START_TEST(test_split_list)
{
    int     n = -1;
    char  **list = config_split_list(lists[_i].text, &n);
    int     i;

    ck_assert_msg(n == lists[_i].count, "\"%s\": %d items", lists[_i].text, n);
    for (i = 0; i < n; i++)
        ck_assert_msg(strcmp(list[i], lists[_i].items[i]) == 0, "\"%s\" item %d: \"%s\"",
                      lists[_i].text, i, list[i]);
    ck_assert_ptr_null(list[n]);
    config_free_list(list);
}
END_TEST

/* ------------------------------------------------------------------------- */

static void collect(const char *name, const char *raw, void *ctx)
{
    buf_printf((BUF *) ctx, "%s=%s;", name, raw);
}

START_TEST(test_table_and_each_set)
{
    BUF    *seen = buf_alloc(100);
    int     id;

    parse("zeta = 1\nalpha = 2\nmail_name = m\n");
    config_override("mail_name", "o");
    ck_assert_int_eq(config_each_set(collect, seen), 3);
    ck_assert_str_eq(buf_str(seen), "alpha=2;mail_name=o;zeta=1;");
    ck_assert_int_eq(config_is_set("alpha"), 1);
    ck_assert_int_eq(config_is_set("queue_directory"), 0);
    ck_assert_ptr_null(config_raw("nothing_here"));
    ck_assert_str_eq(config_raw("myorigin"), "$myhostname");
    ck_assert_ptr_eq(config_param_by_name("myorigin"), config_param_info(P_myorigin));
    ck_assert_ptr_null(config_param_by_name("zeta"));
    ck_assert_ptr_null(config_param_info(PARAM_COUNT));
    /* Every table entry is well formed and its default parses. */
    config_reset();
    for (id = 0; id < PARAM_COUNT; id++) {
        const PARAM_INFO *info = config_param_info((PARAM_ID) id);

        ck_assert_ptr_nonnull(info->doc);
        ck_assert_msg(info->max == 0 || info->max >= info->min, "%s bounds", info->name);
    }
    ck_assert_int_eq(config_validate(seen), 0);
    buf_free(seen);
}
END_TEST

static Suite *config_suite(void)
{
    Suite  *s = suite_create("config");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_syntax_continuation_comments);
    tcase_add_test(tc, test_syntax_last_wins_and_crlf);
    tcase_add_loop_test(tc, test_syntax_errors_name_line, 0,
                        sizeof(syntax_errors) / sizeof(syntax_errors[0]));
    tcase_add_test(tc, test_read_file_names_file);
    tcase_add_test(tc, test_parse_rejects_nul);
    tcase_add_loop_test(tc, test_expand_forms, 0, sizeof(expansions) / sizeof(expansions[0]));
    tcase_add_loop_test(tc, test_expand_errors, 0,
                        sizeof(expand_errors) / sizeof(expand_errors[0]));
    tcase_add_test(tc, test_expand_deep_chain_stops);
    tcase_add_test(tc, test_expand_exponential_stops);
    tcase_add_test(tc, test_recursion_in_getter_is_fatal);
    tcase_add_test(tc, test_raw_parameters_are_not_expanded);
    tcase_add_test(tc, test_values_are_cached_and_refreshed);
    tcase_add_test(tc, test_overrides_win_and_expand);
    tcase_add_test(tc, test_int_values_and_bounds);
    tcase_add_test(tc, test_int_bad_values_are_fatal);
    tcase_add_test(tc, test_bool_values);
    tcase_add_test(tc, test_bool_bad_is_fatal);
    tcase_add_test(tc, test_time_units);
    tcase_add_test(tc, test_time_parameters);
    tcase_add_test(tc, test_time_bad_values_are_fatal);
    tcase_add_test(tc, test_validate);
    tcase_add_test(tc, test_wrong_type_getter_panics);
    tcase_add_test(tc, test_service_specific_ints);
    tcase_add_test(tc, test_service_specific_bounds);
    tcase_add_test(tc, test_warn_unknown);
    tcase_add_test(tc, test_warn_unknown_names_file);
    tcase_add_test(tc, test_warn_unimplemented);
    tcase_add_test(tc, test_warn_old_compatibility_level);
    tcase_add_test(tc, test_debian_main_cf_parameters);
    tcase_add_test(tc, test_obsolete_tls_switches);
    tcase_add_test(tc, test_myorigin_from_file);
    tcase_add_test(tc, test_computed_defaults);
    tcase_add_test(tc, test_mynetworks_styles);
    tcase_add_test(tc, test_choose_dir_and_init);
    tcase_add_test(tc, test_init_missing_is_fatal);
    tcase_add_loop_test(tc, test_split_list, 0, sizeof(lists) / sizeof(lists[0]));
    tcase_add_test(tc, test_table_and_each_set);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ts_run_suite(config_suite());
}
