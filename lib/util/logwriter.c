/* logwriter - rotation-safe appends to a log file; see logwriter.h. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logwriter.h"
#include "mem.h"
#include "safe_file.h"

#define LOGWRITER_REOPEN_MAX 4          /* a file renamed under us this often: give up */

struct LOGWRITER {
    char   *path;
    int     fd;                         /* -1: closed (reopened on the next write) */
    dev_t   dev;                        /* what fd holds */
    ino_t   ino;
    int     is_stdout;                  /* "/dev/stdout": fd 1, never reopened */
};

/* logwriter_reopen - (re)open lw->path for appending; 0 or -1 with why */
static int logwriter_reopen(LOGWRITER *lw, BUF *why)
{
    struct stat st;
    int     fd;

    if (lw->fd >= 0)
        close(lw->fd);
    lw->fd = -1;
    fd = safe_open(lw->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640,
                   SAFE_OWNER_ANY, &st, why);
    if (fd < 0)
        return -1;
    lw->fd = fd;
    lw->dev = st.st_dev;
    lw->ino = st.st_ino;
    return 0;
}

/* logwriter_open - a writer for path; NULL with why if it cannot be opened */
LOGWRITER *logwriter_open(const char *path, BUF *why)
{
    LOGWRITER *lw = xcalloc(1, sizeof(*lw));

    lw->path = xstrdup(path);
    lw->fd = -1;
    if (strcmp(path, LOGWRITER_STDOUT) == 0) {
        lw->is_stdout = 1;
        lw->fd = STDOUT_FILENO;
        return lw;
    }
    if (logwriter_reopen(lw, why) < 0) {
        logwriter_close(lw);
        return NULL;
    }
    return lw;
}

/* logwriter_current - does lw->path still name the file we hold? */
static int logwriter_current(const LOGWRITER *lw)
{
    struct stat st;

    return lw->fd >= 0 && lstat(lw->path, &st) == 0
        && st.st_dev == lw->dev && st.st_ino == lw->ino;
}

/* logwriter_write - append one line (the caller ends it with a newline).
 * 0, or -1 (errno set) when the file cannot be written. */
int logwriter_write(LOGWRITER *lw, const char *line, size_t len)
{
    BUF    *why;
    int     tries;
    int     rc;

    if (lw->is_stdout)
        return write_all(lw->fd, line, len);
    for (tries = 0; tries < LOGWRITER_REOPEN_MAX; tries++) {
        if (lw->fd >= 0) {
            while (flock(lw->fd, LOCK_SH) < 0)
                if (errno != EINTR)
                    return -1;
            /* Under the lock a rotation either is over (the name moved:
             * reopen) or waits for us (it cannot compress yet). */
            if (logwriter_current(lw)) {
                rc = write_all(lw->fd, line, len);
                (void) flock(lw->fd, LOCK_UN);
                return rc;
            }
        }
        why = buf_alloc(100);
        rc = logwriter_reopen(lw, why);
        buf_free(why);
        if (rc < 0)
            return -1;
    }
    errno = EAGAIN;
    return -1;
}

/* logwriter_close - close and free */
void logwriter_close(LOGWRITER *lw)
{
    if (lw == NULL)
        return;
    if (lw->fd >= 0 && !lw->is_stdout)
        close(lw->fd);
    xfree(lw->path);
    xfree(lw);
}

/* logwriter_one_shot - open, append one line, close: for writers that must
 * never hold the file between lines (the master before postlogd runs) */
int logwriter_one_shot(const char *path, const char *line, size_t len)
{
    BUF    *why = buf_alloc(100);
    LOGWRITER *lw = logwriter_open(path, why);
    int     rc;

    buf_free(why);
    if (lw == NULL)
        return -1;
    rc = logwriter_write(lw, line, len);
    logwriter_close(lw);
    return rc;
}
