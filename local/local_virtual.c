/* local_virtual - Postfix's virtual(8): the local program called
 * `virtual` (a symbolic link, as lmtp is to smtp; master.cf
 * `virtual unix - n n - - virtual`) delivers mail for
 * $virtual_mailbox_domains, which resolve routes to $virtual_transport.
 *
 * For each recipient (looked up as user@domain, then @domain, in each
 * table):
 *     virtual_mailbox_maps   the mailbox, below $virtual_mailbox_base:
 *                            a name ending in "/" is a Maildir, else an
 *                            mbox file. Not found: bounce 5.1.1
 *                            'unknown user: "addr"', as Postfix
 *     virtual_uid_maps, virtual_gid_maps   the numeric ids the mailbox is
 *                            written with (static:5000); missing, not a
 *                            number, or a uid below $virtual_minimum_uid:
 *                            defer 4.3.5 mail system configuration error
 * The mailbox is written by local's own Maildir and mbox writers
 * (local_mailbox.c: O_NOFOLLOW, owner checks, link() into new/, mbox
 * locks and truncation), with those ids, so that there is one writer of
 * each format. Missing folders between the base and the mailbox are made
 * (0700) with the mailbox's ids, as Postfix's virtual does.
 * $virtual_mailbox_limit is the size limit here (it replaces
 * mailbox_size_limit in this process). No aliases, .forward files or
 * commands: that is local's job. A Delivered-To: loop bounces 5.4.6, a
 * table that cannot be read defers 4.3.0. Log lines say relay=virtual.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dict.h"
#include "local.h"
#include "mem.h"
#include "msg.h"

int     local_virtual_mode;

static MAPS *virtual_mailbox_maps, *virtual_uid_maps, *virtual_gid_maps;

/* virtual_open - one table list; fatal when it cannot be opened */
static MAPS *virtual_open(PARAM_ID id, const char *name)
{
    BUF    *why = buf_alloc(100);
    MAPS   *maps;

    if ((maps = maps_open(config_str(id), 0, why)) == NULL)
        msg_fatal("%s: %s", name, buf_str(why));
    buf_free(why);
    return maps;
}

void    local_virtual_init(void)
{
    char    limit[32];

    virtual_mailbox_maps = virtual_open(P_virtual_mailbox_maps, "virtual_mailbox_maps");
    virtual_uid_maps = virtual_open(P_virtual_uid_maps, "virtual_uid_maps");
    virtual_gid_maps = virtual_open(P_virtual_gid_maps, "virtual_gid_maps");
    /* The writers read mailbox_size_limit; this process only does virtual. */
    snprintf(limit, sizeof(limit), "%ld", config_int(P_virtual_mailbox_limit));
    config_override(config_param_info(P_mailbox_size_limit)->name, limit);
}

/* virtual_find - user@domain, then @domain */
static DICT_STATUS virtual_find(MAPS *maps, const char *addr, BUF *result, BUF *why)
{
    DICT_STATUS st = maps_find(maps, addr, result, why);
    const char *at = strrchr(addr, '@');

    if (st == DICT_NOTFOUND && at && at[1])
        st = maps_find(maps, at, result, why);
    return st;
}

/* virtual_id - a numeric id from a table; 0, or -1 with st set */
static int virtual_id(MAPS *maps, const char *name, const char *addr, long *id,
                      LOCAL_STATUS *st)
{
    BUF    *value = buf_alloc(16), *why = buf_alloc(64);
    DICT_STATUS ds = virtual_find(maps, addr, value, why);
    char   *end;
    int     ret = -1;

    if (ds == DICT_TRYLATER) {
        local_status_set(st, "4.3.0", "%s lookup failure: %s", name, buf_str(why));
    } else if (ds == DICT_NOTFOUND) {
        msg_warn("recipient %s: not found in %s", addr, name);
        local_status_set(st, "4.3.5", "mail system configuration error");
    } else {
        errno = 0;
        *id = strtol(buf_str(value), &end, 10);
        if (errno || end == buf_str(value) || *end || *id < 0) {
            msg_warn("recipient %s: bad id %s in %s", addr, buf_str(value), name);
            local_status_set(st, "4.3.5", "mail system configuration error");
        } else {
            ret = 0;
        }
    }
    buf_free(value);
    buf_free(why);
    return ret;
}

