/* qfile_dump - the one readable view of a queue file; see qfile_dump.h.
 *
 * The structured view trusts nothing before qfile_read_envelope() has
 * verified the whole file; the record walk for files that fail that check
 * reads them as untrusted input and stops at the first record it does not
 * understand. Both print through dump_text(), which escapes every byte
 * that could move a terminal's cursor.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mail_proto.h"
#include "qfile.h"
#include "qfile_dump.h"
#include "qfile_read.h"
#include "record.h"
#include "stream.h"

/* Content printing state: L records join into one line. */
typedef struct DUMP_CONTENT {
    STREAM *out;
    int     what;
    int     in_body;                /* the empty line after the header was seen */
    int     line_start;             /* next record starts a new line */
    int     printing;               /* this line is printed */
} DUMP_CONTENT;

/* dump_text - data with control bytes and backslash as \ooo */
static void dump_text(STREAM *out, const char *data, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) data[i];

        if (ch == '\t' || (ch >= ' ' && ch != 127 && ch != '\\'))
            stream_write(out, &ch, 1);
        else
            stream_printf(out, "\\%03o", ch);
    }
}

/* dump_line - "prefix" + escaped text + newline */
static void dump_line(STREAM *out, const char *prefix, const char *text)
{
    stream_puts(out, prefix);
    dump_text(out, text, strlen(text));
    stream_puts(out, "\n");
}

/* dump_notify - the DSN NOTIFY bits as words */
static void dump_notify(STREAM *out, int notify)
{
    static const struct {
        int     bit;
        const char *name;
    } names[] = {
        {DSN_NOTIFY_NEVER, "never"}, {DSN_NOTIFY_SUCCESS, "success"},
        {DSN_NOTIFY_FAILURE, "failure"}, {DSN_NOTIFY_DELAY, "delay"},
    };
    size_t  i;
    int     n = 0;

    stream_puts(out, "    dsn_notify:");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (notify & names[i].bit)
            stream_printf(out, "%s%s", n++ ? "," : " ", names[i].name);
    stream_puts(out, "\n");
}

/* dump_rcpt - one recipient with its DSN fields */
static void dump_rcpt(STREAM *out, const QFILE_RCPT *r)
{
    stream_puts(out, "recipient: ");
    dump_text(out, r->address, strlen(r->address));
    stream_printf(out, " (%s)\n", r->done ? "done" : "todo");
    if (*r->orig && strcmp(r->orig, r->address) != 0)
        dump_line(out, "    original_recipient: ", r->orig);
    if (*r->dsn_orcpt)
        dump_line(out, "    dsn_orig_rcpt: ", r->dsn_orcpt);
    if (r->notify)
        dump_notify(out, r->notify);
}

/* dump_envelope - the envelope section */
static void dump_envelope(STREAM *out, const QFILE_ENVELOPE *env)
{
    char    when[64];
    time_t  t = env->sum.arrival.tv_sec;
    struct tm tm;
    int     i;

    if (strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime_r(&t, &tm)) == 0)
        when[0] = 0;
    stream_printf(out, "message_size: %ld\n", env->sum.sizes.content_size);
    stream_printf(out, "message_arrival_time: %s\n", when);
    if (env->fullname)
        dump_line(out, "full_name: ", env->fullname);
    dump_line(out, "sender: ", env->sender);
    for (i = 0; i < env->nattrs; i++)
        dump_line(out, "named_attribute: ", env->attrs[i]);
    for (i = 0; i < env->nrcpts; i++)
        dump_rcpt(out, env->rcpts + i);
}

/* dump_record - one content record (a QFILE_CONTENT_FN) */
static void dump_record(int type, const char *data, size_t len, void *ctx)
{
    DUMP_CONTENT *dc = ctx;

    if (dc->line_start && !dc->in_body && type == REC_TYPE_NORM && len == 0) {
        /* The empty line that ends the header: part of the whole message,
         * of neither the header nor the body alone. */
        dc->in_body = 1;
        if (dc->what == QFILE_DUMP_ALL)
            stream_puts(dc->out, "\n");
        return;
    }
    if (dc->line_start)
        dc->printing = (dc->what & (dc->in_body ? QFILE_DUMP_BODY : QFILE_DUMP_HEADER)) != 0;
    if (dc->printing) {
        dump_text(dc->out, data, len);
        if (type == REC_TYPE_NORM)
            stream_puts(dc->out, "\n");
    }
    dc->line_start = (type == REC_TYPE_NORM);
}

