/* mastercf - master.cf: the services that master runs.
 *
 * Postfix's format, one service per logical line (continuation lines start
 * with white space, `#` comment lines):
 *     service type private unpriv chroot wakeup maxproc command [args]
 * type is inet, unix, unix-dgram, fifo or pass; `-` takes the default of a
 * column (private y, unpriv y, chroot n, wakeup 0, maxproc
 * $default_process_limit); wakeup may end in `?` (no wakeup before first
 * use); maxproc 0 means no limit. In the arguments, `-o name=value` and
 * `-o { name = value }` override main.cf for that service, and `{ text }`
 * keeps white space inside one argument.
 */
#ifndef SUREL_MASTERCF_H
#define SUREL_MASTERCF_H

#include "buf.h"

typedef enum master_type {
    MASTER_INET, MASTER_UNIX, MASTER_UNIX_DGRAM, MASTER_FIFO, MASTER_PASS
} MASTER_TYPE;

typedef struct MASTER_ENT {
    char   *name;                   /* service field: "smtp", "127.0.0.1:2525", "cleanup" */
    MASTER_TYPE type;
    int     private_;               /* 1: socket under private/, else public/ */
    int     unpriv;                 /* 1: run as mail_owner */
    int     chroot;                 /* 1: chroot to queue_directory */
    int     wakeup;                 /* seconds between wakeup triggers; 0: none */
    int     wakeup_on_use;          /* "N?": no wakeup before first use */
    int     maxproc;                /* processes at most; 0: no limit */
    int     argc;                   /* command + arguments, -o pairs removed */
    char  **argv;
    int     noverrides;             /* -o name=value, in order */
    char  **overrides;              /* "name=value" */
    char   *text;                   /* the whole logical line, normalized (for reload) */
    int     lineno;                 /* first line in the file */
} MASTER_ENT;

typedef struct MASTER_CF {
    int     count;
    MASTER_ENT *ents;
} MASTER_CF;

int     mastercf_read(const char *path, int default_maxproc, MASTER_CF *cf, BUF *why);
int     mastercf_parse_text(const char *text, int default_maxproc, MASTER_CF *cf, BUF *why);
void    mastercf_free(MASTER_CF *cf);
const char *mastercf_type_name(MASTER_TYPE type);
const MASTER_ENT *mastercf_find(const MASTER_CF *cf, const char *name, MASTER_TYPE type);
/* The program a master.cf command names: itself when absolute, else
 * daemon_dir/command (Postfix's rule), into path; 1 when it is an
 * executable regular file, else 0. The master (which leaves such a
 * service out) and `surel check` (which reports it) both ask here. */
int     mastercf_program(const char *command, const char *daemon_dir, BUF *path);
/* mastercf_builtin - for a Postfix program surel has no daemon for
 * because every surel program does that work itself (tlsmgr,
 * trivial-rewrite; doc/design.md "Postfix services
 * surel does not need"), the reason, else NULL. The master then leaves
 * the service out with one informational line instead of a warning, and
 * `surel check` says nothing; any other missing program is still an
 * error. The command's last path component is what counts. */
const char *mastercf_builtin(const char *command);

/* mastercf_absent - for a Postfix program surel does not have (verify,
 * flush): what is missing without it, else NULL. The master warns once
 * per start and runs the rest; `surel check` does not count it as a
 * problem, so that Debian's stock master.cf checks clean. */
const char *mastercf_absent(const char *command);

#endif
