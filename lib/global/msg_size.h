/* msg_size - the one count message_size_limit applies to.
 *
 * smtpd, cleanup and the maildrop check (postdrop, pickup) all count a
 * message here, so that what one of them accepts at the limit is not
 * refused by the next one:
 *   - the unit is the octet as RFC 5321/1870 sends it: a line's bytes
 *     plus its line end, CR LF being two (smtpd counts what the client
 *     really sent: a bare LF is one octet, stuffed dots do not count);
 *     a content record that ends a line (N) counts its bytes + 2, a piece
 *     of a longer line (L) its bytes;
 *   - the trace header fields an MTA puts on top of the message
 *     (Received:, Delivered-To:, RFC 5321 4.4) are not counted when they
 *     lead the content records: smtpd's own Received: and local's
 *     Delivered-To: on a forwarded copy would otherwise make cleanup
 *     refuse a message smtpd accepted at exactly the limit. They are
 *     bounded by header_size_limit and hopcount_limit instead.
 * Decision: Postfix's cleanup counts queue file bytes and can refuse what
 * its smtpd accepted near the limit; we keep its units for the client's
 * side (smtpd, SIZE) and make every later count smaller or equal.
 */
#ifndef SUREL_MSG_SIZE_H
#define SUREL_MSG_SIZE_H

#include <stddef.h>

typedef struct MSG_SIZE {
    long long octets;               /* counted so far */
    int     lead;                   /* still in the leading trace fields */
    int     line_start;             /* the next record starts a line */
    int     skip;                   /* the current line is not counted */
} MSG_SIZE;

/* msg_size_init - an empty count */
void    msg_size_init(MSG_SIZE *sz);

/* msg_size_octets - what len bytes followed by eol line-end octets as the
 * client sent them (2 CR LF, 1 bare LF, 0 none) add: smtpd's count */
long long msg_size_octets(size_t len, int eol);

/* msg_size_record - one content record (REC_TYPE_NORM or _CONT) of a
 * queue or maildrop file, with the trace rule above */
void    msg_size_record(MSG_SIZE *sz, int type, const char *data, size_t len);

/* msg_size_exceeds - 1 when octets exceed limit (limit <= 0: no limit) */
int     msg_size_exceeds(long long octets, long limit);

#endif
