/* local_alias - the alias tables ($alias_maps), each with its owner.
 *
 * Postfix runs |command and /file destinations of an alias with the rights
 * of the user who owns the alias table; a table owned by root gets
 * $default_privs instead, never root. MAPS answers a lookup but does not
 * say which table answered, so each table is opened as a list of one and
 * asked in turn here, with MAPS's rule: the first table that finds the key
 * wins, and a table that cannot answer before it defers the mail.
 * A table that cannot be opened right now answers "try later" (maps_open
 * keeps a stand-in for it), so mail waits for the table instead of bouncing.
 */
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "local.h"
#include "mem.h"
#include "msg.h"

#define LOCAL_ALIAS_TABLES_MAX  32

/* One table of $alias_maps. */
typedef struct LOCAL_ALIAS_TABLE {
    char   *name;                   /* type:name as configured */
    MAPS   *maps;                   /* a list of this one table */
} LOCAL_ALIAS_TABLE;

static LOCAL_ALIAS_TABLE local_alias_tables[LOCAL_ALIAS_TABLES_MAX];
static int local_alias_count;

/* local_alias_open - open every table of list; -1 with why for a bad list */
int     local_alias_open(const char *list, BUF *why)
{
    const char *cp = list;
    char   *item;

    local_alias_close();
    buf_reset(why);
    while ((item = dict_split_item(&cp, why)) != NULL) {
        if (local_alias_count >= LOCAL_ALIAS_TABLES_MAX) {
            buf_sprintf(why, "alias_maps: more than %d tables", LOCAL_ALIAS_TABLES_MAX);
            xfree(item);
            break;
        }
        if ((local_alias_tables[local_alias_count].maps = maps_open(item, 0, why)) == NULL) {
            xfree(item);
            break;
        }
        local_alias_tables[local_alias_count++].name = item;
    }
    if (buf_len(why) > 0) {
        local_alias_close();
        return -1;
    }
    return 0;
}

/* local_alias_owner - who owns the file behind type:name (root for no file) */
static uid_t local_alias_owner(const char *type_name)
{
    BUF    *path = buf_alloc(100);
    struct stat st;
    uid_t   owner = 0;

    if (dict_data_file(type_name, path) == 0 && stat(buf_str(path), &st) == 0)
        owner = st.st_uid;
    buf_free(path);
    return owner;
}

/* local_alias_find - look name up; FOUND fills value and the table's owner */
DICT_STATUS local_alias_find(const char *name, BUF *value, uid_t *owner, BUF *why)
{
    DICT_STATUS status;
    int     i;

    for (i = 0; i < local_alias_count; i++) {
        status = maps_find(local_alias_tables[i].maps, name, value, why);
        if (status == DICT_FOUND) {
            *owner = local_alias_owner(local_alias_tables[i].name);
            return DICT_FOUND;
        }
        if (status == DICT_TRYLATER)
            return DICT_TRYLATER;
    }
    return DICT_NOTFOUND;
}

/* local_alias_close - close every table */
void    local_alias_close(void)
{
    int     i;

    for (i = 0; i < local_alias_count; i++) {
        maps_close(local_alias_tables[i].maps);
        xfree(local_alias_tables[i].name);
    }
    memset(local_alias_tables, 0, sizeof(local_alias_tables));
    local_alias_count = 0;
}
