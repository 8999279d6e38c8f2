/* local_dotforward - finding and reading a user's .forward file (and the
 * owned-file reader that :include: files share).
 *
 * forward_path is a list of candidate names ($home/.forward+$extension,
 * $home/.forward, ...), expanded per recipient with the values censored by
 * forward_expansion_filter; names that use an empty ${extension} or are not
 * absolute are skipped. The first file that exists wins. It is opened with
 * the user's rights, must be a regular file with one link that only its
 * owner may write, and must belong to the user (or root); a file of someone
 * else is ignored with a warning, as Postfix does. What the destinations in
 * it mean is local_resolve.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"

#define LOCAL_FILE_MAX      (1024 * 1024)   /* longest .forward or :include: file */

/* local_read_owned - read a .forward or :include: file with the rights in
 * privs: no link, a regular file with one link that its owner alone may
 * write; 1 with text and owner, 0 missing, -1 error. The text is read from
 * the descriptor whose owner is returned: reopening the name would let a
 * swapped parent folder pair one user's text with another's rights. */
int     local_read_owned(const char *path, const LOCAL_PRIVS *privs, char **text,
                         uid_t *owner, BUF *why)
{
    struct stat st;
    BUF    *content;
    int     fd, ret = 1;

    local_privs_enter(privs->uid, privs->gid);
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0) {
        ret = (errno == ENOENT || errno == ENOTDIR || errno == EACCES) ? 0 : -1;
        buf_sprintf(why, "cannot open %s: %s", path, strerror(errno));
    } else if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
        buf_sprintf(why, "%s is not a regular file with one link", path);
        ret = -1;
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        buf_sprintf(why, "%s is writable by group or others", path);
        ret = -1;
    } else if ((content = read_small_fd(fd, path, LOCAL_FILE_MAX, why)) == NULL) {
        ret = -1;
    } else {
        *text = buf_steal(content);
        *owner = st.st_uid;
    }
    if (fd >= 0)
        close(fd);
    local_privs_leave();
    return ret;
}

/* local_dotforward_read - the user's first .forward of forward_path: 1 with
 * its text (the caller frees it), 0 when there is none, -1 with why */
int     local_dotforward_read(const char *queue_id, const LOCAL_USER *user,
                              const LOCAL_PRIVS *privs, const LOCAL_VARS *vars, char **text,
                              BUF *why)
{
    int     count, i, flags, ret = 0;
    char  **items = config_split_list(config_str(P_forward_path), &count);
    BUF    *path = buf_alloc(100);
    uid_t   owner;

    *text = NULL;
    for (i = 0; i < count && ret == 0; i++) {
        if (local_expand(items[i], vars, config_str(P_forward_expansion_filter), path, &flags,
                         why) < 0) {
            msg_warn("forward_path item %s: %s", items[i], buf_str(why));
            continue;
        }
        if ((flags & LOCAL_EXP_EMPTY_EXT) || *buf_str(path) != '/')
            continue;
        ret = local_read_owned(buf_str(path), privs, text, &owner, why);
        if (ret > 0 && owner != user->uid && owner != 0) {
            msg_warn("%s: %s is not owned by %s: ignored", queue_id, buf_str(path), user->name);
            xfree(*text);
            *text = NULL;
            ret = 0;
        }
    }
    config_free_list(items);
    buf_free(path);
    return ret;
}
