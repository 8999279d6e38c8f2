/* qmgr_scan - the queue folders: scans, moves, and feeding active/.
 *
 * Scans only collect names (readdir + lstat); messages are imported by
 * qmgr_feed() while the active queue has room (qmgr_message_active_limit),
 * a batch per event-loop round so that triggers and agent replies are not
 * starved. incoming/ goes before deferred/ (new mail first, as Postfix
 * prefers incoming when the active queue is full). A file is never
 * scheduled twice: one table holds every ID that is waiting or active.
 *
 * Time stamps: a file's mtime is its next-attempt time. A deferred file is
 * eligible once that time has come; an incoming file whose mtime lies in
 * the future is "cooling down" (it was put back because an agent from an
 * earlier qmgr still held it); the 'A' trigger ignores both.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include "config.h"
#include "event.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "qmgr.h"

#define QMGR_FEED_BATCH     50          /* imports per event-loop round */
#define QMGR_ID_BUCKETS     16384

typedef struct QMGR_NAME {
    char    id[QUEUE_ID_BUFSZ];
    char    queue[16];                  /* incoming or deferred */
    struct QMGR_NAME *next;
} QMGR_NAME;

typedef struct QMGR_IDSET {
    char   *id;
    struct QMGR_IDSET *next;
} QMGR_IDSET;

static QMGR_NAME *todo_head[2], *todo_tail[2];     /* 0 incoming, 1 deferred */
static QMGR_IDSET *known[QMGR_ID_BUCKETS];

/* qmgr_id_hash - bucket of an ID */
static unsigned qmgr_id_hash(const char *id)
{
    unsigned h = 5381;

    while (*id)
        h = h * 33 + (unsigned char) *id++;
    return h % QMGR_ID_BUCKETS;
}

