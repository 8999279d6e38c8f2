/* smtpd_cmd_data - DATA and BDAT: the message goes to cleanup.
 *
 * Both open one cleanup connection per message (at DATA, or at the first
 * BDAT chunk), send the envelope, the Received: header and the content
 * records, and say "250 2.0.0 Ok: queued as ID" only when cleanup answers
 * status 0 (the file is committed). smtpd_end_of_data_restrictions are
 * evaluated after the end of the content and before cleanup is told to
 * commit (Postfix's smtpd_check_eod): a refusal abandons the message. Anything smtpd itself refuses after
 * the content started (message_size_limit, a bare LF under
 * smtpd_forbid_bare_newline = reject) is read to its real end and thrown
 * away: the cleanup connection is closed without its E record, so nothing
 * is queued, and the client stays in step (no byte of the message is ever
 * read as a command).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "msg_size.h"
#include "receive_override.h"
#include "record.h"
#include "smtpd.h"

/* One message on its way to cleanup. */
typedef struct SMTPD_XFER {
    SMTPD_STATE *st;
    SMTPD_CLEANUP *cleanup;
    SMTPD_DATA reader;
    int     too_big;                /* over message_size_limit: drop the rest */
} SMTPD_XFER;

/* smtpd_xfer_record - a content record from the reader */
static void smtpd_xfer_record(void *ctx, int type, const char *data, size_t len)
{
    SMTPD_XFER *x = ctx;

    if (x->too_big)
        return;
    if (msg_size_exceeds(x->reader.bytes, smtpd_params.message_size_limit)) {
        x->too_big = 1;
        return;
    }
    smtpd_cleanup_rec(x->cleanup, type, data, len);
}

/* smtpd_xfer_envelope - A, S, recipients, M and the Received: header */
static void smtpd_xfer_envelope(SMTPD_STATE *st, SMTPD_CLEANUP *c)
{
    const char *proto = smtpd_protocol_name(st->esmtp, st->tls != NULL,
                                                  buf_len(st->sasl_username) > 0, st->mail.smtputf8);
    char    tls[160];
    SMTPD_RECEIVED r;
    BUF    *lines[5];
    char    num[32];
    int     n;
    int     i;

    /* The content filter: an access table FILTER, else this service's
     * content_filter ("-o content_filter=" on a re-injection service: none). */
    if (st->actions.filter)
        smtpd_cleanup_rec(c, REC_TYPE_FILT, st->actions.filter, strlen(st->actions.filter));
    else if (*smtpd_params.content_filter)
        smtpd_cleanup_rec(c, REC_TYPE_FILT, smtpd_params.content_filter,
                          strlen(smtpd_params.content_filter));
    smtpd_cleanup_attr(c, MAIL_ATTR_CLIENT_ADDR, st->addr);
    smtpd_cleanup_attr(c, MAIL_ATTR_CLIENT_NAME, st->name);
    if (buf_len(st->helo))
        smtpd_cleanup_attr(c, MAIL_ATTR_HELO, buf_str(st->helo));
    smtpd_cleanup_attr(c, MAIL_ATTR_PROTO_NAME, proto);
    if (buf_len(st->mail.envid))
        smtpd_cleanup_attr(c, MAIL_ATTR_ENVID, buf_str(st->mail.envid));
    if (st->mail.ret)
        smtpd_cleanup_attr(c, MAIL_ATTR_RET, dsn_ret_str(st->mail.ret));
    if (st->mail.body)
        smtpd_cleanup_attr(c, MAIL_ATTR_ENCODING, dsn_body_str(st->mail.body));
    if (st->mail.smtputf8)
        smtpd_cleanup_attr(c, MAIL_ATTR_SMTPUTF8, "1");
    smtpd_cleanup_rec(c, REC_TYPE_FROM, buf_str(st->sender), buf_len(st->sender));
    for (i = 0; i < st->rcpt_count; i++) {
        const SMTPD_RCPT *rc = st->rcpt + i;

        smtpd_cleanup_rec(c, REC_TYPE_ORCP, rc->addr, strlen(rc->addr));
        if (rc->orcpt)
            smtpd_cleanup_rec(c, REC_TYPE_DSN_ORCPT, rc->orcpt, strlen(rc->orcpt));
        if (rc->notify) {
            snprintf(num, sizeof(num), "%d", rc->notify);
            smtpd_cleanup_rec(c, REC_TYPE_DSN_NOTIFY, num, strlen(num));
        }
        smtpd_cleanup_rec(c, REC_TYPE_RCPT, rc->addr, strlen(rc->addr));
    }
    smtpd_cleanup_rec(c, REC_TYPE_MESG, "", 0);
    /* PREPEND results of the restrictions go before our Received:, as Postfix's. */
    for (i = 0; i < st->actions.nprepend; i++)
        smtpd_cleanup_rec(c, REC_TYPE_NORM, st->actions.prepend[i],
                          strlen(st->actions.prepend[i]));

    memset(&r, 0, sizeof(r));
    r.helo = buf_len(st->helo) ? buf_str(st->helo) : NULL;
    r.client_name = st->name;
    r.client_addr = st->addr;
    r.by = smtpd_params.myhostname;
    r.mail_name = smtpd_params.mail_name;
    r.protocol = proto;
    r.queue_id = c->id;
    r.tls = smtpd_tls_received(st, tls, sizeof(tls));
    r.rcpt = st->rcpt_count == 1 ? st->rcpt[0].addr : NULL;
    if (smtpd_params.sasl_auth_header && buf_len(st->sasl_username))
        r.auth_sender = buf_str(st->sasl_username);
    r.when = (long) time(NULL);
    for (i = 0; i < 5; i++)
        lines[i] = buf_alloc(100);
    n = smtpd_received(&r, lines, 5);
    for (i = 0; i < n; i++)
        smtpd_cleanup_rec(c, REC_TYPE_NORM, buf_str(lines[i]), buf_len(lines[i]));
    for (i = 0; i < 5; i++)
        buf_free(lines[i]);
}

