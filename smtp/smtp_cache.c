/* smtp_cache - connection reuse: sessions kept in scache between deliveries.
 *
 * After a delivery whose session is still in step with the server
 * (every reply read, no 421, nothing unread), the session is handed to
 * scache (scache_clnt.h) under its destination label when
 *     smtp_connection_cache_on_demand = yes and qmgr said more mail for
 *     the destination is waiting (DELIVER_FLAG_CONN_STORE), or the next
 *     hop is listed in smtp_connection_cache_destinations;
 *     it was to the next hop itself (not smtp_fallback_relay: a fallback
 *     session must not stand in for a destination that may be back);
 *     it is younger than smtp_connection_reuse_time_limit and has carried
 *     at most smtp_connection_reuse_count_limit deliveries (0: no limit);
 * for smtp_connection_cache_time_limit. Otherwise it ends with QUIT. The
 * next delivery to that label (any smtp process of the same service)
 * takes it back before any DNS lookup, says RSET and uses it only after
 * a 250; a failed RSET drops it and the delivery connects anew.
 * The label is service, protocol and next hop, so a session never serves
 * another destination nor another master.cf service (its -o overrides).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mail_proto.h"
#include "match_list.h"
#include "msg.h"
#include "scache_clnt.h"
#include "smtp.h"

static int smtp_cache_warned;           /* scache trouble was logged once */

void    smtp_cache_label(const SMTP_MSG *m, const char *service, BUF *label)
{
    buf_sprintf(label, "%s:%s:%s:tls=%s", service ? service : "smtp", m->lmtp ? "lmtp" : "smtp",
                m->req->nexthop, smtp_tls_level_name(m->tls.level));
}

/* smtp_cache_listed - the next hop is in smtp_connection_cache_destinations */
static int smtp_cache_listed(const SMTP_MSG *m)
{
    static MATCH_LIST *list;
    static int tried;
    BUF    *why;

    if (!tried) {
        tried = 1;
        if (*config_str(P_smtp_connection_cache_destinations)) {
            why = buf_alloc(64);
            list = domain_list_init("smtp_connection_cache_destinations",
                                    config_str(P_smtp_connection_cache_destinations), 0, why);
            if (list == NULL)
                msg_warn("smtp_connection_cache_destinations: %s", buf_str(why));
            buf_free(why);
        }
    }
    return list != NULL && domain_list_match(list, m->req->nexthop) == MATCH_YES;
}

int     smtp_cache_may_load(const SMTP_MSG *m)
{
    return (config_bool(P_smtp_connection_cache_on_demand)
            && (m->req->flags & (DELIVER_FLAG_CONN_LOAD | DELIVER_FLAG_CONN_STORE)))
        || smtp_cache_listed(m);
}

int     smtp_cache_may_store(const SMTP_MSG *m)
{
    return (config_bool(P_smtp_connection_cache_on_demand)
            && (m->req->flags & DELIVER_FLAG_CONN_STORE))
        || smtp_cache_listed(m);
}

void    smtp_cache_props_format(const SMTP_CONN *conn, BUF *out)
{
    buf_sprintf(out, "%d %ld %ld %d %d\t%s\t%s", conn->features, conn->peer_size, conn->created,
                conn->uses, conn->peer.port, conn->peer.name, conn->peer.addr);
}

int     smtp_cache_props_parse(const char *text, SMTP_CONN *conn)
{
    const char *name, *addr;
    size_t  nlen, alen;
    int     n = 0;

    memset(conn, 0, sizeof(*conn));
    if (sscanf(text, "%d %ld %ld %d %d%n", &conn->features, &conn->peer_size, &conn->created,
               &conn->uses, &conn->peer.port, &n) != 5 || text[n] != '\t')
        return -1;
    name = text + n + 1;
    if ((addr = strchr(name, '\t')) == NULL)
        return -1;
    nlen = (size_t) (addr - name);
    alen = strlen(++addr);
    if (nlen == 0 || nlen > SMTP_HOST_MAX || alen == 0 || alen > SMTP_HOST_MAX
        || strchr(addr, '\t') || conn->peer.port < 0 || conn->peer.port > 65535 || conn->uses < 1)
        return -1;
    memcpy(conn->peer.name, name, nlen);
    memcpy(conn->peer.addr, addr, alen);
    if (conn->peer.port)
        snprintf(conn->peer.relay, sizeof(conn->peer.relay), "%s[%s]:%d", conn->peer.name,
                 conn->peer.addr, conn->peer.port);
    else
        snprintf(conn->peer.relay, sizeof(conn->peer.relay), "%s[%s]", conn->peer.name,
                 conn->peer.addr);
    return 0;
}

int     smtp_cache_find(const char *label, SMTP_CONN *conn)
{
    BUF    *props = buf_alloc(128), *why = buf_alloc(64);
    int     fd, ret = -1;

    if ((fd = scache_clnt_find(label, props, why)) < 0) {
        if (buf_len(why) && !smtp_cache_warned++)       /* scache may just be off */
            msg_warn("connection cache: %s", buf_str(why));
    } else if (smtp_cache_props_parse(buf_str(props), conn) < 0) {
        msg_warn("connection cache: bad session record \"%.100s\"", buf_str(props));
        close(fd);
    } else {
        conn->s = stream_fdopen(fd);
        conn->reused = 1;
        ret = 0;
    }
    buf_free(props);
    buf_free(why);
    return ret;
}

void    smtp_cache_done(SMTP_CONN *conn, const char *label, int save)
{
    long    count_limit = config_int(P_smtp_connection_reuse_count_limit);
    BUF    *props, *why;

    if (conn->s == NULL)
        return;
    /* A TLS session cannot leave this process: it ends here. */
    if (save && conn->reusable && conn->tls == NULL
        && (long) time(NULL) - conn->created < config_time(P_smtp_connection_reuse_time_limit)
        && (count_limit == 0 || conn->uses <= count_limit)) {
        props = buf_alloc(128);
        why = buf_alloc(64);
        smtp_cache_props_format(conn, props);
        if (scache_clnt_save(label, buf_str(props),
                             (int) config_time(P_smtp_connection_cache_time_limit),
                             stream_fd(conn->s), why) == 0) {
            /* scache has its own copy; ours goes without a word. */
            stream_close(conn->s);
            conn->s = NULL;
        } else if (!smtp_cache_warned++) {      /* once per process */
            msg_warn("connection cache: %s", buf_str(why));
        }
        buf_free(props);
        buf_free(why);
    }
    smtp_conn_close(conn);
}
