/* check_qmgr_sched - scheduler bounds as functions (qmgr_sched.c):
 * per-transport limits from main.cf, queue keys, when a request may
 * start, how recipients are grouped into requests, what throttling
 * does to waiting recipients, and the concurrency feedback: slow start,
 * failed cohorts, dead destinations and the rate delay. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "mem.h"
#include "msg.h"
#include "qmgr.h"
#include "testsupport.h"

static char *tdir;

static void setup(void)
{
    config_reset();
    memset(&qmgr, 0, sizeof(qmgr));
    qmgr.transport_retry_ms = 60000;
    qmgr.active_limit = 100;
    config_set("agent_destination_concurrency_limit", "3");
    config_set("agent_destination_recipient_limit", "2");
    config_set("initial_destination_concurrency", "2");
    config_set("hash_queue_names", "deferred, defer");
    config_set("ipc_timeout", "5s");
    qmgr_scan_init();
}

/* message - an in-memory message with n recipients, on the active list */
static QMGR_MESSAGE *message(int n)
{
    QMGR_MESSAGE *m = xcalloc(1, sizeof(*m));
    int     i;

    strcpy(m->id, "4jXFAAAAAAz1b");
    m->sender = xstrdup("s@example.org");
    m->envid = xstrdup("");
    m->ret = xstrdup("");
    m->warn_offset = -1;
    m->nrcpt = n;
    m->rcpt = xcalloc((size_t) n, sizeof(QMGR_RCPT));
    for (i = 0; i < n; i++) {
        BUF    *a = buf_alloc(16);

        buf_sprintf(a, "u%d@dest.test", i);
        m->rcpt[i].address = buf_steal(a);
        m->rcpt[i].orig = xstrdup("");
        m->rcpt[i].dsn_orcpt = xstrdup("");
        m->rcpt[i].offset = 100 + i;
    }
    m->next = qmgr.active;
    qmgr.active = m;
    qmgr.active_count++;
    return m;
}

static RESOLVE_REPLY *reply_for(const char *transport, const char *nexthop)
{
    RESOLVE_REPLY *r = resolve_reply_alloc();

    buf_set(r->transport, transport);
    buf_set(r->nexthop, nexthop);
    return r;
}

START_TEST(test_transport_limits)
{
    QMGR_TRANSPORT *a = qmgr_transport_find("agent");
    QMGR_TRANSPORT *l = qmgr_transport_find("local");
    QMGR_TRANSPORT *s = qmgr_transport_find("smtp");

    ck_assert_ptr_eq(qmgr_transport_find("agent"), a);
    ck_assert_int_eq(a->dest_limit, 3);
    ck_assert_int_eq(a->rcpt_limit, 2);
    ck_assert_int_eq(l->dest_limit, 2);         /* local_destination_concurrency_limit */
    ck_assert_int_eq(l->rcpt_limit, 1);         /* local_destination_recipient_limit */
    ck_assert_int_eq(s->dest_limit, 20);        /* default_... */
    ck_assert_int_eq(s->rcpt_limit, 50);
}
END_TEST

START_TEST(test_queue_key)
{
    BUF    *key = buf_alloc(16);

    qmgr_queue_key(qmgr_transport_find("local"), "mx.test", "joe@mx.test", key);
    ck_assert_str_eq(buf_str(key), "joe@mx.test");  /* one recipient per request: per recipient */
    qmgr_queue_key(qmgr_transport_find("smtp"), "[gw]:25", "joe@x.test", key);
    ck_assert_str_eq(buf_str(key), "[gw]:25");
    buf_free(key);
}
END_TEST

START_TEST(test_can_start)
{
    QMGR_TRANSPORT *t = qmgr_transport_find("agent");
    QMGR_ENTRY e;
    QMGR_QUEUE q;

    memset(&q, 0, sizeof(q));
    memset(&e, 0, sizeof(e));
    q.transport = t;
    q.window = 2;
    ck_assert(!qmgr_queue_can_start(&q));       /* nothing waiting */
    q.todo = &e;
    ck_assert(qmgr_queue_can_start(&q));
    q.busy = 2;
    ck_assert(!qmgr_queue_can_start(&q));       /* window full */
    q.window = 10;
    q.busy = 3;
    ck_assert(!qmgr_queue_can_start(&q));       /* never above the concurrency limit */
    q.busy = 1;
    t->throttled_until = 1;
    ck_assert(!qmgr_queue_can_start(&q));       /* throttled transport */
    t->throttled_until = 0;
    t->busy = t->busy_limit;
    ck_assert(!qmgr_queue_can_start(&q));       /* transport-wide cap */
    t->busy = 0;
}
END_TEST

