/* authd_proto - the server side of Dovecot's auth protocol 1.1.
 *
 * What Dovecot's auth service says to Postfix, and so what smtpd's client
 * (smtpd/smtpd_sasl.c) and Postfix's xsasl_dovecot expect:
 *     server  VERSION 1 2, MECH PLAIN plaintext, MECH LOGIN plaintext,
 *             SPID pid, CUID n, COOKIE hex, DONE   (on connect)
 *     client  VERSION 1 x, CPID pid                 (before any request)
 *     client  AUTH id mech [service=s] [resp=b64] [rip=a] [secured] ...
 *     server  CONT id b64 | OK id user=name | FAIL id [temp] [reason=...]
 *     client  CONT id b64                           (after a server CONT)
 * Fields are TAB-separated with Dovecot's escaping (lib/util/sasl_codec.c).
 * One request at a time per connection (smtpd sends one); a second AUTH
 * while one is open, an unknown command, a bad id or a client that is not
 * version 1 is a protocol violation and ends the connection, as Dovecot
 * ends it. Parameters we do not need (nologin, lip=, secured, ...) are
 * ignored, as Dovecot ignores unknown ones.
 *
 * PLAIN (RFC 4616): authzid NUL authcid NUL password; an authzid other
 * than the authcid is refused (no proxy logins). LOGIN: "Username:" then
 * "Password:" challenges, the initial response being the user name.
 * A login name is 1..AUTHD_USER_MAX bytes without control characters and
 * is folded to lower case (Dovecot's default auth_username_format %Lu),
 * which is also how the tables fold their keys. FAIL never says why
 * (unknown user and wrong password look the same to the client); the why
 * buffer tells the caller, for its log, and never holds a password.
 * Every buffer that held a password is wiped (sasl_wipe).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authd.h"
#include "sasl_codec.h"

#define CHALLENGE_USER  "VXNlcm5hbWU6"  /* base64 "Username:", as Dovecot and Postfix */
#define CHALLENGE_PASS  "UGFzc3dvcmQ6"  /* base64 "Password:" */

/* authd_conn_init - a new connection, before its VERSION line */
void    authd_conn_init(AUTHD_CONN *c)
{
    memset(c, 0, sizeof(*c));
    c->state = AUTHD_S_VERSION;
    c->user = buf_alloc(64);
}

/* authd_conn_free - the connection is gone */
void    authd_conn_free(AUTHD_CONN *c)
{
    sasl_wipe(c->user);
    buf_free(c->user);
    c->user = NULL;
}

/* authd_greeting - the server's handshake lines */
void    authd_greeting(BUF *out, long spid, unsigned long cuid, const char *cookie)
{
    buf_sprintf(out, "VERSION\t1\t2\n"
                "MECH\tPLAIN\tplaintext\n"
                "MECH\tLOGIN\tplaintext\n"
                "SPID\t%ld\nCUID\t%lu\nCOOKIE\t%s\nDONE\n", spid, cuid, cookie);
}

/* authd_user_ok - a login name we look up: 1..AUTHD_USER_MAX bytes, no
 * control characters (they would reach log lines) */
int     authd_user_ok(const char *user, size_t len)
{
    size_t  i;

    if (len == 0 || len > AUTHD_USER_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char) user[i] < 0x20 || user[i] == 0x7f)
            return 0;
    return 1;
}

/* parse_id - a request id: 1..10 digits, at most AUTHD_ID_MAX */
static int parse_id(const char *text, unsigned long *id)
{
    char   *end;
    size_t  len = strlen(text);

    if (len == 0 || len > 10 || strspn(text, "0123456789") != len)
        return -1;
    errno = 0;
    *id = strtoul(text, &end, 10);
    return errno || *id > AUTHD_ID_MAX ? -1 : 0;
}

/* request_done - forget the request in progress */
static void request_done(AUTHD_CONN *c)
{
    c->mech = AUTHD_M_NONE;
    c->login_step = 0;
    sasl_wipe(c->user);
}

/* reply_fail - FAIL for the request in progress (or id) */
static void reply_fail(BUF *reply, unsigned long id, const char *extra)
{
    buf_printf(reply, "FAIL\t%lu%s%s\n", id, extra ? "\t" : "", extra ? extra : "");
}

