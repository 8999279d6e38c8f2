/* pickup_file - one maildrop file to cleanup, and the scan of maildrop/.
 *
 * A maildrop file belongs to the user who submitted it (postdrop wrote it
 * with the user's uid), so nothing in it is believed before it has been
 * checked: it must be a regular file with one link reached without a
 * symbolic link, marked complete (owner-execute bit), owned by an account
 * that exists, and its records must follow lib/global/maildrop.h to the end.
 * A file that fails is moved to corrupt/ with a log line, never deleted.
 * A good file is streamed to cleanup (the cleanup protocol of
 * mail_proto.h) and removed only after cleanup answered status 0: a crash
 * in between may queue it twice, never lose it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "pickup.h"
#include "mail_date.h"
#include "queue_id.h"
#include "receive_override.h"
#include "record.h"
#include "stream.h"

/* Where a maildrop file came from, for its Received: header. */
typedef struct PICKUP_ORIGIN {
    long    uid;                        /* the file's owner: the submitter */
    time_t  mtime;                      /* when postdrop wrote it */
    const char *queue_id;               /* cleanup's queue ID */
} PICKUP_ORIGIN;

/* pickup_corrupt - move maildrop/name to corrupt/name, with a log line */
static PICKUP_RESULT pickup_corrupt(const PICKUP_CONF *conf, const char *name,
                                    long uid, const char *why)
{
    BUF    *from = buf_alloc(100);
    BUF    *to = buf_alloc(100);

    buf_sprintf(from, "%s/%s/%s", conf->queue_dir, MAIL_QUEUE_MAILDROP, name);
    buf_sprintf(to, "%s/%s/%s", conf->queue_dir, MAIL_QUEUE_CORRUPT, name);
    if (rename(buf_str(from), buf_str(to)) < 0)
        msg_warn("maildrop/%s: uid=%ld: %s; cannot move it to corrupt/: %m", name, uid, why);
    else
        msg_warn("maildrop/%s: uid=%ld: %s; moved to corrupt/", name, uid, why);
    buf_free(from);
    buf_free(to);
    return PICKUP_CORRUPT;
}

/* pickup_verify - the whole file against the maildrop grammar; 0, or -1
 * with why. Learns the sender and the flags asked for. */
static int pickup_verify(int fd, long size_limit, BUF *sender, int *flags, BUF *why)
{
    STREAM *s = stream_fdopen(fd);
    BUF    *data = buf_alloc(MAILDROP_RECORD_LIMIT + 1);
    MAILDROP_CHECK check;
    int     type;
    int     rc = MAILDROP_MORE;

    maildrop_check_init(&check, size_limit);
    while (rc == MAILDROP_MORE) {
        if ((type = rec_get(s, data, MAILDROP_RECORD_LIMIT)) < 0) {
            buf_set(why, type == REC_EOF ? "no end record" : "malformed record");
            break;
        }
        rc = maildrop_check_record(&check, type, buf_str(data), buf_len(data), why);
        if (type == REC_TYPE_FROM && rc == MAILDROP_MORE)
            buf_set(sender, buf_str(data));
    }
    if (rc == MAILDROP_DONE && rec_get(s, data, MAILDROP_RECORD_LIMIT) != REC_EOF) {
        buf_set(why, "data after the end record");
        rc = MAILDROP_BAD;
    }
    *flags = check.flags;
    stream_release(s);
    buf_free(data);
    return rc == MAILDROP_DONE ? 0 : -1;
}

/* pickup_connect - a stream to the cleanup service (private/ or public/,
 * as master.cf says: mail_connect.h), or NULL */
static STREAM *pickup_connect(const PICKUP_CONF *conf)
{
    BUF    *why = buf_alloc(100);
    int     sock;
    STREAM *s;

    if ((sock = mail_connect(conf->queue_dir, MAIL_SERVICE_CLEANUP, why)) < 0) {
        msg_warn("connect to the %s service: %s", MAIL_SERVICE_CLEANUP, buf_str(why));
        buf_free(why);
        return NULL;
    }
    buf_free(why);
    s = stream_fdopen(sock);
    stream_set_timeout(s, conf->ipc_timeout);
    return s;
}

/* pickup_received - Postfix's Received: of a local submission, right
 * after the content marker: who (the file owner's uid, not the login
 * name), the queue ID and when (the file's mtime: postdrop's time) */
