/* master_spawn - children: status pipes, starting, reaping, throttling.
 *
 * The master watches a service's listeners only while nobody of the
 * service is idle and the process limit allows another one; a readable
 * listener then means "a client waits and nobody takes it", so the master
 * starts a process (it never accepts itself). A new child counts as idle
 * until it reports BUSY over the status pipe.
 *
 * A child that exits non-zero or by a signal is a failure: the service is
 * suspended (no listening, no wakeups) for 1 s, 2 s, 4 s ... up to
 * service_throttle_time; a clean exit resets the delay. This bounds the
 * cost of a daemon that dies at start-up however fast it dies. Children
 * that die while the service is already suspended were started before
 * it: they are the same event (several processes killed at once), not a
 * new round of the crash loop, so they do not double the pause again.
 * A wakeup service (qmgr, pickup) whose process dies is woken again at
 * once (master_wakeup_crashed), not at its next periodic wakeup.
 *
 * Stress (Postfix's master_avail.c): an inet service that starts the
 * process that takes it to its process limit is "under stress" for the
 * next MASTER_STRESS_TIME; every process started meanwhile gets
 * `-o stress=yes`, so that the stress-dependent defaults
 * (smtpd_timeout = ${stress?{10}:{300}}s, smtpd_hard_error_limit =
 * ${stress?{1}:{20}}, ...) apply to it. Processes already running keep
 * their settings; as in Postfix, the service is not restarted for it (a
 * restart would start a second full set of processes beside the busy
 * ones). When the limit is reached and nobody is idle, the master warns
 * once per MASTER_STRESS_TIME with Postfix's three lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "master.h"
#include "mem.h"
#include "msg.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

MASTER_PROC *master_procs;

#define MASTER_STRESS_TIME  (1000 * 1000LL)    /* ms; Postfix: 1000 s */

/* master_stress_capable - services whose clients can flood them */
static int master_stress_capable(const MASTER_SERV *serv)
{
    return serv->type == MASTER_INET && serv->maxproc > 0;
}

/* master_status_event - read BUSY/IDLE records from a service's children */
static void master_status_event(int event, void *context)
{
    MASTER_SERV *serv = context;
    MASTER_STATUS recs[64];
    MASTER_PROC *proc;
    ssize_t n;
    size_t  i;

    (void) event;
    while ((n = read(serv->status_rd, recs, sizeof(recs))) > 0) {
        if (n % (ssize_t) sizeof(recs[0]) != 0)
            msg_warn("service %s: status pipe: partial record of %ld bytes",
                     serv->name, (long) n);
        for (i = 0; i < (size_t) n / sizeof(recs[0]); i++) {
            for (proc = master_procs; proc; proc = proc->next)
                if (proc->pid == recs[i].pid)
                    break;
            /* A stale generation or a pid we did not start: ignore. */
            if (proc == NULL || proc->serv != serv || recs[i].gen != serv->gen) {
                msg_debug("service %s: ignoring status from pid %ld gen %u",
                          serv->name, (long) recs[i].pid, recs[i].gen);
                continue;
            }
            if (recs[i].status == MASTER_STAT_BUSY)
                proc->served = 1;
            if (recs[i].status == MASTER_STAT_BUSY && proc->avail) {
                proc->avail = 0;
                serv->avail_proc--;
            } else if (recs[i].status == MASTER_STAT_IDLE && !proc->avail) {
                proc->avail = 1;
                serv->avail_proc++;
            }
        }
    }
    master_avail_update(serv);
}

/* master_status_open - a fresh status pipe: a new generation */
void master_status_open(MASTER_SERV *serv)
{
    int     fds[2];

    if (pipe2(fds, O_CLOEXEC) < 0)
        msg_fatal("pipe: %m");
    if (fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0)
        msg_fatal("fcntl: %m");
    serv->status_rd = fds[0];
    serv->status_wr = fds[1];
    serv->gen++;
    event_enable_read(serv->status_rd, master_status_event, serv);
}

