/*
 * NAME
 *      surel check - verify a surel instance, and repair its folders with -f
 * SYNOPSIS
 *      surel [-c config_dir] check [-f]
 * DESCRIPTION
 *      Verifies, and prints one warning per problem found:
 *
 *      - main.cf parses and every parameter has a valid value (a file that
 *        cannot be read or parsed at all is fatal); unused parameters are
 *        warned about but are not problems; so are parameters surel
 *        knows but does not implement (params.def PARAM_UNIMPL) when
 *        main.cf or a master.cf -o sets them to a value surel does not
 *        behave as ("parameter X is not implemented and is ignored"),
 *        except those whose loss weakens security (smtpd_tls_protocols,
 *        content_filter, ...): each of those is a problem;
 *      - main.cf and master.cf are not writable by group or others;
 *      - master.cf parses;
 *      - mail_owner and setgid_group exist, mail_owner is not root (and,
 *        in a root instance, setgid_group is not mail_owner's group);
 *      - each queue folder exists with the owner, group and mode of
 *        lib/global/mail_queue.c (e.g. "warning: /var/spool/surel/incoming:
 *        mode 0755, expected 0700"), and data_directory is mail_owner's
 *        and not writable by others;
 *      - daemon_directory holds master and every program master.cf names;
 *      - maillog_file, when set, is under maillog_file_prefixes (else a
 *        problem), and master.cf has its postlog service (else a warning).
 *
 *      Without -f it changes nothing. With -f it creates missing queue
 *      folders and data_directory and sets their owners and modes, as
 *      `postfix set-permissions` does; it never touches a symbolic link
 *      found where a folder should be.
 * EXIT STATUS
 *      0 when nothing is wrong (after -f: nothing is left wrong), 1 else.
 * SECURITY
 *      Read-only without -f; any user who can read the configuration may
 *      run it (owners are then judged from that user's point of view:
 *      see mail_queue_ids). -f needs the instance owner's rights.
 * PARAMETERS READ
 *      queue_directory, data_directory, daemon_directory, mail_owner,
 *      setgid_group, default_process_limit (as master.cf's default maxproc).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "mail_queue.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "surel.h"
#include "surel_check.h"

/* check_report - one problem (warning) or repair (info) from mail_queue */
static void check_report(const char *text, int fixed, void *ctx)
{
    (void) ctx;
    if (fixed)
        msg_info("%s", text);
    else
        msg_warn("%s", text);
}

/* surel_master_path - $daemon_directory/master */
char   *surel_master_path(void)
{
    BUF    *path = buf_alloc(256);

    buf_sprintf(path, "%s/master", config_str(P_daemon_directory));
    return buf_steal(path);
}

/* check_config_file - a configuration file others must not be able to change */
static int check_config_file(const char *name)
{
    BUF    *path = buf_alloc(256);
    struct stat st;
    int     problems = 0;

    buf_sprintf(path, "%s/%s", config_str(P_config_directory), name);
    if (stat(buf_str(path), &st) < 0) {
        msg_warn("%s: %s", buf_str(path), strerror(errno));
        problems = 1;
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        msg_warn("%s: writable by group or others (mode %04o)", buf_str(path),
                 (unsigned) (st.st_mode & 07777));
        problems = 1;
    }
    buf_free(path);
    return problems;
}

/* check_program - one executable in daemon_directory (or an absolute path) */
static int check_program(const char *prog, const char *service, int lineno)
{
    BUF    *path = buf_alloc(256);
    int     problems = 0;

    if (!mastercf_program(prog, config_str(P_daemon_directory), path)) {
        if (service)
            msg_warn("master.cf line %d: service %s: no program %s", lineno, service,
                     buf_str(path));
        else
            msg_warn("no surel %s program %s", prog, buf_str(path));
        problems = 1;
    }
    buf_free(path);
    return problems;
}

/* check_overrides - -o settings surel ignores: warned; a security one is a problem */
static int check_overrides(const MASTER_ENT *ent, const char *master_cf)
{
    BUF    *where = buf_alloc(100);
    int     problems = 0;
    int     i;

    buf_sprintf(where, "%s line %d: service %s", master_cf, ent->lineno, ent->name);
    for (i = 0; i < ent->noverrides; i++)
        if (config_warn_unimplemented_arg(buf_str(where), ent->overrides[i])
            == PARAM_IMPL_SECURITY)
            problems++;
    buf_free(where);
    return problems;
}

/* check_maillog - maillog_file is under maillog_file_prefixes (a problem:
 * the master refuses to start), and has its postlog service (a warning:
 * without one each daemon writes the file itself, as before postlogd, and
 * a daemon that dropped root cannot follow `surel logrotate`) */
static int check_maillog(const MASTER_CF *cf)
{
    const char *file = config_str(P_maillog_file);
    BUF    *why;
    int     i;

    if (*file == 0)
        return 0;
    why = buf_alloc(100);
    if (!maillog_file_allowed(file, why)) {
        msg_warn("%s", buf_str(why));
        buf_free(why);
        return 1;
    }
    buf_free(why);
    for (i = 0; i < cf->count; i++)
        if (cf->ents[i].type == MASTER_UNIX_DGRAM && !cf->ents[i].private_
            && strcmp(cf->ents[i].name, config_str(P_postlog_service_name)) == 0)
            return 0;
    msg_warn("maillog_file is set but master.cf has no public unix-dgram service %s "
             "(postlog unix-dgram n - n - 1 postlogd): daemons write %s themselves and "
             "may keep writing a rotated file", config_str(P_postlog_service_name), file);
    return 0;
}

