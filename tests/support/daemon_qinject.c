/*
 * NAME
 *      test-qinject - write one committed queue file, for queue tests
 * SYNOPSIS
 *      test-qinject -d queue_dir [-q queue] [-H depth] [-u user] [-t age]
 *              [-f sender] [-a name=value]... [-o orcpt] [-n notify]
 *              [-r rcpt]... [-D done_rcpt]... < body
 * DESCRIPTION
 *      Writes a queue file with lib/qfile's commit protocol (temp/, then
 *      the queue folder, default incoming), the way cleanup does, and
 *      prints its queue ID. The body lines come from stdin. -r adds a
 *      recipient to deliver, -D one already done (a D record); -o and -n
 *      give the next recipient an ORCPT and a NOTIFY mask. -H moves the
 *      file into hashed subfolders (deferred/), -u chowns file and
 *      subfolders to a user (queue files belong to mail_owner), -t sets
 *      the mtime `age` seconds from now (negative: the past).
 * SECURITY
 *      Test program only.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "record.h"
#include "safe_file.h"

#define MAX_RCPT 1000

typedef struct INJECT {
    const char *queue_dir;
    const char *queue;
    const char *sender;
    const char *attrs[100];
    int     nattrs;
    struct {
        const char *addr;
        const char *orcpt;
        const char *notify;
        int     done;
    }       rcpt[MAX_RCPT];
    int     nrcpt;
} INJECT;

/* write_envelope - A, S and recipient records */
static void write_envelope(STREAM *s, const INJECT *in)
{
    int     i;

    for (i = 0; i < in->nattrs; i++)
        rec_puts(s, REC_TYPE_ATTR, in->attrs[i]);
    rec_puts(s, REC_TYPE_FROM, in->sender);
    for (i = 0; i < in->nrcpt; i++) {
        rec_puts(s, REC_TYPE_ORCP, in->rcpt[i].addr);
        if (in->rcpt[i].orcpt)
            rec_puts(s, REC_TYPE_DSN_ORCPT, in->rcpt[i].orcpt);
        if (in->rcpt[i].notify)
            rec_puts(s, REC_TYPE_DSN_NOTIFY, in->rcpt[i].notify);
        rec_puts(s, in->rcpt[i].done ? REC_TYPE_DONE : REC_TYPE_RCPT, in->rcpt[i].addr);
    }
}

