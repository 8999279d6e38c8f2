/* smtpd_check_dnsbl - DNS block and allow lists in the restriction lists.
 *
 * Postfix's restrictions, with its semantics:
 *   reject_rbl_client DOMAIN[=PATTERN]   the client address, reversed
 *                                        (IPv4 octets, IPv6 nibbles)
 *   reject_rhsbl_client DOMAIN[=P]       the client name (not "unknown")
 *   reject_rhsbl_reverse_client DOMAIN   the PTR name, confirmed or not
 *   reject_rhsbl_sender DOMAIN[=P]       the MAIL FROM domain
 *   reject_rhsbl_helo DOMAIN[=P]         the HELO/EHLO name
 *   permit_dnswl_client DOMAIN[=P]       the reversed address: permit
 *   permit_rhswl_client DOMAIN[=P]       the client name: permit
 * A name is listed when DOMAIN has an A record for it; with =PATTERN,
 * when one of its A records matches the pattern (Postfix's ip_match:
 * each octet a number or [list] of numbers and ranges, 127.0.0.[2..11],
 * 127.0.[0;1].[2;4..6]). A lookup that fails temporarily counts as "not
 * listed" with a warning, as in Postfix: a dead list must not stop mail.
 *
 * The reply of a reject is rbl_reply_maps' template for DOMAIN (the
 * argument as written) or default_rbl_reply, with $rbl_code
 * (maps_rbl_reject_code), $rbl_class, $rbl_what, $rbl_domain (without
 * the pattern), $rbl_reason and $rbl_txt (the TXT records, " / "
 * between them, at most 500 bytes), $client_address, $client_name and
 * the other names of smtpd_check_expand.
 *
 * Results (A and TXT, and failures) are cached per SMTP session
 * (smtpd_check_session): a list named in several stages or recipients
 * is asked once, and a dead one costs one timeout per session. Each try
 * waits at most DNSXL_MAX_RTT_MS (about 5 s in all for a silent server;
 * unbound's default is about 17 s), and the process's resolver then
 * remembers the server as down for later sessions.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dns_lookup.h"
#include "dnsbl_pattern.h"
#include "mem.h"
#include "msg.h"
#include "smtpd_check_int.h"

#define DNSXL_CACHE_MAX     64      /* lookups remembered per session */
#define DNSXL_ADDR_MAX      16      /* A records kept per name */
#define DNSXL_TXT_LIMIT     500     /* bytes of TXT text, as Postfix */
#define DNSXL_NAME_MAX      253     /* a DNS name */
#define DNSXL_MAX_RTT_MS    3000    /* per try: a silent list costs about 5 s */
#define DNSXL_TRIES         3

/* One cached lookup. */
typedef struct DNSXL_ENTRY {
    char   *query;                  /* "2.0.0.127.bl.example" */
    int     listed;                 /* an A record was found */
    unsigned char addr[DNSXL_ADDR_MAX][4];
    int     naddr;
    char   *txt;                    /* NULL until asked for */
} DNSXL_ENTRY;

static DNSXL_ENTRY cache[DNSXL_CACHE_MAX];
static MAPS *reply_maps;            /* rbl_reply_maps, NULL when empty */
static int cache_next;              /* the slot reused when full */

/* The restrictions and what each one looks up. */
typedef enum {
    WHAT_ADDR, WHAT_CLIENT_NAME, WHAT_REVERSE_NAME, WHAT_SENDER, WHAT_HELO
} DNSXL_WHAT;

static const struct {
    const char *name;
    DNSXL_WHAT what;
    int     permit;                 /* an allow list */
} dnsxl_table[] = {
    {"reject_rbl_client", WHAT_ADDR, 0},
    {"reject_rhsbl_client", WHAT_CLIENT_NAME, 0},
    {"reject_rhsbl_reverse_client", WHAT_REVERSE_NAME, 0},
    {"reject_rhsbl_sender", WHAT_SENDER, 0},
    {"reject_rhsbl_helo", WHAT_HELO, 0},
    {"permit_dnswl_client", WHAT_ADDR, 1},
    {"permit_rhswl_client", WHAT_CLIENT_NAME, 1},
};