/* check_master_cf - master.cf parses and names programs that exist */
static int check_master_cf(int warn_params)
{
    BUF    *path = buf_alloc(256);
    BUF    *why = buf_alloc(256);
    MASTER_CF cf;
    const char **names;
    int     problems = 0;
    int     i;

    buf_sprintf(path, "%s/master.cf", config_str(P_config_directory));
    memset(&cf, 0, sizeof(cf));
    if (mastercf_read(buf_str(path), (int) config_int(P_default_process_limit), &cf, why) < 0) {
        msg_warn("%s", buf_str(why));
        problems = 1;
    } else {
        names = xcalloc((size_t) cf.count + 1, sizeof(*names));
        for (i = 0; i < cf.count; i++) {
            names[i] = cf.ents[i].name;
            if (warn_params)
                problems += check_overrides(&cf.ents[i], buf_str(path));
            if (cf.ents[i].argc > 0)
                problems += check_program(cf.ents[i].argv[0], cf.ents[i].name,
                                          cf.ents[i].lineno);
        }
        problems += check_maillog(&cf);
        /* Unused main.cf names are worth a line, not a failed check. */
        config_warn_unknown(names, cf.count);
        xfree(names);
        mastercf_free(&cf);
    }
    buf_free(path);
    buf_free(why);
    return problems;
}

/* check_data_dir - data_directory: mail_owner's, not writable by others */
static int check_data_dir(const MAIL_QUEUE_IDS *ids, int flags)
{
    const char *dir = config_str(P_data_directory);
    struct stat st;
    int     fd;

    if (lstat(dir, &st) < 0 && errno == ENOENT && (flags & MAIL_QUEUE_CREATE)) {
        if (mkdir(dir, 0700) < 0) {
            msg_warn("%s: cannot create: %m", dir);
            return 1;
        }
        msg_info("%s: created", dir);
        flags |= MAIL_QUEUE_FIX;
    }
    if (lstat(dir, &st) < 0) {
        msg_warn("%s: %s", dir, errno == ENOENT ? "missing" : strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        msg_warn("%s: is not a folder", dir);
        return 1;
    }
    if (st.st_uid == ids->mail_uid && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0)
        return 0;
    if (!(flags & MAIL_QUEUE_FIX)) {
        if (st.st_uid != ids->mail_uid)
            msg_warn("%s: not owned by %s", dir, config_str(P_mail_owner));
        else
            msg_warn("%s: writable by group or others (mode %04o)", dir,
                     (unsigned) (st.st_mode & 07777));
        return 1;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
        || fchown(fd, ids->mail_uid, ids->mail_gid) < 0 || fchmod(fd, 0700) < 0) {
        msg_warn("%s: cannot repair: %m", dir);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    msg_info("%s: set owner %s and mode 0700", dir, config_str(P_mail_owner));
    return 0;
}

/* surel_check_run - every check; the number of problems left */
int surel_check_run(int flags)
{
    BUF    *why = buf_alloc(256);
    MAIL_QUEUE_IDS ids;
    int     problems = 0;
    int     security;
    int     orig_flags = flags;

    if (config_validate(why) < 0) {
        msg_warn("main.cf: %s", buf_str(why));
        problems++;
    }
    if (!(flags & SUREL_CHECK_NO_PARAM_WARNINGS)) {
        (void) config_warn_unimplemented(NULL, &security);
        problems += security;
    }
    flags &= ~SUREL_CHECK_NO_PARAM_WARNINGS;
    problems += check_config_file("main.cf");
    problems += check_config_file("master.cf");
    problems += check_master_cf(!(orig_flags & SUREL_CHECK_NO_PARAM_WARNINGS));
    problems += check_program("master", NULL, 0);
    if (mail_queue_ids(config_str(P_mail_owner), config_str(P_setgid_group), &ids, why) < 0) {
        msg_warn("%s", buf_str(why));
        problems++;
    } else {
        problems += mail_queue_scan(config_str(P_queue_directory), &ids, flags,
                                    check_report, NULL);
        problems += check_data_dir(&ids, flags);
    }
    buf_free(why);
    return problems;
}

/* surel_check_main - the `surel check` verb */
int surel_check_main(int argc, char **argv)
{
    int     ch;
    int     flags = 0;
    int     problems;

    while ((ch = getopt(argc, argv, "f")) != -1) {
        switch (ch) {
        case 'f':
            flags = MAIL_QUEUE_CREATE | MAIL_QUEUE_FIX;
            break;
        default:
            fprintf(stderr, "usage: surel check [-f]\n");
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "usage: surel check [-f]\n");
        return 2;
    }
    config_init(surel_config_dir);
    problems = surel_check_run(flags);
    if (problems == 0)
        return 0;
    if (flags)
        msg_warn("%d problem(s) left that -f cannot repair", problems);
    else
        msg_warn("%d problem(s) found; nothing was changed "
                 "(`surel check -f` creates and repairs queue folders)", problems);
    return 1;
}
