/* smtpd.h - private interfaces of the SMTP server (smtpd/ only).
 *
 * The session is split by phase: smtpd_peer.c identifies the client (or
 * drops it) and admits it; smtpd_proto.c reads commands and dispatches
 * them; smtpd_reply.c queues replies (flushed in batches: PIPELINING) and
 * logs rejects; smtpd_cmd*.c parse and run the verbs; smtpd_data.c is
 * the pure DATA/BDAT byte reader (smuggling rules);
 * smtpd_cleanup.c talks the cleanup protocol; smtpd_received.c builds the
 * Received: header; smtpd_conn.c counts connections per client address
 * and rates per client through anvil; smtpd_params.c reads main.cf once.
 */
#ifndef SUREL_SMTPD_H
#define SUREL_SMTPD_H

#include <stddef.h>

#include "buf.h"
#include "dsn.h"
#include "queue_id.h"
#include "stream.h"
#include "tls.h"
#include "smtpd_check.h"

/* smtpd_forbid_bare_newline values. */
#define SMTPD_BARE_LF_NORMALIZE 0   /* bare LF ends a line, never DATA */
#define SMTPD_BARE_LF_REJECT    1   /* bare LF rejects the command/message */

/* smtpd_tls_security_level values. */
#define SMTPD_TLS_NONE      0       /* STARTTLS not offered */
#define SMTPD_TLS_MAY       1       /* offered */
#define SMTPD_TLS_ENCRYPT   2       /* offered and required before MAIL */

/* Parameters, read once per process (smtpd_params.c). */
typedef struct SMTPD_PARAMS {
    char   *myhostname;             /* greeting, Received: by */
    char   *banner;                 /* smtpd_banner */
    char   *mail_name;              /* Received: (surel) */
    char   *service;                /* master.cf service name (connection limit key) */
    long    message_size_limit;     /* bytes, 0: none */
    long    queue_minfree;          /* bytes the queue file system keeps free */
    long    line_length_limit;      /* command lines and content records */
    long    recipient_limit;        /* smtpd_recipient_limit */
    long    timeout;                /* smtpd_timeout, seconds */
    long    ipc_timeout;            /* cleanup conversation */
    long    hard_error_limit;
    long    soft_error_limit;       /* errors before each error reply sleeps */
    long    error_sleep;            /* smtpd_error_sleep_time, seconds */
    long    junk_limit;             /* smtpd_junk_command_limit */
    int     per_request_deadline;   /* smtpd_timeout per request, not per read */
    long    min_data_rate;          /* bytes/s that extend the DATA deadline */
    int     stress;                 /* the master said -o stress=yes */
    int     peername_lookup;        /* smtpd_peername_lookup */
    long    conn_limit;             /* smtpd_client_connection_count_limit, 0: none */
    long    conn_rate_limit;        /* smtpd_client_connection_rate_limit */
    long    msg_rate_limit;         /* smtpd_client_message_rate_limit */
    long    rcpt_rate_limit;        /* smtpd_client_recipient_rate_limit */
    long    ntls_rate_limit;
    long    auth_rate_limit;        /* smtpd_client_auth_rate_limit */        /* smtpd_client_new_tls_session_rate_limit */
    int     bare_newline;           /* SMTPD_BARE_LF_* */
    int     bare_newline_code;      /* smtpd_forbid_bare_newline_reject_code */
    int     disable_vrfy;
    int     helo_required;
    int     strict_envelopes;       /* strict_rfc821_envelopes */
    int     smtputf8_enable;
    int     tls_level;              /* SMTPD_TLS_* */
    int     tls_wrappermode;        /* smtpd_tls_wrappermode: TLS before the greeting */
    int     tls_loglevel;           /* smtpd_tls_loglevel */
    int     tls_received_header;    /* smtpd_tls_received_header */
    int     sasl_enable;            /* smtpd_sasl_auth_enable */
    int     tls_auth_only;          /* smtpd_tls_auth_only */
    int     broken_sasl;            /* broken_sasl_auth_clients */
    int     sasl_auth_header;       /* smtpd_sasl_authenticated_header */
    char   *sasl_path;              /* smtpd_sasl_path (the Dovecot socket) */
    char   *content_filter;         /* "transport:nexthop" or "" (-o content_filter=) */
    int     receive_opts;           /* receive_override_options, RECEIVE_* */
    int     sasl_noplain;           /* smtpd_sasl_security_options has noplaintext */
    int     sasl_tls_noplain;       /* smtpd_sasl_tls_security_options has it */
} SMTPD_PARAMS;

