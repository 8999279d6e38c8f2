/* event - the per-process event loop on epoll; see event.h.
 *
 * Descriptors live in a table indexed by fd. Each registration carries a
 * generation number that is also stored in the epoll event data; when a
 * callback disables a descriptor the generation moves on, so an event that
 * epoll_wait already returned for it in this round is recognised as stale
 * and dropped, even if the descriptor number was reused meanwhile.
 *
 * Timers sit in a binary heap ordered by (expiry, request sequence) and in
 * a hash table keyed by (callback, context), so that request, replace and
 * cancel each cost O(log n) however many timers a process keeps (qmgr
 * keeps one per destination).
 *
 * Signals: the handler only sets a per-signal flag and writes one byte to
 * a non-blocking self-pipe; the loop reads the pipe like any descriptor and
 * calls each flagged signal's callback. A full pipe loses only redundant
 * wake-up bytes, never a flag.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "event.h"
#include "mem.h"
#include "msg.h"

#define EVENT_BATCH     128         /* epoll events taken per round */

/* One descriptor's registration. */
typedef struct EVENT_FD {
    EVENT_FN rd_fn;                 /* read callback, or NULL */
    void   *rd_ctx;
    EVENT_FN wr_fn;                 /* write callback, or NULL */
    void   *wr_ctx;
    uint32_t gen;                   /* moves on whenever a registration ends */
    int     in_set;                 /* registered with epoll */
} EVENT_FD;

/* One pending timer. */
typedef struct EVENT_TIMER {
    EVENT_FN fn;                    /* key, with ctx */
    void   *ctx;
    long long when;                 /* expiry, event_now_ms() time */
    unsigned long long seq;         /* request order: ties and round limit */
    size_t  slot;                   /* index in the heap */
    struct EVENT_TIMER *next;       /* hash chain */
} EVENT_TIMER;

static int event_epfd = -1;         /* the epoll set, created on first use */
static EVENT_FD *event_fds;         /* by descriptor number */
static int event_fd_cap;            /* entries in event_fds */
static int event_fd_count;          /* descriptors in the epoll set */

static EVENT_TIMER **event_heap;    /* min-heap of timers */
static size_t event_heap_len;
static size_t event_heap_cap;
static EVENT_TIMER **event_hash;    /* (fn, ctx) -> timer; size is a power of 2 */
static size_t event_hash_size;
static unsigned long long event_seq;    /* next timer sequence number */

/* Signals: flags set by the handler, callbacks run by the loop. */
static volatile sig_atomic_t event_sig_flag[NSIG];
static volatile sig_atomic_t event_sig_wfd = -1;    /* self-pipe write end */
static int event_sig_rfd = -1;      /* self-pipe read end */
static struct {
    EVENT_FN fn;                    /* NULL: not handled by us */
    void   *ctx;
} event_sigs[NSIG];

