/*
 * NAME
 *      master - the surel supervisor
 * SYNOPSIS
 *      master [-c config_dir] [-f] [-v]
 * DESCRIPTION
 *      The master reads master.cf, opens the listening endpoint of every
 *      service (inet sockets, unix sockets under private/ and public/,
 *      fifos) and starts the service's daemon on demand: when a client
 *      waits and no process of the service is idle, up to maxproc
 *      processes. Each daemon gets its listeners and a status pipe on
 *      fixed descriptors (master_proto.h) and is exec'd as
 *          $daemon_directory/<command> -c <config_dir> -n <service>
 *              -t <type> -g <generation> -s <listeners> [-u] [-r] [-v]
 *              [-o name=value ...] [master.cf arguments]
 *      A daemon that fails (non-zero exit, signal) suspends its service for
 *      a delay that doubles up to service_throttle_time. Services with a
 *      wakeup time get the trigger byte W every so many seconds.
 *
 *      Without -f the master detaches (fork, setsid, stdio to /dev/null);
 *      the command that started it exits 0 only once the master holds the
 *      pid lock and has opened every listener, and otherwise prints the
 *      reason and exits 1. -f keeps it in the foreground and logs to
 *      stderr too. -v logs debug lines (and passes -v to daemons).
 *
 *      Signals: SIGHUP re-reads main.cf and master.cf (unchanged services
 *      keep their listeners; their daemons are replaced as they become
 *      idle). SIGTERM (and SIGINT) stops listening, sends SIGTERM to every
 *      daemon, SIGKILL to those left after 5 seconds, and exits 0.
 * SECURITY
 *      Run as root, the master binds privileged ports and creates the
 *      sockets; it never reads network input. Daemons whose unpriv column
 *      is y are told (-u) to drop to mail_owner, those whose chroot column
 *      is y (-r) to chroot to queue_directory; the daemon skeleton does
 *      both right after start, checked. Run as another user (sandbox
 *      mode), everything runs as that user and the two columns have no
 *      effect. One master per instance: it holds an exclusive lock on
 *      $queue_directory/$process_id_directory/master.pid.
 * FILES
 *      $config_directory/main.cf, $config_directory/master.cf,
 *      $queue_directory/pid/master.pid, $queue_directory/{private,public}/
 * CONFIGURATION PARAMETERS
 *      queue_directory, daemon_directory, process_id_directory,
 *      default_process_limit (100), service_throttle_time (60s),
 *      inet_interfaces (all), inet_protocols (all), import_environment,
 *      maillog_file (empty: syslog), syslog_name (surel: lines read
 *      surel/master[pid]). Daemons read max_use (100), max_idle (100s),
 *      daemon_timeout (18000s) and syslog_name (with their -o overrides).
 *      At start and on reload the master warns once about each parameter
 *      that main.cf or a -o sets but surel does not implement (params.def
 *      PARAM_UNIMPL: "parameter X is not implemented and is ignored").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "event.h"
#include "master.h"
#include "mem.h"
#include "msg.h"
#include "pidlock.h"

#define MASTER_STOP_GRACE_MS    5000    /* SIGTERM, then SIGKILL after this */
#define MASTER_READY            '\006'  /* last byte on the start-up pipe */
#define MASTER_START_TEXT_MAX   65536   /* start-up messages kept at most */
#define MASTER_LOG_RETRY_MS     50      /* queued log lines: try the socket again */

const char *master_config_dir;
int     master_stopping;
int     master_privileged;

/* master_usage - how to call us */
static void __attribute__((noreturn)) master_usage(void)
{
    msg_fatal("usage: master [-c config_dir] [-f] [-v]");
}

/* master_wait_ready - the start-up parent: relay the child's verdict.
 * The child's stderr is the pipe until it is ready; everything it logged
 * until then is printed here, and the last byte says whether it made it. */
static void __attribute__((noreturn)) master_wait_ready(int fd)
{
    BUF    *text = buf_alloc(1000);
    char    chunk[4096];
    ssize_t n;
    int     ready;

    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (buf_len(text) < MASTER_START_TEXT_MAX)
            buf_append(text, chunk, (size_t) n);
    }
    ready = buf_len(text) > 0 && buf_str(text)[buf_len(text) - 1] == MASTER_READY;
    if (ready)
        buf_truncate(text, buf_len(text) - 1);
    else if (buf_len(text) == 0)
        buf_puts(text, "surel/master: fatal: the master exited during start-up\n");
    (void) !write(STDERR_FILENO, buf_str(text), buf_len(text));
    _exit(ready ? 0 : 1);
}

/* master_detach - leave the terminal; stderr stays a pipe to the parent */
static void master_detach(void)
{
    int     fds[2];
    int     null;
    pid_t   pid;

    if (pipe2(fds, O_CLOEXEC) < 0)
        msg_fatal("pipe: %m");
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid > 0) {
        close(fds[1]);
        master_wait_ready(fds[0]);
    }
    close(fds[0]);
    if (setsid() < 0)
        msg_fatal("setsid: %m");
    if ((null = open("/dev/null", O_RDWR)) < 0)
        msg_fatal("open /dev/null: %m");
    if (dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0
        || dup2(fds[1], STDERR_FILENO) < 0)
        msg_fatal("dup2: %m");
    if (null > STDERR_FILENO)
        close(null);
    close(fds[1]);
}

