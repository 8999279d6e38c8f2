/*
 * NAME
 *      postdrop - write a local submission into the maildrop folder
 * SYNOPSIS
 *      postdrop [-c config_dir] [-v]
 * DESCRIPTION
 *      Reads the maildrop record stream (lib/global/maildrop.h) on standard
 *      input, as sendmail writes it, checks every record while copying it
 *      into $queue_directory/maildrop/<name>, and once the end record has
 *      arrived makes the file durable and complete and wakes pickup
 *      (public/pickup; when that fails pickup finds the file on its next
 *      periodic scan). Anything else (a record out of place, an address
 *      that does not parse, more than message_size_limit bytes of
 *      content, input that ends early) removes the file again: nothing
 *      half-written stays in maildrop/.
 *
 *      The file: <name> is the time (hex seconds and microseconds, so
 *      names sort by arrival) and 64 random bits, created with
 *      O_CREAT|O_EXCL|O_NOFOLLOW. It belongs to the submitting user, which
 *      is how pickup learns who submitted it. Mode 0400 while it is being
 *      written (nobody else needs it yet), 0744 once complete (the owner-execute bit is the
 *      "complete" mark, as for queue files): pickup, which runs as
 *      mail_owner, reads it through the "other" bits, and no user can
 *      reach it at all, because maildrop/ is mail_owner:setgid_group 1730.
 *      Completion is fsync, fchmod, fsync again: a file marked complete
 *      has its data on disk.
 * EXIT STATUS
 *      0 queued; EX_DATAERR refused input; EX_NOPERM an untrusted
 *      configuration; EX_USAGE bad options; EX_TEMPFAIL, EX_IOERR,
 *      EX_OSERR when the file could not be written now.
 * SECURITY
 *      Installed setgid $setgid_group: the only way a user can write
 *      maildrop/. It trusts neither its input nor its environment:
 *      - the environment is cleared; -c or $MAIL_CONFIG from a user
 *        (real uid not 0) is refused unless it is the built-in folder or a
 *        folder that only root can change (every path component owned by
 *        root and not writable by others, sticky folders excepted, and
 *        main.cf likewise): otherwise a user could name his own
 *        queue_directory and have the group's right applied to it;
 *      - it only ever creates new files (O_EXCL, no symbolic links
 *        followed, absolute paths, no chdir), so it cannot be made to read,
 *        replace or remove an existing one; maildrop/ is sticky, so users
 *        cannot remove each other's files either;
 *      - it gives the group up for good right after creating the file:
 *        the input is read and checked without it. A small helper process
 *        forked before that keeps the group for the two things that need
 *        it: waking pickup after success, or removing the unfinished file
 *        when the submission fails or postdrop dies. The helper reads one
 *        byte from a pipe and touches nothing else.
 *      Without the setgid bit (a sandbox instance, where the user is
 *      mail_owner) all of this still holds and any -c is accepted, since
 *      no right is gained.
 * PARAMETERS READ
 *      queue_directory, message_size_limit, maillog_file (only when not
 *      setgid).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "maillog.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

#define POSTDROP_MODE_WRITING   0400
#define POSTDROP_MODE_READY     0744
#define POSTDROP_CREATE_TRIES   10

/* Helper commands (one byte on the pipe). */
#define POSTDROP_CMD_TRIGGER    'T'     /* complete: wake pickup */
#define POSTDROP_CMD_UNLINK     'U'     /* failed: remove the file */

static void pd_exit(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* pd_exit - report and leave with a sysexits code */
static void pd_exit(int status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_WARN, fmt, ap);
    va_end(ap);
    exit(status);
}

/* pd_std_fds - make sure 0, 1 and 2 are open, so that no file we open
 * becomes someone's stderr */
static void pd_std_fds(void)
{
    int     fd;

    for (fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
            exit(EX_OSERR);
}

/* pd_root_only - path (a resolved, absolute path) and every folder above
 * it belong to root and nobody else can change them; sticky folders (/tmp)
 * are fine, since others cannot rename root's entries in them */
static int pd_root_only(const char *path)
{
    char    buf[PATH_MAX];
    char   *slash;
    struct stat st;

    if (strlen(path) >= sizeof(buf))
        return 0;
    strcpy(buf, path);
    for (;;) {
        if (lstat(buf[0] ? buf : "/", &st) < 0 || st.st_uid != 0)
            return 0;
        if ((st.st_mode & 022) != 0 && !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX)))
            return 0;
        if ((slash = strrchr(buf, '/')) == NULL || buf[0] == 0)
            return 1;
        *slash = 0;
    }
}

