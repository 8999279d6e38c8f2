/* check_event - the event loop: timers, descriptors, signals, fork. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event.h"
#include "mem.h"
#include "testsupport.h"

/* What callbacks saw, in order. */
#define LOG_MAX 64
static int log_ctx[LOG_MAX];        /* context (as int) of each call */
static int log_event[LOG_MAX];      /* event argument of each call */
static long long log_time[LOG_MAX]; /* event_now_ms() at the call */
static int log_len;

static void record(int event, void *context)
{
    if (log_len < LOG_MAX) {
        log_ctx[log_len] = (int) (intptr_t) context;
        log_event[log_len] = event;
        log_time[log_len] = event_now_ms();
        log_len++;
    }
}

#define CTX(n) ((void *) (intptr_t) (n))

/* run_until - run rounds until *count reaches want or the deadline passes */
static void run_until(const int *count, int want, long deadline_ms)
{
    long long end = event_now_ms() + deadline_ms;

    while (*count < want && event_now_ms() < end)
        event_loop(50);
}

/* run_for - run rounds for a while (to show that something does NOT happen) */
static void run_for(long ms)
{
    long long end = event_now_ms() + ms;

    while (event_now_ms() < end)
        event_loop(end - event_now_ms());
}

START_TEST(test_timers_fire_in_order)
{
    long long t0 = event_now_ms();
    long long when;

    event_request_timer(record, CTX(1), 60);
    event_request_timer(record, CTX(2), 20);
    event_request_timer(record, CTX(3), 40);
    when = event_request_timer(record, CTX(4), 20);     /* same time as 2: after it */
    ck_assert(when >= t0 + 20);
    run_until(&log_len, 4, 5000);
    ck_assert_int_eq(log_len, 4);
    ck_assert_int_eq(log_ctx[0], 2);
    ck_assert_int_eq(log_ctx[1], 4);
    ck_assert_int_eq(log_ctx[2], 3);
    ck_assert_int_eq(log_ctx[3], 1);
    ck_assert_int_eq(log_event[0], EVENT_TIME);
    ck_assert(log_time[0] >= t0 + 20);
    ck_assert(log_time[2] >= t0 + 40);
    ck_assert(log_time[3] >= t0 + 60);
}
END_TEST

START_TEST(test_timer_replace_and_cancel)
{
    long long t0 = event_now_ms();

    /* Replace: the later request moves the timer, there is only one. */
    event_request_timer(record, CTX(1), 10000);
    event_request_timer(record, CTX(1), 10);
    /* Same callback, other context: a different timer. */
    event_request_timer(record, CTX(2), 30);
    /* Cancel. */
    event_request_timer(record, CTX(3), 5);
    ck_assert_int_eq(event_cancel_timer(record, CTX(3)), 1);
    ck_assert_int_eq(event_cancel_timer(record, CTX(3)), 0);
    /* Replace to later: must not fire at the earlier time. */
    event_request_timer(record, CTX(4), 1);
    event_request_timer(record, CTX(4), 150);
    run_until(&log_len, 3, 5000);
    ck_assert_int_eq(log_len, 3);
    ck_assert_int_eq(log_ctx[0], 1);
    ck_assert_int_eq(log_ctx[1], 2);
    ck_assert_int_eq(log_ctx[2], 4);
    ck_assert(log_time[2] >= t0 + 150);
    run_for(100);
    ck_assert_int_eq(log_len, 3);       /* nothing fired twice, 3 never */
}
END_TEST

/* Many timers: fired in expiry order, replaced ones once, cancelled never. */
static long long many_last;
static int many_fired;
static int many_seen[5000];
static int many_bad_order;

static void many_fn(int event, void *context)
{
    int     i = (int) (intptr_t) context;
    long long now = event_now_ms();

    (void) event;
    many_seen[i]++;
    many_fired++;
    if (now + 1 < many_last)            /* allow rounding inside one ms */
        many_bad_order++;
    many_last = now;
}

