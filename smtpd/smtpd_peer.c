/* smtpd_peer - who the client is, and whether we serve it at all.
 *
 * The client's address comes from getpeername(2). When that fails (the
 * client reset or closed the connection before smtpd got to it, or the
 * descriptor is no connected socket) there is no address to log, to check
 * access against or to count connections by: serving it as
 * "unknown[unknown]" would lump every such client into one connection
 * count and let it past address-based restrictions. As Postfix does for a
 * connection it cannot identify, smtpd logs a warning and hangs up
 * without a greeting.
 *
 * A UNIX-domain peer (a local test client; Postfix's "not inet" case) is
 * 127.0.0.1. A client over its connection count or rate limit hears
 * Postfix's 421 instead of the greeting (smtpd_proto.c, smtpd_conn.c).
 *
 * The client's name (smtpd_peername_lookup = yes), as Postfix finds it
 * before the greeting: the PTR name of the address (the reverse name,
 * kept for reject_unknown_reverse_client_hostname and policy servers)
 * becomes the client name only when one of its A (AAAA for an IPv6
 * client) records is the client's address; else the name is "unknown"
 * with a status that says why (smtpd_check.h SMTPD_PEER_CODE_*): a
 * temporary DNS failure (TEMP: reject_unknown_client_hostname answers
 * 450 whatever unknown_client_reject_code says), no name (PERM), or a
 * name that does not lead back (FORGED, with Postfix's "hostname X does
 * not resolve to address Y" warning). A PTR name that is no valid host
 * name, or is a numeric address, counts as none.
 * The lookups are synchronous ub_resolve() calls through the one
 * resolver (lib/global/dns_lookup.c), made before the chroot in
 * pre_init, with its bounded tries (at most about 5 s per silent lookup,
 * smtpd_check_dnsbl.c sets the bound). DNS off (dns_servers empty) or
 * smtpd_peername_lookup = no: "unknown" (PERM) without a query.
 */
#include <stdio.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "dns_lookup.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_check_int.h"

#define SMTPD_PEER_ADDRS_MAX    32  /* A/AAAA records compared per name */

/* smtpd_peer_addr - the client's address as text ("127.0.0.1", "::1");
 * -1 with the reason in why when it cannot be known */
int     smtpd_peer_addr(int fd, char *addr, size_t len, BUF *why)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    const void *a = NULL;
    int     family = AF_INET;

    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *) &ss, &sslen) < 0) {
        buf_sprintf(why, "getpeername: %s", strerror(errno));
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        a = &((struct sockaddr_in *) &ss)->sin_addr;
    } else if (ss.ss_family == AF_INET6) {
        struct in6_addr *a6 = &((struct sockaddr_in6 *) &ss)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            a = &a6->s6_addr[12];
        } else {
            a = a6;
            family = AF_INET6;
        }
    } else if (ss.ss_family == AF_UNIX) {
        snprintf(addr, len, "127.0.0.1");
        return 0;
    } else {
        buf_sprintf(why, "getpeername: address family %d", (int) ss.ss_family);
        return -1;
    }
    if (inet_ntop(family, a, addr, (socklen_t) len) == NULL) {
        buf_sprintf(why, "inet_ntop: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* smtpd_peer_init - the resolver context, before the chroot (a
 * dns_servers file is not readable inside it) */
void    smtpd_peer_init(void)
{
    BUF    *why;

    if (!smtpd_params.peername_lookup || !dns_lookup_enabled())
        return;
    why = buf_alloc(100);
    if (dns_lookup_ready(why) < 0)
        msg_warn("client name lookups will fail: %s", buf_str(why));
    buf_free(why);
}

/* smtpd_peer_ptr - the first PTR name of addr that is a host name, into
 * name; SMTPD_PEER_CODE_* */
static int smtpd_peer_ptr(const char *addr, int v6, char *name, size_t len)
{
    BUF    *query = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    struct ub_result *res;
    unsigned char bin[16];
    int     rc, i;
    int     status = SMTPD_PEER_CODE_PERM;

    if (smtpd_check_dnsxl_reverse(addr, query) == 0) {
        buf_puts(query, v6 ? ".ip6.arpa" : ".in-addr.arpa");
        rc = dns_lookup_query(buf_str(query), DNS_TYPE_PTR, &res, why);
        if (rc == DNS_LOOKUP_RETRY)
            status = SMTPD_PEER_CODE_TEMP;
        for (i = 0; rc == DNS_LOOKUP_OK && res->data[i]; i++) {
            if (dns_lookup_name((const unsigned char *) res->data[i], res->len[i], name, len) < 0
                || !address_valid_domain(name, 0))
                continue;
            if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1) {
                msg_warn("numeric hostname: %s", name);
                continue;
            }
            status = SMTPD_PEER_CODE_OK;
            break;
        }
        ub_resolve_free(res);
    }
    buf_free(query);
    buf_free(why);
    return status;
}

