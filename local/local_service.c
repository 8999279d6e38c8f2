/* local_service - the delivery protocol (mail_proto.h) on private/local.
 *
 * One client (qmgr) at a time. For each request: read the request and its
 * recipients, strictly and within bounds (deliver_request.h, shared by
 * every agent); open the queue file read-only (qfile_open_ready:
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
#include "deliver_request.h"
#include "local.h"
#include "mail_proto.h"
#include "msg.h"
#include "qfile.h"
#include "resolve_local.h"


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

/* local_queue_open - open, lock shared, verify; fd or -1 with why */
static int local_queue_open(const DELIVER_REQUEST *req, LOCAL_MSG *msg, BUF *why)
{
    QFILE_SUMMARY sum;
    STREAM *s;
    int     fd, vfd;

    /* Open, lock shared, still where qmgr said (deliver_request_open). */
    if ((fd = deliver_request_open(req, config_str(P_queue_directory), why)) < 0)
        return -1;
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
    if (sum.sizes.data_offset != req->data_offset)
        msg_warn("%s: request offset %ld, queue file says %ld: using the file's",
                 req->queue_id, req->data_offset, sum.sizes.data_offset);
    msg->fd = fd;
    msg->data_offset = sum.sizes.data_offset;
    msg->content_size = sum.sizes.content_size;
    msg->arrival = sum.arrival;
    return fd;

  fail:
    close(fd);
    return -1;
}

/* local_request - deliver one request and answer it; -1 when the client is gone */
static int local_request(STREAM *client, DELIVER_REQUEST *req)
{
    LOCAL_MSG msg;
    LOCAL_STATE state;
    BUF    *why = buf_alloc(100);
    int     i, ok, ret = 0;

    memset(&msg, 0, sizeof(msg));
    msg.fd = -1;
    msg.req = req;
    msg.queue_id = req->queue_id;
    msg.sender = req->sender;
    msg.start = req->start;
    msg.arrival.tv_sec = (time_t) req->arrival;     /* until the queue file says better */
    ok = local_queue_open(req, &msg, why) >= 0 && local_msg_scan(&msg, why) == 0;
    if (!ok)
        msg_warn("%s: %s", msg.queue_id, buf_str(why));
    for (i = 0; i < req->nrcpt && ret == 0; i++) {
        local_state_init(&state, &msg, req->rcpt[i].orig_addr, req->rcpt[i].address);
        state.rcpt = &req->rcpt[i];
        if (ok) {
            if (local_virtual_mode)
                local_virtual_recipient(&state, req->rcpt[i].address);
            else
                local_deliver_recipient(&state, req->rcpt[i].address);
        } else {
            local_status_set(&state.result, "4.3.0", "cannot read queue file: %s", buf_str(why));
            local_log_result(&state, req->rcpt[i].address, &state.result);
        }
        if (deliver_reply_rcpt(client, &req->rcpt[i], state.result.stat, state.result.dsn,
                               buf_str(state.result.why)) < 0)
            ret = -1;
        local_state_free(&state);
    }
    /* Release the shared lock before saying "done": qmgr may lock the file
     * exclusively as soon as it has the answer. */
    local_msg_free_headers(&msg);
    if (msg.fd >= 0)
        close(msg.fd);
    if (ret == 0 && deliver_reply_done(client, 0) < 0)
        ret = -1;
    if (ret < 0)
        msg_warn("%s: reply to qmgr: %s", msg.queue_id, attr_last_error());
    buf_free(why);
    return ret;
}

/* local_service - serve one client: requests until it hangs up */
void    local_service(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    deliver_request_serve(client, local_request);
}