#define DNSXL_COUNT (sizeof(dnsxl_table) / sizeof(dnsxl_table[0]))

/* smtpd_check_dnsxl_init - before the chroot: rbl_reply_maps and, when
 * a list names a DNSBL, the resolver (dns_servers may be a file) */
void    smtpd_check_dnsxl_init(int used)
{
    BUF    *why = buf_alloc(100);

    if (reply_maps)
        maps_close(reply_maps);
    reply_maps = NULL;
    if (*config_str(P_rbl_reply_maps)
        && (reply_maps = maps_open(config_str(P_rbl_reply_maps), 0, why)) == NULL)
        msg_fatal("rbl_reply_maps: %s", buf_str(why));
    dns_lookup_bound(DNSXL_MAX_RTT_MS, DNSXL_TRIES);
    if (used && dns_lookup_ready(why) < 0)
        msg_warn("DNSBL lookups will fail: %s", buf_str(why));
    buf_free(why);
    smtpd_check_dnsxl_session();
}

/* smtpd_check_dnsxl_session - a new session: forget what was looked up */
void    smtpd_check_dnsxl_session(void)
{
    int     i;

    for (i = 0; i < DNSXL_CACHE_MAX; i++) {
        xfree(cache[i].query);
        xfree(cache[i].txt);
        memset(&cache[i], 0, sizeof(cache[i]));
    }
    cache_next = 0;
}

/* dnsxl_index - the table row of a restriction name, or -1 */
static int dnsxl_index(const char *name)
{
    size_t  i;

    for (i = 0; i < DNSXL_COUNT; i++)
        if (strcasecmp(dnsxl_table[i].name, name) == 0)
            return (int) i;
    return -1;
}

int     smtpd_check_dnsxl_known(const char *name)
{
    return dnsxl_index(name) >= 0;
}

/* cache_find - the cached lookup of query, or NULL */
static DNSXL_ENTRY *cache_find(const char *query)
{
    int     i;

    for (i = 0; i < DNSXL_CACHE_MAX; i++)
        if (cache[i].query && strcasecmp(cache[i].query, query) == 0)
            return &cache[i];
    return NULL;
}

/* dnsxl_lookup - the A records of query, cached; NULL: not listed (or
 * the lookup failed: counted as not listed, warned about once) */
static DNSXL_ENTRY *dnsxl_lookup(const char *query)
{
    DNSXL_ENTRY *e;
    struct ub_result *res;
    BUF    *why;
    int     rc, i;

    if ((e = cache_find(query)) != NULL)
        return e->listed ? e : NULL;
    why = buf_alloc(100);
    rc = dns_lookup_query(query, DNS_TYPE_A, &res, why);
    if (rc == DNS_LOOKUP_RETRY)
        msg_warn("%s: RBL lookup error: %s", query, buf_str(why));
    buf_free(why);
    e = &cache[cache_next];
    cache_next = (cache_next + 1) % DNSXL_CACHE_MAX;
    xfree(e->query);
    xfree(e->txt);
    memset(e, 0, sizeof(*e));
    e->query = xstrdup(query);
    for (i = 0; rc == DNS_LOOKUP_OK && res->data[i] && e->naddr < DNSXL_ADDR_MAX; i++) {
        if (res->len[i] != 4)
            continue;
        memcpy(e->addr[e->naddr++], res->data[i], 4);
    }
    e->listed = e->naddr > 0;
    ub_resolve_free(res);
    return e->listed ? e : NULL;
}

