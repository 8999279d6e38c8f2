/* local_rcpt - known recipients per address class; see local_rcpt.h. */
#include <string.h>

#include "address.h"
#include "config.h"
#include "local_rcpt.h"
#include "mem.h"
#include "msg.h"
#include "split_addr.h"

#define LOCAL_RCPT_SANDBOX_MAX  10000   /* names read from $sandbox_users */

static MAPS *local_rcpt_maps;           /* local_recipient_maps; NULL: everyone */
static MAPS *local_rcpt_virt;           /* virtual_alias_maps; NULL: none */
static MAPS *local_rcpt_mailbox;        /* virtual_mailbox_maps; NULL: none */
static MAPS *local_rcpt_relay;          /* relay_recipient_maps; NULL: everyone */
static char **local_rcpt_sandbox;       /* sandbox_users, lower case */
static int local_rcpt_nsandbox;
static int local_rcpt_ready;


void    local_rcpt_canon(const char *addr, LOCAL_RCPT_CANON *c)
{
    const char *delims = config_str(P_recipient_delimiter);
    size_t  pos;
    BUF    *qualified = buf_alloc(64);

    c->local = buf_alloc(64);
    c->base = buf_alloc(64);
    c->domain = buf_alloc(64);
    address_qualify(addr, qualified);   /* user, user@: @$myorigin, as everywhere */
    address_split(buf_str(qualified), c->local, c->domain);
    buf_free(qualified);
    address_strip_dot(c->domain);
    dict_fold(buf_str(c->local));
    dict_fold(buf_str(c->domain));
    buf_set(c->base, buf_str(c->local));
    if ((pos = split_addr(buf_str(c->local), buf_len(c->local), delims)) > 0)
        buf_truncate(c->base, pos);
}

void    local_rcpt_canon_free(LOCAL_RCPT_CANON *c)
{
    buf_free(c->local);
    buf_free(c->base);
    buf_free(c->domain);
}

/* local_rcpt_sandbox_line - user names, one a line (white space separates
 * them too, since an indented line continues the one before) */
static int local_rcpt_sandbox_line(char *line, int lineno, void *ctx)
{
    char   *save = NULL;
    char   *name;

    (void) lineno;
    (void) ctx;
    for (name = strtok_r(line, " \t\r\n", &save); name; name = strtok_r(NULL, " \t\r\n", &save)) {
        if (local_rcpt_nsandbox >= LOCAL_RCPT_SANDBOX_MAX)
            return 0;
        local_rcpt_sandbox = xreallocarray(local_rcpt_sandbox, (size_t) local_rcpt_nsandbox + 1,
                                           sizeof(char *));
        local_rcpt_sandbox[local_rcpt_nsandbox] = xstrdup(name);
        dict_fold(local_rcpt_sandbox[local_rcpt_nsandbox++]);
    }
    return 0;
}

/* local_rcpt_maps_open - one table list parameter; NULL when empty */
static int local_rcpt_maps_open(PARAM_ID id, MAPS **maps, BUF *why)
{
    const char *text = config_str(id);
    BUF    *err;

    *maps = NULL;
    if (*text && (*maps = maps_open(text, 0, why)) == NULL) {
        err = buf_alloc(100);
        buf_sprintf(err, "%s: %s", config_param_info(id)->name, buf_str(why));
        buf_set(why, buf_str(err));
        buf_free(err);
        return -1;
    }
    return 0;
}

int     local_rcpt_open(BUF *why)
{
    const char *sandbox = config_str(P_sandbox_users);
    BUF    *swhy;

    if (local_rcpt_ready)
        return 0;
    if (local_rcpt_maps_open(P_local_recipient_maps, &local_rcpt_maps, why) < 0
        || local_rcpt_maps_open(P_virtual_alias_maps, &local_rcpt_virt, why) < 0
        || local_rcpt_maps_open(P_virtual_mailbox_maps, &local_rcpt_mailbox, why) < 0
        || local_rcpt_maps_open(P_relay_recipient_maps, &local_rcpt_relay, why) < 0) {
        local_rcpt_close();
        return -1;
    }
    if (*sandbox) {
        swhy = buf_alloc(64);
        if (dict_read_lines(sandbox, local_rcpt_sandbox_line, NULL, swhy) < 0)
            msg_warn("sandbox_users: %s", buf_str(swhy));
        buf_free(swhy);
    }
    local_rcpt_ready = 1;
    return 0;
}

/* local_rcpt_any - the first key a table knows: FOUND, NOTFOUND or TRYLATER */
static DICT_STATUS local_rcpt_any(MAPS *maps, const char *const *keys, int n, BUF *why)
{
    BUF    *result;
    DICT_STATUS st = DICT_NOTFOUND;
    int     i;

    if (maps == NULL)
        return DICT_NOTFOUND;
    result = buf_alloc(100);
    for (i = 0; i < n && st == DICT_NOTFOUND; i++)
        if (*keys[i] && (st = maps_find(maps, keys[i], result, why)) == DICT_TRYLATER)
            msg_warn("recipient table lookup of %s failed: %s", keys[i], buf_str(why));
    buf_free(result);
    return st;
}

