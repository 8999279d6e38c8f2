/* surel.h - the verbs of the surel admin command, one file each. */
#ifndef SUREL_ADMIN_H
#define SUREL_ADMIN_H

#include "buf.h"

/* Set by main() from -c DIR (or NULL: $MAIL_CONFIG or the built-in folder). */
extern const char *surel_config_dir;

/* Each verb gets argv[0] = the verb name and returns the exit status. */
int     surel_start_main(int argc, char **argv);    /* surel_ctl.c */
int     surel_stop_main(int argc, char **argv);     /* surel_ctl.c */
int     surel_reload_main(int argc, char **argv);   /* surel_ctl.c */
int     surel_status_main(int argc, char **argv);   /* surel_ctl.c */
int     surel_check_main(int argc, char **argv);    /* surel_check.c */
int     surel_conf_main(int argc, char **argv);     /* surel_conf.c */
int     surel_map_main(int argc, char **argv);      /* surel_map.c */
int     surel_sandbox_main(int argc, char **argv);  /* surel_sandbox.c */
int     surel_queue_main(int argc, char **argv);    /* surel_queue*.c */

/* For `surel status`: "N maildrop, N incoming, N active, N deferred,
 * N hold, N corrupt"; -1 when the caller can't read the queue. */
int     surel_queue_counts(const char *queue_dir, BUF *out);

/* A set-gid install (setgid_group, for `queue list|flush` as postqueue):
 * init gives the right up at once but keeps it saved; forget drops it for
 * good. Both do nothing when surel is not set-gid. (surel_queue.c) */
void    surel_setgid_init(void);
void    surel_setgid_forget(void);

#endif
