/*
 * NAME
 *      smtp, lmtp - the SMTP and LMTP delivery agent
 * SYNOPSIS
 *      smtp (started by master; master.cf: smtp unix - - n - - smtp,
 *            relay unix - - n - - smtp, lmtp unix - - n - - lmtp)
 * DESCRIPTION
 *      Postfix's smtp(8)/lmtp(8): serves the delivery protocol of
 *      lib/global/mail_proto.h on private/<service>. qmgr hands it a queue
 *      file, a next hop and recipients; it delivers them to the next hop's
 *      servers over SMTP, or LMTP when the program is called `lmtp` (a
 *      link to smtp, as in Postfix) or the master.cf service is named
 *      `lmtp`, and answers one result per recipient: delivered (2xx),
 *      deferred (4xx, a dead or refusing server) or bounced (5xx), each
 *      logged as
 *          ID: to=<u@example>, relay=host[addr]:port, delay=0.2,
 *          delays=0.01/0/0/0.19, dsn=2.0.0, status=sent (250 2.0.0 Ok)
 *      Next hops: [host]:port and [address] literals, host:port, a list
 *      (relayhost), unix:/path and inet:host:port (transport_maps), then
 *      smtp_fallback_relay. The client speaks ESMTP (EHLO, HELO when EHLO
 *      is refused), PIPELINING, SIZE, 8BITMIME (BODY= passed on; 8-bit MIME
 *      down-converted to quoted-printable for a server without it,
 *      smtp_mime.c),
 *      SMTPUTF8 and DSN (NOTIFY, ORCPT, RET, ENVID), and sends the content
 *      with every line ending in CR LF and dots stuffed (design.md §10.6).
 *      A domain's MX hosts come from DNS (libunbound, dns_servers): in
 *      preference order, null MX 5.1.10, NXDOMAIN 5.1.2, a loop 5.4.6,
 *      a failed lookup waits 4.4.3. Sessions are reused through scache
 *      (smtp_cache.c). STARTTLS by the TLS policy (smtp_tls.c).
 *      doc/smtp.md has the details and what is not done yet.
 * SECURITY
 *      Runs as $mail_owner; the network peer is not trusted: every reply
 *      line is read within line_length_limit, every reply within
 *      SMTP_REPLY_LINES_MAX lines, every wait within its timeout, and
 *      reply text is made printable before it reaches logs or DSNs. The
 *      queue file is only read.
 * PARAMETERS
 *      dns_servers (/etc/resolv.conf), inet_protocols (all), ipc_timeout, line_length_limit (2048),
 *      myhostname, queue_directory, relayhost, smtp_bind_address,
 *      smtp_bind_address6, smtp_connect_timeout (30s),
 *      smtp_connection_cache_destinations, smtp_connection_cache_on_demand (yes),
 *      smtp_connection_cache_time_limit (2s), smtp_connection_reuse_count_limit (0),
 *      smtp_connection_reuse_time_limit (300s), smtp_rset_timeout (20s),
 *      smtp_data_done_timeout (600s), smtp_data_init_timeout (120s),
 *      smtp_data_xfer_timeout (180s), smtp_fallback_relay,
 *      smtp_helo_name ($myhostname), smtp_helo_timeout (300s),
 *      smtp_line_length_limit (998), smtp_mail_timeout (300s),
 *      smtp_mx_address_limit (5), smtp_mx_session_limit (2), smtp_tcp_port (25),
 *      smtp_quit_timeout (300s), smtp_rcpt_timeout (300s),
 *      smtp_skip_5xx_greeting (yes), smtp_starttls_timeout (300s),
 *      smtp_tls_security_level, smtp_use_tls (no), smtp_enforce_tls (no),
 *      smtp_tls_policy_maps, smtp_tls_CAfile, smtp_tls_CApath,
 *      smtp_tls_servername, smtp_tls_protocols, smtp_tls_mandatory_protocols,
 *      smtp_tls_ciphers, smtp_tls_mandatory_ciphers, smtp_tls_exclude_ciphers,
 *      smtp_tls_mandatory_exclude_ciphers, smtp_tls_verify_cert_match,
 *      smtp_tls_secure_cert_match, smtp_tls_loglevel (0), soft_bounce (no),
 *      lmtp_tls_* and lmtp_starttls_timeout (LMTP's copies of smtp_tls_*),
 *      disable_mime_output_conversion (no), mime_nesting_limit (100),
 *      mime_boundary_length_limit (2048), header_size_limit.
 */
#include <string.h>

#include "server.h"
#include "smtp.h"

int     main(int argc, char **argv)
{
    const char *name = argc > 0 ? strrchr(argv[0], '/') : NULL;

    name = name ? name + 1 : argc > 0 ? argv[0] : "smtp";
    smtp_set_lmtp(strcmp(name, "lmtp") == 0);
    static const SERVER_HOOKS hooks = {.confine = "smtp"};

    single_server_main(argc, argv, smtp_service, &hooks);
}
