/* milter - the MTA side of the milter protocol: filters and their list.
 *
 * See milter.h for the interface and milter_pkt.c for the codec. This file
 * holds the per-filter state machine (Postfix's milter8.c):
 *
 *   closed --connect+OPTNEG--> ready --MAIL--> in a message --eom/ABORT--> ready
 *   any --I/O error, timeout, bad packet--> failed (closed; its
 *        default_action answers every later stage, as Postfix's
 *        MILTER8_STAT_ERROR does)
 *   ready --accept at connect/HELO--> done for the connection
 *   in a message --accept--> done for this message (back at ABORT)
 *
 * Replies are read until a final one (continue, accept, reject, tempfail,
 * replycode, discard, skip); progress only restarts the wait. Changes come
 * only at the end of the message and only those the filter negotiated.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "str_split.h"
#include "stream.h"

/* What this side offers: every step flag but RCPT_REJ (rejected
 * recipients are never sent) and no larger packets. */
#define MILTER_OFFER_PROTO  (SMFIP_ALL & ~SMFIP_RCPT_REJ)

/* Stages without macros of their own (beyond SMFIM_*). */
#define STAGE_HEADER    100
#define STAGE_BODY      101

#define M_CLOSED    0
#define M_READY     1
#define M_FAILED    2
#define M_DONE      3               /* accepted for the whole connection */

typedef struct MILTER {
    char   *name;                   /* as written in the list */
    char   *endpoint;               /* inet:host:port, unix:/path */
    MILTER_SETTINGS set;
    char   *macro_text[SMFIM_COUNT];    /* owned copies behind set.macros */
    STREAM *s;
    int     state;
    int     msg_done;               /* accepted for this message */
    int     in_msg;                 /* MAIL sent, no eom/ABORT yet */
    int     skip_body;              /* SMFIR_SKIP */
    uint32_t version;
    uint32_t actions;
    uint32_t pflags;
} MILTER;

struct MILTERS {
    MILTER **v;
    int     n;
    MILTER_MACRO_FN macro_fn;
    void   *macro_ctx;
    char   *queue_id;
    char   *quarantine;
    BUF    *out;                    /* packets being sent */
    BUF    *data;                   /* a packet's data being built or read */
    BUF    *body;                   /* body bytes not yet sent */
    int     body_first;             /* next SMFIR_REPLBODY begins a body */
    char  **mcopy;                  /* name, value, ... handed over by smtpd */
    int     nmcopy;                 /* entries in mcopy (2 per macro) */
    int     imported;               /* sessions are smtpd's: never QUIT them */
};

int     milter_default_action_parse(const char *text)
{
    if (strcasecmp(text, "tempfail") == 0)
        return (MILTER_DEF_TEMPFAIL);
    if (strcasecmp(text, "accept") == 0)
        return (MILTER_DEF_ACCEPT);
    if (strcasecmp(text, "reject") == 0)
        return (MILTER_DEF_REJECT);
    if (strcasecmp(text, "quarantine") == 0)
        return (MILTER_DEF_QUARANTINE);
    return (-1);
}

void    milter_settings_from_config(MILTER_SETTINGS *set)
{
    const char *def = config_str(P_milter_default_action);
    long    proto = strtol(config_str(P_milter_protocol), NULL, 10);

    set->connect_timeout = (int) config_time(P_milter_connect_timeout);
    set->command_timeout = (int) config_time(P_milter_command_timeout);
    set->content_timeout = (int) config_time(P_milter_content_timeout);
    if (proto < 2 || proto > 6) {
        msg_warn("milter_protocol = %s: not 2 to 6, using 6", config_str(P_milter_protocol));
        proto = 6;
    }
    set->protocol = (int) proto;
    set->default_action = milter_default_action_parse(def);
    if (set->default_action < 0) {
        msg_warn("milter_default_action = %s: unknown, using tempfail", def);
        set->default_action = MILTER_DEF_TEMPFAIL;
    }
    set->macros[SMFIM_CONNECT] = config_str(P_milter_connect_macros);
    set->macros[SMFIM_HELO] = config_str(P_milter_helo_macros);
    set->macros[SMFIM_ENVFROM] = config_str(P_milter_mail_macros);
    set->macros[SMFIM_ENVRCPT] = config_str(P_milter_rcpt_macros);
    set->macros[SMFIM_DATA] = config_str(P_milter_data_macros);
    set->macros[SMFIM_EOM] = config_str(P_milter_end_of_data_macros);
    set->macros[SMFIM_EOH] = config_str(P_milter_end_of_header_macros);
    set->macros[SMFIM_UNKNOWN] = config_str(P_milter_unknown_command_macros);
}

const char *milter_macro_common(const char *name)
{
    if (strcmp(name, "j") == 0 || strcmp(name, "{j}") == 0)
        return (config_str(P_myhostname));
    if (strcmp(name, "{daemon_name}") == 0)
        return (config_str(P_milter_macro_daemon_name));
    if (strcmp(name, "v") == 0 || strcmp(name, "{v}") == 0)
        return (config_str(P_milter_macro_v));
    return (NULL);
}

/* ---- Parsing the list. */

static int milter_time_value(const char *text, int *out)
{
    char   *end;
    long    v = strtol(text, &end, 10);

    if (end == text || v < 0 || v > 86400 * 7)
        return (-1);
    if (*end == 'm')
        v *= 60, end++;
    else if (*end == 'h')
        v *= 3600, end++;
    else if (*end == 's')
        end++;
    if (*end != '\0' || v > 86400 * 7)
        return (-1);
    *out = (int) v;
    return (0);
}

/* One "key=value" of a braced filter entry. */
static int milter_option(MILTER *m, const char *opt, BUF *why)
{
    const char *eq = strchr(opt, '=');
    char    key[32];
    const char *val;
    size_t  klen;

    if (eq == NULL || (klen = (size_t) (eq - opt)) == 0 || klen >= sizeof(key)) {
        buf_sprintf(why, "milter %s: bad option \"%s\"", m->endpoint, opt);
        return (-1);
    }
    memcpy(key, opt, klen);
    key[klen] = '\0';
    val = eq + 1;
    if (strcmp(key, "connect_timeout") == 0 && milter_time_value(val, &m->set.connect_timeout) == 0)
        return (0);
    if (strcmp(key, "command_timeout") == 0 && milter_time_value(val, &m->set.command_timeout) == 0)
        return (0);
    if (strcmp(key, "content_timeout") == 0 && milter_time_value(val, &m->set.content_timeout) == 0)
        return (0);
    if (strcmp(key, "default_action") == 0
        && (m->set.default_action = milter_default_action_parse(val)) >= 0)
        return (0);
    if (strcmp(key, "protocol") == 0 && val[0] >= '2' && val[0] <= '6' && val[1] == '\0') {
        m->set.protocol = val[0] - '0';
        return (0);
    }
    buf_sprintf(why, "milter %s: bad option \"%s\"", m->endpoint, opt);
    return (-1);
}

