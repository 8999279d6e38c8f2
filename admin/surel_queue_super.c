/* surel_queue_super - delete, hold, release, requeue, expire (Postfix's postsuper).
 *
 *     surel queue delete  ID|ALL|- [queue...]   postsuper -d
 *     surel queue hold    ID|ALL|- [queue...]   postsuper -h
 *     surel queue release ID|ALL|- [queue...]   postsuper -H
 *     surel queue requeue ID|ALL|- [queue...]   postsuper -r
 *     surel queue expire  ID|ALL|- [queue...]   postsuper -e
 *     surel queue expire-release ID|ALL|- [queue...]   postsuper -f
 * `-` reads one ID a line from stdin. ALL means every message in the
 * queues given (default: the verb's queues below). Several IDs may be
 * given before the queue names (postsuper -d A -d B).
 *
 * What each does, and logs (maillog_file or syslog, and stderr):
 *   delete   removes the queue file and its defer/ and bounce/ logs:
 *            "ID: removed"
 *   hold     moves it to hold/, where qmgr never looks: "ID: placed on hold"
 *   release  moves hold/ to deferred/ with mtime (next attempt) now:
 *            "ID: released from hold"
 *   requeue  moves it to incoming/, so qmgr resolves every recipient
 *            again: "ID: requeued"
 *   expire   Postfix 3.5's forced expiration: sets the file's
 *            QFILE_MODE_EXPIRE bit (Postfix's group-execute mark), so that
 *            qmgr returns the message to the sender at its next attempt
 *            instead of delivering it: "ID: forced to expire". A held
 *            message stays held (and unreturned) until released.
 *   expire-release  (postsuper -f) the same, and a held message is also
 *            released (moved to deferred/, due now), as Postfix's -f.
 *
 * Safety while the system runs: the file is opened (without following
 * links, only ready files) and must be locked with an exclusive,
 * non-blocking flock before anything is done to it. A delivery agent holds
 * a shared lock while it delivers, and qmgr one while it works on the
 * message, so a message in delivery is never touched: it is reported
 * "busy, try again" and the exit status is 1. The rename or unlink happens
 * under the lock, is atomic, and the folders are fsync'ed. A message that
 * moved between finding and locking is reported the same way.
 * XXX: qmgr must tolerate a message it keeps in memory without a lock
 * vanishing from active/ (Postfix's qmgr does); see doc/queue_admin.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "queue_id.h"
#include "queue_list.h"
#include "safe_file.h"
#include "surel_queue.h"

#define SUPER_STDIN_LINE    256         /* longer lines are not queue IDs */
#define SUPER_STDIN_MAX     1000000     /* IDs read from stdin at most */

typedef enum {
    SUPER_DELETE, SUPER_HOLD, SUPER_RELEASE, SUPER_REQUEUE, SUPER_EXPIRE, SUPER_EXPIRE_RELEASE
} SUPER_OP;

/* Each verb: its name, the queues it works on, and its wording. */
static const struct {
    const char *name;
    SUPER_OP op;
    const char *queues[5];
    const char *logged;             /* "ID: <logged>" */
    const char *summary;            /* "<summary>: N messages" */
} super_verbs[] = {
    {"delete", SUPER_DELETE, {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
    MAIL_QUEUE_HOLD}, "removed", "Deleted"},
    {"hold", SUPER_HOLD, {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED},
    "placed on hold", "Placed on hold"},
    {"release", SUPER_RELEASE, {MAIL_QUEUE_HOLD}, "released from hold", "Released from hold"},
    {"requeue", SUPER_REQUEUE, {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
    MAIL_QUEUE_HOLD}, "requeued", "Requeued"},
    {"expire", SUPER_EXPIRE, {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
    MAIL_QUEUE_HOLD}, "forced to expire", "Forced to expire"},
    {"expire-release", SUPER_EXPIRE_RELEASE, {MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
    MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD}, "forced to expire", "Forced to expire"},
};

#define SUPER_NVERBS (sizeof(super_verbs) / sizeof(super_verbs[0]))

typedef struct SUPER {
    int     verb;                   /* index into super_verbs */
    const char *queue_dir;
    const char *queues[6];          /* the queues to look in, NULL-terminated */
    int     done;                   /* messages acted on */
    int     busy;                   /* locked or moving: try again */
    int     missing;                /* named IDs not found */
} SUPER;

/* super_remove_logs - the defer/ and bounce/ logs of a deleted message */
static void super_remove_logs(const char *queue_dir, const char *id)
{
    static const char *const logs[] = {MAIL_QUEUE_DEFER, MAIL_QUEUE_BOUNCE};
    BUF    *path = buf_alloc(256);
    size_t  i;

    for (i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
        if (mail_queue_path(path, queue_dir, logs[i], id) == 0
            && unlink(buf_str(path)) < 0 && errno != ENOENT)
            msg_warn("%s: remove %s: %m", id, buf_str(path));
    }
    buf_free(path);
}

