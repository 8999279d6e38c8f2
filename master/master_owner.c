/* master_owner - do file system work in mail_owner's folders as mail_owner.
 *
 * private/, public/ and the queue folders belong to mail_owner, so any
 * process running as mail_owner (a compromised smtpd, cleanup, qmgr ...)
 * can rename, unlink or replace the names in them at any moment. A root
 * process that calls a path-based function there (chmod, open, connect,
 * unlink after a check) can be steered by a symbolic link or a hard link
 * to a file anywhere: `chmod("private/smtpd", 0666)` after a swap made
 * /etc/shadow world-writable. So, as Postfix's master does with
 * set_eugid(), the master takes mail_owner's effective ids around every
 * such operation: creating and removing listeners and sending wakeups.
 * The worst a swapped name can then do is what mail_owner could do anyway.
 *
 * A master that is not root (sandbox mode) already runs as the owner of
 * everything: both calls do nothing.
 */
#include <grp.h>
#include <pwd.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "master.h"
#include "msg.h"

static uid_t master_owner_uid;
static gid_t master_owner_gid;
static int master_owner_depth;          /* nesting of enter/leave */

/* master_owner_init - look mail_owner up (after each main.cf load) */
void master_owner_init(void)
{
    const char *owner = config_str(P_mail_owner);
    struct passwd *pw;

    if (!master_privileged)
        return;
    if ((pw = getpwnam(owner)) == NULL)
        msg_fatal("mail_owner account '%s' does not exist", owner);
    if (pw->pw_uid == 0 || pw->pw_gid == 0)
        msg_fatal("mail_owner account '%s' has root privileges", owner);
    master_owner_uid = pw->pw_uid;
    master_owner_gid = pw->pw_gid;
}

/* master_owner_enter - effective ids and groups of mail_owner, until leave */
void master_owner_enter(void)
{
    if (!master_privileged || master_owner_depth++ > 0)
        return;
    /* Groups first: once the effective uid is not root, they are fixed. */
    if (setgroups(1, &master_owner_gid) < 0 || setegid(master_owner_gid) < 0
        || seteuid(master_owner_uid) < 0)
        msg_fatal("cannot take mail_owner's effective ids: %m");
}

/* master_owner_leave - back to root */
void master_owner_leave(void)
{
    gid_t   root_gid = 0;

    if (!master_privileged || --master_owner_depth > 0)
        return;
    if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(1, &root_gid) < 0)
        msg_fatal("cannot return to root's ids: %m");
}
