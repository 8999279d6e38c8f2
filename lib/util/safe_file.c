/* safe_file - open, write and commit files without being fooled; see safe_file.h.
 *
 * The checks follow Postfix's safe_open() logic: an existing file is
 * opened without following a symbolic link and must then be a regular file
 * with exactly one link, owned by the expected user, and the same object
 * (device and inode) that lstat() saw under the name before the open. A new
 * file is only ever made with O_CREAT|O_EXCL, which never follows a link
 * and never reuses an existing file. O_TRUNC is applied after the checks,
 * never by open(), so that a planted hard link to someone else's file is
 * refused before a single byte of it is lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "mem.h"
#include "safe_file.h"

#define SAFE_OPEN_TRIES 5       /* create/exists races before giving up */

/* safe_why - fill in why (which may be NULL) and set errno */
static void __attribute__((format(printf, 3, 4)))
safe_why(BUF *why, int err, const char *fmt, ...)
{
    va_list ap;

    if (why != NULL) {
        buf_reset(why);
        va_start(ap, fmt);
        buf_vprintf(why, fmt, ap);
        va_end(ap);
    }
    errno = err;
}

/* safe_check_fd - regular, one link, right owner, and still the file under path */
int safe_check_fd(int fd, const char *path, uid_t owner, struct stat *st, BUF *why)
{
    struct stat fst;
    struct stat lst;
    const char *name = path ? path : "(open file)";

    if (fstat(fd, &fst) < 0) {
        safe_why(why, errno, "cannot fstat %s: %s", name, strerror(errno));
        return -1;
    }
    if (!S_ISREG(fst.st_mode)) {
        safe_why(why, EPERM, "file %s: not a regular file", name);
        return -1;
    }
    if (fst.st_nlink == 0) {            /* unlinked: renamed over or removed */
        safe_why(why, EPERM, "file %s: was removed or replaced while being opened", name);
        return -1;
    }
    if (fst.st_nlink != 1) {
        safe_why(why, EPERM, "file %s: has more than one hard link", name);
        return -1;
    }
    if (owner != SAFE_OWNER_ANY && fst.st_uid != owner) {
        safe_why(why, EPERM, "file %s: has the wrong owner", name);
        return -1;
    }
    /* The name must still lead to the object we hold: beats a swap between
     * the open and now, and a symbolic link left at the name. */
    if (path != NULL) {
        if (lstat(path, &lst) < 0) {
            safe_why(why, errno, "cannot lstat %s: %s", path, strerror(errno));
            return -1;
        }
        if (S_ISLNK(lst.st_mode)) {
            safe_why(why, EPERM, "file %s: is a symbolic link", name);
            return -1;
        }
        if (lst.st_dev != fst.st_dev || lst.st_ino != fst.st_ino) {
            safe_why(why, EPERM, "file %s: was replaced while being opened", name);
            return -1;
        }
    }
    if (st != NULL)
        *st = fst;
    return 0;
}

/* safe_open_exist - open a file that exists; -1 with errno ENOENT if it doesn't */
static int safe_open_exist(const char *path, int flags, uid_t owner,
                           struct stat *st, BUF *why)
{
    struct stat before;
    struct stat after;
    int     fd;
    int     fl;

