/* header_rewrite - whose header addresses are qualified as local mail's.
 *
 * Postfix rewrites the addresses in From:, To:, Cc: ... of a message in
 * the "local" context (append_at_myorigin, append_dot_mydomain: see
 * address_qualify in address.h) for local submissions (sendmail, pickup)
 * and for SMTP clients that local_header_rewrite_clients (default
 * permit_inet_interfaces) matches; other clients' headers get the "remote"
 * context (address_qualify_remote: nothing, by default). In Postfix smtpd
 * decides and tells cleanup; here cleanup decides from what smtpd tells it
 * (the client_address and protocol_name attributes), so the rule is this
 * one module. The list's items, in order, first match wins:
 *     permit_inet_interfaces     the client is one of inet_interfaces'
 *                                addresses (resolve_own_addr)
 *     permit_mynetworks          the client is in $mynetworks
 *     permit_sasl_authenticated  the client authenticated (the protocol
 *                                name smtpd gives ends in "A": ESMTPA,
 *                                ESMTPSA, UTF8SMTPA...)
 *     check_address_map TYPE:TABLE, or a bare TYPE:TABLE
 *                                the client address is found in the table
 *                                (the value is ignored; static:all matches
 *                                every client)
 * permit_tls_clientcerts and permit_tls_all_clientcerts never match
 * (surel does not ask for client certificates); any other item is a
 * configuration error. A table that fails is no match (the headers stay
 * as written: the safe side), with a warning.
 */
#ifndef SUREL_HEADER_REWRITE_H
#define SUREL_HEADER_REWRITE_H

#include "buf.h"

typedef struct HEADER_REWRITE HEADER_REWRITE;

/* header_rewrite_init - parse local_header_rewrite_clients (and open its
 * tables and $mynetworks: before a chroot); NULL + why on a bad list */
HEADER_REWRITE *header_rewrite_init(BUF *why);
void    header_rewrite_free(HEADER_REWRITE *hr);

/* header_rewrite_local - 1 when an SMTP client with this address and
 * protocol name gets the local context, else 0 */
int     header_rewrite_local(HEADER_REWRITE *hr, const char *client_addr, const char *proto);

#endif
