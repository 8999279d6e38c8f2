/* buf - growable byte buffer; see buf.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "msg.h"

/* buf_alloc - a new empty buffer with room for `initial` bytes */
BUF *buf_alloc(size_t initial)
{
    BUF *buf = xmalloc(sizeof(*buf));

    buf->cap = initial < 16 ? 16 : initial;
    buf->data = xmalloc(buf->cap);
    buf->len = 0;
    buf->data[0] = 0;
    return buf;
}

/* buf_free - release a buffer (NULL is fine) */
void buf_free(BUF *buf)
{
    if (buf) {
        xfree(buf->data);
        xfree(buf);
    }
}

/* buf_reset - empty the buffer, keep its memory */
void buf_reset(BUF *buf)
{
    buf->len = 0;
    buf->data[0] = 0;
}

/* buf_reserve - make room for `more` bytes plus the terminator */
void buf_reserve(BUF *buf, size_t more)
{
    size_t need;

    if (more > SIZE_MAX - buf->len - 1)
        msg_panic("buf_reserve: size overflow");
    need = buf->len + more + 1;
    if (need <= buf->cap)
        return;
    while (buf->cap < need)
        buf->cap = buf->cap > SIZE_MAX / 2 ? need : buf->cap * 2;
    buf->data = xrealloc(buf->data, buf->cap);
}

/* buf_append - add bytes at the end */
void buf_append(BUF *buf, const void *data, size_t len)
{
    buf_reserve(buf, len);
    if (len)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = 0;
}

void buf_puts(BUF *buf, const char *str)
{
    buf_append(buf, str, strlen(str));
}

void buf_putc(BUF *buf, int ch)
{
    char c = (char) ch;

    buf_append(buf, &c, 1);
}

/* buf_set - replace the content with a string */
void buf_set(BUF *buf, const char *str)
{
    buf_reset(buf);
    buf_puts(buf, str);
}

/* buf_vprintf - append formatted text */
void buf_vprintf(BUF *buf, const char *fmt, va_list ap)
{
    va_list ap2;
    int     n;

    va_copy(ap2, ap);
    n = vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        msg_panic("buf_vprintf: bad format \"%s\"", fmt);
    if ((size_t) n >= buf->cap - buf->len) {
        buf_reserve(buf, (size_t) n);
        vsnprintf(buf->data + buf->len, buf->cap - buf->len, fmt, ap);
    }
    buf->len += (size_t) n;
}

void buf_printf(BUF *buf, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(buf, fmt, ap);
    va_end(ap);
}

/* buf_sprintf - replace the content with formatted text */
void buf_sprintf(BUF *buf, const char *fmt, ...)
{
    va_list ap;

    buf_reset(buf);
    va_start(ap, fmt);
    buf_vprintf(buf, fmt, ap);
    va_end(ap);
}

/* buf_truncate - shorten to len bytes (never lengthens) */
void buf_truncate(BUF *buf, size_t len)
{
    if (len < buf->len) {
        buf->len = len;
        buf->data[len] = 0;
    }
}

/* buf_trim_right - drop trailing white space */
void buf_trim_right(BUF *buf)
{
    while (buf->len > 0 && isspace((unsigned char) buf->data[buf->len - 1]))
        buf->len--;
    buf->data[buf->len] = 0;
}

/* buf_steal - take the content as a malloc'ed string and free the buffer */
char *buf_steal(BUF *buf)
{
    char *s = buf->data;

    xfree(buf);
    return s;
}
