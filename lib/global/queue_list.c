/* queue_list - the mail queue as mailq shows it; see queue_list.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "qfile.h"
#include "qfile_read.h"
#include "queue_id.h"
#include "queue_list.h"

#define WALK_DEPTH_MAX      4           /* qfile_path hashes at most 4 levels */
#define WALK_NAME_MAX       100         /* longer maildrop names are not ours */
#define DEFER_LINE_MAX      (64 * 1024) /* longer defer log lines are skipped */
/* Postfix's mailq layout for long queue IDs (postqueue's showq_compat):
 * ID and mark in 17 columns, size in 8, arrival time in 19, then the
 * address; recipients under the address column; a deferral reason
 * "(...)" ends at column 76. Scripts parse these columns. */
#define ID_WIDTH            17
#define RCPT_INDENT         (ID_WIDTH + 1 + 8 + 1 + 19 + 1)
#define REASON_END          76

const char *const queue_list_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
    MAIL_QUEUE_MAILDROP, NULL,
};

/* One file found by a walk. */
typedef struct WALK_ITEM {
    char   *name;
    char   *path;
} WALK_ITEM;

typedef struct WALK_LIST {
    WALK_ITEM *items;
    size_t  count;
} WALK_LIST;

/* walk_name_ok - is this a file name the walk reports? */
static int walk_name_ok(const char *name, int flags)
{
    const char *cp;

    if (!(flags & QUEUE_WALK_ANY_NAME))
        return queue_id_valid(name);
    if (name[0] == '.' || strlen(name) > WALK_NAME_MAX)
        return 0;
    for (cp = name; *cp; cp++)
        if (!(*cp == '.' || *cp == '-' || *cp == '_' || (*cp >= '0' && *cp <= '9')
              || (*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')))
            return 0;
    return 1;
}

/* walk_folder - collect files of one folder; descend into one-character
 * subfolders (hash levels) whatever the configured depth, so that files
 * hashed under an older $hash_queue_depth are still found. */
static int walk_folder(const char *dir, int depth, int flags, WALK_LIST *list, BUF *why)
{
    DIR    *dp;
    struct dirent *de;
    struct stat st;
    BUF    *path = buf_alloc(256);

    if ((dp = opendir(dir)) == NULL) {
        /* A hash subfolder that went away meanwhile is no error. */
        if (depth > 0 && errno == ENOENT) {
            buf_free(path);
            return 0;
        }
        buf_sprintf(why, "open folder %s: %s", dir, strerror(errno));
        buf_free(path);
        return -1;
    }
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        buf_sprintf(path, "%s/%s", dir, de->d_name);
        if (lstat(buf_str(path), &st) < 0)
            continue;                       /* gone: delivered or moved */
        if (S_ISDIR(st.st_mode) && strlen(de->d_name) == 1 && depth < WALK_DEPTH_MAX) {
            (void) walk_folder(buf_str(path), depth + 1, flags, list, why);
        } else if (S_ISREG(st.st_mode) && walk_name_ok(de->d_name, flags)) {
            list->items = xreallocarray(list->items, list->count + 1, sizeof(*list->items));
            list->items[list->count].name = xstrdup(de->d_name);
            list->items[list->count].path = xstrdup(buf_str(path));
            list->count++;
        }
    }
    closedir(dp);
    buf_free(path);
    return 0;
}

/* walk_compare - sort by name: queue IDs sort by arrival time */
static int walk_compare(const void *a, const void *b)
{
    return strcmp(((const WALK_ITEM *) a)->name, ((const WALK_ITEM *) b)->name);
}

/* queue_walk - every queue file of one folder, in name order */
int queue_walk(const char *queue_dir, const char *queue, int flags,
               QUEUE_WALK_FN fn, void *ctx, BUF *why)
{
    WALK_LIST list = {NULL, 0};
    BUF    *dir = buf_alloc(256);
    size_t  i;
    int     ret;

    buf_sprintf(dir, "%s/%s", queue_dir, queue);
    ret = walk_folder(buf_str(dir), 0, flags, &list, why);
    if (list.count)
        qsort(list.items, list.count, sizeof(*list.items), walk_compare);
    for (i = 0; i < list.count; i++) {
        if (ret == 0)
            fn(queue, list.items[i].name, list.items[i].path, ctx);
        xfree(list.items[i].name);
        xfree(list.items[i].path);
    }
    xfree(list.items);
    buf_free(dir);
    return ret < 0 ? -1 : (int) list.count;
}

/* defer_unescape - undo bounce's %XX escapes in place */
static void defer_unescape(char *s)
{
    char   *out = s;
    unsigned int ch;

    for (; *s; s++) {
        if (*s == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &ch) == 1) {
            *out++ = (char) ch;
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = 0;
}

/* defer_entry - one log line: report it when it is a delayed entry */
static void defer_entry(char *line, QUEUE_REASON_FN fn, void *ctx)
{
    char   *recipient = NULL;
    char   *reason = NULL;
    int     delayed = 0;
    char   *field;
    char   *next;

    for (field = line; field; field = next) {
        if ((next = strchr(field, ' ')) != NULL)
            *next++ = 0;
        if (strcmp(field, "action=delayed") == 0)
            delayed = 1;
        else if (strncmp(field, "recipient=", 10) == 0)
            recipient = field + 10;
        else if (strncmp(field, "reason=", 7) == 0)
            reason = field + 7;
    }
    if (delayed && recipient && reason) {
        defer_unescape(recipient);
        defer_unescape(reason);
        fn(recipient, reason, ctx);
    }
}

/* queue_defer_reasons - read defer/<ID>, if there is one */
int queue_defer_reasons(const char *queue_dir, const char *id,
                        QUEUE_REASON_FN fn, void *ctx)
{
    BUF    *path = buf_alloc(256);
    BUF    *line = buf_alloc(256);
    STREAM *s;
    int     fd;
    int     status;
    int     skipping = 0;

    fd = mail_queue_path(path, queue_dir, MAIL_QUEUE_DEFER, id) < 0 ? (errno = ENOENT, -1)
        : open(buf_str(path), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    buf_free(path);
    if (fd < 0) {
        buf_free(line);
        return errno == ENOENT ? 0 : -1;
    }
    s = stream_fdopen(fd);
    while ((status = stream_get_line(s, line, DEFER_LINE_MAX)) >= 0) {
        /* Only whole lines count: the last one may be half written. */
        if (status == STREAM_LINE_PARTIAL) {
            skipping = 1;
        } else if (status == STREAM_LINE_OK) {
            if (!skipping) {
                buf_truncate(line, buf_len(line) - 1);
                defer_entry(buf_str(line), fn, ctx);
            }
            skipping = 0;
        }
    }
    buf_free(line);
    return stream_close(s) < 0 && status == STREAM_ERROR ? -1 : 0;
}

/* queue_json_string - a JSON string literal of s */
void queue_json_string(BUF *out, const char *s)
{
    const unsigned char *cp = (const unsigned char *) s;
    int     n, i;

    buf_putc(out, '"');
    while (*cp) {
        if (*cp == '"' || *cp == '\\') {
            buf_printf(out, "\\%c", *cp++);
        } else if (*cp < 0x20 || *cp == 0x7f) {
            buf_printf(out, "\\u%04x", *cp++);
        } else if (*cp < 0x80) {
            buf_putc(out, *cp++);
        } else {
            /* One well-formed UTF-8 sequence passes; anything else is U+FFFD. */
            n = (*cp & 0xe0) == 0xc0 && *cp >= 0xc2 ? 1 : (*cp & 0xf0) == 0xe0 ? 2
                : (*cp & 0xf8) == 0xf0 && *cp <= 0xf4 ? 3 : -1;
            for (i = 1; n > 0 && i <= n; i++)
                if ((cp[i] & 0xc0) != 0x80)
                    n = -1;
            if (n > 0) {
                buf_append(out, cp, (size_t) n + 1);
                cp += n + 1;
            } else {
                buf_puts(out, "\\ufffd");
                cp++;
            }
        }
    }
    buf_putc(out, '"');
}

/* The deferral reasons of one message, last one per recipient. */
typedef struct REASONS {
    char  **rcpt;
    char  **text;
    int     count;
} REASONS;

/* reasons_add - remember a reason; a later entry replaces an earlier one */
static void reasons_add(const char *recipient, const char *reason, void *ctx)
{
    REASONS *r = ctx;
    int     i;

    for (i = 0; i < r->count; i++) {
        if (strcmp(r->rcpt[i], recipient) == 0) {
            xfree(r->text[i]);
            r->text[i] = xstrdup(reason);
            return;
        }
    }
    r->rcpt = xreallocarray(r->rcpt, (size_t) r->count + 1, sizeof(char *));
    r->text = xreallocarray(r->text, (size_t) r->count + 1, sizeof(char *));
    r->rcpt[r->count] = xstrdup(recipient);
    r->text[r->count++] = xstrdup(reason);
}

/* reasons_find - the reason for a recipient, or NULL */
static const char *reasons_find(const REASONS *r, const char *recipient)
{
    int     i;

    for (i = 0; i < r->count; i++)
        if (strcmp(r->rcpt[i], recipient) == 0)
            return r->text[i];
    return NULL;
}

static void reasons_free(REASONS *r)
{
    int     i;

    for (i = 0; i < r->count; i++) {
        xfree(r->rcpt[i]);
        xfree(r->text[i]);
    }
    xfree(r->rcpt);
    xfree(r->text);
}

/* State of one listing. */
typedef struct LIST_STATE {
    STREAM *out;
    const char *queue_dir;
    int     flags;
    long    messages;
    long    bytes;
    BUF    *line;
    int     forced;                     /* this file has QFILE_MODE_EXPIRE */
} LIST_STATE;

/* text_safe - append s with non-printable bytes as '?': a terminal shows
 * the table, and addresses come from outside */
static void text_safe(BUF *out, const char *s)
{
    for (; *s; s++)
        buf_putc(out, (unsigned char) *s >= 0x20 && *s != 0x7f ? *s : '?');
}

/* list_text_entry - one message in the table */
static void list_text_entry(LIST_STATE *ls, const char *queue, const char *id,
                            const QFILE_ENVELOPE *env, const REASONS *reasons)
{
    BUF    *l = ls->line;
    char    when[32];
    time_t  t = env->sum.arrival.tv_sec;
    struct tm tm;
    const char *reason;
    const char *shown = "";
    int     mark = strcmp(queue, MAIL_QUEUE_ACTIVE) == 0 ? '*'
        : strcmp(queue, MAIL_QUEUE_HOLD) == 0 ? '!' : 0;
    int     i;

    if (strftime(when, sizeof(when), "%a %b %e %H:%M:%S", localtime_r(&t, &tm)) == 0)
        when[0] = 0;
    buf_sprintf(l, "%s", id);
    if (mark)
        buf_putc(l, (char) mark);
    while (buf_len(l) < ID_WIDTH)
        buf_putc(l, ' ');
    buf_printf(l, " %8ld %19.19s ", env->sum.sizes.content_size, when);
    text_safe(l, *env->sender ? env->sender : "MAILER-DAEMON");
    buf_putc(l, '\n');
    /* Why a milter held it (cleanup's quarantine_reason A record). */
    if (mark == '!' && (reason = qfile_envelope_attr(env, MAIL_ATTR_QUARANTINE)) != NULL) {
        buf_puts(l, "(quarantine: ");
        text_safe(l, reason);
        buf_puts(l, ")\n");
    }
    for (i = 0; i < env->nrcpts; i++) {
        if (env->rcpts[i].done)
            continue;
        /* As Postfix: a reason line when it differs from the one before,
         * "reason unavailable" after a recipient that had one. */
        reason = reasons_find(reasons, env->rcpts[i].address);
        if (strcmp(reason ? reason : "", shown) != 0) {
            const char *text = reason ? reason : "reason unavailable";
            int     pad = REASON_END - (int) strlen(text);

            buf_printf(l, "%*s(", pad > 0 ? pad : 0, "");
            text_safe(l, text);
            buf_puts(l, ")\n");
            shown = reason ? reason : "";
        }
        buf_printf(l, "%*s", RCPT_INDENT, "");
        text_safe(l, env->rcpts[i].address);
        buf_putc(l, '\n');
    }
    buf_putc(l, '\n');
    stream_write(ls->out, buf_str(l), buf_len(l));
}

/* list_json_entry - one message as one JSON line */
static void list_json_entry(LIST_STATE *ls, const char *queue, const char *id,
                            const QFILE_ENVELOPE *env, const REASONS *reasons)
{
    BUF    *l = ls->line;
    const char *reason;
    int     i, n = 0;

    buf_sprintf(l, "{\"queue_name\": ");
    queue_json_string(l, queue);
    buf_puts(l, ", \"queue_id\": ");
    queue_json_string(l, id);
    buf_printf(l, ", \"arrival_time\": %ld, \"message_size\": %ld, "
               "\"forced_expire\": %s, \"sender\": ",
               (long) env->sum.arrival.tv_sec, env->sum.sizes.content_size,
               ls->forced ? "true" : "false");
    queue_json_string(l, env->sender);
    buf_puts(l, ", \"recipients\": [");
    for (i = 0; i < env->nrcpts; i++) {
        if (env->rcpts[i].done)
            continue;
        buf_puts(l, n++ ? ", {\"address\": " : "{\"address\": ");
        queue_json_string(l, env->rcpts[i].address);
        if ((reason = reasons_find(reasons, env->rcpts[i].address)) != NULL) {
            buf_puts(l, ", \"delay_reason\": ");
            queue_json_string(l, reason);
        }
        buf_putc(l, '}');
    }
    buf_puts(l, "]}\n");
    stream_write(ls->out, buf_str(l), buf_len(l));
}

/* list_open - open one file for reading; -1 when it is not one to list */
static int list_open(const char *queue, const char *path)
{
    struct stat st;
    BUF    *why = buf_alloc(100);
    int     fd;

    if (strcmp(queue, MAIL_QUEUE_MAILDROP) == 0) {
        /* postdrop's files are not queue files: not "ready" by mode. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
            close(fd);
            fd = -1;
        }
    } else {
        fd = qfile_open_ready(path, O_RDONLY, &st, why);
    }
    buf_free(why);
    return fd;
}

/* list_one - read and show one queue file (a walk callback) */
static void list_one(const char *queue, const char *name, const char *path, void *ctx)
{
    LIST_STATE *ls = ctx;
    QFILE_ENVELOPE env;
    REASONS reasons = {NULL, NULL, 0};
    struct stat st;
    BUF    *why = buf_alloc(100);
    int     fd;
    int     ok;

    /* Vanished, not ready or unreadable: skip it (a race, not an error). */
    if ((fd = list_open(queue, path)) < 0) {
        buf_free(why);
        return;
    }
    ok = strcmp(queue, MAIL_QUEUE_MAILDROP) == 0 ? qfile_read_maildrop(fd, &env, why)
        : qfile_read_envelope(fd, &env, why);
    ls->forced = fstat(fd, &st) == 0 && strcmp(queue, MAIL_QUEUE_MAILDROP) != 0
        && (st.st_mode & QFILE_MODE_EXPIRE) != 0;
    close(fd);
    if (ok == 0) {
        if (strcmp(queue, MAIL_QUEUE_MAILDROP) != 0)
            (void) queue_defer_reasons(ls->queue_dir, name, reasons_add, &reasons);
        if (ls->flags & QUEUE_LIST_JSON)
            list_json_entry(ls, queue, name, &env, &reasons);
        else {
            if (ls->messages == 0)
                stream_printf(ls->out, "%-*s %8s %-19s %s\n", ID_WIDTH, "----Queue ID-----",
                              "--Size--", "---Arrival Time----", "--Sender/Recipient------");
            list_text_entry(ls, queue, name, &env, &reasons);
        }
        ls->messages++;
        ls->bytes += env.sum.sizes.content_size;
        reasons_free(&reasons);
        qfile_envelope_free(&env);
    }
    buf_free(why);
}

/* queue_list - the whole listing */
int queue_list(STREAM *out, const char *queue_dir, int flags, BUF *why)
{
    LIST_STATE ls;
    const char *const *queue;
    int     ret = 0;

    memset(&ls, 0, sizeof(ls));
    ls.out = out;
    ls.queue_dir = queue_dir;
    ls.flags = flags;
    ls.line = buf_alloc(256);
    for (queue = queue_list_queues; *queue && ret == 0; queue++) {
        if (queue_walk(queue_dir, *queue,
                       strcmp(*queue, MAIL_QUEUE_MAILDROP) == 0 ? QUEUE_WALK_ANY_NAME : 0,
                       list_one, &ls, why) < 0)
            ret = -1;
    }
    if (ret == 0 && !(flags & QUEUE_LIST_JSON)) {
        if (ls.messages == 0)
            stream_puts(out, "Mail queue is empty\n");
        else
            stream_printf(out, "-- %ld Kbytes in %ld Request%s.\n", ls.bytes / 1024,
                          ls.messages, ls.messages == 1 ? "" : "s");
    }
    buf_free(ls.line);
    return ret;
}
