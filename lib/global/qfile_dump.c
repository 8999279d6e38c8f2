/* qfile_dump - a queue file's records, readably (`surel queue show ID`).
 *
 * Postfix's postcat shape: the envelope records one per line as
 * "name: value", then the content lines as they are (L pieces joined),
 * then the records after the content. Bytes that are not printable are
 * shown as \ooo so that a dump can never move a terminal's cursor.
 * The file is read as untrusted input: a record that is not understood
 * ends the dump with the reason, after what was read so far.
 */
#include <stdio.h>
#include <time.h>

#include "qfile.h"
#include "record.h"

/* qfile_dump_text - data with non-printable bytes escaped */
static void qfile_dump_text(STREAM *out, const BUF *data)
{
    size_t  i;

    for (i = 0; i < buf_len(data); i++) {
        unsigned char ch = (unsigned char) data->data[i];

        if (ch == '\t' || (ch >= ' ' && ch < 127 && ch != '\\'))
            stream_write(out, &ch, 1);
        else
            stream_printf(out, "\\%03o", ch);
    }
}

/* qfile_dump_time - the T record with a readable date */
static void qfile_dump_time(STREAM *out, const BUF *data)
{
    long    sec, usec;
    time_t  when;
    struct tm tm;
    char    text[64];

    if (sscanf(buf_str(data), "%ld %ld", &sec, &usec) == 2) {
        when = (time_t) sec;
        gmtime_r(&when, &tm);
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &tm);
        stream_printf(out, "%s.%06ld UTC (%ld)", text, usec, sec);
    } else {
        qfile_dump_text(out, data);
    }
}

/* qfile_dump - see qfile.h */
int qfile_dump(STREAM *in, STREAM *out, BUF *why)
{
    BUF    *data = buf_alloc(256);
    int     type, content = 0, partial = 0, ret = -1;

    stream_puts(out, "*** ENVELOPE RECORDS ***\n");
    for (;;) {
        type = rec_get(in, data, REC_LEN_MAX);
        if (type == REC_EOF) {
            buf_set(why, "no end record");
            break;
        }
        if (type == REC_ERROR || !rec_type_known(type)) {
            buf_set(why, type == REC_ERROR ? "truncated or bad record" : "unknown record type");
            break;
        }
        if (content && (type == REC_TYPE_NORM || type == REC_TYPE_CONT)) {
            qfile_dump_text(out, data);
            if (type == REC_TYPE_NORM)
                stream_puts(out, "\n");
            partial = type == REC_TYPE_CONT;
            continue;
        }
        if (partial)
            stream_puts(out, "\n");
        partial = 0;
        if (type == REC_TYPE_MESG) {
            stream_puts(out, "*** MESSAGE CONTENTS ***\n");
            content = 1;
        } else if (type == REC_TYPE_XTRA) {
            stream_puts(out, "*** HEADER EXTRACTED ***\n");
            content = 0;
        } else if (type == REC_TYPE_END) {
            stream_puts(out, "*** MESSAGE FILE END ***\n");
            ret = 0;
            break;
        } else {
            stream_printf(out, "%s: ", rec_type_name(type));
            if (type == REC_TYPE_TIME)
                qfile_dump_time(out, data);
            else
                qfile_dump_text(out, data);
            stream_puts(out, "\n");
        }
    }
    buf_free(data);
    if (stream_flush(out) < 0 && ret == 0) {
        buf_set(why, "write error");
        ret = -1;
    }
    return ret;
}
