/* sendmail - private interfaces of the sendmail command (sendmail/sendmail_*.c).
 *
 * sendmail.c holds only main(); the option parser, the submission writer,
 * the -bs SMTP dialogue and the modes that run other commands live in
 * testable files (tests/unit/check_sendmail_*.c link them).
 */
#ifndef SUREL_SENDMAIL_H
#define SUREL_SENDMAIL_H

#include <stddef.h>

#include "buf.h"
#include "stream.h"

/* Exit codes: sysexits.h, the contract of every sendmail program. */
#include <sysexits.h>

typedef enum SM_MODE {
    SM_MODE_DELIVER,                    /* -bm (default): read a message, submit it */
    SM_MODE_SMTP,                       /* -bs: SMTP on stdin/stdout */
    SM_MODE_MAILQ,                      /* -bp, mailq: surel queue list */
    SM_MODE_NEWALIASES,                 /* -bi, -I, newaliases: surel map build -a */
    SM_MODE_VERIFY,                     /* -bv: report how recipients resolve */
    SM_MODE_FLUSH                       /* -q: surel queue flush */
} SM_MODE;

typedef struct SM_ARGS {
    SM_MODE mode;
    int     extract;                    /* -t: recipients from the headers */
    int     dot_ends;                   /* a lone "." ends input (not with -i/-oi) */
    const char *sender;                 /* -f/-r, NULL: the login name */
    const char *fullname;               /* -F, NULL: $NAME or the passwd GECOS field */
    const char *config_dir;             /* -C/-c, NULL: $MAIL_CONFIG or the default */
    const char *alias_file;             /* -oA: newaliases builds this one instead */
    int     dsn_notify;                 /* -N: DSN_NOTIFY_* bits, 0 when not given */
    const char *dsn_ret;                /* -R: "FULL" or "HDRS", NULL when not given */
    const char *envid;                  /* -V */
    const char *encoding;               /* -B: "7bit" or "8bitmime", NULL: not said */
    int     verbose;                    /* -v */
    int     nrcpt_args;                 /* recipient arguments after the options */
    char  **rcpt_args;
} SM_ARGS;

/* sendmail_args.c */
int     sm_parse_args(int argc, char **argv, SM_ARGS *args, BUF *why);  /* 0, or -1: usage */
int     sm_parse_addresses(const char *text, char ***list, int *count, BUF *why);
void    sm_free_addresses(char **list, int count);
int     sm_clean_address(const char *text, BUF *addr, int allow_empty, BUF *why);

/* sendmail_submit.c: the record stream that postdrop takes on stdin. */
typedef struct SM_DROP {
    int     pid;                        /* postdrop child, -1 when none */
    STREAM *out;                        /* its stdin */
} SM_DROP;

typedef struct SM_ENVELOPE {
    const char *sender;                 /* internal form, "" for <> */
    const char *fullname;               /* NULL: none */
    int     flags;                      /* CLEANUP_FLAG_EXTRACT or 0 */
    int     dsn_notify;
    const char *dsn_ret;
    const char *envid;
    const char *encoding;
    char  **rcpts;
    const int *notify;                  /* per recipient; NULL: dsn_notify for all */
    char  **orcpts;                     /* per recipient "type;addr" or NULL; NULL: none */
    int     nrcpt;
} SM_ENVELOPE;

const char *sm_postdrop_path(void);     /* $command_directory/postdrop, or $SUREL_POSTDROP (tests) */
int     sm_drop_open(SM_DROP *drop, const char *config_dir, BUF *why);
int     sm_drop_close(SM_DROP *drop, BUF *why);     /* postdrop's verdict: EX_* */
void    sm_drop_abort(SM_DROP *drop);               /* no end record: nothing is queued */
int     sm_put_envelope(STREAM *out, const SM_ENVELOPE *env);
int     sm_put_line(STREAM *out, const char *data, size_t len, int partial);
int     sm_put_end(STREAM *out);
/* sm_copy_message - stdin to records; -1 on a read or write error */
int     sm_copy_message(STREAM *in, STREAM *out, int dot_ends);
int     sm_deliver(const SM_ARGS *args, STREAM *in);    /* -bm: exit code */
const char *sm_login_name(void);
void    sm_default_fullname(BUF *out);

/* sendmail_smtp.c */
int     sm_smtp_session(const SM_ARGS *args, STREAM *in, STREAM *out);  /* -bs: exit code */

/* sendmail_modes.c */
int     sm_run_surel(const SM_ARGS *args, const char *const *verb);     /* exec; exit code on failure */
int     sm_mailq(const SM_ARGS *args);
int     sm_flush(const SM_ARGS *args);
int     sm_newaliases(const SM_ARGS *args);
int     sm_verify(const SM_ARGS *args, STREAM *out);

#endif
