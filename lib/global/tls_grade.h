/* tls_grade - Postfix's cipher grades (high, medium, null) and the
 * OpenSSL cipher list each names (tls_high_cipherlist ...): the one rule
 * smtpd's *_tls_ciphers and smtp's smtp_tls_*ciphers (and the policy
 * table's ciphers=) share. */
#ifndef SUREL_TLS_GRADE_H
#define SUREL_TLS_GRADE_H

/* The OpenSSL list of a grade (any case), or NULL for an unknown grade. */
const char *tls_grade_cipherlist(const char *grade);

#endif
