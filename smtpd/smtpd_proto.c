/* smtpd_proto - the SMTP session: command loop and dispatch.
 *
 * Replies (smtpd_reply.c) are flushed only when no more input is buffered
 * (RFC 2920 PIPELINING: the client may send a whole transaction in one
 * write; we answer it in one write too), after 354 (the client waits for
 * it), and when the session ends. A client that writes everything before
 * reading cannot deadlock us: we never wait for the client to read while
 * it still has unread input for us, unless our 8 KiB reply buffer fills,
 * which takes hundreds of pipelined commands.
 *
 * Errors: every 4xx/5xx reply counts; smtpd_hard_error_limit of them ends
 * the session with 421 4.7.0 (a queued message resets the count, as in
 * Postfix: the limit is on errors "without delivering mail"). Once
 * smtpd_soft_error_limit errors were made every reply waits
 * smtpd_error_sleep_time (smtpd_reply.c). HELO, EHLO, RSET, NOOP, VRFY and ETRN are "junk"
 * commands: once more than smtpd_junk_command_limit of them were seen,
 * each one counts as an error too (Postfix's rule; a queued message
 * resets this count as well).
 *
 * Timeouts: smtpd_timeout bounds each read and write; with
 * smtpd_per_request_deadline it bounds a whole request instead (the
 * command line, or DATA/BDAT content, and its reply), so a client that
 * trickles one byte before each timeout cannot hold the session. DATA
 * and BDAT content moves that deadline 1/smtpd_min_data_rate s later
 * per byte, never beyond smtpd_timeout from now (Postfix >= 3.7).
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "mem.h"
#include "msg.h"
#include "smtpd.h"

/* The verbs. fn NULL: known but not implemented here (502). junk: counts
 * towards smtpd_junk_command_limit (Postfix's SMTPD_CMD_FLAG_LIMIT). */
static const struct smtpd_verb {
    const char *name;
    SMTPD_VERB_FN fn;
    int     junk;
    int     last;                   /* must end a pipelined group (RFC 2920 3.1) */
} smtpd_verbs[] = {
    {"HELO", smtpd_cmd_helo, 1, 1},
    {"EHLO", smtpd_cmd_ehlo, 1, 1},
    {"STARTTLS", smtpd_cmd_starttls, 0, 1},
    {"AUTH", smtpd_cmd_auth, 0, 1},
    {"MAIL", smtpd_cmd_mail, 0, 0},
    {"RCPT", smtpd_cmd_rcpt, 0, 0},
    {"BDAT", smtpd_cmd_bdat, 0, 0},
    {"DATA", smtpd_cmd_data, 0, 1},
    {"RSET", smtpd_cmd_rset, 1, 0},
    {"NOOP", smtpd_cmd_noop, 1, 1},
    {"VRFY", smtpd_cmd_vrfy, 1, 1},
    {"EXPN", NULL, 0, 1},
    {"ETRN", NULL, 1, 1},
    {"TURN", NULL, 0, 1},
    {"ATRN", NULL, 0, 1},
    {"HELP", smtpd_cmd_help, 0, 0},
    {"QUIT", smtpd_cmd_quit, 0, 0},
};

#define SMTPD_NVERBS (sizeof(smtpd_verbs) / sizeof(smtpd_verbs[0]))

/* smtpd_copy - src into out[len], cut to fit */
static void smtpd_copy(char *out, size_t len, const char *src)
{
    size_t  n = strlen(src);

    if (n >= len)
        n = len - 1;
    memcpy(out, src, n);
    out[n] = 0;
}

/* smtpd_sockaddr_text - address and port of a socket end */
static void smtpd_sockaddr_text(const struct sockaddr_storage *ss, char *addr, size_t alen,
                                char *port, size_t plen)
{
    char    host[NI_MAXHOST], serv[NI_MAXSERV];

    if (getnameinfo((const struct sockaddr *) ss, sizeof(*ss), host, sizeof(host), serv,
                    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    if (addr)
        smtpd_copy(addr, alen, strncmp(host, "::ffff:", 7) == 0 ? host + 7 : host);
    smtpd_copy(port, plen, serv);
}

/* smtpd_state_ends - the client's port and our address and port, for
 * policy servers (memory streams in tests have none) */
static void smtpd_state_ends(SMTPD_STATE *st)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int     fd = st->client ? stream_fd(st->client) : -1;

    if (fd < 0)
        return;
    if (getpeername(fd, (struct sockaddr *) &ss, &len) == 0
        && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        smtpd_sockaddr_text(&ss, NULL, 0, st->client_port, sizeof(st->client_port));
    len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *) &ss, &len) == 0
        && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        smtpd_sockaddr_text(&ss, st->server_addr, sizeof(st->server_addr), st->server_port,
                            sizeof(st->server_port));
}

