/*
 * NAME
 *      anvil - connection count and rate server
 * SYNOPSIS
 *      anvil (started by master; master.cf: anvil unix - - n - 1 anvil)
 * DESCRIPTION
 *      Keeps, in memory, per client ident ("service:address"): the number
 *      of simultaneous connections, and the number of connections,
 *      messages (MAIL), recipients (RCPT), new TLS sessions and AUTH
 *      attempts in the current anvil_rate_time_unit window. smtpd asks it
 *      at each event and compares the answer with its limits
 *      (smtpd_client_*_limit); anvil itself refuses nothing. The protocol
 *      is Postfix's anvil(8) protocol over surel's attribute lists
 *      (mail_proto.h). One process (maxproc 1) serves every client from
 *      the event loop; it is a multi_server that ignores max_use and
 *      max_idle, so the counts live as long as the process.
 *
 *      A client process that closes its connection, or dies, has the
 *      connections it registered disconnected: a killed smtpd never
 *      leaves a connection counted. When anvil itself dies its counts
 *      are gone; the master starts a new one on the next request, and
 *      the connections already open are not counted until they end
 *      (Postfix behaves the same; the limits are a safeguard).
 *
 *      A rate window starts with the first event of an ident and lasts
 *      anvil_rate_time_unit; the next event after it starts a new window
 *      with every rate at 1 or 0 (Postfix's fixed-window count). An ident
 *      without connections whose window is over is forgotten (a sweep
 *      every anvil_rate_time_unit). The table holds at most
 *      ANVIL_REMOTE_MAX idents; past that a new ident gets a FAIL status
 *      and smtpd goes on without limits for it.
 *
 *      A request is read whole once its first byte arrives, within 10 s
 *      (ANVIL_IPC_TIMEOUT): clients write each request in one piece, and
 *      only mail_owner's processes can reach private/anvil. A client that
 *      stalls mid-request holds anvil up to that long; smtpd then times
 *      out too and goes on without limits.
 * LOG
 *      Every anvil_status_update_time, when something was counted:
 *      "statistics: max connection rate N/Ts for (ident) at TIME",
 *      "statistics: max connection count N for (ident) at TIME",
 *      "statistics: max message rate ...", "max recipient rate ...",
 *      "statistics: max cache size N at TIME", as Postfix's anvil.
 * PARAMETERS
 *      anvil_rate_time_unit (60s), anvil_status_update_time (600s).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "buf.h"
#include "config.h"
#include "event.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "server.h"

#define ANVIL_BUCKETS       4096
#define ANVIL_REMOTE_MAX    100000  /* idents in memory at most */
#define ANVIL_CLIENT_MAX    1024    /* connections one client may register */

/* The kinds of event with a rate. */
enum { R_CONN, R_MAIL, R_RCPT, R_NTLS, R_AUTH, R_COUNT };

typedef struct ANVIL_REMOTE {
    char   *ident;
    int     count;                  /* simultaneous connections */
    int     rate[R_COUNT];          /* events in the current window */
    long long start_ms;             /* the window began */
    struct ANVIL_REMOTE *next;      /* hash chain */
} ANVIL_REMOTE;

typedef struct ANVIL_CLIENT {
    STREAM *stream;
    ANVIL_REMOTE **conn;            /* one entry per registered connection */
    int     nconn;
    int     cap;
} ANVIL_CLIENT;

/* The maxima since the last statistics line. */
typedef struct ANVIL_MAX {
    int     value;
    char    ident[128];
    time_t  when;
} ANVIL_MAX;

static ANVIL_REMOTE *anvil_table[ANVIL_BUCKETS];
static long anvil_nremote;
static long long anvil_unit_ms;
static ANVIL_MAX anvil_max_count;
static ANVIL_MAX anvil_max_rate[R_COUNT];
static long anvil_max_cache;
static time_t anvil_max_cache_when;

/* anvil_hash - FNV-1a of the ident */
static unsigned anvil_hash(const char *s)
{
    unsigned h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 16777619u;
    return h % ANVIL_BUCKETS;
}

/* anvil_lookup - the entry of ident; create it when asked (NULL: table full) */
static ANVIL_REMOTE *anvil_lookup(const char *ident, int create)
{
    unsigned h = anvil_hash(ident);
    ANVIL_REMOTE *r;

    for (r = anvil_table[h]; r; r = r->next)
        if (strcmp(r->ident, ident) == 0)
            return r;
    if (!create || anvil_nremote >= ANVIL_REMOTE_MAX)
        return NULL;
    r = xcalloc(1, sizeof(*r));
    r->ident = xstrdup(ident);
    r->start_ms = event_now_ms();
    r->next = anvil_table[h];
    anvil_table[h] = r;
    if (++anvil_nremote > anvil_max_cache) {
        anvil_max_cache = anvil_nremote;
        anvil_max_cache_when = time(NULL);
    }
    return r;
}

/* anvil_window - start a new rate window when the current one is over */
static void anvil_window(ANVIL_REMOTE *r)
{
    long long now = event_now_ms();

    if (now - r->start_ms >= anvil_unit_ms) {
        r->start_ms = now;
        memset(r->rate, 0, sizeof(r->rate));
    }
}

