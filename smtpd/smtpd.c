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
 *      Log lines: connect from, ID: client=, NOQUEUE: reject: ...,
 *      disconnect from host[addr] ehlo=1 ... commands=N.
 * SECURITY
 *      Everything from the client is untrusted: every line and count is
 *      bounded (line_length_limit, smtpd_recipient_limit,
 *      message_size_limit), every read has smtpd_timeout. Runs as
 *      mail_owner (optionally chrooted to queue_directory); before that,
 *      pre_init opens the access tables, the connection count file in
 *      data_directory and the TLS certificate and key.
 * PARAMETERS
 *      myhostname, smtpd_banner ($myhostname ESMTP $mail_name), mail_name,
 *      message_size_limit (10240000), line_length_limit (2048),
 *      smtpd_recipient_limit (1000), smtpd_timeout (300s), ipc_timeout,
 *      smtpd_hard_error_limit (20), smtpd_client_connection_count_limit
 *      (50), smtpd_forbid_bare_newline (normalize),
 *      smtpd_forbid_bare_newline_reject_code (550), disable_vrfy_command
 *      (no), smtpd_helo_required (no), strict_rfc821_envelopes (no),
 *      smtputf8_enable (yes), smtpd_tls_security_level (none),
 *      smtpd_tls_cert_file, smtpd_tls_key_file ($smtpd_tls_cert_file),
 *      data_directory, and those smtpd_check reads.
 */
#include <stdio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "buf.h"
#include "config.h"
#include "msg.h"
#include "server.h"
#include "smtpd.h"

static int smtpd_conn_fd = -1;      /* connection count file, -1: none */

/* smtpd_peer - the client's address as text ("127.0.0.1", "::1") */
static void smtpd_peer(STREAM *client, char *addr, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);

    snprintf(addr, len, "unknown");
    if (getpeername(stream_fd(client), (struct sockaddr *) &ss, &sslen) < 0)
        return;
    if (ss.ss_family == AF_INET) {
        (void) inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, addr, (socklen_t) len);
    } else if (ss.ss_family == AF_INET6) {
        struct in6_addr *a6 = &((struct sockaddr_in6 *) &ss)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6))
            (void) inet_ntop(AF_INET, &a6->s6_addr[12], addr, (socklen_t) len);
        else
            (void) inet_ntop(AF_INET6, a6, addr, (socklen_t) len);
    } else if (ss.ss_family == AF_UNIX) {
        snprintf(addr, len, "127.0.0.1");       /* local test clients */
    }
}

/* smtpd_service - one client */
static void smtpd_service(STREAM *client, const SERVER_CTX *ctx)
{
    char    addr[64];
    long    count;

    (void) ctx;
    smtpd_peer(client, addr, sizeof(addr));
    if (smtpd_conn_enter(smtpd_conn_fd, addr, smtpd_params.conn_limit, &count) < 0) {
        msg_warn("Connection concurrency limit exceeded: %ld from unknown[%s] for service %s",
                 count, addr, smtpd_params.service);
        stream_set_timeout(client, 10);
        (void) stream_printf(client, "421 4.7.0 %s Error: too many connections from %s\r\n",
                             smtpd_params.myhostname, addr);
        (void) stream_flush(client);
        return;
    }
    smtpd_session(client, addr);
    smtpd_conn_leave(smtpd_conn_fd);
}

/* smtpd_pre_init - parameters, tables and the shared count file, before
 * the chroot and the privilege drop */
static void smtpd_pre_init(const SERVER_CTX *ctx)
{
    BUF    *path = buf_alloc(200);
    const char *cp;

    smtpd_params_init(ctx->service);
    smtpd_check_init();
    smtpd_tls_init();
    if (smtpd_params.conn_limit > 0) {
        buf_sprintf(path, "%s/smtpd-conn.", config_str(P_data_directory));
        for (cp = smtpd_params.service; *cp; cp++)
            buf_putc(path, (*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
                     || (*cp >= '0' && *cp <= '9') || *cp == '.' || *cp == '-' ? *cp : '_');
        smtpd_conn_fd = smtpd_conn_open(buf_str(path));
    }
    buf_free(path);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {smtpd_pre_init, NULL, NULL, 0};

    single_server_main(argc, argv, smtpd_service, &hooks);
}
