/* deliver_pass - hand one recipient to another delivery agent, as qmgr
 * would (Postfix's deliver_pass): local's mailbox_transport.
 *
 * The transport is "name" or "name:nexthop" (mailbox_transport =
 * lmtp:unix:private/dovecot-lmtp); without a nexthop the request's own is
 * passed on. One request with one recipient goes to private/<name> over
 * the delivery protocol (mail_proto.h); the other agent delivers, logs the
 * delivery (to=<...>, relay=...), and its result is returned here. The
 * conversation is synchronous (the caller is a single_server agent) and
 * bounded by ipc_timeout. An agent that can't be reached, or breaks the
 * protocol, defers the recipient (4.3.0) with the reason.
 */
#ifndef SUREL_DELIVER_PASS_H
#define SUREL_DELIVER_PASS_H

#include "buf.h"
#include "deliver_request.h"

/* deliver_pass - the other agent's DELIVER_STAT_* with its dsn and why
 * (it logged the result), or -1 with dsn 4.3.0 and why when the pass
 * itself failed (nothing logged: the caller logs). sender and address
 * replace the request's (after alias expansion); rcpt gives the DSN
 * fields and the offset. */
int     deliver_pass(const char *transport, const DELIVER_REQUEST *req, const char *sender,
                     const char *address, const DELIVER_RCPT *rcpt, char *dsn, size_t dsnlen,
                     BUF *why);

#endif
