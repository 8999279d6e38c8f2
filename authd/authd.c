/*
 * NAME
 *      authd - surel's own SASL authentication server
 * SYNOPSIS
 *      authd (started by master; master.cf: authd unix - - n - - authd)
 * DESCRIPTION
 *      Checks the logins of SMTP AUTH (PLAIN, LOGIN) for smtpd when
 *      smtpd_sasl_type = surel, so that a submission server needs no
 *      Dovecot. It speaks the server side of Dovecot's auth protocol 1.1
 *      (authd_proto.c), exactly what smtpd's Dovecot client talks, on the
 *      private socket private/authd (smtpd_sasl_path; with type surel the
 *      default means that). Each login name is looked up in
 *      authd_password_maps, whose value is a crypt(3) hash (yescrypt,
 *      SHA-512-crypt; `surel passwd` makes one), and checked by
 *      authd_verify.c. No Postfix daemon does this: Postfix has only the
 *      Cyrus and Dovecot back ends.
 *
 *      A multi_server: one process serves every smtpd connection from the
 *      event loop. Each line is read whole within AUTHD_IPC_TIMEOUT once
 *      its first byte arrives (smtpd writes each line in one piece; only
 *      mail_owner's processes can reach private/authd). A failed login is
 *      answered after authd_failure_delay (a timer: other clients go on
 *      meanwhile), as Dovecot's auth_failure_delay, on top of smtpd's own
 *      error sleep and anvil's smtpd_client_auth_rate_limit.
 * SECURITY
 *      Runs as authd_owner (default surelauth), not mail_owner: the table
 *      is meant to be readable by that account only (root:surelauth 0640),
 *      so a compromised smtpd cannot read a single hash. The input is
 *      untrusted (it comes from an SMTP client through smtpd): every line,
 *      field, name and password is bounded; no password or hash reaches a
 *      log line; buffers that held one are wiped; the process is not
 *      dumpable (no core file with a password). Confined after start-up
 *      (server_confine.c profile "authd": reads only, writes nothing).
 * LOG
 *      "login failed: user=<alice>, rip=ADDR: password mismatch" (or
 *      unknown user, locked entry, malformed ...), at info level;
 *      "warning: authd: ..." for protocol violations and table errors.
 * PARAMETERS
 *      authd_password_maps (empty), authd_owner (surelauth),
 *      authd_failure_delay (2s).
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "authd.h"
#include "buf.h"
#include "config.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "sasl_codec.h"
#include "server.h"

#define AUTHD_IPC_TIMEOUT   10          /* seconds to read one line once it starts */

typedef struct AUTHD_CLIENT {
    STREAM *stream;
    AUTHD_CONN conn;
    BUF    *pending;                    /* a delayed FAIL, sent by the timer */
} AUTHD_CLIENT;

static MAPS *authd_maps;
static unsigned long authd_cuid;
static long authd_delay_ms;

/* authd_check - the AUTHD_CHECK_FN: the table */
static AUTHD_RESULT authd_check(const char *user, const char *password, void *ctx,
                                BUF *why)
{
    (void) ctx;
    return authd_verify(authd_maps, user, password, why);
}

static void authd_client_read(int event, void *context);

/* authd_client_done - the client went away or broke the protocol */
static void authd_client_done(AUTHD_CLIENT *cl)
{
    event_cancel_timer(authd_client_read, cl);
    authd_conn_free(&cl->conn);
    buf_free(cl->pending);
    multi_server_disconnect(cl->stream);
    xfree(cl);
}

/* authd_send - write reply lines; -1 when the client is gone */
static int authd_send(AUTHD_CLIENT *cl, BUF *reply)
{
    if (buf_len(reply) == 0)
        return 0;
    return stream_write(cl->stream, buf_str(reply), buf_len(reply)) < 0
        || stream_flush(cl->stream) < 0 ? -1 : 0;
}

