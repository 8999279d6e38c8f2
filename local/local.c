/*
 * NAME
 *      local, virtual - the local and the virtual delivery agent
 * SYNOPSIS
 *      local (started by master; master.cf: local unix - n n - - local)
 *      virtual (the same program, a symbolic link; master.cf:
 *      virtual unix - n n - - virtual): Postfix's virtual(8), mailboxes of
 *      $virtual_mailbox_domains below $virtual_mailbox_base with the ids of
 *      virtual_uid_maps and virtual_gid_maps (local_virtual.c; parameters
 *      virtual_mailbox_maps, virtual_minimum_uid (100),
 *      virtual_mailbox_limit (51200000))
 * DESCRIPTION
 *      Serves the delivery protocol of lib/global/mail_proto.h on private/local:
 *      qmgr hands it a queue file and recipients in $mydestination; local
 *      answers one result per recipient (delivered, deferred, bounced) and
 *      logs each delivery as
 *          ID: to=<u@d>, orig_to=<a@d>, relay=local, delay=0.2,
 *          delays=0.01/0/0/0.19, dsn=2.0.0, status=sent (delivered to maildir)
 *
 *      For each recipient user+ext@domain: a Delivered-To: header naming it
 *      already bounces (mail forwarding loop); then alias_maps ("user+ext",
 *      then "user"): addresses, |command, /file, :include:/file and
 *      \user destinations, owner-<alias> as the envelope sender of the
 *      expansion; then the user's first .forward along forward_path; then
 *      the user's mailbox: mailbox_transport (handed to that agent, e.g.
 *      lmtp:unix:private/dovecot-lmtp, which logs it), mailbox_command, or
 *      $home/$home_mailbox (a name
 *      ending in / is a Maildir), or $mail_spool_directory/<user> (mbox).
 *      Unknown users go to luser_relay when it is set, else bounce (5.1.1).
 *      The luser_relay expansion is an address only, never a command, file
 *      or include. Whether a domain is ours is resolve_local()'s answer
 *      (as in smtpd, cleanup and qmgr); other addresses produced by an
 *      expansion are forwarded: a new message through cleanup, unless a
 *      Delivered-To: header names them already (a loop).
 *
 *      On a sandbox instance ($sandbox_users set) the users are the names
 *      in that file, each with the mailbox $sandbox_mail_directory/<user>/
 *      Maildir/, and all of them belong to the instance user.
 *
 *      Every added header is "Return-Path: <sender>" and "Delivered-To:
 *      <recipient>" (addresses quoted as RFC 5321 wants); mbox and /file deliveries get a "From sender date"
 *      line, ">From " quoting and an empty line at the end; commands get
 *      the From line too. Maildir files hold the message byte for byte as
 *      queued, lines ending in LF.
 * SECURITY
 *      Runs as root (unpriv n) so that each delivery can be done with the
 *      rights of its recipient: mailbox, Maildir and .forward accesses with
 *      the effective uid/gid of the user; commands in a child that gives up
 *      root for good. Files and commands named in a root-owned alias table
 *      run as $default_privs, never as root. No mailbox or folder is
 *      reached through a symbolic link at its last step or written through
 *      a hard link; a mailbox must be owned by its user. Envelope data
 *      reaches commands only through the environment (censored by
 *      command_expansion_filter) and standard input, never the command
 *      text; forward_path values are censored by forward_expansion_filter. The queue file is only read.
 *      Without root (a sandbox run by a user) everything is done as that
 *      user.
 * PARAMETERS
 *      alias_maps (lmdb:/etc/aliases), allow_mail_to_commands (alias,
 *      forward), allow_mail_to_files (alias, forward), command_time_limit
 *      (1000s), command_expansion_filter, default_privs (nobody),
 *      directory_fsync (auto: fsync new/ only where the file's fsync does
 *      not make its name durable),
 *      forward_expansion_filter, forward_path ($home/.forward
 *      ${recipient_delimiter}${extension}, $home/.forward), hash_queue_names,
 *      hash_queue_depth, home_mailbox (empty: mbox), ipc_timeout,
 *      luser_relay (empty), mail_owner, mail_spool_directory (/var/mail),
 *      mailbox_command (empty), mailbox_size_limit (51200000), mailbox_transport (empty), mydestination,
 *      myhostname, myorigin, owner_request_special (yes), queue_directory,
 *      recipient_delimiter (empty),
 *      sandbox_users, sandbox_mail_directory, soft_bounce (no).
 */
#include <string.h>

#include "local.h"
#include "server.h"

/* local_post_init - after the skeleton's checklist (local keeps root) */
static void local_post_init(const SERVER_CTX *ctx)
{
    (void) ctx;
    local_init();
    if (local_virtual_mode)
        local_virtual_init();
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.post_init = local_post_init, .confine = "local"};
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];

    /* Called `virtual` (a symbolic link): Postfix's virtual(8), local_virtual.c. */
    local_virtual_mode = strcmp(name, "virtual") == 0;

    single_server_main(argc, argv, local_service, &hooks);
}