/* pd_config_trusted - may a user's -c / $MAIL_CONFIG be used with our
 * group right? The built-in folder, or one that only root can change.
 * real receives the resolved folder: the one checked is the one read, even
 * if the user swaps a link in the name afterwards. */
static int pd_config_trusted(const char *dir, const char *builtin, char *real)
{
    char    cf[PATH_MAX + 16];

    if (strcmp(dir, builtin) == 0) {
        snprintf(real, PATH_MAX, "%s", builtin);
        return 1;
    }
    if (realpath(dir, real) == NULL)
        return 0;
    snprintf(cf, sizeof(cf), "%s/main.cf", real);
    return pd_root_only(real) && pd_root_only(cf);
}

/* pd_choose_config - the folder to read, after the trust check */
static const char *pd_choose_config(const char *opt_dir, int privileged)
{
    const char *env = getenv("MAIL_CONFIG");
    const char *dir = opt_dir ? opt_dir : (env && *env ? env : NULL);
    const char *builtin;
    static char real[PATH_MAX];

    unsetenv("MAIL_CONFIG");
    builtin = config_choose_dir(NULL);
    if (dir == NULL)
        return builtin;
    if (privileged && getuid() != 0) {
        if (!pd_config_trusted(dir, builtin, real))
            pd_exit(EX_NOPERM, "refusing configuration folder %s: only root may choose one "
                    "that is not root's own", dir);
        return real;
    }
    return dir;
}

/* pd_name - a fresh maildrop file name: hex time, then random bits */
static void pd_name(char *name, size_t size)
{
    struct timeval tv;
    unsigned long long rnd = 0;

    gettimeofday(&tv, NULL);
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
        rnd ^= (unsigned long long) getpid() << 20 ^ (unsigned long long) tv.tv_usec;
    snprintf(name, size, "%08llx%05lx%016llx", (unsigned long long) tv.tv_sec,
             (unsigned long) tv.tv_usec, rnd);
}

