/* attr - named attribute lists over a stream; see attr.h for the wire format.
 *
 * The reader takes each field with stream_get_delim(NUL) and an explicit
 * limit, so a peer can never make it buffer more than one field beyond the
 * bounds. Every failure leaves a sentence in attr_why naming the attribute
 * and the reason; names from the peer are shown with unprintable bytes
 * replaced, because they go into log lines.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "mem.h"
#include "msg.h"

static char attr_why[300];          /* why the last call failed */
static int attr_eof;                /* ... and whether that was a clean EOF */

/* attr_fail - record why a call failed; returns -1 for the caller to return */
static int attr_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int attr_fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(attr_why, sizeof(attr_why), fmt, ap);
    va_end(ap);
    return -1;
}

const char *attr_last_error(void)
{
    return attr_why;
}

int attr_last_eof(void)
{
    return attr_eof;
}

/* attr_show - a peer-supplied name, safe and short enough for a log line */
static const char *attr_show(const char *text, char *out, size_t outlen)
{
    size_t  i;
    size_t  n = 0;

    for (i = 0; text[i] != 0 && n + 4 < outlen; i++)
        out[n++] = (text[i] > 0x20 && text[i] < 0x7f) ? text[i] : '?';
    if (text[i] != 0) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = 0;
    return out;
}

