/* smtp.h - the SMTP/LMTP delivery agent's private interfaces.
 *
 * smtp.c holds main() only; the logic lives in smtp_*.c so that the Check
 * suites (tests/unit/check_smtp_*.c) can call it:
 *     smtp_service.c  the delivery protocol, the queue file, results, logs
 *     smtp_hop.c      the next hop text: [host]:port, unix:/path, lists
 *     smtp_dns.c      MX and address lookups (libunbound), MX order
 *     smtp_connect.c  one TCP or UNIX-domain connection, with a deadline
 *     smtp_proto.c    the conversation: greeting, EHLO/LHLO, MAIL, RCPT, DATA
 *     smtp_reply.c    reading a server reply (a leaf: unit tested)
 *     smtp_encode.c   content to the wire: CRLF, dot-stuffing (a leaf)
 *     smtp_mime.c     8-bit MIME to quoted-printable for a 7-bit server (a leaf)
 *     smtp_cache.c    connection reuse through scache (labels, props)
 *     smtp_tls.c      the TLS policy (levels, policy maps) and handshake
 */
#ifndef SUREL_SMTP_H
#define SUREL_SMTP_H

#include <stddef.h>

#include "buf.h"
#include "deliver_request.h"
#include "server.h"
#include "stream.h"
#include "tls.h"

/* ---- server replies (smtp_reply.c) ---- */

#define SMTP_REPLY_LINES_MAX    100     /* lines of one reply; more is an error */
#define SMTP_REPLY_TEXT_MAX     8192    /* joined text kept; the rest is dropped */

typedef struct SMTP_REPLY {
    int     code;                   /* 250; 0 until the first line */
    char    dsn[16];                /* "2.1.5": the reply's own, or X.0.0 */
    BUF    *text;                   /* every line, joined by a space */
    int     lines;
} SMTP_REPLY;

void    smtp_reply_init(SMTP_REPLY *r);
void    smtp_reply_free(SMTP_REPLY *r);
void    smtp_reply_reset(SMTP_REPLY *r);

/* smtp_reply_line - add one line (without CR LF): 1 the reply is complete,
 * 0 more lines follow, -1 not an SMTP reply line (text says which). */
int     smtp_reply_line(SMTP_REPLY *r, const char *line, size_t len);

/* ---- content encoding (smtp_encode.c) ---- */

typedef struct SMTP_ENCODER {
    long    limit;                  /* smtp_line_length_limit, 0: none */
    long    col;                    /* bytes on the current wire line */
    int     cr;                     /* a CR is waiting: CR LF, or a bare CR */
} SMTP_ENCODER;

/* The content is the queue file's N and L records in order (record.h: N
 * ends a line, L is part of one). Every line end (the end of an N record,
 * CR LF, a bare LF or a bare CR inside a record) becomes one CR LF; a line
 * that starts with "." gets another; a line longer than limit is broken
 * with CR LF SPACE. smtp_encode_end ends an unfinished last line and adds
 * the final ".". Output is appended to out. */
void    smtp_encode_init(SMTP_ENCODER *e, long limit);

/* smtp_line_ends - the one line-end rule (the encoder's and the MIME
 * converter's): data of one record is cut into runs of bytes without CR
 * or LF (text) and line ends (eol): CR LF, a bare CR, a bare LF, the end
 * of an N record. *cr carries a CR at the end of a record into the next
 * (it may meet its LF there). */
void    smtp_line_ends(int *cr, int rec_type, const char *data, size_t len,
                       void (*text) (void *ctx, const char *run, size_t n),
                       void (*eol) (void *ctx), void *ctx);
void    smtp_encode(SMTP_ENCODER *e, int rec_type, const char *data, size_t len, BUF *out);
void    smtp_encode_end(SMTP_ENCODER *e, BUF *out);

/* ---- 8BITMIME down-conversion (smtp_mime.c) ---- */

typedef struct SMTP_MIME SMTP_MIME;

