/*
 * NAME
 *      surel conf - show or change main.cf, as postconf does
 * SYNOPSIS
 *      surel [-c config_dir] conf [-dhnx] [name ...]
 *      surel [-c config_dir] conf [-e] name=value ...
 *      surel [-c config_dir] conf -X name ...
 *      surel [-c config_dir] conf -M|-F|-P [service[/type] ...]
 * DESCRIPTION
 *      Without arguments, print every parameter as `name = value`, sorted
 *      by name: the value set in main.cf (unexpanded), else the default.
 *      Names set in main.cf that surel does not know are printed too, and
 *      warned about on stderr (`unused parameter`) unless they are
 *      <service>_<parameter> for a master.cf service or used as $name.
 *
 *      -d      print defaults; main.cf is not read.
 *      -n      print only the parameters set in main.cf.
 *      -h      print values only, without `name = `.
 *      -x      expand $name in values.
 *      name    print these parameters only; an unknown name is a warning
 *              on stderr and the exit status stays 0, as with postconf.
 *
 *      name=value ... (with or without -e) changes main.cf in place: every
 *      logical line that sets name (with its continuation lines) is
 *      replaced by `name = value`; names not yet set are appended, sorted.
 *      Comments, blank lines and other parameters are kept byte for byte.
 *      -X name ... removes those parameters the same way. The new file is
 *      written beside main.cf, fsync'ed and renamed over it, so that a
 *      reader sees the old file or the new one, never a mix.
 *
 *      -M prints master.cf entries in normalized form (every `-` resolved),
 *      all or those named as service or service/type. -F prints each of
 *      their fields as `service/type/field = value` (service, type,
 *      private, unprivileged, chroot, wakeup, process_limit, command; the
 *      values resolved as -M shows them), -P each -o override as
 *      `service/type/parameter = value`, as postconf -F and -P do.
 * SECURITY
 *      Reads the configuration with the caller's rights. Editing needs
 *      write access to the configuration folder; the new main.cf keeps the
 *      old one's mode (and owner, when run as root). Nothing is run through
 *      a shell.
 * PARAMETERS
 *      config_directory (-c, $MAIL_CONFIG, or the built-in folder)
 *      default_process_limit (maxproc `-` in master.cf, for -M)
 * DIAGNOSTICS
 *      Problems go to stderr; the exit status is 0 on success, 1 on error.
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
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "surel.h"

#define CONF_FILE_MAX   (4 * 1024 * 1024)       /* main.cf larger than this is refused */

/* One name=value (or -X name) request. */
typedef struct CONF_EDIT {
    char   *name;
    char   *value;                  /* NULL for -X */
    int     found;                  /* logical lines matched */
} CONF_EDIT;

static char *conf_temp_path;        /* removed when we die half-way */

/* conf_cleanup - remove a half-written temp file on fatal errors */
static void conf_cleanup(void)
{
    if (conf_temp_path)
        (void) unlink(conf_temp_path);
}

/* conf_path - dir/file, allocated */
static char *conf_path(const char *dir, const char *file)
{
    BUF    *b = buf_alloc(64);

    buf_sprintf(b, "%s/%s", dir, file);
    return buf_steal(b);
}

/* conf_services - the service names of dir/master.cf (none if it is absent) */
static char **conf_services(const char *dir, int *count)
{
    MASTER_CF cf;
    BUF    *why = buf_alloc(100);
    char   *path = conf_path(dir, "master.cf");
    char  **names;
    int     i;

    *count = 0;
    if (mastercf_read(path, 100, &cf, why) < 0) {
        if (access(path, F_OK) == 0)
            msg_warn("%s", buf_str(why));
        cf.count = 0;
        cf.ents = NULL;
    }
    names = xcalloc((size_t) cf.count + 1, sizeof(*names));
    for (i = 0; i < cf.count; i++)
        names[i] = xstrdup(cf.ents[i].name);
    *count = cf.count;
    mastercf_free(&cf);
    buf_free(why);
    xfree(path);
    return names;
}

