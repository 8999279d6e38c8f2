/* error_status - what the error agent answers, as Postfix's error(8):
 * the nexthop is the reason text, optionally starting with an enhanced
 * status code ("5.1.1 User unknown"). The `error` service bounces unless
 * the code is 4.x.x; the `retry` service always defers. */
#include <string.h>

#include "dsn.h"
#include "error.h"
#include "mail_proto.h"

int error_status(const char *nexthop, int retry, BUF *dsn, BUF *reason)
{
    size_t  n = dsn_code_prefix(nexthop);
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
