/* smtpd_milter - smtpd_milters at the SMTP stages (lib/global/milter.c).
 *
 * smtpd talks to the filters of smtpd_milters (main.cf, or master.cf's
 * -o smtpd_milters=... for one service) at connect, HELO/EHLO, MAIL FROM,
 * RCPT TO and DATA, so that a filter's reject or tempfail is the reply to
 * the command it judged, as in Postfix. The filters' connection lives as
 * long as the SMTP session. Each hook below returns 0 to go on, or -1
 * after queueing the filter's reply (and logging Postfix's
 * "milter-reject" line).
 *
 *   connect    a reject is kept and given to every later command but
 *              QUIT, RSET and NOOP (the greeting stays 220: RFC 5321
 *              allows 554 there but no 4xx other than 421)
 *   HELO/EHLO  the reply to HELO/EHLO
 *   MAIL, RCPT the reply to that command (a RCPT reject rejects that
 *              recipient only)
 *   DATA       the reply to DATA (before 354)
 *   unknown    a command smtpd does not know goes to the filters too
 *              (SMFIC_UNKNOWN); a reject replaces the 500
 *   discard    at MAIL or RCPT: the message is read, answered 250 and
 *              dropped (logged "milter-discard")
 *   quarantine a filter failed with default_action=quarantine: cleanup
 *              commits the message to hold/ (CLEANUP_FLAG_HOLD), logged
 *              "milter-hold" with the reason
 * Content (header, body, end of message) and the changes a filter makes
 * are cleanup's: at DATA the filter sessions are handed to it
 * (smtpd_milter_handoff, SCM_RIGHTS: doc/design.md "Milters"), cleanup
 * ends the message with them and answers the filter's end-of-message
 * reply as its reason, which smtpd says as it is.
 * A filter that fails is logged by milter.c and answers its
 * default_action (milter_default_action).
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "receive_override.h"
#include "smtpd.h"

typedef struct SMTPD_MILTER {
    MILTERS *milters;
    char   *connect_reply;          /* a reject at connect, for every command */
    int     discard;                /* a filter said discard for this message */
    const char *rcpt;               /* RCPT being judged, for {rcpt_addr} */
    char    buf[400];                /* a macro value built here */
    char    queue_id[QUEUE_ID_BUFSZ];  /* from DATA on, for log lines */
} SMTPD_MILTER;

/* The macros smtpd knows (Postfix's names). */
static const char *smtpd_milter_macro(void *ctx, const char *name)
{
    SMTPD_STATE *st = ctx;
    SMTPD_MILTER *sm = st->milter;
    const char *v;

    if ((v = milter_macro_common(name)) != NULL)
        return (v);
    if (strcmp(name, "_") == 0) {
        snprintf(sm->buf, sizeof(sm->buf), "%s [%s]", st->name, st->addr);
        return (sm->buf);
    }
    if ((strcmp(name, "i") == 0 || strcmp(name, "{i}") == 0) && sm->queue_id[0])
        return (sm->queue_id);
    if (strcmp(name, "{client_addr}") == 0)
        return (st->addr);
    if (strcmp(name, "{client_name}") == 0)
        return (st->name);
    if (strcmp(name, "{client_ptr}") == 0)
        return (st->reverse_name);
    if (strcmp(name, "{tls_version}") == 0 && st->tls)
        return (st->tls_info.protocol);
    if (strcmp(name, "{cipher}") == 0 && st->tls)
        return (st->tls_info.cipher);
    if (strcmp(name, "{cipher_bits}") == 0 && st->tls) {
        snprintf(sm->buf, sizeof(sm->buf), "%d", st->tls_info.cipher_bits);
        return (sm->buf);
    }
    /* After AUTH (Postfix: the SASL method and login name). */
    if (strcmp(name, "{auth_type}") == 0 && buf_len(st->sasl_username) > 0)
        return (buf_str(st->sasl_method));
    if (strcmp(name, "{auth_authen}") == 0 && buf_len(st->sasl_username) > 0)
        return (buf_str(st->sasl_username));
    if (strcmp(name, "{mail_addr}") == 0 && st->have_mail)
        return (buf_str(st->sender));
    if (strcmp(name, "{rcpt_addr}") == 0 && sm->rcpt)
        return (sm->rcpt);
    return (NULL);
}

/* Postfix's "NOQUEUE: milter-reject: MAIL from host[addr]: 550 ...;
 * from=<...> ..." line. */
static void smtpd_log_milter(SMTPD_STATE *st, const char *stage, const char *reply,
                             const char *rcpt)
{
    SMTPD_MILTER *sm = st->milter;

    smtpd_log_refusal(st, sm && sm->queue_id[0] ? sm->queue_id : NULL, "milter-reject",
                      stage, reply, rcpt);
}

