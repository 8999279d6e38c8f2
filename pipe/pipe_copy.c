/* pipe_copy - the message as a pipe command reads it (Postfix's
 * mail_copy with the pipe(8) flags), written into a file (a memfd) that
 * becomes the command's standard input:
 *     F  "From sender  Mon Dec  2 13:45:08 2026"   first line
 *     R  "Return-Path: <sender>"
 *     O  "X-Original-To: original recipient"
 *     D  "Delivered-To: recipient"   (lower case, as Postfix writes it)
 *     then the content records, each line ended with eol= (\n), with
 *     >  ">" before a line that starts with "From "
 *     .  "." before a line that starts with "."
 *     B  one empty line at the end
 * Addresses in those lines are in the external (RFC 5321 quoted) form;
 * the null sender is null_sender= (MAILER-DAEMON).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "dict.h"
#include "pipe.h"
#include "record.h"
#include "safe_file.h"

#define PIPE_COPY_CHUNK     (64 * 1024)

typedef struct PIPE_COPY_CTX {
    const PIPE_ATTR *attr;
    int     fd;
    BUF    *out;
    int     line_start;
    int     err;                    /* errno of a failed write, else 0 */
} PIPE_COPY_CTX;

/* pipe_copy_flush - write what is collected (remember the first error) */
static void pipe_copy_flush(PIPE_COPY_CTX *c)
{
    if (c->err == 0 && write_all(c->fd, buf_str(c->out), buf_len(c->out)) < 0)
        c->err = errno ? errno : EIO;
    buf_reset(c->out);
}

/* pipe_copy_record - one content record */
static void pipe_copy_record(int type, const char *data, size_t len, void *ctx)
{
    PIPE_COPY_CTX *c = ctx;

    if (c->line_start) {
        if ((c->attr->flags & PIPE_FLAG_QUOTE_FROM) && len >= 5 && memcmp(data, "From ", 5) == 0)
            buf_putc(c->out, '>');
        if ((c->attr->flags & PIPE_FLAG_DOT) && len >= 1 && data[0] == '.')
            buf_putc(c->out, '.');
    }
    buf_append(c->out, data, len);
    if (type == REC_TYPE_NORM)
        buf_puts(c->out, c->attr->eol);
    c->line_start = (type == REC_TYPE_NORM);
    if (buf_len(c->out) >= PIPE_COPY_CHUNK)
        pipe_copy_flush(c);
}

/* pipe_copy_headers - the lines the flags put before the content */
static void pipe_copy_headers(PIPE_COPY_CTX *c, const PIPE_COPY *copy)
{
    BUF    *ext = buf_alloc(100);
    const char *eol = c->attr->eol;
    const char *sender = copy->sender;
    char    date[64];
    struct tm tm;
    time_t  now = time(NULL);

    address_externalize(sender, ext);
    if (c->attr->flags & PIPE_FLAG_FROM) {
        localtime_r(&now, &tm);
        strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
        buf_printf(c->out, "From %s  %s%s", *sender ? buf_str(ext) : "MAILER-DAEMON", date, eol);
    }
    if (c->attr->flags & PIPE_FLAG_RETURN)
        buf_printf(c->out, "Return-Path: <%s>%s", buf_str(ext), eol);
    if ((c->attr->flags & PIPE_FLAG_ORIG_RCPT) && copy->orig_rcpt) {
        address_externalize(copy->orig_rcpt, ext);
        buf_printf(c->out, "X-Original-To: %s%s", buf_str(ext), eol);
    }
    if ((c->attr->flags & PIPE_FLAG_DELIVERED) && copy->delivered) {
        address_externalize(copy->delivered, ext);
        dict_fold(buf_str(ext));
        buf_printf(c->out, "Delivered-To: %s%s", buf_str(ext), eol);
    }
    buf_free(ext);
}

int     pipe_copy(int fd, const QFILE_ENVELOPE *env, const PIPE_ATTR *attr,
                  const PIPE_COPY *copy, int out_fd, BUF *why)
{
    PIPE_COPY_CTX c = {.attr = attr, .fd = out_fd, .out = buf_alloc(PIPE_COPY_CHUNK + 1024),
    .line_start = 1};
    int     ret;

    pipe_copy_headers(&c, copy);
    ret = qfile_read_content(fd, env, pipe_copy_record, &c, why);
    if (ret == 0 && (attr->flags & PIPE_FLAG_BLANK))
        buf_puts(c.out, attr->eol);
    pipe_copy_flush(&c);
    if (ret == 0 && c.err) {
        buf_sprintf(why, "write: %s", strerror(c.err));
        ret = -1;
    }
    buf_free(c.out);
    return ret;
}