/* finish - check user and password, answer the request; the action */
static AUTHD_ACTION finish(AUTHD_CONN *c, const char *user, size_t user_len,
                           const char *password, size_t pass_len, BUF *reply,
                           AUTHD_CHECK_FN check, void *ctx, BUF *why)
{
    BUF    *name = buf_alloc(64);
    AUTHD_ACTION action = AUTHD_REPLY_FAILED;
    unsigned long id = c->id;
    char   *cp;

    if (!authd_user_ok(user, user_len)) {
        buf_set(why, "malformed login name");
    } else if (pass_len == 0 || memchr(password, 0, pass_len) != NULL) {
        buf_append(name, user, user_len);
        buf_sprintf(why, "user=<%s>: empty or malformed password", buf_str(name));
    } else {
        buf_append(name, user, user_len);
        for (cp = name->data; *cp; cp++)
            if (*cp >= 'A' && *cp <= 'Z')
                *cp = (char) (*cp - 'A' + 'a');
        BUF    *reason = buf_alloc(64);
        AUTHD_RESULT result = check(buf_str(name), password, ctx, reason);

        buf_sprintf(why, "user=<%s>: %s", buf_str(name), buf_str(reason));
        buf_free(reason);
        switch (result) {
        case AUTHD_OK:
            buf_puts(reply, "OK\t");
            buf_printf(reply, "%lu\tuser=", id);
            sasl_dv_escape(reply, buf_str(name), buf_len(name));
            buf_putc(reply, '\n');
            action = AUTHD_REPLY;
            break;
        case AUTHD_TEMP:
            reply_fail(reply, id, "temp");
            action = AUTHD_REPLY;
            break;
        default:
            break;
        }
    }
    if (action == AUTHD_REPLY_FAILED)
        reply_fail(reply, id, NULL);
    buf_free(name);
    request_done(c);
    return action;
}

/* step - feed one decoded client message to the mechanism */
static AUTHD_ACTION step(AUTHD_CONN *c, BUF *data, BUF *reply, AUTHD_CHECK_FN check,
                         void *ctx, BUF *why)
{
    AUTHD_ACTION action;

    if (c->mech == AUTHD_M_PLAIN) {
        BUF    *authzid = buf_alloc(64);
        BUF    *authcid = buf_alloc(64);
        BUF    *passwd = buf_alloc(64);

        if (sasl_plain_split(buf_str(data), buf_len(data), authzid, authcid, passwd) < 0) {
            buf_set(why, "malformed PLAIN message");
            reply_fail(reply, c->id, NULL);
            request_done(c);
            action = AUTHD_REPLY_FAILED;
        } else if (buf_len(authzid) && strcmp(buf_str(authzid), buf_str(authcid)) != 0) {
            buf_set(why, "PLAIN authorization identity differs from the login name");
            reply_fail(reply, c->id, NULL);
            request_done(c);
            action = AUTHD_REPLY_FAILED;
        } else {
            action = finish(c, buf_str(authcid), buf_len(authcid), buf_str(passwd),
                            buf_len(passwd), reply, check, ctx, why);
        }
        sasl_wipe(passwd);
        buf_free(authzid);
        buf_free(authcid);
        buf_free(passwd);
        return action;
    }
    if (c->login_step == 0) {
        if (!authd_user_ok(buf_str(data), buf_len(data))) {
            buf_set(why, "malformed login name");
            reply_fail(reply, c->id, NULL);
            request_done(c);
            return AUTHD_REPLY_FAILED;
        }
        buf_set(c->user, buf_str(data));
        c->login_step = 1;
        buf_printf(reply, "CONT\t%lu\t" CHALLENGE_PASS "\n", c->id);
        return AUTHD_REPLY;
    }
    return finish(c, buf_str(c->user), buf_len(c->user), buf_str(data), buf_len(data),
                  reply, check, ctx, why);
}

/* decode - a base64 client message; -1 (and a FAIL) when malformed */
static int decode(AUTHD_CONN *c, const char *b64, BUF *data, BUF *reply, BUF *why)
{
    if (sasl_b64_decode(b64, strlen(b64), SASL_MAX_DECODED, data) == 0)
        return 0;
    buf_set(why, "malformed base64 data");
    reply_fail(reply, c->id, "reason=Invalid base64 data");
    request_done(c);
    return -1;
}

