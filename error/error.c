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
 *     `ID: to=<r>, relay=none, delay=N, dsn=5.0.0, status=bounced (why)`.
 *
 * SECURITY
 *     Runs as $mail_owner. It never opens the queue file: everything it
 *     needs is in the request.
 *
 * PARAMETERS
 *     None of its own.
 */
#include <string.h>
#include <sys/time.h>

#include "attr.h"
#include "error.h"
#include "mail_proto.h"
#include "msg.h"
#include "server.h"

/* error_service - one request */
static void error_service(STREAM *client, const SERVER_CTX *ctx)
{
    BUF    *queue = buf_alloc(16), *id = buf_alloc(32), *nexthop = buf_alloc(64);
    BUF    *sender = buf_alloc(32), *envid = buf_alloc(16), *ret = buf_alloc(16);
    BUF    *orig = buf_alloc(32), *rcpt = buf_alloc(32), *orcpt = buf_alloc(32);
    BUF    *dsn = buf_alloc(16), *reason = buf_alloc(64);
    long    offset, size, arrival, roff;
    int     flags, nrcpt, notify, i, status, retry = strcmp(ctx->service, "retry") == 0;
    struct timeval now;

    if (attr_recv(client, RECV_INT(MAIL_ATTR_FLAGS, &flags), RECV_STR(MAIL_ATTR_QUEUE, queue),
                  RECV_STR(MAIL_ATTR_QUEUEID, id), RECV_LONG(MAIL_ATTR_OFFSET, &offset),
                  RECV_LONG(MAIL_ATTR_SIZE, &size), RECV_STR(MAIL_ATTR_NEXTHOP, nexthop),
                  RECV_STR(MAIL_ATTR_SENDER, sender), RECV_STR(MAIL_ATTR_ENVID, envid),
                  RECV_STR(MAIL_ATTR_RET, ret), RECV_LONG(MAIL_ATTR_ARRIVAL, &arrival),
                  RECV_INT(MAIL_ATTR_NRCPT, &nrcpt), ATTR_END) < 0) {
        if (!attr_last_eof())
            msg_warn("bad delivery request: %s", attr_last_error());
        goto out;
    }
    status = error_status(buf_str(nexthop), retry, dsn, reason);
    gettimeofday(&now, NULL);
    for (i = 0; i < nrcpt; i++) {
        if (attr_recv(client, RECV_STR(MAIL_ATTR_ORCPT, orig), RECV_STR(MAIL_ATTR_RECIP, rcpt),
                      RECV_STR(MAIL_ATTR_DSN_ORCPT, orcpt), RECV_INT(MAIL_ATTR_DSN_NOTIFY, &notify),
                      RECV_LONG(MAIL_ATTR_OFFSET, &roff), ATTR_END) < 0) {
            msg_warn("%s: bad recipient in delivery request: %s", buf_str(id), attr_last_error());
            goto out;
        }
        msg_info("%s: to=<%s>, relay=none, delay=%ld, dsn=%s, status=%s (%s)", buf_str(id),
                 buf_str(rcpt), (long) now.tv_sec - arrival, buf_str(dsn),
                 status == DELIVER_STAT_DEFER ? "deferred" : "bounced", buf_str(reason));
        if (attr_send(client, SEND_LONG(MAIL_ATTR_OFFSET, roff), SEND_INT(MAIL_ATTR_STATUS, status),
                      SEND_STR(MAIL_ATTR_DSN_STATUS, buf_str(dsn)),
                      SEND_STR(MAIL_ATTR_WHY, buf_str(reason)), ATTR_END) < 0)
            goto out;
    }
    attr_send(client, SEND_INT(MAIL_ATTR_STATUS, 0), ATTR_END);
out:
    buf_free(queue); buf_free(id); buf_free(nexthop); buf_free(sender); buf_free(envid);
    buf_free(ret); buf_free(orig); buf_free(rcpt); buf_free(orcpt); buf_free(dsn);
    buf_free(reason);
}

int main(int argc, char **argv)
{
    single_server_main(argc, argv, error_service, NULL);
}