/* smtpd_xfer_open - a cleanup connection; to hold/ when a milter quarantined
 * or a restriction said HOLD */
static SMTPD_CLEANUP *smtpd_xfer_open(SMTPD_STATE *st, BUF *why)
{
    int     flags = CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK;

    if (st->milter != NULL)
        flags |= CLEANUP_FLAG_SMTPD_MILTERS;   /* content and changes: in cleanup */
    if (smtpd_milter_hold(st) != NULL || st->actions.hold)
        flags |= CLEANUP_FLAG_HOLD;
    flags = receive_override_cleanup_flags(flags, smtpd_params.receive_opts);
    return smtpd_cleanup_open(SMTPD_CLEANUP_PATH, flags, (int) smtpd_params.ipc_timeout, why);
}

/* smtpd_log_client - Postfix's "QID: client=" line, with the login when there is one */
static void smtpd_log_client(SMTPD_STATE *st, const char *id)
{
    if (buf_len(st->sasl_username))
        msg_info("%s: client=%s, sasl_method=%s, sasl_username=%s", id, st->namaddr,
                 buf_str(st->sasl_method), buf_str(st->sasl_username));
    else
        msg_info("%s: client=%s", id, st->namaddr);
}

/* smtpd_xfer_start - open cleanup and send everything before the content;
 * NULL with the reply sent when that is impossible */
static SMTPD_XFER *smtpd_xfer_start(SMTPD_STATE *st, const char *stage, int dot)
{
    SMTPD_CHECK_CTX ctx;
    SMTPD_CLEANUP *c;
    SMTPD_XFER *x;
    BUF    *why = buf_alloc(100);
    int     held;

    smtpd_check_ctx(st, &ctx);
    if (smtpd_check_data(&ctx, why) != SMTPD_CHECK_OK) {
        smtpd_log_reject(st, NULL, stage, buf_str(why), NULL);
        smtpd_reply(st, "%s", buf_str(why));
        buf_free(why);
        return NULL;
    }
    c = smtpd_xfer_open(st, why);
    if (c == NULL) {
        msg_warn("%s: %s", st->namaddr, buf_str(why));
        smtpd_reply(st, "451 4.3.0 Error: queue file write error");
        buf_free(why);
        return NULL;
    }
    smtpd_log_client(st, c->id);
    held = smtpd_milter_hold(st) != NULL;
    if (smtpd_milter_data(st, stage, c->id) < 0) {
        smtpd_cleanup_close(c);             /* abandoned: nothing queued */
        buf_free(why);
        return NULL;
    }
    if (!held && smtpd_milter_hold(st) != NULL) {
        /* Quarantined at DATA (a filter failed, default_action =
         * quarantine): the file must go to hold/, a flag of the open. */
        smtpd_cleanup_close(c);
        if ((c = smtpd_xfer_open(st, why)) == NULL) {
            msg_warn("%s: %s", st->namaddr, buf_str(why));
            smtpd_reply(st, "451 4.3.0 Error: queue file write error");
            buf_free(why);
            return NULL;
        }
        smtpd_log_client(st, c->id);
    }
    if (smtpd_milter_handoff(st, c, why) < 0) {
        msg_warn("%s: %s", c->id, buf_str(why));
        smtpd_cleanup_close(c);
        smtpd_reply(st, "451 4.3.0 Error: queue file write error");
        buf_free(why);
        return NULL;
    }
    buf_free(why);
    smtpd_xfer_envelope(st, c);
    x = xcalloc(1, sizeof(*x));
    x->st = st;
    x->cleanup = c;
    smtpd_data_init(&x->reader, dot, (size_t) smtpd_params.line_length_limit,
                    st->last_line_crlf, smtpd_xfer_record, x);
    return x;
}

