/* tls - OpenSSL glue for SMTP sessions; see tls.h.
 *
 * Non-blocking socket plus poll(): OpenSSL reports SSL_ERROR_WANT_READ or
 * WANT_WRITE whenever it needs the peer, and we wait for that with the
 * deadline, then repeat the same call (OpenSSL requires the same
 * arguments, hence ACCEPT_MOVING_WRITE_BUFFER for our stream's buffer).
 * With a blocking socket a peer that sends half a TLS record would hold
 * us in read() past every deadline.
 *
 * Protocol versions come from Postfix's list syntax (tls_protocol_mask),
 * the TLS <= 1.2 cipher string from the caller (smtpd maps Postfix's
 * grades to it); TLS 1.3 suites stay OpenSSL's. Several certificates
 * (RSA and ECDSA) may be loaded: OpenSSL picks per client by its
 * signature algorithms; tls_server_add_sni adds whole contexts per SNI
 * name, chosen in the servername callback. Resumption: stateless session tickets under keys
 * every process derives from one shared secret file (tls_set_tickets);
 * no server-side session cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "mem.h"
#include "msg.h"
#include "tls.h"
#include "tls_private.h"

typedef struct TLS_SNI TLS_SNI;

struct TLS_CTX {
    SSL_CTX *ssl_ctx;
    TLS_SNI *sni;                       /* per-name certificates (tls_server_add_sni) */
};

struct TLS_SESS {
    SSL    *ssl;
};

/* tls_error_text - the first queued OpenSSL error (then clear the queue) */
void tls_error_text(BUF *why, const char *what)
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

/* The protocol names of Postfix's lists, lowest first. */
static const struct {
    const char *name;
    int     bit;
    int     version;                /* OpenSSL's */
} tls_protos[] = {
    {"SSLv2", TLS_PROTO_SSLv2, 0x0200},
    {"SSLv3", TLS_PROTO_SSLv3, SSL3_VERSION},
    {"TLSv1", TLS_PROTO_TLSv1, TLS1_VERSION},
    {"TLSv1.1", TLS_PROTO_TLSv1_1, TLS1_1_VERSION},
    {"TLSv1.2", TLS_PROTO_TLSv1_2, TLS1_2_VERSION},
    {"TLSv1.3", TLS_PROTO_TLSv1_3, TLS1_3_VERSION},
};
#define TLS_NPROTOS ((int) (sizeof(tls_protos) / sizeof(tls_protos[0])))

/* tls_proto_index - the table index of a name, -1 when unknown */
static int tls_proto_index(const char *name, size_t len)
{
    int     i;

    for (i = 0; i < TLS_NPROTOS; i++)
        if (strlen(tls_protos[i].name) == len && strncasecmp(tls_protos[i].name, name, len) == 0)
            return i;
    return -1;
}

/* tls_protocol_mask - see tls.h. As in Postfix, naming versions without
 * "!" allows only those; exclusions and bounds cut from the rest. */
int     tls_protocol_mask(const char *spec, BUF *why)
{
    int     all = (1 << TLS_NPROTOS) - 1;
    int     include = 0;
    int     exclude = 0;
    int     lo = 0;
    int     hi = TLS_NPROTOS - 1;
    const char *cp = spec;
    int     mask;
    int     i;

    while (*cp) {
        const char *word;
        size_t  len;
        int     op = 0;

        cp += strspn(cp, " \t,:");
        if (*cp == 0)
            break;
        word = cp;
        len = strcspn(cp, " \t,:");
        cp += len;
        if (*word == '!') {
            op = '!';
            word++;
            len--;
        } else if (len >= 2 && (strncmp(word, ">=", 2) == 0 || strncmp(word, "<=", 2) == 0)) {
            op = *word;
            word += 2;
            len -= 2;
        }
        if ((i = tls_proto_index(word, len)) < 0) {
            buf_sprintf(why, "unknown TLS protocol \"%.*s\" in \"%s\"", (int) len, word, spec);
            return -1;
        }
        if (op == '!')
            exclude |= tls_protos[i].bit;
        else if (op == '>')
            lo = i > lo ? i : lo;
        else if (op == '<')
            hi = i < hi ? i : hi;
        else
            include |= tls_protos[i].bit;
    }
    mask = (include ? include : all) & ~exclude;
    for (i = 0; i < TLS_NPROTOS; i++)
        if (i < lo || i > hi)
            mask &= ~tls_protos[i].bit;
    /* SSLv2 and SSLv3 are gone from OpenSSL: never offered, whatever the list. */
    mask &= ~(TLS_PROTO_SSLv2 | TLS_PROTO_SSLv3);
    if (mask == 0) {
        buf_sprintf(why, "no TLS protocol left by \"%s\"", spec);
        return -1;
    }
    return mask;
}

