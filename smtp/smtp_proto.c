/* smtp_proto - one conversation with one SMTP or LMTP server.
 *
 * greeting (smtp_helo_timeout): 220, else this server is skipped (a 5xx
 *     with smtp_skip_5xx_greeting = no bounces, as in Postfix);
 * EHLO $smtp_helo_name, HELO when EHLO gets 5xx (LMTP: LHLO only); the
 *     EHLO keywords used: PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN;
 *     without 8BITMIME, 8-bit MIME content is down-converted to
 *     quoted-printable on the way out (smtp_mime.c), or bounces when it
 *     cannot be;
 * STARTTLS by the TLS policy (smtp_tls.c), then EHLO again inside TLS;
 * early refusals: SMTPUTF8 needed and not offered (5.6.7), a message
 *     larger than the server's SIZE (5.3.4);
 * MAIL FROM (SIZE=, BODY=8BITMIME, SMTPUTF8, RET=, ENVID= when offered),
 *     RCPT TO per recipient (NOTIFY=, ORCPT= with DSN), DATA: with
 *     PIPELINING sent as groups of SMTP_PIPE_GROUP commands, each group
 *     written at once and its replies read in order (bounded groups keep
 *     both sides' socket buffers from filling up: no deadlock), else one
 *     command per reply;
 * the content (smtp_encode.c), then the final reply: SMTP, one for every
 *     accepted recipient; LMTP, one per accepted recipient, in order;
 * QUIT (smtp_quit_timeout).
 * A server that fails before MAIL (greeting, EHLO/HELO, lost connection)
 * leaves the recipients undecided and the next destination is tried
 * (SMTP_SESSION_NEXT). After that every recipient is decided here: 2xx
 * delivered, 4xx deferred, 5xx bounced, a lost connection or a timeout
 * deferred (4.4.2). Reasons use Postfix's words: "host H[A] said: 550 ...
 * (in reply to RCPT TO command)" (remote_reply.h), "lost connection
 * with H[A] while sending message body", "conversation with H[A] timed
 * out while sending MAIL FROM".
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "config.h"
#include "msg.h"
#include "dsn.h"
#include "mail_proto.h"
#include "qfile_read.h"
#include "record.h"
#include "remote_reply.h"
#include "smtp.h"

#define SMTP_PIPE_GROUP     100         /* pipelined commands per write */
#define SMTP_CHUNK          (64 * 1024) /* content bytes per write */

/* EHLO keywords we use. */
#define SMTP_FEAT_PIPELINING    (1 << 0)
#define SMTP_FEAT_SIZE          (1 << 1)
#define SMTP_FEAT_8BITMIME      (1 << 2)
#define SMTP_FEAT_SMTPUTF8      (1 << 3)
#define SMTP_FEAT_DSN           (1 << 4)
#define SMTP_FEAT_STARTTLS      (1 << 5)

typedef struct SMTP_SESS {
    SMTP_MSG *m;
    SMTP_CONN *conn;
    STREAM *s;
    const SMTP_PEER *peer;
    SMTP_REPLY reply;
    BUF    *line;
    BUF    *why;                    /* reason of a lost connection */
    int     features;
    long    peer_size;              /* SIZE n; 0: no limit given */
    int     parse_ehlo;             /* read_reply: collect EHLO keywords */
    int     mail_ok;                /* MAIL FROM got 2xx */
    int     naccepted;              /* recipients with a 2xx to RCPT */
    int     closing;                /* the server said 421: it hangs up */
} SMTP_SESS;

/* smtp_ehlo_keyword - one EHLO line's keyword into sess->features */
static void smtp_ehlo_keyword(SMTP_SESS *sess, const char *text, size_t len)
{
    static const struct {
        const char *name;
        int     bit;
    } kw[] = {
        {"PIPELINING", SMTP_FEAT_PIPELINING}, {"SIZE", SMTP_FEAT_SIZE},
        {"8BITMIME", SMTP_FEAT_8BITMIME}, {"SMTPUTF8", SMTP_FEAT_SMTPUTF8},
        {"DSN", SMTP_FEAT_DSN}, {"STARTTLS", SMTP_FEAT_STARTTLS},
    };
    size_t  i, n;

    for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
        n = strlen(kw[i].name);
        if (len >= n && strncasecmp(text, kw[i].name, n) == 0
            && (len == n || text[n] == ' ')) {
            sess->features |= kw[i].bit;
            if (kw[i].bit == SMTP_FEAT_SIZE && len > n + 1)
                sess->peer_size = strtol(text + n + 1, NULL, 10);
        }
    }
}

