/* smtp_tls - the client's TLS policy and handshake (Postfix's
 * smtp_tls_policy.c and the TLS half of smtp_proto.c).
 *
 * The policy of a delivery: smtp_tls_policy_maps looked up with qmgr's
 * next hop ("[mx.example]:25", "example.com", then ".example.com" and
 * each parent for a domain), else smtp_tls_security_level (empty: verify
 * with the obsolete smtp_enforce_tls = yes, may with smtp_use_tls = yes,
 * else none). A table entry is Postfix's: a level and attributes,
 *     example.com          verify match=hostname:nexthop
 *     [mx.example]:25      encrypt protocols=>=TLSv1.3 ciphers=high
 * (protocols=, ciphers=, exclude=, match=, servername=). Levels: none,
 * may (TLS when offered; a failed handshake retries in plaintext),
 * encrypt (TLS or nothing; any certificate), verify and secure (a trusted
 * certificate that carries one of the match names: smtp_tls_verify_cert_match,
 * default hostname, and smtp_tls_secure_cert_match, default nexthop and
 * dot-nexthop). DANE's levels are the next step: dane is used as may (as
 * Postfix does without usable TLSA records), after a warning; dane-only
 * and fingerprint are refused (the mail waits, 4.7.5) with a warning.
 *
 * The handshake (tls_client.h) sends SNI per smtp_tls_servername
 * (hostname, nexthop or a name; empty: none) and offers the session kept
 * from the last handshake with the same server, name and settings. It
 * logs, with smtp_tls_loglevel >= 1, Postfix's
 *     Verified TLS connection established to mx.example[192.0.2.1]:25:
 *         TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)
 * (Verified, Trusted, Untrusted or Anonymous), and refuses under verify
 * and secure "Server certificate not trusted" or "Server certificate not
 * verified" (4.7.5), logged with the reason whatever the log level.
 *
 * LMTP (Postfix's lmtp) has the same policy with its own parameters,
 * lmtp_tls_* and lmtp_starttls_timeout (default level: none, so LMTP to
 * Dovecot stays plaintext unless asked): TLS_P picks the set by the
 * protocol this process speaks (one protocol per process).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "tls_grade.h"
#include "smtp.h"
#include "str_split.h"
#include "tls_client.h"

static int smtp_tls_lmtp;               /* this process speaks LMTP: lmtp_tls_* */

#define TLS_P(smtp, lmtp) (smtp_tls_lmtp ? (lmtp) : (smtp))

static const char *smtp_tls_level_names[] = {
    [SMTP_TLS_NONE] = "none", [SMTP_TLS_MAY] = "may", [SMTP_TLS_ENCRYPT] = "encrypt",
    [SMTP_TLS_DANE] = "dane", [SMTP_TLS_DANE_ONLY] = "dane-only",
    [SMTP_TLS_FINGERPRINT] = "fingerprint", [SMTP_TLS_VERIFY] = "verify",
    [SMTP_TLS_SECURE] = "secure",
};
#define SMTP_TLS_NLEVELS ((int) (sizeof(smtp_tls_level_names) / sizeof(smtp_tls_level_names[0])))

const char *smtp_tls_level_name(int level)
{
    return level >= 0 && level < SMTP_TLS_NLEVELS ? smtp_tls_level_names[level] : "?";
}

/* smtp_tls_level - a level's number, -1 when unknown */
static int smtp_tls_level(const char *name, size_t len)
{
    int     i;

    for (i = 0; i < SMTP_TLS_NLEVELS; i++)
        if (strlen(smtp_tls_level_names[i]) == len && strncasecmp(name, smtp_tls_level_names[i], len) == 0)
            return i;
    return -1;
}

/* smtp_tls_copy - an attribute value into its field, bounded */
static int smtp_tls_copy(char *field, size_t size, const char *value, const char *name, BUF *why)
{
    if (strlen(value) >= size) {
        buf_sprintf(why, "TLS policy attribute %s is too long", name);
        return -1;
    }
    snprintf(field, size, "%s", value);
    return 0;
}

