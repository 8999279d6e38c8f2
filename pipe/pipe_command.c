/* pipe_command - run one pipe command and say how it went (Postfix's
 * global/pipe_command.c rules).
 *
 * The child gets: a session (process group) of its own, so that the time
 * limit kills everything it started; the user='s ids for good
 * (setgroups to that one group, setgid, setuid, checked) when we are
 * root; the directory= working folder (else queue_directory, where every
 * daemon runs); an environment of export_environment's variables from
 * ours and PATH=/usr/bin:/bin, nothing else; the message on standard
 * input from an in-memory file (a command that does not read it never
 * blocks us); standard output and error into a pipe, of which the first
 * PIPE_OUTPUT_MAX bytes are kept for the reason text. argv is handed to
 * execvpe as it is: no shell ever sees envelope data (DESIGN §10).
 *
 * How it ended, as Postfix decides it:
 *   exit 0                       sent
 *   time limit (SIGKILL to the group)
 *                                bounce 5.3.0 "Command time limit exceeded: ..."
 *   killed by a signal           defer 4.3.0 "Command died with signal N: ..."
 *   output starting "X.Y.Z text" that code (class 4 defers, else bounces)
 *   a sysexits(3) status         its code and text (sys_exits.h): 75 defers
 *                                4.3.0, 67 bounces 5.1.1 "user unknown"
 *   any other status             bounce 5.3.0 "Command died with status N: ..."
 * each followed by ". Command output: ..." when there was some. A
 * command that cannot be started (no such program, a bad directory=)
 * exits 71 (EX_OSERR) with the reason as its output: the mail is
 * deferred, where Postfix's fatal child would bounce it with status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_wait.h"
#include "config.h"
#include "dsn.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pipe.h"
#include "sys_exits.h"

#define PIPE_OUTPUT_MAX     1024    /* command output kept for the reason text */
#define PIPE_ENV_MAX        64
#define PIPE_EX_OSERR       71

char  **pipe_command_env(void)
{
    char  **env = xcalloc(PIPE_ENV_MAX + 1, sizeof(char *));
    char   *list = xstrdup(config_str(P_export_environment));
    char   *save = NULL, *name;
    const char *val;
    BUF    *b = buf_alloc(64);
    int     n = 0;

    env[n++] = xstrdup("PATH=/usr/bin:/bin");
    for (name = strtok_r(list, " \t\r\n,", &save); name && n < PIPE_ENV_MAX;
         name = strtok_r(NULL, " \t\r\n,", &save)) {
        if (strchr(name, '=') || strcmp(name, "PATH") == 0 || (val = getenv(name)) == NULL)
            continue;
        buf_sprintf(b, "%s=%s", name, val);
        env[n++] = xstrdup(buf_str(b));
    }
    buf_free(b);
    xfree(list);
    return env;
}

/* pipe_child_fail - in the child: say why on the output and exit EX_OSERR */
static void pipe_child_fail(const char *what, const char *arg)
{
    char    line[512];
    int     len = snprintf(line, sizeof(line), "%s %s: %s", what, arg, strerror(errno));

    if (len > 0)
        (void) !write(1, line, (size_t) len < sizeof(line) ? (size_t) len : sizeof(line) - 1);
    _exit(PIPE_EX_OSERR);
}

/* pipe_child - in the child: give up root, set up fds, exec; never returns */
static void pipe_child(char **argv, char **envp, const PIPE_ATTR *attr, int in_fd, int out_fd)
{
    gid_t   gid = attr->gid;

    (void) setsid();
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        _exit(PIPE_EX_OSERR);
    closefrom(3);
    if (geteuid() == 0 || getuid() == 0) {
        if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(attr->uid) < 0
            || getuid() != attr->uid || geteuid() != attr->uid || getegid() != gid
            || setuid(0) == 0)
            pipe_child_fail("cannot change to user", attr->user);
    }
    if (attr->directory && chdir(attr->directory) < 0)
        pipe_child_fail("cannot change directory to", attr->directory);
    signal(SIGPIPE, SIG_DFL);
    execvpe(argv[0], argv, envp);
    pipe_child_fail("cannot execute", argv[0]);
}

