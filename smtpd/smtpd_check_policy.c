/* smtpd_check_policy - check_policy_service: Postfix's policy delegation
 * protocol (SMTPD_POLICY_README), for postgrey, policyd-spf and friends.
 *
 * check_policy_service ENDPOINT, or Postfix's per-service form
 * check_policy_service { ENDPOINT, timeout=10s, default_action=DUNNO,
 * max_idle=, max_ttl=, request_limit=, try_limit=, retry_delay=,
 * policy_context= } over main.cf's values; ENDPOINT is unix:private/policy
 * (relative to the queue, where the daemons run), unix:/abs/path or a
 * bare /abs/path, or inet:host:port. smtpd writes one request, lines of
 * name=value ended by an empty line, with every attribute Postfix sends
 * (request=smtpd_access_policy, protocol_state, ..., mail_version), and
 * reads the reply: name=value lines ended by an empty line, of which
 * action=... counts. The action is judged exactly as an access(5) table
 * value (smtpd_check_table_result: OK, DUNNO, REJECT text, DEFER text,
 * DEFER_IF_PERMIT, DEFER_IF_REJECT, 4xx/5xx text, WARN, INFO, restriction
 * lists ...).
 *
 * Connections are kept per smtpd process, one per endpoint, and reused
 * across sessions: closed when idle for smtpd_policy_service_max_idle
 * (300s), older than smtpd_policy_service_max_ttl (1000s), after
 * smtpd_policy_service_request_limit requests (0: none), or when the
 * server has closed its end. Each request (write and whole reply) must
 * finish within smtpd_policy_service_timeout (100s); a failed request is
 * tried again on a new connection after smtpd_policy_service_retry_delay
 * (1s), smtpd_policy_service_try_limit (2) times in all; then the answer
 * is smtpd_policy_service_default_action (451 4.3.5 Server configuration
 * problem), judged as any action, and the failure is logged.
 *
 * SECURITY: the server is trusted as much as an access table (its action
 * decides), but its reply is bounded: lines of at most POLICY_LINE_MAX
 * bytes, at most POLICY_ATTR_MAX attributes. Values sent are made safe
 * for the line protocol (no newline can reach the server from a client).
 */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "msg.h"
#include "sock_connect.h"
#include "str_split.h"
#include "stream.h"
#include "smtpd_check_int.h"

#define POLICY_CONN_MAX     8       /* endpoints with a kept connection */
#define POLICY_LINE_MAX     4096    /* one reply line */
#define POLICY_ATTR_MAX     100     /* attributes in one reply */

/* One kept connection. */
typedef struct POLICY_CONN {
    char   *endpoint;
    STREAM *stream;                 /* NULL: not connected */
    time_t  opened;                 /* for max_ttl */
    time_t  last_used;              /* for max_idle */
    long    requests;               /* for request_limit */
} POLICY_CONN;

static POLICY_CONN conns[POLICY_CONN_MAX];

/* The settings of one check_policy_service: main.cf's, or Postfix's
 * per-service form { endpoint, timeout=10s, default_action=DUNNO, ... }. */
typedef struct POLICY_SET {
    const char *endpoint;
    long    timeout;
    long    max_idle;
    long    max_ttl;
    long    request_limit;
    long    try_limit;
    long    retry_delay;
    const char *default_action;
    const char *context;            /* policy_context */
} POLICY_SET;

