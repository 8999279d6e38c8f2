/* cleanup.h - the cleanup daemon's private interfaces.
 *
 * One CLEANUP_STATE per submission. Input arrives as raw bytes
 * (cleanup_input), is cut into records and driven through the envelope,
 * content and end phases of the cleanup protocol (mail_proto.h); output
 * goes to a queue file made with qfile_create. cleanup_finish commits or
 * removes that file and says what to answer.
 *
 * Queue file layout written here (qfile.h grammar):
 *     C T  A* F? S  M  header and body lines  X  I? (O o? n? R)*  E
 * The content filter I is written after X too: header_checks and
 * body_checks FILTER may replace the one the client sent.
 * Every recipient is written after X: the final recipient list is known
 * only at the end of the content (header-extracted recipients for
 * sendmail -t, a REDIRECT from header or body checks).
 */
#ifndef SUREL_CLEANUP_H
#define SUREL_CLEANUP_H

#include <stddef.h>

#include "buf.h"
#include "dict.h"
#include "header_rewrite.h"
#include "match_list.h"
#include "msg_size.h"
#include "qfile.h"
#include "server.h"
#include "stream.h"

/* What main.cf says; cleanup_conf_init fills it, tests may too. */
typedef struct CLEANUP_CONF {
    char   *queue_dir;              /* where temp/ incoming/ hold/ public/ are */
    char   *myhostname;
    char   *myorigin;
    char   *recipient_delimiter;
    MAPS   *canonical_maps;         /* NULL: none */
    MAPS   *send_canon_maps;
    MAPS   *rcpt_canon_maps;
    MAPS   *virtual_alias_maps;
    MAPS   *sender_bcc_maps;
    MAPS   *recipient_bcc_maps;
    char   *always_bcc;             /* "": none */
    char  **masq_domains;           /* masquerade_domains, split */
    int     masq_count;
    int     masq_flags;             /* CLEANUP_MASQ_* from masquerade_classes */
    MATCH_LIST *masq_except;        /* masquerade_exceptions, or NULL */
    HEADER_REWRITE *header_rewrite; /* local_header_rewrite_clients */
    MAPS   *header_checks;
    MAPS   *body_checks;
    long    message_size_limit;     /* 0: none */
    long    header_size_limit;
    long    virt_expansion_limit;
    long    virt_recursion_limit;
    int     replace_stray_cr_lf;
    long    delay_warning_time;     /* seconds; 0: no delay warnings */
    int     ipc_timeout;
    int     master_child;           /* run by the master: status pipe to tell BUSY */
} CLEANUP_CONF;

extern CLEANUP_CONF cleanup_conf;

void    cleanup_conf_init(void);    /* from config_*(); fatal on a bad table list */
void    cleanup_conf_free(void);

/* One recipient as it will be written. */
typedef struct CLEANUP_RCPT {
    char   *addr;                   /* R */
    char   *orcpt;                  /* O: as the client gave it */
    char   *dsn_orcpt;              /* o: "" when none */
    int     dsn_notify;             /* n: 0 when none */
} CLEANUP_RCPT;

/* Protocol phases (client records allowed in each: mail_proto.h). */
typedef enum cleanup_phase {
    CLEANUP_PH_ATTR,                /* A* F? then S */
    CLEANUP_PH_RCPT,                /* (O|o|n)* R ... then M */
    CLEANUP_PH_CONTENT,             /* N L then X */
    CLEANUP_PH_EXTRACTED,           /* E */
    CLEANUP_PH_SKIP,                /* after a grammar error: read up to E */
    CLEANUP_PH_DONE                 /* E seen */
} CLEANUP_PHASE;

/* The record reader's state (cleanup_input). */
typedef struct CLEANUP_IN {
    int     step;                   /* 0 type, 1 length, 2 data */
    int     type;
    size_t  len;
    int     shift;
    int     last_len_byte;
    BUF    *data;
} CLEANUP_IN;

