/* local_resolve - what one recipient address turns into, and its delivery.
 *
 * For a recipient user+ext@domain (domain one of ours):
 *   1. a Delivered-To: header naming the address already bounces it:
 *      5.4.6 "mail forwarding loop"; more than $hopcount_limit Received:
 *      headers: 5.4.0 "too many hops", as cleanup says (header_name.h);
 *   2. alias_maps: "user+ext", then "user"; a value is a list of
 *      destinations (addresses, |command, /file, :include:/file, \user),
 *      each delivered in turn with the rights of the table's owner
 *      (root-owned: $default_privs); an owner-<alias> entry makes
 *      owner-<alias>@$myorigin the envelope sender of the expansion;
 *   3. a user (local_user.c): the first .forward file of forward_path,
 *      whose destinations are delivered with the user's rights, else the
 *      user's mailbox (local_mailbox.c);
 *   4. otherwise luser_relay when set, else 5.1.1 unknown user.
 * Whether a domain is ours is resolve_local()'s answer (lib/global), the one
 * smtpd, cleanup and qmgr use: $mydestination (tables included) and every
 * spelling of this machine's address literals. Other addresses are
 * forwarded through cleanup, unless a Delivered-To: header of the message
 * names them already (a loop: 5.4.6).
 *
 * Loops: the names being expanded (aliases, .forward owners, :include:
 * files) form a stack. A name that expands to itself (its direct parent on
 * the stack) is delivered to the user's mailbox without further expansion,
 * as Postfix does for "user: user, other" and a .forward holding the user;
 * a name further up the stack is a loop and bounces 5.4.6, as does nesting
 * deeper than LOCAL_DEPTH_MAX. A destination reached twice in one
 * expansion is delivered once.
 *
 * Each destination's result is logged (to=<...>, orig_to=<recipient>);
 * the recipient's own result, reported to qmgr, is the worst of them:
 * anything deferred defers it (the whole expansion is tried again later:
 * at-least-once, duplicates possible), else anything bounced bounces it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "address.h"
#include "config.h"
#include "deliver_log.h"
#include "header_name.h"
#include "local.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "resolve_local.h"

/* local_state_init - a recipient's delivery begins */
void    local_state_init(LOCAL_STATE *state, LOCAL_MSG *msg, const char *orig_rcpt,
                         const char *rcpt)
{
    BUF    *ext = buf_alloc(100);

    memset(state, 0, sizeof(*state));
    state->msg = msg;
    state->orig_rcpt = orig_rcpt;
    /* Headers carry addresses in the external form: "john q. public"@x,
     * never the internal john q. public@x (an invalid header). */
    address_externalize(rcpt, ext);
    state->delivered = buf_steal(ext);
    dict_fold(state->delivered);
    local_status_init(&state->result);
}

/* local_state_free - a recipient's delivery is over */
void    local_state_free(LOCAL_STATE *state)
{
    int     i;

    for (i = 0; i < state->nseen; i++)
        xfree(state->seen[i]);
    for (i = 0; i < state->depth; i++)
        xfree(state->stack[i]);
    xfree(state->delivered);
    local_status_free(&state->result);
}

/* local_seen - 1 when kind:what was delivered already in this expansion */
int     local_seen(LOCAL_STATE *state, const char *kind, const char *what)
{
    BUF    *key = buf_alloc(100);
    int     i;

    buf_sprintf(key, "%s:%s", kind, what);
    for (i = 0; i < state->nseen; i++) {
        if (strcmp(state->seen[i], buf_str(key)) == 0) {
            buf_free(key);
            return 1;
        }
    }
    if (state->nseen < LOCAL_SEEN_MAX)
        state->seen[state->nseen++] = buf_steal(key);
    else
        buf_free(key);
    return 0;
}

/* local_log_result - one log line per destination: the one formatter
 * every agent uses (deliver_log.h), so the line has Postfix's shape */
void    local_log_result(LOCAL_STATE *state, const char *to, const LOCAL_STATUS *st)
{
    const LOCAL_MSG *msg = state->msg;
    DELIVER_LOG ev;

    ev.queue_id = msg->queue_id;
    ev.to = to;
    ev.orig_to = state->orig_rcpt;
    ev.relay = local_virtual_mode ? "virtual" : "local";
    ev.arrival = msg->arrival;
    ev.handoff = msg->start;
    ev.dsn = st->dsn;
    ev.status = deliver_log_status(st->stat);
    ev.reason = buf_str(st->why);
    deliver_log(&ev);
}