static void milter_free(MILTER *m)
{
    int     i;

    if (m->s)
        stream_close(m->s);
    for (i = 0; i < SMFIM_COUNT; i++)
        xfree(m->macro_text[i]);
    xfree(m->name);
    xfree(m->endpoint);
    xfree(m);
}

static MILTER *milter_create(const char *item, const MILTER_SETTINGS *set, BUF *why)
{
    MILTER *m = xcalloc(1, sizeof(*m));
    char  **parts;
    int     count, i;

    m->name = xstrdup(item);
    m->set = *set;
    for (i = 0; i < SMFIM_COUNT; i++) {
        m->macro_text[i] = xstrdup(set->macros[i] ? set->macros[i] : "");
        m->set.macros[i] = m->macro_text[i];
    }
    /* "{ endpoint, key=value ... }" came unbraced from str_split. */
    parts = str_split_list(item, &count);
    if (count == 0) {
        buf_sprintf(why, "empty milter entry");
        str_split_free(parts);
        milter_free(m);
        return (NULL);
    }
    m->endpoint = xstrdup(parts[0]);
    for (i = 1; i < count; i++) {
        if (milter_option(m, parts[i], why) < 0) {
            str_split_free(parts);
            milter_free(m);
            return (NULL);
        }
    }
    str_split_free(parts);
    if (strncmp(m->endpoint, "inet:", 5) != 0 && strncmp(m->endpoint, "unix:", 5) != 0
        && strncmp(m->endpoint, "local:", 6) != 0) {
        buf_sprintf(why, "milter %s: not inet:host:port or unix:/path", m->endpoint);
        milter_free(m);
        return (NULL);
    }
    return (m);
}

MILTERS *milters_create(const char *list, const MILTER_SETTINGS *set, BUF *why)
{
    MILTERS *ms = xcalloc(1, sizeof(*ms));
    BUF    *err = buf_alloc(64);        /* why may be NULL: errors land here */
    const char *cp = list;
    char   *item;

    while ((item = str_split_next(&cp, err)) != NULL) {
        MILTER *m = milter_create(item, set, err);

        xfree(item);
        if (m == NULL)
            break;
        ms->v = xreallocarray(ms->v, (size_t) ms->n + 1, sizeof(*ms->v));
        ms->v[ms->n++] = m;
    }
    if (buf_len(err) > 0) {                    /* a bad entry or an open '{' */
        if (why)
            buf_set(why, buf_str(err));
        buf_free(err);
        milters_free(ms);
        return (NULL);
    }
    buf_free(err);
    ms->out = buf_alloc(256);
    ms->data = buf_alloc(256);
    ms->body = buf_alloc(MILTER_CHUNK_MAX + 1024);
    return (ms);
}

int     milters_count(const MILTERS *ms)
{
    return (ms->n);
}

void    milters_set_macros(MILTERS *ms, MILTER_MACRO_FN fn, void *ctx)
{
    ms->macro_fn = fn;
    ms->macro_ctx = ctx;
}

void    milters_set_queue_id(MILTERS *ms, const char *queue_id)
{
    xfree(ms->queue_id);
    ms->queue_id = queue_id ? xstrdup(queue_id) : NULL;
}

const char *milters_quarantine(const MILTERS *ms)
{
    return (ms->quarantine);
}

/* ---- I/O. */

static const char *milter_qid(const MILTERS *ms)
{
    return (ms->queue_id ? ms->queue_id : "NOQUEUE");
}

/* Connect with a deadline: non-blocking connect, then poll. */
static int milter_sock_connect(const struct sockaddr *sa, socklen_t salen, int timeout)
{
    int     fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int     err = 0;
    socklen_t elen = sizeof(err);

    if (fd < 0)
        return (-1);
    if (connect(fd, sa, salen) < 0) {
        struct pollfd pfd = {.fd = fd,.events = POLLOUT};
        int     n;

        if (errno != EINPROGRESS) {
            err = errno;
            close(fd);
            errno = err;
            return (-1);
        }
        do {
            n = poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1);
        } while (n < 0 && errno == EINTR);
        if (n == 0) {
            close(fd);
            errno = ETIMEDOUT;
            return (-1);
        }
        if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
            if (err == 0)
                err = errno;
            close(fd);
            errno = err;
            return (-1);
        }
    }
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        err = errno;
        close(fd);
        errno = err;
        return (-1);
    }
    return (fd);
}

static int milter_open_unix(const char *path, int timeout)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return (-1);
    }
    strcpy(sun.sun_path, path);
    return (milter_sock_connect((struct sockaddr *) &sun, sizeof(sun), timeout));
}

/* inet:host:port, inet:[v6addr]:port. */
static int milter_open_inet(const char *spec, int timeout)
{
    char    host[256];
    const char *port, *colon;
    struct addrinfo hints, *res, *ai;
    int     fd = -1, err;
    size_t  hlen;

    if (spec[0] == '[') {
        const char *close_br = strchr(spec, ']');

        if (close_br == NULL || close_br[1] != ':')
            return (errno = EINVAL, -1);
        hlen = (size_t) (close_br - spec - 1);
        memcpy(host, spec + 1, hlen < sizeof(host) ? hlen : 0);
        port = close_br + 2;
    } else {
        if ((colon = strrchr(spec, ':')) == NULL)
            return (errno = EINVAL, -1);
        hlen = (size_t) (colon - spec);
        if (hlen < sizeof(host))
            memcpy(host, spec, hlen);
        port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host) || *port == '\0')
        return (errno = EINVAL, -1);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((err = getaddrinfo(host, port, &hints, &res)) != 0)
        return (errno = EHOSTUNREACH, -1);
    for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
        fd = milter_sock_connect(ai->ai_addr, ai->ai_addrlen, timeout);
    err = errno;
    freeaddrinfo(res);
    errno = err;
    return (fd);
}

static void milter_close(MILTER *m)
{
    if (m->s) {
        stream_close(m->s);
        m->s = NULL;
    }
}

/* The filter is lost for this connection: log, close, default action. */
static void milter_fail(MILTERS *ms, MILTER *m, const char *why)
{
    static const char *const names[] = {"tempfail", "accept", "reject", "quarantine"};

    msg_warn("%s: milter %s: %s; default_action=%s", milter_qid(ms), m->endpoint, why,
             names[m->set.default_action]);
    /* The socket may be shared (smtpd handed it to cleanup): shut it
     * down, so that the other process sees the failure too instead of
     * reading a late answer as the reply to its next command. */
    if (m->s)
        (void) shutdown(stream_fd(m->s), SHUT_RDWR);
    milter_close(m);
    m->state = M_FAILED;
}

