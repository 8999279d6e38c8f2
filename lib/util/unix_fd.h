/* unix_fd - pass an open descriptor along with a STREAM's bytes on a
 * UNIX-domain socket (SCM_RIGHTS), so that an attribute list and the
 * descriptor it describes travel in one conversation.
 *
 *     UNIX_FD_IO io;
 *     unix_fd_stream(s, &io);       sender: io.send_fd = fd; attr_send(s, ...)
 *                                   receiver: attr_recv(s, ...); fd = io.recv_fd
 *
 * The descriptor rides on the first byte written after send_fd is set
 * (the write takes it and sets send_fd back to -1; the sender still owns
 * its copy). A read that brings one in keeps the first in recv_fd and
 * closes any other, so a peer can never make us hold descriptors we did
 * not ask for. Received descriptors are close-on-exec.
 */
#ifndef SUREL_UNIX_FD_H
#define SUREL_UNIX_FD_H

#include "stream.h"

typedef struct UNIX_FD_IO {
    int     send_fd;                /* to attach to the next write; -1: none */
    int     recv_fd;                /* arrived with a read; -1: none */
} UNIX_FD_IO;

/* unix_fd_stream - route s's I/O through io (both fds set to -1) */
void    unix_fd_stream(STREAM *s, UNIX_FD_IO *io);

#endif
