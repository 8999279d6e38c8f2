/* split_addr - where a local part splits into user and address extension.
 *
 * recipient_delimiter may name several delimiter characters ("+-"): the
 * first occurrence of any of them splits "user+ext" into "user" and "ext",
 * as Postfix's split_addr() does. Not split:
 *   - a local part with no delimiter, or whose first delimiter is its first
 *     character ("+user": the user would be empty);
 *   - the reserved names postmaster, mailer-daemon and $double_bounce_sender
 *     (any case);
 *   - with '-' among the delimiters and owner_request_special = yes (the
 *     default), "owner-xxx" and "xxx-request" (mailing-list conventions).
 * A delimiter at the very end splits, with an empty extension ("user+").
 *
 * smtpd (local_recipient_maps, relay checks), cleanup (canonical and
 * virtual lookups), the resolver (transport_maps) and local (aliases,
 * users, .forward+ext) all split here, so that they agree on what the user
 * of an address is.
 */
#ifndef SUREL_SPLIT_ADDR_H
#define SUREL_SPLIT_ADDR_H

#include <stddef.h>

/* The offset of the delimiter at which the first len bytes of local split,
 * or 0 when they do not split (see above). delims NULL or "" never split.
 * Base: local[0, pos); delimiter: local[pos]; extension: local[pos+1, len). */
size_t  split_addr(const char *local, size_t len, const char *delims);

#endif