/* local_done - log one destination's result and merge it into the recipient's */
static void local_done(LOCAL_STATE *state, const char *to, LOCAL_STATUS *st)
{
    state->ndest++;
    if (!st->logged)
        local_log_result(state, to, st);
    local_status_merge(&state->result, st);
    local_status_free(st);
}

/* local_fail - a destination fails before anything was tried */
static void __attribute__((format(printf, 4, 5)))
local_fail(LOCAL_STATE *state, const char *to, const char *dsn, const char *fmt, ...)
{
    LOCAL_STATUS st;
    va_list ap;
    BUF    *text = buf_alloc(100);

    local_status_init(&st);
    va_start(ap, fmt);
    buf_vprintf(text, fmt, ap);
    va_end(ap);
    local_status_set(&st, dsn, "%s", buf_str(text));
    buf_free(text);
    local_done(state, to, &st);
}

/* local_push - name enters the expansion stack; -1 when too deep */
static int local_push(LOCAL_STATE *state, const char *name)
{
    if (state->depth >= LOCAL_DEPTH_MAX)
        return -1;
    state->stack[state->depth++] = xstrdup(name);
    return 0;
}

/* local_pop - the innermost expansion is over */
static void local_pop(LOCAL_STATE *state)
{
    xfree(state->stack[--state->depth]);
}

/* local_on_stack - 2: name is the direct parent, 1: further up, 0: not there */
static int local_on_stack(const LOCAL_STATE *state, const char *name)
{
    int     i;

    if (state->depth > 0 && strcmp(state->stack[state->depth - 1], name) == 0)
        return 2;
    for (i = 0; i < state->depth - 1; i++)
        if (strcmp(state->stack[i], name) == 0)
            return 1;
    return 0;
}

/* local_privs_for - rights for files/commands of an owner (root: default_privs) */
static int local_privs_for(uid_t owner, LOCAL_PRIVS *privs, BUF *why)
{
    if (owner == 0 || local_privs_for_uid(owner, privs, why) < 0)
        return owner == 0 ? local_privs_default(privs, why) : -1;
    return 0;
}

/* local_deliver_address flags: may a leading '\\' mean "no alias, no .forward"? */
#define LOCAL_ADDR_PLAIN        0       /* the envelope recipient, luser_relay */
#define LOCAL_ADDR_BACKSLASH    1       /* alias, .forward and :include: values */

static void local_deliver_address(LOCAL_STATE *, const LOCAL_ATTR *, const char *, int);
static void local_deliver_tokens(LOCAL_STATE *, const LOCAL_ATTR *, const char *);

/* local_include - a :include:/file destination */
static void local_include(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *path)
{
    LOCAL_ATTR sub = *attr;
    LOCAL_PRIVS privs;
    BUF    *why = buf_alloc(100);
    BUF    *key = buf_alloc(100);
    char   *text = NULL;
    uid_t   owner;
    int     ret;

    buf_sprintf(key, ":include:%s", path);
    if (*path != '/') {
        local_fail(state, attr->address, "5.3.5", "mail to :include: file %s: not an absolute path", path);
    } else if (local_on_stack(state, buf_str(key))) {
        local_fail(state, attr->address, "5.4.6", "mail forwarding loop for %s", attr->address);
    } else if ((ret = local_read_owned(path, attr->privs, &text, &owner, why)) <= 0) {
        local_fail(state, attr->address, "4.3.0", "cannot read :include: file: %s", buf_str(why));
    } else if (owner != 0 && local_privs_for(owner, &privs, why) < 0) {
        local_fail(state, attr->address, "4.3.0", "%s", buf_str(why));
    } else {
        /* A file of another user runs with that user's rights; root's file
         * with the rights of whoever included it. */
        if (owner == 0)
            local_privs_copy(&privs, attr->privs);
        sub.privs = &privs;
        sub.source = LOCAL_SRC_INCLUDE;
        if (local_push(state, buf_str(key)) < 0) {
            local_fail(state, attr->address, "5.4.6", "mail forwarding loop for %s", attr->address);
        } else {
            local_deliver_tokens(state, &sub, text);
            local_pop(state);
        }
        local_privs_free(&privs);
    }
    xfree(text);
    buf_free(why);
    buf_free(key);
}

/* local_allowed - may a destination of this kind come from this source? */
static int local_allowed(const LOCAL_ATTR *attr, PARAM_ID param)
{
    static const char *const names[] = {"", "alias", "forward", "include"};

    return attr->source != LOCAL_SRC_RCPT
        && local_list_has(config_str(param), names[attr->source]);
}