/* super_target - the queue a verb moves a message from queue to (NULL:
 * delete; the same queue: no move) */
static const char *super_target(SUPER_OP op, const char *queue)
{
    switch (op) {
    case SUPER_EXPIRE:
        return queue;
    case SUPER_EXPIRE_RELEASE:
        return strcmp(queue, MAIL_QUEUE_HOLD) == 0 ? MAIL_QUEUE_DEFERRED : queue;
    case SUPER_HOLD:
        return MAIL_QUEUE_HOLD;
    case SUPER_RELEASE:
        return MAIL_QUEUE_DEFERRED;
    case SUPER_REQUEUE:
        return MAIL_QUEUE_INCOMING;
    default:
        return NULL;
    }
}

/* super_apply - the change itself, on a locked file; 0 or -1 */
/* super_apply_warn - a change failed; ENOENT: qmgr moved the file (it
 * renames incoming/ files into active/ without taking their lock) */
static void super_apply_warn(const char *id, const char *what, const char *path, const char *dst)
{
    if (errno == ENOENT)
        msg_warn("%s: moved while being changed; try again", id);
    else
        msg_warn("%s: %s %s%s%s: %m", id, what, path, *dst ? " to " : "", dst);
}

static int super_apply(SUPER *sp, int fd, const char *path, const char *queue, const char *id)
{
    SUPER_OP op = super_verbs[sp->verb].op;
    const char *target = super_target(op, queue);
    struct stat st;
    BUF    *dst;
    int     ret = 0;

    if (target == NULL) {
        if (unlink(path) < 0 || fsync_parent(path) < 0) {
            super_apply_warn(id, "remove", path, "");
            return -1;
        }
        super_remove_logs(sp->queue_dir, id);
        return 0;
    }
    if (op == SUPER_EXPIRE || op == SUPER_EXPIRE_RELEASE) {
        if (fstat(fd, &st) < 0 || fchmod(fd, (st.st_mode & 07777) | QFILE_MODE_EXPIRE) < 0) {
            msg_warn("%s: cannot mark %s for expiration: %m", id, path);
            return -1;
        }
    }
    /* The next attempt is now: qmgr reads a deferred file's mtime so. */
    if ((op == SUPER_RELEASE || op == SUPER_REQUEUE
         || (op == SUPER_EXPIRE_RELEASE && strcmp(queue, target) != 0))
        && futimens(fd, NULL) < 0)
        msg_warn("%s: cannot set the retry time: %m", id);
    if (strcmp(queue, target) == 0)
        return 0;                   /* requeue of an incoming message, an expiry */
    dst = buf_alloc(256);
    if (mail_queue_path(dst, sp->queue_dir, target, id) < 0
        || mail_queue_mkdirs(buf_str(dst)) < 0
        || rename_sync(path, buf_str(dst)) < 0) {
        super_apply_warn(id, "move", path, buf_str(dst));
        ret = -1;
    }
    buf_free(dst);
    return ret;
}

/* super_one - find, lock and change one message */
static void super_one(SUPER *sp, const char *id, int named)
{
    BUF    *path = buf_alloc(256);
    BUF    *why = buf_alloc(100);
    const char *queue;
    struct stat st, now;
    int     fd;

    if (!sq_find(sp->queue_dir, id, sp->queues, path, &queue)) {
        if (named) {
            msg_warn("%s: no such message in the %s queue%s", id,
                     sp->queues[1] ? "selected" : sp->queues[0], sp->queues[1] ? "s" : "");
            sp->missing++;
        }
    } else if ((fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0) {
        /* Gone meanwhile (delivered, moved), or not a file we may touch. */
        msg_warn("%s: %s; try again", id, buf_str(why));
        sp->busy++;
    } else {
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            msg_warn("%s: busy (being delivered); try again", id);
            sp->busy++;
        } else if (lstat(buf_str(path), &now) < 0 || now.st_ino != st.st_ino
                   || now.st_dev != st.st_dev) {
            msg_warn("%s: moved while being locked; try again", id);
            sp->busy++;
        } else if (super_apply(sp, fd, buf_str(path), queue, id) == 0) {
            msg_info("%s: %s", id, super_verbs[sp->verb].logged);
            sp->done++;
        } else {
            sp->busy++;
        }
        close(fd);                  /* releases the lock */
    }
    buf_free(path);
    buf_free(why);
}

