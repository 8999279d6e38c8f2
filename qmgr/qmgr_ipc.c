/* qmgr_ipc - non-blocking attribute-list conversations with other daemons.
 *
 * qmgr must never wait for one agent (DESIGN §1): every conversation
 * (a delivery request, a bounce request) is a small state machine on the
 * event loop. The request is encoded up front with attr_send() into a
 * buffer (qmgr_attr_writer), written as the socket takes it, and replies
 * are collected until a whole attribute list is in; that list is handed
 * to the caller, who decodes it strictly with attr_recv() on a memory
 * stream. So the wire format stays attr.c's alone.
 *
 * A connect that finds the listener's backlog full (EAGAIN on a unix
 * socket) is retried every 100 ms until the timeout; a listener that is
 * not there at all (ENOENT, ECONNREFUSED) makes qmgr_ipc_start() return
 * NULL at once, which the caller treats as "service unavailable".
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

#define QMGR_IPC_RETRY_MS   100
#define QMGR_IPC_READ_MAX   (ATTR_LIST_MAX + 64 * 1024)

struct QMGR_IPC {
    int     fd;
    char   *path;
    BUF    *out;                    /* request bytes not yet written */
    size_t  out_pos;
    BUF    *in;                     /* reply bytes not yet consumed */
    long long deadline;             /* event_now_ms() */
    long    timeout_ms;             /* idle limit */
    int     connected;
    QMGR_IPC_LIST_FN on_list;
    QMGR_IPC_END_FN on_end;
    void   *ctx;
};

static void qmgr_ipc_event(int event, void *context);
static void qmgr_ipc_timer(int event, void *context);

/* qmgr_attr_write_buf - a STREAM write function that appends to a BUF */
static ssize_t qmgr_attr_write_buf(void *ctx, int fd, const void *data, size_t len, int timeout)
{
    (void) fd;
    (void) timeout;
    buf_append((BUF *) ctx, data, len);
    return (ssize_t) len;
}

/* qmgr_attr_writer - a stream whose writes land in out (never in a file) */
STREAM *qmgr_attr_writer(BUF *out)
{
    STREAM *s = stream_fdopen(0);       /* the descriptor is never used */

    stream_set_io(s, NULL, qmgr_attr_write_buf, out);
    return s;
}

/* qmgr_attr_list_len - bytes of the first complete list in data, 0 if
 * the list is not all there yet: name NUL value NUL ... NUL */
size_t qmgr_attr_list_len(const char *data, size_t len)
{
    size_t  pos = 0;
    const char *nul;

    for (;;) {
        if (pos >= len)
            return 0;
        if (data[pos] == 0)
            return pos + 1;                         /* the empty name ends it */
        if ((nul = memchr(data + pos, 0, len - pos)) == NULL)
            return 0;
        pos = (size_t) (nul - data) + 1;            /* past the name */
        if ((nul = memchr(data + pos, 0, len - pos)) == NULL)
            return 0;
        pos = (size_t) (nul - data) + 1;            /* past the value */
    }
}

/* qmgr_ipc_free - forget the conversation */
static void qmgr_ipc_free(QMGR_IPC *ipc)
{
    event_cancel_timer(qmgr_ipc_timer, ipc);
    if (ipc->fd >= 0) {
        event_disable_readwrite(ipc->fd);
        close(ipc->fd);
    }
    buf_free(ipc->out);
    buf_free(ipc->in);
    xfree(ipc->path);
    xfree(ipc);
}

/* qmgr_ipc_end - tell the caller the conversation broke, then free it */
static void qmgr_ipc_end(QMGR_IPC *ipc, int how)
{
    QMGR_IPC_END_FN fn = ipc->on_end;
    void   *ctx = ipc->ctx;

    qmgr_ipc_free(ipc);
    fn(NULL, how, ctx);
}

/* qmgr_ipc_touch - activity: push the idle deadline out */
static void qmgr_ipc_touch(QMGR_IPC *ipc)
{
    ipc->deadline = event_now_ms() + ipc->timeout_ms;
    event_request_timer(qmgr_ipc_timer, ipc, ipc->timeout_ms);
}