START_TEST(test_grouping)
{
    QMGR_MESSAGE *m = message(5);
    RESOLVE_REPLY *r = reply_for("agent", "dest.test");
    QMGR_TRANSPORT *t = qmgr_transport_find("agent");
    QMGR_ENTRY *e;
    int     i, n = 0, sizes[8];

    for (i = 0; i < 5; i++)
        qmgr_entry_add(m, r, i);
    ck_assert_ptr_nonnull(t->queues);
    ck_assert_ptr_null(t->queues->next);        /* one destination */
    ck_assert_int_eq(t->queues->window, 2);     /* initial concurrency */
    for (e = t->queues->todo; e; e = e->next)
        sizes[n++] = e->nrcpt;
    ck_assert_int_eq(n, 3);                     /* 2 + 2 + 1: the recipient limit */
    ck_assert_int_eq(sizes[0], 2);
    ck_assert_int_eq(sizes[2], 1);
    ck_assert_int_eq(m->refs, 3);
    resolve_reply_free(r);
}
END_TEST

/* No agent listens: the first request finds the transport unavailable,
 * which throttles it and defers every waiting recipient at once. */
START_TEST(test_unavailable_throttles)
{
    QMGR_MESSAGE *m;
    RESOLVE_REPLY *r = reply_for("agent", "dest.test");
    QMGR_TRANSPORT *t = qmgr_transport_find("agent");
    int     i;

    ck_assert_int_eq(chdir(tdir), 0);
    m = message(5);
    m->refs++;                                  /* hold the message in memory */
    for (i = 0; i < 5; i++)
        qmgr_entry_add(m, r, i);
    qmgr_sched_run();
    ck_assert(t->throttled_until > 0);
    for (i = 0; i < 5; i++)
        ck_assert_msg(m->rcpt[i].state == RCPT_DEFERRED, "rcpt %d state %d", i, m->rcpt[i].state);
    ck_assert_int_eq(t->busy, 0);
    ck_assert_int_eq(m->refs, 1);               /* only ours is left */
    /* Entries added while throttled are deferred at once. */
    m->rcpt[0].state = RCPT_TODO;
    qmgr_entry_add(m, r, 0);
    ck_assert_int_eq(m->rcpt[0].state, RCPT_DEFERRED);
    ck_assert_ptr_null(t->queues ? t->queues->todo : NULL);
    qmgr_transport_unthrottle_all();
    ck_assert(t->throttled_until == 0);
    resolve_reply_free(r);
}
END_TEST


START_TEST(test_feedback_parse)
{
    QMGR_FEEDBACK fb;

    ck_assert_int_eq(qmgr_feedback_parse("1/concurrency", &fb), 0);
    ck_assert(fb.base == 1 && fb.per_window);
    ck_assert_int_eq(qmgr_feedback_parse("0.5 / concurrency", &fb), 0);
    ck_assert(fb.base == 0.5 && fb.per_window);
    ck_assert_int_eq(qmgr_feedback_parse("1", &fb), 0);
    ck_assert(fb.base == 1 && !fb.per_window);
    ck_assert_int_eq(qmgr_feedback_parse("1/window", &fb), -1);
    ck_assert_int_eq(qmgr_feedback_parse("", &fb), -1);
    ck_assert_int_eq(qmgr_feedback_parse("-1", &fb), -1);
}
END_TEST

/* a queue of transport t outside any list, for the arithmetic */
static QMGR_QUEUE *bare_queue(QMGR_TRANSPORT *t, int window, int busy)
{
    QMGR_QUEUE *q = xcalloc(1, sizeof(*q));

    q->transport = t;
    q->window = window;
    q->busy = busy;
    return q;
}

/* Slow start with 1/concurrency: +1 per window's worth of successes,
 * only while the window is in use, never above the limit. */
