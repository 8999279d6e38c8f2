/* mail_proto - every IPC attribute name and service name, in one place.
 *
 * Requests and replies between daemons are attribute lists (attr.h). The
 * names they use are declared here and nowhere else, so that a grep shows
 * every producer and consumer of a field.
 */
#ifndef SUREL_MAIL_PROTO_H
#define SUREL_MAIL_PROTO_H

/* Services (sockets under private/ or public/). */
#define MAIL_SERVICE_CLEANUP    "cleanup"
#define MAIL_SERVICE_QMGR       "qmgr"
#define MAIL_SERVICE_PICKUP     "pickup"
#define MAIL_SERVICE_BOUNCE     "bounce"
#define MAIL_SERVICE_LOCAL      "local"
#define MAIL_SERVICE_SHOWQ      "showq"     /* public/showq: the queue listing */
#define MAIL_SERVICE_ANVIL      "anvil"     /* private/anvil: connection and rate counts */
#define MAIL_SERVICE_PROXYMAP   "proxymap"  /* private/proxymap: proxy: table lookups */
#define MAIL_SERVICE_SCACHE     "scache"    /* private/scache: idle SMTP sessions */

/* Attribute names. */
#define MAIL_ATTR_PROTO         "protocol"
#define MAIL_ATTR_REQ           "request"
#define MAIL_ATTR_STATUS        "status"
#define MAIL_ATTR_WHY           "reason"
#define MAIL_ATTR_QUEUEID       "queue_id"
#define MAIL_ATTR_FLAGS         "flags"
#define MAIL_ATTR_SENDER        "sender"
#define MAIL_ATTR_RECIP         "recipient"
#define MAIL_ATTR_ORCPT         "original_recipient"
#define MAIL_ATTR_OFFSET        "offset"
#define MAIL_ATTR_NREQ          "nrequest"
#define MAIL_ATTR_DSN_STATUS    "dsn_status"
#define MAIL_ATTR_DSN_ACTION    "dsn_action"
#define MAIL_ATTR_SIZE          "size"
#define MAIL_ATTR_CLIENT_ADDR   "client_address"
#define MAIL_ATTR_CLIENT_NAME   "client_name"

#define MAIL_ATTR_ENVID         "dsn_envid"
#define MAIL_ATTR_RET           "dsn_ret"
#define MAIL_ATTR_DSN_ORCPT     "dsn_orig_rcpt"
#define MAIL_ATTR_DSN_NOTIFY    "dsn_notify"
#define MAIL_ATTR_NEXTHOP       "nexthop"
#define MAIL_ATTR_QUEUE         "queue_name"
#define MAIL_ATTR_ARRIVAL       "arrival_time"
#define MAIL_ATTR_NRCPT         "nrcpt"
#define MAIL_ATTR_HELO          "helo_name"
#define MAIL_ATTR_PROTO_NAME    "protocol_name"     /* SMTP, ESMTP, ESMTPS... */
#define MAIL_ATTR_ENCODING      "encoding"          /* 7bit, 8bitmime */
#define MAIL_ATTR_SMTPUTF8      "smtputf8"
#define MAIL_ATTR_FORMAT        "format"
#define MAIL_ATTR_QUARANTINE    "quarantine_reason" /* A record: why a milter held it */

/*
 * The anvil protocol (smtpd -> private/anvil; Postfix's anvil(8)). One
 * long-lived connection per client process; requests and replies:
 *   {request=connect, ident="service:addr"}   -> {status, count, rate}
 *   {request=disconnect, ident}               -> {status}
 *   {request=message|recipient|newtls|auth, ident} -> {status, rate}
 *   {request=lookup, ident} -> {status, count, rate, message rate,
 *                               recipient rate, newtls rate, auth rate}
 * count: simultaneous connections of ident (this one included); a rate
 * counts events in the current anvil_rate_time_unit window. A client that
 * closes its connection (or dies) has its connections disconnected.
 * status: ANVIL_STAT_OK, ANVIL_STAT_FAIL (bad request, table full).
 */