/* tls_set_protocols - the mask as OpenSSL's min/max and NO_ options for
 * holes between them */
int tls_set_protocols(SSL_CTX *ssl_ctx, const char *spec, BUF *why)
{
    static const long no_opts[] = {0, 0, SSL_OP_NO_TLSv1, SSL_OP_NO_TLSv1_1,
    SSL_OP_NO_TLSv1_2, SSL_OP_NO_TLSv1_3};
    int     mask = tls_protocol_mask(spec, why);
    int     lo = -1;
    int     hi = -1;
    int     i;

    if (mask < 0)
        return -1;
    for (i = 0; i < TLS_NPROTOS; i++) {
        if (mask & tls_protos[i].bit) {
            if (lo < 0)
                lo = i;
            hi = i;
        }
    }
    if (SSL_CTX_set_min_proto_version(ssl_ctx, tls_protos[lo].version) != 1
        || SSL_CTX_set_max_proto_version(ssl_ctx, tls_protos[hi].version) != 1) {
        tls_error_text(why, "protocol range");
        return -1;
    }
    for (i = lo; i <= hi; i++)
        if (!(mask & tls_protos[i].bit))
            SSL_CTX_set_options(ssl_ctx, no_opts[i]);
    return 0;
}

/* tls_set_ciphers - the cipher string minus each excluded name */
int tls_set_ciphers(SSL_CTX *ssl_ctx, const char *list, const char *exclude, BUF *why)
{
    BUF    *spec = buf_alloc(200);
    const char *cp = exclude ? exclude : "";
    int     r;

    buf_puts(spec, list && *list ? list : "DEFAULT");
    while (*cp) {
        size_t  len;

        cp += strspn(cp, " \t,:");
        if ((len = strcspn(cp, " \t,:")) == 0)
            break;
        buf_puts(spec, ":!");
        buf_append(spec, cp, len);
        cp += len;
    }
    if ((r = SSL_CTX_set_cipher_list(ssl_ctx, buf_str(spec))) != 1)
        tls_error_text(why, buf_str(spec));
    buf_free(spec);
    return r == 1 ? 0 : -1;
}

/* tls_load_key - the private key of one file, refused when group or
 * other may read it (checked on the opened file: no race with a rename) */
static int tls_load_key(SSL_CTX *ssl_ctx, const char *file, BUF *why)
{
    struct stat st;
    EVP_PKEY *pkey;
    FILE   *fp;

    if ((fp = fopen(file, "r")) == NULL) {
        buf_sprintf(why, "cannot open private key file %s: %s", file, strerror(errno));
        return -1;
    }
    if (fstat(fileno(fp), &st) < 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        buf_sprintf(why, "private key file %s is accessible by group or other (mode %04o):"
                    " make it mode 0600 or 0400", file, (unsigned) st.st_mode & 07777);
        fclose(fp);
        errno = EPERM;
        return -2;
    }
    pkey = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
    fclose(fp);
    if (pkey == NULL) {
        tls_error_text(why, file);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey(ssl_ctx, pkey) != 1) {
        tls_error_text(why, file);
        EVP_PKEY_free(pkey);
        return -1;
    }
    EVP_PKEY_free(pkey);
    if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        tls_error_text(why, "the key does not match the certificate");
        return -1;
    }
    return 0;
}

/* tls_load_pair - a chain then its key (the key may be in the chain
 * file); OpenSSL keeps one pair per key type, chosen per client */
static int tls_load_pair(SSL_CTX *ssl_ctx, const char *cert, const char *key, BUF *why)
{
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert) != 1) {
        tls_error_text(why, cert);
        return -1;
    }
    return tls_load_key(ssl_ctx, key && *key ? key : cert, why);
}

