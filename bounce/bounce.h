/* bounce.h - the bounce daemon's private interfaces.
 *
 * bounce_log.c      per-message recipient status logs (bounce/, defer/)
 * bounce_dsn.c      RFC 3464 delivery status notifications, composed
 * bounce_submit.c   the original queue file in, the DSN out through cleanup
 * bounce_service.c  the bounce protocol of mail_proto.h: append/flush/warn
 */
#ifndef SUREL_BOUNCE_H
#define SUREL_BOUNCE_H

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "buf.h"
#include "stream.h"

/* What happened to one recipient (the dsn_action attribute). */
typedef enum bounce_action {
    BOUNCE_ACT_FAILED,              /* permanent failure */
    BOUNCE_ACT_DELAYED,             /* temporary failure, still trying */
    BOUNCE_ACT_DELIVERED,           /* delivered (NOTIFY=SUCCESS) */
    BOUNCE_ACT_EXPANDED             /* delivered to an alias or list */
} BOUNCE_ACTION;

/* Bounds on what one log entry keeps (longer input is cut, with a warning). */
#define BOUNCE_ADDR_MAX     2048        /* recipient, original, ORCPT */
#define BOUNCE_REASON_MAX   4096        /* reason text */
#define BOUNCE_STATUS_MAX   16          /* "5.1.1" */
#define BOUNCE_LINE_MAX     (4 * (3 * BOUNCE_ADDR_MAX + BOUNCE_REASON_MAX) + 512)
#define BOUNCE_ENTRIES_MAX  100000      /* entries read from one log */

/* One line of a status log. */
typedef struct BOUNCE_ENTRY {
    BOUNCE_ACTION action;
    long    offset;                 /* file offset of the R record (0: unknown) */
    int     notify;                 /* DSN_NOTIFY_* bits; 0 = not given */
    char   *status;                 /* enhanced status code "d.d.d" */
    char   *recipient;              /* the address tried */
    char   *orig_rcpt;              /* the address as the sender gave it */
    char   *dsn_orcpt;              /* DSN ORCPT "type;address", or "" */
    char   *reason;                 /* human-readable reason */
} BOUNCE_ENTRY;

typedef struct BOUNCE_LOG {
    BOUNCE_ENTRY *entries;
    int     count;
    int     size;
} BOUNCE_LOG;

/* bounce_log.c */
const char *bounce_action_name(BOUNCE_ACTION action);
int     bounce_action_parse(const char *name, BOUNCE_ACTION *action);
void    bounce_log_format(BUF *line, const BOUNCE_ENTRY *entry);
int     bounce_log_parse(const char *line, size_t len, BOUNCE_ENTRY *entry);
void    bounce_entry_free(BOUNCE_ENTRY *entry);
void    bounce_log_init(BOUNCE_LOG *log);
void    bounce_log_free(BOUNCE_LOG *log);
void    bounce_log_dedup(BOUNCE_LOG *log);
int     bounce_log_path(BUF *path, const char *queue_dir, const char *queue,
                        const char *id);
int     bounce_log_append(const char *path, const BOUNCE_ENTRY *entry, BUF *why);
int     bounce_log_read(const char *path, BOUNCE_LOG *log, BUF *why);  /* 1 read, 0 none, -1 */

/* The kinds of notice (subject, wording, Action values). */
typedef enum bounce_kind {
    BOUNCE_KIND_FAILURE,            /* to the sender: undeliverable */
    BOUNCE_KIND_POSTMASTER,         /* a bounce that failed: to postmaster */
    BOUNCE_KIND_DELAY,              /* to the sender: still trying */
    BOUNCE_KIND_SUCCESS             /* to the sender: delivered (NOTIFY=SUCCESS) */
} BOUNCE_KIND;

/* Original content, as queue-file records (N and L). */
typedef struct BOUNCE_TEXT {
    struct BOUNCE_LINE {
        int     type;               /* REC_TYPE_NORM or REC_TYPE_CONT */
        char   *data;
        size_t  len;
    }      *lines;
    int     count;
    int     size;
    size_t  bytes;                  /* total data bytes */
    int     eight_bit;              /* some byte has the high bit set */
} BOUNCE_TEXT;

void    bounce_text_init(BOUNCE_TEXT *text);
void    bounce_text_free(BOUNCE_TEXT *text);
void    bounce_text_add(BOUNCE_TEXT *text, int type, const char *data, size_t len);
void    bounce_text_printf(BOUNCE_TEXT *text, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
void    bounce_text_render(const BOUNCE_TEXT *text, BUF *out);   /* lines joined by LF */

/* Returned-content modes (dsn_ret). */
#define BOUNCE_RET_FULL     1
#define BOUNCE_RET_HDRS     2
int     bounce_ret_parse(const char *text);

/* Everything a notice says besides the recipients. */
typedef struct BOUNCE_INFO {
    BOUNCE_KIND kind;
    const char *queue_id;           /* the original message */
    const char *new_id;             /* the notice's own queue ID (Message-ID) */
    const char *sender;             /* the original envelope sender */
    const char *to;                 /* who the notice goes to */
    const char *envid;              /* DSN ENVID, or "" */
    int     ret;                    /* BOUNCE_RET_* */
    const char *hostname;           /* $myhostname */
    const char *postmaster;         /* whom to ask for help */
    struct timeval arrival;         /* of the original; tv_sec 0: unknown */
    time_t  now;
    long    warn_after;             /* delay_warning_time, seconds */
    long    lifetime;               /* maximal_queue_lifetime, seconds */
} BOUNCE_INFO;

/* bounce_dsn.c */
int     bounce_notify_wants(int notify, BOUNCE_ACTION action);
void    bounce_dsn_compose(BOUNCE_TEXT *out, const BOUNCE_INFO *info,
                           const BOUNCE_ENTRY *const *entries, int count,
                           const BOUNCE_TEXT *original);
const char *bounce_kind_subject(BOUNCE_KIND kind);

/* bounce_submit.c */
int     bounce_original_read(const char *path, int ret, long limit, BOUNCE_TEXT *text,
                             struct timeval *arrival, BUF *why);
int     bounce_cleanup_open(const char *queue_dir, int timeout, STREAM **stream,
                            BUF *new_id, BUF *why);
int     bounce_cleanup_send(STREAM *s, const char *sender, const char *rcpt,
                            const BOUNCE_TEXT *text, BUF *why);

/* bounce_service.c */
void    bounce_service(STREAM *client, const char *queue_dir);

#endif
