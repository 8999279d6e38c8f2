/* msg - the one logger; see msg.h for the line shape and severities. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "logwriter.h"
#include "mem.h"
#include "msg.h"

#define MSG_LINE_MAX 4096           /* longer lines are cut, never split */

int     msg_verbose;

#define MSG_PREFIX_MAX 128           /* syslog_name/program, longer is cut */

static char msg_prog[MSG_PREFIX_MAX] = "surel";  /* "surel/smtpd" */
static char msg_base[64] = "surel";     /* "smtpd": the program itself */
static int msg_flags = MSG_TO_STDERR;
static LOGWRITER *msg_file;              /* maillog_file, held open (msg_set_logfile) */
static char *msg_file_path;             /* maillog_file, for one-shot fallback writes */
static char *msg_svc_path;              /* the postlog socket; NULL: none */
static int msg_svc_fd = -1;             /* connected to it; -1: not (yet) */
static int msg_svc_flags;               /* MSG_SERVICE_* */
static BUF *msg_pending;                /* NONBLOCK: lines the socket could not take yet */
static size_t msg_pending_count;
static void (*msg_cleanup)(void);

static void msg_sanitize(char *text);
static void msg_pending_spill(void);

/*
 * The pid and host name of every line, looked up once: a message makes
 * about seven log lines across the daemons, and getpid() and uname() were
 * two system calls each (glibc no longer caches the pid). A fork forgets
 * the pid (pthread_atfork), so a child that logs before its exec names
 * itself. The host name is the one at the first line, as syslogd's.
 */
static pid_t msg_cached_pid;
static char msg_cached_host[64];
static int msg_atfork_set;

static void msg_forget_pid(void)
{
    msg_cached_pid = 0;
}

/* msg_pid - this process's pid, cached across calls (see above) */
pid_t   msg_pid(void)
{
    if (msg_cached_pid == 0) {
        if (!msg_atfork_set) {
            (void) pthread_atfork(NULL, NULL, msg_forget_pid);
            msg_atfork_set = 1;
        }
        msg_cached_pid = getpid();
    }
    return msg_cached_pid;
}

/* msg_host - the short host name of log lines, looked up once */
static const char *msg_host(void)
{
    if (msg_cached_host[0] == 0) {
        if (gethostname(msg_cached_host, sizeof(msg_cached_host)) != 0)
            strcpy(msg_cached_host, "localhost");
        msg_cached_host[sizeof(msg_cached_host) - 1] = 0;
        msg_cached_host[strcspn(msg_cached_host, ".")] = 0;
        if (msg_cached_host[0] == 0)
            strcpy(msg_cached_host, "localhost");
    }
    return msg_cached_host;
}
static int msg_dying;                   /* fatal/panic re-entry guard */

/* msg_init - name the program ("smtpd" becomes "surel/smtpd") and pick outputs */
void msg_init(const char *progname, int flags)
{
    const char *base = strrchr(progname, '/');

    base = base ? base + 1 : progname;
    snprintf(msg_base, sizeof(msg_base), "%s", base);
    snprintf(msg_prog, sizeof(msg_prog), "surel/%s", msg_base);
    msg_flags = flags;
    if (flags & MSG_TO_SYSLOG)
        openlog(msg_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* msg_set_name - the prefix before the program name: Postfix's syslog_name.
 *
 * "postfix" makes lines read "postfix/smtpd[123]: ...", and master.cf's
 * "-o syslog_name=postfix/submission" gives "postfix/submission/smtpd",
 * as Postfix logs them, so that pflogsumm and fail2ban's filters match.
 * A byte outside [A-Za-z0-9._/-] becomes '_' (the name is no place for
 * spaces, brackets or colons, which would break the "name[pid]:" shape);
 * an empty name leaves the program name alone. */
void msg_set_name(const char *syslog_name)
{
    char    name[MSG_PREFIX_MAX];
    size_t  i;

    if (syslog_name == NULL || *syslog_name == 0) {
        snprintf(msg_prog, sizeof(msg_prog), "%s", msg_base);
    } else {
        snprintf(name, sizeof(name), "%s", syslog_name);
        for (i = 0; name[i]; i++) {
            unsigned char ch = (unsigned char) name[i];

            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
                  || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'
                  || ch == '/'))
                name[i] = '_';
        }
        snprintf(msg_prog, sizeof(msg_prog), "%.*s/%s",
                 (int) (sizeof(msg_prog) - strlen(msg_base) - 2), name, msg_base);
    }
    if (msg_flags & MSG_TO_SYSLOG) {
        closelog();
        openlog(msg_prog, LOG_PID | LOG_NDELAY, LOG_MAIL);
    }
}

