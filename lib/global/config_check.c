/* config_check - the parameter table, checks and listing.
 *
 * What `surel conf` and `surel check` need besides values: the table entry
 * of a name, which names are known (in the table, <service>_<parameter>
 * for a master.cf service, or used as $name by some value), a warning per
 * main.cf name nobody uses (never fatal, as in Postfix), a validation of
 * every value, and a sorted walk over what main.cf and -o set.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "mem.h"
#include "msg.h"

/* config_param_info - the table entry of a parameter, or NULL */
const PARAM_INFO *config_param_info(PARAM_ID id)
{
    if ((int) id < 0 || id >= PARAM_COUNT)
        return NULL;
    return &config_table[id];
}

/* config_param_by_name - the table entry of a name, or NULL outside the table */
const PARAM_INFO *config_param_by_name(const char *name)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_find_len(name, strlen(name));
    return ent && ent->id >= 0 ? &config_table[ent->id] : NULL;
}

/* config_service_param - the table parameter that <service>_<x> stands for */
const PARAM_INFO *config_service_param(const char *name, const char *const *services,
                                       int nservices)
{
    const PARAM_INFO *found = NULL;
    BUF    *cand = buf_alloc(64);
    int     s;
    int     id;

    for (s = 0; s < nservices && !found; s++) {
        size_t  slen = strlen(services[s]);

        if (strncmp(name, services[s], slen) != 0 || name[slen] != '_')
            continue;
        for (id = 0; id < PARAM_COUNT && !found; id++) {
            config_service_name(cand, services[s], config_table[id].name);
            if (strcmp(buf_str(cand), name) == 0)
                found = &config_table[id];
        }
    }
    buf_free(cand);
    return found;
}

/* config_mentions - does some raw value refer to $name (${name...}, $(name...))? */
static int config_mentions(const char *text, const char *name)
{
    size_t  nlen = strlen(name);
    const char *cp;

    for (cp = strchr(text, '$'); cp; cp = strchr(cp, '$')) {
        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{' || *cp == '(')
            cp++;
        if (strncmp(cp, name, nlen) == 0 && !config_name_char((unsigned char) cp[nlen]))
            return 1;
    }
    return 0;
}

/* config_referenced - is name used as $name by any value or default? */
static int config_referenced(const char *name, CONFIG_ENT **list, size_t count)
{
    size_t  i;
    int     id;

    for (i = 0; i < count; i++) {
        if (list[i]->id >= 0 && config_table[list[i]->id].type == PARAM_TYPE_RAW)
            continue;                   /* its $names are not parameters */
        if ((list[i]->file_value && config_mentions(list[i]->file_value, name))
            || (list[i]->override_value && config_mentions(list[i]->override_value, name)))
            return 1;
    }
    for (id = 0; id < PARAM_COUNT; id++)
        if (config_table[id].type != PARAM_TYPE_RAW && config_mentions(config_table[id].def, name))
            return 1;
    return 0;
}

/* config_known - in the table, <service>_<param>, or used as $name elsewhere */
int config_known(const char *name, const char *const *services, int nservices)
{
    CONFIG_ENT **list;
    size_t  count;
    int     known;

    if (config_param_by_name(name) || config_service_param(name, services, nservices))
        return 1;
    list = config_sorted(&count);
    known = config_referenced(name, list, count);
    xfree(list);
    return known;
}

/* config_warn_unknown - warn once per main.cf name nobody uses; never fatal */
int config_warn_unknown(const char *const *services, int nservices)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     warned = 0;

    config_boot();
    list = config_sorted(&count);
    for (i = 0; i < count; i++) {
        CONFIG_ENT *ent = list[i];

        if (ent->id >= 0 || ent->file_value == NULL)
            continue;
        if (config_service_param(ent->name, services, nservices)
            || config_referenced(ent->name, list, count))
            continue;
        msg_warn("%s: unused parameter: %s=%s", config_path ? config_path : "main.cf",
                 ent->name, ent->file_value);
        warned++;
    }
    xfree(list);
    return warned;
}

/* config_validate - every table parameter and every set value evaluates */
int config_validate(BUF *why)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     id;
    int     status = 0;

    config_boot();
    for (id = 0; id < PARAM_COUNT && status == 0; id++)
        status = config_check_param((PARAM_ID) id, NULL, NULL, why);
    list = config_sorted(&count);
    for (i = 0; i < count && status == 0; i++)
        if (list[i]->id < 0 && config_eval(list[i], why) == NULL)
            status = -1;
    xfree(list);
    return status;
}

/* config_each_set - call fn for each name set in main.cf or by -o, sorted */
int config_each_set(void (*fn)(const char *name, const char *raw, void *ctx), void *ctx)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     n = 0;

    config_boot();
    list = config_sorted(&count);
    for (i = 0; i < count; i++) {
        CONFIG_ENT *ent = list[i];
        const char *raw = ent->override_value ? ent->override_value : ent->file_value;

        if (raw != NULL) {
            fn(ent->name, raw, ctx);
            n++;
        }
    }
    xfree(list);
    return n;
}
