/* local_service - the delivery protocol (mail_proto.h) on private/local.
 *
 * One client (qmgr) at a time. For each request: read the request and its
 * recipients, strictly; open the queue file read-only (qfile_open_ready:
 * regular, ready, one link, no symbolic link) and hold a shared flock on
 * it while delivering, so that qmgr's exclusive lock tells it whether
 * anyone is still delivering; check the whole file (qfile_verify) before
 * believing a byte of it; deliver each recipient (local_resolve.c); answer
 * one result per recipient, then {status=0}. The queue file is never
 * changed here: qmgr marks delivered recipients done.
 * A queue file that cannot be opened, locked or read defers every
 * recipient of the request with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "local.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "queue_id.h"
#include "resolve_local.h"

#define LOCAL_RCPT_MAX      10000   /* recipients per request */
#define LOCAL_FLOCK_WAIT    10      /* seconds to wait for the shared lock */

/* One recipient of a request. */
typedef struct LOCAL_RCPT {
    char   *orig;                   /* original_recipient */
    char   *addr;                   /* recipient */
    long    offset;                 /* of its R record: how qmgr knows it */
} LOCAL_RCPT;

/* A request as read from qmgr. */
typedef struct LOCAL_REQUEST {
    BUF    *queue_name;
    BUF    *queue_id;
    BUF    *sender;
    BUF    *arrival;
    long    offset;
    long    size;
    int     nrcpt;
    LOCAL_RCPT *rcpt;
} LOCAL_REQUEST;