/* anvil_note_max - remember a new maximum for the statistics line */
static void anvil_note_max(ANVIL_MAX *m, int value, const char *ident)
{
    if (value > m->value) {
        m->value = value;
        snprintf(m->ident, sizeof(m->ident), "%s", ident);
        m->when = time(NULL);
    }
}

/* anvil_event - one more event of a kind: the new rate */
static int anvil_event(ANVIL_REMOTE *r, int kind)
{
    anvil_window(r);
    if (r->rate[kind] < 0x7fffffff)
        r->rate[kind]++;
    anvil_note_max(&anvil_max_rate[kind], r->rate[kind], r->ident);
    return r->rate[kind];
}

/* anvil_sweep - forget idents without connections whose window is over */
static void anvil_sweep(int event, void *context)
{
    long long now = event_now_ms();
    ANVIL_REMOTE **rp;
    ANVIL_REMOTE *r;
    int     h;

    (void) event;
    for (h = 0; h < ANVIL_BUCKETS; h++) {
        for (rp = &anvil_table[h]; (r = *rp) != NULL;) {
            if (r->count == 0 && now - r->start_ms >= anvil_unit_ms) {
                *rp = r->next;
                xfree(r->ident);
                xfree(r);
                anvil_nremote--;
            } else {
                rp = &r->next;
            }
        }
    }
    event_request_timer(anvil_sweep, context, anvil_unit_ms);
}

/* anvil_stat_line - one "statistics: max ..." line, then reset */
static void anvil_stat_line(ANVIL_MAX *m, const char *what, int rate)
{
    char    when[64];

    if (m->value == 0)
        return;
    strftime(when, sizeof(when), "%b %e %H:%M:%S", localtime(&m->when));
    if (rate)
        msg_info("statistics: max %s %d/%llds for (%s) at %s", what, m->value,
                 anvil_unit_ms / 1000, m->ident, when);
    else
        msg_info("statistics: max %s %d for (%s) at %s", what, m->value, m->ident, when);
    memset(m, 0, sizeof(*m));
}

/* anvil_status - the periodic statistics (also at exit) */
static void anvil_status_log(void)
{
    char    when[64];

    anvil_stat_line(&anvil_max_rate[R_CONN], "connection rate", 1);
    anvil_stat_line(&anvil_max_count, "connection count", 0);
    anvil_stat_line(&anvil_max_rate[R_MAIL], "message rate", 1);
    anvil_stat_line(&anvil_max_rate[R_RCPT], "recipient rate", 1);
    anvil_stat_line(&anvil_max_rate[R_NTLS], "newtls rate", 1);
    anvil_stat_line(&anvil_max_rate[R_AUTH], "auth rate", 1);
    if (anvil_max_cache > 0) {
        strftime(when, sizeof(when), "%b %e %H:%M:%S", localtime(&anvil_max_cache_when));
        msg_info("statistics: max cache size %ld at %s", anvil_max_cache, when);
        anvil_max_cache = 0;
    }
}

static void anvil_status_event(int event, void *context)
{
    (void) event;
    anvil_status_log();
    event_request_timer(anvil_status_event, context,
                        config_time(P_anvil_status_update_time) * 1000L);
}

/* anvil_client_connect - register one connection of r for this client */
static int anvil_client_connect(ANVIL_CLIENT *cl, ANVIL_REMOTE *r)
{
    if (cl->nconn >= ANVIL_CLIENT_MAX)
        return -1;
    if (cl->nconn == cl->cap) {
        cl->cap = cl->cap ? cl->cap * 2 : 4;
        cl->conn = xrealloc(cl->conn, (size_t) cl->cap * sizeof(*cl->conn));
    }
    cl->conn[cl->nconn++] = r;
    r->count++;
    anvil_note_max(&anvil_max_count, r->count, r->ident);
    return 0;
}

/* anvil_client_disconnect - drop one registered connection of r; -1: none */
static int anvil_client_disconnect(ANVIL_CLIENT *cl, ANVIL_REMOTE *r)
{
    int     i;

    for (i = 0; i < cl->nconn; i++) {
        if (cl->conn[i] == r) {
            cl->conn[i] = cl->conn[--cl->nconn];
            if (r->count > 0)
                r->count--;
            return 0;
        }
    }
    return -1;
}

/* anvil_client_done - the client went away: its connections end with it */
static void anvil_client_done(ANVIL_CLIENT *cl)
{
    int     i;

    for (i = 0; i < cl->nconn; i++)
        if (cl->conn[i]->count > 0)
            cl->conn[i]->count--;
    xfree(cl->conn);
    multi_server_disconnect(cl->stream);
    xfree(cl);
}

/* anvil_rate_kind - the rate index of a rate request, -1 if none */
static int anvil_rate_kind(const char *request)
{
    if (strcmp(request, ANVIL_REQ_MESSAGE) == 0)
        return R_MAIL;
    if (strcmp(request, ANVIL_REQ_RECIPIENT) == 0)
        return R_RCPT;
    if (strcmp(request, ANVIL_REQ_NEWTLS) == 0)
        return R_NTLS;
    if (strcmp(request, ANVIL_REQ_AUTH) == 0)
        return R_AUTH;
    return -1;
}

