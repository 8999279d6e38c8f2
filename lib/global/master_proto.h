/* master_proto - what the master and the daemons it starts agree on.
 *
 * A daemon is exec'd as
 *     $daemon_directory/<command> -c <config_dir> -n <service> -t <type>
 *         -g <generation> -s <listeners> [-u] [-r] [-v] [-o name=value ...]
 *         [master.cf arguments]
 * with these descriptors:
 *     MASTER_STATUS_FD                 write end of the service's status pipe
 *     MASTER_LISTEN_FD .. +listeners-1 the service's listening sockets (or fifo)
 * -u asks the daemon to drop to mail_owner, -r to chroot to
 * queue_directory; the master passes them only when it runs as root.
 *
 * Around each unit of work the daemon writes one MASTER_STATUS record to the
 * status pipe (BUSY before, IDLE after). Records are smaller than PIPE_BUF,
 * so each write is atomic even with many children on one pipe. The master
 * closes the read end to retire a generation (reload, stop): the daemon
 * sees an error condition on its write end and exits once idle.
 */
#ifndef SUREL_MASTER_PROTO_H
#define SUREL_MASTER_PROTO_H

#include <sys/types.h>

#define MASTER_STATUS_FD    3       /* child's end of the status pipe */
#define MASTER_LISTEN_FD    4       /* first listener */
#define MASTER_LISTEN_MAX   16      /* listeners per service at most */

#define MASTER_STAT_BUSY    0       /* took a client; not available */
#define MASTER_STAT_IDLE    1       /* available for another client */

typedef struct MASTER_STATUS {
    pid_t   pid;                    /* the reporting child */
    unsigned gen;                   /* its service generation (-g) */
    int     status;                 /* MASTER_STAT_BUSY or MASTER_STAT_IDLE */
} MASTER_STATUS;

/* Standard daemon options (getopt string); daemons add none of their own. */
#define MASTER_DAEMON_OPTIONS "c:n:t:g:s:uro:v"

#endif
