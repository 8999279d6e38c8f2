/* dict_inline - inline:{ key=value, { key = value with spaces } } tables.
 *
 * A small table written where it is used (main.cf, master.cf -o). Items
 * are separated by commas or white space; an item in braces may hold white
 * space and is trimmed around the key and the value. Tables are small, so
 * a lookup scans them in order. Keys are folded unless DICT_FLAG_FIXED_CASE;
 * of duplicate keys the first wins (with a warning), as in every table.
 */
#include <ctype.h>
#include <string.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "str_split.h"

#define INLINE_MAX  1024                /* entries in one inline table */

typedef struct INLINE_PRIV {
    char  **keys;
    char  **values;
    int     count;
} INLINE_PRIV;

/* inline_trim - copy of [start, end) without surrounding white space */
static char *inline_trim(const char *start, const char *end)
{
    while (start < end && isspace((unsigned char) *start))
        start++;
    while (end > start && isspace((unsigned char) end[-1]))
        end--;
    return xstrndup(start, (size_t) (end - start));
}

/* inline_free - release the entries */
static void inline_free(INLINE_PRIV *priv)
{
    int     i;

    for (i = 0; i < priv->count; i++) {
        xfree(priv->keys[i]);
        xfree(priv->values[i]);
    }
    xfree(priv->keys);
    xfree(priv->values);
    xfree(priv);
}

/* inline_add - parse one item "k=v" or "{ k = v }" into the table */
static int inline_add(INLINE_PRIV *priv, const char *name, char *item, int flags, BUF *why)
{
    char   *start = item;
    char   *end = item + strlen(item);
    char   *eq;
    char   *key;
    int     i;

    if (*start == '{') {
        if (end[-1] != '}') {
            buf_sprintf(why, "inline:%s: missing '}' in \"%s\"", name, item);
            return -1;
        }
        start++;
        end--;
    }
    if ((eq = memchr(start, '=', (size_t) (end - start))) == NULL) {
        buf_sprintf(why, "inline:%s: expected key=value, found \"%s\"", name, item);
        return -1;
    }
    key = inline_trim(start, eq);
    if (*key == 0) {
        buf_sprintf(why, "inline:%s: empty key in \"%s\"", name, item);
        xfree(key);
        return -1;
    }
    if ((flags & DICT_FLAG_FIXED_CASE) == 0)
        dict_fold(key);
    for (i = 0; i < priv->count; i++) {
        if (strcmp(priv->keys[i], key) == 0) {
            msg_warn("inline:%s: duplicate entry: \"%s\"", name, key);
            xfree(key);
            return 0;
        }
    }
    if (priv->count >= INLINE_MAX) {
        buf_sprintf(why, "inline:%s: more than %d entries", name, INLINE_MAX);
        xfree(key);
        return -1;
    }
    priv->keys[priv->count] = key;
    priv->values[priv->count] = inline_trim(eq + 1, end);
    priv->count++;
    return 0;
}

/* inline_open - parse the braces into entries */
static DICT *inline_open(const char *name, int flags, BUF *why)
{
    INLINE_PRIV *priv;
    size_t  len = strlen(name);
    char   *body;
    const char *cp;
    char   *item;
    DICT   *dict;

    if (len < 2 || name[0] != '{' || name[len - 1] != '}') {
        buf_sprintf(why, "inline:%s: expected inline:{ key=value, ... }", name);
        return NULL;
    }
    priv = xcalloc(1, sizeof(*priv));
    priv->keys = xcalloc(INLINE_MAX, sizeof(char *));
    priv->values = xcalloc(INLINE_MAX, sizeof(char *));
    body = xstrndup(name + 1, len - 2);
    buf_reset(why);
    for (cp = body; (item = str_split_next(&cp, why)) != NULL; xfree(item))
        if (inline_add(priv, name, item, flags, why) < 0) {
            xfree(item);
            break;
        }
    xfree(body);
    if (buf_len(why) == 0 && priv->count == 0)
        buf_sprintf(why, "inline:%s: empty table", name);
    if (buf_len(why) > 0) {
        inline_free(priv);
        return NULL;
    }
    dict = dict_alloc(&dict_inline_type, name, flags);
    dict->priv = priv;
    return dict;
}

/* inline_lookup - scan the (small) table in order */
static DICT_STATUS inline_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    INLINE_PRIV *priv = dict->priv;
    int     i;

    for (i = 0; i < priv->count; i++) {
        if (strcmp(priv->keys[i], key) == 0) {
            buf_set(result, priv->values[i]);
            return DICT_FOUND;
        }
    }
    return DICT_NOTFOUND;
}

/* inline_close - release the table */
static void inline_close(DICT *dict)
{
    inline_free(dict->priv);
    dict_free(dict);
}

/* inline_walk - every entry, in the written order */
static int inline_walk(DICT *dict, int (*fn)(const char *, const char *, int, void *),
                       void *ctx, BUF *why)
{
    INLINE_PRIV *priv = dict->priv;
    int     i;

    for (i = 0; i < priv->count; i++) {
        if (fn(priv->keys[i], priv->values[i], 0, ctx)) {
            buf_sprintf(why, "inline table: stopped at %s", priv->keys[i]);
            return -1;
        }
    }
    return 0;
}

const DICT_TYPE dict_inline_type = {
    "inline", inline_open, inline_lookup, inline_close, NULL, NULL, NULL, inline_walk, NULL,
};