/* The answer of a failed filter, for this and every later stage. */
static int milter_default_result(MILTERS *ms, MILTER *m, BUF *reply)
{
    switch (m->set.default_action) {
    case MILTER_DEF_ACCEPT:
        return (MILTER_CONTINUE);
    case MILTER_DEF_QUARANTINE:
        if (ms->quarantine == NULL) {
            BUF    *r = buf_alloc(64);

            buf_sprintf(r, "milter %s failed", m->endpoint);
            ms->quarantine = buf_steal(r);     /* frees r */
        }
        return (MILTER_CONTINUE);
    case MILTER_DEF_REJECT:
        buf_set(reply, "550 5.5.0 Service unavailable");
        return (MILTER_REJECT);
    default:
        buf_set(reply, "451 4.3.5 Server configuration problem - try again later");
        return (MILTER_REJECT);
    }
}

/* Write ms->out to the filter and empty it: 0, or -1. */
static int milter_flush(MILTERS *ms, MILTER *m, int timeout)
{
    int     ret;

    stream_set_timeout(m->s, timeout);
    ret = (stream_write(m->s, buf_str(ms->out), buf_len(ms->out)) < 0
           || stream_flush(m->s) < 0) ? -1 : 0;
    buf_reset(ms->out);
    return (ret);
}

/* Read one packet into ms->data: its command, or -1 (why set). */
static int milter_read(MILTERS *ms, MILTER *m, int timeout, const char **why)
{
    unsigned char head[5];
    int     cmd;
    size_t  len;

    stream_set_timeout(m->s, timeout);
    if (stream_read(m->s, head, 5) != 5) {
        *why = stream_timed_out(m->s) ? "timeout while reading a reply"
            : "lost connection while reading a reply";
        return (-1);
    }
    if (milter_pkt_head(head, &cmd, &len) < 0) {
        *why = "reply packet with a bad length";
        return (-1);
    }
    buf_reset(ms->data);
    buf_reserve(ms->data, len);
    if (len > 0 && stream_read(m->s, ms->data->data, len) != (ssize_t) len) {
        *why = stream_timed_out(m->s) ? "timeout while reading a reply"
            : "lost connection while reading a reply";
        return (-1);
    }
    ms->data->len = len;
    ms->data->data[len] = '\0';
    return (cmd);
}

/* SMFIC_OPTNEG both ways, and the filter's own macro lists. */
static int milter_negotiate(MILTERS *ms, MILTER *m, const char **why)
{
    MILTER_PKT p;
    uint32_t ver, act, proto, stage;
    const char *list;
    int     cmd;

    buf_reset(ms->data);
    milter_pkt_put_u32(ms->data, (uint32_t) m->set.protocol);
    milter_pkt_put_u32(ms->data, SMFIF_ALL);
    milter_pkt_put_u32(ms->data, MILTER_OFFER_PROTO);
    milter_pkt_put(ms->out, SMFIC_OPTNEG, buf_str(ms->data), buf_len(ms->data));
    if (milter_flush(ms, m, m->set.command_timeout) < 0)
        return (*why = "cannot send the negotiation", -1);
    if ((cmd = milter_read(ms, m, m->set.command_timeout, why)) < 0)
        return (-1);
    milter_pkt_init(&p, buf_str(ms->data), buf_len(ms->data));
    if (cmd != SMFIC_OPTNEG || milter_pkt_get_u32(&p, &ver) < 0
        || milter_pkt_get_u32(&p, &act) < 0 || milter_pkt_get_u32(&p, &proto) < 0)
        return (*why = "bad negotiation reply", -1);
    if (ver < 2)
        return (*why = "filter protocol version below 2", -1);
    m->version = ver < (uint32_t) m->set.protocol ? ver : (uint32_t) m->set.protocol;
    m->actions = act & SMFIF_ALL;
    /* Steps this side does not know are dropped; the filter then gets
     * them, which a filter that asked not to must tolerate (Postfix). */
    if (proto & ~MILTER_OFFER_PROTO & SMFIP_ALL)
        msg_warn("milter %s: asks for protocol steps 0x%lx that are not offered",
                 m->endpoint, (unsigned long) (proto & ~MILTER_OFFER_PROTO));
    m->pflags = proto & MILTER_OFFER_PROTO;
    if (m->version < 6)
        m->pflags &= ~(uint32_t) (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT
                                  | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_EOH
                                  | SMFIP_NR_BODY | SMFIP_NR_HDR);
    /* smfi_setsymlist: stage, names; replaces that stage's list. */
    while (milter_pkt_left(&p) > 0) {
        if (milter_pkt_get_u32(&p, &stage) < 0 || milter_pkt_get_str(&p, &list) < 0)
            return (*why = "bad macro list in the negotiation reply", -1);
        if (stage <= SMFIM_EOH && (m->actions & SMFIF_SETSYMLIST)) {
            xfree(m->macro_text[stage]);
            m->macro_text[stage] = xstrdup(list);
            m->set.macros[stage] = m->macro_text[stage];
        }
    }
    return (0);
}

static int milter_open(MILTERS *ms, MILTER *m)
{
    const char *ep = m->endpoint, *why = NULL;
    int     fd;

    if (strncmp(ep, "inet:", 5) == 0)
        fd = milter_open_inet(ep + 5, m->set.connect_timeout);
    else
        fd = milter_open_unix(strchr(ep, ':') + 1, m->set.connect_timeout);
    if (fd < 0) {
        BUF    *b = buf_alloc(64);

        buf_sprintf(b, "cannot connect: %s", strerror(errno));
        milter_fail(ms, m, buf_str(b));
        buf_free(b);
        return (-1);
    }
    m->s = stream_fdopen(fd);
    if (milter_negotiate(ms, m, &why) < 0) {
        milter_fail(ms, m, why);
        return (-1);
    }
    m->state = M_READY;
    if (msg_verbose)
        msg_debug("milter %s: version %lu actions 0x%lx protocol 0x%lx", m->endpoint,
                  (unsigned long) m->version, (unsigned long) m->actions,
                  (unsigned long) m->pflags);
    return (0);
}

/* SMFIC_MACRO for the stage, before its command: only known values.
 * Names are split on white space and commas only: "{daemon_name}" keeps
 * its braces (str_split would take them off), as the filter expects. */
