/*
 * NAME
 *      test-inject - write one committed queue file (tests only)
 * SYNOPSIS
 *      test-inject -q QUEUE_DIR [-Q incoming|hold] [-f sender] [-t arrival]
 *              [-w warn_time] [-N notify] [-O orig] [-E envid] [-R ret]
 *              [-b body] recipient...
 * DESCRIPTION
 *      Writes a queue file with lib/qfile (temp/, then committed into
 *      QUEUE, default incoming/) and prints its queue ID, so that qmgr
 *      tests need neither smtpd nor cleanup. -t sets the arrival time
 *      (seconds since the epoch; the T record is rewritten in place before
 *      the commit, so it must have as many digits as now); -w writes a W
 *      record (next delay warning time); -N and -O apply to every
 *      recipient (DSN NOTIFY bits, original recipient); -E and -R add the
 *      dsn_envid and dsn_ret A records; -b is the content (\n separates
 *      lines; default a small message).
 * SECURITY
 *      Test program only: it runs as the caller.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "record.h"

/* put - one record, counting the bytes written */
static void put(STREAM *s, long *offset, int type, const char *text)
{
    rec_puts(s, type, text);
    *offset += (long) (rec_header_len(strlen(text)) + strlen(text));
}

int main(int argc, char **argv)
{
    const char *qdir = NULL, *queue = "incoming", *sender = "sender@example.org";
    const char *body = "Subject: test\n\nhello\n", *orig = NULL, *envid = NULL, *ret = NULL;
    long    arrival = 0, warn = -1, offset, content = 0;
    int     notify = 0, ch, i;
    BUF    *why = buf_alloc(64), *text = buf_alloc(64);
    QFILE_WRITER *w;
    QFILE_SIZES sz;
    STREAM *s;
    const char *line, *nl;

    msg_init("test-inject", MSG_TO_STDERR);
    while ((ch = getopt(argc, argv, "q:Q:f:t:w:N:O:E:R:b:")) != -1) {
        switch (ch) {
        case 'q': qdir = optarg; break;
        case 'Q': queue = optarg; break;
        case 'f': sender = optarg; break;
        case 't': arrival = atol(optarg); break;
        case 'w': warn = atol(optarg); break;
        case 'N': notify = atoi(optarg); break;
        case 'O': orig = optarg; break;
        case 'E': envid = optarg; break;
        case 'R': ret = optarg; break;
        case 'b': body = optarg; break;
        default: msg_fatal("usage: test-inject -q QUEUE_DIR [options] recipient...");
        }
    }
    if (qdir == NULL || optind >= argc)
        msg_fatal("usage: test-inject -q QUEUE_DIR [options] recipient...");
    if ((w = qfile_create(qdir, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    s = qfile_stream(w);
    /* What qfile_create wrote: the size record and the time record. */
    buf_sprintf(text, "%ld %ld", (long) w->arrival.tv_sec, (long) w->arrival.tv_usec);
    offset = (long) (rec_header_len(4 * QFILE_SIZE_WIDTH + 3) + 4 * QFILE_SIZE_WIDTH + 3)
        + (long) (rec_header_len(buf_len(text)) + buf_len(text));
    put(s, &offset, REC_TYPE_FROM, sender);
    if (envid) {
        buf_sprintf(text, "%s=%s", MAIL_ATTR_ENVID, envid);
        put(s, &offset, REC_TYPE_ATTR, buf_str(text));
    }
    if (ret) {
        buf_sprintf(text, "%s=%s", MAIL_ATTR_RET, ret);
        put(s, &offset, REC_TYPE_ATTR, buf_str(text));
    }
    if (warn >= 0) {
        buf_sprintf(text, "%*ld", QFILE_SIZE_WIDTH, warn);
        put(s, &offset, REC_TYPE_WARN, buf_str(text));
    }
    for (i = optind; i < argc; i++) {
        if (orig)
            put(s, &offset, REC_TYPE_ORCP, orig);
        if (notify) {
            buf_sprintf(text, "%d", notify);
            put(s, &offset, REC_TYPE_DSN_NOTIFY, buf_str(text));
        }
        put(s, &offset, REC_TYPE_RCPT, argv[i]);
    }
    sz.data_offset = offset;
    put(s, &offset, REC_TYPE_MESG, "");
    for (line = body; *line; line = nl ? nl + 1 : line + strlen(line)) {
        nl = strchr(line, '\n');
        buf_reset(text);
        buf_append(text, line, nl ? (size_t) (nl - line) : strlen(line));
        put(s, &offset, REC_TYPE_NORM, buf_str(text));
        content += (long) buf_len(text) + 1;
    }
    put(s, &offset, REC_TYPE_XTRA, "");
    put(s, &offset, REC_TYPE_END, "");
    sz.content_size = content;
    sz.nrcpt = argc - optind;
    sz.flags = 0;
    if (arrival > 0) {
        /* Same digits, so the record keeps its length: rewrite in place. */
        BUF    *old = buf_alloc(32);
        long    at = (long) (rec_header_len(4 * QFILE_SIZE_WIDTH + 3) + 4 * QFILE_SIZE_WIDTH + 3);

        buf_sprintf(old, "%ld %ld", (long) w->arrival.tv_sec, (long) w->arrival.tv_usec);
        buf_sprintf(text, "%ld %ld", arrival, (long) w->arrival.tv_usec);
        if (buf_len(text) != buf_len(old))
            msg_fatal("-t %ld: must have as many digits as now", arrival);
        if (stream_flush(s) < 0
            || pwrite(w->fd, buf_str(text), buf_len(text),
                      (off_t) (at + (long) rec_header_len(buf_len(text)))) != (ssize_t) buf_len(text))
            msg_fatal("rewrite time record: %m");
        buf_free(old);
    }
    if (qfile_commit(w, queue, &sz, why) < 0)
        msg_fatal("%s", buf_str(why));
    printf("%s\n", w->id);
    qfile_writer_free(w);
    buf_free(why);
    buf_free(text);
    return 0;
}