/* super_all_one - a walk callback: every message of a queue */
static void super_all_one(const char *queue, const char *id, const char *path, void *ctx)
{
    super_one(ctx, id, 0);
}

/* super_stdin - IDs from stdin, one a line */
static void super_stdin(SUPER *sp)
{
    char    line[SUPER_STDIN_LINE];
    size_t  len;
    long    count = 0;

    while (fgets(line, sizeof(line), stdin) && count++ < SUPER_STDIN_MAX) {
        len = strcspn(line, " \t\r\n");
        line[len] = 0;
        if (len == 0)
            continue;
        if (!queue_id_valid(line)) {
            msg_warn("invalid queue ID: '%s'", line);
            sp->missing++;
            continue;
        }
        super_one(sp, line, 1);
    }
}

/* super_queues - the queues named on the command line, or the verb's */
static void super_queues(SUPER *sp, int argc, char **argv)
{
    const char *match;
    int     i, j, n = 0;

    if (argc == 0) {
        for (j = 0; super_verbs[sp->verb].queues[j]; j++)
            sp->queues[n++] = super_verbs[sp->verb].queues[j];
    }
    for (i = 0; i < argc; i++) {
        for (match = NULL, j = 0; super_verbs[sp->verb].queues[j]; j++)
            if (strcmp(argv[i], super_verbs[sp->verb].queues[j]) == 0)
                match = super_verbs[sp->verb].queues[j];
        if (match == NULL)
            msg_fatal("surel queue %s: cannot work on the '%s' queue",
                      super_verbs[sp->verb].name, argv[i]);
        if (n < 5)
            sp->queues[n++] = match;
    }
    sp->queues[n] = NULL;
}

/* sq_super_main - delete, hold, release, requeue */
int sq_super_main(int argc, char **argv)
{
    SUPER   sp;
    BUF    *why = buf_alloc(100);
    const char *log;
    size_t  v;
    int     i, nids;

    memset(&sp, 0, sizeof(sp));
    for (v = 0; v < SUPER_NVERBS && strcmp(argv[0], super_verbs[v].name) != 0; v++)
         /* search */ ;
    if (v == SUPER_NVERBS)
        msg_panic("sq_super_main: unknown verb %s", argv[0]);
    sp.verb = (int) v;
    if (argc < 2 || argv[1][0] == 0 || (argv[1][0] == '-' && argv[1][1] != 0)) {
        fprintf(stderr, "usage: surel queue %s ID [ID...]|ALL|- [queue...]\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "ALL") != 0 && strcmp(argv[1], "-") != 0 && !queue_id_valid(argv[1]))
        msg_fatal("invalid queue ID: '%s'", argv[1]);
    sp.queue_dir = sq_load();
    sq_require_owner(argv[0], sp.queue_dir);
    /* More IDs may follow the first (postsuper -d A -d B): queue names
     * hold vowels, so no queue name is ever a valid ID. */
    nids = 1;
    if (strcmp(argv[1], "ALL") != 0 && strcmp(argv[1], "-") != 0)
        while (1 + nids < argc && queue_id_valid(argv[1 + nids]))
            nids++;
    super_queues(&sp, argc - 1 - nids, argv + 1 + nids);
    /* These lines say who changed the queue: log them like start/stop. */
    log = config_str(P_maillog_file);
    if (*log && maillog_client(1) < 0)
        msg_debug("cannot open %s: %m", log);
    if (strcmp(argv[1], "-") == 0) {
        super_stdin(&sp);
    } else if (strcmp(argv[1], "ALL") == 0) {
        for (i = 0; sp.queues[i]; i++)
            if (queue_walk(sp.queue_dir, sp.queues[i], 0, super_all_one, &sp, why) < 0)
                msg_fatal("%s", buf_str(why));
    } else {
        for (i = 0; i < nids; i++)
            super_one(&sp, argv[1 + i], 1);
    }
    if (sp.done)
        fprintf(stderr, "surel queue %s: %s: %d message%s\n", argv[0],
                super_verbs[v].summary, sp.done, sp.done == 1 ? "" : "s");
    /* Tell qmgr at once about mail it should look at (best effort: the
     * mail system may be down; its periodic scan finds the mail anyway). */
    if (sp.done && super_verbs[v].op != SUPER_DELETE && super_verbs[v].op != SUPER_HOLD)
        (void) sq_trigger(sp.queue_dir, MAIL_SERVICE_QMGR,
                          super_verbs[v].op != SUPER_REQUEUE
                          ? (char[]) {TRIGGER_SCAN_DEFERRED, 0}
                          : (char[]) {TRIGGER_SCAN_INCOMING, 0}, why);
    buf_free(why);
    return sp.busy || sp.missing ? 1 : 0;
}