#define ANVIL_REQ_CONNECT       "connect"
#define ANVIL_REQ_DISCONNECT    "disconnect"
#define ANVIL_REQ_MESSAGE       "message"
#define ANVIL_REQ_RECIPIENT     "recipient"
#define ANVIL_REQ_NEWTLS        "newtls"
#define ANVIL_REQ_AUTH          "auth"
#define ANVIL_REQ_LOOKUP        "lookup"
#define ANVIL_ATTR_IDENT        "ident"
#define ANVIL_ATTR_COUNT        "count"
#define ANVIL_ATTR_RATE         "rate"
#define ANVIL_ATTR_MAIL         "mail"
#define ANVIL_ATTR_RCPT         "rcpt"
#define ANVIL_ATTR_NTLS         "newtls"
#define ANVIL_ATTR_AUTH         "auth"
#define ANVIL_STAT_OK           0
#define ANVIL_STAT_FAIL         (-1)

/*
 * The proxymap protocol (any process with a proxy:TYPE:NAME table ->
 * private/proxymap; Postfix's proxymap(8) read side). One long-lived
 * connection per client process, any number of requests:
 *   {request=lookup, table="TYPE:NAME", flags=DICT_FLAG_*, key}
 *       -> {status=DICT_FOUND|DICT_NOTFOUND|DICT_TRYLATER, value, reason}
 * proxymap opens only tables that proxy_read_maps names as proxy:TYPE:NAME;
 * any other is TRYLATER with a reason that says so.
 */
#define PROXY_REQ_LOOKUP        "lookup"
#define PROXY_ATTR_TABLE        "table"
#define PROXY_ATTR_KEY          "key"
#define PROXY_ATTR_VALUE        "value"

/*
 * The scache protocol (smtp -> private/scache; Postfix's scache(8), with
 * one level: destination label -> sessions). One request per connection:
 *   {request=save, label, props, ttl} + the session's descriptor -> {status}
 *   {request=find, label} -> {status, props} + the descriptor when status is 0
 * The descriptor travels as SCM_RIGHTS on the first byte of the request
 * (save) or of the reply (find): lib/util/unix_fd.h. label names the
 * destination and everything that must match for a session to be reused
 * (service, next hop, TLS policy); props is the smtp client's own record
 * of the session, opaque to scache; ttl how long, in seconds, it may wait.
 */
#define SCACHE_REQ_SAVE         "save"
#define SCACHE_REQ_FIND         "find"
#define SCACHE_ATTR_LABEL       "label"
#define SCACHE_ATTR_PROPS       "props"
#define SCACHE_ATTR_TTL         "ttl"
#define SCACHE_STAT_OK          0
#define SCACHE_STAT_FAIL        (-1)
#define SCACHE_LABEL_MAX        1024
#define SCACHE_PROPS_MAX        1024

/*
 * The showq protocol (surel queue list -> public/showq).
 *   client -> {format="text"|"json"}
 *   showq -> the listing as plain bytes (lib/global/queue_list.h), then EOF.
 */
#define SHOWQ_FORMAT_TEXT       "text"
#define SHOWQ_FORMAT_JSON       "json"

