/* smtp_service - the delivery protocol (mail_proto.h) on private/smtp,
 * private/relay and private/lmtp.
 *
 * For each request from qmgr (deliver_request.h, as every agent): open the
 * queue file read-only (qfile_open_ready) and hold a shared flock on it
 * while delivering, as local does (§10.9); read and verify its envelope
 * (qfile_read_envelope) for the content offsets and the encoding and
 * smtputf8 attributes; then try each destination of the nexthop in turn
 * (smtp_hop.c), one connection each (smtp_connect.c, smtp_proto.c),
 * until one decides every recipient. Whatever is still undecided when
 * the list is used up waits (deferred) with the last failure's reason.
 * Each recipient's result is logged in Postfix's shape (deliver_log.h):
 *     ID: to=<u@example>, relay=mx[192.0.2.1]:25, delay=1.2,
 *         delays=0.01/0/0/1.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as X)
 * and answered to qmgr. The queue file is never changed here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "deliver_log.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "qfile_read.h"
#include "smtp.h"

static int smtp_lmtp;                   /* this process speaks LMTP */
static const char *smtp_service_name = "smtp";  /* master.cf service (cache labels) */

void    smtp_set_lmtp(int lmtp)
{
    smtp_lmtp = lmtp;
}

void    smtp_rcpt_set(SMTP_MSG *m, int i, int stat, const char *dsn, const char *relay,
                      const char *reason)
{
    SMTP_RCPT *r = &m->rcpt[i];

    if (r->stat >= 0)
        return;
    /* soft_bounce: every permanent failure waits instead, as in Postfix. */
    if (stat == DELIVER_STAT_BOUNCE && config_bool(P_soft_bounce))
        stat = DELIVER_STAT_DEFER;
    r->stat = stat;
    snprintf(r->dsn, sizeof(r->dsn), "%s", dsn);
    r->dsn[0] = stat == DELIVER_STAT_OK ? '2' : stat == DELIVER_STAT_DEFER ? '4' : '5';
    buf_set(r->reason, reason);
    r->relay = xstrdup(relay);
}

void    smtp_rcpt_set_pending(SMTP_MSG *m, int stat, const char *dsn, const char *relay,
                              const char *reason)
{
    int     i;

    for (i = 0; i < m->req->nrcpt; i++)
        smtp_rcpt_set(m, i, stat, dsn, relay, reason);
}

/* smtp_queue_open - open and lock (deliver_request_open), read the
 * envelope (it verifies the whole file first); 0 or -1 with why */
static int smtp_queue_open(SMTP_MSG *m, QFILE_ENVELOPE *env, BUF *why)
{
    const char *v;
    int     fd;

    if ((fd = deliver_request_open(m->req, config_str(P_queue_directory), why)) < 0)
        return -1;
    if (qfile_read_envelope(fd, env, why) < 0) {
        close(fd);
        return -1;
    }
    m->qfd = fd;
    m->env = env;
    m->body_8bit = (v = qfile_envelope_attr(env, MAIL_ATTR_ENCODING)) != NULL
        && strcasecmp(v, "8bitmime") == 0;
    m->body_7bit = v != NULL && strcasecmp(v, "7bit") == 0;
    m->smtputf8 = (v = qfile_envelope_attr(env, MAIL_ATTR_SMTPUTF8)) != NULL && *v && *v != '0';
    return 0;
}

/* smtp_hop_numeric - an address, or a UNIX socket: nothing to look up */
static int smtp_hop_numeric(const SMTP_HOP *hop)
{
    unsigned char a[16];

    return hop->kind == SMTP_HOP_UNIX || inet_pton(AF_INET, hop->host, a) == 1
        || inet_pton(AF_INET6, hop->host, a) == 1;
}

/* smtp_deliver_cached - deliver on a session kept for this destination;
 * 1 when that decided every recipient */
static int smtp_deliver_cached(SMTP_MSG *m, const char *label, int store, char *relay,
                               size_t relaylen)
{
    SMTP_CONN conn;
    BUF    *why = buf_alloc(64);
    char    dsn[16];
    int     tries, done = 0;

    /* A few tries: several kept sessions may have gone stale together. */
    for (tries = 0; tries < 3 && !done && smtp_cache_find(label, &conn) == 0; tries++) {
        if (smtp_session(m, &conn, dsn, sizeof(dsn), why) == SMTP_SESSION_DONE) {
            done = 1;
            snprintf(relay, relaylen, "%s", conn.peer.relay);
        }
        smtp_cache_done(&conn, label, store && done);
    }
    buf_free(why);
    return done;
}

