/* smtpd_check - SMTP access control: evaluate the smtpd_*_restrictions lists.
 *
 * Every list is split once at init; the tables it names (check_*_access
 * TYPE:TABLE, mynetworks, local_recipient_maps, virtual_*_maps) are opened
 * then too, before smtpd enters its chroot. Each restriction answers
 * permit (stop: this list accepts), reject or defer (stop: the reply is
 * made) or dunno (go on); the end of a list accepts. RCPT TO runs
 * smtpd_relay_restrictions and then smtpd_recipient_restrictions, and
 * (smtpd_delay_reject = yes) the client, helo and sender lists before
 * them. Replies are worded as Postfix words them, so that log parsers and
 * people recognise them. DNS is used by the DNS block and allow lists
 * (smtpd_check_dnsbl.c); the client's names come looked up already
 * (smtpd_peer.c); see doc/access.md for what reject_unknown_*_domain
 * decides without DNS.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "dict.h"
#include "local_rcpt.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"
#include "receive_override.h"
#include "resolve_local.h"
#include "smtpd_restriction.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"

#define CHECK_RECURSION_MAX 100     /* access-table results naming restrictions */
#define CHECK_REPLY_MAX     510     /* RFC 5321 reply line, without CRLF */
#define CHECK_HEADER_MAX    998     /* a PREPEND header line (RFC 5322 2.1.1) */

/* The lists, in the order smtpd_check_rcpt runs them. */
typedef enum check_stage {
    STAGE_CLIENT, STAGE_HELO, STAGE_SENDER, STAGE_RELAY, STAGE_RCPT, STAGE_DATA, STAGE_EOD,
    STAGE_COUNT
} CHECK_STAGE;

static const PARAM_ID stage_param[STAGE_COUNT] = {
    P_smtpd_client_restrictions, P_smtpd_helo_restrictions, P_smtpd_sender_restrictions,
    P_smtpd_relay_restrictions, P_smtpd_recipient_restrictions, P_smtpd_data_restrictions,
    P_smtpd_end_of_data_restrictions,
};

/* A split restriction list. */
typedef struct CHECK_LIST {
    char  **items;
    int     count;
} CHECK_LIST;

/* A table named by check_*_access, opened at init. */
typedef struct CHECK_TABLE {
    char   *name;                   /* "lmdb:/etc/surel/access" */
    MAPS   *maps;
    int     full_key_only;          /* pcre: no partial (parent, user@) keys */
} CHECK_TABLE;

/* A restriction class: a parameter name standing for a list. */
typedef struct CHECK_CLASS {
    char   *name;
    CHECK_LIST list;
} CHECK_CLASS;

CHECK_GLOBALS smtpd_check_g;
#define G smtpd_check_g

static CHECK_LIST stage_lists[STAGE_COUNT];
static CHECK_TABLE *tables;
static int table_count;
static CHECK_CLASS *classes;
static int class_count;
static int dnsxl_used;              /* a list names a DNSBL/DNSWL */

static int generic_checks(CHECK_STATE *st, const CHECK_LIST *list, const char *reply_name,
                          const char *reply_class);

/* check_reject - format a reply, Postfix's way; always CHECK_REJECT */
int     smtpd_check_reject(CHECK_STATE *st, int code, const char *dsn, const char *fmt, ...)
{
    va_list ap;
    char   *cp;

    buf_sprintf(st->reply, "%d %s ", code, dsn);
    va_start(ap, fmt);
    buf_vprintf(st->reply, fmt, ap);
    va_end(ap);
    if (code < 400 || code > 599 || strlen(dsn) < 5 || dsn[1] != '.') {
        msg_warn("SMTP reply code configuration error: %s", buf_str(st->reply));
        buf_set(st->reply, "450 4.7.1 Service unavailable");
    }
    if (buf_len(st->reply) > CHECK_REPLY_MAX)
        buf_truncate(st->reply, CHECK_REPLY_MAX);
    for (cp = buf_str(st->reply); *cp; cp++)
        if ((unsigned char) *cp < 0x20 || *cp == 0x7f)
            *cp = ' ';                  /* one line: table text is not trusted (UTF-8 stays) */
    if (G.soft_bounce && buf_str(st->reply)[0] == '5')
        buf_str(st->reply)[0] = '4';
    buf_str(st->reply)[4] = buf_str(st->reply)[0];     /* DSN class follows the code */
    return CHECK_REJECT;
}

/* smtpd_check_trylater - a table failed: 451, never a reject */
int     smtpd_check_trylater(CHECK_STATE *st, const char *reply_name)
{
    return smtpd_check_reject(st, 451, "4.3.0", "<%s>: Temporary lookup failure", reply_name);
}

/* check_config_error - something in main.cf we can't do: mail waits */
static int check_config_error(CHECK_STATE *st)
{
    return smtpd_check_reject(st, 451, "4.3.5", "Server configuration error");
}

/* list_split - a restriction list from a parameter value */
static void list_split(CHECK_LIST *list, const char *text)
{
    list->items = config_split_list(text, &list->count);
}