/* master_status_close - the children of this generation see EOF and retire */
void master_status_close(MASTER_SERV *serv)
{
    if (serv->status_rd >= 0) {
        event_disable_readwrite(serv->status_rd);
        close(serv->status_rd);
        close(serv->status_wr);
    }
    serv->status_rd = serv->status_wr = -1;
}

/* master_child_argv - the full argv of a new child (see master_proto.h) */
static char **master_child_argv(MASTER_SERV *serv)
{
    int     n = 0;
    int     tail;
    char  **argv;
    char    num[32];

    for (tail = 0; serv->argv[tail]; tail++)
         /* void */ ;
    argv = xcalloc((size_t) tail + 16, sizeof(char *));
    argv[n++] = xstrdup(serv->path);
    argv[n++] = xstrdup("-c");
    argv[n++] = xstrdup(master_config_dir);
    argv[n++] = xstrdup("-n");
    argv[n++] = xstrdup(serv->name);
    argv[n++] = xstrdup("-t");
    argv[n++] = xstrdup(mastercf_type_name(serv->type));
    snprintf(num, sizeof(num), "%u", serv->gen);
    argv[n++] = xstrdup("-g");
    argv[n++] = xstrdup(num);
    snprintf(num, sizeof(num), "%d", serv->nlisten);
    argv[n++] = xstrdup("-s");
    argv[n++] = xstrdup(num);
    if (master_privileged && serv->unpriv)
        argv[n++] = xstrdup("-u");
    if (master_privileged && serv->chroot)
        argv[n++] = xstrdup("-r");
    if (msg_verbose)
        argv[n++] = xstrdup("-v");
    if (serv->stress_until > event_now_ms()) {
        argv[n++] = xstrdup("-o");
        argv[n++] = xstrdup("stress=yes");
    }
    for (tail = 0; serv->argv[tail]; tail++)
        argv[n++] = xstrdup(serv->argv[tail]);
    argv[n] = NULL;
    return argv;
}

/* master_free_argv - release a NULL-terminated argv */
static void master_free_argv(char **argv)
{
    int     i;

    for (i = 0; argv[i]; i++)
        xfree(argv[i]);
    xfree(argv);
}

/* master_cloexec_from - mark every descriptor from fd on close-on-exec */
static void master_cloexec_from(int fd)
{
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned) fd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
#endif
    for (; fd < 4096; fd++)             /* older kernels */
        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* master_child_exec - in the new child: descriptors, signals, exec */
static void __attribute__((noreturn)) master_child_exec(MASTER_SERV *serv, char **argv)
{
    int     tmp[MASTER_LISTEN_MAX + 1];
    sigset_t none;
    int     sig;
    int     i;

    /* Nothing the master blocked or caught may reach the daemon. */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);

    /* Park the sources above the targets first, so that no dup2() can
     * overwrite a source that still has to move. */
    tmp[0] = fcntl(serv->status_wr, F_DUPFD_CLOEXEC, 64);
    for (i = 0; i < serv->nlisten; i++)
        tmp[i + 1] = fcntl(serv->listen_fd[i], F_DUPFD_CLOEXEC, 64);
    for (i = 0; i <= serv->nlisten; i++) {
        if (tmp[i] < 0 || dup2(tmp[i], MASTER_STATUS_FD + i) < 0) {
            msg_warn("%s: cannot set up descriptors: %m", serv->path);
            _exit(1);
        }
    }
    /* Whatever else is open (from whoever started us) ends at exec. */
    master_cloexec_from(MASTER_LISTEN_FD + serv->nlisten);
    execve(serv->path, argv, master_env);
    msg_warn("exec %s: %m", serv->path);
    _exit(1);
}