START_TEST(test_many_timers)
{
    int     i;
    int     cancelled = 0;

    srandom(42);
    for (i = 0; i < 5000; i++)
        event_request_timer(many_fn, CTX(i), random() % 200);
    for (i = 0; i < 5000; i += 2)       /* replace half */
        event_request_timer(many_fn, CTX(i), random() % 200);
    for (i = 1; i < 5000; i += 4)       /* cancel a quarter */
        cancelled += event_cancel_timer(many_fn, CTX(i));
    ck_assert_int_eq(cancelled, 1250);
    run_until(&many_fired, 3750, 10000);
    run_for(50);
    ck_assert_int_eq(many_fired, 3750);
    ck_assert_int_eq(many_bad_order, 0);
    for (i = 0; i < 5000; i++)
        ck_assert_int_eq(many_seen[i], (i % 4 == 1) ? 0 : 1);
}
END_TEST

/* A timer that re-arms itself with no delay must not spin inside one round. */
static int rearm_count;

static void rearm_fn(int event, void *context)
{
    rearm_count++;
    event_request_timer(rearm_fn, context, 0);
}

/* A timer callback that cancels another due timer. */
static void cancel_other_fn(int event, void *context)
{
    record(event, context);
    event_cancel_timer(record, CTX(99));
}

START_TEST(test_timer_callbacks_change_timers)
{
    int     rounds;

    event_request_timer(rearm_fn, NULL, 0);
    for (rounds = 1; rounds <= 3; rounds++) {
        event_loop(1000);
        ck_assert_int_eq(rearm_count, rounds);
    }
    ck_assert_int_eq(event_cancel_timer(rearm_fn, NULL), 1);

    event_request_timer(cancel_other_fn, CTX(1), 0);
    event_request_timer(record, CTX(99), 0);    /* due in the same round */
    run_until(&log_len, 1, 1000);
    run_for(50);
    ck_assert_int_eq(log_len, 1);
    ck_assert_int_eq(log_ctx[0], 1);
}
END_TEST

START_TEST(test_fd_readiness)
{
    int     p[2];
    int     sv[2];

    ck_assert_int_eq(pipe(p), 0);
    event_enable_read(p[0], record, CTX(1));
    event_loop(30);
    ck_assert_int_eq(log_len, 0);               /* nothing to read yet */
    ck_assert_int_eq(write(p[1], "x", 1), 1);
    run_until(&log_len, 1, 2000);
    ck_assert_int_eq(log_len, 1);
    ck_assert_int_eq(log_ctx[0], 1);
    ck_assert_int_eq(log_event[0], EVENT_READ);

    /* Write interest on a socket with room: writable at once. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    event_disable_readwrite(p[0]);
    event_enable_write(sv[0], record, CTX(2));
    run_until(&log_len, 2, 2000);
    ck_assert_int_eq(log_ctx[1], 2);
    ck_assert_int_eq(log_event[1], EVENT_WRITE);
    event_disable_readwrite(sv[0]);

    /* Separate read and write callbacks on one descriptor. */
    log_len = 0;
    ck_assert_int_eq(write(sv[1], "y", 1), 1);
    event_enable_read(sv[0], record, CTX(3));
    event_enable_write(sv[0], record, CTX(4));
    run_until(&log_len, 2, 2000);
    ck_assert_int_eq(log_len, 2);
    ck_assert_int_eq(log_ctx[0], 3);
    ck_assert_int_eq(log_event[0], EVENT_READ);
    ck_assert_int_eq(log_ctx[1], 4);
    ck_assert_int_eq(log_event[1], EVENT_WRITE);
    event_disable_readwrite(sv[0]);
    event_disable_readwrite(sv[0]);             /* twice is harmless */
}
END_TEST

