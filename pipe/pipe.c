/* pipe - the surel pipe delivery agent
 *
 * SYNOPSIS
 *     pipe [generic daemon options] [flags=BDFORXhqu.>] user=USER[:GROUP]
 *          [size=N] [eol=TEXT] [directory=PATH] [null_sender=TEXT]
 *          argv=COMMAND ARGS...                     (master.cf, unpriv n)
 *
 * DESCRIPTION
 *     Postfix's pipe(8): hands each delivery request to an external
 *     command, the message on its standard input, e.g. Debian's
 *         maildrop unix - n n - - pipe
 *           flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}
 *     The arguments after the daemon options are the pipe attributes
 *     (pipe_attr.c), checked at start-up; argv= is last and takes the rest
 *     of the line, with ${sender}, ${recipient}, ${user}, ${extension},
 *     ${domain}, ${nexthop}, ${mailbox}, ${original_recipient},
 *     ${client_address}, ${queue_id}, ${size}, ${sasl_username} ...
 *     expanded (pipe_expand.c). The command runs once per request, for
 *     all of its recipients (<service>_destination_recipient_limit = 1
 *     gives one command per recipient), and its exit status decides for
 *     all of them (pipe_command.c: 0 sent, 75 deferred, 67 bounced 5.1.1,
 *     ...). Log lines have relay=<service> (pipe_service.c).
 *
 * SECURITY
 *     Runs as root (master.cf unpriv n), like local: it reads the queue
 *     file, and forks a child that gives up root for good (user=, never
 *     root nor $mail_owner) before running the command. No shell ever
 *     sees envelope data: argv is built here and handed to execvpe, so a
 *     recipient such as "x;rm -rf /"@example is one argument. The
 *     environment is export_environment and PATH only. Confinement:
 *     local's (the kernel attack surface denied, no Landlock: the
 *     commands may need any file).
 *
 * PARAMETERS
 *     command_time_limit (1000s), <service>_time_limit (command_time_limit),
 *     <service>_destination_recipient_limit (qmgr),
 *     export_environment (TZ MAIL_CONFIG LANG), recipient_delimiter,
 *     mail_owner, setgid_group (user= may name neither).
 */
#include "pipe.h"
#include "server.h"

int main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.pre_init = pipe_init, .confine = "pipe"};

    single_server_main(argc, argv, pipe_service, &hooks);
}
