/* remote_reply - the reason text of a result that a remote server decided.
 *
 * The SMTP/LMTP client writes the server's own reply into the reason it
 * gives qmgr, in Postfix's wording:
 *     host mx.example[192.0.2.1] said: 550 5.1.1 <u@example>: User unknown
 *         (in reply to RCPT TO command)
 * and bounce reads it back to write Remote-MTA: dns; mx.example and
 * Diagnostic-Code: smtp; 550 5.1.1 <u@example>: User unknown in the DSN
 * (RFC 3464). The reason is the only place the delivery and bounce
 * protocols carry it, so its shape is written here once, for both sides.
 */
#ifndef SUREL_REMOTE_REPLY_H
#define SUREL_REMOTE_REPLY_H

#include "buf.h"

/* remote_reply_format - the reason for `reply` (the server's reply, its
 * lines joined by spaces) to `what` ("RCPT TO command", "end of DATA
 * command", "initial greeting") from host[addr]; into out (replaced). */
void    remote_reply_format(BUF *out, const char *host, const char *addr, const char *reply,
                            const char *what);

/* remote_reply_parse - 1 when reason carries a server reply: mta gets the
 * host name, reply the reply text (without the "(in reply to ...)" note);
 * 0 otherwise (both left empty). */
int     remote_reply_parse(const char *reason, BUF *mta, BUF *reply);

#endif
