/* confine - a process restricts itself: Landlock paths and a seccomp filter.
 *
 * General C, no mail knowledge: the caller builds a CONFINE (what it may
 * read, write and execute, and which system calls it may make), then
 * confine_apply() installs it for good. lib/global/server_confine.c holds
 * the mail system's profiles, one per daemon.
 *
 * Landlock (Linux >= 5.13) is applied at the best ABI the kernel has and
 * skipped with a note when there is none; the seccomp filter (libseccomp)
 * always applies. A forbidden system call raises SIGSYS: the process logs
 * the call's name and dies by that signal, which its parent sees.
 */
#ifndef SUREL_CONFINE_H
#define SUREL_CONFINE_H

#include "buf.h"

typedef struct CONFINE CONFINE;

CONFINE *confine_create(void);
void    confine_free(CONFINE *c);

/* Landlock: paths (files or folders; a folder covers everything below). */
void    confine_read(CONFINE *c, const char *path);
void    confine_read_except(CONFINE *c, const char *except);   /* all of / but this subtree */
void    confine_write(CONFINE *c, const char *dir);   /* create, write, rename, remove below */
void    confine_exec(CONFINE *c, const char *path);
void    confine_no_landlock(CONFINE *c);               /* seccomp only */

/* seccomp: the base list (confine.c) plus these names; NULL-terminated. */
void    confine_syscalls(CONFINE *c, const char *const *names);
/* Instead of the allow list: allow everything but these (for a process
 * whose children run arbitrary commands); installed without no_new_privs
 * when root, so set-uid helpers those commands run still work. */
void    confine_deny_only(CONFINE *c, const char *const *names);

/* confine_apply - install it; 0, or -1 with why (the process is unchanged
 * only if nothing was installed yet). */
int     confine_apply(CONFINE *c, BUF *why);

/* The names confine_deny_only() callers usually give: kernel attack
 * surface no mail delivery needs. */
extern const char *const confine_kernel_surface[];

#endif