/* dnsxl_txt - the TXT text of a listed name (fetched once); "" if none */
static const char *dnsxl_txt(DNSXL_ENTRY *e)
{
    struct ub_result *res;
    BUF    *why, *txt;
    int     i;

    if (e->txt)
        return e->txt;
    why = buf_alloc(64);
    txt = buf_alloc(100);
    if (dns_lookup_query(e->query, DNS_TYPE_TXT, &res, why) == DNS_LOOKUP_OK) {
        for (i = 0; res->data[i] && buf_len(txt) < DNSXL_TXT_LIMIT; i++) {
            const unsigned char *p = (const unsigned char *) res->data[i];
            int     off = 0;

            if (i > 0)
                buf_puts(txt, " / ");
            /* A TXT record is character-strings: a length byte, then bytes. */
            while (off < res->len[i]) {
                int     l = p[off];

                if (off + 1 + l > res->len[i])
                    break;
                buf_append(txt, p + off + 1, (size_t) l);
                off += 1 + l;
            }
        }
        if (buf_len(txt) > DNSXL_TXT_LIMIT)
            buf_truncate(txt, DNSXL_TXT_LIMIT);
    }
    ub_resolve_free(res);
    buf_free(why);
    e->txt = buf_steal(txt);
    return e->txt;
}

/* smtpd_check_dnsxl_reverse - the client address as a DNSBL name prefix
 * ("2.0.0.127", IPv6: 32 nibbles, lowest first); 0, or -1 when it is no
 * address */
int     smtpd_check_dnsxl_reverse(const char *addr, BUF *out)
{
    unsigned char b[16];
    int     i;

    /* An IPv4 client on an IPv6 socket is listed by its IPv4 address. */
    if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != NULL)
        addr += 7;
    if (inet_pton(AF_INET, addr, b) == 1) {
        buf_sprintf(out, "%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, b) == 1) {
        buf_reset(out);
        for (i = 15; i >= 0; i--)
            buf_printf(out, "%s%x.%x", i == 15 ? "" : ".", b[i] & 0xf, b[i] >> 4);
        return 0;
    }
    return -1;
}

/* dnsxl_subject - what a restriction looks up, and the class and
 * name its reply uses; NULL when there is nothing to look up */
static const char *dnsxl_subject(CHECK_STATE *st, DNSXL_WHAT what, BUF *prefix,
                                 const char **reply_class)
{
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    const char *subject = NULL;
    const char *at;

    switch (what) {
    case WHAT_ADDR:
        *reply_class = SMTPD_NAME_CLIENT;
        if (ctx->client_addr == NULL || smtpd_check_dnsxl_reverse(ctx->client_addr, prefix) < 0)
            return NULL;
        return ctx->client_addr;
    case WHAT_CLIENT_NAME:
        *reply_class = SMTPD_NAME_CLIENT;
        if (ctx->client_name && strcasecmp(ctx->client_name, "unknown") != 0)
            subject = ctx->client_name;
        break;
    case WHAT_REVERSE_NAME:
        *reply_class = SMTPD_NAME_CLIENT;
        if (ctx->reverse_name && strcasecmp(ctx->reverse_name, "unknown") != 0)
            subject = ctx->reverse_name;
        break;
    case WHAT_SENDER:
        *reply_class = SMTPD_NAME_SENDER;
        if (ctx->sender && (at = strrchr(ctx->sender, '@')) != NULL && at[1])
            subject = at + 1;
        break;
    case WHAT_HELO:
        *reply_class = SMTPD_NAME_HELO;
        if (ctx->helo && *ctx->helo && *ctx->helo != '[')
            subject = ctx->helo;
        break;
    }
    if (subject == NULL)
        return NULL;
    buf_set(prefix, subject);
    return subject;
}

/* dnsxl_listed - the entry that lists query (filtered by pattern), or NULL */
static DNSXL_ENTRY *dnsxl_listed(const char *query, const char *pattern, const char *arg)
{
    DNSXL_ENTRY *e = dnsxl_lookup(query);
    int     i, m;

    if (e == NULL || pattern == NULL)
        return e;
    for (i = 0; i < e->naddr; i++) {
        if ((m = dnsbl_pattern_match(pattern, e->addr[i])) < 0) {
            msg_warn("bad DNSBL reply pattern in \"%s\": ignored", arg);
            return NULL;
        }
        if (m)
            return e;
    }
    return NULL;
}