/* smtpd_check_log - HOLD/DISCARD from a restriction: Postfix's
 * "NOQUEUE: hold: RCPT from ...: <rcpt>: ...; from=<> to=<> ..." line */
static void smtpd_check_log(void *ctx, const char *kind, const char *where, const char *text,
                            const char *rcpt)
{
    smtpd_log_refusal((SMTPD_STATE *) ctx, NULL, kind, where, text, rcpt);
}

/* smtpd_state_init - a fresh session */
void    smtpd_state_init(SMTPD_STATE *st, STREAM *client, const char *addr)
{
    memset(st, 0, sizeof(*st));
    st->client = client;
    snprintf(st->addr, sizeof(st->addr), "%s", addr);
    st->name = "unknown";           /* until smtpd_state_names */
    snprintf(st->reverse_name, sizeof(st->reverse_name), "unknown");
    st->name_status = st->reverse_name_status = SMTPD_PEER_CODE_PERM;
    snprintf(st->namaddr, sizeof(st->namaddr), "%s[%s]", st->name, st->addr);
    st->helo = buf_alloc(64);
    st->sender = buf_alloc(64);
    st->reply = buf_alloc(256);
    st->line = buf_alloc(smtpd_params.line_length_limit + 3);
    st->sasl_username = buf_alloc(32);
    st->sasl_method = buf_alloc(16);
    st->sasl_challenge = buf_alloc(32);
    smtpd_mail_args_init(&st->mail);
    st->last_line_crlf = 1;
    st->where = "CONNECT";
    st->actions.log = smtpd_check_log;
    st->actions.log_ctx = st;
    smtpd_state_ends(st);
}

/* smtpd_state_names - the client's names from smtpd_peer_name */
void    smtpd_state_names(SMTPD_STATE *st, const SMTPD_PEER_NAME *names)
{
    snprintf(st->name_buf, sizeof(st->name_buf), "%s", names->name);
    snprintf(st->reverse_name, sizeof(st->reverse_name), "%s", names->reverse);
    st->name = st->name_buf;
    st->name_status = names->name_status;
    st->reverse_name_status = names->reverse_status;
    snprintf(st->namaddr, sizeof(st->namaddr), "%s[%s]", st->name, st->addr);
}

/* smtpd_reset - forget the transaction (RSET, HELO, end of a message) */
void    smtpd_reset(SMTPD_STATE *st)
{
    int     i;

    smtpd_bdat_abort(st);
    smtpd_milter_reset(st);
    for (i = 0; i < st->rcpt_count; i++) {
        xfree(st->rcpt[i].addr);
        xfree(st->rcpt[i].orcpt);
    }
    st->rcpt_count = 0;
    st->have_mail = 0;
    smtpd_check_actions_reset(&st->actions);
    buf_reset(st->sender);
    smtpd_mail_args_free(&st->mail);
    smtpd_mail_args_init(&st->mail);
}

/* smtpd_state_free - release a session */
void    smtpd_state_free(SMTPD_STATE *st)
{
    smtpd_reset(st);
    xfree(st->rcpt);
    smtpd_mail_args_free(&st->mail);
    buf_free(st->helo);
    buf_free(st->sender);
    buf_free(st->reply);
    buf_free(st->line);
    buf_free(st->sasl_username);
    buf_free(st->sasl_method);
    buf_free(st->sasl_challenge);
}

