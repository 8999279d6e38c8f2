/* stream - buffered I/O with timeouts and line limits; see stream.h.
 *
 * One read buffer and one write buffer per stream. Reading refills the
 * read buffer with whatever one read(2) returns, so input that a peer
 * pipelined ahead of time sits in our buffer until consumed; that read-ahead
 * is what stream_buffered() reports and stream_discard_input() drops (smtpd
 * does so after STARTTLS, so plaintext sent behind the command can never be
 * taken as a command of the TLS session).
 *
 * The plain descriptor I/O waits with poll(2) when it may have to, so a
 * timeout holds whether the descriptor is blocking or not. Writes on a
 * blocking descriptor must not block after poll said "writable": sockets
 * use send(MSG_DONTWAIT) which moves what fits; pipes write at most PIPE_BUF
 * bytes, which fit once poll reports room.
 *
 * A socket is written first and polled only when it is full (EAGAIN):
 * MSG_DONTWAIT never blocks, and a reply or record almost always fits, so
 * poll-then-send was two system calls where one does. A socket is read
 * first (recv with MSG_DONTWAIT) only when the previous read filled the
 * whole buffer, when more input is likely waiting (a message's content);
 * otherwise the peer has usually not answered yet and poll comes first,
 * as before (read-first would add a failed recv to every SMTP exchange).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "msg.h"
#include "stream.h"

#define STREAM_BUFSIZE  8192        /* read and write buffer size */

#define STREAM_FLAG_EOF     (1 << 0)    /* read side saw end of input */
#define STREAM_FLAG_ERR     (1 << 1)    /* I/O error or timeout: sticky */
#define STREAM_FLAG_TIMEOUT (1 << 2)    /* the error was a timeout */
#define STREAM_FLAG_MEM     (1 << 3)    /* memory stream: no descriptor */

/* What kind of descriptor the plain write function talks to. */
#define STREAM_KIND_UNKNOWN 0       /* not yet looked at */
#define STREAM_KIND_SOCKET  1       /* send(MSG_NOSIGNAL | MSG_DONTWAIT) */
#define STREAM_KIND_PIPE    2       /* FIFO or character device: PIPE_BUF chunks */
#define STREAM_KIND_OTHER   3       /* regular file etc.: write(2) as is */

struct STREAM {
    int     fd;                     /* descriptor, -1 for memory streams */
    int     flags;                  /* STREAM_FLAG_* */
    int     timeout;                /* seconds per wait; <=0: none */
    int     deadline;               /* 1: the waits share a budget */
    long long left;                 /* that budget: ms of waiting left */
    int     data_rate;              /* bytes/s that extend the budget; 0: none */
    long long rate_cap;             /* the budget never exceeds this (ms) */
    int     kind;                   /* STREAM_KIND_* (plain I/O only) */
    int     read_full;              /* 1: the last plain read filled rbuf */
    STREAM_READ_FN rd;              /* replacement read, or NULL */
    STREAM_WRITE_FN wr;             /* replacement write, or NULL */
    void   *ctx;                    /* context for rd and wr */
    unsigned char *rbuf;            /* owned read buffer (NULL: memory) */
    const unsigned char *rdata;     /* bytes being read: rbuf or caller memory */
    size_t  rpos;                   /* next unread byte in rdata */
    size_t  rlen;                   /* bytes valid in rdata */
    unsigned char *wbuf;            /* write buffer (lazily allocated) */
    size_t  wlen;                   /* bytes waiting in wbuf */
    BUF    *fmt;                    /* stream_printf scratch (lazy) */
};

/* stream_clock_ms - monotonic milliseconds, for poll deadlines */
static long long stream_clock_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stream_wait - poll for `events` up to `timeout` ms (<=0: forever); 0 or -1 */
static int stream_wait(int fd, short events, long long timeout)
{
    long long deadline = stream_clock_ms() + timeout;
    struct pollfd pfd;
    long long left;
    int     n;

    for (;;) {
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        left = timeout > 0 ? deadline - stream_clock_ms() : -1;
        if (timeout > 0 && left < 0)
            left = 0;
        n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int) left);
        if (n > 0)
            return 0;               /* ready, or HUP/ERR/NVAL: the I/O call says which */
        if (n == 0 && timeout > 0 && stream_clock_ms() >= deadline) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* stream_fd_read - plain read: wait for input (timeout ms), then read what
 * is there; try_first: a socket is read before any wait (see the top) */
