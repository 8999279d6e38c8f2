/* pidlock - one master per instance: an exclusive lock on the pid file.
 *
 * The master holds an flock(LOCK_EX) on $queue_directory/pid/master.pid for
 * its whole life and writes its pid there. Anyone can tell whether the
 * master runs by trying the lock (pidlock_probe); a stale pid in an
 * unlocked file means nothing. The lock dies with the process, so a master
 * killed with SIGKILL never blocks the next start.
 */
#ifndef SUREL_PIDLOCK_H
#define SUREL_PIDLOCK_H

#include <sys/types.h>

#include "buf.h"

/* pidlock_acquire: the locked fd (keep it open), or -1 with why; *holder is
 * the running master's pid when the lock is taken by another process. */
int     pidlock_acquire(const char *path, pid_t *holder, BUF *why);  /* why may be NULL */

/* pidlock_probe: 1 and *pid when a live process holds the lock, 0 when
 * nobody does (or the file does not exist), -1 with why on other errors. */
int     pidlock_probe(const char *path, pid_t *pid, BUF *why);

#endif
