/* smtpd_tls - STARTTLS (RFC 3207), implicit TLS (smtpd_tls_wrappermode,
 * RFC 8314) and smtpd_tls_security_level.
 *
 * The certificates are loaded once per process in pre_init (the key may
 * be readable by root only), with Postfix's protocol and cipher settings
 * of the security level (mandatory_ ones with "encrypt"). A private key
 * file that group or other may read is fatal; any other certificate
 * problem turns STARTTLS off for this process with a warning; with
 * "encrypt" the server then refuses mail (530) rather than take it in
 * plaintext, and a wrappermode service closes each connection. The
 * certificates of tls_server_sni_maps are loaded at the same time, one
 * context per name, so that the SNI callback only has to choose.
 *
 * Order of STARTTLS, each step for a reason:
 *   220 reply, flushed      the client starts its handshake after it;
 *   drop the read-ahead     anything the client pipelined behind STARTTLS
 *                           came in plaintext and must never be run as if
 *                           it had come over TLS (CVE-2011-0411);
 *   handshake               within smtpd_timeout; on failure the session
 *                           ends without a reply (the peer's TLS state is
 *                           unknown, plaintext would be garbage to it);
 *   forget the session      HELO/EHLO and any transaction (RFC 3207 4.2).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dict.h"
#include "msg.h"
#include "tls_grade.h"
#include "smtpd.h"

TLS_CTX *smtpd_tls_ctx;

/* What smtpd_tls_sni_add needs while it walks tls_server_sni_maps. */
typedef struct SMTPD_SNI_LOAD {
    const TLS_SERVER_PARAMS *params;
    int     loaded;
} SMTPD_SNI_LOAD;

/* smtpd_tls_sni_add - one table entry: name -> chain files. A bad entry
 * is skipped with a warning (that name gets the default certificate);
 * an unsafe key file mode is fatal, as for the default certificate. */
static int smtpd_tls_sni_add(const char *name, const char *files, int lineno, void *ctx)
{
    SMTPD_SNI_LOAD *load = ctx;
    BUF    *why = buf_alloc(100);
    int     r;

    (void) lineno;
    r = tls_server_add_sni(smtpd_tls_ctx, load->params, name, files, why);
    if (r == -2)
        msg_fatal("tls_server_sni_maps: %s", buf_str(why));
    if (r < 0)
        msg_warn("tls_server_sni_maps: %s: %s; the default certificate is used for it",
                 name, buf_str(why));
    else
        load->loaded++;
    buf_free(why);
    return 0;
}

/* smtpd_tls_sni_init - every name of tls_server_sni_maps, now (as root:
 * the keys may be readable by root only); the tables are not kept */
static void smtpd_tls_sni_init(const TLS_SERVER_PARAMS *p)
{
    const char *list = config_str(P_tls_server_sni_maps);
    SMTPD_SNI_LOAD load = {p, 0};
    BUF    *why;
    MAPS   *maps;

    if (*list == 0 || smtpd_tls_ctx == NULL)
        return;
    why = buf_alloc(100);
    if ((maps = maps_open(list, 0, why)) == NULL
        || maps_walk(maps, smtpd_tls_sni_add, &load, why) < 0)
        msg_warn("tls_server_sni_maps: %s; %s", buf_str(why),
                 load.loaded ? "only the names read before it are used"
                 : "SNI names get the default certificate");
    msg_debug("tls_server_sni_maps: %d names", load.loaded);
    maps_close(maps);
    buf_free(why);
}

/* smtpd_tls_init - load the certificate when TLS is wanted. With
 * "encrypt" the mandatory_ settings apply, and both exclusion lists (as
 * in Postfix). An unsafe key file mode is fatal: the administrator must
 * see it at once, not find STARTTLS silently missing. */
void    smtpd_tls_init(void)
{
    int     mandatory = smtpd_params.tls_level == SMTPD_TLS_ENCRYPT;
    const char *grade = config_str(mandatory ? P_smtpd_tls_mandatory_ciphers : P_smtpd_tls_ciphers);
    TLS_SERVER_PARAMS p;
    BUF    *exclude;
    BUF    *ticket;
    BUF    *why;

    tls_ctx_free(smtpd_tls_ctx);
    smtpd_tls_ctx = NULL;
    if (smtpd_params.tls_level == SMTPD_TLS_NONE && !smtpd_params.tls_wrappermode)
        return;
    why = buf_alloc(100);
    exclude = buf_alloc(100);
    ticket = buf_alloc(100);
    buf_puts(exclude, config_str(P_smtpd_tls_exclude_ciphers));
    if (mandatory) {
        buf_puts(exclude, " ");
        buf_puts(exclude, config_str(P_smtpd_tls_mandatory_exclude_ciphers));
    }
    memset(&p, 0, sizeof(p));
    p.cert_file = config_str(P_smtpd_tls_cert_file);
    p.key_file = config_str(P_smtpd_tls_key_file);
    p.eccert_file = config_str(P_smtpd_tls_eccert_file);
    p.eckey_file = config_str(P_smtpd_tls_eckey_file);
    p.chain_files = config_str(P_smtpd_tls_chain_files);
    p.protocols = config_str(mandatory ? P_smtpd_tls_mandatory_protocols : P_smtpd_tls_protocols);
    p.cipherlist = tls_grade_cipherlist(grade);
    p.exclude = buf_str(exclude);
    p.loglevel = smtpd_params.tls_loglevel;
    buf_sprintf(ticket, "%s/smtpd_tls_ticket.key", config_str(P_data_directory));
    p.ticket_key_file = buf_str(ticket);
    p.ticket_lifetime = config_time(P_smtpd_tls_session_cache_timeout);
    if (p.cipherlist == NULL)
        buf_sprintf(why, "%s: unknown cipher grade \"%s\" (high, medium or null)",
                    mandatory ? "smtpd_tls_mandatory_ciphers" : "smtpd_tls_ciphers", grade);
    else
        smtpd_tls_ctx = tls_server_ctx(&p, why);
    if (smtpd_tls_ctx == NULL && strncmp(buf_str(why), "private key file ", 17) == 0)
        msg_fatal("%s", buf_str(why));
    smtpd_tls_sni_init(&p);
    if (smtpd_tls_ctx == NULL)
        msg_warn("cannot use TLS: %s; %s%s", buf_str(why),
                 smtpd_params.tls_wrappermode ? "connections are closed (smtpd_tls_wrappermode = yes)"
                 : "STARTTLS is not offered",
                 smtpd_params.tls_level == SMTPD_TLS_ENCRYPT
                 ? " and mail is refused (smtpd_tls_security_level = encrypt)" : "");
    buf_free(exclude);
    buf_free(ticket);
    buf_free(why);
}

