/* resolve - which transport delivers a recipient, and to which next hop.
 *
 * Postfix's trivial-rewrite "resolve" service as a library: the answer
 * for a recipient address is (transport, nexthop, address), decided as
 *   1. an address without a domain gets @$myorigin (Postfix appends
 *      $myorigin to every bare local part, postmaster included);
 *   2. the address class picks the default route:
 *        local ($mydestination, own [address literals])  $local_transport
 *        virtual alias domains (an address that cleanup did not alias)
 *                                  error:5.1.1 User unknown in virtual alias table
 *        $virtual_mailbox_domains  $virtual_transport
 *        $relay_domains            $relay_transport
 *        anything else             $default_transport, nexthop the
 *                                  sender's $sender_dependent_relayhost_maps
 *                                  entry, else $relayhost when set, else
 *                                  the domain (relay domains alike)
 *      A transport value "name:nexthop" gives both; without ":nexthop"
 *      the nexthop is $myhostname for local, else the domain.
 *   3. $transport_maps may override either part, looked up as
 *      transport(5) says: user+ext@domain, user@domain, domain, then each
 *      parent as ".parent", then "*". An empty transport or nexthop in the
 *      result keeps the one from step 2. "[host]:port" is kept as written.
 * Every answer is three-way: ok, or try later (a table could not be
 * read: the recipient waits, it never bounces).
 */
#ifndef SUREL_RESOLVE_H
#define SUREL_RESOLVE_H

#include "buf.h"
#include "resolve_local.h"

#define RESOLVE_OK          0
#define RESOLVE_TRYLATER    (-1)

/* Address classes: RESOLVE_CLASS_* of resolve_local.h (the same decision
 * smtpd's relay control makes). */

typedef struct RESOLVE_REPLY {
    BUF    *transport;              /* master.cf service: local, smtp, error... */
    BUF    *nexthop;                /* host, [host]:port, or error text */
    BUF    *recipient;              /* the address, with @$myorigin if it had no domain */
    RESOLVE_CLASS addr_class;       /* RESOLVE_CLASS_* */
} RESOLVE_REPLY;

typedef struct RESOLVER RESOLVER;

/* resolve_open - read the configuration and open the tables (call before
 * chroot); NULL + why for a configuration error. */
RESOLVER *resolve_open(BUF *why);
void    resolve_close(RESOLVER *r);

RESOLVE_REPLY *resolve_reply_alloc(void);
void    resolve_reply_free(RESOLVE_REPLY *reply);

/* resolve_addr - RESOLVE_OK with the reply filled in, or RESOLVE_TRYLATER
 * with why. */
int     resolve_addr(RESOLVER *r, const char *addr, RESOLVE_REPLY *reply, BUF *why);

/* resolve_addr_from - the same for mail from sender ("" the null sender):
 * sender_dependent_relayhost_maps (looked up as sender, sender without
 * its recipient_delimiter extension, @domain; the null sender as
 * $empty_address_relayhost_maps_lookup_key; DUNNO: no answer) replaces
 * $relayhost for off-host delivery, as Postfix's trivial-rewrite does.
 * resolve_addr is resolve_addr_from with no sender (no lookup). */
int     resolve_addr_from(RESOLVER *r, const char *sender, const char *addr,
                          RESOLVE_REPLY *reply, BUF *why);

#endif
