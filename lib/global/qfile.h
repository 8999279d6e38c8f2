/* qfile - queue files: create, commit, validate, mark recipients done.
 *
 * The commit protocol (DESIGN §3, §10.1-2), for cleanup and postdrop:
 *   1. qfile_create: open temp/<usec>.<pid> exclusively (mode 0600, not
 *      ready), name it by its queue ID (time + inode), write a placeholder
 *      size record and the arrival time;
 *   2. the caller writes records through qfile_stream();
 *   3. qfile_commit: flush, rewrite the size record in place, fchmod 0700
 *      (the "ready" mark every reader checks), then either
 *      - fsync the file, rename it into its queue (incoming/ or hold/) and
 *        fsync that folder (directory_fsync = yes, or auto on a file system
 *        not known to need less), or
 *      - write its data to the device (sync_file_range), rename it into its
 *        queue and fsync the file, which on ext4, xfs and tmpfs also makes
 *        the new name durable: one fsync instead of two (doc/design.md).
 *      Only then may anyone say "250 ok".
 * A file under construction lives in temp/, never in incoming/: a writer
 * killed at any step leaves nothing that a scheduler could pick up, and a
 * crash leaves at most a non-ready file in temp/ that is purged later.
 *
 * Readers (qmgr, the admin command, delivery agents) use qfile_open_ready,
 * which refuses anything but a regular, ready, singly-linked file reached
 * without following a link, and qfile_verify, which checks the record
 * grammar (below) and the size record before anything is believed:
 *     C T envelope* M content* X extracted* E
 *     envelope  = F | S (once) | A | W | I | recipient
 *     recipient = (O | o | n)* (R | D)
 *     content   = N | L (an L is always followed by N or L)
 *     extracted = A | I | recipient   (the last I is the content filter)
 * Delivery progress is one byte overwritten in place (R becomes D).
 */
#ifndef SUREL_QFILE_H
#define SUREL_QFILE_H

#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>

#include "buf.h"
#include "queue_id.h"
#include "stream.h"

#define QFILE_TEMP_QUEUE    "temp"      /* files being written */
#define QFILE_MODE_WRITING  0600
#define QFILE_MODE_READY    0700
/* Postfix's MAIL_QUEUE_STAT_EXPIRE: the group-execute bit of a ready file
 * asks qmgr to return the message at its next attempt (postsuper -e/-f);
 * readers check only the owner bits, so the file stays ready. */
#define QFILE_MODE_EXPIRE   0010
/* A file in temp/ (or an unfinished maildrop file) older than this was left
 * by a writer that died: qmgr's purge and `surel queue repair -p` remove it. */
#define QFILE_TEMP_MAX_AGE  86400
#define QFILE_SIZE_WIDTH    15          /* digits per size-record field */

typedef struct QFILE_WRITER {
    char    id[QUEUE_ID_BUFSZ];         /* the queue ID */
    char   *queue_dir;                  /* $queue_directory */
    char   *temp_path;                  /* temp/<id> while writing */
    int     fd;
    dev_t   dev;                        /* the file's device (fstat at create) */
    STREAM *stream;                     /* records go here */
    struct timeval arrival;
} QFILE_WRITER;

/* What the size record says; written by qfile_commit, read by qfile_verify. */
typedef struct QFILE_SIZES {
    long    content_size;               /* message bytes, lines counted with LF */
    long    data_offset;                /* file offset of the M record */
    long    nrcpt;                      /* R plus D records */
    long    flags;                      /* QFILE_FLAG_* */
} QFILE_SIZES;

/* What qfile_verify learned while checking. */
typedef struct QFILE_SUMMARY {
    QFILE_SIZES sizes;
    struct timeval arrival;
    long    nrcpt_todo;                 /* R records */
    long    nrcpt_done;                 /* D records */
    long    content_records;
} QFILE_SUMMARY;

QFILE_WRITER *qfile_create(const char *queue_dir, BUF *why);
STREAM *qfile_stream(QFILE_WRITER *w);
int     qfile_commit(QFILE_WRITER *w, const char *queue, const QFILE_SIZES *sizes, BUF *why);
void    qfile_abort(QFILE_WRITER *w);
void    qfile_writer_free(QFILE_WRITER *w);
void    qfile_set_dir_fsync(int mode);      /* DIR_FSYNC_* of safe_file.h */

int     qfile_open_ready(const char *path, int flags, struct stat *st, BUF *why);
int     qfile_verify(STREAM *s, QFILE_SUMMARY *summary, BUF *why);
int     qfile_mark(int fd, off_t record_offset, int type);
/* qfile_path - the path at an explicit hash depth: the building block of
 * mail_queue_path() (mail_queue.h), which decides the depth. Call it
 * directly only to name every level (making or walking subfolders). */
void    qfile_path(BUF *out, const char *queue_dir, const char *queue,
                   const char *id, int hash_depth);

/* The readable view of a queue file is qfile_dump.h. */

#endif