void    smtp_deliver(SMTP_MSG *m)
{
    SMTP_HOP hops[SMTP_HOPS_MAX], addrs[SMTP_HOPS_MAX];
    SMTP_PEER peer;
    SMTP_CONN conn;
    BUF    *why = buf_alloc(128), *label = buf_alloc(128);
    char    dsn[16] = "4.4.1", relay[sizeof(peer.relay)] = "none";
    int     n, nprimary, i, j, na, fd, rc, stat = DELIVER_STAT_DEFER, sessions, done = 0;
    int     store = smtp_cache_may_store(m);
    long    session_limit = config_int(P_smtp_mx_session_limit);
    int     port = m->lmtp ? 24 : (int) config_int(P_smtp_tcp_port);

    /* LMTP: the same policy from lmtp_tls_* (smtp_tls.c). */
    if (smtp_tls_policy(m, dsn, sizeof(dsn), why) < 0) {
        smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, dsn, "none", buf_str(why));
        done = 1;
    }
    smtp_cache_label(m, m->service, label);
    if (!done && smtp_cache_may_load(m))
        done = smtp_deliver_cached(m, buf_str(label), store, relay, sizeof(relay));
    n = done ? 0 : smtp_hop_list(m->req->nexthop, config_str(P_relayhost),
                                 config_str(P_smtp_fallback_relay), port, hops, why);
    if (n < 0) {
        msg_warn("%s: %s", m->req->queue_id, buf_str(why));
        smtp_rcpt_set_pending(m, DELIVER_STAT_DEFER, "4.3.5", "none", buf_str(why));
    }
    /* The next hop's own destinations come first; the rest are fallbacks. */
    nprimary = n > 0 ? smtp_hop_list(m->req->nexthop, "", "", port, addrs, why) : 0;
    for (i = 0; i < n && !done; i++) {
        if (smtp_hop_numeric(&hops[i])) {
            addrs[0] = hops[i];
            na = 1;
        } else if ((na = smtp_dns_hop(&hops[i], addrs, SMTP_HOPS_MAX, &stat, dsn, sizeof(dsn),
                                      why)) < 0) {
            snprintf(relay, sizeof(relay), "none");
            continue;
        }
        /* A refused or dead host: the next address, the next MX. */
        for (j = 0, sessions = 0; j < na && !done; j++) {
            if (!hops[i].literal && session_limit > 0 && sessions >= session_limit)
                break;
            stat = DELIVER_STAT_DEFER;
            fd = smtp_connect(&addrs[j], (int) config_time(P_smtp_connect_timeout), &peer, dsn,
                              sizeof(dsn), why);
            if (fd < 0) {
                snprintf(relay, sizeof(relay), "none");
                continue;
            }
            sessions++;
            smtp_conn_open(&conn, fd, &peer);
            rc = smtp_session(m, &conn, dsn, sizeof(dsn), why);
            if (rc == SMTP_SESSION_DONE)
                done = 1;
            smtp_cache_done(&conn, buf_str(label), store && i < nprimary);
            snprintf(relay, sizeof(relay), "%s", peer.relay);
            /* may: a failed handshake is tried again in plaintext, once. */
            if (rc == SMTP_SESSION_PLAIN && !m->tls_plain) {
                msg_info("%s: %s: %s; trying again without TLS", m->req->queue_id, peer.relay,
                         buf_str(why));
                m->tls_plain = 1;
                sessions--;
                j--;
                continue;
            }
            m->tls_plain = 0;
        }
    }
    /* Every destination failed before MAIL: the last failure decides
     * (a DNS answer that says no bounces, anything else waits). A wait
     * with no recipient decided is the destination's failure, not this
     * message's: qmgr counts it (mail_proto.h, DELIVER_DONE_SITE_FAIL). */
    for (i = 0, j = 0; i < m->req->nrcpt; i++)
        j += m->rcpt[i].stat >= 0;
    m->site_fail = !done && n >= 0 && stat == DELIVER_STAT_DEFER && j == 0;
    smtp_rcpt_set_pending(m, stat, dsn, relay, buf_str(why));
    buf_free(why);
    buf_free(label);
}

/* smtp_request - deliver one request and answer it; -1 when the client is gone */
static int smtp_request(STREAM *client, DELIVER_REQUEST *req)
{
    SMTP_MSG m;
    QFILE_ENVELOPE env;
    BUF    *why = buf_alloc(100);
    int     i, ret = 0;

    memset(&m, 0, sizeof(m));
    memset(&env, 0, sizeof(env));
    m.req = req;
    m.qfd = -1;
    m.lmtp = smtp_lmtp;
    m.service = smtp_service_name;
    m.rcpt = xcalloc((size_t) req->nrcpt, sizeof(*m.rcpt));
    for (i = 0; i < req->nrcpt; i++) {
        m.rcpt[i].stat = -1;
        m.rcpt[i].reason = buf_alloc(64);
    }
    if (smtp_queue_open(&m, &env, why) < 0) {
        msg_warn("%s: %s", req->queue_id, buf_str(why));
        buf_sprintf(why, "cannot read queue file: %s", buf_str(why));
        smtp_rcpt_set_pending(&m, DELIVER_STAT_DEFER, "4.3.0", "none", buf_str(why));
    } else {
        smtp_deliver(&m);
    }
    for (i = 0; i < req->nrcpt; i++) {
        SMTP_RCPT *r = &m.rcpt[i];
        DELIVER_LOG ev = {.queue_id = req->queue_id, .to = req->rcpt[i].address,
            .orig_to = req->rcpt[i].orig_addr, .relay = r->relay, .arrival = {req->arrival, 0},
            .handoff = req->start, .dsn = r->dsn, .status = deliver_log_status(r->stat),
        .reason = buf_str(r->reason)};

        deliver_log(&ev);
        if (ret == 0 && deliver_reply_rcpt(client, &req->rcpt[i], r->stat, r->dsn,
                                           buf_str(r->reason)) < 0)
            ret = -1;
    }
    /* Release the shared lock before saying "done" (qmgr locks next). */
    if (m.qfd >= 0) {
        close(m.qfd);
        qfile_envelope_free(&env);
    }
    if (ret == 0 && deliver_reply_done(client, m.site_fail ? DELIVER_DONE_SITE_FAIL
                                       : DELIVER_DONE_OK) < 0)
        ret = -1;
    if (ret < 0)
        msg_warn("%s: reply to qmgr: %s", req->queue_id, attr_last_error());
    for (i = 0; i < req->nrcpt; i++) {
        buf_free(m.rcpt[i].reason);
        xfree(m.rcpt[i].relay);
    }
    xfree(m.rcpt);
    buf_free(why);
    return ret;
}

void    smtp_service(STREAM *client, const SERVER_CTX *ctx)
{
    if (strcmp(ctx->service, "lmtp") == 0)
        smtp_lmtp = 1;
    smtp_service_name = ctx->service;
    deliver_request_serve(client, smtp_request);
}
