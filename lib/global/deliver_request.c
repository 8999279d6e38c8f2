/* deliver_request - read a delivery request, answer it; see
 * deliver_request.h for the bounds and mail_proto.h for the protocol. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "deliver_request.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"

/* The BUFs one read fills; values are checked, then copied out. */
typedef struct DR_BUFS {
    BUF    *queue, *id, *nexthop, *sender, *envid, *ret;
    BUF    *orig, *addr, *orcpt;
} DR_BUFS;

static void dr_bufs_init(DR_BUFS *b)
{
    b->queue = buf_alloc(16);
    b->id = buf_alloc(QUEUE_ID_BUFSZ);
    b->nexthop = buf_alloc(64);
    b->sender = buf_alloc(64);
    b->envid = buf_alloc(16);
    b->ret = buf_alloc(8);
    b->orig = buf_alloc(64);
    b->addr = buf_alloc(64);
    b->orcpt = buf_alloc(64);
}

static void dr_bufs_free(DR_BUFS *b)
{
    buf_free(b->queue);
    buf_free(b->id);
    buf_free(b->nexthop);
    buf_free(b->sender);
    buf_free(b->envid);
    buf_free(b->ret);
    buf_free(b->orig);
    buf_free(b->addr);
    buf_free(b->orcpt);
}

/* dr_len_ok - a value within its bound; else why names the field */
static int dr_len_ok(const char *field, const BUF *value, size_t max, BUF *why)
{
    if (buf_len(value) <= max)
        return 1;
    buf_sprintf(why, "%s: %zu bytes, more than %zu", field, buf_len(value), max);
    return 0;
}

/* dr_check_head - the numbers and texts of the request's first list */
static int dr_check_head(const DELIVER_REQUEST *req, int nrcpt, const DR_BUFS *b, BUF *why)
{
    if (!dr_len_ok(MAIL_ATTR_QUEUE, b->queue, DELIVER_QUEUE_MAX, why)
        || !dr_len_ok(MAIL_ATTR_NEXTHOP, b->nexthop, DELIVER_NEXTHOP_MAX, why)
        || !dr_len_ok(MAIL_ATTR_SENDER, b->sender, DELIVER_ADDR_MAX, why)
        || !dr_len_ok(MAIL_ATTR_ENVID, b->envid, DELIVER_ENVID_MAX, why)
        || !dr_len_ok(MAIL_ATTR_RET, b->ret, DELIVER_RET_MAX, why))
        return 0;
    if (!dr_len_ok(MAIL_ATTR_QUEUEID, b->id, QUEUE_ID_MAX, why))
        return 0;
    if (req->data_offset < 0 || req->data_size < 0 || req->arrival < 0) {
        buf_sprintf(why, "negative offset, size or arrival time (%ld, %ld, %ld)",
                    req->data_offset, req->data_size, req->arrival);
        return 0;
    }
    if (nrcpt < 1 || nrcpt > DELIVER_RCPT_MAX) {
        buf_sprintf(why, "%s: %d recipients, not 1..%d", MAIL_ATTR_NRCPT, nrcpt,
                    DELIVER_RCPT_MAX);
        return 0;
    }
    return 1;
}

/* dr_read_rcpt - recipient n; 0 or -1 with why */
static int dr_read_rcpt(STREAM *client, DR_BUFS *b, int n, DELIVER_RCPT *r, BUF *why)
{
    if (attr_recv(client, RECV_STR(MAIL_ATTR_ORCPT, b->orig), RECV_STR(MAIL_ATTR_RECIP, b->addr),
                  RECV_STR(MAIL_ATTR_DSN_ORCPT, b->orcpt),
                  RECV_INT(MAIL_ATTR_DSN_NOTIFY, &r->dsn_notify),
                  RECV_LONG(MAIL_ATTR_OFFSET, &r->offset), ATTR_END) < 0) {
        buf_sprintf(why, "recipient %d: %s", n + 1, attr_last_error());
        return -1;
    }
    if (!dr_len_ok(MAIL_ATTR_ORCPT, b->orig, DELIVER_ADDR_MAX, why)
        || !dr_len_ok(MAIL_ATTR_RECIP, b->addr, DELIVER_ADDR_MAX, why)
        || !dr_len_ok(MAIL_ATTR_DSN_ORCPT, b->orcpt, DELIVER_ADDR_MAX, why)) {
        buf_printf(why, " (recipient %d)", n + 1);
        return -1;
    }
    if (buf_len(b->addr) == 0 || r->offset < 0
        || (r->dsn_notify & ~DELIVER_NOTIFY_MASK) != 0) {
        buf_sprintf(why, "recipient %d: empty address, negative offset or bad %s %d", n + 1,
                    MAIL_ATTR_DSN_NOTIFY, r->dsn_notify);
        return -1;
    }
    r->orig_addr = xstrdup(buf_str(b->orig));
    r->address = xstrdup(buf_str(b->addr));
    r->dsn_orcpt = xstrdup(buf_str(b->orcpt));
    return 0;
}