static void milter_put_macros(MILTERS *ms, MILTER *m, int stage, int cmd)
{
    const char *cp = m->set.macros[stage];
    char    name[128];
    size_t  start, n;
    int     any = 0;

    if (ms->macro_fn == NULL || cp == NULL || *cp == '\0')
        return;
    buf_reset(ms->data);
    buf_putc(ms->data, cmd);
    start = buf_len(ms->data);
    for (;;) {
        const char *val;

        cp += strspn(cp, " \t\r\n,");
        if ((n = strcspn(cp, " \t\r\n,")) == 0)
            break;
        if (n < sizeof(name)) {
            memcpy(name, cp, n);
            name[n] = '\0';
            val = ms->macro_fn(ms->macro_ctx, name);
            if (val != NULL && buf_len(ms->data) - start < MILTER_PKT_MAX / 2) {
                milter_pkt_put_str(ms->data, name);
                milter_pkt_put_str(ms->data, val);
                any = 1;
            }
        }
        cp += n;
    }
    if (any)
        milter_pkt_put(ms->out, SMFIC_MACRO, buf_str(ms->data), buf_len(ms->data));
}

/* Apply one change at the end of the message: 0, 1 (not a change), -1. */
static int milter_edit(MILTERS *ms, MILTER *m, int cmd, const MILTER_EDITS *e,
                       const char **why)
{
    MILTER_PKT p;
    uint32_t idx = 0;
    const char *a = NULL, *b = NULL;
    int     need, r;

    switch (cmd) {
    case SMFIR_ADDHEADER: need = SMFIF_ADDHDRS; break;
    case SMFIR_INSHEADER: need = SMFIF_ADDHDRS; break;
    case SMFIR_CHGHEADER: need = SMFIF_CHGHDRS; break;
    case SMFIR_REPLBODY: need = SMFIF_CHGBODY; break;
    case SMFIR_ADDRCPT: need = SMFIF_ADDRCPT; break;
    case SMFIR_ADDRCPT_PAR: need = SMFIF_ADDRCPT_PAR; break;
    case SMFIR_DELRCPT: need = SMFIF_DELRCPT; break;
    case SMFIR_CHGFROM: need = SMFIF_CHGFROM; break;
    case SMFIR_QUARANTINE: need = SMFIF_QUARANTINE; break;
    default: return (1);
    }
    if (e == NULL)
        return (*why = "change request before the end of the message", -1);
    if ((m->actions & (uint32_t) need) == 0)
        return (*why = "change request that was not negotiated", -1);
    milter_pkt_init(&p, buf_str(ms->data), buf_len(ms->data));
    if (cmd == SMFIR_REPLBODY) {
        r = e->repl_body ? e->repl_body(e->ctx, ms->body_first, buf_str(ms->data),
                                        buf_len(ms->data)) : -1;
        ms->body_first = 0;
        return (r < 0 ? (*why = "cannot replace the body", -1) : 0);
    }
    if ((cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER) && milter_pkt_get_u32(&p, &idx) < 0)
        return (*why = "truncated header change", -1);
    if (milter_pkt_get_str(&p, &a) < 0)
        return (*why = "truncated change request", -1);
    if (cmd == SMFIR_ADDHEADER || cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER
        || cmd == SMFIR_ADDRCPT_PAR) {
        if (milter_pkt_get_str(&p, &b) < 0)
            return (*why = "truncated change request", -1);
    } else if (cmd == SMFIR_CHGFROM && milter_pkt_left(&p) > 0) {
        if (milter_pkt_get_str(&p, &b) < 0)
            return (*why = "truncated sender change", -1);
    }
    if (cmd == SMFIR_ADDHEADER || cmd == SMFIR_INSHEADER || cmd == SMFIR_CHGHEADER) {
        const char *cp;

        if (*a == '\0')
            return (*why = "header change without a name", -1);
        for (cp = a; *cp; cp++)
            if ((unsigned char) *cp <= ' ' || (unsigned char) *cp >= 0x7f || *cp == ':')
                return (*why = "header change with a bad name", -1);
    }
    switch (cmd) {
    case SMFIR_ADDHEADER:
        r = e->add_header ? e->add_header(e->ctx, a, b) : -1;
        break;
    case SMFIR_INSHEADER:
        r = e->ins_header ? e->ins_header(e->ctx, (long) idx, a, b) : -1;
        break;
    case SMFIR_CHGHEADER:
        r = e->chg_header ? e->chg_header(e->ctx, (long) idx, a, b) : -1;
        break;
    case SMFIR_ADDRCPT:
    case SMFIR_ADDRCPT_PAR:
        r = e->add_rcpt ? e->add_rcpt(e->ctx, a, b ? b : "") : -1;
        break;
    case SMFIR_DELRCPT:
        r = e->del_rcpt ? e->del_rcpt(e->ctx, a) : -1;
        break;
    case SMFIR_CHGFROM:
        r = e->chg_from ? e->chg_from(e->ctx, a, b ? b : "") : -1;
        break;
    default:                                   /* SMFIR_QUARANTINE */
        if (ms->quarantine == NULL)
            ms->quarantine = xstrdup(*a ? a : "milter quarantine");
        r = e->quarantine ? e->quarantine(e->ctx, a) : 0;
        break;
    }
    if (r < 0)
        return (*why = "the change could not be applied", -1);
    if (msg_verbose)
        msg_debug("%s: milter %s: %c change applied", milter_qid(ms), m->endpoint, cmd);
    return (0);
}

