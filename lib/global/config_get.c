/* config_get - typed, expanded values: the getters daemons call.
 *
 * config_str/int/bool/time check the parameter's type (a mismatch is our
 * bug: panic) and its value (a bad value is the administrator's: fatal,
 * since a daemon cannot run on a configuration it cannot read). Numbers
 * are checked against the table's bounds; TIME values take the unit of
 * their default when none is given, as in Postfix. Names outside the table
 * (<service>_<parameter>) are reached through config_lookup/config_int_for.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "mem.h"
#include "msg.h"

/* config_parse_bool - yes or no, in any case, as Postfix accepts */
int config_parse_bool(const char *text, int *value)
{
    if (strcasecmp(text, "yes") == 0)
        *value = 1;
    else if (strcasecmp(text, "no") == 0)
        *value = 0;
    else
        return -1;
    return 0;
}

/* config_parse_long - a whole decimal number, optional sign */
static int config_parse_long(const char *text, long *value)
{
    char   *end;
    long    v;

    if (*text == 0 || config_ws((unsigned char) *text))
        return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != 0)
        return -1;
    *value = v;
    return 0;
}

/* config_parse_time - number with optional unit s, m, h, d, w; bare takes default_unit */
int config_parse_time(const char *text, char default_unit, long *seconds)
{
    long    n = 0;
    long    mult;
    const char *cp = text;
    char    unit;

    if (*cp < '0' || *cp > '9')
        return -1;
    for (; *cp >= '0' && *cp <= '9'; cp++) {
        if (n > (LONG_MAX - (*cp - '0')) / 10)
            return -1;
        n = n * 10 + (*cp - '0');
    }
    unit = *cp ? *cp++ : default_unit;
    if (*cp != 0)
        return -1;
    switch (unit) {
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 604800;
        break;
    default:
        return -1;
    }
    if (n > LONG_MAX / mult)
        return -1;
    *seconds = n * mult;
    return 0;
}

/* config_default_unit - the unit of a TIME default ("5d" gives 'd') */
static char config_default_unit(const PARAM_INFO *info)
{
    size_t  len = strlen(info->def);

    if (len > 0 && info->def[len - 1] >= 'a' && info->def[len - 1] <= 'z')
        return info->def[len - 1];
    return 's';
}

/* config_check_number - parse an INT or TIME value with info's bounds */
int config_check_number(const char *name, const char *value, const PARAM_INFO *info,
                               long *result, BUF *why)
{
    long    v;

    if (info->type == PARAM_TYPE_TIME) {
        if (config_parse_time(value, config_default_unit(info), &v) < 0) {
            if (why)
                buf_sprintf(why, "parameter %s: bad time value or unit: %s", name, value);
            return -1;
        }
    } else if (config_parse_long(value, &v) < 0) {
        if (why)
            buf_sprintf(why, "bad numerical configuration: %s = %s", name, value);
        return -1;
    }
    /* min is always checked (no parameter means anything below 0); max 0
     * means no upper bound. */
    if (v < info->min) {
        if (why)
            buf_sprintf(why, "invalid %s parameter value %s (less than %ld)",
                        name, value, info->min);
        return -1;
    }
    if (info->max != 0 && v > info->max) {
        if (why)
            buf_sprintf(why, "invalid %s parameter value %s (more than %ld)",
                        name, value, info->max);
        return -1;
    }
    *result = v;
    return 0;
}

/* config_check_param - evaluate one table parameter by its type */
int config_check_param(PARAM_ID id, const char **str, long *num, BUF *why)
{
    const PARAM_INFO *info = &config_table[id];
    const char *value;
    int     b;

    config_boot();
    if ((value = config_eval(config_by_id[id], why)) == NULL)
        return -1;
    if (str)
        *str = value;
    switch (info->type) {
    case PARAM_TYPE_STR:
    case PARAM_TYPE_RAW:
        return 0;
    case PARAM_TYPE_BOOL:
        if (config_parse_bool(value, &b) < 0) {
            if (why)
                buf_sprintf(why, "bad boolean configuration: %s = %s", info->name, value);
            return -1;
        }
        if (num)
            *num = b;
        return 0;
    default:
        return config_check_number(info->name, value, info, num ? num : &(long) {0}, why);
    }
}

