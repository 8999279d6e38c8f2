/* smtpd_cmd - parsing of SMTP command lines and ESMTP parameters.
 *
 * Pure functions over text, so that the fuzzer and the unit tests call
 * exactly what a session runs. Every failure comes back as a whole reply
 * line (code, enhanced status, text) for the client. Nothing here looks
 * at the session; the verbs in smtpd_cmd_*.c decide what a parameter
 * means for the transaction. The DSN values (NOTIFY, RET, ENVID, ORCPT)
 * and BODY are parsed by lib/global/dsn.c, which sendmail and the
 * maildrop checks share.
 */
#include <stdio.h>
#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mail_proto.h"
#include "smtpd.h"

#define SMTPD_VERB_MAX  20          /* longer "verbs" are not SMTP */

/* smtpd_cmd_split - verb and arguments of one command line (no CRLF).
 * NUL bytes and control characters other than TAB are refused: they have
 * no place in a command and would hide text from C string functions. */
int     smtpd_cmd_split(const char *line, size_t len, BUF *verb, const char **args,
                        BUF *reply)
{
    size_t  i;
    size_t  vlen;

    buf_reset(verb);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) line[i];

        if (ch == 0 || (ch < 32 && ch != '\t') || ch == 127) {
            buf_set(reply, "500 5.5.2 Error: bad syntax");
            return -1;
        }
    }
    for (i = 0; i < len && line[i] == ' '; i++)
         /* Postfix tolerates leading spaces */ ;
    for (vlen = 0; i + vlen < len && line[i + vlen] != ' ' && line[i + vlen] != '\t'; vlen++)
         /* void */ ;
    if (vlen == 0) {
        buf_set(reply, "500 5.5.2 Error: bad syntax");
        return -1;
    }
    if (vlen > SMTPD_VERB_MAX) {
        buf_set(reply, "500 5.5.2 Error: command not recognized");
        return -1;
    }
    buf_append(verb, line + i, vlen);
    i += vlen;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *args = line + i;
    return 0;
}

/* smtpd_cmd_keyword - args starts with keyword (case-insensitive, e.g.
 * "FROM:"); *rest points after it and any spaces Postfix tolerates. */
int     smtpd_cmd_keyword(const char *args, const char *keyword, const char **rest)
{
    size_t  n = strlen(keyword);

    if (strncasecmp(args, keyword, n) != 0)
        return 0;
    args += n;
    while (*args == ' ')
        args++;
    *rest = args;
    return 1;
}

/* smtpd_param_next - the next "KEYWORD[=value]" of a parameter list.
 * Returns 1 with the pieces, 0 at the end, -1 on bad syntax. Values may
 * hold UTF-8 (RFC 6531 3.3); keywords are ASCII letters, digits and '-'. */
static int smtpd_param_next(const char **cpp, const char **kw, size_t *kwlen,
                            const char **val, size_t *vallen)
{
    const char *cp = *cpp;
    const char *eq = NULL;
    const char *end;

    while (*cp == ' ')
        cp++;
    if (*cp == 0)
        return 0;
    for (end = cp; *end && *end != ' '; end++)
        if (*end == '=' && eq == NULL)
            eq = end;
    *kw = cp;
    *kwlen = (size_t) ((eq ? eq : end) - cp);
    *val = eq ? eq + 1 : NULL;
    *vallen = eq ? (size_t) (end - eq - 1) : 0;
    *cpp = end;
    if (*kwlen == 0 || !isalnum((unsigned char) cp[0]))
        return -1;
    for (const char *k = cp; k < cp + *kwlen; k++)
        if (!isalnum((unsigned char) *k) && *k != '-')
            return -1;
    if (eq) {
        if (*vallen == 0)
            return -1;
        for (const char *v = *val; v < end; v++)
            if (*v == '=' || (unsigned char) *v < 33 || *v == 127)
                return -1;
    }
    return 1;
}

/* smtpd_kw - the keyword is name (case-insensitive) */
static int smtpd_kw(const char *kw, size_t kwlen, const char *name)
{
    return strlen(name) == kwlen && strncasecmp(kw, name, kwlen) == 0;
}

/* smtpd_mail_args_init - empty MAIL parameters */
void    smtpd_mail_args_init(SMTPD_MAIL_ARGS *a)
{
    memset(a, 0, sizeof(*a));
    a->envid = buf_alloc(32);
}

/* smtpd_mail_args_free - release MAIL parameters */
void    smtpd_mail_args_free(SMTPD_MAIL_ARGS *a)
{
    buf_free(a->envid);
    a->envid = NULL;
}

/* smtpd_rcpt_args_init - empty RCPT parameters */
void    smtpd_rcpt_args_init(SMTPD_RCPT_ARGS *a)
{
    memset(a, 0, sizeof(*a));
    a->orcpt = buf_alloc(32);
}

/* smtpd_rcpt_args_free - release RCPT parameters */
void    smtpd_rcpt_args_free(SMTPD_RCPT_ARGS *a)
{
    buf_free(a->orcpt);
    a->orcpt = NULL;
}