typedef struct CLEANUP_STATE {
    char    queue_id[QUEUE_ID_BUFSZ];
    QFILE_WRITER *qf;
    STREAM *dst;                    /* qfile_stream(qf) */
    int     flags;                  /* CLEANUP_FLAG_* from the client */
    int     errs;                   /* CLEANUP_STAT_* so far */
    BUF    *reason;                 /* for the client; empty: none */
    CLEANUP_PHASE phase;
    CLEANUP_IN in;
    /* Envelope. */
    char  **attrs;                  /* "name=value" A records, in order */
    int     nattrs;
    char   *fullname;               /* F, or NULL */
    char   *sender;                 /* S after mapping, or NULL before S */
    char   *log_sender;             /* S as given, for logs */
    char   *first_rcpt;             /* first R as given, for logs */
    int     extract;                /* CLEANUP_FLAG_EXTRACT with _LOCAL (sendmail -t) */
    int     extract_notify;         /* DSN NOTIFY bits for extracted recipients */
    char   *p_orcpt;                /* O/o/n seen for the next R */
    char   *p_dsn_orcpt;
    int     p_notify;
    int     p_seen;                 /* bits: which of O o n */
    CLEANUP_RCPT *rcpts;
    int     nrcpt;
    int     rcpt_cap;
    void   *dups;                   /* duplicate filter (cleanup_dup.c) */
    /* Actions. */
    int     hold;
    int     discard;
    char   *redirect;
    char   *filter;                 /* I: "transport:nexthop", or NULL */
    /* Content. */
    long    data_offset;            /* of the M record */
    long    content_size;           /* bytes of content written */
    MSG_SIZE in_size;               /* content counted for message_size_limit */
    int     in_header;              /* 1 while in the primary header */
    int     last_partial;           /* the previous content record was L */
    int     header_truncated;       /* this header lost its excess */
    BUF    *header;                 /* the logical header being built */
    unsigned long headers_seen;     /* 1 << CLEANUP_HDR_* */
    int     resent;                 /* a Resent- header was seen */
    int     hop_count;
    int     hdr_context;            /* CLEANUP_HDR_CTX_*: how header addresses are qualified */
    char  **xtr;                    /* To/Cc/Bcc addresses for sendmail -t */
    int     nxtr;
    char  **xtr_resent;             /* Resent-To/Cc/Bcc addresses */
    int     nxtr_resent;
    BUF    *temp;
    void   *milter;                 /* cleanup_milter.c's state, or NULL */
} CLEANUP_STATE;

/* Header address rewriting contexts (Postfix's rewrite_context). */
#define CLEANUP_HDR_CTX_UNKNOWN 0   /* not decided yet (no header seen) */
#define CLEANUP_HDR_CTX_LOCAL   1   /* address_qualify */
#define CLEANUP_HDR_CTX_REMOTE  2   /* address_qualify_remote */

#define CLEANUP_OUT_OK(s)   ((s)->errs == 0 && !(s)->discard)
#define CLEANUP_RCPT_MAX    100000      /* recipients kept for one message */
#define CLEANUP_IN_RECORD_MAX (64 * 1024)   /* longest record a client may send */
#define CLEANUP_OUT_CHUNK   4096        /* content written in records of this size */

/* cleanup_service.c: the multi_server routine. */
void    cleanup_service(STREAM *client, const SERVER_CTX *ctx);

/* cleanup_state.c: life cycle and the record state machine. */
CLEANUP_STATE *cleanup_open(int flags, BUF *why);
void    cleanup_free(CLEANUP_STATE *state);
void    cleanup_record(CLEANUP_STATE *state, int type, const char *data, size_t len);
int     cleanup_finish(CLEANUP_STATE *state);   /* status; reason in state->reason */
void    cleanup_abort(CLEANUP_STATE *state);    /* remove the file, release */
void    cleanup_set_reason(CLEANUP_STATE *state, int err, const char *text);
void    cleanup_bad(CLEANUP_STATE *state, const char *what);

/* cleanup_input.c: bytes in, records out. */
#define CLEANUP_IN_MORE     0       /* give me more bytes */
#define CLEANUP_IN_DONE     1       /* E was read: finish */
#define CLEANUP_IN_BROKEN   2       /* framing lost: finish now */
int     cleanup_input(CLEANUP_STATE *state, const char *bytes, size_t len);

/* cleanup_envelope.c */
void    cleanup_envelope(CLEANUP_STATE *state, int type, const char *data, size_t len);
void    cleanup_add_rcpt(CLEANUP_STATE *state, const char *addr, const char *orcpt,
                         const char *dsn_orcpt, int dsn_notify);
