/* resolve_local - the destination class of a domain, as the resolver sees it.
 *
 * Postfix's trivial-rewrite decides per domain, in this order:
 *     local    $mydestination, or an address literal of this machine
 *              ([127.0.0.1] and the inet_interfaces addresses)
 *     alias    $virtual_alias_domains
 *     virtual  $virtual_mailbox_domains
 *     relay    $relay_domains
 *     default  anything else (remote)
 * smtpd's relay control (reject_unauth_destination) and qmgr's resolver
 * both ask here, so that they can never disagree about what is local.
 * Lists are matched as Postfix 3.x does by default: "example.com" is that
 * domain only and ".example.com" its subdomains, except in relay_domains
 * (listed in Postfix's parent_domain_matches_subdomains), where
 * "example.com" also covers its subdomains.
 * A table that can't be read answers RESOLVE_CLASS_TRYLATER.
 */
#ifndef SUREL_RESOLVE_LOCAL_H
#define SUREL_RESOLVE_LOCAL_H

#include "buf.h"

typedef enum resolve_class {
    RESOLVE_CLASS_LOCAL,            /* final delivery by $local_transport */
    RESOLVE_CLASS_ALIAS,            /* exists only as virtual aliases */
    RESOLVE_CLASS_VIRTUAL,          /* virtual mailbox domain */
    RESOLVE_CLASS_RELAY,            /* we relay to it */
    RESOLVE_CLASS_DEFAULT,          /* remote */
    RESOLVE_CLASS_TRYLATER          /* a table failed: decide later */
} RESOLVE_CLASS;

/* Parse the lists from the configuration and open their tables (before
 * chroot); 0, or -1 with why for a list that can't be parsed. Called on
 * first use otherwise (then a bad list is fatal). */
int     resolve_local_init(BUF *why);
void    resolve_local_reset(void);          /* forget; re-read config next time (tests) */

/* Class of a domain ("example.com", "[192.0.2.1]", "[IPv6:::1]"; case and
 * one trailing dot don't matter). */
RESOLVE_CLASS resolve_class(const char *domain);

/* 1 for a local domain, 0 not, -1 try later. */
int     resolve_local(const char *domain);

/* Is this address text one of this machine's own addresses? */
int     resolve_own_addr(const char *addr);

const char *resolve_class_name(RESOLVE_CLASS cls);

#endif
