/* local_mailbox - Maildir, mbox and /file destinations.
 *
 * Every write here happens with the effective uid and gid of the user it
 * is for (local_privs_enter), and no file or folder is reached through a
 * symbolic link at its last step, nor written through a hard link
 * (DESIGN §10.7-8):
 *
 * Maildir: the folder and its tmp/ and new/ are opened with O_NOFOLLOW
 *   and must belong to the recipient; the message is written to
 *   tmp/<sec>.M<usec>P<pid>.<host> (O_EXCL), fsync'ed, linked into
 *   new/<sec>.M<usec>P<pid>V<dev>I<ino>.<host> (link() never replaces an
 *   existing name), the tmp/ name removed and new/ fsync'ed. Where the
 *   file's fsync also makes its name durable (directory_fsync = auto on
 *   ext4, xfs, tmpfs; or no): data written out (sync_file_range), linked,
 *   tmp/ name removed, one fsync of the file. Either way the delivery is
 *   reported only after data and name are durable. Missing
 *   Maildir/, tmp/, new/ and cur/ are made (mode 0700) as the recipient.
 * mbox: opened O_APPEND|O_NOFOLLOW, or made O_EXCL; it must be a regular
 *   file with one link owned by the recipient and the same file that the
 *   name leads to (safe_check_fd). Locked with a dot-lock (<mbox>.lock,
 *   skipped where the folder does not let us make one) and an fcntl lock;
 *   any failure truncates the mailbox back to its old length.
 * /file: like mbox, with the rights of the alias or .forward owner and any
 *   file owner (the file's permissions decide); a name ending in / is a
 *   Maildir.
 * Problems with the mailbox itself (a link, a wrong owner, a lock that
 * never comes) defer the mail: an administrator can repair the mailbox,
 * and nothing is lost meanwhile. Only a full mailbox (mailbox_size_limit,
 * EDQUOT, EFBIG) bounces, with 5.2.2, as in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "deliver_pass.h"
#include "local.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"

#define LOCAL_LOCK_WAIT     10      /* seconds to wait for an mbox lock */
#define LOCAL_LOCK_STALE    300     /* a dot-lock this old is abandoned */
#define LOCAL_LOCK_POLL_US  100000

/* local_write_status - the status of a failed write: full mailboxes bounce */
static int local_write_status(LOCAL_STATUS *st, int copy_ret, int err, const char *what,
                              const char *why)
{
    if (copy_ret == LOCAL_COPY_LIMIT || err == EDQUOT || err == EFBIG) {
        local_status_set(st, "5.2.2", "cannot update %s: %s", what,
                         copy_ret == LOCAL_COPY_LIMIT ? "mailbox full" : why);
    } else if (copy_ret == LOCAL_COPY_READ) {
        local_status_set(st, "4.3.0", "cannot read the message: %s", why);
    } else {
        local_status_set(st, "4.2.0", "cannot update %s: %s", what, why);
    }
    return st->stat;
}

/* local_maildir_host - the host name part of a maildir file name */
static void local_maildir_host(BUF *out)
{
    const char *cp;

    buf_reset(out);
    for (cp = config_str(P_myhostname); *cp; cp++) {
        if (*cp == '/')
            buf_puts(out, "\\057");
        else if (*cp == ':')
            buf_puts(out, "\\072");
        else
            buf_putc(out, *cp);
    }
}

static int local_open_dir_bare(int, const char *, uid_t, BUF *);

/* local_open_dir - a folder under parent (AT_FDCWD: a path), made if
 * missing, never through a symbolic link, owned by owner; -1 with why */
static int local_open_dir(int parent, const char *name, uid_t owner, BUF *why)
{
    char   *bare = xstrdup(name);
    size_t  len = strlen(bare);
    int     fd;

    /* A trailing slash would make open() follow a symbolic link. */
    while (len > 1 && bare[len - 1] == '/')
        bare[--len] = 0;
    fd = local_open_dir_bare(parent, bare, owner, why);
    xfree(bare);
    return fd;
}