int     smtp_tls_policy_parse(const char *text, SMTP_TLS_POLICY *pol, BUF *why)
{
    char  **words;
    const char *eq;
    int     n, i, ret = 0;

    memset(pol, 0, sizeof(*pol));
    words = str_split_list(text, &n);
    if (n == 0 || (pol->level = smtp_tls_level(words[0], strlen(words[0]))) < 0) {
        buf_sprintf(why, "invalid TLS security level \"%.100s\"", n ? words[0] : "");
        str_split_free(words);
        return -1;
    }
    for (i = 1; i < n && ret == 0; i++) {
        const char *w = words[i];

        if ((eq = strchr(w, '=')) == NULL) {
            buf_sprintf(why, "TLS policy attribute without a value: \"%.100s\"", w);
            ret = -1;
        } else if (strncasecmp(w, "protocols=", 10) == 0) {
            ret = smtp_tls_copy(pol->protocols, sizeof(pol->protocols), eq + 1, "protocols", why);
        } else if (strncasecmp(w, "ciphers=", 8) == 0) {
            ret = smtp_tls_copy(pol->ciphers, sizeof(pol->ciphers), eq + 1, "ciphers", why);
        } else if (strncasecmp(w, "exclude=", 8) == 0) {
            ret = smtp_tls_copy(pol->exclude, sizeof(pol->exclude), eq + 1, "exclude", why);
        } else if (strncasecmp(w, "match=", 6) == 0) {
            ret = smtp_tls_copy(pol->match, sizeof(pol->match), eq + 1, "match", why);
        } else if (strncasecmp(w, "servername=", 11) == 0) {
            ret = smtp_tls_copy(pol->servername, sizeof(pol->servername), eq + 1, "servername",
                                why);
        } else {
            buf_sprintf(why, "unknown TLS policy attribute \"%.*s\"", (int) (eq - w), w);
            ret = -1;
        }
    }
    str_split_free(words);
    return ret;
}

/* smtp_tls_default_level - smtp_tls_security_level, or what the obsolete
 * booleans mean when it is empty */
static const char *smtp_tls_default_level(void)
{
    const char *level = config_str(TLS_P(P_smtp_tls_security_level, P_lmtp_tls_security_level));

    if (*level)
        return level;
    if (config_bool(TLS_P(P_smtp_enforce_tls, P_lmtp_enforce_tls)))
        return "verify";
    return config_bool(TLS_P(P_smtp_use_tls, P_lmtp_use_tls)) ? "may" : "none";
}

/* smtp_tls_lookup - the policy table's entry for the next hop; 1 found,
 * 0 none, -1 the table failed (why) */
static int smtp_tls_lookup(const char *nexthop, BUF *value, BUF *why)
{
    static MAPS *maps;
    static int opened;
    const char *list = config_str(TLS_P(P_smtp_tls_policy_maps, P_lmtp_tls_policy_maps)), *dot;
    BUF    *key;
    DICT_STATUS st;

    if (*list == 0)
        return 0;
    if (!opened) {
        opened = 1;
        if ((maps = maps_open(list, 0, why)) == NULL) {
            buf_sprintf(why, "smtp_tls_policy_maps: %s", buf_str(why));
            return -1;
        }
    }
    if (maps == NULL) {
        buf_sprintf(why, "smtp_tls_policy_maps: cannot be opened");
        return -1;
    }
    st = maps_find(maps, nexthop, value, why);
    /* A domain: then ".parent" entries, as Postfix's parent matching. */
    key = buf_alloc(64);
    for (dot = nexthop; st == DICT_NOTFOUND && *nexthop != '[' && !strchr(nexthop, ':')
         && (dot = strchr(dot, '.')) != NULL; dot++) {
        buf_set(key, dot);
        st = maps_find(maps, buf_str(key), value, why);
    }
    buf_free(key);
    if (st == DICT_FOUND)
        return 1;
    if (st == DICT_NOTFOUND)
        return 0;
    buf_sprintf(why, "%s_tls_policy_maps: lookup of %s: %s", smtp_tls_lmtp ? "lmtp" : "smtp",
                nexthop, buf_str(why));
    return -1;
}