/* smtp_mime_create - a converter that writes through enc: at most
 * max_depth nested multiparts (mime_nesting_limit), headers of at most
 * header_limit bytes parsed (header_size_limit), boundaries of at most
 * bound_limit (mime_boundary_length_limit) */
SMTP_MIME *smtp_mime_create(SMTP_ENCODER *enc, int max_depth, size_t header_limit,
                            size_t bound_limit);
void    smtp_mime_free(SMTP_MIME *mm);

/* smtp_mime_record - one content record (as smtp_encode), converted onto
 * out; smtp_mime_end - the last line out (the caller then ends with
 * smtp_encode_end). 0, or -1: the message cannot be converted
 * (smtp_mime_error: the reason and its DSN code); stop sending. */
int     smtp_mime_record(SMTP_MIME *mm, int rec_type, const char *data, size_t len, BUF *out);
int     smtp_mime_end(SMTP_MIME *mm, BUF *out);
const char *smtp_mime_error(const SMTP_MIME *mm, const char **dsn);

/* ---- next hops (smtp_hop.c) ---- */

#define SMTP_HOST_MAX   255
#define SMTP_HOPS_MAX   32              /* destinations tried for one delivery */

typedef enum smtp_hop_kind {
    SMTP_HOP_INET,                      /* host and port */
    SMTP_HOP_UNIX                       /* path (relative: below queue_directory) */
} SMTP_HOP_KIND;

typedef struct SMTP_HOP {
    SMTP_HOP_KIND kind;
    char    host[SMTP_HOST_MAX + 1];    /* name or address; the unix path */
    int     port;
    int     literal;                    /* [host]: no MX lookup */
    char    name[SMTP_HOST_MAX + 1];    /* the host's name (an MX) when host is its address */
} SMTP_HOP;

/* smtp_hop_parse - one destination: "[host]:port", "[ipv6:addr]",
 * "host:port", "host", "inet:host:port", "unix:/path". default_port is
 * 25 (smtp) or 24 (lmtp). 0, or -1 with why. */
int     smtp_hop_parse(const char *text, int default_port, SMTP_HOP *hop, BUF *why);

/* smtp_hop_list - the nexthop (a list, separated by commas or white
 * space), then smtp_fallback_relay unless the nexthop is $relayhost; at
 * most SMTP_HOPS_MAX. Returns how many, or -1 with why (one unparsable
 * destination is a configuration error: the mail waits). */
int     smtp_hop_list(const char *nexthop, const char *relayhost, const char *fallback,
                      int default_port, SMTP_HOP *hops, BUF *why);

/* ---- DNS (smtp_dns.c) ---- */

#define SMTP_MX_MAX     32              /* MX records kept of one domain */

typedef struct SMTP_MX {
    char    host[SMTP_HOST_MAX + 1];    /* "." for a null MX */
    int     pref;
} SMTP_MX;

/* smtp_mx_sort - by preference, equal preferences in random order (rnd) */
void    smtp_mx_sort(SMTP_MX *mx, int n, unsigned (*rnd)(void));

/* smtp_mx_cut_self - the sorted list cut before the first preference at
 * which myhostname appears; the count kept (0: we are the best MX) */
int     smtp_mx_cut_self(SMTP_MX *mx, int n, const char *myhostname);

/* smtp_dns_hop - the addresses to try for a hop that names a host ([name])
 * or a domain (its MX hosts in order, at most smtp_mx_address_limit),
 * each with its name set; how many, or -1 with stat (DELIVER_STAT_*),
 * dsn and why (Postfix's wording). */
int     smtp_dns_hop(const SMTP_HOP *hop, SMTP_HOP *out, int max, int *stat, char *dsn,
                     size_t dsnlen, BUF *why);

/* ---- connections (smtp_connect.c) ---- */

/* Who we talk to, for log lines and reasons. */
typedef struct SMTP_PEER {
    char    name[SMTP_HOST_MAX + 1];    /* host name; $myhostname for a socket */
    char    addr[SMTP_HOST_MAX + 1];    /* numeric address; the socket path */
    int     port;                       /* 0 for a UNIX socket */
    char    relay[2 * SMTP_HOST_MAX + 16];      /* "name[addr]:port" (relay=) */
} SMTP_PEER;

