/* error - private header of the error delivery agent. */
#ifndef ERROR_H
#define ERROR_H

#include "buf.h"

/* error_status - the result for every recipient of a request whose
 * nexthop is `nexthop`; retry: the service defers instead of bouncing.
 * Returns a DELIVER_STAT_* with the DSN code and reason filled in. */
int     error_status(const char *nexthop, int retry, BUF *dsn, BUF *reason);

#endif
