/* check_mail_connect - the one rule for reaching a service socket:
 * private/NAME, else public/NAME (Debian's "cleanup unix n"). */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "mail_connect.h"
#include "mem.h"
#include "testsupport.h"

/* listen_at - a listening UNIX socket at dir/class/name; its fd */
static int listen_at(const char *dir, const char *class, const char *name)
{
    struct sockaddr_un sun;
    char   *sub = ts_path(dir, class);
    int     fd;

    (void) mkdir(sub, 0700);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    ck_assert_int_lt(snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", sub, name),
                     (int) sizeof(sun.sun_path));
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(fd, 5), 0);
    xfree(sub);
    return fd;
}

/* accepted - does the listener have a connection waiting? */
static int accepted(int listener)
{
    struct timeval tv = {1, 0};
    fd_set  set;
    int     fd;

    FD_ZERO(&set);
    FD_SET(listener, &set);
    if (select(listener + 1, &set, NULL, NULL, &tv) != 1)
        return 0;
    fd = accept(listener, NULL, NULL);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

START_TEST(test_public_when_no_private)
{
    char   *dir = ts_tempdir();
    BUF    *why = buf_alloc(100);
    int     pub = listen_at(dir, "public", "cleanup");
    int     fd;

    fd = mail_connect(dir, "cleanup", why);
    ck_assert_msg(fd >= 0, "why: %s", buf_str(why));
    ck_assert(accepted(pub));
    close(fd);
    close(pub);
    buf_free(why);
    xfree(dir);
}
END_TEST

START_TEST(test_private_first)
{
    char   *dir = ts_tempdir();
    BUF    *why = buf_alloc(100);
    int     pub = listen_at(dir, "public", "cleanup");
    int     priv = listen_at(dir, "private", "cleanup");
    int     fd;

    fd = mail_connect(dir, "cleanup", why);
    ck_assert_int_ge(fd, 0);
    ck_assert(accepted(priv));
    ck_assert(!accepted(pub));
    close(fd);
    close(pub);
    close(priv);
    buf_free(why);
    xfree(dir);
}
END_TEST

START_TEST(test_neither_names_both)
{
    char   *dir = ts_tempdir();
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(mail_connect(dir, "cleanup", why), -1);
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_msg(strstr(buf_str(why), "private/cleanup") != NULL
                  && strstr(buf_str(why), "public/cleanup") != NULL, "why: %s", buf_str(why));
    buf_free(why);
    xfree(dir);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("mail_connect");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_public_when_no_private);
    tcase_add_test(tc, test_private_first);
    tcase_add_test(tc, test_neither_names_both);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
