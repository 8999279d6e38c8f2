/* qmgr - the queue manager's private header: its in-memory model.
 *
 *   QMGR_MESSAGE    one file in active/: envelope and recipients
 *   QMGR_TRANSPORT  one master.cf delivery service (local, smtp, error...)
 *   QMGR_QUEUE      one destination of a transport (its nexthop, or the
 *                   recipient when the transport takes one recipient per
 *                   request): the unit of concurrency
 *   QMGR_ENTRY      up to <transport>_destination_recipient_limit
 *                   recipients of one message for one queue: one request
 * A message stays in memory from import (incoming/ or deferred/ moved to
 * active/) until every recipient has a result and the file is removed or
 * moved to deferred/. doc/qmgr.md has the life cycle.
 */
#ifndef QMGR_H
#define QMGR_H

#include <stddef.h>
#include <sys/time.h>

#include "buf.h"
#include "queue_id.h"
#include "resolve.h"
#include "stream.h"

/* Recipient states. */
#define RCPT_TODO       0           /* not yet handed to an agent */
#define RCPT_BUSY       1           /* in a request, or a bounce append in flight */
#define RCPT_DEFERRED   2           /* stays R; the message goes to deferred/ */
#define RCPT_BOUNCED    3           /* failure logged; done after the bounce flush */
#define RCPT_DONE       4           /* D in the file */

typedef struct QMGR_RCPT {
    char   *address;                /* R record */
    char   *orig;                   /* O record ("" if none) */
    char   *dsn_orcpt;              /* o record ("" if none) */
    int     dsn_notify;             /* n record (0 if none) */
    long    offset;                 /* file offset of the R record */
    int     state;                  /* RCPT_* */
} QMGR_RCPT;

/* Phases of a message once nothing is left to schedule (qmgr_message_advance). */
#define MSG_PHASE_DELIVER   0       /* entries queued or in flight */
#define MSG_PHASE_EXPIRE    1       /* expired: fail every deferred recipient */
#define MSG_PHASE_FLUSH     2       /* bounce flush of RCPT_BOUNCED recipients */
#define MSG_PHASE_WARN      3       /* delay warning */
#define MSG_PHASE_FINAL     4       /* remove, or move to deferred/ */

typedef struct QMGR_MESSAGE {
    char    id[QUEUE_ID_BUFSZ];
    char   *sender;
    char   *envid;                  /* A dsn_envid= ("" if none) */
    char   *ret;                    /* A dsn_ret= ("" if none) */
    char   *filter;                 /* I: content filter transport:nexthop, or NULL */
    long    data_offset;            /* of the M record */
    long    content_size;
    long    nrcpt_total;            /* R + D records */
    struct timeval arrival;
    long    warn_time;              /* W record: next warning (0: none) */
    long    warn_offset;            /* of the W record, -1 if none */
    int     nrcpt;
    QMGR_RCPT *rcpt;
    int     refs;                   /* entries + bounce requests outstanding */
    int     phase;                  /* MSG_PHASE_* */
    int     flush_failed;           /* bounce/<id> holds entries not yet sent */
    int     force_expire;           /* QFILE_MODE_EXPIRE: postsuper -e/-f asked */
    int     advancing;              /* inside qmgr_message_advance() */
    struct QMGR_MESSAGE *next;      /* the active list */
    struct QMGR_MESSAGE *prev;
} QMGR_MESSAGE;

typedef struct QMGR_TRANSPORT QMGR_TRANSPORT;

/* Concurrency feedback (Postfix's *_destination_concurrency_*_feedback):
 * "N" is N per delivery, "N/concurrency" is N divided by the window. */
typedef struct QMGR_FEEDBACK {
    double  base;
    int     per_window;
} QMGR_FEEDBACK;
typedef struct QMGR_QUEUE QMGR_QUEUE;