/* qmgr_ipc_connect - one connect attempt: 0 connected, 1 retry later, -1 no */
static int qmgr_ipc_connect(QMGR_IPC *ipc)
{
    struct sockaddr_un sun;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(ipc->path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sun.sun_path, ipc->path);
    if (ipc->fd < 0
        && (ipc->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    if (connect(ipc->fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
        return 0;
    if (errno == EAGAIN || errno == EINTR)
        return 1;                                   /* backlog full: try again */
    return -1;
}

/* qmgr_ipc_connected - start writing the request and reading replies */
static void qmgr_ipc_connected(QMGR_IPC *ipc)
{
    ipc->connected = 1;
    event_enable_read(ipc->fd, qmgr_ipc_event, ipc);
    event_enable_write(ipc->fd, qmgr_ipc_event, ipc);
    qmgr_ipc_touch(ipc);
}

/* qmgr_ipc_timer - connect retry, or the idle deadline passed */
static void qmgr_ipc_timer(int event, void *context)
{
    QMGR_IPC *ipc = context;
    int     r;

    (void) event;
    if (event_now_ms() >= ipc->deadline) {
        msg_warn("%s: timeout after %lds", ipc->path, ipc->timeout_ms / 1000);
        qmgr_ipc_end(ipc, QMGR_IPC_BROKEN);
        return;
    }
    if (ipc->connected) {
        event_request_timer(qmgr_ipc_timer, ipc, (long) (ipc->deadline - event_now_ms()));
        return;
    }
    /* Still connecting: the backlog was full. */
    if ((r = qmgr_ipc_connect(ipc)) == 0) {
        qmgr_ipc_connected(ipc);
    } else if (r > 0) {
        event_request_timer(qmgr_ipc_timer, ipc, QMGR_IPC_RETRY_MS);
    } else {
        msg_warn("connect to %s: %m", ipc->path);
        qmgr_ipc_end(ipc, QMGR_IPC_UNAVAILABLE);
    }
}

/* qmgr_ipc_write - push request bytes; done: stop watching for write */
static int qmgr_ipc_write(QMGR_IPC *ipc)
{
    ssize_t n;

    while (ipc->out_pos < buf_len(ipc->out)) {
        n = send(ipc->fd, buf_str(ipc->out) + ipc->out_pos, buf_len(ipc->out) - ipc->out_pos,
                 MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return 0;
            msg_warn("write to %s: %m", ipc->path);
            return -1;
        }
        ipc->out_pos += (size_t) n;
    }
    event_disable_readwrite(ipc->fd);
    event_enable_read(ipc->fd, qmgr_ipc_event, ipc);
    return 0;
}

/* qmgr_ipc_read - take what arrived and hand over complete lists;
 * 1: the caller is done (ipc freed), 0: more to come, -1: broken */
static int qmgr_ipc_read(QMGR_IPC *ipc)
{
    char    chunk[8192];
    ssize_t n;
    size_t  len;
    int     r;

    n = recv(ipc->fd, chunk, sizeof(chunk), 0);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -1;
    if (n == 0)
        return -1;                                  /* EOF before the caller was done */
    buf_append(ipc->in, chunk, (size_t) n);
    while ((len = qmgr_attr_list_len(buf_str(ipc->in), buf_len(ipc->in))) > 0) {
        r = ipc->on_list(ipc, buf_str(ipc->in), len, ipc->ctx);
        if (r != 0) {
            qmgr_ipc_free(ipc);                     /* the caller has finished */
            return 1;
        }
        memmove(ipc->in->data, ipc->in->data + len, buf_len(ipc->in) - len);
        buf_truncate(ipc->in, buf_len(ipc->in) - len);
    }
    if (buf_len(ipc->in) > QMGR_IPC_READ_MAX) {
        msg_warn("%s: reply too long", ipc->path);
        return -1;
    }
    return 0;
}

/* qmgr_ipc_event - the socket is readable or writable */
static void qmgr_ipc_event(int event, void *context)
{
    QMGR_IPC *ipc = context;
    int     r = 0;

    qmgr_ipc_touch(ipc);
    if ((event & EVENT_WRITE) && qmgr_ipc_write(ipc) < 0) {
        qmgr_ipc_end(ipc, QMGR_IPC_BROKEN);
        return;
    }
    if (event & (EVENT_READ | EVENT_XCPT)) {
        if ((r = qmgr_ipc_read(ipc)) < 0)
            qmgr_ipc_end(ipc, QMGR_IPC_BROKEN);
    }
}

/* qmgr_ipc_start - see qmgr.h; NULL when the service can't be reached */
QMGR_IPC *qmgr_ipc_start(const char *path, const BUF *request, long timeout_s,
                         QMGR_IPC_LIST_FN on_list, QMGR_IPC_END_FN on_end, void *ctx)
{
    QMGR_IPC *ipc = xcalloc(1, sizeof(*ipc));
    int     r;

    ipc->fd = -1;
    ipc->path = xstrdup(path);
    ipc->out = buf_alloc(buf_len(request) + 1);
    buf_append(ipc->out, buf_str(request), buf_len(request));
    ipc->in = buf_alloc(256);
    ipc->timeout_ms = (timeout_s > 0 ? timeout_s : 1) * 1000L;
    ipc->on_list = on_list;
    ipc->on_end = on_end;
    ipc->ctx = ctx;
    ipc->deadline = event_now_ms() + ipc->timeout_ms;
    if ((r = qmgr_ipc_connect(ipc)) < 0) {
        int     saved = errno;

        qmgr_ipc_free(ipc);
        errno = saved;
        return NULL;
    }
    if (r == 0)
        qmgr_ipc_connected(ipc);
    else
        event_request_timer(qmgr_ipc_timer, ipc, QMGR_IPC_RETRY_MS);
    return ipc;
}