/* smtpd_check_ctx - what access control needs to know */
void    smtpd_check_ctx(SMTPD_STATE *st, SMTPD_CHECK_CTX *ctx)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->client_addr = st->addr;
    ctx->client_name = st->name;
    ctx->reverse_name = st->reverse_name;
    ctx->name_status = st->name_status;
    ctx->reverse_name_status = st->reverse_name_status;
    ctx->helo = buf_len(st->helo) ? buf_str(st->helo) : NULL;
    ctx->sender = st->have_mail ? buf_str(st->sender) : NULL;
    ctx->sasl_authenticated = buf_len(st->sasl_username) > 0;
    ctx->sasl_username = ctx->sasl_authenticated ? buf_str(st->sasl_username) : NULL;
    ctx->sasl_method = ctx->sasl_authenticated ? buf_str(st->sasl_method) : NULL;
    ctx->protocol_name = st->esmtp ? "ESMTP" : "SMTP";
    ctx->instance = st->have_mail ? st->instance : "";
    ctx->rcpt_count = st->rcpt_count;
    ctx->size = st->have_mail && st->mail.size_given ? st->mail.size : 0;
    ctx->tls = st->tls != NULL;
    ctx->tls_protocol = st->tls ? st->tls_info.protocol : "";
    ctx->tls_cipher = st->tls ? st->tls_info.cipher : "";
    ctx->tls_bits = st->tls ? st->tls_info.cipher_bits : 0;
    ctx->stress = smtpd_params.stress;
    ctx->client_port = st->client_port;
    ctx->server_addr = st->server_addr;
    ctx->server_port = st->server_port;
    ctx->actions = &st->actions;
    ctx->ill_pipelining = st->ill_pipelining;
}

/* smtpd_count - one more command for the disconnect line */
static void smtpd_count(SMTPD_STATE *st, const char *name, int ok)
{
    int     i;

    for (i = 0; i < st->nverbs; i++)
        if (strcmp(st->count_name[i], name) == 0)
            break;
    if (i == st->nverbs) {
        if (st->nverbs >= SMTPD_VERB_COUNT_MAX)
            return;
        st->count_name[st->nverbs++] = name;
    }
    st->count_all[i]++;
    if (ok)
        st->count_ok[i]++;
}

/* smtpd_log_disconnect - "disconnect from host[addr] ehlo=1 ... commands=N" */
static void smtpd_log_disconnect(SMTPD_STATE *st)
{
    BUF    *text = buf_alloc(200);
    int     ok = 0;
    int     all = 0;
    int     i;

    for (i = 0; i < st->nverbs; i++) {
        buf_printf(text, " %s=%d", st->count_name[i], st->count_ok[i]);
        if (st->count_ok[i] != st->count_all[i])
            buf_printf(text, "/%d", st->count_all[i]);
        ok += st->count_ok[i];
        all += st->count_all[i];
    }
    buf_printf(text, " commands=%d", ok);
    if (ok != all)
        buf_printf(text, "/%d", all);
    msg_info("disconnect from %s%s", st->namaddr, buf_str(text));
    buf_free(text);
}

/* smtpd_lost - the client went away or timed out while we read */
void    smtpd_lost(SMTPD_STATE *st)
{
    /* The goodbye gets the per-write timeout, not a deadline already past. */
    stream_set_deadline(st->client, 0);
    stream_set_data_rate(st->client, 0, 0);
    if (stream_timed_out(st->client)) {
        msg_info("timeout after %s from %s", st->where, st->namaddr);
        /* The read timed out, the connection is still good for writing:
         * the goodbye goes through the stream's I/O, so after STARTTLS it
         * is sent inside TLS, never in plaintext beside it. The write has
         * the usual deadline. */
        stream_clear_error(st->client);
        smtpd_reply(st, "421 4.4.2 %s Error: timeout exceeded", smtpd_params.myhostname);
        (void) smtpd_flush(st);
    } else {
        msg_info("lost connection after %s from %s", st->where, st->namaddr);
    }
    st->quit = 1;
}

/* smtpd_deadline_request - a new request starts: with
 * smtpd_per_request_deadline, reading it and sending its reply may wait
 * smtpd_timeout in all (our own work in between does not count: a slow
 * cleanup or the tarpit's sleep never costs the client its reply) */
void    smtpd_deadline_request(SMTPD_STATE *st)
{
    stream_set_data_rate(st->client, 0, 0);
    if (smtpd_params.per_request_deadline)
        stream_set_deadline(st->client, smtpd_params.timeout * 1000);
}

