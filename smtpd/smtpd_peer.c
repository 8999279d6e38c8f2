/* smtpd_peer - who the client is, and whether we serve it at all.
 *
 * The client's address comes from getpeername(2). When that fails (the
 * client reset or closed the connection before smtpd got to it, or the
 * descriptor is no connected socket) there is no address to log, to check
 * access against or to count connections by: serving it as
 * "unknown[unknown]" would lump every such client into one connection
 * count and let it past address-based restrictions. As Postfix does for a
 * connection it cannot identify, smtpd logs a warning and hangs up
 * without a greeting.
 *
 * A UNIX-domain peer (a local test client; Postfix's "not inet" case) is
 * 127.0.0.1. A client over its connection count or rate limit hears
 * Postfix's 421 instead of the greeting (smtpd_proto.c, smtpd_conn.c).
 */
#include <stdio.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "msg.h"
#include "smtpd.h"

/* smtpd_peer_addr - the client's address as text ("127.0.0.1", "::1");
 * -1 with the reason in why when it cannot be known */
int     smtpd_peer_addr(int fd, char *addr, size_t len, BUF *why)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    const void *a = NULL;
    int     family = AF_INET;

    memset(&ss, 0, sizeof(ss));
    if (getpeername(fd, (struct sockaddr *) &ss, &sslen) < 0) {
        buf_sprintf(why, "getpeername: %s", strerror(errno));
        return -1;
    }
    if (ss.ss_family == AF_INET) {
        a = &((struct sockaddr_in *) &ss)->sin_addr;
    } else if (ss.ss_family == AF_INET6) {
        struct in6_addr *a6 = &((struct sockaddr_in6 *) &ss)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            a = &a6->s6_addr[12];
        } else {
            a = a6;
            family = AF_INET6;
        }
    } else if (ss.ss_family == AF_UNIX) {
        snprintf(addr, len, "127.0.0.1");
        return 0;
    } else {
        buf_sprintf(why, "getpeername: address family %d", (int) ss.ss_family);
        return -1;
    }
    if (inet_ntop(family, a, addr, (socklen_t) len) == NULL) {
        buf_sprintf(why, "inet_ntop: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* smtpd_serve - one client: identify it, run the session (which applies
 * the connection count and rate limits first, smtpd_conn.c) */
void    smtpd_serve(STREAM *client)
{
    char    addr[64];
    BUF    *why = buf_alloc(100);

    if (smtpd_peer_addr(stream_fd(client), addr, sizeof(addr), why) < 0) {
        msg_warn("%s -- dropping this connection", buf_str(why));
        buf_free(why);
        return;
    }
    buf_free(why);
    smtpd_session(client, addr);
}
