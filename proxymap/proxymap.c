/*
 * NAME
 *      proxymap - table lookups for processes that cannot open the table
 * SYNOPSIS
 *      proxymap (started by master; master.cf: proxymap unix - - n - - proxymap)
 * DESCRIPTION
 *      Answers lookups in proxy:TYPE:NAME tables (lib/global/dict_proxy.c)
 *      for daemons whose tables are out of reach: a chrooted smtpd cannot
 *      open /etc/passwd or a table outside the queue folder. proxymap runs
 *      outside any chroot as mail_owner, opens each table on its first
 *      request and keeps it open (tables reopen themselves when rebuilt),
 *      and answers from it. The protocol is in mail_proto.h.
 *
 *      Only approved tables are opened, as in Postfix: those that
 *      proxy_read_maps names as proxy:TYPE:NAME (its default lists every
 *      parameter that takes tables), and the unix: tables, whose content
 *      every local user can read anyway and which chrooted daemons send
 *      here by themselves (server.c). Any other name is TRYLATER with a
 *      reason naming proxy_read_maps: the client's mail waits and the log
 *      says what to change. Writes (Postfix's proxywrite) are not offered:
 *      no surel table is updated through a proxy, so a proxywrite service
 *      in master.cf runs this program and every request it gets is a
 *      lookup.
 *
 *      Each client keeps one connection and sends any number of requests;
 *      the reply to each goes out before the next is read. A request is
 *      read whole within PROXYMAP_IPC_TIMEOUT once its first byte arrived.
 * PARAMETERS
 *      proxy_read_maps.
 */
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "event.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "stream.h"

#define PROXYMAP_IPC_TIMEOUT    10      /* seconds for one request to arrive whole */
#define PROXYMAP_TABLES_MAX     256     /* tables open at once */

/* One open table. */
typedef struct PROXY_TABLE {
    char   *name;                       /* TYPE:NAME */
    int     flags;                      /* DICT_FLAG_* it was opened with */
    DICT   *dict;
} PROXY_TABLE;

static PROXY_TABLE proxy_tables[PROXYMAP_TABLES_MAX];
static int proxy_ntables;
static char **proxy_approved;           /* TYPE:NAME from proxy_read_maps */

/* proxymap_approved - may this table be opened here? */
static int proxymap_approved(const char *name)
{
    char  **cp;

    if (strncmp(name, "unix:", 5) == 0)
        return 1;
    for (cp = proxy_approved; cp && *cp; cp++)
        if (strcmp(*cp, name) == 0)
            return 1;
    return 0;
}

/* proxymap_table - the open table of that name and flags; NULL + why */
static DICT *proxymap_table(const char *name, int flags, BUF *why)
{
    DICT   *dict;
    int     i;

    for (i = 0; i < proxy_ntables; i++)
        if (proxy_tables[i].flags == flags && strcmp(proxy_tables[i].name, name) == 0)
            return proxy_tables[i].dict;
    if (!proxymap_approved(name)) {
        buf_sprintf(why, "proxymap: table %s is not approved: add proxy:%s to"
                    " proxy_read_maps, or to a parameter it names", name, name);
        msg_warn("request for unapproved table %s", name);
        return NULL;
    }
    if (proxy_ntables >= PROXYMAP_TABLES_MAX) {
        buf_sprintf(why, "proxymap: more than %d tables", PROXYMAP_TABLES_MAX);
        return NULL;
    }
    if ((dict = dict_open(name, flags, why)) == NULL) {
        msg_warn("open %s: %s", name, buf_str(why));
        return NULL;
    }
    proxy_tables[proxy_ntables].name = xstrdup(name);
    proxy_tables[proxy_ntables].flags = flags;
    proxy_tables[proxy_ntables].dict = dict;
    proxy_ntables++;
    return dict;
}

/* proxymap_request - answer one lookup; 0, or -1 when the client is gone */
static int proxymap_request(STREAM *s, const char *request, const char *table,
                            int flags, const char *key)
{
    BUF    *value = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    DICT   *dict;
    DICT_STATUS status = DICT_TRYLATER;
    int     ret;

    if (strcmp(request, PROXY_REQ_LOOKUP) != 0) {
        buf_sprintf(why, "proxymap: unknown request \"%.100s\"", request);
        msg_warn("%s", buf_str(why));
    } else if ((dict = proxymap_table(table, flags & DICT_FLAG_FIXED_CASE, why)) != NULL) {
        status = dict_lookup(dict, key, value, why);
        if (status == DICT_TRYLATER)
            msg_warn("lookup of \"%.100s\" in %s: %s", key, table, buf_str(why));
    }
    ret = attr_send(s, SEND_INT(MAIL_ATTR_STATUS, (int) status),
                    SEND_STR(PROXY_ATTR_VALUE, status == DICT_FOUND ? buf_str(value) : ""),
                    SEND_STR(MAIL_ATTR_WHY, buf_str(why)), ATTR_END);
    buf_free(value);
    buf_free(why);
    return ret;
}

/* proxymap_client_read - requests are waiting; answer all that are buffered */
static void proxymap_client_read(int event, void *context)
{
    STREAM *s = context;
    BUF    *request = buf_alloc(32);
    BUF    *table = buf_alloc(100);
    BUF    *key = buf_alloc(100);
    int     flags = 0;
    int     ok;

    (void) event;
    do {
        ok = attr_recv(s, RECV_STR(MAIL_ATTR_REQ, request), RECV_STR(PROXY_ATTR_TABLE, table),
                       RECV_INT(MAIL_ATTR_FLAGS, &flags), RECV_STR(PROXY_ATTR_KEY, key),
                       ATTR_END) == 0;
        if (!ok && !attr_last_eof())
            msg_warn("bad request: %s", attr_last_error());
        if (ok)
            ok = proxymap_request(s, buf_str(request), buf_str(table), flags, buf_str(key)) == 0;
    } while (ok && stream_buffered(s) > 0);
    buf_free(request);
    buf_free(table);
    buf_free(key);
    if (!ok)
        multi_server_disconnect(s);
}

/* proxymap_service - a new client (multi_server routine) */
static void proxymap_service(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    stream_set_timeout(client, PROXYMAP_IPC_TIMEOUT);
    event_enable_read(stream_fd(client), proxymap_client_read, client);
}

/* proxymap_post_init - the approved names: proxy:TYPE:NAME items of proxy_read_maps */
static void proxymap_post_init(const SERVER_CTX *ctx)
{
    char  **items;
    int     count;
    int     i;
    int     n = 0;

    (void) ctx;
    /* proxymap is where unix: lookups go; it must not send them to itself
     * (a chrooted proxymap would: master.cf should say chroot n). */
    dict_redirect_type("unix", NULL);
    items = config_split_list(config_str(P_proxy_read_maps), &count);
    proxy_approved = xcalloc((size_t) count + 1, sizeof(*proxy_approved));
    for (i = 0; i < count; i++)
        if (strncmp(items[i], "proxy:", 6) == 0 && items[i][6])
            proxy_approved[n++] = xstrdup(items[i] + 6);
    config_free_list(items);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .post_init = proxymap_post_init,
        .confine = "proxymap",
    };

    multi_server_main(argc, argv, proxymap_service, &hooks);
}
