/* maildrop - check the record stream of a local submission.
 *
 * Shared by postdrop (checks while it copies the stream into maildrop/)
 * and pickup (checks the file again before cleanup sees it). The grammar
 * and the bounds are in maildrop.h. Input may be anything a local user
 * can write; nothing here trusts it.
 */
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "dsn.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "record.h"

/* Where we are in A* F? S recipient* M (N|L)* X E. */
enum maildrop_state {
    MD_ATTRS,                           /* A records, then F or S */
    MD_FULL,                            /* after F: S must come */
    MD_RCPTS,                           /* after S: recipients, then M */
    MD_CONTENT,                         /* after M: N, L, then X */
    MD_EXTRACTED,                       /* after X: only E */
    MD_END                              /* after E: nothing more */
};

/* The attributes a user may set, with a bit each (attrs_seen). */
#define MD_ATTR_FLAGS       (1 << 0)
#define MD_ATTR_ENVID       (1 << 1)
#define MD_ATTR_RET         (1 << 2)
#define MD_ATTR_ENCODING    (1 << 3)
#define MD_ATTR_NOTIFY      (1 << 4)

/* maildrop_check_init - a fresh checker for one stream */
void maildrop_check_init(MAILDROP_CHECK *c, long size_limit)
{
    memset(c, 0, sizeof(*c));
    c->state = MD_ATTRS;
    msg_size_init(&c->content_size);
    c->size_limit = size_limit > 0 ? size_limit : 0;
}

/* md_printable - no control characters, no NUL (8-bit bytes are fine) */
static int md_printable(const char *data, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) data[i];

        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

