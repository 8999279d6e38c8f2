/* qfile_read - read a queue file's envelope and content; see qfile_read.h.
 *
 * Two passes over the file: qfile_verify() checks all of it, then the
 * envelope is read again from the start. Files are small next to the cost
 * of believing a damaged one, and listing is not on the delivery path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "qfile_read.h"
#include "record.h"

/* Pending per-recipient fields, waiting for their R or D record. */
typedef struct QFILE_PENDING {
    char   *orig;
    char   *dsn_orcpt;
    int     notify;
} QFILE_PENDING;

/* pending_reset - forget fields that were given to a recipient */
static void pending_reset(QFILE_PENDING *p)
{
    xfree(p->orig);
    xfree(p->dsn_orcpt);
    memset(p, 0, sizeof(*p));
}

/* add_recipient - one R or D record with what preceded it */
static void add_recipient(QFILE_ENVELOPE *env, QFILE_PENDING *p, int type,
                          const BUF *data, long offset)
{
    QFILE_RCPT *r;

    env->rcpts = xreallocarray(env->rcpts, (size_t) env->nrcpts + 1, sizeof(*env->rcpts));
    r = env->rcpts + env->nrcpts++;
    r->address = xstrndup(buf_str(data), buf_len(data));
    r->orig = p->orig ? p->orig : xstrdup("");
    r->dsn_orcpt = p->dsn_orcpt ? p->dsn_orcpt : xstrdup("");
    r->notify = p->notify;
    r->done = (type == REC_TYPE_DONE);
    r->offset = offset;
    p->orig = p->dsn_orcpt = NULL;
    p->notify = 0;
}

/* add_attr - one A record, kept as "name=value" */
static void add_attr(QFILE_ENVELOPE *env, const BUF *data)
{
    env->attrs = xreallocarray(env->attrs, (size_t) env->nattrs + 1, sizeof(*env->attrs));
    env->attrs[env->nattrs++] = xstrndup(buf_str(data), buf_len(data));
}

/* take_record - an envelope or extracted record; 1 at the end of a part */
static int take_record(QFILE_ENVELOPE *env, QFILE_PENDING *p, int type,
                       const BUF *data, long offset)
{
    switch (type) {
    case REC_TYPE_FROM:
        xfree(env->sender);
        env->sender = xstrndup(buf_str(data), buf_len(data));
        break;
    case REC_TYPE_FULL:
        xfree(env->fullname);
        env->fullname = xstrndup(buf_str(data), buf_len(data));
        break;
    case REC_TYPE_ATTR:
        add_attr(env, data);
        break;
    case REC_TYPE_WARN:
        env->warn_time = strtol(buf_str(data), NULL, 10);
        break;
    case REC_TYPE_ORCP:
        xfree(p->orig);
        p->orig = xstrndup(buf_str(data), buf_len(data));
        break;
    case REC_TYPE_DSN_ORCPT:
        xfree(p->dsn_orcpt);
        p->dsn_orcpt = xstrndup(buf_str(data), buf_len(data));
        break;
    case REC_TYPE_DSN_NOTIFY:
        p->notify = atoi(buf_str(data));
        break;
    case REC_TYPE_RCPT:
    case REC_TYPE_DONE:
        add_recipient(env, p, type, data, offset);
        break;
    case REC_TYPE_MESG:
    case REC_TYPE_END:
    case REC_TYPE_XTRA:
        return 1;
    default:
        break;
    }
    return 0;
}

/* read_records - collect the envelope and extracted records of a verified file */
static int read_records(int fd, QFILE_ENVELOPE *env, BUF *why)
{
    STREAM *s = stream_fdopen(fd);
    BUF    *data = buf_alloc(256);
    QFILE_PENDING pending = {NULL, NULL, 0};
    int     in_content = 0;
    long    offset = 0;
    int     type;
    int     ret = 0;

    for (;;) {
        type = rec_get(s, data, QFILE_READ_RECORD_LIMIT);
        if (type < 0) {
            /* The file changed between the passes (it was verified). */
            buf_sprintf(why, "queue file changed while being read");
            ret = -1;
            break;
        }
        if (in_content) {
            if (type == REC_TYPE_XTRA)
                in_content = 0;
        } else if (take_record(env, &pending, type, data, offset)) {
            if (type == REC_TYPE_END)
                break;
            in_content = (type == REC_TYPE_MESG);
        }
        offset += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    }
    pending_reset(&pending);
    buf_free(data);
    stream_release(s);
    return ret;
}

