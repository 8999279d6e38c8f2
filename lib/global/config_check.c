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
        /* Postfix's transport_time_limit: <service>_time_limit overrides
         * command_time_limit (pipe reads it), not <service>_command_time_limit. */
        if (!found && strcmp(name + slen, "_time_limit") == 0)
            found = &config_table[P_command_time_limit];
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

/* config_list_norm - a list value with one ", " between items, for comparing */
static void config_list_norm(const char *text, BUF *out)
{
    int     count;
    char  **list = config_split_list(text, &count);
    int     i;

    buf_reset(out);
    for (i = 0; i < count; i++)
        buf_printf(out, "%s%s", i ? ", " : "", list[i]);
    config_free_list(list);
}

/* config_same_value - does an expanded value mean what as_if means? */
static int config_same_value(const PARAM_INFO *info, const char *value)
{
    BUF    *a;
    BUF    *b;
    long    na;
    long    nb;
    int     ba;
    int     bb;
    int     same;

    switch (info->type) {
    case PARAM_TYPE_BOOL:
        return config_parse_bool(value, &ba) == 0 && config_parse_bool(info->as_if, &bb) == 0
            && ba == bb;
    case PARAM_TYPE_INT:
    case PARAM_TYPE_TIME:
        return config_check_number(info->name, value, info, &na, NULL) == 0
            && config_check_number(info->name, info->as_if, info, &nb, NULL) == 0
            && na == nb;
    default:
        a = buf_alloc(64);
        b = buf_alloc(64);
        config_list_norm(value, a);
        config_list_norm(info->as_if, b);
        same = strcmp(buf_str(a), buf_str(b)) == 0;
        buf_free(a);
        buf_free(b);
        return same;
    }
}

/* config_ignored_value - is value one that surel, not implementing name, ignores? */
PARAM_IMPL config_ignored_value(const char *name, const char *value)
{
    const PARAM_INFO *info = config_param_by_name(name);
    BUF    *expanded;
    BUF    *why;
    PARAM_IMPL impl;

    if (info == NULL || info->impl == PARAM_IMPL_YES || strcmp(info->as_if, "*") == 0)
        return PARAM_IMPL_YES;
    expanded = buf_alloc(64);
    why = buf_alloc(64);
    /* A value that does not expand is certainly not the one surel behaves as. */
    if (info->type != PARAM_TYPE_RAW && config_expand(value, expanded, why) == 0)
        value = buf_str(expanded);
    impl = config_same_value(info, value) ? PARAM_IMPL_YES : info->impl;
    buf_free(expanded);
    buf_free(why);
    return impl;
}

/* config_warn_ignored - the one warning text for an ignored setting */
static void config_warn_ignored(const char *where, const PARAM_INFO *info,
                                const char *value, PARAM_IMPL impl)
{
    if (impl == PARAM_IMPL_SECURITY)
        msg_warn("%s: parameter %s is not implemented and is ignored: SECURITY: "
                 "\"%s = %s\" does not take effect, surel behaves as \"%s\"",
                 where, info->name, info->name, value, info->as_if);
    else
        msg_warn("%s: parameter %s is not implemented and is ignored "
                 "(set to \"%s\"; surel behaves as \"%s\")", where, info->name, value,
                 info->as_if);
}

/* config_warn_compat - a compatibility_level whose old defaults surel lacks.
 * Postfix keeps pre-3.0 defaults (append_dot_mydomain = yes, chroot, relay
 * for $mydestination, mynetworks_style = subnet, smtputf8_enable = no) for
 * levels below 2; from 2 on its defaults are those surel has for every
 * feature surel implements (3.6 changed only TLS fingerprint digests and
 * respectful_logging), so Debian's "compatibility_level = 3.6" is silent. */
static int config_warn_compat(const char *where)
{
    const char *level = config_str(P_compatibility_level);
    char   *end;
    long    major = strtol(level, &end, 10);

    if (end != level && major >= 2)
        return 0;
    msg_warn("%s: compatibility_level = %s is not implemented: surel keeps the defaults "
             "of level 2 and later (append_dot_mydomain = no, mynetworks_style = host, "
             "relay_domains empty, smtputf8_enable = yes); set them explicitly if you need "
             "the old ones", where, level);
    return 1;
}

/* config_warn_unimplemented - warn once per ignored main.cf or -o setting */
int config_warn_unimplemented(const char *where, int *security)
{
    int     id;
    int     warned = 0;
    PARAM_IMPL impl;

    config_boot();
    if (security)
        *security = 0;
    if (where == NULL)
        where = config_path ? config_path : "main.cf";
    for (id = 0; id < PARAM_COUNT; id++) {
        CONFIG_ENT *ent = config_by_id[id];
        const char *raw = ent->override_value ? ent->override_value : ent->file_value;

        if (config_table[id].impl == PARAM_IMPL_YES || raw == NULL)
            continue;
        if ((impl = config_ignored_value(ent->name, raw)) == PARAM_IMPL_YES)
            continue;
        config_warn_ignored(where, &config_table[id], raw, impl);
        warned++;
        if (security && impl == PARAM_IMPL_SECURITY)
            (*security)++;
    }
    return warned + config_warn_compat(where);
}

/* config_warn_unimplemented_arg - the same for one -o name=value */
PARAM_IMPL config_warn_unimplemented_arg(const char *where, const char *name_eq_value)
{
    const char *eq = strchr(name_eq_value, '=');
    const PARAM_INFO *info;
    BUF    *name;
    const char *value;
    PARAM_IMPL impl = PARAM_IMPL_YES;

    if (eq == NULL)
        return PARAM_IMPL_YES;
    name = buf_alloc(64);
    buf_sprintf(name, "%.*s", (int) (eq - name_eq_value), name_eq_value);
    value = eq + 1;
    while (config_ws((unsigned char) *value))
        value++;
    info = config_param_by_name(buf_str(name));
    if (info != NULL && (impl = config_ignored_value(info->name, value)) != PARAM_IMPL_YES)
        config_warn_ignored(where, info, value, impl);
    buf_free(name);
    return impl;
}