/* local_open_dir_bare - local_open_dir for a name without trailing slash */
static int local_open_dir_bare(int parent, const char *name, uid_t owner, BUF *why)
{
    struct stat st;
    int     fd;

    /* Open first: the folder nearly always exists, and a mkdir that says
     * EEXIST on every delivery is a wasted call. */
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(parent, name, 0700) < 0 && errno != EEXIST) {
            buf_sprintf(why, "cannot create folder %s: %s", name, strerror(errno));
            return -1;
        }
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            buf_sprintf(why, "folder %s is a symbolic link", name);
        else
            buf_sprintf(why, "cannot open folder %s: %s", name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || st.st_uid != owner) {
        buf_sprintf(why, "folder %s is not owned by uid %ld", name, (long) owner);
        close(fd);
        return -1;
    }
    return fd;
}

/* local_maildir_dir_fsync - directory_fsync, read once */
static int local_maildir_dir_fsync(void)
{
    static int mode = -1;

    if (mode < 0)
        mode = mail_queue_dir_fsync();
    return mode;
}

/* local_maildir_write - the Maildir steps, already with the recipient's rights */
static int local_maildir_write(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dir,
                               uid_t owner, LOCAL_STATUS *st)
{
    BUF    *why = buf_alloc(100);
    BUF    *host = buf_alloc(64);
    BUF    *tname = buf_alloc(100);
    BUF    *nname = buf_alloc(100);
    int     mfd = -1, tfd = -1, nfd = -1, fd = -1, ret, err = 0;
    int     sync_dir = 1, tmp_gone = 0, linked = 0;
    struct timeval now;
    struct stat fst;
    long    limit = config_int(P_mailbox_size_limit);

    if ((mfd = local_open_dir(AT_FDCWD, dir, owner, why)) < 0
        || (tfd = local_open_dir(mfd, "tmp", owner, why)) < 0
        || (nfd = local_open_dir(mfd, "new", owner, why)) < 0) {
        local_status_set(st, "4.2.0", "maildir delivery failed: %s", buf_str(why));
        goto done;
    }
    /* cur/ is only made, never written: one mkdirat (EEXIST is fine and
     * never follows a link) instead of open, fstat and close. */
    if (mkdirat(mfd, "cur", 0700) < 0 && errno != EEXIST)
        msg_warn("maildir %s: cannot create folder cur: %m", dir);
    local_maildir_host(host);
    gettimeofday(&now, NULL);
    buf_sprintf(tname, "%ld.M%ldP%ld.%s", (long) now.tv_sec, (long) now.tv_usec,
                (long) getpid(), buf_str(host));
    fd = openat(tfd, buf_str(tname), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        local_status_set(st, "4.2.0", "maildir delivery failed: create tmp/%s: %s",
                         buf_str(tname), strerror(errno));
        goto done;
    }
    ret = local_copy(state->msg, attr->sender, state->delivered, fd, LOCAL_COPY_HEADERS,
                     limit, why);
    err = errno;
    if (ret == LOCAL_COPY_OK) {
        /* Where the file's fsync also makes its new/ name durable, the data
         * goes to the device now and the one fsync comes after the link;
         * elsewhere fsync, link, fsync new/ (local_maildir_dir_fsync). */
        sync_dir = dir_fsync_needed(local_maildir_dir_fsync(), nfd);
        if ((sync_dir ? fsync(fd) : sync_data_now(fd)) < 0 || fstat(fd, &fst) < 0) {
            ret = LOCAL_COPY_WRITE;
            err = errno;
            buf_set(why, strerror(err));
        }
    }
    if (ret == LOCAL_COPY_OK) {
        buf_sprintf(nname, "%ld.M%ldP%ldV%lxI%lx.%s", (long) now.tv_sec, (long) now.tv_usec,
                    (long) getpid(), (unsigned long) fst.st_dev, (unsigned long) fst.st_ino,
                    buf_str(host));
        if (linkat(tfd, buf_str(tname), nfd, buf_str(nname), 0) < 0) {
            ret = LOCAL_COPY_WRITE;
            err = errno;
            buf_sprintf(why, "link into new/: %s", strerror(err));
        } else {
            /* The tmp/ name goes first: the file's only name is then in new/,
             * the one ext4 without a journal syncs the folder of. */
            linked = 1;
            (void) unlinkat(tfd, buf_str(tname), 0);
            tmp_gone = 1;
            if ((sync_dir ? fsync(nfd) : fsync(fd)) < 0) {
                ret = LOCAL_COPY_WRITE;
                err = errno;
                buf_sprintf(why, "fsync %s: %s", sync_dir ? "new/" : "new/ file", strerror(err));
            }
        }
    }
    if (close(fd) < 0 && ret == LOCAL_COPY_OK) {
        ret = LOCAL_COPY_WRITE;
        err = errno;
        buf_set(why, strerror(err));
    }
    /* Only a name we made: a failed link (EEXIST) leaves someone else's. */
    if (ret != LOCAL_COPY_OK && linked)
        (void) unlinkat(nfd, buf_str(nname), 0);
    if (!tmp_gone)
        (void) unlinkat(tfd, buf_str(tname), 0);
    if (ret != LOCAL_COPY_OK)
        local_write_status(st, ret, err, "maildir", buf_str(why));
    else
        local_status_set(st, "2.0.0", "delivered to maildir");

  done:
    if (mfd >= 0)
        close(mfd);
    if (tfd >= 0)
        close(tfd);
    if (nfd >= 0)
        close(nfd);
    buf_free(why);
    buf_free(host);
    buf_free(tname);
    buf_free(nname);
    return st->stat;
}

