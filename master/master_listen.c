/* master_listen - the listening endpoints of master.cf services.
 *
 * unix services listen on private/<name> or public/<name> under
 * queue_directory (the master's working folder); fifo services read a
 * named pipe there; inet services listen on "port", "host:port" or
 * "[v6addr]:port". Hosts are numeric or `localhost` only: the master never
 * asks DNS. A bare port listens on every address of inet_interfaces
 * (`all`: 0.0.0.0 and [::] with IPV6_V6ONLY), filtered by inet_protocols.
 * Port names come from /etc/services (getservbyname, no network).
 * unix-dgram services (postlog) get a datagram socket in private/ or
 * public/, bound but not listening: clients send without connecting, and
 * what they send waits in the socket until the daemon reads it (the master
 * keeps it across reloads and daemon restarts, and drains it at the end:
 * master_listen_drain). pass services are refused with a clear reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "master.h"
#include "mem.h"
#include "msg.h"

#define MASTER_LISTEN_BACKLOG   128

typedef struct MASTER_ADDRS {
    int     count;
    struct sockaddr_storage sa[MASTER_LISTEN_MAX];
} MASTER_ADDRS;

/* master_ipv6_ok - can this kernel make IPv6 sockets at all? */
static int master_ipv6_ok(void)
{
    int     fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

/* master_protocols - which families inet_protocols allows: bit 0 v4, bit 1 v6 */
static int master_protocols(BUF *why)
{
    int     mask = config_inet_protocols(why);

    if (mask < 0)
        return -1;
    if ((mask & 2) && !master_ipv6_ok()) {
        msg_debug("no IPv6 support in this kernel: listening on IPv4 only");
        mask &= ~2;
    }
    if (mask == 0)
        buf_sprintf(why, "inet_protocols allows no protocol this system supports");
    return mask ? mask : -1;
}

/* master_add_addr - one address, if its family is allowed and there is room */
static int master_add_addr(MASTER_ADDRS *addrs, int family, const void *ip,
                           unsigned port, int protocols, BUF *why)
{
    struct sockaddr_storage *ss;

    if ((family == AF_INET && !(protocols & 1)) || (family == AF_INET6 && !(protocols & 2)))
        return 0;
    if (addrs->count >= MASTER_LISTEN_MAX) {
        buf_sprintf(why, "more than %d listening addresses", MASTER_LISTEN_MAX);
        return -1;
    }
    ss = &addrs->sa[addrs->count++];
    memset(ss, 0, sizeof(*ss));
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *) ss;

        sin->sin_family = AF_INET;
        sin->sin_port = htons((unsigned short) port);
        memcpy(&sin->sin_addr, ip, sizeof(sin->sin_addr));
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((unsigned short) port);
        memcpy(&sin6->sin6_addr, ip, sizeof(sin6->sin6_addr));
    }
    return 0;
}

/* master_add_host - a numeric address, localhost, loopback-only or all */
static int master_add_host(MASTER_ADDRS *addrs, const char *host, unsigned port,
                           int protocols, BUF *why)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcasecmp(host, "all") == 0 || strcmp(host, "*") == 0) {
        a4.s_addr = htonl(INADDR_ANY);
        return master_add_addr(addrs, AF_INET, &a4, port, protocols, why) < 0
            || master_add_addr(addrs, AF_INET6, &in6addr_any, port, protocols, why) < 0
            ? -1 : 0;
    }
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "loopback-only") == 0) {
        a4.s_addr = htonl(INADDR_LOOPBACK);
        return master_add_addr(addrs, AF_INET, &a4, port, protocols, why) < 0
            || master_add_addr(addrs, AF_INET6, &in6addr_loopback, port, protocols, why) < 0
            ? -1 : 0;
    }
    if (inet_pton(AF_INET, host, &a4) == 1) {
        if (!(protocols & 1)) {
            buf_sprintf(why, "address %s: IPv4 is disabled by inet_protocols", host);
            return -1;
        }
        return master_add_addr(addrs, AF_INET, &a4, port, protocols, why);
    }
    if (inet_pton(AF_INET6, host, &a6) == 1) {
        if (!(protocols & 2)) {
            buf_sprintf(why, "address %s: IPv6 is disabled or unsupported", host);
            return -1;
        }
        return master_add_addr(addrs, AF_INET6, &a6, port, protocols, why);
    }
    buf_sprintf(why, "host '%s': only numeric addresses and localhost are supported", host);
    return -1;
}

/* master_parse_port - a number or a name from /etc/services */
static int master_parse_port(const char *text, unsigned *port, BUF *why)
{
    struct servent *se;
    char   *end;
    long    n;

    if (*text == 0) {
        buf_sprintf(why, "missing port");
        return -1;
    }
    n = strtol(text, &end, 10);
    if (*end == 0) {
        if (n < 1 || n > 65535) {
            buf_sprintf(why, "bad port number: %s", text);
            return -1;
        }
        *port = (unsigned) n;
        return 0;
    }
    if ((se = getservbyname(text, "tcp")) == NULL) {
        buf_sprintf(why, "unknown service name: %s", text);
        return -1;
    }
    *port = ntohs((unsigned short) se->s_port);
    return 0;
}

