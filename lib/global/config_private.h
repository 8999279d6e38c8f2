/* config_private.h - what the config_*.c files share; not for programs.
 *
 * The store (config.c) owns the state below; parse, expand, get and check
 * (config_<part>.c) reach it through these declarations only.
 */
#ifndef SUREL_CONFIG_PRIVATE_H
#define SUREL_CONFIG_PRIVATE_H

#include <stddef.h>

#include "buf.h"
#include "config.h"

#define CONFIG_FILE_MAX     (4 * 1024 * 1024)   /* main.cf larger than this is refused */
#define CONFIG_EXPAND_DEPTH 100                 /* nested $name / ${...} levels */
#define CONFIG_EXPAND_MAX   (1024 * 1024)       /* bytes in one expanded value */
#define CONFIG_NAME_MAX     256                 /* characters in a parameter name */

typedef struct CONFIG_ENT {
    char   *name;
    int     id;                     /* PARAM_ID, or -1 outside the table */
    char   *file_value;             /* main.cf (or config_set), or NULL */
    char   *override_value;         /* -o, or NULL; wins over file_value */
    char   *cache;                  /* expanded value, valid when cache_gen matches */
    unsigned long cache_gen;
    int     busy;                   /* being expanded right now: seen again = cycle */
    struct CONFIG_ENT *next;        /* hash chain */
} CONFIG_ENT;

/* The store (config.c). */
extern const PARAM_INFO config_table[PARAM_COUNT];
extern CONFIG_ENT **config_hash;
extern size_t config_hash_size;
extern size_t config_hash_used;
extern CONFIG_ENT *config_by_id[PARAM_COUNT];
extern unsigned long config_gen;
extern char *config_dir;
extern char *config_path;
extern char *config_hostname;

int     config_ws(int ch);                              /* main.cf white space */
int     config_name_char(int ch);                       /* [A-Za-z0-9_] */
int     config_name_ok(const char *name, size_t len);
CONFIG_ENT *config_find_len(const char *name, size_t len);     /* or NULL */
CONFIG_ENT *config_enter(const char *name);             /* created when new */
void    config_boot(void);                              /* table entered once */
void    config_changed(void);                           /* caches go stale */
void    config_bury(char *text);                        /* keep until reset */
void    config_trim(const char **start, const char **end);
CONFIG_ENT **config_sorted(size_t *count);              /* caller frees the array */

/* Expansion (config_expand.c). */
const char *config_eval(CONFIG_ENT *ent, BUF *why);     /* expanded, or NULL + why */
int     config_computed(int id);                        /* default made, not written */
void    config_expand_reset(void);                      /* forget files read */

/* Typed values (config_get.c). */
int     config_check_number(const char *name, const char *value, const PARAM_INFO *info,
                            long *result, BUF *why);
int     config_check_param(PARAM_ID id, const char **str, long *num, BUF *why);
void    config_service_name(BUF *out, const char *service, const char *param);

#endif
