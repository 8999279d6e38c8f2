/* smtpd_received - the Received: header smtpd puts first (RFC 5321 4.4).
 *
 *   Received: from HELO (NAME [ADDR])
 *           (using TLSv1.3 with cipher ... (256/256 bits))    after STARTTLS
 *           (Authenticated sender: alice)      smtpd_sasl_authenticated_header
 *           by MYHOSTNAME (MAIL_NAME) with PROTOCOL id QUEUEID
 *           for <RCPT>; DATE
 * "for" only when the message has exactly one recipient (more would list
 * every recipient to every other one). PROTOCOL follows RFC 3848 and
 * RFC 6531: SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPS,
 * UTF8SMTPA, UTF8SMTPSA. Text from the client (HELO, the recipient) is
 * made printable so that no client can end the header or add one.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "smtpd.h"

/* smtpd_protocol_name - the "with" keyword for this session */
const char *smtpd_protocol_name(int esmtp, int tls, int auth, int smtputf8)
{
    static const char *const esmtp_names[] = {"ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA"};
    static const char *const utf8_names[] = {"UTF8SMTP", "UTF8SMTPS", "UTF8SMTPA", "UTF8SMTPSA"};
    int     i = (tls ? 1 : 0) + (auth ? 2 : 0);

    if (!esmtp)
        return "SMTP";
    return smtputf8 ? utf8_names[i] : esmtp_names[i];
}

/* smtpd_printable - text with control bytes replaced by '?'; UTF-8 (any
 * byte >= 0x80) is kept, since SMTPUTF8 messages carry it legitimately */
void    smtpd_printable(const char *text, BUF *out)
{
    buf_reset(out);
    for (; *text; text++) {
        unsigned char ch = (unsigned char) *text;

        buf_putc(out, (ch < 32 || ch == 127) ? '?' : ch);
    }
}

/* smtpd_received - fill lines[0..] with the header lines; returns the count */
int     smtpd_received(const SMTPD_RECEIVED *r, BUF *lines[], int max)
{
    BUF    *helo = buf_alloc(100);
    BUF    *rcpt = buf_alloc(100);
    BUF    *login;
    char    date[100];
    struct tm tm;
    time_t  when = (time_t) r->when;
    const char *v6 = strchr(r->client_addr, ':') ? "IPv6:" : "";
    int     n = 0;

    if (max < 3 + (r->tls ? 1 : 0) + (r->auth_sender ? 1 : 0))
        return 0;
    smtpd_printable(r->helo ? r->helo : r->client_name, helo);
    localtime_r(&when, &tm);
    if (strftime(date, sizeof(date), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm) == 0)
        strcpy(date, "Thu, 1 Jan 1970 00:00:00 +0000");
    buf_sprintf(lines[n++], "Received: from %s (%s [%s%s])", buf_str(helo),
                r->client_name, v6, r->client_addr);
    if (r->tls)
        buf_sprintf(lines[n++], "\t(using %s)", r->tls);
    if (r->auth_sender) {
        /* Postfix's line; the name came from the auth server, keep it one line. */
        login = buf_alloc(64);
        smtpd_printable(r->auth_sender, login);
        buf_sprintf(lines[n++], "\t(Authenticated sender: %s)", buf_str(login));
        buf_free(login);
    }
    if (r->rcpt) {
        smtpd_printable(r->rcpt, rcpt);
        buf_sprintf(lines[n++], "\tby %s (%s) with %s id %s", r->by, r->mail_name,
                    r->protocol, r->queue_id);
        buf_sprintf(lines[n++], "\tfor <%s>; %s", buf_str(rcpt), date);
    } else {
        buf_sprintf(lines[n++], "\tby %s (%s) with %s id %s;", r->by, r->mail_name,
                    r->protocol, r->queue_id);
        buf_sprintf(lines[n++], "\t%s", date);
    }
    buf_free(helo);
    buf_free(rcpt);
    return n;
}
