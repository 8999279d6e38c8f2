/* surel.h - the verbs of the surel admin command, one file each.
 *
 * Every verb, and every sub-verb of `surel queue`, is one SUREL_VERB row;
 * surel_verb_run() is the one place that drops the set-gid right of a verb
 * that does not need it. Each verb's argument parser is a function of its
 * own that returns instead of exiting, so that tests/unit/check_admin_*.c
 * can call it.
 */
#ifndef SUREL_ADMIN_H
#define SUREL_ADMIN_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"

/* Set by surel_run() from -c DIR (or NULL: $MAIL_CONFIG or the built-in folder). */
extern const char *surel_config_dir;

/* One verb: argv[0] is the verb name; the function returns the exit status. */
typedef struct SUREL_VERB {
    const char *name;
    int     (*fn)(int argc, char **argv);
    int     needs_setgid;           /* keeps the saved set-gid right (queue list, flush) */
    const char *usage;              /* the synopsis after "surel " */
    const char *help;               /* what `surel help VERB` adds, lines of text */
} SUREL_VERB;

/* The verb tables (surel_verbs.c, surel_queue.c). */
extern const SUREL_VERB surel_verbs[];
extern const size_t surel_nverbs;
extern const SUREL_VERB surel_queue_verbs[];
extern const size_t surel_queue_nverbs;

const SUREL_VERB *surel_verb_find(const SUREL_VERB *table, size_t n, const char *name);
/* Drop the set-gid right unless the verb needs it, reset getopt, run it. */
int     surel_verb_run(const SUREL_VERB *verb, int argc, char **argv);
void    surel_verb_list(FILE *fp, const char *prefix, const SUREL_VERB *table, size_t n);

/* The whole command after msg_init (surel_verbs.c). */
int     surel_run(int argc, char **argv);

/* Postfix's command names (postconf, postmap, postalias, postqueue,
 * postsuper, postcat, postfix) as front ends (surel_postfix.c): is argv0
 * one of them; the surel argv for one (borrowing argv's strings; the
 * array is malloc'ed), 0 or -1 + why; and the whole command. */
int     surel_postfix_name(const char *argv0);
int     surel_postfix_argv(int argc, char **argv, char ***out_argv, int *out_argc, BUF *why);
int     surel_postfix_run(int argc, char **argv);

/* Top-level options: surel [-c dir] [-v] [--help|--version] verb ... */
typedef struct SUREL_ARGS {
    const char *config_dir;         /* -c, or NULL */
    int     verbose;                /* -v count */
    int     help;                   /* --help or -h */
    int     version;                /* --version */
    int     verb_index;             /* argv index of the verb, or argc when none */
} SUREL_ARGS;
int     surel_args(int argc, char **argv, SUREL_ARGS *args, BUF *why);  /* 0, or -1 + why */

/* Each verb (argv[0] = the verb name); its argument parser where it has options. */
int     surel_start_main(int argc, char **argv);    /* surel_ctl.c */
int     surel_start_args(int argc, char **argv, int *foreground, BUF *why);
int     surel_stop_main(int argc, char **argv);     /* surel_ctl.c */
int     surel_reload_main(int argc, char **argv);   /* surel_ctl.c */
int     surel_status_main(int argc, char **argv);   /* surel_ctl.c */
int     surel_logrotate_main(int argc, char **argv);    /* surel_logrotate.c */
int     surel_log_main(int argc, char **argv);          /* surel_log.c */
int     surel_check_main(int argc, char **argv);    /* surel_check.c */
int     surel_conf_main(int argc, char **argv);     /* surel_conf.c */
int     surel_map_main(int argc, char **argv);      /* surel_map.c */
int     surel_sandbox_main(int argc, char **argv);  /* surel_sandbox.c */
int     surel_passwd_main(int argc, char **argv);   /* surel_passwd.c */
int     surel_queue_main(int argc, char **argv);    /* surel_queue*.c */

/* `surel conf` options (surel_conf.c). */
#define CONF_SHOW_DEFS  (1 << 0)    /* -d */
#define CONF_SHOW_SET   (1 << 1)    /* -n */
#define CONF_HIDE_NAME  (1 << 2)    /* -h */
#define CONF_EXPAND     (1 << 3)    /* -x */
typedef enum CONF_ACTION {
    CONF_ACT_SHOW, CONF_ACT_EDIT, CONF_ACT_REMOVE, CONF_ACT_MASTER,
    CONF_ACT_FIELDS,                /* -F: service/type/field = value */
    CONF_ACT_PARAMS                 /* -P: service/type/parameter = value (-o) */
} CONF_ACTION;
typedef struct CONF_ARGS {
    const char *config_dir;         /* -c (else the global -c) */
    int     mode;                   /* CONF_SHOW_DEFS ... */
    CONF_ACTION action;
    char  **names;                  /* the operands (pointers into argv) */
    int     nnames;
} CONF_ARGS;
int     surel_conf_args(int argc, char **argv, CONF_ARGS *args, BUF *why);

/* `surel sandbox DIR [--smtp-port N] [--force]` (surel_sandbox.c). */
typedef struct SANDBOX_ARGS {
    const char *dir;                /* DIR as given */
    int     port;                   /* SMTP port, 2525 by default */
    int     force;                  /* --force */
} SANDBOX_ARGS;
int     surel_sandbox_args(int argc, char **argv, SANDBOX_ARGS *args, BUF *why);

/* `surel queue list [-j]` (surel_queue.c). */
int     surel_queue_list_args(int argc, char **argv, int *json, BUF *why);

/* For `surel status`: "N maildrop, N incoming, N active, N deferred,
 * N hold, N corrupt"; -1 when the caller can't read the queue. */
int     surel_queue_counts(const char *queue_dir, BUF *out);

/* A set-gid install (setgid_group, for `queue list|flush` as postqueue):
 * init gives the right up at once but keeps it saved; forget drops it for
 * good. Both do nothing when surel is not set-gid. (surel_queue.c) */
void    surel_setgid_init(void);
void    surel_setgid_forget(void);

#endif
