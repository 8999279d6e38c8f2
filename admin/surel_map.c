/*
 * NAME
 *      surel map - build and query lookup tables (Postfix's postmap and postalias)
 * SYNOPSIS
 *      surel map build [-a] [TYPE:]FILE ...
 *      surel map query [TYPE:]FILE KEY
 *      surel map query [TYPE:]FILE -
 *      surel map dump [TYPE:]FILE ...
 *      surel map add [TYPE:]FILE
 *      surel map delete [TYPE:]FILE KEY|-
 * DESCRIPTION
 *      build makes the database of each table from its text file: for
 *      lmdb:/etc/surel/transport, the file /etc/surel/transport.lmdb from
 *      /etc/surel/transport (postmap(1) format: `key whitespace value`,
 *      `#` comments, continuation lines start with white space). With -a
 *      the text file is in aliases(5) format (`name: value, value`), as
 *      newaliases builds it. The new database replaces the old one with a
 *      rename, so that running daemons see either the old or the new table,
 *      never a half-built one, and pick up the new one at their next lookup.
 *      Of duplicate keys the first wins, with a warning.
 *
 *      query looks KEY up and prints the value. With `-` as KEY, keys are
 *      read from standard input, one a line, and `key<TAB>value` is printed
 *      for each that is found.
 *
 *      dump prints every entry of a built table, `key<TAB>value` (postmap
 *      -s). add reads entries in the postmap format from standard input
 *      and puts them into the built table, replacing entries with the same
 *      key (postmap -i); delete removes KEY, or each key read from standard
 *      input with `-` (postmap -d). Neither touches the text file, as with
 *      Postfix: the next build from it undoes them. Both write the whole
 *      table anew beside the old one and rename it into place (daemons
 *      read tables without locks, so nothing is changed under them); two
 *      edits of one table wait for each other on FILE.lock. LMDB-backed
 *      types (lmdb, hash, btree) only.
 *
 *      A bare FILE means $default_database_type:FILE (main.cf of -c
 *      config_dir, $MAIL_CONFIG or the built-in folder; without a main.cf,
 *      the built-in default lmdb). main.cf is only read for a bare FILE, so
 *      TYPE:FILE works on any machine, configured or not.
 * SECURITY
 *      Runs with the rights of its user. The database is created in the
 *      folder of its source file without following links; when root builds
 *      it, it gets the owner and group of the source file (as postmap does
 *      when it drops to the source file's owner).
 * DIAGNOSTICS
 *      build: exit 0 on success, 1 on failure.
 *      query: exit 0 when found (for `-`: when any key was found), 1 when
 *      not found, 2 when the table could not be opened or read (the answer
 *      is unknown; a daemon would defer mail), 2 on usage errors.
 *      delete: 0 when a key was there, 1 when none was; add, dump: 0;
 *      2 on errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dict.h"
#include "mem.h"
#include "msg.h"
#include "surel.h"

#define MAP_EXIT_FOUND      0
#define MAP_EXIT_NOTFOUND   1
#define MAP_EXIT_ERROR      2
#define MAP_KEY_MAX         (64 * 1024)         /* one key from stdin */

/* map_usage - say how, exit 2 */
static void __attribute__((noreturn)) map_usage(void)
{
    fprintf(stderr, "usage: surel map build [-a] [TYPE:]FILE ...\n"
            "       surel map query [TYPE:]FILE KEY|-\n"
            "       surel map dump [TYPE:]FILE ...\n"
            "       surel map add [TYPE:]FILE        (entries on stdin)\n"
            "       surel map delete [TYPE:]FILE KEY|-\n");
    exit(MAP_EXIT_ERROR);
}

/* map_default_type - $default_database_type, from main.cf when there is one */
static const char *map_default_type(void)
{
    static int loaded;
    const char *dir;
    BUF    *path;
    BUF    *why;

    if (!loaded) {
        loaded = 1;
        dir = config_choose_dir(surel_config_dir);
        path = buf_alloc(100);
        why = buf_alloc(100);
        buf_printf(path, "%s/main.cf", dir);
        /* No main.cf: an unconfigured machine; the built-in default holds. */
        if (access(buf_str(path), F_OK) == 0 && config_read_file(buf_str(path), why) < 0)
            msg_fatal("%s", buf_str(why));
        buf_free(path);
        buf_free(why);
    }
    return config_str(P_default_database_type);
}

