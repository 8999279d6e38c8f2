/* qfile - queue files: create, commit, validate, mark; see qfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "record.h"
#include "safe_file.h"

#define QFILE_CREATE_TRIES  1000

/* qfile_size_text - the size record's fixed-width text */
static void qfile_size_text(BUF *out, const QFILE_SIZES *sz)
{
    buf_sprintf(out, "%*ld %*ld %*ld %*ld",
                QFILE_SIZE_WIDTH, sz->content_size, QFILE_SIZE_WIDTH, sz->data_offset,
                QFILE_SIZE_WIDTH, sz->nrcpt, QFILE_SIZE_WIDTH, sz->flags);
}

/* qfile_path - where a queue file lives; hashed queues get subfolders
 * named by the ID's last microsecond digits, which change fastest. */
void qfile_path(BUF *out, const char *queue_dir, const char *queue,
                const char *id, int hash_depth)
{
    int     i;

    buf_sprintf(out, "%s/%s/", queue_dir, queue);
    for (i = 0; i < hash_depth && i < 4; i++)
        buf_printf(out, "%c/", id[9 - i]);
    buf_puts(out, id);
}

/* qfile_name_by_inode - rename the new file to its queue ID; retry on clash */
static int qfile_name_by_inode(QFILE_WRITER *w, const char *tmp, BUF *why)
{
    struct stat st;
    BUF    *path = buf_alloc(100);
    int     ret = -1;

    if (fstat(w->fd, &st) < 0) {
        buf_sprintf(why, "fstat %s: %s", tmp, strerror(errno));
    } else {
        queue_id_make(w->id, &w->arrival, st.st_ino);
        w->dev = st.st_dev;
        qfile_path(path, w->queue_dir, QFILE_TEMP_QUEUE, w->id, 0);
        if (rename(tmp, buf_str(path)) < 0) {
            buf_sprintf(why, "rename %s to %s: %s", tmp, buf_str(path), strerror(errno));
        } else {
            w->temp_path = buf_steal(path);
            return 0;
        }
    }
    buf_free(path);
    return ret;
}

/* qfile_create - a new, not yet ready queue file in temp/, named by its ID */
QFILE_WRITER *qfile_create(const char *queue_dir, BUF *why)
{
    QFILE_WRITER *w = xcalloc(1, sizeof(*w));
    BUF    *tmp = buf_alloc(100);
    int     tries;

    w->fd = -1;
    w->queue_dir = xstrdup(queue_dir);
    for (tries = 0; w->fd < 0 && tries < QFILE_CREATE_TRIES; tries++) {
        gettimeofday(&w->arrival, NULL);
        buf_sprintf(tmp, "%s/%s/%ld.%ld.%d", queue_dir, QFILE_TEMP_QUEUE,
                    (long) w->arrival.tv_usec, (long) getpid(), tries);
        w->fd = open(buf_str(tmp), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                     QFILE_MODE_WRITING);
        if (w->fd < 0 && errno != EEXIST) {
            buf_sprintf(why, "create %s: %s", buf_str(tmp), strerror(errno));
            break;
        }
    }
    if (w->fd < 0 || qfile_name_by_inode(w, buf_str(tmp), why) < 0) {
        if (w->fd >= 0)
            (void) unlink(buf_str(tmp));
        buf_free(tmp);
        qfile_writer_free(w);
        return NULL;
    }
    buf_free(tmp);
    w->stream = stream_fdopen(w->fd);
    {
        QFILE_SIZES zero = {0, 0, 0, 0};
        BUF    *text = buf_alloc(80);

        qfile_size_text(text, &zero);
        rec_put(w->stream, REC_TYPE_SIZE, buf_str(text), buf_len(text));
        rec_fprintf(w->stream, REC_TYPE_TIME, "%ld %ld",
                    (long) w->arrival.tv_sec, (long) w->arrival.tv_usec);
        buf_free(text);
    }
    return w;
}

STREAM *qfile_stream(QFILE_WRITER *w)
{
    return w->stream;
}

/* The directory_fsync mode (safe_file.h); cleanup sets it from main.cf. */
static int qfile_dir_fsync = DIR_FSYNC_AUTO;

/* qfile_set_dir_fsync - how commits treat folders: DIR_FSYNC_* */
void qfile_set_dir_fsync(int mode)
{
    qfile_dir_fsync = mode;
}

/* qfile_need_dir_fsync - auto asks the file system once per device */
static int qfile_need_dir_fsync(QFILE_WRITER *w)
{
    static dev_t dev;
    static int known, need;

    if (qfile_dir_fsync != DIR_FSYNC_AUTO)
        return qfile_dir_fsync == DIR_FSYNC_YES;
    if (!known || w->dev != dev) {
        dev = w->dev;
        need = dir_fsync_needed(DIR_FSYNC_AUTO, w->fd);
        known = 1;
    }
    return need;
}

