/* server_dgram - the datagram daemon flavour (postlogd).
 *
 * The listener is a unix-dgram socket that the master bound and keeps:
 * clients send one datagram per request and never wait for an answer, so
 * there is no connection to accept. Datagrams sent while no process reads
 * (before the first start, across a reload or a crash) wait in the
 * socket, which outlives every daemon; nothing is lost in between. Each
 * readable event takes up to DGRAM_BATCH datagrams, each at most
 * DGRAM_BUF_SIZE bytes (longer ones are cut), hands them to the routine
 * one by one, then calls the batch_end hook (postlogd writes the batch
 * there). max_use does not apply (a log server that exits after so many
 * lines only makes clients wait); max_idle does.
 *
 * The master hears BUSY and IDLE once, at the first event (BUSY tells it
 * the process got past its start-up), never per event: a batch takes
 * microseconds, and a status pair per batch was two writes and two
 * master wake-ups for every few log lines. The master never needs a
 * second reader (Debian's postlog line has a process limit of 1, and one
 * reader keeps up with every client), and a stuck one meets the watchdog.
 */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "event.h"
#include "master_proto.h"
#include "msg.h"
#include "server_private.h"

#define DGRAM_BATCH 64                  /* datagrams per event, then the loop again */

static DGRAM_SERVER_FN dgram_server_service;
static int dgram_server_reported;       /* the master heard BUSY and IDLE */

/* dgram_server_retire - the master retired us: go (nothing is lost: what
 * clients send meanwhile waits in the master's socket for our successor) */
static void dgram_server_retire(int event, void *context)
{
    (void) event;
    (void) context;
    server_exit();
}

/* dgram_server_event - the socket is readable: serve what is there */
static void dgram_server_event(int event, void *context)
{
    static char buf[DGRAM_BUF_SIZE + 1];
    int     fd = (int) (long) context;
    ssize_t n;
    int     i;

    (void) event;
    server_idle_stop();
    if (!dgram_server_reported) {
        server_notify(MASTER_STAT_BUSY);
        server_notify(MASTER_STAT_IDLE);
        dgram_server_reported = 1;
    }
    server_watchdog();
    for (i = 0; i < DGRAM_BATCH; i++) {
        n = recv(fd, buf, DGRAM_BUF_SIZE, MSG_DONTWAIT);
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                msg_warn("recv: %m");
            break;
        }
        buf[n] = 0;
        dgram_server_service(buf, (size_t) n, &server_state.ctx);
    }
    if (server_state.hooks->batch_end)
        server_state.hooks->batch_end(&server_state.ctx);
    if (server_state.retired)
        server_exit();
    server_idle_start();
}

/* dgram_server_main - see server.h */
void dgram_server_main(int argc, char **argv, DGRAM_SERVER_FN service,
                       const SERVER_HOOKS *hooks)
{
    int     i;

    dgram_server_service = service;
    server_init(argc, argv, hooks, dgram_server_retire);
    for (i = 0; i < server_state.nlisten; i++)
        event_enable_read(MASTER_LISTEN_FD + i, dgram_server_event,
                          (void *) (long) (MASTER_LISTEN_FD + i));
    server_idle_start();
    server_loop();
}