int     smtp_tls_policy(SMTP_MSG *m, char *dsn, size_t dsnlen, BUF *why)
{
    BUF    *value = buf_alloc(64);
    int     found, ret = 0;

    smtp_tls_lmtp = m->lmtp;
    if ((found = smtp_tls_lookup(m->req->nexthop, value, why)) < 0) {
        snprintf(dsn, dsnlen, "4.3.0");
        ret = -1;
    } else if (smtp_tls_policy_parse(found ? buf_str(value) : smtp_tls_default_level(), &m->tls,
                                     why) < 0) {
        buf_sprintf(why, "TLS policy for %s: %s", m->req->nexthop, buf_str(why));
        snprintf(dsn, dsnlen, "4.7.5");
        ret = -1;
    } else if (m->tls.level == SMTP_TLS_DANE) {
        msg_warn("TLS policy for %s: level \"dane\" is not implemented yet: using \"may\" "
                 "(as without usable TLSA records)", m->req->nexthop);
        m->tls.level = SMTP_TLS_MAY;
    } else if (m->tls.level == SMTP_TLS_DANE_ONLY || m->tls.level == SMTP_TLS_FINGERPRINT) {
        buf_sprintf(why, "TLS policy for %s: level \"%s\" is not implemented yet",
                    m->req->nexthop, smtp_tls_level_name(m->tls.level));
        snprintf(dsn, dsnlen, "4.7.5");
        ret = -1;
    }
    if (ret < 0)
        msg_warn("%s: %s", m->req->queue_id, buf_str(why));
    buf_free(value);
    return ret;
}

/* A few contexts per process, one per distinct protocol and cipher set. */
#define SMTP_TLS_CTX_MAX 4
static struct {
    char   *key;
    TLS_CLIENT_CTX *ctx;
} smtp_tls_ctxs[SMTP_TLS_CTX_MAX];

/* smtp_tls_ctx - the context for the policy's settings; NULL with why */
static TLS_CLIENT_CTX *smtp_tls_ctx(const SMTP_TLS_POLICY *pol, BUF *why)
{
    int     mandatory = pol->level >= SMTP_TLS_ENCRYPT;
    const char *protocols = *pol->protocols ? pol->protocols
        : config_str(mandatory
                     ? TLS_P(P_smtp_tls_mandatory_protocols, P_lmtp_tls_mandatory_protocols)
                     : TLS_P(P_smtp_tls_protocols, P_lmtp_tls_protocols));
    const char *grade = *pol->ciphers ? pol->ciphers
        : config_str(mandatory ? TLS_P(P_smtp_tls_mandatory_ciphers, P_lmtp_tls_mandatory_ciphers)
                     : TLS_P(P_smtp_tls_ciphers, P_lmtp_tls_ciphers));
    const char *list = tls_grade_cipherlist(grade);
    TLS_CLIENT_PARAMS p;
    BUF    *key, *exclude;
    TLS_CLIENT_CTX *ctx = NULL;
    int     i, slot = 0;

    if (list == NULL) {
        buf_sprintf(why, "invalid TLS cipher grade \"%.50s\"", grade);
        return NULL;
    }
    exclude = buf_alloc(64);
    buf_sprintf(exclude, "%s %s %s",
                config_str(TLS_P(P_smtp_tls_exclude_ciphers, P_lmtp_tls_exclude_ciphers)),
                mandatory ? config_str(TLS_P(P_smtp_tls_mandatory_exclude_ciphers,
                                             P_lmtp_tls_mandatory_exclude_ciphers)) : "",
                pol->exclude);
    key = buf_alloc(128);
    buf_sprintf(key, "%s|%s|%s", protocols, list, buf_str(exclude));
    for (i = 0; i < SMTP_TLS_CTX_MAX && ctx == NULL; i++) {
        if (smtp_tls_ctxs[i].key == NULL)
            slot = i;
        else if (strcmp(smtp_tls_ctxs[i].key, buf_str(key)) == 0)
            ctx = smtp_tls_ctxs[i].ctx;
    }
    if (ctx == NULL) {
        p.CAfile = config_str(TLS_P(P_smtp_tls_CAfile, P_lmtp_tls_CAfile));
        p.CApath = config_str(TLS_P(P_smtp_tls_CApath, P_lmtp_tls_CApath));
        p.protocols = protocols;
        p.cipherlist = list;
        p.exclude = buf_str(exclude);
        p.loglevel = (int) config_int(TLS_P(P_smtp_tls_loglevel, P_lmtp_tls_loglevel));
        if ((ctx = tls_client_ctx(&p, why)) != NULL) {
            /* Full: the first one goes (its sessions stay in the cache). */
            if (smtp_tls_ctxs[slot].key) {
                xfree(smtp_tls_ctxs[slot].key);
                tls_client_ctx_free(smtp_tls_ctxs[slot].ctx);
            }
            smtp_tls_ctxs[slot].key = xstrdup(buf_str(key));
            smtp_tls_ctxs[slot].ctx = ctx;
        }
    }
    buf_free(key);
    buf_free(exclude);
    return ctx;
}

