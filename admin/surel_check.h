/* surel_check.h - what `surel check` verifies, for the other verbs too. */
#ifndef SUREL_CHECK_H
#define SUREL_CHECK_H

/* surel_check_run flags (MAIL_QUEUE_CREATE and MAIL_QUEUE_FIX from
 * mail_queue.h pass through to the queue folders and data_directory). */
#define SUREL_CHECK_NO_PARAM_WARNINGS (1 << 8)  /* start: the master warns about
                                                 * ignored parameters itself */

/* surel_check_run - verify the loaded configuration, master.cf, accounts,
 * folders and programs; print each problem as a warning; return how many.
 * The caller has run config_init(). */
int     surel_check_run(int flags);

/* check_tables - the tables main.cf names: known types, built files, and
 * proxymap for chrooted services (surel_check_tables.c); how many problems.
 * cf is the parsed master.cf, or NULL. */
struct MASTER_CF;
int     check_tables(const struct MASTER_CF *cf);

/* surel_master_path - $daemon_directory/master, malloc'ed */
char   *surel_master_path(void);

#endif