/* policy_option - one name=value of the per-service form; 0, or -1 */
static int policy_option(POLICY_SET *set, const char *opt)
{
    static const struct {
        const char *name;
        size_t  offset;
        long    min;
    } times[] = {
        {"timeout", offsetof(POLICY_SET, timeout), 1},
        {"max_idle", offsetof(POLICY_SET, max_idle), 1},
        {"max_ttl", offsetof(POLICY_SET, max_ttl), 1},
        {"retry_delay", offsetof(POLICY_SET, retry_delay), 0},
    };
    const char *eq = strchr(opt, '=');
    size_t  len = eq ? (size_t) (eq - opt) : 0;
    const char *val = eq ? eq + 1 + strspn(eq + 1, " \t") : NULL;
    char   *end;
    size_t  i;
    long    n;

    while (len > 0 && (opt[len - 1] == ' ' || opt[len - 1] == '\t'))
        len--;
    if (eq == NULL || len == 0)
        return -1;
    for (i = 0; i < sizeof(times) / sizeof(times[0]); i++)
        if (strlen(times[i].name) == len && strncmp(opt, times[i].name, len) == 0) {
            if (config_parse_time(val, 's', &n) < 0 || n < times[i].min)
                return -1;
            *(long *) ((char *) set + times[i].offset) = n;
            return 0;
        }
    if ((len == 13 && strncmp(opt, "request_limit", 13) == 0)
        || (len == 9 && strncmp(opt, "try_limit", 9) == 0)) {
        n = strtol(val, &end, 10);
        if (end == val || *end || n < (len == 9 ? 1 : 0))
            return -1;
        *(len == 9 ? &set->try_limit : &set->request_limit) = n;
        return 0;
    }
    if (len == 14 && strncmp(opt, "default_action", 14) == 0 && *val) {
        set->default_action = val;
        return 0;
    }
    if (len == 14 && strncmp(opt, "policy_context", 14) == 0) {
        set->context = val;
        return 0;
    }
    return -1;
}

/* policy_settings - main.cf's settings with arg's options over them
 * (items holds the split arg; freed by the caller); 0, or -1 */
static int policy_settings(const char *arg, char ***items, POLICY_SET *set)
{
    int     count, i;

    set->timeout = config_time(P_smtpd_policy_service_timeout);
    set->max_idle = config_time(P_smtpd_policy_service_max_idle);
    set->max_ttl = config_time(P_smtpd_policy_service_max_ttl);
    set->request_limit = config_int(P_smtpd_policy_service_request_limit);
    set->try_limit = config_int(P_smtpd_policy_service_try_limit);
    set->retry_delay = config_time(P_smtpd_policy_service_retry_delay);
    set->default_action = config_str(P_smtpd_policy_service_default_action);
    set->context = config_str(P_smtpd_policy_service_policy_context);
    *items = str_split_list(arg, &count);
    if (count == 0)
        return -1;
    set->endpoint = (*items)[0];
    for (i = 1; i < count; i++)
        if (policy_option(set, (*items)[i]) < 0) {
            msg_warn("check_policy_service %s: bad option \"%s\"", set->endpoint,
                     (*items)[i]);
            return -1;
        }
    return 0;
}

/* policy_close - close a kept connection */
static void policy_close(POLICY_CONN *c)
{
    if (c->stream) {
        stream_close(c->stream);
        c->stream = NULL;
    }
}