/* smtp_connect - a connection to hop, within timeout seconds, from
 * smtp_bind_address(6), with the families inet_protocols allows. hop->host
 * must be an address (smtp_dns_hop finds them); hop->name, when set, is
 * the host name for logs. fd, or -1 with dsn and why. */
int     smtp_connect(const SMTP_HOP *hop, int timeout, SMTP_PEER *peer, char *dsn, size_t dsnlen,
                     BUF *why);

/* ---- one delivery (smtp_proto.c, smtp_service.c) ---- */

/* One recipient's result. */
typedef struct SMTP_RCPT {
    int     stat;                       /* DELIVER_STAT_*, -1: not decided */
    int     accepted;                   /* RCPT got 2xx: waits for the DATA reply */
    char    dsn[16];
    BUF    *reason;
    char   *relay;                      /* relay= of the result */
} SMTP_RCPT;

/* ---- TLS policy (smtp_tls.c) ---- */

/* Levels, weakest first (Postfix's order: verify and secure need a CA). */
#define SMTP_TLS_NONE           0
#define SMTP_TLS_MAY            1
#define SMTP_TLS_ENCRYPT        2
#define SMTP_TLS_DANE           3       /* not implemented: used as may */
#define SMTP_TLS_DANE_ONLY      4       /* not implemented: refused */
#define SMTP_TLS_FINGERPRINT    5       /* not implemented: refused */
#define SMTP_TLS_VERIFY         6
#define SMTP_TLS_SECURE         7

typedef struct SMTP_TLS_POLICY {
    int     level;                      /* SMTP_TLS_* */
    char    protocols[128];             /* "": smtp_tls_(mandatory_)protocols */
    char    ciphers[16];                /* grade; "": smtp_tls_(mandatory_)ciphers */
    char    exclude[256];               /* more cipher names to remove */
    char    match[512];                 /* "": smtp_tls_verify/secure_cert_match */
    char    servername[SMTP_HOST_MAX + 1];      /* "": smtp_tls_servername */
} SMTP_TLS_POLICY;

/* smtp_tls_policy_parse - "level attr=value..." (a policy table entry or
 * smtp_tls_security_level); 0, or -1 with why */
int     smtp_tls_policy_parse(const char *text, SMTP_TLS_POLICY *pol, BUF *why);
const char *smtp_tls_level_name(int level);

/* What the conversation needs to know about the message. */
typedef struct SMTP_MSG {
    DELIVER_REQUEST *req;
    int     qfd;                        /* queue file, read-only, shared flock */
    void   *env;                        /* its QFILE_ENVELOPE (content offsets) */
    int     body_8bit;                  /* encoding=8bitmime */
    int     body_7bit;                  /* encoding=7bit: nothing to convert */
    int     smtputf8;                   /* the envelope needs SMTPUTF8 */
    SMTP_RCPT *rcpt;                    /* req->nrcpt of them */
    int     lmtp;
    const char *service;                /* master.cf service name (cache labels) */
    SMTP_TLS_POLICY tls;                /* this delivery's TLS policy */
    int     tls_plain;                  /* retrying in plaintext after a failed handshake */
    int     site_fail;                  /* no server took MAIL FROM: DELIVER_DONE_SITE_FAIL */
} SMTP_MSG;

/* smtp_tls_policy - the delivery's policy into m->tls (the table, else
 * smtp_tls_security_level); 0, or -1 (logged) with dsn and why: the mail
 * waits (a table that failed, a bad entry, a level not implemented) */
int     smtp_tls_policy(SMTP_MSG *m, char *dsn, size_t dsnlen, BUF *why);

/* smtp_rcpt_set - decide a recipient (only the first decision counts) */
void    smtp_rcpt_set(SMTP_MSG *m, int i, int stat, const char *dsn, const char *relay,
                      const char *reason);

