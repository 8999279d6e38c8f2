/* maildrop - the record stream of a local submission, and its checks.
 *
 * sendmail writes it, postdrop checks it while copying it into
 * maildrop/<name>, pickup checks it again (the file belongs to the
 * submitting user, so its content is never trusted) before handing it to
 * cleanup. The records are those of the cleanup protocol (mail_proto.h,
 * record.h), restricted to what a local user may say:
 *
 *     A* F? S recipient* M (N | L)* X E          recipient = (O | o | n)* R
 *
 *   A  "name=value" with name one of flags (only CLEANUP_FLAG_EXTRACT may
 *      be asked for: pickup adds the others itself), dsn_envid, dsn_ret
 *      (FULL or HDRS), encoding (7bit or 8bitmime), dsn_notify (the
 *      NOTIFY bits for recipients cleanup extracts: sendmail -t -N);
 *      each at most once
 *   F  full name (no control characters)   S  sender ("" for <>)
 *   O  original recipient   o  DSN ORCPT "type;address"   n  DSN NOTIFY bits
 *   R  recipient: at least one unless the flags ask for extraction
 *   N  content line, L  partial line (always followed by N or L)
 * Bounds: MAILDROP_RCPT_MAX recipients, MAILDROP_LINE_MAX bytes per
 * content record, message_size_limit octets of content (counted by
 * msg_size.h, the count smtpd and cleanup use too). Records C, T, D, W are cleanup's own
 * and refused.
 *
 * Addresses are checked with maildrop_address_check, strictly: an
 * unquoted local part of RFC 5322 atext and dots (8-bit bytes allowed),
 * optionally @ a domain that address_valid_domain (lib/global/address.h,
 * smtpd's rule) accepts, with one trailing dot allowed; never a control
 * character, never a leading '-'. XXX: quoted local parts are refused
 * here although lib/global/address.h parses them for smtpd.
 */
#ifndef SUREL_MAILDROP_H
#define SUREL_MAILDROP_H

#include <stddef.h>

#include "buf.h"
#include "msg_size.h"

#define MAILDROP_RCPT_MAX   10000       /* recipients per submission */
#define MAILDROP_LINE_MAX   4096        /* bytes of one N or L record */
#define MAILDROP_FIELD_MAX  1000        /* A, F, S, O, o, R data */
#define MAILDROP_ATTR_MAX   8           /* A records */
/* The rec_get limit of postdrop and pickup: the longest record allowed. */
#define MAILDROP_RECORD_LIMIT (MAILDROP_LINE_MAX > MAILDROP_FIELD_MAX \
                               ? MAILDROP_LINE_MAX : MAILDROP_FIELD_MAX)

/* maildrop_check_record results. */
#define MAILDROP_MORE       0           /* fine so far; more records expected */
#define MAILDROP_DONE       1           /* the E record: the stream is complete */
#define MAILDROP_BAD        (-1)        /* refused; why says what */
#define MAILDROP_TOOBIG     (-2)        /* content over the size limit */

typedef struct MAILDROP_CHECK {
    int     state;                      /* position in the grammar (private) */
    int     flags;                      /* CLEANUP_FLAG_* asked for by an A record */
    int     attrs_seen;                 /* bit per attribute name, each once */
    int     nattr;
    int     rcpt_pending;               /* O/o/n seen, R must follow */
    int     partial_line;               /* last content record was an L */
    long    nrcpt;
    MSG_SIZE content_size;              /* message_size_limit's count (msg_size.h) */
    long    size_limit;                 /* 0: none */
} MAILDROP_CHECK;

void    maildrop_check_init(MAILDROP_CHECK *c, long size_limit);
/* data is NUL-terminated at len (as rec_get leaves a BUF). */
int     maildrop_check_record(MAILDROP_CHECK *c, int type, const char *data,
                              size_t len, BUF *why);

/* maildrop_address_check - 0 when addr (internal form, len bytes) is an
 * acceptable address; -1 with why. An empty address is accepted only with
 * allow_empty (the null sender). */
int     maildrop_address_check(const char *addr, size_t len, int allow_empty, BUF *why);

#endif
