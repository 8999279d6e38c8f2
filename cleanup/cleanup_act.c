/* cleanup_act - header_checks and body_checks: the actions and their logs.
 *
 * The table answers "ACTION optional text" (header_checks(5)). Actions as
 * Postfix has them: REJECT [text] (CLEANUP_STAT_CONT; a text starting with
 * 4.x.x defers instead), DISCARD, HOLD, WARN, INFO, IGNORE (drop this
 * header or line), REPLACE text, PREPEND text, REDIRECT user@domain (all
 * recipients replaced), DUNNO and OK (nothing). REJECT, DISCARD and
 * REDIRECT end all further checks of the message. FILTER transport:nexthop
 * sends the message to a content filter (it replaces the content_filter
 * smtpd sent; the last FILTER wins; a value without a colon is warned
 * about and ignored, as Postfix).
 * Every action but DUNNO/OK/IGNORE is logged in Postfix's shape:
 *     ID: reject: header Subject: xxx from host[addr]; from=<s> to=<r>
 *         proto=SMTP helo=<h>: 5.7.1 message content rejected
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "header_name.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"

#define CLEANUP_REJECT_DEFAULT  "5.7.1 message content rejected"

/* cleanup_attr_value - an A record's value, or NULL */
const char *cleanup_attr_value(CLEANUP_STATE *state, const char *name)
{
    size_t  len = strlen(name);
    int     i;

    for (i = 0; i < state->nattrs; i++)
        if (strncmp(state->attrs[i], name, len) == 0 && state->attrs[i][len] == '=')
            return state->attrs[i] + len + 1;
    return NULL;
}

/* cleanup_set_filter - see cleanup.h; Postfix's warnings */
int     cleanup_set_filter(CLEANUP_STATE *state, const char *filter, const char *where)
{
    if (*filter == 0) {
        msg_warn("missing FILTER command argument in %s", where);
        return -1;
    }
    if (strchr(filter, ':') == NULL) {
        msg_warn("bad FILTER command %s in %s -- need transport:destination", filter, where);
        return -1;
    }
    xfree(state->filter);
    state->filter = xstrdup(filter);
    return 0;
}

/* cleanup_printable - log-safe copy: control characters become spaces */
static void cleanup_printable(BUF *out, const char *text, size_t max)
{
    size_t  i;

    for (i = 0; text[i] && i < max; i++)
        buf_putc(out, (unsigned char) text[i] < ' ' || text[i] == 127 ? ' ' : text[i]);
}

/* cleanup_log_envelope - Postfix's " from=<s> to=<r> proto=P helo=<h>" tail
 * of a content action's log line (header_checks, milters) */
void    cleanup_log_envelope(CLEANUP_STATE *state, BUF *line)
{
    const char *value;

    if (state->log_sender)
        buf_printf(line, " from=<%s>", state->log_sender);
    if (state->first_rcpt)
        buf_printf(line, " to=<%s>", state->first_rcpt);
    if ((value = cleanup_attr_value(state, MAIL_ATTR_PROTO_NAME)) != NULL)
        buf_printf(line, " proto=%s", value);
    if ((value = cleanup_attr_value(state, MAIL_ATTR_HELO)) != NULL)
        buf_printf(line, " helo=<%s>", value);
}

/* cleanup_act_log - see cleanup.h */
void cleanup_act_log(CLEANUP_STATE *state, const char *action, const char *context,
                     const char *content, const char *text)
{
    BUF    *line = buf_alloc(300);
    const char *name = cleanup_attr_value(state, MAIL_ATTR_CLIENT_NAME);
    const char *addr = cleanup_attr_value(state, MAIL_ATTR_CLIENT_ADDR);

    buf_sprintf(line, "%s: %s: %s ", state->queue_id, action, context);
    cleanup_printable(line, content, 200);
    if (addr)
        buf_printf(line, " from %s[%s];", name ? name : "unknown", addr);
    else
        buf_puts(line, " from local;");
    cleanup_log_envelope(state, line);
    if (text && *text) {
        buf_puts(line, ": ");
        cleanup_printable(line, text, 500);
    }
    msg_info("%s", buf_str(line));
    buf_free(line);
}

/* cleanup_dsn_text - text that starts with a d.d.d code, else default code + text */
static void cleanup_dsn_text(BUF *out, const char *code, const char *text)
{
    if ((text[0] == '4' || text[0] == '5') && text[1] == '.' && isdigit((unsigned char) text[2]))
        buf_set(out, text);
    else
        buf_sprintf(out, "%s %s", code, text);
}

/* cleanup_reject - REJECT [text] */
static void cleanup_reject(CLEANUP_STATE *state, const char *context, const char *content,
                           const char *text)
{
    BUF    *reason = buf_alloc(100);

    if (*text)
        cleanup_dsn_text(reason, "5.7.1", text);
    else
        buf_set(reason, CLEANUP_REJECT_DEFAULT);
    cleanup_act_log(state, "reject", context, content, buf_str(reason));
    buf_reset(state->reason);
    /* CONT says "content rejected, and logged here" also for a 4.x.x text
     * (DEFER|CONT: the client answers 451 and logs no second line). */
    cleanup_set_reason(state, buf_str(reason)[0] == '4'
                       ? CLEANUP_STAT_DEFER | CLEANUP_STAT_CONT : CLEANUP_STAT_CONT,
                       buf_str(reason));
    state->flags &= ~CLEANUP_FLAG_FILTER;
    buf_free(reason);
}

