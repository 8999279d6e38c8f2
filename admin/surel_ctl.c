/*
 * NAME
 *      surel start, stop, reload, status - control the mail system
 * SYNOPSIS
 *      surel [-c config_dir] start [-f]
 *      surel [-c config_dir] stop
 *      surel [-c config_dir] reload
 *      surel [-c config_dir] status
 * DESCRIPTION
 *      start runs what `surel check` verifies (problems are warnings),
 *      creates missing queue folders when it can, then runs
 *      `$daemon_directory/master -c config_dir`. The master detaches and
 *      its first process exits only once the instance is ready (0), or
 *      with the reason it can't start (printed on stderr, non-zero); start
 *      waits for that, with a bound. -f execs the master in the
 *      foreground instead (`master -c config_dir -f`), for ./dev-run,
 *      containers and service managers.
 *
 *      stop sends SIGTERM to the master (the process holding the pid
 *      lock, lib/util/pidlock.h) and waits until the lock is free; when the
 *      master has not gone after STOP_WAIT seconds, it kills the master's
 *      process group with SIGKILL, as `postfix stop` does.
 *      reload sends SIGHUP: the master re-reads main.cf and master.cf.
 *      status says "the surel mail system is running: PID: N" (exit 0)
 *      or "the surel mail system is not running" (exit 1), then how many
 *      messages each queue holds ("queue: 0 maildrop, 2 incoming, ...")
 *      when the caller may read the queue folders.
 *
 *      As with Postfix, start on a running system and stop or reload on a
 *      stopped one are fatal errors (exit 1).
 * SECURITY
 *      start, stop and reload need the instance owner's rights (root for
 *      a system instance); status works for anyone who can read the
 *      configuration and the pid file. No shell is run: the master is
 *      exec'd with an argv list.
 * PARAMETERS READ
 *      queue_directory, process_id_directory (master.pid under it),
 *      daemon_directory, maillog_file (start, stop and reload are logged
 *      there too), and what `surel check` reads.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "pidlock.h"
#include "surel.h"
#include "surel_check.h"

#define START_WAIT  60              /* seconds for the master to report readiness */
#define STOP_WAIT   15              /* seconds for the master to stop after SIGTERM */
#define KILL_WAIT   5               /* seconds for the lock to go after SIGKILL */
#define POLL_MS     50

/* ctl_load - read main.cf; with logging, also log to maillog_file */
static void ctl_load(int logging)
{
    const char *log;

    config_init(surel_config_dir);
    log = config_str(P_maillog_file);
    /* A log that can't be opened costs the log line, not the command. */
    if (logging && *log && maillog_client(1) < 0)
        msg_debug("cannot open %s: %m", log);
    /* Lines it logs read like the daemons' ($syslog_name/surel), as
     * postfix-script's do (postfix/postfix-script: starting ...). */
    if (logging)
        msg_set_name(config_str(P_syslog_name));
}

/* ctl_pid_path - $queue_directory/$process_id_directory/master.pid */
static char *ctl_pid_path(void)
{
    const char *pid_dir = config_str(P_process_id_directory);
    BUF    *path = buf_alloc(256);

    if (*pid_dir == '/')
        buf_sprintf(path, "%s/master.pid", pid_dir);
    else
        buf_sprintf(path, "%s/%s/master.pid", config_str(P_queue_directory), pid_dir);
    return buf_steal(path);
}

/* ctl_probe - the running master's pid, or 0; fatal when we can't tell */
static pid_t ctl_probe(void)
{
    char   *path = ctl_pid_path();
    BUF    *why = buf_alloc(128);
    pid_t   pid;
    int     status = pidlock_probe(path, &pid, why);

    if (status < 0)
        msg_fatal("cannot tell whether the mail system runs: %s", buf_str(why));
    if (status == 1 && pid <= 1)
        msg_fatal("%s: locked, but holds no valid pid", path);
    xfree(path);
    buf_free(why);
    return status == 1 ? pid : 0;
}

/* ctl_sleep_ms - a short pause between polls of a condition */
static void ctl_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
         /* continue */ ;
}

/* ctl_config_dir - the configuration folder as an absolute path, for master's argv */
static char *ctl_config_dir(void)
{
    char    real[PATH_MAX];
    const char *dir = config_choose_dir(surel_config_dir);

    if (realpath(dir, real) == NULL)
        msg_fatal("%s: %m", dir);
    return xstrdup(real);
}

/* ctl_no_args - verbs without options or arguments */
static void ctl_no_args(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: surel %s\n", argv[0]);
        exit(2);
    }
}

