/* error_status - what the error agent answers, as Postfix's error(8):
 * the nexthop is the reason text, optionally starting with an enhanced
 * status code ("5.1.1 User unknown"). The `error` service bounces unless
 * the code is 4.x.x; the `retry` service always defers. */
#include <ctype.h>
#include <string.h>

#include "error.h"
#include "mail_proto.h"

/* error_dsn_code - length of a leading "d.d{1,3}.d{1,3}" code, 0 if none */
static size_t error_dsn_code(const char *text)
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

int error_status(const char *nexthop, int retry, BUF *dsn, BUF *reason)
{
    size_t  n = error_dsn_code(nexthop);
    const char *text = nexthop + n;

    while (*text == ' ')
        text++;
    buf_set(reason, *text ? text : "mail delivery is disabled");
    if (n > 0) {
        buf_reset(dsn);
        buf_append(dsn, nexthop, n);
    } else {
        buf_set(dsn, retry ? "4.0.0" : "5.0.0");
    }
    if (retry && buf_str(dsn)[0] != '4')
        buf_str(dsn)[0] = '4';
    return buf_str(dsn)[0] == '4' ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE;
}