/* smtpd_deadline_data - DATA/BDAT content: each byte buys 1/min_data_rate s */
void    smtpd_deadline_data(SMTPD_STATE *st, int on)
{
    if (smtpd_params.per_request_deadline)
        stream_set_data_rate(st->client, on ? (int) smtpd_params.min_data_rate : 0,
                             (int) smtpd_params.timeout);
}

/* smtpd_read_command - the next command line without its line end into
 * st->line; 0, 1 when the line was refused here (reply sent), -1 at EOF */
static int smtpd_read_command(SMTPD_STATE *st)
{
    size_t  limit = (size_t) smtpd_params.line_length_limit + 2;
    int     r;

    if (stream_buffered(st->client) == 0 && smtpd_flush(st) < 0) {
        msg_info("lost connection after %s from %s", st->where, st->namaddr);
        st->quit = 1;
        return -1;
    }
    smtpd_deadline_request(st);
    r = stream_get_line(st->client, st->line, limit);
    if (r == STREAM_LINE_PARTIAL) {
        /* Read the rest of the over-long line and drop it, in bounded pieces. */
        while ((r = stream_get_line(st->client, st->line, limit)) == STREAM_LINE_PARTIAL)
             /* void */ ;
        if (r != STREAM_LINE_OK) {
            smtpd_lost(st);
            return -1;
        }
        smtpd_reply(st, "500 5.5.2 Error: line too long");
        smtpd_count(st, "unknown", 0);
        return 1;
    }
    if (r != STREAM_LINE_OK) {
        /* EOF, an unterminated last line (never run) or an error. */
        smtpd_lost(st);
        return -1;
    }
    buf_truncate(st->line, buf_len(st->line) - 1);
    st->last_line_crlf = buf_len(st->line) > 0 && buf_str(st->line)[buf_len(st->line) - 1] == '\r';
    if (st->last_line_crlf)
        buf_truncate(st->line, buf_len(st->line) - 1);
    if (!st->last_line_crlf && smtpd_params.bare_newline == SMTPD_BARE_LF_REJECT) {
        msg_info("bare <LF> received after %s from %s", st->where, st->namaddr);
        smtpd_reply(st, "%d 5.5.2 Error: bare <LF> received", smtpd_params.bare_newline_code);
        smtpd_count(st, "unknown", 0);
        return 1;
    }
    if (msg_verbose)
        msg_debug("< %s: %s", st->namaddr, buf_str(st->line));
    return 0;
}

/* smtpd_input_pending - the client has sent more than we have read */
static int smtpd_input_pending(SMTPD_STATE *st)
{
    int     n = 0;

    if (stream_buffered(st->client) > 0)
        return 1;
    return stream_fd(st->client) >= 0 && ioctl(stream_fd(st->client), FIONREAD, &n) == 0
        && n > 0;
}

/* smtpd_pipelining - Postfix's improper-pipelining mark: more input
 * waits after a command that must end a group, or after any command of
 * a client that never saw our PIPELINING (no EHLO) */
static void smtpd_pipelining(SMTPD_STATE *st, const struct smtpd_verb *v)
{
    if (st->ill_pipelining || v->fn == smtpd_cmd_quit || (st->esmtp && !v->last)
        || !smtpd_input_pending(st))
        return;
    st->ill_pipelining = 1;
    msg_info("improper command pipelining after %s from %s", v->name, st->namaddr);
}

