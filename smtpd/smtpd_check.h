/* smtpd_check - SMTP access control: the smtpd_*_restrictions lists.
 *
 * Evaluated as Postfix does: each restriction list is a sequence of
 * restrictions that answer permit (stop, accept this stage), reject/defer
 * (stop with a reply) or dunno (go on); the end of a list is permit.
 * With smtpd_delay_reject = yes (the default) the client, helo and sender
 * lists are evaluated at RCPT TO, so that the reply names the recipient.
 * RCPT TO runs smtpd_relay_restrictions and then
 * smtpd_recipient_restrictions; both must permit.
 *
 * Each smtpd_check_* returns SMTPD_CHECK_OK, or REJECT/DEFER with the whole
 * reply line in `reply` (e.g. "554 5.7.1 <a@b>: Relay access denied"); the
 * caller sends it and logs "NOQUEUE: reject: ...". A lookup table that
 * fails gives a 451 4.3.0 DEFER, never a reject.
 */
#ifndef SUREL_SMTPD_CHECK_H
#define SUREL_SMTPD_CHECK_H

#include "buf.h"

#define SMTPD_CHECK_OK      0
#define SMTPD_CHECK_REJECT  5
#define SMTPD_CHECK_DEFER   4

/* What access results ask of the message beyond the reply (HOLD,
 * DISCARD, PREPEND, FILTER), kept by smtpd for the transaction. */
#define SMTPD_CHECK_PREPEND_MAX 20  /* headers one transaction may prepend */
typedef struct SMTPD_CHECK_ACTIONS {
    int     hold;                   /* commit the message to hold/ */
    int     discard;                /* answer 250 and drop the message */
    char   *prepend[SMTPD_CHECK_PREPEND_MAX];  /* header lines, in order */
    int     nprepend;
    char   *filter;                 /* FILTER transport:nexthop (the last wins), or NULL */
    /* Postfix's "NOQUEUE: hold: RCPT from ...; from=<> to=<> ..." line */
    void    (*log)(void *log_ctx, const char *kind, const char *where, const char *text,
                   const char *rcpt);
    void   *log_ctx;
} SMTPD_CHECK_ACTIONS;

void    smtpd_check_actions_reset(SMTPD_CHECK_ACTIONS *a);     /* forget (keeps log) */

/* How the client's names were found (Postfix's SMTPD_PEER_CODE_*). */
#define SMTPD_PEER_CODE_OK      2   /* found (and, for the name, confirmed) */
#define SMTPD_PEER_CODE_TEMP    4   /* DNS failed for now */
#define SMTPD_PEER_CODE_PERM    5   /* no name (or lookups are off) */
#define SMTPD_PEER_CODE_FORGED  6   /* PTR name whose A/AAAA lacks the address */

typedef struct SMTPD_CHECK_CTX {
    const char *client_addr;        /* "192.0.2.1", "::1" */
    const char *client_name;        /* "unknown" when not verified */
    const char *reverse_name;       /* the PTR name, unconfirmed; "unknown": none */
    int     name_status;            /* SMTPD_PEER_CODE_* of client_name; 0: OK */
    int     reverse_name_status;    /* of reverse_name; 0: OK */
    const char *helo;               /* NULL before HELO/EHLO */
    const char *sender;             /* NULL before MAIL; "" for <> (internal form) */
    int     sasl_authenticated;
    const char *sasl_username;      /* NULL: not authenticated */
    int     tls;
    /* For policy servers (check_policy_service); NULL/0 when unknown. */
    const char *sasl_method;
    const char *protocol_name;      /* SMTP, ESMTP */
    const char *queue_id;
    const char *instance;           /* one value per transaction */
    int     rcpt_count;             /* recipients accepted so far */
    long long size;                 /* MAIL FROM SIZE=, or the DATA size */
    const char *tls_protocol;       /* "" without TLS */
    const char *tls_cipher;
    int     tls_bits;
    int     stress;
    const char *client_port;
    const char *server_addr;
    const char *server_port;
    SMTPD_CHECK_ACTIONS *actions;   /* NULL: HOLD, DISCARD, PREPEND unsupported */
    int     ill_pipelining;         /* improper command pipelining seen */
} SMTPD_CHECK_CTX;

void    smtpd_check_init(void);     /* parse lists, open tables (before chroot) */
void    smtpd_check_session(void);  /* a new SMTP session: forget cached DNS answers */
int     smtpd_check_client(const SMTPD_CHECK_CTX *ctx, BUF *reply);     /* at connect */
int     smtpd_check_helo(const SMTPD_CHECK_CTX *ctx, BUF *reply);       /* at HELO/EHLO */
int     smtpd_check_mail(const SMTPD_CHECK_CTX *ctx, BUF *reply);       /* at MAIL */
int     smtpd_check_rcpt(const SMTPD_CHECK_CTX *ctx, const char *rcpt, BUF *reply);
int     smtpd_check_data(const SMTPD_CHECK_CTX *ctx, BUF *reply);       /* at DATA/BDAT */
/* after the final dot or BDAT LAST (ctx->size: the message's octets,
 * ctx->queue_id set); rcpt: the one recipient or NULL (Postfix gives
 * policy servers the recipient only then) */
int     smtpd_check_eod(const SMTPD_CHECK_CTX *ctx, const char *rcpt, BUF *reply);
int     smtpd_check_in_mynetworks(const char *client_addr);

#endif
