/* dsn - the DSN keywords and BODY: parse the wire form, check the stored
 * form; see dsn.h. Pure functions over bytes (fuzzed through smtpd's
 * parameter parser). Input is untrusted: every length is explicit and no
 * value is ever read past len.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"

/* dsn_word - text[0..len) is word, case-insensitive */
static int dsn_word(const char *text, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(text, word, len) == 0;
}

/* dsn_exact - text[0..len) is word, byte for byte */
static int dsn_exact(const char *text, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(text, word, len) == 0;
}

/* dsn_hex - the value of an upper-case hex digit, -1 for anything else */
static int dsn_hex(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* dsn_xchar - a byte that xtext carries as itself */
static int dsn_xchar(unsigned char ch)
{
    return ch >= 33 && ch <= 126 && ch != '+' && ch != '=';
}

int     dsn_xtext_decode(const char *text, size_t len, BUF *out)
{
    size_t  i;
    int     hi;
    int     lo;

    buf_reset(out);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) text[i];

        if (ch == '+') {
            if (len - i < 3 || (hi = dsn_hex(text[i + 1])) < 0 || (lo = dsn_hex(text[i + 2])) < 0)
                return -1;
            buf_putc(out, (hi << 4) | lo);
            i += 2;
        } else if (dsn_xchar(ch)) {
            buf_putc(out, ch);
        } else {
            return -1;
        }
    }
    return 0;
}

void    dsn_xtext_encode(const char *text, size_t len, BUF *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t  i;

    buf_reset(out);
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) text[i];

        if (dsn_xchar(ch)) {
            buf_putc(out, ch);
        } else {
            buf_putc(out, '+');
            buf_putc(out, hex[ch >> 4]);
            buf_putc(out, hex[ch & 15]);
        }
    }
}

int     dsn_notify_valid(int bits)
{
    int     all = DSN_NOTIFY_NEVER | DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;

    /* NEVER stands alone (RFC 3461 4.1). */
    return bits != 0 && (bits & ~all) == 0
        && (!(bits & DSN_NOTIFY_NEVER) || bits == DSN_NOTIFY_NEVER);
}

/* dsn_notify_word - the bit of one NOTIFY item, 0 when unknown */
static int dsn_notify_word(const char *word, size_t len)
{
    static const struct {
        const char *name;
        int     bit;
    } words[] = {
        {"NEVER", DSN_NOTIFY_NEVER}, {"SUCCESS", DSN_NOTIFY_SUCCESS},
        {"FAILURE", DSN_NOTIFY_FAILURE}, {"DELAY", DSN_NOTIFY_DELAY},
    };
    size_t  i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (dsn_word(word, len, words[i].name))
            return words[i].bit;
    return 0;
}

void    dsn_notify_str(int bits, BUF *out)
{
    static const struct {
        const char *name;
        int     bit;
    } words[] = {
        {"NEVER", DSN_NOTIFY_NEVER}, {"SUCCESS", DSN_NOTIFY_SUCCESS},
        {"FAILURE", DSN_NOTIFY_FAILURE}, {"DELAY", DSN_NOTIFY_DELAY},
    };
    size_t  i;

    buf_reset(out);
    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!(bits & words[i].bit))
            continue;
        if (buf_len(out) > 0)
            buf_putc(out, ',');
        buf_puts(out, words[i].name);
    }
}

int     dsn_notify_parse(const char *text, size_t len)
{
    size_t  i = 0;
    int     bits = 0;
    int     bit;

    for (;;) {
        size_t  start;
        size_t  end;

        while (i < len && (text[i] == ' ' || text[i] == '\t'))
            i++;
        start = i;
        while (i < len && text[i] != ',' && text[i] != ' ' && text[i] != '\t')
            i++;
        end = i;
        while (i < len && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (end == start || (bit = dsn_notify_word(text + start, end - start)) == 0)
            return 0;                   /* empty or unknown item */
        bits |= bit;
        if (i == len)
            break;
        if (text[i] != ',')
            return 0;                   /* two words without a comma */
        i++;                            /* an item must follow the comma */
    }
    return dsn_notify_valid(bits) ? bits : 0;
}

int     dsn_notify_stored(const char *text, size_t len)
{
    int     bits = 0;
    size_t  i;

    if (len == 0 || len > 2)
        return 0;                       /* the largest mask is 14 */
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char) text[i]))
            return 0;
        bits = bits * 10 + (text[i] - '0');
    }
    return dsn_notify_valid(bits) ? bits : 0;
}