START_TEST(test_slow_start)
{
    QMGR_TRANSPORT *t;
    QMGR_QUEUE *q;

    config_set("wide_destination_concurrency_limit", "4");
    t = qmgr_transport_find("wide");
    ck_assert_int_eq(t->init_window, 2);
    q = bare_queue(t, 2, 2);
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 2);             /* half a cohort */
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 3);
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 4);             /* 3 more at window 3 */
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 4);             /* the limit */
    /* An idle window does not grow: window >= busy + initial. */
    q->window = 3;
    q->busy = 0;
    q->success = 0;
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 3);
    xfree(q);

    /* Positive feedback 1: the old +1 per success. */
    config_set("fast_destination_concurrency_positive_feedback", "1");
    t = qmgr_transport_find("fast");
    q = bare_queue(t, 2, 2);
    qmgr_queue_success(q);
    ck_assert_int_eq(q->window, 3);
    xfree(q);
}
END_TEST

/* Failures for the destination as a whole: the window shrinks at the
 * start of each negative cycle, and one window's worth of them in a row
 * (the failed cohort limit, 1) makes the destination dead: its waiting
 * recipients and new ones are deferred at once, with the agent's reason. */
START_TEST(test_failed_cohorts)
{
    QMGR_MESSAGE *m;
    RESOLVE_REPLY *r = reply_for("wide", "dead.test");
    QMGR_TRANSPORT *t;
    QMGR_QUEUE *q;
    int     i;

    ck_assert_int_eq(chdir(tdir), 0);
    config_set("wide_destination_concurrency_limit", "10");
    config_set("initial_destination_concurrency", "5");
    t = qmgr_transport_find("wide");
    m = message(3);
    m->refs++;
    for (i = 0; i < 3; i++)
        qmgr_entry_add(m, r, i);
    q = t->queues;
    ck_assert_int_eq(q->window, 5);
    qmgr_queue_failure(q, "4.4.1", "connect to x: Connection refused");
    ck_assert_int_eq(q->window, 4);             /* reverse hysteresis: at once */
    qmgr_queue_failure(q, "4.4.1", "connect to x: Connection refused");
    qmgr_queue_failure(q, "4.4.1", "connect to x: Connection refused");
    ck_assert_int_eq(q->window, 4);
    qmgr_queue_failure(q, "4.4.1", "connect to x: Connection refused");
    ck_assert_int_eq(q->window, 3);
    ck_assert_int_eq(m->rcpt[0].state, RCPT_TODO);      /* not dead yet: 0.95 cohorts */
    qmgr_queue_failure(q, "4.4.1", "connect to x: Connection refused");
    ck_assert_int_eq(q->window, 0);             /* dead */
    ck_assert_str_eq(q->dead_reason, "delivery temporarily suspended: connect to x: "
                     "Connection refused");
    ck_assert_str_eq(q->dead_dsn, "4.4.1");
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(m->rcpt[i].state, RCPT_DEFERRED);
    ck_assert_ptr_null(q->todo);
    /* New mail for a dead destination waits without a request. */
    m->rcpt[0].state = RCPT_TODO;
    qmgr_entry_add(m, r, 0);
    ck_assert_int_eq(m->rcpt[0].state, RCPT_DEFERRED);
    ck_assert_ptr_null(q->todo);
    /* The queue survives the tidy while dead; F forgets it. */
    qmgr_sched_run();
    ck_assert_ptr_eq(t->queues, q);
    qmgr_transport_unthrottle_all();
    ck_assert_int_eq(q->window, 5);             /* nothing busy: the initial window */
    ck_assert(q->fail_cohorts == 0);
    /* A success in between starts the count again. */
    qmgr_queue_failure(q, "4.4.1", "x");
    qmgr_queue_failure(q, "4.4.1", "x");
    qmgr_queue_success(q);
    ck_assert(q->fail_cohorts == 0);
    resolve_reply_free(r);
}
END_TEST

/* wide_queue - a "wide" (limit 10) queue for r's nexthop holding one
 * entry of a one-recipient message (*mp), held in memory */
static QMGR_QUEUE *wide_queue(const RESOLVE_REPLY *r, QMGR_MESSAGE **mp)
{
    ck_assert_int_eq(chdir(tdir), 0);
    config_set("wide_destination_concurrency_limit", "10");
    *mp = message(1);
    (*mp)->refs++;
    qmgr_entry_add(*mp, r, 0);
    return qmgr_transport_find("wide")->queues;
}

/* drop_todo - as if the queue's waiting entry had been delivered */
static void drop_todo(QMGR_QUEUE *q, QMGR_MESSAGE *m)
{
    qmgr_entry_free(q->todo);
    q->todo = q->todo_tail = NULL;
    m->refs--;
}

/* Failures short of a cohort are kept while the queue has nothing to do
 * (mail that trickles in must not start a fresh window each time), until
 * a success. */
