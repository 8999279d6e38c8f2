/*
 * NAME
 *      surel sandbox - write a complete instance that runs without root
 * SYNOPSIS
 *      surel sandbox DIR [--smtp-port N] [--force]
 * DESCRIPTION
 *      Writes one self-contained instance under DIR:
 *
 *      DIR/etc/main.cf, master.cf   the configuration (start it with
 *                                   `surel -c DIR/etc start`)
 *      DIR/etc/users                the mailbox users, one per line (alice, bob)
 *      DIR/etc/aliases              postmaster and the usual role aliases
 *      DIR/spool/                   the queue, with the owners and modes of
 *                                   lib/global/mail_queue.c
 *      DIR/log/maillog              the log (maillog_file)
 *      DIR/mail/USER/Maildir/       where local mail for USER lands
 *      DIR/data/                    data_directory
 *
 *      The instance listens for SMTP on 127.0.0.1:N (2525 by default),
 *      delivers mail for sandbox.test and localhost to the users' Maildirs
 *      and never sends anything off the machine: default_transport and
 *      relay_transport are the `error` transport.
 *
 *      When the folder holding this `surel` program also holds `master`
 *      (a build tree's bin/), daemon_directory and command_directory point
 *      there, so that the instance runs the programs it was made with.
 *      master.cf is the project's default one with the SMTP service moved
 *      to 127.0.0.1:N: conf/master.cf of the source tree when this program
 *      runs from the build's bin/, else the copy installed in the template
 *      folder (SUREL_TEMPLATE_DIR, <datadir>/surel). Every service in it
 *      is written as it is; one whose program is missing is a
 *      configuration error that `surel check` reports and the master logs.
 *
 *      A DIR that already holds an instance (DIR/etc/main.cf) is refused;
 *      --force rewrites main.cf and master.cf and creates what is missing,
 *      keeping users, aliases, the queue and the mail.
 * SECURITY
 *      Run as root, the instance belongs to the `surel` account (created
 *      with useradd/groupadd when missing, as is `surelauth`, authd's own
 *      account) with setgid_group `sureldrop`:
 *      the queue, log, data and mail folders are surel's, the
 *      configuration and DIR itself root's (DIR is made traversable, 0755),
 *      and the master runs as root and drops each daemon to surel. Run as
 *      anyone else, mail_owner is that user, setgid_group their primary
 *      group, and everything belongs to them. DIR must be a plain path
 *      (letters, digits, / . _ + - @): it is written into main.cf, where
 *      white space, commas and $ would change its meaning.
 * PARAMETERS WRITTEN
 *      queue_directory, daemon_directory, command_directory,
 *      data_directory, mail_owner, setgid_group, maillog_file, myhostname,
 *      mydestination, inet_interfaces, mynetworks, dns_servers, home_mailbox,
 *      alias_maps, alias_database, sandbox_users, sandbox_mail_directory,
 *      default_transport, relay_transport.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "dict.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"
#include "surel.h"

#define SANDBOX_DEFAULT_PORT    2525
#define SANDBOX_HOSTNAME        "sandbox.test"
#define SANDBOX_ROOT_OWNER      "surel"         /* mail_owner of a root-made sandbox */
#define SANDBOX_ROOT_GROUP      "sureldrop"     /* setgid_group of a root-made sandbox */
#define SANDBOX_ROOT_AUTHD      "surelauth"     /* authd_owner's default account */

/* The mailbox users every sandbox starts with. */
static const char *const sandbox_users[] = {"alice", "bob"};

#define SANDBOX_NUSERS (sizeof(sandbox_users) / sizeof(sandbox_users[0]))

#define SANDBOX_TEMPLATE_MAX    (1024 * 1024)   /* a master.cf template larger than this is refused */

/* Everything one run needs. */
typedef struct SANDBOX {
    char   *dir;                    /* absolute DIR */
    int     port;                   /* SMTP port */
    int     force;                  /* --force */
    char   *bin_dir;                /* this program's folder when it holds master, else NULL */
    char   *mail_owner;
    char   *setgid_group;
    MAIL_QUEUE_IDS ids;
    BUF    *path;                   /* scratch */
} SANDBOX;

