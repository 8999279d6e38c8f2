/* surel_postfix - Postfix's command names as thin front ends to the verbs.
 *
 * Scripts written for Postfix (a certbot hook's `postfix reload`, cron's
 * `postqueue -f`, `postmap /etc/postfix/virtual`, monitoring's
 * `postqueue -j`) keep working when surel is installed under those names
 * (CMake -DSUREL_POSTFIX_NAMES=ON makes the links; the build's bin/ always
 * has them, for the tests). main() sees the name in argv[0] and
 * surel_postfix_argv() rewrites the command line into a surel one, which
 * then runs through the verb table like any other (surel_run: the same
 * option handling, the same set-gid rule). Nothing else is duplicated.
 *
 *   postconf [-c dir] [options] ...      surel conf (same options)
 *   postmap [-c dir] [-q key|-d key|-s|-i] [-v] [TYPE:]FILE ...
 *                                         surel map build FILE ... /
 *                                         surel map query|delete FILE KEY /
 *                                         surel map dump FILE ... / map add FILE
 *   postalias ... (the same)             surel map build -a / map query
 *   postqueue [-c dir] -f | -s site | -i ID | -p | -j
 *                                         surel queue flush [site|-i ID] / list [-j]
 *   postsuper [-c dir] -d|-e|-f|-h|-H|-r ID|ALL|- [... ID] [queue ...]
 *                                         surel queue delete|expire|expire-release|
 *                                         hold|release|requeue
 *   postsuper [-c dir] [-s] [-p] [queue ...]
 *                                         surel queue repair [-s] [-p]
 *   postcat [-c dir] [-e|-h|-b] -q ID    surel queue show [-e|-h|-b] ID
 *   postfix [-c dir] start|start-fg|stop|reload|check|status|flush|logrotate|set-permissions
 *                                         surel start [-f]|stop|...|queue flush|check -f
 *   postlog [-iv] [-c dir] [-p priority] [-t tag] [text ...]
 *                                         surel log [-p priority] [-t tag] [text ...]
 *
 * Postfix options surel does not have (postsuper -S, postcat FILE,
 * several postsuper actions at once) are
 * refused with a message naming them, never ignored: a script must not
 * believe a deletion happened. mailq and newaliases are sendmail's names.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "mem.h"
#include "surel.h"

#define PF_ARGV_EXTRA 8             /* words the rewrite may add */

/* The rewrite under construction. */
typedef struct PF_ARGV {
    char  **argv;
    int     argc;
    int     size;
} PF_ARGV;

/* pf_add - one more word (the caller's strings are borrowed, not copied) */
static void pf_add(PF_ARGV *out, const char *word)
{
    if (out->argc + 1 >= out->size)
        return;                     /* cannot happen: size is argc + PF_ARGV_EXTRA */
    out->argv[out->argc++] = (char *) word;
    out->argv[out->argc] = NULL;
}

/* pf_start - "surel [-c dir]" */
static void pf_start(PF_ARGV *out, const char *config_dir)
{
    pf_add(out, "surel");
    if (config_dir) {
        pf_add(out, "-c");
        pf_add(out, config_dir);
    }
}

/* pf_refuse - getopt's ':' (no argument) or '?' (an option surel does
 * not implement): say which; -1 */
static int pf_refuse(BUF *why, const char *cmd, int ch)
{
    if (ch == ':')
        buf_sprintf(why, "%s: option -%c needs an argument", cmd, optopt);
    else
        buf_sprintf(why, "%s: option -%c is not supported by surel", cmd, optopt);
    return -1;
}

/* pf_postconf - every option is surel conf's (it takes -c itself) */
static int pf_postconf(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    int     i;

    (void) why;
    pf_add(out, "surel");
    pf_add(out, "conf");
    for (i = 1; i < argc; i++)
        pf_add(out, argv[i]);
    return 0;
}

