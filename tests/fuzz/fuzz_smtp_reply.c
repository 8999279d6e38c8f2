/* fuzz_smtp_reply - what a remote server sends the SMTP client
 * (smtp/smtp_reply.c), and the content encoder (smtp/smtp_encode.c), on
 * arbitrary bytes, with their invariants. Replies: a complete reply has a
 * code 200..599 and an enhanced code of its class; the kept text is
 * bounded and printable. Encoder: the input as records split at its NUL
 * bytes never yields a bare CR, a bare LF or an early CR LF . CR LF,
 * neither directly nor through the 8BITMIME down-converter
 * (smtp/smtp_mime.c, which may also refuse the input). Any break is a
 * panic.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "record.h"
#include "smtp.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_replies - the input as reply lines (LF-separated) */
static void fuzz_replies(const char *text, size_t size)
{
    SMTP_REPLY r;
    const char *line = text, *end = text + size, *nl;
    size_t  i;
    int     rc;

    smtp_reply_init(&r);
    while (line < end) {
        nl = memchr(line, '\n', (size_t) (end - line));
        rc = smtp_reply_line(&r, line, (size_t) ((nl ? nl : end) - line));
        if (rc == 1) {
            if (r.code < 200 || r.code > 599 || r.dsn[0] != '0' + r.code / 100
                || r.dsn[1] != '.')
                msg_panic("fuzz_smtp_reply: reply %d with code %s", r.code, r.dsn);
            smtp_reply_reset(&r);
        }
        if (buf_len(r.text) > SMTP_REPLY_TEXT_MAX)
            msg_panic("fuzz_smtp_reply: kept text over its bound");
        for (i = 0; i < buf_len(r.text); i++)
            if ((unsigned char) buf_str(r.text)[i] < 0x20 || buf_str(r.text)[i] == 0x7f)
                msg_panic("fuzz_smtp_reply: control byte kept");
        if (rc < 0)
            smtp_reply_reset(&r);
        line = nl ? nl + 1 : end;
    }
    smtp_reply_free(&r);
}

/* fuzz_encode - the input as N records split at NUL, L when followed by
 * \001; through the down-converter when mime */
static void fuzz_encode(const char *text, size_t size, int mime)
{
    SMTP_ENCODER e;
    SMTP_MIME *mm = NULL;
    BUF    *out = buf_alloc(size * 2 + 16);
    const char *p = text, *end = text + size, *z, *early;
    size_t  i;
    int     type, refused = 0;

    smtp_encode_init(&e, size > 0 ? (unsigned char) text[0] % 50 : 0);
    if (mime)
        mm = smtp_mime_create(&e, 3, 200, 70);
    while (p < end && !refused) {
        z = memchr(p, 0, (size_t) (end - p));
        type = z && z + 1 < end && z[1] == 1 ? REC_TYPE_CONT : REC_TYPE_NORM;
        if (mm == NULL)
            smtp_encode(&e, type, p, (size_t) ((z ? z : end) - p), out);
        else if (smtp_mime_record(mm, type, p, (size_t) ((z ? z : end) - p), out) < 0)
            refused = 1;
        p = z ? z + 1 : end;
    }
    if (mm && !refused && smtp_mime_end(mm, out) < 0)
        refused = 1;
    if (mm)
        smtp_mime_free(mm);
    if (!refused)                       /* refused: the session is dropped, no dot */
        smtp_encode_end(&e, out);
    for (i = 0; i < buf_len(out); i++) {
        if (buf_str(out)[i] == '\r' && buf_str(out)[i + 1] != '\n')
            msg_panic("fuzz_smtp_reply: bare CR on the wire");
        if (buf_str(out)[i] == '\n' && (i == 0 || buf_str(out)[i - 1] != '\r'))
            msg_panic("fuzz_smtp_reply: bare LF on the wire");
    }
    early = buf_len(out) >= 5 ? memmem(buf_str(out), buf_len(out), "\r\n.\r\n", 5) : NULL;
    if (early && (refused || early + 5 != buf_str(out) + buf_len(out)))
        msg_panic("fuzz_smtp_reply: CR LF . CR LF before the end");
    if (buf_len(out) >= (refused ? 3 : 5) && strncmp(buf_str(out), ".\r\n", 3) == 0)
        msg_panic("fuzz_smtp_reply: a lone dot line first");
    buf_free(out);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_replies((const char *) data, size);
    fuzz_encode((const char *) data, size, 0);
    fuzz_encode((const char *) data, size, 1);
    return 0;
}