/* md_atext - RFC 5322 atext, plus 8-bit bytes (UTF-8 local parts) */
static int md_atext(unsigned char ch)
{
    if (ch >= 0x80)
        return 1;
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

/* md_domain_ok - a domain as smtpd accepts it (address_valid_domain: a
 * host name, UTF-8 allowed, or an [address literal] that parses), plus
 * one trailing dot, which sendmail users type and Postfix strips. This
 * used to be a second, looser copy of the host-name rule ("[vvv]",
 * "-x-", "12345" and malformed UTF-8 got through; found by fuzz_maildrop). */
static int md_domain_ok(const char *d, size_t len)
{
    char    domain[MAILDROP_FIELD_MAX + 1];

    if (len > 1 && d[len - 1] == '.')
        len--;
    if (len == 0 || len >= sizeof(domain))
        return 0;
    memcpy(domain, d, len);
    domain[len] = 0;
    return address_valid_domain(domain, ADDR_UTF8);
}

/* maildrop_address_check - the strict address syntax of maildrop.h */
int maildrop_address_check(const char *addr, size_t len, int allow_empty, BUF *why)
{
    const char *at;
    size_t  local_len;
    size_t  i;

    if (len == 0) {
        if (allow_empty)
            return 0;
        buf_set(why, "empty address");
        return -1;
    }
    if (len > MAILDROP_FIELD_MAX || memchr(addr, '\0', len) != NULL
        || !md_printable(addr, len)) {
        buf_set(why, "address too long or with control characters");
        return -1;
    }
    if (addr[0] == '-') {
        buf_set(why, "address may not start with '-'");
        return -1;
    }
    at = memchr(addr, '@', len);
    local_len = at ? (size_t) (at - addr) : len;
    if (local_len == 0 || addr[0] == '.' || addr[local_len - 1] == '.') {
        buf_set(why, "bad local part");
        return -1;
    }
    for (i = 0; i < local_len; i++) {
        if (addr[i] == '.' ? addr[i + 1] == '.' : !md_atext((unsigned char) addr[i])) {
            buf_set(why, "bad character in local part (quoted local parts are not supported)");
            return -1;
        }
    }
    if (at && !md_domain_ok(at + 1, len - local_len - 1)) {
        buf_set(why, "bad domain");
        return -1;
    }
    return 0;
}

/* md_attr_check - one "name=value" A record */
static int md_attr_check(MAILDROP_CHECK *c, const char *data, size_t len, BUF *why)
{
    const char *eq = memchr(data, '=', len);
    size_t  nlen;
    const char *val;
    size_t  vlen;
    int     bit;
    char    num[16];
    char   *end;
    long    flags;

    if (eq == NULL || !md_printable(data, len)) {
        buf_set(why, "malformed attribute record");
        return MAILDROP_BAD;
    }
    nlen = (size_t) (eq - data);
    val = eq + 1;
    vlen = len - nlen - 1;
#define MD_NAME_IS(n) (nlen == strlen(n) && memcmp(data, n, nlen) == 0)
    if (MD_NAME_IS(MAIL_ATTR_FLAGS)) {
        bit = MD_ATTR_FLAGS;
        if (vlen == 0 || vlen >= sizeof(num) || strspn(val, "0123456789") < vlen)
            goto bad_value;
        memcpy(num, val, vlen);
        num[vlen] = 0;
        flags = strtol(num, &end, 10);
        if ((flags & ~(long) CLEANUP_FLAG_EXTRACT) != 0)
            goto bad_value;
        c->flags = (int) flags;
    } else if (MD_NAME_IS(MAIL_ATTR_ENVID)) {
        bit = MD_ATTR_ENVID;
        if (!dsn_envid_ok(val, vlen))
            goto bad_value;
    } else if (MD_NAME_IS(MAIL_ATTR_RET)) {
        bit = MD_ATTR_RET;
        if (!dsn_ret_stored(val, vlen))
            goto bad_value;
    } else if (MD_NAME_IS(MAIL_ATTR_DSN_NOTIFY)) {
        bit = MD_ATTR_NOTIFY;           /* for recipients cleanup extracts (-t -N) */
        if (!dsn_notify_stored(val, vlen))
            goto bad_value;
    } else if (MD_NAME_IS(MAIL_ATTR_ENCODING)) {
        bit = MD_ATTR_ENCODING;
        if (!dsn_body_stored(val, vlen))
            goto bad_value;
    } else {
        buf_set(why, "attribute not allowed in a local submission");
        return MAILDROP_BAD;
    }
#undef MD_NAME_IS
    if (c->attrs_seen & bit) {
        buf_set(why, "attribute given twice");
        return MAILDROP_BAD;
    }
    c->attrs_seen |= bit;
    return MAILDROP_MORE;

bad_value:
    buf_set(why, "bad attribute value");
    return MAILDROP_BAD;
}

/* md_recipient_record - O, o, n, R between S and M */
static int md_recipient_record(MAILDROP_CHECK *c, int type, const char *data,
                               size_t len, BUF *why)
{
    switch (type) {
    case REC_TYPE_ORCP:
        if (len > MAILDROP_FIELD_MAX || !md_printable(data, len))
            goto bad;
        break;
    case REC_TYPE_DSN_ORCPT:
        if (!dsn_orcpt_ok(data, len))
            goto bad;
        break;
    case REC_TYPE_DSN_NOTIFY:
        if (!dsn_notify_stored(data, len))
            goto bad;
        break;
    case REC_TYPE_RCPT:
        if (maildrop_address_check(data, len, 0, why) < 0) {
            buf_printf(why, " (recipient)");
            return MAILDROP_BAD;
        }
        if (++c->nrcpt > MAILDROP_RCPT_MAX) {
            buf_set(why, "too many recipients");
            return MAILDROP_BAD;
        }
        c->rcpt_pending = 0;
        return MAILDROP_MORE;
    }
    c->rcpt_pending = 1;
    return MAILDROP_MORE;

bad:
    buf_printf(why, "bad %s record", rec_type_name(type));
    return MAILDROP_BAD;
}

/* md_content_record - N and L between M and X; counts the size */
static int md_content_record(MAILDROP_CHECK *c, int type, const char *data, size_t len,
                             BUF *why)
{
    if (len > MAILDROP_LINE_MAX) {
        buf_set(why, "content record too long");
        return MAILDROP_BAD;
    }
    msg_size_record(&c->content_size, type, data, len);
    c->partial_line = (type == REC_TYPE_CONT);
    if (msg_size_exceeds(c->content_size.octets, c->size_limit)) {
        buf_set(why, "message too large (message_size_limit)");
        return MAILDROP_TOOBIG;
    }
    return MAILDROP_MORE;
}

/* maildrop_check_record - feed one record; MAILDROP_MORE, _DONE, _BAD, _TOOBIG */
int maildrop_check_record(MAILDROP_CHECK *c, int type, const char *data,
                          size_t len, BUF *why)
{
    buf_reset(why);
    switch (c->state) {
    case MD_ATTRS:
        if (type == REC_TYPE_ATTR) {
            if (++c->nattr > MAILDROP_ATTR_MAX) {
                buf_set(why, "too many attribute records");
                return MAILDROP_BAD;
            }
            return md_attr_check(c, data, len, why);
        }
        if (type == REC_TYPE_FULL) {
            if (len > MAILDROP_FIELD_MAX || !md_printable(data, len)) {
                buf_set(why, "bad full name record");
                return MAILDROP_BAD;
            }
            c->state = MD_FULL;
            return MAILDROP_MORE;
        }
        /* FALLTHROUGH */
    case MD_FULL:
        if (type != REC_TYPE_FROM)
            break;
        if (maildrop_address_check(data, len, 1, why) < 0) {
            buf_printf(why, " (sender)");
            return MAILDROP_BAD;
        }
        c->state = MD_RCPTS;
        return MAILDROP_MORE;
    case MD_RCPTS:
        if (type == REC_TYPE_ORCP || type == REC_TYPE_DSN_ORCPT
            || type == REC_TYPE_DSN_NOTIFY || type == REC_TYPE_RCPT)
            return md_recipient_record(c, type, data, len, why);
        if (type != REC_TYPE_MESG || c->rcpt_pending || len != 0)
            break;
        if (c->nrcpt == 0 && !(c->flags & CLEANUP_FLAG_EXTRACT)) {
            buf_set(why, "no recipients");
            return MAILDROP_BAD;
        }
        c->state = MD_CONTENT;
        return MAILDROP_MORE;
    case MD_CONTENT:
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT)
            return md_content_record(c, type, data, len, why);
        if (type != REC_TYPE_XTRA || c->partial_line || len != 0)
            break;
        c->state = MD_EXTRACTED;
        return MAILDROP_MORE;
    case MD_EXTRACTED:
        if (type != REC_TYPE_END || len != 0)
            break;
        c->state = MD_END;
        return MAILDROP_DONE;
    default:
        break;
    }
    if (rec_type_known(type))
        buf_printf(why, "unexpected %s record", rec_type_name(type));
    else
        buf_printf(why, "unknown record type %d", type);
    return MAILDROP_BAD;
}