/* cmd_auth - AUTH id mech [params] */
static AUTHD_ACTION cmd_auth(AUTHD_CONN *c, char **f, int n, BUF *reply,
                             AUTHD_CHECK_FN check, void *ctx, BUF *why)
{
    const char *resp = NULL;
    unsigned long id;
    AUTHD_ACTION action = AUTHD_REPLY;
    BUF    *data;
    int     i;

    if (n < 3 || parse_id(f[1], &id) < 0) {
        buf_set(why, "malformed AUTH request");
        return AUTHD_CLOSE;
    }
    if (c->mech != AUTHD_M_NONE) {
        buf_set(why, "AUTH while another request is in progress");
        return AUTHD_CLOSE;
    }
    c->id = id;
    for (i = 3; i < n; i++) {
        if (strncmp(f[i], "resp=", 5) == 0)
            resp = f[i] + 5;
        else if (strncmp(f[i], "rip=", 4) == 0)
            snprintf(c->rip, sizeof(c->rip), "%s", f[i] + 4);
    }
    if (strcasecmp(f[2], "PLAIN") == 0) {
        c->mech = AUTHD_M_PLAIN;
    } else if (strcasecmp(f[2], "LOGIN") == 0) {
        c->mech = AUTHD_M_LOGIN;
        if (resp && *resp == 0)
            resp = NULL;                /* an empty initial response: ask for the name */
    } else {
        buf_set(why, "unsupported mechanism");
        reply_fail(reply, id, "reason=Unsupported authentication mechanism");
        return AUTHD_REPLY;
    }
    if (resp == NULL) {
        buf_printf(reply, "CONT\t%lu\t%s\n", id,
                   c->mech == AUTHD_M_LOGIN ? CHALLENGE_USER : "");
        return AUTHD_REPLY;
    }
    data = buf_alloc(64);
    if (decode(c, resp, data, reply, why) == 0)
        action = step(c, data, reply, check, ctx, why);
    else
        action = AUTHD_REPLY_FAILED;
    sasl_wipe(data);
    buf_free(data);
    return action;
}

/* cmd_cont - CONT id data, the answer to our challenge */
static AUTHD_ACTION cmd_cont(AUTHD_CONN *c, char **f, int n, BUF *reply,
                             AUTHD_CHECK_FN check, void *ctx, BUF *why)
{
    unsigned long id;
    AUTHD_ACTION action = AUTHD_REPLY_FAILED;
    BUF    *data;

    if (n != 3 || parse_id(f[1], &id) < 0 || c->mech == AUTHD_M_NONE || id != c->id) {
        buf_set(why, "CONT without a matching request");
        return AUTHD_CLOSE;
    }
    data = buf_alloc(64);
    if (decode(c, f[2], data, reply, why) == 0)
        action = step(c, data, reply, check, ctx, why);
    sasl_wipe(data);
    buf_free(data);
    return action;
}

/* authd_line - one client line (without its LF; changed in place). The
 * reply lines to send are appended to reply; why says what went wrong
 * for AUTHD_CLOSE and AUTHD_REPLY_FAILED. */
AUTHD_ACTION authd_line(AUTHD_CONN *c, char *line, BUF *reply, AUTHD_CHECK_FN check,
                        void *ctx, BUF *why)
{
    char   *f[AUTHD_FIELDS_MAX];
    int     n;

    buf_reset(why);
    if ((n = sasl_dv_split(line, f, AUTHD_FIELDS_MAX)) < 1) {
        buf_set(why, "malformed line (escape or field count)");
        return AUTHD_CLOSE;
    }
    switch (c->state) {
    case AUTHD_S_VERSION:
        if (strcmp(f[0], "VERSION") != 0 || n < 3 || strcmp(f[1], "1") != 0) {
            buf_set(why, "not a version 1 client (VERSION 1 x first)");
            return AUTHD_CLOSE;
        }
        c->state = AUTHD_S_CPID;
        return AUTHD_REPLY;
    case AUTHD_S_CPID:
        if (strcmp(f[0], "CPID") != 0 || n != 2 || *f[1] == 0
            || strspn(f[1], "0123456789") != strlen(f[1])) {
            buf_set(why, "CPID expected after VERSION");
            return AUTHD_CLOSE;
        }
        c->state = AUTHD_S_READY;
        return AUTHD_REPLY;
    default:
        if (strcmp(f[0], "AUTH") == 0)
            return cmd_auth(c, f, n, reply, check, ctx, why);
        if (strcmp(f[0], "CONT") == 0)
            return cmd_cont(c, f, n, reply, check, ctx, why);
        buf_set(why, "unknown command");
        return AUTHD_CLOSE;
    }
}