/* conf_print - one parameter, white space runs folded to one space as postconf does */
static void conf_print(int mode, const char *name, const char *value)
{
    const PARAM_INFO *info = config_param_by_name(name);
    BUF    *line = buf_alloc(128);
    BUF    *expanded = NULL;
    BUF    *why;
    const char *cp = value;
    size_t  word;

    /* RAW parameters hold $names of the program that uses them ($home). */
    if ((mode & CONF_EXPAND) && !(info && info->type == PARAM_TYPE_RAW)) {
        expanded = buf_alloc(128);
        why = buf_alloc(100);
        if (config_expand(value, expanded, why) < 0)
            msg_fatal("%s: %s", name, buf_str(why));
        buf_free(why);
        cp = buf_str(expanded);
    }
    if ((mode & CONF_HIDE_NAME) == 0)
        buf_printf(line, "%s =", name);
    for (;;) {
        cp += strspn(cp, " \t\r\n\f\v");
        if (*cp == 0)
            break;
        word = strcspn(cp, " \t\r\n\f\v");
        if (buf_len(line) > 0)
            buf_putc(line, ' ');
        buf_append(line, cp, word);
        cp += word;
    }
    buf_putc(line, '\n');
    fwrite(buf_str(line), 1, buf_len(line), stdout);
    buf_free(line);
    buf_free(expanded);
}

/* conf_default - the default text of a table parameter (computed ones evaluated) */
static const char *conf_default(const PARAM_INFO *info)
{
    /* With -d nothing was read, so the raw value is the default. */
    return config_raw(info->name);
}

/* Collect names for sorted output. */
typedef struct CONF_NAMES {
    const char **names;
    size_t  used;
    size_t  size;
} CONF_NAMES;

/* conf_names_add - remember a name to print */
static void conf_names_add(CONF_NAMES *n, const char *name)
{
    if (n->used == n->size) {
        n->size = n->size ? n->size * 2 : 256;
        n->names = xreallocarray(n->names, n->size, sizeof(*n->names));
    }
    n->names[n->used++] = name;
}

/* What conf_collect_set() adds. */
typedef struct CONF_COLLECT {
    CONF_NAMES *names;
    int     table_too;              /* -n: table parameters set in main.cf as well */
} CONF_COLLECT;

/* conf_collect_set - config_each_set() callback: names set in main.cf */
static void conf_collect_set(const char *name, const char *raw, void *ctx)
{
    CONF_COLLECT *c = ctx;

    (void) raw;
    if (c->table_too || config_param_by_name(name) == NULL)
        conf_names_add(c->names, xstrdup(name));
}

/* conf_cmp - qsort names */
static int conf_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* conf_show_all - every parameter of the chosen kind, sorted */
static void conf_show_all(int mode)
{
    CONF_NAMES n = {NULL, 0, 0};
    CONF_COLLECT c = {&n, (mode & CONF_SHOW_SET) != 0};
    int     id;
    size_t  i;

    if ((mode & CONF_SHOW_SET) == 0)
        for (id = 0; id < PARAM_COUNT; id++)
            conf_names_add(&n, xstrdup(config_param_info((PARAM_ID) id)->name));
    if ((mode & CONF_SHOW_DEFS) == 0)
        (void) config_each_set(conf_collect_set, &c);
    qsort(n.names, n.used, sizeof(*n.names), conf_cmp);
    for (i = 0; i < n.used; i++) {
        conf_print(mode, n.names[i], config_raw(n.names[i]));
        xfree((char *) n.names[i]);
    }
    xfree(n.names);
}