/* master_inet_addrs - the addresses an inet service name stands for */
static int master_inet_addrs(const char *name, MASTER_ADDRS *addrs, BUF *why)
{
    char   *copy = xstrdup(name);
    char   *host = NULL;
    char   *port_text = copy;
    char   *cp;
    unsigned port;
    int     protocols;
    int     ret = -1;

    addrs->count = 0;
    if (*copy == '[') {
        if ((cp = strchr(copy, ']')) == NULL || cp[1] != ':') {
            buf_sprintf(why, "bad address: %s (expected [addr]:port)", name);
            goto out;
        }
        *cp = 0;
        host = copy + 1;
        port_text = cp + 2;
    } else if ((cp = strrchr(copy, ':')) != NULL) {
        if (memchr(copy, ':', (size_t) (cp - copy)) != NULL) {
            buf_sprintf(why, "bad address: %s (write IPv6 addresses as [addr]:port)", name);
            goto out;
        }
        *cp = 0;
        host = copy;
        port_text = cp + 1;
    }
    if ((protocols = master_protocols(why)) < 0 || master_parse_port(port_text, &port, why) < 0)
        goto out;
    if (host) {
        ret = master_add_host(addrs, host, port, protocols, why);
    } else {
        int     count;
        char  **list = config_split_list(config_str(P_inet_interfaces), &count);
        int     i;

        ret = 0;
        for (i = 0; i < count && ret == 0; i++)
            ret = master_add_host(addrs, list[i], port, protocols, why);
        config_free_list(list);
        if (ret == 0 && addrs->count == 0) {
            buf_sprintf(why, "inet_interfaces gives no address to listen on");
            ret = -1;
        }
    }
out:
    xfree(copy);
    return ret;
}

/* master_unix_path - private/name or public/name, relative to queue_directory */
static char *master_unix_path(const MASTER_ENT *ent, BUF *why)
{
    BUF    *path = buf_alloc(100);

    if (strchr(ent->name, '/') || strcmp(ent->name, ".") == 0 || strcmp(ent->name, "..") == 0) {
        buf_sprintf(why, "bad service name for a socket: %s", ent->name);
        buf_free(path);
        return NULL;
    }
    buf_sprintf(path, "%s/%s", ent->private_ ? "private" : "public", ent->name);
    if (buf_len(path) >= sizeof(((struct sockaddr_un *) 0)->sun_path)) {
        buf_sprintf(why, "socket path too long: %s", buf_str(path));
        buf_free(path);
        return NULL;
    }
    return buf_steal(path);
}

/* master_endpoint - a text naming what the service listens on, or NULL
 * with why. Two services with the same endpoint can share listeners. */
char   *master_endpoint(const MASTER_ENT *ent, BUF *why)
{
    MASTER_ADDRS addrs;
    BUF    *out;
    char   *path;
    char    text[INET6_ADDRSTRLEN];
    int     i;

    switch (ent->type) {
    case MASTER_UNIX:
    case MASTER_UNIX_DGRAM:
    case MASTER_FIFO:
        if ((path = master_unix_path(ent, why)) == NULL)
            return NULL;
        out = buf_alloc(100);
        buf_sprintf(out, "%s:%s", mastercf_type_name(ent->type), path);
        xfree(path);
        return buf_steal(out);
    case MASTER_INET:
        if (master_inet_addrs(ent->name, &addrs, why) < 0)
            return NULL;
        out = buf_alloc(100);
        buf_puts(out, "inet:");
        for (i = 0; i < addrs.count; i++) {
            struct sockaddr_storage *ss = &addrs.sa[i];
            unsigned port;

            if (ss->ss_family == AF_INET) {
                inet_ntop(AF_INET, &((struct sockaddr_in *) ss)->sin_addr, text, sizeof(text));
                port = ntohs(((struct sockaddr_in *) ss)->sin_port);
                buf_printf(out, "%s%s:%u", i ? "," : "", text, port);
            } else {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) ss)->sin6_addr, text, sizeof(text));
                port = ntohs(((struct sockaddr_in6 *) ss)->sin6_port);
                buf_printf(out, "%s[%s]:%u", i ? "," : "", text, port);
            }
        }
        return buf_steal(out);
    case MASTER_PASS:
        buf_sprintf(why, "service %s: type pass is not supported yet", ent->name);
        return NULL;
    }
    buf_sprintf(why, "service %s: unknown type", ent->name);
    return NULL;
}