/* Read replies until a final one; the stage's result for this filter. */
static int milter_replies(MILTERS *ms, MILTER *m, int stage, int timeout,
                          const MILTER_EDITS *edits, BUF *reply)
{
    const char *why = NULL;
    time_t  start = time(NULL);
    int     cmd, r;

    for (;;) {
        if ((cmd = milter_read(ms, m, timeout, &why)) < 0)
            break;
        switch (cmd) {
        case SMFIR_PROGRESS:
            /* Each progress restarts the wait, but one answer never takes
             * longer than MILTER_PROGRESS_CAP timeouts: cleanup serves
             * other clients between filters' answers (doc/design.md). */
            if (time(NULL) - start > (time_t) MILTER_PROGRESS_CAP * timeout) {
                why = "still in progress after the time limit";
                break;
            }
            continue;
        case SMFIR_CONTINUE:
            return (MILTER_CONTINUE);
        case SMFIR_ACCEPT:
            if (stage == SMFIM_CONNECT || stage == SMFIM_HELO) {
                m->state = M_DONE;
                milter_close(m);
            } else {
                m->msg_done = 1;
            }
            return (MILTER_CONTINUE);
        case SMFIR_SKIP:
            if ((m->pflags & SMFIP_SKIP) == 0 || stage != STAGE_BODY) {
                why = "skip outside the body";
                break;
            }
            m->skip_body = 1;
            return (MILTER_CONTINUE);
        case SMFIR_REJECT:
            buf_set(reply, "550 5.7.1 Command rejected");
            return (MILTER_REJECT);
        case SMFIR_TEMPFAIL:
            buf_set(reply, "451 4.7.1 Service unavailable - try again later");
            return (MILTER_REJECT);
        case SMFIR_REPLYCODE:
            if (milter_reply_ok(buf_str(ms->data)) < 0) {
                why = "bad reply code text";
                break;
            }
            buf_set(reply, buf_str(ms->data));
            return (MILTER_REJECT);
        case SMFIR_DISCARD:
            if (stage == SMFIM_CONNECT || stage == SMFIM_HELO) {
                why = "discard before MAIL";
                break;
            }
            return (MILTER_DISCARD);
        case SMFIR_SHUTDOWN:
        case SMFIR_CONN_FAIL:
            why = "filter shuts the connection down";
            break;
        default:
            if ((r = milter_edit(ms, m, cmd, stage == SMFIM_EOM ? edits : NULL, &why)) == 0)
                continue;
            if (r > 0)
                why = "unexpected reply";
            break;
        }
        break;
    }
    milter_fail(ms, m, why);
    return (milter_default_result(ms, m, reply));
}

/* Steps and their flags. */
typedef struct MILTER_STEP {
    int     cmd;
    int     stage;                  /* SMFIM_*, for macros and accept */
    uint32_t no;                    /* SMFIP_NO* */
    uint32_t nr;                    /* SMFIP_NR_* */
    int     content;                /* content timeout */
} MILTER_STEP;

static const MILTER_STEP step_connect = {SMFIC_CONNECT, SMFIM_CONNECT, SMFIP_NOCONNECT, SMFIP_NR_CONN, 0};
static const MILTER_STEP step_helo = {SMFIC_HELO, SMFIM_HELO, SMFIP_NOHELO, SMFIP_NR_HELO, 0};
static const MILTER_STEP step_mail = {SMFIC_MAIL, SMFIM_ENVFROM, SMFIP_NOMAIL, SMFIP_NR_MAIL, 0};
static const MILTER_STEP step_rcpt = {SMFIC_RCPT, SMFIM_ENVRCPT, SMFIP_NORCPT, SMFIP_NR_RCPT, 0};
static const MILTER_STEP step_data = {SMFIC_DATA, SMFIM_DATA, SMFIP_NODATA, SMFIP_NR_DATA, 0};
static const MILTER_STEP step_unknown = {SMFIC_UNKNOWN, SMFIM_UNKNOWN, SMFIP_NOUNKNOWN, SMFIP_NR_UNKN, 0};
static const MILTER_STEP step_header = {SMFIC_HEADER, STAGE_HEADER, SMFIP_NOHDRS, SMFIP_NR_HDR, 1};
static const MILTER_STEP step_eoh = {SMFIC_EOH, SMFIM_EOH, SMFIP_NOEOH, SMFIP_NR_EOH, 1};
static const MILTER_STEP step_body = {SMFIC_BODY, STAGE_BODY, SMFIP_NOBODY, SMFIP_NR_BODY, 1};
static const MILTER_STEP step_eom = {SMFIC_BODYEOB, SMFIM_EOM, 0, 0, 1};

/* One step for one filter. data: the command's packet data. */
static int milter_step(MILTERS *ms, MILTER *m, const MILTER_STEP *st, const char *data,
                       size_t len, const MILTER_EDITS *edits, BUF *reply)
{
    int     timeout = st->content ? m->set.content_timeout : m->set.command_timeout;

    if (m->state == M_FAILED)
        return (milter_default_result(ms, m, reply));
    if (m->state != M_READY || (m->msg_done && st->stage != SMFIM_CONNECT
                                && st->stage != SMFIM_HELO))
        return (MILTER_CONTINUE);
    if (st->cmd == SMFIC_BODY && m->skip_body)
        return (MILTER_CONTINUE);
    if (st->cmd == SMFIC_MAIL)
        m->in_msg = 1;
    if (m->pflags & st->no)
        return (MILTER_CONTINUE);
    /* Protocol 2 filters know no DATA nor UNKNOWN. */
    if (m->version < 4 && (st->cmd == SMFIC_DATA || st->cmd == SMFIC_UNKNOWN))
        return (MILTER_CONTINUE);
    buf_reset(ms->out);
    if (st->stage < SMFIM_COUNT)
        milter_put_macros(ms, m, st->stage, st->cmd);
    milter_pkt_put(ms->out, st->cmd, data, len);
    if (milter_flush(ms, m, timeout) < 0) {
        milter_fail(ms, m, stream_timed_out(m->s) ? "timeout while sending a command"
                    : "lost connection while sending a command");
        return (milter_default_result(ms, m, reply));
    }
    if (m->pflags & st->nr)
        return (MILTER_CONTINUE);
    return (milter_replies(ms, m, st->stage, timeout, edits, reply));
}

/* A step for every filter in order; the first reject or discard wins. */
static int milters_step(MILTERS *ms, const MILTER_STEP *st, const char *data, size_t len,
                        const MILTER_EDITS *edits, BUF *reply)
{
    int     i, r;

    for (i = 0; i < ms->n; i++) {
        /* milter_step reuses ms->data: send from a copy. */
        char   *copy = len ? xmemdup(data, len) : NULL;

        r = milter_step(ms, ms->v[i], st, copy, len, edits, reply);
        xfree(copy);
        if (r != MILTER_CONTINUE)
            return (r);
    }
    return (MILTER_CONTINUE);
}

int     milters_connect(MILTERS *ms, const char *host, int family, const char *addr,
                        unsigned port, BUF *reply)
{
    BUF    *d = buf_alloc(128);
    int     i, r;

    for (i = 0; i < ms->n; i++)
        if (ms->v[i]->state == M_CLOSED)
            (void) milter_open(ms, ms->v[i]);
    milter_pkt_put_str(d, host);
    buf_putc(d, family);
    if (family != 'L') {
        milter_pkt_put_u16(d, (uint16_t) port);
        milter_pkt_put_str(d, addr ? addr : "");
    }
    r = milters_step(ms, &step_connect, buf_str(d), buf_len(d), NULL, reply);
    buf_free(d);
    return (r);
}

int     milters_helo(MILTERS *ms, const char *helo, BUF *reply)
{
    return (milters_step(ms, &step_helo, helo, strlen(helo) + 1, NULL, reply));
}

