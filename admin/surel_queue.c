/*
 * NAME
 *      surel queue - list, flush, show and change the mail queue
 * SYNOPSIS
 *      surel [-c config_dir] queue list [-j]
 *      surel [-c config_dir] queue flush [site]
 *      surel [-c config_dir] queue flush -i ID
 *      surel [-c config_dir] queue show [-h|-b|-e] ID
 *      surel [-c config_dir] queue delete|hold|release|requeue ID|ALL|- [queue...]
 *      surel [-c config_dir] queue expire|expire-release ID|ALL|- [queue...]
 *      surel [-c config_dir] queue repair [-s] [-p] [queue...]
 * DESCRIPTION
 *      Postfix's postqueue and postsuper in one verb.
 *
 *      list prints the queue in mailq's shape (Postfix's postqueue -p;
 *      lib/global/queue_list.h), -j as JSON Lines (postqueue -j). A caller who
 *      can read the queue folders (root, the instance owner, mail_owner)
 *      reads them directly, so listing works while the mail system is
 *      down; anyone else gets the listing from the showq service over
 *      public/showq.
 *
 *      flush asks qmgr (public/qmgr) to retry deferred mail now: the
 *      triggers F (forget dead destinations), A (scan every queue, ignore
 *      retry times) and I (incoming). With a site, only deferred mail with
 *      a recipient in that domain is retried: those files' mtime (their
 *      next attempt time) is set to now, then qmgr gets F, D and I (F as
 *      Postfix's flush service sends it: a destination qmgr holds dead
 *      is tried again at once, not after minimal_backoff_time). With -i
 *      ID (postqueue -i), the same for that one deferred message; exit 1
 *      when no deferred message has that ID.
 *
 *      show prints one queue file (Postfix's postcat -q): the envelope
 *      (arrival, sender, each recipient done or todo with its DSN
 *      attributes), the headers and the body; -e, -h, -b restrict it to
 *      the envelope, the headers or the body.
 *
 *      delete, hold, release, requeue, expire and expire-release are
 *      postsuper -d, -h, -H, -r, -e, -f; see surel_queue_super.c. repair
 *      is postsuper -s and -p; see surel_queue_repair.c.
 * SECURITY
 *      list and flush without a site may be run by anyone: when `surel` is
 *      installed set-gid setgid_group (as Postfix's postqueue is set-gid
 *      postdrop), that right is given up at once and taken back only
 *      around connecting to public/showq or public/qmgr, where a fixed
 *      request is sent; it is dropped for good right after. Every other
 *      verb drops it before doing anything. Changing verbs, show and flush
 *      with a site need root or the instance owner (the owner of
 *      queue_directory: a sandbox's user). No shell is run.
 * PARAMETERS READ
 *      queue_directory, hash_queue_names, hash_queue_depth.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "config.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "qfile_read.h"
#include "queue_id.h"
#include "queue_list.h"
#include "stream.h"
#include "surel.h"
#include "surel_queue.h"

#define SQ_CONNECT_TIMEOUT  10          /* seconds to reach a local service */
#define SQ_IO_TIMEOUT       60          /* seconds per read/write with it */

/* The set-gid group we were started with, kept only as the saved gid. */
static gid_t sq_setgid_gid;
static int sq_setgid_kept;

/* surel_setgid_init - give up a set-gid right at once, keep it saved */
void surel_setgid_init(void)
{
    gid_t   rgid = getgid();
    gid_t   egid = getegid();

    if (egid == rgid || getuid() == 0)
        return;
    if (setresgid(rgid, rgid, egid) < 0)
        msg_fatal("setresgid: %m");
    sq_setgid_gid = egid;
    sq_setgid_kept = 1;
}

/* surel_setgid_forget - drop the saved set-gid right for good */
void surel_setgid_forget(void)
{
    gid_t   rgid = getgid();

    if (!sq_setgid_kept)
        return;
    if (setresgid(rgid, rgid, rgid) < 0)
        msg_fatal("setresgid: %m");
    sq_setgid_kept = 0;
}

/* sq_load - read main.cf; the queue folder */
const char *sq_load(void)
{
    config_init(surel_config_dir);
    return config_str(P_queue_directory);
}

/* sq_require_owner - root or the instance owner, else a clear refusal */
void sq_require_owner(const char *verb, const char *queue_dir)
{
    struct stat st;

    surel_setgid_forget();
    if (getuid() == 0)
        return;
    if (stat(queue_dir, &st) == 0 && st.st_uid == getuid())
        return;
    msg_fatal("surel queue %s: permission denied: changing or reading queue files "
              "is reserved for root (or the owner of %s)", verb, queue_dir);
}

