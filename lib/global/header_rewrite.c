/* header_rewrite - local_header_rewrite_clients; see header_rewrite.h. */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "dict.h"
#include "header_rewrite.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"

#define HR_ITEMS_MAX    32              /* items of the list kept */

typedef enum { HR_INET, HR_MYNETWORKS, HR_SASL, HR_NEVER, HR_TABLE } HR_KIND;

typedef struct HR_ITEM {
    HR_KIND kind;
    MAPS   *maps;                       /* HR_TABLE */
    char   *name;                       /* HR_TABLE: for warnings */
} HR_ITEM;

struct HEADER_REWRITE {
    HR_ITEM items[HR_ITEMS_MAX];
    int     count;
    MATCH_LIST *mynetworks;             /* only when permit_mynetworks is listed */
};

/* hr_table - a TYPE:TABLE item; -1 + why */
static int hr_table(HEADER_REWRITE *hr, const char *name, BUF *why)
{
    HR_ITEM *it = hr->items + hr->count;

    if (strchr(name, ':') == NULL) {
        buf_sprintf(why, "local_header_rewrite_clients: %s is not a TYPE:TABLE", name);
        return -1;
    }
    if ((it->maps = maps_open(name, 0, why)) == NULL)
        return -1;
    it->kind = HR_TABLE;
    it->name = xstrdup(name);
    hr->count++;
    return 0;
}

/* header_rewrite_init - see header_rewrite.h */
HEADER_REWRITE *header_rewrite_init(BUF *why)
{
    HEADER_REWRITE *hr = xcalloc(1, sizeof(*hr));
    int     count, i, ret = 0;
    char  **items = config_split_list(config_str(P_local_header_rewrite_clients), &count);

    for (i = 0; i < count && ret == 0; i++) {
        const char *name = items[i];

        if (hr->count >= HR_ITEMS_MAX) {
            buf_sprintf(why, "local_header_rewrite_clients: more than %d items", HR_ITEMS_MAX);
            ret = -1;
        } else if (strcasecmp(name, "permit_inet_interfaces") == 0) {
            hr->items[hr->count++].kind = HR_INET;
        } else if (strcasecmp(name, "permit_mynetworks") == 0) {
            hr->items[hr->count++].kind = HR_MYNETWORKS;
            if (hr->mynetworks == NULL
                && (hr->mynetworks = host_list_init("mynetworks", config_str(P_mynetworks),
                                                    0, why)) == NULL)
                ret = -1;
        } else if (strcasecmp(name, "permit_sasl_authenticated") == 0) {
            hr->items[hr->count++].kind = HR_SASL;
        } else if (strcasecmp(name, "permit_tls_clientcerts") == 0
                   || strcasecmp(name, "permit_tls_all_clientcerts") == 0) {
            hr->items[hr->count++].kind = HR_NEVER;
        } else if (strcasecmp(name, "check_address_map") == 0) {
            if (i + 1 >= count) {
                buf_sprintf(why, "local_header_rewrite_clients: check_address_map needs a table");
                ret = -1;
            } else {
                ret = hr_table(hr, items[++i], why);
            }
        } else if (strchr(name, ':') != NULL) {
            ret = hr_table(hr, name, why);
        } else {
            buf_sprintf(why, "local_header_rewrite_clients: unknown item %s", name);
            ret = -1;
        }
    }
    config_free_list(items);
    if (ret < 0) {
        header_rewrite_free(hr);
        return NULL;
    }
    return hr;
}

/* header_rewrite_free - see header_rewrite.h */
void header_rewrite_free(HEADER_REWRITE *hr)
{
    int     i;

    if (hr == NULL)
        return;
    for (i = 0; i < hr->count; i++) {
        if (hr->items[i].maps)
            maps_close(hr->items[i].maps);
        xfree(hr->items[i].name);
    }
    match_list_free(hr->mynetworks);
    xfree(hr);
}

/* hr_authenticated - smtpd's protocol name says AUTH (RFC 3848's "A") */
static int hr_authenticated(const char *proto)
{
    size_t  len = proto ? strlen(proto) : 0;

    return len > 4 && strncasecmp(proto + len - 4, "SMTP", 4) != 0
        && (proto[len - 1] == 'A' || proto[len - 1] == 'a');
}

/* header_rewrite_local - see header_rewrite.h */
int header_rewrite_local(HEADER_REWRITE *hr, const char *client_addr, const char *proto)
{
    BUF    *result;
    BUF    *why;
    int     i, found = 0;

    if (hr == NULL || client_addr == NULL || *client_addr == 0)
        return 0;
    for (i = 0; i < hr->count && !found; i++) {
        switch (hr->items[i].kind) {
        case HR_INET:
            found = resolve_own_addr(client_addr);
            break;
        case HR_MYNETWORKS:
            found = host_list_match(hr->mynetworks, NULL, client_addr) == MATCH_YES;
            break;
        case HR_SASL:
            found = hr_authenticated(proto);
            break;
        case HR_NEVER:
            break;
        case HR_TABLE:
            result = buf_alloc(100);
            why = buf_alloc(100);
            switch (maps_find(hr->items[i].maps, client_addr, result, why)) {
            case DICT_FOUND:
                found = 1;
                break;
            case DICT_NOTFOUND:
                break;
            default:
                msg_warn("local_header_rewrite_clients: %s: %s; the client's headers are "
                         "not rewritten", hr->items[i].name, buf_str(why));
                break;
            }
            buf_free(result);
            buf_free(why);
            break;
        }
    }
    return found;
}
