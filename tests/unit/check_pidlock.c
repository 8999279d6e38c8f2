/* check_pidlock - one master per instance: the pid file lock. */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "pidlock.h"
#include "testsupport.h"

START_TEST(test_probe_without_file_says_not_running)
{
    char   *path = ts_path(ts_tempdir(), "master.pid");
    pid_t   pid;

    ck_assert_int_eq(pidlock_probe(path, &pid, NULL), 0);
    xfree(path);
}
END_TEST

START_TEST(test_holder_is_seen_and_second_acquire_refused)
{
    char   *path = ts_path(ts_tempdir(), "master.pid");
    BUF    *why = buf_alloc(100);
    int     ready[2], fd;
    pid_t   child, pid, holder;
    char    ch;

    ck_assert_int_eq(pipe(ready), 0);
    if ((child = fork()) == 0) {
        if (pidlock_acquire(path, NULL, why) < 0)
            _exit(1);
        (void) !write(ready[1], "x", 1);
        pause();
        _exit(0);
    }
    ck_assert_int_eq(read(ready[0], &ch, 1), 1);
    ck_assert_int_eq(pidlock_probe(path, &pid, why), 1);
    ck_assert_int_eq(pid, child);
    ck_assert_int_lt(pidlock_acquire(path, &holder, why), 0);
    ck_assert_int_eq(holder, child);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "locked"));

    /* A holder killed with SIGKILL never blocks the next start. */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    ck_assert_int_eq(pidlock_probe(path, &pid, why), 0);
    fd = pidlock_acquire(path, NULL, why);
    ck_assert_msg(fd >= 0, "%s", buf_str(why));
    ck_assert_int_eq(pidlock_probe(path, &pid, why), 1);
    ck_assert_int_eq(pid, getpid());
    close(fd);
    buf_free(why);
    xfree(path);
}
END_TEST

START_TEST(test_symlinked_pid_file_refused)
{
    char   *dir = ts_tempdir();
    char   *target = ts_path(dir, "elsewhere");
    char   *path = ts_path(dir, "master.pid");
    BUF    *why = buf_alloc(100);

    ts_write_file(target, "");
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_lt(pidlock_acquire(path, NULL, why), 0);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("pidlock");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_probe_without_file_says_not_running);
    tcase_add_test(tc, test_holder_is_seen_and_second_acquire_refused);
    tcase_add_test(tc, test_symlinked_pid_file_refused);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
