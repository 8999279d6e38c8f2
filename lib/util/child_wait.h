/* child_wait - wait for a command a delivery agent started, within a time
 * limit, collecting what it writes (local's mailbox_command and |command
 * deliveries, pipe(8)).
 *
 * The child runs in its own process group (setsid in the child): at the
 * deadline the whole group is killed, so a command's own children cannot
 * keep the delivery hanging.
 */
#ifndef SUREL_CHILD_WAIT_H
#define SUREL_CHILD_WAIT_H

#include <sys/types.h>
#include <time.h>

#include "buf.h"

/* Read out_fd into output (at most max bytes kept, the rest read and
 * dropped) until EOF and the child's exit; 0 with *status, or -1 when the
 * deadline passed (the group was killed and the child reaped). */
int     child_wait(pid_t pid, int out_fd, time_t deadline, BUF *output, size_t max,
                   int *status);

#endif
