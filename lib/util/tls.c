/* tls - OpenSSL glue for SMTP sessions; see tls.h.
 *
 * Non-blocking socket plus poll(): OpenSSL reports SSL_ERROR_WANT_READ or
 * WANT_WRITE whenever it needs the peer, and we wait for that with the
 * deadline, then repeat the same call (OpenSSL requires the same
 * arguments, hence ACCEPT_MOVING_WRITE_BUFFER for our stream's buffer).
 * With a blocking socket a peer that sends half a TLS record would hold
 * us in read() past every deadline.
 *
 * Protocol versions and ciphers are OpenSSL's defaults (Debian's
 * openssl.cnf: TLS 1.2 and newer, security level 2), as Postfix leaves
 * them unless told otherwise. No session cache or tickets: each SMTP
 * session is a new full handshake, which keeps key material out of
 * shared state between processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "msg.h"
#include "tls.h"

struct TLS_CTX {
    SSL_CTX *ssl_ctx;
};

struct TLS_SESS {
    SSL    *ssl;
};

/* tls_error_text - the first queued OpenSSL error (then clear the queue) */
static void tls_error_text(BUF *why, const char *what)
{
    unsigned long err = ERR_get_error();
    char    text[256];

    if (err != 0) {
        ERR_error_string_n(err, text, sizeof(text));
        buf_sprintf(why, "%s: %s", what, text);
    } else {
        buf_sprintf(why, "%s: %s", what, errno ? strerror(errno) : "unknown error");
    }
    ERR_clear_error();
}

/* tls_server_ctx - a server context with our certificate and key */
TLS_CTX *tls_server_ctx(const char *cert_file, const char *key_file, BUF *why)
{
    SSL_CTX *ssl_ctx;
    TLS_CTX *ctx;

    if (cert_file == NULL || *cert_file == 0) {
        buf_sprintf(why, "no server certificate (smtpd_tls_cert_file is empty)");
        return NULL;
    }
    if (key_file == NULL || *key_file == 0)
        key_file = cert_file;
    ERR_clear_error();
    if ((ssl_ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
        tls_error_text(why, "SSL_CTX_new");
        return NULL;
    }
    /* A peer closing without close_notify is EOF, not an error: SMTP ends
     * its own data explicitly, so truncation cannot hide in it. */
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                        | SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert_file) != 1) {
        tls_error_text(why, cert_file);
    } else if (SSL_CTX_use_PrivateKey_file(ssl_ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_error_text(why, key_file);
    } else if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        tls_error_text(why, "the key does not match the certificate");
    } else {
        ctx = xmalloc(sizeof(*ctx));
        ctx->ssl_ctx = ssl_ctx;
        return ctx;
    }
    SSL_CTX_free(ssl_ctx);
    return NULL;
}

void    tls_ctx_free(TLS_CTX *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    xfree(ctx);
}

/* tls_wait - wait for what OpenSSL asked for; 0 ready, -1 with errno
 * (ETIMEDOUT when the deadline passed) */