/* smtpd_tls_required - encrypt: no mail (or address probing) in plaintext */
int     smtpd_tls_required(SMTPD_STATE *st)
{
    if (smtpd_params.tls_level != SMTPD_TLS_ENCRYPT || st->tls != NULL)
        return 0;
    smtpd_reply(st, "530 5.7.0 Must issue a STARTTLS command first");
    return 1;
}

/* smtpd_tls_log - Postfix's line for an established session, from
 * smtpd_tls_loglevel 1 on. "Anonymous": no client certificate is asked
 * for (smtpd_tls_ask_ccert is not implemented). */
static void smtpd_tls_log(SMTPD_STATE *st)
{
    if (smtpd_params.tls_loglevel < 1)
        return;
    msg_info("Anonymous TLS connection established from %s: %s with cipher %s (%d/%d bits)",
             st->namaddr, st->tls_info.protocol, st->tls_info.cipher,
             st->tls_info.cipher_bits, st->tls_info.cipher_alg_bits);
}

/* smtpd_tls_handshake - the server handshake on the client stream: 0, or
 * -1 logged and the session marked over */
static int smtpd_tls_handshake(SMTPD_STATE *st)
{
    BUF    *why = buf_alloc(100);

    st->tls = tls_server_start(smtpd_tls_ctx, st->client, (int) smtpd_params.timeout, why);
    if (st->tls == NULL) {
        msg_info("TLS handshake failed for %s: %s", st->namaddr, buf_str(why));
        buf_free(why);
        st->quit = 1;
        return -1;
    }
    buf_free(why);
    tls_session_info(st->tls, &st->tls_info);
    smtpd_tls_log(st);
    return 0;
}

/* smtpd_tls_wrapper - smtpd_tls_wrappermode: the handshake before the
 * greeting (RFC 8314 implicit TLS); 0 go on (also when wrappermode is
 * off), -1 the session is over. Without a usable certificate the
 * connection is closed: plaintext on a TLS port would confuse clients. */
int     smtpd_tls_wrapper(SMTPD_STATE *st)
{
    if (!smtpd_params.tls_wrappermode)
        return 0;
    if (smtpd_tls_ctx == NULL) {
        msg_warn("%s: smtpd_tls_wrappermode = yes, but TLS is not available: closing",
                 st->namaddr);
        st->quit = 1;
        return -1;
    }
    if (smtpd_tls_handshake(st) < 0)
        return -1;
    /* Over the new-session rate: the 421 goes through TLS, after it. */
    return smtpd_rate_newtls(st);
}

/* smtpd_cmd_starttls - STARTTLS: the handshake and a fresh session */
int     smtpd_cmd_starttls(SMTPD_STATE *st, const char *args)
{
    size_t  injected;

    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: STARTTLS");
        return -1;
    }
    if (st->tls != NULL) {
        smtpd_reply(st, "554 5.5.1 Error: TLS already active");
        return -1;
    }
    if (smtpd_tls_ctx == NULL) {
        if (smtpd_params.tls_level == SMTPD_TLS_NONE)
            smtpd_reply(st, "502 5.5.1 Error: command not implemented");
        else
            smtpd_reply(st, "454 4.7.0 TLS not available due to local problem");
        return -1;
    }
    if (smtpd_rate_newtls(st) < 0)
        return -1;
    smtpd_reply(st, "220 2.0.0 Ready to start TLS");
    if (smtpd_flush(st) < 0) {
        st->quit = 1;
        return -1;
    }
    if ((injected = stream_buffered(st->client)) > 0) {
        msg_warn("%s: discarding %zu bytes of plaintext sent after STARTTLS",
                 st->namaddr, injected);
        stream_discard_input(st->client);
    }
    if (smtpd_tls_handshake(st) < 0)
        return -1;
    smtpd_reset(st);
    buf_reset(st->helo);
    st->esmtp = 0;
    return 0;
}

/* smtpd_tls_received - the Received: comment "TLSv1.3 with cipher ..."
 * into out; NULL when the session is not encrypted */
const char *smtpd_tls_received(SMTPD_STATE *st, char *out, size_t len)
{
    if (st->tls == NULL || !smtpd_params.tls_received_header)
        return NULL;
    snprintf(out, len, "%s with cipher %s (%d/%d bits)", st->tls_info.protocol,
             st->tls_info.cipher, st->tls_info.cipher_bits, st->tls_info.cipher_alg_bits);
    return out;
}