/* qfile_read_envelope - verify the file, then read its envelope */
int qfile_read_envelope(int fd, QFILE_ENVELOPE *env, BUF *why)
{
    STREAM *s;
    int     ret;

    memset(env, 0, sizeof(*env));
    if (lseek(fd, 0, SEEK_SET) < 0) {
        buf_sprintf(why, "seek: %s", strerror(errno));
        return -1;
    }
    s = stream_fdopen(fd);
    ret = qfile_verify(s, &env->sum, why);
    stream_release(s);
    if (ret < 0)
        return -1;
    if (lseek(fd, 0, SEEK_SET) < 0) {
        buf_sprintf(why, "seek: %s", strerror(errno));
        return -1;
    }
    if (read_records(fd, env, why) < 0) {
        qfile_envelope_free(env);
        return -1;
    }
    if (env->sender == NULL)
        env->sender = xstrdup("");
    return 0;
}

/*
 * qfile_read_maildrop - what a listing can show of a maildrop file.
 * postdrop's files have no size or time record and are not ours to judge
 * (pickup validates them): take S, F, A and R records up to the content,
 * the size and arrival time from the file itself, and stop at anything
 * unexpected. -1 only when not even a sender or recipient could be read.
 */
int qfile_read_maildrop(int fd, QFILE_ENVELOPE *env, BUF *why)
{
    STREAM *s;
    BUF    *data = buf_alloc(256);
    QFILE_PENDING pending = {NULL, NULL, 0};
    struct stat st;
    long    offset = 0;
    int     type;

    memset(env, 0, sizeof(*env));
    if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        buf_sprintf(why, "stat: %s", strerror(errno));
        buf_free(data);
        return -1;
    }
    env->sum.arrival.tv_sec = st.st_mtime;
    env->sum.sizes.content_size = (long) st.st_size;
    s = stream_fdopen(fd);
    while ((type = rec_get(s, data, QFILE_READ_RECORD_LIMIT)) > 0 && rec_type_known(type)) {
        if (type == REC_TYPE_SIZE || type == REC_TYPE_TIME)
            continue;
        if (take_record(env, &pending, type, data, offset))
            break;
        offset += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    }
    pending_reset(&pending);
    stream_release(s);
    buf_free(data);
    if (env->sender == NULL && env->nrcpts == 0) {
        buf_sprintf(why, "no envelope records");
        qfile_envelope_free(env);
        return -1;
    }
    if (env->sender == NULL)
        env->sender = xstrdup("");
    return 0;
}

/* qfile_envelope_free - release what an envelope holds (not env itself) */
void qfile_envelope_free(QFILE_ENVELOPE *env)
{
    int     i;

    for (i = 0; i < env->nrcpts; i++) {
        xfree(env->rcpts[i].address);
        xfree(env->rcpts[i].orig);
        xfree(env->rcpts[i].dsn_orcpt);
    }
    for (i = 0; i < env->nattrs; i++)
        xfree(env->attrs[i]);
    xfree(env->rcpts);
    xfree(env->attrs);
    xfree(env->sender);
    xfree(env->fullname);
    memset(env, 0, sizeof(*env));
}

/* qfile_envelope_attr - the value of attribute `name`, or NULL */
const char *qfile_envelope_attr(const QFILE_ENVELOPE *env, const char *name)
{
    size_t  len = strlen(name);
    int     i;

    for (i = 0; i < env->nattrs; i++)
        if (strncmp(env->attrs[i], name, len) == 0 && env->attrs[i][len] == '=')
            return env->attrs[i] + len + 1;
    return NULL;
}

/* qfile_read_content - the N and L records after M, in order */
int qfile_read_content(int fd, const QFILE_ENVELOPE *env, QFILE_CONTENT_FN fn,
                       void *ctx, BUF *why)
{
    STREAM *s;
    BUF    *data;
    int     type;
    int     ret = 0;

    if (lseek(fd, (off_t) env->sum.sizes.data_offset, SEEK_SET) < 0) {
        buf_sprintf(why, "seek: %s", strerror(errno));
        return -1;
    }
    s = stream_fdopen(fd);
    data = buf_alloc(256);
    if (rec_get(s, data, QFILE_READ_RECORD_LIMIT) != REC_TYPE_MESG) {
        buf_sprintf(why, "no content record at offset %ld", env->sum.sizes.data_offset);
        ret = -1;
    }
    while (ret == 0 && (type = rec_get(s, data, QFILE_READ_RECORD_LIMIT)) != REC_TYPE_XTRA) {
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            buf_sprintf(why, "queue file changed while being read");
            ret = -1;
            break;
        }
        fn(type, buf_str(data), buf_len(data), ctx);
    }
    buf_free(data);
    stream_release(s);
    return ret;
}