/* smtp_lost - the reason for a connection that broke or timed out */
static void smtp_lost(SMTP_SESS *sess, const char *stage)
{
    if (stream_timed_out(sess->s))
        buf_sprintf(sess->why, "conversation with %s[%s] timed out while %s", sess->peer->name,
                    sess->peer->addr, stage);
    else
        buf_sprintf(sess->why, "lost connection with %s[%s] while %s", sess->peer->name,
                    sess->peer->addr, stage);
}

/* smtp_read_reply - the next reply within timeout; 0, or -1 with sess->why */
static int smtp_read_reply(SMTP_SESS *sess, int timeout, const char *stage)
{
    size_t  limit = (size_t) config_int(P_line_length_limit);
    int     got, rc, first_line = 1;

    stream_set_timeout(sess->s, timeout);
    smtp_reply_reset(&sess->reply);
    for (;;) {
        got = stream_get_line(sess->s, sess->line, limit);
        if (got == STREAM_EOF || got == STREAM_ERROR || got == STREAM_LINE_LAST) {
            smtp_lost(sess, stage);
            return -1;
        }
        while (got == STREAM_LINE_PARTIAL) {    /* keep the start, drop the rest */
            BUF    *rest = buf_alloc(limit);

            got = stream_get_line(sess->s, rest, limit);
            buf_free(rest);
            if (got < 0) {
                smtp_lost(sess, stage);
                return -1;
            }
        }
        buf_trim_right(sess->line);     /* CR LF, and trailing blanks */
        rc = smtp_reply_line(&sess->reply, buf_str(sess->line), buf_len(sess->line));
        if (rc < 0) {
            buf_sprintf(sess->why, "host %s[%s] said: %s (malformed reply while %s)",
                        sess->peer->name, sess->peer->addr, buf_str(sess->reply.text), stage);
            return -1;
        }
        if (sess->parse_ehlo && !first_line && buf_len(sess->line) > 4)
            smtp_ehlo_keyword(sess, buf_str(sess->line) + 4, buf_len(sess->line) - 4);
        first_line = 0;
        if (rc == 1) {
            if (sess->reply.code == 421)
                sess->closing = 1;
            return 0;
        }
    }
}

/* smtp_send - write text and flush within timeout; 0, or -1 with sess->why */
static int smtp_send(SMTP_SESS *sess, const char *text, size_t len, int timeout,
                     const char *stage)
{
    stream_set_timeout(sess->s, timeout);
    if (stream_write(sess->s, text, len) < 0 || stream_flush(sess->s) < 0) {
        smtp_lost(sess, stage);
        return -1;
    }
    return 0;
}

/* smtp_reply_result - DELIVER_STAT_* of the current reply; dsn fixed to match */
static int smtp_reply_result(SMTP_SESS *sess, char *dsn, size_t dsnlen)
{
    int     cls = sess->reply.code / 100;

    snprintf(dsn, dsnlen, "%s", sess->reply.dsn);
    if (cls == 2)
        return DELIVER_STAT_OK;
    if (cls == 5)
        return DELIVER_STAT_BOUNCE;
    if (cls != 4)                       /* 3xx where none belongs: a protocol error */
        snprintf(dsn, dsnlen, "4.5.0");
    return DELIVER_STAT_DEFER;
}

/* smtp_said - the reason for the current reply to `what` */
static void smtp_said(SMTP_SESS *sess, BUF *out, const char *what)
{
    remote_reply_format(out, sess->peer->name, sess->peer->addr, buf_str(sess->reply.text), what);
}