/* tls_load_certs - chain_files when set (each file: key and chain), else
 * cert_file/key_file and eccert_file/eckey_file */
static int tls_load_certs(SSL_CTX *ssl_ctx, const TLS_SERVER_PARAMS *p, BUF *why)
{
    char    file[4096];
    const char *cp = p->chain_files ? p->chain_files : "";
    int     loaded = 0;
    int     r;

    while (*cp) {
        size_t  len;

        cp += strspn(cp, " \t,");
        if ((len = strcspn(cp, " \t,")) == 0)
            break;
        if (len >= sizeof(file)) {
            buf_sprintf(why, "smtpd_tls_chain_files: file name too long");
            return -1;
        }
        memcpy(file, cp, len);
        file[len] = 0;
        cp += len;
        if ((r = tls_load_pair(ssl_ctx, file, file, why)) < 0)
            return r;
        loaded++;
    }
    if (loaded)
        return 0;
    if (p->cert_file && *p->cert_file) {
        if ((r = tls_load_pair(ssl_ctx, p->cert_file, p->key_file, why)) < 0)
            return r;
        loaded++;
    }
    if (p->eccert_file && *p->eccert_file) {
        if ((r = tls_load_pair(ssl_ctx, p->eccert_file, p->eckey_file, why)) < 0)
            return r;
        loaded++;
    }
    if (loaded == 0) {
        buf_sprintf(why, "no server certificate (smtpd_tls_cert_file, smtpd_tls_eccert_file"
                    " and smtpd_tls_chain_files are empty)");
        return -1;
    }
    return 0;
}

/* tls_ssl_on_fd - a new SSL of ssl_ctx on fd, made non-blocking (both
 * sides bound the whole handshake with poll); NULL + why */
SSL    *tls_ssl_on_fd(SSL_CTX *ssl_ctx, int fd, BUF *why)
{
    SSL    *ssl;

    ERR_clear_error();
    if (tls_nonblocking(fd) < 0) {
        buf_sprintf(why, "fcntl O_NONBLOCK: %s", strerror(errno));
        return NULL;
    }
    if ((ssl = SSL_new(ssl_ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
        tls_error_text(why, "SSL_new");
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

/* tls_info_cb - loglevel 2 (smtpd_tls_loglevel, smtp_tls_loglevel): each
 * handshake step, as Postfix logs them (server and client side) */
void    tls_info_cb(const SSL *ssl, int where, int ret)
{
    if (where & SSL_CB_LOOP)
        msg_info("%s:%s", SSL_is_server((SSL *) ssl) ? "SSL_accept" : "SSL_connect",
                 SSL_state_string_long(ssl));
    else if ((where & SSL_CB_ALERT) != 0)
        msg_info("SSL3 alert %s:%s:%s", (where & SSL_CB_READ) ? "read" : "write",
                 SSL_alert_type_string_long(ret), SSL_alert_desc_string_long(ret));
}

/* Session tickets shared by every smtpd process (TLS 1.3 and 1.2
 * resumption). One secret in a file, made once; each process derives the
 * ticket keys of a period from it and the period number, so all of them
 * agree without talking, and keys rotate by the clock: tickets are made
 * with the current period's key and accepted (then renewed) with the
 * previous one too. One secret per process: smtpd has one server role. */
#define TLS_TICKET_SECRET_LEN 32
static unsigned char tls_ticket_secret[TLS_TICKET_SECRET_LEN];
static long tls_ticket_period;

/* tls_ticket_derive - a period's key name, AES key and HMAC key */
static void tls_ticket_derive(long period, unsigned char name[16], unsigned char aes[32],
                              unsigned char mac[32])
{
    static const char *const labels[] = {"name", "aes", "mac"};
    unsigned char *outs[] = {NULL, aes, mac};
    unsigned char out[EVP_MAX_MD_SIZE];
    char    data[64];
    unsigned int len;
    int     i;

    outs[0] = out;
    for (i = 2; i >= 0; i--) {
        int     n = snprintf(data, sizeof(data), "surel ticket %s %ld", labels[i], period);

        (void) HMAC(EVP_sha256(), tls_ticket_secret, sizeof(tls_ticket_secret),
                    (unsigned char *) data, (size_t) n, out, &len);
        if (i > 0)
            memcpy(outs[i], out, 32);
        else
            memcpy(name, out, 16);
    }
    OPENSSL_cleanse(out, sizeof(out));
}

/* tls_ticket_cb - OpenSSL's ticket key callback: 1 key found (or made),
 * 2 found with the previous period's key (issue a fresh ticket), 0 not
 * ours (full handshake), -1 error */
static int tls_ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
                         EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char mac[32];
    long    now = (long) (time(NULL) / tls_ticket_period);
    OSSL_PARAM params[3];
    int     result = -1;
    int     back;

    (void) ssl;
    for (back = 0; back < (enc ? 1 : 2); back++) {
        tls_ticket_derive(now - back, name, aes, mac);
        if (enc) {
            memcpy(key_name, name, 16);
            if (RAND_bytes(iv, 16) != 1
                || EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, aes, iv) != 1)
                break;
        } else if (memcmp(key_name, name, 16) != 0) {
            result = 0;
            continue;
        } else if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, aes, iv) != 1) {
            result = -1;
            break;
        }
        params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, mac, sizeof(mac));
        params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
        params[2] = OSSL_PARAM_construct_end();
        result = EVP_MAC_CTX_set_params(hctx, params) == 1 ? (back ? 2 : 1) : -1;
        break;
    }
    OPENSSL_cleanse(aes, sizeof(aes));
    OPENSSL_cleanse(mac, sizeof(mac));
    return result;
}

