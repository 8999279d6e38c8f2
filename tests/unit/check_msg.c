/* check_msg - the logger: Postfix's line shape, severities, one line per event. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "testsupport.h"

/* log_to_file - a fresh log file for this test; its path */
static char *log_to_file(void)
{
    char   *path = ts_path(ts_tempdir(), "maillog");

    msg_init("smtpd", 0);
    ck_assert_int_eq(msg_set_logfile(path), 0);
    return path;
}

/* matches - POSIX extended regex match */
static int matches(const char *text, const char *pattern)
{
    regex_t re;
    int     ok;

    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE), 0);
    ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

START_TEST(test_file_lines_have_postfix_shape)
{
    char   *path = log_to_file();
    char   *text;

    msg_info("4Xk9B: client=host[192.0.2.1]");
    msg_warn("something %s", "odd");
    text = ts_read_file(path, NULL);
    ck_assert_msg(matches(text, "^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ "
                          "surel/smtpd\\[[0-9]+\\]: 4Xk9B: client=host\\[192\\.0\\.2\\.1\\]$"),
                  "bad info line: %s", text);
    ck_assert_msg(matches(text, "surel/smtpd\\[[0-9]+\\]: warning: something odd$"),
                  "bad warning line: %s", text);
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

/* issue 13: syslog_name is the prefix, as Postfix logs (pflogsumm, fail2ban). */
START_TEST(test_syslog_name_prefix)
{
    char   *path = log_to_file();
    char   *text;

    msg_set_name("postfix");
    msg_info("one");
    msg_set_name("postfix/submission");
    msg_info("two");
    msg_set_name("bad name:[x]");
    msg_info("three");
    msg_set_name("");
    msg_info("four");
    text = ts_read_file(path, NULL);
    ck_assert_msg(matches(text, " postfix/smtpd\\[[0-9]+\\]: one$"), "log: %s", text);
    ck_assert_msg(matches(text, " postfix/submission/smtpd\\[[0-9]+\\]: two$"), "log: %s", text);
    ck_assert_msg(matches(text, " bad_name__x_/smtpd\\[[0-9]+\\]: three$"), "log: %s", text);
    ck_assert_msg(matches(text, " smtpd\\[[0-9]+\\]: four$"), "log: %s", text);
    ck_assert_str_eq(msg_progname(), "smtpd");
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

START_TEST(test_newlines_cannot_forge_lines)
{
    char   *path = log_to_file();
    char   *text;
    size_t  i, lines = 0;

    msg_info("to=<a@b>\nFAKE: status=sent\r");
    text = ts_read_file(path, NULL);
    for (i = 0; text[i]; i++)
        lines += text[i] == '\n';
    ck_assert_int_eq(lines, 1);
    ck_assert_ptr_null(strchr(text, '\r'));
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

START_TEST(test_control_bytes_are_escaped)
{
    char   *path = log_to_file();
    char   *text;
    const char *line;

    /* ESC [ 2 J (clear screen), BEL, a NUL-free C1 CSI in UTF-8 (C2 9B),
     * a lone 0x9B byte, DEL and a TAB; UTF-8 text (U+00E9, U+4E2D) kept. */
    msg_info("to=<a\033[2J\007b\xc2\x9b" "1m\x9b\x7f\tc> name=\xc3\xa9\xe4\xb8\xad");
    text = ts_read_file(path, NULL);
    line = strstr(text, "to=<");
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(strncmp(line, "to=<a?[2J?b??1m???c> name=\xc3\xa9\xe4\xb8\xad\n",
                          strlen(line)) == 0, "not escaped: %s", line);
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

START_TEST(test_debug_only_when_verbose)
{
    char   *path = log_to_file();
    char   *text;

    msg_verbose = 0;
    msg_debug("hidden");
    msg_verbose = 1;
    msg_debug("shown");
    msg_verbose = 0;
    text = ts_read_file(path, NULL);
    ck_assert_ptr_null(strstr(text, "hidden"));
    ck_assert_ptr_nonnull(strstr(text, "shown"));
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

static char *cleanup_marker;

static void mark_cleanup(void)
{
    ts_write_file(cleanup_marker, "ran");
}

/* issue 15: the pid is looked up once, and a forked child names itself. */
START_TEST(test_pid_cached_and_forgotten_at_fork)
{
    char   *path = log_to_file();
    char   *text;
    char    want[128];
    pid_t   child;
    int     status;

    msg_info("parent before");
    ck_assert_int_eq(msg_pid(), getpid());
    if ((child = fork()) == 0) {
        msg_info("child");
        _exit(msg_pid() == getpid() ? 0 : 1);
    }
    ck_assert_int_gt(child, 0);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child's msg_pid was stale");
    msg_info("parent after");
    text = ts_read_file(path, NULL);
    snprintf(want, sizeof(want), "surel/smtpd\\[%ld\\]: parent before$", (long) getpid());
    ck_assert_msg(matches(text, want), "parent line: %s", text);
    snprintf(want, sizeof(want), "surel/smtpd\\[%ld\\]: child$", (long) child);
    ck_assert_msg(matches(text, want), "child line: %s", text);
    snprintf(want, sizeof(want), "surel/smtpd\\[%ld\\]: parent after$", (long) getpid());
    ck_assert_msg(matches(text, want), "parent line after the fork: %s", text);
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

START_TEST(test_fatal_logs_runs_cleanup_and_exits_1)
{
    char   *path = log_to_file();
    char   *text;
    pid_t   pid;
    int     status;

    cleanup_marker = ts_path(ts_tempdir(), "cleanup-ran");
    if ((pid = fork()) == 0) {
        msg_on_exit(mark_cleanup);
        msg_fatal("bad value for %s", "max_use");
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 1);
    text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, ": fatal: bad value for max_use"));
    xfree(text);
    text = ts_read_file(cleanup_marker, NULL);
    ck_assert_ptr_nonnull(text);
    xfree(text);
    msg_set_logfile(NULL);
}
END_TEST

START_TEST(test_panic_aborts)
{
    pid_t   pid;
    int     status;

    if ((pid = fork()) == 0) {
        msg_init("test", 0);
        msg_panic("our bug");
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status));
    ck_assert_int_eq(WTERMSIG(status), SIGABRT);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("msg");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_file_lines_have_postfix_shape);
    tcase_add_test(tc, test_syslog_name_prefix);
    tcase_add_test(tc, test_newlines_cannot_forge_lines);
    tcase_add_test(tc, test_control_bytes_are_escaped);
    tcase_add_test(tc, test_debug_only_when_verbose);
    tcase_add_test(tc, test_pid_cached_and_forgotten_at_fork);
    tcase_add_test(tc, test_fatal_logs_runs_cleanup_and_exits_1);
    tcase_add_test(tc, test_panic_aborts);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