/* smtp_decide_reply - one recipient (or, i < 0, all undecided) from the reply */
static void smtp_decide_reply(SMTP_SESS *sess, int i, const char *what)
{
    BUF    *reason = buf_alloc(128);
    char    dsn[16];
    int     stat = smtp_reply_result(sess, dsn, sizeof(dsn));

    /* Delivered: the reply alone, as Postfix logs it (status=sent (250 ...)). */
    if (stat == DELIVER_STAT_OK)
        buf_set(reason, buf_str(sess->reply.text));
    else
        smtp_said(sess, reason, what);
    if (i >= 0)
        smtp_rcpt_set(sess->m, i, stat, dsn, sess->peer->relay, buf_str(reason));
    else
        smtp_rcpt_set_pending(sess->m, stat, dsn, sess->peer->relay, buf_str(reason));
    buf_free(reason);
}

/* smtp_ehlo - EHLO (again, after STARTTLS) with its keywords; 0, or -1
 * lost (sess->why); the reply is in sess->reply */
static int smtp_ehlo(SMTP_SESS *sess, const char *verb, int timeout)
{
    BUF    *cmd = buf_alloc(300);
    const char *stage = sess->m->lmtp ? "performing the LHLO handshake"
        : "performing the EHLO handshake";
    int     ret;

    buf_sprintf(cmd, "%s %s\r\n", verb, config_str(P_smtp_helo_name));
    sess->features = 0;
    sess->peer_size = 0;
    sess->parse_ehlo = 1;
    ret = smtp_send(sess, buf_str(cmd), buf_len(cmd), timeout, stage) < 0
        || smtp_read_reply(sess, timeout, stage) < 0 ? -1 : 0;
    sess->parse_ehlo = 0;
    buf_free(cmd);
    return ret;
}

/* smtp_starttls - TLS by the delivery's policy, after EHLO: -1 go on (in
 * TLS, or in plaintext where the policy allows), SMTP_SESSION_NEXT (this
 * server fails the policy; dsn, why), SMTP_SESSION_PLAIN (may: the
 * handshake failed, try this server again in plaintext) */
static int smtp_starttls(SMTP_SESS *sess, char *dsn, size_t dsnlen, BUF *why)
{
    int     timeout = (int) config_time(P_smtp_helo_timeout);
    int     may = sess->m->tls.level == SMTP_TLS_MAY;
    int     rc;

    if (!(sess->features & SMTP_FEAT_STARTTLS)) {
        if (may)
            return -1;
        snprintf(dsn, dsnlen, "4.7.4");
        buf_sprintf(why, "TLS is required, but was not offered by host %s[%s]",
                    sess->peer->name, sess->peer->addr);
        return SMTP_SESSION_NEXT;
    }
    if (smtp_send(sess, "STARTTLS\r\n", 10, timeout, "sending STARTTLS") < 0
        || smtp_read_reply(sess, timeout, "sending STARTTLS") < 0) {
        snprintf(dsn, dsnlen, "4.4.2");
        buf_set(why, buf_str(sess->why));
        return SMTP_SESSION_NEXT;
    }
    if (sess->reply.code != 220) {
        if (may)                        /* the server said no: it still talks plaintext */
            return -1;
        snprintf(dsn, dsnlen, "4.7.4");
        buf_sprintf(why, "TLS is required, but host %s[%s] refused to start TLS: %s",
                    sess->peer->name, sess->peer->addr, buf_str(sess->reply.text));
        return SMTP_SESSION_NEXT;
    }
    /* Nothing the server sent before the handshake may pass for TLS data. */
    stream_discard_input(sess->s);
    if ((rc = smtp_tls_handshake(sess->m, sess->conn, dsn, dsnlen, why)) == -1)
        return may ? SMTP_SESSION_PLAIN : SMTP_SESSION_NEXT;
    if (rc < 0)
        return SMTP_SESSION_NEXT;
    /* RFC 3207: forget what we knew and ask again, inside TLS. */
    if (smtp_ehlo(sess, sess->m->lmtp ? "LHLO" : "EHLO", timeout) < 0) {
        snprintf(dsn, dsnlen, "4.4.2");
        buf_set(why, buf_str(sess->why));
        return SMTP_SESSION_NEXT;
    }
    if (sess->reply.code / 100 != 2) {
        smtp_reply_result(sess, dsn, dsnlen);
        dsn[0] = '4';
        smtp_said(sess, why, sess->m->lmtp ? "LHLO command" : "EHLO command");
        return SMTP_SESSION_NEXT;
    }
    return -1;
}

