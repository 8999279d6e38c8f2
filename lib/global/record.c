/* record - typed, length-prefixed records; see record.h for the format. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

/* rec_put - write one record; 0 or -1 (the stream says why) */
int rec_put(STREAM *s, int type, const void *data, size_t len)
{
    unsigned char hdr[12];
    size_t  n = 0;
    size_t  left = len;

    if (len > REC_LEN_MAX)
        return -1;
    hdr[n++] = (unsigned char) type;
    do {
        unsigned char ch = left & 0x7f;

        left >>= 7;
        if (left)
            ch |= 0x80;
        hdr[n++] = ch;
    } while (left);
    if (stream_write(s, hdr, n) < 0)
        return -1;
    return len ? stream_write(s, data, len) : 0;
}

int rec_puts(STREAM *s, int type, const char *str)
{
    return rec_put(s, type, str, strlen(str));
}

int rec_fprintf(STREAM *s, int type, const char *fmt, ...)
{
    BUF    *buf = buf_alloc(100);
    va_list ap;
    int     ret;

    va_start(ap, fmt);
    buf_vprintf(buf, fmt, ap);
    va_end(ap);
    ret = rec_put(s, type, buf_str(buf), buf_len(buf));
    buf_free(buf);
    return ret;
}

/* rec_header_len - size of type byte plus length bytes for this length */
size_t rec_header_len(size_t data_len)
{
    size_t  n = 2;

    while (data_len >>= 7)
        n++;
    return n;
}

/*
 * rec_get - read one record into data; its type, REC_EOF or REC_ERROR.
 * A length over `limit` (or REC_LEN_MAX), or a length not in its shortest
 * encoding, is an error: a damaged file must not make us allocate without
 * bound, and one encoding per length lets readers compute file offsets.
 */
int rec_get(STREAM *s, BUF *data, size_t limit)
{
    int     type;
    int     ch;
    int     shift = 0;
    size_t  len = 0;

    buf_reset(data);
    if ((type = stream_getc(s)) == STREAM_EOF)
        return REC_EOF;
    if (type < 0)
        return REC_ERROR;
    do {
        if ((ch = stream_getc(s)) < 0 || shift > 28)
            return REC_ERROR;
        len |= (size_t) (ch & 0x7f) << shift;
        shift += 7;
    } while (ch & 0x80);
    if (shift > 7 && (ch & 0x7f) == 0)
        return REC_ERROR;               /* not the shortest form: not ours */
    if (len > limit || len > REC_LEN_MAX)
        return REC_ERROR;
    buf_reserve(data, len);
    if (len && stream_read(s, data->data, len) != (ssize_t) len)
        return REC_ERROR;
    data->len = len;
    data->data[len] = 0;
    return type;
}

static const char rec_known_types[] = "CTFSAOonRDWMNLXEI";

int rec_type_known(int type)
{
    return type > 0 && type < 256 && strchr(rec_known_types, type) != NULL;
}

/* rec_type_name - for logs and `surel queue show` */
const char *rec_type_name(int type)
{
    switch (type) {
    case REC_TYPE_SIZE: return "size";
    case REC_TYPE_TIME: return "time";
    case REC_TYPE_FULL: return "fullname";
    case REC_TYPE_FROM: return "sender";
    case REC_TYPE_ATTR: return "attribute";
    case REC_TYPE_ORCP: return "original_recipient";
    case REC_TYPE_DSN_ORCPT: return "dsn_orig_rcpt";
    case REC_TYPE_DSN_NOTIFY: return "dsn_notify";
    case REC_TYPE_RCPT: return "recipient";
    case REC_TYPE_DONE: return "done_recipient";
    case REC_TYPE_WARN: return "warning_time";
    case REC_TYPE_MESG: return "message_content";
    case REC_TYPE_NORM: return "line";
    case REC_TYPE_CONT: return "partial_line";
    case REC_TYPE_XTRA: return "extracted";
    case REC_TYPE_END: return "end";
    case REC_TYPE_FILT: return "content_filter";
    default: return "unknown";
    }
}
