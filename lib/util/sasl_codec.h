/* sasl_codec.h - the byte-level parts of SASL (sasl_codec.c): base64 with
 * bounds, the PLAIN message, Dovecot auth protocol 1.1 line fields, and
 * wiping credentials. smtpd (the client side) and authd (the server side
 * of the same protocol) both use them. */
#ifndef SUREL_SASL_CODEC_H
#define SUREL_SASL_CODEC_H

#include <stddef.h>

#include "buf.h"

/* The longest decoded AUTH answer we take (Postfix: 12288 line bytes). */
#define SASL_MAX_DECODED  8192

void    sasl_b64_encode(const void *data, size_t len, BUF *out);
int     sasl_b64_decode(const char *in, size_t len, size_t limit, BUF *out);
int     sasl_plain_split(const char *msg, size_t len, BUF *authzid, BUF *authcid,
                         BUF *passwd);
void    sasl_wipe(BUF *buf);
void    sasl_dv_escape(BUF *out, const char *text, size_t len);
int     sasl_dv_split(char *line, char **fields, int max);

#endif
