/* cleanup_map - canonical (one to one) and virtual alias (one to many)
 * address mapping, with Postfix's lookup order (canonical(5), virtual(5)):
 *     user+ext@domain, user@domain (recipient_delimiter),
 *     user+ext and user (only when domain is $myorigin or local to
 *     resolve_local: $mydestination, tables included, or our address literals),
 *     @domain
 * A result "@other" keeps the local part (user@domain -> user@other); a
 * result without '@' gets @$myorigin; an extension that the matching key
 * did not carry is put back on the result (propagate_unmatched_extensions).
 * A table that answers TRYLATER defers the message (CLEANUP_STAT_DEFER):
 * mail waits, it never bounces for a table we could not read.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"
#include "split_addr.h"

/* cleanup_local_domain - $myorigin, or local as resolve_local() (the one
 * decision smtpd, qmgr and local use: $mydestination and our address
 * literals) says; 1 yes, 0 no, -1 a table could not answer */
static int cleanup_local_domain(const char *domain)
{
    if (cleanup_conf.myorigin && strcasecmp(domain, cleanup_conf.myorigin) == 0)
        return 1;
    return resolve_local(domain);
}

/* cleanup_lookup - the lookup order; ext gets the extension the matching key lacked */
static DICT_STATUS cleanup_lookup(MAPS *maps, const char *addr, BUF *result, BUF *ext,
                                  BUF *why)
{
    const char *at = strrchr(addr, '@');
    size_t  llen = at ? (size_t) (at - addr) : strlen(addr);
    const char *domain = at ? at + 1 : "";
    const char *delim = cleanup_conf.recipient_delimiter;
    size_t  base = split_addr(addr, llen, delim);       /* 0: not split */
    BUF    *key = buf_alloc(100);
    DICT_STATUS st;
    int     local = 0;

    buf_reset(ext);
    if (base == 0)
        base = llen;
#define TRY(k) do { st = maps_find(maps, (k), result, why); \
        if (st != DICT_NOTFOUND) goto done; } while (0)
    TRY(addr);
    if (base < llen) {
        buf_sprintf(key, "%.*s%s", (int) base, addr, at ? at : "");
        buf_sprintf(ext, "%.*s", (int) (llen - base), addr + base);
        TRY(buf_str(key));
        buf_reset(ext);
    }
    if (*domain && (local = cleanup_local_domain(domain)) < 0) {
        buf_sprintf(why, "cannot decide whether %s is local: table lookup failure", domain);
        st = DICT_TRYLATER;
        goto done;
    }
    if (*domain == 0 || local) {
        buf_sprintf(key, "%.*s", (int) llen, addr);
        TRY(buf_str(key));
        if (base < llen) {
            buf_sprintf(key, "%.*s", (int) base, addr);
            buf_sprintf(ext, "%.*s", (int) (llen - base), addr + base);
            TRY(buf_str(key));
            buf_reset(ext);
        }
    }
    if (*domain) {
        buf_sprintf(key, "@%s", domain);
        TRY(buf_str(key));
    }
#undef TRY
  done:
    buf_free(key);
    return st;
}

/* cleanup_apply - one result address made whole (see the top comment) */
static void cleanup_apply(const char *addr, const char *result, const char *ext, BUF *out)
{
    const char *at = strrchr(addr, '@');
    const char *rat;

    buf_reset(out);
    if (*result == '@')
        buf_append(out, addr, at ? (size_t) (at - addr) : strlen(addr));
    buf_puts(out, result);
    if (*ext && (rat = strrchr(buf_str(out), '@')) != NULL) {
        size_t  pos = (size_t) (rat - buf_str(out));
        BUF    *tmp = buf_alloc(100);

        buf_sprintf(tmp, "%.*s%s%s", (int) pos, buf_str(out), ext, buf_str(out) + pos);
        buf_set(out, buf_str(tmp));
        buf_free(tmp);
    } else if (*ext) {
        buf_puts(out, ext);
    }
    if (strchr(buf_str(out), '@') == NULL && cleanup_conf.myorigin && *cleanup_conf.myorigin)
        buf_printf(out, "@%s", cleanup_conf.myorigin);
}

/* cleanup_defer - a table could not answer: try again later */
static void cleanup_defer(CLEANUP_STATE *state, const char *name, const char *addr,
                          const char *why)
{
    msg_warn("%s: %s map lookup problem for %s -- message not accepted, try again later (%s)",
             state->queue_id, name, addr, why);
    cleanup_set_reason(state, CLEANUP_STAT_DEFER, NULL);
}

/* cleanup_map11 - one canonical table list: 1 mapped (out), 0 not, -1 deferred */
int cleanup_map11(CLEANUP_STATE *state, MAPS *maps, const char *name,
                  const char *addr, BUF *out)
{
    int     ret = cleanup_map_find(state, maps, name, addr, 1, out);

    return ret > 0 ? strcasecmp(buf_str(out), addr) != 0 : ret;
}

/* cleanup_map_find - see cleanup.h */
int cleanup_map_find(CLEANUP_STATE *state, MAPS *maps, const char *name,
                     const char *addr, int propagate, BUF *out)
{
    BUF    *result = buf_alloc(100);
    BUF    *ext = buf_alloc(20);
    BUF    *why = buf_alloc(100);
    DICT_STATUS st;
    int     ret = 0;

    if (maps == NULL || *addr == 0) {
        ret = 0;
    } else if ((st = cleanup_lookup(maps, addr, result, ext, why)) == DICT_TRYLATER) {
        cleanup_defer(state, name, addr, buf_str(why));
        ret = -1;
    } else if (st == DICT_FOUND) {
        buf_trim_right(result);
        cleanup_apply(addr, buf_str(result), propagate ? buf_str(ext) : "", out);
        ret = 1;
    }
    buf_free(result);
    buf_free(ext);
    buf_free(why);
    return ret;
}

