/* sendmail_smtp - sendmail -bs: a submission SMTP dialogue on stdin/stdout.
 *
 * Postfix execs smtpd in a special stand-alone mode for -bs. We speak a
 * small SMTP ourselves instead and submit each message through postdrop,
 * exactly like -bm: the caller is a local user whose identity is the uid,
 * so there is nothing for smtpd's access checks to decide, and the
 * queue is written only by postdrop. Supported: HELO, EHLO, MAIL FROM
 * (BODY=, ENVID=, RET= understood, SIZE= ignored; other parameters
 * refused), RCPT TO (NOTIFY= and ORCPT= understood), DATA, RSET, NOOP,
 * VRFY (252), HELP, QUIT. The parameter values are parsed by
 * lib/global/dsn.c, as smtpd parses them: what one takes the other takes.
 * Lines may end in CRLF or LF: the peer is a local program on a pipe,
 * not a network relay, so there is no smuggling boundary to defend.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dsn.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "sendmail.h"

#define SM_SMTP_LINE_MAX    2048        /* a command line (RFC 5321: 512) */
#define SM_SMTP_ERRORS_MAX  20          /* bad commands before we hang up */

typedef struct SM_SMTP {
    const SM_ARGS *args;
    STREAM *in;
    STREAM *out;
    int     have_mail;                  /* MAIL FROM accepted */
    BUF    *sender;
    BUF    *envid;
    const char *dsn_ret;                /* static strings */
    const char *encoding;
    int     dsn_notify;                 /* of the RCPT being parsed */
    BUF    *orcpt;                      /* of the RCPT being parsed, "type;addr" */
    char  **rcpts;
    int    *notify;                     /* per recipient */
    char  **orcpts;                     /* per recipient, NULL: none */
    int     nrcpt;
} SM_SMTP;

/* sm_reply - one reply line */
static void sm_reply(SM_SMTP *s, const char *text)
{
    stream_printf(s->out, "%s\r\n", text);
    stream_flush(s->out);
}

/* sm_reset - forget the transaction */
static void sm_reset(SM_SMTP *s)
{
    int     i;

    for (i = 0; i < s->nrcpt; i++) {
        xfree(s->rcpts[i]);
        xfree(s->orcpts[i]);
    }
    xfree(s->rcpts);
    xfree(s->notify);
    xfree(s->orcpts);
    s->rcpts = NULL;
    s->notify = NULL;
    s->orcpts = NULL;
    s->nrcpt = 0;
    s->have_mail = 0;
    buf_reset(s->sender);
    buf_reset(s->envid);
    s->dsn_ret = NULL;
    s->encoding = NULL;
}

/* sm_path_arg - "FROM:<path> params" after the verb: path into addr,
 * *params at the parameters; -1 when the shape is wrong */
static int sm_path_arg(const char *arg, const char *keyword, BUF *addr, const char **params)
{
    size_t  klen = strlen(keyword);
    const char *cp;
    const char *end;

    if (strncasecmp(arg, keyword, klen) != 0)
        return -1;
    cp = arg + klen;
    while (*cp == ' ')
        cp++;
    if (*cp != '<' || (end = strchr(cp, '>')) == NULL)
        return -1;
    buf_reset(addr);
    buf_append(addr, cp + 1, (size_t) (end - cp - 1));
    for (cp = end + 1; *cp == ' '; cp++)
        ;
    *params = cp;
    return 0;
}

/* sm_mail_params - BODY=, ENVID=, RET=, SIZE= (ignored: postdrop checks).
 * 0, -1 for an unsupported parameter, -2 for a bad ENVID (dsn.c) */
