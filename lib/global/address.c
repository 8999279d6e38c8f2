/* address - RFC 5321 paths and mailboxes: parsing, internal and external forms.
 *
 * The grammar is RFC 5321 section 4.1.2 (Path, Mailbox, Dot-string,
 * Quoted-string, Domain, address-literal) with RFC 6531's UTF-8 extension
 * when the client declared SMTPUTF8. The parser is strict about what it
 * accepts inside an address (no empty labels, no `..`, no control
 * characters, no 8-bit bytes without SMTPUTF8) and lenient only where
 * Postfix is by default: the angle brackets may be missing unless
 * strict_rfc821_envelopes is set. It never interprets routing characters
 * (`%`, `!`, a quoted `@`): the caller decides what they mean.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "config.h"

#define DOMAIN_MAX  255             /* RFC 1035 name length */
#define LABEL_MAX   63              /* RFC 1035 label length */

/* Why a parse failed, and where. */
typedef struct ADDR_STATE {
    const char *cp;                 /* next byte to read */
    int     flags;                  /* ADDR_* */
    int     status;                 /* ADDR_ERR_SYNTAX or ADDR_ERR_8BIT once failed */
    BUF    *why;                    /* reason, set once */
} ADDR_STATE;

/* addr_fail - remember the first failure and its reason */
static int addr_fail(ADDR_STATE *st, int status, const char *reason)
{
    if (st->status == 0) {
        st->status = status;
        if (st->why)
            buf_set(st->why, reason);
    }
    return -1;
}

/* utf8_len - length of the valid UTF-8 sequence at s, 0 if none (RFC 3629) */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (s[0] == 0xE0 && s[1] < 0xA0)
            return 0;                   /* overlong */
        if (s[0] == 0xED && s[1] >= 0xA0)
            return 0;                   /* surrogate */
        return 3;
    }
    if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (s[0] == 0xF0 && s[1] < 0x90)
            return 0;                   /* overlong */
        if (s[0] == 0xF4 && s[1] >= 0x90)
            return 0;                   /* beyond U+10FFFF */
        return 4;
    }
    return 0;
}

/* addr_8bit - length of the 8-bit character at p, or -1 after failing */
static int addr_8bit(ADDR_STATE *st, const char *p)
{
    size_t  len;

    if (!(st->flags & ADDR_UTF8))
        return addr_fail(st, ADDR_ERR_8BIT, "Must declare SMTPUTF8 to send unicode address");
    if ((len = utf8_len((const unsigned char *) p)) == 0)
        return addr_fail(st, ADDR_ERR_SYNTAX, "malformed UTF-8 in address");
    return (int) len;
}

/* is_atext - RFC 5322 atext (ASCII part) */
static int is_atext(int ch)
{
    return isascii(ch) && (isalnum(ch) || (ch && strchr("!#$%&'*+-/=?^_`{|}~", ch)));
}

/* parse_dot_string - Dot-string local part, appended to out */
static int parse_dot_string(ADDR_STATE *st, BUF *out)
{
    int     atom_len = 0;
    int     n;

    for (;;) {
        unsigned char ch = (unsigned char) *st->cp;

        if (is_atext(ch)) {
            buf_putc(out, ch);
            st->cp++;
            atom_len++;
        } else if (ch >= 0x80) {
            if ((n = addr_8bit(st, st->cp)) < 0)
                return -1;
            buf_append(out, st->cp, (size_t) n);
            st->cp += n;
            atom_len++;
        } else if (ch == '.') {
            if (atom_len == 0)
                return addr_fail(st, ADDR_ERR_SYNTAX, "empty atom in local part");
            buf_putc(out, '.');
            st->cp++;
            atom_len = 0;
        } else
            break;
    }
    if (atom_len == 0)
        return addr_fail(st, ADDR_ERR_SYNTAX, buf_len(out) ? "local part ends in a dot"
                         : "empty local part");
    return 0;
}

