/*
 * NAME
 *      surel map - build and query lookup tables (Postfix's postmap and postalias)
 * SYNOPSIS
 *      surel map build [-a] [TYPE:]FILE ...
 *      surel map query [TYPE:]FILE KEY
 *      surel map query [TYPE:]FILE -
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
            "       surel map query [TYPE:]FILE KEY|-\n");
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

/* surel_map_main - surel map build|query */
int     surel_map_main(int argc, char **argv)
{
    if (argc < 2)
        map_usage();
    if (strcmp(argv[1], "build") == 0)
        return map_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "query") == 0)
        return map_query(argc - 1, argv + 1);
    msg_warn("unknown map command \"%s\"", argv[1]);
    map_usage();
}
