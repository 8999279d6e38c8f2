/* server - what every daemon flavour shares: argv, configuration, the
 * privilege drop, the status pipe to the master, idle and use limits and
 * the watchdog. See server.h for the order of events; the flavours live
 * in server_single.c, server_multi.c and server_trigger.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "dict_proxy.h"
#include "maillog.h"
#include "master_proto.h"
#include "mem.h"
#include "msg.h"
#include "server_private.h"

SERVER_STATE server_state;

static const SERVER_HOOKS server_no_hooks;
static EVENT_FN server_on_retire;      /* flavour's reaction to a retired generation */

/* server_usage - the daemon was not started the way master starts it */
static void __attribute__((noreturn)) server_usage(const char *prog)
{
    msg_fatal("usage: %s -c config_dir -n service -t type [-g generation] "
              "[-s listeners] [-u] [-r] [-v] [-o name=value ...] [args]", prog);
}

/* server_check_fd - an inherited descriptor must be open; keep it from exec'd children */
static void server_check_fd(int fd, const char *what)
{
    int     flags = fcntl(fd, F_GETFD);

    if (flags < 0)
        msg_fatal("%s descriptor %d is not open: was this daemon started by master?",
                  what, fd);
    if (fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        msg_fatal("fcntl %d: %m", fd);
}

/* server_parse_long - a bounded non-negative number from argv */
static long server_parse_long(const char *text, const char *what, long max)
{
    char   *end;
    long    value;

    errno = 0;
    value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < 0 || value > max)
        msg_fatal("bad %s: '%s'", what, text);
    return value;
}

/* server_drop_privileges - chroot and become mail_owner (or the account
 * hooks->owner names), as master asked.
 *
 * The account is looked up before chroot (the passwd file is outside
 * the jail). The order setgroups, setgid, setuid matters: once the uid is
 * gone we could no longer change groups. Every step is checked, and at
 * the end we verify that neither the ids nor the way back to root remain. */
static void server_drop_privileges(int do_chroot, int do_unpriv)
{
    const char *queue_dir = config_str(P_queue_directory);
    const char *owner = server_state.hooks->owner ? server_state.hooks->owner()
        : config_str(P_mail_owner);
    const char *label = server_state.hooks->owner ? "the daemon's" : "mail_owner";
    struct passwd *pw;
    uid_t   uid = 0;
    gid_t   gid = 0;

    if (do_unpriv) {
        if ((pw = getpwnam(owner)) == NULL)
            msg_fatal("%s account '%s' does not exist", label, owner);
        if (pw->pw_uid == 0 || pw->pw_gid == 0)
            msg_fatal("%s account '%s' has root privileges", label, owner);
        uid = pw->pw_uid;
        gid = pw->pw_gid;
    }
    if (do_chroot) {
        if (chroot(queue_dir) < 0)
            msg_fatal("chroot %s: %m", queue_dir);
        if (chdir("/") < 0)
            msg_fatal("chdir / in %s: %m", queue_dir);
    }
    if (do_unpriv) {
        if (setgroups(1, &gid) < 0)
            msg_fatal("setgroups %ld: %m", (long) gid);
        if (setgid(gid) < 0)
            msg_fatal("setgid %ld: %m", (long) gid);
        if (setuid(uid) < 0)
            msg_fatal("setuid %ld: %m", (long) uid);
        if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
            msg_fatal("privilege drop to %s did not take effect", owner);
        if (setuid(0) == 0)
            msg_fatal("privilege drop to %s can be undone", owner);
    }
}

/* server_log_open - maillog_file through the postlog socket, or the file.
 *
 * With a postlog service (the master bound public/$postlog_service_name)
 * every line goes there and the daemon never opens the file: postlogd is
 * its one writer and follows `surel logrotate`. The path is relative to
 * queue_directory, our working folder, so that it also names the socket
 * inside a chroot (were a new master to make a new one). Without the
 * service the daemon appends to the file itself, opened now while it may
 * still have root (as before postlogd existed). postlogd (log_self)
 * writes the file itself. */
