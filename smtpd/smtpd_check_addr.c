/* smtpd_check_addr - restrictions that judge an address or a HELO name.
 *
 * Relay control (reject_unauth_destination and friends), fully-qualified
 * and known domains, listed users, HELO syntax, and the lookup keys that
 * access tables see. Addresses arrive in internal form; an address without
 * a domain is read as user@$myorigin, as Postfix's local rewriting does.
 *
 * No open relay: a recipient is an authorized destination only when its
 * domain is local, virtual or in $relay_domains AND its local part holds
 * no routing (`@`, `!`, `%`), because a later hop may honour them
 * (`user%remote@local`, `remote!user@local`, `"user@remote"@local`).
 * allow_untrusted_routing = yes turns the second condition off.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "local_rcpt.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"
#include "split_addr.h"
#include "smtpd_check_int.h"

#define G smtpd_check_g

/* Addresses are split the one way, lib/global/local_rcpt.c's. */

/* has_routing - a local part that a later hop might read as a route */
static int has_routing(const char *local)
{
    return strpbrk(local, "@!%") != NULL;
}

/* auth_destination - CHECK_PERMIT if we may accept mail for rcpt from anyone */
static int auth_destination(CHECK_STATE *st, const char *rcpt)
{
    LOCAL_RCPT_CANON   c;
    int     status = CHECK_DUNNO;

    local_rcpt_canon(rcpt, &c);
    if (!G.allow_untrusted_routing && has_routing(buf_str(c.local))) {
        status = CHECK_DUNNO;           /* routed: uncertain final destination */
    } else {
        switch (resolve_class(buf_str(c.domain))) {
        case RESOLVE_CLASS_TRYLATER:
            status = smtpd_check_trylater(st, rcpt);
            break;
        case RESOLVE_CLASS_DEFAULT:
            status = CHECK_DUNNO;
            break;
        default:
            status = CHECK_PERMIT;
            break;
        }
    }
    local_rcpt_canon_free(&c);
    return status;
}

/* unauth_destination - reject (or defer) relaying to a foreign destination */
static int unauth_destination(CHECK_STATE *st, int defer)
{
    int     status = auth_destination(st, st->rcpt);

    if (status == CHECK_REJECT)
        return status;
    if (status == CHECK_PERMIT)
        return CHECK_DUNNO;
    return smtpd_check_reject(st, defer ? (int) config_int(P_defer_code)
                              : (int) config_int(P_relay_domains_reject_code),
                              defer ? "4.7.1" : "5.7.1", "<%s>: Relay access denied", st->rcpt);
}

/* non_fqdn_address - no domain, or a domain that is no FQDN */
static int non_fqdn_address(CHECK_STATE *st, const char *addr, const char *reply_class)
{
    const char *at = strrchr(addr, '@');
    BUF    *domain;
    int     bad;

    if (*addr == 0)
        return CHECK_DUNNO;             /* the null sender */
    domain = buf_alloc(64);
    buf_set(domain, at ? at + 1 : "");
    address_strip_dot(domain);
    if (buf_str(domain)[0] == '[')
        bad = !address_valid_domain(buf_str(domain), 0);
    else
        bad = !address_valid_domain(buf_str(domain), ADDR_UTF8)
            || strchr(buf_str(domain), '.') == NULL;
    buf_free(domain);
    if (!bad)
        return CHECK_DUNNO;
    return smtpd_check_reject(st, (int) config_int(P_non_fqdn_reject_code), "5.5.2",
                              "<%s>: %s rejected: need fully-qualified address", addr,
                              reply_class);
}

/* domain_known - 1 known, 0 not, -1 try later; never DNS (doc/access.md) */
static int domain_known(const char *domain)
{
    const char *tld;

    switch (resolve_class(domain)) {
    case RESOLVE_CLASS_TRYLATER:
        return -1;
    case RESOLVE_CLASS_DEFAULT:
        break;
    default:
        return 1;                       /* ours: local, virtual or relay */
    }
    if (*domain == '[')
        return address_valid_domain(domain, 0);
    if (!address_valid_domain(domain, ADDR_UTF8) || (tld = strrchr(domain, '.')) == NULL)
        return 0;                       /* single label: no such public domain */
    /* RFC 2606 / RFC 6761: these never exist in the public DNS */
    return strcasecmp(tld, ".invalid") != 0 && strcasecmp(tld, ".localhost") != 0;
}

/* unknown_domain - reject_unknown_sender_domain / _recipient_domain */
static int unknown_domain(CHECK_STATE *st, const char *addr, const char *reply_class)
{
    LOCAL_RCPT_CANON   c;
    int     known;

    if (*addr == 0)
        return CHECK_DUNNO;
    local_rcpt_canon(addr, &c);
    known = domain_known(buf_str(c.domain));
    local_rcpt_canon_free(&c);
    if (known < 0)
        return smtpd_check_trylater(st, addr);
    if (known)
        return CHECK_DUNNO;
    return smtpd_check_reject(st, (int) config_int(P_unknown_address_reject_code),
                              strcmp(reply_class, SMTPD_NAME_SENDER) == 0 ? "4.1.8" : "4.1.2",
                              "<%s>: %s rejected: Domain not found", addr, reply_class);
}