static int milters_addr_step(MILTERS *ms, const MILTER_STEP *st, const char *addr,
                             const char *const *args, BUF *reply)
{
    BUF    *d = buf_alloc(128);
    int     r;

    buf_putc(d, '<');
    buf_puts(d, addr);
    buf_putc(d, '>');
    buf_putc(d, '\0');
    for (; args && *args; args++)
        milter_pkt_put_str(d, *args);
    r = milters_step(ms, st, buf_str(d), buf_len(d), NULL, reply);
    buf_free(d);
    return (r);
}

int     milters_mail(MILTERS *ms, const char *sender, const char *const *args, BUF *reply)
{
    int     i;

    for (i = 0; i < ms->n; i++) {
        ms->v[i]->msg_done = 0;
        ms->v[i]->skip_body = 0;
    }
    return (milters_addr_step(ms, &step_mail, sender, args, reply));
}

int     milters_rcpt(MILTERS *ms, const char *rcpt, const char *const *args, BUF *reply)
{
    return (milters_addr_step(ms, &step_rcpt, rcpt, args, reply));
}

int     milters_data(MILTERS *ms, BUF *reply)
{
    return (milters_step(ms, &step_data, NULL, 0, NULL, reply));
}

int     milters_unknown(MILTERS *ms, const char *command, BUF *reply)
{
    return (milters_step(ms, &step_unknown, command, strlen(command) + 1, NULL, reply));
}

/* A header value with its folding as on the wire: each "\n" (a line end
 * between the lines of a folded header) becomes "\r\n", as libmilter
 * filters expect (OpenDKIM's simple canonicalisation hashes the bytes). */
static void milter_header_crlf(BUF *d, const char *value)
{
    const char *cp;

    for (cp = value; *cp; cp++) {
        if (*cp == '\n' && (cp == value || cp[-1] != '\r'))
            buf_putc(d, '\r');
        buf_putc(d, *cp);
    }
    buf_putc(d, '\0');
}

int     milters_header(MILTERS *ms, const char *name, const char *value, BUF *reply)
{
    BUF    *d = buf_alloc(128), *d2 = buf_alloc(128);
    const char *v = value;
    int     i, r = MILTER_CONTINUE;

    /* Sendmail strips the space after the colon unless the filter asked
     * for it (SMFIP_HDR_LEADSPC): two packets, built once each. */
    while (*v == ' ' || *v == '\t')
        v++;
    milter_pkt_put_str(d, name);
    milter_header_crlf(d, v);
    milter_pkt_put_str(d2, name);
    milter_header_crlf(d2, value);
    for (i = 0; i < ms->n && r == MILTER_CONTINUE; i++) {
        BUF    *use = (ms->v[i]->pflags & SMFIP_HDR_LEADSPC) ? d2 : d;

        r = milter_step(ms, ms->v[i], &step_header, buf_str(use), buf_len(use), NULL, reply);
    }
    buf_free(d);
    buf_free(d2);
    return (r);
}

int     milters_eoh(MILTERS *ms, BUF *reply)
{
    buf_reset(ms->body);
    return (milters_step(ms, &step_eoh, NULL, 0, NULL, reply));
}

/* Send the buffered body as one chunk (at most MILTER_CHUNK_MAX). */
static int milters_body_flush(MILTERS *ms, BUF *reply)
{
    int     r;

    if (buf_len(ms->body) == 0)
        return (MILTER_CONTINUE);
    r = milters_step(ms, &step_body, buf_str(ms->body), buf_len(ms->body), NULL, reply);
    buf_reset(ms->body);
    return (r);
}

int     milters_body_line(MILTERS *ms, const char *line, size_t len, BUF *reply)
{
    int     r;

    /* Whole lines per chunk when they fit; a longer line is cut. */
    while (buf_len(ms->body) + len + 2 > MILTER_CHUNK_MAX) {
        size_t  room = MILTER_CHUNK_MAX - buf_len(ms->body);

        if (buf_len(ms->body) > 0 && len + 2 <= MILTER_CHUNK_MAX) {
            if ((r = milters_body_flush(ms, reply)) != MILTER_CONTINUE)
                return (r);
            continue;
        }
        buf_append(ms->body, line, room);
        line += room;
        len -= room;
        if ((r = milters_body_flush(ms, reply)) != MILTER_CONTINUE)
            return (r);
    }
    buf_append(ms->body, line, len);
    buf_append(ms->body, "\r\n", 2);
    return (MILTER_CONTINUE);
}

int     milters_eom(MILTERS *ms, const MILTER_EDITS *edits, BUF *reply)
{
    int     r, i;

    if ((r = milters_body_flush(ms, reply)) != MILTER_CONTINUE)
        return (r);
    ms->body_first = 1;
    for (i = 0; i < ms->n; i++) {
        MILTER *m = ms->v[i];

        ms->body_first = 1;
        r = milter_step(ms, m, &step_eom, NULL, 0, edits, reply);
        m->in_msg = 0;
        m->msg_done = 0;
        m->skip_body = 0;
        if (r != MILTER_CONTINUE)
            return (r);
    }
    return (MILTER_CONTINUE);
}

void    milters_abort(MILTERS *ms)
{
    int     i;

    for (i = 0; i < ms->n; i++) {
        MILTER *m = ms->v[i];

        if (m->state == M_READY && m->in_msg) {
            buf_reset(ms->out);
            milter_pkt_put(ms->out, SMFIC_ABORT, NULL, 0);
            if (milter_flush(ms, m, m->set.command_timeout) < 0)
                milter_fail(ms, m, "lost connection while sending abort");
        }
        m->in_msg = 0;
        m->msg_done = 0;
        m->skip_body = 0;
    }
    buf_reset(ms->body);
    xfree(ms->quarantine);
    ms->quarantine = NULL;
}

void    milters_free(MILTERS *ms)
{
    int     i;

    if (ms == NULL)
        return;
    for (i = 0; i < ms->n; i++) {
        MILTER *m = ms->v[i];

        if (m->state == M_READY && ms->out && !ms->imported) {
            buf_reset(ms->out);
            milter_pkt_put(ms->out, SMFIC_QUIT, NULL, 0);
            (void) milter_flush(ms, m, m->set.command_timeout);
        }
        milter_free(m);
    }
    xfree(ms->v);
    xfree(ms->queue_id);
    xfree(ms->quarantine);
    for (i = 0; i < ms->nmcopy; i++)
        xfree(ms->mcopy[i]);
    xfree(ms->mcopy);
    if (ms->out)
        buf_free(ms->out);
    if (ms->data)
        buf_free(ms->data);
    if (ms->body)
        buf_free(ms->body);
    xfree(ms);
}