/* qfile_commit_sync_dir - data, mode, fsync; then the name and its folder */
static int qfile_commit_sync_dir(QFILE_WRITER *w, const char *path, BUF *why)
{
    if (fchmod(w->fd, QFILE_MODE_READY) < 0 || fsync(w->fd) < 0) {
        buf_sprintf(why, "fsync queue file %s: %s", w->id, strerror(errno));
        return -1;
    }
    if (rename(w->temp_path, path) < 0) {
        buf_sprintf(why, "rename %s to %s: %s", w->temp_path, path, strerror(errno));
        return -1;
    }
    if (fsync_parent(path) < 0) {
        /* The rename may not survive a crash: not committed. */
        buf_sprintf(why, "fsync folder of %s: %s", path, strerror(errno));
        (void) unlink(path);
        return -1;
    }
    return 0;
}

/* qfile_commit_sync_file - data and mode to the device, the name, then one
 * fsync of the file, which on these file systems also makes the name
 * durable (safe_file.c fsync_names_with_file) */
static int qfile_commit_sync_file(QFILE_WRITER *w, const char *path, BUF *why)
{
    if (fchmod(w->fd, QFILE_MODE_READY) < 0 || sync_data_now(w->fd) < 0) {
        buf_sprintf(why, "write queue file %s: %s", w->id, strerror(errno));
        return -1;
    }
    if (rename(w->temp_path, path) < 0) {
        buf_sprintf(why, "rename %s to %s: %s", w->temp_path, path, strerror(errno));
        return -1;
    }
    if (fsync(w->fd) < 0) {
        /* XXX qmgr may already have taken the file to active/: it is then
         * delivered although the client hears 4xx, a duplicate at worst. */
        buf_sprintf(why, "fsync queue file %s: %s", path, strerror(errno));
        (void) unlink(path);
        return -1;
    }
    return 0;
}

/*
 * qfile_commit - make the file durable and visible in `queue`.
 * Content and size record first, then the ready mode. Where folders must
 * be fsync'ed (directory_fsync = yes, or auto on a file system not known
 * to need less): fsync, rename, fsync the folder - two fsyncs. Otherwise
 * the data goes to the device, the file is renamed, and one fsync of the
 * file makes data, mode and name durable at once. Either way nothing has
 * been acknowledged until this returns 0; the file in the queue is always
 * complete and ready, so qmgr may even start on it before the fsync ends.
 */
int qfile_commit(QFILE_WRITER *w, const char *queue, const QFILE_SIZES *sizes, BUF *why)
{
    BUF    *text = buf_alloc(80);
    BUF    *path = buf_alloc(100);
    int     ret = -1;

    qfile_size_text(text, sizes);
    if (stream_flush(w->stream) < 0 || stream_error(w->stream)) {
        buf_sprintf(why, "write queue file %s: %s", w->id, strerror(errno));
    } else if (pwrite(w->fd, buf_str(text), buf_len(text),
                      (off_t) rec_header_len(buf_len(text))) != (ssize_t) buf_len(text)) {
        buf_sprintf(why, "update size record of %s: %s", w->id, strerror(errno));
    } else {
        buf_sprintf(path, "%s/%s/%s", w->queue_dir, queue, w->id);
        if ((qfile_need_dir_fsync(w) ? qfile_commit_sync_dir(w, buf_str(path), why)
             : qfile_commit_sync_file(w, buf_str(path), why)) == 0) {
            xfree(w->temp_path);
            w->temp_path = NULL;
            ret = 0;
        }
    }
    buf_free(text);
    buf_free(path);
    return ret;
}

/* qfile_abort - remove the unfinished file and release the writer */
void qfile_abort(QFILE_WRITER *w)
{
    if (w->temp_path && unlink(w->temp_path) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", w->id, w->temp_path);
    qfile_writer_free(w);
}

void qfile_writer_free(QFILE_WRITER *w)
{
    if (w->stream)
        stream_close(w->stream);
    else if (w->fd >= 0)
        close(w->fd);
    xfree(w->temp_path);
    xfree(w->queue_dir);
    xfree(w);
}

/* qfile_open_ready - open a complete queue file for reading (or marking) */
int qfile_open_ready(const char *path, int flags, struct stat *st, BUF *why)
{
    struct stat lst;
    int     fd;

    if (lstat(path, &lst) < 0) {
        buf_sprintf(why, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(lst.st_mode) || lst.st_nlink != 1) {
        buf_sprintf(why, "%s: not a regular file with one link", path);
        return -1;
    }
    if ((lst.st_mode & 0700) != QFILE_MODE_READY) {
        buf_sprintf(why, "%s: not ready (mode %04o)", path, (unsigned) (lst.st_mode & 07777));
        return -1;
    }
    if ((fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, st) < 0 || st->st_ino != lst.st_ino || st->st_dev != lst.st_dev
        || !S_ISREG(st->st_mode) || st->st_nlink != 1) {
        buf_sprintf(why, "%s: replaced while being opened", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* qfile_mark - overwrite one record's type byte (R becomes D) */
int qfile_mark(int fd, off_t record_offset, int type)
{
    unsigned char ch = (unsigned char) type;

    return pwrite(fd, &ch, 1, record_offset) == 1 ? 0 : -1;
}
