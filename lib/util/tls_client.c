/* tls_client - client TLS; see tls_client.h. The record layer and the
 * waits are tls.c's (tls_private.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mem.h"
#include "msg.h"
#include "tls_client.h"
#include "tls_private.h"

struct TLS_CLIENT_CTX {
    SSL_CTX *ssl_ctx;
};

/* The resumption cache: key -> session, oldest evicted. */
typedef struct TLS_CLIENT_CACHED {
    char   *key;
    SSL_SESSION *session;
    long    stamp;                  /* use order */
} TLS_CLIENT_CACHED;

static TLS_CLIENT_CACHED tls_client_cache[TLS_CLIENT_CACHE_MAX];
static long tls_client_stamp;
static int tls_client_key_index = -1;   /* SSL ex_data: the cache key */

/* tls_client_cache_slot - the entry of key, or (create) a free/oldest one */
static TLS_CLIENT_CACHED *tls_client_cache_slot(const char *key, int create)
{
    TLS_CLIENT_CACHED *c, *victim = &tls_client_cache[0];
    int     i;

    for (i = 0; i < TLS_CLIENT_CACHE_MAX; i++) {
        c = &tls_client_cache[i];
        if (c->key && strcmp(c->key, key) == 0)
            return c;
        if (c->key == NULL || (victim->key && c->stamp < victim->stamp))
            victim = c;
    }
    if (!create)
        return NULL;
    if (victim->key) {
        xfree(victim->key);
        SSL_SESSION_free(victim->session);
    }
    victim->key = xstrdup(key);
    victim->session = NULL;
    return victim;
}

/* tls_client_new_session - OpenSSL has a resumable session (a ticket) */
static int tls_client_new_session(SSL *ssl, SSL_SESSION *session)
{
    const char *key = SSL_get_ex_data(ssl, tls_client_key_index);
    TLS_CLIENT_CACHED *c;

    if (key == NULL || !SSL_SESSION_is_resumable(session))
        return 0;
    c = tls_client_cache_slot(key, 1);
    if (c->session)
        SSL_SESSION_free(c->session);
    c->session = session;               /* we keep OpenSSL's reference */
    c->stamp = ++tls_client_stamp;
    return 1;
}

TLS_CLIENT_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *p, BUF *why)
{
    SSL_CTX *ssl_ctx;
    TLS_CLIENT_CTX *ctx;
    const char *file = p->CAfile && *p->CAfile ? p->CAfile : NULL;
    const char *dir = p->CApath && *p->CApath ? p->CApath : NULL;

    ERR_clear_error();
    if (tls_client_key_index < 0)
        tls_client_key_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if ((ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        tls_error_text(why, "SSL_CTX_new");
        return NULL;
    }
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                        | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_mode(ssl_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    /* The verdict is ours after the handshake (see tls_client.h). */
    SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ssl_ctx, tls_client_new_session);
    if (p->loglevel >= 2)
        SSL_CTX_set_info_callback(ssl_ctx, tls_info_cb);
    if ((file || dir) && SSL_CTX_load_verify_locations(ssl_ctx, file, dir) != 1) {
        tls_error_text(why, "cannot load the CA certificates (smtp_tls_CAfile, smtp_tls_CApath)");
        SSL_CTX_free(ssl_ctx);
        return NULL;
    }
    if (tls_set_protocols(ssl_ctx, p->protocols ? p->protocols : "", why) < 0
        || tls_set_ciphers(ssl_ctx, p->cipherlist, p->exclude, why) < 0) {
        SSL_CTX_free(ssl_ctx);
        return NULL;
    }
    ctx = xmalloc(sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    return ctx;
}

void    tls_client_ctx_free(TLS_CLIENT_CTX *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    xfree(ctx);
}

/* tls_client_verdict - the peer's trust and whether a name matched */
static void tls_client_verdict(SSL *ssl, const TLS_CLIENT_START *st, TLS_CLIENT_RESULT *res)
{
    X509   *cert = SSL_get0_peer_certificate(ssl);
    long    vr;
    int     i;

    res->trust = TLS_PEER_ANONYMOUS;
    if (cert == NULL)
        return;
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, res->subject_cn,
                              sizeof(res->subject_cn));
    if ((vr = SSL_get_verify_result(ssl)) != X509_V_OK) {
        res->trust = TLS_PEER_UNTRUSTED;
        snprintf(res->verify_error, sizeof(res->verify_error), "%s",
                 X509_verify_cert_error_string(vr));
        return;
    }
    res->trust = TLS_PEER_TRUSTED;
    for (i = 0; st->match && st->match[i]; i++) {
        if (*st->match[i] && X509_check_host(cert, st->match[i], 0, 0, NULL) == 1) {
            res->trust = TLS_PEER_VERIFIED;
            return;
        }
    }
}

TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, STREAM *s, const TLS_CLIENT_START *st,
                           TLS_CLIENT_RESULT *res, BUF *why)
{
    int     fd = stream_fd(s);
    time_t  deadline = time(NULL) + (st->timeout > 0 ? st->timeout : 0);
    TLS_CLIENT_CACHED *c;
    SSL    *ssl;
    int     r, e, left;

    memset(res, 0, sizeof(*res));
    if ((ssl = tls_ssl_on_fd(ctx->ssl_ctx, fd, why)) == NULL)
        return NULL;
    if (st->servername && *st->servername
        && SSL_set_tlsext_host_name(ssl, st->servername) != 1) {
        tls_error_text(why, "SNI name");
        SSL_free(ssl);
        return NULL;
    }
    if (st->cache_key) {
        /* The key lives in the cache slot or here until SSL_free. */
        SSL_set_ex_data(ssl, tls_client_key_index, (void *) st->cache_key);
        if ((c = tls_client_cache_slot(st->cache_key, 0)) != NULL && c->session) {
            SSL_set_session(ssl, c->session);
            c->stamp = ++tls_client_stamp;
        }
    }
    while ((r = SSL_connect(ssl)) != 1) {
        e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
                buf_sprintf(why, "handshake: %s", errno ? strerror(errno) : "lost connection");
            else
                tls_error_text(why, "handshake");
            SSL_free(ssl);
            return NULL;
        }
        left = st->timeout > 0 ? (int) (deadline - time(NULL)) : 0;
        if (st->timeout > 0 && left <= 0)
            errno = ETIMEDOUT;
        if ((st->timeout > 0 && left <= 0) || tls_wait(fd, e, left) < 0) {
            buf_sprintf(why, "handshake: %s", errno == ETIMEDOUT ? "timeout" : strerror(errno));
            SSL_free(ssl);
            return NULL;
        }
    }
    res->resumed = SSL_session_reused(ssl);
    tls_client_verdict(ssl, st, res);
    return tls_session_attach(ssl, s);
}