/*
 * The cleanup protocol (smtpd, pickup, bounce -> private/cleanup).
 *   client -> {flags=CLEANUP_FLAG_*}
 *   cleanup -> {queue_id=ID}            ("" when no queue file could be made:
 *                                         the client answers 451 and stops)
 *   client -> records (record.h): (A|I)* F? S (O|o|n)* R ... M (N|L)* X E
 *            A records are "name=value" from the MAIL_ATTR_* names above;
 *            I is the content filter "transport:nexthop" (the last wins);
 *            dsn_notify=BITS is not kept: it is the NOTIFY of the
 *            recipients cleanup extracts from headers (sendmail -t -N).
 *            C, T, D and W records are cleanup's own and refused from clients.
 *   cleanup -> {status=CLEANUP_STAT_* bits, reason=text}
 * status 0 means the queue file is committed (fsync'ed, in incoming/ or
 * hold/): only then may smtpd say 250. Any other status, or an IPC error or
 * EOF, means nothing was queued. reason is for the client when it is not
 * empty (e.g. a header_checks REJECT text, "5.7.1 text": the client puts
 * the reply code that the status implies in front; a reason that starts
 * with a whole SMTP reply, "550 5.7.1 text" or multi-line "550-...\r\n550
 * ...", is a milter's own end-of-message reply: the client says it as it
 * is, and cleanup has logged it "milter-reject"), else the client uses
 * cleanup_stat_reply() (cleanup_status.h). A DISCARDed message gets status 0, reason "discarded".
 */
#define CLEANUP_FLAG_FILTER     (1 << 0)    /* header_checks, body_checks */
#define CLEANUP_FLAG_MAP_OK     (1 << 1)    /* canonical and virtual mapping */
#define CLEANUP_FLAG_LOCAL      (1 << 2)    /* local submission: add From/Date... */
#define CLEANUP_FLAG_BOUNCE     (1 << 3)    /* a DSN from bounce: never bounce it */
#define CLEANUP_FLAG_EXTRACT    (1 << 4)    /* sendmail -t: recipients from To/Cc/Bcc
                                             * (Resent-* when present), Bcc removed */
#define CLEANUP_FLAG_HOLD       (1 << 5)    /* commit to hold/: a milter quarantined it */
#define CLEANUP_FLAG_MILTER     (1 << 6)    /* non_smtpd_milters see this message (pickup) */
#define CLEANUP_FLAG_SMTPD_MILTERS (1 << 7) /* smtpd hands its filter sessions over: after
                                             * {queue_id} the client sends them
                                             * (milters_send, milter.h) before any record */

/* The status bits CLEANUP_STAT_* and what each means to a client (SMTP
 * reply, enhanced code, permanent or not): the one table in cleanup_status.h. */
#include "cleanup_status.h"

/*
 * The delivery protocol (qmgr -> private/<transport>: local, smtp, ...).
 *   qmgr -> {flags, queue_name, queue_id, offset=data offset, size=content
 *            size, nexthop, sender, dsn_envid, dsn_ret, arrival_time, nrcpt=N}
 *   qmgr -> N x {original_recipient, recipient, dsn_orig_rcpt, dsn_notify,
 *            offset=file offset of the R record}
 *   agent -> N x {offset, status=DELIVER_STAT_*, dsn_status="2.0.0",
 *            reason=text}            one per recipient, in any order
 *   agent -> {status=0}              request done (1: agent trouble; every
 *                                     recipient not reported is deferred;
 *                                     DELIVER_DONE_SITE_FAIL: see below)
 * The agent opens the queue file read-only (queue_name/queue_id), logs each
 * result (to=<...>, relay=..., status=sent|deferred|bounced) and never
 * changes the file: qmgr marks delivered recipients done in place.
 * Agents read requests and send replies with deliver_request.h (bounds:
 * recipients per request, every length) and log with deliver_log.h.
 * Value types (attr.h), in the order above: flags INT, queue_name STR
 * ("active"), queue_id STR, offset LONG, size LONG, nexthop STR, sender
 * STR, dsn_envid STR, dsn_ret STR (as the A record holds it, "" if none),
 * arrival_time LONG (seconds), nrcpt INT; per recipient: original_recipient
 * STR ("" if none), recipient STR, dsn_orig_rcpt STR, dsn_notify INT,
 * offset LONG; replies: offset LONG, status INT, dsn_status STR, reason
 * STR; the final status INT. While delivering, the agent holds a shared
 * flock on the queue file: qmgr's exclusive non-blocking flock at import
 * then tells that an agent of an earlier qmgr is still at work (§10.9).
 * The bounce protocol below uses the same types (dsn_notify INT, offset
 * LONG, status INT, everything else STR).
 */