static void server_log_open(void)
{
    const char *file = config_str(P_maillog_file);
    BUF    *sock;
    struct stat st;

    if (*file == 0)
        return;
    sock = buf_alloc(100);
    maillog_socket(sock);
    if (!server_state.hooks->log_self && lstat(buf_str(sock), &st) == 0
        && S_ISSOCK(st.st_mode) && msg_set_logservice(buf_str(sock), file, 0) == 0) {
        buf_free(sock);
        return;
    }
    (void) msg_set_logservice(NULL, NULL, 0);
    buf_free(sock);
    if (msg_set_logfile(file) < 0)
        msg_fatal("open maillog_file %s: %m", file);
}

/* server_set_watchdog - a daemon's own watchdog time (postlogd's
 * postlogd_watchdog_timeout instead of daemon_timeout) */
void server_set_watchdog(long seconds)
{
    server_state.daemon_timeout = seconds;
}

/* server_status_event - the master closed the status pipe (reload or stop) */
static void server_status_event(int event, void *context)
{
    (void) context;
    (void) event;
    /* The write end never has data to read: any event on it is an error
     * or hang-up condition. Stop watching it, or it fires forever. */
    event_disable_readwrite(MASTER_STATUS_FD);
    server_state.retired = 1;
    msg_debug("master closed the status pipe: retiring");
    server_on_retire(event, context);
}

/* server_init - everything from argv to the first client */
void server_init(int argc, char **argv, const SERVER_HOOKS *hooks, EVENT_FN on_retire)
{
    const char *config_dir = NULL;
    int     do_chroot = 0;
    int     do_unpriv = 0;
    int     verbose = 0;
    int     noverrides = 0;
    char  **overrides = xcalloc((size_t) argc + 1, sizeof(char *));
    BUF    *why = buf_alloc(100);
    int     ch;
    int     i;

    signal(SIGPIPE, SIG_IGN);
    msg_init(argv[0], MSG_TO_SYSLOG);
    msg_set_stderr(0);
    memset(&server_state, 0, sizeof(server_state));
    server_state.hooks = hooks ? hooks : &server_no_hooks;
    server_state.nlisten = 1;
    server_on_retire = on_retire;

    opterr = 0;
    while ((ch = getopt(argc, argv, "+" MASTER_DAEMON_OPTIONS)) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'n':
            server_state.ctx.service = optarg;
            break;
        case 't':
            server_state.ctx.type = optarg;
            break;
        case 'g':
            server_state.gen = (unsigned) server_parse_long(optarg, "generation", UINT_MAX);
            break;
        case 's':
            server_state.nlisten = (int) server_parse_long(optarg, "listener count",
                                                           MASTER_LISTEN_MAX);
            break;
        case 'u':
            do_unpriv = 1;
            break;
        case 'r':
            do_chroot = 1;
            break;
        case 'o':
            overrides[noverrides++] = optarg;
            break;
        case 'v':
            verbose++;
            break;
        default:
            server_usage(argv[0]);
        }
    }
    if (server_state.ctx.service == NULL || server_state.ctx.type == NULL
        || server_state.nlisten < 1)
        server_usage(argv[0]);
    server_state.ctx.argc = argc - optind;
    server_state.ctx.argv = argv + optind;

    /* Configuration: main.cf, then this service's -o overrides. */
    config_init(config_dir);
    config_override(config_param_info(P_service_name)->name, server_state.ctx.service);
    for (i = 0; i < noverrides; i++)
        if (config_override_arg(overrides[i], why) < 0)
            msg_fatal("bad -o %s: %s", overrides[i], buf_str(why));
    xfree(overrides);
    buf_free(why);
    /* Read now what a value names in a file (myorigin = /etc/mailname),
     * before a chroot hides the file (config_expand.c keeps it). */
    (void) config_str(P_myorigin);
    msg_set_name(config_str(P_syslog_name));
    msg_verbose += verbose;

    server_check_fd(MASTER_STATUS_FD, "status pipe");
    for (i = 0; i < server_state.nlisten; i++)
        server_check_fd(MASTER_LISTEN_FD + i, "listener");
    server_state.max_use = server_state.hooks->unlimited ? 0 : config_int(P_max_use);
    server_state.max_idle = server_state.hooks->unlimited ? 0 : config_time(P_max_idle);
    server_state.daemon_timeout = config_time(P_daemon_timeout);

    /* The privilege checklist: acquire, jail, drop, verify, then serve. */
    if (chdir(config_str(P_queue_directory)) < 0)
        msg_fatal("chdir %s: %m", config_str(P_queue_directory));
    /* NSS does not work in the jail: unix: tables go through proxymap. */
    if (do_chroot)
        dict_redirect_type("unix", &dict_proxy_type);
    server_log_open();
    if (server_state.hooks->pre_init)
        server_state.hooks->pre_init(&server_state.ctx);
    server_drop_privileges(do_chroot, do_unpriv);
    if (server_state.hooks->post_init)
        server_state.hooks->post_init(&server_state.ctx);
    server_confine(server_state.hooks->confine, do_chroot);

    event_enable_read(MASTER_STATUS_FD, server_status_event, NULL);
    msg_debug("service %s type %s generation %u: ready, max_use=%ld max_idle=%ld",
              server_state.ctx.service, server_state.ctx.type, server_state.gen,
              server_state.max_use, server_state.max_idle);
}

