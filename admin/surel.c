/*
 * NAME
 *      surel - administer a surel mail system
 * SYNOPSIS
 *      surel [-c config_dir] [-v] verb [arguments]
 *      surel --help | --version | help VERB
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
 *      passwd [-6]     print a yescrypt (SHA-512-crypt) hash of the password
 *                      on stdin, for authd_password_maps
 *      sandbox DIR [--smtp-port N]
 *                      write a complete instance that runs without root
 *      queue list [-j] | flush [site] | show [-e|-h|-b] ID |
 *            delete|hold|release|requeue ID|ALL|- [queue...]
 *                      look at and change the mail queue, as postqueue,
 *                      postsuper and postcat do
 *
 *      help [VERB]     say what a verb does (surel --help: every verb)
 *
 *      Installed with -DSUREL_POSTFIX_NAMES=ON, surel also answers to
 *      Postfix's names: postconf, postmap, postalias, postqueue (-f -s -p
 *      -j), postsuper (-d -h -H -r), postcat (-q -e -h -b) and postfix
 *      (start stop reload check status flush), see admin/surel_postfix.c.
 *
 *      -c config_dir (or $MAIL_CONFIG) selects the configuration folder.
 *      --version prints `surel VERSION` (mail_version's built-in value).
 *      The verbs are the rows of admin/surel_verbs.c.
 * SECURITY
 *      Verbs that change the mail system need the rights of the instance's
 *      owner (root for a system instance); read-only verbs work for anyone
 *      who can read the configuration. No verb runs a shell.
 * DIAGNOSTICS
 *      Problems go to stderr; the exit status is 0 on success.
 */
#include "msg.h"
#include "surel.h"

/* main - log to stderr, give up a set-gid right at once, run the verb
 * (under a Postfix name, as that command: surel_postfix.c) */
int main(int argc, char **argv)
{
    if (argc > 0 && surel_postfix_name(argv[0])) {
        msg_init(argv[0], MSG_TO_STDERR);
        surel_setgid_init();
        return surel_postfix_run(argc, argv);
    }
    msg_init("surel", MSG_TO_STDERR);
    surel_setgid_init();
    return surel_run(argc, argv);
}