/* config_get - one typed getter; fatal on a bad value */
static long config_get(PARAM_ID id, PARAM_TYPE type, const char **str, const char *caller)
{
    BUF    *why;
    long    num = 0;

    if ((int) id < 0 || id >= PARAM_COUNT)
        msg_panic("%s: bad parameter id %d", caller, (int) id);
    if (config_table[id].type != type
        && !(type == PARAM_TYPE_STR && config_table[id].type == PARAM_TYPE_RAW))
        msg_panic("%s: parameter %s has another type", caller, config_table[id].name);
    why = buf_alloc(100);
    if (config_check_param(id, str, &num, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    return num;
}

/* config_str - expanded value of a STR or RAW parameter */
const char *config_str(PARAM_ID id)
{
    const char *str = NULL;

    (void) config_get(id, PARAM_TYPE_STR, &str, "config_str");
    return str;
}

/* config_int - an INT parameter, bounds checked */
long config_int(PARAM_ID id)
{
    return config_get(id, PARAM_TYPE_INT, NULL, "config_int");
}

/* config_bool - a BOOL parameter: 1 or 0 */
int config_bool(PARAM_ID id)
{
    return (int) config_get(id, PARAM_TYPE_BOOL, NULL, "config_bool");
}

/* config_time - a TIME parameter in seconds, bounds checked */
long config_time(PARAM_ID id)
{
    return config_get(id, PARAM_TYPE_TIME, NULL, "config_time");
}

/* ---------------------------------------------------------------------------
 * Names outside the table.
 */

/* config_lookup - expanded value of any name; NULL if unset and not in the table */
const char *config_lookup(const char *name)
{
    CONFIG_ENT *ent;
    const char *value;
    BUF    *why;

    config_boot();
    ent = config_find_len(name, strlen(name));
    if (ent == NULL || (ent->id < 0 && !ent->file_value && !ent->override_value))
        return NULL;
    why = buf_alloc(100);
    if ((value = config_eval(ent, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    return value;
}

/* config_raw - unexpanded value (table default if unset), or NULL */
const char *config_raw(const char *name)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_find_len(name, strlen(name));
    if (ent == NULL)
        return NULL;
    if (ent->override_value)
        return ent->override_value;
    if (ent->file_value)
        return ent->file_value;
    if (ent->id < 0)
        return NULL;
    if (config_computed(ent->id))
        return config_lookup(name);
    return config_table[ent->id].def;
}

/* config_is_set - set in main.cf or by -o */
int config_is_set(const char *name)
{
    CONFIG_ENT *ent = config_find_len(name, strlen(name));

    return ent != NULL && (ent->file_value != NULL || ent->override_value != NULL);
}

/* config_service_name - "<service>_<param>", with "default_" replaced by the service */
void config_service_name(BUF *out, const char *service, const char *param)
{
    if (strncmp(param, "default_", 8) == 0)
        buf_sprintf(out, "%s_%s", service, param + 8);
    else
        buf_sprintf(out, "%s_%s", service, param);
}

/* config_number_for - service_param if set (or in the table), else param;
 * an INT or a TIME (seconds), as type says */
static long config_number_for(const char *service, PARAM_ID fallback, PARAM_TYPE type,
                              const char *caller)
{
    const PARAM_INFO *info;
    CONFIG_ENT *ent;
    BUF    *name;
    BUF    *why;
    const char *value;
    long    v = 0;

    config_boot();
    if ((int) fallback < 0 || fallback >= PARAM_COUNT || config_table[fallback].type != type)
        msg_panic("%s: bad parameter id %d", caller, (int) fallback);
    info = &config_table[fallback];
    name = buf_alloc(64);
    config_service_name(name, service, info->name);
    ent = config_find_len(buf_str(name), buf_len(name));
    if (ent != NULL && ent->id >= 0 && config_table[ent->id].type == type) {
        v = config_get((PARAM_ID) ent->id, type, NULL, caller);
    } else if (ent != NULL && (ent->file_value || ent->override_value)) {
        why = buf_alloc(100);
        if ((value = config_eval(ent, why)) == NULL
            || config_check_number(ent->name, value, info, &v, why) < 0)
            msg_fatal("%s", buf_str(why));
        buf_free(why);
    } else {
        v = config_get(fallback, type, NULL, caller);
    }
    buf_free(name);
    return v;
}

/* config_int_for - service_param if set (or in the table), else param */
long config_int_for(const char *service, PARAM_ID fallback)
{
    return config_number_for(service, fallback, PARAM_TYPE_INT, "config_int_for");
}

/* config_time_for - the same for a TIME parameter (seconds):
 * smtp_destination_rate_delay, else default_destination_rate_delay */
long config_time_for(const char *service, PARAM_ID fallback)
{
    return config_number_for(service, fallback, PARAM_TYPE_TIME, "config_time_for");
}
