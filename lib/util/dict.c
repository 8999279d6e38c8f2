/* dict - the table registry, TYPE:NAME parsing, key folding, MAPS lists and
 * the text formats that tables are built from; see dict.h.
 *
 * Each type lives in its own file (dict_lmdb.c, dict_pcre.c, ...); this file
 * only knows them through their DICT_TYPE. The built-in types are registered
 * the first time any table is opened or built, so a program needs no setup
 * call; dict_register() adds more (pgsql, redis, socketmap, test doubles).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "str_split.h"

#define DICT_TYPES_MAX  32              /* registered types */
#define DICT_LINE_MAX   (1024 * 1024)   /* one logical line of a table file */
#define MAPS_MAX        64              /* tables in one list */

static const DICT_TYPE *dict_types[DICT_TYPES_MAX];
static int dict_ntypes;
static int dict_builtins_done;

/* dict_register_builtins - the types every program has, once */
static void dict_register_builtins(void)
{
    if (dict_builtins_done)
        return;
    dict_builtins_done = 1;
    dict_register(&dict_lmdb_type);
    dict_register(&dict_hash_type);
    dict_register(&dict_btree_type);
    dict_register(&dict_pcre_type);
    dict_register(&dict_inline_type);
    dict_register(&dict_static_type);
    dict_register(&dict_texthash_type);
    dict_register(&dict_unix_type);
}

/* dict_register - add a table type (the built-ins first, once) */
void dict_register(const DICT_TYPE *type)
{
    int     i;

    if (!dict_builtins_done)
        dict_register_builtins();
    for (i = 0; i < dict_ntypes; i++) {
        if (dict_types[i] == type)
            return;
        if (strcmp(dict_types[i]->name, type->name) == 0)
            msg_panic("dict_register: table type \"%s\" registered twice", type->name);
    }
    if (dict_ntypes >= DICT_TYPES_MAX)
        msg_panic("dict_register: more than %d table types", DICT_TYPES_MAX);
    dict_types[dict_ntypes++] = type;
}

/* dict_find_type - the registered type of this name, or NULL */
static const DICT_TYPE *dict_find_type(const char *name, size_t len)
{
    int     i;

    dict_register_builtins();
    for (i = 0; i < dict_ntypes; i++)
        if (strlen(dict_types[i]->name) == len
            && strncmp(dict_types[i]->name, name, len) == 0)
            return dict_types[i];
    return NULL;
}

/* dict_parse_name - split TYPE:NAME; the type, and *name pointing into it */
static const DICT_TYPE *dict_parse_name(const char *type_name, const char **name,
                                        BUF *why)
{
    const char *colon = strchr(type_name, ':');
    const DICT_TYPE *type;
    int     i;

    if (colon == NULL) {
        buf_sprintf(why, "table \"%s\" has no type: write TYPE:NAME, e.g. lmdb:%s",
                    type_name, type_name);
        return NULL;
    }
    if ((type = dict_find_type(type_name, (size_t) (colon - type_name))) == NULL) {
        buf_sprintf(why, "table \"%s\": unknown table type \"%.*s\" (known:",
                    type_name, (int) (colon - type_name), type_name);
        for (i = 0; i < dict_ntypes; i++)
            buf_printf(why, " %s", dict_types[i]->name);
        buf_puts(why, ")");
        return NULL;
    }
    *name = colon + 1;
    return type;
}

/* dict_alloc - a DICT for a type's open function to fill in */
DICT   *dict_alloc(const DICT_TYPE *type, const char *name, int flags)
{
    DICT   *dict = xcalloc(1, sizeof(*dict));

    dict->type = type;
    dict->name = xstrdup(name);
    dict->flags = flags;
    return dict;
}

/* dict_free - release what dict_alloc made */
static char *dict_changed_table;          /* first table that changed, or NULL */

/* dict_note_changed - remember the first table that must be reopened */
void    dict_note_changed(const char *type_name)
{
    if (dict_changed_table == NULL)
        dict_changed_table = xstrdup(type_name);
}

