/* bounce_log - per-message recipient status logs: bounce/<ID>, defer/<ID>.
 *
 * One entry per line, fields "name=value" separated by one space:
 *     action=failed offset=312 notify=4 status=5.1.1 recipient=u@example.com
 *         orig_rcpt=u@example.com dsn_orcpt=rfc822;u@example.com reason=...
 * Every value is escaped: any byte outside printable ASCII (0x21..0x7e),
 * and '%' itself, becomes %XX. A value therefore holds no space and no
 * line end, so no recipient or reason can forge a field or an entry.
 * Appending takes an exclusive lock (several bounce processes may report
 * on one message at once), writes the line, fsyncs, and on any failure
 * truncates the file back to where it was: an entry is either whole on
 * disk or absent. A reader ignores a last line without its newline.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "config.h"
#include "mail_queue.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"

static const char *const bounce_action_names[] = {
    MAIL_ATTR_DSN_ACTION_FAILED,
    MAIL_ATTR_DSN_ACTION_DELAYED,
    MAIL_ATTR_DSN_ACTION_DELIVERED,
    "expanded",
};

/* bounce_action_name - the dsn_action text of an action */
const char *bounce_action_name(BOUNCE_ACTION action)
{
    return bounce_action_names[action];
}

/* bounce_action_parse - dsn_action text to an action; -1 when unknown */
int bounce_action_parse(const char *name, BOUNCE_ACTION *action)
{
    size_t  i;

    for (i = 0; i < sizeof(bounce_action_names) / sizeof(bounce_action_names[0]); i++) {
        if (strcmp(name, bounce_action_names[i]) == 0) {
            *action = (BOUNCE_ACTION) i;
            return 0;
        }
    }
    return -1;
}

/* bounce_escape - append a value with every risky byte as %XX */
static void bounce_escape(BUF *out, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *cp;

    for (cp = (const unsigned char *) value; *cp; cp++) {
        if (*cp > 0x20 && *cp < 0x7f && *cp != '%') {
            buf_putc(out, *cp);
        } else {
            buf_putc(out, '%');
            buf_putc(out, hex[*cp >> 4]);
            buf_putc(out, hex[*cp & 15]);
        }
    }
}

