/* fuzz_authd_proto - authd's side of Dovecot's auth protocol 1.1
 * (authd/authd_proto.c) on arbitrary client lines, with its invariants:
 * every reply line is one of CONT, OK or FAIL with the request's id and
 * ends in LF; OK only for alice with the right password; nothing is
 * answered after a CLOSE (the caller drops the connection there); the
 * reason given for the log never holds the password. Any break is a panic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authd.h"
#include "buf.h"
#include "msg.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_check - alice's password is "secret"; "temp" cannot be looked up */
static AUTHD_RESULT fuzz_check(const char *user, const char *password, void *ctx, BUF *why)
{
    (void) ctx;
    if (strlen(user) == 0 || strlen(user) > AUTHD_USER_MAX || *password == 0)
        msg_panic("fuzz_authd_proto: check called with a bad name or password");
    if (strcmp(user, "temp") == 0)
        return AUTHD_TEMP;
    buf_set(why, "checked");
    return strcmp(user, "alice") == 0 && strcmp(password, "secret") == 0 ? AUTHD_OK : AUTHD_FAIL;
}

/* fuzz_reply_ok - each line of reply: CONT|OK|FAIL TAB digits ..., LF-ended */
static void fuzz_reply_ok(const BUF *reply)
{
    const char *cp = buf_str(reply);
    const char *nl;

    while (*cp) {
        if ((nl = strchr(cp, '\n')) == NULL)
            msg_panic("fuzz_authd_proto: reply line without LF");
        if (strncmp(cp, "CONT\t", 5) != 0 && strncmp(cp, "OK\t", 3) != 0
            && strncmp(cp, "FAIL\t", 5) != 0)
            msg_panic("fuzz_authd_proto: unknown reply %.*s", (int) (nl - cp), cp);
        if (strncmp(cp, "OK\t", 3) == 0 && strstr(cp, "\tuser=alice\n") != nl - 11)
            msg_panic("fuzz_authd_proto: OK for someone else");
        cp = nl + 1;
    }
}

/* fuzz_reason_ok - the log reason holds no password. The client's own
 * user name is logged as "user=<NAME>: why" and may be anything, "secret"
 * too: only what follows the name field is judged (the reasons authd
 * writes there never contain ">: "). */
static void fuzz_reason_ok(const BUF *why)
{
    const char *text = buf_str(why);
    const char *rest = text;
    const char *cp;

    if (strncmp(text, "user=<", 6) == 0)
        for (cp = text; (cp = strstr(cp, ">: ")) != NULL; cp++)
            rest = cp + 3;
    if (strstr(rest, "secret") != NULL)
        msg_panic("fuzz_authd_proto: a password in the log reason");
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text = malloc(size + 1);
    BUF    *reply = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    AUTHD_CONN c;
    char   *line;
    char   *nl;

    memcpy(text, data, size);
    text[size] = 0;
    authd_conn_init(&c);
    for (line = text; line && line < text + size; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = 0;
        buf_reset(reply);
        if (strlen(line) > AUTHD_LINE_MAX)
            break;                      /* the daemon's reader refuses such a line */
        if (authd_line(&c, line, reply, fuzz_check, NULL, why) == AUTHD_CLOSE)
            break;
        fuzz_reply_ok(reply);
        fuzz_reason_ok(why);
    }
    authd_conn_free(&c);
    buf_free(reply);
    buf_free(why);
    free(text);
    return 0;
}