/* dict_changed - the table that changed under this process, or NULL */
const char *dict_changed(void)
{
    return dict_changed_table;
}

void    dict_free(DICT *dict)
{
    xfree(dict->name);
    xfree(dict);
}

/* dict_fold - ASCII lower case in place (keys only; values keep case) */
void    dict_fold(char *text)
{
    for (; *text; text++)
        if (*text >= 'A' && *text <= 'Z')
            *text = (char) (*text - 'A' + 'a');
}

static char *dict_redirect_from;         /* this type is opened as ... */
static const DICT_TYPE *dict_redirect_via;  /* ... a table of this type */

/* dict_redirect_type - open tables of type through via from now on (NULL: directly) */
void    dict_redirect_type(const char *type, const DICT_TYPE *via)
{
    if (dict_redirect_from)
        xfree(dict_redirect_from);
    dict_redirect_from = via ? xstrdup(type) : NULL;
    dict_redirect_via = via;
}

/* dict_open - open TYPE:NAME, or NULL with why */
DICT   *dict_open(const char *type_name, int flags, BUF *why)
{
    const DICT_TYPE *type;
    const char *name;
    DICT   *dict;

    if ((type = dict_parse_name(type_name, &name, why)) == NULL)
        return NULL;
    if (dict_redirect_from && strcmp(type->name, dict_redirect_from) == 0) {
        type = dict_redirect_via;
        name = type_name;
    }
    if ((dict = type->open(name, flags, why)) == NULL)
        return NULL;
    if (dict->type == NULL)
        dict->type = type;
    if (dict->name == NULL)
        dict->name = xstrdup(name);
    return dict;
}

/* dict_type_check - is TYPE:NAME of a known type (for `surel check`)? */
int     dict_type_check(const char *type_name, BUF *why)
{
    const char *name;

    return dict_parse_name(type_name, &name, why) ? 0 : -1;
}

/* dict_data_file - the file that holds a table's data (for its owner, say) */
int     dict_data_file(const char *type_name, BUF *path)
{
    const DICT_TYPE *type;
    const char *name;
    BUF    *why = buf_alloc(100);

    type = dict_parse_name(type_name, &name, why);
    buf_free(why);
    if (type == NULL || type->file_suffix == NULL || *name != '/')
        return -1;
    buf_sprintf(path, "%s%s", name, type->file_suffix);
    return 0;
}

/* dict_lookup - fold the key unless the table keeps case, then ask the type */
DICT_STATUS dict_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    DICT_STATUS status;
    char   *folded;

    buf_reset(result);
    if (dict->flags & DICT_FLAG_FIXED_CASE)
        return dict->type->lookup(dict, key, result, why);
    folded = xstrdup(key);
    dict_fold(folded);
    status = dict->type->lookup(dict, folded, result, why);
    xfree(folded);
    return status;
}

/* dict_close - close a table (NULL is fine) */
void    dict_close(DICT *dict)
{
    if (dict != NULL)
        dict->type->close(dict);
}

/* dict_build_with - run one of the type's builders */
static int dict_build_with(const char *type_name, int aliases, BUF *why)
{
    const DICT_TYPE *type;
    const char *name;
    int     (*build)(const char *, BUF *);

    if ((type = dict_parse_name(type_name, &name, why)) == NULL)
        return -1;
    build = aliases ? type->build_aliases : type->build;
    if (build == NULL) {
        buf_sprintf(why, "table type \"%s\" cannot be built%s; it is read as written",
                    type->name, aliases ? " from an aliases file" : "");
        return -1;
    }
    return build(name, why);
}

/* dict_build - build TYPE:FILE from the postmap source FILE */
int     dict_build(const char *type_name, BUF *why)
{
    return dict_build_with(type_name, 0, why);
}

/* dict_build_aliases - build TYPE:FILE from the aliases(5) source FILE */
int     dict_build_aliases(const char *type_name, BUF *why)
{
    return dict_build_with(type_name, 1, why);
}

