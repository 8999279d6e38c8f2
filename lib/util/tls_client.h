/* tls_client - the client side of TLS for the smtp client (Postfix's
 * tls_client.c): a context per set of settings, the handshake after
 * STARTTLS with SNI and session resumption, and the peer's trust.
 *
 * The certificate is checked after the handshake, not by failing it: the
 * caller decides by its security level what an untrusted or unmatched
 * certificate means (opportunistic TLS uses it anyway, verify refuses
 * it), and logs Postfix's "Verified/Trusted/Untrusted/Anonymous TLS
 * connection established" line from the verdict.
 *
 * Resumption: the sessions (TLS 1.3 tickets arrive after the handshake)
 * are kept in this process, TLS_CLIENT_CACHE_MAX of them, under the
 * caller's key (server address, port, SNI name, settings), and offered
 * again on the next handshake with that key.
 */
#ifndef SUREL_TLS_CLIENT_H
#define SUREL_TLS_CLIENT_H

#include "buf.h"
#include "stream.h"
#include "tls.h"

#define TLS_CLIENT_CACHE_MAX    32

typedef struct TLS_CLIENT_CTX TLS_CLIENT_CTX;

typedef struct TLS_CLIENT_PARAMS {
    const char *CAfile;             /* trust anchors, PEM; "" none */
    const char *CApath;             /* hashed folder of them; "" none */
    const char *protocols;          /* Postfix syntax (tls_protocol_mask) */
    const char *cipherlist;         /* OpenSSL cipher string (TLS <= 1.2) */
    const char *exclude;            /* cipher names to remove */
    int     loglevel;               /* 2: each handshake step */
} TLS_CLIENT_PARAMS;

/* The peer's certificate, as Postfix words it in the log. */
#define TLS_PEER_ANONYMOUS  0       /* no certificate (anonymous cipher) */
#define TLS_PEER_UNTRUSTED  1       /* its chain does not reach a trust anchor */
#define TLS_PEER_TRUSTED    2       /* trusted, but no name matched */
#define TLS_PEER_VERIFIED   3       /* trusted and a name matched */

typedef struct TLS_CLIENT_START {
    const char *servername;         /* SNI; NULL or "": none */
    const char *cache_key;          /* resumption key (kept alive by the caller
                                     * while the session lasts); NULL: none */
    const char *const *match;       /* names the certificate must carry, NULL-ended;
                                     * ".example.com" matches its subdomains */
    int     timeout;                /* seconds for the whole handshake */
} TLS_CLIENT_START;

typedef struct TLS_CLIENT_RESULT {
    int     trust;                  /* TLS_PEER_* */
    int     resumed;                /* an earlier session was resumed */
    char    verify_error[128];      /* why the chain is untrusted ("" otherwise) */
    char    subject_cn[128];        /* the certificate's CN, for logs */
} TLS_CLIENT_RESULT;

/* tls_client_ctx - a context; NULL with the reason in why */
TLS_CLIENT_CTX *tls_client_ctx(const TLS_CLIENT_PARAMS *p, BUF *why);
void    tls_client_ctx_free(TLS_CLIENT_CTX *ctx);

/* tls_client_start - the handshake on a stream whose server has just said
 * 220 to STARTTLS (the caller dropped the plaintext read-ahead); the
 * stream reads and writes TLS after. NULL with the reason in why. */
TLS_SESS *tls_client_start(TLS_CLIENT_CTX *ctx, STREAM *s, const TLS_CLIENT_START *st,
                           TLS_CLIENT_RESULT *res, BUF *why);

#endif