int     dsn_ret_parse(const char *text, size_t len)
{
    if (dsn_word(text, len, "FULL"))
        return DSN_RET_FULL;
    if (dsn_word(text, len, "HDRS"))
        return DSN_RET_HDRS;
    return 0;
}

const char *dsn_ret_str(int ret)
{
    return ret == DSN_RET_FULL ? "FULL" : ret == DSN_RET_HDRS ? "HDRS" : NULL;
}

int     dsn_ret_stored(const char *text, size_t len)
{
    return dsn_exact(text, len, "FULL") ? DSN_RET_FULL
        : dsn_exact(text, len, "HDRS") ? DSN_RET_HDRS : 0;
}

int     dsn_body_parse(const char *text, size_t len)
{
    if (dsn_word(text, len, "7BIT"))
        return DSN_BODY_7BIT;
    if (dsn_word(text, len, "8BITMIME"))
        return DSN_BODY_8BITMIME;
    return 0;
}

const char *dsn_body_str(int body)
{
    return body == DSN_BODY_7BIT ? "7bit" : body == DSN_BODY_8BITMIME ? "8bitmime" : NULL;
}

int     dsn_body_stored(const char *text, size_t len)
{
    return dsn_exact(text, len, "7bit") ? DSN_BODY_7BIT
        : dsn_exact(text, len, "8bitmime") ? DSN_BODY_8BITMIME : 0;
}

int     dsn_envid_ok(const char *text, size_t len)
{
    size_t  i;

    if (len == 0 || len > DSN_ENVID_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char) text[i] < 32 || (unsigned char) text[i] > 126)
            return 0;
    return 1;
}

int     dsn_envid_parse(const char *xtext, size_t len, BUF *out)
{
    if (dsn_xtext_decode(xtext, len, out) < 0 || !dsn_envid_ok(buf_str(out), buf_len(out))) {
        buf_reset(out);                 /* never leave a refused value behind */
        return -1;
    }
    return 0;
}

/* dsn_orcpt_type - the length of the addr-type atom before ';', 0 bad */
static size_t dsn_orcpt_type(const char *text, size_t len)
{
    const char *semi = memchr(text, ';', len);
    size_t  tlen;
    size_t  i;

    if (semi == NULL || semi == text || (size_t) (semi - text) + 1 == len)
        return 0;                       /* no ';', no type or no address */
    tlen = (size_t) (semi - text);
    for (i = 0; i < tlen; i++)
        if (!isalnum((unsigned char) text[i]) && text[i] != '-')
            return 0;
    return tlen;
}

/* dsn_orcpt_addr_ok - a decoded address: no control characters (8-bit
 * bytes are UTF-8, RFC 6533) */
static int dsn_orcpt_addr_ok(const char *addr, size_t len)
{
    size_t  i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char) addr[i] < 32 || addr[i] == 127)
            return 0;
    return 1;
}

int     dsn_orcpt_parse(const char *text, size_t len, BUF *out)
{
    size_t  tlen;
    BUF    *addr;
    int     ret = 0;

    if (len > DSN_ORCPT_MAX || (tlen = dsn_orcpt_type(text, len)) == 0)
        return -1;
    addr = buf_alloc(len);
    if (tlen == 6 && strncasecmp(text, "rfc822", 6) == 0) {
        if (dsn_xtext_decode(text + tlen + 1, len - tlen - 1, addr) < 0)
            ret = -1;
    } else {
        buf_append(addr, text + tlen + 1, len - tlen - 1);
    }
    if (ret == 0 && !dsn_orcpt_addr_ok(buf_str(addr), buf_len(addr)))
        ret = -1;
    if (ret == 0) {
        buf_reset(out);
        buf_append(out, text, tlen);
        buf_putc(out, ';');
        buf_append(out, buf_str(addr), buf_len(addr));
    }
    buf_free(addr);
    return ret;
}

int     dsn_orcpt_ok(const char *text, size_t len)
{
    size_t  tlen;

    if (len > DSN_ORCPT_MAX || (tlen = dsn_orcpt_type(text, len)) == 0)
        return 0;
    return dsn_orcpt_addr_ok(text + tlen + 1, len - tlen - 1);
}

size_t  dsn_code_prefix(const char *text)
{
    const char *p = text;
    int     part, digits;

    if ((*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
        return 0;
    p += 2;
    for (part = 0; part < 2; part++) {
        for (digits = 0; isdigit((unsigned char) *p) && digits < 3; digits++)
            p++;
        if (digits == 0 || (part == 0 && *p++ != '.'))
            return 0;
    }
    return (*p == 0 || *p == ' ') ? (size_t) (p - text) : 0;
}
