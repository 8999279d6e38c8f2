/* surel_queue.h - what the `surel queue` files share. */
#ifndef SUREL_QUEUE_ADMIN_H
#define SUREL_QUEUE_ADMIN_H

#include "buf.h"

/* surel_queue.c */
const char *sq_load(void);                           /* config_init; $queue_directory */
void    sq_require_owner(const char *verb, const char *queue_dir);  /* fatal unless allowed */
int     sq_trigger(const char *queue_dir, const char *service, const char *bytes,
                   BUF *why);                        /* 0, or -1 with why */
int     sq_find(const char *queue_dir, const char *id, const char *const *queues,
                BUF *path, const char **queue);      /* 1 found, 0 not */
void    sq_sleep_ms(long ms);

/* Subverbs, each with argv[0] = its name. */
int     sq_show_main(int argc, char **argv);         /* surel_queue_show.c */
int     sq_super_main(int argc, char **argv);        /* surel_queue_super.c: delete hold
                                                      * release requeue expire */
int     sq_repair_main(int argc, char **argv);       /* surel_queue_repair.c */

#endif
