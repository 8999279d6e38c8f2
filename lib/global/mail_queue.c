/* mail_queue - the queue folder table, and creating and checking the
 * folders it describes; see mail_queue.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "queue_id.h"
#include "safe_file.h"

const MAIL_QUEUE_DIR mail_queue_dirs[] = {
    {"", MAIL_QUEUE_OWNER_ROOT, MAIL_QUEUE_GROUP_ANY, 0755,
     "the queue itself: root's, so that only root can add or swap folders"},
    {MAIL_QUEUE_MAILDROP, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_SETGID, 01730,
     "files from postdrop, not yet picked up; writable by postdrop's group, listable by nobody"},
    {MAIL_QUEUE_TEMP, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "queue files being written by cleanup (qfile.h); never scheduled"},
    {MAIL_QUEUE_INCOMING, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "complete queue files not yet seen by qmgr"},
    {MAIL_QUEUE_ACTIVE, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "files qmgr is working on"},
    {MAIL_QUEUE_DEFERRED, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "files waiting for a retry"},
    {MAIL_QUEUE_HOLD, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "files held by the administrator"},
    {MAIL_QUEUE_CORRUPT, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "files that failed to parse; never deleted automatically"},
    {MAIL_QUEUE_BOUNCE, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "per-message logs of recipients that bounced"},
    {MAIL_QUEUE_DEFER, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "per-message logs of recipients that were deferred"},
    {MAIL_QUEUE_PRIVATE, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY, 0700,
     "sockets of internal services"},
    {MAIL_QUEUE_PUBLIC, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_SETGID, 02710,
     "sockets that postdrop's group may reach"},
    {MAIL_QUEUE_PID, MAIL_QUEUE_OWNER_ROOT, MAIL_QUEUE_GROUP_ANY, 0755,
     "master.pid, locked while the master runs"},
};

const int mail_queue_ndirs = (int) (sizeof(mail_queue_dirs) / sizeof(mail_queue_dirs[0]));

/* mail_queue_dir_find - the table entry for a folder name, or NULL */
const MAIL_QUEUE_DIR *mail_queue_dir_find(const char *name)
{
    int     i;

    for (i = 0; i < mail_queue_ndirs; i++)
        if (strcmp(mail_queue_dirs[i].name, name) == 0)
            return &mail_queue_dirs[i];
    return NULL;
}

/* mail_queue_hash_depth - see mail_queue.h */
int mail_queue_hash_depth(const char *queue)
{
    int     count, i, depth = 0;
    char  **names = config_split_list(config_str(P_hash_queue_names), &count);

    for (i = 0; i < count && depth == 0; i++)
        if (strcasecmp(names[i], queue) == 0)
            depth = (int) config_int(P_hash_queue_depth);
    config_free_list(names);
    return depth;
}

/* mail_queue_name_ok - a plain file name: not empty, no '/', no leading '.' */
static int mail_queue_name_ok(const char *name)
{
    return *name != 0 && *name != '.' && strchr(name, '/') == NULL;
}

/* mail_queue_path - see mail_queue.h */
int mail_queue_path(BUF *out, const char *queue_dir, const char *queue, const char *id)
{
    int     depth;

    buf_reset(out);
    if (!mail_queue_name_ok(queue) || mail_queue_dir_find(queue) == NULL)
        return -1;
    depth = mail_queue_hash_depth(queue);
    if (depth > 0 ? !queue_id_valid(id) : !mail_queue_name_ok(id))
        return -1;
    qfile_path(out, queue_dir, queue, id, depth);
    return 0;
}

/* mail_queue_dir_fsync - see mail_queue.h */
int mail_queue_dir_fsync(void)
{
    int     mode = dir_fsync_mode(config_str(P_directory_fsync));

    if (mode < 0)
        msg_fatal("%s = %s: expected auto, yes or no", config_param_info(P_directory_fsync)->name,
                  config_str(P_directory_fsync));
    return mode;
}

/* mail_queue_mkdirs - see mail_queue.h */
int mail_queue_mkdirs(const char *path)
{
    char   *copy = xstrdup(path);
    char   *cut[4];                 /* the '/' before each missing level */
    char   *slash;
    struct stat top, st;
    int     n = 0, ret = 0, saved;

    /* Walk up from the file's folder to the first one that exists. */
    if ((slash = strrchr(copy, '/')) == NULL) {
        xfree(copy);
        return 0;
    }
    *slash = 0;
    while (lstat(copy, &top) < 0) {
        slash = strrchr(copy, '/');
        if (errno != ENOENT || n == 4 || slash == NULL || strlen(slash + 1) != 1) {
            saved = errno != ENOENT ? errno : ENOENT;
            xfree(copy);
            errno = saved;
            return -1;
        }
        cut[n++] = slash;
        *slash = 0;
    }
    if (!S_ISDIR(top.st_mode)) {
        xfree(copy);
        errno = ENOTDIR;
        return -1;
    }
    /* Then down again, giving each new level the owner of the one above. */
    while (ret == 0 && n > 0) {
        *cut[--n] = '/';
        if (mkdir(copy, 0700) < 0) {
            if (errno != EEXIST)
                ret = -1;
        } else if (lstat(copy, &st) < 0
                   || ((st.st_uid != top.st_uid || st.st_gid != top.st_gid)
                       && lchown(copy, top.st_uid, top.st_gid) < 0)) {
            ret = -1;
        }
    }
    saved = errno;
    xfree(copy);
    errno = saved;
    return ret;
}