/* smtp_greet - greeting and EHLO/HELO/LHLO; SMTP_SESSION_* or -1 (go on) */
static int smtp_greet(SMTP_SESS *sess, char *dsn, size_t dsnlen, BUF *why)
{
    int     helo_timeout = (int) config_time(P_smtp_helo_timeout);
    const char *verb = sess->m->lmtp ? "LHLO" : "EHLO";
    BUF    *cmd = buf_alloc(300);
    int     ret = SMTP_SESSION_NEXT;

    if (smtp_read_reply(sess, helo_timeout, "receiving the initial server greeting") < 0)
        goto lost;
    if (sess->reply.code != 220) {
        int     stat = smtp_reply_result(sess, dsn, dsnlen);

        smtp_said(sess, why, "initial greeting");
        if (stat == DELIVER_STAT_BOUNCE && !config_bool(P_smtp_skip_5xx_greeting)) {
            smtp_rcpt_set_pending(sess->m, stat, dsn, sess->peer->relay, buf_str(why));
            ret = SMTP_SESSION_DONE;
        } else {
            dsn[0] = '4';               /* skipped: tried again later */
        }
        goto out;
    }
    buf_sprintf(cmd, "%s %s\r\n", verb, config_str(P_smtp_helo_name));
    sess->parse_ehlo = 1;
    if (smtp_send(sess, buf_str(cmd), buf_len(cmd), helo_timeout,
                  sess->m->lmtp ? "performing the LHLO handshake"
                  : "performing the EHLO handshake") < 0
        || smtp_read_reply(sess, helo_timeout, sess->m->lmtp ? "performing the LHLO handshake"
                           : "performing the EHLO handshake") < 0)
        goto lost;
    sess->parse_ehlo = 0;
    if (sess->reply.code / 100 == 5 && !sess->m->lmtp) {
        /* An old server: HELO, and no extensions. */
        sess->features = 0;
        verb = "HELO";
        buf_sprintf(cmd, "HELO %s\r\n", config_str(P_smtp_helo_name));
        if (smtp_send(sess, buf_str(cmd), buf_len(cmd), helo_timeout,
                      "performing the HELO handshake") < 0
            || smtp_read_reply(sess, helo_timeout, "performing the HELO handshake") < 0)
            goto lost;
    }
    if (sess->reply.code / 100 != 2) {
        smtp_reply_result(sess, dsn, dsnlen);
        dsn[0] = '4';
        buf_sprintf(cmd, "%s command", verb);
        smtp_said(sess, why, buf_str(cmd));
        goto out;
    }
    /* TLS when the policy says so (LMTP: lmtp_tls_*). */
    if (sess->m->tls.level > SMTP_TLS_NONE && !sess->m->tls_plain) {
        ret = smtp_starttls(sess, dsn, dsnlen, why);
        goto out;
    }
    ret = -1;
    goto out;

  lost:
    snprintf(dsn, dsnlen, "4.4.2");
    buf_set(why, buf_str(sess->why));
  out:
    sess->parse_ehlo = 0;
    buf_free(cmd);
    return ret;
}

/* smtp_needs_utf8 - does the envelope hold a non-ASCII address? */
static int smtp_needs_utf8(const SMTP_MSG *m)
{
    const char *cp;
    int     i;

    for (cp = m->req->sender; *cp; cp++)
        if ((unsigned char) *cp >= 0x80)
            return 1;
    for (i = 0; i < m->req->nrcpt; i++)
        for (cp = m->req->rcpt[i].address; *cp; cp++)
            if ((unsigned char) *cp >= 0x80)
                return 1;
    return 0;
}

/* smtp_refuse_early - SMTPUTF8 and SIZE checks before MAIL; 1: all decided */
static int smtp_refuse_early(SMTP_SESS *sess)
{
    SMTP_MSG *m = sess->m;
    BUF    *reason = buf_alloc(128);
    int     done = 0;

    if (m->smtputf8 && smtp_needs_utf8(m) && !(sess->features & SMTP_FEAT_SMTPUTF8)) {
        buf_sprintf(reason, "SMTPUTF8 is required, but was not offered by host %s[%s]",
                    sess->peer->name, sess->peer->addr);
        smtp_rcpt_set_pending(m, DELIVER_STAT_BOUNCE, "5.6.7", sess->peer->relay,
                              buf_str(reason));
        done = 1;
    } else if ((sess->features & SMTP_FEAT_SIZE) && sess->peer_size > 0
               && m->req->data_size > sess->peer_size) {
        buf_sprintf(reason, "message size %ld exceeds size limit %ld of server %s[%s]",
                    m->req->data_size, sess->peer_size, sess->peer->name, sess->peer->addr);
        smtp_rcpt_set_pending(m, DELIVER_STAT_BOUNCE, "5.3.4", sess->peer->relay,
                              buf_str(reason));
        done = 1;
    }
    buf_free(reason);
    return done;
}