void    milters_message_done(MILTERS *ms)
{
    int     i;

    for (i = 0; i < ms->n; i++) {
        ms->v[i]->in_msg = 0;
        ms->v[i]->msg_done = 0;
        ms->v[i]->skip_body = 0;
    }
    buf_reset(ms->body);
    xfree(ms->quarantine);
    ms->quarantine = NULL;
}

const char *milters_macro_copy(const MILTERS *ms, const char *name)
{
    int     i;

    for (i = 0; i + 1 < ms->nmcopy; i += 2)
        if (strcmp(ms->mcopy[i], name) == 0)
            return (ms->mcopy[i + 1]);
    return (NULL);
}

/* ---- Handing the sessions over (smtpd -> cleanup, Postfix's milter_send).
 *
 * The blob: "MILTERS1", u32 count; per filter: name, endpoint (strings),
 * u32 connect, command and content timeout, protocol, default action,
 * SMFIM_COUNT macro lists (strings), u32 state, version, actions, pflags,
 * msg_done, in_msg, has_fd; then the quarantine reason ("" none), u32
 * pair count and the macro name/value pairs for the content stages. The
 * sockets travel as SCM_RIGHTS with the first byte, in filter order. */

#define MILTER_BLOB_MAGIC   "MILTERS1"

/* Add the values of one stage's macros to the pairs of the blob; names
 * ("\n"-delimited) holds those already added, so each goes once. */
static void milter_export_macros(MILTERS *ms, const char *list, BUF *pairs, int *count,
                                 BUF *names)
{
    char    key[132];
    size_t  n;

    for (;;) {
        const char *val;

        list += strspn(list, " \t\r\n,");
        if ((n = strcspn(list, " \t\r\n,")) == 0)
            break;
        if (n < sizeof(key) - 3) {
            snprintf(key, sizeof(key), "\n%.*s\n", (int) n, list);
            if (strstr(buf_str(names), key) == NULL && buf_len(pairs) < MILTER_PKT_MAX / 2) {
                key[n + 1] = '\0';
                if ((val = ms->macro_fn(ms->macro_ctx, key + 1)) != NULL) {
                    milter_pkt_put_str(pairs, key + 1);
                    milter_pkt_put_str(pairs, val);
                    (*count)++;
                }
                buf_printf(names, "%s\n", key + 1);
            }
        }
        list += n;
    }
}

int     milters_export(MILTERS *ms, BUF *blob, int *fds, int max_fds)
{
    BUF    *pairs = buf_alloc(256), *names = buf_alloc(64);
    int     i, k, nfds = 0, count = 0;

    buf_set(names, "\n");
    buf_reset(blob);
    buf_append(blob, MILTER_BLOB_MAGIC, 8);
    milter_pkt_put_u32(blob, (uint32_t) ms->n);
    for (i = 0; i < ms->n; i++) {
        MILTER *m = ms->v[i];
        int     has_fd = m->s != NULL && m->state == M_READY && nfds < max_fds;

        milter_pkt_put_str(blob, m->name);
        milter_pkt_put_str(blob, m->endpoint);
        milter_pkt_put_u32(blob, (uint32_t) m->set.connect_timeout);
        milter_pkt_put_u32(blob, (uint32_t) m->set.command_timeout);
        milter_pkt_put_u32(blob, (uint32_t) m->set.content_timeout);
        milter_pkt_put_u32(blob, (uint32_t) m->set.protocol);
        milter_pkt_put_u32(blob, (uint32_t) m->set.default_action);
        for (k = 0; k < SMFIM_COUNT; k++)
            milter_pkt_put_str(blob, m->set.macros[k] ? m->set.macros[k] : "");
        milter_pkt_put_u32(blob, (uint32_t) (has_fd ? M_READY : m->state == M_READY
                                             ? M_FAILED : m->state));
        milter_pkt_put_u32(blob, m->version);
        milter_pkt_put_u32(blob, m->actions);
        milter_pkt_put_u32(blob, m->pflags);
        milter_pkt_put_u32(blob, (uint32_t) m->msg_done);
        milter_pkt_put_u32(blob, (uint32_t) m->in_msg);
        milter_pkt_put_u32(blob, (uint32_t) has_fd);
        if (has_fd)
            fds[nfds++] = stream_fd(m->s);
        if (ms->macro_fn) {
            milter_export_macros(ms, m->set.macros[SMFIM_EOH], pairs, &count, names);
            milter_export_macros(ms, m->set.macros[SMFIM_EOM], pairs, &count, names);
        }
    }
    milter_pkt_put_str(blob, ms->quarantine ? ms->quarantine : "");
    milter_pkt_put_u32(blob, (uint32_t) count);
    buf_append(blob, buf_str(pairs), buf_len(pairs));
    buf_free(pairs);
    buf_free(names);
    return (nfds);
}