/* local_deliver_maildir - deliver into the Maildir dir (ends in /) as privs */
int     local_deliver_maildir(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dir,
                              const LOCAL_PRIVS *privs, LOCAL_STATUS *st)
{
    local_privs_enter(privs->uid, privs->gid);
    local_maildir_write(state, attr, dir, privs->uid, st);
    local_privs_leave();
    return st->stat;
}

/* local_dotlock - make path.lock; 1 locked, 0 skipped (folder not ours), -1 failed */
static int local_dotlock(const char *path, BUF *lock, time_t deadline, BUF *why)
{
    struct stat st;
    int     fd, warned = 0;

    buf_sprintf(lock, "%s.lock", path);
    for (;;) {
        fd = open(buf_str(lock), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) {
            close(fd);
            return 1;
        }
        if (errno == EACCES || errno == EPERM || errno == EROFS)
            return 0;
        if (errno != EEXIST) {
            buf_sprintf(why, "unable to create lock file %s: %s", buf_str(lock), strerror(errno));
            return -1;
        }
        /* A stale lock we may not remove (another user's, in a sticky
         * folder) is waited for like a live one: retrying at once would
         * spin past the deadline for ever. */
        if (lstat(buf_str(lock), &st) == 0 && st.st_mtime + LOCAL_LOCK_STALE < time(NULL)) {
            if (unlink(buf_str(lock)) == 0) {
                msg_warn("removed stale lock %s", buf_str(lock));
                continue;
            }
            if (errno == ENOENT)
                continue;
            if (!warned++)
                msg_warn("cannot remove stale lock %s: %m", buf_str(lock));
        }
        if (time(NULL) >= deadline) {
            buf_sprintf(why, "unable to create lock file %s: %s", buf_str(lock),
                        strerror(EEXIST));
            return -1;
        }
        usleep(LOCAL_LOCK_POLL_US);
    }
}

/* local_fcntl_lock - an exclusive fcntl lock on the whole file, or -1 */
static int local_fcntl_lock(int fd, int type, time_t deadline, BUF *why)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = (short) type;
    fl.l_whence = SEEK_SET;
    while (fcntl(fd, F_SETLK, &fl) < 0) {
        if ((errno != EAGAIN && errno != EACCES) || time(NULL) >= deadline) {
            buf_sprintf(why, "unable to lock for exclusive access: %s", strerror(errno));
            return -1;
        }
        usleep(LOCAL_LOCK_POLL_US);
    }
    return 0;
}