static int pickup_received(const PICKUP_CONF *conf, STREAM *cleanup, const PICKUP_ORIGIN *o)
{
    char    date[MAIL_DATE_SIZE];
    BUF    *line;
    int     rc;

    if (conf->received_by == NULL)
        return 0;
    line = buf_alloc(200);
    mail_date(o->mtime, date, sizeof(date));
    buf_sprintf(line, "Received: by %s (%s, from userid %ld)", conf->received_by,
                conf->mail_name ? conf->mail_name : "surel", o->uid);
    rc = rec_put(cleanup, REC_TYPE_NORM, buf_str(line), buf_len(line));
    buf_sprintf(line, "\tid %s; %s", o->queue_id, date);
    if (rc == 0)
        rc = rec_put(cleanup, REC_TYPE_NORM, buf_str(line), buf_len(line));
    buf_free(line);
    return rc;
}

/* pickup_copy - the file's records to cleanup; the flags A record is
 * ours to act on (cleanup gets the flags in its request instead) */
static int pickup_copy(const PICKUP_CONF *conf, int fd, STREAM *cleanup, const PICKUP_ORIGIN *o)
{
    STREAM *in = stream_fdopen(fd);
    BUF    *data = buf_alloc(MAILDROP_RECORD_LIMIT + 1);
    size_t  flen = strlen(MAIL_ATTR_FLAGS "=");
    int     type;
    int     result = 0;

    while ((type = rec_get(in, data, MAILDROP_RECORD_LIMIT)) > 0) {
        if (type == REC_TYPE_ATTR && strncmp(buf_str(data), MAIL_ATTR_FLAGS "=", flen) == 0)
            continue;
        if (rec_put(cleanup, type, buf_str(data), buf_len(data)) < 0
            || (type == REC_TYPE_MESG && pickup_received(conf, cleanup, o) < 0)) {
            result = -1;
            break;
        }
        if (type == REC_TYPE_END)
            break;
    }
    if (type < 0)
        result = -1;                    /* the file changed under us */
    stream_release(in);
    buf_free(data);
    return result;
}

/* pickup_send - one verified file to cleanup */
static PICKUP_RESULT pickup_send(const PICKUP_CONF *conf, const char *name, int fd,
                                 const struct stat *st, const char *sender, int user_flags)
{
    long    uid = (long) st->st_uid;
    PICKUP_ORIGIN origin;
    STREAM *s;
    BUF    *id = buf_alloc(QUEUE_ID_BUFSZ);
    BUF    *reason = buf_alloc(100);
    BUF    *path = buf_alloc(100);
    int     flags = CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK | CLEANUP_FLAG_MILTER
        | (user_flags & CLEANUP_FLAG_EXTRACT);
    int     status = -1;
    PICKUP_RESULT result = PICKUP_DEFER;

    flags = receive_override_cleanup_flags(flags, conf->receive_opts);
    if ((s = pickup_connect(conf)) == NULL)
        goto done;
    if (attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, flags), ATTR_END) < 0
        || attr_recv(s, RECV_STR(MAIL_ATTR_QUEUEID, id), ATTR_END) < 0) {
        msg_warn("maildrop/%s: cleanup: %s", name, attr_last_error());
        goto done;
    }
    if (buf_len(id) == 0) {
        msg_warn("maildrop/%s: cleanup could not make a queue file; will retry", name);
        goto done;
    }
    msg_info("%s: uid=%ld from=<%s>", buf_str(id), uid, sender);
    origin.uid = uid;
    origin.mtime = st->st_mtime;
    origin.queue_id = buf_str(id);
    /* This service's content_filter (a maildrop file cannot carry one:
     * maildrop.c's grammar has no filter record). */
    if (lseek(fd, 0, SEEK_SET) < 0
        || (conf->content_filter && *conf->content_filter
            && rec_put(s, REC_TYPE_FILT, conf->content_filter, strlen(conf->content_filter)) < 0)
        || pickup_copy(conf, fd, s, &origin) < 0 || stream_flush(s) < 0
        || attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status),
                     RECV_STR(MAIL_ATTR_WHY, reason), ATTR_END) < 0) {
        msg_warn("%s: maildrop/%s: lost cleanup: %s; will retry", buf_str(id), name,
                 stream_error(s) ? "I/O error or timeout" : attr_last_error());
        goto done;
    }
    buf_sprintf(path, "%s/%s/%s", conf->queue_dir, MAIL_QUEUE_MAILDROP, name);
    if (status == CLEANUP_STAT_OK) {
        if (unlink(buf_str(path)) < 0)
            msg_warn("%s: remove maildrop/%s: %m (it may be queued twice)", buf_str(id), name);
        result = PICKUP_SENT;
    } else if (cleanup_stat_permanent(status)) {
        /* cleanup refused the message itself (cleanup_status.h: the same
         * verdict smtpd's 5xx and local's bounce give): retrying cannot help. */
        /* XXX: Postfix's cleanup bounces a refused local submission to
         * its sender; ours answers with a status. Until it can bounce,
         * the file is kept for the administrator rather than lost. */
        buf_sprintf(id, "rejected by cleanup (status %d: %s)", status,
                    buf_len(reason) ? buf_str(reason) : cleanup_strerror(status));
        result = pickup_corrupt(conf, name, uid, buf_str(id));
    } else {
        msg_warn("%s: maildrop/%s: cleanup status %d (%s); will retry", buf_str(id), name,
                 status, buf_len(reason) ? buf_str(reason) : cleanup_strerror(status));
    }