/* cleanup_canon2 - a specific table list, then canonical_maps */
static int cleanup_canon2(CLEANUP_STATE *state, MAPS *first, const char *first_name,
                          const char *addr, BUF *out)
{
    BUF    *tmp = buf_alloc(100);
    int     r1, r2;

    buf_set(out, addr);
    if ((r1 = cleanup_map11(state, first, first_name, addr, tmp)) < 0) {
        buf_free(tmp);
        return -1;
    }
    if (r1 > 0)
        buf_set(out, buf_str(tmp));
    r2 = cleanup_map11(state, cleanup_conf.canonical_maps, "canonical_maps", buf_str(out), tmp);
    if (r2 > 0)
        buf_set(out, buf_str(tmp));
    buf_free(tmp);
    return r2 < 0 ? -1 : (r1 || r2);
}

/* cleanup_canon_sender - sender_canonical_maps, then canonical_maps */
int cleanup_canon_sender(CLEANUP_STATE *state, const char *addr, BUF *out)
{
    return cleanup_canon2(state, cleanup_conf.send_canon_maps, "sender_canonical_maps",
                          addr, out);
}

/* cleanup_canon_recip - recipient_canonical_maps, then canonical_maps */
int cleanup_canon_recip(CLEANUP_STATE *state, const char *addr, BUF *out)
{
    return cleanup_canon2(state, cleanup_conf.rcpt_canon_maps, "recipient_canonical_maps",
                          addr, out);
}

/* An address in the expansion, and whether it is final. */
typedef struct VADDR {
    char   *addr;
    int     final;
} VADDR;

/* cleanup_virtual_level - expand every non-final address once; -1 deferred */
static int cleanup_virtual_level(CLEANUP_STATE *state, VADDR **list, int *count,
                                 int *changed)
{
    VADDR  *next = NULL;
    int     n = 0, i, j, nres = 0;
    BUF    *result = buf_alloc(100), *ext = buf_alloc(20), *why = buf_alloc(100);
    BUF    *one = buf_alloc(100);
    char  **res;
    int     ret = 0;

    for (i = 0; i < *count && ret == 0; i++) {
        VADDR  *vp = *list + i;
        DICT_STATUS st = vp->final ? DICT_NOTFOUND
            : cleanup_lookup(cleanup_conf.virtual_alias_maps, vp->addr, result, ext, why);

        if (st == DICT_TRYLATER) {
            cleanup_defer(state, "virtual_alias_maps", vp->addr, buf_str(why));
            ret = -1;
            break;
        }
        res = st == DICT_FOUND ? config_split_list(buf_str(result), &nres) : NULL;
        if (st == DICT_NOTFOUND || nres == 0) {
            next = xreallocarray(next, (size_t) n + 1, sizeof(*next));
            next[n].addr = xstrdup(vp->addr);
            next[n++].final = 1;
        }
        for (j = 0; res && j < nres; j++) {
            cleanup_apply(vp->addr, res[j], buf_str(ext), one);
            next = xreallocarray(next, (size_t) n + 1, sizeof(*next));
            next[n].final = strcasecmp(buf_str(one), vp->addr) == 0;   /* maps to itself */
            next[n++].addr = xstrdup(buf_str(one));
            *changed |= !next[n - 1].final;
        }
        if (res)
            config_free_list(res);
        if (n > cleanup_conf.virt_expansion_limit) {
            msg_warn("%s: unreasonable virtual_alias_maps map expansion size for %s"
                     " -- message not accepted, try again later",
                     state->queue_id, (*list)[0].addr);
            cleanup_set_reason(state, CLEANUP_STAT_DEFER, "4.6.0 Alias expansion error");
            ret = -1;
        }
    }
    for (i = 0; i < *count; i++)
        xfree((*list)[i].addr);
    xfree(*list);
    *list = next;
    *count = n;
    buf_free(result);
    buf_free(ext);
    buf_free(why);
    buf_free(one);
    return ret;
}

/* cleanup_virtual - expand one recipient through virtual_alias_maps, level by
 * level, within virtual_alias_recursion_limit and _expansion_limit.
 * 0 with the final list (the caller frees it), or -1: deferred. */
int cleanup_virtual(CLEANUP_STATE *state, const char *addr, char ***result, int *count)
{
    VADDR  *list = xmalloc(sizeof(*list));
    int     n = 1, depth, changed = 1, i, ret = 0;

    list[0].addr = xstrdup(addr);
    list[0].final = cleanup_conf.virtual_alias_maps == NULL;
    for (depth = 0; changed && ret == 0; depth++) {
        changed = 0;
        ret = cleanup_virtual_level(state, &list, &n, &changed);
        /* Level `depth` made the (depth+1)-th nested expansion. */
        if (ret == 0 && changed && depth >= cleanup_conf.virt_recursion_limit) {
            msg_warn("%s: unreasonable virtual_alias_maps map nesting for %s"
                     " -- message not accepted, try again later", state->queue_id, addr);
            cleanup_set_reason(state, CLEANUP_STAT_DEFER, "4.6.0 Alias expansion error");
            ret = -1;
        }
    }
    *result = NULL;
    *count = 0;
    if (ret == 0) {
        *result = xcalloc((size_t) n + 1, sizeof(char *));
        for (i = 0; i < n; i++)
            (*result)[i] = list[i].addr;
        *count = n;
    } else {
        for (i = 0; i < n; i++)
            xfree(list[i].addr);
    }
    xfree(list);
    return ret;
}