/* write_body - stdin lines as N records; returns the content size */
static long write_body(STREAM *s)
{
    char    line[4096];
    size_t  len;
    long    size = 0;

    while (fgets(line, sizeof(line), stdin)) {
        len = strlen(line);
        if (len && line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        rec_put(s, REC_TYPE_NORM, line, len);
        size += (long) len + 1;
    }
    return size;
}

/* chown_path - give the file (and the subfolders below the queue) to uid */
static void chown_path(const char *path, const INJECT *in, const struct passwd *pw)
{
    char   *copy = xstrdup(path);
    char   *slash;
    BUF    *top = buf_alloc(100);

    buf_sprintf(top, "%s/%s", in->queue_dir, in->queue);
    if (lchown(path, pw->pw_uid, pw->pw_gid) < 0)
        msg_fatal("chown %s: %m", path);
    while ((slash = strrchr(copy, '/')) != NULL) {
        *slash = 0;
        if (strcmp(copy, buf_str(top)) == 0 || strlen(copy) <= buf_len(top))
            break;
        if (lchown(copy, pw->pw_uid, pw->pw_gid) < 0)
            msg_fatal("chown %s: %m", copy);
    }
    buf_free(top);
    xfree(copy);
}

int main(int argc, char **argv)
{
    INJECT  in;
    QFILE_WRITER *w;
    QFILE_SIZES sizes;
    BUF    *why = buf_alloc(100);
    BUF    *path = buf_alloc(100);
    BUF    *hashed = buf_alloc(100);
    const char *orcpt = NULL, *notify = NULL, *user = NULL, *depth_arg = "0";
    struct passwd *pw = NULL;
    int     depth = 0, have_age = 0, ch;
    long    age = 0;
    off_t   pos;

    msg_init("test-qinject", MSG_TO_STDERR);
    memset(&in, 0, sizeof(in));
    in.queue = "incoming";
    in.sender = "sender@example.com";
    while ((ch = getopt(argc, argv, "d:q:H:u:t:f:a:o:n:r:D:")) != -1) {
        switch (ch) {
        case 'd': in.queue_dir = optarg; break;
        case 'q': in.queue = optarg; break;
        case 'H': depth = atoi(optarg); depth_arg = optarg; break;
        case 'u': user = optarg; break;
        case 't': age = atol(optarg); have_age = 1; break;
        case 'f': in.sender = optarg; break;
        case 'a':
            if (in.nattrs < 100)
                in.attrs[in.nattrs++] = optarg;
            break;
        case 'o': orcpt = optarg; break;
        case 'n': notify = optarg; break;
        case 'r':
        case 'D':
            if (in.nrcpt >= MAX_RCPT)
                msg_fatal("too many recipients");
            in.rcpt[in.nrcpt].addr = optarg;
            in.rcpt[in.nrcpt].orcpt = orcpt;
            in.rcpt[in.nrcpt].notify = notify;
            in.rcpt[in.nrcpt++].done = (ch == 'D');
            orcpt = notify = NULL;
            break;
        default:
            msg_fatal("usage: test-qinject -d queue_dir [-q queue] ...");
        }
    }
    if (in.queue_dir == NULL || in.nrcpt == 0)
        msg_fatal("usage: test-qinject -d queue_dir -r rcpt ...");
    if (user && (pw = getpwnam(user)) == NULL)
        msg_fatal("unknown user %s", user);
    if ((w = qfile_create(in.queue_dir, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    write_envelope(qfile_stream(w), &in);
    if (stream_flush(qfile_stream(w)) < 0 || (pos = lseek(w->fd, 0, SEEK_CUR)) < 0)
        msg_fatal("write: %m");
    memset(&sizes, 0, sizeof(sizes));
    sizes.data_offset = (long) pos;
    rec_put(qfile_stream(w), REC_TYPE_MESG, "", 0);
    sizes.content_size = write_body(qfile_stream(w));
    rec_put(qfile_stream(w), REC_TYPE_XTRA, "", 0);
    rec_put(qfile_stream(w), REC_TYPE_END, "", 0);
    sizes.nrcpt = in.nrcpt;
    if (qfile_commit(w, in.queue, &sizes, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_sprintf(path, "%s/%s/%s", in.queue_dir, in.queue, w->id);
    if (depth > 0) {
        /* The queue folder hashed as if main.cf said so: the same path
         * and subfolders a daemon would use (mail_queue.h). */
        config_set("hash_queue_names", in.queue);
        config_set("hash_queue_depth", depth_arg);
        if (mail_queue_path(hashed, in.queue_dir, in.queue, w->id) < 0
            || mail_queue_mkdirs(buf_str(hashed)) < 0)
            msg_fatal("%s/%s: cannot make its hash subfolders: %m", in.queue, w->id);
        if (rename_sync(buf_str(path), buf_str(hashed)) < 0)
            msg_fatal("rename %s: %m", buf_str(path));
        buf_set(path, buf_str(hashed));
    }
    if (pw)
        chown_path(buf_str(path), &in, pw);
    if (have_age) {
        struct timeval tv[2];

        gettimeofday(&tv[0], NULL);
        tv[0].tv_sec += age;
        tv[1] = tv[0];
        if (utimes(buf_str(path), tv) < 0)
            msg_fatal("utimes %s: %m", buf_str(path));
    }
    printf("%s\n", w->id);
    qfile_writer_free(w);
    buf_free(why);
    buf_free(path);
    buf_free(hashed);
    return 0;
}
