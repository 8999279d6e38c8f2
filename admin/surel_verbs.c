/* surel_verbs - the verb table of the surel command and its dispatcher.
 *
 * One row per verb {name, function, needs set-gid, usage, help}; `surel
 * queue` has its own rows of the same kind (surel_queue.c). Dispatching
 * goes through surel_verb_run() alone, which is also the one place where a
 * verb that does not need the set-gid right (all but queue list and queue
 * flush) loses it for good before it runs. Also here: the top-level
 * options (-c, -v, --help, --version) and the `help` verb.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "msg.h"
#include "surel.h"

const char *surel_config_dir;

static int surel_help_main(int argc, char **argv);

const SUREL_VERB surel_verbs[] = {
    {"start", surel_start_main, 0, "start [-f]",
     "start the master (-f: stay in the foreground)"},
    {"stop", surel_stop_main, 0, "stop", "stop the master and every daemon"},
    {"reload", surel_reload_main, 0, "reload",
     "re-read main.cf and master.cf (SIGHUP to the master)"},
    {"status", surel_status_main, 0, "status",
     "say whether the mail system runs (exit 0) or not (exit 1)"},
    {"logrotate", surel_logrotate_main, 0, "logrotate",
     "rotate maillog_file: rename it (maillog_file_rotate_suffix), make a new one,\n"
     "compress the old one (maillog_file_compressor), as postfix logrotate"},
    {"log", surel_log_main, 0, "log [-p priority] [-t tag] [text ...]",
     "log the text (or each line of stdin) where the mail system logs, as postlog"},
    {"check", surel_check_main, 0, "check",
     "verify the configuration, the programs, folders, owners and modes"},
    {"conf", surel_conf_main, 0, "conf [-dhnx] [name ...] | [-e] name=value ... | -X name ... | -M",
     "show or edit main.cf, as postconf does: -d defaults, -n only what main.cf\n"
     "sets, -h values only, -x expand $name, -X remove, -M master.cf entries"},
    {"map", surel_map_main, 0, "map build [-a] [TYPE:]FILE ... | query TYPE:FILE KEY|-",
     "build or query a lookup table, as postmap does (-a: an aliases file)"},
    {"passwd", surel_passwd_main, 0, "passwd [-6] < password",
     "print a yescrypt (-6: SHA-512-crypt) hash of the password read from stdin,\n"
     "for authd_password_maps"},
    {"sandbox", surel_sandbox_main, 0, "sandbox DIR [--smtp-port N] [--force]",
     "write a complete instance under DIR that runs without root"},
    /* The sub-verb decides: list and flush keep the right, the others drop it. */
    {"queue", surel_queue_main, 1, "queue list|flush|show|delete|hold|release|requeue ...",
     "look at and change the mail queue, as postqueue, postsuper and postcat do"},
    {"help", surel_help_main, 0, "help [VERB]", "say what a verb does"},
};
const size_t surel_nverbs = sizeof(surel_verbs) / sizeof(surel_verbs[0]);

/* surel_verb_find - the row of a verb, or NULL */
const SUREL_VERB *surel_verb_find(const SUREL_VERB *table, size_t n, const char *name)
{
    size_t  i;

    for (i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

/* surel_verb_run - drop the set-gid right unless needed; run the verb */
int     surel_verb_run(const SUREL_VERB *verb, int argc, char **argv)
{
    if (!verb->needs_setgid)
        surel_setgid_forget();
    /* Each verb parses its own options from argv[1]; optind = 0 makes
     * glibc's getopt start afresh. */
    optind = 0;
    return verb->fn(argc, argv);
}

/* surel_verb_list - one synopsis line per row */
void    surel_verb_list(FILE *fp, const char *prefix, const SUREL_VERB *table, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
        fprintf(fp, "%s%s\n", prefix, table[i].usage);
}

/* surel_usage - the command's synopsis and its verbs */
static void surel_usage(FILE *fp)
{
    fprintf(fp, "usage: surel [-c config_dir] [-v] verb [arguments]\n"
            "       surel --help | --version | help VERB\n"
            "verbs:\n");
    surel_verb_list(fp, "  surel ", surel_verbs, surel_nverbs);
}

/* surel_verb_help - `surel help VERB`: synopsis and help of one verb */
static void surel_verb_help(const SUREL_VERB *verb)
{
    printf("usage: surel %s\n\n%s\n", verb->usage, verb->help);
    if (verb->fn == surel_queue_main) {
        printf("\n");
        surel_verb_list(stdout, "  surel ", surel_queue_verbs, surel_queue_nverbs);
    }
}

/* surel_help_main - the `help [VERB]` verb */
static int surel_help_main(int argc, char **argv)
{
    const SUREL_VERB *verb;

    if (argc == 1) {
        surel_usage(stdout);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: surel help [VERB]\n");
        return 2;
    }
    if ((verb = surel_verb_find(surel_verbs, surel_nverbs, argv[1])) == NULL) {
        fprintf(stderr, "surel: unknown verb '%s'\n", argv[1]);
        surel_usage(stderr);
        return 2;
    }
    surel_verb_help(verb);
    return 0;
}

/* surel_args - the options before the verb; 0, or -1 + why */
int     surel_args(int argc, char **argv, SUREL_ARGS *args, BUF *why)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int     ch;

    memset(args, 0, sizeof(*args));
    optind = 0;
    /* "+": stop at the verb; its options are its own. */
    while ((ch = getopt_long(argc, argv, "+c:hv", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            args->config_dir = optarg;
            break;
        case 'h':
            args->help = 1;
            break;
        case 'v':
            args->verbose++;
            break;
        case 'V':
            args->version = 1;
            break;
        default:
            buf_sprintf(why, "bad option; see surel --help");
            return -1;
        }
    }
    args->verb_index = optind;
    if (!args->help && !args->version && optind >= argc) {
        buf_sprintf(why, "no verb given; see surel --help");
        return -1;
    }
    return 0;
}

/* surel_run - the whole command */
int     surel_run(int argc, char **argv)
{
    SUREL_ARGS args;
    const SUREL_VERB *verb;
    BUF    *why = buf_alloc(100);

    if (surel_args(argc, argv, &args, why) < 0) {
        surel_setgid_forget();
        fprintf(stderr, "surel: %s\n", buf_str(why));
        surel_usage(stderr);
        return 2;
    }
    buf_free(why);
    surel_config_dir = args.config_dir;
    msg_verbose += args.verbose;
    if (args.help || args.version) {
        surel_setgid_forget();
        if (args.version)
            /* The built-in default: no main.cf is needed to say it. */
            printf("surel %s\n", config_param_info(P_mail_version)->def);
        else
            surel_usage(stdout);
        return 0;
    }
    if ((verb = surel_verb_find(surel_verbs, surel_nverbs, argv[args.verb_index])) == NULL) {
        surel_setgid_forget();
        fprintf(stderr, "surel: unknown verb '%s'\n", argv[args.verb_index]);
        surel_usage(stderr);
        return 2;
    }
    return surel_verb_run(verb, argc - args.verb_index, argv + args.verb_index);
}