/* smtpd_peer_confirm - does name lead back to addr? SMTPD_PEER_CODE_* */
static int smtpd_peer_confirm(const char *name, const char *addr, int v6)
{
    unsigned char bin[16];
    size_t  alen = v6 ? 16 : 4;
    struct ub_result *res;
    BUF    *why = buf_alloc(100);
    int     rc, i;
    int     status = SMTPD_PEER_CODE_FORGED;

    (void) inet_pton(v6 ? AF_INET6 : AF_INET, addr, bin);
    rc = dns_lookup_query(name, v6 ? DNS_TYPE_AAAA : DNS_TYPE_A, &res, why);
    for (i = 0; rc == DNS_LOOKUP_OK && res->data[i] && i < SMTPD_PEER_ADDRS_MAX; i++)
        if ((size_t) res->len[i] == alen && memcmp(res->data[i], bin, alen) == 0)
            status = SMTPD_PEER_CODE_OK;
    ub_resolve_free(res);
    buf_free(why);
    /* Postfix's warnings (fail2ban and log readers know them). */
    if (rc == DNS_LOOKUP_RETRY) {
        msg_warn("hostname %s does not resolve to address %s: "
                 "Temporary failure in name resolution", name, addr);
        status = SMTPD_PEER_CODE_TEMP;
    } else if (rc != DNS_LOOKUP_OK) {
        msg_warn("hostname %s does not resolve to address %s: Name or service not known",
                 name, addr);
    } else if (status != SMTPD_PEER_CODE_OK) {
        msg_warn("hostname %s does not resolve to address %s", name, addr);
    }
    return status;
}

/* smtpd_peer_name - the client's names and how they were found */
void    smtpd_peer_name(const char *addr, SMTPD_PEER_NAME *out)
{
    unsigned char bin[16];
    int     v6 = inet_pton(AF_INET, addr, bin) != 1;

    snprintf(out->name, sizeof(out->name), "unknown");
    snprintf(out->reverse, sizeof(out->reverse), "unknown");
    out->name_status = out->reverse_status = SMTPD_PEER_CODE_PERM;
    if (!smtpd_params.peername_lookup || !dns_lookup_enabled()
        || (v6 && inet_pton(AF_INET6, addr, bin) != 1))
        return;
    out->reverse_status = smtpd_peer_ptr(addr, v6, out->reverse, sizeof(out->reverse));
    if (out->reverse_status != SMTPD_PEER_CODE_OK) {
        snprintf(out->reverse, sizeof(out->reverse), "unknown");
        out->name_status = out->reverse_status;
        return;
    }
    if ((out->name_status = smtpd_peer_confirm(out->reverse, addr, v6)) == SMTPD_PEER_CODE_OK)
        snprintf(out->name, sizeof(out->name), "%s", out->reverse);
}

/* smtpd_serve - one client: identify it, run the session (which applies
 * the connection count and rate limits first, smtpd_conn.c) */
void    smtpd_serve(STREAM *client)
{
    char    addr[64];
    BUF    *why = buf_alloc(100);

    if (smtpd_peer_addr(stream_fd(client), addr, sizeof(addr), why) < 0) {
        msg_warn("%s -- dropping this connection", buf_str(why));
        buf_free(why);
        return;
    }
    buf_free(why);
    smtpd_session(client, addr);
}