long long event_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* event_init - create the epoll set on first use */
static void event_init(void)
{
    if (event_epfd < 0 && (event_epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        msg_fatal("epoll_create1: %m");
}

/* event_fd_slot - the table entry for fd, growing the table */
static EVENT_FD *event_fd_slot(int fd)
{
    int     cap;

    if (fd < 0)
        msg_panic("event: bad descriptor %d", fd);
    if (fd >= event_fd_cap) {
        cap = event_fd_cap ? event_fd_cap : 64;
        while (cap <= fd)
            cap *= 2;
        event_fds = xreallocarray(event_fds, (size_t) cap, sizeof(*event_fds));
        memset(event_fds + event_fd_cap, 0,
               (size_t) (cap - event_fd_cap) * sizeof(*event_fds));
        event_fd_cap = cap;
    }
    return &event_fds[fd];
}

/* event_fd_update - tell epoll what the registration of fd now wants */
static void event_fd_update(int fd, EVENT_FD *e)
{
    struct epoll_event ev;

    event_init();
    memset(&ev, 0, sizeof(ev));
    ev.events = (e->rd_fn ? EPOLLIN : 0) | (e->wr_fn ? EPOLLOUT : 0);
    ev.data.u64 = ((uint64_t) e->gen << 32) | (uint32_t) fd;
    if (epoll_ctl(event_epfd, e->in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        msg_panic("event: epoll_ctl fd %d: %m", fd);
    if (!e->in_set)
        event_fd_count++;
    e->in_set = 1;
}

void event_enable_read(int fd, EVENT_FN fn, void *context)
{
    EVENT_FD *e = event_fd_slot(fd);

    if (fn == NULL)
        msg_panic("event_enable_read: fd %d: null callback", fd);
    e->rd_fn = fn;
    e->rd_ctx = context;
    event_fd_update(fd, e);
}

void event_enable_write(int fd, EVENT_FN fn, void *context)
{
    EVENT_FD *e = event_fd_slot(fd);

    if (fn == NULL)
        msg_panic("event_enable_write: fd %d: null callback", fd);
    e->wr_fn = fn;
    e->wr_ctx = context;
    event_fd_update(fd, e);
}

/* event_disable_readwrite - forget fd; safe on unknown or closed descriptors */
void event_disable_readwrite(int fd)
{
    EVENT_FD *e;

    if (fd < 0 || fd >= event_fd_cap || !event_fds[fd].in_set)
        return;
    e = &event_fds[fd];
    if (epoll_ctl(event_epfd, EPOLL_CTL_DEL, fd, NULL) < 0
        && errno != EBADF && errno != ENOENT)
        msg_panic("event: epoll_ctl DEL fd %d: %m", fd);
    e->rd_fn = e->wr_fn = NULL;
    e->rd_ctx = e->wr_ctx = NULL;
    e->in_set = 0;
    e->gen++;                       /* events already returned are now stale */
    event_fd_count--;
}

/* Timer heap and hash ------------------------------------------------- */

/* event_timer_before - heap order: earlier expiry, then earlier request */
static int event_timer_before(const EVENT_TIMER *a, const EVENT_TIMER *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* event_heap_put - place t at slot i */
static void event_heap_put(EVENT_TIMER *t, size_t i)
{
    event_heap[i] = t;
    t->slot = i;
}

/* event_heap_up - move the timer at slot i towards the root */
static void event_heap_up(size_t i)
{
    EVENT_TIMER *t = event_heap[i];

    while (i > 0 && event_timer_before(t, event_heap[(i - 1) / 2])) {
        event_heap_put(event_heap[(i - 1) / 2], i);
        i = (i - 1) / 2;
    }
    event_heap_put(t, i);
}

/* event_heap_down - move the timer at slot i towards the leaves */
static void event_heap_down(size_t i)
{
    EVENT_TIMER *t = event_heap[i];
    size_t  child;

    for (;;) {
        child = 2 * i + 1;
        if (child >= event_heap_len)
            break;
        if (child + 1 < event_heap_len
            && event_timer_before(event_heap[child + 1], event_heap[child]))
            child++;
        if (!event_timer_before(event_heap[child], t))
            break;
        event_heap_put(event_heap[child], i);
        i = child;
    }
    event_heap_put(t, i);
}

/* event_heap_remove - take t out of the heap */
static void event_heap_remove(EVENT_TIMER *t)
{
    size_t  i = t->slot;
    EVENT_TIMER *last = event_heap[--event_heap_len];

    if (last != t) {
        event_heap_put(last, i);
        event_heap_up(i);
        event_heap_down(last->slot);
    }
}

/* event_hash_key - bucket of (fn, ctx) */
static size_t event_hash_key(EVENT_FN fn, void *ctx)
{
    uint64_t h = (uint64_t) (uintptr_t) fn * 0x9E3779B97F4A7C15ULL;

    h ^= (uint64_t) (uintptr_t) ctx * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    return (size_t) h & (event_hash_size - 1);
}

/* event_hash_find - the link that points at the timer for (fn, ctx) */
static EVENT_TIMER **event_hash_find(EVENT_FN fn, void *ctx)
{
    EVENT_TIMER **pp;

    if (event_hash_size == 0)
        return NULL;
    for (pp = &event_hash[event_hash_key(fn, ctx)]; *pp; pp = &(*pp)->next)
        if ((*pp)->fn == fn && (*pp)->ctx == ctx)
            return pp;
    return NULL;
}

/* event_hash_grow - keep chains short: at most one timer per bucket on average */
static void event_hash_grow(void)
{
    EVENT_TIMER **old = event_hash;
    size_t  old_size = event_hash_size;
    EVENT_TIMER *t;
    EVENT_TIMER *next;
    size_t  i;
    size_t  k;

    event_hash_size = old_size ? old_size * 2 : 64;
    event_hash = xcalloc(event_hash_size, sizeof(*event_hash));
    for (i = 0; i < old_size; i++) {
        for (t = old[i]; t; t = next) {
            next = t->next;
            k = event_hash_key(t->fn, t->ctx);
            t->next = event_hash[k];
            event_hash[k] = t;
        }
    }
    xfree(old);
}

/* event_timer_delete - unlink a timer from both structures and free it */
static void event_timer_delete(EVENT_TIMER **link)
{
    EVENT_TIMER *t = *link;

    *link = t->next;
    event_heap_remove(t);
    xfree(t);
}

long long event_request_timer(EVENT_FN fn, void *context, long delay_ms)
{
    EVENT_TIMER **link = event_hash_find(fn, context);
    EVENT_TIMER *t;
    size_t  k;

    if (fn == NULL)
        msg_panic("event_request_timer: null callback");
    if (delay_ms < 0)
        delay_ms = 0;
    if (link == NULL) {
        if (event_heap_len >= event_hash_size)
            event_hash_grow();
        if (event_heap_len == event_heap_cap) {
            event_heap_cap = event_heap_cap ? event_heap_cap * 2 : 64;
            event_heap = xreallocarray(event_heap, event_heap_cap, sizeof(*event_heap));
        }
        t = xcalloc(1, sizeof(*t));
        t->fn = fn;
        t->ctx = context;
        k = event_hash_key(fn, context);
        t->next = event_hash[k];
        event_hash[k] = t;
        t->slot = event_heap_len++;
        event_heap[t->slot] = t;
    } else {
        t = *link;
    }
    t->when = event_now_ms() + delay_ms;
    t->seq = event_seq++;
    event_heap_up(t->slot);
    event_heap_down(t->slot);
    return t->when;
}

int event_cancel_timer(EVENT_FN fn, void *context)
{
    EVENT_TIMER **link = event_hash_find(fn, context);

    if (link == NULL)
        return 0;
    event_timer_delete(link);
    return 1;
}

/* event_run_timers - call the timers that are due and were requested
 * before this round's timer pass began */
static void event_run_timers(void)
{
    unsigned long long limit = event_seq;
    long long now = event_now_ms();
    EVENT_TIMER *t;
    EVENT_FN fn;
    void   *ctx;

    while (event_heap_len > 0) {
        t = event_heap[0];
        if (t->when > now || t->seq >= limit)
            break;
        fn = t->fn;
        ctx = t->ctx;
        event_timer_delete(event_hash_find(fn, ctx));
        fn(EVENT_TIME, ctx);
    }
}

/* Signals --------------------------------------------------------------- */

/* event_sig_handler - async-signal-safe: a flag and one wake-up byte */
static void event_sig_handler(int signo)
{
    int     saved_errno = errno;
    unsigned char byte = (unsigned char) signo;
    int     fd = event_sig_wfd;

    event_sig_flag[signo] = 1;
    if (fd >= 0 && write(fd, &byte, 1) < 0) {
        /* Pipe full: a wake-up is pending already. */
    }
    errno = saved_errno;
}

/* event_sig_drain - the self-pipe is readable: run flagged signal callbacks */
static void event_sig_drain(int event, void *context)
{
    unsigned char junk[64];
    int     signo;

    while (read(event_sig_rfd, junk, sizeof(junk)) > 0)
        /* void */ ;
    for (signo = 1; signo < NSIG; signo++) {
        if (event_sig_flag[signo]) {
            event_sig_flag[signo] = 0;
            if (event_sigs[signo].fn)
                event_sigs[signo].fn(signo, event_sigs[signo].ctx);
        }
    }
}

/* event_sig_pipe - create the self-pipe and watch it */
static void event_sig_pipe(void)
{
    int     p[2];

    if (event_sig_rfd >= 0)
        return;
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
        msg_fatal("event_signal: pipe: %m");
    event_sig_rfd = p[0];
    event_sig_wfd = p[1];
    event_enable_read(p[0], event_sig_drain, NULL);
}

void event_signal(int signo, EVENT_FN fn, void *context)
{
    struct sigaction sa;

    if (signo <= 0 || signo >= NSIG)
        msg_panic("event_signal: bad signal %d", signo);
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    if (fn == NULL) {
        sa.sa_handler = SIG_DFL;
    } else {
        event_sig_pipe();
        sa.sa_handler = event_sig_handler;
        sa.sa_flags = SA_RESTART;
    }
    event_sigs[signo].fn = fn;
    event_sigs[signo].ctx = context;
    if (sigaction(signo, &sa, NULL) < 0)
        msg_panic("event_signal: sigaction %d: %m", signo);
    if (fn == NULL)
        event_sig_flag[signo] = 0;
}

/* The loop ------------------------------------------------------------ */

/* event_dispatch - one epoll event: read callback, then write callback */
static void event_dispatch(const struct epoll_event *ev)
{
    int     fd = (int) (uint32_t) ev->data.u64;
    uint32_t gen = (uint32_t) (ev->data.u64 >> 32);
    int     xcpt = (ev->events & (EPOLLERR | EPOLLHUP)) ? EVENT_XCPT : 0;
    EVENT_FD *e;

    if (fd >= event_fd_cap || !event_fds[fd].in_set || event_fds[fd].gen != gen)
        return;                     /* disabled earlier in this round */
    e = &event_fds[fd];
    if (e->rd_fn && (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
        e->rd_fn(((ev->events & EPOLLIN) ? EVENT_READ : 0) | xcpt, e->rd_ctx);
        /* The callback may have disabled fd or grown the table. */
        if (fd >= event_fd_cap || !event_fds[fd].in_set || event_fds[fd].gen != gen)
            return;
        e = &event_fds[fd];
        xcpt = 0;                   /* reported once */
    }
    if (e->wr_fn && ((ev->events & EPOLLOUT) || xcpt))
        e->wr_fn(((ev->events & EPOLLOUT) ? EVENT_WRITE : 0) | xcpt, e->wr_ctx);
}

void event_loop(long max_wait_ms)
{
    struct epoll_event evs[EVENT_BATCH];
    long long wait = max_wait_ms < 0 ? -1 : max_wait_ms;
    long long due;
    int     n;
    int     i;

    event_init();
    if (event_heap_len > 0) {
        due = event_heap[0]->when - event_now_ms();
        if (due < 0)
            due = 0;
        if (wait < 0 || due < wait)
            wait = due;
    }
    if (wait < 0 && event_fd_count == 0)
        msg_panic("event_loop: nothing to wait for");
    if (wait > INT_MAX)
        wait = INT_MAX;
    n = epoll_wait(event_epfd, evs, EVENT_BATCH, (int) wait);
    if (n < 0) {
        if (errno != EINTR)
            msg_fatal("epoll_wait: %m");
        n = 0;                      /* the self-pipe wakes the next round */
    }
    for (i = 0; i < n; i++)
        event_dispatch(&evs[i]);
    event_run_timers();
}

/* event_reset_after_fork - drop everything inherited from the parent */
void event_reset_after_fork(void)
{
    size_t  i;
    int     signo;

    if (event_epfd >= 0)
        close(event_epfd);
    event_epfd = -1;
    xfree(event_fds);
    event_fds = NULL;
    event_fd_cap = event_fd_count = 0;

    for (i = 0; i < event_heap_len; i++)
        xfree(event_heap[i]);
    xfree(event_heap);
    xfree(event_hash);
    event_heap = event_hash = NULL;
    event_heap_len = event_heap_cap = event_hash_size = 0;

    for (signo = 1; signo < NSIG; signo++)
        if (event_sigs[signo].fn)
            event_signal(signo, NULL, NULL);
    if (event_sig_rfd >= 0) {
        close(event_sig_rfd);
        close(event_sig_wfd);
    }
    event_sig_rfd = event_sig_wfd = -1;
}
