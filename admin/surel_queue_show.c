/* surel_queue_show - `surel queue show [-e|-h|-b] ID` (Postfix's postcat -q).
 *
 * Prints one queue file in sections, as postcat does:
 *     *** ENVELOPE RECORDS incoming/ID ***
 *     message_size: 1234
 *     message_arrival_time: Mon Jan  6 10:00:00 2025
 *     sender: a@example.com
 *     named_attribute: client_address=127.0.0.1
 *     recipient: b@example.com (todo)
 *         original_recipient: B@example.com
 *         dsn_orig_rcpt: rfc822;B@example.com
 *         dsn_notify: success,failure
 *     *** MESSAGE CONTENTS incoming/ID ***
 *     Subject: ...
 *     *** MESSAGE FILE END incoming/ID ***
 * -e, -h and -b print only the envelope, the header or the body (without
 * the section lines, so that the output can be fed to other tools). The
 * file is opened read-only and verified first (qfile_read_envelope); an
 * ID that is not a queue ID is refused before any path is built from it.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "msg.h"
#include "qfile.h"
#include "qfile_read.h"
#include "record.h"
#include "queue_id.h"
#include "surel_queue.h"

#define SHOW_ENVELOPE   (1 << 0)
#define SHOW_HEADER     (1 << 1)
#define SHOW_BODY       (1 << 2)
#define SHOW_ALL        (SHOW_ENVELOPE | SHOW_HEADER | SHOW_BODY)

static const char *const show_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
    MAIL_QUEUE_CORRUPT, NULL,
};

/* show_notify - the DSN NOTIFY bits as words */
static void show_notify(int notify)
{
    static const struct {
        int     bit;
        const char *name;
    } names[] = {
        {DSN_NOTIFY_NEVER, "never"}, {DSN_NOTIFY_SUCCESS, "success"},
        {DSN_NOTIFY_FAILURE, "failure"}, {DSN_NOTIFY_DELAY, "delay"},
    };
    size_t  i;
    int     n = 0;

    printf("    dsn_notify:");
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (notify & names[i].bit)
            printf("%s%s", n++ ? "," : " ", names[i].name);
    printf("\n");
}

/* show_envelope - the envelope section */
static void show_envelope(const QFILE_ENVELOPE *env)
{
    char    when[64];
    time_t  t = env->sum.arrival.tv_sec;
    struct tm tm;
    int     i;

    if (strftime(when, sizeof(when), "%a %b %e %H:%M:%S %Y", localtime_r(&t, &tm)) == 0)
        when[0] = 0;
    printf("message_size: %ld\n", env->sum.sizes.content_size);
    printf("message_arrival_time: %s\n", when);
    if (env->fullname)
        printf("full_name: %s\n", env->fullname);
    printf("sender: %s\n", env->sender);
    for (i = 0; i < env->nattrs; i++)
        printf("named_attribute: %s\n", env->attrs[i]);
    for (i = 0; i < env->nrcpts; i++) {
        const QFILE_RCPT *r = env->rcpts + i;

        printf("recipient: %s (%s)\n", r->address, r->done ? "done" : "todo");
        if (*r->orig && strcmp(r->orig, r->address) != 0)
            printf("    original_recipient: %s\n", r->orig);
        if (*r->dsn_orcpt)
            printf("    dsn_orig_rcpt: %s\n", r->dsn_orcpt);
        if (r->notify)
            show_notify(r->notify);
    }
}

/* Content printing state: L records join into one line. */
typedef struct SHOW_CONTENT {
    int     what;
    int     in_body;                /* the empty line after the header was seen */
    int     line_start;             /* next record starts a new line */
    int     printing;               /* this line is printed */
} SHOW_CONTENT;

/* show_record - one content record (a QFILE_CONTENT_FN) */
static void show_record(int type, const char *data, size_t len, void *ctx)
{
    SHOW_CONTENT *sc = ctx;

    if (sc->line_start && !sc->in_body && type == REC_TYPE_NORM && len == 0) {
        /* The empty line that ends the header: part of the whole message,
         * of neither -h nor -b. */
        sc->in_body = 1;
        if (sc->what == SHOW_ALL)
            putchar('\n');
        return;
    }
    if (sc->line_start)
        sc->printing = (sc->what & (sc->in_body ? SHOW_BODY : SHOW_HEADER)) != 0;
    if (sc->printing) {
        fwrite(data, 1, len, stdout);
        if (type == REC_TYPE_NORM)
            putchar('\n');
    }
    sc->line_start = (type == REC_TYPE_NORM);
}

/* show_file - print the parts of one open queue file */
static int show_file(int fd, const char *queue, const char *id, int what)
{
    QFILE_ENVELOPE env;
    SHOW_CONTENT sc = {what, 0, 1, 0};
    BUF    *why = buf_alloc(100);
    int     ret = 0;

    if (qfile_read_envelope(fd, &env, why) < 0) {
        msg_warn("%s: bad queue file: %s", id, buf_str(why));
        buf_free(why);
        return 1;
    }
    if (what == SHOW_ALL)
        printf("*** ENVELOPE RECORDS %s/%s ***\n", queue, id);
    if (what & SHOW_ENVELOPE)
        show_envelope(&env);
    if (what == SHOW_ALL)
        printf("*** MESSAGE CONTENTS %s/%s ***\n", queue, id);
    if ((what & (SHOW_HEADER | SHOW_BODY))
        && qfile_read_content(fd, &env, show_record, &sc, why) < 0) {
        msg_warn("%s: %s", id, buf_str(why));
        ret = 1;
    }
    if (what == SHOW_ALL)
        printf("*** MESSAGE FILE END %s/%s ***\n", queue, id);
    qfile_envelope_free(&env);
    buf_free(why);
    return ret;
}

/* sq_show_main - `surel queue show [-e|-h|-b] ID` */
int sq_show_main(int argc, char **argv)
{
    const char *queue_dir;
    const char *queue;
    BUF    *path;
    BUF    *why;
    struct stat st;
    int     what = 0;
    int     ch, fd, ret;

    while ((ch = getopt(argc, argv, "ehb")) != -1) {
        switch (ch) {
        case 'e': what |= SHOW_ENVELOPE; break;
        case 'h': what |= SHOW_HEADER; break;
        case 'b': what |= SHOW_BODY; break;
        default:
            fprintf(stderr, "usage: surel queue show [-e|-h|-b] ID\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: surel queue show [-e|-h|-b] ID\n");
        return 2;
    }
    if (!queue_id_valid(argv[optind]))
        msg_fatal("invalid queue ID: '%s'", argv[optind]);
    queue_dir = sq_load();
    sq_require_owner("show", queue_dir);
    path = buf_alloc(256);
    why = buf_alloc(100);
    if (!sq_find(queue_dir, argv[optind], show_queues, path, &queue))
        msg_fatal("%s: no such message in the queue", argv[optind]);
    if ((fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0)
        msg_fatal("%s: cannot open: %s", argv[optind], buf_str(why));
    ret = show_file(fd, queue, argv[optind], what ? what : SHOW_ALL);
    close(fd);
    buf_free(path);
    buf_free(why);
    if (fflush(stdout) != 0)
        msg_fatal("write: %m");
    return ret;
}