/* deliver_request_read - see deliver_request.h */
int deliver_request_read(STREAM *client, DELIVER_REQUEST *req, BUF *why)
{
    DR_BUFS b;
    int     n, nrcpt, ret = -1;

    memset(req, 0, sizeof(*req));
    dr_bufs_init(&b);
    if (attr_recv(client, RECV_INT(MAIL_ATTR_FLAGS, &req->flags),
                  RECV_STR(MAIL_ATTR_QUEUE, b.queue),
                  RECV_STR(MAIL_ATTR_QUEUEID, b.id),
                  RECV_LONG(MAIL_ATTR_OFFSET, &req->data_offset),
                  RECV_LONG(MAIL_ATTR_SIZE, &req->data_size),
                  RECV_STR(MAIL_ATTR_NEXTHOP, b.nexthop),
                  RECV_STR(MAIL_ATTR_SENDER, b.sender),
                  RECV_STR(MAIL_ATTR_ENVID, b.envid),
                  RECV_STR(MAIL_ATTR_RET, b.ret),
                  RECV_LONG(MAIL_ATTR_ARRIVAL, &req->arrival),
                  RECV_INT(MAIL_ATTR_NRCPT, &nrcpt), ATTR_END) < 0) {
        if (attr_last_eof())
            ret = 0;
        else
            buf_sprintf(why, "%s", attr_last_error());
        goto done;
    }
    if (!dr_check_head(req, nrcpt, &b, why))
        goto done;
    memcpy(req->queue_name, buf_str(b.queue), buf_len(b.queue) + 1);
    memcpy(req->queue_id, buf_str(b.id), buf_len(b.id) + 1);
    req->nexthop = xstrdup(buf_str(b.nexthop));
    req->sender = xstrdup(buf_str(b.sender));
    req->dsn_envid = xstrdup(buf_str(b.envid));
    req->dsn_ret = xstrdup(buf_str(b.ret));
    /* req->nrcpt counts the recipients read so far, for free */
    req->rcpt = xcalloc((size_t) nrcpt, sizeof(DELIVER_RCPT));
    for (n = 0; n < nrcpt; n++) {
        if (dr_read_rcpt(client, &b, n, &req->rcpt[n], why) < 0)
            goto done;
        req->nrcpt = n + 1;
    }
    gettimeofday(&req->start, NULL);
    ret = 1;

  done:
    dr_bufs_free(&b);
    if (ret < 1)
        deliver_request_free(req);
    return ret;
}

/* deliver_request_free - release what a read allocated; req is left empty */
void deliver_request_free(DELIVER_REQUEST *req)
{
    int     i;

    for (i = 0; i < req->nrcpt; i++) {
        xfree(req->rcpt[i].orig_addr);
        xfree(req->rcpt[i].address);
        xfree(req->rcpt[i].dsn_orcpt);
    }
    xfree(req->rcpt);
    xfree(req->nexthop);
    xfree(req->sender);
    xfree(req->dsn_envid);
    xfree(req->dsn_ret);
    memset(req, 0, sizeof(*req));
}

/* deliver_request_path - see deliver_request.h */
int deliver_request_path(const DELIVER_REQUEST *req, const char *queue_dir, BUF *path, BUF *why)
{
    const char *name = req->queue_name;

    if (strchr(name, '/') || *name == '.' || *name == 0 || mail_queue_dir_find(name) == NULL) {
        buf_sprintf(why, "bad queue name \"%s\"", name);
        return -1;
    }
    if (!queue_id_valid(req->queue_id)
        || mail_queue_path(path, queue_dir, name, req->queue_id) < 0) {
        buf_sprintf(why, "bad queue ID \"%s\"", req->queue_id);
        return -1;
    }
    return 0;
}

/* deliver_request_open - see deliver_request.h */
int     deliver_request_open(const DELIVER_REQUEST *req, const char *queue_dir, BUF *why)
{
    BUF    *path = buf_alloc(100);
    struct stat st, now;
    time_t  deadline = time(NULL) + DELIVER_FLOCK_WAIT;
    int     fd = -1;

    if (deliver_request_path(req, queue_dir, path, why) < 0
        || (fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0)
        goto fail;
    while (flock(fd, LOCK_SH | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || time(NULL) >= deadline) {
            buf_sprintf(why, "cannot lock queue file: %s", strerror(errno));
            goto fail;
        }
        usleep(50000);
    }
    if (lstat(buf_str(path), &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        buf_sprintf(why, "queue file %s was moved or removed meanwhile", buf_str(path));
        goto fail;
    }
    buf_free(path);
    return fd;

  fail:
    if (fd >= 0)
        close(fd);
    buf_free(path);
    return -1;
}

/* deliver_reply_rcpt - see deliver_request.h */
int deliver_reply_rcpt(STREAM *client, const DELIVER_RCPT *rcpt, int status, const char *dsn,
                       const char *reason)
{
    return attr_send(client, SEND_LONG(MAIL_ATTR_OFFSET, rcpt->offset),
                     SEND_INT(MAIL_ATTR_STATUS, status),
                     SEND_STR(MAIL_ATTR_DSN_STATUS, dsn),
                     SEND_STR(MAIL_ATTR_WHY, reason), ATTR_END);
}

/* deliver_reply_done - see deliver_request.h */
int deliver_reply_done(STREAM *client, int status)
{
    return attr_send(client, SEND_INT(MAIL_ATTR_STATUS, status), ATTR_END);
}

/* deliver_request_serve - see deliver_request.h */
void    deliver_request_serve(STREAM *client, DELIVER_REQUEST_FN fn)
{
    DELIVER_REQUEST req;
    BUF    *why = buf_alloc(64);
    int     got;

    stream_set_timeout(client, (int) config_time(P_ipc_timeout));
    while ((got = deliver_request_read(client, &req, why)) > 0) {
        got = fn(client, &req);
        deliver_request_free(&req);
        if (got < 0)
            break;
    }
    if (got < 0 && buf_len(why) > 0)
        msg_warn("delivery request: %s", buf_str(why));
    buf_free(why);
}
