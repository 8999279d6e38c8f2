/* discard - the surel discard delivery agent
 *
 * SYNOPSIS
 *     discard [generic daemon options]    (master.cf: discard)
 *
 * DESCRIPTION
 *     Postfix's discard(8): it pretends to deliver every recipient of a
 *     delivery request (the delivery protocol of mail_proto.h) and
 *     throws the message away. The request's nexthop is the reason that
 *     is logged, so `transport_maps` entries such as
 *         spam.example   discard:silently
 *     log `ID: to=<r>, relay=none, delay=N, delays=..., dsn=2.0.0,
 *     status=sent (silently)` (deliver_log.h). As in Postfix (dsn_split)
 *     the nexthop may start with a status code ("2.7.1 policy") whose
 *     detail replaces 2.0.0; the class stays 2, since the recipient is
 *     done (Postfix reports it with sent() whatever the class). Without
 *     a nexthop (not possible through resolve, which fills in the
 *     domain) the reason is "discarded".
 *
 * SECURITY
 *     Runs as $mail_owner, confined read-only. It never opens the queue
 *     file: everything it needs is in the request, and qmgr marks the
 *     recipients done and removes the file.
 *
 * PARAMETERS
 *     None of its own.
 */
#include <string.h>

#include "deliver_log.h"
#include "deliver_request.h"
#include "dsn.h"
#include "mail_proto.h"
#include "msg.h"
#include "server.h"

/* discard_status - the DSN code and reason for a nexthop */
static void discard_status(const char *nexthop, BUF *dsn, BUF *reason)
{
    size_t  n = dsn_code_prefix(nexthop);
    const char *text = nexthop + n;

    while (*text == ' ')
        text++;
    buf_set(reason, *text ? text : "discarded");
    if (n > 0) {
        buf_reset(dsn);
        buf_append(dsn, nexthop, n);
        buf_str(dsn)[0] = '2';          /* delivered, whatever the class said */
    } else {
        buf_set(dsn, "2.0.0");
    }
}

/* discard_request - every recipient of one request is sent; -1 when qmgr is gone */
static int discard_request(STREAM *client, DELIVER_REQUEST *req)
{
    BUF    *dsn = buf_alloc(16), *reason = buf_alloc(64);
    int     i, ret = 0;

    discard_status(req->nexthop, dsn, reason);
    for (i = 0; i < req->nrcpt && ret == 0; i++) {
        DELIVER_LOG ev = {.queue_id = req->queue_id, .to = req->rcpt[i].address,
            .orig_to = req->rcpt[i].orig_addr, .relay = "none",
            .arrival = {req->arrival, 0}, .handoff = req->start, .dsn = buf_str(dsn),
        .status = deliver_log_status(DELIVER_STAT_OK), .reason = buf_str(reason)};

        deliver_log(&ev);
        ret = deliver_reply_rcpt(client, &req->rcpt[i], DELIVER_STAT_OK, buf_str(dsn),
                                 buf_str(reason));
    }
    if (ret == 0)
        ret = deliver_reply_done(client, 0);
    buf_free(dsn);
    buf_free(reason);
    return ret;
}

/* discard_service - one client (qmgr): requests until it hangs up */
static void discard_service(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    deliver_request_serve(client, discard_request);
}

int main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "discard"};

    single_server_main(argc, argv, discard_service, &hooks);
}
