/* queue_id - queue IDs: unique without coordination, sortable by arrival.
 *
 * An ID is the arrival time and the queue file's inode number, written in
 * a vowel-free alphabet so that no ID spells a word (Postfix's long IDs):
 *     6 chars  seconds since the epoch, base 52
 *     4 chars  microseconds, base 52
 *     'z'      separator (never used by the inode part)
 *     1+ chars inode number, base 51 (the alphabet without 'z')
 * e.g. "4Xk9Bc1wFzq7". Two files that exist at the same time have
 * different inodes, and an inode reused later comes with a later time, so
 * IDs never repeat. The fixed-width time part makes IDs sort by arrival.
 * At most QUEUE_ID_MAX (23) characters, 16 or so in practice; only
 * [0-9A-Za-z]. (DESIGN.md said 20; a 64-bit inode needs 12 digits.)
 */
#ifndef SUREL_QUEUE_ID_H
#define SUREL_QUEUE_ID_H

#include <stddef.h>
#include <sys/time.h>
#include <sys/types.h>

#define QUEUE_ID_MAX    23          /* 6 + 4 + 1 + 12 (51^12 > 2^64) */
#define QUEUE_ID_BUFSZ  (QUEUE_ID_MAX + 1)

void    queue_id_make(char *id, const struct timeval *tv, ino_t inode);
int     queue_id_valid(const char *id);
int     queue_id_time(const char *id, struct timeval *tv);

#endif