static int tls_wait(int fd, int ssl_error, int timeout)
{
    struct pollfd pfd;
    int     r;

    pfd.fd = fd;
    pfd.events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
    pfd.revents = 0;
    while ((r = poll(&pfd, 1, timeout > 0 ? timeout * 1000 : -1)) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (r == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    return 0;
}

/* tls_io_failed - map a final SSL error to errno for the stream */
static ssize_t tls_io_failed(int ssl_error, const char *what)
{
    unsigned long err = ERR_peek_error();
    char    text[256];

    if (ssl_error == SSL_ERROR_SSL && err != 0) {
        ERR_error_string_n(err, text, sizeof(text));
        msg_info("TLS %s: %s", what, text);
    }
    ERR_clear_error();
    if (ssl_error != SSL_ERROR_SYSCALL || errno == 0)
        errno = EPROTO;
    return -1;
}

/* tls_stream_io - SSL_read or SSL_write, waiting (within the timeout)
 * whenever OpenSSL needs the peer; repeated with the same arguments, as
 * OpenSSL requires */
static ssize_t tls_stream_io(TLS_SESS *sess, int fd, void *buf, size_t len, int timeout,
                             int writing)
{
    int     want = len > (size_t) 1 << 30 ? 1 << 30 : (int) len;
    int     n;
    int     e;

    for (;;) {
        ERR_clear_error();
        n = writing ? SSL_write(sess->ssl, buf, want) : SSL_read(sess->ssl, buf, want);
        if (n > 0)
            return n;
        e = SSL_get_error(sess->ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN && !writing)
            return 0;                       /* close_notify */
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (tls_wait(fd, e, timeout) < 0)
                return -1;
            continue;
        }
        return tls_io_failed(e, writing ? "write" : "read");
    }
}

/* tls_stream_read - STREAM_READ_FN */
static ssize_t tls_stream_read(void *vctx, int fd, void *buf, size_t len, int timeout)
{
    return tls_stream_io(vctx, fd, buf, len, timeout, 0);
}

/* tls_stream_write - STREAM_WRITE_FN (SSL_write does not change buf) */
static ssize_t tls_stream_write(void *vctx, int fd, const void *buf, size_t len, int timeout)
{
    return tls_stream_io(vctx, fd, (void *) buf, len, timeout, 1);
}

/* tls_nonblocking - the descriptor in non-blocking mode */
static int tls_nonblocking(int fd)
{
    int     flags = fcntl(fd, F_GETFL);

    return flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ? -1 : 0;
}

/* tls_server_start - handshake; the stream reads and writes TLS after */
TLS_SESS *tls_server_start(TLS_CTX *ctx, STREAM *s, int timeout, BUF *why)
{
    int     fd = stream_fd(s);
    time_t  deadline = time(NULL) + (timeout > 0 ? timeout : 0);
    TLS_SESS *sess;
    SSL    *ssl;
    int     left;
    int     r;
    int     e;

    ERR_clear_error();
    if (tls_nonblocking(fd) < 0) {
        buf_sprintf(why, "fcntl O_NONBLOCK: %s", strerror(errno));
        return NULL;
    }
    if ((ssl = SSL_new(ctx->ssl_ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        tls_error_text(why, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    /* The whole handshake, not each step, is bounded by the timeout. */
    while ((r = SSL_accept(ssl)) != 1) {
        e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                buf_sprintf(why, "handshake: %s", errno ? strerror(errno)
                            : "lost connection");
            else
                tls_error_text(why, "handshake");
            SSL_free(ssl);
            return NULL;
        }
        left = timeout > 0 ? (int) (deadline - time(NULL)) : 0;
        if (timeout > 0 && left <= 0)
            errno = ETIMEDOUT;
        if ((timeout > 0 && left <= 0) || tls_wait(fd, e, left) < 0) {
            buf_sprintf(why, "handshake: %s", errno == ETIMEDOUT ? "timeout" : strerror(errno));
            SSL_free(ssl);
            return NULL;
        }
    }
    sess = xmalloc(sizeof(*sess));
    sess->ssl = ssl;
    stream_set_io(s, tls_stream_read, tls_stream_write, sess);
    return sess;
}

/* tls_session_info - what the handshake agreed */
void    tls_session_info(const TLS_SESS *sess, TLS_INFO *info)
{
    const SSL_CIPHER *cipher = SSL_get_current_cipher(sess->ssl);
    int     alg_bits = 0;

    memset(info, 0, sizeof(*info));
    snprintf(info->protocol, sizeof(info->protocol), "%s", SSL_get_version(sess->ssl));
    snprintf(info->cipher, sizeof(info->cipher), "%s",
             cipher ? SSL_CIPHER_get_name(cipher) : "unknown");
    info->cipher_bits = cipher ? SSL_CIPHER_get_bits(cipher, &alg_bits) : 0;
    info->cipher_alg_bits = alg_bits;
}

/* tls_session_stop - close_notify without waiting for the peer's */
void    tls_session_stop(TLS_SESS *sess, STREAM *s)
{
    if (sess == NULL)
        return;
    ERR_clear_error();
    (void) stream_flush(s);
    if (!stream_error(s))
        (void) SSL_shutdown(sess->ssl);     /* one try: non-blocking, may not all go */
    ERR_clear_error();
    stream_set_io(s, NULL, NULL, NULL);
    SSL_free(sess->ssl);
    xfree(sess);
}