MILTERS *milters_import(const char *blob, size_t len, const int *fds, int nfds, BUF *why)
{
    MILTERS *ms;
    MILTER_PKT p;
    uint32_t n, v[12], count;
    const char *name, *endpoint, *macros[SMFIM_COUNT], *q;
    int     i, k, used = 0;

    if (len < 8 || memcmp(blob, MILTER_BLOB_MAGIC, 8) != 0) {
        buf_set(why, "milter hand-over: bad magic");
        for (i = 0; i < nfds; i++)
            (void) close(fds[i]);
        return (NULL);
    }
    milter_pkt_init(&p, blob + 8, len - 8);
    if (milter_pkt_get_u32(&p, &n) < 0 || n > 64) {
        buf_set(why, "milter hand-over: bad filter count");
        for (i = 0; i < nfds; i++)
            (void) close(fds[i]);
        return (NULL);
    }
    ms = xcalloc(1, sizeof(*ms));
    ms->imported = 1;
    ms->out = buf_alloc(256);
    ms->data = buf_alloc(256);
    ms->body = buf_alloc(MILTER_CHUNK_MAX + 1024);
    for (i = 0; i < (int) n; i++) {
        MILTER *m;

        if (milter_pkt_get_str(&p, &name) < 0 || milter_pkt_get_str(&p, &endpoint) < 0)
            goto bad;
        for (k = 0; k < 5; k++)
            if (milter_pkt_get_u32(&p, &v[k]) < 0)
                goto bad;
        for (k = 0; k < SMFIM_COUNT; k++)
            if (milter_pkt_get_str(&p, &macros[k]) < 0)
                goto bad;
        for (k = 5; k < 12; k++)
            if (milter_pkt_get_u32(&p, &v[k]) < 0)
                goto bad;
        if (v[3] < 2 || v[3] > 6 || v[4] > MILTER_DEF_QUARANTINE || v[5] > M_DONE
            || (v[11] && used >= nfds))
            goto bad;
        m = xcalloc(1, sizeof(*m));
        m->name = xstrdup(name);
        m->endpoint = xstrdup(endpoint);
        m->set.connect_timeout = (int) v[0];
        m->set.command_timeout = (int) v[1];
        m->set.content_timeout = (int) v[2];
        m->set.protocol = (int) v[3];
        m->set.default_action = (int) v[4];
        for (k = 0; k < SMFIM_COUNT; k++) {
            m->macro_text[k] = xstrdup(macros[k]);
            m->set.macros[k] = m->macro_text[k];
        }
        m->state = (int) v[5];
        m->version = v[6];
        m->actions = v[7] & SMFIF_ALL;
        m->pflags = v[8] & MILTER_OFFER_PROTO;
        m->msg_done = v[9] != 0;
        m->in_msg = v[10] != 0;
        if (v[11])
            m->s = stream_fdopen(fds[used++]);
        else if (m->state == M_READY)
            m->state = M_FAILED;
        ms->v = xreallocarray(ms->v, (size_t) ms->n + 1, sizeof(*ms->v));
        ms->v[ms->n++] = m;
    }
    if (milter_pkt_get_str(&p, &q) < 0 || milter_pkt_get_u32(&p, &count) < 0
        || count > MILTER_PKT_MAX / 4)
        goto bad;
    if (*q)
        ms->quarantine = xstrdup(q);
    for (i = 0; i < (int) count; i++) {
        const char *mn, *mv;

        if (milter_pkt_get_str(&p, &mn) < 0 || milter_pkt_get_str(&p, &mv) < 0)
            goto bad;
        ms->mcopy = xreallocarray(ms->mcopy, (size_t) ms->nmcopy + 2, sizeof(char *));
        ms->mcopy[ms->nmcopy++] = xstrdup(mn);
        ms->mcopy[ms->nmcopy++] = xstrdup(mv);
    }
    if (milter_pkt_left(&p) != 0 || used != nfds)
        goto bad;
    return (ms);

  bad:
    buf_set(why, "milter hand-over: malformed description");
    /* Descriptors not yet owned by a filter are the caller's to close. */
    for (i = used; i < nfds; i++)
        (void) close(fds[i]);
    milters_free(ms);
    return (NULL);
}

int     milters_send(MILTERS *ms, int sock, BUF *why)
{
    BUF    *blob = buf_alloc(1024), *wire = buf_alloc(1024);
    int     fds[MILTER_PASS_MAX_FDS];
    int     nfds = milters_export(ms, blob, fds, MILTER_PASS_MAX_FDS);
    union {
        struct cmsghdr hdr;
        char    space[CMSG_SPACE(sizeof(int) * MILTER_PASS_MAX_FDS)];
    } ctl;
    struct msghdr mh;
    struct iovec iov;
    size_t  off = 0;
    ssize_t n;

    milter_pkt_put_u32(wire, (uint32_t) buf_len(blob));
    buf_append(wire, buf_str(blob), buf_len(blob));
    buf_free(blob);
    while (off < buf_len(wire)) {
        memset(&mh, 0, sizeof(mh));
        iov.iov_base = wire->data + off;
        iov.iov_len = buf_len(wire) - off;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (off == 0 && nfds > 0) {
            struct cmsghdr *c;

            memset(&ctl, 0, sizeof(ctl));
            mh.msg_control = ctl.space;
            mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t) nfds);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t) nfds);
            memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t) nfds);
        }
        if ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0) {
            if (errno == EINTR)
                continue;
            buf_sprintf(why, "milter hand-over: sendmsg: %s", strerror(errno));
            buf_free(wire);
            return (-1);
        }
        off += (size_t) n;
    }
    buf_free(wire);
    return (0);
}

struct MILTERS_RECV {
    BUF    *buf;                    /* length prefix, then the blob */
    size_t  want;                   /* bytes of buf still to come */
    int     fds[MILTER_PASS_MAX_FDS];
    int     nfds;
};

MILTERS_RECV *milters_recv_create(void)
{
    MILTERS_RECV *r = xcalloc(1, sizeof(*r));

    r->buf = buf_alloc(1024);
    r->want = 4;
    return (r);
}

void    milters_recv_free(MILTERS_RECV *r)
{
    int     i;

    for (i = 0; i < r->nfds; i++)
        (void) close(r->fds[i]);
    buf_free(r->buf);
    xfree(r);
}

int     milters_recv_step(MILTERS_RECV *r, int sock, MILTERS **out, BUF *why)
{
    union {
        struct cmsghdr hdr;
        char    space[CMSG_SPACE(sizeof(int) * MILTER_PASS_MAX_FDS)];
    } ctl;
    struct msghdr mh;
    struct iovec iov;
    struct cmsghdr *c;
    ssize_t n;

    /* Never read past the blob: what follows is the client's records. */
    buf_reserve(r->buf, r->want);
    memset(&mh, 0, sizeof(mh));
    iov.iov_base = r->buf->data + buf_len(r->buf);
    iov.iov_len = r->want;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl.space;
    mh.msg_controllen = sizeof(ctl.space);
    if ((n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC)) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return (0);
        buf_sprintf(why, "milter hand-over: recvmsg: %s", strerror(errno));
        return (-1);
    }
    for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t  k, cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int     fd;

            for (k = 0; k < cnt; k++) {
                memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
                if (r->nfds < MILTER_PASS_MAX_FDS)
                    r->fds[r->nfds++] = fd;
                else
                    (void) close(fd);
            }
        }
    }
    if (n == 0) {
        buf_set(why, "milter hand-over: the client went away");
        return (-1);
    }
    if (mh.msg_flags & MSG_CTRUNC) {
        buf_set(why, "milter hand-over: too many descriptors");
        return (-1);
    }
    r->buf->len += (size_t) n;
    r->buf->data[r->buf->len] = '\0';
    r->want -= (size_t) n;
    if (r->want > 0)
        return (0);
    if (buf_len(r->buf) == 4) {
        const unsigned char *b = (const unsigned char *) r->buf->data;
        size_t  len = ((size_t) b[0] << 24) | ((size_t) b[1] << 16) | ((size_t) b[2] << 8) | b[3];

        if (len < 12 || len > MILTER_PKT_MAX) {
            buf_set(why, "milter hand-over: bad length");
            return (-1);
        }
        r->want = len;
        return (0);
    }
    if ((*out = milters_import(r->buf->data + 4, buf_len(r->buf) - 4, r->fds, r->nfds,
                               why)) == NULL) {
        r->nfds = 0;                            /* closed by milters_import */
        return (-1);
    }
    r->nfds = 0;                                /* owned by the filters now */
    return (1);
}