/* map_type_name - TYPE:FILE as given, or the default type for a bare FILE */
static char *map_type_name(const char *arg)
{
    BUF    *name = buf_alloc(strlen(arg) + 16);

    if (strchr(arg, ':') == NULL)
        buf_printf(name, "%s:%s", map_default_type(), arg);
    else
        buf_puts(name, arg);
    return buf_steal(name);
}

/* map_build - surel map build [-a] TABLE... */
static int map_build(int argc, char **argv)
{
    BUF    *why = buf_alloc(100);
    char   *name;
    int     aliases = 0;
    int     ch;
    int     ret = 0;

    optind = 0;                         /* glibc: start afresh */
    while ((ch = getopt(argc, argv, "a")) != -1) {
        if (ch == 'a')
            aliases = 1;
        else
            map_usage();
    }
    if (optind >= argc)
        map_usage();
    for (; optind < argc && ret == 0; optind++) {
        name = map_type_name(argv[optind]);
        if ((aliases ? dict_build_aliases(name, why) : dict_build(name, why)) < 0) {
            msg_warn("cannot build %s: %s", name, buf_str(why));
            ret = 1;
        }
        xfree(name);
    }
    buf_free(why);
    return ret;
}

/* map_query_stdin - look up each line of stdin; print the ones found */
static int map_query_stdin(DICT *dict, BUF *result, BUF *why)
{
    BUF    *key = buf_alloc(256);
    int     ret = MAP_EXIT_NOTFOUND;
    int     ch;
    int     eof = 0;

    while (!eof && ret != MAP_EXIT_ERROR) {
        buf_reset(key);
        while ((ch = getchar()) != EOF && ch != '\n')
            if (buf_len(key) < MAP_KEY_MAX)
                buf_putc(key, ch);
        eof = (ch == EOF);
        if (buf_len(key) == 0)
            continue;
        switch (dict_lookup(dict, buf_str(key), result, why)) {
        case DICT_FOUND:
            printf("%s\t%s\n", buf_str(key), buf_str(result));
            ret = MAP_EXIT_FOUND;
            break;
        case DICT_NOTFOUND:
            break;
        case DICT_TRYLATER:
            msg_warn("%s:%s: lookup of \"%s\" failed: %s", dict->type->name,
                     dict->name, buf_str(key), buf_str(why));
            ret = MAP_EXIT_ERROR;
            break;
        }
    }
    buf_free(key);
    return ret;
}

/* map_query - surel map query TABLE KEY|- */
static int map_query(int argc, char **argv)
{
    BUF    *why = buf_alloc(100);
    BUF    *result = buf_alloc(100);
    char   *name;
    DICT   *dict;
    int     ret = MAP_EXIT_ERROR;

    if (argc != 3)
        map_usage();
    name = map_type_name(argv[1]);
    if ((dict = dict_open(name, 0, why)) == NULL) {
        msg_warn("%s", buf_str(why));
    } else if (strcmp(argv[2], "-") == 0) {
        ret = map_query_stdin(dict, result, why);
    } else {
        switch (dict_lookup(dict, argv[2], result, why)) {
        case DICT_FOUND:
            printf("%s\n", buf_str(result));
            ret = MAP_EXIT_FOUND;
            break;
        case DICT_NOTFOUND:
            ret = MAP_EXIT_NOTFOUND;
            break;
        case DICT_TRYLATER:
            msg_warn("%s: lookup failed: %s", name, buf_str(why));
            break;
        }
    }
    if (fflush(stdout) != 0)
        ret = MAP_EXIT_ERROR;
    dict_close(dict);
    xfree(name);
    buf_free(why);
    buf_free(result);
    return ret;
}

/* map_print_entry - one "key<TAB>value" line (a DICT_TEXT_FN) */
static int map_print_entry(const char *key, const char *value, int lineno, void *ctx)
{
    (void) lineno;
    (void) ctx;
    return printf("%s\t%s\n", key, value) < 0 ? -1 : 0;
}

/* map_dump - surel map dump TABLE... (postmap -s) */
static int map_dump(int argc, char **argv)
{
    BUF    *why = buf_alloc(100);
    char   *name;
    int     ret = 0;
    int     i;

    if (argc < 2)
        map_usage();
    for (i = 1; i < argc && ret == 0; i++) {
        name = map_type_name(argv[i]);
        if (dict_dump(name, map_print_entry, NULL, why) < 0) {
            msg_warn("cannot list %s: %s", name, buf_str(why));
            ret = MAP_EXIT_ERROR;
        }
        xfree(name);
    }
    if (fflush(stdout) != 0)
        ret = MAP_EXIT_ERROR;
    buf_free(why);
    return ret;
}