START_TEST(test_xcpt_when_pipe_reader_closes)
{
    int     p[2];

    ck_assert_int_eq(pipe(p), 0);
    /* A daemon watches the write end of its status pipe for errors. */
    event_enable_read(p[1], record, CTX(5));
    event_loop(30);
    ck_assert_int_eq(log_len, 0);
    close(p[0]);                                /* the master goes away */
    run_until(&log_len, 1, 2000);
    ck_assert_int_eq(log_len, 1);
    ck_assert_int_eq(log_ctx[0], 5);
    ck_assert_int_eq(log_event[0], EVENT_XCPT);
}
END_TEST

START_TEST(test_xcpt_for_write_only_interest)
{
    int     sv[2];
    int     small = 4096;
    char    fill[4096];

    /* Fill the socket so that it is not writable, then lose the peer. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    memset(fill, 'f', sizeof(fill));
    while (write(sv[0], fill, sizeof(fill)) > 0)
        /* void */ ;
    event_enable_write(sv[0], record, CTX(6));
    event_loop(30);
    ck_assert_int_eq(log_len, 0);
    close(sv[1]);
    run_until(&log_len, 1, 2000);
    ck_assert_int_eq(log_ctx[0], 6);
    ck_assert(log_event[0] & EVENT_XCPT);
}
END_TEST

static int sig_in_handler_check;

START_TEST(test_signal_dispatch)
{
    event_signal(SIGUSR1, record, CTX(7));
    event_signal(SIGUSR2, record, CTX(8));
    raise(SIGUSR1);
    raise(SIGUSR1);                             /* coalesced with the first */
    sig_in_handler_check = log_len;
    ck_assert_int_eq(sig_in_handler_check, 0);  /* not run from the handler */
    run_until(&log_len, 1, 2000);
    ck_assert_int_eq(log_len, 1);
    ck_assert_int_eq(log_event[0], SIGUSR1);
    ck_assert_int_eq(log_ctx[0], 7);
    raise(SIGUSR2);
    raise(SIGUSR1);
    run_until(&log_len, 3, 2000);
    ck_assert_int_eq(log_len, 3);
    /* Both arrive; the loop dispatches in signal-number order. */
    ck_assert_int_eq(log_event[1], SIGUSR1);
    ck_assert_int_eq(log_event[2], SIGUSR2);
    ck_assert_int_eq(log_ctx[2], 8);
    run_for(30);
    ck_assert_int_eq(log_len, 3);
}
END_TEST

START_TEST(test_signal_default_restored)
{
    struct sigaction sa;

    event_signal(SIGUSR1, record, NULL);
    sigaction(SIGUSR1, NULL, &sa);
    ck_assert(sa.sa_handler != SIG_DFL);
    event_signal(SIGUSR1, NULL, NULL);
    sigaction(SIGUSR1, NULL, &sa);
    ck_assert(sa.sa_handler == SIG_DFL);
}
END_TEST

/* A callback that disables and closes its own descriptor. */
static void close_self(int event, void *context)
{
    int     fd = (int) (intptr_t) context;

    record(event, context);
    event_disable_readwrite(fd);
    close(fd);
}

START_TEST(test_callback_closes_own_fd)
{
    int     p[2];

    ck_assert_int_eq(pipe(p), 0);
    ck_assert_int_eq(write(p[1], "xyz", 3), 3);
    event_enable_read(p[0], close_self, CTX(p[0]));
    run_until(&log_len, 1, 2000);
    run_for(50);
    ck_assert_int_eq(log_len, 1);               /* once, then gone */
    ck_assert_int_eq(fcntl(p[0], F_GETFD), -1); /* really closed */
}
END_TEST

/* Two readable pipes; whichever callback runs first closes the other one
 * and reuses its number for a new, empty pipe with another callback. The
 * event epoll already returned for the old descriptor must be dropped. */
static int stale_fd[2];
static int stale_new_calls;

static void stale_new(int event, void *context)
{
    stale_new_calls++;
}