/* smtpd_xfer_free - close cleanup (abandoning the message unless it was
 * finished) and release */
static void smtpd_xfer_free(SMTPD_XFER *x)
{
    smtpd_cleanup_close(x->cleanup);
    smtpd_data_free(&x->reader);
    xfree(x);
}

/* smtpd_xfer_eod - smtpd_end_of_data_restrictions: 0, or -1 with the
 * reply (the message is then abandoned: nothing is queued) */
static int smtpd_xfer_eod(SMTPD_STATE *st, SMTPD_XFER *x, BUF *reply)
{
    SMTPD_CHECK_CTX ctx;

    smtpd_check_ctx(st, &ctx);
    ctx.size = x->reader.bytes;
    ctx.queue_id = x->cleanup->id;
    return smtpd_check_eod(&ctx, st->rcpt_count == 1 ? st->rcpt[0].addr : NULL, reply)
        == SMTPD_CHECK_OK ? 0 : -1;
}

/* smtpd_xfer_end - the content is complete: the verdict and its reply */
static int smtpd_xfer_end(SMTPD_STATE *st, SMTPD_XFER *x)
{
    BUF    *reason = buf_alloc(100);
    BUF    *reply = buf_alloc(100);
    int     status = 0;
    int     ret = -1;
    int     logged = 0;

    if (x->too_big || msg_size_exceeds(x->reader.bytes, smtpd_params.message_size_limit)) {
        buf_set(reply, "552 5.3.4 Error: message file too big");
    } else if (x->reader.bare_lf && x->reader.dot
               && smtpd_params.bare_newline == SMTPD_BARE_LF_REJECT) {
        buf_sprintf(reply, "%d 5.5.2 Error: bare <LF> received",
                    smtpd_params.bare_newline_code);
    } else if (smtpd_xfer_eod(st, x, reply) < 0) {
        /* A restriction refused the whole message: logged below. */
    } else if (st->actions.discard) {
        /* A restriction said DISCARD (logged then): 250, nothing committed. */
        buf_sprintf(reply, "250 2.0.0 Ok: queued as %s", x->cleanup->id);
        ret = 0;
    } else if (smtpd_milter_discard(st)) {
        /* A filter said discard: the client hears 250, cleanup never
         * commits (closing it unfinished removes the file). */
        msg_info("%s: milter-discard: END-OF-MESSAGE from %s: milter triggers DISCARD action",
                 x->cleanup->id, st->namaddr);
        buf_sprintf(reply, "250 2.0.0 Ok: queued as %s", x->cleanup->id);
        ret = 0;
    } else if ((status = smtpd_cleanup_finish(x->cleanup, reason)) == 0) {
        buf_sprintf(reply, "250 2.0.0 Ok: queued as %s", x->cleanup->id);
        if (smtpd_milter_hold(st) != NULL)
            msg_info("%s: milter-hold: END-OF-MESSAGE from %s: %s", x->cleanup->id,
                     st->namaddr, smtpd_milter_hold(st));
        smtpd_milter_done(st);          /* cleanup ended the message with the filters */
        ret = 0;
    } else {
        if (status > 0)
            smtpd_milter_done(st);
        smtpd_cleanup_reply(status, buf_str(reason), reply);
        if (status > 0 && smtpd_cleanup_is_reply(buf_str(reason)))
            logged = 1;                 /* a filter's reply: cleanup logged milter-reject */
    }
    /* A content rejection (header_checks, body_checks REJECT) was logged by
     * cleanup with its own "reject: header ..." line, as in Postfix; a second
     * line here would count the message twice in pflogsumm. */
    if (ret < 0 && !logged && !(status > 0 && (status & CLEANUP_STAT_CONT)))
        smtpd_log_reject(st, x->cleanup->id, "END-OF-MESSAGE", buf_str(reply),
                         st->rcpt_count == 1 ? st->rcpt[0].addr : NULL);
    smtpd_reply_lines(st, buf_str(reply));
    if (ret == 0)
        st->errors = st->junk = 0;      /* the limits are on errors without mail */
    buf_free(reason);
    buf_free(reply);
    return ret;
}

