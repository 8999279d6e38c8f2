/* smtp_hop - the destinations of one delivery, from qmgr's nexthop.
 *
 * qmgr's nexthop (lib/global/resolve.c) is what main.cf or transport_maps
 * said: the recipient's domain, $relayhost (Postfix 3.5 and later: a list,
 * tried in order), or a transport_maps next hop such as "[127.0.0.1]:2525",
 * "unix:private/dovecot-lmtp" or "inet:lmtp.example:24". The forms:
 *     [host]:port  [host]   an address (or a name: its A record) without MX
 *     [ipv6:::1]:port       an IPv6 address, Postfix's form ([::1] too)
 *     host:port  host       a domain: its MX hosts (a bare address is used
 *                           as it is: there is nothing to look up)
 *     inet:...              the same, said explicitly (LMTP's form)
 *     unix:path             a UNIX-domain socket (relative: below
 *                           queue_directory, where every daemon runs)
 * A port is a number or a name from /etc/services (never DNS).
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "smtp.h"
#include "str_split.h"

/* smtp_hop_port - a port number or service name; -1 when neither */
static int smtp_hop_port(const char *text)
{
    struct servent *se;
    char   *end;
    long    n;

    if (*text == 0)
        return -1;
    if (isdigit((unsigned char) *text)) {
        n = strtol(text, &end, 10);
        return *end == 0 && n > 0 && n <= 65535 ? (int) n : -1;
    }
    se = getservbyname(text, "tcp");
    return se ? ntohs((unsigned short) se->s_port) : -1;
}

/* smtp_hop_set_host - copy a host name within its bound */
static int smtp_hop_set_host(SMTP_HOP *hop, const char *host, size_t len, BUF *why)
{
    if (len == 0 || len > SMTP_HOST_MAX) {
        buf_sprintf(why, "bad host name length %lu", (unsigned long) len);
        return -1;
    }
    memcpy(hop->host, host, len);
    hop->host[len] = 0;
    return 0;
}

int     smtp_hop_parse(const char *text, int default_port, SMTP_HOP *hop, BUF *why)
{
    const char *host, *rest, *close;
    size_t  len;

    memset(hop, 0, sizeof(*hop));
    hop->port = default_port;
    if (strncmp(text, "unix:", 5) == 0) {
        hop->kind = SMTP_HOP_UNIX;
        hop->literal = 1;
        hop->port = 0;
        if (smtp_hop_set_host(hop, text + 5, strlen(text + 5), why) < 0) {
            buf_sprintf(why, "bad UNIX-domain destination \"%.100s\"", text);
            return -1;
        }
        return 0;
    }
    hop->kind = SMTP_HOP_INET;
    if (strncmp(text, "inet:", 5) == 0)
        text += 5;
    if (*text == '[') {
        if ((close = strchr(text, ']')) == NULL) {
            buf_sprintf(why, "destination \"%.100s\": no ']'", text);
            return -1;
        }
        host = text + 1;
        if (strncasecmp(host, "ipv6:", 5) == 0)
            host += 5;
        len = (size_t) (close - host);
        rest = close + 1;
        hop->literal = 1;
    } else {
        host = text;
        rest = strrchr(text, ':');
        /* An unbracketed IPv6 address has several colons: no port then. */
        if (rest && strchr(text, ':') != rest)
            rest = NULL;
        len = rest ? (size_t) (rest - text) : strlen(text);
        if (rest == NULL)
            rest = "";
    }
    if (smtp_hop_set_host(hop, host, len, why) < 0) {
        buf_sprintf(why, "bad destination \"%.100s\"", text);
        return -1;
    }
    if (*rest == ':') {
        if ((hop->port = smtp_hop_port(rest + 1)) < 0) {
            buf_sprintf(why, "destination \"%.100s\": bad port", text);
            return -1;
        }
    } else if (*rest != 0) {
        buf_sprintf(why, "destination \"%.100s\": garbage after ']'", text);
        return -1;
    }
    return 0;
}

/* smtp_hop_add - parse each item of a list onto hops; count or -1 */
static int smtp_hop_add(const char *list, int default_port, SMTP_HOP *hops, int n, BUF *why)
{
    char  **items;
    int     count, i;

    items = str_split_list(list, &count);
    for (i = 0; i < count && n >= 0; i++) {
        if (n >= SMTP_HOPS_MAX)
            break;                      /* Postfix also caps its MX list */
        if (smtp_hop_parse(items[i], default_port, &hops[n], why) < 0)
            n = -1;
        else
            n++;
    }
    str_split_free(items);
    return n;
}

int     smtp_hop_list(const char *nexthop, const char *relayhost, const char *fallback,
                      int default_port, SMTP_HOP *hops, BUF *why)
{
    int     n = smtp_hop_add(nexthop, default_port, hops, 0, why);

    /* As Postfix: the fallback relay is for destinations that fail, not
     * for $relayhost, which the administrator already chose as the way out. */
    if (n > 0 && *fallback && strcmp(nexthop, relayhost) != 0)
        n = smtp_hop_add(fallback, default_port, hops, n, why);
    if (n == 0) {
        buf_sprintf(why, "empty next-hop destination");
        n = -1;
    }
    return n;
}
