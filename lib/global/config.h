/* config - main.cf: parsing, $name expansion and the parameter table
 * (config.c the store; config_parse.c, config_expand.c, config_get.c,
 * config_check.c; see config.c).
 *
 * Postfix syntax: `name = value`; a line starting with white space continues
 * the previous one; `#` starts a comment line; values may refer to other
 * parameters as $name, ${name} or $(name), and ${name?text} / ${name:text}
 * give text when name is non-empty / empty. Every known parameter is
 * declared once in params.def; access is by an enum so that a misspelled
 * name is a compile error:
 *     config_init(NULL);                    -c / $MAIL_CONFIG / built-in folder
 *     const char *h = config_str(P_myhostname);
 *     long limit = config_int(P_message_size_limit);
 * Getters return expanded values and end the process with msg_fatal() on a
 * bad value (a number that is not one, a recursive definition): a daemon
 * cannot run on a configuration it cannot read. The parse/expand functions
 * that take a BUF *why return -1 instead, for tools, tests and fuzzing.
 * Names that are neither in the table nor <service>_<parameter> for a known
 * service are warned about, never fatal.
 */
#ifndef SUREL_CONFIG_H
#define SUREL_CONFIG_H

#include <stddef.h>

#include "buf.h"

typedef enum param_type {
    PARAM_TYPE_STR, PARAM_TYPE_INT, PARAM_TYPE_BOOL, PARAM_TYPE_TIME,
    PARAM_TYPE_RAW                  /* text whose $names the using program expands
                                     * per message (local's $home); config_str()
                                     * returns it as written */
} PARAM_TYPE;

/* How far surel implements a parameter (params.def: PARAM or PARAM_UNIMPL). */
typedef enum param_impl {
    PARAM_IMPL_YES,                 /* PARAM: some program reads it */
    PARAM_IMPL_WARN,                /* PARAM_UNIMPL ... WARN: ignored, warned when set */
    PARAM_IMPL_SECURITY             /* PARAM_UNIMPL ... SECURITY: ignored, and that
                                     * weakens what the administrator asked for */
} PARAM_IMPL;

typedef enum param_id {
#define PARAM(name, type, def, min, max, doc) P_##name,
#define PARAM_UNIMPL(name, type, def, min, max, as_if, risk, doc) P_##name,
#include "params.def"
#undef PARAM
#undef PARAM_UNIMPL
    PARAM_COUNT
} PARAM_ID;

typedef struct PARAM_INFO {
    const char *name;
    PARAM_TYPE type;
    const char *def;                /* default before expansion */
    long    min;
    long    max;
    const char *doc;
    PARAM_IMPL impl;
    const char *as_if;              /* PARAM_UNIMPL: the value surel behaves as
                                     * ("*": any), else NULL */
} PARAM_INFO;

/* Loading. */
const char *config_choose_dir(const char *opt_dir);   /* -c, $MAIL_CONFIG, built-in */
void    config_init(const char *opt_dir);             /* choose, read main.cf; fatal on error */
int     config_read_file(const char *path, BUF *why); /* 0, or -1 with why */
int     config_parse_text(const char *text, size_t len, BUF *why);
void    config_set(const char *name, const char *value);     /* main.cf-level value */
void    config_override(const char *name, const char *value); /* master.cf -o: wins over main.cf */
int     config_override_arg(const char *name_eq_value, BUF *why); /* "name=value" */
void    config_reset(void);                           /* forget everything (tests) */

/* Typed, expanded values of table parameters. */
const char *config_str(PARAM_ID id);
long    config_int(PARAM_ID id);
int     config_bool(PARAM_ID id);
long    config_time(PARAM_ID id);                     /* seconds */

/* Names outside the table, e.g. <transport>_destination_concurrency_limit. */
const char *config_lookup(const char *name);          /* expanded, or NULL if unset */
long    config_int_for(const char *service, PARAM_ID fallback);    /* service_param, else param */
long    config_time_for(const char *service, PARAM_ID fallback);   /* the same, TIME (seconds) */
const char *config_raw(const char *name);             /* unexpanded, or NULL */
int     config_is_set(const char *name);              /* set in main.cf or -o */
int     config_expand(const char *text, BUF *out, BUF *why);   /* -1 on recursion/syntax */

/* Checks and the table itself. */
int     config_warn_unknown(const char *const *services, int nservices); /* count warned */
int     config_validate(BUF *why);                    /* every set value parses; 0 or -1 */
const PARAM_INFO *config_param_info(PARAM_ID id);
const PARAM_INFO *config_param_by_name(const char *name);
int     config_each_set(void (*fn)(const char *name, const char *raw, void *ctx), void *ctx);
int     config_parse_time(const char *text, char default_unit, long *seconds);
int     config_parse_bool(const char *text, int *value);
/* The table parameter that name is <service>_<param> of (a "default_" prefix
 * is replaced: local_destination_concurrency_limit), or NULL. */
const PARAM_INFO *config_service_param(const char *name, const char *const *services,
                                       int nservices);
/* In the table, <service>_<param>, or used as $name by some value: the names
 * config_warn_unknown() leaves alone. */
int     config_known(const char *name, const char *const *services, int nservices);
/* The mynetworks that a mynetworks_style (host, subnet, class) gives on this
 * machine, appended to out; -1 with why for an unknown style. */
int     config_mynetworks_default(const char *style, BUF *out, BUF *why);
/* inet_protocols as a mask: CONFIG_INET_V4 | CONFIG_INET_V6 ("all" is
 * both); -1 with why for an unknown word or an empty list. The master's
 * listeners and the SMTP client's connections both obey it. */
#define CONFIG_INET_V4  (1 << 0)
#define CONFIG_INET_V6  (1 << 1)
int     config_inet_protocols(BUF *why);

/* Parameters declared but not implemented (PARAM_UNIMPL): is this value
 * one surel does not honour? 0 (silent: unset, implemented, or the value
 * surel behaves as), else the parameter's PARAM_IMPL. */
PARAM_IMPL config_ignored_value(const char *name, const char *value);
/* One warning "<where>: parameter X is not implemented and is ignored"
 * (with why it weakens security, for SECURITY ones) per such parameter
 * set in main.cf or by -o; the count warned, *security those of them
 * marked SECURITY (security may be NULL). */
int     config_warn_unimplemented(const char *where, int *security);
/* The same for master.cf's -o name=value of one service. */
PARAM_IMPL config_warn_unimplemented_arg(const char *where, const char *name_eq_value);

/* Lists: lib/util/str_split.h's rule (commas and white space separate, { }
 * groups stay whole, an item that is one group loses its braces). */
char  **config_split_list(const char *text, int *count);
void    config_free_list(char **list);

#endif
