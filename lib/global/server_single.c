/* server_single - the one-client-at-a-time daemon flavour (smtpd, local).
 *
 * Every process of the service watches the shared listeners; whoever
 * accepts first serves the client (the listeners are non-blocking, so the
 * losers of the race just see EAGAIN). While a client is served the
 * process is BUSY for the master, which starts another process when a new
 * client waits and nobody is idle.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "master_proto.h"
#include "msg.h"
#include "server_private.h"

static SINGLE_SERVER_FN single_server_service;

/* single_server_retire - the master retired us; we are idle, so go */
static void single_server_retire(int event, void *context)
{
    (void) event;
    (void) context;
    server_exit();
}

/* single_server_accept - a listener is readable: serve one client */
static void single_server_accept(int event, void *context)
{
    int     fd = (int) (long) context;
    int     client;
    STREAM *stream;

    (void) event;
    client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            && errno != ECONNABORTED)
            msg_warn("accept: %m");
        return;
    }
    server_idle_stop();
    server_notify(MASTER_STAT_BUSY);
    server_state.use_count++;
    stream = stream_fdopen(client);
    server_watchdog();
    single_server_service(stream, &server_state.ctx);
    (void) stream_close(stream);
    if (server_state.retired || server_use_exhausted())
        server_exit();
    server_notify(MASTER_STAT_IDLE);
    if (server_state.retired)           /* the IDLE write found the pipe closed */
        server_exit();
    server_idle_start();
}

/* single_server_main - see server.h */
void single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
                        const SERVER_HOOKS *hooks)
{
    int     i;

    single_server_service = service;
    server_init(argc, argv, hooks, single_server_retire);
    for (i = 0; i < server_state.nlisten; i++)
        event_enable_read(MASTER_LISTEN_FD + i, single_server_accept,
                          (void *) (long) (MASTER_LISTEN_FD + i));
    server_idle_start();
    server_loop();
}