/* smtpd_size_value - SIZE= digits, saturating instead of overflowing */
static int smtpd_size_value(const char *val, size_t len, long long *size)
{
    long long n = 0;
    size_t  i;

    if (len == 0)
        return -1;
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char) val[i]))
            return -1;
        if (n > (LLONG_MAX - 9) / 10)
            n = LLONG_MAX;
        else
            n = n * 10 + (val[i] - '0');
    }
    *size = n;
    return 0;
}

/* smtpd_unsupported - 555 for a parameter we do not offer */
static int smtpd_unsupported(BUF *reply, const char *kw, size_t kwlen)
{
    buf_sprintf(reply, "555 5.5.4 Unsupported option: %.*s", (int) kwlen, kw);
    return -1;
}

/* smtpd_mail_params - SIZE BODY SMTPUTF8 RET ENVID after MAIL FROM:<path>.
 * Parameters need EHLO (RFC 5321 4.1.1.11: only with the extensions the
 * server announced); a repeated parameter is a syntax error. */
int     smtpd_mail_params(const char *text, int esmtp, SMTPD_MAIL_ARGS *a, BUF *reply)
{
    const char *kw;
    const char *val;
    size_t  kwlen;
    size_t  vallen;
    int     r;
    int     envid_seen = 0;

    while ((r = smtpd_param_next(&text, &kw, &kwlen, &val, &vallen)) > 0) {
        if (!esmtp)
            return smtpd_unsupported(reply, kw, kwlen);
        if (smtpd_kw(kw, kwlen, "SIZE")) {
            if (a->size_given || !val || smtpd_size_value(val, vallen, &a->size) < 0) {
                buf_set(reply, "501 5.5.4 Bad message size syntax");
                return -1;
            }
            a->size_given = 1;
        } else if (smtpd_kw(kw, kwlen, "BODY")) {
            if (a->body || !val || (a->body = dsn_body_parse(val, vallen)) == 0) {
                buf_set(reply, "501 5.5.4 Unsupported BODY parameter value");
                return -1;
            }
        } else if (smtpd_kw(kw, kwlen, "SMTPUTF8")) {
            if (val || a->smtputf8) {
                buf_set(reply, "501 5.5.4 Bad SMTPUTF8 parameter syntax");
                return -1;
            }
            a->smtputf8 = 1;
        } else if (smtpd_kw(kw, kwlen, "RET")) {
            if (a->ret || !val || (a->ret = dsn_ret_parse(val, vallen)) == 0) {
                buf_set(reply, "501 5.5.4 Bad RET parameter syntax");
                return -1;
            }
        } else if (smtpd_kw(kw, kwlen, "AUTH")) {
            if (a->auth_given || !val) {
                buf_set(reply, "501 5.5.4 Bad AUTH parameter syntax");
                return -1;
            }
            a->auth_given = 1;
        } else if (smtpd_kw(kw, kwlen, "ENVID")) {
            if (envid_seen || !val || dsn_envid_parse(val, vallen, a->envid) < 0) {
                buf_reset(a->envid);    /* never leave a refused value behind */
                buf_set(reply, "501 5.5.4 Bad ENVID parameter syntax");
                return -1;
            }
            envid_seen = 1;
        } else {
            return smtpd_unsupported(reply, kw, kwlen);
        }
    }
    if (r < 0) {
        buf_set(reply, "501 5.5.4 Bad parameter syntax");
        return -1;
    }
    return 0;
}

/* smtpd_rcpt_params - NOTIFY and ORCPT after RCPT TO:<path> */
int     smtpd_rcpt_params(const char *text, int esmtp, SMTPD_RCPT_ARGS *a, BUF *reply)
{
    const char *kw;
    const char *val;
    size_t  kwlen;
    size_t  vallen;
    int     r;

    while ((r = smtpd_param_next(&text, &kw, &kwlen, &val, &vallen)) > 0) {
        if (!esmtp)
            return smtpd_unsupported(reply, kw, kwlen);
        if (smtpd_kw(kw, kwlen, "NOTIFY")) {
            if (a->notify || !val || (a->notify = dsn_notify_parse(val, vallen)) == 0) {
                buf_set(reply, "501 5.5.4 Bad NOTIFY parameter syntax");
                return -1;
            }
        } else if (smtpd_kw(kw, kwlen, "ORCPT")) {
            if (buf_len(a->orcpt) || !val || dsn_orcpt_parse(val, vallen, a->orcpt) < 0) {
                buf_set(reply, "501 5.5.4 Bad ORCPT parameter syntax");
                return -1;
            }
        } else {
            return smtpd_unsupported(reply, kw, kwlen);
        }
    }
    if (r < 0) {
        buf_set(reply, "501 5.5.4 Bad parameter syntax");
        return -1;
    }
    return 0;
}

/* smtpd_bdat_args - "size [LAST]"; 0, or -1 when malformed */
int     smtpd_bdat_args(const char *text, long long *size, int *last)
{
    const char *cp = text;
    size_t  n = 0;

    while (isdigit((unsigned char) cp[n]))
        n++;
    if (n == 0 || n > 18 || smtpd_size_value(cp, n, size) < 0)
        return -1;
    cp += n;
    *last = 0;
    if (*cp == 0)
        return 0;
    if (*cp != ' ')
        return -1;
    while (*cp == ' ')
        cp++;
    if (strcasecmp(cp, "LAST") == 0) {
        *last = 1;
        return 0;
    }
    return *cp == 0 ? 0 : -1;
}
