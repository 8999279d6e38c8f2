/* resolve_local - is a domain one this mail system delivers locally?
 *
 * A domain is local when it matches $mydestination (a domain list: names,
 * `.parent` entries for subdomains, type:table entries, `!` negation), or
 * when it is an address literal ([127.0.0.1], [IPv6:::1]) naming one of
 * this machine's own interface addresses, as Postfix's resolve_local()
 * decides. Shared by qmgr's resolver and smtpd's relay checks.
 *
 * XXX written by the qmgr engineer because the access branch's version was
 * not on main yet; the two are to be reconciled (same name, same answers).
 */
#ifndef SUREL_RESOLVE_LOCAL_H
#define SUREL_RESOLVE_LOCAL_H

#include "buf.h"

/* Three-way answers (a table that can't be read must defer, not bounce). */
#define RESOLVE_LOCAL_NO        0
#define RESOLVE_LOCAL_YES       1
#define RESOLVE_LOCAL_TRYLATER  (-1)

/* Domain lists (mydestination, relay_domains, virtual_*_domains). */
typedef struct DOMAIN_LIST DOMAIN_LIST;

#define DOMAIN_LIST_PARENT  (1 << 0)    /* "example.com" also matches its subdomains */

DOMAIN_LIST *domain_list_open(const char *text, int flags, BUF *why);  /* NULL + why */
int     domain_list_match(DOMAIN_LIST *list, const char *domain);      /* RESOLVE_LOCAL_* */
void    domain_list_free(DOMAIN_LIST *list);

/* resolve_local_domain - RESOLVE_LOCAL_YES, _NO or _TRYLATER for a domain
 * (case-insensitive; one trailing dot ignored). Reads $mydestination once. */
int     resolve_local_domain(const char *domain);
void    resolve_local_reset(void);     /* forget the parsed list (tests, reload) */

#endif
