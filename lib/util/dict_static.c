/* dict_static - static:value tables: every key finds the same value.
 *
 * static:value, or static:{ value with spaces } (braces stripped, the value
 * trimmed). Used where a map is required but the answer never varies, e.g.
 * transport_maps = static:smtp:[relay.example]. The key is never looked at,
 * so it is never folded.
 */
#include <ctype.h>
#include <string.h>

#include "dict.h"
#include "mem.h"

/* static_open - remember the value, braces stripped */
static DICT *static_open(const char *name, int flags, BUF *why)
{
    DICT   *dict;
    const char *start = name;
    const char *end = name + strlen(name);

    if (*start == '{') {
        if (end == start + 1 || end[-1] != '}') {
            buf_sprintf(why, "static:%s: missing '}'", name);
            return NULL;
        }
        start++;
        end--;
        while (start < end && isspace((unsigned char) *start))
            start++;
        while (end > start && isspace((unsigned char) end[-1]))
            end--;
    }
    dict = dict_alloc(&dict_static_type, name, flags | DICT_FLAG_FIXED_CASE);
    dict->priv = xstrndup(start, (size_t) (end - start));
    return dict;
}

/* static_lookup - every key finds the value */
static DICT_STATUS static_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    buf_set(result, dict->priv);
    return DICT_FOUND;
}

/* static_close - release the value */
static void static_close(DICT *dict)
{
    xfree(dict->priv);
    dict_free(dict);
}

const DICT_TYPE dict_static_type = {
    "static", static_open, static_lookup, static_close, NULL, NULL, NULL, NULL,
};
