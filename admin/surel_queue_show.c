/* surel_queue_show - `surel queue show [-e|-h|-b] ID` (Postfix's postcat -q).
 *
 * Finds the file in incoming, active, deferred, hold or corrupt and prints
 * it with qfile_dump (lib/global/qfile_dump.h: the one printer, its shape
 * and its escaping are described there); -e, -h and -b print only the
 * envelope, the header or the body. The file is opened read-only; an ID
 * that is not a queue ID is refused before any path is built from it.
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
#include "qfile_dump.h"
#include "stream.h"
#include "queue_id.h"
#include "surel_queue.h"

static const char *const show_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,
    MAIL_QUEUE_CORRUPT, NULL,
};

/* show_file - print one open queue file through qfile_dump; exit status */
static int show_file(int fd, const char *queue, const char *id, int what)
{
    BUF    *label = buf_alloc(64);
    BUF    *why = buf_alloc(100);
    STREAM *out = stream_fdopen(1);
    int     ret = 0;

    buf_sprintf(label, "%s/%s", queue, id);
    if (qfile_dump(fd, buf_str(label), what, out, why) < 0) {
        msg_warn("%s: bad queue file: %s", id, buf_str(why));
        ret = 1;
    }
    if (stream_flush(out) < 0)
        msg_fatal("write: %m");
    stream_release(out);
    buf_free(label);
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
        case 'e': what |= QFILE_DUMP_ENVELOPE; break;
        case 'h': what |= QFILE_DUMP_HEADER; break;
        case 'b': what |= QFILE_DUMP_BODY; break;
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
    ret = show_file(fd, queue, argv[optind], what ? what : QFILE_DUMP_ALL);
    close(fd);
    buf_free(path);
    buf_free(why);
    return ret;
}