/* server_notify - tell the master we are busy or idle again */
void server_notify(int status)
{
    MASTER_STATUS rec;

    if (server_state.retired)
        return;                         /* nobody listens any more */
    memset(&rec, 0, sizeof(rec));
    rec.pid = msg_pid();
    rec.gen = server_state.gen;
    rec.status = status;
    /* One record, smaller than PIPE_BUF: the write is atomic or fails. */
    if (write(MASTER_STATUS_FD, &rec, sizeof(rec)) != (ssize_t) sizeof(rec)) {
        msg_debug("status pipe write: %m");
        server_state.retired = 1;
    }
}

/* server_unlisten - take no more clients */
void server_unlisten(void)
{
    int     i;

    for (i = 0; i < server_state.nlisten; i++)
        event_disable_readwrite(MASTER_LISTEN_FD + i);
}

/* server_idle_timeout - nothing to do for max_idle seconds */
static void server_idle_timeout(int event, void *context)
{
    (void) event;
    (void) context;
    msg_debug("idle for %lds: exiting", server_state.max_idle);
    server_exit();
}

/* server_idle_start - begin counting idle time */
void server_idle_start(void)
{
    if (server_state.max_idle > 0)
        event_request_timer(server_idle_timeout, NULL, server_state.max_idle * 1000);
}

/* server_idle_stop - work arrived */
void server_idle_stop(void)
{
    event_cancel_timer(server_idle_timeout, NULL);
}

/* server_use_exhausted - served max_use clients, or a table changed that
 * only a fresh process can reopen (see dict_note_changed)? */
int server_use_exhausted(void)
{
    static int changed_logged;

    if (dict_changed() != NULL) {
        if (!changed_logged++)
            msg_info("table %s has changed -- restarting", dict_changed());
        return 1;
    }
    return server_state.max_use > 0 && server_state.use_count >= server_state.max_use;
}

/* server_watchdog - (re)arm the deadline for the work about to start.
 * XXX alarm() has one-second resolution and a process-wide scope; it is
 * enough for a bound against a daemon stuck forever. So it is re-armed
 * at most once per second of the clock (time() is no system call, alarm()
 * is, and the loop arms it at every event): the deadline stays between
 * limit - 1 and limit seconds after the latest work began, as before. */
void server_watchdog(void)
{
    static time_t armed_at;
    static long armed_limit = -1;
    long    limit = server_state.daemon_timeout;
    time_t  now = time(NULL);

    if (now == armed_at && limit == armed_limit)
        return;
    alarm(limit > 0 && limit < (long) UINT_MAX ? (unsigned) limit : 0);
    armed_at = now;
    armed_limit = limit;
}

/* server_exit - a voluntary, clean exit */
void server_exit(void)
{
    if (server_state.hooks->pre_exit)
        server_state.hooks->pre_exit(&server_state.ctx);
    exit(0);
}

/* server_loop - run the event loop under the watchdog, forever.
 * An idle wait is bounded by half the watchdog so that waiting is never
 * mistaken for a stuck request. */
void server_loop(void)
{
    long    wait_ms = server_state.daemon_timeout * 500;

    signal(SIGALRM, SIG_DFL);
    if (wait_ms <= 0 || wait_ms > 3600 * 1000L)
        wait_ms = 3600 * 1000L;
    for (;;) {
        server_watchdog();
        event_loop(wait_ms);
    }
}
