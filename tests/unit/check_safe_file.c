/* check_safe_file - safe_open and friends refuse links, non-files, wrong
 * owners and swapped files; the write and sync helpers work on real files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"
#include "testsupport.h"

static char *tdir;

static void setup(void)
{
    tdir = ts_tempdir();
    msg_init("check_safe_file", 0);
}

/* path_in - tdir/name, malloc'ed */
static char *path_in(const char *name)
{
    return ts_path(tdir, name);
}

/* refused - safe_open must fail and say text */
static void refused(const char *path, int flags, uid_t owner, const char *text)
{
    BUF    *why = buf_alloc(16);
    int     fd = safe_open(path, flags, 0600, owner, NULL, why);

    ck_assert_msg(fd < 0, "%s (flags %#x) was opened", path, flags);
    ck_assert_msg(strstr(buf_str(why), text) != NULL, "%s: why \"%s\" lacks \"%s\"",
                  path, buf_str(why), text);
    buf_free(why);
}

START_TEST(test_symlink_refused)
{
    char   *target = path_in("target");
    char   *link = path_in("link");
    char   *dangling = path_in("dangling");
    char   *nowhere = path_in("nowhere");
    char   *text;

    ts_write_file(target, "secret");
    ck_assert_int_eq(symlink(target, link), 0);
    refused(link, O_RDONLY, SAFE_OWNER_ANY, "symbolic link");
    refused(link, O_WRONLY | O_CREAT | O_TRUNC, SAFE_OWNER_ANY, "symbolic link");
    refused(link, O_WRONLY | O_APPEND, SAFE_OWNER_ANY, "symbolic link");
    text = ts_read_file(target, NULL);
    ck_assert_str_eq(text, "secret");           /* not truncated through the link */
    xfree(text);
    /* A dangling link: exclusive create must not create its target. */
    ck_assert_int_eq(symlink(nowhere, dangling), 0);
    refused(dangling, O_WRONLY | O_CREAT | O_EXCL, SAFE_OWNER_ANY, "File exists");
    refused(dangling, O_WRONLY | O_CREAT, SAFE_OWNER_ANY, "symbolic link");
    ck_assert_int_eq(access(nowhere, F_OK), -1);
    xfree(target);
    xfree(link);
    xfree(dangling);
    xfree(nowhere);
}
END_TEST

START_TEST(test_hard_link_refused)
{
    char   *a = path_in("a");
    char   *b = path_in("b");
    char   *text;

    ts_write_file(a, "keep me");
    ck_assert_int_eq(link(a, b), 0);
    refused(b, O_WRONLY | O_TRUNC, SAFE_OWNER_ANY, "more than one hard link");
    refused(a, O_RDWR | O_CREAT | O_TRUNC, SAFE_OWNER_ANY, "more than one hard link");
    text = ts_read_file(a, NULL);
    ck_assert_str_eq(text, "keep me");          /* O_TRUNC only after the checks */
    xfree(text);
    xfree(a);
    xfree(b);
}
END_TEST

START_TEST(test_non_files_refused)
{
    char   *fifo = path_in("fifo");

    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    /* Must not hang on the FIFO (no writer) and must refuse it. */
    refused(fifo, O_RDONLY, SAFE_OWNER_ANY, "not a regular file");
    refused(fifo, O_WRONLY | O_CREAT, SAFE_OWNER_ANY, "not a regular file");
    refused(tdir, O_RDONLY, SAFE_OWNER_ANY, "not a regular file");
    refused("/dev/null", O_WRONLY, SAFE_OWNER_ANY, "not a regular file");
    xfree(fifo);
}
END_TEST

