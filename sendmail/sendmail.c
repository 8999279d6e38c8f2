/*
 * NAME
 *      sendmail, mailq, newaliases - the Sendmail-compatible command
 * SYNOPSIS
 *      sendmail [options] [recipient ...]
 *      mailq        (sendmail -bp)
 *      newaliases   (sendmail -bi)
 * DESCRIPTION
 *      With no mode option (-bm), reads a message from standard input
 *      and queues it for the recipients on the command line, or with -t
 *      for those in its To, Cc and Bcc headers as well (cleanup extracts
 *      them and removes Bcc). Input ends at end of file or, without -i,
 *      at a line that is a lone ".". CRLF and LF both end a line; a
 *      leading mbox "From " line is dropped.
 *
 *      The message goes to postdrop(8) as the maildrop record stream
 *      (lib/global/maildrop.h); postdrop writes maildrop/ and wakes pickup, so a
 *      message is accepted even while the mail system is stopped.
 *
 *      Options (Postfix's set):
 *      -t              recipients from the headers too (To, Cc, Bcc)
 *      -i, -oi         a lone "." does not end the input
 *      -f sender, -r sender   envelope sender (default: the login name;
 *                      "<>" for the null sender)
 *      -F fullname     the sender's full name (default $NAME, else GECOS)
 *      -N dsn          never, or a list of success, delay, failure
 *      -R hdrs|full    what a DSN returns;  -V envid: the envelope id
 *      -B 8BITMIME|7BIT  the body type
 *      -bm             deliver (the default)
 *      -bs             SMTP on stdin/stdout (sendmail_smtp.c)
 *      -bp             list the queue: runs `surel queue list`
 *      -bi, -I         rebuild $alias_database: runs `surel map build -a`
 *                      (-oAfile builds that file instead)
 *      -bv             report the transport each recipient resolves to
 *      -q              flush the queue: runs `surel queue flush`
 *                      (-q<interval> is ignored; -qR, -qI flush it all)
 *      -C dir, -c dir  configuration folder
 *      -v              more output
 *      Accepted and ignored as Postfix does: -oX for any other X (-odi,
 *      -oem, -om, -o7, -o8...), -O option=value, -X log, -U, -n, -m, -G,
 *      -h hops, -L label, -e x, -p proto, -x. "--" ends the options.
 * EXIT STATUS
 *      sysexits.h: 0 queued; EX_USAGE bad options or no recipients;
 *      EX_NOUSER a bad address; EX_DATAERR a message postdrop refused
 *      (too large, malformed); EX_TEMPFAIL, EX_IOERR, EX_OSERR,
 *      EX_UNAVAILABLE when the message could not be queued now.
 * SECURITY
 *      Runs with the caller's rights and nothing more; all of its input
 *      is the caller's own. It never writes the queue: postdrop does, and
 *      checks everything again. Other commands are run by exec with a
 *      fixed argv, never through a shell.
 * PARAMETERS READ
 *      command_directory (where postdrop and surel are), alias_database,
 *      myhostname (-bs greeting), mydestination, transport_maps,
 *      relay_domains, relayhost, default_transport, local_transport,
 *      relay_transport (-bv), syslog_name (the log prefix).
 * ENVIRONMENT
 *      MAIL_CONFIG (the configuration folder), NAME (the full name),
 *      SUREL_POSTDROP and SUREL_COMMAND (tests: the programs to run).
 */
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "msg.h"
#include "sendmail.h"

int     main(int argc, char **argv)
{
    SM_ARGS args;
    BUF    *why = buf_alloc(100);
    STREAM *in;
    STREAM *out;
    int     status;

    msg_init("sendmail", MSG_TO_STDERR);
    if (sm_parse_args(argc, argv, &args, why) < 0) {
        fprintf(stderr, "sendmail: %s\n", buf_str(why));
        fprintf(stderr, "usage: sendmail [-t] [-i] [-f sender] [-F name] [-bm|-bs|-bp|-bi|-bv] "
                "[-q] [-N dsn] [-R hdrs|full] [-V envid] [-B type] [-C dir] [recipient ...]\n");
        return EX_USAGE;
    }
    config_init(args.config_dir);
    msg_set_name(config_str(P_syslog_name));
    if (args.verbose)
        msg_verbose = args.verbose;
    in = stream_fdopen(0);
    out = stream_fdopen(1);
    switch (args.mode) {
    case SM_MODE_SMTP:
        status = sm_smtp_session(&args, in, out);
        break;
    case SM_MODE_MAILQ:
        status = sm_mailq(&args);
        break;
    case SM_MODE_FLUSH:
        status = sm_flush(&args);
        break;
    case SM_MODE_NEWALIASES:
        status = sm_newaliases(&args);
        break;
    case SM_MODE_VERIFY:
        status = sm_verify(&args, out);
        break;
    default:
        status = sm_deliver(&args, in);
        break;
    }
    stream_flush(out);
    return status;
}
