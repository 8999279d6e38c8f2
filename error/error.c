/* error - the surel error delivery agent
 *
 * SYNOPSIS
 *     error [generic daemon options]    (master.cf: error, retry)
 *
 * DESCRIPTION
 *     Postfix's error(8): a delivery agent that delivers nothing. It reads
 *     delivery requests (the delivery protocol of mail_proto.h) and
 *     answers every recipient with the request's nexthop as the reason:
 *     "error:5.1.1 User unknown" bounces with 5.1.1, "error:4.3.2 busy"
 *     defers; without a code the `error` service bounces (5.0.0) and the
 *     `retry` service defers (4.0.0). The sandbox routes mail for other
 *     domains here ("this sandbox does not deliver to other domains").
 *     Each result is logged in the agents' shape:
 *     `ID: to=<r>, relay=none, delay=N, delays=..., dsn=5.0.0,
 *     status=bounced (why)` (deliver_log.h). Requests are read by
 *     deliver_request.h, with its bounds.
 *
 * SECURITY
 *     Runs as $mail_owner. It never opens the queue file: everything it
 *     needs is in the request.
 *
 * PARAMETERS
 *     None of its own.
 */
#include <string.h>

#include "deliver_log.h"
#include "deliver_request.h"
#include "error.h"
#include "mail_proto.h"
#include "msg.h"
#include "server.h"

/* error_service - one request: every recipient gets the nexthop's answer */
static void error_service(STREAM *client, const SERVER_CTX *ctx)
{
    DELIVER_REQUEST req;
    BUF    *dsn = buf_alloc(16), *reason = buf_alloc(64), *why = buf_alloc(64);
    int     i, status, got, retry = strcmp(ctx->service, "retry") == 0;

    if ((got = deliver_request_read(client, &req, why)) < 0)
        msg_warn("bad delivery request: %s", buf_str(why));
    if (got <= 0)
        goto out;
    status = error_status(req.nexthop, retry, dsn, reason);
    for (i = 0; i < req.nrcpt; i++) {
        DELIVER_LOG ev = {.queue_id = req.queue_id, .to = req.rcpt[i].address,
            .orig_to = req.rcpt[i].orig_addr, .relay = "none", .arrival = {req.arrival, 0},
            .handoff = req.start, .dsn = buf_str(dsn), .status = deliver_log_status(status),
        .reason = buf_str(reason)};

        deliver_log(&ev);
        if (deliver_reply_rcpt(client, &req.rcpt[i], status, buf_str(dsn), buf_str(reason)) < 0)
            goto out;
    }
    deliver_reply_done(client, 0);
out:
    deliver_request_free(&req);
    buf_free(dsn);
    buf_free(reason);
    buf_free(why);
}

int main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "error"};

    single_server_main(argc, argv, error_service, &hooks);
}
