/* pidlock - the master's pid file lock; see pidlock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidlock.h"

/* pidlock_read_pid - the pid written in the file, or 0 */
static pid_t pidlock_read_pid(int fd)
{
    char    text[32];
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

    if (n <= 0)
        return 0;
    text[n] = 0;
    return (pid_t) strtol(text, NULL, 10);
}

/* pidlock_open - open the pid file without following links; regular files only */
static int pidlock_open(const char *path, int flags, BUF *why)
{
    struct stat st;
    int     fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0644);

    if (fd < 0) {
        if (why)
            buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        if (why)
            buf_sprintf(why, "%s: not a regular file with one link", path);
        close(fd);
        errno = EPERM;
        return -1;
    }
    return fd;
}

int pidlock_acquire(const char *path, pid_t *holder, BUF *why)
{
    char    text[32];
    int     fd = pidlock_open(path, O_RDWR | O_CREAT, why);
    int     n;

    if (holder)
        *holder = 0;
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (holder)
            *holder = pidlock_read_pid(fd);
        if (why)
            buf_sprintf(why, "%s is locked by another process (pid %ld)",
                        path, (long) pidlock_read_pid(fd));
        close(fd);
        return -1;
    }
    n = snprintf(text, sizeof(text), "%10ld\n", (long) getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t) n, 0) != n) {
        if (why)
            buf_sprintf(why, "write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int pidlock_probe(const char *path, pid_t *pid, BUF *why)
{
    int     fd = pidlock_open(path, O_RDONLY, why);

    *pid = 0;
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return 0;
    }
    if (errno != EWOULDBLOCK) {
        if (why)
            buf_sprintf(why, "lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    *pid = pidlock_read_pid(fd);
    close(fd);
    return 1;
}