/* dict_dump - every entry of a table that can be listed, for postmap -s */
int     dict_dump(const char *type_name, DICT_TEXT_FN fn, void *ctx, BUF *why)
{
    const DICT_TYPE *type;
    const char *name;
    DICT   *dict;
    int     ret;

    if ((type = dict_parse_name(type_name, &name, why)) == NULL)
        return -1;
    if (type->walk == NULL) {
        buf_sprintf(why, "%s: tables of type %s cannot be listed", type_name, type->name);
        return -1;
    }
    if ((dict = dict_open(type_name, 0, why)) == NULL)
        return -1;
    ret = dict->type->walk(dict, fn, ctx, why);
    dict_close(dict);
    return ret;
}

/* dict_edit - delete and add entries of a built table, for postmap -d/-i */
int     dict_edit(const char *type_name, const DICT_EDIT *edit, BUF *why)
{
    const DICT_TYPE *type;
    const char *name;

    if ((type = dict_parse_name(type_name, &name, why)) == NULL)
        return -1;
    if (type->edit == NULL) {
        buf_sprintf(why, "%s: tables of type %s cannot be changed in place", type_name,
                    type->name);
        return -1;
    }
    return type->edit(name, edit, why);
}

const char *dict_status_name(DICT_STATUS status)
{
    switch (status) {
    case DICT_FOUND:
        return "found";
    case DICT_NOTFOUND:
        return "not found";
    case DICT_TRYLATER:
        return "try again later";
    }
    return "unknown status";
}

 /*
  * MAPS - a list of tables. A table that cannot be opened is replaced by a
  * surrogate that answers TRYLATER with the reason the open failed.
  */
struct MAPS {
    DICT  **dicts;                      /* in search order */
    int     count;
};

/* surrogate_lookup - a table that could not be opened defers every lookup */
static DICT_STATUS surrogate_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    buf_set(why, dict->priv);
    return DICT_TRYLATER;
}

/* surrogate_close - free the stand-in and its reason */
static void surrogate_close(DICT *dict)
{
    xfree(dict->priv);
    dict_free(dict);
}

/* surrogate_walk - nothing to list: the reason the table is not there */
static int surrogate_walk(DICT *dict, int (*fn)(const char *, const char *, int, void *),
                          void *ctx, BUF *why)
{
    (void) fn;
    (void) ctx;
    buf_sprintf(why, "%s: %s", dict->name, (const char *) dict->priv);
    return -1;
}

static const DICT_TYPE surrogate_type = {
    "surrogate", NULL, surrogate_lookup, surrogate_close, NULL, NULL, NULL, surrogate_walk, NULL,
};

/* maps_open - open each table of a list; NULL only for configuration errors */
MAPS   *maps_open(const char *list, int flags, BUF *why)
{
    MAPS   *maps = xcalloc(1, sizeof(*maps));
    const char *cp = list;
    const char *name;
    char   *item;
    DICT   *dict;

    buf_reset(why);
    maps->dicts = xcalloc(MAPS_MAX, sizeof(DICT *));
    while ((item = str_split_next(&cp, why)) != NULL) {
        if (maps->count >= MAPS_MAX) {
            buf_sprintf(why, "table list: more than %d tables", MAPS_MAX);
            xfree(item);
            break;
        }
        /* An item that is no table name at all is a configuration error:
         * refuse the list. An unknown type (cdb: in a Postfix main.cf) is a
         * stand-in, as a table that cannot be opened: the process runs and
         * defers what needs that table, and the log says why (Postfix's
         * surrogate tables do the same; `surel check` reports it). */
        if (strchr(item, ':') == NULL) {
            (void) dict_parse_name(item, &name, why);
            xfree(item);
            break;
        }
        if ((dict = dict_open(item, flags, why)) == NULL) {
            msg_warn("%s is unavailable: %s", item, buf_str(why));
            dict = dict_alloc(&surrogate_type, item, flags);
            dict->priv = xstrdup(buf_str(why));
            buf_reset(why);
        }
        maps->dicts[maps->count++] = dict;
        xfree(item);
    }
    if (buf_len(why) > 0) {
        maps_close(maps);
        return NULL;
    }
    return maps;
}

