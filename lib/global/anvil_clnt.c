/* anvil_clnt - talk to the anvil service (see anvil_clnt.h).
 *
 * The ident of a client is "service:addr", as in Postfix: the same
 * address counts separately per master.cf service.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "anvil_clnt.h"
#include "attr.h"
#include "buf.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "stream.h"

struct ANVIL_CLNT {
    char   *path;
    int     timeout;
    STREAM *stream;                 /* NULL: not connected */
    int     warned;                 /* the last request failed and was logged */
};

/* anvil_clnt_create - a handle; nothing is connected yet */
ANVIL_CLNT *anvil_clnt_create(const char *path, int timeout)
{
    ANVIL_CLNT *a = xcalloc(1, sizeof(*a));

    a->path = xstrdup(path);
    a->timeout = timeout;
    return a;
}

/* anvil_clnt_close - forget the connection */
static void anvil_clnt_close(ANVIL_CLNT *a)
{
    if (a->stream)
        (void) stream_close(a->stream);
    a->stream = NULL;
}

/* anvil_clnt_free - close and release */
void    anvil_clnt_free(ANVIL_CLNT *a)
{
    if (a == NULL)
        return;
    anvil_clnt_close(a);
    xfree(a->path);
    xfree(a);
}

/* anvil_clnt_open - connect when not connected; 0 or -1 with why */
static int anvil_clnt_open(ANVIL_CLNT *a, BUF *why)
{
    struct sockaddr_un sun;
    int     fd;

    if (a->stream)
        return 0;
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(a->path) >= sizeof(sun.sun_path)) {
        buf_sprintf(why, "socket path too long: %s", a->path);
        return -1;
    }
    strcpy(sun.sun_path, a->path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        buf_sprintf(why, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        buf_sprintf(why, "connect to %s: %s", a->path, strerror(errno));
        (void) close(fd);
        return -1;
    }
    a->stream = stream_fdopen(fd);
    stream_set_timeout(a->stream, a->timeout);
    return 0;
}

/* anvil_clnt_failed - close; warn once per run of failures */
static int anvil_clnt_failed(ANVIL_CLNT *a, const char *request, const char *why)
{
    anvil_clnt_close(a);
    if (!a->warned)
        msg_warn("anvil %s request: %s; going on without client limits", request, why);
    a->warned = 1;
    return ANVIL_STAT_FAIL;
}

/* anvil_clnt_send - {request, ident}; 0, or -1 (logged) */
static int anvil_clnt_send(ANVIL_CLNT *a, const char *request, const char *service,
                           const char *addr)
{
    BUF    *ident = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     ret = 0;

    buf_sprintf(ident, "%s:%s", service, addr);
    if (anvil_clnt_open(a, why) < 0) {
        ret = anvil_clnt_failed(a, request, buf_str(why));
    } else if (attr_send(a->stream, SEND_STR(MAIL_ATTR_REQ, request),
                         SEND_STR(ANVIL_ATTR_IDENT, buf_str(ident)), ATTR_END) < 0) {
        ret = anvil_clnt_failed(a, request, attr_last_error());
    }
    buf_free(ident);
    buf_free(why);
    return ret;
}

/* anvil_clnt_done - the reply status: OK resets the warning */
static int anvil_clnt_done(ANVIL_CLNT *a, const char *request, int recv_ret, int status)
{
    if (recv_ret < 0)
        return anvil_clnt_failed(a, request, attr_last_error());
    if (status != ANVIL_STAT_OK)
        return anvil_clnt_failed(a, request, "anvil refused the request");
    a->warned = 0;
    return ANVIL_STAT_OK;
}

/* anvil_clnt_connect - a new connection of addr: its count and rate */
int     anvil_clnt_connect(ANVIL_CLNT *a, const char *service, const char *addr,
                           int *count, int *rate)
{
    int     status = ANVIL_STAT_FAIL;
    int     r;

    *count = *rate = 0;
    if (anvil_clnt_send(a, ANVIL_REQ_CONNECT, service, addr) < 0)
        return ANVIL_STAT_FAIL;
    r = attr_recv(a->stream, RECV_INT(MAIL_ATTR_STATUS, &status),
                  RECV_INT(ANVIL_ATTR_COUNT, count), RECV_INT(ANVIL_ATTR_RATE, rate), ATTR_END);
    return anvil_clnt_done(a, ANVIL_REQ_CONNECT, r, status);
}

/* anvil_clnt_disconnect - that connection is over */
int     anvil_clnt_disconnect(ANVIL_CLNT *a, const char *service, const char *addr)
{
    int     status = ANVIL_STAT_FAIL;
    int     r;

    if (anvil_clnt_send(a, ANVIL_REQ_DISCONNECT, service, addr) < 0)
        return ANVIL_STAT_FAIL;
    r = attr_recv(a->stream, RECV_INT(MAIL_ATTR_STATUS, &status), ATTR_END);
    return anvil_clnt_done(a, ANVIL_REQ_DISCONNECT, r, status);
}

/* anvil_clnt_rate - one more event of a kind: its rate in this window */
static int anvil_clnt_rate(ANVIL_CLNT *a, const char *request, const char *service,
                           const char *addr, int *rate)
{
    int     status = ANVIL_STAT_FAIL;
    int     r;

    *rate = 0;
    if (anvil_clnt_send(a, request, service, addr) < 0)
        return ANVIL_STAT_FAIL;
    r = attr_recv(a->stream, RECV_INT(MAIL_ATTR_STATUS, &status),
                  RECV_INT(ANVIL_ATTR_RATE, rate), ATTR_END);
    return anvil_clnt_done(a, request, r, status);
}

int     anvil_clnt_message(ANVIL_CLNT *a, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(a, ANVIL_REQ_MESSAGE, service, addr, rate);
}

int     anvil_clnt_recipient(ANVIL_CLNT *a, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(a, ANVIL_REQ_RECIPIENT, service, addr, rate);
}

int     anvil_clnt_newtls(ANVIL_CLNT *a, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(a, ANVIL_REQ_NEWTLS, service, addr, rate);
}

int     anvil_clnt_auth(ANVIL_CLNT *a, const char *service, const char *addr, int *rate)
{
    return anvil_clnt_rate(a, ANVIL_REQ_AUTH, service, addr, rate);
}