/* msg_set_logfile - log to this file instead of syslog; -1 if it can't open.
 *
 * The file often sits in a folder that a less privileged account can
 * write (Postfix admins put it in the queue or a log folder owned by
 * mail_owner), and root opens it: safe_open (logwriter.c) refuses a
 * symbolic link, a FIFO (which would block, or feed another process), a
 * device, or a hard link to some other file (which root would then append
 * to). The reason is logged to the destinations we already have. The
 * file stays open; each write follows a rotation (logwriter.h). */
int msg_set_logfile(const char *path)
{
    BUF    *why;
    LOGWRITER *lw;

    if (path == NULL || *path == 0) {
        logwriter_close(msg_file);
        msg_file = NULL;
        xfree(msg_file_path);
        msg_file_path = NULL;
        return 0;
    }
    why = buf_alloc(100);
    if ((lw = logwriter_open(path, why)) == NULL) {
        int     saved = errno;

        msg_warn("maillog_file: %s", buf_str(why));
        buf_free(why);
        errno = saved;
        return -1;
    }
    buf_free(why);
    logwriter_close(msg_file);
    msg_file = lw;
    xfree(msg_file_path);
    msg_file_path = xstrdup(path);
    return 0;
}

/* msg_svc_connect - a datagram socket connected to the postlog service */
static int msg_svc_connect(void)
{
    struct sockaddr_un sun;
    struct timeval tv = {MSG_SERVICE_TIMEOUT, 0};
    int     fd;

    if (strlen(msg_svc_path) >= sizeof(sun.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, msg_svc_path, strlen(msg_svc_path) + 1);
    if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    /* A stuck postlogd must not stop a daemon for good: wait a while, then
     * write the line elsewhere (msg_svc_send). */
    (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
        int     saved = errno;

        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* msg_set_logservice - send each line as one datagram to the postlog socket.
 *
 * file_path is maillog_file, written directly (logwriter_one_shot) only
 * when the socket cannot take a line (no postlog service, the master is
 * gone, postlogd stuck for MSG_SERVICE_TIMEOUT seconds); NULL: syslog
 * then. Connecting now also closes a file msg_set_logfile holds, so that
 * postlogd is its one writer. NULL sock_path turns the service off. */
int msg_set_logservice(const char *sock_path, const char *file_path, int flags)
{
    /* The same service again (a reload): keep the socket and the queue. */
    if (sock_path && msg_svc_path && strcmp(sock_path, msg_svc_path) == 0
        && flags == msg_svc_flags && file_path && msg_file_path
        && strcmp(file_path, msg_file_path) == 0) {
        logwriter_close(msg_file);
        msg_file = NULL;
        return 0;
    }
    msg_pending_spill();                /* what waited keeps its place */
    if (msg_svc_fd >= 0)
        close(msg_svc_fd);
    msg_svc_fd = -1;
    xfree(msg_svc_path);
    msg_svc_path = NULL;
    msg_svc_flags = flags;
    if (sock_path == NULL || *sock_path == 0)
        return 0;
    msg_svc_path = xstrdup(sock_path);
    if (file_path != NULL && (msg_file_path == NULL || strcmp(file_path, msg_file_path) != 0)) {
        xfree(msg_file_path);
        msg_file_path = xstrdup(file_path);
    }
    if ((msg_svc_fd = msg_svc_connect()) < 0)
        return -1;
    logwriter_close(msg_file);
    msg_file = NULL;
    return 0;
}

/* msg_set_stderr - turn the stderr copy on or off (daemons turn it off) */
void msg_set_stderr(int on)
{
    if (on)
        msg_flags |= MSG_TO_STDERR;
    else
        msg_flags &= ~MSG_TO_STDERR;
}

const char *msg_progname(void)
{
    return msg_prog;
}

/* msg_on_exit - run this before exiting on a fatal error (e.g. remove a temp file) */
void msg_on_exit(void (*cleanup)(void))
{
    msg_cleanup = cleanup;
}

/* msg_file_write - the direct way: the held file, else one write by name */
static int msg_file_write(const char *line, size_t len)
{
    if (msg_file != NULL)
        return logwriter_write(msg_file, line, len);
    if (msg_file_path != NULL)
        return logwriter_one_shot(msg_file_path, line, len);
    errno = ENOENT;
    return -1;
}

/* msg_svc_send - one line (without its newline) as one datagram; 0, or
 * -1 when it must go elsewhere (EAGAIN: the socket is full or, blocking,
 * stayed full for MSG_SERVICE_TIMEOUT seconds) */
static int msg_svc_send(const char *line, size_t len)
{
    int     flags = MSG_NOSIGNAL | (msg_svc_flags & MSG_SERVICE_NONBLOCK ? MSG_DONTWAIT : 0);
    int     tries;

    for (tries = 0; tries < 2; tries++) {
        if (msg_svc_fd < 0 && (msg_svc_fd = msg_svc_connect()) < 0)
            return -1;
        if (send(msg_svc_fd, line, len, flags) == (ssize_t) len)
            return 0;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return -1;
        if (errno == EINTR) {
            tries--;
            continue;
        }
        /* ECONNREFUSED and the like: a new master made a new socket. */
        close(msg_svc_fd);
        msg_svc_fd = -1;
    }
    return -1;
}

/* msg_pending_spill - write the queued lines directly, in their order */
static void msg_pending_spill(void)
{
    if (msg_pending == NULL || msg_pending_count == 0)
        return;
    (void) msg_file_write(buf_str(msg_pending), buf_len(msg_pending));
    buf_truncate(msg_pending, 0);
    msg_pending_count = 0;
}

/* msg_service_flush - send what the socket could not take before */
void msg_service_flush(void)
{
    const char *cp;
    const char *nl;
    size_t  done = 0;

    if (msg_pending == NULL || msg_pending_count == 0)
        return;
    cp = buf_str(msg_pending);
    while (done < buf_len(msg_pending) && (nl = memchr(cp + done, '\n', buf_len(msg_pending) - done))) {
        if (msg_svc_path == NULL || msg_svc_send(cp + done, (size_t) (nl - (cp + done))) < 0)
            break;
        done = (size_t) (nl - cp) + 1;
        msg_pending_count--;
    }
    if (msg_svc_path == NULL || msg_svc_fd < 0) {
        /* Nobody to send to any more: the file, now. */
        memmove(buf_str(msg_pending), cp + done, buf_len(msg_pending) - done);
        buf_truncate(msg_pending, buf_len(msg_pending) - done);
        msg_pending_spill();
        return;
    }
    memmove(buf_str(msg_pending), cp + done, buf_len(msg_pending) - done);
    buf_truncate(msg_pending, buf_len(msg_pending) - done);
    if (buf_len(msg_pending) == 0)
        msg_pending_count = 0;
}

/* msg_service_pending - lines waiting for the socket (the master's loop
 * calls msg_service_flush while there are) */
int msg_service_pending(void)
{
    return msg_pending_count > 0;
}

/* msg_write_direct - a complete log line (without newline) to the file,
 * never to the socket: the master drains the postlog socket with it */
void msg_write_direct(const char *line, size_t len)
{
    char    buf[MSG_LINE_MAX + 256];

    if (len > sizeof(buf) - 1)
        len = sizeof(buf) - 1;
    memcpy(buf, line, len);
    buf[len] = 0;
    msg_sanitize(buf);
    len = strlen(buf);
    buf[len++] = '\n';
    /* Not our queue first: these lines were sent before it was made. */
    (void) msg_file_write(buf, len);
}

/* msg_deliver - a formatted line (with its newline) to its destination.
 *
 * With a postlog socket: one datagram; the master (NONBLOCK) queues what
 * the socket cannot take yet, in order, up to MSG_PENDING_MAX bytes, then
 * writes the queue and the line directly. Without one, or when sending
 * fails: the file directly. Failing that: syslog. */
static void msg_deliver(int prio, const char *line, size_t len, const char *text)
{
    if (msg_svc_path != NULL) {
        if (msg_pending_count > 0)
            msg_service_flush();
        if (msg_pending_count == 0 && msg_svc_send(line, len - 1) == 0)
            return;
        if ((msg_svc_flags & MSG_SERVICE_NONBLOCK) && msg_svc_fd >= 0
            && (msg_pending == NULL || buf_len(msg_pending) + len <= MSG_PENDING_MAX)) {
            if (msg_pending == NULL)
                msg_pending = buf_alloc(MSG_LINE_MAX);
            buf_append(msg_pending, line, len);
            msg_pending_count++;
            return;
        }
        msg_pending_spill();
    }
    if (msg_file_write(line, len) < 0 && (msg_flags & MSG_TO_SYSLOG))
        syslog(prio, "%s", text);
}

/* msg_write_file - one line to maillog_file (through postlogd when there
 * is one), syslog-style time stamp */
static void msg_write_file(int prio, const char *text)
{
    char    line[MSG_LINE_MAX + 256];
    char    stamp[32];
    time_t  now = time(NULL);
    struct tm tm;
    int     n;

    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n",
                 stamp, msg_host(), msg_prog, (long) msg_pid(), text);
    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    msg_deliver(prio, line, (size_t) n, text);
}

/* msg_utf8_len - length of the valid, printable UTF-8 character at cp; 0 if none.
 *
 * C1 controls (U+0080..U+009F) are valid UTF-8 but terminals obey them
 * (U+009B is CSI), so they count as not printable; so do overlong forms,
 * surrogates and anything past U+10FFFF. */
static size_t msg_utf8_len(const unsigned char *cp)
{
    unsigned int code;
    size_t  len;
    size_t  i;

    if (*cp >= 0xc2 && *cp <= 0xdf)
        len = 2, code = *cp & 0x1f;
    else if (*cp >= 0xe0 && *cp <= 0xef)
        len = 3, code = *cp & 0x0f;
    else if (*cp >= 0xf0 && *cp <= 0xf4)
        len = 4, code = *cp & 0x07;
    else
        return 0;
    for (i = 1; i < len; i++) {
        if ((cp[i] & 0xc0) != 0x80)
            return 0;
        code = (code << 6) | (cp[i] & 0x3f);
    }
    if ((len == 2 && code < 0xa0) || (len == 3 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff)))
        || (len == 4 && (code < 0x10000 || code > 0x10ffff)))
        return 0;
    return len;
}

