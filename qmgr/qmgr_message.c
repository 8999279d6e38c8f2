/* qmgr_message - one queue file in memory: import, results, completion.
 *
 * Import (qmgr_message_import): the file, already renamed into active/,
 * is opened with qfile_open_ready and checked with qfile_verify; a file
 * that fails either goes to corrupt/ (never deleted). An exclusive,
 * non-blocking flock tells whether a delivery agent started by an earlier
 * qmgr still holds the file (agents hold a shared lock while they
 * deliver, DESIGN §10.9): then the file goes back to incoming/ with a
 * time stamp 60 s ahead, and is tried again after that. The lock is
 * released at once; qmgr never holds it while agents work.
 *
 * Results come per recipient from qmgr_deliver.c or from qmgr itself;
 * qmgr_message_advance() finishes the message when nothing is in flight:
 * expiry, bounce flush, delay warning, then remove the file or move it to
 * deferred/ with its next-attempt time. Every step that needs the bounce
 * service is asynchronous; when bounce can't be reached, the recipient
 * stays (deferred), never lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "deliver_log.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "qmgr.h"
#include "record.h"

#define QMGR_LOCKED_RETRY   60          /* at most this long before a locked file is tried again */
#define QMGR_RECORD_LIMIT   (64 * 1024)

static void qmgr_message_advance(QMGR_MESSAGE *m);
static void qmgr_rcpt_log(QMGR_MESSAGE *m, int idx, const char *action, const char *dsn,
                          const char *reason, int success_state);

/* qmgr_message_free - forget a message that has left active/ */
static void qmgr_message_free(QMGR_MESSAGE *m)
{
    int     i;

    if (m->prev)
        m->prev->next = m->next;
    else
        qmgr.active = m->next;
    if (m->next)
        m->next->prev = m->prev;
    qmgr.active_count--;
    qmgr_scan_forget(m->id);
    for (i = 0; i < m->nrcpt; i++) {
        xfree(m->rcpt[i].address);
        xfree(m->rcpt[i].orig);
        xfree(m->rcpt[i].dsn_orcpt);
    }
    xfree(m->rcpt);
    xfree(m->sender);
    xfree(m->envid);
    xfree(m->ret);
    xfree(m->filter);
    xfree(m);
}

/* qmgr_message_ref, qmgr_message_unref - outstanding work on a message;
 * the last unref moves the message on */
static void qmgr_message_ref(QMGR_MESSAGE *m)
{
    m->refs++;
}

void qmgr_message_unref(QMGR_MESSAGE *m)
{
    if (--m->refs < 0)
        msg_panic("%s: negative reference count", m->id);
    if (m->refs == 0 && !m->advancing)
        qmgr_message_advance(m);
}

/* qmgr_corrupt - move a bad file aside; it is never deleted */
static void qmgr_corrupt(const char *id, const char *why)
{
    if (qmgr_move(MAIL_QUEUE_ACTIVE, MAIL_QUEUE_CORRUPT, id, 0) == 0)
        msg_warn("%s: corrupt queue file (%s): moved to %s/", id, why, MAIL_QUEUE_CORRUPT);
    else
        msg_warn("%s: corrupt queue file (%s): could not move it to %s/", id, why,
                 MAIL_QUEUE_CORRUPT);
}

/* qmgr_add_rcpt - append a recipient read from the file */
static void qmgr_add_rcpt(QMGR_MESSAGE *m, int *cap, const char *addr, long offset, int done,
                          BUF *orig, BUF *orcpt, int notify)
{
    QMGR_RCPT *r;

    if (m->nrcpt == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        m->rcpt = xreallocarray(m->rcpt, (size_t) *cap, sizeof(*m->rcpt));
    }
    r = &m->rcpt[m->nrcpt++];
    r->address = xstrdup(addr);
    r->orig = xstrdup(buf_str(orig));
    r->dsn_orcpt = xstrdup(buf_str(orcpt));
    r->dsn_notify = notify;
    r->offset = offset;
    r->state = done ? RCPT_DONE : RCPT_TODO;
}

