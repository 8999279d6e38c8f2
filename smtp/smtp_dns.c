/* smtp_dns - the addresses of one next hop, from DNS (libunbound).
 *
 * Why libunbound (doc/design.md §"Outbound DNS"): it is NLnet Labs'
 * validating resolver as a library, so DNSSEC can be checked in-process
 * for DANE later without trusting the path to a stub resolver. The smtp
 * process serves one delivery at a time (single_server) and its seccomp
 * profile forbids making processes or threads, which libunbound's
 * asynchronous mode needs (it forks or starts a thread): so the lookups
 * are synchronous ub_resolve() calls in the delivery process, which is
 * honest here because nothing else waits on this process meanwhile.
 *
 * The servers asked come from dns_servers; the resolver context and the
 * lookup itself are lib/global/dns_lookup.c, shared with smtpd's DNSBLs.
 *
 * MX (RFC 5321 §5.1): sorted by preference, equal preferences shuffled;
 * no MX: the domain's own A/AAAA; a null MX (RFC 7505, "MX 0 .") bounces
 * 5.1.10; an MX that is ourselves ($myhostname, or an address of
 * inet_interfaces) cuts the list at our preference, and when we are the best MX the mail loops (5.4.6).
 * NXDOMAIN bounces 5.1.2, anything else that fails waits (4.4.3), with
 * Postfix's words.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dns_lookup.h"
#include "mail_proto.h"
#include "msg.h"
#include "smtp.h"
#include "str_split.h"

void    smtp_mx_sort(SMTP_MX *mx, int n, unsigned (*rnd)(void))
{
    SMTP_MX t;
    int     i, j, k, start;

    /* Insertion sort by preference (n <= SMTP_MX_MAX), then Fisher-Yates
     * within each run of equal preference (RFC 5321 §5.1: spread load). */
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && mx[j - 1].pref > mx[j].pref; j--) {
            t = mx[j];
            mx[j] = mx[j - 1];
            mx[j - 1] = t;
        }
    for (start = 0; start < n; start = i) {
        for (i = start + 1; i < n && mx[i].pref == mx[start].pref; i++)
            ;
        for (j = i - 1; j > start; j--) {
            k = start + (int) (rnd() % (unsigned) (j - start + 1));
            t = mx[j];
            mx[j] = mx[k];
            mx[k] = t;
        }
    }
}

int     smtp_mx_cut_self(SMTP_MX *mx, int n, const char *myhostname)
{
    int     i, keep;

    for (i = 0; i < n; i++)
        if (strcasecmp(mx[i].host, myhostname) == 0)
            break;
    if (i == n)
        return n;
    /* Only hosts better than ourselves: the others would send it back. */
    for (keep = 0; keep < n && mx[keep].pref < mx[i].pref; keep++)
        ;
    return keep;
}

/* smtp_dns_is_self - one of these addresses is an inet_interfaces
 * address of ours (explicit addresses only: "all" is not looked into) */
static int smtp_dns_is_self(const SMTP_HOP *addrs, int from, int to)
{
    char  **items;
    int     count, i, j, self = 0;

    items = str_split_list(config_str(P_inet_interfaces), &count);
    for (i = 0; i < count && !self; i++)
        for (j = from; j < to && !self; j++)
            self = strcmp(items[i], addrs[j].host) == 0;
    str_split_free(items);
    return self;
}

static unsigned smtp_dns_random(void)
{
    return (unsigned) random();
}

/* smtp_dns_fail - a failed lookup for every address of the hop */
static int smtp_dns_fail(int *stat, char *dsn, size_t dsnlen, const char *code, int st)
{
    *stat = st;
    snprintf(dsn, dsnlen, "%s", code);
    return -1;
}

/* smtp_dns_addrs - the A/AAAA records of host (inet_protocols) onto
 * out[n..], with name; new n, or -1 (stat, dsn, why say why) */
