/* smtpd_tls - STARTTLS (RFC 3207) and smtpd_tls_security_level.
 *
 * The certificate is loaded once per process in pre_init (the key may be
 * readable by root only). A certificate that does not load turns
 * STARTTLS off for this process with a warning; with "encrypt" the
 * server then refuses mail (530) rather than take it in plaintext.
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

#include "msg.h"
#include "smtpd.h"

TLS_CTX *smtpd_tls_ctx;

/* smtpd_tls_init - load the certificate when TLS is wanted */
void    smtpd_tls_init(void)
{
    BUF    *why;

    tls_ctx_free(smtpd_tls_ctx);
    smtpd_tls_ctx = NULL;
    if (smtpd_params.tls_level == SMTPD_TLS_NONE)
        return;
    why = buf_alloc(100);
    smtpd_tls_ctx = tls_server_ctx(smtpd_params.tls_cert_file, smtpd_params.tls_key_file, why);
    if (smtpd_tls_ctx == NULL)
        msg_warn("cannot use TLS: %s; STARTTLS is not offered%s", buf_str(why),
                 smtpd_params.tls_level == SMTPD_TLS_ENCRYPT
                 ? " and mail is refused (smtpd_tls_security_level = encrypt)" : "");
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

/* smtpd_tls_log - Postfix's line for an established session */
static void smtpd_tls_log(SMTPD_STATE *st)
{
    msg_info("Anonymous TLS connection established from %s: %s with cipher %s (%d/%d bits)",
             st->namaddr, st->tls_info.protocol, st->tls_info.cipher,
             st->tls_info.cipher_bits, st->tls_info.cipher_alg_bits);
}

/* smtpd_cmd_starttls - STARTTLS: the handshake and a fresh session */
int     smtpd_cmd_starttls(SMTPD_STATE *st, const char *args)
{
    BUF    *why;
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
    why = buf_alloc(100);
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
    smtpd_reset(st);
    buf_reset(st->helo);
    st->esmtp = 0;
    return 0;
}

/* smtpd_tls_received - the Received: comment "TLSv1.3 with cipher ..."
 * into out; NULL when the session is not encrypted */
const char *smtpd_tls_received(SMTPD_STATE *st, char *out, size_t len)
{
    if (st->tls == NULL)
        return NULL;
    snprintf(out, len, "%s with cipher %s (%d/%d bits)", st->tls_info.protocol,
             st->tls_info.cipher, st->tls_info.cipher_bits, st->tls_info.cipher_alg_bits);
    return out;
}
