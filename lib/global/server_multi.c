/* server_multi - the many-clients-at-once daemon flavour (cleanup).
 *
 * The service routine takes each new client's STREAM and drives it from
 * the event loop; it calls multi_server_disconnect() when the client is
 * done. The process stays available to the master while it has clients,
 * so one process normally serves them all; it stops taking clients once
 * max_use have connected, and exits when the last one is gone.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master_proto.h"
#include "msg.h"
#include "server_private.h"

static MULTI_SERVER_FN multi_server_service;
static int multi_server_clients;        /* connected right now */

/* multi_server_maybe_exit - leave once no client needs us */
static void multi_server_maybe_exit(void)
{
    if (multi_server_clients == 0 && (server_state.retired || server_use_exhausted()))
        server_exit();
}

/* multi_server_retire - the master retired us: take nobody new */
static void multi_server_retire(int event, void *context)
{
    (void) event;
    (void) context;
    server_unlisten();
    multi_server_maybe_exit();
}

/* multi_server_accept - a listener is readable: hand a client to the routine */
static void multi_server_accept(int event, void *context)
{
    int     fd = (int) (long) context;
    int     client, first;

    (void) event;
    client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept: %m");
        return;
    }
    server_idle_stop();
    /* We stay available while we take clients, so the master needs to
     * hear from us only twice: BUSY/IDLE around the first client (it then
     * knows we served, for its crash throttle) and BUSY once max_use is
     * reached. A BUSY/IDLE pair per client cost cleanup two writes and
     * the master two wake-ups per message, and in between made the master
     * think no process was available. */
    first = server_state.use_count == 0;
    if (first)
        server_notify(MASTER_STAT_BUSY);
    multi_server_clients++;
    server_state.use_count++;
    server_watchdog();
    multi_server_service(stream_fdopen(client), &server_state.ctx);
    if (server_use_exhausted()) {
        /* Stay BUSY for the master so that it starts a successor. */
        if (!first)
            server_notify(MASTER_STAT_BUSY);
        server_unlisten();
        return;
    }
    if (first)
        server_notify(MASTER_STAT_IDLE);
    if (server_state.retired)
        server_unlisten();
}

/* multi_server_disconnect - see server.h */
void multi_server_disconnect(STREAM *client)
{
    event_disable_readwrite(stream_fd(client));
    (void) stream_close(client);
    if (multi_server_clients > 0)
        multi_server_clients--;
    multi_server_maybe_exit();
    if (multi_server_clients == 0)
        server_idle_start();
}

/* multi_server_busy - see server.h */
void multi_server_busy(int busy)
{
    if (busy)
        server_notify(MASTER_STAT_BUSY);
    else if (!server_use_exhausted())
        server_notify(MASTER_STAT_IDLE);
}

/* multi_server_main - see server.h */
void multi_server_main(int argc, char **argv, MULTI_SERVER_FN service,
                       const SERVER_HOOKS *hooks)
{
    int     i;

    multi_server_service = service;
    server_init(argc, argv, hooks, multi_server_retire);
    for (i = 0; i < server_state.nlisten; i++)
        event_enable_read(MASTER_LISTEN_FD + i, multi_server_accept,
                          (void *) (long) (MASTER_LISTEN_FD + i));
    server_idle_start();
    server_loop();
}