/* A reply line by line ("550-a\r\n550 b"). */
void    smtpd_reply_lines(SMTPD_STATE *st, const char *text)
{
    const char *cp = text, *eol;

    while ((eol = strstr(cp, "\r\n")) != NULL) {
        smtpd_reply(st, "%.*s", (int) (eol - cp), cp);
        cp = eol + 2;
    }
    smtpd_reply(st, "%s", cp);
}

/* The filter's reply, logged and sent. */
static void smtpd_milter_reply(SMTPD_STATE *st, const char *stage, const char *text,
                               const char *rcpt)
{
    smtpd_log_milter(st, stage, text, rcpt);
    smtpd_reply_lines(st, text);
}

/* The client's port, for SMFIC_CONNECT (0 when the socket cannot say). */
static unsigned smtpd_milter_port(SMTPD_STATE *st)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getpeername(stream_fd(st->client), (struct sockaddr *) &ss, &len) < 0)
        return (0);
    if (ss.ss_family == AF_INET)
        return (ntohs(((struct sockaddr_in *) &ss)->sin_port));
    if (ss.ss_family == AF_INET6)
        return (ntohs(((struct sockaddr_in6 *) &ss)->sin6_port));
    return (0);
}

void    smtpd_milter_connect(SMTPD_STATE *st)
{
    const char *list = config_str(P_smtpd_milters);
    MILTER_SETTINGS set;
    SMTPD_MILTER *sm;
    BUF    *why, *reply;
    MILTERS *ms;
    int     family;

    if (*list == '\0' || (smtpd_params.receive_opts & RECEIVE_NO_MILTERS))
        return;
    why = buf_alloc(64);
    milter_settings_from_config(&set);
    if ((ms = milters_create(list, &set, why)) == NULL) {
        /* A list that cannot work is a configuration error: like a
         * filter that failed, the default action answers. */
        msg_warn("smtpd_milters: %s", buf_str(why));
        buf_free(why);
        ms = milters_create("unix:/dev/null/bad-smtpd_milters", &set, NULL);
    } else {
        buf_free(why);
    }
    sm = xcalloc(1, sizeof(*sm));
    sm->milters = ms;
    st->milter = sm;
    milters_set_macros(ms, smtpd_milter_macro, st);
    family = strchr(st->addr, ':') ? '6' : '4';
    reply = buf_alloc(64);
    if (milters_connect(ms, st->name, family, st->addr, smtpd_milter_port(st), reply)
        == MILTER_REJECT) {
        smtpd_log_milter(st, "CONNECT", buf_str(reply), NULL);
        sm->connect_reply = xstrdup(buf_str(reply));
    }
    buf_free(reply);
}

int     smtpd_milter_denied(SMTPD_STATE *st, const char *verb)
{
    SMTPD_MILTER *sm = st->milter;
    const char *cp, *eol;

    if (sm == NULL || sm->connect_reply == NULL || strcmp(verb, "QUIT") == 0
        || strcmp(verb, "RSET") == 0 || strcmp(verb, "NOOP") == 0)
        return (0);
    for (cp = sm->connect_reply; (eol = strstr(cp, "\r\n")) != NULL; cp = eol + 2)
        smtpd_reply(st, "%.*s", (int) (eol - cp), cp);
    smtpd_reply(st, "%s", cp);
    return (-1);
}

int     smtpd_milter_helo(SMTPD_STATE *st, const char *verb)
{
    SMTPD_MILTER *sm = st->milter;
    BUF    *reply;
    int     r;

    if (sm == NULL)
        return (0);
    reply = buf_alloc(64);
    r = milters_helo(sm->milters, buf_str(st->helo), reply);
    if (r == MILTER_REJECT)
        smtpd_milter_reply(st, verb, buf_str(reply), NULL);
    buf_free(reply);
    return (r == MILTER_REJECT ? -1 : 0);
}

/* MAIL FROM's ESMTP parameters as separate strings, NULL-ended. */
static char **smtpd_milter_args(const char *params)
{
    char  **v = xcalloc(1, sizeof(*v));
    int     n = 0;
    const char *cp = params ? params : "";

    while (*cp) {
        const char *end;

        while (*cp == ' ')
            cp++;
        if (*cp == '\0' || n >= 32)
            break;
        for (end = cp; *end && *end != ' '; end++)
             /* void */ ;
        v = xreallocarray(v, (size_t) n + 2, sizeof(*v));
        v[n++] = xstrndup(cp, (size_t) (end - cp));
        v[n] = NULL;
        cp = end;
    }
    return (v);
}

