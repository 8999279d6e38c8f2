/* surel_queue_repair - structure check and purge (Postfix's postsuper -s, -p).
 *
 *     surel queue repair [-s] [-p] [queue...]
 *
 * Neither flag means both, as `postsuper` without options does. Queues
 * default to every folder the step knows (below); named ones limit it.
 *
 * -s, the structure check and repair (postsuper -s), for incoming,
 * active, deferred and hold:
 *   - a queue file is named by its queue ID, which is its arrival time
 *     (the T record) and its inode number (lib/global/queue_id.h). A file
 *     whose name is not that ID (a queue restored from a backup or from
 *     another machine, where inodes differ; a file renamed by hand) gets
 *     that name: "OLD: renamed to NEW"; its defer/ and bounce/ logs follow;
 *   - a file in the wrong hash subfolder (after a change of
 *     hash_queue_names or hash_queue_depth) moves to where
 *     mail_queue_path() puts it: "ID: moved to QUEUE/x/ID"; likewise the
 *     logs in defer/ and bounce/;
 *   - hash subfolders that are empty and deeper than the folder's hash
 *     depth are removed.
 * A file that is busy (a delivery agent or qmgr holds its lock), not ready,
 * or whose records do not check out is left alone with a warning (qmgr
 * moves a bad file to corrupt/); a name already taken is never replaced.
 *
 * -p, the purge (postsuper -p): files a writer that died left in the
 * temporary areas, older than QFILE_TEMP_MAX_AGE (a day, qmgr's own bound
 * for temp/): any regular file in temp/ (cleanup's unfinished files) and
 * unfinished files in maildrop/ (postdrop's: no owner-execute "complete"
 * mark); "removed stale file temp/NAME". Nothing ready is ever removed.
 *
 * Both steps are safe while the system runs (every move is made under the
 * file's exclusive lock, by link and unlink so that no name is replaced)
 * but, as with Postfix, the intended time is before start-up.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "mail_queue.h"
#include "msg.h"
#include "qfile.h"
#include "queue_id.h"
#include "queue_list.h"
#include "safe_file.h"
#include "stream.h"
#include "surel_queue.h"

#define REPAIR_HASH_MAX 4               /* mail_queue_path's deepest level */

static const char *const repair_msg_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, NULL
};
static const char *const repair_log_queues[] = {MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE, NULL};
static const char *const repair_tmp_queues[] = {MAIL_QUEUE_TEMP, MAIL_QUEUE_MAILDROP, NULL};

typedef struct REPAIR {
    const char *queue_dir;
    char  **only;                       /* queues named on the command line */
    int     nonly;
    int     changed;                    /* files moved, renamed or removed */
    int     problems;                   /* left alone with a warning */
} REPAIR;

/* repair_wanted - is this queue among those named (or were none named)? */
static int repair_wanted(const REPAIR *rp, const char *queue)
{
    int     i;

    for (i = 0; i < rp->nonly; i++)
        if (strcmp(rp->only[i], queue) == 0)
            return 1;
    return rp->nonly == 0;
}

/* repair_move - give a file a new name without replacing one: link, then
 * unlink the old name (rename would silently replace a file of that name);
 * the hash subfolders are made as needed. 0, or -1 with a warning. */
static int repair_move(const char *from, const char *to)
{
    if (link(from, to) < 0 && (errno != ENOENT || mail_queue_mkdirs(to) < 0
                               || link(from, to) < 0)) {
        msg_warn("cannot move %s to %s: %m", from, to);
        return -1;
    }
    if (unlink(from) < 0) {
        msg_warn("remove %s after linking it to %s: %m", from, to);
        return -1;
    }
    if (fsync_parent(to) < 0 || fsync_parent(from) < 0)
        msg_warn("fsync the folders of %s: %m", to);
    return 0;
}

/* repair_rel - path relative to queue_dir, for log lines */
static const char *repair_rel(const REPAIR *rp, const char *path)
{
    size_t  len = strlen(rp->queue_dir);

    return strncmp(path, rp->queue_dir, len) == 0 && path[len] == '/' ? path + len + 1 : path;
}

/* repair_logs - the defer/ and bounce/ logs of a message renamed from old
 * to new follow it (a missing log is normal) */