/* master_ready - start-up is over: release the parent, drop stderr */
static void master_ready(int foreground)
{
    static const char ready[1] = {MASTER_READY};
    int     null;

    if (foreground)
        return;
    (void) !write(STDERR_FILENO, ready, sizeof(ready));
    if ((null = open("/dev/null", O_RDWR)) >= 0) {
        (void) dup2(null, STDERR_FILENO);
        if (null != STDERR_FILENO)
            close(null);
    }
    msg_set_stderr(0);
}

/* master_lock - one master per instance */
static void master_lock(void)
{
    const char *dir = config_str(P_process_id_directory);
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    pid_t   holder;

    buf_sprintf(path, "%s/master.pid", dir);
    /* The descriptor stays open (close-on-exec) for the master's life. */
    if (pidlock_acquire(buf_str(path), &holder, why) < 0) {
        if (holder > 0)
            msg_fatal("the mail system is already running: master pid %ld holds the lock on %s/%s",
                      (long) holder, config_str(P_queue_directory), buf_str(path));
        msg_fatal("cannot lock the pid file: %s", buf_str(why));
    }
    buf_free(path);
    buf_free(why);
}

/* master_stop_now - the grace time is over: kill, reap, exit */
static void __attribute__((noreturn)) master_stop_now(void)
{
    MASTER_PROC *proc;
    int     status;

    MASTER_SERV *serv;

    master_kill_all(SIGKILL);
    while ((proc = master_procs) != NULL) {
        master_procs = proc->next;
        while (waitpid(proc->pid, &status, 0) < 0 && errno == EINTR)
             /* void */ ;
        xfree(proc->path);
        xfree(proc);
    }
    /* The daemons' last lines, still in the postlog socket, then ours. */
    for (serv = master_services; serv; serv = serv->next) {
        master_listen_drain(serv);
        master_listen_close(serv);
    }
    (void) msg_set_logservice(NULL, NULL, 0);
    msg_info("stopped");
    exit(0);
}

/* master_stop_timeout - timer: children that ignored SIGTERM */
static void master_stop_timeout(int event, void *context)
{
    (void) event;
    (void) context;
    if (master_procs)
        msg_warn("killing the processes left after %d seconds", MASTER_STOP_GRACE_MS / 1000);
    master_stop_now();
}

/* master_child_event - SIGCHLD: reap; when stopping, leave with the last one */
static void master_child_event(int signo, void *context)
{
    master_reap(signo, context);
    if (master_stopping && master_procs == NULL)
        master_stop_now();
}

/* master_stop - SIGTERM/SIGINT: stop listening, end every child */
static void master_stop(int signo, void *context)
{
    MASTER_SERV *serv;

    (void) context;
    if (master_stopping)
        return;
    msg_info("terminating on signal %d", signo);
    master_stopping = 1;
    for (serv = master_services; serv; serv = serv->next) {
        master_cancel_throttle(serv);
        master_wakeup_stop(serv);
        /* A datagram socket (postlog) stays until the children are gone:
         * their last log lines wait in it (master_stop_now). */
        if (serv->type == MASTER_UNIX_DGRAM)
            master_listen_quiet(serv);
        else
            master_listen_close(serv);
        master_status_close(serv);
    }
    if (master_procs == NULL)
        master_stop_now();
    master_kill_all(SIGTERM);
    event_request_timer(master_stop_timeout, NULL, MASTER_STOP_GRACE_MS);
}

/* master_hangup - SIGHUP: reload */
static void master_hangup(int signo, void *context)
{
    (void) signo;
    (void) context;
    if (master_stopping)
        return;
    msg_info("reload -- configuration %s", master_config_dir);
    master_reload();
}

/* master_choose_dir - the configuration folder, absolute (daemons chdir away) */
static const char *master_choose_dir(const char *opt_dir)
{
    const char *dir = config_choose_dir(opt_dir);
    char    resolved[PATH_MAX];

    if (dir[0] == '/')
        return xstrdup(dir);
    if (realpath(dir, resolved) == NULL)
        msg_fatal("configuration folder %s: %m", dir);
    return xstrdup(resolved);
}

int     main(int argc, char **argv)
{
    const char *opt_dir = NULL;
    int     foreground = 0;
    BUF    *why = buf_alloc(100);
    int     ch;

    msg_init("master", MSG_TO_SYSLOG | MSG_TO_STDERR);
    umask(022);
    while ((ch = getopt(argc, argv, "c:fv")) != -1) {
        switch (ch) {
        case 'c':
            opt_dir = optarg;
            break;
        case 'f':
            foreground = 1;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            master_usage();
        }
    }
    if (optind != argc)
        master_usage();
    if (!foreground)
        master_detach();

    master_config_dir = master_choose_dir(opt_dir);
    master_privileged = geteuid() == 0;
    master_config_load();
    if (!master_privileged)
        msg_debug("running as uid %ld (sandbox mode): master.cf unpriv and chroot "
                  "columns have no effect", (long) geteuid());
    master_lock();
    if (master_services_read(&master_services, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);

    signal(SIGPIPE, SIG_IGN);
    event_signal(SIGCHLD, master_child_event, NULL);
    event_signal(SIGHUP, master_hangup, NULL);
    event_signal(SIGTERM, master_stop, NULL);
    event_signal(SIGINT, master_stop, NULL);
    master_services_start();
    master_ready(foreground);
    msg_info("daemon started -- configuration %s", master_config_dir);

    /* Log lines the postlog socket could not take yet (msg.c) are sent
     * again every MASTER_LOG_RETRY_MS until they are gone. */
    for (;;) {
        event_loop(msg_service_pending() ? MASTER_LOG_RETRY_MS : -1);
        msg_service_flush();
    }
}