static ssize_t stream_fd_read(int fd, void *buf, size_t len, long long timeout, int try_first)
{
    int     must_wait = timeout > 0 && !try_first;
    ssize_t n;

    for (;;) {
        if (must_wait && stream_wait(fd, POLLIN, timeout) < 0)
            return -1;
        if (try_first && !must_wait)
            n = recv(fd, buf, len, MSG_DONTWAIT);
        else
            n = read(fd, buf, len);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        must_wait = 1;              /* non-blocking descriptor: poll first */
    }
}

/* stream_fd_kind - classify the descriptor once, for the write strategy */
static int stream_fd_kind(int fd)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return STREAM_KIND_OTHER;
    if (S_ISSOCK(st.st_mode))
        return STREAM_KIND_SOCKET;
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
        return STREAM_KIND_PIPE;
    return STREAM_KIND_OTHER;
}

/* stream_fd_write - plain write: wait for room, then write what fits */
static ssize_t stream_fd_write(STREAM *s, const void *buf, size_t len, long long timeout)
{
    int     must_wait;
    ssize_t n;

    if (s->kind == STREAM_KIND_UNKNOWN)
        s->kind = stream_fd_kind(s->fd);
    /* A socket send never blocks (MSG_DONTWAIT): wait only when it is full. */
    must_wait = timeout > 0 && s->kind != STREAM_KIND_SOCKET;
    for (;;) {
        if (must_wait && stream_wait(s->fd, POLLOUT, timeout) < 0)
            return -1;
        if (s->kind == STREAM_KIND_SOCKET) {
            n = send(s->fd, buf, len,
                     MSG_NOSIGNAL | (timeout > 0 ? MSG_DONTWAIT : 0));
        } else if (s->kind == STREAM_KIND_PIPE && timeout > 0) {
            n = write(s->fd, buf, len > PIPE_BUF ? PIPE_BUF : len);
        } else {
            n = write(s->fd, buf, len);
        }
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        must_wait = 1;
    }
}

/* stream_alloc - common part of the constructors */
static STREAM *stream_alloc(int fd)
{
    STREAM *s = xcalloc(1, sizeof(*s));

    s->fd = fd;
    return s;
}

STREAM *stream_fdopen(int fd)
{
    STREAM *s;

    if (fd < 0)
        msg_panic("stream_fdopen: bad descriptor %d", fd);
    s = stream_alloc(fd);
    s->rbuf = xmalloc(STREAM_BUFSIZE);
    s->rdata = s->rbuf;
    return s;
}

STREAM *stream_memopen(const void *data, size_t len)
{
    STREAM *s = stream_alloc(-1);

    s->flags = STREAM_FLAG_MEM;
    s->rdata = data;
    s->rlen = data ? len : 0;
    return s;
}

/* stream_free - release memory only */
static void stream_free(STREAM *s)
{
    xfree(s->rbuf);
    xfree(s->wbuf);
    buf_free(s->fmt);
    xfree(s);
}

/* stream_close - flush, close the descriptor, free; -1 if the stream had
 * failed at any time (written data may be lost), the flush or close failed */
int stream_close(STREAM *s)
{
    int     ret = 0;

    if (s->wlen > 0 && stream_flush(s) < 0)
        ret = -1;
    if (s->flags & STREAM_FLAG_ERR)
        ret = -1;
    if (s->fd >= 0 && close(s->fd) < 0 && errno != EINTR)
        ret = -1;
    stream_free(s);
    return ret;
}

/* stream_release - flush what we can and free, leaving the descriptor open */
void stream_release(STREAM *s)
{
    if (s->wlen > 0)
        (void) stream_flush(s);
    stream_free(s);
}

int stream_fd(const STREAM *s)
{
    return s->fd;
}

void stream_set_timeout(STREAM *s, int seconds)
{
    s->timeout = seconds;
}

void stream_set_deadline(STREAM *s, long long budget_ms)
{
    s->deadline = budget_ms > 0;
    s->left = budget_ms > 0 ? budget_ms : 0;
}

long long stream_deadline_left(const STREAM *s)
{
    return s->deadline ? s->left : -1;
}

void stream_set_data_rate(STREAM *s, int bytes_per_second, int cap_seconds)
{
    s->data_rate = bytes_per_second;
    s->rate_cap = (long long) cap_seconds * 1000;
}

/* stream_budget - ms the next wait may take: -1 no limit, 0 the deadline
 * budget is spent, else the smaller of the per-call timeout and it */
static long long stream_budget(const STREAM *s)
{
    long long budget = s->timeout > 0 ? (long long) s->timeout * 1000 : -1;

    if (s->deadline) {
        if (s->left <= 0)
            return 0;
        if (budget < 0 || s->left < budget)
            budget = s->left;
    }
    return budget;
}

/* stream_spent - an I/O call that began at `start` is over: its time
 * comes off the deadline budget (only time spent in I/O counts, as in
 * Postfix: not the time the program works between calls) */