/* parse_quoted_string - Quoted-string local part, unquoted into out */
static int parse_quoted_string(ADDR_STATE *st, BUF *out)
{
    int     n;

    st->cp++;                           /* opening quote */
    for (;;) {
        unsigned char ch = (unsigned char) *st->cp;

        if (ch == '"') {
            st->cp++;
            return 0;
        } else if (ch == '\\') {
            ch = (unsigned char) st->cp[1];
            if (ch < 32 || ch > 126)
                return addr_fail(st, ADDR_ERR_SYNTAX, "bad quoted pair in local part");
            buf_putc(out, ch);
            st->cp += 2;
        } else if (ch >= 32 && ch <= 126) {
            buf_putc(out, ch);
            st->cp++;
        } else if (ch >= 0x80) {
            if ((n = addr_8bit(st, st->cp)) < 0)
                return -1;
            buf_append(out, st->cp, (size_t) n);
            st->cp += n;
        } else
            return addr_fail(st, ADDR_ERR_SYNTAX, ch ? "control character in quoted local part"
                             : "unterminated quoted local part");
    }
}

/* address_literal - see address.h */
int address_literal(const char *text, size_t len, char *inner, size_t size)
{
    char    buf[64];
    unsigned char bin[16];
    const char *addr = buf;
    size_t  n;
    int     family;

    if (len < 3 || text[0] != '[' || text[len - 1] != ']')
        return 0;
    n = len - 2;
    if (n >= sizeof(buf))
        return 0;
    memcpy(buf, text + 1, n);
    buf[n] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0) {
        addr = buf + 5;
        family = inet_pton(AF_INET6, addr, bin) == 1 ? AF_INET6 : 0;
    } else {
        family = strspn(buf, "0123456789.") == n && inet_pton(AF_INET, buf, bin) == 1
            ? AF_INET : 0;
    }
    if (family == 0 || (inner != NULL && strlen(addr) >= size))
        return 0;
    if (inner != NULL)
        memcpy(inner, addr, strlen(addr) + 1);
    return family;
}

/* domain_scan - length of a valid hostname at text (stops at a byte that
 * can't be part of it), 0 with st failed if it is malformed */
static size_t domain_scan(ADDR_STATE *st, const char *text)
{
    const char *cp = text;
    size_t  label = 0;
    int     numeric = 1;                /* every label all digits so far */
    int     label_numeric = 1;
    int     n;

    for (;;) {
        unsigned char ch = (unsigned char) *cp;

        if (isascii(ch) && (isalnum(ch) || ch == '-')) {
            if (ch == '-' && label == 0)
                return addr_fail(st, ADDR_ERR_SYNTAX, "domain label starts with '-'"), 0;
            if (!isdigit(ch))
                label_numeric = 0;
            cp++;
            label++;
        } else if (ch >= 0x80) {
            if ((n = addr_8bit(st, cp)) < 0)
                return 0;
            cp += n;
            label++;
            label_numeric = 0;
        } else if (ch == '.') {
            if (label == 0)
                return addr_fail(st, ADDR_ERR_SYNTAX, "empty domain label"), 0;
            if (cp[-1] == '-')
                return addr_fail(st, ADDR_ERR_SYNTAX, "domain label ends in '-'"), 0;
            numeric &= label_numeric;
            label = 0;
            label_numeric = 1;
            cp++;
        } else
            break;
        if (label > LABEL_MAX)
            return addr_fail(st, ADDR_ERR_SYNTAX, "domain label too long"), 0;
    }
    if (label == 0)
        return addr_fail(st, ADDR_ERR_SYNTAX, cp == text ? "empty domain" : "domain ends in a dot"), 0;
    if (cp[-1] == '-')
        return addr_fail(st, ADDR_ERR_SYNTAX, "domain label ends in '-'"), 0;
    if (numeric && label_numeric)
        return addr_fail(st, ADDR_ERR_SYNTAX, "numeric domain without [brackets]"), 0;
    if ((size_t) (cp - text) > DOMAIN_MAX)
        return addr_fail(st, ADDR_ERR_SYNTAX, "domain too long"), 0;
    return (size_t) (cp - text);
}

