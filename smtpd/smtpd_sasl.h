/* smtpd_sasl.h - SMTP AUTH codec (smtpd_sasl_codec.c): base64 with
 * bounds, the PLAIN message, Dovecot auth protocol 1.1 line fields. */
#ifndef SUREL_SMTPD_SASL_H
#define SUREL_SMTPD_SASL_H

#include <stddef.h>

#include "buf.h"

/* The longest decoded AUTH answer we take (Postfix: 12288 line bytes). */
#define SMTPD_SASL_MAX_DECODED  8192

void    smtpd_sasl_b64_encode(const void *data, size_t len, BUF *out);
int     smtpd_sasl_b64_decode(const char *in, size_t len, size_t limit, BUF *out);
int     smtpd_sasl_plain(const char *msg, size_t len, BUF *authzid, BUF *authcid,
                         BUF *passwd);
void    smtpd_sasl_wipe(BUF *buf);
void    smtpd_sasl_dv_escape(BUF *out, const char *text, size_t len);
int     smtpd_sasl_dv_split(char *line, char **fields, int max);

#endif
