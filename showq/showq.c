/*
 * NAME
 *      showq - list the mail queue for users who may not read it
 * SYNOPSIS
 *      showq (started by master; master.cf: showq unix n - n - - showq)
 * DESCRIPTION
 *      A single_server on public/showq. A client sends one attribute list
 *      {format=text|json}; showq answers with the listing that
 *      `surel queue list` prints (lib/global/queue_list.h: the mailq table, or
 *      JSON Lines) and closes the connection. `surel queue list` uses it
 *      when its caller cannot read the queue folders itself, as Postfix's
 *      postqueue uses its showq service.
 * SECURITY
 *      Runs as mail_owner, the owner of the queue folders, and only reads
 *      them (files are opened read-only; nothing is written or moved). The
 *      socket is under public/, reachable by the setgid_group: local users
 *      reach it through `surel` installed set-gid setgid_group. The only
 *      input is the format request, read strictly with a timeout; what a
 *      user learns is what mailq shows (senders, recipients, sizes).
 * PARAMETERS READ
 *      queue_directory, hash_queue_names, hash_queue_depth,
 *      (The request must come within SHOWQ_TIMEOUT seconds: anyone in
 *      setgid_group may connect, and ipc_timeout is far too generous.)
 */
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "config.h"
#include "mail_proto.h"
#include "msg.h"
#include "queue_list.h"
#include "server.h"

#define SHOWQ_TIMEOUT   10      /* seconds for the request and each write */

/* showq_service - one request: read the format, write the listing */
static void showq_service(STREAM *client, const SERVER_CTX *ctx)
{
    BUF    *format = buf_alloc(16);
    BUF    *why = buf_alloc(100);

    stream_set_timeout(client, SHOWQ_TIMEOUT);
    if (attr_recv(client, RECV_STR(MAIL_ATTR_FORMAT, format), ATTR_END) < 0) {
        msg_warn("showq: bad request: %s", attr_last_error());
    } else if (queue_list(client, config_str(P_queue_directory),
                          strcmp(buf_str(format), SHOWQ_FORMAT_JSON) == 0 ? QUEUE_LIST_JSON : 0,
                          why) < 0) {
        msg_warn("showq: %s", buf_str(why));
        stream_printf(client, "showq: cannot read the queue: %s\n", buf_str(why));
    }
    stream_flush(client);
    buf_free(format);
    buf_free(why);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "showq"};

    single_server_main(argc, argv, showq_service, &hooks);
}