/* qmgr_known_add - remember an ID; 0 if it was already known */
static int qmgr_known_add(const char *id)
{
    unsigned h = qmgr_id_hash(id);
    QMGR_IDSET *e;

    for (e = known[h]; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return 0;
    e = xmalloc(sizeof(*e));
    e->id = xstrdup(id);
    e->next = known[h];
    known[h] = e;
    return 1;
}

/* qmgr_scan_forget - the message left memory: a later scan may take it */
void qmgr_scan_forget(const char *id)
{
    QMGR_IDSET **pp, *e;

    for (pp = &known[qmgr_id_hash(id)]; (e = *pp) != NULL; pp = &e->next) {
        if (strcmp(e->id, id) == 0) {
            *pp = e->next;
            xfree(e->id);
            xfree(e);
            return;
        }
    }
}

/* qmgr_scan_init - nothing to read ahead: mail_queue_path() reads the
 * hashing parameters itself */
void qmgr_scan_init(void)
{
}

/* qmgr_queue_path - where queue/id lives (relative to queue_directory) */
const char *qmgr_queue_path(BUF *out, const char *queue, const char *id)
{
    if (mail_queue_path(out, ".", queue, id) < 0)
        msg_panic("qmgr_queue_path: bad queue %s or ID %s", queue, id);
    return buf_str(out);
}

/* qmgr_move - rename queue file id between folders; mtime > 0 sets its
 * time stamp first (the next-attempt time). 0, or -1 with errno. */
int qmgr_move(const char *from_queue, const char *to_queue, const char *id, long mtime)
{
    BUF    *from = buf_alloc(64);
    BUF    *to = buf_alloc(64);
    struct utimbuf tb;
    int     ret;

    qmgr_queue_path(from, from_queue, id);
    qmgr_queue_path(to, to_queue, id);
    if (mtime > 0) {
        tb.actime = tb.modtime = (time_t) mtime;
        if (utime(buf_str(from), &tb) < 0)
            msg_warn("%s: set time of %s: %m", id, buf_str(from));
    }
    ret = rename(buf_str(from), buf_str(to));
    if (ret < 0 && errno == ENOENT && access(buf_str(from), F_OK) == 0
        && mail_queue_mkdirs(buf_str(to)) == 0)
        ret = rename(buf_str(from), buf_str(to));
    if (ret < 0)
        msg_warn("%s: rename %s to %s: %m", id, buf_str(from), buf_str(to));
    buf_free(from);
    buf_free(to);
    return ret;
}

/* qmgr_todo_add - queue a name for import unless it is known */
static void qmgr_todo_add(int which, const char *queue, const char *id)
{
    QMGR_NAME *n;

    if (!qmgr_known_add(id))
        return;
    n = xcalloc(1, sizeof(*n));
    memcpy(n->id, id, strnlen(id, QUEUE_ID_MAX));     /* valid IDs fit */
    memcpy(n->queue, queue, strnlen(queue, sizeof(n->queue) - 1));
    if (todo_tail[which])
        todo_tail[which]->next = n;
    else
        todo_head[which] = n;
    todo_tail[which] = n;
}

/* qmgr_scan_dir - collect eligible files of one folder (and its hashed
 * subfolders); not_after < 0: ignore time stamps */
static void qmgr_scan_dir(int which, const char *queue, const char *dir, long not_after,
                          int depth)
{
    DIR    *d;
    struct dirent *e;
    struct stat st;
    BUF    *path = buf_alloc(64);

    if ((d = opendir(dir)) == NULL) {
        msg_warn("open folder %s: %m", dir);
        buf_free(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        buf_sprintf(path, "%s/%s", dir, e->d_name);
        if (lstat(buf_str(path), &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth > 0 && strlen(e->d_name) == 1)
                qmgr_scan_dir(which, queue, buf_str(path), not_after, depth - 1);
            continue;
        }
        if (!queue_id_valid(e->d_name)) {
            msg_warn("%s: ignoring file with a bad queue ID name", buf_str(path));
            continue;
        }
        if (not_after >= 0 && (long) st.st_mtime > not_after)
            continue;
        qmgr_todo_add(which, queue, e->d_name);
    }
    closedir(d);
    buf_free(path);
}

static void qmgr_feed_event(int event, void *context);

/* qmgr_scan_incoming - new mail (trigger I, W or periodic) */
void qmgr_scan_incoming(void)
{
    qmgr_scan_dir(0, MAIL_QUEUE_INCOMING, MAIL_QUEUE_INCOMING, (long) time(NULL) + 1, 0);
    qmgr_feed();
}

/* qmgr_scan_deferred - files whose next attempt time has come */
void qmgr_scan_deferred(int ignore_time)
{
    long    now = (long) time(NULL);

    if (ignore_time)
        qmgr_scan_dir(0, MAIL_QUEUE_INCOMING, MAIL_QUEUE_INCOMING, -1, 0);
    qmgr_scan_dir(1, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_DEFERRED, ignore_time ? -1 : now, 4);
    qmgr_feed();
}

/* qmgr_recover_active - at start-up, files left in active/ by an earlier
 * qmgr go back to incoming/ (Postfix's choice): they are then read again
 * like new mail, and the lock check in qmgr_message_import() keeps us off
 * any file an agent of the old qmgr is still delivering. */
void qmgr_recover_active(void)
{
    DIR    *d;
    struct dirent *e;
    int     count = 0;

    if ((d = opendir(MAIL_QUEUE_ACTIVE)) == NULL) {
        msg_warn("open folder %s: %m", MAIL_QUEUE_ACTIVE);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !queue_id_valid(e->d_name))
            continue;
        if (qmgr_move(MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING, e->d_name, (long) time(NULL)) == 0)
            count++;
    }
    closedir(d);
    if (count)
        msg_info("recovered %d message%s from %s/", count, count == 1 ? "" : "s",
                 MAIL_QUEUE_ACTIVE);
}

/* qmgr_purge_temp - remove files in temp/ older than max_age: their writer
 * died. Whatever is in temp/ was never acknowledged: a file ready but not
 * yet renamed (a writer killed between its fchmod and its rename) too. */
void qmgr_purge_temp(long max_age)
{
    DIR    *d;
    struct dirent *e;
    struct stat st;
    BUF    *path = buf_alloc(64);
    long    now = (long) time(NULL);

    if ((d = opendir(QFILE_TEMP_QUEUE)) == NULL) {
        buf_free(path);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        buf_sprintf(path, "%s/%s", QFILE_TEMP_QUEUE, e->d_name);
        if (lstat(buf_str(path), &st) < 0 || !S_ISREG(st.st_mode)
            || now - (long) st.st_mtime <= max_age)
            continue;
        if (unlink(buf_str(path)) == 0)
            msg_info("%s: removed uncommitted file %s (age %lds)", e->d_name, buf_str(path),
                     now - (long) st.st_mtime);
        else
            msg_warn("remove %s: %m", buf_str(path));
    }
    closedir(d);
    buf_free(path);
}

/* qmgr_feed - import waiting files while the active queue has room */
void qmgr_feed(void)
{
    QMGR_NAME *n;
    int     which, batch = 0;

    while (qmgr.active_count < qmgr.active_limit && batch < QMGR_FEED_BATCH) {
        which = todo_head[0] ? 0 : 1;
        if ((n = todo_head[which]) == NULL)
            break;
        if ((todo_head[which] = n->next) == NULL)
            todo_tail[which] = NULL;
        if (qmgr_move(n->queue, MAIL_QUEUE_ACTIVE, n->id, 0) < 0
            || qmgr_message_import(n->id) < 0)
            qmgr_scan_forget(n->id);
        xfree(n);
        batch++;
    }
    if (qmgr.active_count < qmgr.active_limit && (todo_head[0] || todo_head[1]))
        event_request_timer(qmgr_feed_event, NULL, 0);
}

static void qmgr_feed_event(int event, void *context)
{
    (void) event;
    (void) context;
    qmgr_feed();
}

void qmgr_feed_request(void)
{
    event_request_timer(qmgr_feed_event, NULL, 0);
}
