/* smtpd_cmd_session - the verbs that do not carry mail: HELO, EHLO, RSET,
 * NOOP, QUIT, VRFY, HELP (STARTTLS is smtpd_tls.c).
 */
#include <string.h>

#include "msg.h"
#include "smtpd.h"

/* smtpd_helo_common - HELO and EHLO: the name, the check, a new session
 * state (RFC 5321 4.1.4: EHLO/HELO reset any transaction) */
static int smtpd_helo_common(SMTPD_STATE *st, const char *args, int esmtp)
{
    SMTPD_CHECK_CTX ctx;
    BUF    *why;
    size_t  n;

    if (*args == 0) {
        smtpd_reply(st, "501 5.5.4 Syntax: %s hostname", esmtp ? "EHLO" : "HELO");
        return -1;
    }
    smtpd_reset(st);
    for (n = 0; args[n] && args[n] != ' ' && args[n] != '\t'; n++)
         /* the first word is the name, as in Postfix */ ;
    buf_reset(st->helo);
    buf_append(st->helo, args, n);
    st->esmtp = esmtp;
    why = buf_alloc(100);
    smtpd_check_ctx(st, &ctx);
    if (smtpd_check_helo(&ctx, why) != SMTPD_CHECK_OK) {
        smtpd_log_reject(st, NULL, esmtp ? "EHLO" : "HELO", buf_str(why), NULL);
        smtpd_reply(st, "%s", buf_str(why));
        buf_reset(st->helo);
        buf_free(why);
        return -1;
    }
    buf_free(why);
    if (smtpd_milter_helo(st, esmtp ? "EHLO" : "HELO") < 0) {
        buf_reset(st->helo);
        return -1;
    }
    return 0;
}

/* smtpd_cmd_helo - HELO name: plain SMTP */
int     smtpd_cmd_helo(SMTPD_STATE *st, const char *args)
{
    if (smtpd_helo_common(st, args, 0) < 0)
        return -1;
    smtpd_reply(st, "250 %s", smtpd_params.myhostname);
    return 0;
}

/* smtpd_cmd_ehlo - EHLO name: ESMTP and the extensions we offer.
 * STARTTLS only while it can work: a certificate is loaded and the
 * session is not already encrypted (RFC 3207 4.2). */
int     smtpd_cmd_ehlo(SMTPD_STATE *st, const char *args)
{
    if (smtpd_helo_common(st, args, 1) < 0)
        return -1;
    smtpd_reply(st, "250-%s", smtpd_params.myhostname);
    smtpd_reply(st, "250-PIPELINING");
    if (smtpd_tls_ctx != NULL && st->tls == NULL)
        smtpd_reply(st, "250-STARTTLS");
    if (smtpd_params.message_size_limit > 0)
        smtpd_reply(st, "250-SIZE %ld", smtpd_params.message_size_limit);
    else
        smtpd_reply(st, "250-SIZE");
    if (!smtpd_params.disable_vrfy)
        smtpd_reply(st, "250-VRFY");
    if (smtpd_sasl_offered(st)) {
        smtpd_reply(st, "250-AUTH PLAIN LOGIN");
        if (smtpd_params.broken_sasl)
            smtpd_reply(st, "250-AUTH=PLAIN LOGIN");
    }
    smtpd_reply(st, "250-ENHANCEDSTATUSCODES");
    smtpd_reply(st, "250-8BITMIME");
    smtpd_reply(st, "250-DSN");
    if (smtpd_params.smtputf8_enable)
        smtpd_reply(st, "250-SMTPUTF8");
    smtpd_reply(st, "250 CHUNKING");
    return 0;
}

/* smtpd_cmd_rset - RSET: forget the transaction */
int     smtpd_cmd_rset(SMTPD_STATE *st, const char *args)
{
    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: RSET");
        return -1;
    }
    smtpd_reset(st);
    smtpd_reply(st, "250 2.0.0 Ok");
    return 0;
}

/* smtpd_cmd_noop - NOOP [string] (RFC 5321 4.1.1.9 allows an argument) */
int     smtpd_cmd_noop(SMTPD_STATE *st, const char *args)
{
    (void) args;
    smtpd_reply(st, "250 2.0.0 Ok");
    return 0;
}

/* smtpd_cmd_quit - QUIT: 221 and close (the loop flushes) */
int     smtpd_cmd_quit(SMTPD_STATE *st, const char *args)
{
    (void) args;
    smtpd_reply(st, "221 2.0.0 Bye");
    st->quit = 1;
    return 0;
}

/* smtpd_cmd_vrfy - VRFY never says whether an address exists: no address
 * verification service exists yet, and a yes/no answer is an address
 * harvesting oracle. disable_vrfy_command = no (the default, as in
 * Postfix) answers 252 (RFC 5321 3.5.3: "cannot verify, will accept");
 * yes answers 502 and EHLO stops offering VRFY. */
int     smtpd_cmd_vrfy(SMTPD_STATE *st, const char *args)
{
    if (smtpd_params.disable_vrfy) {
        smtpd_reply(st, "502 5.5.1 VRFY command is disabled");
        return -1;
    }
    if (smtpd_tls_required(st))
        return -1;
    if (*args == 0) {
        smtpd_reply(st, "501 5.5.4 Syntax: VRFY address");
        return -1;
    }
    smtpd_reply(st, "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery");
    return 0;
}

/* smtpd_cmd_help - HELP [topic]: the verbs we know */
int     smtpd_cmd_help(SMTPD_STATE *st, const char *args)
{
    (void) args;
    smtpd_reply(st, "214-2.0.0 Commands: HELO EHLO MAIL RCPT DATA BDAT");
    smtpd_reply(st, "214-2.0.0 RSET NOOP QUIT VRFY HELP");
    smtpd_reply(st, "214 2.0.0 See RFC 5321");
    return 0;
}
