/* milter_pkt - the milter packet codec (see milter.h).
 *
 * Pure functions over buffers: no I/O, so the unit tests and a fuzzer can
 * feed them anything. Every read is bounded by the packet's own length.
 */
#include <ctype.h>
#include <string.h>

#include "milter.h"

void    milter_pkt_put_u32(BUF *data, uint32_t v)
{
    unsigned char b[4] = {(unsigned char) (v >> 24), (unsigned char) (v >> 16),
                          (unsigned char) (v >> 8), (unsigned char) v};

    buf_append(data, b, 4);
}

void    milter_pkt_put_u16(BUF *data, uint16_t v)
{
    unsigned char b[2] = {(unsigned char) (v >> 8), (unsigned char) v};

    buf_append(data, b, 2);
}

void    milter_pkt_put_str(BUF *data, const char *s)
{
    buf_append(data, s, strlen(s) + 1);
}

void    milter_pkt_put(BUF *out, int cmd, const void *data, size_t len)
{
    char    c = (char) cmd;

    milter_pkt_put_u32(out, (uint32_t) (len + 1));
    buf_append(out, &c, 1);
    if (len > 0)
        buf_append(out, data, len);
}

int     milter_pkt_head(const unsigned char head[5], int *cmd, size_t *len)
{
    uint32_t n = ((uint32_t) head[0] << 24) | ((uint32_t) head[1] << 16)
        | ((uint32_t) head[2] << 8) | head[3];

    /* The length counts the command byte: 0 is malformed. */
    if (n == 0 || n > MILTER_PKT_MAX)
        return (-1);
    *cmd = head[4];
    *len = n - 1;
    return (0);
}

void    milter_pkt_init(MILTER_PKT *p, const char *data, size_t len)
{
    p->data = data;
    p->len = len;
    p->pos = 0;
}

size_t  milter_pkt_left(const MILTER_PKT *p)
{
    return (p->len - p->pos);
}

int     milter_pkt_get_u32(MILTER_PKT *p, uint32_t *v)
{
    const unsigned char *b;

    if (p->len - p->pos < 4) {
        p->pos = p->len;
        return (-1);
    }
    b = (const unsigned char *) p->data + p->pos;
    *v = ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
    p->pos += 4;
    return (0);
}

int     milter_pkt_get_str(MILTER_PKT *p, const char **s)
{
    const char *start = p->data + p->pos;
    const char *nul = memchr(start, '\0', p->len - p->pos);

    if (nul == NULL) {
        p->pos = p->len;
        return (-1);
    }
    *s = start;
    p->pos += (size_t) (nul - start) + 1;
    return (0);
}

/* One reply line "ddd" + (' ' | '-' | end) + printable text. */
static int milter_reply_line(const char *cp, size_t len, char first, int *last)
{
    size_t  i;

    if (len < 3 || cp[0] != first || !isdigit((unsigned char) cp[1])
        || !isdigit((unsigned char) cp[2]))
        return (-1);
    if (len > 3 && cp[3] != ' ' && cp[3] != '-')
        return (-1);
    *last = (len == 3 || cp[3] == ' ');
    for (i = 3; i < len; i++)
        if ((unsigned char) cp[i] < 0x20 && cp[i] != '\t')
            return (-1);
    return (0);
}

int     milter_reply_ok(const char *text)
{
    const char *cp = text, *eol;
    int     last = 0;

    if (text[0] != '4' && text[0] != '5')
        return (-1);
    for (;;) {
        size_t  len;

        eol = strstr(cp, "\r\n");
        len = eol ? (size_t) (eol - cp) : strlen(cp);
        if (milter_reply_line(cp, len, text[0], &last) < 0)
            return (-1);
        /* Every line but the last says '-', the last ' ' or nothing. */
        if (eol == NULL)
            return (0);
        if (last)
            return (-1);
        cp = eol + 2;
    }
}