/* qmgr_message_attr - an A record: keep the DSN envelope fields */
static void qmgr_message_attr(QMGR_MESSAGE *m, const char *text)
{
    size_t  n;

    n = strlen(MAIL_ATTR_ENVID);
    if (strncmp(text, MAIL_ATTR_ENVID, n) == 0 && text[n] == '=') {
        xfree(m->envid);
        m->envid = xstrdup(text + n + 1);
    }
    n = strlen(MAIL_ATTR_RET);
    if (strncmp(text, MAIL_ATTR_RET, n) == 0 && text[n] == '=') {
        xfree(m->ret);
        m->ret = xstrdup(text + n + 1);
    }
}

/* qmgr_message_read - the envelope of a verified file (records, offsets) */
static void qmgr_message_read(QMGR_MESSAGE *m, STREAM *s)
{
    BUF    *data = buf_alloc(256);
    BUF    *orig = buf_alloc(64);
    BUF    *orcpt = buf_alloc(64);
    int     notify = 0, cap = 0, type, in_content = 0;
    long    offset = 0;
    char   *end;

    while ((type = rec_get(s, data, QMGR_RECORD_LIMIT)) > 0 && type != REC_TYPE_END) {
        if (in_content) {
            in_content = (type != REC_TYPE_XTRA);
        } else if (type == REC_TYPE_FROM) {
            xfree(m->sender);
            m->sender = xstrdup(buf_str(data));
        } else if (type == REC_TYPE_ATTR) {
            qmgr_message_attr(m, buf_str(data));
        } else if (type == REC_TYPE_FILT) {
            xfree(m->filter);           /* the last one wins (cleanup writes one) */
            m->filter = xstrdup(buf_str(data));
        } else if (type == REC_TYPE_WARN) {
            m->warn_time = strtol(buf_str(data), &end, 10);
            m->warn_offset = offset;
        } else if (type == REC_TYPE_ORCP) {
            buf_set(orig, buf_str(data));
        } else if (type == REC_TYPE_DSN_ORCPT) {
            buf_set(orcpt, buf_str(data));
        } else if (type == REC_TYPE_DSN_NOTIFY) {
            notify = atoi(buf_str(data));
        } else if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE) {
            qmgr_add_rcpt(m, &cap, buf_str(data), offset, type == REC_TYPE_DONE, orig, orcpt,
                          notify);
            buf_reset(orig);
            buf_reset(orcpt);
            notify = 0;
        } else if (type == REC_TYPE_MESG) {
            in_content = 1;
        }
        offset += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    }
    buf_free(data);
    buf_free(orig);
    buf_free(orcpt);
}

/* qmgr_message_open - open, lock-check, verify and read active/<id>;
 * NULL when the file was moved aside or away */
static QMGR_MESSAGE *qmgr_message_open(const char *id)
{
    BUF    *path = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    QFILE_SUMMARY sum;
    QMGR_MESSAGE *m = NULL;
    struct stat st;
    STREAM *s;
    int     fd;

    qmgr_queue_path(path, MAIL_QUEUE_ACTIVE, id);
    if ((fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0) {
        if (errno != ENOENT)
            qmgr_corrupt(id, buf_str(why));
    } else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        /* An agent of an earlier qmgr is still delivering this file.
         * Postfix waits 60 s; a smaller minimal_backoff_time shortens it. */
        long    retry = config_time(P_minimal_backoff_time);

        if (retry > QMGR_LOCKED_RETRY)
            retry = QMGR_LOCKED_RETRY;
        close(fd);
        msg_info("%s: still being delivered by another process: retry in %lds", id, retry);
        qmgr_move(MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING, id, (long) time(NULL) + retry);
    } else {
        (void) flock(fd, LOCK_UN);
        s = stream_fdopen(fd);
        if (qfile_verify(s, &sum, why) < 0) {
            qmgr_corrupt(id, buf_str(why));
        } else if (lseek(fd, 0, SEEK_SET) < 0) {
            msg_warn("%s: seek: %m", id);
        } else {
            /* Read again from the start with a fresh buffer. */
            stream_release(s);
            s = stream_fdopen(fd);
            m = xcalloc(1, sizeof(*m));
            snprintf(m->id, sizeof(m->id), "%s", id);
            m->sender = xstrdup("");
            m->envid = xstrdup("");
            m->ret = xstrdup("");
            m->warn_offset = -1;
            m->arrival = sum.arrival;
            m->data_offset = sum.sizes.data_offset;
            m->content_size = sum.sizes.content_size;
            m->nrcpt_total = sum.sizes.nrcpt;
            m->force_expire = (st.st_mode & QFILE_MODE_EXPIRE) != 0;
            qmgr_message_read(m, s);
        }
        stream_close(s);
    }
    buf_free(path);
    buf_free(why);
    return m;
}

