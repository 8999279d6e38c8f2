/* resolve_local - domain lists and "is this domain ours?"; see resolve_local.h.
 *
 * A domain list is parsed once into entries, then matched many times.
 * Entries are tried in order and the first that matches decides; a `!`
 * entry that matches decides "no". Tables are looked up with the domain
 * and then with its parents written `.parent` (and bare `parent` when
 * the list matches subdomains), the way Postfix's match lists look up
 * domains in tables.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"

typedef struct DOMAIN_ENTRY {
    int     negate;                 /* "!entry" */
    char   *name;                   /* lower case; ".x" for subdomains only */
    MAPS   *maps;                   /* a type:table entry, else NULL */
} DOMAIN_ENTRY;

struct DOMAIN_LIST {
    int     flags;                  /* DOMAIN_LIST_PARENT */
    int     count;
    DOMAIN_ENTRY *entries;
};

/* domain_list_open - parse a list once; NULL + why for a bad table */
DOMAIN_LIST *domain_list_open(const char *text, int flags, BUF *why)
{
    DOMAIN_LIST *list = xcalloc(1, sizeof(*list));
    char  **items;
    int     n, i;

    list->flags = flags;
    items = config_split_list(text ? text : "", &n);
    list->entries = xcalloc((size_t) n + 1, sizeof(DOMAIN_ENTRY));
    for (i = 0; i < n; i++) {
        DOMAIN_ENTRY *e = &list->entries[list->count];
        const char *item = items[i];

        while (*item == '!') {
            e->negate = !e->negate;
            item++;
        }
        if (*item == 0)
            continue;
        if (item[0] != '[' && strchr(item, ':') != NULL) {
            if ((e->maps = maps_open(item, 0, why)) == NULL) {
                config_free_list(items);
                domain_list_free(list);
                return NULL;
            }
            e->name = xstrdup(item);
        } else {
            e->name = xstrdup(item);
            dict_fold(e->name);
        }
        list->count++;
    }
    config_free_list(items);
    return list;
}

void domain_list_free(DOMAIN_LIST *list)
{
    int     i;

    if (list == NULL)
        return;
    for (i = 0; i < list->count; i++) {
        if (list->entries[i].maps)
            maps_close(list->entries[i].maps);
        xfree(list->entries[i].name);
    }
    xfree(list->entries);
    xfree(list);
}

/* domain_table_match - look up the domain, then its parents */
static int domain_table_match(MAPS *maps, const char *domain, int parent)
{
    BUF    *result = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    BUF    *key = buf_alloc(64);
    const char *dot;
    int     ret = RESOLVE_LOCAL_NO;
    DICT_STATUS st;

    st = maps_find(maps, domain, result, why);
    for (dot = strchr(domain, '.'); st == DICT_NOTFOUND && dot; dot = strchr(dot + 1, '.')) {
        buf_set(key, dot);                          /* ".parent" */
        st = maps_find(maps, buf_str(key), result, why);
        if (st == DICT_NOTFOUND && parent && dot[1])
            st = maps_find(maps, dot + 1, result, why);
    }
    if (st == DICT_FOUND)
        ret = RESOLVE_LOCAL_YES;
    else if (st == DICT_TRYLATER) {
        msg_warn("domain lookup of %s: %s", domain, buf_str(why));
        ret = RESOLVE_LOCAL_TRYLATER;
    }
    buf_free(result);
    buf_free(why);
    buf_free(key);
    return ret;
}

/* domain_name_match - one name entry against a lower-case domain */
static int domain_name_match(const char *entry, const char *domain, int parent)
{
    size_t  dlen = strlen(domain);
    size_t  elen = strlen(entry);

    if (entry[0] == '.')                            /* subdomains only */
        return dlen > elen && strcmp(domain + dlen - elen, entry) == 0;
    if (strcmp(entry, domain) == 0)
        return 1;
    return parent && dlen > elen && domain[dlen - elen - 1] == '.'
        && strcmp(domain + dlen - elen, entry) == 0;
}

/* domain_list_match - RESOLVE_LOCAL_YES, _NO or _TRYLATER */
int domain_list_match(DOMAIN_LIST *list, const char *domain)
{
    char   *folded = xstrdup(domain);
    size_t  len = strlen(folded);
    int     i, ret = RESOLVE_LOCAL_NO, hit;

    if (len > 1 && folded[len - 1] == '.')
        folded[len - 1] = 0;
    dict_fold(folded);
    for (i = 0; i < list->count; i++) {
        DOMAIN_ENTRY *e = &list->entries[i];

        if (e->maps) {
            hit = domain_table_match(e->maps, folded, list->flags & DOMAIN_LIST_PARENT);
            if (hit == RESOLVE_LOCAL_TRYLATER) {
                ret = hit;
                break;
            }
        } else {
            hit = domain_name_match(e->name, folded, list->flags & DOMAIN_LIST_PARENT);
        }
        if (hit) {
            ret = e->negate ? RESOLVE_LOCAL_NO : RESOLVE_LOCAL_YES;
            break;
        }
    }
    xfree(folded);
    return ret;
}

/* own_address_literal - is [addr] one of this machine's addresses? */
static int own_address_literal(const char *domain)
{
    char    text[INET6_ADDRSTRLEN + 8];
    const char *start = domain + 1;
    size_t  len = strlen(domain);
    unsigned char want[16];
    int     family = AF_INET, found = 0;
    struct ifaddrs *ifs, *ifa;

    if (len < 3 || domain[len - 1] != ']' || len - 2 >= sizeof(text))
        return 0;
    if (strncasecmp(start, "IPv6:", 5) == 0) {
        start += 5;
        family = AF_INET6;
    }
    memcpy(text, start, (size_t) (domain + len - 1 - start));
    text[domain + len - 1 - start] = 0;
    if (inet_pton(family, text, want) != 1)
        return 0;
    if (family == AF_INET && want[0] == 127)
        return 1;                                   /* all of 127/8 is loopback */
    if (getifaddrs(&ifs) < 0)
        return 0;
    for (ifa = ifs; ifa && !found; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != family)
            continue;
        if (family == AF_INET)
            found = memcmp(&((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, want, 4) == 0;
        else
            found = memcmp(&((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr, want, 16) == 0;
    }
    freeifaddrs(ifs);
    return found;
}

static DOMAIN_LIST *resolve_local_list;

void resolve_local_reset(void)
{
    domain_list_free(resolve_local_list);
    resolve_local_list = NULL;
}

/* resolve_local_domain - see resolve_local.h */
int resolve_local_domain(const char *domain)
{
    BUF    *why;

    if (domain[0] == '[')
        return own_address_literal(domain) ? RESOLVE_LOCAL_YES : RESOLVE_LOCAL_NO;
    if (resolve_local_list == NULL) {
        why = buf_alloc(100);
        resolve_local_list = domain_list_open(config_str(P_mydestination), 0, why);
        if (resolve_local_list == NULL)
            msg_fatal("mydestination: %s", buf_str(why));
        buf_free(why);
    }
    return domain_list_match(resolve_local_list, domain);
}