/* maps_find - ask the tables in order: first FOUND wins, a TRYLATER before it defers */
DICT_STATUS maps_find(MAPS *maps, const char *key, BUF *result, BUF *why)
{
    DICT_STATUS status;
    BUF    *reason;
    int     i;

    buf_reset(result);
    for (i = 0; i < maps->count; i++) {
        status = dict_lookup(maps->dicts[i], key, result, why);
        if (status == DICT_FOUND)
            return DICT_FOUND;
        if (status == DICT_TRYLATER) {
            /* A table we could not ask might have held the answer: defer. */
            reason = buf_alloc(64);
            buf_sprintf(reason, "%s:%s: %s", maps->dicts[i]->type->name,
                        maps->dicts[i]->name, buf_str(why));
            buf_set(why, buf_str(reason));
            buf_free(reason);
            return DICT_TRYLATER;
        }
    }
    return DICT_NOTFOUND;
}

/* maps_walk - see dict.h */
int     maps_walk(MAPS *maps, int (*fn)(const char *key, const char *value, int lineno,
                                        void *ctx), void *ctx, BUF *why)
{
    int     i;

    for (i = 0; i < maps->count; i++) {
        DICT   *d = maps->dicts[i];

        if (d->type->walk == NULL) {
            buf_sprintf(why, "%s:%s: a table of type %s cannot be listed", d->type->name,
                        d->name, d->type->name);
            return -1;
        }
        if (d->type->walk(d, fn, ctx, why) < 0)
            return -1;
    }
    return 0;
}

/* maps_close - close every table of the list */
void    maps_close(MAPS *maps)
{
    int     i;

    if (maps == NULL)
        return;
    for (i = 0; i < maps->count; i++)
        dict_close(maps->dicts[i]);
    xfree(maps->dicts);
    xfree(maps);
}

 /*
  * Text formats. Physical lines are read with a bound; logical lines are
  * handed to a callback one at a time.
  */

/* dict_get_line - one physical line without its end; 0 at EOF, -1 too long */
static int dict_get_line(FILE *fp, BUF *line)
{
    int     ch;

    buf_reset(line);
    while ((ch = getc(fp)) != EOF) {
        if (ch == '\n')
            return 1;
        if (buf_len(line) >= DICT_LINE_MAX)
            return -1;
        buf_putc(line, ch);
    }
    return buf_len(line) > 0 || !feof(fp) ? 1 : 0;
}

/* dict_flush_line - hand a finished logical line to the callback */
static int dict_flush_line(BUF *logical, int lineno, DICT_LINE_FN fn, void *ctx)
{
    int     ret = 0;

    if (buf_len(logical) > 0)
        ret = fn(buf_str(logical), lineno, ctx);
    buf_reset(logical);
    return ret;
}

/* dict_read_lines - hand each logical line of a table file to fn */
int     dict_read_lines(const char *path, DICT_LINE_FN fn, void *ctx, BUF *why)
{
    BUF    *line = buf_alloc(256);
    BUF    *logical = buf_alloc(256);
    FILE   *fp;
    const char *cp;
    int     fd;
    int     lineno = 0;
    int     start = 0;
    int     got;
    int     ret = 0;

    if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) < 0
        || (fp = fdopen(fd, "r")) == NULL) {
        buf_sprintf(why, "open %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        buf_free(line);
        buf_free(logical);
        return -1;
    }
    while ((got = dict_get_line(fp, line)) != 0) {
        lineno++;
        if (got < 0) {
            buf_sprintf(why, "%s, line %d: line longer than %d bytes",
                        path, lineno, DICT_LINE_MAX);
            ret = -1;
            break;
        }
        buf_trim_right(line);
        for (cp = buf_str(line); isspace((unsigned char) *cp); cp++)
             /* void */ ;
        if (*cp == 0 || *cp == '#')
            continue;
        if (cp == buf_str(line) || buf_len(logical) == 0) {
            if (cp != buf_str(line))
                msg_warn("%s, line %d: a table entry must not start with white space",
                         path, lineno);
            if (dict_flush_line(logical, start, fn, ctx) != 0) {
                ret = -1;
                break;
            }
            start = lineno;
            buf_puts(logical, cp);
        } else {
            /* A continuation keeps its white space: it is part of the value. */
            if (buf_len(logical) + buf_len(line) > DICT_LINE_MAX) {
                buf_sprintf(why, "%s, line %d: logical line longer than %d bytes",
                            path, lineno, DICT_LINE_MAX);
                ret = -1;
                break;
            }
            buf_puts(logical, buf_str(line));
        }
    }
    if (ret == 0 && ferror(fp)) {
        buf_sprintf(why, "read %s: %s", path, strerror(errno));
        ret = -1;
    }
    if (ret == 0 && dict_flush_line(logical, start, fn, ctx) != 0)
        ret = -1;
    fclose(fp);
    buf_free(line);
    buf_free(logical);
    return ret;
}

