/* server_private - what server.c shares with the three flavours only. */
#ifndef SUREL_SERVER_PRIVATE_H
#define SUREL_SERVER_PRIVATE_H

#include "event.h"
#include "server.h"

typedef struct SERVER_STATE {
    SERVER_CTX ctx;                 /* handed to the routine and hooks */
    const SERVER_HOOKS *hooks;      /* never NULL (an empty set if none) */
    unsigned gen;                   /* -g: our service generation */
    int     nlisten;                /* -s: listeners from MASTER_LISTEN_FD */
    long    max_use;                /* clients before we exit; 0: no limit */
    long    max_idle;               /* seconds idle before we exit; 0: no limit */
    long    daemon_timeout;         /* watchdog seconds per unit of work */
    long    use_count;              /* clients served so far */
    int     retired;                /* the master closed our status pipe */
} SERVER_STATE;

extern SERVER_STATE server_state;

void    server_init(int argc, char **argv, const SERVER_HOOKS *hooks,
                    EVENT_FN on_retire);
void    server_notify(int status);
void    server_unlisten(void);
void    server_idle_start(void);
void    server_idle_stop(void);
int     server_use_exhausted(void);
void    server_watchdog(void);
void    server_exit(void) __attribute__((noreturn));
void    server_loop(void) __attribute__((noreturn));
void    server_confine(const char *profile, int chrooted);   /* server_confine.c */

#endif