/* table_open - remember a check_*_access table; fatal if it can't be parsed */
static void table_open(const char *name)
{
    BUF    *why;
    int     i;

    for (i = 0; i < table_count; i++)
        if (strcmp(tables[i].name, name) == 0)
            return;
    why = buf_alloc(100);
    tables = xreallocarray(tables, (size_t) table_count + 1, sizeof(*tables));
    tables[table_count].name = xstrdup(name);
    if ((tables[table_count].maps = maps_open(name, 0, why)) == NULL)
        msg_fatal("access table %s: %s", name, buf_str(why));
    tables[table_count].full_key_only = strncasecmp(name, "pcre:", 5) == 0
        || strncasecmp(name, "regexp:", 7) == 0;
    table_count++;
    buf_free(why);
}

/* table_find - an opened table by name, or NULL */
static CHECK_TABLE *table_find(const char *name)
{
    int     i;

    for (i = 0; i < table_count; i++)
        if (strcmp(tables[i].name, name) == 0)
            return &tables[i];
    return NULL;
}

/* class_find - a restriction class by name, or NULL */
static const CHECK_LIST *class_find(const char *name)
{
    int     i;

    for (i = 0; i < class_count; i++)
        if (strcasecmp(classes[i].name, name) == 0)
            return &classes[i].list;
    return NULL;
}

/* is_access_check - a restriction whose next item is a table */
static int is_access_check(const char *name)
{
    return strcasecmp(name, "check_client_access") == 0
        || strcasecmp(name, "check_helo_access") == 0
        || strcasecmp(name, "check_sender_access") == 0
        || strcasecmp(name, "check_recipient_access") == 0;
}

/* open_list_tables - check each restriction's argument; open the table
 * after each check_*_access, note the DNS lists */
static void open_list_tables(const CHECK_LIST *list, const char *param)
{
    const RESTRICTION_INFO *r;
    int     i;

    for (i = 0; i < list->count; i++) {
        if ((r = smtpd_restriction_find(list->items[i])) == NULL || !(r->flags & RESTRICTION_ARG))
            continue;
        if (i + 1 >= list->count || ((r->flags & RESTRICTION_ARG_TABLE)
                                     && strchr(list->items[i + 1], ':') == NULL))
            msg_fatal("%s: %s needs a %s argument", param, list->items[i],
                      (r->flags & RESTRICTION_ARG_TABLE) ? "TYPE:TABLE"
                      : (r->flags & RESTRICTION_ARG_DOMAIN) ? "DOMAIN" : "service");
        if (r->flags & RESTRICTION_DNS)
            dnsxl_used = 1;
        if (r->flags & RESTRICTION_ARG_TABLE)
            table_open(list->items[i + 1]);
        i++;
    }
}

/* has_required - does a list (or a class it names) end relaying somehow? */
static int has_required(const CHECK_LIST *list, int depth)
{
    static const char *const required[] = {
        "reject_unauth_destination", "defer_unauth_destination", "reject", "defer",
        "defer_if_permit",
    };
    const CHECK_LIST *sub;
    size_t  r;
    int     i;

    for (i = 0; i < list->count && depth < 10; i++) {
        for (r = 0; r < sizeof(required) / sizeof(required[0]); r++)
            if (strcasecmp(list->items[i], required[r]) == 0)
                return 1;
        if ((sub = class_find(list->items[i])) != NULL && has_required(sub, depth + 1))
            return 1;
    }
    return 0;
}

/* classes_init - smtpd_restriction_classes: each name is a parameter */
static void classes_init(void)
{
    char  **names;
    int     count;
    int     i;
    const char *value;

    names = config_split_list(config_str(P_smtpd_restriction_classes), &count);
    classes = xcalloc((size_t) count + 1, sizeof(*classes));
    for (i = 0; i < count; i++) {
        if ((value = config_lookup(names[i])) == NULL || *value == 0)
            msg_fatal("restriction class `%s' needs a definition", names[i]);
        classes[i].name = xstrdup(names[i]);
        list_split(&classes[i].list, value);
        open_list_tables(&classes[i].list, names[i]);
    }
    class_count = count;
    config_free_list(names);
}

/* sender_owners - the owners of MAIL FROM in smtpd_sender_login_maps
 * (the address, then "@domain"); DICT_* status, owners in out */
static DICT_STATUS sender_owners(const char *sender, BUF *out, BUF *why)
{
    const char *at = strrchr(sender, '@');
    DICT_STATUS status;

    if ((status = maps_find(G.sender_login_maps, sender, out, why)) != DICT_NOTFOUND || !at)
        return status;
    return maps_find(G.sender_login_maps, at, out, why);
}

/* sender_login_mismatch - Postfix's reject_*sender_login_mismatch: an
 * authenticated client may use only the senders it owns (auth), an
 * unauthenticated one none that has an owner (unauth). */
