/* pipe.h - the pipe delivery agent's private interfaces.
 *
 * pipe.c holds main() only; the logic lives in pipe_*.c so that the Check
 * suites (tests/unit/check_pipe_*.c) can call it:
 *     pipe_attr.c     the master.cf arguments: flags= user= size= eol=
 *                     directory= null_sender= argv=
 *     pipe_expand.c   ${sender}, ${recipient}, ... in the argv template
 *     pipe_copy.c     the message as the command reads it (flags, eol)
 *     pipe_command.c  running the command: fork, drop to user=, execve,
 *                     time limit, exit status to DSN status
 *     pipe_service.c  the delivery protocol, the queue file, logging
 */
#ifndef SUREL_PIPE_H
#define SUREL_PIPE_H

#include <sys/types.h>

#include "buf.h"
#include "qfile_read.h"
#include "server.h"
#include "stream.h"

/* flags= letters (Postfix's pipe(8)). */
#define PIPE_FLAG_BLANK     (1 << 0)    /* B: an empty line after the message */
#define PIPE_FLAG_DELIVERED (1 << 1)    /* D: Delivered-To: recipient */
#define PIPE_FLAG_FROM      (1 << 2)    /* F: "From sender date" first line */
#define PIPE_FLAG_ORIG_RCPT (1 << 3)    /* O: X-Original-To: original recipient */
#define PIPE_FLAG_RETURN    (1 << 4)    /* R: Return-Path: <sender> */
#define PIPE_FLAG_FINAL     (1 << 5)    /* X: final delivery (DSN "delivered") */
#define PIPE_FLAG_FOLD_HOST (1 << 6)    /* h: domains in lower case */
#define PIPE_FLAG_QUOTE     (1 << 7)    /* q: addresses in RFC 5321 quoted form */
#define PIPE_FLAG_FOLD_USER (1 << 8)    /* u: local parts in lower case */
#define PIPE_FLAG_DOT       (1 << 9)    /* .: "." before lines that start with "." */
#define PIPE_FLAG_QUOTE_FROM (1 << 10)  /* >: ">" before lines that start with "From " */

#define PIPE_ARGV_MAX       256         /* template arguments */
#define PIPE_EOL_MAX        8           /* bytes of a decoded eol= */

/* What the master.cf line says, checked at start-up. */
typedef struct PIPE_ATTR {
    int     flags;                  /* PIPE_FLAG_* */
    char   *user;                   /* user= name, for log lines */
    uid_t   uid;                    /* user='s ids (group: :GROUP, else the user's) */
    gid_t   gid;
    long    size_limit;             /* size=: bytes, 0 for none */
    char    eol[PIPE_EOL_MAX + 1];  /* eol=, decoded: "\n" by default */
    char   *directory;              /* directory=, or NULL: queue_directory */
    char   *null_sender;            /* null_sender=: for <> (default MAILER-DAEMON) */
    int     argc;                   /* argv= template, argc >= 1 */
    char  **argv;
} PIPE_ATTR;

/* pipe_attr_parse - the service's arguments into attr (user= looked up
 * with getpwnam/getgrnam and refused when it is root, mail_owner or a
 * privileged group, as Postfix does); 0, or -1 with why. */
int     pipe_attr_parse(int argc, char **argv, PIPE_ATTR *attr, BUF *why);
void    pipe_attr_free(PIPE_ATTR *attr);

/* The values macros expand to. Per-recipient ones are arrays of nrcpt. */
typedef struct PIPE_RCPT_VARS {
    const char *recipient;          /* ${recipient}, folded and quoted per flags */
    const char *original_recipient;
    const char *mailbox;            /* local part */
    const char *user;               /* local part without the extension */
    const char *extension;
    const char *domain;
} PIPE_RCPT_VARS;

typedef struct PIPE_VARS {
    const char *sender;             /* null_sender for <>, quoted per flags */
    const char *nexthop;
    const char *queue_id;
    const char *size;
    const char *client_address, *client_helo, *client_hostname, *client_port,
           *client_protocol, *sasl_method, *sasl_sender, *sasl_username;
    int     nrcpt;
    const PIPE_RCPT_VARS *rcpt;
} PIPE_VARS;

/* pipe_expand_check - does every macro of the template name a macro pipe
 * knows, with valid syntax? 0, or -1 with why (start-up). */
int     pipe_expand_check(int argc, char **argv, BUF *why);

/* pipe_expand_argv - the command's argv: each template argument expanded
 * once, or once per recipient when it names a per-recipient macro
 * (${recipient}, ${original_recipient}, ${user}, ${extension},
 * ${mailbox}, ${domain}); NULL-ended, free with pipe_argv_free. NULL with
 * why when the result would have more than PIPE_ARGV_MAX * 10 arguments. */
char  **pipe_expand_argv(int argc, char **argv, const PIPE_VARS *vars, BUF *why);
void    pipe_argv_free(char **argv);

/* The rcpt-dependent part of the copy. */
typedef struct PIPE_COPY {
    const char *sender;             /* null_sender already applied */
    const char *delivered;          /* D: the recipient */
    const char *orig_rcpt;          /* O: the original recipient */
} PIPE_COPY;

/* pipe_copy - the message content of a verified queue file (fd) as the
 * command reads it, into out_fd; 0, or -1 with why. */
int     pipe_copy(int fd, const QFILE_ENVELOPE *env, const PIPE_ATTR *attr,
                  const PIPE_COPY *copy, int out_fd, BUF *why);

/* pipe_command - run argv with in_fd as its standard input, as attr's
 * user, within time_limit seconds; the result as a DELIVER_STAT_* with
 * dsn and reason filled in (Postfix's pipe_command rules). */
int     pipe_command(char **argv, const PIPE_ATTR *attr, int in_fd, long time_limit,
                     BUF *dsn, BUF *reason);

/* The environment the command gets: export_environment from ours, and
 * PATH (pipe_command.c). */
char  **pipe_command_env(void);

/* The service. */
void    pipe_init(const SERVER_CTX *ctx);
void    pipe_service(STREAM *client, const SERVER_CTX *ctx);

#endif
