/* config - the store behind config.h: one entry per parameter name.
 *
 * Every name ever mentioned (the whole parameter table, plus whatever main.cf
 * and -o set) has one CONFIG_ENT in a small hash table. An entry keeps the
 * main.cf value and the -o value apart (-o wins), and caches its expanded
 * value until the configuration changes; old expansions are kept until
 * config_reset() because callers hold the pointers config_str() gave them.
 *
 * The rest of the module, one file each:
 *   config_parse.c   reading main.cf (and -o name=value)
 *   config_expand.c  $name expansion and the computed defaults
 *   config_get.c     typed getters and names outside the table
 *   config_check.c   the table, unknown-name warnings, validation, listing
 *   config_net.c     the computed default of mynetworks
 * Lists are split by lib/util/str_split.c (config_split_list below).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "dict_proxy.h"
#include "mem.h"
#include "msg.h"
#include "str_split.h"

const PARAM_INFO config_table[PARAM_COUNT] = {
#define PARAM(name, type, def, min, max, doc) \
    {#name, PARAM_TYPE_##type, def, min, max, doc, PARAM_IMPL_YES, NULL},
#define PARAM_UNIMPL(name, type, def, min, max, as_if, risk, doc) \
    {#name, PARAM_TYPE_##type, def, min, max, doc, PARAM_IMPL_##risk, as_if},
#include "params.def"
#undef PARAM
#undef PARAM_UNIMPL
};

CONFIG_ENT **config_hash;               /* buckets */
size_t  config_hash_size;
size_t  config_hash_used;
CONFIG_ENT *config_by_id[PARAM_COUNT];
unsigned long config_gen = 1;           /* bumped on every change: caches go stale */
char   *config_dir;                     /* chosen by config_init() */
char   *config_path;                    /* the main.cf read last, for warnings */
char   *config_hostname;                /* gethostname(), once */
static char **config_graveyard;         /* stale expansions callers may still hold */
static size_t config_graveyard_used;
static size_t config_graveyard_size;

/* config_ws - white space as main.cf knows it */
int config_ws(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* config_name_char - may this character appear in a parameter name? */
int config_name_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
        || (ch >= '0' && ch <= '9') || ch == '_';
}

/* config_name_ok - a whole string that is a valid parameter name */
int config_name_ok(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONFIG_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if (!config_name_char((unsigned char) name[i]))
            return 0;
    return 1;
}

/* config_hash_of - FNV-1a over a name of known length */
static size_t config_hash_of(const char *name, size_t len)
{
    size_t  h = 2166136261u;
    size_t  i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) name[i];
        h *= 16777619u;
    }
    return h;
}

/* config_find_len - the entry for a name, or NULL */
CONFIG_ENT *config_find_len(const char *name, size_t len)
{
    CONFIG_ENT *ent;

    if (config_hash == NULL)
        return NULL;
    for (ent = config_hash[config_hash_of(name, len) % config_hash_size]; ent; ent = ent->next)
        if (strncmp(ent->name, name, len) == 0 && ent->name[len] == 0)
            return ent;
    return NULL;
}

/* config_grow - double the bucket array when chains get long */
static void config_grow(void)
{
    size_t  new_size = config_hash_size ? config_hash_size * 2 : 256;
    CONFIG_ENT **new_hash = xcalloc(new_size, sizeof(*new_hash));
    CONFIG_ENT *ent;
    CONFIG_ENT *next;
    size_t  i;

    for (i = 0; i < config_hash_size; i++) {
        for (ent = config_hash[i]; ent; ent = next) {
            size_t  h = config_hash_of(ent->name, strlen(ent->name)) % new_size;

            next = ent->next;
            ent->next = new_hash[h];
            new_hash[h] = ent;
        }
    }
    xfree(config_hash);
    config_hash = new_hash;
    config_hash_size = new_size;
}

/* config_enter - the entry for a name, created when new */
CONFIG_ENT *config_enter(const char *name)
{
    size_t  len = strlen(name);
    CONFIG_ENT *ent = config_find_len(name, len);
    size_t  h;

    if (ent)
        return ent;
    if (config_hash_used >= config_hash_size)
        config_grow();
    ent = xcalloc(1, sizeof(*ent));
    ent->name = xstrdup(name);
    ent->id = -1;
    h = config_hash_of(name, len) % config_hash_size;
    ent->next = config_hash[h];
    config_hash[h] = ent;
    config_hash_used++;
    return ent;
}