/* local_deliver_token - one destination of an alias value or .forward */
static void local_deliver_token(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *token)
{
    LOCAL_STATUS st;

    if (token[0] == '|') {
        if (!local_allowed(attr, P_allow_mail_to_commands)) {
            local_fail(state, attr->address, "5.7.1", "mail to command is restricted");
        } else if (!local_seen(state, "command", token + 1)) {
            local_status_init(&st);
            local_deliver_command(state, attr, token + 1, attr->privs, &st);
            local_done(state, attr->address, &st);
        }
    } else if (strncasecmp(token, ":include:", 9) == 0) {
        local_include(state, attr, token + 9);
    } else if (token[0] == '/') {
        if (!local_allowed(attr, P_allow_mail_to_files)) {
            local_fail(state, attr->address, "5.7.1", "mail to file is restricted");
        } else if (!local_seen(state, "file", token)) {
            local_status_init(&st);
            local_deliver_file(state, attr, token, &st);
            local_done(state, attr->address, &st);
        }
    } else {
        local_deliver_address(state, attr, token, LOCAL_ADDR_BACKSLASH);
    }
}

/* local_deliver_tokens - every destination of a list */
static void local_deliver_tokens(LOCAL_STATE *state, const LOCAL_ATTR *attr, const char *list)
{
    int     count, i;
    char  **tokens = local_tokens(list, &count);

    for (i = 0; i < count; i++)
        local_deliver_token(state, attr, tokens[i]);
    local_tokens_free(tokens);
}

/* local_alias - expand an alias found in a table owned by owner */
static void local_alias(LOCAL_STATE *state, const LOCAL_ATTR *parent, const char *full,
                        const char *name, const char *value, uid_t owner)
{
    LOCAL_ATTR attr = *parent;
    LOCAL_PRIVS privs;
    BUF    *why = buf_alloc(100);
    BUF    *owner_key = buf_alloc(100);
    BUF    *owner_value = buf_alloc(100);
    BUF    *sender = buf_alloc(100);
    uid_t   dummy;
    DICT_STATUS status = DICT_NOTFOUND;

    if (local_privs_for(owner, &privs, why) < 0) {
        local_fail(state, full, "4.3.0", "alias %s: %s", name, buf_str(why));
        goto done;
    }
    buf_set(sender, parent->sender);
    if (*parent->sender && strncmp(name, "owner-", 6) != 0) {
        buf_sprintf(owner_key, "owner-%s", name);
        status = local_alias_find(buf_str(owner_key), owner_value, &dummy, why);
        if (status == DICT_FOUND)
            buf_sprintf(sender, "%s@%s", buf_str(owner_key), config_str(P_myorigin));
    }
    if (status == DICT_TRYLATER) {
        local_fail(state, full, "4.3.0", "alias database unavailable: %s", buf_str(why));
    } else if (local_push(state, name) < 0) {
        local_fail(state, full, "5.4.6", "mail forwarding loop for %s", full);
    } else {
        attr.address = full;
        attr.sender = buf_str(sender);
        attr.privs = &privs;
        attr.source = LOCAL_SRC_ALIAS;
        attr.user = NULL;
        local_deliver_tokens(state, &attr, value);
        local_pop(state);
    }
    local_privs_free(&privs);

  done:
    buf_free(why);
    buf_free(owner_key);
    buf_free(owner_value);
    buf_free(sender);
}

/* local_forward_file - deliver to the user's first .forward (found and read
 * by local_dotforward.c); 1 if there was one, 0 if none, -1 after a
 * failure that was already reported */
static int local_forward_file(LOCAL_STATE *state, const LOCAL_ATTR *attr,
                              const LOCAL_VARS *vars)
{
    BUF    *why = buf_alloc(100);
    char   *text = NULL;
    int     ret;

    ret = local_dotforward_read(state->msg->queue_id, attr->user, attr->privs, vars, &text, why);
    if (ret < 0) {
        local_fail(state, attr->address, "4.3.0", "cannot read .forward: %s", buf_str(why));
    } else if (ret > 0) {
        if (local_push(state, attr->user->name) < 0) {
            local_fail(state, attr->address, "5.4.6", "mail forwarding loop for %s",
                       attr->address);
        } else {
            local_deliver_tokens(state, attr, text);
            local_pop(state);
        }
    }
    xfree(text);
    buf_free(why);
    return ret;
}

