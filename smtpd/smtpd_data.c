/* smtpd_data - the DATA and BDAT content reader: bytes in, records out.
 *
 * A pure state machine over the client's bytes, so that every smuggling
 * variant can be unit-tested and fuzzed without a socket. The session
 * feeds it one byte at a time from the stream (stream_getc), which never
 * reads past the end of DATA: whatever the client pipelined after
 * <CR><LF>.<CR><LF> stays in the stream for the command reader.
 *
 * Rules (DATA):
 *   - A line ends at LF. CR LF is the proper end; a bare LF is accepted as
 *     a line end (smtpd_forbid_bare_newline = normalize) and noted.
 *   - A bare CR (not followed by LF) is content, never a line end.
 *   - The end of DATA is a line that is exactly "." ending in CR LF whose
 *     previous line also ended in CR LF (for the first line: the DATA
 *     command). Any other "." line is kept as content, so that no mix of
 *     CR, LF and NUL around a dot turns one DATA into two messages.
 *   - Dot-unstuffing: a line that starts with "." and holds more drops the
 *     first ".". A bare "." line that did not end DATA stays ".".
 *   - A line longer than the record limit goes out as L records (pieces)
 *     and a final N record; a piece never splits a CR LF pair.
 * BDAT content is raw (RFC 3030): no dots, no end marker; lines end at
 * LF (with or without CR) and the last line is flushed by
 * smtpd_data_finish at BDAT LAST.
 * d->bytes counts what message_size_limit applies to: the octets the client
 * sent (RFC 1870), CR LF as two, a bare LF as one, stuffed dots and the
 * end-of-data line not at all; for BDAT that is the sum of the chunk sizes.
 */
#include <string.h>

#include "msg_size.h"
#include "record.h"
#include "smtpd.h"

/* smtpd_data_init - a reader for one message */
void    smtpd_data_init(SMTPD_DATA *d, int dot, size_t limit, int prev_crlf,
                        SMTPD_DATA_FN fn, void *ctx)
{
    memset(d, 0, sizeof(*d));
    d->dot = dot;
    d->limit = limit < 2 ? 2 : limit;     /* a "." line is never split */
    d->prev_crlf = prev_crlf;
    d->fn = fn;
    d->ctx = ctx;
    d->line = buf_alloc(limit < 256 ? 256 : limit + 1);
}

/* smtpd_data_free - release a reader */
void    smtpd_data_free(SMTPD_DATA *d)
{
    buf_free(d->line);
    d->line = NULL;
}

/* smtpd_data_emit - hand one record out, unstuffing the first piece;
 * eol is the number of line-end octets the client sent after it (2 for
 * CR LF, 1 for a bare LF, 0 inside a long line or at the end of BDAT) */
static void smtpd_data_emit(SMTPD_DATA *d, int type, int eol)
{
    const char *data = buf_str(d->line);
    size_t  len = buf_len(d->line);

    if (d->dot && !d->continued && len > 1 && data[0] == '.') {
        data++;
        len--;
    }
    /* RFC 1870 counts the octets sent, line ends included, without the
     * stuffed dots and the final "."; a bare LF is one octet. */
    d->bytes += msg_size_octets(len, eol);
    d->fn(d->ctx, type, data, len);
    buf_reset(d->line);
    d->continued = (type == REC_TYPE_CONT);
}

/* smtpd_data_eol - a line ended: at LF, crlf says whether CR preceded it */
static int smtpd_data_eol(SMTPD_DATA *d, int crlf)
{
    if (!crlf)
        d->bare_lf = 1;
    if (d->dot && crlf && d->prev_crlf && !d->continued
        && buf_len(d->line) == 1 && buf_str(d->line)[0] == '.') {
        buf_reset(d->line);
        d->done = 1;
        return SMTPD_DATA_END;
    }
    smtpd_data_emit(d, REC_TYPE_NORM, crlf ? 2 : 1);
    d->continued = 0;
    d->prev_crlf = crlf;
    return SMTPD_DATA_MORE;
}

/* smtpd_data_put - one content byte into the line, flushing at the limit */
static void smtpd_data_put(SMTPD_DATA *d, int ch)
{
    buf_putc(d->line, ch);
    if (buf_len(d->line) >= d->limit)
        smtpd_data_emit(d, REC_TYPE_CONT, 0);
}

/* smtpd_data_byte - feed one byte; SMTPD_DATA_END once DATA is over */
int     smtpd_data_byte(SMTPD_DATA *d, int ch)
{
    if (d->done)
        return SMTPD_DATA_END;
    ch &= 0xff;
    if (d->pending_cr) {
        d->pending_cr = 0;
        if (ch == '\n')
            return smtpd_data_eol(d, 1);
        smtpd_data_put(d, '\r');    /* a bare CR is content */
    }
    if (ch == '\r') {
        d->pending_cr = 1;
        return SMTPD_DATA_MORE;
    }
    if (ch == '\n')
        return smtpd_data_eol(d, 0);
    smtpd_data_put(d, ch);
    return SMTPD_DATA_MORE;
}

/* smtpd_data_feed - feed bytes until the end of DATA; *used says how many
 * were consumed (the rest belongs to the next command) */
int     smtpd_data_feed(SMTPD_DATA *d, const char *buf, size_t len, size_t *used)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (smtpd_data_byte(d, (unsigned char) buf[i]) == SMTPD_DATA_END) {
            *used = i + 1;
            return SMTPD_DATA_END;
        }
    }
    *used = len;
    return d->done ? SMTPD_DATA_END : SMTPD_DATA_MORE;
}

/* smtpd_data_finish - BDAT LAST: whatever is pending is the last line */
void    smtpd_data_finish(SMTPD_DATA *d)
{
    if (d->pending_cr) {
        d->pending_cr = 0;
        buf_putc(d->line, '\r');
    }
    if (buf_len(d->line) > 0 || d->continued)
        smtpd_data_emit(d, REC_TYPE_NORM, 0);
    d->continued = 0;
    d->done = 1;
}