#define SANDBOX_USAGE "usage: surel sandbox DIR [--smtp-port N] [--force]"

/* sandbox_plain_path - 1 when every byte of path is safe inside main.cf */
static int sandbox_plain_path(const char *path)
{
    const char *cp;

    for (cp = path; *cp; cp++)
        if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
              || (*cp >= '0' && *cp <= '9') || strchr("/._+-@", *cp)))
            return 0;
    return 1;
}

/* sandbox_path - DIR/rel in the scratch buffer */
static const char *sandbox_path(SANDBOX *sb, const char *rel)
{
    buf_sprintf(sb->path, "%s/%s", sb->dir, rel);
    return buf_str(sb->path);
}

/* sandbox_bin_dir - the folder holding this program, if it also holds master */
static char *sandbox_bin_dir(void)
{
    char    exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char   *slash;
    BUF    *master = buf_alloc(PATH_MAX);
    char   *result = NULL;

    if (n <= 0) {
        buf_free(master);
        return NULL;
    }
    exe[n] = 0;
    if ((slash = strrchr(exe, '/')) != NULL) {
        *slash = 0;
        buf_sprintf(master, "%s/master", exe);
        if (access(buf_str(master), X_OK) == 0 && sandbox_plain_path(exe))
            result = xstrdup(exe);
    }
    buf_free(master);
    return result;
}