/* config_boot - enter the parameter table once (and again after config_reset) */
void config_boot(void)
{
    int     id;

    if (config_hash != NULL)
        return;
    /* Every program that reads main.cf can name proxy: tables. */
    dict_register(&dict_proxy_type);
    config_grow();
    for (id = 0; id < PARAM_COUNT; id++) {
        CONFIG_ENT *ent = config_enter(config_table[id].name);

        ent->id = id;
        config_by_id[id] = ent;
    }
}

/* config_changed - a value changed: every cached expansion is stale */
void config_changed(void)
{
    config_gen++;
}

/* config_bury - keep a stale expansion alive until config_reset() */
void config_bury(char *text)
{
    if (text == NULL)
        return;
    if (config_graveyard_used == config_graveyard_size) {
        config_graveyard_size = config_graveyard_size ? config_graveyard_size * 2 : 64;
        config_graveyard = xreallocarray(config_graveyard, config_graveyard_size,
                                         sizeof(*config_graveyard));
    }
    config_graveyard[config_graveyard_used++] = text;
}

/* config_reset - forget everything (tests, fuzzing) */
void config_reset(void)
{
    CONFIG_ENT *ent;
    CONFIG_ENT *next;
    size_t  i;

    for (i = 0; i < config_hash_size; i++) {
        for (ent = config_hash[i]; ent; ent = next) {
            next = ent->next;
            xfree(ent->name);
            xfree(ent->file_value);
            xfree(ent->override_value);
            xfree(ent->cache);
            xfree(ent);
        }
    }
    xfree(config_hash);
    config_hash = NULL;
    config_hash_size = config_hash_used = 0;
    memset(config_by_id, 0, sizeof(config_by_id));
    for (i = 0; i < config_graveyard_used; i++)
        xfree(config_graveyard[i]);
    xfree(config_graveyard);
    config_graveyard = NULL;
    config_graveyard_used = config_graveyard_size = 0;
    xfree(config_dir);
    config_dir = NULL;
    xfree(config_path);
    config_path = NULL;
    xfree(config_hostname);
    config_hostname = NULL;
    config_expand_reset();
    config_changed();
}

/* config_set - a main.cf-level value; the last one wins */
void config_set(const char *name, const char *value)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_enter(name);
    xfree(ent->file_value);
    ent->file_value = xstrdup(value);
    config_changed();
}

/* config_override - a master.cf -o value; wins over main.cf */
void config_override(const char *name, const char *value)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_enter(name);
    xfree(ent->override_value);
    ent->override_value = xstrdup(value);
    config_changed();
}

/* config_trim - shrink [*start, *end) past white space at both ends */
void config_trim(const char **start, const char **end)
{
    while (*start < *end && config_ws((unsigned char) **start))
        (*start)++;
    while (*end > *start && config_ws((unsigned char) (*end)[-1]))
        (*end)--;
}

/* config_cmp_ent - qsort by name */
static int config_cmp_ent(const void *a, const void *b)
{
    return strcmp((*(CONFIG_ENT *const *) a)->name, (*(CONFIG_ENT *const *) b)->name);
}

/* config_sorted - every entry, sorted by name; caller frees the array */
CONFIG_ENT **config_sorted(size_t *count)
{
    CONFIG_ENT **list = xcalloc(config_hash_used + 1, sizeof(*list));
    CONFIG_ENT *ent;
    size_t  i;
    size_t  n = 0;

    for (i = 0; i < config_hash_size; i++)
        for (ent = config_hash[i]; ent; ent = ent->next)
            list[n++] = ent;
    qsort(list, n, sizeof(*list), config_cmp_ent);
    *count = n;
    return list;
}

/* config_split_list - a main.cf list: str_split_list()'s rule (str_split.h) */
char  **config_split_list(const char *text, int *count)
{
    return str_split_list(text, count);
}

/* config_free_list - release a config_split_list() result */
void    config_free_list(char **list)
{
    str_split_free(list);
}