/* smtp_mail_cmd - MAIL FROM with the parameters the server offered */
static void smtp_mail_cmd(SMTP_SESS *sess, BUF *cmd)
{
    DELIVER_REQUEST *req = sess->m->req;
    BUF    *tmp = buf_alloc(100);

    address_externalize(req->sender, tmp);
    buf_sprintf(cmd, "MAIL FROM:<%s>", buf_str(tmp));
    if (sess->features & SMTP_FEAT_SIZE)
        buf_printf(cmd, " SIZE=%ld", req->data_size);
    if (sess->m->body_8bit && (sess->features & SMTP_FEAT_8BITMIME))
        buf_puts(cmd, " BODY=8BITMIME");
    if (sess->m->smtputf8 && (sess->features & SMTP_FEAT_SMTPUTF8))
        buf_puts(cmd, " SMTPUTF8");
    if (sess->features & SMTP_FEAT_DSN) {
        if (*req->dsn_ret)
            buf_printf(cmd, " RET=%s", req->dsn_ret);
        if (*req->dsn_envid) {
            buf_reset(tmp);
            dsn_xtext_encode(req->dsn_envid, strlen(req->dsn_envid), tmp);
            buf_printf(cmd, " ENVID=%s", buf_str(tmp));
        }
    }
    buf_puts(cmd, "\r\n");
    buf_free(tmp);
}

/* smtp_rcpt_cmd - RCPT TO with NOTIFY= and ORCPT= when the server has DSN */
static void smtp_rcpt_cmd(SMTP_SESS *sess, int i, BUF *cmd)
{
    const DELIVER_RCPT *r = &sess->m->req->rcpt[i];
    BUF    *tmp = buf_alloc(100);
    const char *semi;

    address_externalize(r->address, tmp);
    buf_sprintf(cmd, "RCPT TO:<%s>", buf_str(tmp));
    if (sess->features & SMTP_FEAT_DSN) {
        if (r->dsn_notify) {
            dsn_notify_str(r->dsn_notify, tmp);
            buf_printf(cmd, " NOTIFY=%s", buf_str(tmp));
        }
        /* XXX only rfc822 ORCPTs are passed on: a utf-8 one (RFC 6533)
         * needs its own encoding. */
        if ((semi = strchr(r->dsn_orcpt, ';')) != NULL
            && (size_t) (semi - r->dsn_orcpt) == 6 && strncasecmp(r->dsn_orcpt, "rfc822", 6) == 0) {
            buf_reset(tmp);
            dsn_xtext_encode(semi + 1, strlen(semi + 1), tmp);
            buf_printf(cmd, " ORCPT=rfc822;%s", buf_str(tmp));
        }
    }
    buf_puts(cmd, "\r\n");
    buf_free(tmp);
}

/* Content writer state for qfile_read_content's callback. */
typedef struct SMTP_BODY {
    SMTP_SESS *sess;
    SMTP_ENCODER enc;
    SMTP_MIME *mime;                    /* down-converting for a 7-bit server */
    BUF    *out;
    int     error;                      /* the write failed */
    int     mime_error;                 /* the content cannot be converted */
} SMTP_BODY;

/* smtp_body_flush - write what was encoded; mark an error once */
static void smtp_body_flush(SMTP_BODY *b)
{
    if (!b->error && buf_len(b->out) > 0
        && stream_write(b->sess->s, buf_str(b->out), buf_len(b->out)) < 0)
        b->error = 1;
    buf_reset(b->out);
}