/* ctl_wait_master - wait, bounded, for the detaching master's first process */
static int ctl_wait_master(pid_t child)
{
    time_t  deadline = time(NULL) + START_WAIT;
    int     status;
    pid_t   got;

    for (;;) {
        got = waitpid(child, &status, WNOHANG);
        if (got == child)
            break;
        if (got < 0 && errno != EINTR)
            msg_fatal("waitpid: %m");
        if (time(NULL) > deadline) {
            kill(child, SIGTERM);
            msg_fatal("mail system startup failed: the master did not report "
                      "within %d seconds", START_WAIT);
        }
        ctl_sleep_ms(POLL_MS);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    msg_warn("the master was killed by signal %d", WTERMSIG(status));
    return 1;
}

/* surel_start_args - `start [-f]`; 0, or -1 + why */
int     surel_start_args(int argc, char **argv, int *foreground, BUF *why)
{
    int     ch;

    *foreground = 0;
    optind = 0;
    while ((ch = getopt(argc, argv, "f")) != -1) {
        if (ch != 'f') {
            buf_sprintf(why, "usage: surel start [-f]");
            return -1;
        }
        *foreground = 1;
    }
    if (optind != argc) {
        buf_sprintf(why, "usage: surel start [-f]");
        return -1;
    }
    return 0;
}

/* surel_start_main - the `surel start [-f]` verb */
int surel_start_main(int argc, char **argv)
{
    char   *master;
    char   *config_dir;
    pid_t   pid;
    int     foreground;
    BUF    *why = buf_alloc(100);

    if (surel_start_args(argc, argv, &foreground, why) < 0) {
        fprintf(stderr, "%s\n", buf_str(why));
        return 2;
    }
    buf_free(why);
    ctl_load(1);
    if ((pid = ctl_probe()) != 0)
        msg_fatal("the surel mail system is already running: PID: %ld", (long) pid);
    /* What check verifies is worth a warning; missing folders are made. */
    (void) surel_check_run(MAIL_QUEUE_CREATE | SUREL_CHECK_NO_PARAM_WARNINGS);
    master = surel_master_path();
    if (access(master, X_OK) < 0)
        msg_fatal("no surel master program %s", master);
    config_dir = ctl_config_dir();
    msg_info("starting the surel mail system");
    if (foreground) {
        char   *args[] = {master, "-c", config_dir, "-f", NULL};

        execv(master, args);
        msg_fatal("cannot exec %s: %m", master);
    }
    if ((pid = fork()) < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        char   *args[] = {master, "-c", config_dir, NULL};

        execv(master, args);
        msg_warn("cannot exec %s: %m", master);
        _exit(1);
    }
    if (ctl_wait_master(pid) != 0)
        msg_fatal("mail system startup failed");
    xfree(master);
    xfree(config_dir);
    return 0;
}

/* ctl_wait_stopped - poll the lock until it is free or the deadline passes */
static int ctl_wait_stopped(int seconds, int say_waiting)
{
    time_t  start = time(NULL);
    time_t  said = start;

    while (ctl_probe() != 0) {
        if (time(NULL) - start >= seconds)
            return 0;
        if (say_waiting && time(NULL) - said >= 2) {
            msg_info("waiting for the surel mail system to terminate");
            said = time(NULL);
        }
        ctl_sleep_ms(POLL_MS);
    }
    return 1;
}

/* surel_stop_main - the `surel stop` verb */
int surel_stop_main(int argc, char **argv)
{
    pid_t   pid;

    ctl_no_args(argc, argv);
    ctl_load(1);
    if ((pid = ctl_probe()) == 0)
        msg_fatal("the surel mail system is not running");
    msg_info("stopping the surel mail system");
    if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
        msg_fatal("kill %ld: %m", (long) pid);
    if (ctl_wait_stopped(STOP_WAIT, 1))
        return 0;
    /* The master runs in a process group of its own (setsid): take its
     * children with it. */
    msg_warn("stopping the surel mail system with force");
    if (kill(-pid, SIGKILL) < 0)
        (void) kill(pid, SIGKILL);
    if (!ctl_wait_stopped(KILL_WAIT, 0))
        msg_fatal("the master (PID %ld) did not stop", (long) pid);
    return 0;
}

/* surel_reload_main - the `surel reload` verb */
int surel_reload_main(int argc, char **argv)
{
    pid_t   pid;

    ctl_no_args(argc, argv);
    ctl_load(1);
    if ((pid = ctl_probe()) == 0)
        msg_fatal("the surel mail system is not running");
    msg_info("refreshing the surel mail system");
    if (kill(pid, SIGHUP) < 0)
        msg_fatal("kill -HUP %ld: %m", (long) pid);
    return 0;
}

/* ctl_queue_counts - how many messages each queue holds, when we may look */
static void ctl_queue_counts(void)
{
    BUF    *counts = buf_alloc(128);

    if (surel_queue_counts(config_str(P_queue_directory), counts) == 0)
        msg_info("queue: %s", buf_str(counts));
    else
        msg_info("queue: not readable by this user (root or the queue owner can see counts)");
    buf_free(counts);
}

/* surel_status_main - the `surel status` verb */
int surel_status_main(int argc, char **argv)
{
    pid_t   pid;

    ctl_no_args(argc, argv);
    ctl_load(0);
    if ((pid = ctl_probe()) == 0) {
        msg_info("the surel mail system is not running");
        ctl_queue_counts();
        return 1;
    }
    msg_info("the surel mail system is running: PID: %ld", (long) pid);
    ctl_queue_counts();
    return 0;
}
