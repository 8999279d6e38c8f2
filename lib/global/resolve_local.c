/* resolve_local - which class of destination a domain is (see resolve_local.h).
 *
 * The machine's own addresses come from inet_interfaces: "all" means every
 * interface address (getifaddrs), "loopback-only" and "localhost" mean
 * 127.0.0.1 and ::1, and addresses stand for themselves. Host names other
 * than localhost would need DNS, which this module never uses: they are
 * warned about and skipped. 127.0.0.1 and ::1 always count as our own.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"

#define OWN_ADDR_MAX    256         /* interface addresses kept */

static int resolve_ready;
static MATCH_LIST *mydestination;
static MATCH_LIST *virt_alias_doms;
static MATCH_LIST *virt_mailbox_doms;
static MATCH_LIST *relay_doms;
static unsigned char own_addrs[OWN_ADDR_MAX][16];
static int own_count;

/* own_add - remember one own address (as 16 bytes, IPv4 mapped) */
static void own_add(const char *text)
{
    if (own_count < OWN_ADDR_MAX && match_parse_addr(text, own_addrs[own_count]) == 0)
        own_count++;
}

/* own_add_interfaces - every address of every interface */
static void own_add_interfaces(void)
{
    struct ifaddrs *ifs;
    struct ifaddrs *ifa;
    char    text[INET6_ADDRSTRLEN];

    if (getifaddrs(&ifs) != 0) {
        msg_warn("getifaddrs: %m; only loopback addresses count as this machine's");
        return;
    }
    for (ifa = ifs; ifa; ifa = ifa->ifa_next) {
        const void *bin;

        if (ifa->ifa_addr == NULL)
            continue;
        if (ifa->ifa_addr->sa_family == AF_INET)
            bin = &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr;
        else if (ifa->ifa_addr->sa_family == AF_INET6)
            bin = &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr;
        else
            continue;
        if (inet_ntop(ifa->ifa_addr->sa_family, bin, text, sizeof(text)))
            own_add(text);
    }
    freeifaddrs(ifs);
}

/* own_init - the addresses inet_interfaces names */
static void own_init(void)
{
    char  **items;
    int     count;
    int     i;

    own_count = 0;
    own_add("127.0.0.1");
    own_add("::1");
    items = config_split_list(config_str(P_inet_interfaces), &count);
    for (i = 0; i < count; i++) {
        const char *item = items[i];
        size_t  len = strlen(item);
        char    inner[INET6_ADDRSTRLEN];
        unsigned char bin[16];

        if (strcasecmp(item, "all") == 0) {
            own_add_interfaces();
        } else if (strcasecmp(item, "loopback-only") == 0 || strcasecmp(item, "localhost") == 0) {
            continue;                   /* loopback is always in */
        } else if (item[0] == '[' && len > 2 && len - 2 < sizeof(inner) && item[len - 1] == ']') {
            memcpy(inner, item + 1, len - 2);
            inner[len - 2] = 0;
            own_add(inner);
        } else if (match_parse_addr(item, bin) == 0) {
            own_add(item);
        } else {
            msg_warn("inet_interfaces: %s: host names other than localhost are not "
                     "resolved here; its addresses don't count as this machine's", item);
        }
    }
    config_free_list(items);
}

/* resolve_local_init - parse the four domain lists and the own addresses */
int resolve_local_init(BUF *why)
{
    resolve_local_reset();
    if ((mydestination = domain_list_init("mydestination", config_str(P_mydestination), 0,
                                          why)) == NULL
        || (virt_alias_doms = domain_list_init("virtual_alias_domains",
                                               config_str(P_virtual_alias_domains), 0,
                                               why)) == NULL
        || (virt_mailbox_doms = domain_list_init("virtual_mailbox_domains",
                                                 config_str(P_virtual_mailbox_domains), 0,
                                                 why)) == NULL
        /* Postfix's parent_domain_matches_subdomains default lists
         * relay_domains: "example.com" there relays its subdomains too. */
        || (relay_doms = domain_list_init("relay_domains", config_str(P_relay_domains),
                                          MATCH_FLAG_PARENT, why)) == NULL) {
        resolve_local_reset();
        return -1;
    }
    own_init();
    resolve_ready = 1;
    return 0;
}

/* resolve_local_reset - forget the lists */
void resolve_local_reset(void)
{
    match_list_free(mydestination);
    match_list_free(virt_alias_doms);
    match_list_free(virt_mailbox_doms);
    match_list_free(relay_doms);
    mydestination = virt_alias_doms = virt_mailbox_doms = relay_doms = NULL;
    own_count = 0;
    resolve_ready = 0;
}

/* resolve_ensure - init on first use; a broken list is a configuration error */
static void resolve_ensure(void)
{
    BUF    *why;

    if (resolve_ready)
        return;
    why = buf_alloc(128);
    if (resolve_local_init(why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
}

/* resolve_own_addr - one of this machine's addresses? */
int resolve_own_addr(const char *addr)
{
    unsigned char bin[16];
    int     i;

    resolve_ensure();
    if (match_parse_addr(addr, bin) < 0)
        return 0;
    for (i = 0; i < own_count; i++)
        if (memcmp(own_addrs[i], bin, sizeof(bin)) == 0)
            return 1;
    return 0;
}

/* own_literal - "[192.0.2.1]" or "[IPv6:...]" naming this machine: a
 * literal as smtpd's syntax check reads it (address_literal) */
static int own_literal(const char *domain)
{
    char    inner[INET6_ADDRSTRLEN + 8];

    return address_literal(domain, strlen(domain), inner, sizeof(inner))
        && resolve_own_addr(inner);
}

/* resolve_class - local, alias, virtual, relay or default (or try later) */
RESOLVE_CLASS resolve_class(const char *domain)
{
    static const struct {
        MATCH_LIST **list;
        RESOLVE_CLASS cls;
    } order[] = {
        {&mydestination, RESOLVE_CLASS_LOCAL},
        {&virt_alias_doms, RESOLVE_CLASS_ALIAS},
        {&virt_mailbox_doms, RESOLVE_CLASS_VIRTUAL},
        {&relay_doms, RESOLVE_CLASS_RELAY},
    };
    size_t  i;

    resolve_ensure();
    if (domain == NULL || *domain == 0)
        return RESOLVE_CLASS_DEFAULT;
    if (own_literal(domain))
        return RESOLVE_CLASS_LOCAL;
    for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        switch (domain_list_match(*order[i].list, domain)) {
        case MATCH_YES:
            return order[i].cls;
        case MATCH_TRYLATER:
            return RESOLVE_CLASS_TRYLATER;
        case MATCH_NO:
            break;
        }
    }
    return RESOLVE_CLASS_DEFAULT;
}

/* resolve_local - 1 local, 0 not, -1 try later */
int resolve_local(const char *domain)
{
    switch (resolve_class(domain)) {
    case RESOLVE_CLASS_LOCAL:
        return 1;
    case RESOLVE_CLASS_TRYLATER:
        return -1;
    default:
        return 0;
    }
}

/* resolve_class_name - for logs and tests */
const char *resolve_class_name(RESOLVE_CLASS cls)
{
    static const char *const names[] = {"local", "alias", "virtual", "relay", "default",
                                        "trylater"};

    return (unsigned) cls < sizeof(names) / sizeof(names[0]) ? names[cls] : "?";
}
