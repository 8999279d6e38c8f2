/* tls - OpenSSL glue for SMTP sessions (Postfix's tls_server/tls_client).
 *
 * A TLS_CTX holds the settings of one role (today: the server, smtpd's
 * STARTTLS; the smtp client will add tls_client_ctx next to it). It is
 * made once per process, before the privilege drop, so that a key file
 * readable only by root can be loaded.
 *
 * tls_server_start runs the handshake on a STREAM that has just answered
 * STARTTLS and, when it succeeds, slides the TLS record layer under the
 * stream (stream_set_io): every caller keeps reading lines and writing
 * replies as before. The caller must drop the stream's plaintext
 * read-ahead first (stream_discard_input) - see CVE-2011-0411.
 *
 * Deadlines: the handshake and every later read or write wait at most the
 * stream's timeout for progress, as plain descriptor I/O does; the socket
 * is switched to non-blocking mode for that and stays so.
 */
#ifndef SUREL_TLS_H
#define SUREL_TLS_H

#include "buf.h"
#include "stream.h"

typedef struct TLS_CTX TLS_CTX;
typedef struct TLS_SESS TLS_SESS;

/* What a finished handshake agreed, for logs and the Received: header. */
typedef struct TLS_INFO {
    char    protocol[32];           /* "TLSv1.3" */
    char    cipher[80];             /* "TLS_AES_256_GCM_SHA384" */
    int     cipher_bits;            /* used */
    int     cipher_alg_bits;        /* of the algorithm */
} TLS_INFO;

/* The server's settings, Postfix's parameters already chosen for the
 * security level (opportunistic or mandatory). Empty strings: unset. */
typedef struct TLS_SERVER_PARAMS {
    const char *cert_file;          /* RSA (or any) chain, PEM */
    const char *key_file;           /* its key; empty: in cert_file */
    const char *eccert_file;        /* ECDSA chain beside it */
    const char *eckey_file;         /* its key; empty: in eccert_file */
    const char *chain_files;        /* files of key + chain each (preferred) */
    const char *protocols;          /* ">=TLSv1.2", "!SSLv3, !TLSv1", ... */
    const char *cipherlist;         /* OpenSSL cipher string (TLS <= 1.2) */
    const char *exclude;            /* cipher names to remove, list */
    int     loglevel;               /* 2: log the handshake steps */
    const char *ticket_key_file;    /* shared ticket secret; empty: no tickets */
    long    ticket_lifetime;        /* seconds a ticket key is used for */
} TLS_SERVER_PARAMS;

/* tls_server_ctx - a context from the settings; NULL with the reason in
 * why. A private key file readable by group or other is refused. */
TLS_CTX *tls_server_ctx(const TLS_SERVER_PARAMS *p, BUF *why);

/* tls_protocol_mask - Postfix's protocol list syntax (names SSLv2, SSLv3,
 * TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; "!name" excludes; ">=name", "<=name"
 * bound; separators space, comma, colon) to a bit mask of the allowed
 * versions (TLS_PROTO_* bits); -1 with the reason in why */
#define TLS_PROTO_SSLv2     (1 << 0)
#define TLS_PROTO_SSLv3     (1 << 1)
#define TLS_PROTO_TLSv1     (1 << 2)
#define TLS_PROTO_TLSv1_1   (1 << 3)
#define TLS_PROTO_TLSv1_2   (1 << 4)
#define TLS_PROTO_TLSv1_3   (1 << 5)
int     tls_protocol_mask(const char *spec, BUF *why);

/* tls_server_add_sni - a certificate for clients that ask for name by
 * SNI: name is a host name or ".domain" (any name below it), chain_files
 * the files of key and chain each (as p->chain_files), loaded now with
 * p's other settings. The first entry of a name wins; entries with the
 * same files share one context. 0; -1 with why; -2 with why when a key
 * file's mode is unsafe (as tls_server_ctx). */
int     tls_server_add_sni(TLS_CTX *ctx, const TLS_SERVER_PARAMS *p, const char *name,
                           const char *chain_files, BUF *why);
void    tls_ctx_free(TLS_CTX *ctx);

/* tls_server_start - the server side of the handshake within timeout
 * seconds; NULL with the reason in why (the connection is then unusable:
 * the peer is in an unknown TLS state). */
TLS_SESS *tls_server_start(TLS_CTX *ctx, STREAM *s, int timeout, BUF *why);
void    tls_session_info(const TLS_SESS *sess, TLS_INFO *info);

/* tls_session_stop - send close_notify (best effort, bounded by the
 * stream's timeout), restore plain I/O on the stream, free the session */
void    tls_session_stop(TLS_SESS *sess, STREAM *s);

#endif
