/* local.h - the local delivery agent's private interfaces.
 *
 * local.c holds main() only; the logic lives in local_*.c so that the
 * Check suites (tests/unit/check_local_*.c) can call it:
 *     local_service.c   the delivery protocol, the queue file, logging
 *     local_status.c    one delivery's outcome; merging outcomes (a leaf)
 *     local_resolve.c   one recipient: aliases, users, .forward, loops
 *     local_dotforward.c  finding and reading .forward (and owned files)
 *     local_alias.c     alias tables and who owns them
 *     local_user.c      passwd and sandbox users; privileges
 *     local_expand.c    $home/$user/... expansion; alias value tokens
 *     local_copy.c      the message content, as each destination wants it
 *     local_mailbox.c   Maildir, mbox and /file destinations
 *     local_command.c   |command destinations and mailbox_command
 *     local_reinject.c  non-local addresses: a new message via cleanup
 *     local_virtual.c   virtual(8): the program called `virtual`
 */
#ifndef SUREL_LOCAL_H
#define SUREL_LOCAL_H

#include <sys/time.h>
#include <sys/types.h>

#include "buf.h"
#include "deliver_request.h"
#include "dict.h"
#include "server.h"
#include "stream.h"

/* The outcome of one delivery attempt (DELIVER_STAT_* of mail_proto.h). */
typedef struct LOCAL_STATUS {
    int     stat;                   /* DELIVER_STAT_OK, _DEFER, _BOUNCE */
    char    dsn[16];                /* "2.0.0" */
    BUF    *why;                    /* reason text: "delivered to maildir" */
    int     logged;                 /* another agent logged it (mailbox_transport) */
} LOCAL_STATUS;