static int sm_mail_params(SM_SMTP *s, const char *params)
{
    char   *copy = xstrdup(params);
    char   *save = NULL;
    char   *p;
    int     ok = 1;
    int     code;

    /* A refused MAIL must leave nothing for the next one to inherit. */
    buf_reset(s->envid);
    s->dsn_ret = NULL;
    s->encoding = NULL;
    for (p = strtok_r(copy, " ", &save); p && ok > 0; p = strtok_r(NULL, " ", &save)) {
        if (strncasecmp(p, "BODY=", 5) == 0 && (code = dsn_body_parse(p + 5, strlen(p + 5))))
            s->encoding = dsn_body_str(code);
        else if (strncasecmp(p, "RET=", 4) == 0 && (code = dsn_ret_parse(p + 4, strlen(p + 4))))
            s->dsn_ret = dsn_ret_str(code);
        else if (strncasecmp(p, "ENVID=", 6) == 0) {
            if (dsn_envid_parse(p + 6, strlen(p + 6), s->envid) < 0)
                ok = -2;
        }
        else if (strncasecmp(p, "SIZE=", 5) == 0)
            continue;
        else
            ok = 0;
    }
    xfree(copy);
    if (ok <= 0) {
        buf_reset(s->envid);
        s->dsn_ret = NULL;
        s->encoding = NULL;
    }
    return ok > 0 ? 0 : ok < 0 ? -2 : -1;
}

/* sm_cmd_mail - MAIL FROM:<sender> */
static void sm_cmd_mail(SM_SMTP *s, const char *arg)
{
    BUF    *addr = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    const char *params;
    int     status;

    if (s->have_mail)
        sm_reply(s, "503 5.5.1 Error: nested MAIL command");
    else if (sm_path_arg(arg, "FROM:", addr, &params) < 0)
        sm_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
    else if (maildrop_address_check(buf_str(addr), buf_len(addr), 1, why) < 0)
        sm_reply(s, "501 5.1.7 Bad sender address syntax");
    else if ((status = sm_mail_params(s, params)) == -2)
        sm_reply(s, "501 5.5.4 Bad ENVID parameter syntax");
    else if (status < 0)
        sm_reply(s, "555 5.5.4 Unsupported option");
    else {
        buf_set(s->sender, buf_str(addr));
        s->have_mail = 1;
        sm_reply(s, "250 2.1.0 Ok");
    }
    buf_free(addr);
    buf_free(why);
}

/* sm_rcpt_params - NOTIFY= and ORCPT= (dsn.c), each at most once. 0,
 * -1 for an unsupported parameter, -2 for a bad NOTIFY, -3 a bad ORCPT */
static int sm_rcpt_params(SM_SMTP *s, const char *params)
{
    char   *copy = xstrdup(params);
    char   *save = NULL;
    char   *p;
    int     result = 0;

    s->dsn_notify = 0;
    buf_reset(s->orcpt);
    for (p = strtok_r(copy, " ", &save); p && result == 0; p = strtok_r(NULL, " ", &save)) {
        if (strncasecmp(p, "NOTIFY=", 7) == 0) {
            if (s->dsn_notify || (s->dsn_notify = dsn_notify_parse(p + 7, strlen(p + 7))) == 0)
                result = -2;
        } else if (strncasecmp(p, "ORCPT=", 6) == 0) {
            if (buf_len(s->orcpt) || dsn_orcpt_parse(p + 6, strlen(p + 6), s->orcpt) < 0)
                result = -3;
        } else {
            result = -1;
        }
    }
    xfree(copy);
    return result;
}

/* sm_cmd_rcpt - RCPT TO:<recipient> */
static void sm_cmd_rcpt(SM_SMTP *s, const char *arg)
{
    BUF    *addr = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    const char *params;
    int     status;

    if (!s->have_mail)
        sm_reply(s, "503 5.5.1 Error: need MAIL command");
    else if (sm_path_arg(arg, "TO:", addr, &params) < 0)
        sm_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
    else if (maildrop_address_check(buf_str(addr), buf_len(addr), 0, why) < 0)
        sm_reply(s, "501 5.1.3 Bad recipient address syntax");
    else if ((status = sm_rcpt_params(s, params)) == -2)
        sm_reply(s, "501 5.5.4 Bad NOTIFY parameter syntax");
    else if (status == -3)
        sm_reply(s, "501 5.5.4 Bad ORCPT parameter syntax");
    else if (status < 0)
        sm_reply(s, "555 5.5.4 Unsupported option");
    else if (s->nrcpt >= MAILDROP_RCPT_MAX)
        sm_reply(s, "452 4.5.3 Error: too many recipients");
    else {
        s->rcpts = xreallocarray(s->rcpts, (size_t) s->nrcpt + 1, sizeof(char *));
        s->notify = xreallocarray(s->notify, (size_t) s->nrcpt + 1, sizeof(int));
        s->orcpts = xreallocarray(s->orcpts, (size_t) s->nrcpt + 1, sizeof(char *));
        s->notify[s->nrcpt] = s->dsn_notify;
        s->orcpts[s->nrcpt] = buf_len(s->orcpt) ? xstrdup(buf_str(s->orcpt)) : NULL;
        s->rcpts[s->nrcpt++] = xstrdup(buf_str(addr));
        sm_reply(s, "250 2.1.5 Ok");
    }
    buf_free(addr);
    buf_free(why);
}