/* policy_conn_find - the slot of an endpoint (the oldest is reused) */
static POLICY_CONN *policy_conn_find(const char *endpoint)
{
    POLICY_CONN *free_slot = NULL;
    int     i;

    for (i = 0; i < POLICY_CONN_MAX; i++) {
        if (conns[i].endpoint && strcmp(conns[i].endpoint, endpoint) == 0)
            return &conns[i];
        if (conns[i].endpoint == NULL && free_slot == NULL)
            free_slot = &conns[i];
    }
    if (free_slot == NULL) {
        free_slot = &conns[0];
        policy_close(free_slot);
        xfree(free_slot->endpoint);
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->endpoint = xstrdup(endpoint);
    return free_slot;
}

/* policy_stale - a kept connection that must not be used again */
static int policy_stale(const POLICY_CONN *c, const POLICY_SET *set, time_t now)
{
    struct pollfd pfd = {.fd = stream_fd(c->stream), .events = POLLIN};

    if (now - c->last_used >= set->max_idle || now - c->opened >= set->max_ttl
        || (set->request_limit > 0 && c->requests >= set->request_limit))
        return 1;
    /* Readable while no request is out: the server closed (or babbles). */
    return poll(&pfd, 1, 0) != 0 || stream_buffered(c->stream) > 0;
}

/* policy_open - a usable connection; NULL with why */
static POLICY_CONN *policy_open(const POLICY_SET *set, BUF *why)
{
    POLICY_CONN *c = policy_conn_find(set->endpoint);
    time_t  now = time(NULL);
    int     fd;

    if (c->stream && policy_stale(c, set, now))
        policy_close(c);
    if (c->stream)
        return c;
    if ((fd = sock_connect(set->endpoint, (int) set->timeout, why)) < 0)
        return NULL;
    c->stream = stream_fdopen(fd);
    c->opened = now;
    c->requests = 0;
    return c;
}

/* policy_attr - one name=value line; the value kept to one line */
static void policy_attr(BUF *req, const char *name, const char *value)
{
    const char *cp;

    buf_printf(req, "%s=", name);
    for (cp = value ? value : ""; *cp; cp++)
        buf_putc(req, (*cp == '\n' || *cp == '\r') ? ' ' : *cp);
    buf_putc(req, '\n');
}

/* policy_attr_num - one name=number line */
static void policy_attr_num(BUF *req, const char *name, long long value)
{
    buf_printf(req, "%s=%lld\n", name, value);
}

/* policy_request - the request, in Postfix's order */
static void policy_request(CHECK_STATE *st, const POLICY_SET *set, BUF *req)
{
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    const char *name = ctx->client_name ? ctx->client_name : "unknown";

    buf_reset(req);
    policy_attr(req, "request", "smtpd_access_policy");
    policy_attr(req, "protocol_state", st->where);
    policy_attr(req, "protocol_name", ctx->protocol_name ? ctx->protocol_name : "SMTP");
    policy_attr(req, "helo_name", ctx->helo);
    policy_attr(req, "queue_id", ctx->queue_id);
    policy_attr(req, "sender", ctx->sender);
    policy_attr(req, "recipient", st->rcpt);
    policy_attr_num(req, "recipient_count", ctx->rcpt_count);
    policy_attr(req, "client_address", ctx->client_addr);
    policy_attr(req, "client_name", name);
    policy_attr(req, "reverse_client_name", ctx->reverse_name ? ctx->reverse_name : name);
    policy_attr(req, "instance", ctx->instance);
    policy_attr(req, "sasl_method", ctx->sasl_username ? ctx->sasl_method : "");
    policy_attr(req, "sasl_username", ctx->sasl_username);
    policy_attr(req, "sasl_sender", "");
    policy_attr_num(req, "size", ctx->size);
    policy_attr(req, "ccert_subject", "");
    policy_attr(req, "ccert_issuer", "");
    policy_attr(req, "ccert_fingerprint", "");
    policy_attr(req, "ccert_pubkey_fingerprint", "");
    policy_attr(req, "encryption_protocol", ctx->tls_protocol);
    policy_attr(req, "encryption_cipher", ctx->tls_cipher);
    policy_attr_num(req, "encryption_keysize", ctx->tls_bits);
    policy_attr(req, "etype", "");
    policy_attr(req, "stress", ctx->stress ? "yes" : "");
    policy_attr(req, "client_port", ctx->client_port);
    policy_attr(req, "policy_context", set->context);
    policy_attr(req, "server_address", ctx->server_addr);
    policy_attr(req, "server_port", ctx->server_port);
    policy_attr(req, "compatibility_level", config_str(P_compatibility_level));
    policy_attr(req, "mail_version", config_str(P_mail_version));
    buf_putc(req, '\n');
}

/* policy_reply - read the reply; 0 with the action, -1 with why */
static int policy_reply(STREAM *s, BUF *action, BUF *why)
{
    BUF    *line = buf_alloc(128);
    int     count = 0, rc, result = -1, have_action = 0;

    for (;;) {
        rc = stream_get_line(s, line, POLICY_LINE_MAX);
        if (rc == STREAM_EOF || rc == STREAM_LINE_LAST) {
            buf_sprintf(why, "server closed the connection");
            break;
        }
        if (rc == STREAM_ERROR) {
            buf_sprintf(why, stream_timed_out(s) ? "timeout" : "read error");
            break;
        }
        if (rc == STREAM_LINE_PARTIAL) {
            buf_sprintf(why, "reply line longer than %d bytes", POLICY_LINE_MAX);
            break;
        }
        buf_trim_right(line);
        if (buf_len(line) == 0) {
            if (have_action)
                result = 0;
            else
                buf_sprintf(why, "reply without action= attribute");
            break;
        }
        if (++count > POLICY_ATTR_MAX) {
            buf_sprintf(why, "more than %d attributes in the reply", POLICY_ATTR_MAX);
            break;
        }
        if (strncasecmp(buf_str(line), "action=", 7) == 0) {
            buf_set(action, buf_str(line) + 7);
            have_action = 1;
        } else if (strchr(buf_str(line), '=') == NULL) {
            buf_sprintf(why, "malformed reply line");
            break;
        }
    }
    buf_free(line);
    return result;
}

/* policy_try - one request on one connection; 0 with the action, -1 */
static int policy_try(const POLICY_SET *set, const BUF *req, BUF *action, BUF *why)
{
    int     timeout = (int) set->timeout;
    POLICY_CONN *c;

    if ((c = policy_open(set, why)) == NULL)
        return -1;
    stream_set_timeout(c->stream, timeout);
    stream_set_deadline(c->stream, (long long) timeout * 1000);
    c->requests++;
    c->last_used = time(NULL);
    if (stream_write(c->stream, buf_str(req), buf_len(req)) < 0
        || stream_flush(c->stream) < 0) {
        buf_sprintf(why, stream_timed_out(c->stream) ? "timeout" : "write error");
        policy_close(c);
        return -1;
    }
    if (policy_reply(c->stream, action, why) < 0) {
        policy_close(c);
        return -1;
    }
    c->last_used = time(NULL);
    stream_set_deadline(c->stream, 0);
    return 0;
}

/* smtpd_check_policy - check_policy_service ENDPOINT, or its per-service
 * form { ENDPOINT, name=value, ... } (str_split hands us the inside) */
int     smtpd_check_policy(CHECK_STATE *st, const char *arg, const char *reply_name,
                           const char *reply_class)
{
    POLICY_SET set;
    char  **items;
    BUF    *req, *action, *why;
    int     ok = -1, n, status;

    if (policy_settings(arg, &items, &set) < 0) {
        str_split_free(items);
        return smtpd_check_reject(st, 451, "4.3.5", "Server configuration error");
    }
    req = buf_alloc(512);
    action = buf_alloc(128);
    why = buf_alloc(100);
    policy_request(st, &set, req);
    for (n = 0; n < set.try_limit && ok < 0; n++) {
        if (n > 0 && set.retry_delay > 0)
            sleep((unsigned) set.retry_delay);
        ok = policy_try(&set, req, action, why);
    }
    if (ok < 0) {
        msg_warn("problem talking to server %s: %s", set.endpoint, buf_str(why));
        buf_set(action, set.default_action);
    }
    status = smtpd_check_table_result(st, set.endpoint, buf_str(action), reply_name,
                                      reply_class);
    str_split_free(items);
    buf_free(req);
    buf_free(action);
    buf_free(why);
    return status;
}

/* smtpd_check_policy_free - close every kept connection */
void    smtpd_check_policy_free(void)
{
    int     i;

    for (i = 0; i < POLICY_CONN_MAX; i++) {
        policy_close(&conns[i]);
        xfree(conns[i].endpoint);
        conns[i].endpoint = NULL;
    }
}
