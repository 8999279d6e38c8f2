/* smtpd_check_int - what smtpd_check.c and smtpd_check_addr.c share.
 * Not for the rest of smtpd: its interface is smtpd_check.h. */
#ifndef SUREL_SMTPD_CHECK_INT_H
#define SUREL_SMTPD_CHECK_INT_H

#include "buf.h"
#include "dict.h"
#include "match_list.h"
#include "smtpd_check.h"

/* What one restriction answers. */
#define CHECK_DUNNO     0           /* no opinion: next restriction */
#define CHECK_PERMIT    1           /* this list accepts */
#define CHECK_REJECT    2           /* reject or defer: the reply is made */
#define CHECK_UNKNOWN   3           /* not a restriction of that module */

/* The names in replies, as Postfix words them. */
#define SMTPD_NAME_CLIENT       "Client host"
#define SMTPD_NAME_HELO         "Helo command"
#define SMTPD_NAME_SENDER       "Sender address"
#define SMTPD_NAME_RECIPIENT    "Recipient address"
#define SMTPD_NAME_DATA         "Data command"
#define SMTPD_NAME_EOD          "End-of-data"

/* One evaluation: a smtpd_check_* call. */
typedef struct CHECK_STATE {
    const SMTPD_CHECK_CTX *ctx;
    const char *rcpt;               /* RCPT stage: the recipient (internal form) */
    BUF    *reply;                  /* the reply once rejected */
    const char *where;              /* CONNECT, HELO, MAIL, RCPT, DATA (for logs) */
    const char *namaddr;            /* "name[addr]" */
    BUF    *namaddr_buf;
    int     recursion;              /* restriction classes and table results */
    BUF    *defer_if_permit;        /* DEFER_IF_PERMIT's reply, NULL: none */
    BUF    *defer_if_reject;        /* DEFER_IF_REJECT's reply, NULL: none */
} CHECK_STATE;

/* Everything smtpd_check_init prepares. */
typedef struct CHECK_GLOBALS {
    int     ready;
    MATCH_LIST *mynetworks;
    MAPS   *sender_login_maps;      /* smtpd_sender_login_maps, NULL when empty */
    int     delay_reject;
    int     helo_required;
    int     soft_bounce;
    int     allow_untrusted_routing;
    int     reject_unlisted_rcpt;   /* smtpd_reject_unlisted_recipient */
    int     reject_unlisted_sender;
    int     no_unknown_rcpt;        /* receive_override_options no_unknown_recipient_checks */
} CHECK_GLOBALS;

extern CHECK_GLOBALS smtpd_check_g;

/* Replies. */
int     smtpd_check_reject(CHECK_STATE *st, int code, const char *dsn, const char *fmt, ...)
            __attribute__((format(printf, 4, 5)));
int     smtpd_check_trylater(CHECK_STATE *st, const char *reply_name);

/* Access tables: keys in order, the first found decides. */
int     smtpd_check_access(CHECK_STATE *st, const char *table, const char *const *keys,
                           int nkeys, const char *reply_name, const char *reply_class);
int     smtpd_check_table_result(CHECK_STATE *st, const char *table, const char *value,
                                 const char *reply_name, const char *reply_class);

/* Lookup keys. */
typedef struct KEY_LIST {
    char  **keys;
    int     count;
    int     cap;
} KEY_LIST;
void    smtpd_check_keys_init(KEY_LIST *keys);
void    smtpd_check_keys_add(KEY_LIST *keys, const char *key);
void    smtpd_check_keys_domain(KEY_LIST *keys, const char *name);  /* name, .parents */
void    smtpd_check_keys_addr(KEY_LIST *keys, const char *addr);    /* addr, networks */
void    smtpd_check_keys_mail(KEY_LIST *keys, const char *addr);    /* access(5) order */
void    smtpd_check_keys_free(KEY_LIST *keys);

/* Address, relay and HELO restrictions (smtpd_check_addr.c); CHECK_UNKNOWN
 * for a name that is none of them. */
int     smtpd_check_addr_restriction(CHECK_STATE *st, const char *name);

/* dsn and text of a table or template reply (smtpd_check.c) */
const char *smtpd_check_dsn_split(const char *text, const char *def, char dsn[16]);
void    smtpd_check_dsn_fix(char *dsn, const char *reply_class);

/* DNS block and allow lists (smtpd_check_dnsbl.c). */
int     smtpd_check_dnsxl_known(const char *name);      /* takes a DOMAIN argument */
int     smtpd_check_dnsxl(CHECK_STATE *st, const char *name, const char *arg);
void    smtpd_check_dnsxl_init(int used);               /* before the chroot */
int     smtpd_check_dnsxl_reverse(const char *addr, BUF *out);  /* 0, or -1 */
void    smtpd_check_dnsxl_session(void);                /* forget the cache */

/* check_policy_service (smtpd_check_policy.c). */
int     smtpd_check_policy(CHECK_STATE *st, const char *endpoint, const char *reply_name,
                           const char *reply_class);
void    smtpd_check_policy_free(void);  /* close the kept connections */

/* Reply templates (smtpd_check_expand.c): 0, or -1 with why. */
typedef struct SMTPD_EXPAND_VARS {
    const char *rbl_code, *rbl_class, *rbl_domain, *rbl_what, *rbl_txt;
} SMTPD_EXPAND_VARS;
int     smtpd_check_expand(CHECK_STATE *st, const char *tmpl, const SMTPD_EXPAND_VARS *vars,
                           BUF *out, BUF *why);

#endif