/* sm_data_lines - DATA content up to "." into out (NULL: discard); 0 at
 * the end dot, -1 when the input ended first */
static int sm_data_lines(SM_SMTP *s, STREAM *out)
{
    BUF    *line = buf_alloc(MAILDROP_LINE_MAX + 1);
    int     continued = 0;
    int     rc;
    size_t  len;
    const char *data;
    int     result = -1;

    while ((rc = stream_get_line(s->in, line, MAILDROP_LINE_MAX)) >= 0) {
        data = buf_str(line);
        len = buf_len(line);
        if (rc == STREAM_LINE_OK) {
            len--;
            if (len > 0 && data[len - 1] == '\r')
                len--;
        }
        if (!continued && rc != STREAM_LINE_PARTIAL && data[0] == '.') {
            if (len == 1) {
                result = 0;
                break;
            }
            data++;                     /* dot-stuffing */
            len--;
        }
        if (out && sm_put_line(out, data, len, rc == STREAM_LINE_PARTIAL) < 0)
            out = NULL;                 /* postdrop gave up: read on to the dot */
        continued = (rc == STREAM_LINE_PARTIAL);
        if (rc == STREAM_LINE_LAST)
            break;
    }
    if (out && continued)
        sm_put_line(out, "", 0, 0);
    buf_free(line);
    return result;
}

/* sm_drop_stat - postdrop's exit status as the cleanup status it stands
 * for, so that -bs answers from the table smtpd uses (cleanup_status.h).
 * EX_DATAERR is postdrop refusing the input; what -bs writes has passed
 * every other maildrop check already (addresses and DSN values at MAIL
 * and RCPT, line lengths as it copies), which leaves message_size_limit.
 * Anything else is temporary: nothing was queued, try again. */
static int sm_drop_stat(int status)
{
    if (status == 0)
        return CLEANUP_STAT_OK;
    return status == EX_DATAERR ? CLEANUP_STAT_SIZE : CLEANUP_STAT_WRITE;
}

/* sm_cmd_data - DATA: stream the message to a new postdrop */
static int sm_cmd_data(SM_SMTP *s)
{
    SM_DROP drop;
    SM_ENVELOPE env;
    BUF    *why = buf_alloc(100);
    BUF    *fullname = buf_alloc(100);
    int     status;
    int     ended;

    if (!s->have_mail || s->nrcpt == 0) {
        sm_reply(s, s->have_mail ? "554 5.5.1 Error: no valid recipients"
                 : "503 5.5.1 Error: need RCPT command");
        buf_free(why);
        buf_free(fullname);
        return 0;
    }
    if (sm_drop_open(&drop, s->args->config_dir, why) < 0) {
        sm_reply(s, "451 4.3.0 Error: cannot start postdrop");
        buf_free(why);
        buf_free(fullname);
        return 0;
    }
    sm_default_fullname(fullname);
    sm_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    memset(&env, 0, sizeof(env));
    env.sender = buf_str(s->sender);
    env.fullname = s->args->fullname ? s->args->fullname : buf_str(fullname);
    env.dsn_ret = s->dsn_ret;
    env.envid = buf_len(s->envid) ? buf_str(s->envid) : NULL;
    env.encoding = s->encoding;
    env.rcpts = s->rcpts;
    env.nrcpt = s->nrcpt;
    env.notify = s->notify;             /* each recipient keeps its NOTIFY */
    env.orcpts = s->orcpts;             /* and its ORCPT */
    sm_put_envelope(drop.out, &env);
    ended = sm_data_lines(s, drop.out) == 0;
    if (!ended) {
        sm_drop_abort(&drop);
        buf_free(why);
        buf_free(fullname);
        return -1;                      /* the client went away */
    }
    sm_put_end(drop.out);
    status = sm_drop_close(&drop, why);
    if (status == 0) {
        sm_reply(s, "250 2.0.0 Ok: queued");
    } else {
        BUF    *reply = buf_alloc(100);

        cleanup_stat_reply(sm_drop_stat(status), reply);
        sm_reply(s, buf_str(reply));
        buf_free(reply);
    }
    sm_reset(s);
    buf_free(why);
    buf_free(fullname);
    return 0;
}

