/* server_confine - each daemon's allowance after its privileged start-up.
 *
 * No Postfix daemon does this. Once a daemon has opened what it needs and
 * dropped root (server.c), it restricts itself for good with lib/util's
 * confine: a seccomp allow list (no program can be run, no process made,
 * no id changed, no kernel attack surface reached) and Landlock paths.
 * The table below is the one place each daemon's allowance is written;
 * doc/design.md §2 shows it. A violation logs the system call number and
 * kills the process by SIGSYS; the master logs that too.
 *
 *   smtpd    reads everything but queue_directory (the queue only through
 *            cleanup), writes nothing
 *   cleanup  writes temp/, incoming/ and hold/
 *   qmgr     writes the whole queue
 *   pickup   writes maildrop/ (removes picked files) and corrupt/
 *   bounce   writes bounce/ and defer/
 *   error, discard, showq, anvil, smtp (and lmtp), authd, scache   read only
 *   proxymap reads everything but queue_directory (tables only), writes nothing
 *   postlogd writes the folder of maillog_file (it reopens the file by
 *            name after a rotation)
 *   local, pipe   deliveries need any user's files and commands: only the
 *            kernel attack surface is denied, without no_new_privs, so
 *            set-uid helpers of a mailbox_command keep working
 * A chrooted daemon (master.cf chroot y) is already jailed in the queue:
 * it gets the seccomp filter and no Landlock rules. daemon_confinement =
 * no turns all of it off (an old kernel, a third-party library that needs
 * more than the list allows).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "confine.h"
#include "mail_queue.h"
#include "msg.h"
#include "server_private.h"

#define CONFINE_WRITE_MAX   4

typedef struct SERVER_PROFILE {
    const char *name;
    int     kind;                       /* see below */
    const char *write[CONFINE_WRITE_MAX + 1];   /* queue folders, NULL-ended */
} SERVER_PROFILE;

#define PROFILE_READ_ALL        1       /* allow list, read everything */
#define PROFILE_READ_NO_QUEUE   2       /* allow list, read all but the queue */
#define PROFILE_DENY_ONLY       3       /* kernel surface denied, no Landlock */
#define PROFILE_WHOLE_QUEUE     "."     /* write: queue_directory itself */
#define PROFILE_MAILLOG_DIR     "$maillog_file"     /* write: the folder of maillog_file */

static const SERVER_PROFILE server_profiles[] = {
    {"smtpd", PROFILE_READ_NO_QUEUE, {NULL}},
    {"cleanup", PROFILE_READ_ALL, {MAIL_QUEUE_TEMP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_HOLD, NULL}},
    {"qmgr", PROFILE_READ_ALL, {PROFILE_WHOLE_QUEUE, NULL}},
    {"pickup", PROFILE_READ_ALL, {MAIL_QUEUE_MAILDROP, MAIL_QUEUE_CORRUPT, NULL}},
    {"bounce", PROFILE_READ_ALL, {MAIL_QUEUE_BOUNCE, MAIL_QUEUE_DEFER, NULL}},
    {"error", PROFILE_READ_ALL, {NULL}},
    {"discard", PROFILE_READ_ALL, {NULL}},
    {"showq", PROFILE_READ_ALL, {NULL}},
    {"anvil", PROFILE_READ_ALL, {NULL}},
    {"proxymap", PROFILE_READ_NO_QUEUE, {NULL}},
    {"smtp", PROFILE_READ_ALL, {NULL}},
    {"authd", PROFILE_READ_ALL, {NULL}},
    {"scache", PROFILE_READ_ALL, {NULL}},
    {"local", PROFILE_DENY_ONLY, {NULL}},
    {"pipe", PROFILE_DENY_ONLY, {NULL}},
    {"postlogd", PROFILE_READ_ALL, {PROFILE_MAILLOG_DIR, NULL}},
};

/* server_profile_find - the profile of a name, or NULL */
static const SERVER_PROFILE *server_profile_find(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(server_profiles) / sizeof(server_profiles[0]); i++)
        if (strcmp(server_profiles[i].name, name) == 0)
            return server_profiles + i;
    return NULL;
}

/* server_confine_maillog - write access to the folder of maillog_file
 * (nothing for /dev/stdout, already open, or no file) */
static void server_confine_maillog(CONFINE *c)
{
    const char *path = config_str(P_maillog_file);
    const char *slash = strrchr(path, '/');
    char    dir[4096];

    if (*path != '/' || slash == NULL || strncmp(path, "/dev/", 5) == 0)
        return;
    snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int) (slash - path), path);
    confine_write(c, dir);
}

/* server_confine_paths - the Landlock part of a profile.
 *
 * The daemon's working folder is queue_directory (server.c chdir'ed
 * there as root): queue folders are named relative to it, because
 * mail_owner may not be able to walk the absolute path (a 0700 folder
 * above the queue, as mkdtemp makes), and getcwd() gives the real path
 * to except for smtpd without walking it. */
static void server_confine_paths(CONFINE *c, const SERVER_PROFILE *p)
{
    char    queue[4096];
    const char *const *w;

    if (p->kind == PROFILE_READ_NO_QUEUE) {
        if (getcwd(queue, sizeof(queue)) == NULL)
            msg_fatal("confinement: getcwd: %m");
        confine_read_except(c, queue);
    } else {
        confine_read(c, "/");
    }
    confine_write(c, "/dev/null");
    for (w = p->write; *w; w++) {
        if (strcmp(*w, PROFILE_MAILLOG_DIR) == 0)
            server_confine_maillog(c);
        else
            confine_write(c, *w);       /* relative: see above */
    }
#ifdef SUREL_SANITIZE_LOG_DIR
    confine_write(c, SUREL_SANITIZE_LOG_DIR);   /* sanitizer builds write reports */
#endif
}

/* server_confine - apply the named profile (fatal if it cannot be) */
void    server_confine(const char *name, int chrooted)
{
    const SERVER_PROFILE *p;
    CONFINE *c;
    BUF    *why;

    if (name == NULL || !config_bool(P_daemon_confinement))
        return;
    if ((p = server_profile_find(name)) == NULL)
        msg_panic("no confinement profile named %s", name);
    c = confine_create();
    why = buf_alloc(100);
    if (p->kind == PROFILE_DENY_ONLY) {
        confine_deny_only(c, confine_kernel_surface);
    } else if (chrooted) {
        confine_no_landlock(c);
    } else {
        server_confine_paths(c, p);
    }
    if (confine_apply(c, why) < 0)
        msg_fatal("confinement %s: %s (daemon_confinement = no turns it off)", name,
                  buf_str(why));
    msg_debug("confined: profile %s%s", name, chrooted ? " (chroot: seccomp only)" : "");
    buf_free(why);
    confine_free(c);
}