/* local_mbox_open - open for appending, or make it; checked as safe_open does */
static int local_mbox_open(const char *path, uid_t owner, BUF *why)
{
    struct stat st;
    int     fd;

    fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            buf_sprintf(why, "file %s: is a symbolic link", path);
        else
            buf_sprintf(why, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (safe_check_fd(fd, path, owner, &st, why) < 0) {
        close(fd);
        return -1;
    }
    if (owner == SAFE_OWNER_ANY && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
        buf_sprintf(why, "file %s: is executable", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* local_mbox_write - lock, append, fsync; truncate back on any failure */
static int local_mbox_write(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                            int fd, const char *what, LOCAL_STATUS *st)
{
    BUF    *why = buf_alloc(100);
    BUF    *lock = buf_alloc(100);
    time_t  deadline = time(NULL) + LOCAL_LOCK_WAIT;
    long    limit = config_int(P_mailbox_size_limit);
    struct stat fst;
    int     dotlocked, ret, err;

    if ((dotlocked = local_dotlock(path, lock, deadline, why)) < 0
        || local_fcntl_lock(fd, F_WRLCK, deadline, why) < 0) {
        local_status_set(st, "4.2.0", "cannot update %s: %s", what, buf_str(why));
        goto unlock;
    }
    if (fstat(fd, &fst) < 0) {
        local_status_set(st, "4.2.0", "cannot update %s: %s", what, strerror(errno));
        goto unlock;
    }
    if (limit > 0 && fst.st_size >= limit) {
        local_write_status(st, LOCAL_COPY_LIMIT, 0, what, "");
        goto unlock;
    }
    ret = local_copy(state->msg, attr->sender, state->delivered, fd, LOCAL_COPY_MBOX,
                     limit > 0 ? limit - (long) fst.st_size : 0, why);
    err = errno;
    if (ret == LOCAL_COPY_OK && fsync(fd) < 0) {
        ret = LOCAL_COPY_WRITE;
        err = errno;
        buf_set(why, strerror(err));
    }
    if (ret != LOCAL_COPY_OK) {
        /* Leave the mailbox as it was: no half message for the next reader. */
        if (ftruncate(fd, fst.st_size) < 0 || fsync(fd) < 0)
            msg_warn("%s: cannot truncate %s back to %ld bytes: %m",
                     state->msg->queue_id, path, (long) fst.st_size);
        local_write_status(st, ret, err, what, buf_str(why));
    } else {
        local_status_set(st, "2.0.0", "delivered to %s", what);
    }

  unlock:
    (void) local_fcntl_lock(fd, F_UNLCK, 0, why);
    if (dotlocked > 0 && unlink(buf_str(lock)) < 0)
        msg_warn("remove %s: %m", buf_str(lock));
    buf_free(why);
    buf_free(lock);
    return st->stat;
}

/* local_deliver_mbox - append to the mbox at path as privs; the file must be
 * owned by owner (SAFE_OWNER_ANY for /file destinations) */
int     local_deliver_mbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                           const LOCAL_PRIVS *privs, uid_t owner, LOCAL_STATUS *st)
{
    BUF    *why = buf_alloc(100);
    const char *what = owner == SAFE_OWNER_ANY ? "file" : "mailbox";
    int     fd;

    local_privs_enter(privs->uid, privs->gid);
    if ((fd = local_mbox_open(path, owner, why)) < 0) {
        local_status_set(st, "4.2.0", "cannot update %s %s: %s", what, path, buf_str(why));
    } else {
        local_mbox_write(state, attr, path, fd, what, st);
        close(fd);
    }
    local_privs_leave();
    buf_free(why);
    return st->stat;
}

/* local_deliver_file - a /file destination, with the rights of attr->privs */
int     local_deliver_file(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                           LOCAL_STATUS *st)
{
    size_t  len = strlen(path);

    if (len > 0 && path[len - 1] == '/')
        local_deliver_maildir(state, attr, path, attr->privs, st);
    else
        local_deliver_mbox(state, attr, path, attr->privs, SAFE_OWNER_ANY, st);
    if (st->stat == DELIVER_STAT_OK)
        local_status_set(st, "2.0.0", "delivered to file: %s", path);
    return st->stat;
}

/* local_spool_make - make a missing mbox in a spool folder that only root
 * may write (Postfix's fallback): O_EXCL as root, then hand it to the user */
static void local_spool_make(const char *path, const LOCAL_USER *user)
{
    int     fd;

    if (!local_is_root())
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (fchown(fd, user->uid, user->gid) < 0)
        msg_warn("chown %s: %m", path);
    close(fd);
}

/* local_deliver_mailbox - the user's own mailbox: mailbox_command, a
 * Maildir or mbox under home (home_mailbox), or mbox in the spool folder */
int     local_deliver_mailbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, LOCAL_STATUS *st)
{
    const LOCAL_USER *user = attr->user;
    const char *home_mailbox = config_str(P_home_mailbox);
    const char *spool = config_str(P_mail_spool_directory);
    LOCAL_PRIVS privs;
    BUF    *path = buf_alloc(100);
    size_t  len;
    struct stat sst;

    local_privs_from_user(user, &privs);
    if (*config_str(P_mailbox_transport)) {
        /* Postfix's mailbox_transport: the mailbox is another agent's
         * (lmtp:unix:private/dovecot-lmtp), which delivers and logs. */
        int     rc = deliver_pass(config_str(P_mailbox_transport), state->msg->req, attr->sender,
                                  attr->address, state->rcpt, st->dsn, sizeof(st->dsn), st->why);

        if (rc < 0) {
            local_status_set(st, "4.3.0", "%s", buf_str(st->why));
        } else {
            st->stat = rc;
            st->logged = 1;
        }
    } else if (*config_str(P_mailbox_command)) {
        /* Root's mail goes through the command with $default_privs, as in
         * Postfix: a mail filter must never run as root. */
        if (privs.uid == 0 && local_is_root() && local_privs_default(&privs, path) < 0)
            local_status_set(st, "4.3.0", "%s", buf_str(path));
        else
            local_deliver_command(state, attr, config_str(P_mailbox_command), &privs, st);
    } else if (user->sandbox) {
        /* A user added to $sandbox_users later has no folder yet: make it,
         * as the instance user, inside $sandbox_mail_directory. */
        /* (Only when it is missing: switching ids costs a dozen calls.) */
        if (lstat(user->home, &sst) < 0 && errno == ENOENT) {
            local_privs_enter(privs.uid, privs.gid);
            if (mkdir(user->home, 0700) < 0 && errno != EEXIST)
                msg_warn("mkdir %s: %m", user->home);
            local_privs_leave();
        }
        buf_sprintf(path, "%s/Maildir/", user->home);
        local_deliver_maildir(state, attr, buf_str(path), &privs, st);
    } else if (*home_mailbox) {
        buf_sprintf(path, "%s/%s", user->home, home_mailbox);
        len = strlen(home_mailbox);
        if (home_mailbox[len - 1] == '/')
            local_deliver_maildir(state, attr, buf_str(path), &privs, st);
        else
            local_deliver_mbox(state, attr, buf_str(path), &privs, user->uid, st);
    } else {
        buf_sprintf(path, "%s/%s", spool, user->name);
        /* A spool folder writable by its group only (Debian: root:mail
         * 2775) is written with that group, as the user. */
        if (stat(spool, &sst) == 0 && (sst.st_mode & S_IWGRP) && !(sst.st_mode & S_IWOTH))
            privs.gid = sst.st_gid;
        if (stat(spool, &sst) == 0 && !(sst.st_mode & (S_IWGRP | S_IWOTH))
            && access(buf_str(path), F_OK) < 0)
            local_spool_make(buf_str(path), user);
        local_deliver_mbox(state, attr, buf_str(path), &privs, user->uid, st);
    }
    local_privs_free(&privs);
    buf_free(path);
    return st->stat;
}
