/* address - mail addresses and RFC 5321 paths.
 *
 * Two forms, as in Postfix: the *internal* form is what queue files, IPC
 * and tables carry (local part unquoted: `john smith@example.org`); the
 * *external* form is what SMTP and headers carry (quoted where RFC 5321
 * needs it: `"john smith"@example.org`). Parsing takes external text and
 * yields the internal form; address_externalize goes back.
 *
 * address_parse_path reads `<path> [ESMTP parameters]` as given to MAIL
 * FROM / RCPT TO: angle brackets (required with ADDR_STRICT, else optional
 * as Postfix allows), source routes (`<@a,@b:user@d>`) stripped, quoted
 * local parts, `<>` (null sender), UTF-8 only with ADDR_UTF8. It never
 * interprets `%`, `!` or a quoted `@` as routing: that is smtpd_check's job.
 */
#ifndef SUREL_ADDRESS_H
#define SUREL_ADDRESS_H

#include "buf.h"

#define ADDR_STRICT     (1 << 0)    /* require <...> (strict_rfc821_envelopes) */
#define ADDR_UTF8       (1 << 1)    /* allow UTF-8 (SMTPUTF8 given) */
#define ADDR_MAX        1000        /* longest address accepted (bytes) */

/* 0, or -1 with why (text for a 501 5.1.x reply), or ADDR_ERR_8BIT when
 * the only fault is 8-bit text without ADDR_UTF8 (why is then Postfix's
 * "Must declare SMTPUTF8 to send unicode address", for a 553 5.6.7 reply).
 * *rest points after the path, at the ESMTP parameters (leading spaces
 * skipped). *is_null for <>. */
#define ADDR_ERR_SYNTAX (-1)
#define ADDR_ERR_8BIT   (-2)
int     address_parse_path(const char *text, int flags, BUF *addr, int *is_null,
                           const char **rest, BUF *why);
void    address_split(const char *addr, BUF *local, BUF *domain);  /* at the last '@' */

/* address_qualify - the address rewritten as Postfix's trivial-rewrite
 * does in its "local" context (the one rule for cleanup, qmgr's resolve,
 * local and bounce): with append_at_myorigin (default yes) "user" and
 * "user@" become user@$myorigin; with append_dot_mydomain (default no)
 * user@host becomes user@host.$mydomain (never an address literal or a
 * domain with a dot). "" (the null sender) stays as it is, as does an
 * unqualified address when $myorigin is empty. Needs the configuration. */
void    address_qualify(const char *addr, BUF *out);
/* address_qualify_remote - the "remote" context (header addresses of SMTP
 * clients not in local_header_rewrite_clients): "user" becomes
 * user@$remote_header_rewrite_domain; nothing changes when that is empty
 * (Postfix's default). */
void    address_qualify_remote(const char *addr, BUF *out);

/* address_strip_dot - one trailing dot off a domain ("example.com." but
 * not ".."): smtpd's restrictions and lib/global/local_rcpt.c */
void    address_strip_dot(BUF *name);
void    address_externalize(const char *internal, BUF *external);
int     address_has_8bit(const char *addr);
int     address_valid_domain(const char *domain, int flags);       /* hostname or [literal] */

/* address_literal - is text (len bytes, brackets included) an address
 * literal, "[192.0.2.1]" or "[IPv6:2001:db8::1]" (RFC 5321 4.1.3; the
 * "IPv6:" tag in any case)? AF_INET or AF_INET6, with the address text
 * (no tag) in inner when inner is not NULL and it fits size; 0 if not.
 * The one rule smtpd's syntax check and "is this domain ours"
 * (resolve_local) use. */
int     address_literal(const char *text, size_t len, char *inner, size_t size);

#endif