done:
    if (s)
        stream_close(s);
    buf_free(id);
    buf_free(reason);
    buf_free(path);
    return result;
}

/* pickup_file - check maildrop/name and hand it to cleanup */
PICKUP_RESULT pickup_file(const PICKUP_CONF *conf, const char *name)
{
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    BUF    *sender = buf_alloc(100);
    struct stat lst;
    struct stat fst;
    int     fd = -1;
    int     flags = 0;
    PICKUP_RESULT result = PICKUP_SKIP;

    buf_sprintf(path, "%s/%s/%s", conf->queue_dir, MAIL_QUEUE_MAILDROP, name);
    if (lstat(buf_str(path), &lst) < 0)
        goto done;                      /* gone meanwhile */
    if (!S_ISREG(lst.st_mode)) {
        result = pickup_corrupt(conf, name, (long) lst.st_uid, "not a regular file");
        goto done;
    }
    if ((lst.st_mode & 0100) == 0)
        goto done;                      /* postdrop is still writing it */
    fd = open(buf_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            result = pickup_corrupt(conf, name, (long) lst.st_uid, "cannot be opened");
        goto done;
    }
    if (fstat(fd, &fst) < 0 || fst.st_dev != lst.st_dev || fst.st_ino != lst.st_ino
        || !S_ISREG(fst.st_mode)) {
        goto done;                      /* replaced meanwhile: look again next time */
    }
    if (fst.st_nlink != 1) {
        result = pickup_corrupt(conf, name, (long) fst.st_uid, "more than one link");
        goto done;
    }
    if (getpwuid(fst.st_uid) == NULL) {
        result = pickup_corrupt(conf, name, (long) fst.st_uid, "owner is not a known user");
        goto done;
    }
    if (pickup_verify(fd, conf->size_limit, sender, &flags, why) < 0) {
        result = pickup_corrupt(conf, name, (long) fst.st_uid, buf_str(why));
        goto done;
    }
    result = pickup_send(conf, name, fd, &fst, buf_str(sender), flags);

done:
    if (fd >= 0)
        close(fd);
    buf_free(path);
    buf_free(why);
    buf_free(sender);
    return result;
}

/* pickup_name_cmp - qsort: names sort by arrival (postdrop's hex time) */
static int pickup_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* pickup_read_names - up to PICKUP_BATCH_MAX names in maildrop/, sorted;
 * the count, or -1 when the folder can't be read */
static int pickup_read_names(const PICKUP_CONF *conf, char ***names)
{
    BUF    *path = buf_alloc(100);
    DIR    *dir;
    struct dirent *ent;
    int     count = 0;

    *names = NULL;
    buf_sprintf(path, "%s/%s", conf->queue_dir, MAIL_QUEUE_MAILDROP);
    if ((dir = opendir(buf_str(path))) == NULL) {
        msg_warn("open %s: %m", buf_str(path));
        buf_free(path);
        return -1;
    }
    while (count < PICKUP_BATCH_MAX && (ent = readdir(dir)) != NULL) {
        if (ent->d_name[0] == '.')
            continue;
        *names = xreallocarray(*names, (size_t) count + 1, sizeof(char *));
        (*names)[count++] = xstrdup(ent->d_name);
    }
    closedir(dir);
    buf_free(path);
    if (count > 1)
        qsort(*names, (size_t) count, sizeof(char *), pickup_name_cmp);
    return count;
}

/* pickup_scan - every complete file in maildrop/, oldest first; stops at
 * the first file cleanup could not take (it will not take the next
 * either), and passes again while a full batch was read */
void pickup_scan(const PICKUP_CONF *conf, PICKUP_STATS *stats)
{
    char  **names;
    int     count;
    int     i;
    int     stop = 0;
    int     progress;

    memset(stats, 0, sizeof(*stats));
    do {
        if ((count = pickup_read_names(conf, &names)) < 0)
            return;
        progress = 0;
        for (i = 0; i < count; i++) {
            if (!stop) {
                switch (pickup_file(conf, names[i])) {
                case PICKUP_SENT: stats->sent++; progress = 1; break;
                case PICKUP_SKIP: stats->skipped++; break;
                case PICKUP_CORRUPT: stats->corrupt++; progress = 1; break;
                case PICKUP_DEFER: stats->deferred++; stop = 1; break;
                }
            }
            xfree(names[i]);
        }
        xfree(names);
    } while (!stop && progress && count == PICKUP_BATCH_MAX);
}
