/* local_rcpt - is an address a known recipient of its domain?
 *
 * The one rule (Postfix's smtpd check_rcpt_maps) that smtpd's
 * reject_unlisted_recipient / reject_unlisted_sender and `sendmail -bv`
 * apply, so that they agree on who exists. The address is split the one
 * way (local_rcpt_canon: user or user@ is user@$myorigin, a trailing dot
 * off the domain, lower case, base = local part without its
 * recipient_delimiter extension); keys are user@domain, base@domain and
 * @domain unless said otherwise.
 *   - an address some virtual_alias_maps entry covers is known, whatever
 *     its class (it is rewritten before delivery);
 *   - local (mydestination): known when local_recipient_maps is empty,
 *     the base is a sandbox_users name, or local_recipient_maps has
 *     user@domain, base@domain, user or base;
 *   - virtual mailbox: virtual_mailbox_maps has it;
 *   - relay (relay_domains): relay_recipient_maps is empty or has it;
 *   - virtual alias domain: only the first rule;
 *   - any other domain (not ours): known.
 * DICT_NOTFOUND says which table missed (LOCAL_RCPT_MISS: the words of
 * Postfix's "User unknown in <table> table" and the reply code
 * parameter); DICT_TRYLATER (why set) when a table failed.
 * The tables are opened once, by local_rcpt_open: smtpd calls it before
 * its chroot, so the lookups work inside it.
 */
#ifndef SUREL_LOCAL_RCPT_H
#define SUREL_LOCAL_RCPT_H

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "resolve_local.h"

/* An address split for decisions. */
typedef struct LOCAL_RCPT_CANON {
    BUF    *local;                  /* as given, lower case */
    BUF    *base;                   /* local without its extension */
    BUF    *domain;                 /* lower case, no trailing dot; $myorigin if none */
} LOCAL_RCPT_CANON;

void    local_rcpt_canon(const char *addr, LOCAL_RCPT_CANON *c);
void    local_rcpt_canon_free(LOCAL_RCPT_CANON *c);

/* Which table did not know the address. */
typedef struct LOCAL_RCPT_MISS {
    const char *table;              /* "local recipient", "relay recipient", ... */
    PARAM_ID code;                  /* unknown_*_reject_code */
} LOCAL_RCPT_MISS;

int     local_rcpt_open(BUF *why);  /* 0, or -1 with why (a bad table list) */
DICT_STATUS local_rcpt_check(const char *addr, RESOLVE_CLASS cls, LOCAL_RCPT_MISS *miss,
                             BUF *why);
/* local_rcpt_find - an address already known to be local (sendmail -bv) */
DICT_STATUS local_rcpt_find(const char *addr, BUF *why);
void    local_rcpt_close(void);     /* forget the tables (tests, re-init) */

#endif
