/* milter - the MTA side of the Sendmail milter protocol, version 6.
 *
 * A milter is a content filter (OpenDKIM, spamass-milter, rspamd,
 * clamav-milter) that the MTA talks to over a socket while a message comes
 * in: it is told the connection, HELO, sender, each recipient, the header
 * and the body, and at each step it answers continue, accept, reject,
 * tempfail, a reply of its own, discard or, at the end of the message,
 * a list of changes (headers, body, recipients, sender, quarantine).
 * libmilter is the filter side; there is no library for this side, so
 * this module is it (Postfix's milter8.c, written again).
 *
 * Two layers:
 *   milter_pkt_*  the packet codec: pure functions on buffers, with a
 *                 bound on every length (unit tested, fuzzable)
 *   milter_*      one filter: connect (inet:host:port, unix:/path,
 *                 local:/path), negotiate (SMFIC_OPTNEG), send a command
 *                 with its macros, read the reply
 *   milters_*     the ordered list of filters of smtpd_milters or
 *                 non_smtpd_milters, with milter_default_action applied
 *                 to a filter that fails, and the per-filter settings of
 *                 Postfix's "{ inet:host:port, default_action=accept }"
 *
 * SECURITY: a filter is trusted as much as the administrator who names it,
 * but its bytes are still bounded: a packet longer than MILTER_PKT_MAX,
 * a reply code that is not 4xx/5xx, or a truncated field is a protocol
 * error (the filter "failed"), never a large allocation. Every read and
 * write has a timeout (milter_connect_timeout, milter_command_timeout,
 * milter_content_timeout). Log lines name the queue ID when known.
 */
#ifndef SUREL_MILTER_H
#define SUREL_MILTER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Commands (MTA to filter). */
#define SMFIC_ABORT     'A'
#define SMFIC_BODY      'B'
#define SMFIC_CONNECT   'C'
#define SMFIC_MACRO     'D'
#define SMFIC_BODYEOB   'E'
#define SMFIC_HELO      'H'
#define SMFIC_QUIT_NC   'K'
#define SMFIC_HEADER    'L'
#define SMFIC_MAIL      'M'
#define SMFIC_EOH       'N'
#define SMFIC_OPTNEG    'O'
#define SMFIC_QUIT      'Q'
#define SMFIC_RCPT      'R'
#define SMFIC_DATA      'T'
#define SMFIC_UNKNOWN   'U'

/* Replies (filter to MTA). */
#define SMFIR_ADDRCPT       '+'
#define SMFIR_DELRCPT       '-'
#define SMFIR_ADDRCPT_PAR   '2'
#define SMFIR_SHUTDOWN      '4'
#define SMFIR_ACCEPT        'a'
#define SMFIR_REPLBODY      'b'
#define SMFIR_CONTINUE      'c'
#define SMFIR_DISCARD       'd'
#define SMFIR_CHGFROM       'e'
#define SMFIR_CONN_FAIL     'f'
#define SMFIR_ADDHEADER     'h'
#define SMFIR_INSHEADER     'i'
#define SMFIR_SETSYMLIST    'l'
#define SMFIR_CHGHEADER     'm'
#define SMFIR_PROGRESS      'p'
#define SMFIR_QUARANTINE    'q'
#define SMFIR_REJECT        'r'
#define SMFIR_SKIP          's'
#define SMFIR_TEMPFAIL      't'
#define SMFIR_REPLYCODE     'y'

/* Actions the filter may take (negotiated). */
#define SMFIF_ADDHDRS       0x001
#define SMFIF_CHGBODY       0x002
#define SMFIF_ADDRCPT       0x004
#define SMFIF_DELRCPT       0x008
#define SMFIF_CHGHDRS       0x010
#define SMFIF_QUARANTINE    0x020
#define SMFIF_CHGFROM       0x040
#define SMFIF_ADDRCPT_PAR   0x080
#define SMFIF_SETSYMLIST    0x100
#define SMFIF_ALL           0x1ff

/* Protocol steps the filter does not want, or answers not (negotiated). */
#define SMFIP_NOCONNECT     0x000001
#define SMFIP_NOHELO        0x000002
#define SMFIP_NOMAIL        0x000004
#define SMFIP_NORCPT        0x000008
#define SMFIP_NOBODY        0x000010
#define SMFIP_NOHDRS        0x000020
#define SMFIP_NOEOH         0x000040
#define SMFIP_NR_HDR        0x000080
#define SMFIP_NOUNKNOWN     0x000100
#define SMFIP_NODATA        0x000200
#define SMFIP_SKIP          0x000400
#define SMFIP_RCPT_REJ      0x000800
#define SMFIP_NR_CONN       0x001000
#define SMFIP_NR_HELO       0x002000
#define SMFIP_NR_MAIL       0x004000
#define SMFIP_NR_RCPT       0x008000
#define SMFIP_NR_DATA       0x010000
#define SMFIP_NR_UNKN       0x020000
#define SMFIP_NR_EOH        0x040000
#define SMFIP_NR_BODY       0x080000
#define SMFIP_HDR_LEADSPC   0x100000
#define SMFIP_ALL           0x1fffff  /* every step flag this side honours */