extern SMTPD_PARAMS smtpd_params;

/* The server TLS settings (smtpd_tls.c): NULL when TLS is off or its
 * certificate could not be loaded. */
extern TLS_CTX *smtpd_tls_ctx;
void    smtpd_tls_init(void);               /* pre_init: load the certificate */

void    smtpd_params_init(const char *service);   /* from config_*() */

/* ESMTP MAIL FROM parameters (the DSN ones and BODY: dsn.h). */
typedef struct SMTPD_MAIL_ARGS {
    int     size_given;
    long long size;                 /* SIZE=, saturated at LLONG_MAX */
    int     body;                   /* DSN_BODY_*, 0: not given */
    int     smtputf8;
    int     ret;                    /* DSN_RET_*, 0: not given */
    BUF    *envid;                  /* xtext-decoded, empty when not given */
    int     auth_given;             /* AUTH= (RFC 4954 5; accepted, not used) */
} SMTPD_MAIL_ARGS;

typedef struct SMTPD_RCPT_ARGS {
    int     notify;                 /* DSN_NOTIFY_* bits, 0: not given */
    BUF    *orcpt;                  /* "type;address", decoded; empty: not given */
} SMTPD_RCPT_ARGS;

/* Command line parsing (smtpd_cmd.c): pure functions, fuzzed. Each
 * returns 0, or -1 with a whole reply line ("501 5.5.4 ...") in reply. */
int     smtpd_cmd_split(const char *line, size_t len, BUF *verb, const char **args,
                        BUF *reply);
int     smtpd_cmd_keyword(const char *args, const char *keyword, const char **rest);
int     smtpd_mail_params(const char *text, int esmtp, SMTPD_MAIL_ARGS *a, BUF *reply);
int     smtpd_rcpt_params(const char *text, int esmtp, SMTPD_RCPT_ARGS *a, BUF *reply);
int     smtpd_bdat_args(const char *text, long long *size, int *last);
void    smtpd_mail_args_init(SMTPD_MAIL_ARGS *a);
void    smtpd_mail_args_free(SMTPD_MAIL_ARGS *a);
void    smtpd_rcpt_args_init(SMTPD_RCPT_ARGS *a);
void    smtpd_rcpt_args_free(SMTPD_RCPT_ARGS *a);

/* The DATA/BDAT content reader (smtpd_data.c): bytes in, records out.
 * Only <CR><LF>.<CR><LF> ends DATA: the "." line must end in CRLF and the
 * line before it too (or the DATA command line). A bare LF ends a line
 * (normalize) but such a line never takes part in an end; a bare CR is
 * content. Lines longer than the limit come out as L records, then N. */
typedef void (*SMTPD_DATA_FN)(void *ctx, int rec_type, const char *data, size_t len);

typedef struct SMTPD_DATA {
    int     dot;                    /* 1: DATA (dot rules); 0: BDAT (raw) */
    size_t  limit;                  /* longest record */
    SMTPD_DATA_FN fn;               /* where records go */
    void   *ctx;
    BUF    *line;                   /* the line being assembled */
    int     pending_cr;             /* a CR not yet known to precede LF */
    int     prev_crlf;              /* the previous line ended in CRLF */
    int     continued;              /* this line began as an L record */
    int     bare_lf;                /* a bare LF was seen */
    long long bytes;                /* octets the client sent (RFC 1870 SIZE) */
    int     done;                   /* end of DATA seen */
} SMTPD_DATA;