/* sm_cmd_ehlo - HELO/EHLO */
static void sm_cmd_ehlo(SM_SMTP *s, int extended)
{
    const char *host = config_str(P_myhostname);

    sm_reset(s);
    if (!extended) {
        stream_printf(s->out, "250 %s\r\n", host);
    } else {
        stream_printf(s->out, "250-%s\r\n250-8BITMIME\r\n250-DSN\r\n"
                      "250 ENHANCEDSTATUSCODES\r\n", host);
    }
    stream_flush(s->out);
}

/* sm_smtp_session - -bs: serve one SMTP dialogue; 0 after QUIT */
int sm_smtp_session(const SM_ARGS *args, STREAM *in, STREAM *out)
{
    SM_SMTP s;
    BUF    *line = buf_alloc(SM_SMTP_LINE_MAX + 1);
    char   *cmd;
    char   *arg;
    int     rc;
    int     errors = 0;
    int     status = EX_PROTOCOL;

    memset(&s, 0, sizeof(s));
    s.args = args;
    s.in = in;
    s.out = out;
    s.sender = buf_alloc(100);
    s.envid = buf_alloc(100);
    s.orcpt = buf_alloc(100);
    stream_printf(out, "220 %s ESMTP surel (sendmail -bs)\r\n", config_str(P_myhostname));
    stream_flush(out);
    while (errors < SM_SMTP_ERRORS_MAX
           && (rc = stream_get_line(in, line, SM_SMTP_LINE_MAX)) >= 0) {
        if (rc == STREAM_LINE_PARTIAL) {
            while (stream_get_line(in, line, SM_SMTP_LINE_MAX) == STREAM_LINE_PARTIAL)
                ;
            sm_reply(&s, "500 5.5.2 Error: line too long");
            errors++;
            continue;
        }
        buf_trim_right(line);           /* CRLF or LF, trailing blanks */
        cmd = buf_str(line);
        if ((arg = strchr(cmd, ' ')) != NULL)
            *arg++ = 0;
        else
            arg = cmd + strlen(cmd);
        if (strcasecmp(cmd, "EHLO") == 0 || strcasecmp(cmd, "HELO") == 0)
            sm_cmd_ehlo(&s, toupper((unsigned char) cmd[0]) == 'E');
        else if (strcasecmp(cmd, "MAIL") == 0)
            sm_cmd_mail(&s, arg);
        else if (strcasecmp(cmd, "RCPT") == 0)
            sm_cmd_rcpt(&s, arg);
        else if (strcasecmp(cmd, "DATA") == 0) {
            if (sm_cmd_data(&s) < 0)
                break;
        } else if (strcasecmp(cmd, "RSET") == 0) {
            sm_reset(&s);
            sm_reply(&s, "250 2.0.0 Ok");
        } else if (strcasecmp(cmd, "NOOP") == 0)
            sm_reply(&s, "250 2.0.0 Ok");
        else if (strcasecmp(cmd, "VRFY") == 0)
            sm_reply(&s, "252 2.0.0 Send some mail, I'll try my best");
        else if (strcasecmp(cmd, "HELP") == 0)
            sm_reply(&s, "214 2.0.0 HELO EHLO MAIL RCPT DATA RSET NOOP VRFY QUIT");
        else if (strcasecmp(cmd, "QUIT") == 0) {
            sm_reply(&s, "221 2.0.0 Bye");
            status = 0;
            break;
        } else {
            sm_reply(&s, "502 5.5.2 Error: command not recognized");
            errors++;
        }
    }
    if (errors >= SM_SMTP_ERRORS_MAX)
        sm_reply(&s, "421 4.7.0 Error: too many errors");
    sm_reset(&s);
    buf_free(s.sender);
    buf_free(s.envid);
    buf_free(s.orcpt);
    buf_free(line);
    return status;
}
