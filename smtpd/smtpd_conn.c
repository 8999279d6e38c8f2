/* smtpd_conn - the per-client limits that need a count across processes:
 * simultaneous connections and connection, message, recipient and new
 * TLS session rates, kept by the anvil service (anvil/anvil.c, Postfix's
 * anvil(8) protocol).
 *
 * Clients matched by smtpd_client_event_limit_exceptions (default
 * $mynetworks, as Postfix) are never counted. Nothing is asked while
 * every limit is 0. When anvil cannot be reached smtpd goes on without
 * limits and logs a warning (lib/global/anvil_clnt.c), as Postfix does:
 * the limits protect the service and are no reason to refuse mail.
 *
 * This replaces the earlier slot file in data_directory (fcntl locks): a
 * killed smtpd still frees its connection at once, because anvil drops
 * the connections of a client whose socket closes, and the rates need a
 * memory across processes and time that a lock file cannot give.
 *
 * Replies and log lines are Postfix's:
 *   421 4.7.0 $myhostname Error: too many connections from ADDR
 *   warning: Connection concurrency limit exceeded: N from NAME[ADDR] for service SVC
 *   warning: Connection rate limit exceeded: N from NAME[ADDR] for service SVC
 *   450 4.7.1 Error: too much mail from ADDR
 *   warning: Message delivery request rate limit exceeded: N from ... for service SVC
 *   450 4.7.1 Error: too many recipients from ADDR
 *   warning: Recipient address rate limit exceeded: N from ... for service SVC
 *   421 4.7.0 $myhostname Error: too many new TLS sessions from ADDR
 *   warning: New TLS session rate limit exceeded: N from ... for service SVC
 */
#include <stdio.h>
#include <string.h>

#include "anvil_clnt.h"
#include "config.h"
#include "mail_proto.h"
#include "match_list.h"
#include "msg.h"
#include "smtpd.h"

static ANVIL_CLNT *smtpd_anvil;            /* NULL: no limit is on */
static MATCH_LIST *smtpd_limit_exceptions;

/* smtpd_conn_init - the exception list and the anvil handle (pre_init) */
void    smtpd_conn_init(void)
{
    BUF    *why = buf_alloc(100);

    if (smtpd_params.conn_limit <= 0 && smtpd_params.conn_rate_limit <= 0
        && smtpd_params.msg_rate_limit <= 0 && smtpd_params.rcpt_rate_limit <= 0
        && smtpd_params.ntls_rate_limit <= 0) {
        buf_free(why);
        return;
    }
    smtpd_limit_exceptions = host_list_init("smtpd_client_event_limit_exceptions",
                                            config_str(P_smtpd_client_event_limit_exceptions),
                                            MATCH_FLAG_PARENT, why);
    if (smtpd_limit_exceptions == NULL)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    smtpd_anvil = anvil_clnt_create("private/" MAIL_SERVICE_ANVIL, ANVIL_IPC_TIMEOUT);
}

/* smtpd_conn_exempt - 1 when addr is not counted. A table that cannot be
 * read right now exempts too: we fail open, as with anvil down. */
static int smtpd_conn_exempt(const char *addr)
{
    return smtpd_anvil == NULL
        || host_list_match(smtpd_limit_exceptions, NULL, addr) != MATCH_NO;
}

/* smtpd_conn_enter - a new connection: 0 admitted (registered with anvil
 * when counted; smtpd_conn_leave undoes it), -1 refused with the 421 text
 * in reply */
int     smtpd_conn_enter(const char *addr, const char *namaddr, int *registered, BUF *reply)
{
    int     count;
    int     rate;

    *registered = 0;
    if (smtpd_conn_exempt(addr)
        || (smtpd_params.conn_limit <= 0 && smtpd_params.conn_rate_limit <= 0))
        return 0;
    if (anvil_clnt_connect(smtpd_anvil, smtpd_params.service, addr, &count, &rate)
        != ANVIL_STAT_OK)
        return 0;
    *registered = 1;
    if (smtpd_params.conn_limit > 0 && count > smtpd_params.conn_limit) {
        msg_warn("Connection concurrency limit exceeded: %d from %s for service %s",
                 count, namaddr, smtpd_params.service);
    } else if (smtpd_params.conn_rate_limit > 0 && rate > smtpd_params.conn_rate_limit) {
        msg_warn("Connection rate limit exceeded: %d from %s for service %s",
                 rate, namaddr, smtpd_params.service);
    } else {
        return 0;
    }
    buf_sprintf(reply, "421 4.7.0 %s Error: too many connections from %s",
                smtpd_params.myhostname, addr);
    return -1;
}

/* smtpd_conn_leave - the connection registered by smtpd_conn_enter is over */
void    smtpd_conn_leave(const char *addr)
{
    (void) anvil_clnt_disconnect(smtpd_anvil, smtpd_params.service, addr);
}

/* smtpd_rate - one event against its limit: 1 over the limit (logged) */
static int smtpd_rate(SMTPD_STATE *st, long limit,
                      int (*fn)(ANVIL_CLNT *, const char *, const char *, int *),
                      const char *what)
{
    int     rate;

    if (limit <= 0 || smtpd_conn_exempt(st->addr)
        || fn(smtpd_anvil, smtpd_params.service, st->addr, &rate) != ANVIL_STAT_OK
        || rate <= limit)
        return 0;
    msg_warn("%s rate limit exceeded: %d from %s for service %s",
             what, rate, st->namaddr, smtpd_params.service);
    return 1;
}

/* smtpd_rate_mail - MAIL: 0, or -1 with the 450 reply queued */
int     smtpd_rate_mail(SMTPD_STATE *st)
{
    if (!smtpd_rate(st, smtpd_params.msg_rate_limit, anvil_clnt_message,
                    "Message delivery request"))
        return 0;
    smtpd_reply(st, "450 4.7.1 Error: too much mail from %s", st->addr);
    return -1;
}

/* smtpd_rate_rcpt - RCPT: 0, or -1 with the 450 reply queued */
int     smtpd_rate_rcpt(SMTPD_STATE *st)
{
    if (!smtpd_rate(st, smtpd_params.rcpt_rate_limit, anvil_clnt_recipient,
                    "Recipient address"))
        return 0;
    smtpd_reply(st, "450 4.7.1 Error: too many recipients from %s", st->addr);
    return -1;
}

/* smtpd_rate_auth - AUTH: 0, or -1 with Postfix's 450 queued */
int     smtpd_rate_auth(SMTPD_STATE *st)
{
    if (!smtpd_rate(st, smtpd_params.auth_rate_limit, anvil_clnt_auth, "AUTH command"))
        return 0;
    smtpd_reply(st, "450 4.7.1 Error: too many AUTH commands from %s", st->addr);
    return -1;
}

/* smtpd_rate_newtls - STARTTLS: 0, or -1 with the 421 queued and the
 * session ended. Counted before the handshake, so a resumed session
 * (shared tickets, smtpd_tls.c) counts too: stricter than Postfix, which
 * counts only new sessions. */
int     smtpd_rate_newtls(SMTPD_STATE *st)
{
    if (!smtpd_rate(st, smtpd_params.ntls_rate_limit, anvil_clnt_newtls, "New TLS session"))
        return 0;
    smtpd_reply(st, "421 4.7.0 %s Error: too many new TLS sessions from %s",
                smtpd_params.myhostname, st->addr);
    st->quit = 1;
    return -1;
}
