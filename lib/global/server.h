/* server - the skeleton every surel daemon is built on.
 *
 * A daemon's main() names its service routine and hooks and calls one of
 * the three flavours; the skeleton does everything else, in this order:
 *     parse the standard argv (master_proto.h: -c -n -t -g -s -u -r -o -v),
 *     read main.cf (config_init) and apply the -o overrides,
 *     open the log (maillog_file: through the postlog socket when the
 *         master has one, else the file itself; else syslog),
 *     chdir to queue_directory,
 *     hooks->pre_init (still with the privileges we were started with),
 *     chroot to queue_directory (-r), then setgroups, setgid, setuid to
 *         mail_owner (-u; hooks->owner names another account), each
 *         checked, and verify that root is gone,
 *     hooks->post_init,
 *     confine to hooks->confine's profile (server_confine.c: seccomp and
 *         Landlock) unless daemon_confinement = no,
 *     serve until max_use clients, max_idle seconds without work, the
 *         master retiring our generation, or SIGTERM.
 *
 * Flavours:
 *     single_server_main   one client at a time: the routine gets a STREAM
 *                          and returns when the session is over (smtpd,
 *                          local). The skeleton closes the stream.
 *     multi_server_main    many clients at once, driven by the event loop:
 *                          the routine takes the STREAM, registers its own
 *                          events and calls multi_server_disconnect() when
 *                          the client is done (cleanup).
 *     trigger_server_main  reads the trigger bytes each client (or fifo
 *                          writer) sends and passes them to the routine
 *                          (qmgr, pickup).
 *     dgram_server_main    reads the datagrams of a unix-dgram listener
 *                          and passes each to the routine (postlogd).
 * Every flavour ignores SIGPIPE, keeps a watchdog of daemon_timeout seconds
 * on each unit of work (the process dies by SIGALRM when it is exceeded) and
 * tells the master BUSY/IDLE over the status pipe.
 */
#ifndef SUREL_SERVER_H
#define SUREL_SERVER_H

#include <stddef.h>

#include "stream.h"

typedef struct SERVER_CTX {
    const char *service;            /* -n: master.cf service name */
    const char *type;               /* -t: inet, unix, fifo */
    int     argc;                   /* master.cf arguments after the options */
    char  **argv;
} SERVER_CTX;

typedef struct SERVER_HOOKS {
    void    (*pre_init)(const SERVER_CTX *ctx);    /* before chroot/privilege drop */
    void    (*post_init)(const SERVER_CTX *ctx);   /* after it, before serving */
    void    (*pre_exit)(const SERVER_CTX *ctx);    /* before a voluntary exit */
    int     unlimited;              /* 1: ignore max_use and max_idle (qmgr) */
    const char *confine;            /* server_confine.c profile, after post_init; NULL: none */
    const char *(*owner)(void);     /* account -u drops to instead of mail_owner (authd) */
    int     log_self;               /* 1: write maillog_file itself, never via postlog (postlogd) */
    void    (*batch_end)(const SERVER_CTX *ctx);   /* dgram: after each event's datagrams */
} SERVER_HOOKS;

typedef void (*SINGLE_SERVER_FN)(STREAM *client, const SERVER_CTX *ctx);
typedef void (*MULTI_SERVER_FN)(STREAM *client, const SERVER_CTX *ctx);
typedef void (*TRIGGER_SERVER_FN)(const char *data, size_t len, const SERVER_CTX *ctx);
typedef void (*DGRAM_SERVER_FN)(char *data, size_t len, const SERVER_CTX *ctx);

/* Each runs the daemon and never returns; hooks may be NULL. */
void    single_server_main(int argc, char **argv, SINGLE_SERVER_FN service,
                           const SERVER_HOOKS *hooks) __attribute__((noreturn));
void    multi_server_main(int argc, char **argv, MULTI_SERVER_FN service,
                          const SERVER_HOOKS *hooks) __attribute__((noreturn));
void    trigger_server_main(int argc, char **argv, TRIGGER_SERVER_FN service,
                            const SERVER_HOOKS *hooks) __attribute__((noreturn));
void    dgram_server_main(int argc, char **argv, DGRAM_SERVER_FN service,
                          const SERVER_HOOKS *hooks) __attribute__((noreturn));

/* server_set_watchdog - from a hook: this daemon's watchdog seconds */
void    server_set_watchdog(long seconds);

/* multi_server_disconnect - a multi-server client is done: unregister its
 * events, close the stream, and maybe exit (max_use, retired). */
void    multi_server_disconnect(STREAM *client);
/* multi_server_busy - the process is about to leave its event loop for a
 * while (cleanup talking to a mail filter): 1 tells the master it is
 * BUSY, so that new clients get another process; 0 makes it available
 * again (unless max_use is used up). */
void    multi_server_busy(int busy);

/* Trigger bytes read from one client at most. */
#define TRIGGER_BUF_SIZE    1024

/* Bytes of one datagram at most (a log line: msg.c's 4096 plus its prefix). */
#define DGRAM_BUF_SIZE      (4096 + 512)

#endif