/* conf_show_named - the parameters named on the command line, in that order */
static void conf_show_named(int mode, char **names, int count,
                            const char *const *services, int nservices)
{
    const PARAM_INFO *info;
    BUF    *ref = buf_alloc(64);
    int     i;

    for (i = 0; i < count; i++) {
        const char *name = names[i];

        info = config_param_by_name(name);
        if (mode & CONF_SHOW_DEFS) {
            if (info)
                conf_print(mode, name, conf_default(info));
            else
                msg_warn("%s: unknown parameter", name);
        } else if (config_is_set(name)) {
            conf_print(mode, name, config_raw(name));
        } else if (mode & CONF_SHOW_SET) {
            continue;                   /* -n: only what main.cf sets */
        } else if (info) {
            conf_print(mode, name, config_raw(name));
        } else if ((info = config_service_param(name, services, nservices)) != NULL) {
            buf_sprintf(ref, "$%s", info->name);
            conf_print(mode, name, buf_str(ref));
        } else {
            msg_warn("%s: unknown parameter", name);
        }
    }
    buf_free(ref);
}

/* conf_free_names - release conf_services() output */
static void conf_free_names(char **names)
{
    char  **cp;

    for (cp = names; *cp; cp++)
        xfree(*cp);
    xfree(names);
}

/* conf_show - the display modes */
static int conf_show(const char *dir, int mode, char **names, int count)
{
    char  **services;
    int     nservices;

    config_reset();
    services = conf_services(dir, &nservices);
    if ((mode & CONF_SHOW_DEFS) == 0) {
        config_init(dir);
        (void) config_warn_unknown((const char *const *) services, nservices);
    }
    fflush(stderr);
    if (count == 0)
        conf_show_all(mode);
    else
        conf_show_named(mode, names, count, (const char *const *) services, nservices);
    conf_free_names(services);
    if (fflush(stdout) != 0 || ferror(stdout))
        msg_fatal("write to standard output: %m");
    return 0;
}

/* conf_read_file - the bytes of a file; NULL (errno set) if it cannot be read */
static BUF *conf_read_file(const char *path, struct stat *st)
{
    BUF    *text;
    char    chunk[8192];
    ssize_t n;
    int     fd;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode))
        msg_fatal("%s: not a regular file", path);
    text = buf_alloc((size_t) st->st_size + 1);
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            msg_fatal("read %s: %m", path);
        if (buf_len(text) + (size_t) n > CONF_FILE_MAX)
            msg_fatal("%s: file is larger than %d bytes", path, CONF_FILE_MAX);
        buf_append(text, chunk, (size_t) n);
    }
    close(fd);
    return text;
}

/* conf_write_file - write beside path, fsync, rename over path, fsync the folder */
static void conf_write_file(const char *dir, const char *path, BUF *text,
                            const struct stat *old)
{
    BUF    *tmp = buf_alloc(64);
    size_t  done = 0;
    ssize_t n;
    int     fd;

    buf_sprintf(tmp, "%s.surel-edit-XXXXXX", path);
    conf_temp_path = buf_steal(tmp);
    msg_on_exit(conf_cleanup);
    if ((fd = mkstemp(conf_temp_path)) < 0)     /* O_EXCL: never through a link */
        msg_fatal("create %s: %m", conf_temp_path);
    if (fchmod(fd, old ? old->st_mode & 07777 : 0644) < 0)
        msg_fatal("chmod %s: %m", conf_temp_path);
    if (old && geteuid() == 0 && fchown(fd, old->st_uid, old->st_gid) < 0)
        msg_fatal("chown %s: %m", conf_temp_path);
    while (done < buf_len(text)) {
        if ((n = write(fd, buf_str(text) + done, buf_len(text) - done)) < 0) {
            if (errno == EINTR)
                continue;
            msg_fatal("write %s: %m", conf_temp_path);
        }
        done += (size_t) n;
    }
    if (fsync(fd) < 0 || close(fd) < 0)
        msg_fatal("write %s: %m", conf_temp_path);
    if (rename(conf_temp_path, path) < 0)
        msg_fatal("rename %s to %s: %m", conf_temp_path, path);
    xfree(conf_temp_path);
    conf_temp_path = NULL;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        if (fsync(fd) < 0)
            msg_fatal("fsync %s: %m", dir);
        close(fd);
    }
}