static void repair_logs(REPAIR *rp, const char *old, const char *new)
{
    BUF    *from = buf_alloc(256);
    BUF    *to = buf_alloc(256);
    int     i;

    for (i = 0; repair_log_queues[i]; i++) {
        if (mail_queue_path(from, rp->queue_dir, repair_log_queues[i], old) < 0
            || mail_queue_path(to, rp->queue_dir, repair_log_queues[i], new) < 0)
            continue;                   /* an old name that is no ID: no log */
        if (access(buf_str(from), F_OK) == 0 && repair_move(buf_str(from), buf_str(to)) < 0)
            rp->problems++;
    }
    buf_free(from);
    buf_free(to);
}

/* repair_arrival - the arrival time of an open queue file, checked by
 * qfile_verify (nothing is believed before the records check out) */
static int repair_arrival(int fd, struct timeval *tv, BUF *why)
{
    STREAM *s = stream_fdopen(dup(fd));
    QFILE_SUMMARY sum;
    int     ret;

    if (s == NULL) {
        buf_sprintf(why, "dup: %s", strerror(errno));
        return -1;
    }
    ret = qfile_verify(s, &sum, why);
    stream_close(s);
    if (ret == 0)
        *tv = sum.arrival;
    return ret;
}

/* repair_message - one file of a message queue: the right name, the right
 * place (a queue_walk callback) */
static void repair_message(const char *queue, const char *name, const char *path, void *ctx)
{
    REPAIR *rp = ctx;
    BUF    *why = buf_alloc(100);
    BUF    *want = buf_alloc(256);
    char    id[QUEUE_ID_BUFSZ];
    struct timeval tv;
    struct stat st;
    int     fd;

    errno = 0;
    if ((fd = qfile_open_ready(path, O_RDONLY, &st, why)) < 0) {
        if (errno != ENOENT) {          /* gone meanwhile: delivered */
            msg_warn("%s: %s; left alone", repair_rel(rp, path), buf_str(why));
            rp->problems++;
        }
    } else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        msg_warn("%s: busy (being delivered); left alone", repair_rel(rp, path));
        rp->problems++;
    } else if (repair_arrival(fd, &tv, why) < 0) {
        msg_warn("%s: %s; left alone", repair_rel(rp, path), buf_str(why));
        rp->problems++;
    } else {
        queue_id_make(id, &tv, st.st_ino);
        if (mail_queue_path(want, rp->queue_dir, queue, id) == 0
            && strcmp(buf_str(want), path) != 0) {
            if (repair_move(path, buf_str(want)) < 0) {
                rp->problems++;
            } else if (strcmp(name, id) != 0) {
                msg_info("%s: renamed to %s", name, id);
                repair_logs(rp, name, id);
                rp->changed++;
            } else {
                msg_info("%s: moved to %s", id, repair_rel(rp, buf_str(want)));
                rp->changed++;
            }
        }
    }
    if (fd >= 0)
        close(fd);                      /* releases the lock */
    buf_free(why);
    buf_free(want);
}

/* repair_log - one defer/ or bounce/ log: the right hash subfolder */
static void repair_log(const char *queue, const char *name, const char *path, void *ctx)
{
    REPAIR *rp = ctx;
    BUF    *want = buf_alloc(256);

    if (mail_queue_path(want, rp->queue_dir, queue, name) == 0
        && strcmp(buf_str(want), path) != 0) {
        if (repair_move(path, buf_str(want)) < 0) {
            rp->problems++;
        } else {
            msg_info("%s: moved to %s", repair_rel(rp, path), repair_rel(rp, buf_str(want)));
            rp->changed++;
        }
    }
    buf_free(want);
}

/* repair_prune - remove empty one-character subfolders of dir deeper than
 * the queue's hash depth (level is dir's own depth below the queue) */
static void repair_prune(REPAIR *rp, const char *dir, int level, int depth)
{
    DIR    *dp;
    struct dirent *de;
    struct stat st;
    BUF    *sub = buf_alloc(256);

    if ((dp = opendir(dir)) == NULL) {
        buf_free(sub);
        return;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.' || strlen(de->d_name) != 1)
            continue;
        buf_sprintf(sub, "%s/%s", dir, de->d_name);
        if (lstat(buf_str(sub), &st) < 0 || !S_ISDIR(st.st_mode))
            continue;
        if (level < REPAIR_HASH_MAX)
            repair_prune(rp, buf_str(sub), level + 1, depth);
        /* A folder that still holds something stays: rmdir says so. */
        if (level + 1 > depth && rmdir(buf_str(sub)) == 0)
            msg_info("removed empty folder %s", repair_rel(rp, buf_str(sub)));
    }
    closedir(dp);
    buf_free(sub);
}