#define SMTPD_DATA_MORE     0
#define SMTPD_DATA_END      1

void    smtpd_data_init(SMTPD_DATA *d, int dot, size_t limit, int prev_crlf,
                        SMTPD_DATA_FN fn, void *ctx);
void    smtpd_data_free(SMTPD_DATA *d);
int     smtpd_data_byte(SMTPD_DATA *d, int ch);
int     smtpd_data_feed(SMTPD_DATA *d, const char *buf, size_t len, size_t *used);
void    smtpd_data_finish(SMTPD_DATA *d);      /* BDAT LAST: flush the last line */

/* The cleanup client (smtpd_cleanup.c). */
typedef struct SMTPD_CLEANUP {
    STREAM *stream;
    char    id[QUEUE_ID_BUFSZ];
    int     err;                    /* a write failed: the result is 451 */
} SMTPD_CLEANUP;

SMTPD_CLEANUP *smtpd_cleanup_open(const char *service, int flags, int timeout, BUF *why);
SMTPD_CLEANUP *smtpd_cleanup_attach(STREAM *s, int flags, BUF *why);   /* tests */
void    smtpd_cleanup_rec(SMTPD_CLEANUP *c, int type, const char *data, size_t len);
void    smtpd_cleanup_attr(SMTPD_CLEANUP *c, const char *name, const char *value);
int     smtpd_cleanup_finish(SMTPD_CLEANUP *c, BUF *reason);   /* status, -1 IPC error */
void    smtpd_cleanup_close(SMTPD_CLEANUP *c);
void    smtpd_cleanup_reply(int status, const char *reason, BUF *reply);
int     smtpd_cleanup_is_reply(const char *reason);     /* "550 5.7.1 ..." */

/* Received: header (smtpd_received.c): one string per header line. */
typedef struct SMTPD_RECEIVED {
    const char *helo;               /* NULL: no HELO/EHLO */
    const char *client_name;
    const char *client_addr;
    const char *by;                 /* $myhostname */
    const char *mail_name;
    const char *protocol;           /* ESMTP, UTF8SMTP, ... */
    const char *queue_id;
    const char *tls;                /* "TLSv1.3 with cipher ... (256/256 bits)" or NULL */
    const char *auth_sender;        /* SASL login (smtpd_sasl_authenticated_header) or NULL */
    const char *rcpt;               /* the one recipient, or NULL */
    long    when;                   /* time_t */
} SMTPD_RECEIVED;

int     smtpd_received(const SMTPD_RECEIVED *r, BUF *lines[], int max);
const char *smtpd_protocol_name(int esmtp, int tls, int auth, int smtputf8);
void    smtpd_printable(const char *text, BUF *out);

/* The client's identity and the per-connection entry (smtpd_peer.c). */
#define SMTPD_NAME_LEN  256         /* a DNS name (253) and its NUL */

typedef struct SMTPD_PEER_NAME {
    char    name[SMTPD_NAME_LEN];   /* forward-confirmed, or "unknown" */
    char    reverse[SMTPD_NAME_LEN];        /* the PTR name, or "unknown" */
    int     name_status;            /* SMTPD_PEER_CODE_* */
    int     reverse_status;
} SMTPD_PEER_NAME;

int     smtpd_peer_addr(int fd, char *addr, size_t len, BUF *why);  /* 0, -1: drop */
void    smtpd_peer_init(void);      /* pre_init: the resolver, before the chroot */
void    smtpd_peer_name(const char *addr, SMTPD_PEER_NAME *out);
void    smtpd_serve(STREAM *client);

/* Connection counts and rates per client, through anvil (smtpd_conn.c). */
void    smtpd_conn_init(void);
int     smtpd_conn_enter(const char *addr, const char *namaddr, int *registered, BUF *reply);
void    smtpd_conn_leave(const char *addr);

