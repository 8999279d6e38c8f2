/* check_smtpd_peer - the client address from getpeername, and the drop
 * of a connection whose peer cannot be read (a client that reset the
 * connection before smtpd asked, a socket that is not connected). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "testsupport.h"

static char *logpath;

static void setup(void)
{
    logpath = ts_path(ts_tempdir(), "log");
    msg_init("check_smtpd_peer", 0);
    if (msg_set_logfile(logpath) < 0)
        msg_fatal("open %s: %m", logpath);
    config_reset();
    smtpd_params_init(NULL);
}

static int log_has(const char *text)
{
    char   *log = ts_read_file(logpath, NULL);
    int     found = log != NULL && strstr(log, text) != NULL;

    xfree(log);
    return found;
}

/* tcp_pair - a loopback TCP connection: *server is the accepted end */
static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int     lfd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(lfd, 0);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *) &sin, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(*client, (struct sockaddr *) &sin, sizeof(sin)), 0);
    *server = accept(lfd, NULL, NULL);
    ck_assert_int_ge(*server, 0);
    close(lfd);
}

/* reset_pair - an accepted connection whose client has reset it (close
 * with SO_LINGER 0 sends RST); returns once the server end has seen it */
static int reset_pair(void)
{
    struct linger lg = {1, 0};
    struct pollfd pfd;
    int     client;
    int     server;

    tcp_pair(&client, &server);
    ck_assert_int_eq(setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(client);
    /* Wait (with a deadline) until the kernel has processed the RST. */
    pfd.fd = server;
    pfd.events = 0;
    pfd.revents = 0;
    ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
    ck_assert(pfd.revents & (POLLERR | POLLHUP));
    return server;
}

START_TEST(test_tcp_peer)
{
    BUF    *why = buf_alloc(10);
    char    addr[64];
    int     client;
    int     server;

    tcp_pair(&client, &server);
    ck_assert_int_eq(smtpd_peer_addr(server, addr, sizeof(addr), why), 0);
    ck_assert_str_eq(addr, "127.0.0.1");
    close(client);
    close(server);
    buf_free(why);
}
END_TEST

START_TEST(test_unix_peer_is_local)
{
    BUF    *why = buf_alloc(10);
    char    addr[64];
    int     sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(smtpd_peer_addr(sv[0], addr, sizeof(addr), why), 0);
    ck_assert_str_eq(addr, "127.0.0.1");
    close(sv[0]);
    close(sv[1]);
    buf_free(why);
}
END_TEST

/* Every way getpeername fails for real: -1 with the reason. */
START_TEST(test_unknown_peer_fails)
{
    BUF    *why = buf_alloc(10);
    char    addr[64];
    int     fd;
    int     p[2];

    fd = reset_pair();
    ck_assert_int_eq(smtpd_peer_addr(fd, addr, sizeof(addr), why), -1);
    ck_assert_str_eq(buf_str(why), "getpeername: Transport endpoint is not connected");
    close(fd);

    fd = socket(AF_INET, SOCK_STREAM, 0);       /* never connected */
    ck_assert_int_eq(smtpd_peer_addr(fd, addr, sizeof(addr), why), -1);
    ck_assert_str_eq(buf_str(why), "getpeername: Transport endpoint is not connected");
    close(fd);

    ck_assert_int_eq(pipe(p), 0);               /* no socket at all */
    ck_assert_int_eq(smtpd_peer_addr(p[0], addr, sizeof(addr), why), -1);
    ck_assert_str_eq(buf_str(why), "getpeername: Socket operation on non-socket");
    close(p[0]);
    close(p[1]);
    buf_free(why);
}
END_TEST

/* smtpd_serve drops it: a warning, no session (no "connect from", no
 * greeting attempted), and no connection counted. */
START_TEST(test_serve_drops_unknown_peer)
{
    STREAM *s = stream_fdopen(reset_pair());

    smtpd_serve(s);
    ck_assert(log_has("warning: getpeername: Transport endpoint is not connected"
                      " -- dropping this connection"));
    ck_assert(!log_has("connect from"));
    ck_assert(!stream_error(s));                /* nothing was written */
    stream_close(s);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtpd_peer");
    TCase  *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_tcp_peer);
    tcase_add_test(tc, test_unix_peer_is_local);
    tcase_add_test(tc, test_unknown_peer_fails);
    tcase_add_test(tc, test_serve_drops_unknown_peer);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