/* smtpd_dispatch - run one command line */
static void smtpd_dispatch(SMTPD_STATE *st)
{
    BUF    *verb = buf_alloc(32);
    const char *args;
    size_t  i;
    int     ok;

    if (smtpd_cmd_split(buf_str(st->line), buf_len(st->line), verb, &args, st->reply) < 0) {
        smtpd_reply(st, "%s", buf_str(st->reply));
        smtpd_count(st, "unknown", 0);
        buf_free(verb);
        return;
    }
    for (i = 0; i < SMTPD_NVERBS; i++)
        if (strcasecmp(buf_str(verb), smtpd_verbs[i].name) == 0)
            break;
    if (i == SMTPD_NVERBS) {
        /* Filters see the unknown command; one may answer it. */
        if (smtpd_milter_unknown(st, buf_str(st->line)) == 0)
            smtpd_reply(st, "500 5.5.2 Error: command not recognized");
        smtpd_count(st, "unknown", 0);
        buf_free(verb);
        return;
    }
    buf_free(verb);
    st->where = smtpd_verbs[i].name;
    smtpd_pipelining(st, &smtpd_verbs[i]);
    /* Postfix: if (state->junk_cmds++ > var_smtpd_junk_cmd_limit) error. */
    if (smtpd_verbs[i].junk && st->junk++ > smtpd_params.junk_limit)
        st->errors++;
    if (st->denied && smtpd_verbs[i].fn != smtpd_cmd_quit) {
        smtpd_reply(st, "503 5.7.0 Error: access denied for %s", st->namaddr);
        ok = 0;
    } else if (smtpd_milter_denied(st, smtpd_verbs[i].name) < 0) {
        ok = 0;
    } else if (smtpd_verbs[i].fn == NULL) {
        smtpd_reply(st, "502 5.5.1 Error: command not implemented");
        ok = 0;
    } else {
        ok = smtpd_verbs[i].fn(st, args) == 0;
    }
    /* The counter names are Postfix's: the verb in lower case. */
    {
        static const char *const lower[] = {"helo", "ehlo", "starttls", "auth", "mail",
            "rcpt", "bdat", "data", "rset", "noop", "vrfy", "expn", "etrn", "turn",
        "atrn", "help", "quit"};

        smtpd_count(st, lower[i], ok);
    }
}

/* smtpd_greet - 220, or the access-control reply (then only QUIT works,
 * RFC 5321 3.1: a 554 greeting and 503 to everything else) */
static void smtpd_greet(SMTPD_STATE *st)
{
    SMTPD_CHECK_CTX ctx;
    BUF    *why = buf_alloc(100);

    smtpd_check_ctx(st, &ctx);
    if (smtpd_check_client(&ctx, why) != SMTPD_CHECK_OK) {
        smtpd_log_reject(st, NULL, "CONNECT", buf_str(why), NULL);
        smtpd_reply(st, "%s", buf_str(why));
        st->denied = 1;
    } else {
        smtpd_reply(st, "220 %s", smtpd_params.banner);
        smtpd_milter_connect(st);
    }
    buf_free(why);
}

/* smtpd_session - one SMTP session on a connected client */
void    smtpd_session(STREAM *client, const char *addr)
{
    SMTPD_STATE st;
    SMTPD_PEER_NAME names;
    int     registered;
    int     r;

    smtpd_state_init(&st, client, addr);
    /* Before the connect line, as Postfix: it names the client. */
    smtpd_peer_name(addr, &names);
    smtpd_state_names(&st, &names);
    smtpd_check_session();
    stream_set_timeout(client, (int) smtpd_params.timeout);
    smtpd_deadline_request(&st);            /* the greeting is a reply too */
    msg_info("connect from %s", st.namaddr);
    /* Over a connection count or rate limit: Postfix's 421 instead of
     * the greeting, between the usual connect and disconnect lines. */
    if (smtpd_conn_enter(addr, st.namaddr, &registered, st.reply) < 0) {
        smtpd_reply(&st, "%s", buf_str(st.reply));
        st.quit = 1;
    } else if (smtpd_tls_wrapper(&st) == 0) {
        smtpd_greet(&st);
    }
    while (!st.quit) {
        if ((r = smtpd_read_command(&st)) < 0)
            break;
        if (r == 0)
            smtpd_dispatch(&st);
        if (!st.quit && st.errors >= smtpd_params.hard_error_limit) {
            msg_info("too many errors after %s from %s", st.where, st.namaddr);
            smtpd_reply(&st, "421 4.7.0 %s Error: too many errors", smtpd_params.myhostname);
            break;
        }
    }
    (void) smtpd_flush(&st);
    if (st.tls) {
        tls_session_stop(st.tls, client);
        st.tls = NULL;
    }
    smtpd_reset(&st);
    smtpd_milter_free(&st);
    smtpd_log_disconnect(&st);
    if (registered)
        smtpd_conn_leave(addr);
    smtpd_state_free(&st);
}