/* smtp_rcpt_set_pending - decide every undecided recipient alike */
void    smtp_rcpt_set_pending(SMTP_MSG *m, int stat, const char *dsn, const char *relay,
                              const char *reason);

/* One connection to one server, kept across deliveries when it is reused
 * (smtp_cache.c): what the greeting and EHLO taught us, and its age. */
typedef struct SMTP_CONN {
    STREAM *s;
    SMTP_PEER peer;
    int     features;                   /* EHLO keywords (smtp_proto.c SMTP_FEAT_*) */
    long    peer_size;                  /* SIZE n; 0: no limit given */
    long    created;                    /* time(NULL) of the connect */
    int     uses;                       /* transactions begun on it */
    int     reused;                     /* it came from the cache: RSET first */
    int     reusable;                   /* in step with the server after the last delivery */
    int     dead;                       /* unusable (failed handshake): close without QUIT */
    TLS_SESS *tls;                      /* after STARTTLS; never cached in scache */
    char    tls_key[3 * SMTP_HOST_MAX + 64];    /* its resumption key (lives with it) */
} SMTP_CONN;

/* smtp_tls_handshake - TLS on conn once the server said 220 to STARTTLS:
 * 0; -1 the handshake failed (conn is dead); -2 the certificate fails a
 * verify or secure policy (TLS is up: QUIT goes through it). dsn, why. */
int     smtp_tls_handshake(SMTP_MSG *m, SMTP_CONN *conn, char *dsn, size_t dsnlen, BUF *why);

/* smtp_conn_open - a connection just made (fd is the conn's now) */
void    smtp_conn_open(SMTP_CONN *conn, int fd, const SMTP_PEER *peer);

/* smtp_conn_close - QUIT (when the server may still listen) and close */
void    smtp_conn_close(SMTP_CONN *conn);

/* Outcome of one session with one server. */
#define SMTP_SESSION_DONE       0       /* every recipient decided */
#define SMTP_SESSION_NEXT       1       /* this server failed before MAIL: try the next */
#define SMTP_SESSION_STALE      2       /* a reused session failed RSET: connect anew */
#define SMTP_SESSION_PLAIN      3       /* may: the TLS handshake failed, retry in plaintext */

/* smtp_session - one delivery on conn (greeting and EHLO first on a new
 * one, RSET first on a reused one); the caller then closes conn or caches
 * it (conn->reusable). The reason for _NEXT (the recipients are left
 * undecided) is in why, with dsn. */
int     smtp_session(SMTP_MSG *m, SMTP_CONN *conn, char *dsn, size_t dsnlen, BUF *why);

/* ---- connection reuse (smtp_cache.c) ---- */

/* smtp_cache_label - what a cached session must match: service,
 * protocol and next hop (and, with TLS, the policy) */
void    smtp_cache_label(const SMTP_MSG *m, const char *service, BUF *label);

/* smtp_cache_find - a cached session for label into conn; 0, or -1 none */
int     smtp_cache_find(const char *label, SMTP_CONN *conn);

/* smtp_cache_may_load, _may_store - look for a kept session, keep this
 * one afterwards? qmgr's hints (on demand) or the destination is listed
 * in smtp_connection_cache_destinations. */
int     smtp_cache_may_load(const SMTP_MSG *m);
int     smtp_cache_may_store(const SMTP_MSG *m);

/* smtp_cache_done - after a delivery: save conn under label when it may
 * be reused (in step, within the reuse limits, save asked), else close it */
void    smtp_cache_done(SMTP_CONN *conn, const char *label, int save);

/* smtp_cache_props_format/parse - a session's record for scache; parse: 0 or -1 */
void    smtp_cache_props_format(const SMTP_CONN *conn, BUF *out);
int     smtp_cache_props_parse(const char *text, SMTP_CONN *conn);

/* smtp_deliver - try each destination of the request in turn. */
void    smtp_deliver(SMTP_MSG *m);

/* The service routine (single_server) and its set-up. */
void    smtp_set_lmtp(int lmtp);
void    smtp_service(STREAM *client, const SERVER_CTX *ctx);

#endif