/* master_listen_inet - one listening TCP socket */
static int master_listen_inet(const struct sockaddr_storage *ss, BUF *why)
{
    socklen_t len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in)
        : sizeof(struct sockaddr_in6);
    int     on = 1;
    int     fd;

    fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_sprintf(why, "socket: %s", strerror(errno));
        return -1;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
        || (ss->ss_family == AF_INET6
            && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
        || bind(fd, (const struct sockaddr *) ss, len) < 0
        || listen(fd, MASTER_LISTEN_BACKLOG) < 0) {
        buf_sprintf(why, "%s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* master_listen_unix - a listening UNIX socket, replacing a stale one.
 *
 * Runs with mail_owner's effective ids (master_owner.c): the socket is
 * born owned by mail_owner, and no root call ever names a path in the
 * folder. The mode comes from the umask at bind() time, never from a
 * chmod() of the name afterwards, which a symbolic link swapped in
 * between would steer to any file. */
static int master_listen_unix(const char *path, int type, BUF *why)
{
    struct sockaddr_un sun;
    struct stat st;
    mode_t  old_mask;
    int     fd;
    int     rc;

    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            buf_sprintf(why, "%s exists and is not a socket", path);
            return -1;
        }
        (void) unlink(path);
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        buf_sprintf(why, "socket: %s", strerror(errno));
        return -1;
    }
    /* Anyone who can reach the folder may connect (0666): private/ and
     * public/ carry the access control, as in Postfix. */
    old_mask = umask(0111);
    rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    (void) umask(old_mask);
    if (rc < 0 || (type == SOCK_STREAM && listen(fd, MASTER_LISTEN_BACKLOG) < 0)) {
        buf_sprintf(why, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* master_listen_fifo - a named pipe, opened read-write so it never sees EOF
 * (as mail_owner, like the sockets: see master_listen_unix) */
static int master_listen_fifo(const char *path, BUF *why)
{
    struct stat st;
    mode_t  old_mask;
    int     fd;

    old_mask = umask(0);
    if (mkfifo(path, 0622) < 0 && errno != EEXIST) {
        buf_sprintf(why, "mkfifo %s: %s", path, strerror(errno));
        (void) umask(old_mask);
        return -1;
    }
    (void) umask(old_mask);
    fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) || fchmod(fd, 0622) < 0) {
        buf_sprintf(why, "%s is not a fifo", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* master_listen_open - open every listener of a service; 0 or -1 with why */
int master_listen_open(MASTER_SERV *serv, BUF *why)
{
    MASTER_ENT ent;
    MASTER_ADDRS addrs;
    int     fd;
    int     i;

    serv->nlisten = 0;
    memset(&ent, 0, sizeof(ent));
    ent.name = serv->name;
    ent.type = serv->type;
    ent.private_ = serv->private_;
    if (serv->type == MASTER_INET) {
        if (master_inet_addrs(serv->name, &addrs, why) < 0)
            return -1;
        for (i = 0; i < addrs.count; i++) {
            if ((fd = master_listen_inet(&addrs.sa[i], why)) < 0) {
                buf_printf(why, " (service %s)", serv->name);
                master_listen_close(serv);
                return -1;
            }
            serv->listen_fd[serv->nlisten++] = fd;
        }
        return 0;
    }
    if ((serv->unix_path = master_unix_path(&ent, why)) == NULL)
        return -1;
    master_owner_enter();
    fd = serv->type == MASTER_FIFO ? master_listen_fifo(serv->unix_path, why)
        : master_listen_unix(serv->unix_path, serv->type == MASTER_UNIX_DGRAM
                             ? SOCK_DGRAM : SOCK_STREAM, why);
    master_owner_leave();
    if (fd < 0) {
        xfree(serv->unix_path);
        serv->unix_path = NULL;
        return -1;
    }
    serv->listen_fd[serv->nlisten++] = fd;
    return 0;
}

/* master_listen_close - close the listeners and remove the socket file */
void master_listen_close(MASTER_SERV *serv)
{
    int     i;

    for (i = 0; i < serv->nlisten; i++) {
        if (serv->listening)
            event_disable_readwrite(serv->listen_fd[i]);
        close(serv->listen_fd[i]);
    }
    serv->listening = 0;
    serv->nlisten = 0;
    if (serv->unix_path) {
        if (serv->type == MASTER_UNIX || serv->type == MASTER_UNIX_DGRAM) {
            master_owner_enter();
            (void) unlink(serv->unix_path);
            master_owner_leave();
        }
        xfree(serv->unix_path);
        serv->unix_path = NULL;
    }
}

/* master_listen_quiet - stop watching the listeners, keep them open */
void master_listen_quiet(MASTER_SERV *serv)
{
    int     i;

    for (i = 0; i < serv->nlisten && serv->listening; i++)
        event_disable_readwrite(serv->listen_fd[i]);
    serv->listening = 0;
}

/* master_listen_drain - the master stops: what clients sent to a datagram
 * service and no daemon read goes to maillog_file directly (the lines of
 * the daemons that stopped last), so that stopping loses no log line */
void master_listen_drain(MASTER_SERV *serv)
{
    char    buf[4096 + 512];
    ssize_t n;
    int     i;

    if (serv->type != MASTER_UNIX_DGRAM)
        return;
    master_listen_quiet(serv);
    for (i = 0; i < serv->nlisten; i++) {
        while ((n = recv(serv->listen_fd[i], buf, sizeof(buf), MSG_DONTWAIT)) >= 0
               || errno == EINTR)
            if (n > 0)
                msg_write_direct(buf, (size_t) n);
    }
}
