/* cleanup_out - records into the queue file, and the qmgr trigger.
 *
 * Nothing is written once the message is doomed (an error, DISCARD): the
 * file is removed at the end anyway. Content lines are written in pieces
 * of at most CLEANUP_OUT_CHUNK bytes (L records, then the N that ends
 * the line), so that no record exceeds what queue-file readers accept,
 * and the content size is counted the way qfile_verify counts it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "record.h"

/* cleanup_out - one record, unless the message is doomed */
void cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (!CLEANUP_OUT_OK(state))
        return;
    if (rec_put(state->dst, type, data, len) < 0) {
        msg_warn("%s: write queue file: %m", state->queue_id);
        state->errs |= CLEANUP_STAT_WRITE;
    }
}

void cleanup_out_string(CLEANUP_STATE *state, int type, const char *str)
{
    cleanup_out(state, type, str, strlen(str));
}

/* cleanup_out_line - a content line (or, partial, a piece of one) */
void cleanup_out_line(CLEANUP_STATE *state, const char *data, size_t len, int partial)
{
    while (len > CLEANUP_OUT_CHUNK) {
        cleanup_out(state, REC_TYPE_CONT, data, CLEANUP_OUT_CHUNK);
        state->content_size += CLEANUP_OUT_CHUNK;
        data += CLEANUP_OUT_CHUNK;
        len -= CLEANUP_OUT_CHUNK;
    }
    if (partial && len == 0)
        return;
    cleanup_out(state, partial ? REC_TYPE_CONT : REC_TYPE_NORM, data, len);
    state->content_size += (long) len + (partial ? 0 : 1);
}

/* cleanup_out_header - a logical header: one N record per physical line */
void cleanup_out_header(CLEANUP_STATE *state, const char *text, size_t len)
{
    const char *nl;

    while ((nl = memchr(text, '\n', len)) != NULL) {
        cleanup_out_line(state, text, (size_t) (nl - text), 0);
        len -= (size_t) (nl - text) + 1;
        text = nl + 1;
    }
    cleanup_out_line(state, text, len, 0);
}

/* cleanup_trigger_qmgr - tell qmgr that incoming/ has news; never wait.
 * Errors are ignored: qmgr also scans incoming/ on its own timer. */
void cleanup_trigger_qmgr(void)
{
    struct sockaddr_un sun;
    char    ch = TRIGGER_SCAN_INCOMING;
    int     fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s",
                          cleanup_conf.queue_dir, MAIL_QUEUE_PUBLIC, MAIL_SERVICE_QMGR)
        >= sizeof(sun.sun_path))
        return;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0)
        (void) send(fd, &ch, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
    close(fd);
}
