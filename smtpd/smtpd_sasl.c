/* smtpd_sasl - SMTP AUTH (RFC 4954): PLAIN and LOGIN through Dovecot's
 * auth protocol 1.1, as Postfix's xsasl_dovecot_server.c talks it.
 *
 * smtpd_sasl_type = dovecot (or surel: authd, surel's own server of the
 * same protocol); smtpd_sasl_path is the socket, relative to
 * queue_directory (smtpd's working folder) or absolute. Per AUTH command:
 * connect, "VERSION 1 1" and "CPID", read the server's VERSION/MECH/SPID/
 * CUID/COOKIE lines up to DONE, send "AUTH id mech service=smtp nologin
 * lip= rip= [secured] [resp=]", then relay CONT challenges as 334 until OK
 * (user=) or FAIL (reason=; with temp: 454). As Postfix, one connection
 * per smtpd process serves every AUTH of every session it runs, each
 * request with the next id; it is dropped whenever a conversation does
 * not end cleanly (client cancel or loss, a bad reply), and a reused
 * connection the server closed meanwhile (a restart) is replaced once,
 * silently, before anything was relayed to the client.
 * Passwords pass only through buffers wiped after use; none is logged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "sasl_codec.h"

#define DV_LINE_MAX     (SASL_MAX_DECODED * 2)
#define DV_FIELDS_MAX   32

/* The process's connection to the auth server, kept between AUTHs. */
static STREAM *sasl_stream;
static int sasl_mechs;                  /* SASL_MECH_* the server offered */
static unsigned long sasl_id;           /* the last request id */

#define SASL_MECH_PLAIN (1 << 0)
#define SASL_MECH_LOGIN (1 << 1)

/* What one AUTH conversation came to. */
enum {
    SASL_R_OK,                          /* OK: authenticated */
    SASL_R_FAIL,                        /* FAIL (or temp), replied; connection reusable */
    SASL_R_ABORT,                       /* the client cancelled; replied; drop */
    SASL_R_LOST,                        /* the client is gone; drop */
    SASL_R_IPC                          /* the server failed; nothing replied; drop */
};