/* pf_postmap - postmap and postalias (alias = 1) */
static int pf_postmap(int argc, char **argv, PF_ARGV *out, BUF *why, int alias)
{
    const char *cmd = alias ? "postalias" : "postmap";
    const char *config_dir = NULL;
    const char *key = NULL;
    const char *delete_key = NULL;
    int     dump = 0;
    int     incremental = 0;
    int     ch;
    int     i;

    while ((ch = getopt(argc, argv, "+:c:q:d:sivNnow")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'q':
            key = optarg;
            break;
        case 'd':
            delete_key = optarg;
            break;
        case 's':
            dump = 1;
            break;
        case 'i':
            incremental = 1;
            break;
        case 'v':
        case 'N':                   /* surel's tables never store the NUL */
        case 'n':
        case 'o':
        case 'w':
            break;
        default:
            return pf_refuse(why, cmd, ch);
        }
    }
    if (optind >= argc) {
        buf_sprintf(why, "usage: %s [-c config_dir] [-q key|-d key|-s|-i] [TYPE:]FILE ...", cmd);
        return -1;
    }
    if ((key != NULL) + (delete_key != NULL) + dump + incremental > 1) {
        buf_sprintf(why, "%s: give one of -q, -d, -s and -i", cmd);
        return -1;
    }
    pf_start(out, config_dir);
    pf_add(out, "map");
    if (dump) {
        pf_add(out, "dump");
        for (i = optind; i < argc; i++)
            pf_add(out, argv[i]);
        return 0;
    }
    if (key || delete_key || incremental) {
        if (argc - optind != 1) {
            buf_sprintf(why, "%s -%c: give exactly one table", cmd,
                        key ? 'q' : delete_key ? 'd' : 'i');
            return -1;
        }
        pf_add(out, key ? "query" : delete_key ? "delete" : "add");
        pf_add(out, argv[optind]);
        if (key || delete_key)
            pf_add(out, key ? key : delete_key);
        return 0;
    }
    pf_add(out, "build");
    if (alias)
        pf_add(out, "-a");
    for (i = optind; i < argc; i++)
        pf_add(out, argv[i]);
    return 0;
}

/* pf_postqueue - -f, -s site, -i ID, -p, -j */
static int pf_postqueue(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    const char *config_dir = NULL;
    const char *site = NULL;
    int     mode = 0;
    int     ch;

    while ((ch = getopt(argc, argv, "+:c:fi:jps:v")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'f':
        case 'j':
        case 'p':
            mode = ch;
            break;
        case 'i':
        case 's':
            mode = ch;
            site = optarg;
            break;
        case 'v':
            break;
        default:
            return pf_refuse(why, "postqueue", ch);
        }
    }
    if (mode == 0 || optind != argc) {
        buf_sprintf(why, "usage: postqueue [-c config_dir] -f | -i ID | -j | -p | -s site");
        return -1;
    }
    pf_start(out, config_dir);
    pf_add(out, "queue");
    if (mode == 'f' || mode == 's' || mode == 'i') {
        pf_add(out, "flush");
        if (mode == 'i')
            pf_add(out, "-i");
        if (site)
            pf_add(out, site);
    } else {
        pf_add(out, "list");
        if (mode == 'j')
            pf_add(out, "-j");
    }
    return 0;
}

/* pf_postsuper - one of -d -h -H -r -e -f with its ID, then queue names;
 * or -s and/or -p (no option at all: both, as Postfix's postsuper) */
