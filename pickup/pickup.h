/* pickup - private interfaces of the pickup daemon (pickup/pickup_*.c). */
#ifndef SUREL_PICKUP_H
#define SUREL_PICKUP_H

#include "buf.h"

/* What became of one maildrop file. */
typedef enum PICKUP_RESULT {
    PICKUP_SENT,                        /* queued by cleanup, removed from maildrop/ */
    PICKUP_SKIP,                        /* not complete yet, or gone: look again later */
    PICKUP_CORRUPT,                     /* moved to corrupt/ (bad file or refused by cleanup) */
    PICKUP_DEFER                        /* cleanup unavailable: left alone, stop this scan */
} PICKUP_RESULT;

typedef struct PICKUP_CONF {
    const char *queue_dir;              /* "." in the daemon (it runs there) */
    long    size_limit;                 /* message_size_limit, 0: none */
    int     ipc_timeout;                /* seconds per cleanup read or write */
    const char *received_by;            /* myhostname for Received:; NULL: no header */
    const char *mail_name;              /* "surel" in Received: (mail_name) */
    const char *content_filter;         /* content_filter: "transport:nexthop" or "" */
    int     receive_opts;               /* receive_override_options, RECEIVE_* */
} PICKUP_CONF;

typedef struct PICKUP_STATS {
    int     sent;
    int     skipped;
    int     corrupt;
    int     deferred;
} PICKUP_STATS;

#define PICKUP_BATCH_MAX    10000       /* names read per pass over maildrop/ */

PICKUP_RESULT pickup_file(const PICKUP_CONF *conf, const char *name);
void    pickup_scan(const PICKUP_CONF *conf, PICKUP_STATS *stats);

#endif
