/* buf - growable byte buffer, always NUL-terminated.
 *
 * The one string type of surel (Postfix's VSTRING). Content may hold NUL
 * bytes; buf_str() is only meaningful for text. Input from outside is put
 * here by readers that take an explicit limit (stream_get_line, attr_recv).
 */
#ifndef SUREL_BUF_H
#define SUREL_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct BUF {
    char   *data;                   /* content, NUL at data[len] */
    size_t  len;                    /* bytes used, excluding the NUL */
    size_t  cap;                    /* bytes allocated */
} BUF;

BUF    *buf_alloc(size_t initial);
void    buf_free(BUF *buf);
void    buf_reset(BUF *buf);
void    buf_reserve(BUF *buf, size_t more);
void    buf_append(BUF *buf, const void *data, size_t len);
void    buf_puts(BUF *buf, const char *str);
void    buf_putc(BUF *buf, int ch);
void    buf_set(BUF *buf, const char *str);
void    buf_printf(BUF *buf, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
void    buf_vprintf(BUF *buf, const char *fmt, va_list ap)
            __attribute__((format(printf, 2, 0)));
void    buf_sprintf(BUF *buf, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
void    buf_truncate(BUF *buf, size_t len);
void    buf_trim_right(BUF *buf);
char   *buf_steal(BUF *buf);

#define buf_str(b)  ((b)->data)
#define buf_len(b)  ((b)->len)

#endif