#define DELIVER_STAT_OK         0           /* delivered */
#define DELIVER_STAT_DEFER      4           /* temporary failure: retry */
#define DELIVER_STAT_BOUNCE     5           /* permanent failure: DSN */
/* The final status: DELIVER_DONE_SITE_FAIL is Postfix's hop status: the
 * destination as a whole failed (every host refused or timed out, or
 * failed before MAIL FROM with a temporary error, or its DNS lookup
 * failed temporarily), not this message. qmgr counts it against the
 * destination's window and failed cohorts (qmgr_sched.c) and, once the
 * destination is dead, defers its waiting mail without asking the agent. */
#define DELIVER_DONE_OK         0
#define DELIVER_DONE_TROUBLE    1           /* agent trouble */
#define DELIVER_DONE_SITE_FAIL  2           /* the destination failed as a whole */
/* flags: qmgr's hints for the smtp client's connection cache (Postfix's
 * DEL_REQ_FLAG_CONN_LOAD/STORE): more mail for this destination is in the
 * active queue, so a session is worth keeping (STORE) and one may have
 * been kept for it (LOAD). Agents without a cache ignore them. */
#define DELIVER_FLAG_CONN_LOAD  (1 << 0)
#define DELIVER_FLAG_CONN_STORE (1 << 1)

/*
 * The bounce protocol (qmgr -> private/bounce; bounce is a single_server).
 * bounce keeps per-message recipient status logs, bounce/<ID> (failed, and
 * delivered with NOTIFY=SUCCESS) and defer/<ID> (delayed), appended and
 * fsync'ed; DSNs (RFC 3464) are built from them and submitted through
 * cleanup with the null sender (CLEANUP_FLAG_BOUNCE).
 *   {request=append, queue_id, original_recipient, recipient,
 *    dsn_orig_rcpt, dsn_notify, offset, dsn_status, dsn_action, reason}
 *        dsn_action "failed" | "delayed" | "delivered" | "expanded"
 *        -> {status=0} once the log line is on disk (else non-zero: the
 *           caller must not mark the recipient done)
 *   {request=flush, queue_id, queue_name, sender, dsn_envid, dsn_ret}
 *        send one DSN for every failed/delivered entry in bounce/<ID>, then
 *        remove that log -> {status=0} once the DSN is queued; qmgr then
 *        marks those recipients done. A sender "" gets no DSN: postmaster
 *        ($2bounce_notice_recipient) gets the notice instead.
 *   {request=warn, queue_id, queue_name, sender, dsn_envid, dsn_ret}
 *        a delay warning from defer/<ID> (delay_warning_time), log kept
 *        -> {status=0}
 * DSN NOTIFY bits (dsn_notify, the 'n' record): */
#define DSN_NOTIFY_NEVER        (1 << 0)
#define DSN_NOTIFY_SUCCESS      (1 << 1)
#define DSN_NOTIFY_FAILURE      (1 << 2)
#define DSN_NOTIFY_DELAY        (1 << 3)
#define BOUNCE_REQ_APPEND       "append"
#define BOUNCE_REQ_FLUSH        "flush"
#define BOUNCE_REQ_WARN         "warn"
#define MAIL_ATTR_DSN_ACTION_FAILED     "failed"
#define MAIL_ATTR_DSN_ACTION_DELAYED    "delayed"
#define MAIL_ATTR_DSN_ACTION_DELIVERED  "delivered"

/* Trigger bytes written to a trigger service (qmgr, pickup). */
#define TRIGGER_WAKEUP          'W'     /* generic wakeup (master timer) */
#define TRIGGER_SCAN_INCOMING   'I'
#define TRIGGER_SCAN_DEFERRED   'D'
#define TRIGGER_SCAN_ALL        'A'
#define TRIGGER_FLUSH_DEAD      'F'

#endif