/* smtp_tls_nexthop - the next hop's domain: no brackets, no port */
static void smtp_tls_nexthop(const char *nexthop, char *out, size_t size)
{
    const char *start = nexthop, *end;

    if (*start == '[') {
        start++;
        end = strchr(start, ']');
    } else {
        end = strrchr(start, ':');
    }
    if (end == NULL)
        end = start + strlen(start);
    snprintf(out, size, "%.*s", (int) (end - start), start);
}

/* smtp_tls_names - the match names of the policy, NULL-ended in names
 * (strings live in store) */
static void smtp_tls_names(const SMTP_MSG *m, const SMTP_CONN *conn, char **store, int *nstore,
                           const char **names, int max)
{
    const char *spec = *m->tls.match ? m->tls.match
        : config_str(m->tls.level == SMTP_TLS_SECURE
                     ? TLS_P(P_smtp_tls_secure_cert_match, P_lmtp_tls_secure_cert_match)
                     : TLS_P(P_smtp_tls_verify_cert_match, P_lmtp_tls_verify_cert_match));
    char    domain[SMTP_HOST_MAX + 1], *cp;
    char  **items;
    int     n, i, k = 0;
    BUF    *text = buf_alloc(64);

    /* Colons separate names in a policy's match=, as in Postfix. */
    buf_set(text, spec);
    for (cp = text->data; *cp; cp++)
        if (*cp == ':')
            *cp = ' ';
    smtp_tls_nexthop(m->req->nexthop, domain, sizeof(domain));
    items = str_split_list(buf_str(text), &n);
    for (i = 0; i < n && k < max - 1 && *nstore < max; i++) {
        BUF    *name = buf_alloc(64);

        if (strcasecmp(items[i], "hostname") == 0)
            buf_set(name, conn->peer.name);
        else if (strcasecmp(items[i], "nexthop") == 0)
            buf_set(name, domain);
        else if (strcasecmp(items[i], "dot-nexthop") == 0)
            buf_sprintf(name, ".%s", domain);
        else
            buf_set(name, items[i]);
        store[(*nstore)++] = xstrdup(buf_str(name));
        names[k++] = store[*nstore - 1];
        buf_free(name);
    }
    names[k] = NULL;
    str_split_free(items);
    buf_free(text);
}

/* smtp_tls_sni - the SNI name, "" for none (never an address) */
static void smtp_tls_sni(const SMTP_MSG *m, const SMTP_CONN *conn, char *out, size_t size)
{
    const char *spec = *m->tls.servername ? m->tls.servername
        : config_str(TLS_P(P_smtp_tls_servername, P_lmtp_tls_servername));
    unsigned char a[16];

    if (strcasecmp(spec, "hostname") == 0)
        snprintf(out, size, "%s", conn->peer.name);
    else if (strcasecmp(spec, "nexthop") == 0)
        smtp_tls_nexthop(m->req->nexthop, out, size);
    else
        snprintf(out, size, "%s", spec);
    if (inet_pton(AF_INET, out, a) == 1 || inet_pton(AF_INET6, out, a) == 1)
        *out = 0;
}

