/* local_rcpt - is an address of a local domain a known recipient?
 *
 * The rule smtpd's reject_unlisted_recipient applies (Postfix's
 * local_recipient_maps): an address some virtual_alias_maps entry covers
 * (user@domain, base@domain or @domain) is known, whatever becomes of it;
 * otherwise, with local_recipient_maps empty everyone is known, and with
 * it set the address is known when a table has user@domain, base@domain,
 * user or base (base: without its recipient_delimiter extension), or when
 * the base is a sandbox_users name. DICT_TRYLATER (with why) when a table
 * failed. `sendmail -bv` asks it so that it tells what delivery would do.
 * XXX smtpd/smtpd_check_addr.c still has its own copy of this rule (in
 * another branch's files at the time); it should call this one.
 */
#ifndef SUREL_LOCAL_RCPT_H
#define SUREL_LOCAL_RCPT_H

#include "buf.h"
#include "dict.h"

DICT_STATUS local_rcpt_find(const char *addr, BUF *why);
void    local_rcpt_close(void);

#endif