static int sender_login_mismatch(CHECK_STATE *st, int auth, int unauth)
{
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    BUF    *owners;
    BUF    *why;
    DICT_STATUS status;
    int     result = CHECK_DUNNO;

    if (ctx->sender == NULL || *ctx->sender == 0 || G.sender_login_maps == NULL)
        return CHECK_DUNNO;
    if (ctx->sasl_username ? !auth : !unauth)
        return CHECK_DUNNO;
    owners = buf_alloc(64);
    why = buf_alloc(64);
    status = sender_owners(ctx->sender, owners, why);
    if (status == DICT_TRYLATER)
        result = smtpd_check_trylater(st, st->namaddr);
    else if (ctx->sasl_username && (status != DICT_FOUND
                                    || !str_split_has(buf_str(owners), ctx->sasl_username)))
        result = smtpd_check_reject(st, 553, "5.7.1", "<%s>: Sender address rejected: "
                                    "not owned by user %s", ctx->sender, ctx->sasl_username);
    else if (!ctx->sasl_username && status == DICT_FOUND)
        result = smtpd_check_reject(st, 553, "5.7.1", "<%s>: Sender address rejected: "
                                    "not logged in", ctx->sender);
    buf_free(owners);
    buf_free(why);
    return result;
}

/* unknown_client - reject_unknown_client_hostname (reverse 0) and
 * reject_unknown_reverse_client_hostname, Postfix's replies: the name
 * was not found (unknown_client_reject_code) or DNS failed for now
 * (always 450: it may work next time). 4.7.25 is RFC 7372's "reverse
 * DNS validation failed", as Postfix >= 3.6. */
static int unknown_client(CHECK_STATE *st, int reverse)
{
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    const char *name = reverse ? ctx->reverse_name : ctx->client_name;
    int     status = reverse ? ctx->reverse_name_status : ctx->name_status;

    if (status == 0)                    /* a caller with names only (tests) */
        status = name && *name && strcasecmp(name, "unknown") != 0
            ? SMTPD_PEER_CODE_OK : SMTPD_PEER_CODE_PERM;
    if (status == SMTPD_PEER_CODE_OK)
        return CHECK_DUNNO;
    return smtpd_check_reject(st, status >= SMTPD_PEER_CODE_PERM
                              ? (int) config_int(P_unknown_client_reject_code) : 450, "4.7.25",
                              "Client host rejected: cannot find your %shostname, [%s]",
                              reverse ? "reverse " : "", ctx->client_addr);
}

/* maps_or_null - open a table list parameter; NULL when empty */
static MAPS *maps_or_null(PARAM_ID id)
{
    const char *text = config_str(id);
    BUF    *why;
    MAPS   *maps;

    if (*text == 0)
        return NULL;
    why = buf_alloc(100);
    if ((maps = maps_open(text, 0, why)) == NULL)
        msg_fatal("%s: %s", config_param_info(id)->name, buf_str(why));
    buf_free(why);
    return maps;
}

/* smtpd_check_free - forget everything init made (tests re-init often) */
static void smtpd_check_free(void)
{
    int     i;

    for (i = 0; i < STAGE_COUNT; i++)
        if (stage_lists[i].items)
            config_free_list(stage_lists[i].items);
    memset(stage_lists, 0, sizeof(stage_lists));
    for (i = 0; i < table_count; i++) {
        maps_close(tables[i].maps);
        xfree(tables[i].name);
    }
    xfree(tables);
    tables = NULL;
    table_count = 0;
    for (i = 0; i < class_count; i++) {
        config_free_list(classes[i].list.items);
        xfree(classes[i].name);
    }
    xfree(classes);
    classes = NULL;
    class_count = 0;
    match_list_free(G.mynetworks);
    if (G.sender_login_maps)
        maps_close(G.sender_login_maps);
    local_rcpt_close();
    smtpd_check_policy_free();
    memset(&G, 0, sizeof(G));
}

