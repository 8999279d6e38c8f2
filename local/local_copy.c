/* local_copy - the message content, read from the queue file, as each
 * destination wants it (Postfix's mail_copy).
 *
 * The content is the queue file's records from M to X: an N record is a
 * line (its LF was taken off), an L record the first part of a line whose
 * rest follows in the next N or L. Every destination gets those bytes
 * exactly, lines ended with LF, with at most these additions:
 *     "From sender date" first line      mbox, /file, commands
 *     Return-Path: and Delivered-To:     every destination
 * (addresses in those lines in the external, RFC 5321 quoted form:
 * "john q. public"@example.org, as Postfix writes them)
 *     ">" before content lines that start with "From "   mbox, /file
 *     one empty line at the end          mbox, /file
 * local_msg_scan reads the headers once per request to find Delivered-To:
 * loops and count hops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "header_name.h"
#include "local.h"
#include "mem.h"
#include "record.h"
#include "safe_file.h"

#define LOCAL_COPY_CHUNK    (64 * 1024)     /* bytes collected before a write */
#define LOCAL_RECORD_LIMIT  (64 * 1024)     /* as qfile_verify allows */

/* local_msg_open - a stream over the content, positioned after the M record */
static STREAM *local_msg_open(const LOCAL_MSG *msg, BUF *why)
{
    STREAM *s;
    BUF    *data;
    int     fd;

    if ((fd = dup(msg->fd)) < 0) {
        buf_sprintf(why, "dup: %s", strerror(errno));
        return NULL;
    }
    if (lseek(fd, (off_t) msg->data_offset, SEEK_SET) < 0) {
        buf_sprintf(why, "seek queue file: %s", strerror(errno));
        close(fd);
        return NULL;
    }
    s = stream_fdopen(fd);
    data = buf_alloc(16);
    if (rec_get(s, data, LOCAL_RECORD_LIMIT) != REC_TYPE_MESG) {
        buf_sprintf(why, "queue file: no content record at offset %ld", msg->data_offset);
        stream_close(s);
        s = NULL;
    }
    buf_free(data);
    return s;
}

/* local_msg_remember - keep one Delivered-To: value (lower case, trimmed) */
static void local_msg_remember(LOCAL_MSG *msg, const char *value, size_t len)
{
    char   *copy;

    while (len > 0 && (*value == ' ' || *value == '\t'))
        value++, len--;
    while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r'))
        len--;
    if (msg->ndelivered >= LOCAL_MAX_DELIVERED)
        return;
    copy = xstrndup(value, len);
    dict_fold(copy);
    msg->delivered[msg->ndelivered++] = copy;
}

/* local_msg_scan - read the headers: Delivered-To: values and the hop count */
int     local_msg_scan(LOCAL_MSG *msg, BUF *why)
{
    STREAM *s;
    BUF    *data = buf_alloc(256);
    int     type, line_start = 1, ret = -1;
    size_t  at;

    local_msg_free_headers(msg);
    if ((s = local_msg_open(msg, why)) == NULL) {
        buf_free(data);
        return -1;
    }
    for (;;) {
        type = rec_get(s, data, LOCAL_RECORD_LIMIT);
        if (type == REC_TYPE_XTRA) {
            ret = 0;
            break;
        }
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            buf_sprintf(why, "queue file: bad content record");
            break;
        }
        if (line_start) {
            if (type == REC_TYPE_NORM && buf_len(data) == 0) {
                ret = 0;                        /* end of the headers */
                break;
            }
            if ((at = header_named(buf_str(data), buf_len(data), "Delivered-To")) > 0)
                local_msg_remember(msg, buf_str(data) + at, buf_len(data) - at);
            else if (header_is_hop(buf_str(data), buf_len(data)))
                msg->hops++;
        }
        line_start = (type == REC_TYPE_NORM);
    }
    stream_close(s);
    buf_free(data);
    return ret;
}

/* local_msg_delivered - has this message already been delivered to addr
 * (internal form)? Delivered-To: carries the external form; the internal
 * one is accepted too (what older copies of local wrote). */
int     local_msg_delivered(const LOCAL_MSG *msg, const char *addr)
{
    BUF    *ext = buf_alloc(100);
    int     i, found = 0;

    address_externalize(addr, ext);
    for (i = 0; i < msg->ndelivered && !found; i++)
        found = strcasecmp(msg->delivered[i], buf_str(ext)) == 0
            || strcasecmp(msg->delivered[i], addr) == 0;
    buf_free(ext);
    return found;
}

/* local_msg_free_headers - forget what local_msg_scan learned */
void    local_msg_free_headers(LOCAL_MSG *msg)
{
    int     i;

    for (i = 0; i < msg->ndelivered; i++)
        xfree(msg->delivered[i]);
    msg->ndelivered = 0;
    msg->hops = 0;
}