static void smtpd_milter_args_free(char **v)
{
    char  **p;

    for (p = v; *p; p++)
        xfree(*p);
    xfree(v);
}

int     smtpd_milter_mail(SMTPD_STATE *st, const char *params)
{
    SMTPD_MILTER *sm = st->milter;
    BUF    *reply;
    char  **args;
    int     r;

    if (sm == NULL)
        return (0);
    sm->discard = 0;
    reply = buf_alloc(64);
    args = smtpd_milter_args(params);
    r = milters_mail(sm->milters, buf_str(st->sender), (const char *const *) args, reply);
    smtpd_milter_args_free(args);
    if (r == MILTER_REJECT)
        smtpd_milter_reply(st, "MAIL", buf_str(reply), NULL);
    else if (r == MILTER_DISCARD)
        sm->discard = 1;
    buf_free(reply);
    return (r == MILTER_REJECT ? -1 : 0);
}

int     smtpd_milter_rcpt(SMTPD_STATE *st, const char *rcpt, const char *params)
{
    SMTPD_MILTER *sm = st->milter;
    BUF    *reply;
    char  **args;
    int     r;

    if (sm == NULL)
        return (0);
    reply = buf_alloc(64);
    args = smtpd_milter_args(params);
    sm->rcpt = rcpt;
    r = milters_rcpt(sm->milters, rcpt, (const char *const *) args, reply);
    sm->rcpt = NULL;
    smtpd_milter_args_free(args);
    if (r == MILTER_REJECT)
        smtpd_milter_reply(st, "RCPT", buf_str(reply), rcpt);
    else if (r == MILTER_DISCARD)
        sm->discard = 1;
    buf_free(reply);
    return (r == MILTER_REJECT ? -1 : 0);
}

int     smtpd_milter_data(SMTPD_STATE *st, const char *verb, const char *queue_id)
{
    SMTPD_MILTER *sm = st->milter;
    BUF    *reply;
    int     r;

    if (sm == NULL)
        return (0);
    snprintf(sm->queue_id, sizeof(sm->queue_id), "%s", queue_id);
    milters_set_queue_id(sm->milters, queue_id);
    reply = buf_alloc(64);
    r = milters_data(sm->milters, reply);
    if (r == MILTER_REJECT)
        smtpd_milter_reply(st, verb, buf_str(reply), NULL);
    else if (r == MILTER_DISCARD)
        sm->discard = 1;
    buf_free(reply);
    return (r == MILTER_REJECT ? -1 : 0);
}

int     smtpd_milter_unknown(SMTPD_STATE *st, const char *line)
{
    SMTPD_MILTER *sm = st->milter;
    BUF    *reply;
    int     r;

    if (sm == NULL || (sm->connect_reply != NULL))
        return (0);
    reply = buf_alloc(64);
    r = milters_unknown(sm->milters, line, reply);
    if (r == MILTER_REJECT)
        smtpd_milter_reply(st, "UNKNOWN", buf_str(reply), NULL);
    buf_free(reply);
    return (r == MILTER_REJECT ? -1 : 0);
}

int     smtpd_milter_discard(const SMTPD_STATE *st)
{
    const SMTPD_MILTER *sm = st->milter;

    return (sm != NULL && sm->discard);
}

const char *smtpd_milter_hold(const SMTPD_STATE *st)
{
    const SMTPD_MILTER *sm = st->milter;

    return (sm != NULL ? milters_quarantine(sm->milters) : NULL);
}

void    smtpd_milter_reset(SMTPD_STATE *st)
{
    SMTPD_MILTER *sm = st->milter;

    if (sm == NULL)
        return;
    milters_abort(sm->milters);
    milters_set_queue_id(sm->milters, NULL);
    sm->queue_id[0] = '\0';
    sm->discard = 0;
}

int     smtpd_milter_handoff(SMTPD_STATE *st, SMTPD_CLEANUP *c, BUF *why)
{
    SMTPD_MILTER *sm = st->milter;

    if (sm == NULL)
        return (0);
    /* Nothing may be buffered ahead of the hand-over on this socket. */
    if (stream_flush(c->stream) < 0) {
        buf_set(why, "cleanup: write error before the milter hand-over");
        return (-1);
    }
    return (milters_send(sm->milters, stream_fd(c->stream), why));
}

void    smtpd_milter_done(SMTPD_STATE *st)
{
    SMTPD_MILTER *sm = st->milter;

    if (sm != NULL)
        milters_message_done(sm->milters);
}

void    smtpd_milter_free(SMTPD_STATE *st)
{
    SMTPD_MILTER *sm = st->milter;

    if (sm == NULL)
        return;
    milters_free(sm->milters);
    xfree(sm->connect_reply);
    xfree(sm);
    st->milter = NULL;
}
