/* stream - buffered I/O on a file descriptor, with timeouts and line limits.
 *
 * The one stream type (Postfix's VSTREAM + smtp_stream). Every read and
 * write has a deadline (stream_set_timeout); a line is read into a BUF with
 * an explicit limit so that no peer can make us allocate without bound.
 * The byte-moving functions can be replaced (stream_set_io) so that TLS
 * later slots in underneath without changing any caller.
 * A stream can also be opened on memory (stream_memopen) for parsers under
 * test and fuzzing.
 *
 * Timeouts bound each wait for the peer (Postfix's vstream semantics): a
 * read or write that cannot move a byte within the timeout fails, sets the
 * timed-out flag and returns STREAM_ERROR / -1. Line limits bound the total.
 * An optional deadline (stream_set_deadline) bounds the sum of the waits,
 * as Postfix's smtp_stream deadlines do: a peer that trickles one byte
 * before each timeout still runs out (smtpd_per_request_deadline). A
 * replacement I/O function is then given the time left, rounded up to
 * whole seconds.
 * Errors, timeouts and EOF are sticky: once set, reads (errors: and writes)
 * fail at once without touching the descriptor.
 * Writes to a socket use send(MSG_NOSIGNAL), so a vanished peer is EPIPE,
 * never SIGPIPE; writes to a pipe can still raise SIGPIPE, which is why
 * every daemon ignores it (the server skeleton does).
 * Replacement I/O functions (TLS) follow the same rules: wait at most
 * `timeout` seconds (<=0: no limit) and fail with errno ETIMEDOUT when the
 * wait runs out, so that the stream sets its timed-out flag.
 */
#ifndef SUREL_STREAM_H
#define SUREL_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

typedef struct STREAM STREAM;

/* Replaceable I/O: return bytes moved, 0 for EOF (read), -1 with errno. */
typedef ssize_t (*STREAM_READ_FN)(void *ctx, int fd, void *buf, size_t len, int timeout);
typedef ssize_t (*STREAM_WRITE_FN)(void *ctx, int fd, const void *buf, size_t len, int timeout);

/* Results of stream_get_line. */
#define STREAM_LINE_OK       0      /* a whole line ending in LF */
#define STREAM_LINE_PARTIAL  1      /* limit reached before LF; rest not read */
#define STREAM_LINE_LAST     2      /* EOF after some bytes without LF */
#define STREAM_EOF          (-1)    /* clean EOF before any byte */
#define STREAM_ERROR        (-2)    /* I/O error or timeout (see stream_timed_out) */

STREAM *stream_fdopen(int fd);
/* Read-only, over the caller's bytes (not copied: keep them alive). A write
 * fails (-1, errno EBADF) without marking the stream in error. */
STREAM *stream_memopen(const void *data, size_t len);
int     stream_close(STREAM *s);            /* closes fd; 0, or -1 after any error */
void    stream_release(STREAM *s);          /* frees, leaves fd open */
int     stream_fd(const STREAM *s);
void    stream_set_timeout(STREAM *s, int seconds);   /* <=0: no timeout */
/* A deadline on top of the per-call timeout (Postfix's per-request
 * deadline): from now on the reads and writes may wait budget_ms in all
 * (<=0: no deadline); once that is spent every read and write fails as
 * timed out. Only time spent waiting in I/O counts, not the caller's work
 * between calls. With a data rate, each read of n bytes adds n/rate
 * seconds to the budget, which never exceeds cap_seconds
 * (smtpd_min_data_rate); rate 0: off. stream_deadline_left: ms left, -1
 * without a deadline. */
void    stream_set_deadline(STREAM *s, long long budget_ms);
long long stream_deadline_left(const STREAM *s);
void    stream_set_data_rate(STREAM *s, int bytes_per_second, int cap_seconds);
void    stream_set_io(STREAM *s, STREAM_READ_FN rd, STREAM_WRITE_FN wr, void *ctx);  /* NULL: plain fd I/O */

int     stream_getc(STREAM *s);             /* byte, STREAM_EOF or STREAM_ERROR */
ssize_t stream_read(STREAM *s, void *buf, size_t len);   /* exactly len, or fewer at EOF; -1 error */
/* stream_get_line - replace `line` with the next line, LF (and any CR before
 * it) included, reading at most `limit` bytes (limit > 0). At the limit the
 * call returns STREAM_LINE_PARTIAL and leaves the rest of the line unread
 * for the next call, so a server can refuse an over-long line in pieces. */
int     stream_get_line(STREAM *s, BUF *line, size_t limit);
/* Like stream_get_line with another end byte (NUL for attribute lists). */
int     stream_get_delim(STREAM *s, BUF *buf, int delim, size_t limit);
size_t  stream_buffered(const STREAM *s);   /* bytes read ahead, not yet consumed */
void    stream_discard_input(STREAM *s);    /* drop read-ahead (STARTTLS injection) */
void    stream_wipe(STREAM *s);             /* erase consumed input and sent output (secrets) */

int     stream_write(STREAM *s, const void *buf, size_t len);   /* 0 or -1 */
int     stream_puts(STREAM *s, const char *str);
int     stream_printf(STREAM *s, const char *fmt, ...)
            __attribute__((format(printf, 2, 3)));
int     stream_flush(STREAM *s);            /* 0 or -1 */

int     stream_eof(const STREAM *s);
int     stream_error(const STREAM *s);
int     stream_timed_out(const STREAM *s);
/* stream_clear_error - forget an error or timeout (EOF stays), as Postfix's
 * vstream_clearerr: a server whose read timed out can still say goodbye
 * through the same I/O functions (TLS included). */
void    stream_clear_error(STREAM *s);

#endif
