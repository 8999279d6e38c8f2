/* check_logwriter - rotation-safe appends, the msg.c postlog client, and
 * the maillog_file_prefixes guard (lib/global/maillog.c). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "logwriter.h"
#include "maillog.h"
#include "mem.h"
#include "msg.h"
#include "testsupport.h"

/* dgram_bind - a bound datagram socket at path (the master's postlog socket) */
static int dgram_bind(const char *path)
{
    struct sockaddr_un sun;
    int     fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    ck_assert_uint_lt(strlen(path), sizeof(sun.sun_path));
    strcpy(sun.sun_path, path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    return fd;
}

/* dgram_recv - the next datagram as a string, or NULL when none waits */
static char *dgram_recv(int fd)
{
    char    buf[8192];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    if (n < 0)
        return NULL;
    buf[n] = 0;
    return xstrdup(buf);
}

START_TEST(test_write_follows_a_rename)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "maillog");
    char   *old = ts_path(dir, "maillog.1");
    BUF    *why = buf_alloc(100);
    LOGWRITER *lw = logwriter_open(path, why);
    char   *text;

    ck_assert_ptr_nonnull(lw);
    ck_assert_int_eq(logwriter_write(lw, "one\n", 4), 0);
    ck_assert_int_eq(rename(path, old), 0);
    /* The name moved: the next line goes to a new file of that name. */
    ck_assert_int_eq(logwriter_write(lw, "two\n", 4), 0);
    text = ts_read_file(old, NULL);
    ck_assert_str_eq(text, "one\n");
    free(text);
    text = ts_read_file(path, NULL);
    ck_assert_str_eq(text, "two\n");
    free(text);
    /* And again after a removal. */
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(logwriter_write(lw, "three\n", 6), 0);
    text = ts_read_file(path, NULL);
    ck_assert_str_eq(text, "three\n");
    free(text);
    logwriter_close(lw);
    buf_free(why);
    xfree(path);
    xfree(old);
}
END_TEST

START_TEST(test_planted_link_is_refused)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "maillog");
    char   *target = ts_path(dir, "precious");
    BUF    *why = buf_alloc(100);
    char   *text;

    ts_write_file(target, "keep\n");
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_ptr_null(logwriter_open(path, why));
    ck_assert_int_lt(logwriter_one_shot(path, "x\n", 2), 0);
    text = ts_read_file(target, NULL);
    ck_assert_str_eq(text, "keep\n");
    free(text);
    buf_free(why);
    xfree(path);
    xfree(target);
}
END_TEST

START_TEST(test_lines_go_to_the_socket_then_the_file)
{
    char   *dir = ts_tempdir();
    char   *sock = ts_path(dir, "postlog");
    char   *path = ts_path(dir, "maillog");
    int     fd = dgram_bind(sock);
    char   *got;
    char   *text;

    msg_init("qmgr", 0);
    ck_assert_int_eq(msg_set_logservice(sock, path, 0), 0);
    msg_info("4Xk9B: removed");
    got = dgram_recv(fd);
    ck_assert_ptr_nonnull(got);
    /* One datagram, the whole line, no newline: postlogd adds it. */
    ck_assert_msg(strstr(got, " surel/qmgr[") != NULL && strstr(got, "]: 4Xk9B: removed") != NULL
                  && strchr(got, '\n') == NULL, "datagram: %s", got);
    ck_assert_int_ne(access(path, F_OK), 0);
    free(got);
    /* The socket is gone (the master stopped): the file, directly. */
    close(fd);
    unlink(sock);
    msg_info("4Xk9C: removed");
    text = ts_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(text, "]: 4Xk9C: removed\n"));
    free(text);
    (void) msg_set_logservice(NULL, NULL, 0);
    (void) msg_set_logfile(NULL);
    xfree(sock);
    xfree(path);
}
END_TEST

START_TEST(test_master_never_blocks_and_keeps_order)
{
    char   *dir = ts_tempdir();
    char   *sock = ts_path(dir, "postlog");
    char   *path = ts_path(dir, "maillog");
    int     fd = dgram_bind(sock);
    char   *got;
    char    want[64];
    int     i;

    msg_init("master", 0);
    ck_assert_int_eq(msg_set_logservice(sock, path, MSG_SERVICE_NONBLOCK), 0);
    /* Far more than the kernel queues (net.unix.max_dgram_qlen): none of
     * these calls may wait, and none of the lines may be lost. */
    for (i = 0; i < 200; i++)
        msg_info("line %03d", i);
    ck_assert(msg_service_pending());
    for (i = 0; i < 200; i++) {
        while ((got = dgram_recv(fd)) == NULL) {
            ck_assert(msg_service_pending());
            msg_service_flush();
        }
        snprintf(want, sizeof(want), "]: line %03d", i);
        ck_assert_msg(strstr(got, want) != NULL, "line %d: got %s", i, got);
        free(got);
    }
    msg_service_flush();
    ck_assert(!msg_service_pending());
    ck_assert_int_ne(access(path, F_OK), 0);
    close(fd);
    (void) msg_set_logservice(NULL, NULL, 0);
    (void) msg_set_logfile(NULL);
    xfree(sock);
    xfree(path);
}
END_TEST

START_TEST(test_prefixes_guard)
{
    static const struct {
        const char *prefixes;
        const char *path;
        int     ok;
    } cases[] = {
        {"/var, /dev/stdout", "/var/log/surel.log", 1},
        {"/var, /dev/stdout", "/dev/stdout", 1},
        {"/var, /dev/stdout", "/variable/x", 0},
        {"/var, /dev/stdout", "/etc/passwd", 0},
        {"/var, /dev/stdout", "/var/../etc/shadow", 0},
        {"/var, /dev/stdout", "var/log/x", 0},
        {"/srv/mail/", "/srv/mail/log", 1},
        {"/", "/anything", 1},
    };
    BUF    *why = buf_alloc(100);
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        config_reset();
        config_override("maillog_file_prefixes", cases[i].prefixes);
        ck_assert_msg(maillog_file_allowed(cases[i].path, why) == cases[i].ok,
                      "%s under %s: expected %d", cases[i].path, cases[i].prefixes, cases[i].ok);
    }
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("logwriter");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_write_follows_a_rename);
    tcase_add_test(tc, test_planted_link_is_refused);
    tcase_add_test(tc, test_lines_go_to_the_socket_then_the_file);
    tcase_add_test(tc, test_master_never_blocks_and_keeps_order);
    tcase_add_test(tc, test_prefixes_guard);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