START_TEST(test_failures_outlive_empty_queue)
{
    QMGR_MESSAGE *m;
    RESOLVE_REPLY *r = reply_for("wide", "flaky.test");
    QMGR_QUEUE *q = wide_queue(r, &m);
    QMGR_TRANSPORT *t = q->transport;

    qmgr_queue_failure(q, "4.4.1", "x");
    ck_assert(q->fail_cohorts > 0 && q->window > 0);
    drop_todo(q, m);
    qmgr_sched_run();
    ck_assert_ptr_eq(t->queues, q);             /* kept: its failures count */
    qmgr_queue_success(q);
    qmgr_sched_run();
    ck_assert_ptr_null(t->queues);              /* nothing to remember: freed */
    resolve_reply_free(r);
}
END_TEST

/* A queue whose last request ended within the last second stays in
 * memory (Postfix's back-to-back rule: the connection cache hint and the
 * window are still there for the next message); after that it is freed. */
START_TEST(test_back_to_back_keeps_idle_queue)
{
    QMGR_MESSAGE *m;
    RESOLVE_REPLY *r = reply_for("wide", "b2b.test");
    QMGR_QUEUE *q = wide_queue(r, &m);
    QMGR_TRANSPORT *t = q->transport;

    ck_assert(!qmgr_queue_back_to_back(q));     /* never delivered */
    drop_todo(q, m);
    q->last_done = event_now_ms();
    ck_assert(qmgr_queue_back_to_back(q));
    qmgr_sched_run();
    ck_assert_ptr_eq(t->queues, q);             /* kept for the next message */
    q->last_done = event_now_ms() - QMGR_BACK_TO_BACK_MS - 1;
    ck_assert(!qmgr_queue_back_to_back(q));
    qmgr_sched_run();
    ck_assert_ptr_null(t->queues);              /* the second is over: freed */
    resolve_reply_free(r);
}
END_TEST

START_TEST(test_cohort_limit_zero)
{
    QMGR_TRANSPORT *t;
    QMGR_QUEUE *q;
    int     i;

    config_set("never_destination_concurrency_failed_cohort_limit", "0");
    t = qmgr_transport_find("never");
    q = bare_queue(t, 2, 0);
    for (i = 0; i < 50; i++)
        qmgr_queue_failure(q, "4.4.1", "x");
    ck_assert_int_eq(q->window, 1);             /* never below 1, never dead */
    xfree(q);
}
END_TEST

/* A rate delay: one at a time, and no start before ready_at. */
START_TEST(test_rate_delay)
{
    QMGR_TRANSPORT *t;
    QMGR_ENTRY e;
    QMGR_QUEUE *q;

    config_set("slow_destination_rate_delay", "2s");
    config_set("slow_destination_concurrency_limit", "10");
    t = qmgr_transport_find("slow");
    ck_assert_int_eq(t->rate_delay_ms, 2000);
    ck_assert_int_eq(t->dest_limit, 1);
    ck_assert_int_eq(qmgr_transport_find("agent")->rate_delay_ms, 0);
    memset(&e, 0, sizeof(e));
    q = bare_queue(t, 1, 0);
    q->todo = &e;
    ck_assert(qmgr_queue_can_start(q));
    q->ready_at = event_now_ms() + 2000;
    ck_assert(!qmgr_queue_can_start(q));
    q->ready_at = event_now_ms() - 1;
    ck_assert(qmgr_queue_can_start(q));
    xfree(q);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("qmgr_sched");
    TCase  *tc = tcase_create("core");
    char   *log;

    tdir = ts_tempdir();
    log = ts_path(tdir, "log");
    msg_init("check_qmgr_sched", 0);
    msg_set_logfile(log);
    xfree(log);
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_transport_limits);
    tcase_add_test(tc, test_queue_key);
    tcase_add_test(tc, test_can_start);
    tcase_add_test(tc, test_grouping);
    tcase_add_test(tc, test_unavailable_throttles);
    tcase_add_test(tc, test_feedback_parse);
    tcase_add_test(tc, test_slow_start);
    tcase_add_test(tc, test_failed_cohorts);
    tcase_add_test(tc, test_failures_outlive_empty_queue);
    tcase_add_test(tc, test_back_to_back_keeps_idle_queue);
    tcase_add_test(tc, test_cohort_limit_zero);
    tcase_add_test(tc, test_rate_delay);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