void    cleanup_write_envelope(CLEANUP_STATE *state);
void    cleanup_write_rcpts(CLEANUP_STATE *state);
void    cleanup_bcc_sender(CLEANUP_STATE *state);       /* sender_bcc_maps, always_bcc */
void    cleanup_add_bcc(CLEANUP_STATE *state, const char *bcc);    /* NOTIFY=NEVER copy */

/* cleanup_message.c: header and body. */
void    cleanup_content(CLEANUP_STATE *state, int type, const char *data, size_t len);
void    cleanup_content_end(CLEANUP_STATE *state);

/* cleanup_header.c: one logical header. */
void    cleanup_header(CLEANUP_STATE *state, BUF *header);
void    cleanup_header_done(CLEANUP_STATE *state);

/* cleanup_act.c: header_checks and body_checks actions. */
#define CLEANUP_ACT_KEEP    0       /* output the (possibly replaced) text */
#define CLEANUP_ACT_DROP    1       /* IGNORE */
int     cleanup_checks(CLEANUP_STATE *state, MAPS *maps, const char *context,
                       BUF *text);
const char *cleanup_attr_value(CLEANUP_STATE *state, const char *name);    /* or NULL */
/* cleanup_set_filter - a content filter for the message (the last wins);
 * 0, or -1 with a warning when it is not "transport:nexthop" */
int     cleanup_set_filter(CLEANUP_STATE *state, const char *filter, const char *where);
void    cleanup_act_log(CLEANUP_STATE *state, const char *action, const char *context,
                        const char *content, const char *text);
void    cleanup_log_envelope(CLEANUP_STATE *state, BUF *line);  /* " from=<> to=<> ..." */

/* cleanup_map.c: canonical and virtual alias mapping. */
int     cleanup_map11(CLEANUP_STATE *state, MAPS *maps, const char *name,
                      const char *addr, BUF *out);    /* 1 changed, 0 not, -1 defer */
/* cleanup_map_find - one lookup with the order above: 1 found (the result
 * in out; with propagate, an unmatched extension put back), 0 not, -1
 * deferred (sender_bcc_maps, recipient_bcc_maps: found is what counts) */
int     cleanup_map_find(CLEANUP_STATE *state, MAPS *maps, const char *name,
                         const char *addr, int propagate, BUF *out);
int     cleanup_canon_sender(CLEANUP_STATE *state, const char *addr, BUF *out);
int     cleanup_canon_recip(CLEANUP_STATE *state, const char *addr, BUF *out);
int     cleanup_virtual(CLEANUP_STATE *state, const char *addr, char ***result, int *count);

/* cleanup_milter.c: smtpd's filter sessions (1 when received, 0 more
 * bytes needed, -1 broken), the content phase and the filters' changes
 * before the commit, and the release. */
int     cleanup_milter_receive(CLEANUP_STATE *state, int fd);
void    cleanup_milter_finish(CLEANUP_STATE *state);
void    cleanup_milter_free(CLEANUP_STATE *state);

/* cleanup_masq.c: masquerade_domains, masquerade_classes, masquerade_exceptions. */
#define CLEANUP_MASQ_ENV_FROM   (1 << 0)
#define CLEANUP_MASQ_ENV_RCPT   (1 << 1)
#define CLEANUP_MASQ_HDR_FROM   (1 << 2)
#define CLEANUP_MASQ_HDR_RCPT   (1 << 3)
void    cleanup_masq_init(void);
void    cleanup_masq_free(void);
/* cleanup_masquerade - masquerade addr in place when class is enabled; 1 changed */
int     cleanup_masquerade(CLEANUP_STATE *state, int class, BUF *addr);

/* cleanup_dup.c: a set of strings. */
void   *cleanup_dup_create(void);
int     cleanup_dup_seen(void *set, const char *key);   /* 1 if there; adds it */
void    cleanup_dup_free(void *set);

/* cleanup_out.c: records into the queue file. */
void    cleanup_out(CLEANUP_STATE *state, int type, const char *data, size_t len);
void    cleanup_out_string(CLEANUP_STATE *state, int type, const char *str);
void    cleanup_out_line(CLEANUP_STATE *state, const char *data, size_t len, int partial);
void    cleanup_out_header(CLEANUP_STATE *state, const char *text, size_t len);
void    cleanup_trigger_qmgr(void);

#endif