/* What the text readers pass through dict_read_lines. */
typedef struct DICT_TEXT_CTX {
    const char *path;                   /* for warnings */
    DICT_TEXT_FN fn;                    /* the caller's callback */
    void   *ctx;                        /* and its context */
} DICT_TEXT_CTX;

/* dict_text_line - one postmap(1) entry: key white-space value */
static int dict_text_line(char *line, int lineno, void *ptr)
{
    DICT_TEXT_CTX *tc = ptr;
    char   *key = line;
    char   *value = line + strcspn(line, " \t\r\n\f\v");

    if (*value)
        *value++ = 0;
    while (isspace((unsigned char) *value))
        value++;
    if (*value == 0) {
        msg_warn("%s, line %d: expected format: key whitespace value",
                 tc->path, lineno);
        return 0;
    }
    return tc->fn(key, value, lineno, tc->ctx);
}

/* dict_read_text_file - read a postmap(1) source: key whitespace value */
int     dict_read_text_file(const char *path, DICT_TEXT_FN fn, void *ctx, BUF *why)
{
    DICT_TEXT_CTX tc = {path, fn, ctx};

    return dict_read_lines(path, dict_text_line, &tc, why);
}

/* dict_alias_line - one aliases(5) entry: name: value, value... */
static int dict_alias_line(char *line, int lineno, void *ptr)
{
    DICT_TEXT_CTX *tc = ptr;
    BUF    *name = buf_alloc(64);
    char   *cp = line;
    char   *value = NULL;
    int     quoted = 0;
    int     ret = 0;

    /* The name ends at the first colon outside quotes. White space outside
     * quotes is dropped (as the address tokenizer does); quotes and
     * backslashes are removed, so that "a b": x is found under the key a b
     * and a\:b: x under a:b. */
    for (; *cp; cp++) {
        if (quoted) {
            if (*cp == '"')
                quoted = 0;
            else if (*cp == '\\' && cp[1])
                buf_putc(name, *++cp);
            else
                buf_putc(name, *cp);
        } else if (*cp == '"') {
            quoted = 1;
        } else if (*cp == '\\' && cp[1]) {
            buf_putc(name, *++cp);
        } else if (*cp == ':') {
            value = cp + 1;
            break;
        } else if (!isspace((unsigned char) *cp)) {
            buf_putc(name, *cp);
        }
    }
    if (value != NULL)
        while (isspace((unsigned char) *value))
            value++;
    if (value == NULL || *value == 0 || buf_len(name) == 0
        || strchr(buf_str(name), ',') != NULL) {
        msg_warn("%s, line %d: need name:value pair", tc->path, lineno);
    } else if (strpbrk(buf_str(name), "@%") != NULL) {
        msg_warn("%s, line %d: name must be local", tc->path, lineno);
    } else {
        dict_fold(buf_str(name));
        ret = tc->fn(buf_str(name), value, lineno, tc->ctx);
    }
    buf_free(name);
    return ret;
}

/* dict_read_alias_file - read an aliases(5) source: name: value, value */
int     dict_read_alias_file(const char *path, DICT_TEXT_FN fn, void *ctx, BUF *why)
{
    DICT_TEXT_CTX tc = {path, fn, ctx};

    return dict_read_lines(path, dict_alias_line, &tc, why);
}
