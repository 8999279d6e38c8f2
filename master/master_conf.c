/* master_conf - main.cf and master.cf for the master: load, start, reload.
 *
 * On SIGHUP both files are read again. A service whose endpoint (type and
 * socket or addresses) is unchanged keeps its listeners, so clients never
 * see a refused connection; its children are retired (their status pipe
 * is closed, they exit once idle) and new ones, started on demand, read
 * the new main.cf. Services no longer in master.cf lose their listeners
 * and their children get SIGTERM; new services are started.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "maillog.h"
#include "master.h"
#include "mem.h"
#include "msg.h"

MASTER_SERV *master_services;
char  **master_env;

/* master_env_build - the children's environment, from import_environment */
static void master_env_build(void)
{
    int     count;
    char  **list = config_split_list(config_str(P_import_environment), &count);
    const char *value;
    BUF    *item = buf_alloc(100);
    int     n = 0;
    int     i;

    if (master_env) {
        for (i = 0; master_env[i]; i++)
            xfree(master_env[i]);
        xfree(master_env);
    }
    master_env = xcalloc((size_t) count + 1, sizeof(char *));
    for (i = 0; i < count; i++) {
        if (strchr(list[i], '=')) {
            master_env[n++] = xstrdup(list[i]);
        } else if ((value = getenv(list[i])) != NULL) {
            buf_sprintf(item, "%s=%s", list[i], value);
            master_env[n++] = xstrdup(buf_str(item));
        }
    }
    master_env[n] = NULL;
    buf_free(item);
    config_free_list(list);
}

/* master_config_load - read main.cf (fatal on error), set up logging */
void master_config_load(void)
{
    const char *logfile;
    BUF    *why = buf_alloc(100);

    config_init(master_config_dir);
    msg_set_name(config_str(P_syslog_name));
    master_owner_init();
    logfile = config_str(P_maillog_file);
    if (*logfile && !maillog_file_allowed(logfile, why))
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    if (*logfile && msg_set_logfile(logfile) < 0)
        msg_fatal("open maillog_file %s: %m", logfile);
    if (*logfile == 0)
        (void) msg_set_logfile(NULL);   /* a reload removed it: syslog again */
    master_env_build();
    /* Once per start and reload: main.cf asks for something surel ignores. */
    (void) config_warn_unimplemented(NULL, NULL);
    if (chdir(config_str(P_queue_directory)) < 0)
        msg_fatal("chdir %s: %m", config_str(P_queue_directory));
}

/* master_log_service - log through the postlog service when there is one.
 *
 * Once the postlog socket is bound, the master's own lines go there too,
 * behind those of the daemons, so postlogd is the one writer of
 * maillog_file. The master never waits on it (it is the one that starts
 * postlogd): a line the socket cannot take yet waits in memory (msg.c),
 * the loop in master.c sends it later. Before the socket exists (start-up)
 * and after it is gone (stop, or no postlog line in master.cf), the master
 * writes the file itself, following a rotation (logwriter.h). */
void master_log_service(void)
{
    const char *file = config_str(P_maillog_file);
    const char *name = config_str(P_postlog_service_name);
    MASTER_SERV *serv;

    for (serv = master_services; serv; serv = serv->next)
        if (serv->type == MASTER_UNIX_DGRAM && !serv->private_ && serv->unix_path
            && strcmp(serv->name, name) == 0)
            break;
    if (*file == 0 || serv == NULL) {
        (void) msg_set_logservice(NULL, NULL, 0);
        return;
    }
    if (msg_set_logservice(serv->unix_path, file, MSG_SERVICE_NONBLOCK) < 0)
        msg_warn("postlog service %s: %m: writing %s directly", serv->unix_path, file);
}