/* The session (smtpd_proto.c). */
typedef struct SMTPD_RCPT {
    char   *addr;                   /* internal form */
    char   *orcpt;                  /* "type;address" or NULL */
    int     notify;                 /* DSN_NOTIFY_* bits, 0: not given */
} SMTPD_RCPT;

/* Per-verb counters for the disconnect line. */
#define SMTPD_VERB_COUNT_MAX 24

typedef struct SMTPD_STATE {
    STREAM *client;
    char    addr[64];               /* client address text */
    const char *name;               /* verified client name (name_buf) or "unknown" */
    char    name_buf[SMTPD_NAME_LEN];
    char    reverse_name[SMTPD_NAME_LEN];  /* the PTR name, unverified, or "unknown" */
    int     name_status;            /* SMTPD_PEER_CODE_* (smtpd_check.h) */
    int     reverse_name_status;
    char    namaddr[SMTPD_NAME_LEN + 70];  /* name[addr] for log lines */
    BUF    *helo;                   /* empty: no HELO/EHLO */
    int     esmtp;                  /* EHLO given */
    int     denied;                 /* connect refused: only QUIT works */
    int     quit;                   /* session over */
    long    errors;                 /* error replies so far */
    long    junk;                   /* NOOP/RSET/VRFY/ETRN/HELO/EHLO so far */
    const char *where;              /* command being read/run, for timeouts */
    TLS_SESS *tls;                  /* after STARTTLS, else NULL */
    TLS_INFO tls_info;              /* what the handshake agreed */
    /* The transaction. */
    int     have_mail;
    BUF    *sender;                 /* internal form, "" for <> */
    SMTPD_MAIL_ARGS mail;
    SMTPD_RCPT *rcpt;
    int     rcpt_count;
    int     rcpt_cap;
    int     bdat;                   /* 1: BDAT chunks under way */
    int     bdat_error;             /* a chunk failed: the rest are skipped */
    void   *bdat_ctx;               /* smtpd_cmd_data.c's transfer state */
    /* Counters: commands accepted/total per verb. */
    const char *count_name[SMTPD_VERB_COUNT_MAX];
    int     count_ok[SMTPD_VERB_COUNT_MAX];
    int     count_all[SMTPD_VERB_COUNT_MAX];
    int     nverbs;
    int     last_line_crlf;         /* the last command line ended in CRLF */
    BUF    *reply;                  /* scratch for replies */
    BUF    *line;                   /* the command line */
    void   *milter;                 /* smtpd_milter.c's state, NULL: no smtpd_milters */
    BUF    *sasl_username;          /* empty: not authenticated */
    BUF    *sasl_method;            /* PLAIN, LOGIN */
    BUF    *sasl_challenge;         /* the last 334 text (failure logs) */
    char    instance[64];           /* this transaction, for policy servers */
    SMTPD_CHECK_ACTIONS actions;    /* HOLD, DISCARD, PREPEND, FILTER from access results */
    int     ill_pipelining;         /* sent ahead where not allowed (reject_unauth_pipelining) */
    char    client_port[8];         /* "" when unknown */
    char    server_addr[64];        /* our end of the connection */
    char    server_port[8];
} SMTPD_STATE;

void    smtpd_session(STREAM *client, const char *addr);
void    smtpd_state_init(SMTPD_STATE *st, STREAM *client, const char *addr);
void    smtpd_state_names(SMTPD_STATE *st, const SMTPD_PEER_NAME *names);
void    smtpd_state_free(SMTPD_STATE *st);
void    smtpd_reset(SMTPD_STATE *st);           /* forget the transaction */
void    smtpd_lost(SMTPD_STATE *st);          /* EOF or timeout while reading */
void    smtpd_check_ctx(SMTPD_STATE *st, SMTPD_CHECK_CTX *ctx);