typedef struct QMGR_ENTRY {
    QMGR_MESSAGE *message;
    QMGR_QUEUE *queue;
    int     nrcpt;
    int    *rcpt;                   /* indexes into message->rcpt */
    char    defer_dsn[16];          /* the last deferral the agent reported */
    BUF    *defer_reason;           /* (the destination's reason if it is dead) */
    int    *reported;               /* per recipient: agent replied */
    struct QMGR_ENTRY *next;        /* the queue's todo list */
} QMGR_ENTRY;

struct QMGR_QUEUE {
    QMGR_TRANSPORT *transport;
    char   *name;                   /* nexthop, or the recipient */
    char   *nexthop;
    int     busy;                   /* requests in flight */
    int     window;                 /* concurrency now (slow start up to the limit);
                                     * 0: dead (throttled) */
    double  success;                /* positive feedback not yet turned into window */
    double  failure;                /* negative feedback credit (reverse hysteresis) */
    double  fail_cohorts;           /* failed cohorts since the last success */
    char   *dead_dsn;               /* dead: what waiting recipients are deferred with */
    char   *dead_reason;
    long long ready_at;             /* rate delay: no request starts before (event_now_ms) */
    int     conn_cache;             /* a backlog was seen: agents may keep sessions */
    long long last_done;            /* event_now_ms() when a request last ended; 0: never */
    QMGR_ENTRY *todo;               /* FIFO */
    QMGR_ENTRY *todo_tail;
    QMGR_QUEUE *next;
};

struct QMGR_TRANSPORT {
    char   *name;
    int     dest_limit;             /* <transport>_destination_concurrency_limit */
    int     rcpt_limit;             /* <transport>_destination_recipient_limit */
    int     init_window;            /* initial_destination_concurrency, at most dest_limit */
    int     fail_cohort_limit;      /* <transport>_destination_concurrency_failed_cohort_limit */
    QMGR_FEEDBACK pos_feedback;     /* <transport>_destination_concurrency_positive_feedback */
    QMGR_FEEDBACK neg_feedback;     /* ..._negative_feedback */
    long    rate_delay_ms;          /* <transport>_destination_rate_delay (> 0: one at a time) */
    int     busy;                   /* requests in flight, all queues */
    int     busy_limit;             /* default_process_limit */
    long long throttled_until;      /* event_now_ms(); 0: usable */
    QMGR_QUEUE *queues;
    QMGR_TRANSPORT *next;
};

/* Global state (qmgr_state.c). */
typedef struct QMGR_STATE {
    RESOLVER *resolver;
    QMGR_MESSAGE *active;           /* list of messages in memory */
    int     active_count;
    long    active_limit;           /* qmgr_message_active_limit */
    QMGR_TRANSPORT *transports;
    long    transport_retry_ms;     /* throttle time of an unreachable transport */
    int     max_inflight;           /* most requests in flight at once, seen (tests) */
} QMGR_STATE;

extern QMGR_STATE qmgr;

/* qmgr_time.c: pure time arithmetic (unit tested). */
long    qmgr_backoff(long now, long arrival, long min_backoff, long max_backoff);
int     qmgr_expired(long now, long arrival, const char *sender,
                     long max_lifetime, long bounce_lifetime);

/* qmgr_scan.c: the folders. */
void    qmgr_scan_init(void);
void    qmgr_scan_incoming(void);
void    qmgr_scan_deferred(int ignore_time);
void    qmgr_recover_active(void);
void    qmgr_purge_temp(long max_age);
void    qmgr_feed(void);                /* import while there is room */
void    qmgr_feed_request(void);        /* the same, from the event loop soon */
const char *qmgr_queue_path(BUF *out, const char *queue, const char *id);
int     qmgr_move(const char *from_queue, const char *to_queue, const char *id, long mtime);
void    qmgr_scan_forget(const char *id);