/* master_serv_create - a service from a master.cf entry, not yet started */
static MASTER_SERV *master_serv_create(const MASTER_ENT *ent, char *endpoint)
{
    MASTER_SERV *serv = xcalloc(1, sizeof(*serv));
    BUF    *path = buf_alloc(100);
    int     n = 0;
    int     i;

    serv->name = xstrdup(ent->name);
    serv->type = ent->type;
    serv->endpoint = endpoint;
    serv->text = xstrdup(ent->text ? ent->text : "");
    serv->private_ = ent->private_;
    serv->unpriv = ent->unpriv;
    serv->chroot = ent->chroot;
    serv->wakeup = ent->wakeup;
    serv->wakeup_on_use = ent->wakeup_on_use;
    serv->maxproc = ent->maxproc;
    serv->status_rd = serv->status_wr = -1;
    serv->program_ok = mastercf_program(ent->argv[0], config_str(P_daemon_directory), path);
    serv->path = buf_steal(path);
    /* The tail of the child's argv: -o overrides, then the arguments. */
    serv->argv = xcalloc((size_t) (2 * ent->noverrides + ent->argc + 1), sizeof(char *));
    for (i = 0; i < ent->noverrides; i++) {
        serv->argv[n++] = xstrdup("-o");
        serv->argv[n++] = xstrdup(ent->overrides[i]);
    }
    for (i = 1; i < ent->argc; i++)
        serv->argv[n++] = xstrdup(ent->argv[i]);
    serv->argv[n] = NULL;
    return serv;
}

/* master_program_ok - does the service's program exist? A missing one is
 * the administrator's configuration error: say so plainly, every start
 * and reload, and leave that service out rather than crash-loop it (or
 * refuse to run the services that work). `surel check` reports it too. */
static int master_program_ok(const MASTER_SERV *serv, const char *master_cf, int lineno,
                             const char *command)
{
    const char *builtin;

    if (serv->program_ok)
        return 1;
    /* A Postfix daemon whose work surel does elsewhere: one line, no warning. */
    if ((builtin = mastercf_builtin(command)) != NULL) {
        msg_info("%s line %d: service %s/%s: not started: %s %s", master_cf, lineno,
                 serv->name, mastercf_type_name(serv->type), command, builtin);
        return 0;
    }
    if ((builtin = mastercf_absent(command)) != NULL) {
        msg_warn("%s line %d: service %s/%s: not started: %s", master_cf, lineno,
                 serv->name, mastercf_type_name(serv->type), builtin);
        return 0;
    }
    msg_warn("%s line %d: service %s/%s: no program %s: the service is not started "
             "(install the program, or comment the service out)", master_cf, lineno,
             serv->name, mastercf_type_name(serv->type), serv->path);
    return 0;
}

/* master_warn_overrides - a -o that sets a parameter surel ignores */
static void master_warn_overrides(const MASTER_ENT *ent, const char *master_cf)
{
    BUF    *where = buf_alloc(100);
    int     i;

    buf_sprintf(where, "%s line %d: service %s", master_cf, ent->lineno, ent->name);
    for (i = 0; i < ent->noverrides; i++)
        (void) config_warn_unimplemented_arg(buf_str(where), ent->overrides[i]);
    buf_free(where);
}

/* master_services_read - master.cf as a list of services; -1 with why */
int master_services_read(MASTER_SERV **list, BUF *why)
{
    MASTER_CF cf;
    MASTER_SERV *head = NULL;
    MASTER_SERV **tail = &head;
    MASTER_SERV *serv;
    BUF    *path = buf_alloc(100);
    char   *endpoint;
    int     i;

    buf_sprintf(path, "%s/master.cf", master_config_dir);
    memset(&cf, 0, sizeof(cf));
    if (mastercf_read(buf_str(path), (int) config_int(P_default_process_limit), &cf, why) < 0) {
        buf_free(path);
        return -1;
    }
    for (i = 0; i < cf.count; i++) {
        const MASTER_ENT *ent = &cf.ents[i];

        if ((endpoint = master_endpoint(ent, why)) == NULL) {
            buf_printf(why, " (%s line %d)", buf_str(path), ent->lineno);
            goto bad;
        }
        for (serv = head; serv; serv = serv->next) {
            if (strcmp(serv->endpoint, endpoint) == 0) {
                buf_sprintf(why, "%s line %d: duplicate service %s/%s",
                            buf_str(path), ent->lineno, ent->name,
                            mastercf_type_name(ent->type));
                xfree(endpoint);
                goto bad;
            }
        }
        if (ent->wakeup && ent->type == MASTER_INET)
            msg_warn("%s line %d: service %s: wakeup is ignored for inet services",
                     buf_str(path), ent->lineno, ent->name);
        master_warn_overrides(ent, buf_str(path));
        serv = master_serv_create(ent, endpoint);
        if (!master_program_ok(serv, buf_str(path), ent->lineno, ent->argv[0])) {
            master_serv_free(serv);
            continue;
        }
        *tail = serv;
        tail = &serv->next;
    }
    mastercf_free(&cf);
    buf_free(path);
    *list = head;
    return 0;

bad:
    while ((serv = head) != NULL) {
        head = serv->next;
        master_serv_free(serv);
    }
    mastercf_free(&cf);
    buf_free(path);
    return -1;
}