/* bounce_hexval - one hex digit, or -1 */
static int bounce_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* bounce_unescape - undo bounce_escape; -1 on a malformed escape or a NUL */
static int bounce_unescape(const char *text, size_t len, char **out)
{
    BUF    *buf = buf_alloc(len + 1);
    size_t  i;
    int     hi, lo;

    for (i = 0; i < len; i++) {
        if (text[i] != '%') {
            buf_putc(buf, text[i]);
            continue;
        }
        if (i + 2 >= len) {
            buf_free(buf);
            return -1;
        }
        hi = bounce_hexval((unsigned char) text[i + 1]);
        lo = bounce_hexval((unsigned char) text[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            buf_free(buf);
            return -1;
        }
        buf_putc(buf, hi * 16 + lo);
        i += 2;
    }
    *out = buf_steal(buf);
    return 0;
}

/* bounce_log_format - one entry as a log line, newline included */
void bounce_log_format(BUF *line, const BOUNCE_ENTRY *entry)
{
    buf_sprintf(line, "action=%s offset=%ld notify=%d status=",
                bounce_action_name(entry->action), entry->offset, entry->notify);
    bounce_escape(line, entry->status);
    buf_puts(line, " recipient=");
    bounce_escape(line, entry->recipient);
    buf_puts(line, " orig_rcpt=");
    bounce_escape(line, entry->orig_rcpt);
    buf_puts(line, " dsn_orcpt=");
    bounce_escape(line, entry->dsn_orcpt);
    buf_puts(line, " reason=");
    bounce_escape(line, entry->reason);
    buf_putc(line, '\n');
}

/* The fields of a line, in the order they are written. */
static const char *const bounce_fields[] = {
    "action", "offset", "notify", "status", "recipient", "orig_rcpt", "dsn_orcpt", "reason",
};
#define BOUNCE_NFIELDS ((int) (sizeof(bounce_fields) / sizeof(bounce_fields[0])))

/* bounce_parse_number - a bounded non-negative decimal field */
static int bounce_parse_number(const char *text, long max, long *value)
{
    char   *end;

    if (*text < '0' || *text > '9')
        return -1;
    errno = 0;
    *value = strtol(text, &end, 10);
    return errno || *end || *value > max ? -1 : 0;
}

/* bounce_log_parse - one line (without its newline) back to an entry.
 * Strict: every field once, in order, nothing else; -1 otherwise. */
int bounce_log_parse(const char *line, size_t len, BOUNCE_ENTRY *entry)
{
    char   *values[BOUNCE_NFIELDS];
    const char *cp = line;
    const char *end = line + len;
    const char *sp;
    size_t  nlen;
    long    num;
    int     i, ok = 1;

    memset(entry, 0, sizeof(*entry));
    memset(values, 0, sizeof(values));
    for (i = 0; i < BOUNCE_NFIELDS && ok; i++) {
        nlen = strlen(bounce_fields[i]);
        if (cp > end || (size_t) (end - cp) <= nlen
            || memcmp(cp, bounce_fields[i], nlen) != 0 || cp[nlen] != '=') {
            ok = 0;
            break;
        }
        cp += nlen + 1;
        sp = memchr(cp, ' ', (size_t) (end - cp));
        if (sp == NULL)
            sp = end;
        if ((sp == end) != (i == BOUNCE_NFIELDS - 1)
            || bounce_unescape(cp, (size_t) (sp - cp), &values[i]) < 0)
            ok = 0;
        cp = sp + 1;
    }
    if (ok && bounce_action_parse(values[0], &entry->action) < 0)
        ok = 0;
    if (ok && bounce_parse_number(values[1], 1L << 40, &entry->offset) < 0)
        ok = 0;
    if (ok && bounce_parse_number(values[2], 0xffff, &num) < 0)
        ok = 0;
    if (ok) {
        entry->notify = (int) num;
        entry->status = values[3];
        entry->recipient = values[4];
        entry->orig_rcpt = values[5];
        entry->dsn_orcpt = values[6];
        entry->reason = values[7];
        for (i = 0; i < 3; i++)
            xfree(values[i]);
        return 0;
    }
    for (i = 0; i < BOUNCE_NFIELDS; i++)
        xfree(values[i]);
    memset(entry, 0, sizeof(*entry));
    return -1;
}

/* bounce_entry_free - release an entry's strings */
void bounce_entry_free(BOUNCE_ENTRY *entry)
{
    xfree(entry->status);
    xfree(entry->recipient);
    xfree(entry->orig_rcpt);
    xfree(entry->dsn_orcpt);
    xfree(entry->reason);
    memset(entry, 0, sizeof(*entry));
}

void bounce_log_init(BOUNCE_LOG *log)
{
    memset(log, 0, sizeof(*log));
}

void bounce_log_free(BOUNCE_LOG *log)
{
    int     i;

    for (i = 0; i < log->count; i++)
        bounce_entry_free(&log->entries[i]);
    xfree(log->entries);
    bounce_log_init(log);
}

/* bounce_same_recipient - two entries about the same recipient record */
static int bounce_same_recipient(const BOUNCE_ENTRY *a, const BOUNCE_ENTRY *b)
{
    if (a->offset > 0 || b->offset > 0)
        return a->offset == b->offset;
    return strcmp(a->recipient, b->recipient) == 0
        && strcmp(a->orig_rcpt, b->orig_rcpt) == 0;
}

/* bounce_log_dedup - keep the last entry per recipient (a recipient that
 * was deferred twice is reported once, with its latest reason) */
void bounce_log_dedup(BOUNCE_LOG *log)
{
    int     i, j, kept = 0;

    for (i = 0; i < log->count; i++) {
        for (j = i + 1; j < log->count; j++)
            if (bounce_same_recipient(&log->entries[i], &log->entries[j]))
                break;
        if (j < log->count)
            bounce_entry_free(&log->entries[i]);
        else
            log->entries[kept++] = log->entries[i];
    }
    log->count = kept;
}

/* bounce_log_path - where the log (or queue file) of `id` lives; 0, or -1
 * for a bad folder name or ID (mail_queue_path) */
int bounce_log_path(BUF *path, const char *queue_dir, const char *queue, const char *id)
{
    return mail_queue_path(path, queue_dir, queue, id);
}

/* bounce_open_log - open (creating) a log for appending; never through a link */
static int bounce_open_log(const char *path, BUF *why)
{
    struct stat st;
    int     fd;
    int     flags = O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC;

    fd = open(path, flags, 0600);
    if (fd < 0 && errno == ENOENT && mail_queue_mkdirs(path) == 0)
        fd = open(path, flags, 0600);
    if (fd < 0) {
        buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        buf_sprintf(why, "%s: not a regular file with one link", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* bounce_log_append - add one entry, durably: 0, or -1 with nothing added */
int bounce_log_append(const char *path, const BOUNCE_ENTRY *entry, BUF *why)
{
    BUF    *line = buf_alloc(256);
    struct stat st;
    ssize_t done = 0, n;
    int     fd, ret = -1;

    if ((fd = bounce_open_log(path, why)) < 0) {
        buf_free(line);
        return -1;
    }
    bounce_log_format(line, entry);
    if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0) {
        buf_sprintf(why, "lock %s: %s", path, strerror(errno));
    } else {
        errno = 0;
        while ((size_t) done < buf_len(line)) {
            n = write(fd, buf_str(line) + done, buf_len(line) - (size_t) done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += n;
        }
        if ((size_t) done == buf_len(line) && fsync(fd) == 0) {
            ret = 0;
        } else {
            buf_sprintf(why, "write %s: %s", path, errno ? strerror(errno) : "short write");
            /* Take back a partial line, so that the next entry starts clean. */
            if (ftruncate(fd, st.st_size) < 0 || fsync(fd) < 0)
                msg_warn("truncate %s back to %ld bytes: %m", path, (long) st.st_size);
        }
    }
    close(fd);
    buf_free(line);
    return ret;
}

/* bounce_log_add - keep one parsed entry */
static void bounce_log_add(BOUNCE_LOG *log, const BOUNCE_ENTRY *entry)
{
    if (log->count == log->size) {
        log->size = log->size ? 2 * log->size : 16;
        log->entries = xreallocarray(log->entries, (size_t) log->size, sizeof(*log->entries));
    }
    log->entries[log->count++] = *entry;
}

/* bounce_log_read - every whole, well-formed line of a log.
 * 1 when the log exists, 0 when it does not, -1 with why on error.
 * Bad lines are skipped with a warning; they cannot be ours. */
int bounce_log_read(const char *path, BOUNCE_LOG *log, BUF *why)
{
    BUF    *line = buf_alloc(256);
    BOUNCE_ENTRY entry;
    STREAM *s;
    int     fd, rc, ret = 1;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        buf_free(line);
        if (errno == ENOENT)
            return 0;
        buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    s = stream_fdopen(fd);
    while (log->count < BOUNCE_ENTRIES_MAX) {
        rc = stream_get_line(s, line, BOUNCE_LINE_MAX);
        if (rc == STREAM_EOF || rc == STREAM_LINE_LAST)
            break;                      /* a last line without LF was never finished */
        if (rc == STREAM_ERROR) {
            buf_sprintf(why, "read %s: %s", path, strerror(errno));
            ret = -1;
            break;
        }
        if (rc == STREAM_LINE_PARTIAL) {
            msg_warn("%s: skipping over-long line", path);
            while ((rc = stream_get_line(s, line, BOUNCE_LINE_MAX)) == STREAM_LINE_PARTIAL)
                 /* skip */ ;
            continue;
        }
        if (bounce_log_parse(buf_str(line), buf_len(line) - 1, &entry) < 0)
            msg_warn("%s: skipping malformed line", path);
        else
            bounce_log_add(log, &entry);
    }
    stream_close(s);
    buf_free(line);
    return ret;
}
