/* child_wait - a command's output and exit within a deadline; see child_wait.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child_wait.h"
#include "msg.h"

/* child_wait - collect output until EOF and exit, within the deadline */
int     child_wait(pid_t pid, int out_fd, time_t deadline, BUF *output, size_t max,
                   int *status)
{
    struct pollfd pfd;
    char    block[4096];
    ssize_t n;
    int     open_out = 1, left;
    pid_t   got = 0;

    for (;;) {
        if (!open_out && (got = waitpid(pid, status, WNOHANG)) != 0)
            break;
        left = (int) (deadline - time(NULL));
        if (left <= 0) {
            (void) kill(-pid, SIGKILL);
            (void) kill(pid, SIGKILL);
            (void) waitpid(pid, status, 0);
            return -1;
        }
        if (!open_out) {
            usleep(10000);
            continue;
        }
        pfd.fd = out_fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, left > 1 ? 1000 : left * 1000) < 0 && errno != EINTR)
            msg_fatal("poll: %m");
        if (pfd.revents == 0)
            continue;
        n = read(out_fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            open_out = 0;
            continue;
        }
        if (buf_len(output) < max)
            buf_append(output, block, (size_t) n < max - buf_len(output) ?
                       (size_t) n : max - buf_len(output));
    }
    if (got < 0)
        msg_fatal("waitpid: %m");
    return 0;
}
