/* local_rcpt - known local recipients; see local_rcpt.h. */
#include <string.h>

#include "config.h"
#include "local_rcpt.h"
#include "mem.h"
#include "split_addr.h"

#define LOCAL_RCPT_SANDBOX_MAX  10000   /* names read from $sandbox_users */

static MAPS *local_rcpt_maps;           /* local_recipient_maps; NULL: everyone */
static MAPS *local_rcpt_virt;           /* virtual_alias_maps; NULL: none */
static char **local_rcpt_sandbox;       /* sandbox_users, lower case */
static int local_rcpt_nsandbox;
static int local_rcpt_ready;

/* local_rcpt_sandbox_line - names, one a line */
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
        dict_fold(name);
        local_rcpt_sandbox[local_rcpt_nsandbox++] = xstrdup(name);
    }
    return 0;
}

/* local_rcpt_open - the tables, once; -1 with why for a bad list */
static int local_rcpt_open(BUF *why)
{
    const char *maps = config_str(P_local_recipient_maps);
    const char *virt = config_str(P_virtual_alias_maps);
    const char *sandbox = config_str(P_sandbox_users);

    if (local_rcpt_ready)
        return 0;
    if (*maps && (local_rcpt_maps = maps_open(maps, 0, why)) == NULL)
        return -1;
    if (*virt && (local_rcpt_virt = maps_open(virt, 0, why)) == NULL)
        return -1;
    if (*sandbox)
        (void) dict_read_lines(sandbox, local_rcpt_sandbox_line, NULL, why);
    local_rcpt_ready = 1;
    return 0;
}

/* local_rcpt_any - the first key a table knows: FOUND, NOTFOUND or TRYLATER */
static DICT_STATUS local_rcpt_any(MAPS *maps, const char *const *keys, int n, BUF *why)
{
    BUF    *result = buf_alloc(100);
    DICT_STATUS st = DICT_NOTFOUND;
    int     i;

    for (i = 0; i < n && st == DICT_NOTFOUND; i++)
        st = maps_find(maps, keys[i], result, why);
    buf_free(result);
    return st;
}

/* local_rcpt_find - see local_rcpt.h */
DICT_STATUS local_rcpt_find(const char *addr, BUF *why)
{
    const char *at = strrchr(addr, '@');
    size_t  llen = at ? (size_t) (at - addr) : strlen(addr);
    size_t  split = split_addr(addr, llen, config_str(P_recipient_delimiter));
    BUF    *full = buf_alloc(100);
    BUF    *base_full = buf_alloc(100);
    BUF    *catchall = buf_alloc(100);
    BUF    *local = buf_alloc(100);
    BUF    *base = buf_alloc(100);
    const char *keys[4];
    DICT_STATUS st = DICT_NOTFOUND;
    int     i;

    if (local_rcpt_open(why) < 0) {
        st = DICT_TRYLATER;
        goto out;
    }
    buf_sprintf(local, "%.*s", (int) llen, addr);
    buf_sprintf(base, "%.*s", (int) (split ? split : llen), addr);
    dict_fold(buf_str(local));
    dict_fold(buf_str(base));
    buf_sprintf(full, "%s@%s", buf_str(local), at ? at + 1 : "");
    buf_sprintf(base_full, "%s@%s", buf_str(base), at ? at + 1 : "");
    buf_sprintf(catchall, "@%s", at ? at + 1 : "");
    dict_fold(buf_str(full));
    dict_fold(buf_str(base_full));
    dict_fold(buf_str(catchall));
    keys[0] = buf_str(full);
    keys[1] = buf_str(base_full);
    keys[2] = buf_str(catchall);
    if (local_rcpt_virt && (st = local_rcpt_any(local_rcpt_virt, keys, 3, why)) != DICT_NOTFOUND)
        goto out;
    if (local_rcpt_maps == NULL) {
        st = DICT_FOUND;
        goto out;
    }
    for (i = 0; i < local_rcpt_nsandbox; i++)
        if (strcmp(local_rcpt_sandbox[i], buf_str(base)) == 0) {
            st = DICT_FOUND;
            goto out;
        }
    keys[2] = buf_str(local);
    keys[3] = buf_str(base);
    st = local_rcpt_any(local_rcpt_maps, keys, 4, why);
out:
    buf_free(full);
    buf_free(base_full);
    buf_free(catchall);
    buf_free(local);
    buf_free(base);
    return st;
}

/* local_rcpt_close - forget the tables (tests, reloads) */
void local_rcpt_close(void)
{
    int     i;

    if (local_rcpt_maps)
        maps_close(local_rcpt_maps);
    if (local_rcpt_virt)
        maps_close(local_rcpt_virt);
    for (i = 0; i < local_rcpt_nsandbox; i++)
        xfree(local_rcpt_sandbox[i]);
    xfree(local_rcpt_sandbox);
    local_rcpt_maps = local_rcpt_virt = NULL;
    local_rcpt_sandbox = NULL;
    local_rcpt_nsandbox = 0;
    local_rcpt_ready = 0;
}