/* smtp_body_record - one content record onto the wire */
static void smtp_body_record(int type, const char *data, size_t len, void *ctx)
{
    SMTP_BODY *b = ctx;

    if (b->error || b->mime_error)
        return;
    if (b->mime == NULL)
        smtp_encode(&b->enc, type, data, len, b->out);
    else if (smtp_mime_record(b->mime, type, data, len, b->out) < 0) {
        b->mime_error = 1;
        return;
    }
    if (buf_len(b->out) >= SMTP_CHUNK)
        smtp_body_flush(b);
}

/* smtp_downgrade - convert 8-bit MIME for this server? As Postfix: it
 * lacks 8BITMIME, the message is not known to be 7bit (BODY=8BITMIME, or
 * nothing was said), and disable_mime_output_conversion is off. */
static int smtp_downgrade(const SMTP_SESS *sess)
{
    return !(sess->features & SMTP_FEAT_8BITMIME) && !sess->m->body_7bit
        && !config_bool(P_disable_mime_output_conversion);
}

/* smtp_body - the content and the final dot; 0, -1 lost (sess->why), -2
 * queue file, -3 the content cannot be converted (sess->why, dsn) */
static int smtp_body(SMTP_SESS *sess, char *dsn, size_t dsnlen)
{
    SMTP_BODY b;
    BUF    *why = buf_alloc(64);
    const char *code;
    int     ret = 0;

    memset(&b, 0, sizeof(b));
    b.sess = sess;
    b.out = buf_alloc(SMTP_CHUNK + 4096);
    smtp_encode_init(&b.enc, config_int(P_smtp_line_length_limit));
    if (smtp_downgrade(sess))
        b.mime = smtp_mime_create(&b.enc, (int) config_int(P_mime_nesting_limit),
                                  (size_t) config_int(P_header_size_limit),
                                  (size_t) config_int(P_mime_boundary_length_limit));
    stream_set_timeout(sess->s, (int) config_time(P_smtp_data_xfer_timeout));
    if (qfile_read_content(sess->m->qfd, sess->m->env, smtp_body_record, &b, why) < 0) {
        buf_sprintf(sess->why, "cannot read queue file: %s", buf_str(why));
        ret = -2;
    } else if (b.mime_error || (b.mime && smtp_mime_end(b.mime, b.out) < 0)) {
        /* Nothing but hanging up cancels DATA: no final dot is sent. */
        buf_set(sess->why, smtp_mime_error(b.mime, &code));
        snprintf(dsn, dsnlen, "%s", code);
        ret = -3;
    } else {
        smtp_encode_end(&b.enc, b.out);
        smtp_body_flush(&b);
        if (b.error || stream_flush(sess->s) < 0) {
            smtp_lost(sess, "sending message body");
            ret = -1;
        }
    }
    if (b.mime)
        smtp_mime_free(b.mime);
    buf_free(b.out);
    buf_free(why);
    return ret;
}

/* smtp_final - after the content: the reply (SMTP) or one per recipient (LMTP) */
static void smtp_final(SMTP_SESS *sess)
{
    static const char stage[] = "sending end of data -- message may be sent more than once";
    int     timeout = (int) config_time(P_smtp_data_done_timeout);
    SMTP_MSG *m = sess->m;
    int     i;

    if (!m->lmtp) {
        if (smtp_read_reply(sess, timeout, stage) < 0)
            smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.4.2", sess->peer->relay,
                                  buf_str(sess->why));
        else
            smtp_decide_reply(sess, -1, "end of DATA command");
        return;
    }
    for (i = 0; i < m->req->nrcpt; i++) {
        if (!m->rcpt[i].accepted || m->rcpt[i].stat >= 0)
            continue;
        if (smtp_read_reply(sess, timeout, stage) < 0) {
            smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.4.2", sess->peer->relay,
                                  buf_str(sess->why));
            return;
        }
        smtp_decide_reply(sess, i, "end of DATA command");
    }
}

/* What a queued command is: MAIL, RCPT (index), DATA. */
#define SMTP_CMD_MAIL   (-1)
#define SMTP_CMD_DATA   (-2)

