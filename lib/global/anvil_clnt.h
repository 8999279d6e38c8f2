/* anvil_clnt - the client side of the anvil protocol (mail_proto.h).
 *
 * A process keeps one connection to private/anvil and reuses it for every
 * request; a request that fails (anvil not running, restarted, slow)
 * closes it, and the next request connects again. Every call returns
 * ANVIL_STAT_OK with the numbers filled in, or ANVIL_STAT_FAIL: callers
 * then go on without the limit (as Postfix's smtpd does), since the
 * limits protect the service and must never be a reason to refuse mail.
 * The first failure after a success is logged as a warning.
 */
#ifndef SUREL_ANVIL_CLNT_H
#define SUREL_ANVIL_CLNT_H

typedef struct ANVIL_CLNT ANVIL_CLNT;

/* Seconds a request or reply may take, each way. anvil answers from
 * memory at once; a longer wait means it is stuck, and an SMTP session
 * must not wait ipc_timeout (an hour) for a safeguard. */
#define ANVIL_IPC_TIMEOUT   10

/* path: the socket, relative to the working folder (queue_directory). */
ANVIL_CLNT *anvil_clnt_create(const char *path, int timeout);
void    anvil_clnt_free(ANVIL_CLNT *a);

int     anvil_clnt_connect(ANVIL_CLNT *a, const char *service, const char *addr,
                           int *count, int *rate);
int     anvil_clnt_disconnect(ANVIL_CLNT *a, const char *service, const char *addr);
int     anvil_clnt_message(ANVIL_CLNT *a, const char *service, const char *addr, int *rate);
int     anvil_clnt_recipient(ANVIL_CLNT *a, const char *service, const char *addr, int *rate);
int     anvil_clnt_newtls(ANVIL_CLNT *a, const char *service, const char *addr, int *rate);
int     anvil_clnt_auth(ANVIL_CLNT *a, const char *service, const char *addr, int *rate);

#endif
