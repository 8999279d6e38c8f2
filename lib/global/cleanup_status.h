/* cleanup_status - what a cleanup status means, in one table.
 *
 * cleanup answers every submission with a bit mask of CLEANUP_STAT_*
 * (the cleanup protocol, mail_proto.h). Every client turns that into its
 * own kind of answer: smtpd and sendmail -bs into an SMTP reply, local
 * into a delivery status for the forwarded recipient, pickup into "retry"
 * or "give up". They all read this table, so a status means the same
 * everywhere: one SMTP reply code, one enhanced status code, one verdict
 * (permanent or not) and one text, Postfix's (global/cleanup_strerror.c).
 *
 * One message may have several bits set; the table lists the most severe
 * first, as Postfix's does, and a status is answered by its first entry:
 * the temporary DEFER and BAD beat everything, a permanent refusal beats
 * a write error (a write error during a refused message changes nothing).
 */
#ifndef SUREL_CLEANUP_STATUS_H
#define SUREL_CLEANUP_STATUS_H

#include "buf.h"

/* The status bits (the cleanup protocol's status attribute). */
#define CLEANUP_STAT_OK         0
#define CLEANUP_STAT_BAD        (1 << 0)    /* protocol or internal error */
#define CLEANUP_STAT_WRITE      (1 << 1)    /* queue file write error */
#define CLEANUP_STAT_SIZE       (1 << 2)    /* message_size_limit */
#define CLEANUP_STAT_CONT       (1 << 3)    /* content rejected (header/body_checks),
                                             * logged by cleanup; with DEFER: a 4.x.x REJECT */
#define CLEANUP_STAT_HOPS       (1 << 4)    /* too many Received: headers */
#define CLEANUP_STAT_RCPT       (1 << 5)    /* no recipients */
#define CLEANUP_STAT_DEFER      (1 << 6)    /* table lookup failed etc. */

typedef struct CLEANUP_STAT_DETAIL {
    int     status;                 /* the CLEANUP_STAT_* bit (0: success) */
    int     smtp;                   /* SMTP reply code */
    const char *dsn;                /* enhanced status code */
    int     permanent;              /* 1: retrying cannot help (bounce, 5xx) */
    const char *text;               /* what went wrong */
} CLEANUP_STAT_DETAIL;

/* cleanup_stat_detail - the entry that answers status: 0 is success; a
 * negative status (the conversation with cleanup failed: nothing was
 * queued) is a queue file write error; bits nobody knows are BAD. */
const CLEANUP_STAT_DETAIL *cleanup_stat_detail(int status);
const char *cleanup_strerror(int status);
int     cleanup_stat_permanent(int status);

/* cleanup_stat_reply - the SMTP reply, "552 5.3.4 Error: message file too big" */
void    cleanup_stat_reply(int status, BUF *reply);

/* cleanup_stat_table - every entry, most severe first (tests) */
const CLEANUP_STAT_DETAIL *cleanup_stat_table(int *count);

#endif