/* unlisted_address - reject_unlisted_recipient / reject_unlisted_sender:
 * the one rule of lib/global/local_rcpt.c, with Postfix's reply */
static int unlisted_address(CHECK_STATE *st, const char *addr, const char *reply_class)
{
    LOCAL_RCPT_CANON c;
    LOCAL_RCPT_MISS miss;
    BUF    *why;
    DICT_STATUS found;

    if (*addr == 0)
        return CHECK_DUNNO;
    local_rcpt_canon(addr, &c);
    why = buf_alloc(64);
    found = local_rcpt_check(addr, resolve_class(buf_str(c.domain)), &miss, why);
    local_rcpt_canon_free(&c);
    buf_free(why);
    if (found == DICT_TRYLATER)
        return smtpd_check_trylater(st, addr);
    if (found == DICT_FOUND)
        return CHECK_DUNNO;
    return smtpd_check_reject(st, (int) config_int(miss.code),
                              strcmp(reply_class, SMTPD_NAME_SENDER) == 0 ? "5.1.0" : "5.1.1",
                              "<%s>: %s rejected: User unknown in %s table", addr, reply_class,
                              miss.table);
}

/* helo_valid_hostname - letters, digits, '-' and '_' in dot-separated labels */
static int helo_valid_hostname(const char *name)
{
    unsigned char bin[16];
    size_t  label = 0;
    size_t  total = 0;
    int     numeric = 1;
    const char *cp;

    if (inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1)
        return 1;                       /* a bare address: Postfix accepts it too */
    for (cp = name; *cp; cp++, total++) {
        unsigned char ch = (unsigned char) *cp;

        if (ch == '.') {
            if (label == 0 || cp[-1] == '-')
                return 0;
            label = 0;
        } else if (isascii(ch) && (isalnum(ch) || ch == '_' || ch == '-')) {
            if (label == 0 && ch == '-')
                return 0;
            if (!isdigit(ch))
                numeric = 0;
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return total > 0 && total <= 255 && label > 0 && cp[-1] != '-' && !numeric;
}

/* helo_literal_ok - [1.2.3.4] or [IPv6:...] */
static int helo_literal_ok(const char *helo)
{
    return address_valid_domain(helo, 0);
}

/* helo_check - reject_invalid_helo_hostname (fqdn = 0) / reject_non_fqdn_helo_hostname */
static int helo_check(CHECK_STATE *st, int fqdn)
{
    const char *helo = st->ctx->helo;
    BUF    *name;
    int     status = CHECK_DUNNO;

    if (helo == NULL || *helo == 0)
        return CHECK_DUNNO;
    if (*helo == '[') {
        if (!fqdn && !helo_literal_ok(helo))
            status = smtpd_check_reject(st, (int) config_int(P_invalid_hostname_reject_code),
                                        "5.5.2", "<%s>: %s rejected: invalid ip address", helo,
                                        SMTPD_NAME_HELO);
        return status;
    }
    name = buf_alloc(64);
    buf_set(name, helo);
    address_strip_dot(name);
    if (!fqdn && !helo_valid_hostname(buf_str(name)))
        status = smtpd_check_reject(st, (int) config_int(P_invalid_hostname_reject_code),
                                    "5.5.2", "<%s>: %s rejected: Invalid name", helo,
                                    SMTPD_NAME_HELO);
    else if (fqdn && (!helo_valid_hostname(buf_str(name)) || !strchr(buf_str(name), '.')))
        status = smtpd_check_reject(st, (int) config_int(P_non_fqdn_reject_code), "5.5.2",
                                    "<%s>: %s rejected: need fully-qualified hostname", helo,
                                    SMTPD_NAME_HELO);
    buf_free(name);
    return status;
}

/* smtpd_check_addr_restriction - the restrictions of this file by name */
int     smtpd_check_addr_restriction(CHECK_STATE *st, const char *name)
{
    const char *sender = st->ctx->sender;

    if (strcasecmp(name, "reject_unauth_destination") == 0)
        return st->rcpt ? unauth_destination(st, 0) : CHECK_DUNNO;
    if (strcasecmp(name, "defer_unauth_destination") == 0)
        return st->rcpt ? unauth_destination(st, 1) : CHECK_DUNNO;
    if (strcasecmp(name, "permit_auth_destination") == 0)
        return st->rcpt ? auth_destination(st, st->rcpt) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_non_fqdn_sender") == 0)
        return sender ? non_fqdn_address(st, sender, SMTPD_NAME_SENDER) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_non_fqdn_recipient") == 0)
        return st->rcpt ? non_fqdn_address(st, st->rcpt, SMTPD_NAME_RECIPIENT) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_unknown_sender_domain") == 0)
        return sender ? unknown_domain(st, sender, SMTPD_NAME_SENDER) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_unknown_recipient_domain") == 0)
        return st->rcpt ? unknown_domain(st, st->rcpt, SMTPD_NAME_RECIPIENT) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_unlisted_sender") == 0)
        return sender ? unlisted_address(st, sender, SMTPD_NAME_SENDER) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_unlisted_recipient") == 0
        || strcasecmp(name, "check_recipient_maps") == 0)   /* off after a content filter */
        return st->rcpt && !G.no_unknown_rcpt ? unlisted_address(st, st->rcpt, SMTPD_NAME_RECIPIENT)
            : CHECK_DUNNO;
    if (strcasecmp(name, "reject_invalid_helo_hostname") == 0
        || strcasecmp(name, "reject_invalid_hostname") == 0)
        return helo_check(st, 0);
    if (strcasecmp(name, "reject_non_fqdn_helo_hostname") == 0
        || strcasecmp(name, "reject_non_fqdn_hostname") == 0)
        return helo_check(st, 1);
    return CHECK_UNKNOWN;
}

/* smtpd_check_keys_init - an empty key list */
void    smtpd_check_keys_init(KEY_LIST *keys)
{
    keys->keys = NULL;
    keys->count = keys->cap = 0;
}

/* smtpd_check_keys_add - one more key, unless it is already there */
void    smtpd_check_keys_add(KEY_LIST *keys, const char *key)
{
    int     i;

    for (i = 0; i < keys->count; i++)
        if (strcmp(keys->keys[i], key) == 0)
            return;
    if (keys->count == keys->cap) {
        keys->cap = keys->cap ? keys->cap * 2 : 8;
        keys->keys = xreallocarray(keys->keys, (size_t) keys->cap, sizeof(char *));
    }
    keys->keys[keys->count++] = xstrdup(key);
}

/* smtpd_check_keys_free - release the keys */
void    smtpd_check_keys_free(KEY_LIST *keys)
{
    int     i;

    for (i = 0; i < keys->count; i++)
        xfree(keys->keys[i]);
    xfree(keys->keys);
    smtpd_check_keys_init(keys);
}

/* smtpd_check_keys_domain - "a.b.c", ".b.c", ".c" (no parents for literals) */
void    smtpd_check_keys_domain(KEY_LIST *keys, const char *name)
{
    BUF    *low = buf_alloc(64);
    unsigned char bin[16];
    const char *cp;

    buf_set(low, name);
    address_strip_dot(low);
    dict_fold(buf_str(low));
    smtpd_check_keys_add(keys, buf_str(low));
    if (buf_str(low)[0] != '[' && inet_pton(AF_INET, buf_str(low), bin) != 1
        && inet_pton(AF_INET6, buf_str(low), bin) != 1)
        for (cp = strchr(buf_str(low) + 1, '.'); cp && cp[1]; cp = strchr(cp + 1, '.'))
            smtpd_check_keys_add(keys, cp);
    buf_free(low);
}

/* smtpd_check_keys_addr - "1.2.3.4", "1.2.3", "1.2", "1" (':' for IPv6) */
void    smtpd_check_keys_addr(KEY_LIST *keys, const char *addr)
{
    BUF    *text = buf_alloc(64);
    int     delim = strchr(addr, ':') ? ':' : '.';
    char   *cut;

    buf_set(text, addr);
    dict_fold(buf_str(text));
    while (buf_len(text) > 0) {
        smtpd_check_keys_add(keys, buf_str(text));
        if ((cut = strrchr(buf_str(text), delim)) == NULL)
            break;
        buf_truncate(text, (size_t) (cut - buf_str(text)));
    }
    buf_free(text);
}

/* smtpd_check_keys_mail - user+ext@domain, user@domain, domain, .parents,
 * user+ext@, user@ (access(5)) */
void    smtpd_check_keys_mail(KEY_LIST *keys, const char *addr)
{
    LOCAL_RCPT_CANON   c;
    BUF    *key = buf_alloc(64);

    local_rcpt_canon(addr, &c);
    buf_sprintf(key, "%s@%s", buf_str(c.local), buf_str(c.domain));
    smtpd_check_keys_add(keys, buf_str(key));
    buf_sprintf(key, "%s@%s", buf_str(c.base), buf_str(c.domain));
    smtpd_check_keys_add(keys, buf_str(key));
    smtpd_check_keys_domain(keys, buf_str(c.domain));
    buf_sprintf(key, "%s@", buf_str(c.local));
    smtpd_check_keys_add(keys, buf_str(key));
    buf_sprintf(key, "%s@", buf_str(c.base));
    smtpd_check_keys_add(keys, buf_str(key));
    local_rcpt_canon_free(&c);
    buf_free(key);
}