/* authd_client_read - a line arrived (or, as a timer, a delayed FAIL is due) */
static void authd_client_read(int event, void *context)
{
    AUTHD_CLIENT *cl = context;
    BUF    *line = buf_alloc(256);
    BUF    *reply = buf_alloc(256);
    BUF    *why = buf_alloc(100);
    AUTHD_ACTION action;
    int     ok = 1;

    (void) event;
    if (buf_len(cl->pending)) {
        /* The failure delay is over: answer, and listen again; lines that
         * came meanwhile and were read ahead are served at once. */
        ok = authd_send(cl, cl->pending) == 0;
        buf_reset(cl->pending);
        if (!ok)
            goto out;
        event_enable_read(stream_fd(cl->stream), authd_client_read, cl);
        if (stream_buffered(cl->stream) == 0)
            goto out;
    }
    do {
        if (stream_get_line(cl->stream, line, AUTHD_LINE_MAX) != STREAM_LINE_OK
            || buf_str(line)[buf_len(line) - 1] != '\n') {
            if (!stream_eof(cl->stream) || buf_len(line))
                msg_warn("authd: read error or over-long line from the client");
            ok = 0;
            break;
        }
        buf_truncate(line, buf_len(line) - 1);
        buf_reset(reply);
        action = authd_line(&cl->conn, buf_str(line), reply, authd_check, NULL, why);
        sasl_wipe(line);
        stream_wipe(cl->stream);
        if (action == AUTHD_CLOSE) {
            msg_warn("authd: protocol error: %s", buf_str(why));
            ok = 0;
        } else if (action == AUTHD_REPLY_FAILED) {
            msg_info("login failed: %s%s%s", buf_str(why),
                     *cl->conn.rip ? ", rip=" : "", cl->conn.rip);
            if (authd_delay_ms > 0) {
                buf_set(cl->pending, buf_str(reply));
                event_disable_readwrite(stream_fd(cl->stream));
                event_request_timer(authd_client_read, cl, authd_delay_ms);
                goto out;
            }
            ok = authd_send(cl, reply) == 0;
        } else {
            ok = authd_send(cl, reply) == 0;
        }
    } while (ok && stream_buffered(cl->stream) > 0);
  out:
    sasl_wipe(line);
    buf_free(line);
    buf_free(reply);
    buf_free(why);
    if (!ok)
        authd_client_done(cl);
}

/* authd_cookie - 32 hex digits of randomness for the COOKIE line */
static void authd_cookie(char *out, size_t size)
{
    unsigned char raw[16];
    size_t  i;

    if (getrandom(raw, sizeof(raw), 0) != (ssize_t) sizeof(raw))
        msg_fatal("getrandom: %m");
    for (i = 0; i < sizeof(raw) && 2 * i + 2 < size; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* authd_service - a new client (multi_server routine): the handshake */
static void authd_service(STREAM *client, const SERVER_CTX *ctx)
{
    AUTHD_CLIENT *cl = xcalloc(1, sizeof(*cl));
    BUF    *greeting = buf_alloc(256);
    char    cookie[33] = "";

    (void) ctx;
    cl->stream = client;
    cl->pending = buf_alloc(64);
    authd_conn_init(&cl->conn);
    stream_set_timeout(client, AUTHD_IPC_TIMEOUT);
    authd_cookie(cookie, sizeof(cookie));
    authd_greeting(greeting, (long) getpid(), ++authd_cuid, cookie);
    if (authd_send(cl, greeting) < 0) {
        buf_free(greeting);
        authd_client_done(cl);
        return;
    }
    buf_free(greeting);
    event_enable_read(stream_fd(client), authd_client_read, cl);
}

/* authd_owner - the account the skeleton drops to (SERVER_HOOKS.owner) */
static const char *authd_owner(void)
{
    return config_str(P_authd_owner);
}

/* authd_post_init - open the tables, make the dummy hash, no core files */
static void authd_post_init(const SERVER_CTX *ctx)
{
    BUF    *why = buf_alloc(100);

    (void) ctx;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        msg_fatal("prctl PR_SET_DUMPABLE: %m");
    authd_delay_ms = config_time(P_authd_failure_delay) * 1000L;
    if (*config_str(P_authd_password_maps) == 0)
        msg_warn("authd_password_maps is empty: every login fails");
    else if ((authd_maps = maps_open(config_str(P_authd_password_maps), 0, why)) == NULL)
        msg_fatal("authd_password_maps: %s", buf_str(why));
    authd_verify_init();
    buf_free(why);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .post_init = authd_post_init,
        .owner = authd_owner,
        .confine = "authd",
    };

    multi_server_main(argc, argv, authd_service, &hooks);
}