/* sandbox_run - run argv (never a shell) and wait; its exit status */
static int sandbox_run(char *const argv[])
{
    pid_t   pid = fork();
    int     status;

    if (pid < 0)
        msg_fatal("fork: %m");
    if (pid == 0) {
        execvp(argv[0], argv);
        msg_warn("exec %s: %m", argv[0]);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            msg_fatal("waitpid: %m");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* sandbox_accounts - choose mail_owner and setgid_group; as root, create
 * the surel accounts as a package's postinst would, when they are missing */
static void sandbox_accounts(SANDBOX *sb)
{
    struct passwd *pw;
    struct group *gr;
    BUF    *why = buf_alloc(128);

    if (geteuid() == 0) {
        if (getgrnam(SANDBOX_ROOT_GROUP) == NULL) {
            char   *argv[] = {"groupadd", "--system", SANDBOX_ROOT_GROUP, NULL};

            msg_info("creating group %s", SANDBOX_ROOT_GROUP);
            if (sandbox_run(argv) != 0)
                msg_fatal("cannot create group %s", SANDBOX_ROOT_GROUP);
        }
        if (getpwnam(SANDBOX_ROOT_OWNER) == NULL) {
            char   *argv[] = {"useradd", "--system", "--user-group", "--no-create-home",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                "--comment", "surel mail system", SANDBOX_ROOT_OWNER, NULL};

            msg_info("creating user %s", SANDBOX_ROOT_OWNER);
            if (sandbox_run(argv) != 0)
                msg_fatal("cannot create user %s", SANDBOX_ROOT_OWNER);
        }
        if (getpwnam(SANDBOX_ROOT_AUTHD) == NULL) {
            char   *argv[] = {"useradd", "--system", "--user-group", "--no-create-home",
                "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin",
                "--comment", "surel auth server", SANDBOX_ROOT_AUTHD, NULL};

            msg_info("creating user %s", SANDBOX_ROOT_AUTHD);
            if (sandbox_run(argv) != 0)
                msg_fatal("cannot create user %s", SANDBOX_ROOT_AUTHD);
        }
        sb->mail_owner = xstrdup(SANDBOX_ROOT_OWNER);
        sb->setgid_group = xstrdup(SANDBOX_ROOT_GROUP);
    } else {
        if ((pw = getpwuid(geteuid())) == NULL)
            msg_fatal("who am I? uid %ld has no password entry", (long) geteuid());
        if ((gr = getgrgid(getegid())) == NULL)
            msg_fatal("gid %ld has no group entry", (long) getegid());
        sb->mail_owner = xstrdup(pw->pw_name);
        sb->setgid_group = xstrdup(gr->gr_name);
    }
    if (mail_queue_ids(sb->mail_owner, sb->setgid_group, &sb->ids, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
}

/* sandbox_mkdir - make a folder (or keep it) with exactly this owner and mode */
static void sandbox_mkdir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
    struct stat st;
    int     fd;

    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        msg_fatal("mkdir %s: %m", path);
    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        msg_fatal("open %s: %m (a symbolic link?)", path);
    if (fstat(fd, &st) < 0)
        msg_fatal("fstat %s: %m", path);
    if ((st.st_uid != uid || st.st_gid != gid) && fchown(fd, uid, gid) < 0)
        msg_fatal("chown %s: %m", path);
    if (fchmod(fd, mode) < 0)
        msg_fatal("chmod %s: %m", path);
    close(fd);
}

/* sandbox_write - write a file whole (replace it), owned and moded as told */
static void sandbox_write(const char *path, const char *text, uid_t uid, gid_t gid,
                          mode_t mode)
{
    BUF    *tmp = buf_alloc(256);
    size_t  len = strlen(text);
    int     fd;

    /* A new name and rename(): a reader never sees half a file. */
    buf_sprintf(tmp, "%s.tmp%ld", path, (long) getpid());
    fd = open(buf_str(tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        msg_fatal("create %s: %m", buf_str(tmp));
    if (write(fd, text, len) != (ssize_t) len || fchown(fd, uid, gid) < 0
        || fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0)
        msg_fatal("write %s: %m", buf_str(tmp));
    if (rename(buf_str(tmp), path) < 0)
        msg_fatal("rename %s to %s: %m", buf_str(tmp), path);
    buf_free(tmp);
}

/* sandbox_main_cf - the text of main.cf */
static void sandbox_main_cf(SANDBOX *sb, BUF *out)
{
    const char *d = sb->dir;

    buf_sprintf(out,
                "# main.cf of a surel sandbox instance, written by `surel sandbox`.\n"
                "# Everything lives under %s; nothing needs root and no mail\n"
                "# leaves the machine. Start it with `surel -c %s/etc start`.\n"
                "\n"
                "# Where things are.\n"
                "queue_directory = %s/spool\n"
                "data_directory = %s/data\n"
                "maillog_file = %s/log/maillog\n"
                "# maillog_file must be under one of these (Postfix's guard).\n"
                "maillog_file_prefixes = %s/log, /var, /dev/stdout\n",
                d, d, d, d, d, d);
    if (sb->bin_dir)
        buf_printf(out,
                   "# The programs this instance was made with.\n"
                   "daemon_directory = %s\n"
                   "command_directory = %s\n", sb->bin_dir, sb->bin_dir);
    else
        buf_printf(out,
                   "# daemon_directory and command_directory: the built-in defaults.\n");
    buf_printf(out,
               "\n"
               "# Who owns the queue and runs the unprivileged daemons.\n"
               "mail_owner = %s\n"
               "setgid_group = %s\n"
               "\n"
               "# Identity and network: loopback only.\n"
               "myhostname = " SANDBOX_HOSTNAME "\n"
               "mydestination = " SANDBOX_HOSTNAME ", localhost\n"
               "inet_interfaces = 127.0.0.1\n"
               "mynetworks = 127.0.0.0/8 [::1]/128\n"
               "# The SMTP client's DNS: a loopback port where nothing answers,\n"
               "# never the machine's resolver (tests set their own name server).\n"
               "dns_servers = 127.0.0.1@1\n"
               "\n"
               "# Local delivery into %s/mail/<user>/Maildir/ for each user\n"
               "# listed in %s/etc/users.\n"
               "home_mailbox = Maildir/\n"
               "sandbox_users = %s/etc/users\n"
               "sandbox_mail_directory = %s/mail\n"
               "alias_maps = lmdb:%s/etc/aliases\n"
               "alias_database = lmdb:%s/etc/aliases\n"
               "\n"
               "# Nothing is ever sent off the machine: mail for other domains\n"
               "# bounces through the error transport.\n"
               "default_transport = error:this sandbox does not deliver to other domains\n"
               "relay_transport = error:this sandbox does not deliver to other domains\n",
               sb->mail_owner, sb->setgid_group, d, d, d, d, d, d);
}

/* sandbox_same_dir - do two paths name the same folder? */
static int sandbox_same_dir(const char *a, const char *b)
{
    struct stat sa;
    struct stat sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev
        && sa.st_ino == sb.st_ino;
}

/* sandbox_template_path - conf/master.cf of the source tree when this
 * program runs from the build's bin/, else the installed template */
static void sandbox_template_path(SANDBOX *sb, BUF *path)
{
    if (sb->bin_dir && sandbox_same_dir(sb->bin_dir, SUREL_BUILD_BIN_DIR))
        buf_sprintf(path, "%s/master.cf", SUREL_SOURCE_CONF_DIR);
    else
        buf_sprintf(path, "%s/master.cf", SUREL_TEMPLATE_DIR);
}

/* sandbox_read_template - the text of the master.cf template; fatal if none */
static BUF *sandbox_read_template(const char *path)
{
    BUF    *why = buf_alloc(100);
    BUF    *text;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        msg_fatal("cannot read the master.cf template %s: %m (the build's conf/ or "
                  "the installed copy)", path);
    if ((text = read_small_fd(fd, path, SANDBOX_TEMPLATE_MAX, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    close(fd);
    buf_free(why);
    return text;
}

/* sandbox_smtp_line - is this line the active `smtp inet` service? */
static int sandbox_smtp_line(const char *line, size_t len)
{
    static const char head[] = "smtp";
    size_t  i = sizeof(head) - 1;

    if (len <= i || strncmp(line, head, i) != 0 || (line[i] != ' ' && line[i] != '\t'))
        return 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return len - i >= 4 && strncmp(line + i, "inet", 4) == 0
        && (len - i == 4 || line[i + 4] == ' ' || line[i + 4] == '\t');
}

/* sandbox_master_cf - the template's text with the SMTP service on
 * 127.0.0.1:port; every other line as the template has it */
static void sandbox_master_cf(SANDBOX *sb, BUF *out, const char *template)
{
    BUF    *text = sandbox_read_template(template);
    const char *cp = buf_str(text);
    const char *end = cp + buf_len(text);
    int     found = 0;

    buf_sprintf(out, "# master.cf of a surel sandbox instance, written by `surel sandbox`\n"
                "# from %s; the SMTP service listens on 127.0.0.1:%d.\n"
                "# A service whose program is missing is a configuration error: the\n"
                "# master logs it and does not start that service (`surel check`).\n"
                "#\n", template, sb->port);
    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t) (end - cp));
        size_t  len = nl ? (size_t) (nl - cp) : (size_t) (end - cp);

        if (!found && sandbox_smtp_line(cp, len)) {
            char    name[32];
            size_t  skip = 4;           /* "smtp", then its white space */

            while (skip < len && (cp[skip] == ' ' || cp[skip] == '\t'))
                skip++;
            snprintf(name, sizeof(name), "127.0.0.1:%d", sb->port);
            buf_printf(out, "%-9s %.*s\n", name, (int) (len - skip), cp + skip);
            found = 1;
        } else {
            buf_printf(out, "%.*s\n", (int) len, cp);
        }
        cp += len + (nl ? 1 : 0);
    }
    if (!found)
        msg_warn("%s: no `smtp inet` service: the sandbox listens for no SMTP", template);
    buf_free(text);
}

/* sandbox_build_aliases - (re)build etc/aliases.lmdb, as newaliases would */
static void sandbox_build_aliases(SANDBOX *sb)
{
    BUF    *table = buf_alloc(256);
    BUF    *why = buf_alloc(256);

    buf_sprintf(table, "lmdb:%s/etc/aliases", sb->dir);
    if (dict_build_aliases(buf_str(table), why) < 0)
        msg_fatal("build %s: %s", buf_str(table), buf_str(why));
    buf_free(table);
    buf_free(why);
}

/* sandbox_text_files - users and aliases, written only when missing */
static void sandbox_text_files(SANDBOX *sb, uid_t uid, gid_t gid)
{
    BUF    *text = buf_alloc(1024);
    size_t  i;

    if (access(sandbox_path(sb, "etc/users"), F_OK) < 0) {
        buf_sprintf(text,
                    "# Mailbox users of this sandbox instance, one name per line.\n"
                    "# Mail to NAME@" SANDBOX_HOSTNAME " or NAME@localhost lands in\n"
                    "# %s/mail/NAME/Maildir/.\n", sb->dir);
        for (i = 0; i < SANDBOX_NUSERS; i++)
            buf_printf(text, "%s\n", sandbox_users[i]);
        sandbox_write(buf_str(sb->path), buf_str(text), uid, gid, 0644);
    }
    if (access(sandbox_path(sb, "etc/aliases"), F_OK) < 0) {
        buf_sprintf(text,
                    "# Aliases of this sandbox instance, in aliases(5) format.\n"
                    "# After a change, rebuild %s/etc/aliases.lmdb with\n"
                    "#     surel -c %s/etc map build -a lmdb:%s/etc/aliases\n"
                    "postmaster: %s\n"
                    "MAILER-DAEMON: postmaster\n"
                    "root: postmaster\n"
                    "abuse: postmaster\n"
                    "hostmaster: postmaster\n"
                    "webmaster: postmaster\n"
                    "security: postmaster\n",
                    sb->dir, sb->dir, sb->dir, sandbox_users[0]);
        sandbox_write(buf_str(sb->path), buf_str(text), uid, gid, 0644);
    }
    sandbox_build_aliases(sb);
    buf_free(text);
}

/* sandbox_report - a queue folder created or repaired: say so with -v */
static void sandbox_report(const char *text, int fixed, void *ctx)
{
    (void) ctx;
    if (fixed)
        msg_debug("%s", text);
    else
        msg_warn("%s", text);
}

/* sandbox_folders - every folder, with its owner and mode */
static void sandbox_folders(SANDBOX *sb)
{
    const MAIL_QUEUE_IDS *ids = &sb->ids;
    BUF    *box = buf_alloc(256);
    size_t  i;

    /* DIR and DIR/etc: the instance owner's (root's), readable by the daemons. */
    sandbox_mkdir(sb->dir, ids->root_uid, ids->root_gid, 0755);
    sandbox_mkdir(sandbox_path(sb, "etc"), ids->root_uid, ids->root_gid, 0755);
    if (mail_queue_scan(sandbox_path(sb, "spool"), ids, MAIL_QUEUE_CREATE | MAIL_QUEUE_FIX,
                        sandbox_report, NULL) > 0)
        msg_fatal("cannot set up the queue in %s/spool", sb->dir);
    sandbox_mkdir(sandbox_path(sb, "data"), ids->mail_uid, ids->mail_gid, 0700);
    sandbox_mkdir(sandbox_path(sb, "log"), ids->mail_uid, ids->mail_gid, 0755);
    /* The log exists before the master does, owned by mail_owner, so that
     * every daemon can append to it whoever opens it first. */
    if (access(sandbox_path(sb, "log/maillog"), F_OK) < 0)
        sandbox_write(buf_str(sb->path), "", ids->mail_uid, ids->mail_gid, 0644);
    sandbox_mkdir(sandbox_path(sb, "mail"), ids->mail_uid, ids->mail_gid, 0755);
    for (i = 0; i < SANDBOX_NUSERS; i++) {
        static const char *const sub[] = {"", "/Maildir", "/Maildir/cur", "/Maildir/new",
        "/Maildir/tmp"};
        size_t  j;

        for (j = 0; j < sizeof(sub) / sizeof(sub[0]); j++) {
            buf_sprintf(box, "mail/%s%s", sandbox_users[i], sub[j]);
            sandbox_mkdir(sandbox_path(sb, buf_str(box)), ids->mail_uid, ids->mail_gid, 0700);
        }
    }
    buf_free(box);
}

/* surel_sandbox_args - DIR, --smtp-port N and --force; 0, or -1 + why */
int     surel_sandbox_args(int argc, char **argv, SANDBOX_ARGS *args, BUF *why)
{
    static const struct option opts[] = {
        {"smtp-port", required_argument, NULL, 'p'},
        {"force", no_argument, NULL, 'F'},
        {NULL, 0, NULL, 0},
    };
    char   *end;
    long    port;
    int     ch;

    memset(args, 0, sizeof(*args));
    args->port = SANDBOX_DEFAULT_PORT;
    optind = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'p':
            errno = 0;
            port = strtol(optarg, &end, 10);
            if (*optarg < '0' || *optarg > '9' || errno || *end || port < 1
                || port > 65535) {
                buf_sprintf(why, "--smtp-port: '%s' is not a port number (1-65535)", optarg);
                return -1;
            }
            args->port = (int) port;
            break;
        case 'F':
            args->force = 1;
            break;
        default:
            buf_sprintf(why, "%s", SANDBOX_USAGE);
            return -1;
        }
    }
    if (optind != argc - 1) {
        buf_sprintf(why, "%s", SANDBOX_USAGE);
        return -1;
    }
    args->dir = argv[optind];
    return 0;
}

/* sandbox_dir - create DIR if needed and make its name absolute */
static void sandbox_dir(SANDBOX *sb)
{
    char    real[PATH_MAX];
    size_t  len;

    if (!sandbox_plain_path(sb->dir))
        msg_fatal("%s: use a folder name of letters, digits and / . _ + - @ only "
                  "(the name goes into main.cf)", sb->dir);
    if (mkdir(sb->dir, 0755) < 0 && errno != EEXIST)
        msg_fatal("mkdir %s: %m", sb->dir);
    if (realpath(sb->dir, real) == NULL)
        msg_fatal("%s: %m", sb->dir);
    if (!sandbox_plain_path(real))
        msg_fatal("%s: use a folder name of letters, digits and / . _ + - @ only "
                  "(the name goes into main.cf)", real);
    xfree(sb->dir);
    sb->dir = xstrdup(real);
    if ((len = strlen(sb->dir)) > 1 && sb->dir[len - 1] == '/')
        sb->dir[len - 1] = 0;
}

/* surel_sandbox_main - the `surel sandbox` verb */
int surel_sandbox_main(int argc, char **argv)
{
    SANDBOX sb;
    BUF    *text = buf_alloc(4096);
    BUF    *master_cf = buf_alloc(4096);
    struct stat st;
    SANDBOX_ARGS args;

    memset(&sb, 0, sizeof(sb));
    if (surel_sandbox_args(argc, argv, &args, text) < 0) {
        fprintf(stderr, "%s\n", buf_str(text));
        return 2;
    }
    sb.dir = xstrdup(args.dir);
    sb.port = args.port;
    sb.force = args.force;
    sb.path = buf_alloc(256);
    /* The template first: without it nothing is created. */
    sb.bin_dir = sandbox_bin_dir();
    sandbox_template_path(&sb, text);
    sandbox_master_cf(&sb, master_cf, buf_str(text));
    sandbox_dir(&sb);
    if (lstat(sandbox_path(&sb, "etc/main.cf"), &st) == 0 && !sb.force)
        msg_fatal("%s already holds a surel instance (%s exists); "
                  "remove it or use --force to rewrite its configuration",
                  sb.dir, buf_str(sb.path));
    sandbox_accounts(&sb);
    sandbox_folders(&sb);

    sandbox_main_cf(&sb, text);
    sandbox_write(sandbox_path(&sb, "etc/main.cf"), buf_str(text),
                  sb.ids.root_uid, sb.ids.root_gid, 0644);
    sandbox_write(sandbox_path(&sb, "etc/master.cf"), buf_str(master_cf),
                  sb.ids.root_uid, sb.ids.root_gid, 0644);
    sandbox_text_files(&sb, sb.ids.root_uid, sb.ids.root_gid);

    printf("surel sandbox instance in %s (SMTP on 127.0.0.1:%d, mail_owner %s)\n"
           "  start:  surel -c %s/etc start\n"
           "  mail:   %s/mail/<user>/Maildir/new/\n"
           "  log:    %s/log/maillog\n",
           sb.dir, sb.port, sb.mail_owner, sb.dir, sb.dir, sb.dir);
    buf_free(text);
    buf_free(master_cf);
    buf_free(sb.path);
    xfree(sb.dir);
    xfree(sb.bin_dir);
    xfree(sb.mail_owner);
    xfree(sb.setgid_group);
    return 0;
}
