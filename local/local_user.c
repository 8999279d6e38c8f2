/* local_user - who a local name is, and whose rights a delivery uses.
 *
 * Users: on a normal instance, the passwd database (getpwnam, lower-cased
 * name). On a sandbox instance ($sandbox_users set), only the names listed
 * in that file, one per line, each with its mailbox under
 * $sandbox_mail_directory/<user>/ and the rights of the instance user
 * (mail_owner when the master runs as root, else whoever we run as). The
 * passwd file is not consulted there: a sandbox never writes into real
 * users' homes. The list is read again whenever the file changes.
 *
 * Rights: local keeps real uid 0 and switches the effective uid and gid
 * for each mailbox, file or .forward access (Postfix's set_eugid): effective
 * root first, then the group, the supplementary groups, and the uid last.
 * Commands run in a child that gives up root for good. Without root (a
 * sandbox run by a user) there is nothing to switch and every delivery is
 * done as that user.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"

#define LOCAL_USERS_MAX     10000   /* names in a sandbox user list */
#define LOCAL_USERS_SIZE    (1024 * 1024)

/* The sandbox user list as last read, and the file's identity then. */
static struct {
    char   *path;
    struct stat st;
    char  **names;
    int     count;
} local_users;

/* local_is_root - do we have root to switch from? */
int     local_is_root(void)
{
    return getuid() == 0;
}

/* local_privs_enter - act as uid/gid until local_privs_leave */
void    local_privs_enter(uid_t uid, gid_t gid)
{
    if (!local_is_root())
        return;
    if (geteuid() != 0 && seteuid(0) < 0)
        msg_fatal("seteuid 0: %m");
    if (setegid(gid) < 0)
        msg_fatal("setegid %ld: %m", (long) gid);
    if (setgroups(1, &gid) < 0)
        msg_fatal("setgroups %ld: %m", (long) gid);
    if (seteuid(uid) < 0)
        msg_fatal("seteuid %ld: %m", (long) uid);
    if (geteuid() != uid || getegid() != gid)
        msg_panic("set effective ids %ld/%ld failed", (long) uid, (long) gid);
}

/* local_privs_leave - back to effective root */
void    local_privs_leave(void)
{
    gid_t   root_gid = 0;

    if (!local_is_root())
        return;
    if (seteuid(0) < 0)
        msg_fatal("seteuid 0: %m");
    if (setegid(0) < 0)
        msg_fatal("setegid 0: %m");
    if (setgroups(1, &root_gid) < 0)
        msg_fatal("setgroups 0: %m");
}

/* local_privs_self - the rights we run with (no root to switch from) */
static void local_privs_self(LOCAL_PRIVS *privs)
{
    struct passwd *pw = getpwuid(getuid());
    char    num[32];

    privs->uid = getuid();
    privs->gid = getgid();
    snprintf(num, sizeof(num), "uid %ld", (long) getuid());
    privs->name = xstrdup(pw ? pw->pw_name : num);
}

/* local_privs_for_uid - the rights of the account uid; -1 when it has none */
int     local_privs_for_uid(uid_t uid, LOCAL_PRIVS *privs, BUF *why)
{
    struct passwd *pw;

    if (!local_is_root()) {
        local_privs_self(privs);
        return 0;
    }
    if ((pw = getpwuid(uid)) == NULL) {
        buf_sprintf(why, "no password entry for uid %ld", (long) uid);
        return -1;
    }
    privs->uid = pw->pw_uid;
    privs->gid = pw->pw_gid;
    privs->name = xstrdup(pw->pw_name);
    return 0;
}

/* local_privs_default - $default_privs: rights when no owner applies */
int     local_privs_default(LOCAL_PRIVS *privs, BUF *why)
{
    struct passwd *pw;
    const char *name = config_str(P_default_privs);

    if (!local_is_root()) {
        local_privs_self(privs);
        return 0;
    }
    if ((pw = getpwnam(name)) == NULL) {
        buf_sprintf(why, "default_privs: unknown account \"%s\"", name);
        return -1;
    }
    if (pw->pw_uid == 0 || pw->pw_gid == 0) {
        buf_sprintf(why, "default_privs: %s has root privileges", name);
        return -1;
    }
    privs->uid = pw->pw_uid;
    privs->gid = pw->pw_gid;
    privs->name = xstrdup(pw->pw_name);
    return 0;
}

/* local_privs_from_user - the rights of a mailbox owner */
void    local_privs_from_user(const LOCAL_USER *user, LOCAL_PRIVS *privs)
{
    privs->uid = user->uid;
    privs->gid = user->gid;
    privs->name = xstrdup(user->name);
}

