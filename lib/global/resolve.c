/* resolve - recipient to (transport, nexthop); see resolve.h. */
#include <string.h>
#include <strings.h>

#include "address.h"
#include "config.h"
#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"
#include "resolve_local.h"
#include "split_addr.h"

struct RESOLVER {
    MAPS   *transport_maps;         /* NULL when $transport_maps is empty */
    MAPS   *sender_relay_maps;      /* $sender_dependent_relayhost_maps, or NULL */
};

/* resolve_open - see resolve.h */
RESOLVER *resolve_open(BUF *why)
{
    RESOLVER *r = xcalloc(1, sizeof(*r));
    const char *maps = config_str(P_transport_maps);

    if (*maps && (r->transport_maps = maps_open(maps, 0, why)) == NULL)
        goto bad;
    maps = config_str(P_sender_dependent_relayhost_maps);
    if (*maps && (r->sender_relay_maps = maps_open(maps, 0, why)) == NULL)
        goto bad;
    if (resolve_local_init(why) < 0)    /* the domain lists, once */
        goto bad;
    return r;
bad:
    resolve_close(r);
    return NULL;
}

void resolve_close(RESOLVER *r)
{
    if (r == NULL)
        return;
    if (r->transport_maps)
        maps_close(r->transport_maps);
    if (r->sender_relay_maps)
        maps_close(r->sender_relay_maps);
    xfree(r);
}

RESOLVE_REPLY *resolve_reply_alloc(void)
{
    RESOLVE_REPLY *reply = xcalloc(1, sizeof(*reply));

    reply->transport = buf_alloc(32);
    reply->nexthop = buf_alloc(64);
    reply->recipient = buf_alloc(64);
    return reply;
}

void resolve_reply_free(RESOLVE_REPLY *reply)
{
    buf_free(reply->transport);
    buf_free(reply->nexthop);
    buf_free(reply->recipient);
    xfree(reply);
}

/* resolve_split_route - "transport:nexthop" into its parts; a value
 * without ':' is a transport alone */
static void resolve_split_route(const char *value, BUF *transport, BUF *nexthop)
{
    const char *colon = strchr(value, ':');

    if (colon == NULL) {
        buf_set(transport, value);
        buf_reset(nexthop);
    } else {
        buf_reset(transport);
        buf_append(transport, value, (size_t) (colon - value));
        buf_set(nexthop, colon + 1);
    }
}

/* resolve_find - one transport_maps lookup; DICT_* status */
static DICT_STATUS resolve_find(RESOLVER *r, const char *key, BUF *result, BUF *why)
{
    DICT_STATUS st = maps_find(r->transport_maps, key, result, why);

    if (st == DICT_TRYLATER)
        msg_warn("transport_maps lookup of %s: %s", key, buf_str(why));
    return st;
}

/* resolve_transport_maps - transport(5) lookup order; result in `result` */
static DICT_STATUS resolve_transport_maps(RESOLVER *r, const char *addr, const char *domain,
                                          BUF *result, BUF *why)
{
    const char *delims = config_str(P_recipient_delimiter);
    const char *at = strrchr(addr, '@');
    BUF    *key = buf_alloc(100);
    DICT_STATUS st;
    const char *dot;
    size_t  cut;

    st = resolve_find(r, addr, result, why);
    if (st == DICT_NOTFOUND && at) {
        /* user+ext@domain failed: try user@domain */
        cut = split_addr(addr, (size_t) (at - addr), delims);
        if (cut > 0) {
            buf_reset(key);
            buf_append(key, addr, cut);
            buf_puts(key, at);
            st = resolve_find(r, buf_str(key), result, why);
        }
    }
    if (st == DICT_NOTFOUND && *domain)
        st = resolve_find(r, domain, result, why);
    for (dot = strchr(domain, '.'); st == DICT_NOTFOUND && dot; dot = strchr(dot + 1, '.'))
        st = resolve_find(r, dot, result, why);
    if (st == DICT_NOTFOUND)
        st = resolve_find(r, "*", result, why);
    buf_free(key);
    return st;
}

/* resolve_sender_relay - sender_dependent_relayhost_maps, in Postfix's
 * order: the sender, the sender without its extension, @domain; the null
 * sender as $empty_address_relayhost_maps_lookup_key. DUNNO ends the
 * search without a result (the global relayhost applies). */