static int pf_postsuper(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    const char *config_dir = NULL;
    const char *verb = NULL;
    char  **ids = xcalloc((size_t) argc + 1, sizeof(char *));
    int     nids = 0;
    int     structure = 0;
    int     purge = 0;
    int     ch;
    int     i;
    int     ret = -1;

    while ((ch = getopt(argc, argv, "+:c:d:e:f:h:H:r:psv")) != -1) {
        const char *this_verb = NULL;

        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'd':
            this_verb = "delete";
            break;
        case 'e':
            this_verb = "expire";
            break;
        case 'f':
            this_verb = "expire-release";
            break;
        case 'h':
            this_verb = "hold";
            break;
        case 'H':
            this_verb = "release";
            break;
        case 'r':
            this_verb = "requeue";
            break;
        case 's':
            structure = 1;
            break;
        case 'p':
            purge = 1;
            break;
        case 'v':
            break;
        default:
            xfree(ids);
            return pf_refuse(why, "postsuper", ch);
        }
        if (this_verb) {
            /* The same option again adds an ID (postsuper -d A -d B). */
            if (verb && strcmp(verb, this_verb) != 0) {
                buf_sprintf(why, "postsuper: surel takes one of -d, -e, -f, -h, -H, -r per call");
                goto done;
            }
            verb = this_verb;
            ids[nids++] = optarg;
        }
    }
    if (verb && (structure || purge)) {
        buf_sprintf(why, "postsuper: surel runs -s and -p in a call of their own "
                    "(before -d, -e, -f, -h, -H or -r, as Postfix orders them)");
        goto done;
    }
    for (i = 0; nids > 1 && i < nids; i++) {
        if (strcmp(ids[i], "ALL") == 0 || strcmp(ids[i], "-") == 0) {
            buf_sprintf(why, "postsuper: %s must be the only queue ID of the call", ids[i]);
            goto done;
        }
    }
    pf_start(out, config_dir);
    pf_add(out, "queue");
    if (verb) {
        pf_add(out, verb);
        for (i = 0; i < nids; i++)
            pf_add(out, ids[i]);
    } else {
        pf_add(out, "repair");
        if (structure)
            pf_add(out, "-s");
        if (purge)
            pf_add(out, "-p");
    }
    for (i = optind; i < argc; i++)
        pf_add(out, argv[i]);
    ret = 0;
done:
    xfree(ids);
    return ret;
}

/* pf_postcat - -q ID with -e, -h or -b */
static int pf_postcat(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    const char *config_dir = NULL;
    const char *part = NULL;
    int     queue = 0;
    int     ch;

    while ((ch = getopt(argc, argv, "+:c:ehbqv")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'e':
            part = "-e";
            break;
        case 'h':
            part = "-h";
            break;
        case 'b':
            part = "-b";
            break;
        case 'q':
            queue = 1;
            break;
        case 'v':
            break;
        default:
            return pf_refuse(why, "postcat", ch);
        }
    }
    if (!queue || argc - optind != 1) {
        buf_sprintf(why, "usage: postcat [-c config_dir] [-e|-h|-b] -q ID "
                    "(surel reads queue files by ID only)");
        return -1;
    }
    pf_start(out, config_dir);
    pf_add(out, "queue");
    pf_add(out, "show");
    if (part)
        pf_add(out, part);
    pf_add(out, argv[optind]);
    return 0;
}

/* pf_postfix - the control commands */
static int pf_postfix(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    static const char *const same[] = {"start", "stop", "reload", "check", "status",
                                       "logrotate", NULL};
    const char *config_dir = NULL;
    const char *cmd;
    int     ch;
    int     i;

    while ((ch = getopt(argc, argv, "+:c:Dv")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'D':
        case 'v':
            break;
        default:
            return pf_refuse(why, "postfix", ch);
        }
    }
    if (argc - optind != 1) {
        buf_sprintf(why, "usage: postfix [-c config_dir] "
                    "start|start-fg|stop|reload|check|status|flush|logrotate|set-permissions");
        return -1;
    }
    cmd = argv[optind];
    pf_start(out, config_dir);
    for (i = 0; same[i]; i++) {
        if (strcmp(cmd, same[i]) == 0) {
            pf_add(out, cmd);
            return 0;
        }
    }
    if (strcmp(cmd, "start-fg") == 0) {
        pf_add(out, "start");
        pf_add(out, "-f");
    } else if (strcmp(cmd, "flush") == 0) {
        pf_add(out, "queue");
        pf_add(out, "flush");
    } else if (strcmp(cmd, "set-permissions") == 0) {
        pf_add(out, "check");       /* check -f: Postfix's set-permissions */
        pf_add(out, "-f");
    } else {
        buf_sprintf(why, "postfix: command %s is not supported by surel", cmd);
        return -1;
    }
    return 0;
}

