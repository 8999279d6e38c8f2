/* mail_date - an RFC 5322 date as Postfix writes it in headers:
 * "Wed,  2 Dec 2026 14:03:17 +0000 (UTC)" (local time, numeric zone,
 * zone name in a comment). pickup's Received: uses it; smtpd's Received:
 * and cleanup's Date: write the same shape themselves today. */
#ifndef SUREL_MAIL_DATE_H
#define SUREL_MAIL_DATE_H

#include <stddef.h>
#include <time.h>

void    mail_date(time_t when, char *out, size_t size);

#define MAIL_DATE_SIZE  64

#endif