/* tls_ticket_read - the secret from an opened file: 0, -1 with why */
static int tls_ticket_read(int fd, const char *file, BUF *why)
{
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) < 0 || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || !S_ISREG(st.st_mode)) {
        buf_sprintf(why, "ticket key file %s is not a private regular file", file);
        return -1;
    }
    n = read(fd, tls_ticket_secret, sizeof(tls_ticket_secret));
    if (n != (ssize_t) sizeof(tls_ticket_secret)) {
        buf_sprintf(why, "ticket key file %s: short read", file);
        return -1;
    }
    return 0;
}

/* tls_ticket_load - open the secret, or make it: written to a private
 * temporary file, then link()ed to its name, so concurrent first starts
 * end with one secret and nobody reads half a file */
static int tls_ticket_load(const char *file, BUF *why)
{
    unsigned char fresh[TLS_TICKET_SECRET_LEN];
    char    tmp[4096];
    int     fd;
    int     r;

    if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 && errno == ENOENT) {
        if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", file, (long) getpid()) >= (int) sizeof(tmp)
            || RAND_bytes(fresh, sizeof(fresh)) != 1) {
            buf_sprintf(why, "ticket key file %s: cannot make a secret", file);
            return -1;
        }
        (void) unlink(tmp);
        if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
            buf_sprintf(why, "create %s: %s", tmp, strerror(errno));
            return -1;
        }
        r = write(fd, fresh, sizeof(fresh)) == (ssize_t) sizeof(fresh) && fsync(fd) == 0;
        OPENSSL_cleanse(fresh, sizeof(fresh));
        if (close(fd) != 0 || !r || (link(tmp, file) < 0 && errno != EEXIST)) {
            buf_sprintf(why, "write %s: %s", file, strerror(errno));
            (void) unlink(tmp);
            return -1;
        }
        (void) unlink(tmp);
        fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        buf_sprintf(why, "open ticket key file %s: %s", file, strerror(errno));
        return -1;
    }
    r = tls_ticket_read(fd, file, why);
    close(fd);
    return r;
}