int     smtp_tls_handshake(SMTP_MSG *m, SMTP_CONN *conn, char *dsn, size_t dsnlen, BUF *why)
{
    static const char *trust_words[] = {"Anonymous", "Untrusted", "Trusted", "Verified"};
    TLS_CLIENT_CTX *ctx;
    TLS_CLIENT_START st;
    TLS_CLIENT_RESULT res;
    TLS_INFO info;
    char   *store[16];
    const char *names[16];
    char    sni[SMTP_HOST_MAX + 1];
    int     nstore = 0, i, ret = 0;
    int     must_verify = m->tls.level >= SMTP_TLS_VERIFY;

    if ((ctx = smtp_tls_ctx(&m->tls, why)) == NULL) {
        msg_warn("TLS client set-up: %s", buf_str(why));
        buf_sprintf(why, "Cannot start TLS: TLS client set-up failed");
        snprintf(dsn, dsnlen, "4.7.5");
        return -1;
    }
    smtp_tls_sni(m, conn, sni, sizeof(sni));
    smtp_tls_names(m, conn, store, &nstore, names, 16);
    snprintf(conn->tls_key, sizeof(conn->tls_key), "%s|%s|%s|%s", conn->peer.addr,
             conn->peer.relay, sni, smtp_tls_level_name(m->tls.level));
    memset(&st, 0, sizeof(st));
    st.servername = sni;
    st.cache_key = conn->tls_key;
    st.match = names;
    st.timeout = (int) config_time(TLS_P(P_smtp_starttls_timeout, P_lmtp_starttls_timeout));
    if ((conn->tls = tls_client_start(ctx, conn->s, &st, &res, why)) == NULL) {
        msg_info("%s: TLS handshake failed with %s: %s", m->req->queue_id, conn->peer.relay,
                 buf_str(why));
        buf_sprintf(why, "Cannot start TLS: handshake failure");
        snprintf(dsn, dsnlen, "4.7.5");
        conn->dead = 1;                 /* the peer is in an unknown TLS state */
        ret = -1;
    } else {
        tls_session_info(conn->tls, &info);
        if (config_int(TLS_P(P_smtp_tls_loglevel, P_lmtp_tls_loglevel)) >= 1
            || (must_verify && res.trust != TLS_PEER_VERIFIED))
            msg_info("%s TLS connection established to %s: %s with cipher %s (%d/%d bits)%s",
                     trust_words[res.trust], conn->peer.relay, info.protocol, info.cipher,
                     info.cipher_bits, info.cipher_alg_bits, res.resumed ? " (resumed)" : "");
        if (must_verify && res.trust < TLS_PEER_TRUSTED) {
            msg_info("server certificate verification failed for %s: %s", conn->peer.relay,
                     res.trust == TLS_PEER_ANONYMOUS ? "no certificate" : res.verify_error);
            buf_sprintf(why, "Server certificate not trusted");
            ret = -2;
        } else if (must_verify && res.trust != TLS_PEER_VERIFIED) {
            BUF    *list = buf_alloc(64);

            for (i = 0; names[i]; i++)
                buf_printf(list, "%s%s", i ? ", " : "", names[i]);
            msg_info("server certificate verification failed for %s: CN=%s, names checked: %s",
                     conn->peer.relay, res.subject_cn, buf_len(list) ? buf_str(list) : "none");
            buf_free(list);
            buf_sprintf(why, "Server certificate not verified");
            ret = -2;
        }
        if (ret < 0)
            snprintf(dsn, dsnlen, "4.7.5");
    }
    for (i = 0; i < nstore; i++)
        xfree(store[i]);
    return ret;
}
