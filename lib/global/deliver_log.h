/* deliver_log - the one formatter of delivery log lines.
 *
 * Every program that logs a recipient's result (the agents, and qmgr for
 * results it decides itself) builds the line here, in Postfix's shape
 * (global/log_adhoc.c), because pflogsumm, fail2ban and people's greps
 * read these lines:
 *     ID: to=<r>[, orig_to=<o>], relay=R, delay=D, delays=a/b/c/d,
 *         dsn=X.Y.Z, status=sent|deferred|bounced (reason)
 * orig_to= appears only when the original recipient is known and differs
 * from to= ignoring case (Postfix compares with strcasecmp_utf8): an
 * alias or a canonical rewrite shows it, a plain delivery does not.
 * delay= is arrival to now; delays= is arrival to hand-off / 0 (qmgr's
 * own latency is not measured) / 0 (no connection set-up) / hand-off to
 * now. Numbers have two significant digits and whole seconds from 10 s
 * on (Postfix's format_tv): 0.01, 0.23, 1.5, 12, 3600.
 */
#ifndef SUREL_DELIVER_LOG_H
#define SUREL_DELIVER_LOG_H

#include <sys/time.h>

#include "buf.h"

/* One delivery event. */
typedef struct DELIVER_LOG {
    const char *queue_id;
    const char *to;                 /* the recipient as delivered */
    const char *orig_to;            /* as the sender gave it; NULL or "" if unknown */
    const char *relay;              /* "local", "none", "host[addr]:port" */
    struct timeval arrival;         /* the message's arrival */
    struct timeval handoff;         /* when the agent got it (qmgr: now) */
    const char *dsn;                /* "2.0.0" */
    const char *status;             /* "sent", "deferred", "bounced" */
    const char *reason;
} DELIVER_LOG;

/* deliver_log_status - the status= word of a DELIVER_STAT_* */
const char *deliver_log_status(int stat);

/* deliver_log_format - the line (without a newline) into out, as of now */
void    deliver_log_format(BUF *out, const DELIVER_LOG *ev, const struct timeval *now);

/* deliver_log - format the line as of now and msg_info() it */
void    deliver_log(const DELIVER_LOG *ev);

#endif