/* tls_set_tickets - stateless tickets under the shared keys, or none */
static int tls_set_tickets(SSL_CTX *ssl_ctx, const TLS_SERVER_PARAMS *p, BUF *why)
{
    static const unsigned char sid_ctx[] = "surel-smtpd";

    if (p->ticket_key_file == NULL || *p->ticket_key_file == 0 || p->ticket_lifetime <= 0) {
        SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
        return 0;
    }
    if (tls_ticket_load(p->ticket_key_file, why) < 0)
        return -1;
    tls_ticket_period = p->ticket_lifetime;
    SSL_CTX_clear_options(ssl_ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_id_context(ssl_ctx, sid_ctx, sizeof(sid_ctx) - 1);
    SSL_CTX_set_timeout(ssl_ctx, p->ticket_lifetime);
    if (SSL_CTX_set_tlsext_ticket_key_evp_cb(ssl_ctx, tls_ticket_cb) != 1) {
        tls_error_text(why, "ticket key callback");
        return -1;
    }
    return 0;
}

/* tls_server_ssl_ctx - an OpenSSL context from the settings; NULL, and
 * *why, on any error */
static SSL_CTX *tls_server_ssl_ctx(const TLS_SERVER_PARAMS *p, BUF *why)
{
    SSL_CTX *ssl_ctx;

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
    if (p->loglevel >= 2)
        SSL_CTX_set_info_callback(ssl_ctx, tls_info_cb);
    if (tls_set_protocols(ssl_ctx, p->protocols ? p->protocols : "", why) == 0
        && tls_set_ciphers(ssl_ctx, p->cipherlist, p->exclude, why) == 0
        && tls_load_certs(ssl_ctx, p, why) == 0
        && tls_set_tickets(ssl_ctx, p, why) == 0)
        return ssl_ctx;
    SSL_CTX_free(ssl_ctx);
    return NULL;
}

/* tls_server_ctx - see tls.h; returns NULL, and *why, on any error. The
 * reason starts with "private key file" when the key's mode is unsafe. */
TLS_CTX *tls_server_ctx(const TLS_SERVER_PARAMS *p, BUF *why)
{
    SSL_CTX *ssl_ctx;
    TLS_CTX *ctx;

    if ((ssl_ctx = tls_server_ssl_ctx(p, why)) == NULL)
        return NULL;
    ctx = xcalloc(1, sizeof(*ctx));
    ctx->ssl_ctx = ssl_ctx;
    return ctx;
}

static void tls_sni_free(TLS_SNI *sni);

void    tls_ctx_free(TLS_CTX *ctx)
{
    if (ctx == NULL)
        return;
    tls_sni_free(ctx->sni);
    SSL_CTX_free(ctx->ssl_ctx);
    xfree(ctx);
}

/* tls_wait - wait for what OpenSSL asked for; 0 ready, -1 with errno
 * (ETIMEDOUT when the deadline passed) */
int tls_wait(int fd, int ssl_error, int timeout)
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
int tls_nonblocking(int fd)
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

    if ((ssl = tls_ssl_on_fd(ctx->ssl_ctx, fd, why)) == NULL)
        return NULL;
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

/*
 * SNI (tls_server_sni_maps): a certificate per name the client asks for.
 *
 * Every name's context is built up front, like the default one, while the
 * process may still read root-only keys; the servername callback only
 * picks one. Names are matched as Postfix matches them: the name as sent
 * (folded to lower case), then each parent domain with its leading dot
 * (mail.example.com, .example.com, .com). No match, an invalid name or
 * no SNI at all: the default certificate, and the name is not acknowledged.
 */
#define TLS_SNI_MAX         10000       /* names at most */
#define TLS_SNI_NAME_MAX    255

struct TLS_SNI {
    char  **names;                      /* "mail.example.com", ".example.com" */
    char  **files;                      /* each name's chain files, as given */
    SSL_CTX **ctxs;                     /* each name's context (shared by equal files) */
    int     count;
};

/* tls_sni_free - the names and their contexts */
static void tls_sni_free(TLS_SNI *sni)
{
    int     i;

    if (sni == NULL)
        return;
    for (i = 0; i < sni->count; i++) {
        xfree(sni->names[i]);
        xfree(sni->files[i]);
        SSL_CTX_free(sni->ctxs[i]);
    }
    xfree(sni->names);
    xfree(sni->files);
    xfree(sni->ctxs);
    xfree(sni);
}

/* tls_sni_find - the context of a name (exact, then parent domains), or NULL */
static SSL_CTX *tls_sni_find(const TLS_SNI *sni, const char *name)
{
    const char *cp;
    int     i;

    for (cp = name; cp; cp = strchr(cp + 1, '.')) {
        for (i = 0; i < sni->count; i++)
            if (strcmp(sni->names[i], cp) == 0)
                return sni->ctxs[i];
    }
    return NULL;
}

/* tls_sni_cb - the client's server name: switch to its certificate */
static int tls_sni_cb(SSL *ssl, int *alert, void *arg)
{
    const TLS_CTX *ctx = arg;
    const char *sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    char    name[TLS_SNI_NAME_MAX + 1];
    SSL_CTX *found;
    size_t  len;
    size_t  i;

    (void) alert;
    if (sent == NULL || ctx->sni == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    len = strlen(sent);
    if (len == 0 || len > TLS_SNI_NAME_MAX
        || strspn(sent, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_")
        != len || sent[0] == '.')
        return SSL_TLSEXT_ERR_NOACK;
    for (i = 0; i <= len; i++)
        name[i] = (char) ((sent[i] >= 'A' && sent[i] <= 'Z') ? sent[i] - 'A' + 'a' : sent[i]);
    if ((found = tls_sni_find(ctx->sni, name)) == NULL)
        return SSL_TLSEXT_ERR_NOACK;
    if (SSL_set_SSL_CTX(ssl, found) == NULL)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

/* tls_server_add_sni - see tls.h */
int     tls_server_add_sni(TLS_CTX *ctx, const TLS_SERVER_PARAMS *p, const char *name,
                           const char *chain_files, BUF *why)
{
    TLS_SERVER_PARAMS q = *p;
    TLS_SNI *sni;
    SSL_CTX *ssl_ctx = NULL;
    char   *cp;
    int     i;

    if (*name == 0 || strlen(name) > TLS_SNI_NAME_MAX) {
        buf_sprintf(why, "bad SNI name \"%s\"", name);
        return -1;
    }
    if ((sni = ctx->sni) == NULL) {
        sni = ctx->sni = xcalloc(1, sizeof(*sni));
        SSL_CTX_set_tlsext_servername_callback(ctx->ssl_ctx, tls_sni_cb);
        SSL_CTX_set_tlsext_servername_arg(ctx->ssl_ctx, ctx);
    }
    for (i = 0; i < sni->count; i++)
        if (strcasecmp(sni->names[i], name) == 0)
            return 0;                   /* the first entry of a name wins */
    if (sni->count >= TLS_SNI_MAX) {
        buf_sprintf(why, "more than %d SNI names", TLS_SNI_MAX);
        return -1;
    }
    for (i = 0; i < sni->count && ssl_ctx == NULL; i++)
        if (strcmp(sni->files[i], chain_files) == 0 && SSL_CTX_up_ref(sni->ctxs[i]) == 1)
            ssl_ctx = sni->ctxs[i];
    if (ssl_ctx == NULL) {
        q.chain_files = chain_files;
        q.cert_file = q.key_file = q.eccert_file = q.eckey_file = "";
        if (*chain_files == 0) {
            buf_sprintf(why, "SNI name %s: no chain files", name);
            return -1;
        }
        if ((ssl_ctx = tls_server_ssl_ctx(&q, why)) == NULL)
            return strncmp(buf_str(why), "private key file ", 17) == 0 ? -2 : -1;
    }
    sni->names = xreallocarray(sni->names, (size_t) sni->count + 1, sizeof(char *));
    sni->files = xreallocarray(sni->files, (size_t) sni->count + 1, sizeof(char *));
    sni->ctxs = xreallocarray(sni->ctxs, (size_t) sni->count + 1, sizeof(SSL_CTX *));
    sni->names[sni->count] = xstrdup(name);
    for (cp = sni->names[sni->count]; *cp; cp++)     /* host names ignore case */
        if (*cp >= 'A' && *cp <= 'Z')
            *cp = (char) (*cp - 'A' + 'a');
    sni->files[sni->count] = xstrdup(chain_files);
    sni->ctxs[sni->count] = ssl_ctx;
    sni->count++;
    return 0;
}

/* tls_session_attach - a finished handshake's SSL under the stream (the
 * client side, tls_client.c, shares the record layer I/O) */
TLS_SESS *tls_session_attach(SSL *ssl, STREAM *s)
{
    TLS_SESS *sess = xmalloc(sizeof(*sess));

    sess->ssl = ssl;
    stream_set_io(s, tls_stream_read, tls_stream_write, sess);
    return sess;
}

/* tls_session_ssl - the OpenSSL session under a TLS_SESS */
SSL    *tls_session_ssl(const TLS_SESS *sess)
{
    return sess->ssl;
}
