/* logwriter - append log lines to a file that may be rotated at any time.
 *
 * The one way surel appends to maillog_file (postlogd, and the master or a
 * command when no postlog service is there to do it). A rotation renames
 * the file; a writer must never append to the renamed file afterwards, or
 * lines go missing from the compressed copy. Each write therefore:
 *     takes a shared flock on its descriptor,
 *     checks that the path still names the file it holds (stat vs the
 *         dev/inode it opened), and reopens by name when not (a renamed
 *         or removed file; a new one is created with mode 0640),
 *     appends the line with one write(2) (O_APPEND), and drops the lock.
 * `surel logrotate` renames the file, then takes an exclusive flock on the
 * renamed file and drops it: from then on every writer sees the new name
 * before it writes, so nothing more lands in the renamed file. Opens go
 * through safe_open (no symbolic link, FIFO, device or second hard link).
 * "/dev/stdout" (containers) writes to descriptor 1 and is never reopened.
 */
#ifndef SUREL_LOGWRITER_H
#define SUREL_LOGWRITER_H

#include <stddef.h>

#include "buf.h"

typedef struct LOGWRITER LOGWRITER;

LOGWRITER *logwriter_open(const char *path, BUF *why);
int     logwriter_write(LOGWRITER *lw, const char *line, size_t len);
void    logwriter_close(LOGWRITER *lw);
int     logwriter_one_shot(const char *path, const char *line, size_t len);

#define LOGWRITER_STDOUT   "/dev/stdout"

#endif
