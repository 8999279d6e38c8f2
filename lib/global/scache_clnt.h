/* scache_clnt - the smtp client's side of the connection cache
 * (private/scache, scache/scache.c; the protocol is in mail_proto.h).
 *
 * One short conversation per call, within SCACHE_CLNT_TIMEOUT seconds.
 * scache being down is never an error for mail: save fails (the caller
 * ends its session as it would without a cache) and find finds nothing.
 */
#ifndef SUREL_SCACHE_CLNT_H
#define SUREL_SCACHE_CLNT_H

#include "buf.h"

#define SCACHE_CLNT_TIMEOUT 10

/* scache_clnt_save - hand a copy of fd to scache for ttl seconds under
 * label with props; the caller still closes its own copy. 0 or -1 with why. */
int     scache_clnt_save(const char *label, const char *props, int ttl, int fd, BUF *why);

/* scache_clnt_find - a session cached under label: its descriptor (now
 * the caller's) with props, or -1 (why empty: none cached; else what
 * went wrong). */
int     scache_clnt_find(const char *label, BUF *props, BUF *why);

#endif