/* repair_structure - -s over the selected message and log queues */
static void repair_structure(REPAIR *rp)
{
    const char *const *lists[] = {repair_msg_queues, repair_log_queues};
    BUF    *why = buf_alloc(100);
    BUF    *dir = buf_alloc(256);
    const char *const *q;
    size_t  i;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        for (q = lists[i]; *q; q++) {
            if (!repair_wanted(rp, *q))
                continue;
            if (queue_walk(rp->queue_dir, *q, QUEUE_WALK_ANY_NAME,
                           i == 0 ? repair_message : repair_log, rp, why) < 0) {
                msg_warn("%s", buf_str(why));
                rp->problems++;
                continue;
            }
            buf_sprintf(dir, "%s/%s", rp->queue_dir, *q);
            repair_prune(rp, buf_str(dir), 0, mail_queue_hash_depth(*q));
        }
    }
    buf_free(why);
    buf_free(dir);
}

/* repair_purge - -p: stale files in temp/ and unfinished ones in maildrop/ */
static void repair_purge(REPAIR *rp)
{
    const char *const *q;
    DIR    *dp;
    struct dirent *de;
    struct stat st;
    BUF    *path = buf_alloc(256);
    time_t  now = time(NULL);

    for (q = repair_tmp_queues; *q; q++) {
        if (!repair_wanted(rp, *q))
            continue;
        buf_sprintf(path, "%s/%s", rp->queue_dir, *q);
        if ((dp = opendir(buf_str(path))) == NULL) {
            msg_warn("open folder %s: %m", buf_str(path));
            rp->problems++;
            continue;
        }
        while ((de = readdir(dp)) != NULL) {
            if (de->d_name[0] == '.')
                continue;
            buf_sprintf(path, "%s/%s/%s", rp->queue_dir, *q, de->d_name);
            if (lstat(buf_str(path), &st) < 0 || !S_ISREG(st.st_mode)
                || now - st.st_mtime <= QFILE_TEMP_MAX_AGE)
                continue;
            /* A complete maildrop file is mail pickup has yet to take. */
            if (strcmp(*q, MAIL_QUEUE_MAILDROP) == 0 && (st.st_mode & S_IXUSR))
                continue;
            if (unlink(buf_str(path)) == 0) {
                msg_info("removed stale file %s/%s", *q, de->d_name);
                rp->changed++;
            } else if (errno != ENOENT) {
                msg_warn("remove %s: %m", buf_str(path));
                rp->problems++;
            }
        }
        closedir(dp);
    }
    buf_free(path);
}

/* repair_queue_known - is name a folder one of the steps works on? */
static int repair_queue_known(const char *name)
{
    const char *const *lists[] = {repair_msg_queues, repair_log_queues, repair_tmp_queues};
    const char *const *q;
    size_t  i;

    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        for (q = lists[i]; *q; q++)
            if (strcmp(name, *q) == 0)
                return 1;
    return 0;
}

/* sq_repair_main - surel queue repair [-s] [-p] [queue...] */
int sq_repair_main(int argc, char **argv)
{
    REPAIR  rp;
    const char *log;
    int     structure = 0;
    int     purge = 0;
    int     i;

    memset(&rp, 0, sizeof(rp));
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-s") == 0) {
            structure = 1;
        } else if (strcmp(argv[i], "-p") == 0) {
            purge = 1;
        } else if (strcmp(argv[i], "-sp") == 0 || strcmp(argv[i], "-ps") == 0) {
            structure = purge = 1;
        } else {
            fprintf(stderr, "usage: surel queue repair [-s] [-p] [queue...]\n");
            return 2;
        }
    }
    if (!structure && !purge)
        structure = purge = 1;
    rp.only = argv + i;
    rp.nonly = argc - i;
    for (i = 0; i < rp.nonly; i++)
        if (!repair_queue_known(rp.only[i]))
            msg_fatal("surel queue repair: cannot work on the '%s' queue", rp.only[i]);
    rp.queue_dir = sq_load();
    sq_require_owner(argv[0], rp.queue_dir);
    log = config_str(P_maillog_file);
    if (*log && maillog_client(1) < 0)
        msg_debug("cannot open %s: %m", log);
    if (structure)
        repair_structure(&rp);
    if (purge)
        repair_purge(&rp);
    if (rp.changed)
        fprintf(stderr, "surel queue repair: %d file%s changed\n", rp.changed,
                rp.changed == 1 ? "" : "s");
    return rp.problems ? 1 : 0;
}
