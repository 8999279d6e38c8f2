/* dns_lookup - the one resolver of every program that asks DNS (smtp for
 * MX and addresses, smtpd for the client name and DNSBLs): a libunbound context made from
 * dns_servers, and one synchronous lookup with Postfix's three answers.
 *
 * dns_servers is a path (a resolv.conf file, default /etc/resolv.conf)
 * or a list of address[@port] forwarders, or empty (DNS is off); the
 * hosts file is never read.
 * Lookups are synchronous ub_resolve() calls: the daemons that use them
 * serve one client at a time and their seccomp profile forbids the
 * thread or process libunbound's asynchronous mode makes.
 */
#ifndef SUREL_DNS_LOOKUP_H
#define SUREL_DNS_LOOKUP_H

#include <unbound.h>

#include "buf.h"

#define DNS_TYPE_A      1
#define DNS_TYPE_PTR    12
#define DNS_TYPE_MX     15
#define DNS_TYPE_TXT    16
#define DNS_TYPE_AAAA   28

/* What a lookup answers. */
#define DNS_LOOKUP_OK       0       /* data of that type */
#define DNS_LOOKUP_NXDOMAIN 1       /* no such name */
#define DNS_LOOKUP_NODATA   2       /* the name has no data of this type */
#define DNS_LOOKUP_RETRY    (-1)    /* temporary failure (logged, why set) */

/* dns_lookup_query - one lookup of name/type; *res (freed by the caller
 * with ub_resolve_free, also on failure) holds the records. */
int     dns_lookup_query(const char *name, int type, struct ub_result **res, BUF *why);

/* dns_lookup_name - a wire-format name (an MX or PTR record's data) as
 * text, without the trailing dot ("." for the root); bytes used, or -1
 * when it does not fit out[outlen] or is malformed. Bytes that are no
 * printable ASCII become '?' (the name goes into logs). */
int     dns_lookup_name(const unsigned char *p, int len, char *out, size_t outlen);

/* dns_lookup_bound - before the first lookup: at most max_rtt_ms per
 * try and tries tries per server (unbound's infra-cache-max-rtt and
 * outbound-msg-retry), for a program that must not wait unbound's
 * default ~17 s for a silent server; 0: unbound's default. */
void    dns_lookup_bound(int max_rtt_ms, int tries);

/* dns_lookup_enabled - 0 when dns_servers is empty: DNS is off, every
 * lookup fails (DNS_LOOKUP_RETRY) */
int     dns_lookup_enabled(void);

/* dns_lookup_ready - make the resolver context now (before a chroot,
 * where dns_servers = /etc/resolv.conf may not be readable); 0, or -1
 * with why. */
int     dns_lookup_ready(BUF *why);

#endif
