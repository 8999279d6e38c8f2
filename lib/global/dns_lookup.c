/* dns_lookup - the resolver context from dns_servers and one lookup
 * (see dns_lookup.h).
 *
 * Why libunbound (doc/design.md §"Outbound DNS"): it is NLnet Labs'
 * validating resolver as a library, so DNSSEC can be checked in-process
 * for DANE later without trusting the path to a stub resolver.
 *
 * An empty dns_servers switches DNS off: every lookup is a temporary
 * failure (without it libunbound would recurse from the root hints).
 * With forwarders set, unbound never recurses from the root hints
 * itself. A caching resolver on loopback (127.0.0.53, a local unbound)
 * is common, hence do-not-query-localhost: no.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "dns_lookup.h"
#include "msg.h"
#include "str_split.h"

static struct ub_ctx *dns_ctx;
static int dns_max_rtt_ms;          /* dns_lookup_bound, 0: unbound's */
static int dns_tries;

void    dns_lookup_bound(int max_rtt_ms, int tries)
{
    dns_max_rtt_ms = max_rtt_ms;
    dns_tries = tries;
}

/* dns_lookup_option - one unbound option from a number (0: left alone) */
static void dns_lookup_option(struct ub_ctx *ctx, const char *name, int value)
{
    char    text[32];

    if (value <= 0)
        return;
    snprintf(text, sizeof(text), "%d", value);
    if (ub_ctx_set_option(ctx, name, text) != 0)
        msg_warn("DNS resolver: cannot set %s %s", name, text);
}

/* dns_lookup_ctx - the resolver context, once per process; NULL with why */
static struct ub_ctx *dns_lookup_ctx(BUF *why)
{
    const char *servers = config_str(P_dns_servers);
    char  **items;
    int     count, i, rc = 0;

    if (dns_ctx)
        return dns_ctx;
    if (!dns_lookup_enabled()) {
        buf_sprintf(why, "DNS lookups are off (dns_servers is empty)");
        return NULL;
    }
    if ((dns_ctx = ub_ctx_create()) == NULL) {
        buf_sprintf(why, "cannot create the DNS resolver");
        return NULL;
    }
    ub_ctx_set_option(dns_ctx, "do-not-query-localhost:", "no");
    /* Reverse names of private and loopback addresses (unbound's
     * default local zones answer them NXDOMAIN itself) are the servers'
     * to answer: a site's resolver knows its LAN clients, as the test
     * name server knows 127.0.0.x (smtpd's client names). Only
     * 127.0.0.1 stays localhost without a query, as the hosts file
     * says (nodefault does not work through ub_ctx_set_option;
     * transparent with that one record does). */
    ub_ctx_set_option(dns_ctx, "unblock-lan-zones:", "yes");
    ub_ctx_set_option(dns_ctx, "insecure-lan-zones:", "yes");
    if (ub_ctx_set_option(dns_ctx, "local-zone:", "127.in-addr.arpa. transparent") != 0)
        msg_warn("DNS resolver: cannot hand 127.in-addr.arpa to the servers");
    dns_lookup_option(dns_ctx, "infra-cache-max-rtt:", dns_max_rtt_ms);
    dns_lookup_option(dns_ctx, "outbound-msg-retry:", dns_tries);
    if (*servers == '/') {
        rc = ub_ctx_resolvconf(dns_ctx, servers);
    } else {
        items = str_split_list(servers, &count);
        for (i = 0; i < count && rc == 0; i++)
            rc = ub_ctx_set_fwd(dns_ctx, items[i]);
        str_split_free(items);
    }
    /* Last: adding data finalizes the context (no options after it). */
    if (rc == 0 && ub_ctx_data_add(dns_ctx, "1.0.0.127.in-addr.arpa. PTR localhost.") != 0)
        msg_warn("DNS resolver: cannot add 127.0.0.1 -> localhost");
    if (rc != 0) {
        buf_sprintf(why, "dns_servers = %s: %s", servers, ub_strerror(rc));
        ub_ctx_delete(dns_ctx);
        dns_ctx = NULL;
    }
    return dns_ctx;
}

int     dns_lookup_name(const unsigned char *p, int len, char *out, size_t outlen)
{
    size_t  o = 0;
    int     i = 0, l, j;

    if (outlen == 0)
        return -1;
    while (i < len && (l = p[i]) != 0) {
        if (l > 63 || i + 1 + l > len)
            return -1;                  /* compression never reaches us: unbound expands */
        if (o && o + 1 < outlen)
            out[o++] = '.';
        for (j = 0; j < l; j++) {
            unsigned char c = p[i + 1 + j];

            if (o + 1 >= outlen)
                return -1;
            out[o++] = (c > ' ' && c < 127) ? (char) c : '?';
        }
        i += 1 + l;
    }
    if (i >= len)
        return -1;
    if (o == 0 && outlen > 1)
        out[o++] = '.';
    out[o] = 0;
    return i + 1;
}

int     dns_lookup_enabled(void)
{
    return *config_str(P_dns_servers) != 0;
}

int     dns_lookup_ready(BUF *why)
{
    return dns_lookup_ctx(why) ? 0 : -1;
}

int     dns_lookup_query(const char *name, int type, struct ub_result **res, BUF *why)
{
    struct ub_ctx *ctx;
    int     rc;

    *res = NULL;
    if ((ctx = dns_lookup_ctx(why)) == NULL)
        return DNS_LOOKUP_RETRY;
    if ((rc = ub_resolve(ctx, name, type, 1, res)) != 0) {
        msg_warn("DNS lookup of %s: %s", name, ub_strerror(rc));
        buf_sprintf(why, "%s", ub_strerror(rc));
        return DNS_LOOKUP_RETRY;
    }
    if ((*res)->bogus) {
        msg_warn("DNS lookup of %s: DNSSEC validation failed: %s", name,
                 (*res)->why_bogus ? (*res)->why_bogus : "bogus");
        buf_sprintf(why, "DNSSEC validation failed");
        return DNS_LOOKUP_RETRY;
    }
    if ((*res)->rcode == 3)
        return DNS_LOOKUP_NXDOMAIN;
    if ((*res)->rcode != 0) {
        buf_sprintf(why, "server failure (rcode %d)", (*res)->rcode);
        return DNS_LOOKUP_RETRY;
    }
    return (*res)->havedata ? DNS_LOOKUP_OK : DNS_LOOKUP_NODATA;
}
