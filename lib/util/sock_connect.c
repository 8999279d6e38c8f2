/* sock_connect - a stream connection to an endpoint (see sock_connect.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock_connect.h"

/* sock_connect_addr - connect one address with a deadline; fd or -1 (errno) */
static int sock_connect_addr(const struct sockaddr *sa, socklen_t salen, int timeout)
{
    int     fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int     err = 0;
    socklen_t elen = sizeof(err);

    if (fd < 0)
        return -1;
    if (connect(fd, sa, salen) < 0) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int     n;

        if (errno != EINPROGRESS) {
            err = errno;
            goto fail;
        }
        do {
            n = poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            err = ETIMEDOUT;
            goto fail;
        }
        if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
            if (err == 0)
                err = errno;
            goto fail;
        }
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        err = errno;
        goto fail;
    }
    return fd;
fail:
    close(fd);
    errno = err;
    return -1;
}

/* sock_connect_unix - a UNIX-domain socket by path */
static int sock_connect_unix(const char *path, int timeout)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (*path == 0 || strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun.sun_path, path);
    return sock_connect_addr((struct sockaddr *) &sun, sizeof(sun), timeout);
}

/* sock_connect_inet - host:port or [v6]:port, each address in turn */
static int sock_connect_inet(const char *spec, int timeout, BUF *why)
{
    char    host[256];
    const char *port, *colon;
    struct addrinfo hints, *res, *ai;
    int     fd = -1, err, rc;
    size_t  hlen;

    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');

        if (close_br == NULL || close_br[1] != ':')
            return errno = EINVAL, -1;
        hlen = (size_t) (close_br - spec - 1);
        spec++;
        port = close_br + 2;
    } else {
        if ((colon = strrchr(spec, ':')) == NULL)
            return errno = EINVAL, -1;
        hlen = (size_t) (colon - spec);
        port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host) || *port == 0)
        return errno = EINVAL, -1;
    memcpy(host, spec, hlen);
    host[hlen] = 0;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
        buf_sprintf(why, "%s", gai_strerror(rc));
        return errno = EHOSTUNREACH, -1;
    }
    err = ECONNREFUSED;
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        if ((fd = sock_connect_addr(ai->ai_addr, ai->ai_addrlen, timeout)) < 0)
            err = errno;
    freeaddrinfo(res);
    errno = err;
    return fd;
}

int     sock_connect(const char *endpoint, int timeout, BUF *why)
{
    int     fd;

    buf_reset(why);
    if (strncmp(endpoint, "inet:", 5) == 0)
        fd = sock_connect_inet(endpoint + 5, timeout, why);
    else if (strncmp(endpoint, "unix:", 5) == 0 || strncmp(endpoint, "local:", 6) == 0)
        fd = sock_connect_unix(strchr(endpoint, ':') + 1, timeout);
    else if (endpoint[0] == '/')
        fd = sock_connect_unix(endpoint, timeout);
    else
        return buf_sprintf(why, "connect to %s: unknown endpoint type", endpoint), -1;
    if (fd < 0) {
        if (buf_len(why) == 0)
            buf_sprintf(why, "connect to %s: %s", endpoint, strerror(errno));
        else {
            BUF    *detail = buf_alloc(64);

            buf_set(detail, buf_str(why));
            buf_sprintf(why, "connect to %s: %s", endpoint, buf_str(detail));
            buf_free(detail);
        }
    }
    return fd;
}
