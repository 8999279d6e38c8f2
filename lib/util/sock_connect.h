/* sock_connect - a stream connection to an endpoint, within a time limit.
 *
 * Endpoints are written as Postfix writes them for its clients (policy
 * services, milters): "inet:host:port", "inet:[v6addr]:port",
 * "unix:path" or "local:path" (a path without "/" in front is relative
 * to the current folder: the queue, for daemons), or a bare "/path".
 * The connect is non-blocking with a poll, so a dead host costs at most
 * timeout seconds; the socket comes back blocking, close-on-exec.
 */
#ifndef SUREL_SOCK_CONNECT_H
#define SUREL_SOCK_CONNECT_H

#include "buf.h"

/* sock_connect - fd, or -1 with why ("connect to inet:...: reason") */
int     sock_connect(const char *endpoint, int timeout, BUF *why);

#endif