static void stream_spent(STREAM *s, long long start)
{
    if (s->deadline)
        s->left -= stream_clock_ms() - start;
}

/* stream_budget_seconds - the budget for a replacement read/write (TLS),
 * which takes whole seconds: rounded up, so never 0 while time is left */
static int stream_budget_seconds(long long budget)
{
    if (budget < 0)
        return 0;                   /* no limit */
    if (budget / 1000 >= INT_MAX)
        return INT_MAX;
    return (int) ((budget + 999) / 1000);
}

/* stream_rate_credit - n bytes arrived: n/rate more seconds of budget,
 * never more than the cap (Postfix's smtpd_min_data_rate rule) */
static void stream_rate_credit(STREAM *s, size_t n)
{
    if (!s->deadline || s->data_rate <= 0)
        return;
    s->left += (long long) n * 1000 / s->data_rate;
    if (s->left > s->rate_cap)
        s->left = s->rate_cap;
}

void stream_set_io(STREAM *s, STREAM_READ_FN rd, STREAM_WRITE_FN wr, void *ctx)
{
    s->rd = rd;
    s->wr = wr;
    s->ctx = ctx;
}

/* stream_set_error - note a failed read or write (errno says which kind) */
static void stream_set_error(STREAM *s)
{
    s->flags |= STREAM_FLAG_ERR;
    if (errno == ETIMEDOUT)
        s->flags |= STREAM_FLAG_TIMEOUT;
}

/* stream_fill - refill an empty read buffer: >0 bytes, 0 at EOF, -1 error */
static int stream_fill(STREAM *s)
{
    long long start;
    long long budget;
    ssize_t n;

    if (s->flags & STREAM_FLAG_ERR)
        return -1;
    if (s->flags & STREAM_FLAG_EOF)
        return 0;
    if (s->flags & STREAM_FLAG_MEM) {
        s->flags |= STREAM_FLAG_EOF;
        return 0;
    }
    start = stream_clock_ms();
    if ((budget = stream_budget(s)) == 0) {
        errno = ETIMEDOUT;
        n = -1;
    } else if (s->rd) {
        n = s->rd(s->ctx, s->fd, s->rbuf, STREAM_BUFSIZE, stream_budget_seconds(budget));
    } else {
        if (s->kind == STREAM_KIND_UNKNOWN)
            s->kind = stream_fd_kind(s->fd);
        n = stream_fd_read(s->fd, s->rbuf, STREAM_BUFSIZE, budget,
                           s->read_full && s->kind == STREAM_KIND_SOCKET);
        s->read_full = n == STREAM_BUFSIZE;
    }
    stream_spent(s, start);
    if (n < 0) {
        stream_set_error(s);
        return -1;
    }
    if (n == 0) {
        s->flags |= STREAM_FLAG_EOF;
        return 0;
    }
    if ((size_t) n > STREAM_BUFSIZE)
        msg_panic("stream: read function returned %zd > %d", n, STREAM_BUFSIZE);
    stream_rate_credit(s, (size_t) n);
    s->rpos = 0;
    s->rlen = (size_t) n;
    return 1;
}

int stream_getc(STREAM *s)
{
    if (s->rpos == s->rlen) {
        int     r = stream_fill(s);

        if (r <= 0)
            return r < 0 ? STREAM_ERROR : STREAM_EOF;
    }
    return s->rdata[s->rpos++];
}

/* stream_read - exactly len bytes, fewer only at EOF; -1 on error */
ssize_t stream_read(STREAM *s, void *buf, size_t len)
{
    unsigned char *out = buf;
    size_t  done = 0;
    size_t  n;

    if (len > SSIZE_MAX)
        msg_panic("stream_read: length %zu too large", len);
    while (done < len) {
        if (s->rpos == s->rlen) {
            int     r = stream_fill(s);

            if (r < 0)
                return -1;
            if (r == 0)
                break;
        }
        n = s->rlen - s->rpos;
        if (n > len - done)
            n = len - done;
        memcpy(out + done, s->rdata + s->rpos, n);
        s->rpos += n;
        done += n;
    }
    return (ssize_t) done;
}