/* anvil_request - answer one request; -1 when the reply cannot be sent */
static int anvil_request(ANVIL_CLIENT *cl, const char *request, const char *ident)
{
    STREAM *s = cl->stream;
    ANVIL_REMOTE *r;
    int     kind;
    int     rate;

    if (strcmp(request, ANVIL_REQ_CONNECT) == 0) {
        if ((r = anvil_lookup(ident, 1)) == NULL || anvil_client_connect(cl, r) < 0)
            return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_FAIL),
                             SEND_INT(ANVIL_ATTR_COUNT, 0), SEND_INT(ANVIL_ATTR_RATE, 0),
                             ATTR_END);
        rate = anvil_event(r, R_CONN);
        return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_OK),
                         SEND_INT(ANVIL_ATTR_COUNT, r->count), SEND_INT(ANVIL_ATTR_RATE, rate),
                         ATTR_END);
    }
    if (strcmp(request, ANVIL_REQ_DISCONNECT) == 0) {
        r = anvil_lookup(ident, 0);
        return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, r && anvil_client_disconnect(cl, r) == 0
                                     ? ANVIL_STAT_OK : ANVIL_STAT_FAIL), ATTR_END);
    }
    if ((kind = anvil_rate_kind(request)) >= 0) {
        if ((r = anvil_lookup(ident, 1)) == NULL)
            return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_FAIL),
                             SEND_INT(ANVIL_ATTR_RATE, 0), ATTR_END);
        rate = anvil_event(r, kind);
        return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_OK),
                         SEND_INT(ANVIL_ATTR_RATE, rate), ATTR_END);
    }
    if (strcmp(request, ANVIL_REQ_LOOKUP) == 0) {
        if ((r = anvil_lookup(ident, 0)) != NULL)
            anvil_window(r);
        return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_OK),
                         SEND_INT(ANVIL_ATTR_COUNT, r ? r->count : 0),
                         SEND_INT(ANVIL_ATTR_RATE, r ? r->rate[R_CONN] : 0),
                         SEND_INT(ANVIL_ATTR_MAIL, r ? r->rate[R_MAIL] : 0),
                         SEND_INT(ANVIL_ATTR_RCPT, r ? r->rate[R_RCPT] : 0),
                         SEND_INT(ANVIL_ATTR_NTLS, r ? r->rate[R_NTLS] : 0),
                         SEND_INT(ANVIL_ATTR_AUTH, r ? r->rate[R_AUTH] : 0), ATTR_END);
    }
    msg_warn("unknown anvil request \"%s\"", request);
    return attr_send(s, SEND_INT(MAIL_ATTR_STATUS, ANVIL_STAT_FAIL), ATTR_END);
}

/* anvil_client_read - requests are waiting; answer all that are buffered */
static void anvil_client_read(int event, void *context)
{
    ANVIL_CLIENT *cl = context;
    BUF    *request = buf_alloc(32);
    BUF    *ident = buf_alloc(128);
    int     ok;

    (void) event;
    do {
        ok = attr_recv(cl->stream, RECV_STR(MAIL_ATTR_REQ, request),
                       RECV_STR(ANVIL_ATTR_IDENT, ident), ATTR_END) == 0;
        if (!ok && !attr_last_eof())
            msg_warn("anvil: bad request: %s", attr_last_error());
        if (ok)
            ok = anvil_request(cl, buf_str(request), buf_str(ident)) == 0;
    } while (ok && stream_buffered(cl->stream) > 0);
    buf_free(request);
    buf_free(ident);
    if (!ok)
        anvil_client_done(cl);
}

/* anvil_service - a new client (multi_server routine) */
static void anvil_service(STREAM *client, const SERVER_CTX *ctx)
{
    ANVIL_CLIENT *cl = xcalloc(1, sizeof(*cl));

    (void) ctx;
    cl->stream = client;
    stream_set_timeout(client, ANVIL_IPC_TIMEOUT);
    event_enable_read(stream_fd(client), anvil_client_read, cl);
}

/* anvil_post_init - the timers */
static void anvil_post_init(const SERVER_CTX *ctx)
{
    (void) ctx;
    anvil_unit_ms = config_time(P_anvil_rate_time_unit) * 1000LL;
    event_request_timer(anvil_sweep, NULL, anvil_unit_ms);
    event_request_timer(anvil_status_event, NULL,
                        config_time(P_anvil_status_update_time) * 1000L);
}

/* anvil_pre_exit - the last statistics */
static void anvil_pre_exit(const SERVER_CTX *ctx)
{
    (void) ctx;
    anvil_status_log();
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .post_init = anvil_post_init,
        .pre_exit = anvil_pre_exit,
        .unlimited = 1,
        .confine = "anvil",
    };

    multi_server_main(argc, argv, anvil_service, &hooks);
}
