/* cleanup_service - one client of private/cleanup, driven by the event loop.
 *
 * Per client: read {flags}, make the queue file and answer {queue_id};
 * then take the records as they come (cleanup_input keeps its place
 * between reads, so a slow client never holds up the others); after E,
 * commit and answer {status, reason}, then hang up. A client that goes
 * away, or stays silent for $ipc_timeout, loses its unfinished file.
 */
#include <errno.h>
#include <unistd.h>

#include "attr.h"
#include "cleanup.h"
#include "event.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "server.h"

#define CLEANUP_READ_SIZE   (64 * 1024)
#define CLEANUP_FLAG_MASK   (CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_EXTRACT \
                             | CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_BOUNCE | CLEANUP_FLAG_HOLD \
                             | CLEANUP_FLAG_MILTER | CLEANUP_FLAG_SMTPD_MILTERS)

typedef struct CLEANUP_CLIENT {
    STREAM *stream;
    CLEANUP_STATE *state;           /* NULL until {flags} was read */
} CLEANUP_CLIENT;

static void cleanup_client_timeout(int event, void *context);

/* cleanup_client_done - release the client; an uncommitted file goes too */
static void cleanup_client_done(CLEANUP_CLIENT *cl)
{
    event_cancel_timer(cleanup_client_timeout, cl);
    if (cl->state)
        cleanup_free(cl->state);
    multi_server_disconnect(cl->stream);
    xfree(cl);
}

/* cleanup_client_timeout - the client went silent */
static void cleanup_client_timeout(int event, void *context)
{
    CLEANUP_CLIENT *cl = context;

    (void) event;
    msg_warn("%s: timeout reading from the client -- message not queued",
             cl->state ? cl->state->queue_id : "cleanup");
    cleanup_client_done(cl);
}

/* cleanup_client_timer - (re)start the silence timer */
static void cleanup_client_timer(CLEANUP_CLIENT *cl)
{
    event_request_timer(cleanup_client_timeout, cl, cleanup_conf.ipc_timeout * 1000L);
}

/* cleanup_client_reply - the end: commit or not, tell the client, hang up */
static void cleanup_client_reply(CLEANUP_CLIENT *cl)
{
    int     status = cleanup_finish(cl->state);

    (void) attr_send(cl->stream, SEND_INT(MAIL_ATTR_STATUS, status),
                     SEND_STR(MAIL_ATTR_WHY, buf_str(cl->state->reason)), ATTR_END);
    cleanup_client_done(cl);
}

/* cleanup_client_feed - bytes to the record reader; 1 when the client is done */
static int cleanup_client_feed(CLEANUP_CLIENT *cl, const char *buf, size_t len)
{
    if (cleanup_input(cl->state, buf, len) == CLEANUP_IN_MORE)
        return 0;
    cleanup_client_reply(cl);
    return 1;
}

/* cleanup_client_read - records are arriving */
static void cleanup_client_read(int event, void *context)
{
    CLEANUP_CLIENT *cl = context;
    char    buf[CLEANUP_READ_SIZE];
    ssize_t n;

    (void) event;
    n = read(stream_fd(cl->stream), buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        msg_warn("%s: lost connection with the client -- message not queued",
                 cl->state->queue_id);
        cleanup_client_done(cl);
        return;
    }
    cleanup_client_timer(cl);
    (void) cleanup_client_feed(cl, buf, (size_t) n);
}

/* cleanup_client_records - from now on the client sends records */
static void cleanup_client_records(CLEANUP_CLIENT *cl)
{
    char    buf[CLEANUP_READ_SIZE];
    size_t  n;

    /* Records the client sent along with {flags}, already read ahead. */
    while ((n = stream_buffered(cl->stream)) > 0) {
        if (n > sizeof(buf))
            n = sizeof(buf);
        if (stream_read(cl->stream, buf, n) != (ssize_t) n) {
            cleanup_client_done(cl);
            return;
        }
        if (cleanup_client_feed(cl, buf, n))
            return;
    }
    cleanup_client_timer(cl);
    event_enable_read(stream_fd(cl->stream), cleanup_client_read, cl);
}

/* cleanup_client_milters - smtpd's filter sessions are arriving
 * (CLEANUP_FLAG_SMTPD_MILTERS): read without blocking, then the records */
static void cleanup_client_milters(int event, void *context)
{
    CLEANUP_CLIENT *cl = context;
    int     r;

    (void) event;
    if ((r = cleanup_milter_receive(cl->state, stream_fd(cl->stream))) < 0) {
        cleanup_client_done(cl);
        return;
    }
    cleanup_client_timer(cl);
    if (r == 1)
        cleanup_client_records(cl);
}

/* cleanup_client_start - {flags} in, queue file made, {queue_id} out */
static void cleanup_client_start(int event, void *context)
{
    CLEANUP_CLIENT *cl = context;
    BUF    *why;
    int     flags;

    (void) event;
    if (attr_recv(cl->stream, RECV_INT(MAIL_ATTR_FLAGS, &flags), ATTR_END) < 0) {
        if (!attr_last_eof())
            msg_warn("cleanup: bad request from the client: %s", attr_last_error());
        cleanup_client_done(cl);
        return;
    }
    why = buf_alloc(100);
    if ((cl->state = cleanup_open(flags & CLEANUP_FLAG_MASK, why)) == NULL) {
        msg_warn("cannot create a queue file: %s", buf_str(why));
        (void) attr_send(cl->stream, SEND_STR(MAIL_ATTR_QUEUEID, ""), ATTR_END);
        buf_free(why);
        cleanup_client_done(cl);
        return;
    }
    buf_free(why);
    if (attr_send(cl->stream, SEND_STR(MAIL_ATTR_QUEUEID, cl->state->queue_id), ATTR_END) < 0) {
        cleanup_client_done(cl);
        return;
    }
    if (flags & CLEANUP_FLAG_SMTPD_MILTERS) {
        /* smtpd waited for {queue_id}: nothing can have been read ahead,
         * and the sockets ride on the next bytes (SCM_RIGHTS). */
        if (stream_buffered(cl->stream) > 0) {
            msg_warn("%s: records before the milter hand-over", cl->state->queue_id);
            cleanup_client_done(cl);
            return;
        }
        cleanup_client_timer(cl);
        event_enable_read(stream_fd(cl->stream), cleanup_client_milters, cl);
        return;
    }
    cleanup_client_records(cl);
}

/* cleanup_service - a new client (multi_server routine) */
void cleanup_service(STREAM *client, const SERVER_CTX *ctx)
{
    CLEANUP_CLIENT *cl = xcalloc(1, sizeof(*cl));

    (void) ctx;
    cl->stream = client;
    stream_set_timeout(client, cleanup_conf.ipc_timeout);
    cleanup_client_timer(cl);
    event_enable_read(stream_fd(client), cleanup_client_start, cl);
}