/* parse_domain - Domain or address-literal at st->cp, appended to out if not NULL */
static int parse_domain(ADDR_STATE *st, BUF *out)
{
    size_t  len;

    if (*st->cp == '[') {
        const char *end = strchr(st->cp, ']');

        if (end == NULL || !address_literal(st->cp, (size_t) (end - st->cp) + 1, NULL, 0))
            return addr_fail(st, ADDR_ERR_SYNTAX, "bad address literal");
        len = (size_t) (end - st->cp) + 1;
    } else if ((len = domain_scan(st, st->cp)) == 0)
        return -1;
    if (out)
        buf_append(out, st->cp, len);
    st->cp += len;
    return 0;
}

/* parse_source_route - skip "@a,@b:" before the mailbox, checking each domain */
static int parse_source_route(ADDR_STATE *st)
{
    for (;;) {
        st->cp++;                       /* the '@' */
        if (parse_domain(st, NULL) < 0)
            return -1;
        if (*st->cp == ':') {
            st->cp++;
            return 0;
        }
        if (*st->cp != ',' || st->cp[1] != '@')
            return addr_fail(st, ADDR_ERR_SYNTAX, "bad source route");
        st->cp++;
    }
}

/* parse_mailbox - Local-part ["@" Domain] into addr (internal form) */
static int parse_mailbox(ADDR_STATE *st, BUF *addr)
{
    if (*st->cp == '"') {
        if (parse_quoted_string(st, addr) < 0)
            return -1;
    } else if (parse_dot_string(st, addr) < 0)
        return -1;
    /* An unqualified address ("postmaster") is allowed: smtpd_check decides.
     * One whose quoted local part holds '@' is not: its internal form would
     * read as a different, qualified address. */
    if (*st->cp != '@') {
        if (buf_len(addr) == 0)
            return addr_fail(st, ADDR_ERR_SYNTAX, "empty address");
        return strchr(buf_str(addr), '@') == NULL ? 0
            : addr_fail(st, ADDR_ERR_SYNTAX, "'@' in the local part of an unqualified address");
    }
    buf_putc(addr, '@');
    st->cp++;
    return parse_domain(st, addr);
}

/* address_parse_path - `<path> [params]` of MAIL FROM / RCPT TO */
int address_parse_path(const char *text, int flags, BUF *addr, int *is_null,
                       const char **rest, BUF *why)
{
    ADDR_STATE st = {text, flags, 0, why};
    int     bracketed;
    const char *start;

    buf_reset(addr);
    *is_null = 0;
    while (*st.cp == ' ' || *st.cp == '\t')
        st.cp++;
    if ((bracketed = (*st.cp == '<')) != 0)
        st.cp++;
    else if (flags & ADDR_STRICT)
        return addr_fail(&st, ADDR_ERR_SYNTAX, "address must be enclosed in <>");
    start = st.cp;
    if (bracketed && *st.cp == '>') {
        *is_null = 1;
    } else {
        if (bracketed && *st.cp == '@' && parse_source_route(&st) < 0)
            return st.status;
        if (*st.cp == 0 || *st.cp == ' ' || *st.cp == '>')
            return addr_fail(&st, ADDR_ERR_SYNTAX, "empty address"), st.status;
        if (parse_mailbox(&st, addr) < 0)
            return st.status;
    }
    if ((size_t) (st.cp - start) > ADDR_MAX || buf_len(addr) > ADDR_MAX)
        return addr_fail(&st, ADDR_ERR_SYNTAX, "address too long"), st.status;
    if (bracketed) {
        if (*st.cp != '>')
            return addr_fail(&st, ADDR_ERR_SYNTAX, *st.cp ? "unexpected character in address"
                             : "missing '>' after address"), st.status;
        st.cp++;
    }
    if (*st.cp != 0 && *st.cp != ' ' && *st.cp != '\t')
        return addr_fail(&st, ADDR_ERR_SYNTAX, "garbage after address"), st.status;
    while (*st.cp == ' ' || *st.cp == '\t')
        st.cp++;
    if (rest)
        *rest = st.cp;
    return 0;
}

