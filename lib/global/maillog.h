/* maillog - the maillog_file rules every program shares.
 *
 * maillog_file_allowed: Postfix's maillog_file_prefixes guard. A
 * maillog_file outside every listed prefix (default "/var, /dev/stdout")
 * is refused by the master at start and reload, by postlogd and by
 * `surel logrotate`, so one mistyped line cannot have root append log
 * lines to /etc/something. A prefix matches whole path components
 * ("/var" allows /var/log/x, not /variable/x).
 * maillog_socket: the postlog service's socket, relative to
 * queue_directory (public/$postlog_service_name).
 * maillog_client: a command's logging (surel's verbs, postdrop).
 */
#ifndef SUREL_MAILLOG_H
#define SUREL_MAILLOG_H

#include "buf.h"

int     maillog_file_allowed(const char *path, BUF *why);
void    maillog_socket(BUF *out);
int     maillog_client(int direct_ok);

#endif
