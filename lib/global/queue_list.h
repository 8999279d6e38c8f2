/* queue_list - the mail queue as mailq shows it.
 *
 * Shared by `surel queue list` (when the caller may read the queue) and
 * the showq service (which lists it for everyone else). Both print the
 * same thing:
 *   - the text table of Postfix's `postqueue -p`, one entry per message:
 *         -Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------
 *         4Xk9Bc1wFzq7*     1234 Mon Jan  6 10:00:00  sender@example.com
 *         (connect to mx.example.com: Connection refused)
 *                                                  rcpt@example.com
 *         -- 2 Kbytes in 1 Request.
 *     `*` marks an active message, `!` a held one; only recipients not yet
 *     done are shown, each after its last deferral reason (from
 *     defer/<ID>) when that differs from the one above it;
 *     "Mail queue is empty" when there is nothing;
 *   - JSON Lines, one object per message (postqueue -j): queue_name,
 *     queue_id, arrival_time, message_size, forced_expire, sender,
 *     recipients [{address, delay_reason?}].
 * Queues are read in the order incoming, active, deferred, hold, maildrop;
 * within one, by queue ID (arrival order). Files are opened read-only;
 * a file that vanishes (delivered or moved while we look) or is not ready
 * is skipped; nothing is ever written.
 */
#ifndef SUREL_QUEUE_LIST_H
#define SUREL_QUEUE_LIST_H

#include "buf.h"
#include "stream.h"

/* queue_list flags */
#define QUEUE_LIST_JSON     (1 << 0)    /* JSON Lines instead of the table */

/* Folders a listing reads, in order. */
extern const char *const queue_list_queues[];

/* queue_walk - call fn for each queue file in a queue folder (hashed
 * subfolders included), sorted by name. With QUEUE_WALK_ANY_NAME, names
 * need not be queue IDs (maildrop). Returns the number of files, or -1
 * with why when the folder can't be read. */
#define QUEUE_WALK_ANY_NAME (1 << 0)
typedef void (*QUEUE_WALK_FN)(const char *queue, const char *name,
                              const char *path, void *ctx);
int     queue_walk(const char *queue_dir, const char *queue, int flags,
                   QUEUE_WALK_FN fn, void *ctx, BUF *why);

/* queue_list - write the listing to out; 0, or -1 with why when a queue
 * folder can't be read (nothing useful was written). */
int     queue_list(STREAM *out, const char *queue_dir, int flags, BUF *why);

/* queue_defer_reasons - the last deferral reason per recipient, from the
 * defer log of `id` (bounce's format: one "name=value ..." entry a line,
 * values %XX-escaped): calls fn(recipient, reason, ctx) for each delayed
 * entry in file order. 0 when read or absent, -1 on a read error. */
typedef void (*QUEUE_REASON_FN)(const char *recipient, const char *reason, void *ctx);
int     queue_defer_reasons(const char *queue_dir, const char *id,
                            QUEUE_REASON_FN fn, void *ctx);

/* queue_json_string - append s as a JSON string (quotes, escapes; bytes
 * that are not UTF-8 become U+FFFD) */
void    queue_json_string(BUF *out, const char *s);

#endif