/* smtp_cmd_reply - handle the reply to one command; 0 go on, -1 lost */
static int smtp_cmd_reply(SMTP_SESS *sess, int which)
{
    SMTP_MSG *m = sess->m;
    const char *stage = which == SMTP_CMD_MAIL ? "sending MAIL FROM"
        : which == SMTP_CMD_DATA ? "sending DATA command" : "sending RCPT TO";
    int     timeout = (int) config_time(which == SMTP_CMD_MAIL ? P_smtp_mail_timeout
                                        : which == SMTP_CMD_DATA ? P_smtp_data_init_timeout
                                        : P_smtp_rcpt_timeout);

    if (smtp_read_reply(sess, timeout, stage) < 0)
        return -1;
    if (which == SMTP_CMD_MAIL) {
        if (sess->reply.code / 100 == 2)
            sess->mail_ok = 1;
        else
            smtp_decide_reply(sess, -1, "MAIL FROM command");
    } else if (which >= 0) {
        if (!sess->mail_ok || m->rcpt[which].stat >= 0)
            return 0;
        if (sess->reply.code / 100 == 2) {
            m->rcpt[which].accepted = 1;
            sess->naccepted++;
        } else {
            smtp_decide_reply(sess, which, "RCPT TO command");
        }
    } else if (sess->reply.code != 354) {
        if (sess->mail_ok && sess->naccepted > 0)
            smtp_decide_reply(sess, -1, "DATA command");
    } else if (!sess->mail_ok || sess->naccepted == 0) {
        /* Pipelined DATA that found nobody to deliver to: end it empty. */
        if (smtp_send(sess, ".\r\n", 3, timeout, stage) < 0
            || smtp_read_reply(sess, timeout, stage) < 0)
            return -1;
    } else {
        char    dsn[16];
        int     rc = smtp_body(sess, dsn, sizeof(dsn));

        if (rc == -2 || rc == -3) {
            /* Our queue file failed us, or the content cannot go to this
             * server: do not end the message, hang up (no QUIT: it would
             * be content). */
            if (rc == -2)
                smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.3.0", sess->peer->relay,
                                      buf_str(sess->why));
            else
                smtp_rcpt_set_pending(m, DELIVER_STAT_BOUNCE, dsn, sess->peer->relay,
                                      buf_str(sess->why));
            sess->conn->dead = 1;
            return -1;
        }
        if (rc < 0)
            return -1;
        smtp_final(sess);
    }
    return 0;
}

/* smtp_transaction - MAIL, RCPT..., DATA, content: every recipient decided */
static int smtp_transaction(SMTP_SESS *sess)
{
    SMTP_MSG *m = sess->m;
    int     group = (sess->features & SMTP_FEAT_PIPELINING) ? SMTP_PIPE_GROUP : 1;
    int     ncmd = m->req->nrcpt + 2;   /* MAIL, the recipients, DATA */
    int     first, last, k, which;
    BUF    *cmd = buf_alloc(256), *batch = buf_alloc(4096);
    int     ret = 0;

    for (first = 0; first < ncmd && ret == 0; first = last) {
        buf_reset(batch);
        for (last = first; last < ncmd && last - first < group; last++) {
            which = last == 0 ? SMTP_CMD_MAIL : last == ncmd - 1 ? SMTP_CMD_DATA : last - 1;
            /* Stop as soon as the replies read so far say nothing can come
             * of it (every command of an earlier group has its reply). */
            if (last == first && last > 0 && !sess->mail_ok)
                break;
            if (last == first && which == SMTP_CMD_DATA && sess->naccepted == 0)
                break;
            if (which == SMTP_CMD_MAIL)
                smtp_mail_cmd(sess, cmd);
            else if (which == SMTP_CMD_DATA)
                buf_set(cmd, "DATA\r\n");
            else
                smtp_rcpt_cmd(sess, which, cmd);
            buf_append(batch, buf_str(cmd), buf_len(cmd));
        }
        if (last == first)
            break;
        if (smtp_send(sess, buf_str(batch), buf_len(batch),
                      (int) config_time(first == 0 ? P_smtp_mail_timeout : P_smtp_rcpt_timeout),
                      first == 0 ? "sending MAIL FROM" : "sending RCPT TO") < 0) {
            ret = -1;
            break;
        }
        for (k = first; k < last && ret == 0; k++) {
            which = k == 0 ? SMTP_CMD_MAIL : k == ncmd - 1 ? SMTP_CMD_DATA : k - 1;
            ret = smtp_cmd_reply(sess, which);
        }
    }
    if (ret < 0)
        smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.4.2", sess->peer->relay,
                              buf_str(sess->why));
    /* Recipients RCPT accepted while DATA never happened (MAIL/DATA trouble
     * decided the others): whatever is left is decided by what stopped us. */
    smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.3.0", sess->peer->relay,
                          "conversation ended without a result");
    buf_free(cmd);
    buf_free(batch);
    return ret;
}