/* qmgr_message_force_expire - postsuper -e/-f marked the file: return it
 * now instead of delivering (Postfix's forced expiration). Every recipient
 * still to do fails with the reason Postfix gives; the usual phases then
 * send the bounce and remove the file. */
static void qmgr_message_force_expire(QMGR_MESSAGE *m)
{
    int     i;

    msg_info("%s: from=<%s>, status=force-expired, returned to sender", m->id, m->sender);
    for (i = 0; i < m->nrcpt; i++)
        if (m->rcpt[i].state == RCPT_TODO)
            qmgr_rcpt_log(m, i, MAIL_ATTR_DSN_ACTION_FAILED, "4.7.0",
                          "message is administratively expired", RCPT_BOUNCED);
}

/* qmgr_message_filter - a content filter "transport:nexthop" replaces the
 * resolver's transport and next hop for every recipient, whatever its
 * address class (Postfix's qmgr_message_resolve); the address itself stays.
 * An empty nexthop ("smtp:") is default_filter_nexthop, or when that is
 * empty (Postfix's default) the recipient's domain. */
static void qmgr_message_filter(const char *filter, RESOLVE_REPLY *reply)
{
    const char *colon = strchr(filter, ':');
    const char *at;

    if (colon == NULL || colon == filter) {
        msg_warn("bad content filter \"%s\" in the queue file -- need transport:destination,"
                 " ignored", filter);
        return;
    }
    buf_reset(reply->transport);
    buf_append(reply->transport, filter, (size_t) (colon - filter));
    if (colon[1])
        buf_set(reply->nexthop, colon + 1);
    else if (*config_str(P_default_filter_nexthop))
        buf_set(reply->nexthop, config_str(P_default_filter_nexthop));
    else if ((at = strrchr(buf_str(reply->recipient), '@')) != NULL && at[1])
        buf_set(reply->nexthop, at + 1);
}

/* qmgr_message_import - see qmgr.h */
int qmgr_message_import(const char *id)
{
    QMGR_MESSAGE *m;
    RESOLVE_REPLY *reply;
    BUF    *why;
    BUF    *log_path;
    int     i;

    if ((m = qmgr_message_open(id)) == NULL)
        return -1;
    m->next = qmgr.active;
    if (qmgr.active)
        qmgr.active->prev = m;
    qmgr.active = m;
    qmgr.active_count++;
    msg_info("%s: from=<%s>, size=%ld, nrcpt=%ld (queue active)", m->id, m->sender,
             m->content_size, m->nrcpt_total);

    /* A bounce log left by a failed flush must still be sent. */
    log_path = buf_alloc(64);
    m->flush_failed = access(qmgr_queue_path(log_path, MAIL_QUEUE_BOUNCE, m->id), F_OK) == 0;
    buf_free(log_path);

    reply = resolve_reply_alloc();
    why = buf_alloc(64);
    qmgr_message_ref(m);                    /* hold it while recipients are added */
    if (m->force_expire)
        qmgr_message_force_expire(m);
    for (i = 0; i < m->nrcpt; i++) {
        if (m->rcpt[i].state != RCPT_TODO)
            continue;
        buf_reset(why);
        if (resolve_addr_from(qmgr.resolver, m->sender, m->rcpt[i].address, reply, why) != RESOLVE_OK) {
            qmgr_rcpt_defer(m, i, NULL, "4.3.0", buf_len(why) ? buf_str(why)
                            : "address resolver failure");
            continue;
        }
        xfree(m->rcpt[i].address);
        m->rcpt[i].address = xstrdup(buf_str(reply->recipient));
        if (m->filter)
            qmgr_message_filter(m->filter, reply);
        qmgr_entry_add(m, reply, i);
    }
    buf_free(why);
    resolve_reply_free(reply);
    qmgr_sched_request();
    qmgr_message_unref(m);
    return 0;
}

