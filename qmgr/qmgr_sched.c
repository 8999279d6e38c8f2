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
 * requests in flight, never more than
 * <transport>_destination_concurrency_limit. A transport never has more
 * than default_process_limit requests in flight.
 *
 * The window is Postfix's (SCHEDULER_README, "concurrency feedback"): it
 * starts at initial_destination_concurrency; a request the destination
 * answered (QMGR_DONE_OK) adds positive feedback (default 1/concurrency:
 * +1 per window's worth of deliveries, while window < busy + initial), a
 * request that failed for the destination as a whole (the agent's
 * DELIVER_DONE_SITE_FAIL: every host refused, timed out or failed before
 * MAIL) adds negative feedback (window -1 at the start of each cycle, never
 * below 1) and 1/window to the failed cohorts. When the failed cohorts
 * reach <transport>_destination_concurrency_failed_cohort_limit (1: one
 * window's worth of failures in a row) the destination is dead: window 0,
 * its waiting recipients and every one that arrives for it are deferred
 * without asking the agent ("delivery temporarily suspended: <the
 * agent's reason>"), and after minimal_backoff_time it is tried again at
 * the concurrency still busy, or the initial one. A success while dead
 * revives it at once; trigger F (`surel queue flush`) forgets it.
 *
 * <transport>_destination_rate_delay > 0: one request at a time per
 * destination and that pause between the end of one and the start of
 * the next (Postfix 2.7); the queue stays in memory while it waits.
 *
 * A transport whose agent can't be reached is throttled for
 * transport_retry_time: its waiting recipients are deferred ("mail
 * transport unavailable") and the messages go to deferred/, so nothing
 * retries in a tight loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"

/* qmgr_feedback_parse - "N" or "N/concurrency" (Postfix's syntax) */
int qmgr_feedback_parse(const char *text, QMGR_FEEDBACK *fb)
{
    char   *end;
    double  v = strtod(text, &end);

    if (end == text || v < 0 || v > 1000)
        return -1;
    while (*end == ' ')
        end++;
    fb->base = v;
    fb->per_window = 0;
    if (*end == 0)
        return 0;
    if (*end++ != '/')
        return -1;
    while (*end == ' ')
        end++;
    if (strcmp(end, "concurrency") != 0)
        return -1;
    fb->per_window = 1;
    return 0;
}

/* qmgr_feedback_val - one delivery's feedback at this window */
static double qmgr_feedback_val(const QMGR_FEEDBACK *fb, int window)
{
    return fb->per_window ? fb->base / (window > 0 ? window : 1) : fb->base;
}

/* qmgr_transport_feedback - <transport>_destination_concurrency_X_feedback */
static void qmgr_transport_feedback(const char *transport, const char *what, PARAM_ID fallback,
                                    QMGR_FEEDBACK *fb)
{
    BUF    *name = buf_alloc(64);
    const char *value;

    buf_sprintf(name, "%s_destination_concurrency_%s_feedback", transport, what);
    if ((value = config_lookup(buf_str(name))) == NULL) {
        buf_sprintf(name, "default_destination_concurrency_%s_feedback", what);
        value = config_str(fallback);
    }
    if (qmgr_feedback_parse(value, fb) < 0)
        msg_fatal("%s: bad value \"%s\" (a number, or number/concurrency)", buf_str(name),
                  value);
    buf_free(name);
}

/* qmgr_transport_find - the transport of that name, made on first use */
QMGR_TRANSPORT *qmgr_transport_find(const char *name)
{
    QMGR_TRANSPORT *t;
    long    initial = config_int(P_initial_destination_concurrency);

    for (t = qmgr.transports; t; t = t->next)
        if (strcmp(t->name, name) == 0)
            return t;
    t = xcalloc(1, sizeof(*t));
    t->name = xstrdup(name);
    t->dest_limit = (int) config_int_for(name, P_default_destination_concurrency_limit);
    t->rcpt_limit = (int) config_int_for(name, P_default_destination_recipient_limit);
    t->busy_limit = (int) config_int(P_default_process_limit);
    t->fail_cohort_limit = (int) config_int_for(name,
                                  P_default_destination_concurrency_failed_cohort_limit);
    t->rate_delay_ms = config_time_for(name, P_default_destination_rate_delay) * 1000L;
    qmgr_transport_feedback(name, "positive", P_default_destination_concurrency_positive_feedback,
                            &t->pos_feedback);
    qmgr_transport_feedback(name, "negative", P_default_destination_concurrency_negative_feedback,
                            &t->neg_feedback);
    if (t->dest_limit < 1)
        t->dest_limit = 1;
    /* A rate delay means one delivery at a time (Postfix). */
    if (t->rate_delay_ms > 0)
        t->dest_limit = 1;
    if (t->rcpt_limit < 1)
        t->rcpt_limit = 1;
    if (t->busy_limit < 1)
        t->busy_limit = 1;
    t->init_window = initial < 1 ? 1 : initial < t->dest_limit ? (int) initial : t->dest_limit;
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

    for (tail = &t->queues; (q = *tail) != NULL; tail = &q->next)
        if (strcmp(q->name, key) == 0 && strcmp(q->nexthop, nexthop) == 0)
            return q;
    q = xcalloc(1, sizeof(*q));
    q->transport = t;
    q->name = xstrdup(key);
    q->nexthop = xstrdup(nexthop);
    q->window = t->init_window;
    *tail = q;
    return q;
}

/* qmgr_queue_can_start - may another request of this queue start now? */
int qmgr_queue_can_start(const QMGR_QUEUE *q)
{
    const QMGR_TRANSPORT *t = q->transport;

    return q->todo != NULL && t->throttled_until == 0 && q->busy < q->window
        && q->busy < t->dest_limit && t->busy < t->busy_limit
        && (q->ready_at == 0 || event_now_ms() >= q->ready_at);
}

/* qmgr_queue_back_to_back - did a request of this queue end within the
 * last second? Postfix's qmgr_entry_select test (last_done + 1 >=
 * event_time()), in milliseconds so that "more than a second ago" means
 * that and not "in an earlier second of the clock". */
int qmgr_queue_back_to_back(const QMGR_QUEUE *q)
{
    return q->last_done != 0 && event_now_ms() - q->last_done <= QMGR_BACK_TO_BACK_MS;
}

/* qmgr_entry_free - release an entry (not its message) */
void qmgr_entry_free(QMGR_ENTRY *e)
{
    if (e->defer_reason)
        buf_free(e->defer_reason);
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
    if (q->window == 0) {                   /* a dead destination: not now */
        qmgr_rcpt_defer(m, idx, NULL, q->dead_dsn, q->dead_reason);
        return;
    }
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

static void qmgr_queue_resume_event(int event, void *context);
static void qmgr_queue_revive_event(int event, void *context);
static void qmgr_queue_forgive_event(int event, void *context);
static void qmgr_queue_idle_event(int event, void *context);

/* qmgr_queue_free - forget a queue (its timers with it) */
static void qmgr_queue_free(QMGR_QUEUE *q)
{
    event_cancel_timer(qmgr_queue_resume_event, q);
    event_cancel_timer(qmgr_queue_revive_event, q);
    event_cancel_timer(qmgr_queue_forgive_event, q);
    event_cancel_timer(qmgr_queue_idle_event, q);
    xfree(q->name);
    xfree(q->nexthop);
    xfree(q->dead_dsn);
    xfree(q->dead_reason);
    xfree(q);
}

/* qmgr_queues_tidy - free queues with nothing waiting, nothing in flight,
 * and nothing to remember: a dead destination stays dead, a rate delay
 * stays owed, and failures on the way to a failed cohort are not
 * forgotten because the next message came a moment later (else mail that
 * trickles in would start a fresh window each time and hammer a dead
 * destination; qmgr_queue_forgive_event bounds how long that lasts), and
 * a request that ended within the last second is remembered so the next
 * message, if it comes that soon, finds the connection cache hint and
 * the window as they were (qmgr_queue_back_to_back; qmgr_queue_idle_event
 * runs the tidy again once that second is over) */
static void qmgr_queues_tidy(QMGR_TRANSPORT *t)
{
    QMGR_QUEUE **pp = &t->queues, *q;

    while ((q = *pp) != NULL) {
        if (q->todo == NULL && q->busy == 0 && q->window > 0 && q->ready_at == 0
            && q->fail_cohorts == 0 && !qmgr_queue_back_to_back(q)) {
            *pp = q->next;
            qmgr_queue_free(q);
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

/* qmgr_queue_success - positive feedback: the destination answered */
void qmgr_queue_success(QMGR_QUEUE *q)
{
    QMGR_TRANSPORT *t = q->transport;
    double  fb;

    if (q->window == 0) {
        qmgr_queue_revive(q);
        return;
    }
    q->fail_cohorts = 0;
    event_cancel_timer(qmgr_queue_forgive_event, q);
    /* Grow only while the window is in use, with a margin the size of the
     * initial concurrency (Postfix): an idle window proves nothing. */
    if (q->window >= t->dest_limit || q->window >= q->busy + t->init_window)
        return;
    fb = qmgr_feedback_val(&t->pos_feedback, q->window);
    q->success += fb;
    /* fb / 2: rounding of 1/N added N times must still make 1. */
    while (q->success + fb / 2 >= 1) {
        q->window++;
        q->success -= 1;
        q->failure = 0;
    }
    if (q->window > t->dest_limit)
        q->window = t->dest_limit;
}

/* qmgr_queue_defer_todo - defer every waiting entry of a dead queue */
static void qmgr_queue_defer_todo(QMGR_QUEUE *q)
{
    QMGR_ENTRY *e;
    QMGR_MESSAGE *m;
    int     i;

    while (q->todo) {
        e = qmgr_queue_pop(q);
        m = e->message;
        for (i = 0; i < e->nrcpt; i++)
            qmgr_rcpt_defer(m, e->rcpt[i], NULL, q->dead_dsn, q->dead_reason);
        qmgr_entry_free(e);
        qmgr_message_unref(m);
    }
}

/* qmgr_queue_failure - negative feedback: the destination failed as a
 * whole (dsn, reason: the agent's); enough failed cohorts make it dead */
void qmgr_queue_failure(QMGR_QUEUE *q, const char *dsn, const char *reason)
{
    QMGR_TRANSPORT *t = q->transport;
    BUF    *why;
    double  fb;

    if (q->window == 0)
        return;                             /* already dead */
    q->fail_cohorts += 1.0 / q->window;
    if (t->fail_cohort_limit > 0 && q->fail_cohorts + 1e-9 >= t->fail_cohort_limit) {
        why = buf_alloc(100);
        buf_sprintf(why, "delivery temporarily suspended: %s",
                    reason && *reason ? reason : "destination unreachable");
        q->window = 0;
        xfree(q->dead_dsn);
        xfree(q->dead_reason);
        q->dead_dsn = xstrdup(dsn && dsn[0] == '4' ? dsn : "4.4.1");
        q->dead_reason = buf_steal(why);
        event_cancel_timer(qmgr_queue_forgive_event, q);
        msg_info("destination %s:%s: dead after %d failed cohort%s: retry in %lds", t->name,
                 q->name, t->fail_cohort_limit, t->fail_cohort_limit == 1 ? "" : "s",
                 (long) config_time(P_minimal_backoff_time));
        event_request_timer(qmgr_queue_revive_event, q,
                            config_time(P_minimal_backoff_time) * 1000L);
        qmgr_queue_defer_todo(q);
        return;
    }
    /* Not dead yet: the failures count for minimal_backoff_time. */
    event_request_timer(qmgr_queue_forgive_event, q, config_time(P_minimal_backoff_time) * 1000L);
    if (q->window > 1) {
        fb = qmgr_feedback_val(&t->neg_feedback, q->window);
        q->failure -= fb;
        /* Reverse hysteresis: shrink at the start of a cycle. */
        while (q->failure - fb / 2 < 0) {
            q->window--;
            q->success = 0;
            q->failure += 1;
        }
        if (q->window < 1)
            q->window = 1;
    }
}

/* qmgr_queue_revive - a dead destination may be tried again: at the
 * concurrency still in flight, else the initial one */
void qmgr_queue_revive(QMGR_QUEUE *q)
{
    if (q->window != 0)
        return;
    event_cancel_timer(qmgr_queue_revive_event, q);
    msg_info("destination %s:%s: no longer dead", q->transport->name, q->name);
    q->window = q->busy > 0 ? q->busy : q->transport->init_window;
    if (q->window > q->transport->dest_limit)
        q->window = q->transport->dest_limit;
    q->success = q->failure = q->fail_cohorts = 0;
    xfree(q->dead_dsn);
    xfree(q->dead_reason);
    q->dead_dsn = q->dead_reason = NULL;
    qmgr_sched_request();
}

static void qmgr_queue_revive_event(int event, void *context)
{
    (void) event;
    qmgr_queue_revive(context);
}

/* qmgr_queue_forgive_event - failures short of a cohort are old news */
static void qmgr_queue_forgive_event(int event, void *context)
{
    QMGR_QUEUE *q = context;

    (void) event;
    q->fail_cohorts = 0;
    qmgr_sched_request();                   /* the tidy may free it now */
}

/* qmgr_queue_idle_event - an idle queue's back-to-back second is over:
 * the tidy may free it now */
static void qmgr_queue_idle_event(int event, void *context)
{
    (void) event;
    (void) context;
    qmgr_sched_request();
}

/* qmgr_queue_resume_event - the rate delay is over */
static void qmgr_queue_resume_event(int event, void *context)
{
    QMGR_QUEUE *q = context;

    (void) event;
    q->ready_at = 0;
    qmgr_sched_request();
}

/* qmgr_entry_done - a request has ended (its recipients have results);
 * how: QMGR_DONE_* */
void qmgr_entry_done(QMGR_ENTRY *e, int how)
{
    QMGR_QUEUE *q = e->queue;
    QMGR_TRANSPORT *t = q->transport;
    QMGR_MESSAGE *m = e->message;

    /* Feedback first, with this request still counted busy (Postfix):
     * window 1 with one request in flight is a window in use. */
    if (how == QMGR_DONE_OK)
        qmgr_queue_success(q);
    else if (how == QMGR_DONE_SITE_FAIL)
        qmgr_queue_failure(q, e->defer_dsn, e->defer_reason ? buf_str(e->defer_reason) : "");
    q->busy--;
    t->busy--;
    q->last_done = event_now_ms();
    if (q->busy == 0 && q->todo == NULL)    /* + 1: past the back-to-back test */
        event_request_timer(qmgr_queue_idle_event, q, QMGR_BACK_TO_BACK_MS + 1);
    if (t->rate_delay_ms > 0 && q->window > 0) {
        q->ready_at = event_now_ms() + t->rate_delay_ms;
        event_request_timer(qmgr_queue_resume_event, q, t->rate_delay_ms);
    }
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

/* qmgr_transport_unthrottle_all - trigger F: forget dead transports and
 * destinations */
void qmgr_transport_unthrottle_all(void)
{
    QMGR_TRANSPORT *t;

    QMGR_QUEUE *q;

    for (t = qmgr.transports; t; t = t->next) {
        if (t->throttled_until)
            qmgr_unthrottle_event(EVENT_TIME, t);
        event_cancel_timer(qmgr_unthrottle_event, t);
        for (q = t->queues; q; q = q->next)
            qmgr_queue_revive(q);
    }
}