/* qmgr_message.c: reading a queue file, results, completion. */
int     qmgr_message_import(const char *id);   /* 0 or -1 (moved aside or skipped) */
void    qmgr_message_unref(QMGR_MESSAGE *m);
void    qmgr_rcpt_delivered(QMGR_MESSAGE *m, int idx, const char *dsn, const char *reason,
                            const char *relay);
void    qmgr_rcpt_defer(QMGR_MESSAGE *m, int idx, const char *relay, const char *dsn,
                        const char *reason);
void    qmgr_rcpt_bounce(QMGR_MESSAGE *m, int idx, const char *relay, const char *dsn,
                         const char *reason);

/* qmgr_sched.c: transports, queues, entries. */
QMGR_TRANSPORT *qmgr_transport_find(const char *name);
void    qmgr_entry_add(QMGR_MESSAGE *m, const RESOLVE_REPLY *reply, int idx);
void    qmgr_sched_request(void);       /* run the scheduler soon */
void    qmgr_sched_run(void);
int     qmgr_queue_key(const QMGR_TRANSPORT *t, const char *nexthop, const char *rcpt,
                       BUF *key);
int     qmgr_queue_can_start(const QMGR_QUEUE *q);
/* Postfix's back-to-back window: a request ended this recently (ms). */
#define QMGR_BACK_TO_BACK_MS    1000
int     qmgr_queue_back_to_back(const QMGR_QUEUE *q);
/* How a request ended, for the destination's window (qmgr_entry_done). */
#define QMGR_DONE_OK        0       /* the destination answered: positive feedback */
#define QMGR_DONE_NEUTRAL   1       /* agent trouble: no feedback either way */
#define QMGR_DONE_SITE_FAIL 2       /* the destination failed as a whole: negative */
void    qmgr_entry_done(QMGR_ENTRY *e, int how);
int     qmgr_feedback_parse(const char *text, QMGR_FEEDBACK *fb);  /* 0 or -1 */
void    qmgr_queue_success(QMGR_QUEUE *q);
void    qmgr_queue_failure(QMGR_QUEUE *q, const char *dsn, const char *reason);
void    qmgr_queue_revive(QMGR_QUEUE *q);
void    qmgr_transport_throttle(QMGR_TRANSPORT *t, const char *reason);
void    qmgr_transport_unthrottle_all(void);
void    qmgr_entry_free(QMGR_ENTRY *e);

/* qmgr_deliver.c: the delivery protocol client. */
void    qmgr_deliver(QMGR_ENTRY *e);

/* qmgr_bounce.c: the bounce protocol client; done(status, ctx) with 0 ok. */
typedef void (*QMGR_BOUNCE_FN)(int status, void *ctx);
void    qmgr_bounce_append(QMGR_MESSAGE *m, int idx, const char *action, const char *dsn,
                           const char *reason, QMGR_BOUNCE_FN done, void *ctx);
void    qmgr_bounce_flush(QMGR_MESSAGE *m, const char *request, QMGR_BOUNCE_FN done,
                          void *ctx);

/* qmgr_ipc.c: non-blocking attribute-list conversations. */
typedef struct QMGR_IPC QMGR_IPC;
#define QMGR_IPC_UNAVAILABLE    1   /* could not connect */
#define QMGR_IPC_BROKEN         2   /* EOF, error or timeout mid-conversation */
typedef int (*QMGR_IPC_LIST_FN)(QMGR_IPC *ipc, const char *data, size_t len, void *ctx);
typedef void (*QMGR_IPC_END_FN)(QMGR_IPC *ipc, int how, void *ctx);
QMGR_IPC *qmgr_ipc_start(const char *path, const BUF *request, long timeout_s,
                         QMGR_IPC_LIST_FN on_list, QMGR_IPC_END_FN on_end, void *ctx);
size_t  qmgr_attr_list_len(const char *data, size_t len);   /* 0: incomplete */
STREAM *qmgr_attr_writer(BUF *out);  /* attr_send() into out; stream_release() after */

#endif
