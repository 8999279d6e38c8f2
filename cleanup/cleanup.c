/*
 * NAME
 *      cleanup - turn a submission into a committed queue file
 * SYNOPSIS
 *      cleanup [generic daemon options] (started by master)
 * DESCRIPTION
 *      cleanup serves private/cleanup for smtpd, pickup and bounce. A
 *      client sends {flags}, gets {queue_id}, streams the envelope and the
 *      content as records, and gets {status, reason} (the cleanup protocol
 *      in mail_proto.h). On the way cleanup
 *        - qualifies envelope addresses (user -> user@$myorigin), maps
 *          them and the addresses in From:, To:, Cc:, Reply-To:, Sender:...
 *          through sender_canonical_maps, recipient_canonical_maps and
 *          canonical_maps, and expands recipients through
 *          virtual_alias_maps (CLEANUP_FLAG_MAP_OK);
 *        - drops duplicate recipients, and Return-Path:, Content-Length:,
 *          Bcc: and Resent-Bcc: headers; adds a missing Message-Id: and
 *          Date:, and for local mail From:; with Resent- headers present
 *          the Resent- forms; extracts recipients from To/Cc/Bcc when a
 *          local submission asks (CLEANUP_FLAG_EXTRACT: sendmail -t);
 *        - runs header_checks and body_checks (CLEANUP_FLAG_FILTER);
 *        - enforces message_size_limit, header_size_limit, hopcount_limit,
 *          and replaces stray CR and LF in content with a space;
 *        - sends the content to mail filters (milters) and applies their
 *          changes and verdict before the commit: smtpd's filter sessions
 *          handed over with CLEANUP_FLAG_SMTPD_MILTERS, or
 *          non_smtpd_milters for pickup's mail (cleanup_milter.c).
 *      The file is written in temp/, fsync'ed and renamed into incoming/
 *      (hold/ after a HOLD action) before the answer says 0; qmgr is then
 *      poked through public/qmgr. Anything else leaves no file behind.
 *      One process serves many clients at once from its event loop.
 * SECURITY
 *      Runs as mail_owner, optionally chrooted to queue_directory. Its
 *      clients are our own daemons, but what they forward comes from the
 *      network: every record is bounded and checked against the protocol
 *      grammar, and bad input ends that submission, never the daemon.
 * PARAMETERS
 *      myhostname, myorigin, mydestination, recipient_delimiter,
 *      canonical_maps, sender_canonical_maps, recipient_canonical_maps,
 *      virtual_alias_maps, virtual_alias_expansion_limit (1000),
 *      virtual_alias_recursion_limit (1000), header_checks, body_checks,
 *      message_size_limit (10240000), header_size_limit (102400),
 *      hopcount_limit (50), cleanup_replace_stray_cr_lf (yes),
 *      ipc_timeout (3600s), queue_directory, directory_fsync (auto: one
 *      fsync per commit on ext4, xfs and tmpfs; qfile.h), non_smtpd_milters,
 *      milter_default_action, milter_protocol, milter_*_timeout,
 *      milter_*_macros.
 * LOG
 *      "ID: message-id=<...>" per message; "ID: reject|discard|hold|
 *      warning|redirect|replace|prepend: header ... from host[addr];
 *      from=<s> to=<r> proto=P helo=<h>: text" for checks actions;
 *      "ID: milter-reject|milter-discard|milter-hold: END-OF-MESSAGE from
 *      host[addr]: text; from=<s> to=<r> proto=P helo=<h>" for filters.
 */
#include "cleanup.h"
#include "mem.h"
#include "server.h"

/* cleanup_pre_init - read main.cf and open the tables while we still can */
static void cleanup_pre_init(const SERVER_CTX *ctx)
{
    (void) ctx;
    cleanup_conf_init();
    /* The skeleton made queue_directory our working folder (or chroot). */
    xfree(cleanup_conf.queue_dir);
    cleanup_conf.queue_dir = xstrdup(".");
    cleanup_conf.master_child = 1;
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.pre_init = cleanup_pre_init, .confine = "cleanup"};

    multi_server_main(argc, argv, cleanup_service, &hooks);
}