/* stream_get_delim - the next record ending in `delim`, at most limit bytes */
int stream_get_delim(STREAM *s, BUF *buf, int delim, size_t limit)
{
    const unsigned char *start;
    const unsigned char *end;
    size_t  n;

    if (limit == 0)
        msg_panic("stream_get_delim: zero limit");
    buf_reset(buf);
    for (;;) {
        if (s->rpos == s->rlen) {
            int     r = stream_fill(s);

            if (r < 0)
                return STREAM_ERROR;
            if (r == 0)
                return buf_len(buf) > 0 ? STREAM_LINE_LAST : STREAM_EOF;
        }
        start = s->rdata + s->rpos;
        n = s->rlen - s->rpos;
        if (n > limit - buf_len(buf))
            n = limit - buf_len(buf);
        end = memchr(start, delim, n);
        if (end != NULL) {
            n = (size_t) (end - start) + 1;
            buf_append(buf, start, n);
            s->rpos += n;
            return STREAM_LINE_OK;
        }
        buf_append(buf, start, n);
        s->rpos += n;
        if (buf_len(buf) >= limit)
            return STREAM_LINE_PARTIAL;
    }
}

int stream_get_line(STREAM *s, BUF *line, size_t limit)
{
    return stream_get_delim(s, line, '\n', limit);
}

size_t stream_buffered(const STREAM *s)
{
    return s->rlen - s->rpos;
}

/* stream_discard_input - forget read-ahead; the next read asks the peer */
void stream_discard_input(STREAM *s)
{
    s->rpos = s->rlen;
}

/* stream_wipe - erase the bytes already consumed from the read buffer and
 * the free part of the write buffer (what was sent), so that a password
 * that passed through does not stay in memory; unread input and unsent
 * output are kept */
void stream_wipe(STREAM *s)
{
    if (s->rbuf != NULL && s->rdata == s->rbuf)
        explicit_bzero(s->rbuf, s->rpos);
    if (s->wbuf != NULL)
        explicit_bzero(s->wbuf + s->wlen, STREAM_BUFSIZE - s->wlen);
    if (s->fmt != NULL)
        explicit_bzero(s->fmt->data, s->fmt->cap);
}

/* stream_write_out - move bytes to the peer, looping over partial writes */
static int stream_write_out(STREAM *s, const unsigned char *data, size_t len)
{
    long long start;
    long long budget;
    ssize_t n;

    while (len > 0) {
        start = stream_clock_ms();
        if ((budget = stream_budget(s)) == 0) {
            errno = ETIMEDOUT;
            n = -1;
        } else if (s->wr) {
            n = s->wr(s->ctx, s->fd, data, len, stream_budget_seconds(budget));
        } else {
            n = stream_fd_write(s, data, len, budget);
        }
        stream_spent(s, start);
        if (n == 0) {
            errno = EIO;            /* no progress: don't spin */
            n = -1;
        }
        if (n < 0) {
            stream_set_error(s);
            return -1;
        }
        if ((size_t) n > len)
            msg_panic("stream: write function returned %zd > %zu", n, len);
        data += n;
        len -= (size_t) n;
    }
    return 0;
}

int stream_flush(STREAM *s)
{
    size_t  len = s->wlen;

    if (s->flags & STREAM_FLAG_ERR)
        return -1;
    if (len == 0)
        return 0;
    s->wlen = 0;                    /* on error the data is lost anyway */
    return stream_write_out(s, s->wbuf, len);
}

/* stream_write - buffer bytes; big writes go out directly */
int stream_write(STREAM *s, const void *buf, size_t len)
{
    if (s->flags & STREAM_FLAG_MEM) {
        errno = EBADF;
        return -1;
    }
    if (s->flags & STREAM_FLAG_ERR)
        return -1;
    if (s->wbuf == NULL)
        s->wbuf = xmalloc(STREAM_BUFSIZE);
    if (len > STREAM_BUFSIZE - s->wlen && stream_flush(s) < 0)
        return -1;
    if (len >= STREAM_BUFSIZE)
        return stream_write_out(s, buf, len);
    if (len > 0)
        memcpy(s->wbuf + s->wlen, buf, len);
    s->wlen += len;
    return 0;
}

int stream_puts(STREAM *s, const char *str)
{
    return stream_write(s, str, strlen(str));
}

int stream_printf(STREAM *s, const char *fmt, ...)
{
    va_list ap;

    if (s->fmt == NULL)
        s->fmt = buf_alloc(256);
    buf_reset(s->fmt);
    va_start(ap, fmt);
    buf_vprintf(s->fmt, fmt, ap);
    va_end(ap);
    return stream_write(s, buf_str(s->fmt), buf_len(s->fmt));
}

int stream_eof(const STREAM *s)
{
    return (s->flags & STREAM_FLAG_EOF) != 0;
}

int stream_error(const STREAM *s)
{
    return (s->flags & STREAM_FLAG_ERR) != 0;
}

int stream_timed_out(const STREAM *s)
{
    return (s->flags & STREAM_FLAG_TIMEOUT) != 0;
}

void stream_clear_error(STREAM *s)
{
    s->flags &= ~(STREAM_FLAG_ERR | STREAM_FLAG_TIMEOUT);
}