/* local_privs_copy - a copy that owns its name */
void    local_privs_copy(LOCAL_PRIVS *to, const LOCAL_PRIVS *from)
{
    to->uid = from->uid;
    to->gid = from->gid;
    to->name = xstrdup(from->name);
}

/* local_privs_free - release the name */
void    local_privs_free(LOCAL_PRIVS *privs)
{
    xfree(privs->name);
    privs->name = NULL;
}

/* local_user_reset - forget the cached sandbox user list */
void    local_user_reset(void)
{
    int     i;

    for (i = 0; i < local_users.count; i++)
        xfree(local_users.names[i]);
    xfree(local_users.names);
    xfree(local_users.path);
    memset(&local_users, 0, sizeof(local_users));
}

/* local_users_load - (re)read the sandbox user list when the file changed */
static int local_users_load(const char *path, BUF *why)
{
    struct stat st;
    char   *text, *line, *next, *end;

    if (stat(path, &st) < 0) {
        buf_sprintf(why, "sandbox_users %s: %s", path, strerror(errno));
        return -1;
    }
    if (local_users.path && strcmp(local_users.path, path) == 0
        && st.st_ino == local_users.st.st_ino && st.st_dev == local_users.st.st_dev
        && st.st_size == local_users.st.st_size
        && st.st_mtim.tv_sec == local_users.st.st_mtim.tv_sec
        && st.st_mtim.tv_nsec == local_users.st.st_mtim.tv_nsec)
        return 0;
    if ((text = read_small_file(path, LOCAL_USERS_SIZE, why)) == NULL)
        return -1;
    local_user_reset();
    local_users.path = xstrdup(path);
    local_users.st = st;
    local_users.names = xcalloc(LOCAL_USERS_MAX, sizeof(char *));
    for (line = text; line && *line && local_users.count < LOCAL_USERS_MAX; line = next) {
        if ((next = strchr(line, '\n')) != NULL)
            *next++ = 0;
        while (isspace((unsigned char) *line))
            line++;
        end = line + strlen(line);
        while (end > line && isspace((unsigned char) end[-1]))
            *--end = 0;
        if (*line == 0 || *line == '#')
            continue;
        dict_fold(line);
        local_users.names[local_users.count++] = xstrdup(line);
    }
    xfree(text);
    return 0;
}

/* local_sandbox_user - one of the sandbox users, with the instance's rights */
static DICT_STATUS local_sandbox_user(const char *name, LOCAL_USER *user, BUF *why)
{
    struct passwd *pw;
    int     i;
    BUF    *home;

    if (local_users_load(config_str(P_sandbox_users), why) < 0)
        return DICT_TRYLATER;
    for (i = 0; i < local_users.count; i++)
        if (strcmp(local_users.names[i], name) == 0)
            break;
    if (i >= local_users.count)
        return DICT_NOTFOUND;
    if (local_is_root()) {
        if ((pw = getpwnam(config_str(P_mail_owner))) == NULL) {
            buf_sprintf(why, "mail_owner %s: no such account", config_str(P_mail_owner));
            return DICT_TRYLATER;
        }
        user->uid = pw->pw_uid;
        user->gid = pw->pw_gid;
    } else {
        user->uid = getuid();
        user->gid = getgid();
    }
    home = buf_alloc(100);
    buf_sprintf(home, "%s/%s", config_str(P_sandbox_mail_directory), name);
    user->home = buf_steal(home);
    user->name = xstrdup(name);
    user->shell = xstrdup("/bin/sh");
    user->sandbox = 1;
    return DICT_FOUND;
}

/* local_user_find - the mailbox owner called name (lower case) */
DICT_STATUS local_user_find(const char *name, LOCAL_USER *user, BUF *why)
{
    struct passwd *pw;

    memset(user, 0, sizeof(*user));
    if (*config_str(P_sandbox_users))
        return local_sandbox_user(name, user, why);
    errno = 0;
    if ((pw = getpwnam(name)) == NULL) {
        if (errno == EIO || errno == EMFILE || errno == ENFILE || errno == ENOMEM
            || errno == EINTR || errno == EAGAIN) {
            buf_sprintf(why, "user lookup %s: %s", name, strerror(errno));
            return DICT_TRYLATER;
        }
        return DICT_NOTFOUND;
    }
    user->name = xstrdup(name);
    user->uid = pw->pw_uid;
    user->gid = pw->pw_gid;
    user->home = xstrdup(pw->pw_dir);
    user->shell = xstrdup(pw->pw_shell);
    return DICT_FOUND;
}

/* local_user_free - release what local_user_find filled in */
void    local_user_free(LOCAL_USER *user)
{
    xfree(user->name);
    xfree(user->home);
    xfree(user->shell);
    memset(user, 0, sizeof(*user));
}