/* smtpd_cmd_data - DATA: 354, the dot-terminated content, the verdict */
int     smtpd_cmd_data(SMTPD_STATE *st, const char *args)
{
    SMTPD_XFER *x;
    int     ch;
    int     ret;

    if (!st->have_mail) {
        smtpd_reply(st, "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (st->bdat) {
        smtpd_reply(st, "503 5.5.1 Error: DATA and BDAT cannot be mixed");
        return -1;
    }
    if (*args) {
        smtpd_reply(st, "501 5.5.4 Syntax: DATA");
        return -1;
    }
    if (st->rcpt_count == 0) {
        smtpd_reply(st, "554 5.5.1 Error: no valid recipients");
        return -1;
    }
    if ((x = smtpd_xfer_start(st, "DATA", 1)) == NULL)
        return -1;
    smtpd_reply(st, "354 End data with <CR><LF>.<CR><LF>");
    if (smtpd_flush(st) < 0) {
        smtpd_lost(st);
        smtpd_xfer_free(x);
        return -1;
    }
    smtpd_deadline_data(st, 1);
    for (;;) {
        if ((ch = stream_getc(st->client)) < 0) {
            smtpd_lost(st);
            smtpd_xfer_free(x);
            return -1;
        }
        if (smtpd_data_byte(&x->reader, ch) == SMTPD_DATA_END)
            break;
    }
    ret = smtpd_xfer_end(st, x);
    smtpd_xfer_free(x);
    smtpd_reset(st);
    return ret;
}

/* smtpd_bdat_skip - read and drop a chunk we refuse; -1 when the client
 * went away */
static int smtpd_bdat_skip(SMTPD_STATE *st, long long size)
{
    char    buf[8192];

    smtpd_deadline_data(st, 1);
    while (size > 0) {
        size_t  n = size > (long long) sizeof(buf) ? sizeof(buf) : (size_t) size;

        if (stream_read(st->client, buf, n) != (ssize_t) n) {
            smtpd_lost(st);
            return -1;
        }
        size -= (long long) n;
    }
    return 0;
}

/* smtpd_bdat_abort - forget a BDAT transfer (RSET, HELO, session end) */
void    smtpd_bdat_abort(SMTPD_STATE *st)
{
    if (st->bdat_ctx)
        smtpd_xfer_free(st->bdat_ctx);
    st->bdat_ctx = NULL;
    st->bdat = 0;
}

/* smtpd_cmd_bdat - BDAT size [LAST] (RFC 3030). The chunk is always read,
 * even when refused, so that its bytes are never taken for commands; a
 * malformed size leaves no way to find the next command: 501 and close. */
int     smtpd_cmd_bdat(SMTPD_STATE *st, const char *args)
{
    SMTPD_XFER *x;
    long long size;
    long long chunk;
    int     last;
    char    buf[8192];

    if (smtpd_bdat_args(args, &size, &last) < 0) {
        msg_info("BDAT syntax error from %s: closing", st->namaddr);
        smtpd_reply(st, "501 5.5.4 Syntax: BDAT count [LAST]");
        st->quit = 1;
        return -1;
    }
    if (!st->have_mail || st->rcpt_count == 0) {
        if (smtpd_bdat_skip(st, size) < 0)
            return -1;
        smtpd_reply(st, st->have_mail ? "554 5.5.1 Error: no valid recipients"
                    : "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (st->bdat_ctx == NULL) {
        if ((st->bdat_ctx = smtpd_xfer_start(st, "BDAT", 0)) == NULL) {
            /* The reply is sent; the chunk still has to go. */
            (void) smtpd_bdat_skip(st, size);
            smtpd_reset(st);
            return -1;
        }
        st->bdat = 1;
    }
    x = st->bdat_ctx;
    chunk = size;
    smtpd_deadline_data(st, 1);
    while (size > 0) {
        size_t  n = size > (long long) sizeof(buf) ? sizeof(buf) : (size_t) size;
        size_t  used;

        if (stream_read(st->client, buf, n) != (ssize_t) n) {
            smtpd_lost(st);
            smtpd_reset(st);
            return -1;
        }
        (void) smtpd_data_feed(&x->reader, buf, n, &used);
        size -= (long long) n;
    }
    if (!last) {
        smtpd_reply(st, "250 2.0.0 Ok: %lld bytes", chunk);
        return 0;
    }
    smtpd_data_finish(&x->reader);
    last = smtpd_xfer_end(st, x);
    smtpd_reset(st);
    return last;
}
