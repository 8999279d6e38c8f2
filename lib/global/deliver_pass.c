/* deliver_pass - one recipient to another agent; see deliver_pass.h. */
#include <stdio.h>
#include <string.h>

#include "attr.h"
#include "config.h"
#include "deliver_pass.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "stream.h"

/* deliver_pass_fail - the pass failed: -1 with a reason */
static int deliver_pass_fail(char *dsn, size_t dsnlen, BUF *why, const char *transport,
                             const char *what)
{
    BUF    *text = buf_alloc(64);

    buf_sprintf(text, "mail transport %s: %s", transport, what);
    snprintf(dsn, dsnlen, "4.3.0");
    buf_set(why, buf_str(text));
    buf_free(text);
    return -1;
}

int     deliver_pass(const char *transport, const DELIVER_REQUEST *req, const char *sender,
                     const char *address, const DELIVER_RCPT *rcpt, char *dsn, size_t dsnlen,
                     BUF *why)
{
    const char *colon = strchr(transport, ':');
    BUF    *name = buf_alloc(32), *rdsn = buf_alloc(16), *reason = buf_alloc(64);
    const char *nexthop = colon && colon[1] ? colon + 1 : req->nexthop;
    STREAM *s = NULL;
    long    offset;
    int     fd, status = -1, done = -1, ret;

    buf_append(name, transport, colon ? (size_t) (colon - transport) : strlen(transport));
    if ((fd = mail_connect(NULL, buf_str(name), why)) < 0) {
        ret = deliver_pass_fail(dsn, dsnlen, why, buf_str(name), "unavailable");
        goto out;
    }
    s = stream_fdopen(fd);
    stream_set_timeout(s, (int) config_time(P_ipc_timeout));
    if (attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, 0), SEND_STR(MAIL_ATTR_QUEUE, req->queue_name),
                  SEND_STR(MAIL_ATTR_QUEUEID, req->queue_id),
                  SEND_LONG(MAIL_ATTR_OFFSET, req->data_offset),
                  SEND_LONG(MAIL_ATTR_SIZE, req->data_size), SEND_STR(MAIL_ATTR_NEXTHOP, nexthop),
                  SEND_STR(MAIL_ATTR_SENDER, sender), SEND_STR(MAIL_ATTR_ENVID, req->dsn_envid),
                  SEND_STR(MAIL_ATTR_RET, req->dsn_ret), SEND_LONG(MAIL_ATTR_ARRIVAL, req->arrival),
                  SEND_INT(MAIL_ATTR_NRCPT, 1), ATTR_END) < 0
        || attr_send(s, SEND_STR(MAIL_ATTR_ORCPT, rcpt->orig_addr),
                     SEND_STR(MAIL_ATTR_RECIP, address),
                     SEND_STR(MAIL_ATTR_DSN_ORCPT, rcpt->dsn_orcpt),
                     SEND_INT(MAIL_ATTR_DSN_NOTIFY, rcpt->dsn_notify),
                     SEND_LONG(MAIL_ATTR_OFFSET, rcpt->offset), ATTR_END) < 0) {
        ret = deliver_pass_fail(dsn, dsnlen, why, buf_str(name), attr_last_error());
        goto out;
    }
    /* One recipient result, then the final status. */
    if (attr_recv(s, RECV_LONG(MAIL_ATTR_OFFSET, &offset), RECV_INT(MAIL_ATTR_STATUS, &status),
                  RECV_STR(MAIL_ATTR_DSN_STATUS, rdsn), RECV_STR(MAIL_ATTR_WHY, reason),
                  ATTR_END) < 0
        || attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &done), ATTR_END) < 0) {
        ret = deliver_pass_fail(dsn, dsnlen, why, buf_str(name), attr_last_error());
        goto out;
    }
    if (offset != rcpt->offset || (status != DELIVER_STAT_OK && status != DELIVER_STAT_DEFER
                                   && status != DELIVER_STAT_BOUNCE)
        || buf_len(rdsn) < 5 || buf_len(rdsn) >= dsnlen) {
        ret = deliver_pass_fail(dsn, dsnlen, why, buf_str(name), "malformed reply");
        goto out;
    }
    snprintf(dsn, dsnlen, "%s", buf_str(rdsn));
    buf_set(why, buf_str(reason));
    ret = status;
  out:
    if (s)
        stream_close(s);
    buf_free(name);
    buf_free(rdsn);
    buf_free(reason);
    return ret;
}
