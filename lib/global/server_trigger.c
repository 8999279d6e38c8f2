/* server_trigger - the trigger daemon flavour (qmgr, pickup).
 *
 * A trigger is a few bytes (mail_proto.h TRIGGER_*) written to the
 * service's unix socket by a client that then hangs up, or to its fifo.
 * The skeleton reads them with a deadline and a size bound and passes them
 * to the routine; the routine never sees the connection.
 *
 * Clients are read from the event loop, never waited for: a trigger
 * client may be a user's set-gid `surel queue flush` that the user stops
 * after connect(), and one such client must not freeze qmgr's only
 * thread. Each connection is watched until it hangs up, fills the buffer
 * or its deadline passes; at most TRIGGER_CLIENTS_MAX are watched at
 * once, and a new one beyond that pushes the oldest out (served with what
 * it sent so far), so a crowd of silent clients delays nobody for long.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "event.h"
#include "master_proto.h"
#include "mem.h"
#include "msg.h"
#include "server_private.h"

#define TRIGGER_READ_TIMEOUT_MS 10000   /* a trigger client writes at once */
#define TRIGGER_CLIENTS_MAX     64      /* connections watched at once */

/* One trigger client being read. */
typedef struct TRIGGER_CLIENT {
    int     fd;
    size_t  len;
    char    buf[TRIGGER_BUF_SIZE];
    struct TRIGGER_CLIENT *next;        /* oldest first */
} TRIGGER_CLIENT;

static TRIGGER_SERVER_FN trigger_server_service;
static TRIGGER_CLIENT *trigger_clients;
static int trigger_nclients;

static void trigger_client_event(int event, void *context);
static void trigger_server_serve(const char *buf, size_t len);

/* trigger_server_retire - the master retired us; we are idle, so go */
static void trigger_server_retire(int event, void *context)
{
    (void) event;
    (void) context;
    server_exit();
}

/* trigger_client_finish - stop watching a client, then serve what it sent */
static void trigger_client_finish(TRIGGER_CLIENT *cl)
{
    TRIGGER_CLIENT **pp;

    for (pp = &trigger_clients; *pp && *pp != cl; pp = &(*pp)->next)
         /* void */ ;
    if (*pp)
        *pp = cl->next;
    trigger_nclients--;
    event_disable_readwrite(cl->fd);
    event_cancel_timer(trigger_client_event, cl);
    close(cl->fd);
    if (cl->len > 0)
        trigger_server_serve(cl->buf, cl->len);
    xfree(cl);
}

/* trigger_client_event - a client sent bytes, hung up, or ran out of time */
static void trigger_client_event(int event, void *context)
{
    TRIGGER_CLIENT *cl = context;
    ssize_t n;

    if (event != EVENT_TIME) {
        n = read(cl->fd, cl->buf + cl->len, sizeof(cl->buf) - cl->len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        if (n > 0 && (cl->len += (size_t) n) < sizeof(cl->buf))
            return;
    }
    trigger_client_finish(cl);
}

/* trigger_client_watch - read a new client from the loop, with a deadline */
static void trigger_client_watch(int fd)
{
    TRIGGER_CLIENT *cl = xcalloc(1, sizeof(*cl));
    TRIGGER_CLIENT **pp;

    if (trigger_nclients >= TRIGGER_CLIENTS_MAX)
        trigger_client_finish(trigger_clients);
    cl->fd = fd;
    for (pp = &trigger_clients; *pp; pp = &(*pp)->next)
         /* void */ ;
    *pp = cl;
    trigger_nclients++;
    event_enable_read(fd, trigger_client_event, cl);
    event_request_timer(trigger_client_event, cl, TRIGGER_READ_TIMEOUT_MS);
}

/* trigger_server_serve - one trigger's bytes to the routine. Clients are
 * read from the event loop, so we are always available to the master:
 * it hears BUSY and IDLE around the first trigger only (then it knows we
 * served, for its crash throttle), not around each of them, which cost
 * two writes and two master wake-ups per message (qmgr gets a trigger
 * for every message cleanup queues). */
static void trigger_server_serve(const char *buf, size_t len)
{
    int     first = server_state.use_count == 0;

    server_idle_stop();
    if (first)
        server_notify(MASTER_STAT_BUSY);
    server_state.use_count++;
    server_watchdog();
    trigger_server_service(buf, len, &server_state.ctx);
    if (server_state.retired || server_use_exhausted())
        server_exit();
    if (first)
        server_notify(MASTER_STAT_IDLE);
    if (server_state.retired)
        server_exit();
    server_idle_start();
}

/* trigger_server_event - a listener is readable: a fifo's bytes are served
 * at once, a socket's new client is watched */
static void trigger_server_event(int event, void *context)
{
    char    buf[TRIGGER_BUF_SIZE];
    int     fd = (int) (long) context;
    struct stat st;
    ssize_t n;
    int     client;

    (void) event;
    if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
        /* The fifo stays open; take what is there now (non-blocking). */
        if ((n = read(fd, buf, sizeof(buf))) > 0)
            trigger_server_serve(buf, (size_t) n);
        return;
    }
    client = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (client < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept: %m");
        return;
    }
    trigger_client_watch(client);
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
