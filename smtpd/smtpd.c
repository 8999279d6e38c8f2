/*
 * NAME
 *      smtpd - the SMTP server
 * SYNOPSIS
 *      smtpd (started by master; see master_proto.h)
 * DESCRIPTION
 *      Serves one SMTP session at a time on the master's listener
 *      (single_server). RFC 5321 with the ESMTP extensions PIPELINING,
 *      SIZE, VRFY, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8,
 *      CHUNKING and STARTTLS (smtpd_tls.c, when smtpd_tls_security_level
 *      is may or encrypt and the certificate loads). Each message goes to the cleanup service
 *      (private/cleanup, the cleanup protocol of mail_proto.h) with a
 *      Received: header in front; the client hears "250 ... queued as ID"
 *      only after cleanup has committed the queue file.
 *      Access control is smtpd_check.h (smtpd_*_restrictions).
 *      Only <CR><LF>.<CR><LF> ends DATA (smtpd_data.c).
 *      A connection whose peer address cannot be read is dropped with a
 *      warning before the greeting (smtpd_peer.c). The client's name is
 *      its PTR name confirmed by A/AAAA, looked up before the greeting
 *      (smtpd_peername_lookup), else "unknown".
 *      Log lines: connect from, ID: client=, NOQUEUE: reject: ...,
 *      disconnect from host[addr] ehlo=1 ... commands=N.
 * SECURITY
 *      Everything from the client is untrusted: every line and count is
 *      bounded (line_length_limit, smtpd_recipient_limit,
 *      message_size_limit), every read has smtpd_timeout. Runs as
 *      mail_owner (optionally chrooted to queue_directory); before that,
 *      pre_init opens the access tables and the TLS certificate and key.
 *      Connection counts and rates per client come from the anvil
 *      service (private/anvil; smtpd_conn.c); without it, no limits.
 * PARAMETERS
 *      myhostname, smtpd_banner ($myhostname ESMTP $mail_name), mail_name,
 *      message_size_limit (10240000), line_length_limit (2048),
 *      smtpd_recipient_limit (1000), smtpd_timeout (${stress?{10}:{300}}s), ipc_timeout,
 *      smtpd_hard_error_limit (${stress?{1}:{20}}), smtpd_soft_error_limit
 *      (10), smtpd_error_sleep_time (1s), smtpd_junk_command_limit
 *      (${stress?{1}:{100}}), smtpd_per_request_deadline
 *      (${stress?{yes}:{no}}), smtpd_min_data_rate (500),
 *      smtpd_client_connection_count_limit (50),
 *      smtpd_client_connection_rate_limit, smtpd_client_message_rate_limit,
 *      smtpd_client_recipient_rate_limit,
 *      smtpd_client_new_tls_session_rate_limit (0: none),
 *      smtpd_client_event_limit_exceptions ($mynetworks), smtpd_forbid_bare_newline (normalize),
 *      smtpd_forbid_bare_newline_reject_code (550), disable_vrfy_command
 *      (no), smtpd_helo_required (no), strict_rfc821_envelopes (no),
 *      smtputf8_enable (yes), smtpd_peername_lookup (yes), dns_servers, smtpd_tls_security_level (none),
 *      smtpd_tls_cert_file, smtpd_tls_key_file ($smtpd_tls_cert_file),
 *      smtpd_tls_eccert_file, smtpd_tls_eckey_file, smtpd_tls_chain_files,
 *      smtpd_tls_wrappermode (no), smtpd_tls_protocols and
 *      smtpd_tls_mandatory_protocols (>=TLSv1.2), smtpd_tls_ciphers and
 *      smtpd_tls_mandatory_ciphers (medium), tls_high/medium/null_cipherlist,
 *      smtpd_tls_exclude_ciphers, smtpd_tls_mandatory_exclude_ciphers,
 *      smtpd_tls_loglevel (0), smtpd_tls_received_header (no),
 *      and those smtpd_check reads.
 */
#include "msg.h"
#include "server.h"
#include "smtpd.h"

/* smtpd_service - one client (smtpd_peer.c) */
static void smtpd_service(STREAM *client, const SERVER_CTX *ctx)
{
    (void) ctx;
    smtpd_serve(client);
}

/* smtpd_pre_init - parameters, tables and the TLS certificate, before
 * the chroot and the privilege drop */
static void smtpd_pre_init(const SERVER_CTX *ctx)
{
    smtpd_params_init(ctx->service);
    smtpd_check_init();
    smtpd_peer_init();
    smtpd_tls_init();
    smtpd_conn_init();
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.pre_init = smtpd_pre_init, .confine = "smtpd"};

    single_server_main(argc, argv, smtpd_service, &hooks);
}
