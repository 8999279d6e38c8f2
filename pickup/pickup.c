/*
 * NAME
 *      pickup - take local submissions from maildrop/ to cleanup
 * SYNOPSIS
 *      pickup (started by master: `pickup unix n - n 60 1 pickup`)
 * DESCRIPTION
 *      A trigger server on public/pickup. Each trigger (postdrop's after a
 *      submission, the master's every 60 seconds, the first one at once
 *      when the system starts) makes it scan $queue_directory/maildrop/
 *      oldest first and, for each complete file, check it (owner an
 *      existing account, one link, no symbolic link, the record grammar of
 *      lib/global/maildrop.h to the end record, message_size_limit), stream it
 *      to cleanup with CLEANUP_FLAG_LOCAL|FILTER|MAP_OK|MILTER (MILTER:
 *      non_smtpd_milters see it; EXTRACT too when the file asks for
 *      sendmail -t) with Postfix's Received: header first in the content,
 *          Received: by $myhostname ($mail_name, from userid 1000)
 *                  id QUEUEID; <the file's modification time>
 *      (the submitter's uid, never the login name), log
 *          QUEUEID: uid=1000 from=<sender>
 *      and remove it once cleanup answered status 0. A file that fails a
 *      check, or that cleanup refuses for good, goes to corrupt/ with a
 *      warning and is never deleted. When cleanup cannot take a message
 *      the file stays and the scan stops until the next trigger. Mail
 *      submitted while the system is stopped waits in maildrop/ and is
 *      picked up after start.
 * SECURITY
 *      Runs as mail_owner (unpriv). Every maildrop file belongs to the
 *      user who submitted it and is read as hostile input: the submitter
 *      is the file's owner uid, never anything the file says. pickup runs
 *      in queue_directory and can be chrooted there.
 * PARAMETERS READ
 *      queue_directory, mail_owner, message_size_limit, ipc_timeout,
 *      myhostname, mail_name.
 */
#include "config.h"
#include "mail_queue.h"
#include "msg.h"
#include "pickup.h"
#include "receive_override.h"
#include "server.h"

/* pickup_service - any trigger means: scan maildrop/ */
static void pickup_service(const char *data, size_t len, const SERVER_CTX *ctx)
{
    PICKUP_CONF conf;
    PICKUP_STATS stats;

    (void) data;
    (void) len;
    (void) ctx;
    conf.queue_dir = ".";               /* the skeleton put us in queue_directory */
    conf.size_limit = config_int(P_message_size_limit);
    conf.ipc_timeout = (int) config_time(P_ipc_timeout);
    conf.received_by = config_str(P_myhostname);
    conf.mail_name = config_str(P_mail_name);
    conf.content_filter = config_str(P_content_filter);
    conf.receive_opts = receive_override_options();
    pickup_scan(&conf, &stats);
    if (msg_verbose)
        msg_info("scan: sent=%d skipped=%d corrupt=%d deferred=%d",
                 stats.sent, stats.skipped, stats.corrupt, stats.deferred);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "pickup"};

    trigger_server_main(argc, argv, pickup_service, &hooks);
}
