/* msg - the one logger; see msg.h for the line shape and severities. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "msg.h"
#include "safe_file.h"

#define MSG_LINE_MAX 4096           /* longer lines are cut, never split */

int     msg_verbose;

#define MSG_PREFIX_MAX 128           /* syslog_name/program, longer is cut */

static char msg_prog[MSG_PREFIX_MAX] = "surel";  /* "surel/smtpd" */
static char msg_base[64] = "surel";     /* "smtpd": the program itself */
static int msg_flags = MSG_TO_STDERR;
static int msg_file_fd = -1;            /* maillog_file, when set */
static void (*msg_cleanup)(void);
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
 * mail_owner), and root opens it: safe_open refuses a symbolic link, a
 * FIFO (which would block, or feed another process), a device, or a hard
 * link to some other file (which root would then append to). The reason
 * is logged to the destinations we already have. */
int msg_set_logfile(const char *path)
{
    BUF    *why;
    int     fd;

    if (path == NULL || *path == 0) {
        if (msg_file_fd >= 0)
            close(msg_file_fd);
        msg_file_fd = -1;
        return 0;
    }
    why = buf_alloc(100);
    fd = safe_open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640, SAFE_OWNER_ANY,
                   (struct stat *) 0, why);
    if (fd < 0) {
        int     saved = errno;

        msg_warn("maillog_file: %s", buf_str(why));
        buf_free(why);
        errno = saved;
        return -1;
    }
    buf_free(why);
    if (msg_file_fd >= 0)
        close(msg_file_fd);
    msg_file_fd = fd;
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

/* msg_write_file - one line to maillog_file, syslog-style time stamp */
static void msg_write_file(const char *text)
{
    char    line[MSG_LINE_MAX + 256];
    char    stamp[32];
    char    host[64];
    time_t  now = time(NULL);
    struct tm tm;
    int     n;

    localtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
    if (gethostname(host, sizeof(host)) != 0)
        strcpy(host, "localhost");
    host[sizeof(host) - 1] = 0;
    host[strcspn(host, ".")] = 0;
    n = snprintf(line, sizeof(line), "%s %s %s[%ld]: %s\n",
                 stamp, host, msg_prog, (long) getpid(), text);
    if (n < 0)
        return;
    if ((size_t) n >= sizeof(line)) {
        n = sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    (void) !write(msg_file_fd, line, (size_t) n);
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
    if (msg_file_fd >= 0)
        msg_write_file(text);
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
