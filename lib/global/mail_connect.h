/* mail_connect - reach a surel service's UNIX socket, wherever master.cf put it.
 *
 * master.cf's private column puts a unix service's socket in private/NAME
 * (y, the default) or public/NAME (n). surel's own master.cf has
 * "cleanup unix -" (private/cleanup); Postfix's and Debian's have
 * "cleanup unix n" (public/cleanup), and their smtpd and pickup use the
 * public class. One rule for every client: private/NAME first, then
 * public/NAME when the private socket is missing or refuses, so that either
 * master.cf works unchanged, and no client reads master.cf (a chrooted
 * daemon cannot). public/ is writable by mail_owner and root only, so the
 * second try reaches no socket the first could not have.
 */
#ifndef SUREL_MAIL_CONNECT_H
#define SUREL_MAIL_CONNECT_H

#include "buf.h"

/* A connected SOCK_STREAM socket to queue_dir/{private,public}/service
 * (queue_dir NULL: relative to the current folder, as chrooted daemons
 * use); -1 with why naming both paths tried, errno from the last. */
int     mail_connect(const char *queue_dir, const char *service, BUF *why);

#endif