/* dump_verified - the sections of a file that verified */
static int dump_verified(int fd, const QFILE_ENVELOPE *env, const char *label, int what,
                         STREAM *out, BUF *why)
{
    DUMP_CONTENT dc = {out, what, 0, 1, 0};
    int     ret = 0;

    if (what == QFILE_DUMP_ALL)
        stream_printf(out, "*** ENVELOPE RECORDS %s ***\n", label);
    if (what & QFILE_DUMP_ENVELOPE)
        dump_envelope(out, env);
    if (what == QFILE_DUMP_ALL)
        stream_printf(out, "*** MESSAGE CONTENTS %s ***\n", label);
    if ((what & (QFILE_DUMP_HEADER | QFILE_DUMP_BODY))
        && qfile_read_content(fd, env, dump_record, &dc, why) < 0)
        ret = -1;
    if (what == QFILE_DUMP_ALL)
        stream_printf(out, "*** MESSAGE FILE END %s ***\n", label);
    return ret;
}

/* dump_walk_one - one record of the walk; 1 to go on, 0 at the end */
static int dump_walk_one(STREAM *out, int type, const BUF *data, int *content, int *partial)
{
    if (*content && (type == REC_TYPE_NORM || type == REC_TYPE_CONT)) {
        dump_text(out, buf_str(data), buf_len(data));
        if (type == REC_TYPE_NORM)
            stream_puts(out, "\n");
        *partial = type == REC_TYPE_CONT;
        return 1;
    }
    if (*partial)
        stream_puts(out, "\n");
    *partial = 0;
    if (type == REC_TYPE_MESG) {
        stream_puts(out, "*** MESSAGE CONTENTS ***\n");
        *content = 1;
    } else if (type == REC_TYPE_XTRA) {
        stream_puts(out, "*** HEADER EXTRACTED ***\n");
        *content = 0;
    } else if (type == REC_TYPE_END) {
        stream_puts(out, "*** MESSAGE FILE END ***\n");
        return 0;
    } else {
        stream_printf(out, "%s: ", rec_type_name(type));
        dump_text(out, buf_str(data), buf_len(data));
        stream_puts(out, "\n");
    }
    return 1;
}

/* dump_walk - record by record, for a file that did not verify */
static void dump_walk(int fd, const char *label, STREAM *out, const char *reason)
{
    STREAM *in;
    BUF    *data;
    int     content = 0, partial = 0, type, dfd;

    stream_printf(out, "*** RECORDS %s (not a valid queue file: ", label);
    dump_text(out, reason, strlen(reason));
    stream_puts(out, ") ***\n");
    /* A stream of its own on a dup: closing it leaves the caller's fd. */
    if (lseek(fd, 0, SEEK_SET) < 0 || (dfd = dup(fd)) < 0)
        return;
    in = stream_fdopen(dfd);
    data = buf_alloc(256);
    for (;;) {
        type = rec_get(in, data, REC_LEN_MAX);
        if (type == REC_EOF || type == REC_ERROR || !rec_type_known(type)) {
            if (partial)
                stream_puts(out, "\n");
            stream_printf(out, "*** %s ***\n", type == REC_EOF ? "NO END RECORD"
                          : type == REC_ERROR ? "TRUNCATED OR BAD RECORD" : "UNKNOWN RECORD TYPE");
            break;
        }
        if (!dump_walk_one(out, type, data, &content, &partial))
            break;
    }
    (void) stream_close(in);
    buf_free(data);
}

/* qfile_dump - see qfile_dump.h */
int     qfile_dump(int fd, const char *label, int what, STREAM *out, BUF *why)
{
    QFILE_ENVELOPE env;
    int     ret;

    if (lseek(fd, 0, SEEK_SET) < 0) {
        buf_sprintf(why, "lseek: %m");
        return -1;
    }
    if (qfile_read_envelope(fd, &env, why) < 0) {
        if (what == QFILE_DUMP_ALL)
            dump_walk(fd, label, out, buf_str(why));
        ret = -1;
    } else {
        ret = dump_verified(fd, &env, label, what, out, why);
        qfile_envelope_free(&env);
    }
    if (stream_flush(out) < 0 && ret == 0) {
        buf_set(why, "write error");
        ret = -1;
    }
    return ret;
}
