/* sasl_codec - the pure parsers of SMTP AUTH (RFC 4954).
 *
 * Base64 with bounds (the 334 challenges and the client's answers), the
 * PLAIN message (RFC 4616: authzid NUL authcid NUL passwd), and the line
 * codec of Dovecot's auth protocol 1.1 (TAB-separated fields, Dovecot's
 * str_tabescape: 0x01 -> \1 1, TAB -> \1 t, CR -> \1 r, LF -> \1 n), which
 * the AUTH back ends speak. Pure functions over bytes, so that the unit
 * tests and a fuzzer call exactly what a session runs. Buffers that held
 * credentials are wiped with sasl_wipe() (explicit_bzero) before
 * they are freed or reused: no password stays in memory or a core file
 * longer than its check.
 */
#include <string.h>

#include "sasl_codec.h"

static const char b64_chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* b64_value - the 6-bit value of one base64 character, -1 for others */
static int b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* sasl_b64_encode - data as base64 into out (replacing it) */
void    sasl_b64_encode(const void *data, size_t len, BUF *out)
{
    const unsigned char *p = data;
    size_t  i;

    buf_reset(out);
    for (i = 0; i + 2 < len; i += 3) {
        buf_putc(out, b64_chars[p[i] >> 2]);
        buf_putc(out, b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
        buf_putc(out, b64_chars[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
        buf_putc(out, b64_chars[p[i + 2] & 63]);
    }
    if (len - i == 1) {
        buf_putc(out, b64_chars[p[i] >> 2]);
        buf_putc(out, b64_chars[(p[i] & 3) << 4]);
        buf_puts(out, "==");
    } else if (len - i == 2) {
        buf_putc(out, b64_chars[p[i] >> 2]);
        buf_putc(out, b64_chars[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
        buf_putc(out, b64_chars[(p[i + 1] & 15) << 2]);
        buf_putc(out, '=');
    }
}

/* sasl_b64_decode - strict base64 (length a multiple of 4, '='
 * only at the end, no white space) into out, at most limit bytes.
 * 0, or -1 when malformed or too long (out is then wiped). */
int     sasl_b64_decode(const char *in, size_t len, size_t limit, BUF *out)
{
    size_t  i;
    size_t  pad = 0;

    sasl_wipe(out);
    if (len % 4 != 0 || len / 4 * 3 > limit + 2)
        return -1;
    if (len >= 1 && in[len - 1] == '=')
        pad++;
    if (len >= 2 && in[len - 2] == '=')
        pad++;
    for (i = 0; i < len; i += 4) {
        int     v[4];
        int     k;
        int     last = (i + 4 == len);

        for (k = 0; k < 4; k++) {
            if (last && k >= 4 - (int) pad) {
                v[k] = 0;
                continue;
            }
            if ((v[k] = b64_value((unsigned char) in[i + k])) < 0) {
                sasl_wipe(out);
                return -1;
            }
        }
        buf_putc(out, (v[0] << 2) | (v[1] >> 4));
        if (!last || pad < 2)
            buf_putc(out, ((v[1] & 15) << 4) | (v[2] >> 2));
        if (!last || pad < 1)
            buf_putc(out, ((v[2] & 3) << 6) | v[3]);
    }
    if (buf_len(out) > limit) {
        sasl_wipe(out);
        return -1;
    }
    return 0;
}

/* sasl_plain_split - split a decoded PLAIN message. The authcid must not
 * be empty; no part may hold another NUL. 0, or -1 when malformed. */
int     sasl_plain_split(const char *msg, size_t len, BUF *authzid, BUF *authcid,
                         BUF *passwd)
{
    const char *nul1 = memchr(msg, 0, len);
    const char *nul2;
    const char *end = msg + len;

    if (nul1 == NULL || (nul2 = memchr(nul1 + 1, 0, (size_t) (end - nul1 - 1))) == NULL)
        return -1;
    if (memchr(nul2 + 1, 0, (size_t) (end - nul2 - 1)) != NULL || nul2 == nul1 + 1)
        return -1;
    buf_reset(authzid);
    buf_append(authzid, msg, (size_t) (nul1 - msg));
    buf_reset(authcid);
    buf_append(authcid, nul1 + 1, (size_t) (nul2 - nul1 - 1));
    sasl_wipe(passwd);
    buf_append(passwd, nul2 + 1, (size_t) (end - nul2 - 1));
    return 0;
}

/* sasl_wipe - erase a buffer's bytes (credentials), then empty it */
void    sasl_wipe(BUF *buf)
{
    explicit_bzero(buf->data, buf->cap);
    buf_reset(buf);
}

/* sasl_dv_escape - append text with Dovecot's tab escaping */
void    sasl_dv_escape(BUF *out, const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        switch (text[i]) {
        case '\001':
            buf_puts(out, "\0011");
            break;
        case '\t':
            buf_puts(out, "\001t");
            break;
        case '\r':
            buf_puts(out, "\001r");
            break;
        case '\n':
            buf_puts(out, "\001n");
            break;
        default:
            buf_putc(out, text[i]);
        }
    }
}

/* sasl_dv_split - split one protocol line (no LF) in place at TABs
 * and unescape each field. Returns the field count, -1 when there are
 * more than max fields or a bad escape. */
int     sasl_dv_split(char *line, char **fields, int max)
{
    int     n = 0;
    char   *cp = line;

    for (;;) {
        char   *start = cp;
        char   *dst = cp;

        if (n >= max)
            return -1;
        while (*cp && *cp != '\t') {
            if (*cp == '\001') {
                switch (cp[1]) {
                case '1':
                    *dst++ = '\001';
                    break;
                case 't':
                    *dst++ = '\t';
                    break;
                case 'r':
                    *dst++ = '\r';
                    break;
                case 'n':
                    *dst++ = '\n';
                    break;
                default:
                    return -1;
                }
                cp += 2;
            } else {
                *dst++ = *cp++;
            }
        }
        fields[n++] = start;
        if (*cp == 0) {
            *dst = 0;
            return n;
        }
        cp++;
        *dst = 0;
    }
}