/* local_init - after the privilege checklist: open the alias and domain tables */
void    local_init(void)
{
    BUF    *why = buf_alloc(100);

    umask(077);
    if (local_alias_open(config_str(P_alias_maps), why) < 0)
        msg_fatal("alias_maps: %s", buf_str(why));
    /* Which domains are ours: the lists and their tables, opened now. */
    if (resolve_local_init(why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
}

/* local_request_free - release a request */
static void local_request_free(LOCAL_REQUEST *req)
{
    int     i;

    for (i = 0; i < req->nrcpt; i++) {
        xfree(req->rcpt[i].orig);
        xfree(req->rcpt[i].addr);
    }
    xfree(req->rcpt);
    buf_free(req->queue_name);
    buf_free(req->queue_id);
    buf_free(req->sender);
    buf_free(req->arrival);
}

/* local_request_read - the request and its recipients; 1 ok, 0 clean EOF, -1 bad */
static int local_request_read(STREAM *client, LOCAL_REQUEST *req)
{
    BUF    *nexthop = buf_alloc(64), *envid = buf_alloc(64), *ret = buf_alloc(8);
    BUF    *orig = buf_alloc(64), *addr = buf_alloc(64), *dsn_orcpt = buf_alloc(64);
    int     flags, notify, n = 0, result = -1;

    memset(req, 0, sizeof(*req));
    req->queue_name = buf_alloc(16);
    req->queue_id = buf_alloc(QUEUE_ID_BUFSZ);
    req->sender = buf_alloc(64);
    req->arrival = buf_alloc(32);
    if (attr_recv(client, RECV_INT(MAIL_ATTR_FLAGS, &flags),
                  RECV_STR(MAIL_ATTR_QUEUE, req->queue_name),
                  RECV_STR(MAIL_ATTR_QUEUEID, req->queue_id),
                  RECV_LONG(MAIL_ATTR_OFFSET, &req->offset),
                  RECV_LONG(MAIL_ATTR_SIZE, &req->size),
                  RECV_STR(MAIL_ATTR_NEXTHOP, nexthop),
                  RECV_STR(MAIL_ATTR_SENDER, req->sender),
                  RECV_STR(MAIL_ATTR_ENVID, envid),
                  RECV_STR(MAIL_ATTR_RET, ret),     /* FULL, HDRS or "" */
                  RECV_STR(MAIL_ATTR_ARRIVAL, req->arrival),
                  RECV_INT(MAIL_ATTR_NRCPT, &req->nrcpt), ATTR_END) < 0) {
        if (attr_last_eof())
            result = 0;
        else
            msg_warn("delivery request: %s", attr_last_error());
        req->nrcpt = 0;
        goto done;
    }
    if (req->nrcpt < 1 || req->nrcpt > LOCAL_RCPT_MAX) {
        msg_warn("delivery request: bad recipient count %d", req->nrcpt);
        req->nrcpt = 0;
        goto done;
    }
    req->rcpt = xcalloc((size_t) req->nrcpt, sizeof(LOCAL_RCPT));
    for (n = 0; n < req->nrcpt; n++) {
        if (attr_recv(client, RECV_STR(MAIL_ATTR_ORCPT, orig), RECV_STR(MAIL_ATTR_RECIP, addr),
                      RECV_STR(MAIL_ATTR_DSN_ORCPT, dsn_orcpt),
                      RECV_INT(MAIL_ATTR_DSN_NOTIFY, &notify),
                      RECV_LONG(MAIL_ATTR_OFFSET, &req->rcpt[n].offset), ATTR_END) < 0) {
            msg_warn("delivery request: recipient %d: %s", n + 1, attr_last_error());
            break;
        }
        req->rcpt[n].orig = xstrdup(buf_str(orig));
        req->rcpt[n].addr = xstrdup(buf_str(addr));
    }
    if (n == req->nrcpt)
        result = 1;
    req->nrcpt = n;

  done:
    buf_free(nexthop);
    buf_free(envid);
    buf_free(ret);
    buf_free(orig);
    buf_free(addr);
    buf_free(dsn_orcpt);
    return result;
}

/* local_queue_path - where the file of this request is; -1 for bad names */
static int local_queue_path(const LOCAL_REQUEST *req, BUF *path, BUF *why)
{
    const char *name = buf_str(req->queue_name);
    int     depth = 0;

    if (strchr(name, '/') || *name == '.' || mail_queue_dir_find(name) == NULL) {
        buf_sprintf(why, "bad queue name \"%s\"", name);
        return -1;
    }
    if (!queue_id_valid(buf_str(req->queue_id))) {
        buf_sprintf(why, "bad queue ID \"%s\"", buf_str(req->queue_id));
        return -1;
    }
    if (local_list_has(config_str(P_hash_queue_names), name))
        depth = (int) config_int(P_hash_queue_depth);
    qfile_path(path, config_str(P_queue_directory), name, buf_str(req->queue_id), depth);
    return 0;
}

/* local_queue_open - open, lock shared, verify; fd or -1 with why */
static int local_queue_open(const LOCAL_REQUEST *req, LOCAL_MSG *msg, BUF *why)
{
    BUF    *path = buf_alloc(100);
    QFILE_SUMMARY sum;
    struct stat st, now;
    STREAM *s;
    time_t  deadline = time(NULL) + LOCAL_FLOCK_WAIT;
    int     fd = -1, vfd;

    if (local_queue_path(req, path, why) < 0
        || (fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0)
        goto fail;
    while (flock(fd, LOCK_SH | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || time(NULL) >= deadline) {
            buf_sprintf(why, "cannot lock queue file: %s", strerror(errno));
            goto fail;
        }
        usleep(50000);
    }
    /* `surel queue` changes a file only under an exclusive lock: if it
     * held that lock while we waited, the file may since have been
     * deleted, held or requeued. Deliver only what is still where qmgr
     * said it is (the path still names our inode). */
    if (lstat(buf_str(path), &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        buf_sprintf(why, "queue file %s was moved or removed meanwhile", buf_str(path));
        goto fail;
    }
    if ((vfd = dup(fd)) < 0 || lseek(vfd, 0, SEEK_SET) < 0) {
        buf_sprintf(why, "queue file: %s", strerror(errno));
        if (vfd >= 0)
            close(vfd);
        goto fail;
    }
    s = stream_fdopen(vfd);
    if (qfile_verify(s, &sum, why) < 0) {
        stream_close(s);
        goto fail;
    }
    stream_close(s);
    if (sum.sizes.data_offset != req->offset)
        msg_warn("%s: request offset %ld, queue file says %ld: using the file's",
                 buf_str(req->queue_id), req->offset, sum.sizes.data_offset);
    msg->fd = fd;
    msg->data_offset = sum.sizes.data_offset;
    msg->content_size = sum.sizes.content_size;
    msg->arrival = sum.arrival;
    buf_free(path);
    return fd;

  fail:
    if (fd >= 0)
        close(fd);
    buf_free(path);
    return -1;
}

/* local_reply - one recipient's result to qmgr */
static int local_reply(STREAM *client, long offset, const LOCAL_STATUS *st)
{
    return attr_send(client, SEND_LONG(MAIL_ATTR_OFFSET, offset),
                     SEND_INT(MAIL_ATTR_STATUS, st->stat),
                     SEND_STR(MAIL_ATTR_DSN_STATUS, st->dsn),
                     SEND_STR(MAIL_ATTR_WHY, buf_str(st->why)), ATTR_END);
}

/* local_request - deliver one request and answer it; -1 when the client is gone */
static int local_request(STREAM *client, LOCAL_REQUEST *req)
{
    LOCAL_MSG msg;
    LOCAL_STATE state;
    BUF    *why = buf_alloc(100);
    int     i, ok, ret = 0;

    memset(&msg, 0, sizeof(msg));
    msg.fd = -1;
    msg.queue_id = buf_str(req->queue_id);
    msg.sender = buf_str(req->sender);
    gettimeofday(&msg.start, NULL);
    msg.arrival = msg.start;
    ok = local_queue_open(req, &msg, why) >= 0 && local_msg_scan(&msg, why) == 0;
    if (!ok)
        msg_warn("%s: %s", msg.queue_id, buf_str(why));
    for (i = 0; i < req->nrcpt && ret == 0; i++) {
        local_state_init(&state, &msg, req->rcpt[i].orig, req->rcpt[i].addr);
        if (ok) {
            local_deliver_recipient(&state, req->rcpt[i].addr);
        } else {
            local_status_set(&state.result, "4.3.0", "cannot read queue file: %s", buf_str(why));
            local_log_result(&state, req->rcpt[i].addr, &state.result);
        }
        if (local_reply(client, req->rcpt[i].offset, &state.result) < 0)
            ret = -1;
        local_state_free(&state);
    }
    /* Release the shared lock before saying "done": qmgr may lock the file
     * exclusively as soon as it has the answer. */
    local_msg_free_headers(&msg);
    if (msg.fd >= 0)
        close(msg.fd);
    if (ret == 0 && attr_send(client, SEND_INT(MAIL_ATTR_STATUS, 0), ATTR_END) < 0)
        ret = -1;
    if (ret < 0)
        msg_warn("%s: reply to qmgr: %s", msg.queue_id, attr_last_error());
    buf_free(why);
    return ret;
}

/* local_service - serve one client: requests until it hangs up */
void    local_service(STREAM *client, const SERVER_CTX *ctx)
{
    LOCAL_REQUEST req;
    int     got;

    (void) ctx;
    stream_set_timeout(client, (int) config_time(P_ipc_timeout));
    while ((got = local_request_read(client, &req)) > 0) {
        got = local_request(client, &req);
        local_request_free(&req);
        if (got < 0)
            return;
    }
    local_request_free(&req);
}