/* attr_hex_value - one hex digit's value, or -1 */
static int attr_hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* attr_unhex - decode hex text into out; -1 on odd length or a bad digit */
static int attr_unhex(const char *text, size_t len, BUF *out)
{
    size_t  i;
    int     hi;
    int     lo;

    buf_reset(out);
    if (len % 2 != 0)
        return -1;
    buf_reserve(out, len / 2);
    for (i = 0; i < len; i += 2) {
        hi = attr_hex_value((unsigned char) text[i]);
        lo = attr_hex_value((unsigned char) text[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        buf_putc(out, hi * 16 + lo);
    }
    return 0;
}

/* attr_parse_long - strict decimal: optional '-', 1..19 digits, in [min, max] */
static int attr_parse_long(const char *text, long min, long max, long *out)
{
    const char *p = text;
    char   *end;
    long    val;

    if (*p == '-')
        p++;
    if (*p == 0 || strspn(p, "0123456789") != strlen(p) || strlen(p) > 19)
        return -1;
    errno = 0;
    val = strtol(text, &end, 10);
    if (errno != 0 || *end != 0 || val < min || val > max)
        return -1;
    *out = val;
    return 0;
}

/* Reading state of one list: the bounds are per list. */
typedef struct ATTR_READ {
    STREAM *stream;
    size_t  total;                  /* name and value bytes read so far */
    int     count;                  /* attributes read so far */
    char    last[ATTR_NAME_MAX + 4];    /* printable name of the last attribute */
} ATTR_READ;

/* attr_read_field - one NUL-terminated field into buf (NUL dropped) */
static int attr_read_field(ATTR_READ *rd, BUF *buf, size_t max,
                           const char *what, const char *name)
{
    int     r = stream_get_delim(rd->stream, buf, 0, max + 1);

    switch (r) {
    case STREAM_LINE_OK:
        buf_truncate(buf, buf_len(buf) - 1);
        rd->total += buf_len(buf);
        if (rd->total > ATTR_LIST_MAX)
            return attr_fail("%s%s: list longer than %d bytes",
                             what, name, ATTR_LIST_MAX);
        return 0;
    case STREAM_LINE_PARTIAL:
        return attr_fail("%s%s: longer than %zu bytes", what, name, max);
    case STREAM_EOF:
    case STREAM_LINE_LAST:
        return attr_fail("%s%s: unexpected end of input", what, name);
    default:
        if (stream_timed_out(rd->stream))
            return attr_fail("%s%s: timeout", what, name);
        return attr_fail("%s%s: read error: %s", what, name, strerror(errno));
    }
}

/* attr_read_name - the next name; "" at the end of the list */
static int attr_read_name(ATTR_READ *rd, BUF *name)
{
    char    ctx[ATTR_NAME_MAX + 40];

    if (rd->count == 0)
        ctx[0] = 0;
    else
        snprintf(ctx, sizeof(ctx), " after \"%s\"", rd->last);
    if (attr_read_field(rd, name, ATTR_NAME_MAX, "name", ctx) < 0) {
        /* Nothing at all before EOF: the peer closed between lists. */
        if (rd->count == 0 && buf_len(name) == 0 && stream_eof(rd->stream)
            && !stream_error(rd->stream))
            attr_eof = 1;
        return -1;
    }
    if (buf_len(name) > 0) {
        if (rd->count >= ATTR_COUNT_MAX)
            return attr_fail("list has more than %d attributes", ATTR_COUNT_MAX);
        rd->count++;
        attr_show(buf_str(name), rd->last, sizeof(rd->last));
    }
    return 0;
}

/* attr_read_value - the value of the attribute just named */
static int attr_read_value(ATTR_READ *rd, BUF *value)
{
    char    ctx[ATTR_NAME_MAX + 40];

    snprintf(ctx, sizeof(ctx), " of attribute \"%s\"", rd->last);
    return attr_read_field(rd, value, ATTR_VALUE_MAX, "value", ctx);
}

/* attr_check_send - validate one send argument list; -1 if the reader would refuse it */
static int attr_check_send(va_list ap)
{
    size_t  total = 0;
    size_t  len = 0;
    int     count = 0;
    int     type;
    const char *name;
    const char *str;

    while ((type = va_arg(ap, int)) != ATTR_TYPE_END) {
        name = va_arg(ap, const char *);
        if (name == NULL || *name == 0 || strlen(name) > ATTR_NAME_MAX)
            msg_panic("attr_send: bad attribute name");
        if (++count > ATTR_COUNT_MAX)
            return attr_fail("more than %d attributes", ATTR_COUNT_MAX);
        switch (type) {
        case ATTR_TYPE_STR:
            if ((str = va_arg(ap, const char *)) == NULL)
                msg_panic("attr_send: null value for attribute %s", name);
            len = strlen(str);
            break;
        case ATTR_TYPE_INT:
            (void) va_arg(ap, int);
            len = 11;
            break;
        case ATTR_TYPE_LONG:
            (void) va_arg(ap, long);
            len = 20;
            break;
        case ATTR_TYPE_DATA:
            (void) va_arg(ap, const void *);
            len = va_arg(ap, size_t);
            len = len > ATTR_VALUE_MAX / 2 ? ATTR_VALUE_MAX + 1 : len * 2;
            break;
        default:
            msg_panic("attr_send: unknown type %d for attribute %s", type, name);
        }
        if (len > ATTR_VALUE_MAX)
            return attr_fail("attribute \"%s\": value longer than %d bytes",
                             name, ATTR_VALUE_MAX);
        total += strlen(name) + len;
        if (total > ATTR_LIST_MAX)
            return attr_fail("attribute \"%s\": list longer than %d bytes",
                             name, ATTR_LIST_MAX);
    }
    return 0;
}

/* attr_put_hex - DATA as two lower-case hex digits per byte */
static int attr_put_hex(STREAM *s, const unsigned char *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char    chunk[512];
    size_t  n = 0;
    size_t  i;

    for (i = 0; i < len; i++) {
        chunk[n++] = digits[data[i] >> 4];
        chunk[n++] = digits[data[i] & 15];
        if (n == sizeof(chunk)) {
            if (stream_write(s, chunk, n) < 0)
                return -1;
            n = 0;
        }
    }
    return n > 0 ? stream_write(s, chunk, n) : 0;
}

/* attr_send - write one list and flush it */
int attr_send(STREAM *s, ...)
{
    va_list ap;
    int     type;
    int     rc = 0;
    const char *name;
    const void *ptr;
    size_t  len;
    char    num[32];                /* a number's decimal text and its NUL */

    attr_eof = 0;
    va_start(ap, s);
    rc = attr_check_send(ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    va_start(ap, s);
    while (rc == 0 && (type = va_arg(ap, int)) != ATTR_TYPE_END) {
        name = va_arg(ap, const char *);
        rc = stream_write(s, name, strlen(name) + 1);
        if (rc < 0)
            break;
        switch (type) {
        case ATTR_TYPE_STR:
            name = va_arg(ap, const char *);
            rc = stream_write(s, name, strlen(name) + 1);
            break;
        case ATTR_TYPE_INT:
            len = (size_t) snprintf(num, sizeof(num), "%d", va_arg(ap, int));
            rc = stream_write(s, num, len + 1);
            break;
        case ATTR_TYPE_LONG:
            len = (size_t) snprintf(num, sizeof(num), "%ld", va_arg(ap, long));
            rc = stream_write(s, num, len + 1);
            break;
        case ATTR_TYPE_DATA:
            ptr = va_arg(ap, const void *);
            len = va_arg(ap, size_t);
            rc = attr_put_hex(s, ptr, len);
            if (rc == 0)
                rc = stream_write(s, "", 1);
            break;
        }
    }
    va_end(ap);
    if (rc == 0 && stream_write(s, "", 1) == 0 && stream_flush(s) == 0)
        return 0;
    if (stream_timed_out(s))
        return attr_fail("write timeout");
    return attr_fail("write error: %s", strerror(errno));
}

/* attr_unexpected - say where a name that we did not expect belongs */
static int attr_unexpected(const char *got, const char *want, va_list rest)
{
    char    show[ATTR_NAME_MAX + 4];
    int     type;
    const char *name;

    attr_show(got, show, sizeof(show));
    while ((type = va_arg(rest, int)) != ATTR_TYPE_END) {
        name = va_arg(rest, const char *);
        (void) va_arg(rest, void *);
        if (strcmp(name, got) == 0)
            return attr_fail("attribute \"%s\" out of order: expected \"%s\"",
                             show, want);
    }
    return attr_fail("unexpected attribute \"%s\": expected \"%s\"", show, want);
}

/* attr_convert - store a number or DATA value as the caller's type asks */
static int attr_convert(int type, const char *name, BUF *value, va_list *ap)
{
    char    show[64];
    long    num;

    switch (type) {
    case ATTR_TYPE_INT:
        if (attr_parse_long(buf_str(value), INT_MIN, INT_MAX, &num) < 0)
            break;
        *va_arg(*ap, int *) = (int) num;
        return 0;
    case ATTR_TYPE_LONG:
        if (attr_parse_long(buf_str(value), LONG_MIN, LONG_MAX, &num) < 0)
            break;
        *va_arg(*ap, long *) = num;
        return 0;
    case ATTR_TYPE_DATA:
        if (attr_unhex(buf_str(value), buf_len(value), va_arg(*ap, BUF *)) < 0)
            return attr_fail("attribute \"%s\": bad hex data", name);
        return 0;
    default:
        msg_panic("attr_recv: unknown type %d for attribute %s", type, name);
    }
    return attr_fail("attribute \"%s\": bad number \"%s\"", name,
                     attr_show(buf_str(value), show, sizeof(show)));
}

/* attr_recv_items - read the attributes the caller lists, in order */
static int attr_recv_items(ATTR_READ *rd, BUF *name, BUF *value, va_list *ap)
{
    const char *want;
    int     type;
    int     n = 0;

    while ((type = va_arg(*ap, int)) != ATTR_TYPE_END) {
        want = va_arg(*ap, const char *);
        if (want == NULL || *want == 0)
            msg_panic("attr_recv: bad attribute name");
        if (++n > ATTR_COUNT_MAX)
            msg_panic("attr_recv: more than %d attributes asked for", ATTR_COUNT_MAX);
        if (attr_read_name(rd, name) < 0)
            return -1;
        if (buf_len(name) == 0)
            return attr_fail("missing attribute \"%s\": list ended", want);
        if (strcmp(buf_str(name), want) != 0) {
            va_list rest;
            int     rc;

            va_copy(rest, *ap);
            (void) va_arg(rest, void *);    /* skip this attribute's target */
            rc = attr_unexpected(buf_str(name), want, rest);
            va_end(rest);
            return rc;
        }
        if (type == ATTR_TYPE_STR) {
            if (attr_read_value(rd, va_arg(*ap, BUF *)) < 0)
                return -1;
        } else if (attr_read_value(rd, value) < 0
                   || attr_convert(type, want, value, ap) < 0) {
            return -1;
        }
    }
    return 0;
}

/* attr_recv - read one list, strictly: these names, this order, nothing more */
int attr_recv(STREAM *s, ...)
{
    ATTR_READ rd;
    BUF    *name = buf_alloc(ATTR_NAME_MAX + 2);
    BUF    *value = buf_alloc(64);
    va_list ap;
    int     rc;

    memset(&rd, 0, sizeof(rd));
    rd.stream = s;
    attr_eof = 0;
    va_start(ap, s);
    rc = attr_recv_items(&rd, name, value, &ap);
    va_end(ap);
    if (rc == 0) {
        if (attr_read_name(&rd, name) < 0)
            rc = -1;
        else if (buf_len(name) > 0)
            rc = attr_fail("unexpected extra attribute \"%s\"", rd.last);
    }
    buf_free(name);
    buf_free(value);
    return rc;
}

/* attr_recv_list - read any one list, within the bounds */
int attr_recv_list(STREAM *s, ATTR_LIST *list)
{
    ATTR_READ rd;
    BUF    *name = buf_alloc(ATTR_NAME_MAX + 2);
    BUF    *value = buf_alloc(64);
    int     cap = 0;
    int     rc = -1;

    memset(&rd, 0, sizeof(rd));
    rd.stream = s;
    attr_eof = 0;
    memset(list, 0, sizeof(*list));
    for (;;) {
        if (attr_read_name(&rd, name) < 0)
            break;
        if (buf_len(name) == 0) {
            rc = 0;
            break;
        }
        if (attr_read_value(&rd, value) < 0)
            break;
        if (list->count == cap) {
            cap = cap ? cap * 2 : 8;
            list->names = xreallocarray(list->names, (size_t) cap, sizeof(char *));
            list->values = xreallocarray(list->values, (size_t) cap, sizeof(char *));
        }
        list->names[list->count] = xmemdup(buf_str(name), buf_len(name) + 1);
        list->values[list->count] = xmemdup(buf_str(value), buf_len(value) + 1);
        list->count++;
    }
    if (rc < 0)
        attr_list_free(list);
    buf_free(name);
    buf_free(value);
    return rc;
}

const char *attr_list_get(const ATTR_LIST *list, const char *name)
{
    int     i;

    for (i = 0; i < list->count; i++)
        if (strcmp(list->names[i], name) == 0)
            return list->values[i];
    return NULL;
}

/* attr_list_free - release the contents; the list is left empty and reusable */
void attr_list_free(ATTR_LIST *list)
{
    int     i;

    for (i = 0; i < list->count; i++) {
        xfree(list->names[i]);
        xfree(list->values[i]);
    }
    xfree(list->names);
    xfree(list->values);
    memset(list, 0, sizeof(*list));
}