static DICT_STATUS resolve_sender_relay(RESOLVER *r, const char *sender, BUF *result, BUF *why)
{
    const char *at = strrchr(sender, '@');
    BUF    *key = buf_alloc(100);
    DICT_STATUS st;
    size_t  cut;

    if (*sender == 0)
        sender = config_str(P_empty_address_relayhost_maps_lookup_key);
    st = maps_find(r->sender_relay_maps, sender, result, why);
    if (st == DICT_NOTFOUND && at && (cut = split_addr(sender, (size_t) (at - sender),
                                                       config_str(P_recipient_delimiter))) > 0) {
        buf_reset(key);
        buf_append(key, sender, cut);
        buf_puts(key, at);
        st = maps_find(r->sender_relay_maps, buf_str(key), result, why);
    }
    if (st == DICT_NOTFOUND && at && at[1])
        st = maps_find(r->sender_relay_maps, at, result, why);
    if (st == DICT_FOUND && (buf_len(result) == 0 || strcasecmp(buf_str(result), "DUNNO") == 0))
        st = DICT_NOTFOUND;
    if (st == DICT_TRYLATER)
        msg_warn("sender_dependent_relayhost_maps lookup of %s: %s", sender, buf_str(why));
    buf_free(key);
    return st;
}

/* resolve_route - the address class (resolve_local.h) and its default
 * route; sender (NULL: not known) picks a sender-dependent relayhost */
static int resolve_route(RESOLVER *r, const char *sender, const char *domain,
                         RESOLVE_REPLY *reply, BUF *why)
{
    const char *route;
    DICT_STATUS st = DICT_NOTFOUND;

    switch (reply->addr_class = resolve_class(domain)) {
    case RESOLVE_CLASS_LOCAL:
        resolve_split_route(config_str(P_local_transport), reply->transport, reply->nexthop);
        if (buf_len(reply->nexthop) == 0)
            buf_set(reply->nexthop, config_str(P_myhostname));
        return RESOLVE_OK;
    case RESOLVE_CLASS_ALIAS:
        buf_set(reply->transport, "error");
        buf_set(reply->nexthop, "5.1.1 User unknown in virtual alias table");
        return RESOLVE_OK;
    case RESOLVE_CLASS_VIRTUAL:
        route = config_str(P_virtual_transport);
        break;
    case RESOLVE_CLASS_RELAY:
        route = config_str(P_relay_transport);
        break;
    case RESOLVE_CLASS_DEFAULT:
        route = config_str(P_default_transport);
        break;
    default:
        buf_sprintf(why, "domain list lookup of %s failed", domain);
        return RESOLVE_TRYLATER;
    }
    resolve_split_route(route, reply->transport, reply->nexthop);
    if (buf_len(reply->nexthop) == 0) {
        /* Off-host delivery: the sender's relayhost, else $relayhost, else
         * the domain (a transport's own nexthop and transport_maps win). */
        if (reply->addr_class != RESOLVE_CLASS_VIRTUAL && sender && r->sender_relay_maps
            && (st = resolve_sender_relay(r, sender, reply->nexthop, why)) == DICT_TRYLATER) {
            if (buf_len(why) == 0)
                buf_set(why, "sender_dependent_relayhost_maps lookup failure");
            return RESOLVE_TRYLATER;
        }
        if (st == DICT_FOUND)
            /* nexthop is the table's answer */ ;
        else if (reply->addr_class != RESOLVE_CLASS_VIRTUAL && *config_str(P_relayhost))
            buf_set(reply->nexthop, config_str(P_relayhost));
        else
            buf_set(reply->nexthop, domain);
    }
    return RESOLVE_OK;
}

/* resolve_addr - see resolve.h */
int resolve_addr(RESOLVER *r, const char *addr, RESOLVE_REPLY *reply, BUF *why)
{
    return resolve_addr_from(r, NULL, addr, reply, why);
}

/* resolve_addr_from - see resolve.h */
int resolve_addr_from(RESOLVER *r, const char *sender, const char *addr, RESOLVE_REPLY *reply,
                      BUF *why)
{
    const char *at;
    const char *domain;
    BUF    *result;
    BUF    *t = NULL, *n = NULL;
    DICT_STATUS st;

    address_qualify(addr, reply->recipient);
    if (strrchr(buf_str(reply->recipient), '@') == NULL)
        buf_putc(reply->recipient, '@');        /* $myorigin is empty: no domain */
    at = strrchr(buf_str(reply->recipient), '@');
    domain = at + 1;
    if (resolve_route(r, sender, domain, reply, why) != RESOLVE_OK)
        return RESOLVE_TRYLATER;
    if (r->transport_maps == NULL)
        return RESOLVE_OK;

    /* transport_maps keys are the folded address (dict folds them). */
    result = buf_alloc(64);
    st = resolve_transport_maps(r, buf_str(reply->recipient), domain, result, why);
    if (st == DICT_FOUND) {
        t = buf_alloc(32);
        n = buf_alloc(64);
        resolve_split_route(buf_str(result), t, n);
        if (buf_len(t) > 0)
            buf_set(reply->transport, buf_str(t));
        if (buf_len(n) > 0)
            buf_set(reply->nexthop, buf_str(n));
        buf_free(t);
        buf_free(n);
    }
    buf_free(result);
    if (st == DICT_TRYLATER) {
        if (buf_len(why) == 0)
            buf_set(why, "transport_maps lookup failure");
        return RESOLVE_TRYLATER;
    }
    return RESOLVE_OK;
}