/* pd_create - a new maildrop file; its fd, path in path */
static int pd_create(const char *queue_dir, BUF *path)
{
    char    name[64];
    int     fd = -1;
    int     tries;

    for (tries = 0; tries < POSTDROP_CREATE_TRIES; tries++) {
        pd_name(name, sizeof(name));
        buf_sprintf(path, "%s/%s/%s", queue_dir, MAIL_QUEUE_MAILDROP, name);
        fd = open(buf_str(path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  POSTDROP_MODE_WRITING);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        pd_exit(errno == EACCES ? EX_NOPERM : EX_TEMPFAIL,
                "cannot create a file in %s/%s: %m", queue_dir, MAIL_QUEUE_MAILDROP);
    return fd;
}

/* pd_trigger - wake pickup: one byte to public/pickup, never waiting */
static void pd_trigger(const char *queue_dir)
{
    struct sockaddr_un sun;
    int     sock;
    char    ch = TRIGGER_WAKEUP;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if ((size_t) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/%s", queue_dir,
                          MAIL_QUEUE_PUBLIC, MAIL_SERVICE_PICKUP) >= sizeof(sun.sun_path))
        return;
    if ((sock = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return;
    if (connect(sock, (struct sockaddr *) &sun, sizeof(sun)) == 0)
        (void) send(sock, &ch, 1, MSG_NOSIGNAL);
    close(sock);
}

/* pd_helper - the process that keeps the group: waits for one command,
 * then wakes pickup or removes the file (which must still be ours) */
static void pd_helper(int cmd_fd, int file_fd, const char *path, const char *queue_dir)
{
    char    cmd = 0;
    struct stat fst;
    struct stat lst;
    ssize_t n;

    signal(SIGINT, SIG_IGN);            /* ^C at the terminal reaches us too */
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    close(0);
    while ((n = read(cmd_fd, &cmd, 1)) < 0 && errno == EINTR)
        ;
    if (fstat(file_fd, &fst) < 0)
        _exit(EX_OSERR);
    if (n == 1 && cmd == POSTDROP_CMD_TRIGGER) {
        pd_trigger(queue_dir);
    } else if ((fst.st_mode & 0100) != 0) {
        pd_trigger(queue_dir);          /* complete, then postdrop died: keep it */
    } else if (lstat(path, &lst) == 0 && lst.st_dev == fst.st_dev && lst.st_ino == fst.st_ino) {
        (void) unlink(path);
    }
    _exit(0);
}

/* pd_drop_group - give up the setgid group for good, and check */
static void pd_drop_group(void)
{
    gid_t   gid = getgid();
    gid_t   r, e, s;

    if (setresgid(gid, gid, gid) < 0 || getresgid(&r, &e, &s) < 0
        || r != gid || e != gid || s != gid)
        pd_exit(EX_OSERR, "cannot give up the group privilege");
}

/* pd_copy - check stdin's records while writing them to fd; 0, or an
 * EX_* code with why */
static int pd_copy(int fd, BUF *why)
{
    STREAM *in = stream_fdopen(0);
    STREAM *out = stream_fdopen(fd);
    BUF    *data = buf_alloc(MAILDROP_RECORD_LIMIT + 1);
    MAILDROP_CHECK check;
    int     type;
    int     status = EX_DATAERR;
    int     rc;

    maildrop_check_init(&check, config_int(P_message_size_limit));
    for (;;) {
        type = rec_get(in, data, MAILDROP_RECORD_LIMIT);
        if (type < 0) {
            buf_set(why, type == REC_EOF ? "premature end of input"
                    : "malformed record or read error");
            break;
        }
        rc = maildrop_check_record(&check, type, buf_str(data), buf_len(data), why);
        if (rc < 0)
            break;
        if (rec_put(out, type, buf_str(data), buf_len(data)) < 0) {
            buf_sprintf(why, "write error: %s", strerror(errno));
            status = EX_TEMPFAIL;
            break;
        }
        if (rc == MAILDROP_DONE) {
            if (rec_get(in, data, MAILDROP_RECORD_LIMIT) != REC_EOF)
                buf_set(why, "data after the end record");
            else if (stream_flush(out) < 0) {
                buf_sprintf(why, "write error: %s", strerror(errno));
                status = EX_TEMPFAIL;
            } else
                status = 0;
            break;
        }
    }
    stream_release(in);
    stream_release(out);
    buf_free(data);
    return status;
}

/* pd_complete - data on disk, then the complete mark, on disk too */
static int pd_complete(int fd, BUF *why)
{
    if (fsync(fd) < 0 || fchmod(fd, POSTDROP_MODE_READY) < 0 || fsync(fd) < 0) {
        buf_sprintf(why, "cannot complete the file: %s", strerror(errno));
        return EX_TEMPFAIL;
    }
    return 0;
}

int     main(int argc, char **argv)
{
    int     privileged = getegid() != getgid() || geteuid() != getuid();
    const char *opt_dir = NULL;
    const char *queue_dir;
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     cmd[2];
    int     fd;
    int     ch;
    int     status;
    pid_t   helper;
    char    byte;

    pd_std_fds();
    umask(077);
    msg_init("postdrop", MSG_TO_STDERR | MSG_TO_SYSLOG);
    while ((ch = getopt(argc, argv, "c:v")) != -1) {
        if (ch == 'c')
            opt_dir = optarg;
        else if (ch == 'v')
            msg_verbose++;
        else
            pd_exit(EX_USAGE, "usage: postdrop [-c config_dir] [-v]");
    }
    opt_dir = pd_choose_config(opt_dir, privileged);
    if (clearenv() != 0 || setenv("PATH", "/usr/bin:/bin", 1) < 0)
        pd_exit(EX_OSERR, "cannot clean the environment");
    config_init(opt_dir);
    msg_set_name(config_str(P_syslog_name));
    /* Set-gid, postdrop reaches the postlog socket (public/) but never
     * opens the file: the user could point main.cf's copy anywhere. */
    (void) maillog_client(!privileged);
    queue_dir = config_str(P_queue_directory);
    if (queue_dir[0] != '/')
        pd_exit(EX_TEMPFAIL, "queue_directory must be an absolute path: %s", queue_dir);

    fd = pd_create(queue_dir, path);
    if (pipe2(cmd, O_CLOEXEC) < 0)
        pd_exit(EX_OSERR, "pipe: %m");
    if ((helper = fork()) < 0) {
        (void) unlink(buf_str(path));
        pd_exit(EX_OSERR, "fork: %m");
    }
    if (helper == 0) {
        close(cmd[1]);
        pd_helper(cmd[0], fd, buf_str(path), queue_dir);
    }
    close(cmd[0]);
    signal(SIGPIPE, SIG_IGN);
    pd_drop_group();

    if ((status = pd_copy(fd, why)) == 0)
        status = pd_complete(fd, why);
    byte = status == 0 ? POSTDROP_CMD_TRIGGER : POSTDROP_CMD_UNLINK;
    if (write(cmd[1], &byte, 1) != 1)
        msg_warn("cannot reach the helper: %m");   /* it acts on EOF alone */
    close(cmd[1]);
    while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
        ;
    close(fd);
    if (status != 0)
        pd_exit(status, "message refused: %s", buf_str(why));
    if (msg_verbose)
        msg_info("queued %s", buf_str(path));
    buf_free(path);
    buf_free(why);
    return 0;
}
