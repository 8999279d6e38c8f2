/* event - one event loop per process: file descriptors, timers, signals.
 *
 * Built on epoll. Callbacks run from event_loop(), never from a signal
 * handler: signals arrive through a self-pipe and are dispatched like any
 * other event. Timers are keyed by (callback, context): requesting a timer
 * that exists moves it (Postfix's event_request_timer semantics).
 * All descriptors the loop creates are close-on-exec.
 *
 * Descriptors: one read and one write callback per descriptor, level
 * triggered. Call event_disable_readwrite() before close(): the loop then
 * drops any event for that descriptor still pending in the current round,
 * even when the number is reused at once. EVENT_XCPT (EPOLLERR/EPOLLHUP) goes
 * to the read callback, or to the write callback when there is no read
 * callback; it can come together with EVENT_READ (data left before the
 * hang-up). To learn that the reader of a pipe went away (a daemon watching
 * its status pipe to the master), enable read on the pipe's write end: it
 * is never readable, but the error is reported as EVENT_XCPT.
 *
 * Timers are one-shot. A callback may disable descriptors, close them, and
 * request or cancel timers; a timer requested from a callback runs in a
 * later round at the earliest, so a zero delay cannot spin in one round.
 *
 * Signals: event_signal(signo, NULL, NULL) restores the default action.
 *
 * After fork(), a child that goes on using the loop calls
 * event_reset_after_fork() first: it gets a fresh epoll set (the inherited
 * one is shared with the parent), no descriptors, no timers, and the
 * default action for the signals the parent had handled.
 */
#ifndef SUREL_EVENT_H
#define SUREL_EVENT_H

#define EVENT_READ      (1 << 0)
#define EVENT_WRITE     (1 << 1)
#define EVENT_XCPT      (1 << 2)    /* error or hang-up on the descriptor */
#define EVENT_TIME      (1 << 3)    /* a timer expired */
#define EVENT_SIGNAL    (1 << 4)    /* a registered signal arrived */

/* For fds: (event mask, context); for timers: EVENT_TIME; for signals: signo. */
typedef void (*EVENT_FN)(int event, void *context);

void    event_enable_read(int fd, EVENT_FN fn, void *context);
void    event_enable_write(int fd, EVENT_FN fn, void *context);
void    event_disable_readwrite(int fd);

long long event_request_timer(EVENT_FN fn, void *context, long delay_ms);  /* expiry, event_now_ms() time */
int     event_cancel_timer(EVENT_FN fn, void *context);   /* 1 if one was set */

void    event_signal(int signo, EVENT_FN fn, void *context);  /* fn(signo, ctx) */

void    event_loop(long max_wait_ms);   /* one round; <0: wait until an event (nothing to wait for: panic) */
long long event_now_ms(void);           /* monotonic clock, milliseconds */
void    event_reset_after_fork(void);   /* forget everything inherited */

#endif
