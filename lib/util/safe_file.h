/* safe_file - open, write and commit files without being fooled.
 *
 * Used wherever a file name could be raced or planted: queue files, the
 * maildrop, mailboxes, lock and pid files. Opens never follow a symbolic
 * link; an existing file must be a regular file with one link, and the
 * object opened must be the one that was checked (lstat vs fstat). Commits
 * fsync the file and then its folder, so that a rename survives a crash;
 * where the file system makes a file's names durable with the file's own
 * fsync (fsync_names_with_file), the folder fsync can be left out.
 */
#ifndef SUREL_SAFE_FILE_H
#define SUREL_SAFE_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

/* safe_open flags, besides the usual O_ flags. */
#define SAFE_OWNER_ANY  ((uid_t) -1)

int     safe_open(const char *path, int flags, mode_t mode, uid_t owner,
                  struct stat *st, BUF *why);
int     safe_check_fd(int fd, const char *path, uid_t owner, struct stat *st, BUF *why);
int     write_all(int fd, const void *data, size_t len);
int     fsync_dir(const char *dir);
int     fsync_parent(const char *path);
int     rename_sync(const char *from, const char *to);

/* Folder fsyncs (parameter directory_fsync): always, never, or only where
 * a file's fsync does not already make its new names durable. */
#define DIR_FSYNC_AUTO  0
#define DIR_FSYNC_YES   1
#define DIR_FSYNC_NO    2
int     dir_fsync_mode(const char *value);
int     fsync_names_with_file(int fd);
int     dir_fsync_needed(int mode, int fd);
int     sync_data_now(int fd);
int     mkdir_p(const char *path, mode_t mode);
char   *read_small_file(const char *path, size_t limit, BUF *why);
BUF    *read_small_fd(int fd, const char *name, size_t limit, BUF *why);

#endif
