/* smtpd_conn - simultaneous connections per client address, across the
 * smtpd processes of one service (smtpd_client_connection_count_limit).
 *
 * Postfix asks its anvil server. We keep a small shared file instead and
 * let the kernel do the bookkeeping that matters for robustness: each smtpd
 * process owns one slot of the file and holds an fcntl lock on the slot's
 * first byte for as long as it lives. The slot holds the address of the
 * client it is serving (empty between sessions). Counting means reading
 * the slots whose lock is held by another process; a process that dies
 * (even by SIGKILL) loses its lock at once, so a crashed smtpd never leaves
 * a connection counted. Byte 0 of the file is a guard lock that makes
 * "count, then claim" atomic between processes.
 *
 * Layout: SLOT_BASE bytes of header (byte 0: guard), then SLOT_SIZE-byte
 * slots, NUL-padded addresses. At most SLOT_MAX slots (far more than
 * any maxproc): without a free slot the limit is not applied (warned).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "smtpd.h"

#define SLOT_BASE   64
#define SLOT_SIZE   64
#define SLOT_MAX    4096

static long smtpd_conn_slot = -1;   /* this process's slot, -1: none yet */

/* smtpd_conn_lock - fcntl lock or unlock one byte; wait when asked */
static int smtpd_conn_lock(int fd, off_t off, short type, int wait)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = off;
    fl.l_len = 1;
    while (fcntl(fd, wait ? F_SETLKW : F_SETLK, &fl) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return 0;
}

/* smtpd_conn_held - another live process holds this slot */
static int smtpd_conn_held(int fd, long slot)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = SLOT_BASE + slot * SLOT_SIZE;
    fl.l_len = 1;
    if (fcntl(fd, F_GETLK, &fl) < 0)
        return 0;
    return fl.l_type != F_UNLCK;
}

/* smtpd_conn_open - the shared file (O_NOFOLLOW); -1 when unusable */
int     smtpd_conn_open(const char *path)
{
    int     fd;
    struct stat st;

    if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        msg_warn("open %s: %m; smtpd_client_connection_count_limit not enforced", path);
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        msg_warn("%s: not a regular file with one link; "
                 "smtpd_client_connection_count_limit not enforced", path);
        (void) close(fd);
        return -1;
    }
    return fd;
}

/* smtpd_conn_write - put addr (or "") into our slot */
static int smtpd_conn_write(int fd, const char *addr)
{
    char    slot[SLOT_SIZE];

    memset(slot, 0, sizeof(slot));
    strncpy(slot, addr, sizeof(slot) - 1);
    return pwrite(fd, slot, sizeof(slot), SLOT_BASE + smtpd_conn_slot * SLOT_SIZE)
        == (ssize_t) sizeof(slot) ? 0 : -1;
}

/* smtpd_conn_claim - find a slot no live process holds and lock it */
static int smtpd_conn_claim(int fd)
{
    long    i;

    for (i = 0; i < SLOT_MAX; i++) {
        if (smtpd_conn_lock(fd, SLOT_BASE + i * SLOT_SIZE, F_WRLCK, 0) == 0) {
            smtpd_conn_slot = i;
            return 0;
        }
    }
    return -1;
}

/* smtpd_conn_enter - count addr's connections (this one included) into
 * *count; 0: registered, -1: over the limit (not registered). With no
 * usable file, 0 and *count 0: fail open, the limit is a safeguard. */
int     smtpd_conn_enter(int fd, const char *addr, long limit, long *count)
{
    struct stat st;
    char    slot[SLOT_SIZE];
    long    nslots;
    long    i;
    int     ret = 0;

    *count = 0;
    if (fd < 0 || smtpd_conn_lock(fd, 0, F_WRLCK, 1) < 0)
        return 0;
    if (smtpd_conn_slot < 0 && smtpd_conn_claim(fd) < 0) {
        msg_warn("connection count file full; limit not enforced");
        (void) smtpd_conn_lock(fd, 0, F_UNLCK, 0);
        return 0;
    }
    nslots = (fstat(fd, &st) == 0 && st.st_size > SLOT_BASE)
        ? (long) ((st.st_size - SLOT_BASE + SLOT_SIZE - 1) / SLOT_SIZE) : 0;
    if (nslots > SLOT_MAX)
        nslots = SLOT_MAX;
    *count = 1;
    for (i = 0; i < nslots; i++) {
        if (i == smtpd_conn_slot || !smtpd_conn_held(fd, i))
            continue;
        if (pread(fd, slot, sizeof(slot), SLOT_BASE + i * SLOT_SIZE) != (ssize_t) sizeof(slot))
            continue;
        slot[sizeof(slot) - 1] = 0;
        if (strcmp(slot, addr) == 0)
            *count += 1;
    }
    if (limit > 0 && *count > limit)
        ret = -1;
    else if (smtpd_conn_write(fd, addr) < 0)
        msg_warn("write connection count file: %m");
    (void) smtpd_conn_lock(fd, 0, F_UNLCK, 0);
    return ret;
}

/* smtpd_conn_leave - the session is over: empty our slot */
void    smtpd_conn_leave(int fd)
{
    if (fd < 0 || smtpd_conn_slot < 0)
        return;
    if (smtpd_conn_lock(fd, 0, F_WRLCK, 1) < 0)
        return;
    (void) smtpd_conn_write(fd, "");
    (void) smtpd_conn_lock(fd, 0, F_UNLCK, 0);
}