/* msg_sanitize - make text safe for a log file or a terminal, in place.
 *
 * Log text carries client and user data (addresses, header recipients of
 * sendmail -t, HELO names). Line ends become spaces, so one event stays
 * one line; every other byte that is not printable ASCII or printable
 * UTF-8 becomes '?', as Postfix's printable() does, so nobody writes
 * terminal escapes into the log of an administrator who reads it. */
static void msg_sanitize(char *text)
{
    unsigned char *cp = (unsigned char *) text;
    size_t  len;

    while (*cp) {
        if (*cp == '\n' || *cp == '\r') {
            *cp++ = ' ';
        } else if (*cp >= 0x20 && *cp < 0x7f) {
            cp++;
        } else if (*cp >= 0x80 && (len = msg_utf8_len(cp)) > 0) {
            cp += len;
        } else {
            *cp++ = '?';
        }
    }
}

/* msg_vlog - format once, send to every destination */
void msg_vlog(int severity, const char *fmt, va_list ap)
{
    static const char *prefix[] = {"", "warning: ", "fatal: ", "panic: "};
    static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_CRIT, LOG_CRIT};
    char    text[MSG_LINE_MAX];
    int     saved_errno = errno;
    int     off;

    off = snprintf(text, sizeof(text), "%s", prefix[severity]);
    errno = saved_errno;                /* so that %m works */
    vsnprintf(text + off, sizeof(text) - (size_t) off, fmt, ap);
    msg_sanitize(text);
    if (msg_flags & MSG_TO_STDERR) {
        char    line[MSG_LINE_MAX + 80];
        int     n = snprintf(line, sizeof(line), "%s: %s\n", msg_prog, text);

        if (n > 0)
            (void) !write(STDERR_FILENO, line,
                          (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
    }
    if (msg_file != NULL || msg_file_path != NULL || msg_svc_path != NULL)
        msg_write_file(prio[severity], text);
    else if (msg_flags & MSG_TO_SYSLOG)
        syslog(prio[severity], "%s", text);
    errno = saved_errno;
}

void msg_info(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_INFO, fmt, ap);
    va_end(ap);
}

void msg_debug(const char *fmt, ...)
{
    va_list ap;

    if (msg_verbose <= 0)
        return;
    va_start(ap, fmt);
    msg_vlog(MSG_INFO, fmt, ap);
    va_end(ap);
}

void msg_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(MSG_WARN, fmt, ap);
    va_end(ap);
}

/* msg_fatal - configuration or environment error: clean up, exit(1) */
void msg_fatal(const char *fmt, ...)
{
    va_list ap;

    if (msg_dying++ == 0) {
        va_start(ap, fmt);
        msg_vlog(MSG_FATAL, fmt, ap);
        va_end(ap);
        if (msg_cleanup)
            msg_cleanup();
    }
    exit(1);
}

/* msg_panic - our own bug: log and abort() for a core file */
void msg_panic(const char *fmt, ...)
{
    va_list ap;

    if (msg_dying++ == 0) {
        va_start(ap, fmt);
        msg_vlog(MSG_PANIC, fmt, ap);
        va_end(ap);
    }
    abort();
}
