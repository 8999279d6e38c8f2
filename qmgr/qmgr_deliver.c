/* qmgr_deliver - the client side of the delivery protocol (mail_proto.h).
 *
 * One request per connection to private/<transport>: the message and
 * its recipients go out, then one reply per recipient (matched by the
 * offset of its R record, each at most once) and a final status. A
 * recipient the agent never reported is deferred by qmgr
 * ("unknown mail transport error"); an agent that can't be reached at all
 * throttles its transport ("mail transport unavailable"). The request's
 * flags carry the connection cache hints (qmgr_deliver_flags). A reply that
 * breaks the protocol ends the conversation like a crash: our own daemon
 * misbehaving must not stop the queue.
 */
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "config.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

#define QMGR_ERR_UNAVAILABLE    "mail transport unavailable"
#define QMGR_ERR_CRASH          "unknown mail transport error"

/* qmgr_deliver_flags - the connection cache hints (Postfix's
 * DEL_REQ_FLAG_CONN_STORE/LOAD): while more mail for the destination
 * waits, or another delivery to it is under way (q->busy counts this
 * one too), or (window above 1, as in Postfix) deliveries come back to
 * back (one of the queue's requests ended within the last second), the
 * agent may keep its session for it; once that was said, the later
 * requests look for the kept session, the last one included.
 * Concurrent deliveries count because under steady load the backlog is
 * often empty at the moment a request starts although mail keeps coming:
 * bench/compare's relay case opened 540-705 sessions per 1000 messages
 * on the backlog rule alone, 132-276 with this one (doc/performance.md).
 * Back-to-back ones count for mail that comes one message at a time,
 * each soon after the previous delivery (qmgr_sched.c keeps the idle
 * queue that second so the hint survives). */
static int qmgr_deliver_flags(QMGR_QUEUE *q)
{
    int     more = q->todo != NULL || q->busy > 1
        || (q->window > 1 && qmgr_queue_back_to_back(q));

    if (more)
        q->conn_cache = 1;
    if (!q->conn_cache)
        return 0;
    return DELIVER_FLAG_CONN_LOAD | (more ? DELIVER_FLAG_CONN_STORE : 0);
}

/* qmgr_deliver_request - encode the request and its recipients */
static void qmgr_deliver_request(const QMGR_ENTRY *e, BUF *out)
{
    const QMGR_MESSAGE *m = e->message;
    STREAM *s = qmgr_attr_writer(out);
    const QMGR_RCPT *r;
    int     i, err;

    err = attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, qmgr_deliver_flags(e->queue)),
                    SEND_STR(MAIL_ATTR_QUEUE, MAIL_QUEUE_ACTIVE),
                    SEND_STR(MAIL_ATTR_QUEUEID, m->id),
                    SEND_LONG(MAIL_ATTR_OFFSET, m->data_offset),
                    SEND_LONG(MAIL_ATTR_SIZE, m->content_size),
                    SEND_STR(MAIL_ATTR_NEXTHOP, e->queue->nexthop),
                    SEND_STR(MAIL_ATTR_SENDER, m->sender),
                    SEND_STR(MAIL_ATTR_ENVID, m->envid),
                    SEND_STR(MAIL_ATTR_RET, m->ret),
                    SEND_LONG(MAIL_ATTR_ARRIVAL, (long) m->arrival.tv_sec),
                    SEND_INT(MAIL_ATTR_NRCPT, e->nrcpt), ATTR_END);
    for (i = 0; err == 0 && i < e->nrcpt; i++) {
        r = &m->rcpt[e->rcpt[i]];
        err = attr_send(s, SEND_STR(MAIL_ATTR_ORCPT, r->orig),
                        SEND_STR(MAIL_ATTR_RECIP, r->address),
                        SEND_STR(MAIL_ATTR_DSN_ORCPT, r->dsn_orcpt),
                        SEND_INT(MAIL_ATTR_DSN_NOTIFY, r->dsn_notify),
                        SEND_LONG(MAIL_ATTR_OFFSET, r->offset), ATTR_END);
    }
    if (err)
        msg_panic("%s: cannot encode a delivery request: %s", m->id, attr_last_error());
    stream_release(s);
}

/* qmgr_deliver_finish - defer what the agent did not report; end the
 * entry (how: QMGR_DONE_*) */
static void qmgr_deliver_finish(QMGR_ENTRY *e, const char *reason, int how)
{
    QMGR_MESSAGE *m = e->message;
    int     i;

    for (i = 0; i < e->nrcpt; i++)
        if (!e->reported[i])
            qmgr_rcpt_defer(m, e->rcpt[i], NULL, "4.3.0", reason);
    qmgr_entry_done(e, how);
}

/* qmgr_deliver_deferred - the agent deferred recipient i; the last reason
 * is kept: if the destination turns out dead, its waiting mail gets it */
static void qmgr_deliver_deferred(QMGR_ENTRY *e, int i, const char *relay, const char *dsn,
                                  const char *reason)
{
    const char *d = dsn[0] == '4' ? dsn : "4.3.0";

    snprintf(e->defer_dsn, sizeof(e->defer_dsn), "%s", d);
    if (e->defer_reason == NULL)
        e->defer_reason = buf_alloc(64);
    buf_set(e->defer_reason, reason);
    qmgr_rcpt_defer(e->message, e->rcpt[i], relay, d, reason);
}

