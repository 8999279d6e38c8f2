/* server_trigger - the trigger daemon flavour (qmgr, pickup).
 *
 * A trigger is a few bytes (mail_proto.h TRIGGER_*) written to the
 * service's unix socket by a client that then hangs up, or to its fifo.
 * The skeleton reads them with a deadline and a size bound and passes them
 * to the routine; the routine never sees the connection.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "master_proto.h"
#include "msg.h"
#include "server_private.h"

#define TRIGGER_READ_TIMEOUT_MS 10000   /* a trigger client writes at once */

static TRIGGER_SERVER_FN trigger_server_service;

/* trigger_server_retire - the master retired us; we are idle, so go */
static void trigger_server_retire(int event, void *context)
{
    (void) event;
    (void) context;
    server_exit();
}

/* trigger_server_read_client - bytes from one client until it hangs up,
 * the buffer is full or the deadline passes */
static size_t trigger_server_read_client(int fd, char *buf, size_t size)
{
    long long deadline = event_now_ms() + TRIGGER_READ_TIMEOUT_MS;
    size_t  len = 0;
    struct pollfd pfd;
    ssize_t n;
    long long left;

    while (len < size && (left = deadline - event_now_ms()) > 0) {
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, (int) left) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd.revents == 0)
            break;                      /* timed out */
        n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t) n;
    }
    return len;
}

/* trigger_server_take - the bytes of one trigger from a listener; -1: none */
static ssize_t trigger_server_take(int fd, char *buf, size_t size)
{
    struct stat st;
    ssize_t n;
    int     client;

    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        /* The fifo stays open; take what is there now (non-blocking). */
        n = read(fd, buf, size);
        return n > 0 ? n : -1;
    }
    client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept: %m");
        return -1;
    }
    server_idle_stop();
    server_notify(MASTER_STAT_BUSY);
    n = (ssize_t) trigger_server_read_client(client, buf, size);
    close(client);
    return n;
}

/* trigger_server_event - a listener is readable: read and serve a trigger */
static void trigger_server_event(int event, void *context)
{
    char    buf[TRIGGER_BUF_SIZE];
    ssize_t len;

    (void) event;
    if ((len = trigger_server_take((int) (long) context, buf, sizeof(buf))) < 0)
        return;
    server_idle_stop();
    server_notify(MASTER_STAT_BUSY);    /* a second BUSY is harmless */
    server_state.use_count++;
    server_watchdog();
    if (len > 0)
        trigger_server_service(buf, (size_t) len, &server_state.ctx);
    if (server_state.retired || server_use_exhausted())
        server_exit();
    server_notify(MASTER_STAT_IDLE);
    if (server_state.retired)
        server_exit();
    server_idle_start();
}

/* trigger_server_main - see server.h */
void trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN service,
                         const SERVER_HOOKS *hooks)
{
    int     i;

    trigger_server_service = service;
    server_init(argc, argv, hooks, trigger_server_retire);
    for (i = 0; i < server_state.nlisten; i++)
        event_enable_read(MASTER_LISTEN_FD + i, trigger_server_event,
                          (void *) (long) (MASTER_LISTEN_FD + i));
    server_idle_start();
    server_loop();
}