/* local_from_line - "From sender  date" (asctime format, as mailers
 * expect); the sender (internal form) is written quoted, as Postfix does */
void    local_from_line(BUF *out, const char *sender, time_t when)
{
    struct tm tm;
    char    date[64];
    BUF    *ext = buf_alloc(100);

    localtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
    address_externalize(sender, ext);
    buf_printf(out, "From %s  %s\n", *sender ? buf_str(ext) : "MAILER-DAEMON", date);
    buf_free(ext);
}

/* local_copy_flush - write what is collected; -1 on a write error */
static int local_copy_flush(int fd, BUF *out, long *written, long limit)
{
    if (limit > 0 && *written + (long) buf_len(out) > limit)
        return LOCAL_COPY_LIMIT;
    if (write_all(fd, buf_str(out), buf_len(out)) < 0)
        return LOCAL_COPY_WRITE;
    *written += (long) buf_len(out);
    buf_reset(out);
    return LOCAL_COPY_OK;
}

/* local_copy - write the message to fd the way flags say; at most limit
 * bytes (0: no limit). LOCAL_COPY_OK or a LOCAL_COPY_* error (errno kept
 * for LOCAL_COPY_WRITE) */
int     local_copy(const LOCAL_MSG *msg, const char *sender, const char *delivered,
                   int fd, int flags, long limit, BUF *why)
{
    STREAM *s;
    BUF    *data = buf_alloc(256);
    BUF    *out = buf_alloc(LOCAL_COPY_CHUNK + 1024);
    long    written = 0;
    int     type, line_start = 1, ret = LOCAL_COPY_OK, saved_errno;

    if ((s = local_msg_open(msg, why)) == NULL) {
        buf_free(data);
        buf_free(out);
        return LOCAL_COPY_READ;
    }
    if (flags & LOCAL_COPY_FROM)
        local_from_line(out, sender, time(NULL));
    if (flags & LOCAL_COPY_HEADERS) {
        BUF    *ext = buf_alloc(100);

        address_externalize(sender, ext);
        buf_printf(out, "Return-Path: <%s>\nDelivered-To: %s\n", buf_str(ext), delivered);
        buf_free(ext);
    }
    while (ret == LOCAL_COPY_OK) {
        type = rec_get(s, data, LOCAL_RECORD_LIMIT);
        if (type == REC_TYPE_XTRA)
            break;
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            buf_sprintf(why, "queue file: bad content record");
            ret = LOCAL_COPY_READ;
            break;
        }
        if ((flags & LOCAL_COPY_QUOTE) && line_start && strncmp(buf_str(data), "From ", 5) == 0)
            buf_putc(out, '>');
        buf_append(out, buf_str(data), buf_len(data));
        if (type == REC_TYPE_NORM)
            buf_putc(out, '\n');
        line_start = (type == REC_TYPE_NORM);
        if (buf_len(out) >= LOCAL_COPY_CHUNK)
            ret = local_copy_flush(fd, out, &written, limit);
    }
    if (ret == LOCAL_COPY_OK && (flags & LOCAL_COPY_BLANK))
        buf_putc(out, '\n');
    if (ret == LOCAL_COPY_OK)
        ret = local_copy_flush(fd, out, &written, limit);
    saved_errno = errno;
    if (ret == LOCAL_COPY_WRITE)
        buf_sprintf(why, "%s", strerror(saved_errno));
    else if (ret == LOCAL_COPY_LIMIT)
        buf_sprintf(why, "message would exceed the size limit of %ld bytes", limit);
    stream_close(s);
    buf_free(data);
    buf_free(out);
    errno = saved_errno;
    return ret;
}

/* local_copy_records - the content records M..X as they are, after one
 * extra header line (forwarding through cleanup); 0, or -1 with why */
int     local_copy_records(const LOCAL_MSG *msg, const char *first_line, STREAM *out, BUF *why)
{
    STREAM *s;
    BUF    *data = buf_alloc(256);
    int     type, ret = 0;

    if ((s = local_msg_open(msg, why)) == NULL) {
        buf_free(data);
        return -1;
    }
    if (rec_put(out, REC_TYPE_MESG, "", 0) < 0 || rec_puts(out, REC_TYPE_NORM, first_line) < 0)
        ret = -1;
    while (ret == 0) {
        type = rec_get(s, data, LOCAL_RECORD_LIMIT);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT && type != REC_TYPE_XTRA) {
            buf_sprintf(why, "queue file: bad content record");
            ret = -1;
            break;
        }
        if (rec_put(out, type, buf_str(data), buf_len(data)) < 0) {
            buf_sprintf(why, "write to cleanup: %s", strerror(errno));
            ret = -1;
        }
        if (type == REC_TYPE_XTRA)
            break;
    }
    stream_close(s);
    buf_free(data);
    return ret;
}