/* dnsxl_reply - the reject reply: the template, expanded and checked */
static int dnsxl_reply(CHECK_STATE *st, const char *arg, const char *domain, const char *what,
                       const char *reply_class, DNSXL_ENTRY *e)
{
    SMTPD_EXPAND_VARS vars;
    BUF    *tmpl = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    BUF    *out = buf_alloc(200);
    char    code[16];
    char    dsn[16];
    const char *text;
    int     status;

    buf_set(tmpl, config_str(P_default_rbl_reply));
    if (reply_maps) {
        switch (maps_find(reply_maps, arg, out, why)) {
        case DICT_FOUND:
            buf_set(tmpl, buf_str(out));
            break;
        case DICT_TRYLATER:
            msg_warn("rbl_reply_maps: lookup of %s failed: %s", arg, buf_str(why));
            status = smtpd_check_reject(st, 451, "4.3.5", "Server configuration error");
            goto done;
        default:
            break;
        }
    }
    snprintf(code, sizeof(code), "%d", (int) config_int(P_maps_rbl_reject_code));
    memset(&vars, 0, sizeof(vars));
    vars.rbl_code = code;
    vars.rbl_domain = domain;
    vars.rbl_what = what;
    vars.rbl_class = reply_class;
    vars.rbl_txt = dnsxl_txt(e);
    if (smtpd_check_expand(st, buf_str(tmpl), &vars, out, why) < 0) {
        msg_warn("bad rbl reply template for domain %s: %s: %s", arg, buf_str(tmpl),
                 buf_str(why));
        buf_set(tmpl, config_str(P_default_rbl_reply));
        if (smtpd_check_expand(st, buf_str(tmpl), &vars, out, why) < 0)
            msg_fatal("bad default_rbl_reply template: %s", buf_str(why));
    }
    text = buf_str(out);
    if ((text[0] != '4' && text[0] != '5') || !isdigit((unsigned char) text[1])
        || !isdigit((unsigned char) text[2]) || text[3] != ' ') {
        msg_warn("rbl response code configuration error: %s", text);
        status = smtpd_check_reject(st, 450, "4.7.1", "Service unavailable");
        goto done;
    }
    memcpy(code, text, 3);
    code[3] = 0;
    text = smtpd_check_dsn_split(text + 4, "4.7.1", dsn);
    smtpd_check_dsn_fix(dsn, reply_class);
    status = smtpd_check_reject(st, atoi(code), dsn, "%s", *text ? text : "Service unavailable");
done:
    buf_free(tmpl);
    buf_free(why);
    buf_free(out);
    return status;
}

/* smtpd_check_dnsxl - one DNSBL/DNSWL restriction with its argument */
int     smtpd_check_dnsxl(CHECK_STATE *st, const char *name, const char *arg)
{
    int     row = dnsxl_index(name);
    const char *reply_class = SMTPD_NAME_CLIENT;
    const char *subject;
    char    domain[DNSXL_NAME_MAX + 1];
    const char *pattern;
    BUF    *query;
    DNSXL_ENTRY *e = NULL;
    int     status = CHECK_DUNNO;

    if (row < 0)
        msg_panic("smtpd_check_dnsxl: %s", name);
    if ((pattern = strchr(arg, '=')) != NULL)
        pattern++;
    snprintf(domain, sizeof(domain), "%.*s", (int) strcspn(arg, "="), arg);
    query = buf_alloc(100);
    subject = dnsxl_subject(st, dnsxl_table[row].what, query, &reply_class);
    if (subject != NULL && *domain) {
        buf_printf(query, ".%s", domain);
        if (buf_len(query) <= DNSXL_NAME_MAX)
            e = dnsxl_listed(buf_str(query), pattern, arg);
    }
    if (e != NULL)
        status = dnsxl_table[row].permit ? CHECK_PERMIT
            : dnsxl_reply(st, arg, domain, subject, reply_class, e);
    buf_free(query);
    return status;
}