START_TEST(test_owner)
{
    char   *f = path_in("owned");
    char   *made = path_in("made");
    struct passwd *pw = getpwnam("surel");
    struct stat st;
    BUF    *why = buf_alloc(16);
    int     fd;

    ck_assert_msg(pw != NULL, "account surel missing (tools/install-deps makes it)");
    ck_assert_msg(geteuid() == 0, "this test runs as root");
    ts_write_file(f, "x");
    refused(f, O_RDONLY, pw->pw_uid, "wrong owner");
    fd = safe_open(f, O_RDONLY, 0, 0, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(st.st_uid, 0);
    close(fd);
    ck_assert_int_eq(chown(f, pw->pw_uid, (gid_t) -1), 0);
    refused(f, O_RDONLY, 0, "wrong owner");
    /* Root creating a file for an owner hands it over. */
    fd = safe_open(made, O_WRONLY | O_CREAT | O_EXCL, 0600, pw->pw_uid, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(st.st_uid, pw->pw_uid);
    close(fd);
    buf_free(why);
    xfree(f);
    xfree(made);
}
END_TEST

START_TEST(test_swapped_file_detected)
{
    char   *f = path_in("victim");
    char   *other = path_in("other");
    BUF    *why = buf_alloc(16);
    struct stat st;
    int     fd;

    ts_write_file(f, "original");
    fd = safe_open(f, O_RDONLY, 0, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(safe_check_fd(fd, f, SAFE_OWNER_ANY, NULL, why), 0);
    /* Someone renames another file over the name: the check notices. */
    ts_write_file(other, "planted");
    ck_assert_int_eq(rename(other, f), 0);
    ck_assert_int_eq(safe_check_fd(fd, f, SAFE_OWNER_ANY, NULL, why), -1);
    ck_assert_msg(strstr(buf_str(why), "replaced") != NULL, "why: %s", buf_str(why));
    close(fd);
    /* ...or moves it away and leaves a symlink to it under the name. */
    ck_assert_int_eq(unlink(f), 0);
    ts_write_file(f, "second");
    fd = safe_open(f, O_RDONLY, 0, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(rename(f, other), 0);
    ck_assert_int_eq(symlink(other, f), 0);
    ck_assert_int_eq(safe_check_fd(fd, f, SAFE_OWNER_ANY, NULL, why), -1);
    ck_assert_msg(strstr(buf_str(why), "symbolic link") != NULL, "why: %s", buf_str(why));
    /* ...or removes the name. */
    ck_assert_int_eq(unlink(f), 0);
    ck_assert_int_eq(safe_check_fd(fd, f, SAFE_OWNER_ANY, NULL, why), -1);
    ck_assert_msg(strstr(buf_str(why), "lstat") != NULL, "why: %s", buf_str(why));
    close(fd);
    buf_free(why);
    xfree(f);
    xfree(other);
}
END_TEST

START_TEST(test_create_modes)
{
    char   *f = path_in("new");
    BUF    *why = buf_alloc(16);
    struct stat st;
    char   *text;
    int     fd;

    /* Exclusive create: once, with the mode asked for (less the umask). */
    umask(022);
    fd = safe_open(f, O_WRONLY | O_CREAT | O_EXCL, 0640, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    ck_assert_int_eq(write_all(fd, "hello", 5), 0);
    ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);   /* not asked for */
    close(fd);
    refused(f, O_WRONLY | O_CREAT | O_EXCL, SAFE_OWNER_ANY, "File exists");
    /* O_CREAT alone: opens the existing file without truncating... */
    fd = safe_open(f, O_RDWR | O_CREAT | O_CLOEXEC, 0600, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(st.st_size, 5);
    ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    close(fd);
    /* ...truncates with O_TRUNC... */
    fd = safe_open(f, O_WRONLY | O_CREAT | O_TRUNC, 0600, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert_int_eq(st.st_size, 0);
    ck_assert_int_eq(write_all(fd, "new", 3), 0);
    close(fd);
    text = ts_read_file(f, NULL);
    ck_assert_str_eq(text, "new");
    xfree(text);
    /* ...and creates a missing one. */
    ck_assert_int_eq(unlink(f), 0);
    fd = safe_open(f, O_WRONLY | O_CREAT, 0600, SAFE_OWNER_ANY, &st, why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    close(fd);
    /* Without O_CREAT a missing file is an error with errno ENOENT. */
    ck_assert_int_eq(unlink(f), 0);
    ck_assert_int_eq(safe_open(f, O_RDONLY, 0, SAFE_OWNER_ANY, NULL, why), -1);
    ck_assert_int_eq(errno, ENOENT);
    buf_free(why);
    xfree(f);
}
END_TEST

START_TEST(test_write_all_through_pipe)
{
    static char data[1 << 20];
    int     p[2];
    pid_t   pid;
    int     status;
    size_t  i;

    for (i = 0; i < sizeof(data); i++)
        data[i] = (char) (i * 7);
    ck_assert_int_eq(pipe(p), 0);
    /* A pipe takes 64 KiB at a time: write_all must go round many times. */
    if ((pid = fork()) == 0) {
        char    buf[4096];
        size_t  got = 0;
        ssize_t n;

        close(p[1]);
        while ((n = read(p[0], buf, sizeof(buf))) > 0) {
            for (i = 0; i < (size_t) n; i++)
                if (buf[i] != (char) ((got + i) * 7))
                    _exit(2);
            got += (size_t) n;
        }
        _exit(got == sizeof(data) ? 0 : 1);
    }
    close(p[0]);
    ck_assert_int_eq(write_all(p[1], data, sizeof(data)), 0);
    close(p[1]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    ck_assert_int_eq(write_all(-1, "x", 1), -1);
    ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(test_sync_helpers)
{
    char   *d1 = path_in("d1");
    char   *deep = path_in("d2/x/y");
    char   *from = path_in("d1/file");
    char   *to = path_in("d2/x/y/file");
    char   *plain = path_in("plain");
    char   *under = path_in("plain/sub");
    char   *text;
    struct stat st;

    ck_assert_int_eq(mkdir_p(d1, 0755), 0);
    ck_assert_int_eq(mkdir_p(deep, 0700), 0);
    ck_assert_int_eq(mkdir_p(deep, 0700), 0);   /* already there: fine */
    ck_assert_int_eq(stat(deep, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    ts_write_file(plain, "f");
    ck_assert_int_eq(mkdir_p(under, 0700), -1);
    ck_assert_int_eq(errno, ENOTDIR);

    ck_assert_int_eq(fsync_dir(d1), 0);
    ck_assert_int_eq(fsync_dir(from), -1);      /* not there yet */
    ts_write_file(from, "payload");
    ck_assert_int_eq(fsync_parent(from), 0);
    ck_assert_int_eq(fsync_dir(from), -1);      /* a file, not a folder */
    ck_assert_int_eq(errno, ENOTDIR);
    ck_assert_int_eq(fsync_parent("relative-name"), 0);    /* "." */
    ck_assert_int_eq(fsync_parent("/etc"), 0);             /* "/" */

    ck_assert_int_eq(rename_sync(from, to), 0);
    ck_assert_int_eq(access(from, F_OK), -1);
    text = ts_read_file(to, NULL);
    ck_assert_str_eq(text, "payload");
    xfree(text);
    ck_assert_int_eq(rename_sync(from, to), -1);
    ck_assert_int_eq(errno, ENOENT);
    xfree(d1);
    xfree(deep);
    xfree(from);
    xfree(to);
    xfree(plain);
    xfree(under);
}
END_TEST

/* The directory_fsync values and the file-system test behind auto. */
START_TEST(test_dir_fsync_rule)
{
    char   *file = path_in("f");
    int     fd, proc;
    struct statfs sfs;

    ck_assert_int_eq(dir_fsync_mode("auto"), DIR_FSYNC_AUTO);
    ck_assert_int_eq(dir_fsync_mode("YES"), DIR_FSYNC_YES);
    ck_assert_int_eq(dir_fsync_mode("no"), DIR_FSYNC_NO);
    ck_assert_int_eq(dir_fsync_mode("always"), -1);
    ck_assert_int_eq(dir_fsync_mode(""), -1);

    ts_write_file(file, "payload");
    ck_assert_int_ge(fd = open(file, O_RDWR), 0);
    ck_assert_int_eq(sync_data_now(fd), 0);
    ck_assert_int_eq(dir_fsync_needed(DIR_FSYNC_YES, fd), 1);
    ck_assert_int_eq(dir_fsync_needed(DIR_FSYNC_NO, fd), 0);
    /* auto agrees with the file system's magic number */
    ck_assert_int_eq(fstatfs(fd, &sfs), 0);
    ck_assert_int_eq(fsync_names_with_file(fd),
                     sfs.f_type == 0xEF53 || sfs.f_type == 0x58465342
                     || sfs.f_type == 0x01021994);
    ck_assert_int_eq(dir_fsync_needed(DIR_FSYNC_AUTO, fd), !fsync_names_with_file(fd));
    close(fd);
    /* /proc is none of them: auto keeps the folder fsync there; a closed
     * descriptor too (we cannot tell, so we sync). */
    if ((proc = open("/proc/self/status", O_RDONLY)) >= 0) {
        ck_assert_int_eq(fsync_names_with_file(proc), 0);
        ck_assert_int_eq(dir_fsync_needed(DIR_FSYNC_AUTO, proc), 1);
        close(proc);
    }
    ck_assert_int_eq(dir_fsync_needed(DIR_FSYNC_AUTO, fd), 1);
    xfree(file);
}
END_TEST

START_TEST(test_read_small_file)
{
    char   *f = path_in("small");
    char   *link = path_in("small-link");
    char   *fifo = path_in("small-fifo");
    BUF    *why = buf_alloc(16);
    char   *text;

    ts_write_file(f, "12345\n");
    text = read_small_file(f, 6, why);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "12345\n");
    xfree(text);
    ck_assert_ptr_null(read_small_file(f, 5, why));
    ck_assert_msg(strstr(buf_str(why), "larger than 5 bytes") != NULL, "why: %s", buf_str(why));
    ck_assert_int_eq(symlink(f, link), 0);
    ck_assert_ptr_null(read_small_file(link, 100, why));
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    ck_assert_ptr_null(read_small_file(fifo, 100, why));
    ck_assert(strstr(buf_str(why), "not a regular file") != NULL);
    ck_assert_ptr_null(read_small_file(tdir, 100, why));
    ts_write_file(f, "");
    text = read_small_file(f, 10, why);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, "");
    xfree(text);
    buf_free(why);
    xfree(f);
    xfree(link);
    xfree(fifo);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("safe_file");
    TCase  *tc = tcase_create("safe_file");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_symlink_refused);
    tcase_add_test(tc, test_hard_link_refused);
    tcase_add_test(tc, test_non_files_refused);
    tcase_add_test(tc, test_owner);
    tcase_add_test(tc, test_swapped_file_detected);
    tcase_add_test(tc, test_create_modes);
    tcase_add_test(tc, test_write_all_through_pipe);
    tcase_add_test(tc, test_sync_helpers);
    tcase_add_test(tc, test_read_small_file);
    tcase_add_test(tc, test_dir_fsync_rule);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