/* smtp_quit - say goodbye; the answer does not matter */
static void smtp_quit(SMTP_SESS *sess)
{
    int     timeout = (int) config_time(P_smtp_quit_timeout);

    if (stream_error(sess->s) || stream_eof(sess->s))
        return;
    if (smtp_send(sess, "QUIT\r\n", 6, timeout, "sending QUIT") == 0)
        (void) smtp_read_reply(sess, timeout, "sending QUIT");
}

/* smtp_rset - RSET on a reused session; 0 when the server said 250 */
static int smtp_rset(SMTP_SESS *sess)
{
    int     timeout = (int) config_time(P_smtp_rset_timeout);

    if (smtp_send(sess, "RSET\r\n", 6, timeout, "sending RSET") < 0
        || smtp_read_reply(sess, timeout, "sending RSET") < 0)
        return -1;
    return sess->reply.code == 250 ? 0 : -1;
}

/* smtp_sess_init - a session's state over conn */
static void smtp_sess_init(SMTP_SESS *sess, SMTP_MSG *m, SMTP_CONN *conn)
{
    memset(sess, 0, sizeof(*sess));
    sess->m = m;
    sess->conn = conn;
    sess->peer = &conn->peer;
    sess->s = conn->s;
    sess->features = conn->features;
    sess->peer_size = conn->peer_size;
    sess->line = buf_alloc(256);
    sess->why = buf_alloc(128);
    smtp_reply_init(&sess->reply);
}

static void smtp_sess_free(SMTP_SESS *sess)
{
    smtp_reply_free(&sess->reply);
    buf_free(sess->line);
    buf_free(sess->why);
}

void    smtp_conn_open(SMTP_CONN *conn, int fd, const SMTP_PEER *peer)
{
    memset(conn, 0, sizeof(*conn));
    conn->s = stream_fdopen(fd);
    conn->peer = *peer;
    conn->created = (long) time(NULL);
}

void    smtp_conn_close(SMTP_CONN *conn)
{
    SMTP_SESS sess;

    if (conn->s == NULL)
        return;
    smtp_sess_init(&sess, NULL, conn);
    if (!conn->dead)
        smtp_quit(&sess);
    smtp_sess_free(&sess);
    if (conn->tls)
        tls_session_stop(conn->tls, conn->s);
    conn->tls = NULL;
    stream_close(conn->s);
    conn->s = NULL;
}

int     smtp_session(SMTP_MSG *m, SMTP_CONN *conn, char *dsn, size_t dsnlen, BUF *why)
{
    SMTP_SESS sess;
    int     ret;

    smtp_sess_init(&sess, m, conn);
    conn->reusable = 0;
    if (conn->reused) {
        /* A kept session: the server must still be there and in step. */
        ret = smtp_rset(&sess) == 0 ? -1 : SMTP_SESSION_STALE;
        if (ret == SMTP_SESSION_STALE)
            msg_info("%s: cached session with %s: %s", m->req->queue_id, conn->peer.relay,
                     buf_len(sess.why) ? buf_str(sess.why) : buf_str(sess.reply.text));
    } else {
        ret = smtp_greet(&sess, dsn, dsnlen, why);
        conn->features = sess.features;
        conn->peer_size = sess.peer_size;
    }
    if (ret < 0) {
        ret = SMTP_SESSION_DONE;
        conn->uses++;
        /* Reusable when every reply was read and nothing else came: the
         * server waits for our next command, as after RSET. */
        if ((smtp_refuse_early(&sess) || smtp_transaction(&sess) == 0) && !sess.closing
            && !stream_error(conn->s) && !stream_eof(conn->s) && stream_buffered(conn->s) == 0)
            conn->reusable = 1;
    }
    smtp_sess_free(&sess);
    return ret;
}