/* virtual_make_parents - the folders between the base and the mailbox,
 * as the mailbox's ids; the mailbox writers check the last step */
static void virtual_make_parents(const char *path, uid_t uid, gid_t gid)
{
    char   *copy = xstrdup(path), *p;
    size_t  base = strlen(config_str(P_virtual_mailbox_base));

    local_privs_enter(uid, gid);
    for (p = copy + base + 1; (p = strchr(p, '/')) != NULL && p[1]; p++) {
        *p = 0;
        (void) mkdir(copy, 0700);       /* EEXIST is fine; a failure shows later */
        *p = '/';
    }
    local_privs_leave();
    xfree(copy);
}

/* virtual_deliver - the mailbox of one recipient; fills in st */
static void virtual_deliver(LOCAL_STATE *state, const char *rcpt, LOCAL_STATUS *st)
{
    BUF    *mailbox = buf_alloc(64), *why = buf_alloc(64), *path = buf_alloc(100);
    DICT_STATUS ds;
    LOCAL_PRIVS privs;
    LOCAL_ATTR attr;
    long    uid, gid;
    const char *at = strrchr(rcpt, '@');

    if (local_msg_delivered(state->msg, rcpt)) {
        local_status_set(st, "5.4.6", "mail forwarding loop for %s", rcpt);
        goto out;
    }
    if ((ds = virtual_find(virtual_mailbox_maps, rcpt, mailbox, why)) == DICT_TRYLATER) {
        local_status_set(st, "4.3.0", "virtual_mailbox_maps lookup failure: %s", buf_str(why));
        goto out;
    }
    if (ds == DICT_NOTFOUND) {
        local_status_set(st, "5.1.1", "unknown user: \"%s\"", rcpt);
        goto out;
    }
    if (virtual_id(virtual_uid_maps, "virtual_uid_maps", rcpt, &uid, st) < 0
        || virtual_id(virtual_gid_maps, "virtual_gid_maps", rcpt, &gid, st) < 0)
        goto out;
    if (uid < config_int(P_virtual_minimum_uid)) {
        msg_warn("recipient %s: bad uid %ld in virtual_uid_maps (virtual_minimum_uid is %ld)",
                 rcpt, uid, config_int(P_virtual_minimum_uid));
        local_status_set(st, "4.3.5", "mail system configuration error");
        goto out;
    }
    buf_sprintf(path, "%s/%s", config_str(P_virtual_mailbox_base), buf_str(mailbox));
    virtual_make_parents(buf_str(path), (uid_t) uid, (gid_t) gid);
    memset(&privs, 0, sizeof(privs));
    privs.uid = (uid_t) uid;
    privs.gid = (gid_t) gid;
    privs.name = (char *) rcpt;
    memset(&attr, 0, sizeof(attr));
    attr.address = rcpt;
    attr.sender = state->msg->sender;
    attr.privs = &privs;
    attr.source = LOCAL_SRC_RCPT;
    attr.extension = "";
    attr.domain = at ? at + 1 : "";
    if (buf_len(path) > 0 && buf_str(path)[buf_len(path) - 1] == '/')
        local_deliver_maildir(state, &attr, buf_str(path), &privs, st);
    else
        local_deliver_mbox(state, &attr, buf_str(path), &privs, privs.uid, st);
  out:
    buf_free(mailbox);
    buf_free(why);
    buf_free(path);
}

void    local_virtual_recipient(LOCAL_STATE *state, const char *rcpt)
{
    LOCAL_STATUS st;

    local_status_init(&st);
    virtual_deliver(state, rcpt, &st);
    local_log_result(state, rcpt, &st);
    local_status_merge(&state->result, &st);
    local_status_free(&st);
}