/* address_split - local part and domain, at the last '@' (domain "" if none) */
void address_split(const char *addr, BUF *local, BUF *domain)
{
    const char *at = strrchr(addr, '@');

    buf_reset(local);
    buf_reset(domain);
    if (at == NULL) {
        buf_puts(local, addr);
    } else {
        buf_append(local, addr, (size_t) (at - addr));
        buf_puts(domain, at + 1);
    }
}

/* address_qualify - see address.h */
void address_qualify(const char *addr, BUF *out)
{
    const char *at = strrchr(addr, '@');
    const char *origin = config_str(P_myorigin);
    const char *mydomain;

    buf_set(out, addr);
    if (*addr == 0)
        return;                         /* the null sender */
    if (at == NULL || at[1] == 0) {
        if (*origin == 0 || !config_bool(P_append_at_myorigin))
            return;
        if (at != NULL)
            buf_truncate(out, (size_t) (at - addr));
        buf_printf(out, "@%s", origin);
        at = strrchr(buf_str(out), '@');
    } else {
        at = buf_str(out) + (at - addr);
    }
    /* append_dot_mydomain: user@host -> user@host.$mydomain; an address
     * literal or a domain with a dot stays, as in Postfix. */
    mydomain = config_str(P_mydomain);
    if (config_bool(P_append_dot_mydomain) && *mydomain
        && at[1] != '[' && strchr(at + 1, '.') == NULL)
        buf_printf(out, ".%s", mydomain);
}

/* address_qualify_remote - see address.h */
void address_qualify_remote(const char *addr, BUF *out)
{
    const char *at = strrchr(addr, '@');
    const char *domain = config_str(P_remote_header_rewrite_domain);

    buf_set(out, addr);
    if (*addr == 0 || *domain == 0 || (at != NULL && at[1] != 0))
        return;
    if (at != NULL)
        buf_truncate(out, (size_t) (at - addr));
    buf_printf(out, "@%s", domain);
}

/* local_is_dot_string - can this local part go out without quotes? */
static int local_is_dot_string(const char *local, size_t len)
{
    size_t  i;

    if (len == 0 || local[0] == '.' || local[len - 1] == '.')
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) local[i];

        if (ch == '.' ? local[i + 1] == '.' : !(is_atext(ch) || ch >= 0x80))
            return 0;
    }
    return 1;
}

/* address_externalize - internal form to the form SMTP carries (quoted if needed) */
void address_externalize(const char *internal, BUF *external)
{
    const char *at = strrchr(internal, '@');
    size_t  local_len = at ? (size_t) (at - internal) : strlen(internal);
    size_t  i;

    buf_reset(external);
    if (*internal == 0)
        return;                         /* the null address stays empty */
    if (local_is_dot_string(internal, local_len)) {
        buf_append(external, internal, local_len);
    } else {
        buf_putc(external, '"');
        for (i = 0; i < local_len; i++) {
            if (internal[i] == '"' || internal[i] == '\\')
                buf_putc(external, '\\');
            buf_putc(external, internal[i]);
        }
        buf_putc(external, '"');
    }
    if (at)
        buf_puts(external, at);
}

/* address_has_8bit - does the address hold any byte >= 0x80? */
int address_has_8bit(const char *addr)
{
    for (; *addr; addr++)
        if ((unsigned char) *addr >= 0x80)
            return 1;
    return 0;
}

/* address_valid_domain - a hostname or an address literal, nothing else */
int address_valid_domain(const char *domain, int flags)
{
    ADDR_STATE st = {domain, flags, 0, NULL};

    if (parse_domain(&st, NULL) < 0)
        return 0;
    return *st.cp == 0;
}

void    address_strip_dot(BUF *name)
{
    size_t  len = buf_len(name);

    if (len > 1 && buf_str(name)[len - 1] == '.' && buf_str(name)[len - 2] != '.')
        buf_truncate(name, len - 1);
}