static int smtp_dns_addrs(const char *host, const char *name, int port, SMTP_HOP *out, int n,
                          int max, int *stat, char *dsn, size_t dsnlen, BUF *why)
{
    static const int types[2] = {DNS_TYPE_A, DNS_TYPE_AAAA};
    struct ub_result *res;
    int     protocols, t, i, rc, found = 0;

    if ((protocols = config_inet_protocols(why)) < 0)
        return smtp_dns_fail(stat, dsn, dsnlen, "4.3.5", DELIVER_STAT_DEFER);
    for (t = 0; t < 2; t++) {
        if (!(protocols & (t == 0 ? CONFIG_INET_V4 : CONFIG_INET_V6)))
            continue;
        rc = dns_lookup_query(host, types[t], &res, why);
        if (rc < 0) {
            ub_resolve_free(res);
            buf_sprintf(why, "Host or domain name not found. Name service error for "
                        "name=%s type=%s: Host not found, try again", host, t ? "AAAA" : "A");
            return smtp_dns_fail(stat, dsn, dsnlen, "4.4.3", DELIVER_STAT_DEFER);
        }
        for (i = 0; rc == 0 && res->data[i] && n < max; i++) {
            int     fam = t == 0 ? AF_INET : AF_INET6;

            if (res->len[i] != (t == 0 ? 4 : 16))
                continue;
            memset(&out[n], 0, sizeof(out[n]));
            out[n].kind = SMTP_HOP_INET;
            out[n].port = port;
            out[n].literal = 1;
            if (inet_ntop(fam, res->data[i], out[n].host, sizeof(out[n].host)) == NULL)
                continue;
            snprintf(out[n].name, sizeof(out[n].name), "%s", name);
            n++;
            found++;
        }
        ub_resolve_free(res);
    }
    if (found == 0) {
        buf_sprintf(why, "Host or domain name not found. Name service error for "
                    "name=%s type=%s: Host not found", host,
                    protocols & CONFIG_INET_V4 ? "A" : "AAAA");
        return smtp_dns_fail(stat, dsn, dsnlen, "5.1.2", DELIVER_STAT_BOUNCE);
    }
    return n;
}

int     smtp_dns_hop(const SMTP_HOP *hop, SMTP_HOP *out, int max, int *stat, char *dsn,
                     size_t dsnlen, BUF *why)
{
    SMTP_MX mx[SMTP_MX_MAX];
    struct ub_result *res;
    const unsigned char *p;
    int     rc, i, n = 0, nmx = 0, run;

    if (hop->literal)                   /* [name]: its addresses, no MX */
        return smtp_dns_addrs(hop->host, hop->host, hop->port, out, 0, max, stat, dsn, dsnlen, why);
    rc = dns_lookup_query(hop->host, DNS_TYPE_MX, &res, why);
    if (rc < 0 || rc == 1) {
        ub_resolve_free(res);
        buf_sprintf(why, "Host or domain name not found. Name service error for "
                    "name=%s type=MX: Host not found%s", hop->host, rc < 0 ? ", try again" : "");
        return rc < 0 ? smtp_dns_fail(stat, dsn, dsnlen, "4.4.3", DELIVER_STAT_DEFER)
            : smtp_dns_fail(stat, dsn, dsnlen, "5.1.2", DELIVER_STAT_BOUNCE);
    }
    for (i = 0; rc == 0 && res->data[i] && nmx < SMTP_MX_MAX; i++) {
        p = (const unsigned char *) res->data[i];
        if (res->len[i] < 3)
            continue;
        mx[nmx].pref = p[0] << 8 | p[1];
        if (dns_lookup_name(p + 2, res->len[i] - 2, mx[nmx].host, sizeof(mx[nmx].host)) > 0)
            nmx++;
    }
    ub_resolve_free(res);
    if (nmx == 0)                       /* no MX: the domain's own address */
        return smtp_dns_addrs(hop->host, hop->host, hop->port, out, 0, max, stat, dsn, dsnlen, why);
    if (nmx == 1 && strcmp(mx[0].host, ".") == 0) {
        buf_sprintf(why, "Domain %s does not accept mail (nullMX)", hop->host);
        return smtp_dns_fail(stat, dsn, dsnlen, "5.1.10", DELIVER_STAT_BOUNCE);
    }
    smtp_mx_sort(mx, nmx, smtp_dns_random);
    if ((nmx = smtp_mx_cut_self(mx, nmx, config_str(P_myhostname))) == 0) {
        buf_sprintf(why, "mail for %s loops back to myself", hop->host);
        return smtp_dns_fail(stat, dsn, dsnlen, "5.4.6", DELIVER_STAT_BOUNCE);
    }
    if (max > (int) config_int(P_smtp_mx_address_limit) && config_int(P_smtp_mx_address_limit) > 0)
        max = (int) config_int(P_smtp_mx_address_limit);
    for (i = 0, run = 0; i < nmx && n < max; i++) {
        if (i == 0 || mx[i].pref != mx[i - 1].pref)
            run = n;                    /* where this preference's addresses start */
        rc = smtp_dns_addrs(mx[i].host, mx[i].host, hop->port, out, n, max, stat, dsn, dsnlen, why);
        if (rc < 0)
            continue;
        /* An MX at one of our addresses: as an MX named $myhostname. */
        if (smtp_dns_is_self(out, n, rc)) {
            n = run;
            if (n == 0) {
                buf_sprintf(why, "mail for %s loops back to myself", hop->host);
                return smtp_dns_fail(stat, dsn, dsnlen, "5.4.6", DELIVER_STAT_BOUNCE);
            }
            break;
        }
        n = rc;
    }
    /* Every MX host without an address: the last failure says why. */
    return n > 0 ? n : -1;
}
