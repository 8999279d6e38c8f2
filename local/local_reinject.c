/* local_reinject - addresses that aliases or .forward files send elsewhere.
 *
 * An expansion that yields an address outside $mydestination is not ours
 * to deliver: as Postfix does, local submits a new message for it through
 * cleanup (the cleanup protocol of mail_proto.h), with the expansion's
 * envelope sender, the original recipient, and the original content after
 * a "Delivered-To: <recipient>" line, so that a forwarding loop through
 * other machines is seen when the mail comes back. The recipient counts as
 * delivered once cleanup has committed the new queue file.
 * No cleanup service (or any IPC trouble) defers the recipient; what
 * cleanup refuses for good (size, content, hops) bounces it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "config.h"
#include "local.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "queue_id.h"
#include "record.h"

/* local_cleanup_connect - a stream to the cleanup service (private/ or
 * public/, as master.cf says: mail_connect.h), or NULL with why */
static STREAM *local_cleanup_connect(BUF *why)
{
    int     fd;
    STREAM *s;

    if ((fd = mail_connect(config_str(P_queue_directory), MAIL_SERVICE_CLEANUP, why)) < 0)
        return NULL;
    s = stream_fdopen(fd);
    stream_set_timeout(s, (int) config_time(P_ipc_timeout));
    return s;
}

/* local_cleanup_status - cleanup's answer as a delivery status */
static void local_cleanup_status(LOCAL_STATUS *st, int stat, const char *reason,
                                 const char *id)
{
    /* The table every cleanup client shares (cleanup_status.h): the
     * enhanced code, and with it bounce or defer, as smtpd's reply says. */
    const CLEANUP_STAT_DETAIL *d = cleanup_stat_detail(stat);

    if (stat == CLEANUP_STAT_OK) {
        local_status_set(st, "2.0.0", "forwarded as %s", id);
        return;
    }
    local_status_set(st, d->dsn, "mail forwarding failed: %s", *reason ? reason : d->text);
}

/* local_deliver_forward - queue a copy for addr through cleanup */
int     local_deliver_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *addr,
                              LOCAL_STATUS *st)
{
    BUF    *why = buf_alloc(100);
    BUF    *id = buf_alloc(QUEUE_ID_BUFSZ);
    BUF    *reason = buf_alloc(100);
    BUF    *line = buf_alloc(100);
    STREAM *s;
    int     stat = -1;

    if ((s = local_cleanup_connect(why)) == NULL) {
        local_status_set(st, "4.3.0", "mail forwarding unavailable: %s", buf_str(why));
        goto done;
    }
    if (attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, CLEANUP_FLAG_MAP_OK), ATTR_END) < 0
        || attr_recv(s, RECV_STR(MAIL_ATTR_QUEUEID, id), ATTR_END) < 0) {
        local_status_set(st, "4.3.0", "mail forwarding failed: cleanup: %s", attr_last_error());
        goto done;
    }
    if (buf_len(id) == 0) {
        local_status_set(st, "4.3.0", "mail forwarding failed: cleanup has no queue file");
        goto done;
    }
    buf_sprintf(line, "Delivered-To: %s", state->delivered);
    if (rec_puts(s, REC_TYPE_FROM, attr->sender) < 0
        || rec_puts(s, REC_TYPE_ORCP, state->orig_rcpt) < 0
        || rec_puts(s, REC_TYPE_RCPT, addr) < 0
        || local_copy_records(state->msg, buf_str(line), s, why) < 0
        || rec_put(s, REC_TYPE_END, "", 0) < 0
        || stream_flush(s) < 0) {
        local_status_set(st, "4.3.0", "mail forwarding failed: %s",
                         buf_len(why) ? buf_str(why) : "write to cleanup failed");
        goto done;
    }
    if (attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &stat), RECV_STR(MAIL_ATTR_WHY, reason),
                  ATTR_END) < 0) {
        local_status_set(st, "4.3.0", "mail forwarding failed: cleanup: %s", attr_last_error());
        goto done;
    }
    local_cleanup_status(st, stat, buf_str(reason), buf_str(id));

  done:
    if (s)
        stream_close(s);
    buf_free(why);
    buf_free(id);
    buf_free(reason);
    buf_free(line);
    return st->stat;
}
