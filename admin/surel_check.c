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
 *        smtpd_tls_req_ccert, ...): each of those is a problem;
 *      - main.cf and master.cf are not writable by group or others;
 *      - master.cf parses;
 *      - mail_owner and setgid_group exist, mail_owner is not root (and,
 *        in a root instance, setgid_group is not mail_owner's group);
 *      - each queue folder exists with the owner, group and mode of
 *        lib/global/mail_queue.c (e.g. "warning: /var/spool/surel/incoming:
 *        mode 0755, expected 0700"), and data_directory is mail_owner's
 *        and not writable by others;
 *      - daemon_directory holds master and every program master.cf names;
 *      - every table main.cf names has a known type and, for file tables,
 *        a built file; chrooted services have proxymap for unix: tables
 *        (surel_check_tables.c).
 *      - the smtpd_*_restrictions lists (main.cf, the restriction classes
 *        and master.cf -o overrides) name only restrictions smtpd has
 *        (lib/global/smtpd_restriction.c) or classes, each with its
 *        argument; an unknown one is a problem (smtpd would answer every
 *        client 451 4.3.5 Server configuration error), and so is a DNS
 *        block or allow list while DNS is off (dns_servers empty).
 *      - run by root, with authd_password_maps set: authd_owner exists
 *        and is neither root nor mail_owner, and no file of those tables
 *        can be read by mail_owner or by anyone (the hashes are authd's
 *        alone: root:surelauth 0640).
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
 *      setgid_group, default_process_limit (as master.cf's default maxproc),
 *      smtpd_*_restrictions, smtpd_restriction_classes, dns_servers,
 *      authd_owner, authd_password_maps.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "dns_lookup.h"
#include "dnsbl_pattern.h"
#include "dict.h"
#include "str_split.h"
#include "maillog.h"
#include "mail_queue.h"
#include "header_rewrite.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "smtpd_restriction.h"
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

/* check_program - one executable in daemon_directory (or an absolute path);
 * a service of a Postfix daemon whose work is built in is fine without */
static int check_program(const char *prog, const char *service, int lineno)
{
    BUF    *path = buf_alloc(256);
    int     problems = 0;

    if (!mastercf_program(prog, config_str(P_daemon_directory), path)
        && (service == NULL || (mastercf_builtin(prog) == NULL
                                && mastercf_absent(prog) == NULL))) {
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

/* The parameters that hold restriction lists. */
static const PARAM_ID restriction_params[] = {
    P_smtpd_client_restrictions, P_smtpd_helo_restrictions, P_smtpd_sender_restrictions,
    P_smtpd_relay_restrictions, P_smtpd_recipient_restrictions, P_smtpd_data_restrictions,
};

#define RESTRICTION_PARAMS (sizeof(restriction_params) / sizeof(restriction_params[0]))

/* is_restriction_param - a parameter that holds a restriction list */
static int is_restriction_param(const char *name)
{
    size_t  i;

    for (i = 0; i < RESTRICTION_PARAMS; i++)
        if (strcmp(config_param_info(restriction_params[i])->name, name) == 0)
            return 1;
    return 0;
}

/* is_class - a name of smtpd_restriction_classes */
static int is_class(const char *name, char **classes, int nclasses)
{
    int     i;

    for (i = 0; i < nclasses; i++)
        if (strcasecmp(classes[i], name) == 0)
            return 1;
    return 0;
}

/* check_restriction_list - one list (where: "main.cf: smtpd_client_restrictions");
 * the number of problems */
static int check_restriction_list(const char *where, const char *value)
{
    char  **classes, **items;
    int     nclasses, count, i, problems = 0;
    const RESTRICTION_INFO *r;

    classes = config_split_list(config_str(P_smtpd_restriction_classes), &nclasses);
    items = config_split_list(value, &count);
    for (i = 0; i < count; i++) {
        if ((r = smtpd_restriction_find(items[i])) == NULL) {
            if (is_class(items[i], classes, nclasses))
                continue;
            msg_warn("%s: unknown restriction \"%s\" (smtpd answers it with "
                     "451 4.3.5 Server configuration error)", where, items[i]);
            problems++;
            continue;
        }
        if (!(r->flags & RESTRICTION_ARG))
            continue;
        if (i + 1 >= count || ((r->flags & RESTRICTION_ARG_TABLE)
                               && strchr(items[i + 1], ':') == NULL)) {
            msg_warn("%s: %s needs a %s argument (smtpd will not start)", where, items[i],
                     (r->flags & RESTRICTION_ARG_TABLE) ? "TYPE:TABLE"
                     : (r->flags & RESTRICTION_ARG_DOMAIN) ? "DOMAIN" : "service");
            problems++;
            continue;
        }
        if ((r->flags & RESTRICTION_ARG_DOMAIN) && strchr(items[i + 1], '=')
            && !dnsbl_pattern_valid(strchr(items[i + 1], '=') + 1)) {
            msg_warn("%s: %s %s: bad reply pattern (smtpd ignores the list)", where, items[i],
                     items[i + 1]);
            problems++;
        }
        if ((r->flags & RESTRICTION_ARG_SERVICE) && strncmp(items[i + 1], "inet:", 5) != 0
            && strncmp(items[i + 1], "unix:", 5) != 0 && strncmp(items[i + 1], "local:", 6) != 0
            && items[i + 1][0] != '/') {
            msg_warn("%s: %s %s: not inet:host:port, unix:path or /path", where, items[i],
                     items[i + 1]);
            problems++;
        }
        if ((r->flags & RESTRICTION_DNS) && !dns_lookup_enabled()) {
            msg_warn("%s: %s %s: DNS lookups are off (dns_servers is empty): "
                     "nothing is ever listed", where, items[i], items[i + 1]);
            problems++;
        }
        i++;
    }
    config_free_list(items);
    config_free_list(classes);
    return problems;
}

/* check_restrictions - main.cf's restriction lists and classes */
static int check_restrictions(void)
{
    BUF    *where = buf_alloc(100);
    char  **classes;
    const char *value;
    int     nclasses, i, problems = 0;
    size_t  p;

    for (p = 0; p < RESTRICTION_PARAMS; p++) {
        buf_sprintf(where, "main.cf: %s", config_param_info(restriction_params[p])->name);
        problems += check_restriction_list(buf_str(where), config_str(restriction_params[p]));
    }
    classes = config_split_list(config_str(P_smtpd_restriction_classes), &nclasses);
    for (i = 0; i < nclasses; i++) {
        if ((value = config_lookup(classes[i])) == NULL)
            continue;                   /* smtpd itself refuses to start: see there */
        buf_sprintf(where, "main.cf: restriction class %s", classes[i]);
        problems += check_restriction_list(buf_str(where), value);
    }
    config_free_list(classes);
    buf_free(where);
    return problems;
}

/* check_header_rewrite - local_header_rewrite_clients parses (cleanup
 * refuses to start otherwise) */
static int check_header_rewrite(void)
{
    BUF    *why = buf_alloc(100);
    HEADER_REWRITE *hr = header_rewrite_init(why);
    int     problems = hr == NULL;

    if (hr == NULL)
        msg_warn("main.cf: %s", buf_str(why));
    header_rewrite_free(hr);
    buf_free(why);
    return problems;
}

/* check_override_restrictions - a master.cf -o NAME=list of restrictions */
static int check_override_restrictions(const MASTER_ENT *ent, const char *master_cf)
{
    BUF    *where = buf_alloc(100);
    BUF    *value = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     problems = 0, i;

    for (i = 0; i < ent->noverrides; i++) {
        const char *eq = strchr(ent->overrides[i], '=');
        char    name[128];

        if (eq == NULL || (size_t) (eq - ent->overrides[i]) >= sizeof(name))
            continue;
        snprintf(name, sizeof(name), "%.*s", (int) (eq - ent->overrides[i]), ent->overrides[i]);
        if (!is_restriction_param(name))
            continue;
        if (config_expand(eq + 1, value, why) < 0) {
            msg_warn("%s line %d: service %s: -o %s: %s", master_cf, ent->lineno, ent->name,
                     name, buf_str(why));
            problems++;
            continue;
        }
        buf_sprintf(where, "%s line %d: service %s: -o %s", master_cf, ent->lineno,
                    ent->name, name);
        problems += check_restriction_list(buf_str(where), buf_str(value));
    }
    buf_free(where);
    buf_free(value);
    buf_free(why);
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
            && strcmp(cf->ents[i].name, config_str(P_postlog_service_name)) == 0) {
            /* In the jail postlogd could not open maillog_file: every line lost. */
            if (cf->ents[i].chroot) {
                msg_warn("master.cf line %d: service %s is chrooted: postlogd cannot reach "
                         "%s from the jail (Debian's line has chroot n)", cf->ents[i].lineno,
                         cf->ents[i].name, file);
                return 1;
            }
            return 0;
        }
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
            problems += check_override_restrictions(&cf.ents[i], buf_str(path));
            if (cf.ents[i].argc > 0)
                problems += check_program(cf.ents[i].argv[0], cf.ents[i].name,
                                          cf.ents[i].lineno);
        }
        problems += check_tables(&cf);
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

/* check_authd_file - one table file of authd_password_maps: mail_owner
 * (owner, group or other bits) must not be able to read it */
static int check_authd_file(const char *path, const struct passwd *mail_owner,
                            const char *group)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        msg_warn("authd_password_maps: %s: %m", path);
        return 1;
    }
    if ((st.st_mode & S_IROTH) || st.st_uid == mail_owner->pw_uid
        || (st.st_gid == mail_owner->pw_gid && (st.st_mode & S_IRGRP))) {
        msg_warn("authd_password_maps: %s (mode %04o) can be read by mail_owner %s or"
                 " anyone: make it root:%s, mode 0640", path,
                 (unsigned) st.st_mode & 07777, mail_owner->pw_name, group);
        return 1;
    }
    return 0;
}

/* check_authd - the password tables are authd's alone (root instances) */
static int check_authd(void)
{
    const char *list = config_str(P_authd_password_maps);
    struct passwd mo;
    struct passwd *pw;
    struct group *gr;
    char    group[64] = "authd_owner's group";
    BUF    *why = buf_alloc(64);
    BUF    *path = buf_alloc(64);
    char   *item;
    int     problems = 0;

    if (*list == 0 || geteuid() != 0)
        goto out;
    if ((pw = getpwnam(config_str(P_mail_owner))) == NULL)
        goto out;                       /* mail_queue_ids says so */
    mo = *pw;
    mo.pw_name = xstrdup(pw->pw_name);
    if ((pw = getpwnam(config_str(P_authd_owner))) == NULL || pw->pw_uid == 0
        || pw->pw_uid == mo.pw_uid) {
        msg_warn("authd_owner %s: %s", config_str(P_authd_owner),
                 pw == NULL ? "no such account" : "must be neither root nor mail_owner");
        problems++;
    } else if ((gr = getgrgid(pw->pw_gid)) != NULL) {
        snprintf(group, sizeof(group), "%s", gr->gr_name);
    }
    while ((item = str_split_next(&list, why)) != NULL) {
        if (dict_data_file(item, path) == 0) {
            const char *source = strchr(item, ':') + 1;

            problems += check_authd_file(buf_str(path), &mo, group);
            /* An lmdb table's source file holds the same hashes. */
            if (strcmp(buf_str(path), source) != 0 && access(source, F_OK) == 0)
                problems += check_authd_file(source, &mo, group);
        }
        xfree(item);
    }
    xfree(mo.pw_name);
  out:
    buf_free(why);
    buf_free(path);
    return problems;
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
    problems += check_restrictions();
    problems += check_header_rewrite();
    problems += check_authd();
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
