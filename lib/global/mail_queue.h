/* mail_queue - the queue folders: their names, owners and modes.
 *
 * One table (mail_queue_dirs) says which folders $queue_directory holds,
 * who owns each and with which mode; `surel start`, `surel check`,
 * `surel sandbox`, the install rules and every daemon use it, so that the
 * layout is written down once. Owners and modes follow Postfix's
 * conf/postfix-files with Debian's extra bits:
 *
 *     (queue_directory)  root                   0755
 *     maildrop           mail_owner:setgid_group 1730  postdrop writes, nobody lists;
 *                                                      sticky: users can't remove each other's files
 *     temp incoming active deferred hold corrupt bounce defer
 *                        mail_owner              0700
 *     private            mail_owner              0700  sockets of internal services
 *     public             mail_owner:setgid_group 2710  sockets postdrop's group may reach
 *     pid                root                    0755  master.pid and its lock
 *
 * "root" means the account the master runs as: uid 0 for a system
 * instance; in a sandbox instance (run by a non-root user) that user
 * (MAIL_QUEUE_IDS.root_uid). A folder whose group the table leaves open
 * is created with its owner's primary group and its group is not checked.
 *
 * mail_queue_scan() checks every folder and, when asked, creates missing
 * ones and repairs owner, group and mode. It never follows a symbolic link:
 * a link where a folder should be is a problem to report, never to fix.
 */
#ifndef SUREL_MAIL_QUEUE_H
#define SUREL_MAIL_QUEUE_H

#include <sys/types.h>

#include "buf.h"

/* Folder names, for code that builds queue paths. */
#define MAIL_QUEUE_MAILDROP     "maildrop"
#define MAIL_QUEUE_TEMP         "temp"
#define MAIL_QUEUE_INCOMING     "incoming"
#define MAIL_QUEUE_ACTIVE       "active"
#define MAIL_QUEUE_DEFERRED     "deferred"
#define MAIL_QUEUE_HOLD         "hold"
#define MAIL_QUEUE_CORRUPT      "corrupt"
#define MAIL_QUEUE_BOUNCE       "bounce"
#define MAIL_QUEUE_DEFER        "defer"
#define MAIL_QUEUE_PRIVATE      "private"
#define MAIL_QUEUE_PUBLIC       "public"
#define MAIL_QUEUE_PID          "pid"

typedef enum mail_queue_owner {
    MAIL_QUEUE_OWNER_ROOT,          /* the instance's owner: root, or the sandbox user */
    MAIL_QUEUE_OWNER_MAIL           /* mail_owner */
} MAIL_QUEUE_OWNER;

typedef enum mail_queue_group {
    MAIL_QUEUE_GROUP_ANY,           /* owner's primary group when created; not checked */
    MAIL_QUEUE_GROUP_SETGID         /* setgid_group */
} MAIL_QUEUE_GROUP;

typedef struct MAIL_QUEUE_DIR {
    const char *name;               /* "" is $queue_directory itself */
    MAIL_QUEUE_OWNER owner;
    MAIL_QUEUE_GROUP group;
    mode_t  mode;                   /* all of it, setgid and sticky bits included */
    const char *what;               /* one line, for documentation */
} MAIL_QUEUE_DIR;

extern const MAIL_QUEUE_DIR mail_queue_dirs[];
extern const int mail_queue_ndirs;

const MAIL_QUEUE_DIR *mail_queue_dir_find(const char *name);

/*
 * Where a queue file lives: the one place that decides hashing (Postfix's
 * mail_queue_dir()/mail_queue_path()). A folder named in $hash_queue_names
 * gets $hash_queue_depth levels of one-character subfolders named by the
 * ID's last microsecond digits (id[9], id[8], ...), which change fastest:
 *     deferred/F/4Xk9BcFwFzq7      (hash_queue_depth = 1)
 * Case, as Postfix decides it: $hash_queue_names matches folder names in
 * any case (Postfix uses strcasecmp there; "Deferred" hashes "deferred"),
 * while the ID's characters are used as they are (dir_forest copies them),
 * so "a" and "A" are different subfolders — our IDs are base 52 and both
 * are digits of it.
 */
/* mail_queue_hash_depth - subfolder levels of a folder: $hash_queue_depth
 * when it is in $hash_queue_names (any case), else 0 (needs config_init). */
int     mail_queue_hash_depth(const char *queue);

/* mail_queue_path - queue_dir/queue/[subfolders/]id into out; queue_dir
 * may be "." for paths relative to $queue_directory. Returns 0, or -1 with
 * out empty when queue is not a queue folder of the table, or id is not a
 * queue ID in a hashed folder (not a plain file name in another: maildrop
 * names need not be IDs), so a name from a request can never climb out. */
int     mail_queue_path(BUF *out, const char *queue_dir, const char *queue, const char *id);

/* mail_queue_mkdirs - create the missing hash subfolders above a queue
 * path made by mail_queue_path() (Postfix's mail_queue_mkdirs()): every
 * program that moves or writes a file into a hashed folder calls it when
 * open() or rename() says ENOENT. Only one-character components (hash
 * subfolders) are created, at most 4 levels: a missing queue folder is a
 * broken installation, not something to make here. New folders get mode
 * 0700 and the owner and group of the folder they are made in, so that
 * `surel queue hold` run by root leaves them usable by mail_owner.
 * 0, or -1 with errno. */
int     mail_queue_mkdirs(const char *path);

/* mail_queue_dir_fsync - directory_fsync as a DIR_FSYNC_* mode of
 * safe_file.h (cleanup's queue commits, local's Maildir commits); an
 * unknown value is a configuration error (fatal). */
int     mail_queue_dir_fsync(void);

/* The numeric accounts the table's owners stand for. */
typedef struct MAIL_QUEUE_IDS {
    uid_t   root_uid;               /* MAIL_QUEUE_OWNER_ROOT */
    gid_t   root_gid;               /* its primary group, for new folders */
    uid_t   mail_uid;               /* mail_owner */
    gid_t   mail_gid;               /* mail_owner's primary group */
    gid_t   setgid_gid;             /* setgid_group */
} MAIL_QUEUE_IDS;

/* mail_queue_ids - look up mail_owner and setgid_group; the instance owner
 * is root when we run as root, else the user we run as (sandbox mode).
 * 0, or -1 with why (unknown account, mail_owner is root). */
int     mail_queue_ids(const char *mail_owner, const char *setgid_group,
                       MAIL_QUEUE_IDS *ids, BUF *why);

/* mail_queue_scan flags. */
#define MAIL_QUEUE_CREATE   (1 << 0)    /* create missing folders */
#define MAIL_QUEUE_FIX      (1 << 1)    /* repair owner, group and mode */

/* Called once per problem found ("/q/incoming: mode 0755, expected 0700")
 * and once per repair made ("/q/incoming: created"); fixed says which. */
typedef void (*MAIL_QUEUE_REPORT)(const char *text, int fixed, void *ctx);

/* mail_queue_scan - check (and with flags, create/repair) every folder;
 * returns the number of problems left unrepaired. */
int     mail_queue_scan(const char *queue_dir, const MAIL_QUEUE_IDS *ids, int flags,
                        MAIL_QUEUE_REPORT report, void *ctx);

#endif