/* Macro stages (SMFIR_SETSYMLIST and the macro lists). */
#define SMFIM_CONNECT   0
#define SMFIM_HELO      1
#define SMFIM_ENVFROM   2
#define SMFIM_ENVRCPT   3
#define SMFIM_DATA      4
#define SMFIM_EOM       5
#define SMFIM_EOH       6
#define SMFIM_UNKNOWN   7           /* not in libmilter: Postfix's list */
#define SMFIM_COUNT     8

#define MILTER_PKT_MAX      (1024 * 1024 + 64)  /* longest packet we read */
#define MILTER_PROGRESS_CAP 4       /* progress extends one answer to this many timeouts */
#define MILTER_PASS_MAX_FDS 32      /* filter sockets handed over at most */
#define MILTER_CHUNK_MAX    65535               /* body chunk we send */

/* ---- The codec: a packet is len(4, network order, command included),
 * command(1), data(len - 1). */

/* Append a whole packet to out. */
void    milter_pkt_put(BUF *out, int cmd, const void *data, size_t len);
/* Helpers that build a packet's data. */
void    milter_pkt_put_u32(BUF *data, uint32_t v);
void    milter_pkt_put_u16(BUF *data, uint16_t v);
void    milter_pkt_put_str(BUF *data, const char *s);   /* with its NUL */

/* Parse the 5-byte packet head: 0 with *cmd and *len (data length), -1
 * when the length is 0 or above MILTER_PKT_MAX. */
int     milter_pkt_head(const unsigned char head[5], int *cmd, size_t *len);

/* A cursor over a packet's data. Each get returns 0, or -1 when the data
 * ends first (the cursor is then spent). */
typedef struct MILTER_PKT {
    const char *data;
    size_t  len;
    size_t  pos;
} MILTER_PKT;

void    milter_pkt_init(MILTER_PKT *p, const char *data, size_t len);
int     milter_pkt_get_u32(MILTER_PKT *p, uint32_t *v);
int     milter_pkt_get_str(MILTER_PKT *p, const char **s);  /* NUL-ended in data */
size_t  milter_pkt_left(const MILTER_PKT *p);

/* A filter's reply text (SMFIR_REPLYCODE): 0 when it is "4xx ..." or
 * "5xx ..." of printable text (multi-line replies "550-a\r\n550 b"
 * included), -1 otherwise. */
int     milter_reply_ok(const char *text);

/* ---- One filter. */

/* Values of a macro for the filter, by name ("j", "{client_addr}");
 * NULL: not known, not sent. */
typedef const char *(*MILTER_MACRO_FN)(void *ctx, const char *name);

/* The changes a filter asks for at the end of the message, applied by
 * whoever writes the queue file (cleanup). Each returns 0, or -1 when it
 * cannot (the message is then tempfailed). Index semantics are the
 * protocol's: ins_header index 0 is before the first header; chg_header
 * index n is the n-th (1-based) header of that name, an empty value
 * deletes it. repl_body gets the new body in pieces, first==1 on the
 * first; its line ends are CRLF as the filter sent them. */
typedef struct MILTER_EDITS {
    void   *ctx;
    int     (*add_header)(void *ctx, const char *name, const char *value);
    int     (*ins_header)(void *ctx, long index, const char *name, const char *value);
    int     (*chg_header)(void *ctx, long index, const char *name, const char *value);
    int     (*repl_body)(void *ctx, int first, const char *data, size_t len);
    int     (*add_rcpt)(void *ctx, const char *rcpt, const char *args);
    int     (*del_rcpt)(void *ctx, const char *rcpt);
    int     (*chg_from)(void *ctx, const char *from, const char *args);
    int     (*quarantine)(void *ctx, const char *reason);
} MILTER_EDITS;

/* Results of a stage, for the list as a whole. */
#define MILTER_CONTINUE     0   /* go on */
#define MILTER_REJECT       1   /* reply (4xx or 5xx) in the reply buffer */
#define MILTER_DISCARD      2   /* accept the command, drop the message */

/* milter_default_action values. */
#define MILTER_DEF_TEMPFAIL     0
#define MILTER_DEF_ACCEPT       1
#define MILTER_DEF_REJECT       2
#define MILTER_DEF_QUARANTINE   3
int     milter_default_action_parse(const char *text);   /* -1: unknown */