/* local_deliver_user - a user's .forward, else the user's mailbox */
static void local_deliver_user(LOCAL_STATE *state, const LOCAL_ATTR *parent, const char *full,
                               const LOCAL_USER *user, const char *local, const char *ext,
                               char delim, const char *domain, int expand)
{
    LOCAL_ATTR attr = *parent;
    LOCAL_PRIVS privs;
    LOCAL_VARS vars;
    LOCAL_STATUS st;
    BUF    *why = buf_alloc(100);
    char    delim_text[2] = {delim, 0};

    if (user->uid == 0 && local_is_root()) {
        if (local_privs_default(&privs, why) < 0) {
            local_fail(state, full, "4.3.0", "%s", buf_str(why));
            buf_free(why);
            return;
        }
    } else {
        local_privs_from_user(user, &privs);
    }
    attr.address = full;
    attr.privs = &privs;
    attr.source = LOCAL_SRC_FORWARD;
    attr.user = user;
    attr.extension = ext;
    attr.domain = domain;
    memset(&vars, 0, sizeof(vars));
    vars.home = user->home;
    vars.user = user->name;
    vars.shell = user->shell;
    vars.local = local;
    vars.domain = domain;
    vars.extension = ext;
    vars.recipient = full;
    vars.recipient_delimiter = delim ? delim_text : config_str(P_recipient_delimiter);
    vars.sender = parent->sender;
    if (!expand || local_forward_file(state, &attr, &vars) == 0) {
        if (!local_seen(state, "mailbox", user->name)) {
            local_status_init(&st);
            local_deliver_mailbox(state, &attr, &st);
            local_done(state, full, &st);
        }
    }
    local_privs_free(&privs);
    buf_free(why);
}

/* local_unknown - no alias, no user: luser_relay or 5.1.1.
 *
 * The expansion of luser_relay is an ADDRESS and nothing else, as in
 * Postfix: it carries the envelope's own local part ($local, $user,
 * $recipient), so a leading '|', '/', ':include:' or '\' there is part of
 * a name, never a command, file, include or "no .forward" mark (with
 * "luser_relay = $local@other.example", RCPT TO:<"|cmd"@ourdomain> would
 * otherwise run cmd). A relay address that is itself an unknown local
 * user is not relayed again: it bounces. */
#define LOCAL_LUSER_MARK    "\nluser_relay"    /* on the stack: no name has a newline */

static void local_unknown(LOCAL_STATE *state, const LOCAL_ATTR *parent, const char *full,
                          const char *local, const char *user, const char *ext,
                          const char *domain)
{
    LOCAL_VARS vars;
    LOCAL_ATTR attr = *parent;
    LOCAL_PRIVS privs;
    BUF    *relay = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     flags;

    if (*config_str(P_luser_relay) == 0 || local_on_stack(state, LOCAL_LUSER_MARK)) {
        local_fail(state, full, "5.1.1", "unknown user: \"%s\"", user);
    } else {
        memset(&vars, 0, sizeof(vars));
        vars.user = user;
        vars.local = local;
        vars.domain = domain;
        vars.extension = ext;
        vars.recipient = full;
        vars.recipient_delimiter = config_str(P_recipient_delimiter);
        vars.sender = parent->sender;
        if (local_expand(config_str(P_luser_relay), &vars, NULL, relay, &flags, why) < 0) {
            local_fail(state, full, "4.3.5", "luser_relay: %s", buf_str(why));
        } else if (local_privs_default(&privs, why) < 0) {
            local_fail(state, full, "4.3.0", "%s", buf_str(why));
        } else {
            attr.address = full;
            attr.privs = &privs;
            attr.source = LOCAL_SRC_RCPT;
            attr.user = NULL;
            if (local_push(state, LOCAL_LUSER_MARK) < 0) {
                local_fail(state, full, "5.4.6", "mail forwarding loop for %s", full);
            } else {
                local_deliver_address(state, &attr, buf_str(relay), LOCAL_ADDR_PLAIN);
                local_pop(state);
            }
            local_privs_free(&privs);
        }
    }
    buf_free(relay);
    buf_free(why);
}