/* sasl_connect - the Dovecot auth socket as a stream, NULL on failure */
static STREAM *sasl_connect(BUF *why)
{
    struct sockaddr_un sun;
    const char *path = smtpd_params.sasl_path;
    int     fd;
    STREAM *s;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        buf_sprintf(why, "socket path too long: %s", path);
        return NULL;
    }
    memcpy(sun.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
        buf_sprintf(why, "socket: %s", strerror(errno));
        return NULL;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        buf_sprintf(why, "connect to %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    s = stream_fdopen(fd);
    stream_set_timeout(s, (int) smtpd_params.ipc_timeout);
    return s;
}

/* sasl_read - one server line split into fields; count or -1 */
static int sasl_read(STREAM *s, BUF *line, char **f)
{
    if (stream_get_line(s, line, DV_LINE_MAX) != STREAM_LINE_OK)
        return -1;
    buf_truncate(line, buf_len(line) - 1);
    return sasl_dv_split(buf_str(line), f, DV_FIELDS_MAX);
}

/* sasl_mech_bit - the SASL_MECH_* of a name, 0 for others */
static int sasl_mech_bit(const char *mech)
{
    if (strcasecmp(mech, "PLAIN") == 0)
        return SASL_MECH_PLAIN;
    if (strcasecmp(mech, "LOGIN") == 0)
        return SASL_MECH_LOGIN;
    return 0;
}

/* sasl_handshake - VERSION/CPID out, server lines up to DONE; the
 * mechanisms it offers into sasl_mechs. 0 or -1 with why. */
static int sasl_handshake(STREAM *s, BUF *why)
{
    BUF    *line = buf_alloc(256);
    char   *f[DV_FIELDS_MAX];
    int     n;
    int     ok = -1;

    stream_printf(s, "VERSION\t1\t1\nCPID\t%ld\n", (long) getpid());
    if (stream_flush(s) < 0) {
        buf_set(why, "write error");
        goto out;
    }
    while ((n = sasl_read(s, line, f)) > 0) {
        if (strcmp(f[0], "VERSION") == 0 && (n < 2 || strcmp(f[1], "1") != 0)) {
            buf_set(why, "unsupported protocol version");
            goto out;
        }
        if (strcmp(f[0], "MECH") == 0 && n >= 2)
            sasl_mechs |= sasl_mech_bit(f[1]);
        if (strcmp(f[0], "DONE") == 0) {
            ok = 0;
            goto out;
        }
    }
    buf_set(why, "bad or no handshake from the auth server");
  out:
    buf_free(line);
    return ok;
}

/* sasl_drop - forget the server connection (it is in an unknown state) */
static void sasl_drop(void)
{
    if (sasl_stream)
        (void) stream_close(sasl_stream);
    sasl_stream = NULL;
    sasl_mechs = 0;
}

/* sasl_open - the process's server connection, made and handshaken when
 * there is none; *reused says whether it served an AUTH before. NULL
 * with why on failure. */
static STREAM *sasl_open(int *reused, BUF *why)
{
    STREAM *s;

    *reused = sasl_stream != NULL;
    if (sasl_stream)
        return sasl_stream;
    if ((s = sasl_connect(why)) == NULL)
        return NULL;
    sasl_mechs = 0;
    if (sasl_handshake(s, why) < 0) {
        (void) stream_close(s);
        return NULL;
    }
    return sasl_stream = s;
}

/* sasl_client_line - the client's next AUTH answer (base64 or "*") */
static int sasl_client_line(SMTPD_STATE *st, BUF *out)
{
    size_t  limit = SASL_MAX_DECODED * 4 / 3 + 8;

    if (smtpd_flush(st) < 0)
        return -1;
    smtpd_deadline_request(st);
    sasl_wipe(out);
    if (stream_get_line(st->client, out, limit) != STREAM_LINE_OK)
        return -1;
    buf_truncate(out, buf_len(out) - 1);
    if (buf_len(out) && buf_str(out)[buf_len(out) - 1] == '\r')
        buf_truncate(out, buf_len(out) - 1);
    return 0;
}

/* sasl_fail - log and reply as Postfix; 535 counts as an error and waits */
static void sasl_fail(SMTPD_STATE *st, const char *mech, const char *reason)
{
    msg_warn("%s: SASL %s authentication failed: %s", st->namaddr, mech, reason);
    /* Postfix sleeps smtpd_error_sleep_time through its error count; this
     * reply is an error like any other (smtpd_reply.c applies the sleep). */
    smtpd_reply(st, "535 5.7.8 Error: authentication failed: %s", reason);
}

/* sasl_exchange - the AUTH conversation with the server: SASL_R_*.
 * *relayed tells whether anything reached the client (a 334). */
static int sasl_exchange(SMTPD_STATE *st, STREAM *s, const char *mech, const char *init,
                         int *relayed)
{
    BUF    *req = buf_alloc(256);
    BUF    *line = buf_alloc(256);
    BUF    *client = buf_alloc(256);
    char   *f[DV_FIELDS_MAX];
    char    local[64] = "";
    int     n;
    int     i;
    int     result = SASL_R_IPC;
    unsigned long id;
    char   *end;

    *relayed = 0;
    if (++sasl_id > 4294967295UL)
        sasl_id = 1;
    id = sasl_id;
    buf_sprintf(req, "AUTH\t%lu\t%s\tservice=smtp\tnologin", id, mech);
    buf_printf(req, "\tlip=%s\trip=%s", local, st->addr);
    if (st->tls)
        buf_puts(req, "\tsecured");
    if (init) {
        buf_puts(req, "\tresp=");
        buf_puts(req, init);
    }
    buf_putc(req, '\n');
    if (stream_write(s, buf_str(req), buf_len(req)) < 0 || stream_flush(s) < 0)
        goto out;
    for (;;) {
        if ((n = sasl_read(s, line, f)) < 2 || strtoul(f[1], &end, 10) != id || *end
            || *f[1] == 0)
            goto out;
        if (strcmp(f[0], "OK") == 0) {
            for (i = 2; i < n; i++)
                if (strncmp(f[i], "user=", 5) == 0)
                    buf_set(st->sasl_username, f[i] + 5);
            if (buf_len(st->sasl_username) == 0)
                goto out;
            buf_set(st->sasl_method, mech);
            result = SASL_R_OK;
            break;
        }
        if (strcmp(f[0], "FAIL") == 0) {
            const char *reason = "authentication failure";
            int     temp = 0;

            for (i = 2; i < n; i++) {
                if (strncmp(f[i], "reason=", 7) == 0)
                    reason = f[i] + 7;
                if (strcmp(f[i], "temp") == 0)
                    temp = 1;
            }
            /* The server could not check (a table it cannot read): the
             * client may try again later, as Postfix answers it. */
            result = SASL_R_FAIL;
            if (temp) {
                msg_warn("%s: SASL %s: temporary failure: %s", st->namaddr, mech, reason);
                smtpd_reply(st, "454 4.7.0 Temporary authentication failure: %s", reason);
                break;
            }
            /* Postfix logs the last challenge it sent when the server gives
             * no reason; Dovecot's "reason=" wins otherwise. */
            sasl_fail(st, mech, buf_len(st->sasl_challenge) && strcmp(reason,
                            "authentication failure") == 0 ? buf_str(st->sasl_challenge)
                      : reason);
            break;
        }
        if (strcmp(f[0], "CONT") != 0 || n < 3)
            goto out;
        buf_set(st->sasl_challenge, f[2]);
        smtpd_reply(st, "334 %s", f[2]);
        *relayed = 1;
        if (sasl_client_line(st, client) < 0) {
            smtpd_lost(st);
            result = SASL_R_LOST;
            break;
        }
        if (strcmp(buf_str(client), "*") == 0) {
            msg_warn("%s: SASL %s authentication aborted", st->namaddr, mech);
            smtpd_reply(st, "501 5.7.0 Authentication aborted");
            result = SASL_R_ABORT;
            break;
        }
        buf_reset(req);
        buf_sprintf(req, "CONT\t%lu\t%s\n", id, buf_str(client));
        sasl_wipe(client);
        if (stream_write(s, buf_str(req), buf_len(req)) < 0 || stream_flush(s) < 0)
            goto out;
        sasl_wipe(req);
    }
  out:
    sasl_wipe(req);
    sasl_wipe(line);
    sasl_wipe(client);
    buf_free(req);
    buf_free(line);
    buf_free(client);
    return result;
}

/* smtpd_sasl_offered - AUTH may be announced and used in this session */
int     smtpd_sasl_offered(const SMTPD_STATE *st)
{
    if (!smtpd_params.sasl_enable || (!st->tls && smtpd_params.tls_auth_only))
        return 0;
    /* Both mechanisms send the password as it is: noplaintext leaves none. */
    return !(st->tls ? smtpd_params.sasl_tls_noplain : smtpd_params.sasl_noplain);
}

/* smtpd_cmd_auth - AUTH mechanism [initial-response] */
int     smtpd_cmd_auth(SMTPD_STATE *st, const char *args)
{
    char    mech[32];
    const char *init = NULL;
    const char *sp;
    STREAM *s;
    BUF    *why;
    int     r = SASL_R_IPC;
    int     reused;
    int     relayed;
    int     attempt;

    if (!smtpd_sasl_offered(st) || !st->esmtp) {
        smtpd_reply(st, "503 5.5.1 Error: authentication not enabled");
        return -1;
    }
    if (buf_len(st->sasl_username)) {
        smtpd_reply(st, "503 5.5.1 Error: already authenticated");
        return -1;
    }
    if (st->have_mail) {
        smtpd_reply(st, "503 5.5.1 Error: MAIL transaction in progress");
        return -1;
    }
    sp = strchr(args, ' ');
    if (*args == 0 || (size_t) (sp ? sp - args : (long) strlen(args)) >= sizeof(mech)) {
        smtpd_reply(st, "501 5.5.4 Syntax: AUTH mechanism");
        return -1;
    }
    snprintf(mech, sizeof(mech), "%.*s", (int) (sp ? sp - args : (long) strlen(args)), args);
    for (char *cp = mech; *cp; cp++)
        if (*cp >= 'a' && *cp <= 'z')
            *cp = (char) (*cp - 'a' + 'A');
    if (strcmp(mech, "PLAIN") != 0 && strcmp(mech, "LOGIN") != 0) {
        smtpd_reply(st, "535 5.7.8 Error: authentication failed: Invalid authentication mechanism");
        return -1;
    }
    if (sp) {
        init = sp + 1;
        if (strcmp(init, "=") == 0)
            init = "";
        else if (strspn(init, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
                 != strlen(init)) {
            smtpd_reply(st, "501 5.5.2 Cannot decode response");
            return -1;
        }
    }
    if (smtpd_rate_auth(st) < 0)
        return -1;
    why = buf_alloc(100);
    for (attempt = 0;; attempt++) {
        buf_reset(st->sasl_challenge);
        if ((s = sasl_open(&reused, why)) == NULL) {
            msg_warn("SASL: %s", buf_str(why));
            break;
        }
        if ((sasl_mechs & sasl_mech_bit(mech)) == 0) {
            msg_warn("SASL: mechanism %s not offered by the auth server", mech);
            break;
        }
        r = sasl_exchange(st, s, mech, init, &relayed);
        if (r == SASL_R_OK || r == SASL_R_FAIL)
            break;
        sasl_drop();
        if (r != SASL_R_IPC)
            break;
        /* A kept connection the server has closed since (restart, idle
         * limit): try a new one, once, if the client has seen nothing. */
        if (reused && !relayed && attempt == 0)
            continue;
        msg_warn("%s: SASL %s: bad reply from the auth server", st->namaddr, mech);
        break;
    }
    buf_free(why);
    /* The password passed through both streams' buffers. */
    stream_wipe(st->client);
    if (sasl_stream)
        stream_wipe(sasl_stream);
    if (r == SASL_R_OK) {
        smtpd_reply(st, "235 2.7.0 Authentication successful");
        return 0;
    }
    if (r == SASL_R_IPC)
        smtpd_reply(st, "454 4.7.0 Temporary authentication failure");
    return -1;
}