/* smtpd_check_init - parse every list and open every table (before chroot) */
void    smtpd_check_init(void)
{
    BUF    *why = buf_alloc(100);
    int     i;

    smtpd_check_free();
    dnsxl_used = 0;
    if ((G.mynetworks = host_list_init("mynetworks", config_str(P_mynetworks),
                                       MATCH_FLAG_PARENT, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    if (resolve_local_init(why) < 0)
        msg_fatal("%s", buf_str(why));
    classes_init();
    for (i = 0; i < STAGE_COUNT; i++) {
        list_split(&stage_lists[i], config_str(stage_param[i]));
        open_list_tables(&stage_lists[i], config_param_info(stage_param[i])->name);
    }
    if (!has_required(&stage_lists[STAGE_RELAY], 0) && !has_required(&stage_lists[STAGE_RCPT], 0))
        msg_fatal("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                  "specify at least one working instance of: reject_unauth_destination, "
                  "defer_unauth_destination, reject, defer or defer_if_permit");
    /* The recipient tables of reject_unlisted_*, before the chroot. */
    if (local_rcpt_open(why) < 0)
        msg_fatal("%s", buf_str(why));
    G.sender_login_maps = maps_or_null(P_smtpd_sender_login_maps);
    G.delay_reject = config_bool(P_smtpd_delay_reject);
    G.helo_required = config_bool(P_smtpd_helo_required);
    G.soft_bounce = config_bool(P_soft_bounce);
    G.allow_untrusted_routing = config_bool(P_allow_untrusted_routing);
    G.reject_unlisted_rcpt = config_bool(P_smtpd_reject_unlisted_recipient);
    G.reject_unlisted_sender = config_bool(P_smtpd_reject_unlisted_sender);
    G.no_unknown_rcpt = (receive_override_options() & RECEIVE_NO_UNKNOWN_RCPT) != 0;
    smtpd_check_dnsxl_init(dnsxl_used);
    G.ready = 1;
    buf_free(why);
}

/* smtpd_check_session - a new SMTP session: DNS answers are cached per session */
void    smtpd_check_session(void)
{
    smtpd_check_dnsxl_session();
}

/* check_ensure - init on first use (tests and tools that skip init) */
static void check_ensure(void)
{
    if (!G.ready)
        smtpd_check_init();
}

/* smtpd_check_in_mynetworks - 1 inside, 0 outside, -1 a table failed */
int     smtpd_check_in_mynetworks(const char *client_addr)
{
    check_ensure();
    switch (host_list_match(G.mynetworks, NULL, client_addr)) {
    case MATCH_YES:
        return 1;
    case MATCH_NO:
        return 0;
    default:
        return -1;
    }
}

/* smtpd_check_dsn_fix - Postfix's smtpd_dsn_fix: address status codes that fit the class */
void    smtpd_check_dsn_fix(char *dsn, const char *reply_class)
{
    static const char *const sender[] = {"", "1.0", "1.8", "1.7", "1.0", "1.0", "1.0",
                                         "1.7", "1.8"};
    static const char *const rcpt[] = {"", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6",
                                       "1.3", "1.2"};
    int     detail;

    if (strncmp(dsn + 1, ".1.", 3) != 0 || !isdigit((unsigned char) dsn[4]) || dsn[5] != 0)
        return;
    detail = dsn[4] - '0';
    if (strcmp(reply_class, SMTPD_NAME_SENDER) == 0) {
        if (detail >= 1 && detail <= 8)
            memcpy(dsn + 2, sender[detail], 3);
    } else if (strcmp(reply_class, SMTPD_NAME_RECIPIENT) == 0) {
        if (detail >= 1 && detail <= 8)
            memcpy(dsn + 2, rcpt[detail], 3);
    } else {
        memcpy(dsn + 2, "7.1", 3);      /* client, helo, data: policy */
    }
}

/* smtpd_check_dsn_split - "5.7.1 text" -> dsn and text; def when the text has none */
const char *smtpd_check_dsn_split(const char *text, const char *def, char dsn[16])
{
    size_t  len = 0;

    if (isdigit((unsigned char) text[0]) && text[1] == '.') {
        len = strspn(text, "0123456789.");
        if (len < 5 || len > 9 || (text[len] != 0 && text[len] != ' ')
            || (text[0] != '2' && text[0] != '4' && text[0] != '5'))
            len = 0;
    }
    if (len) {
        memcpy(dsn, text, len);
        dsn[len] = 0;
        text += len;
    } else {
        snprintf(dsn, 16, "%s", def);
    }
    while (*text == ' ' || *text == '\t')
        text++;
    return text;
}

/* word_is - does the first word of value (len bytes) equal word? */
static int word_is(const char *value, size_t len, const char *word)
{
    return strlen(word) == len && strncasecmp(value, word, len) == 0;
}

/* check_defer_if - DEFER_IF_PERMIT / DEFER_IF_REJECT text: remember the
 * deferral (450 4.7.1, as Postfix) that replaces a later permit or reject
 * of this check (state_done); the first one given counts */
static int check_defer_if(CHECK_STATE *st, int permit, const char *text,
                          const char *reply_name, const char *reply_class)
{
    BUF   **slot = permit ? &st->defer_if_permit : &st->defer_if_reject;
    BUF    *saved = st->reply;
    char    dsn[16];

    if (*slot)
        return CHECK_DUNNO;
    *slot = buf_alloc(100);
    text = smtpd_check_dsn_split(text, "4.7.1", dsn);
    smtpd_check_dsn_fix(dsn, reply_class);
    st->reply = *slot;
    (void) smtpd_check_reject(st, 450, dsn, "<%s>: %s rejected: %s", reply_name, reply_class,
                              *text ? text : "Service unavailable");
    st->reply = saved;
    return CHECK_DUNNO;
}

/* smtpd_check_actions_reset - a new transaction: no HOLD, DISCARD, PREPEND */
void    smtpd_check_actions_reset(SMTPD_CHECK_ACTIONS *a)
{
    int     i;

    for (i = 0; i < a->nprepend; i++)
        xfree(a->prepend[i]);
    a->nprepend = 0;
    a->hold = a->discard = 0;
    xfree(a->filter);
    a->filter = NULL;
}

/* check_whatsup - log an action the way Postfix's log_whatsup does */
static void check_whatsup(CHECK_STATE *st, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check_whatsup(CHECK_STATE *st, const char *kind, const char *fmt, ...)
{
    SMTPD_CHECK_ACTIONS *a = st->ctx->actions;
    BUF    *text = buf_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(text, fmt, ap);
    va_end(ap);
    if (a->log)
        a->log(a->log_ctx, kind, st->where, buf_str(text), st->rcpt);
    buf_free(text);
}

/* check_message_action - HOLD, DISCARD, PREPEND and FILTER (Postfix's
 * meanings: HOLD, PREPEND and FILTER go on with the next restriction,
 * DISCARD permits; the last FILTER wins and smtpd sends it to cleanup);
 * the status, or -1 when value is none of them (or there is no
 * transaction to act on) */
static int check_message_action(CHECK_STATE *st, const char *table, const char *value,
                                size_t len, const char *text, const char *reply_name,
                                const char *reply_class)
{
    SMTPD_CHECK_ACTIONS *a = st->ctx->actions;
    const char *colon;

    if (a == NULL)
        return -1;
    if (word_is(value, len, "HOLD")) {
        if (!a->hold)
            check_whatsup(st, "hold", "<%s>: %s %s", reply_name, reply_class,
                          *text ? text : "triggers HOLD action");
        a->hold = 1;
        return CHECK_DUNNO;
    }
    if (word_is(value, len, "DISCARD")) {
        if (!a->discard)
            check_whatsup(st, "discard", "<%s>: %s %s", reply_name, reply_class,
                          *text ? text : "triggers DISCARD action");
        a->discard = 1;
        return CHECK_PERMIT;
    }
    if (word_is(value, len, "FILTER")) {
        if (*text == 0)
            msg_warn("access table %s entry \"%s\" has FILTER entry without value",
                     table, value);
        else if (strchr(text, ':') == NULL)
            msg_warn("access table %s entry \"%s\" requires transport:destination",
                     table, value);
        else {
            check_whatsup(st, "filter", "<%s>: %s triggers FILTER %s", reply_name,
                          reply_class, text);
            xfree(a->filter);
            a->filter = xstrdup(text);
        }
        return CHECK_DUNNO;
    }
    if (word_is(value, len, "PREPEND")) {
        colon = strchr(text, ':');
        if (colon == NULL || colon == text || strcspn(text, " \t:") != (size_t) (colon - text)
            || strlen(text) > CHECK_HEADER_MAX) {
            msg_warn("access table %s entry \"%s\": PREPEND needs one \"name: value\" header",
                     table, value);
            return CHECK_DUNNO;
        }
        if (a->nprepend < SMTPD_CHECK_PREPEND_MAX)
            a->prepend[a->nprepend++] = xstrdup(text);
        return CHECK_DUNNO;
    }
    return -1;
}

/* smtpd_check_table_result - what an access table value means (access(5)) */
int     smtpd_check_table_result(CHECK_STATE *st, const char *table, const char *value,
                                 const char *reply_name, const char *reply_class)
{
    size_t  len = strcspn(value, " \t");
    const char *text = value + len + strspn(value + len, " \t");
    char    dsn[16];
    CHECK_LIST list;
    int     status;

    if (word_is(value, len, "DUNNO"))
        return CHECK_DUNNO;
    if (word_is(value, len, "OK") || word_is(value, len, "RELAY")
        || (len > 0 && strspn(value, "0123456789") == strlen(value)))
        return CHECK_PERMIT;
    if (word_is(value, len, "REJECT") || word_is(value, len, "DEFER")) {
        int     defer = toupper((unsigned char) value[0]) == 'D';

        text = smtpd_check_dsn_split(text, defer ? "4.7.1" : "5.7.1", dsn);
        smtpd_check_dsn_fix(dsn, reply_class);
        return smtpd_check_reject(st, defer ? (int) config_int(P_access_map_defer_code)
                                  : (int) config_int(P_access_map_reject_code), dsn,
                                  "<%s>: %s rejected: %s", reply_name, reply_class,
                                  *text ? text : "Access denied");
    }
    if (len == 3 && (value[0] == '4' || value[0] == '5') && isdigit((unsigned char) value[1])
        && isdigit((unsigned char) value[2]) && *text) {
        char    def[6] = "x.7.1";

        def[0] = value[0];
        text = smtpd_check_dsn_split(text, def, dsn);
        smtpd_check_dsn_fix(dsn, reply_class);
        return smtpd_check_reject(st, atoi(value), dsn, "<%s>: %s rejected: %s", reply_name,
                                  reply_class, *text ? text : "Access denied");
    }
    if (word_is(value, len, "WARN")) {
        msg_info("NOQUEUE: warn: %s from %s[%s]: <%s>: %s; %s", st->where,
                 st->ctx->client_name ? st->ctx->client_name : "unknown",
                 st->ctx->client_addr, reply_name, reply_class, text);
        return CHECK_DUNNO;
    }
    if (word_is(value, len, "INFO")) {
        msg_info("NOQUEUE: info: %s from %s[%s]: <%s>: %s; %s", st->where,
                 st->ctx->client_name ? st->ctx->client_name : "unknown",
                 st->ctx->client_addr, reply_name, reply_class, text);
        return CHECK_DUNNO;
    }
    if (word_is(value, len, "DEFER_IF_PERMIT") || word_is(value, len, "DEFER_IF_REJECT"))
        return check_defer_if(st, toupper((unsigned char) value[9]) == 'P', text, reply_name,
                              reply_class);
    if ((status = check_message_action(st, table, value, len, text, reply_name,
                                       reply_class)) >= 0)
        return status;
    if (word_is(value, len, "HOLD") || word_is(value, len, "DISCARD")
        || word_is(value, len, "FILTER") || word_is(value, len, "REDIRECT")
        || word_is(value, len, "PREPEND") || word_is(value, len, "BCC")) {
        msg_warn("access table %s: action %.*s is not supported", table, (int) len, value);
        return check_config_error(st);
    }
    if (strchr(value, ':') != NULL) {
        msg_warn("access table %s has entry with lookup table: %s", table, value);
        msg_warn("do not specify lookup tables inside SMTPD access maps");
        msg_warn("define a restriction class and specify its name instead.");
        return check_config_error(st);
    }
    if (st->recursion > CHECK_RECURSION_MAX) {
        msg_warn("access table %s entry %s causes unreasonable recursion", table, value);
        return check_config_error(st);
    }
    list.items = config_split_list(value, &list.count);
    if (list.count == 0) {
        msg_warn("access table %s entry has empty value", table);
        status = CHECK_PERMIT;
    } else {
        st->recursion++;
        status = generic_checks(st, &list, reply_name, reply_class);
        st->recursion--;
    }
    config_free_list(list.items);
    return status;
}

/* smtpd_check_access - look keys up in order; the first found decides.
 * keys[0] is the full key; later keys are partial (skipped for pcre). */
int     smtpd_check_access(CHECK_STATE *st, const char *table_name, const char *const *keys,
                           int nkeys, const char *reply_name, const char *reply_class)
{
    CHECK_TABLE *table = table_find(table_name);
    BUF    *value;
    BUF    *why;
    int     status = CHECK_DUNNO;
    int     i;

    if (table == NULL) {
        msg_warn("access table %s was not opened at start-up (named in an access table?)",
                 table_name);
        return check_config_error(st);
    }
    value = buf_alloc(100);
    why = buf_alloc(100);
    for (i = 0; i < nkeys && (i == 0 || !table->full_key_only); i++) {
        DICT_STATUS found = maps_find(table->maps, keys[i], value, why);

        if (found == DICT_FOUND) {
            status = smtpd_check_table_result(st, table_name, buf_str(value), reply_name,
                                              reply_class);
            break;
        }
        if (found == DICT_TRYLATER) {
            msg_warn("%s: lookup of %s failed: %s", table_name, keys[i], buf_str(why));
            status = smtpd_check_trylater(st, reply_name);
            break;
        }
    }
    buf_free(value);
    buf_free(why);
    return status;
}

/* check_client_access - the client name and its parents, then the address
 * and its networks (1.2.3.4, 1.2.3, 1.2, 1) */
static int check_client_access(CHECK_STATE *st, const char *table, const char *namaddr)
{
    KEY_LIST keys;
    int     status;

    smtpd_check_keys_init(&keys);
    if (st->ctx->client_name && strcasecmp(st->ctx->client_name, "unknown") != 0)
        smtpd_check_keys_domain(&keys, st->ctx->client_name);
    smtpd_check_keys_addr(&keys, st->ctx->client_addr);
    status = smtpd_check_access(st, table, (const char *const *) keys.keys, keys.count,
                                namaddr, SMTPD_NAME_CLIENT);
    smtpd_check_keys_free(&keys);
    return status;
}

/* check_helo_access - the HELO name and its parent domains */
static int check_helo_access(CHECK_STATE *st, const char *table)
{
    KEY_LIST keys;
    int     status;

    if (st->ctx->helo == NULL || *st->ctx->helo == 0)
        return CHECK_DUNNO;
    smtpd_check_keys_init(&keys);
    smtpd_check_keys_domain(&keys, st->ctx->helo);
    status = smtpd_check_access(st, table, (const char *const *) keys.keys, keys.count,
                                st->ctx->helo, SMTPD_NAME_HELO);
    smtpd_check_keys_free(&keys);
    return status;
}

/* check_mail_access - user@domain, domain and its parents, user@ */
static int check_mail_access(CHECK_STATE *st, const char *table, const char *addr,
                             const char *reply_class)
{
    KEY_LIST keys;
    int     status;

    smtpd_check_keys_init(&keys);
    if (*addr == 0)
        smtpd_check_keys_add(&keys, config_str(P_smtpd_null_access_lookup_key));
    else
        smtpd_check_keys_mail(&keys, addr);
    status = smtpd_check_access(st, table, (const char *const *) keys.keys, keys.count,
                                addr, reply_class);
    smtpd_check_keys_free(&keys);
    return status;
}

/* check_one - one restriction (and its table argument, *ip advanced) */
static int check_one(CHECK_STATE *st, const CHECK_LIST *list, int *ip, const char *reply_name,
                     const char *reply_class)
{
    const char *name = list->items[*ip];
    const char *arg = *ip + 1 < list->count ? list->items[*ip + 1] : NULL;
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    const CHECK_LIST *sub;
    int     status;

    if (strcasecmp(name, "permit") == 0)
        return CHECK_PERMIT;
    if (strcasecmp(name, "dunno") == 0)
        return CHECK_DUNNO;
    if (strcasecmp(name, "reject") == 0)
        return smtpd_check_reject(st, (int) config_int(P_reject_code), "5.7.1",
                                  "<%s>: %s rejected: Access denied", reply_name, reply_class);
    if (strcasecmp(name, "defer") == 0)
        return smtpd_check_reject(st, (int) config_int(P_defer_code), "4.3.2",
                                  "<%s>: %s rejected: Try again later", reply_name,
                                  reply_class);
    if (strcasecmp(name, "permit_mynetworks") == 0) {
        switch (host_list_match(G.mynetworks, ctx->client_name, ctx->client_addr)) {
        case MATCH_YES:
            return CHECK_PERMIT;
        case MATCH_NO:
            return CHECK_DUNNO;
        default:
            return smtpd_check_trylater(st, st->namaddr);
        }
    }
    if (strcasecmp(name, "reject_unauth_pipelining") == 0)
        return ctx->ill_pipelining
            ? smtpd_check_reject(st, 503, "5.5.0", "<%s>: %s rejected: Improper use of SMTP "
                                 "command pipelining", reply_name, reply_class) : CHECK_DUNNO;
    if (strcasecmp(name, "reject_unknown_client_hostname") == 0
        || strcasecmp(name, "reject_unknown_client") == 0)
        return unknown_client(st, 0);
    if (strcasecmp(name, "reject_unknown_reverse_client_hostname") == 0)
        return unknown_client(st, 1);
    if (strcasecmp(name, "permit_sasl_authenticated") == 0)
        return ctx->sasl_authenticated ? CHECK_PERMIT : CHECK_DUNNO;
    if (strcasecmp(name, "reject_sender_login_mismatch") == 0)
        return sender_login_mismatch(st, 1, 1);
    if (strcasecmp(name, "reject_authenticated_sender_login_mismatch") == 0)
        return sender_login_mismatch(st, 1, 0);
    if (strcasecmp(name, "reject_unauthenticated_sender_login_mismatch") == 0)
        return sender_login_mismatch(st, 0, 1);
    if (is_access_check(name)) {
        if (arg == NULL)
            return check_config_error(st);
        (*ip)++;
        if (strcasecmp(name, "check_client_access") == 0)
            return check_client_access(st, arg, st->namaddr);
        if (strcasecmp(name, "check_helo_access") == 0)
            return check_helo_access(st, arg);
        if (strcasecmp(name, "check_sender_access") == 0)
            return ctx->sender ? check_mail_access(st, arg, ctx->sender, SMTPD_NAME_SENDER)
                : CHECK_DUNNO;
        return st->rcpt ? check_mail_access(st, arg, st->rcpt, SMTPD_NAME_RECIPIENT)
            : CHECK_DUNNO;
    }
    if (strcasecmp(name, "check_policy_service") == 0) {
        if (arg == NULL)
            return check_config_error(st);
        (*ip)++;
        return smtpd_check_policy(st, arg, reply_name, reply_class);
    }
    if (smtpd_check_dnsxl_known(name)) {
        if (arg == NULL)
            return check_config_error(st);
        (*ip)++;
        return smtpd_check_dnsxl(st, name, arg);
    }
    if ((status = smtpd_check_addr_restriction(st, name)) != CHECK_UNKNOWN)
        return status;
    if ((sub = class_find(name)) != NULL) {
        if (st->recursion > CHECK_RECURSION_MAX)
            return check_config_error(st);
        st->recursion++;
        status = generic_checks(st, sub, reply_name, reply_class);
        st->recursion--;
        return status;
    }
    if (smtpd_restriction_find(name) != NULL)
        msg_panic("restriction %s is in smtpd_restriction.c but not evaluated", name);
    msg_warn("unknown smtpd restriction: \"%s\"", name);
    return check_config_error(st);
}

/* generic_checks - a list: the first permit or reject decides; the end permits */
static int generic_checks(CHECK_STATE *st, const CHECK_LIST *list, const char *reply_name,
                          const char *reply_class)
{
    int     status;
    int     i;

    for (i = 0; i < list->count; i++)
        if ((status = check_one(st, list, &i, reply_name, reply_class)) != CHECK_DUNNO)
            return status;
    return CHECK_DUNNO;
}

/* stage_checks - one stage's list with the names its replies use */
static int stage_checks(CHECK_STATE *st, CHECK_STAGE stage)
{
    switch (stage) {
    case STAGE_CLIENT:
        return generic_checks(st, &stage_lists[stage], st->namaddr, SMTPD_NAME_CLIENT);
    case STAGE_HELO:
        if (st->ctx->helo == NULL)
            return CHECK_DUNNO;         /* no HELO given: nothing to judge yet */
        return generic_checks(st, &stage_lists[stage], st->ctx->helo, SMTPD_NAME_HELO);
    case STAGE_SENDER:
        if (st->ctx->sender == NULL)
            return CHECK_DUNNO;
        return generic_checks(st, &stage_lists[stage], st->ctx->sender, SMTPD_NAME_SENDER);
    case STAGE_RELAY:
    case STAGE_RCPT:
        return generic_checks(st, &stage_lists[stage], st->rcpt, SMTPD_NAME_RECIPIENT);
    case STAGE_DATA:
        return generic_checks(st, &stage_lists[stage], "DATA", SMTPD_NAME_DATA);
    case STAGE_EOD:
        return generic_checks(st, &stage_lists[stage], "END-OF-MESSAGE", SMTPD_NAME_EOD);
    default:
        msg_panic("stage_checks: stage %d", (int) stage);
    }
}

/* state_init - per-call state */
static void state_init(CHECK_STATE *st, const SMTPD_CHECK_CTX *ctx, const char *rcpt,
                       BUF *reply, const char *where)
{
    check_ensure();
    memset(st, 0, sizeof(*st));
    st->ctx = ctx;
    st->rcpt = rcpt;
    st->reply = reply;
    st->where = where;
    st->namaddr_buf = buf_alloc(64);
    buf_sprintf(st->namaddr_buf, "%s[%s]",
                ctx->client_name && *ctx->client_name ? ctx->client_name : "unknown",
                ctx->client_addr ? ctx->client_addr : "unknown");
    st->namaddr = buf_str(st->namaddr_buf);
}

/* state_done - the answer for the caller */
static int state_done(CHECK_STATE *st, int status)
{
    buf_free(st->namaddr_buf);
    /* DEFER_IF_REJECT turns a reject into its deferral, DEFER_IF_PERMIT
     * a permit (explicit or the end of the lists) into its own. */
    if (status == CHECK_REJECT && st->defer_if_reject && buf_str(st->reply)[0] == '5')
        buf_set(st->reply, buf_str(st->defer_if_reject));
    else if (status != CHECK_REJECT && st->defer_if_permit) {
        buf_set(st->reply, buf_str(st->defer_if_permit));
        status = CHECK_REJECT;
    }
    if (st->defer_if_permit)
        buf_free(st->defer_if_permit);
    if (st->defer_if_reject)
        buf_free(st->defer_if_reject);
    if (status != CHECK_REJECT)
        return SMTPD_CHECK_OK;
    return buf_str(st->reply)[0] == '4' ? SMTPD_CHECK_DEFER : SMTPD_CHECK_REJECT;
}

/* smtpd_check_client - at connect (nothing to do with delayed rejects) */
int     smtpd_check_client(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    CHECK_STATE st;

    state_init(&st, ctx, NULL, reply, "CONNECT");
    return state_done(&st, G.delay_reject ? CHECK_DUNNO : stage_checks(&st, STAGE_CLIENT));
}

/* smtpd_check_helo - at HELO/EHLO */
int     smtpd_check_helo(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    CHECK_STATE st;

    state_init(&st, ctx, NULL, reply, "HELO");
    return state_done(&st, G.delay_reject ? CHECK_DUNNO : stage_checks(&st, STAGE_HELO));
}

/* smtpd_check_mail - at MAIL FROM */
int     smtpd_check_mail(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    CHECK_STATE st;
    int     status = CHECK_DUNNO;

    state_init(&st, ctx, NULL, reply, "MAIL");
    if (G.helo_required && (ctx->helo == NULL || *ctx->helo == 0)) {
        buf_set(reply, "503 5.5.1 Error: send HELO/EHLO first");
        status = CHECK_REJECT;
    } else if (!G.delay_reject) {
        status = stage_checks(&st, STAGE_SENDER);
    }
    return state_done(&st, status);
}

/* smtpd_check_rcpt - at RCPT TO: the delayed lists, relay, then recipient */
int     smtpd_check_rcpt(const SMTPD_CHECK_CTX *ctx, const char *rcpt, BUF *reply)
{
    CHECK_STATE st;
    int     status = CHECK_DUNNO;
    int     stage;

    state_init(&st, ctx, rcpt, reply, "RCPT");
    for (stage = G.delay_reject ? STAGE_CLIENT : STAGE_RELAY; stage <= STAGE_RCPT; stage++)
        if ((status = stage_checks(&st, (CHECK_STAGE) stage)) == CHECK_REJECT)
            break;
    if (status != CHECK_REJECT && G.reject_unlisted_rcpt)
        status = smtpd_check_addr_restriction(&st, "reject_unlisted_recipient");
    if (status != CHECK_REJECT && G.reject_unlisted_sender && ctx->sender && *ctx->sender)
        status = smtpd_check_addr_restriction(&st, "reject_unlisted_sender");
    return state_done(&st, status);
}

/* smtpd_check_data - at DATA or the first BDAT */
int     smtpd_check_data(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    CHECK_STATE st;

    state_init(&st, ctx, NULL, reply, "DATA");
    return state_done(&st, stage_checks(&st, STAGE_DATA));
}

/* smtpd_check_eod - after the end of the message, before the reply
 * (smtpd_end_of_data_restrictions); rcpt: the one recipient, or NULL */
int     smtpd_check_eod(const SMTPD_CHECK_CTX *ctx, const char *rcpt, BUF *reply)
{
    CHECK_STATE st;

    state_init(&st, ctx, rcpt, reply, "END-OF-MESSAGE");
    return state_done(&st, stage_checks(&st, STAGE_EOD));
}