/* master_serv_go - status pipe, listening and wakeups of a service with listeners */
static void master_serv_go(MASTER_SERV *serv)
{
    master_status_open(serv);
    master_avail_update(serv);
    master_wakeup_start(serv, serv->wakeup_on_use ? serv->wakeup * 1000L : 0);
}

/* master_services_start - open every listener (fatal on failure) and go */
void master_services_start(void)
{
    MASTER_SERV *serv;
    BUF    *why = buf_alloc(100);

    for (serv = master_services; serv; serv = serv->next)
        if (master_listen_open(serv, why) < 0)
            msg_fatal("%s", buf_str(why));
    for (serv = master_services; serv; serv = serv->next)
        master_serv_go(serv);
    master_log_service();
    buf_free(why);
}

/* master_take_over - a kept service: move the listeners from old to new */
static void master_take_over(MASTER_SERV *old, MASTER_SERV *new)
{
    int     i;

    old->throttled = 1;                 /* stop watching the listeners */
    master_avail_update(old);
    for (i = 0; i < old->nlisten; i++)
        new->listen_fd[i] = old->listen_fd[i];
    new->nlisten = old->nlisten;
    new->unix_path = old->unix_path;
    new->gen = old->gen;
    new->failures = old->failures;
    new->used = old->used;
    old->nlisten = 0;
    old->unix_path = NULL;
    /* Old children finish their client and exit when they see the pipe go. */
    master_retire_children(old, 0);
}

/* master_reload - SIGHUP: re-read main.cf and master.cf, apply the difference */
void master_reload(void)
{
    MASTER_SERV *fresh;
    MASTER_SERV *old;
    MASTER_SERV *serv;
    MASTER_SERV **pp;
    BUF    *why = buf_alloc(100);

    /* The postlog socket stays in use meanwhile: the master's lines keep
     * their order (master_log_service decides again at the end). */
    config_reset();
    master_config_load();
    if (master_services_read(&fresh, why) < 0) {
        msg_warn("%s -- keeping the old master.cf", buf_str(why));
        buf_free(why);
        return;
    }
    /* First match and remove, so that freed addresses can be bound again. */
    while ((old = master_services) != NULL) {
        master_services = old->next;
        for (serv = fresh; serv; serv = serv->next)
            if (serv->nlisten == 0 && strcmp(serv->endpoint, old->endpoint) == 0)
                break;
        if (serv) {
            master_take_over(old, serv);
        } else {
            msg_info("service %s/%s removed", old->name, mastercf_type_name(old->type));
            master_retire_children(old, SIGTERM);
        }
        master_serv_free(old);
    }
    for (pp = &fresh; (serv = *pp) != NULL;) {
        if (serv->nlisten == 0 && master_listen_open(serv, why) < 0) {
            msg_warn("%s -- service not started", buf_str(why));
            *pp = serv->next;
            master_serv_free(serv);
            continue;
        }
        master_serv_go(serv);
        pp = &serv->next;
    }
    master_services = fresh;
    master_log_service();
    buf_free(why);
}
