/*
 * NAME
 *      surel - administer a surel mail system
 * SYNOPSIS
 *      surel [-c config_dir] [-v] verb [arguments]
 * DESCRIPTION
 *      The one admin command (Postfix's postfix, postconf, postmap,
 *      postqueue and postsuper in one). Verbs:
 *
 *      start [-f]      start the master (-f: stay in the foreground)
 *      stop            stop the master and every daemon
 *      reload          re-read main.cf and master.cf (SIGHUP to master)
 *      status          say whether the mail system runs (exit 0) or not (1)
 *      check           verify configuration, folders, owners and modes
 *      conf [-d|-n] [name[=value] ...]
 *                      show or edit main.cf, as postconf does
 *      map build|query TYPE:FILE [KEY]
 *                      build or query a lookup table, as postmap does
 *      sandbox DIR [--smtp-port N]
 *                      write a complete instance that runs without root
 *      queue list [-j] | flush [site] | show [-e|-h|-b] ID |
 *            delete|hold|release|requeue ID|ALL|- [queue...]
 *                      look at and change the mail queue, as postqueue,
 *                      postsuper and postcat do
 *
 *      -c config_dir (or $MAIL_CONFIG) selects the configuration folder.
 * SECURITY
 *      Verbs that change the mail system need the rights of the instance's
 *      owner (root for a system instance); read-only verbs work for anyone
 *      who can read the configuration. No verb runs a shell.
 * DIAGNOSTICS
 *      Problems go to stderr; the exit status is 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msg.h"
#include "surel.h"

const char *surel_config_dir;

/* Verbs are weak so that a verb's file may be developed apart; a verb
 * whose file is missing from the build says so instead of failing to link. */
#pragma weak surel_start_main
#pragma weak surel_stop_main
#pragma weak surel_reload_main
#pragma weak surel_status_main
#pragma weak surel_check_main
#pragma weak surel_conf_main
#pragma weak surel_map_main
#pragma weak surel_sandbox_main
#pragma weak surel_queue_main

static const struct {
    const char *name;
    int     (*fn)(int, char **);
    const char *help;
} surel_verbs[] = {
    {"start", surel_start_main, "start [-f]"},
    {"stop", surel_stop_main, "stop"},
    {"reload", surel_reload_main, "reload"},
    {"status", surel_status_main, "status"},
    {"check", surel_check_main, "check"},
    {"conf", surel_conf_main, "conf [-d|-n] [name[=value] ...]"},
    {"map", surel_map_main, "map build|query TYPE:FILE [KEY]"},
    {"sandbox", surel_sandbox_main, "sandbox DIR [--smtp-port N]"},
    {"queue", surel_queue_main, "queue list [-j]|flush [site]|show [-e|-h|-b] ID|\n"
     "          delete|hold|release|requeue ID|ALL|- [queue...]"},
};

#define SUREL_NVERBS (sizeof(surel_verbs) / sizeof(surel_verbs[0]))

static void usage(void)
{
    size_t i;

    fprintf(stderr, "usage: surel [-c config_dir] [-v] verb [arguments]\nverbs:\n");
    for (i = 0; i < SUREL_NVERBS; i++)
        fprintf(stderr, "  surel %s\n", surel_verbs[i].help);
    exit(2);
}

int main(int argc, char **argv)
{
    int     ch;
    size_t  i;

    msg_init("surel", MSG_TO_STDERR);
    surel_setgid_init();
    while ((ch = getopt(argc, argv, "+c:v")) != -1) {
        switch (ch) {
        case 'c':
            surel_config_dir = optarg;
            break;
        case 'v':
            msg_verbose++;
            break;
        default:
            usage();
        }
    }
    if (optind >= argc)
        usage();
    for (i = 0; i < SUREL_NVERBS; i++) {
        if (strcmp(argv[optind], surel_verbs[i].name) == 0) {
            if (surel_verbs[i].fn == NULL)
                msg_fatal("verb '%s' is not part of this build", argv[optind]);
            /* Each verb parses its own options from argv[1]; optind = 0
             * makes glibc's getopt start afresh. */
            if (strcmp(argv[optind], "queue") != 0)
                surel_setgid_forget();
            argc -= optind;
            argv += optind;
            optind = 0;
            return surel_verbs[i].fn(argc, argv);
        }
    }
    msg_warn("unknown verb '%s'", argv[optind]);
    usage();
}
