/* master.h - the master's private structures and functions. */
#ifndef SUREL_MASTER_H
#define SUREL_MASTER_H

#include <sys/types.h>

#include "buf.h"
#include "master_proto.h"
#include "mastercf.h"

/* One master.cf service, alive across reloads while its line matches. */
typedef struct MASTER_SERV {
    char   *name;                   /* master.cf service field */
    MASTER_TYPE type;
    char   *endpoint;               /* what the listeners are bound to; reload key */
    char   *text;                   /* normalized master.cf line */
    int     private_;               /* socket under private/ (else public/) */
    int     unpriv;                 /* -u: drop to mail_owner (root only) */
    int     chroot;                 /* -r: chroot to queue_directory (root only) */
    int     wakeup;                 /* seconds between wakeups; 0: none */
    int     wakeup_on_use;          /* no wakeup before the service was used */
    int     maxproc;                /* 0: no limit */
    char   *path;                   /* $daemon_directory/command */
    int     program_ok;             /* path is an executable file (mastercf_program) */
    char  **argv;                   /* full child argv, NULL-terminated */
    int     nlisten;
    int     listen_fd[MASTER_LISTEN_MAX];
    char   *unix_path;              /* socket or fifo path, unlinked when removed */
    int     status_rd;              /* status pipe, master's end; -1 if none */
    int     status_wr;              /* status pipe, children's end */
    unsigned gen;                   /* generation of the current pipe */
    int     total_proc;             /* children of this generation */
    int     avail_proc;             /* of which idle */
    int     listening;              /* listeners are in the event loop */
    int     throttled;              /* suspended after a failure */
    int     failures;               /* consecutive failures, for the delay */
    int     used;                   /* a child has been started at least once */
    long long stress_until;         /* event_now_ms(): children get -o stress=yes until then */
    long long busy_warned;          /* event_now_ms() of the last process-limit warning; 0: never */
    struct MASTER_SERV *next;
} MASTER_SERV;

/* One child process. serv is NULL once its generation was retired. */
typedef struct MASTER_PROC {
    pid_t   pid;
    unsigned gen;
    MASTER_SERV *serv;
    int     avail;                  /* counted in serv->avail_proc */
    int     served;                 /* reported BUSY once: got past its startup */
    char   *path;                   /* for log lines after the service is gone */
    struct MASTER_PROC *next;
} MASTER_PROC;

extern MASTER_SERV *master_services;
extern MASTER_PROC *master_procs;
extern const char *master_config_dir;
extern int master_stopping;
extern int master_privileged;       /* running as root: honour unpriv/chroot */
extern char **master_env;           /* environment for children (import_environment) */

/* master_conf.c */
void    master_config_load(void);
int     master_services_read(MASTER_SERV **list, BUF *why);
void    master_services_start(void);
void    master_reload(void);
void    master_log_service(void);

/* master_listen.c */
int     master_listen_open(MASTER_SERV *serv, BUF *why);
void    master_listen_close(MASTER_SERV *serv);
void    master_listen_drain(MASTER_SERV *serv);
void    master_listen_quiet(MASTER_SERV *serv);
char   *master_endpoint(const MASTER_ENT *ent, BUF *why);

/* master_spawn.c */
void    master_status_open(MASTER_SERV *serv);
void    master_status_close(MASTER_SERV *serv);
void    master_avail_update(MASTER_SERV *serv);
void    master_retire_children(MASTER_SERV *serv, int signo);
void    master_reap(int signo, void *context);
void    master_kill_all(int signo);
void    master_throttle(MASTER_SERV *serv);
void    master_cancel_throttle(MASTER_SERV *serv);
void    master_serv_free(MASTER_SERV *serv);

/* master_owner.c */
void    master_owner_init(void);
void    master_owner_enter(void);
void    master_owner_leave(void);

/* master_wakeup.c */
void    master_wakeup_start(MASTER_SERV *serv, long delay_ms);
void    master_wakeup_stop(MASTER_SERV *serv);

#endif