/* local_rcpt_sandbox_user - a mailbox user of a sandbox instance? */
static int local_rcpt_sandbox_user(const char *user)
{
    int     i;

    for (i = 0; i < local_rcpt_nsandbox; i++)
        if (strcmp(local_rcpt_sandbox[i], user) == 0)
            return 1;
    return 0;
}

/* local_rcpt_miss - NOTFOUND, saying which table */
static DICT_STATUS local_rcpt_miss(LOCAL_RCPT_MISS *miss, const char *table, PARAM_ID code)
{
    if (miss) {
        miss->table = table;
        miss->code = code;
    }
    return DICT_NOTFOUND;
}

/* local_rcpt_class - the rule of one class on split keys */
static DICT_STATUS local_rcpt_class(LOCAL_RCPT_CANON *c, const char **keys, RESOLVE_CLASS cls,
                                    LOCAL_RCPT_MISS *miss, BUF *why)
{
    DICT_STATUS st;

    if (cls == RESOLVE_CLASS_DEFAULT)
        return DICT_FOUND;
    if ((st = local_rcpt_any(local_rcpt_virt, keys, 3, why)) != DICT_NOTFOUND)
        return st;
    switch (cls) {
    case RESOLVE_CLASS_LOCAL:
        if (local_rcpt_maps == NULL || local_rcpt_sandbox_user(buf_str(c->base)))
            return DICT_FOUND;
        keys[2] = buf_str(c->local);
        keys[3] = buf_str(c->base);
        if ((st = local_rcpt_any(local_rcpt_maps, keys, 4, why)) != DICT_NOTFOUND)
            return st;
        return local_rcpt_miss(miss, "local recipient", P_unknown_local_recipient_reject_code);
    case RESOLVE_CLASS_VIRTUAL:
        if ((st = local_rcpt_any(local_rcpt_mailbox, keys, 3, why)) != DICT_NOTFOUND)
            return st;
        return local_rcpt_miss(miss, "virtual mailbox", P_unknown_virtual_mailbox_reject_code);
    case RESOLVE_CLASS_RELAY:
        if (local_rcpt_relay == NULL)
            return DICT_FOUND;
        if ((st = local_rcpt_any(local_rcpt_relay, keys, 3, why)) != DICT_NOTFOUND)
            return st;
        return local_rcpt_miss(miss, "relay recipient", P_unknown_relay_recipient_reject_code);
    default:
        return local_rcpt_miss(miss, "virtual alias", P_unknown_virtual_alias_reject_code);
    }
}

DICT_STATUS local_rcpt_check(const char *addr, RESOLVE_CLASS cls, LOCAL_RCPT_MISS *miss,
                             BUF *why)
{
    LOCAL_RCPT_CANON c;
    BUF    *full, *base_full, *catchall;
    const char *keys[4];
    DICT_STATUS st;

    if (cls == RESOLVE_CLASS_TRYLATER) {
        buf_sprintf(why, "domain class lookup failed");
        return DICT_TRYLATER;
    }
    if (local_rcpt_open(why) < 0)
        return DICT_TRYLATER;
    local_rcpt_canon(addr, &c);
    full = buf_alloc(64);
    base_full = buf_alloc(64);
    catchall = buf_alloc(64);
    buf_sprintf(full, "%s@%s", buf_str(c.local), buf_str(c.domain));
    buf_sprintf(base_full, "%s@%s", buf_str(c.base), buf_str(c.domain));
    buf_sprintf(catchall, "@%s", buf_str(c.domain));
    keys[0] = buf_str(full);
    keys[1] = buf_str(base_full);
    keys[2] = buf_str(catchall);
    keys[3] = "";
    st = local_rcpt_class(&c, keys, cls, miss, why);
    local_rcpt_canon_free(&c);
    buf_free(full);
    buf_free(base_full);
    buf_free(catchall);
    return st;
}

DICT_STATUS local_rcpt_find(const char *addr, BUF *why)
{
    return local_rcpt_check(addr, RESOLVE_CLASS_LOCAL, NULL, why);
}

void    local_rcpt_close(void)
{
    int     i;

    if (local_rcpt_maps)
        maps_close(local_rcpt_maps);
    if (local_rcpt_virt)
        maps_close(local_rcpt_virt);
    if (local_rcpt_mailbox)
        maps_close(local_rcpt_mailbox);
    if (local_rcpt_relay)
        maps_close(local_rcpt_relay);
    for (i = 0; i < local_rcpt_nsandbox; i++)
        xfree(local_rcpt_sandbox[i]);
    xfree(local_rcpt_sandbox);
    local_rcpt_maps = local_rcpt_virt = local_rcpt_mailbox = local_rcpt_relay = NULL;
    local_rcpt_sandbox = NULL;
    local_rcpt_nsandbox = 0;
    local_rcpt_ready = 0;
}
