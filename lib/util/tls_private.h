/* tls_private - what tls.c shares with tls_client.c (lib/util only).
 * The server and the client keep their own contexts; the protocol and
 * cipher syntax, the waits and the record layer under a STREAM are one. */
#ifndef SUREL_TLS_PRIVATE_H
#define SUREL_TLS_PRIVATE_H

#include <openssl/ssl.h>

#include "buf.h"
#include "stream.h"
#include "tls.h"

void    tls_error_text(BUF *why, const char *what);
int     tls_set_protocols(SSL_CTX *ssl_ctx, const char *spec, BUF *why);
int     tls_set_ciphers(SSL_CTX *ssl_ctx, const char *list, const char *exclude, BUF *why);
int     tls_wait(int fd, int ssl_error, int timeout);
int     tls_nonblocking(int fd);
TLS_SESS *tls_session_attach(SSL *ssl, STREAM *s);
SSL    *tls_session_ssl(const TLS_SESS *sess);
void    tls_info_cb(const SSL *ssl, int where, int ret);    /* loglevel 2 */
SSL    *tls_ssl_on_fd(SSL_CTX *ssl_ctx, int fd, BUF *why); /* non-blocking; NULL + why */

#endif
