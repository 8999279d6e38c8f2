/* unix_fd - descriptor passing under a STREAM; see unix_fd.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unix_fd.h"

/* unix_fd_wait - poll for events within timeout seconds (<=0: forever); 0 or -1 */
static int unix_fd_wait(int fd, short events, int timeout)
{
    struct pollfd pfd = {.fd = fd, .events = events};
    int     n;

    do {
        n = poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1);
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return n < 0 ? -1 : 0;
}

/* unix_fd_take - keep the first descriptor of a control message, close the rest */
static void unix_fd_take(UNIX_FD_IO *io, struct msghdr *msg)
{
    struct cmsghdr *c;
    size_t  i, n;
    int     fd;

    for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < n; i++) {
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            if (io->recv_fd < 0)
                io->recv_fd = fd;
            else
                close(fd);
        }
    }
}

static ssize_t unix_fd_read(void *ctx, int fd, void *buf, size_t len, int timeout)
{
    UNIX_FD_IO *io = ctx;
    union {
        struct cmsghdr align;
        char    space[CMSG_SPACE(4 * sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg;
    ssize_t n;

    if (unix_fd_wait(fd, POLLIN, timeout) < 0)
        return -1;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.space;
    msg.msg_controllen = sizeof(control.space);
    do {
        n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n >= 0)
        unix_fd_take(io, &msg);
    return n;
}

static ssize_t unix_fd_write(void *ctx, int fd, const void *buf, size_t len, int timeout)
{
    UNIX_FD_IO *io = ctx;
    union {
        struct cmsghdr align;
        char    space[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = (void *) buf, .iov_len = len};
    struct msghdr msg;
    struct cmsghdr *c;
    ssize_t n;

    if (unix_fd_wait(fd, POLLOUT, timeout) < 0)
        return -1;
    memset(&msg, 0, sizeof(msg));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (io->send_fd >= 0 && len > 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.space;
        msg.msg_controllen = sizeof(control.space);
        c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &io->send_fd, sizeof(int));
    }
    do {
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        io->send_fd = -1;               /* it went with the first byte */
    return n;
}

void    unix_fd_stream(STREAM *s, UNIX_FD_IO *io)
{
    io->send_fd = -1;
    io->recv_fd = -1;
    stream_set_io(s, unix_fd_read, unix_fd_write, io);
}
