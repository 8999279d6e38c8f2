/* dict_proxy - proxy:TYPE:NAME, a table looked up through proxymap(8).
 *
 * A chrooted daemon cannot open files outside its jail, and the password
 * file behind unix:passwd.byname is one of them; Postfix's answer, which
 * Debian's defaults rely on (local_recipient_maps = proxy:unix:passwd.byname
 * $alias_maps), is a table type that forwards each lookup to the proxymap
 * service, which runs outside the chroot and may open only the tables that
 * proxy_read_maps approves. surel does the same:
 *
 *   {request=lookup, table=TYPE:NAME, flags=DICT_FLAG_*, key=KEY}
 *       -> {status=DICT_STATUS, value=VALUE, reason=TEXT}
 *
 * (mail_proto.h). A process keeps one connection to private/proxymap for
 * all its proxy: tables. A lookup that fails on a kept connection (proxymap
 * restarted after max_idle, say) is retried once on a new one; when
 * proxymap cannot be reached the answer is TRYLATER, never "not found":
 * mail waits rather than bouncing for a valid user.
 *
 * Opening does not talk to proxymap: its tables are checked when they are
 * used, so that a daemon starts even while proxymap does not run yet (the
 * master starts services on demand).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "dict.h"
#include "dict_proxy.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"

#define PROXY_IPC_TIMEOUT   30          /* seconds each way; proxymap answers from memory or disk */

static STREAM *proxy_stream;            /* the process's connection, or NULL */

/* proxy_connect - the kept connection, made when needed; NULL + why */
static STREAM *proxy_connect(BUF *why)
{
    int     fd;

    if (proxy_stream)
        return proxy_stream;
    /* Daemons run in the queue folder (or a chroot of it); commands such
     * as `surel map query` do not. */
    if ((fd = mail_connect(NULL, MAIL_SERVICE_PROXYMAP, why)) < 0) {
        buf_reset(why);
        if ((fd = mail_connect(config_str(P_queue_directory), MAIL_SERVICE_PROXYMAP, why)) < 0)
            return NULL;
    }
    proxy_stream = stream_fdopen(fd);
    stream_set_timeout(proxy_stream, PROXY_IPC_TIMEOUT);
    return proxy_stream;
}

/* proxy_disconnect - forget a connection that failed */
static void proxy_disconnect(void)
{
    if (proxy_stream)
        (void) stream_close(proxy_stream);
    proxy_stream = NULL;
}

/* proxy_ask - one request and its reply on the kept connection; 0, or -1 + why */
static int proxy_ask(DICT *dict, const char *key, int *status, BUF *result, BUF *why)
{
    STREAM *s;
    BUF    *reason;
    int     ret;

    if ((s = proxy_connect(why)) == NULL)
        return -1;
    if (attr_send(s, SEND_STR(MAIL_ATTR_REQ, PROXY_REQ_LOOKUP),
                  SEND_STR(PROXY_ATTR_TABLE, dict->name),
                  SEND_INT(MAIL_ATTR_FLAGS, dict->flags),
                  SEND_STR(PROXY_ATTR_KEY, key), ATTR_END) < 0) {
        buf_sprintf(why, "proxymap: %s", attr_last_error());
        proxy_disconnect();
        return -1;
    }
    reason = buf_alloc(100);
    ret = attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, status),
                    RECV_STR(PROXY_ATTR_VALUE, result),
                    RECV_STR(MAIL_ATTR_WHY, reason), ATTR_END);
    if (ret < 0) {
        buf_sprintf(why, "proxymap: %s", attr_last_eof() ? "connection closed" : attr_last_error());
        proxy_disconnect();
    } else if (*status == DICT_TRYLATER) {
        buf_sprintf(why, "%s", buf_str(reason));
    }
    buf_free(reason);
    return ret;
}

/* proxy_lookup - forward the key; retry once on a fresh connection */
static DICT_STATUS proxy_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    int     status = DICT_TRYLATER;
    int     had_connection = proxy_stream != NULL;

    buf_reset(result);
    if (proxy_ask(dict, key, &status, result, why) < 0) {
        if (!had_connection)
            return DICT_TRYLATER;
        buf_reset(why);
        buf_reset(result);
        if (proxy_ask(dict, key, &status, result, why) < 0)
            return DICT_TRYLATER;
    }
    if (status != DICT_FOUND && status != DICT_NOTFOUND && status != DICT_TRYLATER) {
        buf_sprintf(why, "proxymap: bad status %d for proxy:%s", status, dict->name);
        return DICT_TRYLATER;
    }
    if (status != DICT_FOUND)
        buf_reset(result);
    return (DICT_STATUS) status;
}

/* proxy_open - remember TYPE:NAME; it must at least look like a table name */
static DICT *proxy_open(const char *name, int flags, BUF *why)
{
    const char *colon = strchr(name, ':');

    if (colon == NULL || colon == name || colon[1] == 0) {
        buf_sprintf(why, "proxy:%s: expected proxy:type:name", name);
        return NULL;
    }
    if (strncmp(name, "proxy:", 6) == 0) {
        buf_sprintf(why, "proxy:%s: a proxy of a proxy", name);
        return NULL;
    }
    return dict_alloc(&dict_proxy_type, name, flags);
}

/* proxy_close - the connection stays for the process's other proxy tables */
static void proxy_close(DICT *dict)
{
    dict_free(dict);
}

const DICT_TYPE dict_proxy_type = {
    "proxy", proxy_open, proxy_lookup, proxy_close, NULL, NULL, NULL, NULL, NULL,
};