/* map_read_line - one line of stdin (bounded), without its newline; 0 at EOF */
static int map_read_line(BUF *line)
{
    int     ch;

    buf_reset(line);
    while ((ch = getchar()) != EOF && ch != '\n')
        if (buf_len(line) < MAP_KEY_MAX)
            buf_putc(line, ch);
    return ch != EOF || buf_len(line) > 0;
}

/* What map add and map delete collect before the one rewrite. */
typedef struct MAP_LIST {
    char  **items;
    size_t  count;
    size_t  size;
} MAP_LIST;

static void map_list_add(MAP_LIST *l, const char *item)
{
    if (l->count == l->size) {
        l->size = l->size ? 2 * l->size : 16;
        l->items = xreallocarray(l->items, l->size, sizeof(*l->items));
    }
    l->items[l->count++] = xstrdup(item);
}

static void map_list_free(MAP_LIST *l)
{
    while (l->count > 0)
        xfree(l->items[--l->count]);
    xfree(l->items);
}

/* map_add_entry - collect one "key value" line of the postmap format */
static int map_add_entry(const char *key, const char *value, int lineno, void *ctx)
{
    MAP_LIST *pair = ctx;

    (void) lineno;
    map_list_add(&pair[0], key);
    map_list_add(&pair[1], value);
    return 0;
}

/* map_edit - surel map add TABLE (entries from stdin; postmap -i) and
 * surel map delete TABLE KEY|- (postmap -d) */
static int map_edit(int argc, char **argv, int add)
{
    BUF    *why = buf_alloc(100);
    BUF    *line = buf_alloc(100);
    MAP_LIST pair[2] = {{NULL, 0, 0}, {NULL, 0, 0}};
    MAP_LIST keys = {NULL, 0, 0};
    DICT_EDIT edit;
    DICT   *dict = NULL;
    BUF    *result = buf_alloc(100);
    char   *name;
    size_t  i;
    int     found = 0;
    int     ret = MAP_EXIT_ERROR;

    if (add ? argc != 2 : argc != 3)
        map_usage();
    name = map_type_name(argv[1]);
    memset(&edit, 0, sizeof(edit));
    if (add) {
        /* The postmap source format, from standard input. */
        if (dict_read_text_file("/dev/stdin", map_add_entry, pair, why) < 0)
            goto done;
        edit.add_keys = (const char *const *) pair[0].items;
        edit.add_values = (const char *const *) pair[1].items;
        edit.nadd = pair[0].count;
    } else {
        if (strcmp(argv[2], "-") == 0) {
            while (map_read_line(line))
                if (buf_len(line) > 0)
                    map_list_add(&keys, buf_str(line));
        } else {
            map_list_add(&keys, argv[2]);
        }
        /* The exit status says whether a key was there, as postmap -d. */
        if ((dict = dict_open(name, 0, why)) == NULL)
            goto done;
        for (i = 0; i < keys.count; i++)
            if (dict_lookup(dict, keys.items[i], result, why) == DICT_FOUND)
                found = 1;
        edit.delete = (const char *const *) keys.items;
        edit.ndelete = keys.count;
    }
    if (dict_edit(name, &edit, why) == 0)
        ret = add || found ? MAP_EXIT_FOUND : MAP_EXIT_NOTFOUND;

done:
    if (ret == MAP_EXIT_ERROR)
        msg_warn("cannot change %s: %s", name, buf_str(why));
    if (dict)
        dict_close(dict);
    map_list_free(&pair[0]);
    map_list_free(&pair[1]);
    map_list_free(&keys);
    xfree(name);
    buf_free(why);
    buf_free(line);
    buf_free(result);
    return ret;
}

/* surel_map_main - surel map build|query */
int     surel_map_main(int argc, char **argv)
{
    if (argc < 2)
        map_usage();
    if (strcmp(argv[1], "build") == 0)
        return map_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "query") == 0)
        return map_query(argc - 1, argv + 1);
    if (strcmp(argv[1], "dump") == 0)
        return map_dump(argc - 1, argv + 1);
    if (strcmp(argv[1], "add") == 0)
        return map_edit(argc - 1, argv + 1, 1);
    if (strcmp(argv[1], "delete") == 0)
        return map_edit(argc - 1, argv + 1, 0);
    msg_warn("unknown map command \"%s\"", argv[1]);
    map_usage();
}
