/* dnsbl_pattern - the =PATTERN of a DNSBL restriction (see dnsbl_pattern.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl_pattern.h"

/* pattern_octet - one octet of a pattern against a value: 1 match, 0 no,
 * -1 syntax error. "2", "[2;4..6]" */
static int pattern_octet(const char *text, size_t len, int value)
{
    const char *end = text + len;
    const char *cp;
    int     match = 0;

    if (len == 0)
        return -1;
    if (text[0] != '[') {
        if (strspn(text, "0123456789") < len || len > 3 || atoi(text) > 255)
            return -1;
        return atoi(text) == value;
    }
    if (len < 3 || end[-1] != ']')
        return -1;
    for (cp = text + 1; cp < end - 1;) {
        char   *next;
        long    lo, hi;

        if (!isdigit((unsigned char) *cp))
            return -1;
        lo = hi = strtol(cp, &next, 10);
        cp = next;
        if (cp + 1 < end && cp[0] == '.' && cp[1] == '.') {
            if (!isdigit((unsigned char) cp[2]))
                return -1;
            hi = strtol(cp + 2, &next, 10);
            cp = next;
        }
        if (lo > 255 || hi > 255 || lo > hi)
            return -1;
        if (value >= lo && value <= hi)
            match = 1;
        if (*cp == ';')
            cp++;
        else if (cp != end - 1)
            return -1;
    }
    return match;
}

int     dnsbl_pattern_match(const char *pattern, const unsigned char addr[4])
{
    const char *cp = pattern;
    int     octet, result = 1;

    for (octet = 0; octet < 4; octet++) {
        size_t  len;
        int     m;

        if (*cp == '[') {
            const char *close = strchr(cp, ']');

            if (close == NULL)
                return -1;
            len = (size_t) (close - cp) + 1;
        } else {
            len = strcspn(cp, ".");
        }
        if ((m = pattern_octet(cp, len, addr[octet])) < 0)
            return -1;
        if (!m)
            result = 0;
        cp += len;
        if (octet < 3) {
            if (*cp != '.')
                return -1;
            cp++;
        }
    }
    return *cp == 0 ? result : -1;
}

int     dnsbl_pattern_valid(const char *pattern)
{
    static const unsigned char any[4];

    return dnsbl_pattern_match(pattern, any) >= 0;
}