/* master_spawn - start one child of a service */
static void master_spawn(MASTER_SERV *serv)
{
    char  **argv = master_child_argv(serv);
    MASTER_PROC *proc;
    pid_t   pid;

    pid = fork();
    if (pid == 0)
        master_child_exec(serv, argv);
    master_free_argv(argv);
    if (pid < 0) {
        msg_warn("fork: %m");
        master_throttle(serv);
        return;
    }
    proc = xcalloc(1, sizeof(*proc));
    proc->pid = pid;
    proc->gen = serv->gen;
    proc->serv = serv;
    proc->avail = 1;
    proc->path = xstrdup(serv->path);
    proc->next = master_procs;
    master_procs = proc;
    serv->total_proc++;
    serv->avail_proc++;
    serv->used = 1;
    msg_debug("service %s: started pid %ld (%d processes, generation %u)",
              serv->name, (long) pid, serv->total_proc, serv->gen);
    master_avail_update(serv);
}

/* master_listen_event - a client waits and nobody of the service is idle */
static void master_listen_event(int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) event;
    if (!serv->listening)
        return;
    /* This process fills the last slot: the service is under stress. */
    if (master_stress_capable(serv) && serv->total_proc + 1 >= serv->maxproc)
        serv->stress_until = event_now_ms() + MASTER_STRESS_TIME;
    master_spawn(serv);
}

/* master_warn_busy - every process busy and no more allowed: say so, at
 * most once per MASTER_STRESS_TIME (Postfix's words) */
static void master_warn_busy(MASTER_SERV *serv)
{
    const char *where = serv->endpoint;
    long long now = event_now_ms();

    if (serv->busy_warned != 0 && now - serv->busy_warned < MASTER_STRESS_TIME)
        return;
    serv->busy_warned = now;
    if (strncmp(where, "inet:", 5) == 0)
        where += 5;
    msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
             "new clients may experience noticeable delays", serv->name, where, serv->maxproc);
    msg_warn("to avoid this condition, increase the process count "
             "in master.cf or reduce the service time per client");
    msg_warn("see the stress section of doc/master.md for "
             "stress-adapting configuration settings");
}

/* master_avail_update - watch the listeners exactly when a new process may be needed */
void master_avail_update(MASTER_SERV *serv)
{
    int     want;
    int     i;

    want = !master_stopping && !serv->throttled && serv->nlisten > 0
        && serv->status_rd >= 0 && serv->avail_proc == 0
        && (serv->maxproc == 0 || serv->total_proc < serv->maxproc);
    if (!want && !master_stopping && !serv->throttled && serv->avail_proc == 0
        && master_stress_capable(serv) && serv->total_proc >= serv->maxproc)
        master_warn_busy(serv);
    if (want == serv->listening)
        return;
    for (i = 0; i < serv->nlisten; i++) {
        if (want)
            event_enable_read(serv->listen_fd[i], master_listen_event, serv);
        else
            event_disable_readwrite(serv->listen_fd[i]);
    }
    serv->listening = want;
}

/* master_unthrottle - the pause is over: listen again, wake up at once */
static void master_unthrottle(int event, void *context)
{
    MASTER_SERV *serv = context;

    (void) event;
    serv->throttled = 0;
    master_avail_update(serv);
    if (serv->wakeup > 0)
        master_wakeup_start(serv, 0);
}

/* master_throttle - suspend a failing service for a doubling delay */
void master_throttle(MASTER_SERV *serv)
{
    long    limit = config_time(P_service_throttle_time);
    long    delay = 1;
    int     i;

    for (i = 0; i < serv->failures && delay < limit; i++)
        delay *= 2;
    if (delay > limit)
        delay = limit;
    serv->failures++;
    serv->throttled = 1;
    master_avail_update(serv);
    master_wakeup_stop(serv);
    event_request_timer(master_unthrottle, serv, delay * 1000);
    msg_debug("service %s: throttled for %lds", serv->name, delay);
}

/* master_cancel_throttle - forget a pending unthrottle (service going away) */
void master_cancel_throttle(MASTER_SERV *serv)
{
    event_cancel_timer(master_unthrottle, serv);
    serv->throttled = 0;
}

