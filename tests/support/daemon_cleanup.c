/*
 * NAME
 *      test-cleanup - a minimal cleanup service for smtpd's tests
 * SYNOPSIS
 *      test-cleanup (started by master; see master_proto.h)
 * DESCRIPTION
 *      Speaks the cleanup protocol of mail_proto.h exactly: {flags} in,
 *      {queue_id} out, records in (A* S (O|o|n)* R ... M (N|L)* X E),
 *      {status, reason} out. Writes the records as they come into a real
 *      queue file (lib/qfile: temp/, then commit to incoming/) and answers
 *      status 0 only after qfile_commit. A client that hangs up before E
 *      leaves nothing behind. It adds nothing and rewrites nothing: it is a
 *      protocol peer for smtpd's integration tests until the real cleanup
 *      is on main (the tests use bin/cleanup when it exists).
 *      The test hook `-o test_cleanup_status=N` makes it answer status N
 *      (after writing, without committing) so that smtpd's error replies
 *      can be tested.
 * SECURITY
 *      Test program only.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "config.h"
#include "mail_proto.h"
#include "msg.h"
#include "qfile.h"
#include "record.h"
#include "server.h"

/* tc_read - records until E; fills sizes; 0, or a CLEANUP_STAT_* */
static int tc_read(STREAM *client, QFILE_WRITER *w, QFILE_SIZES *sizes)
{
    BUF    *data = buf_alloc(1000);
    STREAM *out = qfile_stream(w);
    int     in_content = 0;
    int     type;
    int     ret = CLEANUP_STAT_BAD;

    for (;;) {
        type = rec_get(client, data, REC_LEN_MAX);
        if (type < 0)
            break;                  /* EOF or error: abandon */
        if (strchr("CTDW", type) || !rec_type_known(type))
            break;
        if (type == REC_TYPE_MESG) {
            if (stream_flush(out) < 0)
                break;
            sizes->data_offset = (long) lseek(w->fd, 0, SEEK_CUR);
            in_content = 1;
        } else if (type == REC_TYPE_NORM && in_content) {
            sizes->content_size += (long) buf_len(data) + 1;
        } else if (type == REC_TYPE_CONT && in_content) {
            sizes->content_size += (long) buf_len(data);
        } else if (type == REC_TYPE_RCPT) {
            sizes->nrcpt++;
        } else if (type == REC_TYPE_XTRA) {
            in_content = 0;
        }
        if (rec_put(out, type, buf_str(data), buf_len(data)) < 0) {
            ret = CLEANUP_STAT_WRITE;
            break;
        }
        if (type == REC_TYPE_END) {
            ret = CLEANUP_STAT_OK;
            break;
        }
    }
    buf_free(data);
    return type < 0 ? -1 : ret;
}

/* tc_service - one submission */
static void tc_service(STREAM *client, const SERVER_CTX *ctx)
{
    const char *forced = config_lookup("test_cleanup_status");
    QFILE_SIZES sizes = {0, 0, 0, 0};
    QFILE_WRITER *w;
    BUF    *why = buf_alloc(100);
    int     flags;
    int     status;

    (void) ctx;
    stream_set_timeout(client, 60);
    if (attr_recv(client, RECV_INT(MAIL_ATTR_FLAGS, &flags), ATTR_END) < 0) {
        buf_free(why);
        return;
    }
    if ((w = qfile_create(config_str(P_queue_directory), why)) == NULL) {
        msg_warn("%s", buf_str(why));
        (void) attr_send(client, SEND_STR(MAIL_ATTR_QUEUEID, ""), ATTR_END);
        buf_free(why);
        return;
    }
    if (attr_send(client, SEND_STR(MAIL_ATTR_QUEUEID, w->id), ATTR_END) < 0) {
        qfile_abort(w);
        buf_free(why);
        return;
    }
    status = tc_read(client, w, &sizes);
    if (status < 0) {
        msg_info("%s: client went away: removed", w->id);
        qfile_abort(w);
        buf_free(why);
        return;
    }
    if (status == 0 && forced && *forced)
        status = atoi(forced);
    if (status == 0 && qfile_commit(w, "incoming", &sizes, why) < 0) {
        msg_warn("%s", buf_str(why));
        status = CLEANUP_STAT_WRITE;
    }
    if (status == 0) {
        msg_info("%s: committed, nrcpt=%ld size=%ld", w->id, sizes.nrcpt, sizes.content_size);
        qfile_writer_free(w);
    } else {
        qfile_abort(w);
    }
    (void) attr_send(client, SEND_INT(MAIL_ATTR_STATUS, status),
                     SEND_STR(MAIL_ATTR_WHY, ""), ATTR_END);
    buf_free(why);
}

int     main(int argc, char **argv)
{
    single_server_main(argc, argv, tc_service, NULL);
}
