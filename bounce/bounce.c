/*
 * NAME
 *      bounce - delivery status logs and notifications (DSN)
 * SYNOPSIS
 *      bounce (started by master on private/bounce; see master_proto.h)
 * DESCRIPTION
 *      Keeps a status log per message and turns it into RFC 3464 delivery
 *      status notifications. Clients (qmgr) speak the bounce protocol of
 *      mail_proto.h over private/bounce:
 *
 *      append  records one recipient's outcome in bounce/<ID> (failed,
 *              delivered, expanded) or defer/<ID> (delayed), a line per
 *              recipient, fsync'ed before the answer; a write that fails is
 *              taken back, so the log never holds half an entry.
 *      flush   reads bounce/<ID> and the message's queue file and sends one
 *              notice: "Undelivered Mail Returned to Sender" for failures
 *              (with the recipients delivered under NOTIFY=SUCCESS in the
 *              same report), "Successful Mail Delivery Report" when there
 *              are only those. The notice goes with the null sender to the
 *              original sender; when that sender is <> it goes instead to
 *              $2bounce_notice_recipient, from $double_bounce_sender, and
 *              when such a postmaster notice fails in turn it is dropped:
 *              no loop. Recipients with NOTIFY=NEVER get nothing. The log
 *              is removed and the answer is 0 only after cleanup has
 *              committed the notice.
 *      warn    sends "Delayed Mail (still being retried)" for the entries
 *              of defer/<ID> whose NOTIFY asks for delays; the log stays.
 *
 *      Notices are queued through private/cleanup (cleanup protocol,
 *      CLEANUP_FLAG_BOUNCE) and logged as
 *      "QUEUEID: sender non-delivery notification: NEWID".
 * SECURITY
 *      Runs as mail_owner (unpriv y), optionally chrooted. Requests come
 *      from our own daemons, but the recipients and reasons they carry
 *      come from remote hosts: log lines escape every byte that could end
 *      a field or a line, notices quote them only after removing control
 *      characters, and queue IDs and queue names are checked before they
 *      become paths. No file is opened through a symbolic link.
 * PARAMETERS
 *      myhostname, myorigin          Reporting-MTA, From:, Message-Id
 *      bounce_size_limit (50000)     bytes of the original returned
 *      2bounce_notice_recipient (postmaster)
 *      double_bounce_sender (double-bounce)
 *      delay_warning_time, maximal_queue_lifetime   delay notice text
 *      hash_queue_names, hash_queue_depth           log and queue paths
 *      ipc_timeout                   talking to cleanup and to clients
 */
#include "bounce.h"
#include "config.h"
#include "server.h"

/* bounce_session - one client of private/bounce (paths relative to the
 * queue folder: the skeleton chdir'ed there, and may have chrooted) */
static void bounce_session(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    stream_set_timeout(client, (int) config_time(P_ipc_timeout));
    bounce_service(client, ".");
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.confine = "bounce"};

    single_server_main(argc, argv, bounce_session, &hooks);
}
