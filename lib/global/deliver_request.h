/* deliver_request - the delivery protocol, agent side: read one request
 * from qmgr, answer each recipient, say done.
 *
 * Every delivery agent (local, error, smtp, the test agent) reads its
 * requests here, so that the shape, the types and the bounds of a request
 * are written once (the protocol itself, and its attribute names, are in
 * mail_proto.h). Postfix's global/deliver_request.c plays the same part.
 *
 *     DELIVER_REQUEST req;
 *     while (deliver_request_read(client, &req, why) > 0) {
 *         for (i = 0; i < req.nrcpt; i++)
 *             deliver_reply_rcpt(client, &req.rcpt[i], DELIVER_STAT_OK, "2.0.0", "delivered");
 *         deliver_reply_done(client, 0);
 *         deliver_request_free(&req);
 *     }
 *
 * Reading is strict (attr.h: order, names, number syntax) and bounded: a
 * request with more than DELIVER_RCPT_MAX recipients or fewer than one, a
 * field longer than its limit below, a negative offset, size or arrival
 * time, or DSN NOTIFY bits we do not know is refused as a whole, before a
 * recipient is delivered. qmgr never sends such a request, so a refusal is
 * our bug or a stranger on the socket: the agent logs it and closes the
 * connection (qmgr then defers the recipients). Values are copied into
 * the request, so the BUFs of the read are never handed out.
 */
#ifndef SUREL_DELIVER_REQUEST_H
#define SUREL_DELIVER_REQUEST_H

#include <sys/time.h>

#include "buf.h"
#include "queue_id.h"
#include "stream.h"

/* Bounds of one request. An address is at most Postfix's line_length_limit
 * (2048): longer ones never get through smtpd or cleanup. */
#define DELIVER_RCPT_MAX        10000   /* recipients per request */
#define DELIVER_ADDR_MAX        2048    /* sender, recipient, original recipient, ORCPT */
#define DELIVER_NEXTHOP_MAX     1024    /* error: the reason text; smtp: host:port */
#define DELIVER_QUEUE_MAX       32      /* queue folder name */
#define DELIVER_ENVID_MAX       512     /* DSN ENVID, xtext (RFC 3461: 100 decoded) */
#define DELIVER_RET_MAX         8       /* FULL, HDRS or "" */
#define DELIVER_NOTIFY_MASK     0xf     /* every DSN_NOTIFY_* bit of mail_proto.h */

/* One recipient, in the order qmgr sent them. */
typedef struct DELIVER_RCPT {
    char   *orig_addr;              /* original_recipient: "" if none (orig_to= in logs) */
    char   *address;                /* recipient: never empty */
    char   *dsn_orcpt;              /* DSN ORCPT, "" if none */
    int     dsn_notify;             /* DSN_NOTIFY_* bits, 0 if none */
    long    offset;                 /* of its R record: how qmgr knows it */
} DELIVER_RCPT;

/* One request. */
typedef struct DELIVER_REQUEST {
    int     flags;
    char    queue_name[DELIVER_QUEUE_MAX + 1];     /* "active" (checked by _path) */
    char    queue_id[QUEUE_ID_BUFSZ];               /* checked by deliver_request_path */
    long    data_offset;            /* of the M record */
    long    data_size;              /* content size */
    char   *nexthop;
    char   *sender;                 /* "" for <> */
    char   *dsn_envid;
    char   *dsn_ret;
    long    arrival;                /* seconds since the epoch */
    struct timeval start;           /* when the request was read (delays=) */
    int     nrcpt;
    DELIVER_RCPT *rcpt;
} DELIVER_REQUEST;

/* deliver_request_read - one request and all its recipients. 1 read (free
 * it with deliver_request_free), 0 the client closed between requests, -1
 * refused with why (req is empty: nothing to free, close the client). */
int     deliver_request_read(STREAM *client, DELIVER_REQUEST *req, BUF *why);
void    deliver_request_free(DELIVER_REQUEST *req);

/* deliver_request_serve - an agent's session: read requests until the
 * client hangs up, a request is refused (logged) or fn returns < 0; each
 * request is freed after fn. fn answers every recipient and the done. */
typedef int (*DELIVER_REQUEST_FN)(STREAM *client, DELIVER_REQUEST *req);
void    deliver_request_serve(STREAM *client, DELIVER_REQUEST_FN fn);

/* deliver_request_path - where the request's queue file is, below
 * queue_dir (mail_queue_path); 0, or -1 with why ("bad queue name ...",
 * "bad queue ID ...") for a folder that is not a queue folder or a name
 * that is not a queue ID. A request with such names is well-formed, so the
 * agent answers it: it defers every recipient with that reason. */
int     deliver_request_path(const DELIVER_REQUEST *req, const char *queue_dir, BUF *path,
                             BUF *why);

/* deliver_request_open - the request's queue file, as every agent opens
 * it: read-only through qfile_open_ready (regular, ready, one link, no
 * symbolic link), with a shared flock held while delivering (waiting at
 * most DELIVER_FLOCK_WAIT seconds: `surel queue` holds an exclusive one
 * for a moment), and still at the path qmgr named afterwards (it may have
 * been held, deleted or requeued while we waited). The descriptor, or -1
 * with why. Closing it releases the lock: do so before the final reply,
 * since qmgr may lock the file as soon as it has the answer (§10.9). */
#define DELIVER_FLOCK_WAIT  10
int     deliver_request_open(const DELIVER_REQUEST *req, const char *queue_dir, BUF *why);

/* deliver_reply_rcpt - one recipient's result (DELIVER_STAT_*, its DSN
 * code "2.0.0" and the reason text); deliver_reply_done - the request's
 * end: DELIVER_DONE_OK, DELIVER_DONE_TROUBLE (qmgr defers every
 * recipient not reported) or DELIVER_DONE_SITE_FAIL (the destination
 * failed as a whole: mail_proto.h). 0, or -1 when qmgr is gone
 * (attr_last_error says why). */
int     deliver_reply_rcpt(STREAM *client, const DELIVER_RCPT *rcpt, int status,
                           const char *dsn, const char *reason);
int     deliver_reply_done(STREAM *client, int status);

#endif