/* Rate limits at MAIL, RCPT and STARTTLS (smtpd_conn.c): 0, or -1 with
 * the reply queued. */
int     smtpd_rate_mail(SMTPD_STATE *st);
int     smtpd_rate_rcpt(SMTPD_STATE *st);
int     smtpd_rate_newtls(SMTPD_STATE *st);
int     smtpd_rate_auth(SMTPD_STATE *st);

/* Request deadlines (smtpd_proto.c): the next request starts now; DATA
 * and BDAT content extends it by smtpd_min_data_rate. */
void    smtpd_deadline_request(SMTPD_STATE *st);
void    smtpd_deadline_data(SMTPD_STATE *st, int on);

/* smtpd_milters at each SMTP stage (smtpd_milter.c): 0 to go on, -1
 * with the filter's reply queued. */
void    smtpd_milter_connect(SMTPD_STATE *st);
int     smtpd_milter_denied(SMTPD_STATE *st, const char *verb);
int     smtpd_milter_helo(SMTPD_STATE *st, const char *verb);
int     smtpd_milter_mail(SMTPD_STATE *st, const char *params);
int     smtpd_milter_rcpt(SMTPD_STATE *st, const char *rcpt, const char *params);
int     smtpd_milter_data(SMTPD_STATE *st, const char *verb, const char *queue_id);
int     smtpd_milter_unknown(SMTPD_STATE *st, const char *line);
int     smtpd_milter_discard(const SMTPD_STATE *st);
const char *smtpd_milter_hold(const SMTPD_STATE *st);    /* quarantine reason or NULL */
void    smtpd_milter_reset(SMTPD_STATE *st);
void    smtpd_milter_free(SMTPD_STATE *st);
/* Hand the filter sessions to cleanup (CLEANUP_FLAG_SMTPD_MILTERS): 0, or
 * -1 with why; smtpd_milter_done: cleanup answered, so it ended the
 * message with the filters (end of message or ABORT). */
int     smtpd_milter_handoff(SMTPD_STATE *st, SMTPD_CLEANUP *c, BUF *why);
void    smtpd_milter_done(SMTPD_STATE *st);
/* A reply that may hold several lines ("550-a\r\n550 b"). */
void    smtpd_reply_lines(SMTPD_STATE *st, const char *text);

/* Replies and the reject log line (smtpd_reply.c). */
void    smtpd_reply(SMTPD_STATE *st, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
int     smtpd_flush(SMTPD_STATE *st);
void    smtpd_log_refusal(SMTPD_STATE *st, const char *queue_id, const char *kind,
                          const char *stage, const char *reply, const char *rcpt);
void    smtpd_log_reject(SMTPD_STATE *st, const char *queue_id, const char *stage,
                         const char *reply, const char *rcpt);

/* Verbs: 0 when the command succeeded (for the counters), -1 when not. */
typedef int (*SMTPD_VERB_FN)(SMTPD_STATE *st, const char *args);

int     smtpd_cmd_helo(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_ehlo(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_mail(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_rcpt(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_data(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_bdat(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_rset(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_noop(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_quit(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_vrfy(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_help(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_starttls(SMTPD_STATE *st, const char *args);
int     smtpd_cmd_auth(SMTPD_STATE *st, const char *args);     /* smtpd_sasl.c */
int     smtpd_sasl_offered(const SMTPD_STATE *st);
void    smtpd_bdat_abort(SMTPD_STATE *st);
int     smtpd_tls_required(SMTPD_STATE *st);   /* 1: replied 530, refuse the command */
int     smtpd_tls_wrapper(SMTPD_STATE *st);    /* wrappermode handshake: 0, -1 end */
const char *smtpd_tls_received(SMTPD_STATE *st, char *out, size_t len);

/* The cleanup socket, relative to queue_directory (only daemons submit). */
#define SMTPD_CLEANUP_PATH  MAIL_SERVICE_CLEANUP   /* private/ or public/ */

#endif
