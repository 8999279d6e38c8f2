/* dict_texthash - texthash:/file tables: a postmap(1) source file read into
 * memory when the table is opened.
 *
 * Needs no build step (handy for small tables and for tests); changes to
 * the file are seen by processes that open the table afterwards. Entries
 * are sorted once and found by binary search. Keys are folded unless
 * DICT_FLAG_FIXED_CASE; of duplicate keys the first wins, with a warning,
 * as postmap does.
 */
#include <stdlib.h>
#include <string.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"

#define TEXTHASH_MAX    (16 * 1024 * 1024)      /* entries in one table */

typedef struct TEXTHASH_ENTRY {
    char   *key;
    char   *value;
    int     lineno;                     /* source line, to keep the first duplicate */
} TEXTHASH_ENTRY;

typedef struct TEXTHASH_PRIV {
    const char *path;                   /* for warnings while loading */
    int     flags;
    TEXTHASH_ENTRY *entries;            /* sorted by key */
    size_t  count;
    size_t  size;                       /* allocated */
    BUF    *why;                        /* load error */
} TEXTHASH_PRIV;

/* texthash_add - collect one entry while reading the file */
static int texthash_add(const char *key, const char *value, int lineno, void *ctx)
{
    TEXTHASH_PRIV *priv = ctx;
    TEXTHASH_ENTRY *e;

    if (priv->count >= TEXTHASH_MAX) {
        buf_sprintf(priv->why, "%s: more than %d entries", priv->path, TEXTHASH_MAX);
        return -1;
    }
    if (priv->count == priv->size) {
        priv->size = priv->size ? 2 * priv->size : 64;
        priv->entries = xreallocarray(priv->entries, priv->size, sizeof(*e));
    }
    e = priv->entries + priv->count++;
    e->key = xstrdup(key);
    if ((priv->flags & DICT_FLAG_FIXED_CASE) == 0)
        dict_fold(e->key);
    e->value = xstrdup(value);
    e->lineno = lineno;
    return 0;
}

/* texthash_cmp - order by key, then by line (the first of duplicates first) */
static int texthash_cmp(const void *a, const void *b)
{
    const TEXTHASH_ENTRY *ea = a;
    const TEXTHASH_ENTRY *eb = b;
    int     diff = strcmp(ea->key, eb->key);

    return diff ? diff : (ea->lineno > eb->lineno) - (ea->lineno < eb->lineno);
}

/* texthash_free - release every entry */
static void texthash_free(TEXTHASH_PRIV *priv)
{
    size_t  i;

    for (i = 0; i < priv->count; i++) {
        xfree(priv->entries[i].key);
        xfree(priv->entries[i].value);
    }
    xfree(priv->entries);
    xfree(priv);
}

/* texthash_open - read the file, sort it, drop later duplicates */
static DICT *texthash_open(const char *name, int flags, BUF *why)
{
    TEXTHASH_PRIV *priv = xcalloc(1, sizeof(*priv));
    DICT   *dict;
    size_t  i;
    size_t  kept;

    priv->path = name;
    priv->flags = flags;
    priv->why = why;
    if (dict_read_text_file(name, texthash_add, priv, why) < 0) {
        texthash_free(priv);
        return NULL;
    }
    if (priv->count > 0)
        qsort(priv->entries, priv->count, sizeof(*priv->entries), texthash_cmp);
    /* Drop the later duplicates, keeping the order. */
    for (i = kept = 0; i < priv->count; i++) {
        if (kept > 0 && strcmp(priv->entries[kept - 1].key, priv->entries[i].key) == 0) {
            msg_warn("%s, line %d: duplicate entry: \"%s\"", name,
                     priv->entries[i].lineno, priv->entries[i].key);
            xfree(priv->entries[i].key);
            xfree(priv->entries[i].value);
            continue;
        }
        priv->entries[kept++] = priv->entries[i];
    }
    priv->count = kept;
    priv->path = NULL;
    priv->why = NULL;
    dict = dict_alloc(&dict_texthash_type, name, flags);
    dict->priv = priv;
    return dict;
}

/* texthash_lookup - binary search by key */
static DICT_STATUS texthash_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    TEXTHASH_PRIV *priv = dict->priv;
    TEXTHASH_ENTRY probe = {(char *) key, NULL, 0};
    TEXTHASH_ENTRY *e;
    size_t  lo = 0;
    size_t  hi = priv->count;
    size_t  mid;
    int     diff;

    /* bsearch by key alone (the line number only breaks ties when sorting) */
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        e = priv->entries + mid;
        if ((diff = strcmp(probe.key, e->key)) == 0) {
            buf_set(result, e->value);
            return DICT_FOUND;
        }
        if (diff < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return DICT_NOTFOUND;
}

/* texthash_close - release the entries */
static void texthash_close(DICT *dict)
{
    texthash_free(dict->priv);
    dict_free(dict);
}

/* texthash_walk - every entry, in key order */
static int texthash_walk(DICT *dict, int (*fn)(const char *, const char *, int, void *),
                         void *ctx, BUF *why)
{
    TEXTHASH_PRIV *priv = dict->priv;
    size_t  i;

    for (i = 0; i < priv->count; i++) {
        if (fn(priv->entries[i].key, priv->entries[i].value, priv->entries[i].lineno, ctx)) {
            buf_sprintf(why, "texthash:%s: stopped at %s", dict->name, priv->entries[i].key);
            return -1;
        }
    }
    return 0;
}

const DICT_TYPE dict_texthash_type = {
    "texthash", texthash_open, texthash_lookup, texthash_close, NULL, NULL, "", texthash_walk, NULL,
};
