/* smtp_connect - one connection to one destination, with a deadline.
 *
 * TCP: the host must be an address (getaddrinfo with AI_NUMERICHOST,
 * so the machine's resolver is never asked); names were looked up
 * before, in DNS (smtp_dns.c).
 * The family must be one inet_protocols allows; the source address is
 * smtp_bind_address (IPv4) or smtp_bind_address6 (IPv6) when set.
 * The connect is non-blocking and waits at most smtp_connect_timeout.
 * UNIX-domain: the path as given (relative paths are below
 * queue_directory, the daemon's working directory).
 * Failures say Postfix's "connect to host[addr]:port: Connection refused"
 * (4.4.1), so that the administrator's greps keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "smtp.h"

/* smtp_connect_fail - set dsn and why; -1 */
static int smtp_connect_fail(char *dsn, size_t dsnlen, const char *code, BUF *why,
                             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int smtp_connect_fail(char *dsn, size_t dsnlen, const char *code, BUF *why,
                             const char *fmt, ...)
{
    va_list ap;

    snprintf(dsn, dsnlen, "%s", code);
    buf_reset(why);
    va_start(ap, fmt);
    buf_vprintf(why, fmt, ap);
    va_end(ap);
    return -1;
}

/* smtp_connect_wait - finish a non-blocking connect within timeout; 0 or errno */
static int smtp_connect_wait(int fd, const struct sockaddr *sa, socklen_t len, int timeout)
{
    struct pollfd pfd = {.fd = fd, .events = POLLOUT};
    struct timeval start, now;
    int     err = 0, left, n;
    socklen_t elen = sizeof(err);

    if (connect(fd, sa, len) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    gettimeofday(&start, NULL);
    for (;;) {
        gettimeofday(&now, NULL);
        left = timeout * 1000 - (int) ((now.tv_sec - start.tv_sec) * 1000
                                       + (now.tv_usec - start.tv_usec) / 1000);
        if (left <= 0)
            return ETIMEDOUT;
        if ((n = poll(&pfd, 1, left)) > 0)
            break;
        if (n == 0)
            return ETIMEDOUT;
        if (errno != EINTR)
            return errno;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return errno;
    return err;
}

/* smtp_connect_bind - the configured source address for this family; 0 or errno */
static int smtp_connect_bind(int fd, int family, BUF *why)
{
    const char *src = config_str(family == AF_INET ? P_smtp_bind_address : P_smtp_bind_address6);
    struct addrinfo hints, *ai;
    int     rc, ret = 0;

    if (*src == 0)
        return 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if ((rc = getaddrinfo(src, "0", &hints, &ai)) != 0) {
        buf_sprintf(why, "%s: not an address: %s", family == AF_INET ? "smtp_bind_address"
                    : "smtp_bind_address6", src);
        return EINVAL;
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        ret = errno;
        buf_sprintf(why, "bind %s: %s", src, strerror(ret));
    }
    freeaddrinfo(ai);
    return ret;
}

/* smtp_connect_unix - a UNIX-domain socket */
static int smtp_connect_unix(const SMTP_HOP *hop, int timeout, SMTP_PEER *peer, char *dsn,
                             size_t dsnlen, BUF *why)
{
    struct sockaddr_un sun;
    int     fd, err;

    snprintf(peer->name, sizeof(peer->name), "%s", config_str(P_myhostname));
    snprintf(peer->addr, sizeof(peer->addr), "%s", hop->host);
    peer->port = 0;
    snprintf(peer->relay, sizeof(peer->relay), "%s[%s]", peer->name, peer->addr);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(hop->host) >= sizeof(sun.sun_path))
        return smtp_connect_fail(dsn, dsnlen, "4.3.5", why, "connect to %s[%s]: %s", peer->name, peer->addr, "socket path too long");
    memcpy(sun.sun_path, hop->host, strlen(hop->host));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return smtp_connect_fail(dsn, dsnlen, "4.3.0", why, "socket %s[%s]: %s", peer->name, peer->addr, strerror(errno));
    if ((err = smtp_connect_wait(fd, (struct sockaddr *) &sun, sizeof(sun), timeout)) != 0) {
        close(fd);
        return smtp_connect_fail(dsn, dsnlen, "4.4.1", why, "connect to %s[%s]: %s", peer->name, peer->addr, strerror(err));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int     smtp_connect(const SMTP_HOP *hop, int timeout, SMTP_PEER *peer, char *dsn, size_t dsnlen,
                     BUF *why)
{
    struct addrinfo hints, *ai;
    char    port[16];
    int     fd, err, protocols;

    memset(peer, 0, sizeof(*peer));
    if (hop->kind == SMTP_HOP_UNIX)
        return smtp_connect_unix(hop, timeout, peer, dsn, dsnlen, why);
    snprintf(port, sizeof(port), "%d", hop->port);
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;      /* never DNS */
    if (getaddrinfo(hop->host, port, &hints, &ai) != 0) {
        return smtp_connect_fail(dsn, dsnlen, "4.3.5", why, "not an address: %s", hop->host);
    }
    snprintf(peer->name, sizeof(peer->name), "%s", hop->name[0] ? hop->name : hop->host);
    snprintf(peer->addr, sizeof(peer->addr), "%s", hop->host);
    peer->port = hop->port;
    snprintf(peer->relay, sizeof(peer->relay), "%s[%s]:%d", peer->name, peer->addr, peer->port);
    if ((protocols = config_inet_protocols(why)) < 0) {
        freeaddrinfo(ai);
        snprintf(dsn, dsnlen, "4.3.5");
        return -1;
    }
    if (!(protocols & (ai->ai_family == AF_INET ? CONFIG_INET_V4 : CONFIG_INET_V6))) {
        freeaddrinfo(ai);
        return smtp_connect_fail(dsn, dsnlen, "4.4.4", why, "connect to %s[%s]:%d: %s", peer->name, peer->addr, peer->port, "address family disabled by inet_protocols");
    }
    if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        err = errno;
        freeaddrinfo(ai);
        return smtp_connect_fail(dsn, dsnlen, "4.3.0", why, "socket for %s[%s]:%d: %s", peer->name, peer->addr, peer->port, strerror(err));
    }
    if ((err = smtp_connect_bind(fd, ai->ai_family, why)) != 0) {
        close(fd);
        freeaddrinfo(ai);
        snprintf(dsn, dsnlen, "4.3.5");
        return -1;
    }
    err = smtp_connect_wait(fd, ai->ai_addr, ai->ai_addrlen, timeout);
    freeaddrinfo(ai);
    if (err != 0) {
        close(fd);
        return smtp_connect_fail(dsn, dsnlen, "4.4.1", why, "connect to %s[%s]:%d: %s", peer->name, peer->addr, peer->port, err == ETIMEDOUT ? "Connection timed out" : strerror(err));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}
