/* qfile_verify - check a queue file's record grammar before believing it.
 *
 * Every reader runs this first (DESIGN §10.4): unknown records, bad
 * lengths, records out of place, a missing end record, or a size record
 * that disagrees with the file make the file corrupt. The grammar is in
 * qfile.h. Input may be anything (it is fuzzed); nothing here trusts it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qfile.h"
#include "record.h"

#define QFILE_RECORD_LIMIT  (64 * 1024)     /* any one record */

enum qfile_section { SEC_START, SEC_ENVELOPE, SEC_CONTENT, SEC_EXTRACTED, SEC_END };

typedef struct QFILE_STATE {
    enum qfile_section section;
    int     seen_time;
    int     seen_sender;
    int     rcpt_pending;                   /* O/o/n waiting for their R/D */
    int     partial_line;                   /* last content record was L */
    long    offset;                         /* of the current record */
    long    data_offset;                    /* of the M record */
    long    content_size;
    QFILE_SUMMARY *sum;
} QFILE_STATE;

/* qfile_parse_sizes - the fixed-width size record */
static int qfile_parse_sizes(const char *text, size_t len, QFILE_SIZES *sz)
{
    char    extra;

    if (len != 4 * QFILE_SIZE_WIDTH + 3)
        return -1;
    if (sscanf(text, "%ld %ld %ld %ld%c", &sz->content_size, &sz->data_offset,
               &sz->nrcpt, &sz->flags, &extra) != 4)
        return -1;
    if (sz->content_size < 0 || sz->data_offset < 0 || sz->nrcpt < 0 || sz->flags < 0)
        return -1;
    return 0;
}

/* qfile_recipient_record - O, o, n, R, D in the envelope or extracted part */
static const char *qfile_recipient_record(QFILE_STATE *st, int type)
{
    switch (type) {
    case REC_TYPE_ORCP:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
        st->rcpt_pending = 1;
        return NULL;
    case REC_TYPE_RCPT:
        st->sum->nrcpt_todo++;
        st->rcpt_pending = 0;
        return NULL;
    case REC_TYPE_DONE:
        st->sum->nrcpt_done++;
        st->rcpt_pending = 0;
        return NULL;
    default:
        return "record out of place";
    }
}

/* qfile_envelope_record - anything between T and M */
static const char *qfile_envelope_record(QFILE_STATE *st, int type, const BUF *data)
{
    long    sec, usec;
    char    extra;

    switch (type) {
    case REC_TYPE_TIME:
        if (st->seen_time++)
            return "second time record";
        if (sscanf(buf_str(data), "%ld %ld%c", &sec, &usec, &extra) != 2
            || sec < 0 || usec < 0 || usec >= 1000000)
            return "bad time record";
        st->sum->arrival.tv_sec = sec;
        st->sum->arrival.tv_usec = usec;
        return NULL;
    case REC_TYPE_FROM:
        return st->seen_sender++ ? "second sender record" : NULL;
    case REC_TYPE_FULL:
    case REC_TYPE_ATTR:
    case REC_TYPE_WARN:
    case REC_TYPE_FILT:
        return st->rcpt_pending ? "recipient record without recipient" : NULL;
    case REC_TYPE_MESG:
        if (!st->seen_time || !st->seen_sender)
            return "content before time and sender records";
        if (st->rcpt_pending)
            return "recipient record without recipient";
        st->data_offset = st->offset;
        st->section = SEC_CONTENT;
        return NULL;
    default:
        return qfile_recipient_record(st, type);
    }
}

/* qfile_content_record - N and L lines between M and X */
static const char *qfile_content_record(QFILE_STATE *st, int type, const BUF *data)
{
    switch (type) {
    case REC_TYPE_NORM:
        st->content_size += (long) buf_len(data) + 1;
        st->partial_line = 0;
        st->sum->content_records++;
        return NULL;
    case REC_TYPE_CONT:
        st->content_size += (long) buf_len(data);
        st->partial_line = 1;
        st->sum->content_records++;
        return NULL;
    case REC_TYPE_XTRA:
        if (st->partial_line)
            return "content ends inside a line";
        st->section = SEC_EXTRACTED;
        return NULL;
    default:
        return "record out of place in content";
    }
}

/* qfile_extracted_record - between X and E */
static const char *qfile_extracted_record(QFILE_STATE *st, int type)
{
    if (type == REC_TYPE_ATTR || type == REC_TYPE_FILT)
        return st->rcpt_pending ? "recipient record without recipient" : NULL;
    if (type == REC_TYPE_END) {
        if (st->rcpt_pending)
            return "recipient record without recipient";
        st->section = SEC_END;
        return NULL;
    }
    return qfile_recipient_record(st, type);
}

/* qfile_check_totals - the size record must agree with what was read */
static const char *qfile_check_totals(QFILE_STATE *st)
{
    QFILE_SIZES *sz = &st->sum->sizes;

    if (st->section != SEC_END)
        return "no end record (incomplete file)";
    if (sz->data_offset != st->data_offset)
        return "size record: wrong content offset";
    if (sz->nrcpt != st->sum->nrcpt_todo + st->sum->nrcpt_done)
        return "size record: wrong recipient count";
    if (sz->content_size != st->content_size)
        return "size record: wrong content size";
    return NULL;
}

int qfile_verify(STREAM *s, QFILE_SUMMARY *sum, BUF *why)
{
    QFILE_STATE st;
    BUF    *data = buf_alloc(256);
    const char *err = NULL;
    int     type;

    memset(sum, 0, sizeof(*sum));
    memset(&st, 0, sizeof(st));
    st.sum = sum;
    while (err == NULL) {
        type = rec_get(s, data, QFILE_RECORD_LIMIT);
        if (type == REC_EOF)
            break;
        if (type == REC_ERROR) {
            err = "truncated or bad record";
        } else if (!rec_type_known(type)) {
            err = "unknown record type";
        } else if (st.section == SEC_START) {
            err = type != REC_TYPE_SIZE ? "first record is not the size record"
                : qfile_parse_sizes(buf_str(data), buf_len(data), &sum->sizes) < 0
                ? "bad size record" : NULL;
            st.section = SEC_ENVELOPE;
        } else if (st.section == SEC_ENVELOPE) {
            err = qfile_envelope_record(&st, type, data);
        } else if (st.section == SEC_CONTENT) {
            err = qfile_content_record(&st, type, data);
        } else if (st.section == SEC_EXTRACTED) {
            err = qfile_extracted_record(&st, type);
        } else {
            err = "data after the end record";
        }
        if (err == NULL && type >= 0)
            st.offset += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    }
    if (err == NULL)
        err = qfile_check_totals(&st);
    if (err)
        buf_sprintf(why, "%s (record at offset %ld)", err, st.offset);
    buf_free(data);
    return err ? -1 : 0;
}