/* cleanup_act_text - REPLACE and PREPEND need text, a header for headers */
static int cleanup_act_text_ok(const char *action, const char *context, const char *text)
{
    if (*text == 0) {
        msg_warn("%s action without text in %s_checks map", action, context);
        return 0;
    }
    if (strcmp(context, "header") == 0 && !header_name_len(text, strlen(text))) {
        msg_warn("bad %s header text \"%s\" in header_checks map -- "
                 "need \"headername: headervalue\"", action, text);
        return 0;
    }
    return 1;
}

/* cleanup_act - do what the table said; CLEANUP_ACT_KEEP or _DROP */
static int cleanup_act(CLEANUP_STATE *state, const char *context, BUF *text,
                       const char *value)
{
    size_t  cmd_len = strcspn(value, " \t");
    const char *opt = value + cmd_len;
    char   *content = xstrdup(buf_str(text));
    int     ret = CLEANUP_ACT_KEEP;

    while (*opt == ' ' || *opt == '\t')
        opt++;
#define IS(name) (cmd_len == strlen(name) && strncasecmp(value, name, cmd_len) == 0)
    if (IS("REJECT")) {
        cleanup_reject(state, context, content, opt);
    } else if (IS("WARN")) {
        cleanup_act_log(state, "warning", context, content, opt);
    } else if (IS("INFO")) {
        cleanup_act_log(state, "info", context, content, opt);
    } else if (IS("DISCARD")) {
        cleanup_act_log(state, "discard", context, content, opt);
        state->discard = 1;
        state->flags &= ~CLEANUP_FLAG_FILTER;
    } else if (IS("HOLD")) {
        if (!state->hold && !state->discard) {
            cleanup_act_log(state, "hold", context, content, opt);
            state->hold = 1;
        }
    } else if (IS("PREPEND")) {
        if (cleanup_act_text_ok("PREPEND", context, opt)) {
            cleanup_act_log(state, "prepend", context, content, opt);
            cleanup_out_header(state, opt, strlen(opt));
        }
    } else if (IS("REPLACE")) {
        if (cleanup_act_text_ok("REPLACE", context, opt)) {
            cleanup_act_log(state, "replace", context, content, opt);
            buf_set(text, opt);
        }
    } else if (IS("REDIRECT")) {
        if (strchr(opt, '@') == NULL) {
            msg_warn("bad REDIRECT target \"%s\" in %s_checks map -- need user@domain",
                     opt, context);
        } else {
            xfree(state->redirect);
            state->redirect = xstrdup(opt);
            cleanup_act_log(state, "redirect", context, content, opt);
            state->flags &= ~CLEANUP_FLAG_FILTER;
        }
    } else if (IS("BCC")) {
        /* Postfix 3.0's BCC action: one more envelope recipient, as the
         * BCC tables add them (NOTIFY=NEVER, no header). */
        if (strchr(opt, '@') == NULL || opt[0] == '@' || opt[strlen(opt) - 1] == '@') {
            msg_warn("bad BCC address \"%s\" in %s_checks map -- need user@domain",
                     opt, context);
        } else {
            cleanup_act_log(state, "bcc", context, content, opt);
            cleanup_add_bcc(state, opt);
        }
    } else if (IS("FILTER")) {
        BUF    *where = buf_alloc(32);

        buf_sprintf(where, "%s_checks map", context);
        if (cleanup_set_filter(state, opt, buf_str(where)) == 0)
            cleanup_act_log(state, "filter", context, content, opt);
        buf_free(where);
    } else if (IS("IGNORE")) {
        ret = CLEANUP_ACT_DROP;
    } else if (!IS("DUNNO") && !IS("OK")) {
        msg_warn("unknown command in %s_checks map: %s", context, value);
    }
#undef IS
    xfree(content);
    return ret;
}

/* cleanup_checks - look text up in maps and act; CLEANUP_ACT_KEEP or _DROP */
int cleanup_checks(CLEANUP_STATE *state, MAPS *maps, const char *context, BUF *text)
{
    BUF    *value = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     ret = CLEANUP_ACT_KEEP;

    switch (maps_find(maps, buf_str(text), value, why)) {
    case DICT_FOUND:
        ret = cleanup_act(state, context, text, buf_str(value));
        break;
    case DICT_TRYLATER:
        msg_warn("%s: %s_checks map lookup problem -- message not accepted, "
                 "try again later (%s)", state->queue_id, context, buf_str(why));
        cleanup_set_reason(state, CLEANUP_STAT_DEFER, NULL);
        break;
    case DICT_NOTFOUND:
        break;
    }
    buf_free(value);
    buf_free(why);
    return ret;
}