/* mail_queue_ids - resolve the accounts; see mail_queue.h */
int mail_queue_ids(const char *mail_owner, const char *setgid_group,
                   MAIL_QUEUE_IDS *ids, BUF *why)
{
    struct passwd *pw;
    struct group *gr;

    if ((pw = getpwnam(mail_owner)) == NULL) {
        buf_sprintf(why, "mail_owner: unknown user name '%s'", mail_owner);
        return -1;
    }
    if (pw->pw_uid == 0) {
        buf_sprintf(why, "mail_owner: '%s' has the privileged user ID 0", mail_owner);
        return -1;
    }
    ids->mail_uid = pw->pw_uid;
    ids->mail_gid = pw->pw_gid;
    if ((gr = getgrnam(setgid_group)) == NULL) {
        buf_sprintf(why, "setgid_group: unknown group name '%s'", setgid_group);
        return -1;
    }
    ids->setgid_gid = gr->gr_gid;
    /* Root instances: the queue's root folders belong to root. Anyone else
     * runs a sandbox instance, where everything belongs to that user. */
    ids->root_uid = geteuid();
    ids->root_gid = ids->root_uid == 0 ? 0 : getegid();
    if (ids->root_uid == 0 && ids->setgid_gid == 0) {
        buf_sprintf(why, "setgid_group: '%s' has the privileged group ID 0", setgid_group);
        return -1;
    }
    if (ids->root_uid == 0 && ids->setgid_gid == ids->mail_gid) {
        /* postdrop's group must not open mail_owner's group-readable files. */
        buf_sprintf(why, "setgid_group: '%s' has the same group ID as mail_owner '%s'",
                    setgid_group, mail_owner);
        return -1;
    }
    return 0;
}

/* mail_queue_user - "name" of a uid, or its number */
static void mail_queue_user(BUF *out, uid_t uid)
{
    struct passwd *pw = getpwuid(uid);

    if (pw)
        buf_sprintf(out, "%s", pw->pw_name);
    else
        buf_sprintf(out, "%ld", (long) uid);
}

/* mail_queue_group - "name" of a gid, or its number */
static void mail_queue_group(BUF *out, gid_t gid)
{
    struct group *gr = getgrgid(gid);

    if (gr)
        buf_sprintf(out, "%s", gr->gr_name);
    else
        buf_sprintf(out, "%ld", (long) gid);
}

/* One folder being scanned. */
typedef struct MQ_SCAN {
    const char *path;
    uid_t   uid;                    /* wanted */
    gid_t   gid;                    /* wanted (or, for GROUP_ANY, used when created) */
    int     check_gid;
    mode_t  mode;
    int     flags;
    MAIL_QUEUE_REPORT report;
    void   *ctx;
    BUF    *text;
} MQ_SCAN;

static void mq_say(MQ_SCAN *sc, int fixed, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));

/* mq_say - format and report one problem or repair, "path: text" */
static void mq_say(MQ_SCAN *sc, int fixed, const char *fmt, ...)
{
    va_list ap;

    buf_sprintf(sc->text, "%s: ", sc->path);
    va_start(ap, fmt);
    buf_vprintf(sc->text, fmt, ap);
    va_end(ap);
    sc->report(buf_str(sc->text), fixed, sc->ctx);
}

/* mq_open_dir - open the folder itself, never a link, and make sure it is
 * the object that lstat saw (so a swap between the two is caught) */
static int mq_open_dir(MQ_SCAN *sc, const struct stat *seen)
{
    struct stat st;
    int     fd = open(sc->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || st.st_dev != seen->st_dev || st.st_ino != seen->st_ino) {
        close(fd);
        errno = EAGAIN;
        return -1;
    }
    return fd;
}

/* mq_create - make a missing folder with its owner and mode; 0 or -1 */
static int mq_create(MQ_SCAN *sc, struct stat *st)
{
    if (mkdir(sc->path, 0700) < 0 && errno != EEXIST) {
        mq_say(sc, 0, "cannot create: %s", strerror(errno));
        return -1;
    }
    if (lstat(sc->path, st) < 0) {
        mq_say(sc, 0, "cannot create: %s", strerror(errno));
        return -1;
    }
    mq_say(sc, 1, "created");
    return 0;
}