static void stale_first(int event, void *context)
{
    int     me = (int) (intptr_t) context;
    int     other = stale_fd[1 - me];
    int     fresh[2];

    record(event, context);
    event_disable_readwrite(other);
    close(other);
    ck_assert_int_eq(pipe(fresh), 0);
    if (fresh[0] != other) {
        ck_assert_int_eq(dup2(fresh[0], other), other);
        close(fresh[0]);
    }
    event_enable_read(other, stale_new, NULL);
    event_disable_readwrite(stale_fd[me]);
}

START_TEST(test_no_stale_events_after_close_in_callback)
{
    int     a[2];
    int     b[2];

    ck_assert_int_eq(pipe(a), 0);
    ck_assert_int_eq(pipe(b), 0);
    ck_assert_int_eq(write(a[1], "a", 1), 1);
    ck_assert_int_eq(write(b[1], "b", 1), 1);
    stale_fd[0] = a[0];
    stale_fd[1] = b[0];
    event_enable_read(a[0], stale_first, CTX(0));
    event_enable_read(b[0], stale_first, CTX(1));
    /* Both are ready before the round: one epoll_wait returns both. */
    event_loop(1000);
    ck_assert_int_eq(log_len, 1);
    ck_assert_int_eq(stale_new_calls, 0);
}
END_TEST

START_TEST(test_reset_after_fork)
{
    int     p[2];
    pid_t   pid;
    int     status;

    ck_assert_int_eq(pipe(p), 0);
    event_enable_read(p[0], record, CTX(10));
    event_request_timer(record, CTX(11), 0);
    event_signal(SIGUSR1, record, CTX(12));
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sigaction sa;
        int     q[2];

        event_reset_after_fork();
        /* Nothing inherited: no timer, no descriptor, default signal action. */
        sigaction(SIGUSR1, NULL, &sa);
        if (sa.sa_handler != SIG_DFL)
            _exit(1);
        if (pipe(q) < 0)
            _exit(2);
        event_enable_read(q[0], record, CTX(13));
        /* Changes to the child's own set must not reach the parent's. */
        event_enable_read(p[0], record, CTX(14));
        event_disable_readwrite(p[0]);
        if (write(q[1], "q", 1) != 1)
            _exit(3);
        event_loop(1000);
        _exit(log_len == 1 && log_ctx[0] == 13 ? 0 : 4);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child status %d", status);
    /* The parent still has its timer and its descriptor. */
    ck_assert_int_eq(write(p[1], "p", 1), 1);
    run_until(&log_len, 2, 2000);
    ck_assert_int_eq(log_len, 2);
    ck_assert((log_ctx[0] == 10 && log_ctx[1] == 11)
              || (log_ctx[0] == 11 && log_ctx[1] == 10));
}
END_TEST

START_TEST(test_loop_wait_is_bounded)
{
    int     p[2];
    long long t0;
    long long took;

    ck_assert_int_eq(pipe(p), 0);
    event_enable_read(p[0], record, NULL);
    t0 = event_now_ms();
    event_loop(100);
    took = event_now_ms() - t0;
    ck_assert_msg(took >= 90 && took < 1000, "waited %lld ms", took);
    ck_assert_int_eq(log_len, 0);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("event");
    TCase  *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_timers_fire_in_order);
    tcase_add_test(tc, test_timer_replace_and_cancel);
    tcase_add_test(tc, test_many_timers);
    tcase_add_test(tc, test_timer_callbacks_change_timers);
    tcase_add_test(tc, test_fd_readiness);
    tcase_add_test(tc, test_xcpt_when_pipe_reader_closes);
    tcase_add_test(tc, test_xcpt_for_write_only_interest);
    tcase_add_test(tc, test_signal_dispatch);
    tcase_add_test(tc, test_signal_default_restored);
    tcase_add_test(tc, test_callback_closes_own_fd);
    tcase_add_test(tc, test_no_stale_events_after_close_in_callback);
    tcase_add_test(tc, test_reset_after_fork);
    tcase_add_test(tc, test_loop_wait_is_bounded);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