/* master_wakeup_crashed - a wakeup service's process died: wake a new one now.
 *
 * qmgr and pickup run only when woken (a trigger, or the periodic
 * wakeup). Postfix leaves a crashed qmgr dead until the next wakeup, up
 * to 300 s, and acknowledged mail in active/ waits that long when no new
 * mail arrives. We send the wakeup at once instead: it makes the listener
 * readable, the master starts a new process, and that process takes over
 * active/ (qmgr) or maildrop/ (pickup). A process that dies at start-up
 * is throttled first (master_throttle), and the end of the pause sends
 * the wakeup, so a qmgr that crashes on start does not spin. A clean
 * exit (max_idle, max_use, reload) keeps the on-demand behaviour. */
static void master_wakeup_crashed(MASTER_SERV *serv)
{
    if (serv->wakeup > 0 && serv->nlisten > 0) {
        msg_info("service %s: process died, waking a new one", serv->name);
        master_wakeup_start(serv, 0);
    }
}

/* master_log_exit - Postfix's words for a child that did not exit cleanly */
static void master_log_exit(const MASTER_PROC *proc, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        msg_warn("process %s pid %ld exit status %d",
                 proc->path, (long) proc->pid, WEXITSTATUS(status));
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
        msg_warn("process %s pid %ld killed by signal %d: a system call its confinement "
                 "forbids (lib/global/server_confine.c)",
                 proc->path, (long) proc->pid, WTERMSIG(status));
    else if (WIFSIGNALED(status))
        msg_warn("process %s pid %ld killed by signal %d",
                 proc->path, (long) proc->pid, WTERMSIG(status));
}

/* master_reap - collect every child that exited (SIGCHLD) */
void master_reap(int signo, void *context)
{
    MASTER_PROC **pp;
    MASTER_PROC *proc;
    MASTER_SERV *serv;
    pid_t   pid;
    int     status;
    int     failed;

    (void) signo;
    (void) context;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (pp = &master_procs; *pp && (*pp)->pid != pid; pp = &(*pp)->next)
             /* void */ ;
        if ((proc = *pp) == NULL)
            continue;
        *pp = proc->next;
        serv = proc->serv;
        failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
        /* SIGTERM from us (stop, removed service) is no news. */
        if (!master_stopping
            && !(serv == NULL && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
            master_log_exit(proc, status);
        if (serv) {
            serv->total_proc--;
            if (proc->avail)
                serv->avail_proc--;
            if (!master_stopping) {
                /* As Postfix: only a child that failed before its first
                 * client makes the service pause (a crash loop); one that
                 * served and then died is replaced on demand at once. */
                if (failed && !proc->served && !serv->throttled) {
                    msg_warn("%s: bad command startup -- throttling", proc->path);
                    master_throttle(serv);
                } else if (!failed) {
                    serv->failures = 0;
                }
                master_avail_update(serv);
                if (failed && !serv->throttled)
                    master_wakeup_crashed(serv);
            }
        }
        xfree(proc->path);
        xfree(proc);
    }
}

/* master_retire_children - detach a service's children from it; signal them */
void master_retire_children(MASTER_SERV *serv, int signo)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next) {
        if (proc->serv != serv)
            continue;
        proc->serv = NULL;
        proc->avail = 0;
        if (signo && kill(proc->pid, signo) < 0 && errno != ESRCH)
            msg_warn("kill %ld: %m", (long) proc->pid);
    }
    serv->total_proc = serv->avail_proc = 0;
}

/* master_kill_all - signal every child, current or retired */
void master_kill_all(int signo)
{
    MASTER_PROC *proc;

    for (proc = master_procs; proc; proc = proc->next)
        (void) kill(proc->pid, signo);
}

/* master_serv_free - stop everything a service holds and forget it */
void master_serv_free(MASTER_SERV *serv)
{
    master_cancel_throttle(serv);
    master_wakeup_stop(serv);
    master_listen_close(serv);
    master_status_close(serv);
    master_free_argv(serv->argv);
    xfree(serv->name);
    xfree(serv->endpoint);
    xfree(serv->text);
    xfree(serv->path);
    xfree(serv);
}