/* mq_repair - bring owner, group and mode in line; chown first, as it may
 * clear the setgid bit. Says what it changed unless quiet (a folder just
 * created). Returns the problems left (0 or 1). */
static int mq_repair(MQ_SCAN *sc, const struct stat *st, int bad_owner, int quiet)
{
    int     fd = mq_open_dir(sc, st);

    if (fd < 0) {
        mq_say(sc, 0, "cannot repair: %s", strerror(errno));
        return 1;
    }
    if ((bad_owner && fchown(fd, sc->uid, sc->gid) < 0) || fchmod(fd, sc->mode) < 0) {
        mq_say(sc, 0, "cannot repair: %s", strerror(errno));
        close(fd);
        return 1;
    }
    close(fd);
    if (!quiet)
        mq_say(sc, 1, "%s mode %04o", bad_owner ? "set owner, group and" : "set",
               (unsigned) sc->mode);
    return 0;
}

/* mq_scan_one - check one folder; create and repair as flags allow */
static int mq_scan_one(MQ_SCAN *sc)
{
    struct stat st;
    BUF    *have = buf_alloc(32);
    BUF    *want = buf_alloc(32);
    char    mode_have[16], mode_want[16];
    int     created = 0;
    int     bad_owner = 0, bad_mode, problems = 0;

    if (lstat(sc->path, &st) < 0) {
        if (errno != ENOENT || !(sc->flags & MAIL_QUEUE_CREATE)) {
            mq_say(sc, 0, "%s", errno == ENOENT ? "missing" : strerror(errno));
            problems = 1;
            goto done;
        }
        if (mq_create(sc, &st) < 0) {
            problems = 1;
            goto done;
        }
        created = 1;
    }
    if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
        mq_say(sc, 0, "%s", S_ISLNK(st.st_mode) ? "is a symbolic link, expected a folder"
               : "is not a folder");
        problems = 1;
        goto done;
    }
    if (st.st_uid != sc->uid) {
        mail_queue_user(have, st.st_uid);
        mail_queue_user(want, sc->uid);
        if (!created)
            mq_say(sc, 0, "owner %s, expected %s", buf_str(have), buf_str(want));
        bad_owner = 1;
    }
    if ((sc->check_gid && st.st_gid != sc->gid) || (created && st.st_gid != sc->gid)) {
        mail_queue_group(have, st.st_gid);
        mail_queue_group(want, sc->gid);
        if (!created)
            mq_say(sc, 0, "group %s, expected %s", buf_str(have), buf_str(want));
        bad_owner = 1;
    }
    bad_mode = (st.st_mode & 07777) != sc->mode;
    if (bad_mode && !created) {
        snprintf(mode_have, sizeof(mode_have), "%04o", (unsigned) (st.st_mode & 07777));
        snprintf(mode_want, sizeof(mode_want), "%04o", (unsigned) sc->mode);
        mq_say(sc, 0, "mode %s, expected %s", mode_have, mode_want);
    }
    if (bad_owner || bad_mode) {
        if (created || (sc->flags & MAIL_QUEUE_FIX))
            problems = mq_repair(sc, &st, bad_owner, created);
        else
            problems = 1;
    }
done:
    buf_free(have);
    buf_free(want);
    return problems;
}

/* mail_queue_scan - check, create and repair every folder of the table */
int mail_queue_scan(const char *queue_dir, const MAIL_QUEUE_IDS *ids, int flags,
                    MAIL_QUEUE_REPORT report, void *ctx)
{
    BUF    *path = buf_alloc(256);
    MQ_SCAN sc;
    int     i;
    int     problems = 0;

    memset(&sc, 0, sizeof(sc));
    sc.flags = flags;
    sc.report = report;
    sc.ctx = ctx;
    sc.text = buf_alloc(256);
    for (i = 0; i < mail_queue_ndirs; i++) {
        const MAIL_QUEUE_DIR *d = &mail_queue_dirs[i];

        buf_sprintf(path, "%s%s%s", queue_dir, *d->name ? "/" : "", d->name);
        sc.path = buf_str(path);
        sc.mode = d->mode;
        sc.uid = d->owner == MAIL_QUEUE_OWNER_ROOT ? ids->root_uid : ids->mail_uid;
        sc.check_gid = d->group == MAIL_QUEUE_GROUP_SETGID;
        sc.gid = sc.check_gid ? ids->setgid_gid
            : d->owner == MAIL_QUEUE_OWNER_ROOT ? ids->root_gid : ids->mail_gid;
        problems += mq_scan_one(&sc);
        /* Without the queue folder itself, every other line says "missing". */
        if (i == 0 && problems > 0 && access(queue_dir, F_OK) < 0)
            break;
    }
    buf_free(sc.text);
    buf_free(path);
    return problems;
}
