/* dsn - the DSN keywords (RFC 3461) and BODY (RFC 6152), one parser for
 * every program that takes them.
 *
 * smtpd (MAIL/RCPT parameters), sendmail (-N, -R, -V, -B and the -bs
 * dialogue) and the maildrop checks of postdrop and pickup all parse and
 * check NOTIFY, RET, ENVID, ORCPT, BODY and xtext here, so a value one of
 * them takes is a value the others take too.
 *
 * Two forms of each value:
 *   - the wire form, as a client or a command line gives it
 *     (case-insensitive keywords, xtext for ENVID and ORCPT addresses):
 *     the *_parse functions;
 *   - the stored form, what goes into a queue or maildrop file
 *     ("FULL"/"HDRS", "7bit"/"8bitmime", NOTIFY bits in decimal, ENVID and
 *     ORCPT decoded, ORCPT as "type;address"): the *_str functions make
 *     it, the *_stored / *_ok functions check it (strictly: the queue only
 *     ever holds what we wrote).
 * Bounds (Postfix's): a decoded ENVID has at most DSN_ENVID_MAX
 * characters, an ORCPT value at most DSN_ORCPT_MAX.
 */
#ifndef SUREL_DSN_H
#define SUREL_DSN_H

#include <stddef.h>

#include "buf.h"
#include "mail_proto.h"             /* DSN_NOTIFY_* (the IPC values) */

#define DSN_ENVID_MAX   100         /* RFC 3461 4.4: characters, decoded */
#define DSN_ORCPT_MAX   500         /* RFC 3461 4.2: the whole value */

/* RET= values; 0: not given. */
#define DSN_RET_FULL    1
#define DSN_RET_HDRS    2

/* BODY= values; 0: not given. */
#define DSN_BODY_7BIT       1
#define DSN_BODY_8BITMIME   2

/* xtext (RFC 3461 4): "+XX" upper-case hex escapes; other bytes printable
 * ASCII except '+' and '='. decode: 0, or -1 when text is not xtext.
 * encode: always works (every byte outside 33..126, '+' and '=' escaped). */
int     dsn_xtext_decode(const char *text, size_t len, BUF *out);
void    dsn_xtext_encode(const char *text, size_t len, BUF *out);

/* NOTIFY: NEVER alone, or SUCCESS, FAILURE, DELAY in any combination,
 * separated by commas (blanks around a comma allowed, for -N); no empty
 * item. Returns the DSN_NOTIFY_* bits, 0 when malformed. */
int     dsn_notify_parse(const char *text, size_t len);
int     dsn_notify_valid(int bits);                 /* 1: a possible mask */
int     dsn_notify_stored(const char *text, size_t len);   /* decimal: bits, 0 bad */
/* dsn_notify_str - the wire form of a mask ("SUCCESS,FAILURE", "NEVER")
 * into out, for an SMTP client's RCPT NOTIFY=; empty for 0. */
void    dsn_notify_str(int bits, BUF *out);

/* RET: FULL or HDRS (any case). DSN_RET_*, 0 when malformed. */
int     dsn_ret_parse(const char *text, size_t len);
const char *dsn_ret_str(int ret);                   /* "FULL", "HDRS" */
int     dsn_ret_stored(const char *text, size_t len);      /* exact stored form */

/* BODY: 7BIT or 8BITMIME (any case). DSN_BODY_*, 0 when malformed. */
int     dsn_body_parse(const char *text, size_t len);
const char *dsn_body_str(int body);                 /* "7bit", "8bitmime" */
int     dsn_body_stored(const char *text, size_t len);

/* ENVID: parse decodes xtext into out (0), or -1 with out empty; ok
 * checks a decoded ENVID (1..DSN_ENVID_MAX printable ASCII characters,
 * space included; what sendmail -V gives and what the queue keeps). */
int     dsn_envid_parse(const char *xtext, size_t len, BUF *out);
int     dsn_envid_ok(const char *text, size_t len);

/* ORCPT: "addr-type;value", at most DSN_ORCPT_MAX bytes; addr-type is an
 * atom (letters, digits, '-'); an rfc822 value is xtext, a utf-8 one
 * (RFC 6533) is kept as sent. parse stores "type;address" decoded in out
 * (0), or -1 with out unchanged; ok checks that stored form. */
int     dsn_orcpt_parse(const char *text, size_t len, BUF *out);
int     dsn_orcpt_ok(const char *text, size_t len);

/* dsn_code_prefix - the length of an RFC 3463 status code ("5.1.1",
 * class 2, 4 or 5, then 1..3 digits twice) at the start of text, ended by
 * a space or the end of text; 0 when there is none (Postfix's dsn_split:
 * error:, retry: and discard: next hops may start with one). */
size_t  dsn_code_prefix(const char *text);

#endif
