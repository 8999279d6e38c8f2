/* local_command - |command destinations and mailbox_command.
 *
 * The command text comes from whoever owns the alias table, .forward or
 * :include: file (or from main.cf for mailbox_command) and is run by
 * /bin/sh -c as that owner; envelope data never enters the command text:
 * it reaches the command only through the environment (SENDER, RECIPIENT,
 * LOCAL, EXTENSION, DOMAIN ...) and standard input (DESIGN §10: the
 * OpenSMTPD and Exim lessons). Like Postfix, every exported value is
 * censored with command_expansion_filter (other characters become '_'),
 * so that a careless "$SENDER" without quotes in a script is no shell
 * syntax. mailbox_command itself is not $name-expanded (Postfix: "not
 * subjected to $name substitutions ... to make it easier to specify shell
 * syntax").
 *
 * The child gets: a session (process group) of its own, so that a time
 * limit kills everything it started; root given up for good (setgroups,
 * setgid, setuid, checked) before exec; HOME as its working folder; a clean
 * environment; the message on standard input from an in-memory file (so
 * that a command that does not read its input never blocks us); standard
 * output and error into a pipe, of which the first LOCAL_OUTPUT_MAX bytes
 * are kept for the bounce text.
 * Exit 0 is delivered; a sysexits(3) code maps to its DSN status (75,
 * EX_TEMPFAIL, defers); any other exit bounces with 5.3.0; death by a
 * signal defers; the time limit (command_time_limit) bounces, as in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_wait.h"
#include "config.h"
#include "local.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "sys_exits.h"

#define LOCAL_OUTPUT_MAX    1024    /* command output kept for the reason text */
#define LOCAL_ENV_MAX       16

/* Everything the child needs, prepared before fork (no allocation after). */
typedef struct LOCAL_CHILD {
    const char *command;
    const LOCAL_PRIVS *privs;
    const char *home;
    char   *envp[LOCAL_ENV_MAX + 1];
    int     nenv;
    int     in_fd;
    int     out_fd;
} LOCAL_CHILD;

/* local_env_add - one NAME=value string, value censored by filter unless NULL */
static void local_env_add(LOCAL_CHILD *child, const char *name, const char *value,
                          const char *filter)
{
    BUF    *b;
    size_t  start;

    if (child->nenv >= LOCAL_ENV_MAX)
        msg_panic("local_env_add: too many variables");
    b = buf_alloc(64);
    buf_sprintf(b, "%s=", name);
    start = buf_len(b);
    buf_puts(b, value ? value : "");
    if (filter)
        local_censor(buf_str(b) + start, filter);
    child->envp[child->nenv++] = buf_steal(b);
}

/* local_child_env - HOME, USER, ... and the envelope, nothing inherited */
static void local_child_env(LOCAL_CHILD *child, LOCAL_STATE *state, const LOCAL_ATTR *attr,
                            const char *home, const char *shell)
{
    BUF    *local = buf_alloc(64);
    const char *at = strrchr(attr->address, '@');
    const char *filter = config_str(P_command_expansion_filter);

    buf_reset(local);
    buf_append(local, attr->address, at ? (size_t) (at - attr->address) : strlen(attr->address));
    local_env_add(child, "HOME", home, filter);
    local_env_add(child, "USER", child->privs->name, filter);
    local_env_add(child, "LOGNAME", child->privs->name, filter);
    local_env_add(child, "SHELL", shell, filter);
    local_env_add(child, "PATH", "/usr/bin:/bin", NULL);
    local_env_add(child, "SENDER", attr->sender, filter);
    local_env_add(child, "RECIPIENT", attr->address, filter);
    local_env_add(child, "ORIGINAL_RECIPIENT", state->orig_rcpt, filter);
    local_env_add(child, "LOCAL", buf_str(local), filter);
    local_env_add(child, "EXTENSION", attr->extension ? attr->extension : "", filter);
    local_env_add(child, "DOMAIN", at ? at + 1 : "", filter);
    local_env_add(child, "QUEUE_ID", state->msg->queue_id, filter);
    buf_free(local);
}

/* local_child_run - in the child: give up root, set up fds, exec; never returns */
static void local_child_run(const LOCAL_CHILD *child)
{
    char   *argv[] = {"/bin/sh", "-c", (char *) child->command, NULL};
    gid_t   gid = child->privs->gid;

    (void) setsid();
    if (dup2(child->in_fd, 0) < 0 || dup2(child->out_fd, 1) < 0 || dup2(child->out_fd, 2) < 0)
        _exit(71);
    closefrom(3);
    if (local_is_root()) {
        if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(child->privs->uid) < 0
            || getuid() != child->privs->uid || geteuid() != child->privs->uid
            || (child->privs->uid != 0 && setuid(0) == 0))
            _exit(71);
    }
    if (chdir(child->home) < 0 && chdir("/") < 0)
        _exit(71);
    signal(SIGPIPE, SIG_DFL);
    execve(argv[0], argv, child->envp);
    _exit(71);
}

