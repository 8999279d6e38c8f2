/* bounce_submit - the original message in, the notice out through cleanup.
 *
 * The original is read from its queue file the way every reader must:
 * qfile_open_ready (regular, ready, one link, no symlink), then
 * qfile_verify over the whole file, and only then the content records
 * from M to X. What is returned is bounded: the header only for RET=HDRS,
 * at most bounce_size_limit bytes of the message for RET=FULL (cut at a
 * record boundary, as Postfix does).
 *
 * The notice goes to private/cleanup over the cleanup protocol of
 * mail_proto.h, with CLEANUP_FLAG_BOUNCE; it is queued only when cleanup
 * answers status 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "bounce.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "qfile.h"
#include "record.h"

#define BOUNCE_RECORD_LIMIT (64 * 1024)     /* qfile_verify's own bound */

/* bounce_copy_content - M .. X records into text, within the bounds */
static int bounce_copy_content(STREAM *s, int ret, long limit, BOUNCE_TEXT *text, BUF *why)
{
    BUF    *data = buf_alloc(256);
    int     type, line_start = 1, result = -1;

    if (rec_get(s, data, BOUNCE_RECORD_LIMIT) != REC_TYPE_MESG) {
        buf_set(why, "no content record at the data offset");
        buf_free(data);
        return -1;
    }
    for (;;) {
        type = rec_get(s, data, BOUNCE_RECORD_LIMIT);
        if (type == REC_TYPE_XTRA) {
            result = 0;
            break;
        }
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            buf_set(why, "bad record in content");
            break;
        }
        /* RET=HDRS: the header ends at the first empty line. */
        if (ret == BOUNCE_RET_HDRS && line_start && type == REC_TYPE_NORM && buf_len(data) == 0) {
            result = 0;
            break;
        }
        if ((long) (text->bytes + buf_len(data)) > limit) {
            /* Cut here; a line split across records ends where we stop. */
            if (text->count > 0)
                text->lines[text->count - 1].type = REC_TYPE_NORM;
            result = 0;
            break;
        }
        bounce_text_add(text, type, buf_str(data), buf_len(data));
        line_start = type == REC_TYPE_NORM;
    }
    buf_free(data);
    return result;
}

/* bounce_original_read - the returned part of a queued message.
 * 0 ok; -1 the file could not be opened (why); -2 it is corrupt (why). */
int bounce_original_read(const char *path, int ret, long limit, BOUNCE_TEXT *text,
                         struct timeval *arrival, BUF *why)
{
    QFILE_SUMMARY sum;
    struct stat st;
    STREAM *s;
    int     fd, result = -2;

    if ((fd = qfile_open_ready(path, O_RDONLY, &st, why)) < 0)
        return -1;
    s = stream_fdopen(fd);
    if (qfile_verify(s, &sum, why) == 0) {
        *arrival = sum.arrival;
        /* Read again from the M record, without the first pass's read-ahead. */
        stream_release(s);
        if (lseek(fd, (off_t) sum.sizes.data_offset, SEEK_SET) < 0) {
            buf_sprintf(why, "seek %s: %s", path, strerror(errno));
            close(fd);
            return -2;
        }
        s = stream_fdopen(fd);
        if (bounce_copy_content(s, ret, limit, text, why) == 0)
            result = 0;
    }
    stream_close(s);
    return result;
}

/* bounce_cleanup_open - connect to cleanup (private/ or public/, as
 * master.cf says: mail_connect.h) and get the new queue ID */
int bounce_cleanup_open(const char *queue_dir, int timeout, STREAM **stream, BUF *new_id,
                        BUF *why)
{
    STREAM *s;
    int     fd;

    if ((fd = mail_connect(queue_dir, MAIL_SERVICE_CLEANUP, why)) < 0)
        return -1;
    s = stream_fdopen(fd);
    stream_set_timeout(s, timeout);
    if (attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, CLEANUP_FLAG_BOUNCE), ATTR_END) < 0
        || attr_recv(s, RECV_STR(MAIL_ATTR_QUEUEID, new_id), ATTR_END) < 0) {
        buf_sprintf(why, "cleanup service: %s", attr_last_error());
        stream_close(s);
        return -1;
    }
    if (buf_len(new_id) == 0) {
        buf_set(why, "cleanup service could not create a queue file");
        stream_close(s);
        return -1;
    }
    *stream = s;
    return 0;
}

/* bounce_cleanup_send - envelope and content; 0 once cleanup committed it */
int bounce_cleanup_send(STREAM *s, const char *sender, const char *rcpt,
                        const BOUNCE_TEXT *text, BUF *why)
{
    BUF    *reason = buf_alloc(100);
    int     i, status = -1;

    rec_puts(s, REC_TYPE_FROM, sender);
    rec_puts(s, REC_TYPE_RCPT, rcpt);
    rec_put(s, REC_TYPE_MESG, "", 0);
    for (i = 0; i < text->count; i++)
        rec_put(s, text->lines[i].type, text->lines[i].data, text->lines[i].len);
    rec_put(s, REC_TYPE_XTRA, "", 0);
    rec_put(s, REC_TYPE_END, "", 0);
    if (stream_flush(s) < 0 || stream_error(s)) {
        buf_sprintf(why, "write to cleanup service: %s",
                    stream_timed_out(s) ? "timeout" : strerror(errno));
    } else if (attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status),
                         RECV_STR(MAIL_ATTR_WHY, reason), ATTR_END) < 0) {
        buf_sprintf(why, "cleanup service: %s", attr_last_error());
        status = -1;
    } else if (status != CLEANUP_STAT_OK) {
        buf_sprintf(why, "cleanup service status %d%s%s", status,
                    buf_len(reason) ? ": " : "", buf_str(reason));
    }
    buf_free(reason);
    return status == CLEANUP_STAT_OK ? 0 : -1;
}