/* pipe_output_text - command output fit for a log line and a bounce:
 * white space becomes a space, other control bytes '_' (Postfix's
 * translit and printable) */
static void pipe_output_text(BUF *output)
{
    char   *cp;

    for (cp = buf_str(output); *cp; cp++)
        if (*cp == '\t' || *cp == '\n' || *cp == '\r')
            *cp = ' ';
        else if ((unsigned char) *cp < ' ' || (unsigned char) *cp == 0x7f)
            *cp = '_';
    buf_trim_right(output);
}

/* pipe_status - turn how the command ended into a status */
static int pipe_status(const char *command, int timed_out, int status, BUF *output,
                       BUF *dsn, BUF *reason)
{
    const char *more = buf_len(output) ? ". Command output: " : "";
    const SYS_EXITS_DETAIL *sp;
    size_t  n;

    pipe_output_text(output);
    if (timed_out) {
        buf_set(dsn, "5.3.0");
        buf_sprintf(reason, "Command time limit exceeded: \"%s\"%s%s", command, more,
                    buf_str(output));
        return DELIVER_STAT_BOUNCE;
    }
    if (WIFSIGNALED(status)) {
        buf_set(dsn, "4.3.0");
        buf_sprintf(reason, "Command died with signal %d: \"%s\"%s%s", WTERMSIG(status),
                    command, more, buf_str(output));
        return DELIVER_STAT_DEFER;
    }
    if (WEXITSTATUS(status) == 0) {
        buf_set(dsn, "2.0.0");
        buf_reset(reason);
        return DELIVER_STAT_OK;
    }
    if ((n = dsn_code_prefix(buf_str(output))) > 0) {
        buf_reset(dsn);
        buf_append(dsn, buf_str(output), n);
        if (buf_str(dsn)[0] == '2')
            buf_str(dsn)[0] = '5';          /* a failed command delivered nothing */
        buf_set(reason, buf_str(output)[n] ? buf_str(output) + n + 1 : "");
        return buf_str(dsn)[0] == '4' ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE;
    }
    if ((sp = sys_exits_detail(WEXITSTATUS(status))) != NULL) {
        buf_set(dsn, sp->dsn);
        buf_sprintf(reason, "%s%s%s", sp->text, more, buf_str(output));
        return sp->dsn[0] == '4' ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE;
    }
    buf_set(dsn, "5.3.0");
    buf_sprintf(reason, "Command died with status %d: \"%s\"%s%s", WEXITSTATUS(status),
                command, more, buf_str(output));
    return DELIVER_STAT_BOUNCE;
}

int     pipe_command(char **argv, const PIPE_ATTR *attr, int in_fd, long time_limit,
                     BUF *dsn, BUF *reason)
{
    static char **envp;
    BUF    *output = buf_alloc(PIPE_OUTPUT_MAX + 1);
    int     pipefd[2], status = 0, timed_out, ret;
    pid_t   pid;

    if (envp == NULL)
        envp = pipe_command_env();
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        buf_set(dsn, "4.3.0");
        buf_sprintf(reason, "cannot run command: pipe: %s", strerror(errno));
        buf_free(output);
        return DELIVER_STAT_DEFER;
    }
    if ((pid = fork()) < 0) {
        buf_set(dsn, "4.3.0");
        buf_sprintf(reason, "cannot run command: fork: %s", strerror(errno));
        ret = DELIVER_STAT_DEFER;
    } else {
        if (pid == 0)
            pipe_child(argv, envp, attr, in_fd, pipefd[1]);
        close(pipefd[1]);
        pipefd[1] = -1;
        timed_out = child_wait(pid, pipefd[0], time(NULL) + time_limit, output,
                               PIPE_OUTPUT_MAX, &status) < 0;
        ret = pipe_status(argv[0], timed_out, status, output, dsn, reason);
    }
    close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
    buf_free(output);
    return ret;
}
