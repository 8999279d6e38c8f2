/* address - TEMPORARY STUB of lib/address.h so that smtpd links before
 * the access branch lands. DROP THIS FILE when merging (the real one comes
 * from the access-control engineer). Just enough RFC 5321 path parsing
 * for smtpd's tests: <>, source routes, quoted local parts.
 */
#include <ctype.h>
#include <string.h>

#include "address.h"

/* stub_atext - a byte allowed in an unquoted local part or domain */
static int stub_atext(unsigned char ch, int flags)
{
    if (ch >= 0x80)
        return (flags & ADDR_UTF8) != 0;
    return isalnum(ch) || strchr("!#$%&'*+-/=?^_`{|}~.@[]:", ch) != NULL;
}

int     address_parse_path(const char *text, int flags, BUF *addr, int *is_null,
                           const char **rest, BUF *why)
{
    const char *cp = text;
    int     bracket = 0;

    buf_reset(addr);
    *is_null = 0;
    while (*cp == ' ')
        cp++;
    if (*cp == '<') {
        bracket = 1;
        cp++;
        if (*cp == '@') {
            const char *colon = strchr(cp, ':');

            if (colon == NULL) {
                buf_set(why, "bad source route");
                return -1;
            }
            cp = colon + 1;
        }
    } else if (flags & ADDR_STRICT) {
        buf_set(why, "missing <>");
        return -1;
    }
    if (*cp == '"') {
        for (cp++; *cp != '"'; cp++) {
            if (*cp == 0) {
                buf_set(why, "unterminated quoted string");
                return -1;
            }
            if (*cp == '\\' && cp[1])
                cp++;
            if ((unsigned char) *cp >= 0x80 && !(flags & ADDR_UTF8)) {
                buf_set(why, "8-bit address");
                return -1;
            }
            buf_putc(addr, *cp);
        }
        cp++;
        if (*cp != '@' && !(bracket && *cp == '>') && *cp != ' ' && *cp != 0) {
            buf_set(why, "bad quoted local part");
            return -1;
        }
    }
    while (*cp && *cp != '>' && *cp != ' ') {
        if (!stub_atext((unsigned char) *cp, flags)) {
            buf_set(why, "bad character in address");
            return -1;
        }
        buf_putc(addr, *cp++);
    }
    if (bracket) {
        if (*cp != '>') {
            buf_set(why, "missing >");
            return -1;
        }
        cp++;
    }
    if (buf_len(addr) > ADDR_MAX) {
        buf_set(why, "address too long");
        return -1;
    }
    if (buf_len(addr) == 0) {
        if (!bracket) {
            buf_set(why, "empty address");
            return -1;
        }
        *is_null = 1;
    }
    if (*cp && *cp != ' ') {
        buf_set(why, "garbage after address");
        return -1;
    }
    while (*cp == ' ')
        cp++;
    *rest = cp;
    return 0;
}

void    address_split(const char *a, BUF *local, BUF *domain)
{
    const char *at = strrchr(a, '@');

    buf_reset(local);
    buf_reset(domain);
    if (at == NULL) {
        buf_puts(local, a);
        return;
    }
    buf_append(local, a, (size_t) (at - a));
    buf_puts(domain, at + 1);
}

void    address_externalize(const char *internal, BUF *external)
{
    buf_set(external, internal);
}

int     address_has_8bit(const char *a)
{
    for (; *a; a++)
        if ((unsigned char) *a >= 0x80)
            return 1;
    return 0;
}

int     address_valid_domain(const char *domain, int flags)
{
    (void) flags;
    return *domain != 0;
}