/* qmgr_log_rcpt - a result qmgr decided itself, in the agents' shape */
static void qmgr_log_rcpt(QMGR_MESSAGE *m, int idx, const char *dsn, const char *status,
                          const char *reason)
{
    DELIVER_LOG ev = {.queue_id = m->id, .to = m->rcpt[idx].address,
        .orig_to = m->rcpt[idx].orig, .relay = "none", .arrival = m->arrival,
    .dsn = dsn, .status = status, .reason = reason};

    gettimeofday(&ev.handoff, NULL);
    deliver_log(&ev);
}

/* qmgr_mark_done - R becomes D in the file */
static void qmgr_mark_done(QMGR_MESSAGE *m, int idx)
{
    BUF    *path = buf_alloc(64);
    int     fd;

    qmgr_queue_path(path, MAIL_QUEUE_ACTIVE, m->id);
    if ((fd = open(buf_str(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0
        || qfile_mark(fd, (off_t) m->rcpt[idx].offset, REC_TYPE_DONE) < 0)
        /* XXX the recipient stays R on disk: at worst a duplicate later. */
        msg_warn("%s: mark recipient %s done in %s: %m", m->id, m->rcpt[idx].address,
                 buf_str(path));
    if (fd >= 0)
        close(fd);
    m->rcpt[idx].state = RCPT_DONE;
    buf_free(path);
}

/* Context of a per-recipient bounce request. */
typedef struct QMGR_RCPT_CTX {
    QMGR_MESSAGE *m;
    int     idx;
    int     success_state;          /* state when bounce said ok */
} QMGR_RCPT_CTX;

/* qmgr_rcpt_logged - bounce answered an append for one recipient */
static void qmgr_rcpt_logged(int status, void *context)
{
    QMGR_RCPT_CTX *c = context;
    QMGR_MESSAGE *m = c->m;

    if (status != 0) {
        msg_warn("%s: to=<%s>: bounce service failed: recipient kept for a later attempt",
                 m->id, m->rcpt[c->idx].address);
        m->rcpt[c->idx].state = RCPT_DEFERRED;
    } else if (c->success_state == RCPT_DONE) {
        m->flush_failed = 1;                /* a success notice waits in the log */
        qmgr_mark_done(m, c->idx);
    } else {
        m->rcpt[c->idx].state = c->success_state;
    }
    xfree(c);
    qmgr_message_unref(m);
}

/* qmgr_rcpt_log - append one recipient to a bounce or defer log */
static void qmgr_rcpt_log(QMGR_MESSAGE *m, int idx, const char *action, const char *dsn,
                          const char *reason, int success_state)
{
    QMGR_RCPT_CTX *c = xmalloc(sizeof(*c));

    c->m = m;
    c->idx = idx;
    c->success_state = success_state;
    m->rcpt[idx].state = RCPT_BUSY;
    qmgr_message_ref(m);
    qmgr_bounce_append(m, idx, action, dsn, reason, qmgr_rcpt_logged, c);
}

/* qmgr_rcpt_delivered - an agent delivered the recipient */
void qmgr_rcpt_delivered(QMGR_MESSAGE *m, int idx, const char *dsn, const char *reason,
                         const char *relay)
{
    (void) relay;
    if (m->rcpt[idx].dsn_notify & DSN_NOTIFY_SUCCESS)
        qmgr_rcpt_log(m, idx, MAIL_ATTR_DSN_ACTION_DELIVERED, dsn, reason, RCPT_DONE);
    else
        qmgr_mark_done(m, idx);
}

/* qmgr_rcpt_defer - temporary failure: the recipient waits in deferred/.
 * relay NULL: qmgr decided it and logs it. */
void qmgr_rcpt_defer(QMGR_MESSAGE *m, int idx, const char *relay, const char *dsn,
                     const char *reason)
{
    if (relay == NULL)
        qmgr_log_rcpt(m, idx, dsn, "deferred", reason);
    qmgr_rcpt_log(m, idx, MAIL_ATTR_DSN_ACTION_DELAYED, dsn, reason, RCPT_DEFERRED);
    m->rcpt[idx].state = RCPT_DEFERRED;     /* whatever bounce says */
}

/* qmgr_rcpt_bounce - permanent failure (or a temporary one with soft_bounce) */
void qmgr_rcpt_bounce(QMGR_MESSAGE *m, int idx, const char *relay, const char *dsn,
                      const char *reason)
{
    char    soft[16];

    if (config_bool(P_soft_bounce)) {
        snprintf(soft, sizeof(soft), "%s", dsn);
        if (soft[0] == '5')
            soft[0] = '4';
        qmgr_rcpt_defer(m, idx, relay, soft, reason);
        return;
    }
    if (relay == NULL)
        qmgr_log_rcpt(m, idx, dsn, "bounced", reason);
    qmgr_rcpt_log(m, idx, MAIL_ATTR_DSN_ACTION_FAILED, dsn, reason, RCPT_BOUNCED);
}

/* qmgr_flush_done - bounce answered the flush: the DSN is queued */
static void qmgr_flush_done(int status, void *context)
{
    QMGR_MESSAGE *m = context;
    int     i;

    for (i = 0; i < m->nrcpt; i++) {
        if (m->rcpt[i].state != RCPT_BOUNCED)
            continue;
        if (status == 0)
            qmgr_mark_done(m, i);
        else
            m->rcpt[i].state = RCPT_DEFERRED;
    }
    if (status != 0)
        msg_warn("%s: bounce flush failed: recipients kept for a later attempt", m->id);
    m->flush_failed = status != 0;
    qmgr_message_unref(m);
}

/* qmgr_warn_done - the delay warning is queued: never again (W := 0) */
static void qmgr_warn_done(int status, void *context)
{
    QMGR_MESSAGE *m = context;
    BUF    *path = buf_alloc(64);
    char    text[QFILE_SIZE_WIDTH + 1];
    int     fd;

    if (status == 0) {
        snprintf(text, sizeof(text), "%*ld", QFILE_SIZE_WIDTH, 0L);
        qmgr_queue_path(path, MAIL_QUEUE_ACTIVE, m->id);
        if ((fd = open(buf_str(path), O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0
            || pwrite(fd, text, QFILE_SIZE_WIDTH,
                      (off_t) (m->warn_offset + (long) rec_header_len(QFILE_SIZE_WIDTH)))
            != QFILE_SIZE_WIDTH)
            msg_warn("%s: update delay warning record: %m", m->id);
        if (fd >= 0)
            close(fd);
        m->warn_time = 0;
    }
    buf_free(path);
    qmgr_message_unref(m);
}

/* qmgr_count - recipients in a state */
static int qmgr_count(const QMGR_MESSAGE *m, int state)
{
    int     i, n = 0;

    for (i = 0; i < m->nrcpt; i++)
        n += m->rcpt[i].state == state;
    return n;
}

/* qmgr_message_expire - fail every deferred recipient of an expired message */
static void qmgr_message_expire(QMGR_MESSAGE *m)
{
    int     i;

    msg_info("%s: from=<%s>, status=expired, returned to sender", m->id, m->sender);
    qmgr_message_ref(m);
    for (i = 0; i < m->nrcpt; i++)
        if (m->rcpt[i].state == RCPT_DEFERRED)
            qmgr_rcpt_log(m, i, MAIL_ATTR_DSN_ACTION_FAILED, "4.4.7", "message expired",
                          RCPT_BOUNCED);
    m->phase = MSG_PHASE_FLUSH;
    qmgr_message_unref(m);
}

/* qmgr_message_logs_remove - unlink defer/ID and bounce/ID */
static void qmgr_message_logs_remove(QMGR_MESSAGE *m, BUF *path)
{
    if (unlink(qmgr_queue_path(path, MAIL_QUEUE_DEFER, m->id)) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", m->id, buf_str(path));
    if (unlink(qmgr_queue_path(path, MAIL_QUEUE_BOUNCE, m->id)) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", m->id, buf_str(path));
}

/* qmgr_message_taken - the file left active/ while it was in memory:
 * `surel queue` held, requeued or deleted it (under the file's lock, so
 * never during a delivery). Its agents then deferred with "cannot read
 * queue file", and bounce logged that in defer/ID. Where the file went,
 * the logs go with it; when it is in no queue it was deleted, and logs
 * written after the delete would be orphans nobody ever removes. */
static void qmgr_message_taken(QMGR_MESSAGE *m, BUF *path)
{
    static const char *const queues[] = {
        MAIL_QUEUE_INCOMING, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, MAIL_QUEUE_ACTIVE, NULL,
    };
    const char *const *q;
    int     round;

    /* XXX Two rounds: a file moved between two folders while we look
     * (release: hold to deferred) is seen in one of them the second time. */
    for (round = 0; round < 2; round++) {
        for (q = queues; *q; q++) {
            if (access(qmgr_queue_path(path, *q, m->id), F_OK) == 0) {
                msg_info("%s: taken out of active/ meanwhile (now in %s/)", m->id, *q);
                return;
            }
        }
    }
    msg_info("%s: deleted meanwhile: dropping its logs", m->id);
    qmgr_message_logs_remove(m, path);
}

/* qmgr_message_final - remove the file, or put it in deferred/ */
static void qmgr_message_final(QMGR_MESSAGE *m)
{
    BUF    *path = buf_alloc(64);
    long    now = (long) time(NULL), delay;

    if (qmgr_count(m, RCPT_DEFERRED) == 0 && !m->flush_failed) {
        if (unlink(qmgr_queue_path(path, MAIL_QUEUE_ACTIVE, m->id)) == 0)
            msg_info("%s: removed", m->id);
        else if (errno == ENOENT)
            msg_info("%s: taken out of active/ meanwhile", m->id);
        else
            msg_warn("%s: remove %s: %m", m->id, buf_str(path));
        qmgr_message_logs_remove(m, path);
    } else if (access(qmgr_queue_path(path, MAIL_QUEUE_ACTIVE, m->id), F_OK) < 0
               && errno == ENOENT) {
        qmgr_message_taken(m, path);
    } else {
        struct timeval tv;

        delay = qmgr_backoff(now, (long) m->arrival.tv_sec, config_time(P_minimal_backoff_time),
                             config_time(P_maximal_backoff_time));
        /* mtime has whole seconds: round up, so no retry comes early. */
        gettimeofday(&tv, NULL);
        qmgr_move(MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, m->id,
                  (long) tv.tv_sec + delay + (tv.tv_usec > 0));
    }
    buf_free(path);
    qmgr_message_free(m);
    qmgr_feed_request();                    /* there is room again */
}

/* qmgr_message_advance - nothing in flight: take the next step */
static void qmgr_message_advance(QMGR_MESSAGE *m)
{
    long    now = (long) time(NULL);

    /* Steps may finish at once (bounce unreachable): loop, don't recurse. */
    m->advancing = 1;
    while (m->refs == 0) {
        switch (m->phase) {
        case MSG_PHASE_DELIVER:
            m->phase = MSG_PHASE_EXPIRE;
            break;
        case MSG_PHASE_EXPIRE:
            m->phase = MSG_PHASE_FLUSH;
            if (qmgr_count(m, RCPT_DEFERRED) > 0
                && qmgr_expired(now, (long) m->arrival.tv_sec, m->sender,
                                config_time(P_maximal_queue_lifetime),
                                config_time(P_bounce_queue_lifetime)))
                qmgr_message_expire(m);     /* may finish synchronously */
            break;
        case MSG_PHASE_FLUSH:
            m->phase = MSG_PHASE_WARN;
            if (qmgr_count(m, RCPT_BOUNCED) > 0 || m->flush_failed) {
                qmgr_message_ref(m);
                qmgr_bounce_flush(m, BOUNCE_REQ_FLUSH, qmgr_flush_done, m);
            }
            break;
        case MSG_PHASE_WARN:
            m->phase = MSG_PHASE_FINAL;
            if (qmgr_count(m, RCPT_DEFERRED) > 0 && m->warn_time > 0 && now >= m->warn_time
                && m->warn_offset >= 0) {
                qmgr_message_ref(m);
                qmgr_bounce_flush(m, BOUNCE_REQ_WARN, qmgr_warn_done, m);
            }
            break;
        default:
            qmgr_message_final(m);
            return;
        }
    }
    m->advancing = 0;
}
