/* qmgr_bounce - the client side of the bounce protocol (mail_proto.h).
 *
 * One request per connection to private/bounce, one {status} back. The
 * caller's done() always runs exactly once: with the service's status,
 * or with -1 when bounce can't be reached or the conversation breaks,
 * in which case the caller keeps the recipient (never loses it).
 */
#include <string.h>

#include "attr.h"
#include "config.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

typedef struct QMGR_BOUNCE_CTX {
    QMGR_BOUNCE_FN done;
    void   *ctx;
    char   *what;                   /* "ID: request" for log lines */
} QMGR_BOUNCE_CTX;

/* qmgr_bounce_finish - report once and forget */
static void qmgr_bounce_finish(QMGR_BOUNCE_CTX *b, int status)
{
    QMGR_BOUNCE_FN done = b->done;
    void   *ctx = b->ctx;

    xfree(b->what);
    xfree(b);
    done(status, ctx);
}

static int qmgr_bounce_list(QMGR_IPC *ipc, const char *data, size_t len, void *ctx)
{
    QMGR_BOUNCE_CTX *b = ctx;
    STREAM *s = stream_memopen(data, len);
    int     status;

    (void) ipc;
    if (attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status), ATTR_END) < 0) {
        msg_warn("%s: bad reply from the bounce service: %s", b->what, attr_last_error());
        status = -1;
    }
    stream_close(s);
    qmgr_bounce_finish(b, status);
    return 1;
}

static void qmgr_bounce_end(QMGR_IPC *ipc, int how, void *ctx)
{
    QMGR_BOUNCE_CTX *b = ctx;

    (void) ipc;
    msg_warn("%s: bounce service %s", b->what,
             how == QMGR_IPC_UNAVAILABLE ? "unavailable" : "connection lost");
    qmgr_bounce_finish(b, -1);
}

/* qmgr_bounce_send - start the conversation for an encoded request */
static void qmgr_bounce_send(BUF *req, const char *id, const char *request,
                             QMGR_BOUNCE_FN done, void *ctx)
{
    QMGR_BOUNCE_CTX *b = xmalloc(sizeof(*b));
    BUF    *what = buf_alloc(64);
    BUF    *path = buf_alloc(64);

    buf_sprintf(what, "%s: %s", id, request);
    b->done = done;
    b->ctx = ctx;
    b->what = buf_steal(what);
    buf_sprintf(path, "%s/%s", MAIL_QUEUE_PRIVATE, MAIL_SERVICE_BOUNCE);
    if (qmgr_ipc_start(buf_str(path), req, config_time(P_ipc_timeout), qmgr_bounce_list,
                       qmgr_bounce_end, b) == NULL) {
        msg_warn("%s: connect to %s: %m", b->what, buf_str(path));
        qmgr_bounce_finish(b, -1);
    }
    buf_free(path);
}

/* qmgr_bounce_append - log one recipient's status in bounce/ or defer/ */
void qmgr_bounce_append(QMGR_MESSAGE *m, int idx, const char *action, const char *dsn,
                        const char *reason, QMGR_BOUNCE_FN done, void *ctx)
{
    BUF    *req = buf_alloc(512);
    STREAM *s = qmgr_attr_writer(req);
    const QMGR_RCPT *r = &m->rcpt[idx];

    if (attr_send(s, SEND_STR(MAIL_ATTR_REQ, BOUNCE_REQ_APPEND),
                  SEND_STR(MAIL_ATTR_QUEUEID, m->id),
                  SEND_STR(MAIL_ATTR_ORCPT, r->orig),
                  SEND_STR(MAIL_ATTR_RECIP, r->address),
                  SEND_STR(MAIL_ATTR_DSN_ORCPT, r->dsn_orcpt),
                  SEND_INT(MAIL_ATTR_DSN_NOTIFY, r->dsn_notify),
                  SEND_LONG(MAIL_ATTR_OFFSET, r->offset),
                  SEND_STR(MAIL_ATTR_DSN_STATUS, dsn),
                  SEND_STR(MAIL_ATTR_DSN_ACTION, action),
                  SEND_STR(MAIL_ATTR_WHY, reason), ATTR_END) < 0)
        msg_panic("%s: cannot encode a bounce request: %s", m->id, attr_last_error());
    stream_release(s);
    qmgr_bounce_send(req, m->id, BOUNCE_REQ_APPEND, done, ctx);
    buf_free(req);
}

/* qmgr_bounce_flush - flush (send the DSN) or warn (delay notice) */
void qmgr_bounce_flush(QMGR_MESSAGE *m, const char *request, QMGR_BOUNCE_FN done, void *ctx)
{
    BUF    *req = buf_alloc(256);
    STREAM *s = qmgr_attr_writer(req);

    if (attr_send(s, SEND_STR(MAIL_ATTR_REQ, request),
                  SEND_STR(MAIL_ATTR_QUEUEID, m->id),
                  SEND_STR(MAIL_ATTR_QUEUE, MAIL_QUEUE_ACTIVE),
                  SEND_STR(MAIL_ATTR_SENDER, m->sender),
                  SEND_STR(MAIL_ATTR_ENVID, m->envid),
                  SEND_STR(MAIL_ATTR_RET, m->ret), ATTR_END) < 0)
        msg_panic("%s: cannot encode a bounce request: %s", m->id, attr_last_error());
    stream_release(s);
    qmgr_bounce_send(req, m->id, request, done, ctx);
    buf_free(req);
}
