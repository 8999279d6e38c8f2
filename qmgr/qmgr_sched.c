/* qmgr_sched - transports, destination queues and the scheduler.
 *
 * A transport is a master.cf service that delivers (local, smtp, error).
 * Its recipients are grouped in queues, one per destination: the nexthop,
 * or the recipient itself when the transport takes one recipient per
 * request (<transport>_destination_recipient_limit = 1, as local does:
 * its concurrency limit is then per recipient, as in Postfix). A queue
 * holds entries, each one delivery request of up to recipient_limit
 * recipients of one message.
 *
 * Bounds (DESIGN §10.10): a queue never has more than its window of
 * requests in flight; the window starts at initial_destination_concurrency
 * and grows by one per successful request up to
 * <transport>_destination_concurrency_limit. A transport never has more
 * than default_process_limit requests in flight. A transport whose agent
 * can't be reached is throttled for transport_retry_time: its waiting
 * recipients are deferred ("mail transport unavailable") and the
 * messages go to deferred/, so nothing retries in a tight loop.
 */
#include <string.h>

#include "config.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

/* qmgr_transport_find - the transport of that name, made on first use */
QMGR_TRANSPORT *qmgr_transport_find(const char *name)
{
    QMGR_TRANSPORT *t;

    for (t = qmgr.transports; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    t->dest_limit = (int) config_int_for(name, P_default_destination_concurrency_limit);
    t->rcpt_limit = (int) config_int_for(name, P_default_destination_recipient_limit);
    t->busy_limit = (int) config_int(P_default_process_limit);
    if (t->dest_limit < 1)
        t->dest_limit = 1;
    if (t->rcpt_limit < 1)
        t->rcpt_limit = 1;
    if (t->busy_limit < 1)
        t->busy_limit = 1;
    t->next = qmgr.transports;
    qmgr.transports = t;
    return t;
}

/* qmgr_queue_key - the destination a recipient counts against */
int qmgr_queue_key(const QMGR_TRANSPORT *t, const char *nexthop, const char *rcpt, BUF *key)
{
    buf_set(key, t->rcpt_limit == 1 ? rcpt : nexthop);
    return 0;
}

/* qmgr_queue_find - the queue for a key, made on first use */
static QMGR_QUEUE *qmgr_queue_find(QMGR_TRANSPORT *t, const char *key, const char *nexthop)
{
    QMGR_QUEUE *q, **tail;
    long    initial = config_int(P_initial_destination_concurrency);

    for (tail = &t->queues; (q = *tail) != NULL; tail = &q->next)
        if (strcmp(q->name, key) == 0 && strcmp(q->nexthop, nexthop) == 0)
            return q;
    q = xcalloc(1, sizeof(*q));
    q->transport = t;
    q->name = xstrdup(key);
    q->nexthop = xstrdup(nexthop);
    q->window = initial < t->dest_limit ? (int) initial : t->dest_limit;
    *tail = q;
    return q;
}

/* qmgr_queue_can_start - may another request of this queue start now? */
int qmgr_queue_can_start(const QMGR_QUEUE *q)
{
    const QMGR_TRANSPORT *t = q->transport;

    return q->todo != NULL && t->throttled_until == 0 && q->busy < q->window
        && q->busy < t->dest_limit && t->busy < t->busy_limit;
}

/* qmgr_entry_free - release an entry (not its message) */
void qmgr_entry_free(QMGR_ENTRY *e)
{
    xfree(e->rcpt);
    xfree(e->reported);
    xfree(e);
}

/* qmgr_entry_add - queue one recipient for delivery */
void qmgr_entry_add(QMGR_MESSAGE *m, const RESOLVE_REPLY *reply, int idx)
{
    QMGR_TRANSPORT *t = qmgr_transport_find(buf_str(reply->transport));
    BUF    *key = buf_alloc(64);
    QMGR_QUEUE *q;
    QMGR_ENTRY *e;

    if (t->throttled_until) {
        qmgr_rcpt_defer(m, idx, NULL, "4.3.0", "mail transport unavailable");
        buf_free(key);
        return;
    }
    qmgr_queue_key(t, buf_str(reply->nexthop), m->rcpt[idx].address, key);
    q = qmgr_queue_find(t, buf_str(key), buf_str(reply->nexthop));
    buf_free(key);
    e = q->todo_tail;
    if (e == NULL || e->message != m || e->nrcpt >= t->rcpt_limit) {
        e = xcalloc(1, sizeof(*e));
        e->message = m;
        e->queue = q;
        e->rcpt = xcalloc((size_t) t->rcpt_limit, sizeof(int));
        e->reported = xcalloc((size_t) t->rcpt_limit, sizeof(int));
        if (q->todo_tail)
            q->todo_tail->next = e;
        else
            q->todo = e;
        q->todo_tail = e;
        m->refs++;
    }
    e->rcpt[e->nrcpt++] = idx;
}

/* qmgr_queue_pop - take the first waiting entry */
static QMGR_ENTRY *qmgr_queue_pop(QMGR_QUEUE *q)
{
    QMGR_ENTRY *e = q->todo;

    if ((q->todo = e->next) == NULL)
        q->todo_tail = NULL;
    e->next = NULL;
    return e;
}

/* qmgr_queues_tidy - free queues with nothing waiting and nothing in flight */
static void qmgr_queues_tidy(QMGR_TRANSPORT *t)
{
    QMGR_QUEUE **pp = &t->queues, *q;

    while ((q = *pp) != NULL) {
        if (q->todo == NULL && q->busy == 0) {
            *pp = q->next;
            xfree(q->name);
            xfree(q->nexthop);
            xfree(q);
        } else {
            pp = &q->next;
        }
    }
}

/* qmgr_sched_run - start every request the bounds allow, one entry per
 * queue per pass so that destinations take turns */
void qmgr_sched_run(void)
{
    QMGR_TRANSPORT *t;
    QMGR_QUEUE *q;
    QMGR_ENTRY *e;
    int     progress = 1, i, inflight = 0;

    while (progress) {
        progress = 0;
        for (t = qmgr.transports; t; t = t->next) {
            for (q = t->queues; q && t->throttled_until == 0; q = q->next) {
                if (!qmgr_queue_can_start(q))
                    continue;
                e = qmgr_queue_pop(q);
                q->busy++;
                t->busy++;
                for (i = 0; i < e->nrcpt; i++)
                    e->message->rcpt[e->rcpt[i]].state = RCPT_BUSY;
                qmgr_deliver(e);            /* may throttle t at once */
                progress = 1;
            }
        }
    }
    for (t = qmgr.transports; t; t = t->next) {
        qmgr_queues_tidy(t);
        inflight += t->busy;
    }
    if (inflight > qmgr.max_inflight)
        qmgr.max_inflight = inflight;
}

static void qmgr_sched_event(int event, void *context)
{
    (void) event;
    (void) context;
    qmgr_sched_run();
}

/* qmgr_sched_request - run the scheduler from the event loop, soon */
void qmgr_sched_request(void)
{
    event_request_timer(qmgr_sched_event, NULL, 0);
}

/* qmgr_entry_done - a request has ended (its recipients have results) */
void qmgr_entry_done(QMGR_ENTRY *e, int success)
{
    QMGR_QUEUE *q = e->queue;
    QMGR_TRANSPORT *t = q->transport;
    QMGR_MESSAGE *m = e->message;

    q->busy--;
    t->busy--;
    if (success && q->window < t->dest_limit)
        q->window++;
    qmgr_entry_free(e);
    qmgr_sched_request();
    qmgr_message_unref(m);
}

static void qmgr_unthrottle_event(int event, void *context)
{
    QMGR_TRANSPORT *t = context;

    (void) event;
    if (t->throttled_until)
        msg_info("transport %s: no longer throttled", t->name);
    t->throttled_until = 0;
    qmgr_sched_request();
}

/* qmgr_transport_throttle - the agent can't be reached: defer everything
 * waiting for this transport and leave it alone for a while */
void qmgr_transport_throttle(QMGR_TRANSPORT *t, const char *reason)
{
    QMGR_QUEUE *q;
    QMGR_ENTRY *e;
    QMGR_MESSAGE *m;
    int     i;

    if (t->throttled_until == 0)
        msg_warn("transport %s: %s: throttled for %lds", t->name, reason,
                 qmgr.transport_retry_ms / 1000);
    t->throttled_until = event_now_ms() + qmgr.transport_retry_ms;
    event_request_timer(qmgr_unthrottle_event, t, qmgr.transport_retry_ms);
    for (q = t->queues; q; q = q->next) {
        while (q->todo) {
            e = qmgr_queue_pop(q);
            m = e->message;
            for (i = 0; i < e->nrcpt; i++)
                qmgr_rcpt_defer(m, e->rcpt[i], NULL, "4.3.0", reason);
            qmgr_entry_free(e);
            qmgr_message_unref(m);
        }
    }
}

/* qmgr_transport_unthrottle_all - trigger F: forget dead destinations */
void qmgr_transport_unthrottle_all(void)
{
    QMGR_TRANSPORT *t;

    for (t = qmgr.transports; t; t = t->next) {
        if (t->throttled_until)
            qmgr_unthrottle_event(EVENT_TIME, t);
        event_cancel_timer(qmgr_unthrottle_event, t);
    }
}
