/* surel_check_tables - the tables main.cf names, for `surel check`.
 *
 * A daemon never dies of a table it cannot use: it runs and defers the
 * mail that needs the table (lib/util/dict.c, stand-in tables). So the
 * administrator learns of such a table here, before the mail waits:
 *
 *   - a table of a type surel does not have (cdb:, mysql:, ...);
 *   - a table whose file was never built (hash:/etc/aliases before
 *     newaliases): "run surel map build";
 *   - a chrooted service in master.cf while main.cf uses unix: tables
 *     (local_recipient_maps' default) and master.cf has no proxymap
 *     service: chrooted daemons look unix: tables up through proxymap.
 *
 * Tables are the items of the parameters that take them (names ending in
 * _maps or _checks, the smtpd_*_restrictions lists, alias_database,
 * mynetworks and the domain lists): every item that reads TYPE:NAME with
 * a lower-case type. proxy:TYPE:NAME is checked as TYPE:NAME. The item
 * after check_policy_service is a socket, not a table.
 */
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "surel_check.h"

/* Parameters that take tables besides *_maps, *_checks and *_restrictions. */
static const char *const table_params[] = {
    "alias_database", "mynetworks", "mydestination", "relay_domains",
    "virtual_alias_domains", "virtual_mailbox_domains", NULL,
};

/* takes_tables - does this parameter's value list tables? */
static int takes_tables(const char *name)
{
    size_t  len = strlen(name);
    int     i;

    if ((len > 5 && strcmp(name + len - 5, "_maps") == 0)
        || (len > 7 && strcmp(name + len - 7, "_checks") == 0)
        || (len > 13 && strcmp(name + len - 13, "_restrictions") == 0))
        return 1;
    for (i = 0; table_params[i]; i++)
        if (strcmp(name, table_params[i]) == 0)
            return 1;
    return 0;
}

/* table_like - TYPE:NAME with a lower-case alphanumeric type */
static int table_like(const char *item)
{
    const char *cp = item;

    if (*cp < 'a' || *cp > 'z')
        return 0;
    while ((*cp >= 'a' && *cp <= 'z') || (*cp >= '0' && *cp <= '9'))
        cp++;
    return *cp == ':' && cp[1] != 0;
}

/* check_one_table - a known type and, for file tables, a built file */
static int check_one_table(const char *param, const char *table, int *uses_unix)
{
    BUF    *why = buf_alloc(100);
    BUF    *path = buf_alloc(100);
    struct stat st;
    int     problems = 0;

    if (strncmp(table, "proxy:", 6) == 0 && table_like(table + 6))
        table += 6;
    if (strncmp(table, "unix:", 5) == 0)
        *uses_unix = 1;
    if (dict_type_check(table, why) < 0) {
        msg_warn("%s: %s", param, buf_str(why));
        problems = 1;
    } else if (dict_data_file(table, path) == 0 && stat(buf_str(path), &st) < 0) {
        msg_warn("%s: table %s has no %s; run surel map build %s (or postmap,"
                 " newaliases for aliases)", param, table, buf_str(path), table);
        problems = 1;
    }
    buf_free(why);
    buf_free(path);
    return problems;
}

/* check_param_tables - every table item of one parameter */
static int check_param_tables(const char *param, const char *value, int *uses_unix)
{
    char  **items;
    int     count;
    int     problems = 0;
    int     i;

    items = config_split_list(value, &count);
    for (i = 0; i < count; i++) {
        if (strcmp(items[i], "check_policy_service") == 0) {
            i++;                        /* its socket is no table */
            continue;
        }
        if (table_like(items[i]))
            problems += check_one_table(param, items[i], uses_unix);
    }
    config_free_list(items);
    return problems;
}

/* check_chroot_proxy - chrooted services need proxymap for unix: tables */
static int check_chroot_proxy(const MASTER_CF *cf)
{
    const char *chrooted = NULL;
    int     have_proxymap = 0;
    int     i;

    /* Lookups go to the socket of the service named proxymap (Debian's
     * proxywrite runs the same program under another name: not that one). */
    for (i = 0; i < cf->count; i++) {
        if (strcmp(cf->ents[i].name, "proxymap") == 0 && cf->ents[i].type == MASTER_UNIX)
            have_proxymap = 1;
        else if (cf->ents[i].chroot && chrooted == NULL)
            chrooted = cf->ents[i].name;
    }
    if (chrooted == NULL || have_proxymap)
        return 0;
    msg_warn("master.cf: service %s is chrooted and main.cf uses unix: tables,"
             " which a chrooted daemon looks up through proxymap: add"
             " \"proxymap unix - - n - - proxymap\" to master.cf", chrooted);
    return 1;
}

/* check_tables - see above; cf may be NULL (master.cf did not parse) */
int     check_tables(const MASTER_CF *cf)
{
    const PARAM_INFO *info;
    int     uses_unix = 0;
    int     problems = 0;
    int     id;

    for (id = 0; id < PARAM_COUNT; id++) {
        info = config_param_info((PARAM_ID) id);
        /* proxy_read_maps only repeats the other parameters' tables. */
        if (info->type != PARAM_TYPE_STR || !takes_tables(info->name)
            || strcmp(info->name, "proxy_read_maps") == 0)
            continue;
        problems += check_param_tables(info->name, config_str((PARAM_ID) id), &uses_unix);
    }
    if (uses_unix && cf != NULL)
        problems += check_chroot_proxy(cf);
    return problems;
}