/* pf_postlog - postlog [-iv] [-c dir] [-p priority] [-t tag] [text ...] */
static int pf_postlog(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    const char *config_dir = NULL;
    const char *priority = NULL;
    const char *tag = NULL;
    int     ch;

    while ((ch = getopt(argc, argv, "+:c:ip:t:v")) != -1) {
        switch (ch) {
        case 'c':
            config_dir = optarg;
            break;
        case 'p':
            priority = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        case 'i':                   /* obsolete: the pid is always there */
        case 'v':
            break;
        default:
            return pf_refuse(why, "postlog", ch);
        }
    }
    pf_start(out, config_dir);
    pf_add(out, "log");
    if (priority) {
        pf_add(out, "-p");
        pf_add(out, priority);
    }
    if (tag) {
        pf_add(out, "-t");
        pf_add(out, tag);
    }
    pf_add(out, "--");
    for (; optind < argc; optind++)
        pf_add(out, argv[optind]);
    return 0;
}

/* The names, and their rewrites. */
typedef struct PF_NAME {
    const char *name;
    int     (*fn)(int argc, char **argv, PF_ARGV *out, BUF *why);
} PF_NAME;

static int pf_postmap_only(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    return pf_postmap(argc, argv, out, why, 0);
}

static int pf_postalias(int argc, char **argv, PF_ARGV *out, BUF *why)
{
    return pf_postmap(argc, argv, out, why, 1);
}

static const PF_NAME pf_names[] = {
    {"postconf", pf_postconf},
    {"postmap", pf_postmap_only},
    {"postalias", pf_postalias},
    {"postqueue", pf_postqueue},
    {"postsuper", pf_postsuper},
    {"postcat", pf_postcat},
    {"postfix", pf_postfix},
    {"postlog", pf_postlog},
};

/* pf_find - the row of a program name (argv[0], any folder), or NULL */
static const PF_NAME *pf_find(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    size_t  i;

    base = base ? base + 1 : argv0;
    for (i = 0; i < sizeof(pf_names) / sizeof(pf_names[0]); i++)
        if (strcmp(base, pf_names[i].name) == 0)
            return &pf_names[i];
    return NULL;
}

/* surel_postfix_name - is argv0 one of Postfix's command names? */
int     surel_postfix_name(const char *argv0)
{
    return pf_find(argv0) != NULL;
}

/* surel_postfix_argv - the surel command line for a Postfix one */
int     surel_postfix_argv(int argc, char **argv, char ***out_argv, int *out_argc, BUF *why)
{
    const PF_NAME *row = pf_find(argv[0]);
    PF_ARGV out;
    int     status;

    if (row == NULL) {
        buf_sprintf(why, "%s: not a Postfix command name", argv[0]);
        return -1;
    }
    out.size = argc + PF_ARGV_EXTRA;
    out.argv = xcalloc((size_t) out.size, sizeof(char *));
    out.argc = 0;
    optind = 0;                     /* a fresh getopt, as surel_verb_run does */
    opterr = 0;                     /* pf_refuse says it */
    status = row->fn(argc, argv, &out, why);
    opterr = 1;
    if (status < 0) {
        xfree(out.argv);
        return -1;
    }
    *out_argv = out.argv;
    *out_argc = out.argc;
    return 0;
}

/* surel_postfix_run - the whole command under a Postfix name */
int     surel_postfix_run(int argc, char **argv)
{
    BUF    *why = buf_alloc(100);
    char  **sargv;
    int     sargc;
    int     status;

    if (surel_postfix_argv(argc, argv, &sargv, &sargc, why) < 0) {
        surel_setgid_forget();
        fprintf(stderr, "%s\n", buf_str(why));
        buf_free(why);
        return 2;
    }
    buf_free(why);
    status = surel_run(sargc, sargv);
    xfree(sargv);
    return status;
}