/* qmgr_deliver_result - one recipient's result {offset, status, dsn, reason} */
static int qmgr_deliver_result(QMGR_ENTRY *e, STREAM *s)
{
    BUF    *dsn = buf_alloc(16);
    BUF    *reason = buf_alloc(64);
    const char *relay = e->queue->transport->name;
    long    offset;
    int     status, i, ret = -1;

    if (attr_recv(s, RECV_LONG(MAIL_ATTR_OFFSET, &offset), RECV_INT(MAIL_ATTR_STATUS, &status),
                  RECV_STR(MAIL_ATTR_DSN_STATUS, dsn), RECV_STR(MAIL_ATTR_WHY, reason),
                  ATTR_END) == 0) {
        for (i = 0; i < e->nrcpt; i++) {
            if (e->message->rcpt[e->rcpt[i]].offset != offset || e->reported[i])
                continue;
            e->reported[i] = 1;
            ret = 0;
            if (status == DELIVER_STAT_OK)
                qmgr_rcpt_delivered(e->message, e->rcpt[i], buf_str(dsn), buf_str(reason), relay);
            else if (status == DELIVER_STAT_BOUNCE)
                qmgr_rcpt_bounce(e->message, e->rcpt[i], relay, buf_str(dsn), buf_str(reason));
            else
                qmgr_deliver_deferred(e, i, relay, buf_str(dsn), buf_str(reason));
            break;
        }
        if (ret < 0)
            msg_warn("%s: transport %s: reply for an unknown or repeated recipient offset %ld",
                     e->message->id, relay, offset);
    } else {
        msg_warn("%s: transport %s: bad recipient reply: %s", e->message->id, relay,
                 attr_last_error());
    }
    buf_free(dsn);
    buf_free(reason);
    return ret;
}

/* qmgr_deliver_list - one reply list arrived; 1: the request is over */
static int qmgr_deliver_list(QMGR_IPC *ipc, const char *data, size_t len, void *ctx)
{
    QMGR_ENTRY *e = ctx;
    STREAM *s = stream_memopen(data, len);
    size_t  off_len = strlen(MAIL_ATTR_OFFSET) + 1;
    int     status;

    (void) ipc;
    if (len > off_len && memcmp(data, MAIL_ATTR_OFFSET, off_len) == 0) {
        if (qmgr_deliver_result(e, s) == 0) {
            stream_close(s);
            return 0;
        }
        qmgr_deliver_finish(e, QMGR_ERR_CRASH, QMGR_DONE_NEUTRAL);
    } else if (attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status), ATTR_END) == 0) {
        qmgr_deliver_finish(e, QMGR_ERR_CRASH, status == DELIVER_DONE_OK ? QMGR_DONE_OK
                            : status == DELIVER_DONE_SITE_FAIL ? QMGR_DONE_SITE_FAIL
                            : QMGR_DONE_NEUTRAL);
    } else {
        msg_warn("%s: transport %s: bad final reply: %s", e->message->id,
                 e->queue->transport->name, attr_last_error());
        qmgr_deliver_finish(e, QMGR_ERR_CRASH, QMGR_DONE_NEUTRAL);
    }
    stream_close(s);
    return 1;
}

/* qmgr_deliver_end - the conversation ended before the final status */
static void qmgr_deliver_end(QMGR_IPC *ipc, int how, void *ctx)
{
    QMGR_ENTRY *e = ctx;
    QMGR_TRANSPORT *t = e->queue->transport;

    (void) ipc;
    if (how == QMGR_IPC_UNAVAILABLE) {
        qmgr_deliver_finish(e, QMGR_ERR_UNAVAILABLE, QMGR_DONE_NEUTRAL);
        qmgr_transport_throttle(t, QMGR_ERR_UNAVAILABLE);
    } else {
        msg_warn("%s: transport %s: connection lost before the delivery status",
                 e->message->id, t->name);
        qmgr_deliver_finish(e, QMGR_ERR_CRASH, QMGR_DONE_NEUTRAL);
    }
}

/* qmgr_deliver - start one delivery request */
void qmgr_deliver(QMGR_ENTRY *e)
{
    BUF    *req = buf_alloc(1024);
    BUF    *path = buf_alloc(64);
    QMGR_TRANSPORT *t = e->queue->transport;

    qmgr_deliver_request(e, req);
    buf_sprintf(path, "%s/%s", MAIL_QUEUE_PRIVATE, t->name);
    if (qmgr_ipc_start(buf_str(path), req, config_time(P_ipc_timeout), qmgr_deliver_list,
                       qmgr_deliver_end, e) == NULL) {
        msg_warn("connect to transport %s: %m", buf_str(path));
        qmgr_deliver_finish(e, QMGR_ERR_UNAVAILABLE, QMGR_DONE_NEUTRAL);
        qmgr_transport_throttle(t, QMGR_ERR_UNAVAILABLE);
    }
    buf_free(req);
    buf_free(path);
}
