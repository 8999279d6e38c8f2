/* header_name - is this line a message header, and which one.
 *
 * One rule for every program that looks at header names (cleanup's
 * header table and checks, local's Delivered-To: loop detection and hop
 * count, the message_size_limit count's trace fields): a name is
 * printable ASCII without ':' and blanks, blanks may stand between the
 * name and the colon ("Received :" is a Received: header, as Postfix's
 * is_header() says), and names match in any case.
 */
#ifndef SUREL_HEADER_NAME_H
#define SUREL_HEADER_NAME_H

#include <stddef.h>

/* header_name_len - the length of the "name:" (blanks before the colon
 * included) that starts text, or 0 when text is not a header line */
size_t  header_name_len(const char *text, size_t len);

/* header_named - header_name_len() when text is a header called name
 * (any case), else 0: the offset of its value */
size_t  header_named(const char *text, size_t len, const char *name);

/* The hop count (Postfix's hopcount_limit): a hop is a Received: header;
 * Delivered-To: headers are loop detection's (an exact address), not
 * hops. More than $hopcount_limit hops is CLEANUP_STAT_HOPS, "too many
 * hops" with its code from cleanup_status.h, wherever it is noticed:
 * cleanup as it queues the message, local as it delivers a queued one. */
int     header_is_hop(const char *text, size_t len);
int     hop_count_exceeded(long hops);

#endif