/* local_deliver_local - an address in one of our domains */
static void local_deliver_local(LOCAL_STATE *state, const LOCAL_ATTR *parent,
                                const char *full, const char *local_part, const char *domain,
                                int no_expand)
{
    BUF    *local = buf_alloc(64);
    BUF    *user = buf_alloc(64);
    BUF    *ext = buf_alloc(64);
    BUF    *value = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    LOCAL_USER pw;
    DICT_STATUS status = DICT_NOTFOUND;
    uid_t   owner = 0;
    char    delim;
    int     where;
    const char *found_key = NULL;

    buf_set(local, local_part);
    dict_fold(buf_str(local));
    local_split_extension(buf_str(local), config_str(P_recipient_delimiter), user, ext, &delim);
    where = no_expand ? 2 : local_on_stack(state, buf_str(user));
    if (local_msg_delivered(state->msg, full)) {
        local_fail(state, full, "5.4.6", "mail forwarding loop for %s", full);
        goto done;
    }
    if (where == 1 || state->depth >= LOCAL_DEPTH_MAX) {
        local_fail(state, full, "5.4.6", "mail forwarding loop for %s", full);
        goto done;
    }
    if (where == 0) {
        found_key = buf_str(local);
        status = local_alias_find(found_key, value, &owner, why);
        if (status == DICT_NOTFOUND && buf_len(ext) > 0) {
            found_key = buf_str(user);
            status = local_alias_find(found_key, value, &owner, why);
        }
    }
    if (status == DICT_TRYLATER) {
        local_fail(state, full, "4.3.0", "alias database unavailable: %s", buf_str(why));
    } else if (status == DICT_FOUND) {
        local_alias(state, parent, full, buf_str(user), buf_str(value), owner);
    } else if ((status = local_user_find(buf_str(user), &pw, why)) == DICT_TRYLATER) {
        local_fail(state, full, "4.3.0", "cannot look up user %s: %s", buf_str(user),
                   buf_str(why));
    } else if (status == DICT_FOUND) {
        local_deliver_user(state, parent, full, &pw, buf_str(local), buf_str(ext), delim,
                           domain, where == 0);
        local_user_free(&pw);
    } else {
        local_unknown(state, parent, full, buf_str(local), buf_str(user), buf_str(ext), domain);
    }

  done:
    buf_free(local);
    buf_free(user);
    buf_free(ext);
    buf_free(value);
    buf_free(why);
}

/* local_deliver_address - an address: ours (local), or forwarded */
static void local_deliver_address(LOCAL_STATE *state, const LOCAL_ATTR *parent,
                                  const char *addr, int how)
{
    BUF    *local = buf_alloc(64);
    BUF    *full = buf_alloc(100);
    const char *at;
    const char *domain;
    int     no_expand = 0;
    int     ours;
    LOCAL_STATUS st;

    /* \user: that user's mailbox, no alias or .forward (Postfix's .forward
     * idiom). Only inside alias, .forward and :include: values: for the
     * envelope recipient the backslash is just a character of the name. */
    if (how == LOCAL_ADDR_BACKSLASH && *addr == '\\') {
        addr++;
        no_expand = 1;
    }
    /* user, user@: user@$myorigin, the rule cleanup and qmgr apply. */
    address_qualify(addr, full);
    at = strrchr(buf_str(full), '@');
    buf_reset(local);
    buf_append(local, buf_str(full), at ? (size_t) (at - buf_str(full)) : buf_len(full));
    domain = at ? at + 1 : "";
    if (buf_len(local) == 0) {
        local_fail(state, buf_str(full), "5.1.3", "bad address syntax");
    } else if ((ours = resolve_local(domain)) < 0) {
        local_fail(state, buf_str(full), "4.3.0", "cannot decide whether %s is local: "
                   "table lookup failure", domain);
    } else if (!ours) {
        /* The copy we would send carries this message's Delivered-To
         * lines: one naming the address already means it came back. */
        if (local_msg_delivered(state->msg, buf_str(full))) {
            local_fail(state, buf_str(full), "5.4.6", "mail forwarding loop for %s",
                       buf_str(full));
        } else if (!local_seen(state, "forward", buf_str(full))) {
            local_status_init(&st);
            local_deliver_forward(state, parent, buf_str(full), &st);
            local_done(state, buf_str(full), &st);
        }
    } else {
        local_deliver_local(state, parent, buf_str(full), buf_str(local), domain, no_expand);
    }
    buf_free(local);
    buf_free(full);
}

/* local_deliver_recipient - deliver one recipient; the result is in state->result */
void    local_deliver_recipient(LOCAL_STATE *state, const char *rcpt)
{
    LOCAL_ATTR attr;

    memset(&attr, 0, sizeof(attr));
    attr.address = rcpt;
    attr.sender = state->msg->sender;
    attr.source = LOCAL_SRC_RCPT;
    attr.extension = "";
    if (hop_count_exceeded(state->msg->hops)) {
        /* The rule and the answer cleanup gives (header_name.h). */
        local_fail(state, rcpt, cleanup_stat_detail(CLEANUP_STAT_HOPS)->dsn, "%s",
                   cleanup_stat_detail(CLEANUP_STAT_HOPS)->text);
        return;
    }
    local_deliver_address(state, &attr, rcpt, LOCAL_ADDR_PLAIN);
    if (state->ndest == 0) {
        /* Every destination was one this expansion had delivered already. */
        local_status_set(&state->result, "2.0.0", "delivered (no new destinations)");
        local_log_result(state, rcpt, &state->result);
    }
}