/* conf_parse_edits - name=value (or -X name) arguments into requests */
static CONF_EDIT *conf_parse_edits(char **args, int count, int remove)
{
    CONF_EDIT *edits = xcalloc((size_t) count, sizeof(*edits));
    int     i;
    int     j;

    for (i = 0; i < count; i++) {
        const char *arg = args[i];
        const char *eq = strchr(arg, '=');
        const char *ne = eq ? eq : arg + strlen(arg);
        const char *ns = arg;
        const char *vs;
        const char *ve;

        if (strchr(arg, '\n') != NULL)
            msg_fatal("%s: no multi-line values, please", arg);
        if (remove && eq)
            msg_fatal("-X takes parameter names without a value: %s", arg);
        if (!remove && !eq)
            msg_fatal("missing '=' in \"%s\" (name=value changes main.cf)", arg);
        while (*ns == ' ' || *ns == '\t')
            ns++;
        while (ne > ns && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        edits[i].name = xstrndup(ns, (size_t) (ne - ns));
        if (*edits[i].name == 0 || edits[i].name[strspn(edits[i].name,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")] != 0)
            msg_fatal("bad parameter name in \"%s\"", arg);
        if (eq) {
            vs = eq + 1;
            while (*vs == ' ' || *vs == '\t')
                vs++;
            ve = vs + strlen(vs);
            while (ve > vs && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            edits[i].value = xstrndup(vs, (size_t) (ve - vs));
        }
        for (j = 0; j < i; j++) {
            if (edits[j].name && strcmp(edits[j].name, edits[i].name) == 0) {
                msg_warn("ignoring earlier request: %s", edits[j].name);
                xfree(edits[j].name);
                xfree(edits[j].value);
                edits[j].name = edits[j].value = NULL;
            }
        }
    }
    return edits;
}

/* conf_find_edit - the request for the logical line starting at line, or NULL */
static CONF_EDIT *conf_find_edit(CONF_EDIT *edits, int count, const char *line, size_t len)
{
    size_t  key = 0;
    int     i;

    while (key < len && line[key] != '=' && line[key] != ' ' && line[key] != '\t'
           && line[key] != '\r')
        key++;
    for (i = 0; i < count; i++)
        if (edits[i].name && strlen(edits[i].name) == key
            && strncmp(edits[i].name, line, key) == 0)
            return &edits[i];
    return NULL;
}

/* conf_edit_text - old main.cf bytes to new ones */
static void conf_edit_text(const char *path, const BUF *old, CONF_EDIT *edits, int count,
                           BUF *out)
{
    const char *cp = buf_str(old);
    const char *end = cp + buf_len(old);
    int     dropping = 0;               /* inside a logical line being replaced */
    CONF_EDIT *e;
    int     i;

    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t) (end - cp));
        size_t  len = nl ? (size_t) (nl - cp) + 1 : (size_t) (end - cp);
        size_t  skip = strspn(cp, " \t\r\f\v");

        if (skip >= len || cp[skip] == '\n' || cp[skip] == '#') {
            buf_append(out, cp, len);   /* blank or comment: always kept */
        } else if (skip > 0) {
            if (!dropping)
                buf_append(out, cp, len);
        } else if ((e = conf_find_edit(edits, count, cp, len)) != NULL) {
            if (e->found++ == 1)
                msg_warn("%s: multiple entries for \"%s\"", path, e->name);
            if (e->value)
                buf_printf(out, "%s = %s\n", e->name, e->value);
            dropping = 1;
        } else {
            buf_append(out, cp, len);
            dropping = 0;
        }
        cp += len;
    }
    for (i = 0; i < count; i++) {
        if (edits[i].name && edits[i].value && edits[i].found == 0) {
            if (buf_len(out) > 0 && buf_str(out)[buf_len(out) - 1] != '\n')
                buf_putc(out, '\n');
            buf_printf(out, "%s = %s\n", edits[i].name, edits[i].value);
        }
    }
}

/* conf_cmp_edit - sort requests by name so that appended lines are sorted */
static int conf_cmp_edit(const void *a, const void *b)
{
    const CONF_EDIT *x = a;
    const CONF_EDIT *y = b;

    if (x->name == NULL || y->name == NULL)
        return (x->name == NULL) - (y->name == NULL);
    return strcmp(x->name, y->name);
}

/* conf_edit - change or remove parameters in dir/main.cf */
static int conf_edit(const char *dir, char **args, int count, int remove)
{
    char   *path = conf_path(dir, "main.cf");
    CONF_EDIT *edits = conf_parse_edits(args, count, remove);
    struct stat st;
    BUF    *old = conf_read_file(path, &st);
    int     existed = old != NULL;
    BUF    *out;
    int     i;

    if (old == NULL) {
        if (errno != ENOENT || remove)
            msg_fatal("open %s: %m", path);
        old = buf_alloc(1);             /* a new main.cf */
    }
    qsort(edits, (size_t) count, sizeof(*edits), conf_cmp_edit);
    out = buf_alloc(buf_len(old) + 256);
    conf_edit_text(path, old, edits, count, out);
    conf_write_file(dir, path, out, existed ? &st : NULL);
    for (i = 0; i < count; i++) {
        xfree(edits[i].name);
        xfree(edits[i].value);
    }
    xfree(edits);
    buf_free(old);
    buf_free(out);
    xfree(path);
    return 0;
}

/* conf_master_wanted - is entry e among the names (service or service/type)? */
static int conf_master_wanted(const MASTER_ENT *e, char **names, int count)
{
    int     j;

    if (count == 0)
        return 1;
    for (j = 0; j < count; j++) {
        const char *slash = strchr(names[j], '/');
        size_t  nlen = slash ? (size_t) (slash - names[j]) : strlen(names[j]);

        if (strlen(e->name) == nlen && strncmp(e->name, names[j], nlen) == 0
            && (slash == NULL || strcmp(slash + 1, mastercf_type_name(e->type)) == 0))
            return 1;
    }
    return 0;
}

/* conf_master_fields - postconf -F: every field of one entry */
static void conf_master_fields(const MASTER_ENT *e)
{
    const char *type = mastercf_type_name(e->type);
    int     i;

    printf("%s/%s/service = %s\n", e->name, type, e->name);
    printf("%s/%s/type = %s\n", e->name, type, type);
    printf("%s/%s/private = %s\n", e->name, type, e->private_ ? "y" : "n");
    printf("%s/%s/unprivileged = %s\n", e->name, type, e->unpriv ? "y" : "n");
    printf("%s/%s/chroot = %s\n", e->name, type, e->chroot ? "y" : "n");
    printf("%s/%s/wakeup = %d%s\n", e->name, type, e->wakeup, e->wakeup_on_use ? "?" : "");
    printf("%s/%s/process_limit = %d\n", e->name, type, e->maxproc);
    printf("%s/%s/command =", e->name, type);
    for (i = 0; i < e->argc; i++)
        printf(" %s", e->argv[i]);
    printf("\n");
}

/* conf_master_params - postconf -P: the -o overrides of one entry */
static void conf_master_params(const MASTER_ENT *e)
{
    const char *type = mastercf_type_name(e->type);
    const char *eq;
    int     i;

    for (i = 0; i < e->noverrides; i++) {
        eq = strchr(e->overrides[i], '=');
        if (eq == NULL)
            continue;
        printf("%s/%s/%.*s = %s\n", e->name, type, (int) (eq - e->overrides[i]),
               e->overrides[i], eq + 1);
    }
}

/* conf_master - print master.cf entries (-M), their fields (-F) or their
 * -o parameters (-P), all or those named */
static int conf_master(const char *dir, CONF_ACTION action, char **names, int count)
{
    MASTER_CF cf;
    BUF    *why = buf_alloc(100);
    char   *path = conf_path(dir, "master.cf");
    int     i;

    config_reset();
    config_init(dir);
    if (mastercf_read(path, (int) config_int(P_default_process_limit), &cf, why) < 0)
        msg_fatal("%s", buf_str(why));
    for (i = 0; i < cf.count; i++) {
        const MASTER_ENT *e = &cf.ents[i];

        if (!conf_master_wanted(e, names, count))
            continue;
        if (action == CONF_ACT_FIELDS)
            conf_master_fields(e);
        else if (action == CONF_ACT_PARAMS)
            conf_master_params(e);
        else
            printf("%s\n", e->text);
    }
    mastercf_free(&cf);
    buf_free(why);
    xfree(path);
    if (fflush(stdout) != 0)
        msg_fatal("write to standard output: %m");
    return 0;
}

#define CONF_USAGE "usage: surel conf [-dhnx] [name ...] | [-e] name=value ... | -X name ... " \
                   "| -M|-F|-P [service[/type] ...]"

/* surel_conf_args - options and operands of `surel conf`; 0, or -1 + why */
int     surel_conf_args(int argc, char **argv, CONF_ARGS *args, BUF *why)
{
    int     master = 0;
    CONF_ACTION master_action = CONF_ACT_MASTER;
    int     remove = 0;
    int     edit = 0;
    int     ch;
    int     i;

    memset(args, 0, sizeof(*args));
    args->config_dir = surel_config_dir;
    optind = 0;
    while ((ch = getopt(argc, argv, "c:dehFMnPxX")) != -1) {
        switch (ch) {
        case 'c':
            args->config_dir = optarg;
            break;
        case 'd':
            args->mode |= CONF_SHOW_DEFS;
            break;
        case 'e':
            edit = 1;
            break;
        case 'h':
            args->mode |= CONF_HIDE_NAME;
            break;
        case 'M':
        case 'F':
        case 'P':
            if (master && master_action != (ch == 'M' ? CONF_ACT_MASTER : ch == 'F'
                                            ? CONF_ACT_FIELDS : CONF_ACT_PARAMS)) {
                buf_sprintf(why, "-M, -F and -P exclude each other");
                return -1;
            }
            master = 1;
            master_action = ch == 'M' ? CONF_ACT_MASTER : ch == 'F' ? CONF_ACT_FIELDS
                : CONF_ACT_PARAMS;
            break;
        case 'n':
            args->mode |= CONF_SHOW_SET;
            break;
        case 'x':
            args->mode |= CONF_EXPAND;
            break;
        case 'X':
            remove = 1;
            break;
        default:
            buf_sprintf(why, "%s", CONF_USAGE);
            return -1;
        }
    }
    args->names = argv + optind;
    args->nnames = argc - optind;
    /* A name=value operand means edit, as with postconf. */
    for (i = 0; i < args->nnames && !edit && !remove && !master; i++)
        if (strchr(args->names[i], '=') != NULL)
            edit = 1;
    if ((args->mode & CONF_SHOW_DEFS) && (args->mode & CONF_SHOW_SET)) {
        buf_sprintf(why, "-d and -n exclude each other");
        return -1;
    }
    if (master + remove + edit > 1) {
        buf_sprintf(why, "-M/-F/-P, -X and name=value exclude each other");
        return -1;
    }
    if ((remove || edit) && args->nnames == 0) {
        buf_sprintf(why, "%s", CONF_USAGE);
        return -1;
    }
    args->action = master ? master_action : remove ? CONF_ACT_REMOVE
        : edit ? CONF_ACT_EDIT : CONF_ACT_SHOW;
    return 0;
}

/* surel_conf_main - the `surel conf` verb */
int surel_conf_main(int argc, char **argv)
{
    CONF_ARGS args;
    BUF    *why = buf_alloc(100);
    const char *dir;

    if (surel_conf_args(argc, argv, &args, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    dir = config_choose_dir(args.config_dir);
    switch (args.action) {
    case CONF_ACT_MASTER:
    case CONF_ACT_FIELDS:
    case CONF_ACT_PARAMS:
        return conf_master(dir, args.action, args.names, args.nnames);
    case CONF_ACT_EDIT:
    case CONF_ACT_REMOVE:
        return conf_edit(dir, args.names, args.nnames, args.action == CONF_ACT_REMOVE);
    default:
        return conf_show(dir, args.mode, args.names, args.nnames);
    }
}
