/* qfile_read - read a queue file's envelope and content for display.
 *
 * For the programs that look at queue files without scheduling them: the
 * admin command (`surel queue list|show`) and the showq service. qmgr has
 * its own reader, tuned for scheduling.
 *
 * qfile_read_envelope() runs qfile_verify() over the whole file first
 * (DESIGN §10.4: nothing is believed before the grammar and the size
 * record check out), then collects the sender, the attributes and every
 * recipient with its DSN fields and done/todo state, from the envelope and
 * the extracted part. It only reads: the descriptor may be read-only, and
 * its file offset is moved.
 * qfile_read_maildrop() reads what it can of a maildrop file (records as
 * postdrop writes them: no size or time record) for listing only.
 */
#ifndef SUREL_QFILE_READ_H
#define SUREL_QFILE_READ_H

#include <stddef.h>

#include "buf.h"
#include "qfile.h"

typedef struct QFILE_RCPT {
    char   *address;                /* R or D data */
    char   *orig;                   /* O record: as the client gave it, or "" */
    char   *dsn_orcpt;              /* o record: "type;address", or "" */
    int     notify;                 /* n record: DSN_NOTIFY_* bits, 0 = not given */
    int     done;                   /* 1: a D record (delivered or bounced) */
    long    offset;                 /* file offset of the R/D record */
} QFILE_RCPT;

typedef struct QFILE_ENVELOPE {
    QFILE_SUMMARY sum;              /* sizes, arrival, counts (qfile_verify) */
    char   *sender;                 /* S record: "" for <> */
    char   *fullname;               /* F record, or NULL */
    char  **attrs;                  /* A records, "name=value" */
    int     nattrs;
    QFILE_RCPT *rcpts;              /* envelope then extracted recipients */
    int     nrcpts;
    long    warn_time;              /* W record, 0 when none or unset */
} QFILE_ENVELOPE;

/* Bounds on what is kept for display (the file itself is bounded by
 * qfile_verify's record limit). */
#define QFILE_READ_RECORD_LIMIT (64 * 1024)

int     qfile_read_envelope(int fd, QFILE_ENVELOPE *env, BUF *why);    /* 0 or -1 */
int     qfile_read_maildrop(int fd, QFILE_ENVELOPE *env, BUF *why);    /* 0 or -1 */
void    qfile_envelope_free(QFILE_ENVELOPE *env);
const char *qfile_envelope_attr(const QFILE_ENVELOPE *env, const char *name);

/* qfile_read_content - call fn for each content record (N or L) of a
 * verified file, in order; 0, or -1 with why. */
typedef void (*QFILE_CONTENT_FN)(int type, const char *data, size_t len, void *ctx);
int     qfile_read_content(int fd, const QFILE_ENVELOPE *env, QFILE_CONTENT_FN fn,
                           void *ctx, BUF *why);

#endif