void    local_status_init(LOCAL_STATUS *st);
void    local_status_free(LOCAL_STATUS *st);
void    local_status_set(LOCAL_STATUS *st, const char *dsn, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
void    local_status_merge(LOCAL_STATUS *into, const LOCAL_STATUS *from);

/* Rights for one delivery: the user whose uid/gid a write is done with. */
typedef struct LOCAL_PRIVS {
    uid_t   uid;
    gid_t   gid;
    char   *name;                   /* for log lines and $USER */
} LOCAL_PRIVS;

/* A mailbox owner: a passwd user, or a sandbox user. */
typedef struct LOCAL_USER {
    char   *name;                   /* lower case */
    uid_t   uid;
    gid_t   gid;
    char   *home;
    char   *shell;
    int     sandbox;                /* from $sandbox_users */
} LOCAL_USER;

DICT_STATUS local_user_find(const char *name, LOCAL_USER *user, BUF *why);
void    local_user_free(LOCAL_USER *user);
int     local_privs_for_uid(uid_t uid, LOCAL_PRIVS *privs, BUF *why);
int     local_privs_default(LOCAL_PRIVS *privs, BUF *why);
void    local_privs_from_user(const LOCAL_USER *user, LOCAL_PRIVS *privs);
void    local_privs_copy(LOCAL_PRIVS *to, const LOCAL_PRIVS *from);
void    local_privs_free(LOCAL_PRIVS *privs);
void    local_privs_enter(uid_t uid, gid_t gid);
void    local_privs_leave(void);
int     local_is_root(void);
void    local_user_reset(void);     /* forget the sandbox user list (tests) */

/* Alias tables, each with the uid that owns it (commands and files in
 * an alias run with that user's rights; root-owned: $default_privs). */
int     local_alias_open(const char *list, BUF *why);
DICT_STATUS local_alias_find(const char *name, BUF *value, uid_t *owner, BUF *why);
void    local_alias_close(void);

/* $name expansion for forward_path and luser_relay. */
typedef struct LOCAL_VARS {
    const char *home, *user, *shell, *local, *domain, *extension,
           *recipient, *recipient_delimiter, *sender;
} LOCAL_VARS;

#define LOCAL_EXP_EMPTY_EXT  (1 << 0)   /* ${extension} was used and empty */
int     local_expand(const char *text, const LOCAL_VARS *vars, const char *filter, BUF *out,
                     int *flags, BUF *why);
void    local_censor(char *text, const char *filter);     /* others become '_' */
char  **local_tokens(const char *value, int *count);   /* alias/.forward items */
void    local_tokens_free(char **tokens);
int     local_split_extension(const char *local, const char *delims, BUF *user,
                              BUF *ext, char *delim_used);
int     local_list_has(const char *list, const char *word);

/* .forward and :include: files (local_dotforward.c): read with privs; 1
 * with text and owner, 0 missing, -1 with why. */
int     local_read_owned(const char *path, const LOCAL_PRIVS *privs, char **text,
                         uid_t *owner, BUF *why);
int     local_dotforward_read(const char *queue_id, const LOCAL_USER *user,
                              const LOCAL_PRIVS *privs, const LOCAL_VARS *vars, char **text,
                              BUF *why);

/* The message being delivered: the open queue file and what was learned. */
#define LOCAL_MAX_DELIVERED 64      /* Delivered-To headers remembered */

typedef struct LOCAL_MSG {
    const DELIVER_REQUEST *req;     /* qmgr's request (mailbox_transport passes it on) */
    char   *queue_id;
    int     fd;                     /* queue file, read-only, shared flock */
    long    data_offset;            /* of the M record */
    long    content_size;
    char   *sender;                 /* envelope sender ("" for <>) */
    struct timeval arrival;
    struct timeval start;           /* when the request came in */
    int     hops;                   /* Received: headers (header_is_hop) */
    int     ndelivered;
    char   *delivered[LOCAL_MAX_DELIVERED];    /* Delivered-To values, lower case */
} LOCAL_MSG;

int     local_msg_scan(LOCAL_MSG *msg, BUF *why);
int     local_msg_delivered(const LOCAL_MSG *msg, const char *addr);
void    local_msg_free_headers(LOCAL_MSG *msg);

/* What to put around the content (Postfix's mail_copy flags). */
#define LOCAL_COPY_FROM     (1 << 0)    /* "From sender date" first line */
#define LOCAL_COPY_QUOTE    (1 << 1)    /* ">From " quoting of content lines */
#define LOCAL_COPY_BLANK    (1 << 2)    /* an empty line at the end */
#define LOCAL_COPY_HEADERS  (1 << 3)    /* Return-Path: and Delivered-To: */
#define LOCAL_COPY_MBOX     (LOCAL_COPY_FROM | LOCAL_COPY_QUOTE | LOCAL_COPY_BLANK | LOCAL_COPY_HEADERS)

/* local_copy results. */
#define LOCAL_COPY_OK       0
#define LOCAL_COPY_WRITE    (-1)        /* write error: errno is set */
#define LOCAL_COPY_READ     (-2)        /* queue file unreadable */
#define LOCAL_COPY_LIMIT    (-3)        /* more than the size limit */

/* sender: internal form (quoted here); delivered: external form already. */
int     local_copy(const LOCAL_MSG *msg, const char *sender, const char *delivered,
                   int fd, int flags, long limit, BUF *why);
void    local_from_line(BUF *out, const char *sender, time_t when);
int     local_copy_records(const LOCAL_MSG *msg, const char *first_line, STREAM *out,
                           BUF *why);

/* One top-level recipient's delivery: the state its expansion shares. */
#define LOCAL_DEPTH_MAX     100         /* nesting of aliases/.forward/:include: */
#define LOCAL_SEEN_MAX      1000        /* destinations per recipient */

typedef struct LOCAL_STATE {
    LOCAL_MSG *msg;
    const DELIVER_RCPT *rcpt;       /* qmgr's recipient (mailbox_transport) */
    const char *orig_rcpt;          /* as qmgr gave it: orig_to= */
    char   *delivered;              /* Delivered-To value: the recipient, lower case,
                                     * external (RFC 5321 quoted) form */
    LOCAL_STATUS result;            /* everything merged */
    int     ndest;                  /* destinations tried */
    int     nseen;
    char   *seen[LOCAL_SEEN_MAX];   /* destinations already done (duplicates) */
    int     depth;
    char   *stack[LOCAL_DEPTH_MAX]; /* local names being expanded */
} LOCAL_STATE;

/* Where an address came from: allow_mail_to_commands/files name these. */
typedef enum local_source {
    LOCAL_SRC_RCPT,                 /* the recipient itself */
    LOCAL_SRC_ALIAS,
    LOCAL_SRC_FORWARD,
    LOCAL_SRC_INCLUDE
} LOCAL_SOURCE;

/* What one level of the expansion delivers with. */
typedef struct LOCAL_ATTR {
    const char *address;            /* to= in the log */
    const char *sender;             /* envelope sender here (owner- aliases change it) */
    const LOCAL_PRIVS *privs;       /* for files and commands */
    LOCAL_SOURCE source;
    const LOCAL_USER *user;         /* the user whose mailbox/.forward this is, or NULL */
    const char *extension;          /* address extension, "" if none */
    const char *domain;
} LOCAL_ATTR;

void    local_state_init(LOCAL_STATE *state, LOCAL_MSG *msg, const char *orig_rcpt,
                         const char *rcpt);
void    local_state_free(LOCAL_STATE *state);
void    local_deliver_recipient(LOCAL_STATE *state, const char *rcpt);
int     local_seen(LOCAL_STATE *state, const char *kind, const char *what);
void    local_log_result(LOCAL_STATE *state, const char *to, const LOCAL_STATUS *st);

/* Destinations. Each fills in st and returns st->stat. */
int     local_deliver_maildir(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *dir,
                              const LOCAL_PRIVS *privs, LOCAL_STATUS *st);
int     local_deliver_mbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                           const LOCAL_PRIVS *privs, uid_t owner, LOCAL_STATUS *st);
int     local_deliver_file(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path,
                           LOCAL_STATUS *st);
int     local_deliver_mailbox(LOCAL_STATE *state, const LOCAL_ATTR *attr, LOCAL_STATUS *st);
int     local_deliver_command(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *command,
                              const LOCAL_PRIVS *privs, LOCAL_STATUS *st);
int     local_deliver_forward(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *addr,
                              LOCAL_STATUS *st);

/* virtual(8) mode (local_virtual.c): the program called `virtual`. */
extern int local_virtual_mode;
void    local_virtual_init(void);
void    local_virtual_recipient(LOCAL_STATE *state, const char *rcpt);

/* The service routine (single_server) and its set-up. */
void    local_init(void);
void    local_service(STREAM *client, const SERVER_CTX *ctx);

#endif