/* sq_sleep_ms - a short pause */
void sq_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
         /* continue */ ;
}

/* sq_connect_path - connect to a UNIX socket, bounded in time */
static int sq_connect_path(const char *path, BUF *why)
{
    struct sockaddr_un sun;
    struct pollfd pfd;
    int     fd, err = 0;
    socklen_t len = sizeof(err);

    if (strlen(path) >= sizeof(sun.sun_path)) {
        buf_sprintf(why, "%s: path too long", path);
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    strcpy(sun.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
        buf_sprintf(why, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        if (errno != EINPROGRESS && errno != EAGAIN) {
            buf_sprintf(why, "connect to %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if (poll(&pfd, 1, SQ_CONNECT_TIMEOUT * 1000) != 1
            || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
            buf_sprintf(why, "connect to %s: %s", path, err ? strerror(err) : "timed out");
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* sq_connect - connect to public/<service>, with the set-gid right (if
 * any) for the connect alone */
static int sq_connect(const char *queue_dir, const char *service, BUF *why)
{
    BUF    *path = buf_alloc(256);
    int     fd;

    buf_sprintf(path, "%s/%s/%s", queue_dir, MAIL_QUEUE_PUBLIC, service);
    if (sq_setgid_kept && setresgid((gid_t) -1, sq_setgid_gid, (gid_t) -1) < 0)
        msg_fatal("setresgid: %m");
    fd = sq_connect_path(buf_str(path), why);
    surel_setgid_forget();
    buf_free(path);
    return fd;
}

/* sq_trigger - write trigger bytes to a public trigger service */
int sq_trigger(const char *queue_dir, const char *service, const char *bytes, BUF *why)
{
    STREAM *s;
    int     fd;
    int     ret = 0;

    if ((fd = sq_connect(queue_dir, service, why)) < 0)
        return -1;
    s = stream_fdopen(fd);
    stream_set_timeout(s, SQ_CONNECT_TIMEOUT);
    if (stream_puts(s, bytes) < 0 || stream_flush(s) < 0) {
        buf_sprintf(why, "write to %s: %s", service, strerror(errno));
        ret = -1;
    }
    (void) stream_close(s);
    return ret;
}

/* sq_find - where queue file `id` is, looking in `queues` in order */
int sq_find(const char *queue_dir, const char *id, const char *const *queues,
            BUF *path, const char **queue)
{
    struct stat st;

    for (; *queues; queues++) {
        if (mail_queue_path(path, queue_dir, *queues, id) == 0
            && lstat(buf_str(path), &st) == 0 && S_ISREG(st.st_mode)) {
            *queue = *queues;
            return 1;
        }
    }
    return 0;
}

/* sq_list_direct - can this caller read the queue folders itself? */
static int sq_list_direct(const char *queue_dir)
{
    const char *const *queue;
    BUF    *path = buf_alloc(256);
    int     ok = 1;

    /* maildrop is write-only for postdrop's group: not needed to decide. */
    for (queue = queue_list_queues; *queue && ok; queue++) {
        if (strcmp(*queue, MAIL_QUEUE_MAILDROP) == 0)
            continue;
        buf_sprintf(path, "%s/%s", queue_dir, *queue);
        ok = access(buf_str(path), R_OK | X_OK) == 0;
    }
    buf_free(path);
    return ok;
}

/* sq_list_showq - the listing from public/showq, copied to stdout */
static int sq_list_showq(const char *queue_dir, int json)
{
    BUF    *why = buf_alloc(100);
    STREAM *s;
    char    chunk[4096];
    ssize_t n;
    int     fd;

    if ((fd = sq_connect(queue_dir, MAIL_SERVICE_SHOWQ, why)) < 0)
        msg_fatal("cannot list the queue: %s (the showq service needs a running mail "
                  "system; without it only root and the queue owner can list)", buf_str(why));
    s = stream_fdopen(fd);
    stream_set_timeout(s, SQ_IO_TIMEOUT);
    if (attr_send(s, SEND_STR(MAIL_ATTR_FORMAT, json ? SHOWQ_FORMAT_JSON : SHOWQ_FORMAT_TEXT),
                  ATTR_END) < 0)
        msg_fatal("cannot list the queue: showq: %s", attr_last_error());
    while ((n = stream_read(s, chunk, sizeof(chunk))) > 0)
        if (fwrite(chunk, 1, (size_t) n, stdout) != (size_t) n)
            msg_fatal("write: %m");
    if (n < 0)
        msg_fatal("cannot list the queue: showq: read error");
    (void) stream_close(s);
    buf_free(why);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* surel_queue_list_args - `list [-j]`; 0, or -1 + why */
int     surel_queue_list_args(int argc, char **argv, int *json, BUF *why)
{
    int     ch;

    *json = 0;
    optind = 0;
    while ((ch = getopt(argc, argv, "j")) != -1) {
        if (ch != 'j') {
            buf_sprintf(why, "usage: surel queue list [-j]");
            return -1;
        }
        *json = 1;
    }
    if (optind != argc) {
        buf_sprintf(why, "usage: surel queue list [-j]");
        return -1;
    }
    return 0;
}

/* sq_list_main - `surel queue list [-j]` */
static int sq_list_main(int argc, char **argv)
{
    const char *queue_dir;
    BUF    *why = buf_alloc(100);
    STREAM *out;
    int     json;
    int     ret;

    if (surel_queue_list_args(argc, argv, &json, why) < 0) {
        fprintf(stderr, "%s\n", buf_str(why));
        return 2;
    }
    queue_dir = sq_load();
    if (!sq_list_direct(queue_dir))
        return sq_list_showq(queue_dir, json);
    surel_setgid_forget();
    out = stream_fdopen(1);
    ret = queue_list(out, queue_dir, json ? QUEUE_LIST_JSON : 0, why);
    if (stream_flush(out) < 0)
        msg_fatal("write: %m");
    stream_release(out);
    if (ret < 0)
        msg_fatal("cannot list the queue: %s", buf_str(why));
    buf_free(why);
    return 0;
}

/* A flush by site or by queue ID: which deferred files to touch. */
typedef struct SQ_SITE {
    const char *site;                   /* a recipient domain, or NULL */
    const char *id;                     /* a queue ID, or NULL */
    int     count;
} SQ_SITE;

/* sq_rcpt_in_site - is the recipient's domain the site (any case)? */
static int sq_rcpt_in_site(const char *rcpt, const char *site)
{
    const char *at = strrchr(rcpt, '@');

    return at != NULL && strcasecmp(at + 1, site) == 0;
}

/* sq_site_one - give a deferred file for the site an mtime of now */
static void sq_site_one(const char *queue, const char *id, const char *path, void *ctx)
{
    SQ_SITE *ss = ctx;
    QFILE_ENVELOPE env;
    struct stat st;
    BUF    *why = buf_alloc(100);
    int     fd, i, match = 0;

    if (ss->id != NULL && strcmp(id, ss->id) != 0) {
        buf_free(why);
        return;
    }
    if ((fd = qfile_open_ready(path, O_RDONLY, &st, why)) < 0) {
        buf_free(why);
        return;                             /* gone or not ready: skip */
    }
    if (ss->id != NULL) {
        match = 1;
    } else if (qfile_read_envelope(fd, &env, why) == 0) {
        for (i = 0; i < env.nrcpts && !match; i++)
            match = !env.rcpts[i].done && sq_rcpt_in_site(env.rcpts[i].address, ss->site);
        qfile_envelope_free(&env);
    }
    /* futimens on the descriptor: the file we read, even if renamed since. */
    if (match && futimens(fd, NULL) == 0)
        ss->count++;
    else if (match)
        msg_warn("%s: cannot set the retry time: %m", id);
    close(fd);
    buf_free(why);
}

/* sq_flush_main - `surel queue flush [site]` and `surel queue flush -i ID` */
static int sq_flush_main(int argc, char **argv)
{
    const char *queue_dir;
    BUF    *why = buf_alloc(100);
    SQ_SITE ss = {NULL, NULL, 0};

    if (argc == 3 && strcmp(argv[1], "-i") == 0 && queue_id_valid(argv[2])) {
        ss.id = argv[2];
    } else if (argc > 2 || (argc == 2 && (argv[1][0] == '-' || argv[1][0] == 0))) {
        fprintf(stderr, "usage: surel queue flush [site] | -i ID\n");
        return 2;
    } else if (argc == 2) {
        ss.site = argv[1];
    }
    queue_dir = sq_load();
    if (ss.site || ss.id) {
        sq_require_owner("flush", queue_dir);
        if (queue_walk(queue_dir, MAIL_QUEUE_DEFERRED, 0, sq_site_one, &ss, why) < 0)
            msg_fatal("cannot flush: %s", buf_str(why));
        if (ss.id && ss.count == 0) {
            msg_warn("%s: no deferred message with this queue ID", ss.id);
            buf_free(why);
            return 1;
        }
        if (ss.site)
            msg_info("%d deferred message%s for %s to retry", ss.count,
                     ss.count == 1 ? "" : "s", ss.site);
    }
    if (sq_trigger(queue_dir, MAIL_SERVICE_QMGR, ss.site || ss.id
                   ? (char[]) {TRIGGER_FLUSH_DEAD, TRIGGER_SCAN_DEFERRED, TRIGGER_SCAN_INCOMING, 0}
                   : (char[]) {TRIGGER_FLUSH_DEAD, TRIGGER_SCAN_ALL, TRIGGER_SCAN_INCOMING, 0},
                   why) < 0)
        msg_fatal("cannot flush the queue: %s (is the mail system running?)", buf_str(why));
    buf_free(why);
    return 0;
}

/* sq_count_one - a walk callback that counts */
static void sq_count_one(const char *queue, const char *id, const char *path, void *ctx)
{
    (*(int *) ctx)++;
}

/* surel_queue_counts - "N incoming, N active, ..." for `surel status`;
 * 0, or -1 when the caller may not read the queue folders */
int surel_queue_counts(const char *queue_dir, BUF *out)
{
    static const char *const queues[] = {
        MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
        MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, MAIL_QUEUE_CORRUPT,
    };
    BUF    *why = buf_alloc(100);
    size_t  i;
    int     count;

    buf_reset(out);
    for (i = 0; i < sizeof(queues) / sizeof(queues[0]); i++) {
        count = 0;
        if (queue_walk(queue_dir, queues[i],
                       strcmp(queues[i], MAIL_QUEUE_MAILDROP) == 0 ? QUEUE_WALK_ANY_NAME : 0,
                       sq_count_one, &count, why) < 0) {
            buf_free(why);
            return -1;
        }
        buf_printf(out, "%s%d %s", i ? ", " : "", count, queues[i]);
    }
    buf_free(why);
    return 0;
}

/* The sub-verbs; list and flush may need the set-gid right (public/showq,
 * public/qmgr), the others give it up in surel_verb_run(). */
const SUREL_VERB surel_queue_verbs[] = {
    {"list", sq_list_main, 1, "queue list [-j]",
     "print the queue as mailq does (-j: JSON Lines, as postqueue -j)"},
    {"flush", sq_flush_main, 1, "queue flush [site] | -i ID",
     "retry deferred mail now (only that site's, with a site)"},
    {"show", sq_show_main, 0, "queue show [-e|-h|-b] ID",
     "print one queue file, as postcat -q (envelope, headers, body)"},
    {"delete", sq_super_main, 0, "queue delete ID|ALL|- [queue...]",
     "remove messages, as postsuper -d"},
    {"hold", sq_super_main, 0, "queue hold ID|ALL|- [queue...]",
     "put messages on hold, as postsuper -h"},
    {"release", sq_super_main, 0, "queue release ID|ALL|- [queue...]",
     "release held messages, as postsuper -H"},
    {"requeue", sq_super_main, 0, "queue requeue ID|ALL|- [queue...]",
     "queue messages again for delivery, as postsuper -r"},
    {"expire", sq_super_main, 0, "queue expire ID|ALL|- [queue...]",
     "return messages to the sender at their next attempt, as postsuper -e"},
    {"expire-release", sq_super_main, 0, "queue expire-release ID|ALL|- [queue...]",
     "the same, and release held ones, as postsuper -f"},
    {"repair", sq_repair_main, 0, "queue repair [-s] [-p] [queue...]",
     "fix queue file names and places, purge stale temporary files, as postsuper -s -p"},
};
const size_t surel_queue_nverbs = sizeof(surel_queue_verbs) / sizeof(surel_queue_verbs[0]);

/* surel_queue_main - the `surel queue` verb: dispatch to the sub-verb */
int surel_queue_main(int argc, char **argv)
{
    const SUREL_VERB *verb = argc >= 2
        ? surel_verb_find(surel_queue_verbs, surel_queue_nverbs, argv[1]) : NULL;

    if (verb == NULL) {
        if (argc >= 2)
            msg_warn("unknown queue verb '%s'", argv[1]);
        surel_setgid_forget();
        fprintf(stderr, "usage:\n");
        surel_verb_list(stderr, "  surel ", surel_queue_verbs, surel_queue_nverbs);
        return 2;
    }
    return surel_verb_run(verb, argc - 1, argv + 1);
}