/* local_output_text - command output fit for a log line and a bounce */
static void local_output_text(BUF *output)
{
    char   *cp;

    buf_trim_right(output);
    for (cp = buf_str(output); *cp; cp++)
        if ((unsigned char) *cp < ' ' || (unsigned char) *cp == 0x7f)
            *cp = ' ';
}

/* local_command_status - turn how the command ended into a status */
static void local_command_status(LOCAL_STATUS *st, const char *command, int timed_out,
                                 int status, BUF *output)
{
    const SYS_EXITS_DETAIL *sp;

    local_output_text(output);
    if (timed_out) {
        local_status_set(st, "5.3.0", "Command time limit exceeded: \"%s\"%s%s", command,
                         buf_len(output) ? ". Command output: " : "", buf_str(output));
    } else if (WIFSIGNALED(status)) {
        local_status_set(st, "4.3.0", "Command died with signal %d: \"%s\"%s%s",
                         WTERMSIG(status), command,
                         buf_len(output) ? ". Command output: " : "", buf_str(output));
    } else if (WEXITSTATUS(status) == 0) {
        local_status_set(st, "2.0.0", "delivered to command: %s", command);
    } else {
        sp = sys_exits_detail(WEXITSTATUS(status));
        local_status_set(st, sp ? sp->dsn : "5.3.0", "Command died with status %d: \"%s\"%s%s",
                         WEXITSTATUS(status), command,
                         buf_len(output) ? ". Command output: " : "", buf_str(output));
    }
}

/* local_deliver_command - run command with the message on stdin, as privs */
int     local_deliver_command(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *command,
                              const LOCAL_PRIVS *privs, LOCAL_STATUS *st)
{
    LOCAL_CHILD child;
    struct passwd *pw;
    BUF    *why = buf_alloc(100);
    BUF    *output = buf_alloc(LOCAL_OUTPUT_MAX + 1);
    int     pipefd[2] = {-1, -1};
    int     ret, status = 0, timed_out, i;
    pid_t   pid;
    const char *home = "/";
    const char *shell = "/bin/sh";

    /* Never run a delivery command as root: callers map root to
     * $default_privs; this is the last line of defence. */
    if (privs->uid == 0 && local_is_root()) {
        local_status_set(st, "4.3.0", "refusing to run a command as root");
        buf_free(why);
        buf_free(output);
        return st->stat;
    }
    memset(&child, 0, sizeof(child));
    child.command = command;
    child.privs = privs;
    if (attr->user && attr->user->uid == privs->uid) {
        home = attr->user->home;
        shell = attr->user->shell;
    } else if ((pw = getpwuid(privs->uid)) != NULL) {
        home = pw->pw_dir;
        shell = pw->pw_shell;
    }
    child.home = home;
    local_child_env(&child, state, attr, home, shell);
    child.in_fd = memfd_create("surel-local", MFD_CLOEXEC);
    if (child.in_fd < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
        local_status_set(st, "4.3.0", "cannot run command: %s", strerror(errno));
        goto done;
    }
    ret = local_copy(state->msg, attr->sender, state->delivered, child.in_fd,
                     LOCAL_COPY_FROM | LOCAL_COPY_HEADERS, 0, why);
    if (ret != LOCAL_COPY_OK || lseek(child.in_fd, 0, SEEK_SET) < 0) {
        local_status_set(st, "4.3.0", "cannot run command: %s", buf_str(why));
        goto done;
    }
    child.out_fd = pipefd[1];
    if ((pid = fork()) < 0) {
        local_status_set(st, "4.3.0", "cannot run command: fork: %s", strerror(errno));
        goto done;
    }
    if (pid == 0)
        local_child_run(&child);
    close(pipefd[1]);
    pipefd[1] = -1;
    timed_out = child_wait(pid, pipefd[0], time(NULL) + config_time(P_command_time_limit),
                           output, LOCAL_OUTPUT_MAX, &status) < 0;
    local_command_status(st, command, timed_out, status, output);

  done:
    if (child.in_fd >= 0)
        close(child.in_fd);
    for (i = 0; i < 2; i++)
        if (pipefd[i] >= 0)
            close(pipefd[i]);
    for (i = 0; i < child.nenv; i++)
        xfree(child.envp[i]);
    buf_free(why);
    buf_free(output);
    return st->stat;
}
