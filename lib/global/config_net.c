/* config_net - the computed default of mynetworks, from the machine's interfaces.
 *
 * mynetworks_style host: 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 and
 * each interface address as /32 or /128; subnet: each interface's network;
 * class: IPv4 class A/B/C networks (IPv6 as subnet). No DNS is used.
 * IPv6 link-local addresses are left out: without their scope they name no
 * client reliably. Each item appears once.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "config.h"

/* config_prefix_len - bits set in a netmask */
static int config_prefix_len(const unsigned char *mask, size_t len)
{
    int     bits = 0;
    size_t  i;
    int     b;

    for (i = 0; i < len; i++)
        for (b = 7; b >= 0; b--)
            if (mask[i] & (1 << b))
                bits++;
    return bits;
}

/* config_add_net - append "addr/prefix" (IPv6 in brackets) unless present */
static void config_add_net(BUF *out, int family, const unsigned char *addr, int prefix)
{
    char    text[INET6_ADDRSTRLEN];
    char    item[INET6_ADDRSTRLEN + 8];
    const char *found;
    size_t  item_len;

    if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
        return;
    snprintf(item, sizeof(item), family == AF_INET6 ? "[%s]/%d" : "%s/%d", text, prefix);
    item_len = strlen(item);
    for (found = strstr(buf_str(out), item); found; found = strstr(found + 1, item))
        if ((found == buf_str(out) || found[-1] == ' ')
            && (found[item_len] == 0 || found[item_len] == ' '))
            return;
    if (buf_len(out))
        buf_putc(out, ' ');
    buf_puts(out, item);
}

/* config_mask_addr - addr & netmask, in place */
static void config_mask_addr(unsigned char *addr, const unsigned char *mask, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++)
        addr[i] &= mask[i];
}

/* config_mynetworks_default - the default mynetworks for a mynetworks_style */
int config_mynetworks_default(const char *style, BUF *out, BUF *why)
{
    struct ifaddrs *ifs;
    struct ifaddrs *ifa;
    int     host = strcasecmp(style, "host") == 0;
    int     subnet = strcasecmp(style, "subnet") == 0;
    int     class = strcasecmp(style, "class") == 0;

    if (!host && !subnet && !class) {
        if (why)
            buf_sprintf(why, "unknown mynetworks_style value: %s", style);
        return -1;
    }
    buf_puts(out, "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128");
    if (getifaddrs(&ifs) != 0)
        return 0;                       /* loopback only: still safe */
    for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET) {
            unsigned char a[4];
            unsigned char m[4] = {255, 255, 255, 255};
            int     prefix = 32;

            memcpy(a, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, 4);
            if (a[0] == 127)
                continue;               /* 127.0.0.0/8 is always there */
            if (subnet && ifa->ifa_netmask) {
                memcpy(m, &((struct sockaddr_in *) ifa->ifa_netmask)->sin_addr, 4);
                prefix = config_prefix_len(m, 4);
            } else if (class) {
                prefix = a[0] < 128 ? 8 : a[0] < 192 ? 16 : a[0] < 224 ? 24 : 32;
                memset(m, 0, sizeof(m));
                memset(m, 255, (size_t) prefix / 8);
            }
            config_mask_addr(a, m, 4);
            config_add_net(out, AF_INET, a, prefix);
        } else if (ifa->ifa_addr->sa_family == AF_INET6) {
            unsigned char a[16];
            unsigned char m[16];
            int     prefix = 128;

            memcpy(a, &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr, 16);
            /* ::1 is always there; link-local addresses need a scope to mean
             * anything, so they never identify a trusted client. */
            if (IN6_IS_ADDR_LOOPBACK((struct in6_addr *) a)
                || IN6_IS_ADDR_LINKLOCAL((struct in6_addr *) a))
                continue;
            memset(m, 255, sizeof(m));
            if ((subnet || class) && ifa->ifa_netmask) {
                memcpy(m, &((struct sockaddr_in6 *) ifa->ifa_netmask)->sin6_addr, 16);
                prefix = config_prefix_len(m, 16);
            }
            config_mask_addr(a, m, 16);
            config_add_net(out, AF_INET6, a, prefix);
        }
    }
    freeifaddrs(ifs);
    return 0;
}


int     config_inet_protocols(BUF *why)
{
    int     count;
    char  **list = config_split_list(config_str(P_inet_protocols), &count);
    int     mask = 0;
    int     i;

    for (i = 0; i < count && mask >= 0; i++) {
        if (strcasecmp(list[i], "all") == 0)
            mask |= CONFIG_INET_V4 | CONFIG_INET_V6;
        else if (strcasecmp(list[i], "ipv4") == 0)
            mask |= CONFIG_INET_V4;
        else if (strcasecmp(list[i], "ipv6") == 0)
            mask |= CONFIG_INET_V6;
        else {
            buf_sprintf(why, "bad inet_protocols value: %s", list[i]);
            mask = -1;
        }
    }
    config_free_list(list);
    if (mask == 0) {
        buf_sprintf(why, "inet_protocols is empty");
        mask = -1;
    }
    return mask;
}