    /* lstat first: refuse links, FIFOs and devices before opening them (an
     * open of a FIFO could block, of a device could have side effects). */
    if (lstat(path, &before) < 0) {
        safe_why(why, errno, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(before.st_mode)) {
        safe_why(why, EPERM, "file %s: is a symbolic link", path);
        return -1;
    }
    if (!S_ISREG(before.st_mode)) {
        safe_why(why, EPERM, "file %s: not a regular file", path);
        return -1;
    }
    /* O_NONBLOCK: if a FIFO is swapped in after the lstat, open() must not
     * hang; the checks below then refuse it. */
    fd = open(path, (flags & ~(O_CREAT | O_EXCL | O_TRUNC))
              | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP)
            safe_why(why, EPERM, "file %s: is a symbolic link", path);
        else
            safe_why(why, errno, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (safe_check_fd(fd, path, owner, &after, why) < 0)
        goto bad;
    if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
        goto swapped;
    if ((flags & O_NONBLOCK) == 0 && (fl = fcntl(fd, F_GETFL)) >= 0)
        (void) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if ((flags & O_TRUNC) && ftruncate(fd, 0) < 0) {
        safe_why(why, errno, "cannot truncate %s: %s", path, strerror(errno));
        goto bad;
    }
    if (flags & O_TRUNC)
        after.st_size = 0;
    if (st != NULL)
        *st = after;
    if ((flags & O_CLOEXEC) == 0 && (fl = fcntl(fd, F_GETFD)) >= 0)
        (void) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
    return fd;

swapped:
    safe_why(why, EPERM, "file %s: was replaced while being opened", path);
bad:
    {
        int     saved = errno;

        close(fd);
        errno = saved;
    }
    return -1;
}

/* safe_open_create - make a new file; never follows a link, never reuses one */
static int safe_open_create(const char *path, int flags, mode_t mode, uid_t owner,
                            struct stat *st, BUF *why)
{
    int     fd;
    int     fl;

    fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, mode);
    if (fd < 0) {
        safe_why(why, errno, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    /* Root makes the file on someone's behalf: hand it over. */
    if (owner != SAFE_OWNER_ANY && geteuid() == 0 && fchown(fd, owner, (gid_t) -1) < 0) {
        safe_why(why, errno, "cannot chown %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (safe_check_fd(fd, path, owner, st, why) < 0) {
        int     saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    if ((flags & O_CLOEXEC) == 0 && (fl = fcntl(fd, F_GETFD)) >= 0)
        (void) fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
    return fd;
}

/* safe_open - open or create without following links or reusing planted files */
int safe_open(const char *path, int flags, mode_t mode, uid_t owner,
              struct stat *st, BUF *why)
{
    int     tries;
    int     fd;

    if ((flags & O_CREAT) && (flags & O_EXCL))
        return safe_open_create(path, flags, mode, owner, st, why);
    if ((flags & O_CREAT) == 0)
        return safe_open_exist(path, flags, owner, st, why);

    /* O_CREAT without O_EXCL: an existing file gets every check; a missing
     * one is created exclusively. Someone racing us between the two steps
     * just sends us round again, a bounded number of times. */
    for (tries = 0; tries < SAFE_OPEN_TRIES; tries++) {
        fd = safe_open_exist(path, flags, owner, st, why);
        if (fd >= 0 || errno != ENOENT)
            return fd;
        fd = safe_open_create(path, flags & ~O_TRUNC, mode, owner, st, why);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    safe_why(why, EAGAIN, "cannot open %s: file keeps appearing and disappearing", path);
    return -1;
}

/* write_all - write everything, across short writes and EINTR */
int write_all(int fd, const void *data, size_t len)
{
    const char *cp = data;
    ssize_t n;

    while (len > 0) {
        n = write(fd, cp, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0) {                   /* should not happen for files */
            errno = EIO;
            return -1;
        }
        cp += n;
        len -= (size_t) n;
    }
    return 0;
}

/* fsync_dir - make a folder's entries (creates, renames) durable */
int fsync_dir(const char *dir)
{
    int     fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int     saved;

    if (fd < 0)
        return -1;
    if (fsync(fd) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return close(fd);
}

/* parent_of - the folder that holds path ("." for a bare name); malloc'ed */
static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        return xstrdup(".");
    while (slash > path && slash[-1] == '/')
        slash--;
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t) (slash - path));
}

/* fsync_parent - fsync the folder that holds path */
int fsync_parent(const char *path)
{
    char   *dir = parent_of(path);
    int     ret = fsync_dir(dir);
    int     saved = errno;

    xfree(dir);
    errno = saved;
    return ret;
}

/* rename_sync - rename, then make it durable in both folders */
int rename_sync(const char *from, const char *to)
{
    char   *dir_from;
    char   *dir_to;
    int     ret = 0;
    int     saved = 0;

    if (rename(from, to) < 0)
        return -1;
    dir_from = parent_of(from);
    dir_to = parent_of(to);
    if (fsync_dir(dir_to) < 0) {
        saved = errno;
        ret = -1;
    }
    if (ret == 0 && strcmp(dir_from, dir_to) != 0 && fsync_dir(dir_from) < 0) {
        saved = errno;
        ret = -1;
    }
    xfree(dir_from);
    xfree(dir_to);
    errno = saved;
    return ret;
}

/*
 * Which file systems make a file's names durable with the file's fsync.
 * A name given to a file (create, link, rename into a folder) is made
 * durable, on these, by the next fsync of the file itself:
 * - ext4 with a journal: the create/link/rename is in the journal
 *   transaction that also dirtied the inode (nlink, ctime), and fsync
 *   commits the inode's latest transaction and everything before it;
 * - ext4 without a journal: ext4_add_entry() marks the inode "new entry"
 *   and fsync then also writes the folder of its (newest) name
 *   (fs/ext4/fsync.c ext4_sync_parent);
 * - xfs: create, link and rename log the inode, and fsync forces the log
 *   up to the inode's last change (xfs_file_fsync);
 * - tmpfs: nothing survives a power cut anyway; a folder fsync adds nothing.
 * (ext2 and ext3 mounted by the ext4 driver share ext4's magic and code.)
 * Left out: btrfs (its log replays the names, but a transaction commit
 * does not order file data before the names, see doc/design.md), NFS,
 * FUSE, overlay and anything unknown: those keep their folder fsyncs.
 */
#define FS_MAGIC_EXT4   0xEF53
#define FS_MAGIC_XFS    0x58465342
#define FS_MAGIC_TMPFS  0x01021994

/* dir_fsync_mode - the value of directory_fsync; -1 when not auto|yes|no */
int     dir_fsync_mode(const char *value)
{
    if (strcasecmp(value, "auto") == 0)
        return DIR_FSYNC_AUTO;
    if (strcasecmp(value, "yes") == 0)
        return DIR_FSYNC_YES;
    if (strcasecmp(value, "no") == 0)
        return DIR_FSYNC_NO;
    return -1;
}

/* fsync_names_with_file - 1 when the file system of fd makes a file's new
 * names durable with the file's own fsync (the list above), else 0 */
int     fsync_names_with_file(int fd)
{
    struct statfs sfs;

    if (fstatfs(fd, &sfs) < 0)
        return 0;
    switch ((unsigned long) sfs.f_type) {
    case FS_MAGIC_EXT4:
    case FS_MAGIC_XFS:
    case FS_MAGIC_TMPFS:
        return 1;
    default:
        return 0;
    }
}

/* dir_fsync_needed - must the folder of fd's new name be fsync'ed too? */
int     dir_fsync_needed(int mode, int fd)
{
    if (mode == DIR_FSYNC_YES)
        return 1;
    if (mode == DIR_FSYNC_NO)
        return 0;
    return !fsync_names_with_file(fd);
}

/* sync_data_now - write fd's data to the device and wait, without a
 * journal commit or a cache flush (the later fsync does those). Called
 * before a file gets its final name, so that on ext4 and xfs the name
 * never becomes durable before the data it names: the block allocation
 * and the size are then logged before the name, and every later journal
 * commit flushes the device cache past the data. */
int     sync_data_now(int fd)
{
    if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE
                        | SYNC_FILE_RANGE_WAIT_AFTER) == 0)
        return 0;
    if (errno == EINTR || errno == EIO || errno == ENOSPC)
        return -1;
    return fdatasync(fd);               /* not supported here: the heavy way */
}

/* mkdir_p - make a folder and its missing parents */
int mkdir_p(const char *path, mode_t mode)
{
    char   *copy = xstrdup(path);
    char   *cp = copy;
    struct stat st;
    int     ret = 0;
    char    saved_ch;

    /* Walk the components left to right, making each one that is missing. */
    for (;;) {
        while (*cp == '/')
            cp++;
        while (*cp && *cp != '/')
            cp++;
        saved_ch = *cp;
        *cp = 0;
        if (*copy && mkdir(copy, mode) < 0) {
            if (errno != EEXIST || stat(copy, &st) < 0) {
                ret = -1;
                break;
            }
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                ret = -1;
                break;
            }
        }
        *cp = saved_ch;
        if (saved_ch == 0)
            break;
    }
    {
        int     saved = errno;

        xfree(copy);
        errno = saved;
    }
    return ret;
}

/* read_small_fd - the rest of an open file, at most limit bytes, as a
 * buffer (content may hold NULs; its length says); `name` is for messages. The caller keeps the descriptor:
 * reading what was fstat'ed, never reopening the name, is what makes an
 * owner check on that descriptor mean something. */
BUF    *read_small_fd(int fd, const char *name, size_t limit, BUF *why)
{
    struct stat st;
    BUF    *text;
    char    block[4096];
    ssize_t n;

    text = buf_alloc(fstat(fd, &st) == 0 && st.st_size > 0 && (size_t) st.st_size <= limit ?
                     (size_t) st.st_size : sizeof(block));
    for (;;) {
        n = read(fd, block, sizeof(block));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            safe_why(why, errno, "cannot read %s: %s", name, strerror(errno));
            break;
        }
        if (n == 0)
            return text;
        if (buf_len(text) + (size_t) n > limit) {
            if (why != NULL)
                buf_sprintf(why, "file %s: larger than %zu bytes", name, limit);
            errno = EFBIG;
            break;
        }
        buf_append(text, block, (size_t) n);
    }
    {
        int     saved = errno;

        buf_free(text);
        errno = saved;
    }
    return NULL;
}

/* read_small_file - a whole regular file of at most limit bytes, NUL-terminated */
char *read_small_file(const char *path, size_t limit, BUF *why)
{
    struct stat st;
    BUF    *text;
    int     fd, saved;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        safe_why(why, errno, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        safe_why(why, EPERM, "file %s: not a regular file", path);
        close(fd);
        return NULL;
    }
    text = read_small_fd(fd, path, limit, why);
    saved = errno;
    close(fd);
    errno = saved;
    return text ? buf_steal(text) : NULL;
}