typedef struct MILTERS MILTERS;

/* Settings for a list; each filter may override them in braces. */
typedef struct MILTER_SETTINGS {
    int     connect_timeout;
    int     command_timeout;
    int     content_timeout;
    int     protocol;               /* 2..6 */
    int     default_action;         /* MILTER_DEF_* */
    const char *macros[SMFIM_COUNT];    /* names, separated by space/comma */
} MILTER_SETTINGS;

/* From main.cf (milter_*): the defaults every filter starts with. */
void    milter_settings_from_config(MILTER_SETTINGS *set);

/* The macros every program gives alike: j ($myhostname), {daemon_name}
 * (milter_macro_daemon_name), v (milter_macro_v); NULL for others. */
const char *milter_macro_common(const char *name);

/* Parse a list ("inet:127.0.0.1:8891, unix:/run/x.sock,
 * { inet:h:p, default_action=accept }"); NULL with why on a syntax error.
 * Nothing is connected yet. */
MILTERS *milters_create(const char *list, const MILTER_SETTINGS *set, BUF *why);
void    milters_free(MILTERS *m);           /* sends QUIT, closes */
int     milters_count(const MILTERS *m);

/* Set the macro look-up and the queue ID used in log lines. */
void    milters_set_macros(MILTERS *m, MILTER_MACRO_FN fn, void *ctx);
void    milters_set_queue_id(MILTERS *m, const char *queue_id);

/* The stages. Each returns MILTER_CONTINUE, MILTER_REJECT (reply set) or
 * MILTER_DISCARD. milters_connect connects and negotiates each filter
 * first; family is '4', '6', 'U' (unix) or 'L' (unknown); addr is NULL
 * for 'L'. */
int     milters_connect(MILTERS *m, const char *host, int family, const char *addr,
                        unsigned port, BUF *reply);
int     milters_helo(MILTERS *m, const char *helo, BUF *reply);
/* args: the ESMTP parameters as separate strings, NULL-ended (may be NULL). */
int     milters_mail(MILTERS *m, const char *sender, const char *const *args, BUF *reply);
int     milters_rcpt(MILTERS *m, const char *rcpt, const char *const *args, BUF *reply);
int     milters_data(MILTERS *m, BUF *reply);
int     milters_unknown(MILTERS *m, const char *command, BUF *reply);
/* Content: each header (name, value as in the message, folded lines
 * joined by "\n"), the end of the header, body lines (without their line
 * end), then eom with the edits to apply. */
int     milters_header(MILTERS *m, const char *name, const char *value, BUF *reply);
int     milters_eoh(MILTERS *m, BUF *reply);
int     milters_body_line(MILTERS *m, const char *line, size_t len, BUF *reply);
int     milters_eom(MILTERS *m, const MILTER_EDITS *edits, BUF *reply);
/* Quarantine asked for by a filter that failed with
 * default_action=quarantine or by SMFIR_QUARANTINE: the reason, or NULL. */
const char *milters_quarantine(const MILTERS *m);
/* The transaction ends without a message (RSET, rejected) or after eom:
 * the filters forget the message and wait for the next MAIL. */
void    milters_abort(MILTERS *m);
/* The message is over for the filters (another process sent them its
 * end of message or ABORT): forget it without sending anything. */
void    milters_message_done(MILTERS *m);

/* ---- Handing the filter sessions to cleanup (Postfix's milter_send and
 * milter_receive): the list's settings, negotiated state and open sockets
 * (SCM_RIGHTS) go over a UNIX socket, with the values of the macros the
 * end-of-header and end-of-message stages ask for (evaluated by the
 * sender, which knows the SMTP session). The receiver talks to the same
 * filter connections and never QUITs them (the sender's session goes on);
 * a filter that fails there is shut down for both. */
int     milters_export(MILTERS *m, BUF *blob, int *fds, int max_fds);   /* fd count */
/* milters_import owns fds: on failure it closes them. */
MILTERS *milters_import(const char *blob, size_t len, const int *fds, int nfds, BUF *why);
int     milters_send(MILTERS *m, int sock, BUF *why);      /* 0, or -1 with why */
/* The receiving side, without blocking (cleanup's event loop): each step
 * reads what has arrived, never past the hand-over; 1 with *out when
 * complete, 0 for more, -1 with why. */
typedef struct MILTERS_RECV MILTERS_RECV;
MILTERS_RECV *milters_recv_create(void);
int     milters_recv_step(MILTERS_RECV *r, int sock, MILTERS **out, BUF *why);
void    milters_recv_free(MILTERS_RECV *r);
/* A macro value handed over with the sessions, or NULL. */
const char *milters_macro_copy(const MILTERS *m, const char *name);

#endif
