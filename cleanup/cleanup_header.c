/* cleanup_header - one logical (unfolded) primary header, and the end of
 * the header block.
 *
 * What happens to a header, in order (Postfix's cleanup_header_callback):
 * header_checks on the whole logical header (folded lines included);
 * then, by name: Return-Path:, Content-Length:, Bcc: and Resent-Bcc: are
 * removed (Postfix's header_opts table; Delivered-To: is kept, local
 * delivery's loop detection needs it); Received: headers are counted
 * against hopcount_limit; a Resent- header makes the headers added at the
 * end Resent- ones; sendmail -t collects To/Cc/Bcc (or Resent-To/Cc/Bcc);
 * sender and recipient headers have their addresses qualified (local
 * submissions and local_header_rewrite_clients: append_at_myorigin and
 * append_dot_mydomain; other SMTP clients: remote_header_rewrite_domain,
 * nothing by default) and then mapped through the canonical tables
 * (CLEANUP_FLAG_MAP_OK). At the end of the header block a
 * missing (Resent-)Message-Id: and (Resent-)Date: are added, and for local
 * submissions a missing (Resent-)From:.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "address.h"
#include "cleanup.h"
#include "header_name.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "msg.h"
#include "tok822.h"

enum {
    HDR_OTHER, HDR_APPARENTLY_TO, HDR_BCC, HDR_CC, HDR_CONTENT_LENGTH, HDR_DATE,
    HDR_DELIVERED_TO, HDR_DISP_NOTIFICATION, HDR_ERRORS_TO, HDR_FROM,
    HDR_MAIL_FOLLOWUP_TO, HDR_MESSAGE_ID, HDR_RECEIVED, HDR_REPLY_TO, HDR_RESENT_BCC,
    HDR_RESENT_CC, HDR_RESENT_DATE, HDR_RESENT_FROM, HDR_RESENT_MESSAGE_ID,
    HDR_RESENT_REPLY_TO, HDR_RESENT_SENDER, HDR_RESENT_TO, HDR_RETURN_PATH,
    HDR_RETURN_RECEIPT_TO, HDR_SENDER, HDR_TO
};

#define HDR_DROP    (1 << 0)        /* removed from the message */
#define HDR_SENDER  (1 << 1)        /* sender addresses: sender canonical */
#define HDR_RECIP   (1 << 2)        /* recipient addresses: recipient canonical */
#define HDR_RESENT  (1 << 3)        /* a Resent- header */
#define HDR_EXTRACT (1 << 4)        /* recipients for sendmail -t */

typedef struct HDR_INFO {
    const char *name;
    int     type;
    int     flags;
} HDR_INFO;

static const HDR_INFO cleanup_hdr_info[] = {
    {"Apparently-To", HDR_APPARENTLY_TO, HDR_RECIP},
    {"Bcc", HDR_BCC, HDR_DROP | HDR_RECIP | HDR_EXTRACT},
    {"Cc", HDR_CC, HDR_RECIP | HDR_EXTRACT},
    {"Content-Length", HDR_CONTENT_LENGTH, HDR_DROP},
    {"Date", HDR_DATE, 0},
    {"Delivered-To", HDR_DELIVERED_TO, 0},
    {"Disposition-Notification-To", HDR_DISP_NOTIFICATION, HDR_SENDER},
    {"Errors-To", HDR_ERRORS_TO, HDR_SENDER},
    {"From", HDR_FROM, HDR_SENDER},
    {"Mail-Followup-To", HDR_MAIL_FOLLOWUP_TO, HDR_SENDER},
    {"Message-Id", HDR_MESSAGE_ID, 0},
    {"Received", HDR_RECEIVED, 0},
    {"Reply-To", HDR_REPLY_TO, HDR_SENDER},
    {"Resent-Bcc", HDR_RESENT_BCC, HDR_DROP | HDR_RECIP | HDR_EXTRACT | HDR_RESENT},
    {"Resent-Cc", HDR_RESENT_CC, HDR_RECIP | HDR_EXTRACT | HDR_RESENT},
    {"Resent-Date", HDR_RESENT_DATE, HDR_RESENT},
    {"Resent-From", HDR_RESENT_FROM, HDR_SENDER | HDR_RESENT},
    {"Resent-Message-Id", HDR_RESENT_MESSAGE_ID, HDR_RESENT},
    {"Resent-Reply-To", HDR_RESENT_REPLY_TO, HDR_RECIP | HDR_RESENT},
    {"Resent-Sender", HDR_RESENT_SENDER, HDR_SENDER | HDR_RESENT},
    {"Resent-To", HDR_RESENT_TO, HDR_RECIP | HDR_EXTRACT | HDR_RESENT},
    {"Return-Path", HDR_RETURN_PATH, HDR_DROP | HDR_SENDER},
    {"Return-Receipt-To", HDR_RETURN_RECEIPT_TO, HDR_SENDER},
    {"Sender", HDR_SENDER, HDR_SENDER},
    {"To", HDR_TO, HDR_RECIP | HDR_EXTRACT},
};

#define HDR_SEEN(s, t)  ((s)->headers_seen & (1UL << (t)))

/* cleanup_hdr_find - the table entry for a header, or NULL */
static const HDR_INFO *cleanup_hdr_find(const char *text)
{
    size_t  len = strcspn(text, ": \t");
    size_t  i;

    for (i = 0; i < sizeof(cleanup_hdr_info) / sizeof(cleanup_hdr_info[0]); i++)
        if (strlen(cleanup_hdr_info[i].name) == len
            && strncasecmp(cleanup_hdr_info[i].name, text, len) == 0)
            return cleanup_hdr_info + i;
    return NULL;
}

/* cleanup_extract_addrs - remember To/Cc/Bcc addresses for sendmail -t.
 *
 * Only local submissions extract, and their envelope recipients passed
 * the strict maildrop syntax (lib/global/maildrop.h) in postdrop and
 * pickup; header recipients get the same check here, so that `sendmail -t`
 * cannot smuggle what `sendmail rcpt` may not (control bytes for the log,
 * a leading '-' for a command line). A refused address is skipped with a
 * warning naming the queue ID; the other recipients are kept. */
static void cleanup_extract_addrs(CLEANUP_STATE *state, const HDR_INFO *hp, const char *value)
{
    TOK822_LIST list;
    char ***xtr = (hp->flags & HDR_RESENT) ? &state->xtr_resent : &state->xtr;
    int    *nxtr = (hp->flags & HDR_RESENT) ? &state->nxtr_resent : &state->nxtr;
    BUF    *why = buf_alloc(100);
    const char *addr;
    int     i;

    tok822_parse(value, strlen(value), &list);
    for (i = 0; i < list.count; i++) {
        addr = list.addrs[i].addr;
        if (*addr == 0 || *nxtr >= CLEANUP_RCPT_MAX)
            continue;
        if (maildrop_address_check(addr, strlen(addr), 0, why) < 0) {
            msg_warn("%s: ignoring %s recipient <%s>: %s", state->queue_id, hp->name,
                     addr, buf_str(why));
            continue;
        }
        *xtr = xreallocarray(*xtr, (size_t) *nxtr + 1, sizeof(char *));
        (*xtr)[(*nxtr)++] = xstrdup(addr);
    }
    tok822_list_free(&list);
    buf_free(why);
}

/* cleanup_hdr_context - local or remote rewriting for this message's
 * headers: local submissions and messages without an SMTP client (bounce)
 * are local, SMTP clients as local_header_rewrite_clients says */
static int cleanup_hdr_context(CLEANUP_STATE *state)
{
    const char *addr;

    if (state->hdr_context == CLEANUP_HDR_CTX_UNKNOWN) {
        addr = cleanup_attr_value(state, MAIL_ATTR_CLIENT_ADDR);
        state->hdr_context = (state->flags & CLEANUP_FLAG_LOCAL) || addr == NULL
            || header_rewrite_local(cleanup_conf.header_rewrite, addr,
                                    cleanup_attr_value(state, MAIL_ATTR_PROTO_NAME))
            ? CLEANUP_HDR_CTX_LOCAL : CLEANUP_HDR_CTX_REMOTE;
    }
    return state->hdr_context;
}

/* cleanup_map_header - the addresses of a sender or recipient header:
 * qualified in the message's context (Postfix's cleanup_rewrite_tree),
 * then mapped through the canonical tables (CLEANUP_FLAG_MAP_OK). Only
 * the address spans change: display names, comments, folding stay. */
static void cleanup_map_header(CLEANUP_STATE *state, const HDR_INFO *hp, BUF *header,
                               size_t value_at)
{
    const char *value = buf_str(header) + value_at;
    size_t  vlen = buf_len(header) - value_at;
    TOK822_LIST list;
    char  **replace;
    BUF    *qual = buf_alloc(100);
    BUF    *out = buf_alloc(100);
    int     local = cleanup_hdr_context(state) == CLEANUP_HDR_CTX_LOCAL;
    int     i, changed = 0;

    tok822_parse(value, vlen, &list);
    replace = xcalloc((size_t) list.count + 1, sizeof(char *));
    for (i = 0; i < list.count; i++) {
        const char *addr = list.addrs[i].addr;

        if (*addr == 0)
            continue;                   /* <> */
        if (local)
            address_qualify(addr, qual);
        else
            address_qualify_remote(addr, qual);
        if ((state->flags & CLEANUP_FLAG_MAP_OK)
            && ((hp->flags & HDR_SENDER) ? cleanup_canon_sender(state, buf_str(qual), out)
                : cleanup_canon_recip(state, buf_str(qual), out)) > 0)
            buf_set(qual, buf_str(out));
        if (state->flags & CLEANUP_FLAG_MAP_OK)
            (void) cleanup_masquerade(state, (hp->flags & HDR_SENDER) ? CLEANUP_MASQ_HDR_FROM
                                      : CLEANUP_MASQ_HDR_RCPT, qual);
        if (strcmp(buf_str(qual), addr) != 0) {
            replace[i] = xstrdup(buf_str(qual));
            changed = 1;
        }
    }
    if (changed) {
        BUF    *text = buf_alloc(buf_len(header) + 100);

        buf_append(text, buf_str(header), value_at);
        tok822_rewrite(value, vlen, &list, replace, out);
        buf_append(text, buf_str(out), buf_len(out));
        buf_set(header, buf_str(text));
        buf_free(text);
    }
    for (i = 0; i < list.count; i++)
        xfree(replace[i]);
    xfree(replace);
    tok822_list_free(&list);
    buf_free(qual);
    buf_free(out);
}

/* cleanup_log_id - "ID: message-id=<...>" (folding and controls made blanks) */
static void cleanup_log_id(CLEANUP_STATE *state, const char *label, const char *value)
{
    BUF    *text = buf_alloc(100);

    for (; *value && buf_len(text) < 500; value++)
        buf_putc(text, (unsigned char) *value < ' ' ? ' ' : *value);
    buf_trim_right(text);
    msg_info("%s: %s=%s", state->queue_id, label, buf_str(text));
    buf_free(text);
}

/* cleanup_header - see the top of this file */
void cleanup_header(CLEANUP_STATE *state, BUF *header)
{
    const HDR_INFO *hp;
    size_t  value_at;

    if ((state->flags & CLEANUP_FLAG_FILTER) && cleanup_conf.header_checks
        && cleanup_checks(state, cleanup_conf.header_checks, "header", header)
        == CLEANUP_ACT_DROP)
        return;
    if (!CLEANUP_OUT_OK(state))
        return;
    if ((value_at = header_name_len(buf_str(header), buf_len(header))) == 0
        || (hp = cleanup_hdr_find(buf_str(header))) == NULL) {
        cleanup_out_header(state, buf_str(header), buf_len(header));
        return;
    }
    state->headers_seen |= 1UL << hp->type;
    if (hp->type == HDR_MESSAGE_ID || hp->type == HDR_RESENT_MESSAGE_ID)
        cleanup_log_id(state, hp->type == HDR_MESSAGE_ID ? "message-id" : "resent-message-id",
                       buf_str(header) + value_at + strspn(buf_str(header) + value_at, " \t"));
    if (header_is_hop(buf_str(header), buf_len(header)) && hop_count_exceeded(++state->hop_count)) {
        cleanup_set_reason(state, CLEANUP_STAT_HOPS, NULL);
        return;
    }
    if (hp->flags & HDR_RESENT)
        state->resent = 1;
    if (state->extract && (hp->flags & HDR_EXTRACT))
        cleanup_extract_addrs(state, hp, buf_str(header) + value_at);
    if (hp->flags & (HDR_SENDER | HDR_RECIP))
        cleanup_map_header(state, hp, header, value_at);
    if ((hp->flags & HDR_DROP) == 0)
        cleanup_out_header(state, buf_str(header), buf_len(header));
}

/* cleanup_date - RFC 5322 date in local time, English names whatever the locale */
static void cleanup_date(BUF *out, time_t when)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    long    off;
    char    zone[64];

    localtime_r(&when, &tm);
    off = tm.tm_gmtoff / 60;
    buf_sprintf(out, "%.3s, %d %.3s %d %02d:%02d:%02d %c%02ld%02ld",
                days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon,
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
                off < 0 ? '-' : '+', (off < 0 ? -off : off) / 60, (off < 0 ? -off : off) % 60);
    if (strftime(zone, sizeof(zone), "%Z", &tm) > 0)
        buf_printf(out, " (%s)", zone);
}

/* cleanup_phrase - a display name as an RFC 5322 phrase: atoms as they
 * are, anything else as a quoted string; control characters become spaces */
static void cleanup_phrase(const char *name, BUF *out)
{
    const char *cp;
    int     plain = 1;

    for (cp = name; *cp; cp++)
        if (!isalnum((unsigned char) *cp) && *cp != ' ' && (unsigned char) *cp < 0x80
            && strchr("!#$%&'*+-/=?^_`{|}~", *cp) == NULL)
            plain = 0;
    if (!plain)
        buf_putc(out, '"');
    for (cp = name; *cp; cp++) {
        if (!plain && (*cp == '"' || *cp == '\\'))
            buf_putc(out, '\\');
        buf_putc(out, (unsigned char) *cp < ' ' ? ' ' : *cp);
    }
    if (!plain)
        buf_putc(out, '"');
}

/* cleanup_add_from - (Resent-)From: for local mail, in Postfix's
 * header_from_format = standard: "Full Name <sender>", or just the sender */
static void cleanup_add_from(CLEANUP_STATE *state, const char *prefix)
{
    BUF    *text = buf_alloc(100);
    const char *sender = state->sender && *state->sender ? state->sender : "MAILER-DAEMON";

    buf_sprintf(text, "%sFrom: ", prefix);
    if (state->sender && *state->sender && state->fullname && *state->fullname) {
        cleanup_phrase(state->fullname, text);
        buf_puts(text, " <");
        tok822_quote(sender, text);
        buf_putc(text, '>');
    } else {
        tok822_quote(sender, text);
    }
    cleanup_out_header(state, buf_str(text), buf_len(text));
    buf_free(text);
}

/* cleanup_header_done - the end of the primary header block */
void cleanup_header_done(CLEANUP_STATE *state)
{
    const char *prefix = state->resent ? "Resent-" : "";
    BUF    *text;
    char    stamp[32];
    time_t  when = state->qf->arrival.tv_sec;
    struct tm tm;
    int     i;

    if (!CLEANUP_OUT_OK(state))
        return;
    text = buf_alloc(100);
    if (!HDR_SEEN(state, state->resent ? HDR_RESENT_MESSAGE_ID : HDR_MESSAGE_ID)) {
        gmtime_r(&when, &tm);
        strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
        buf_sprintf(text, "%s.%s@%s", stamp, state->queue_id, cleanup_conf.myhostname);
        msg_info("%s: %smessage-id=<%s>", state->queue_id, state->resent ? "resent-" : "",
                 buf_str(text));
        buf_sprintf(text, "%sMessage-Id: <%s.%s@%s>", prefix, stamp, state->queue_id,
                    cleanup_conf.myhostname);
        cleanup_out_header(state, buf_str(text), buf_len(text));
    }
    if (!HDR_SEEN(state, HDR_MESSAGE_ID) && state->resent)
        msg_info("%s: message-id=<>", state->queue_id);
    if (!HDR_SEEN(state, state->resent ? HDR_RESENT_DATE : HDR_DATE)) {
        cleanup_date(text, when);
        buf_sprintf(state->temp, "%sDate: %s", prefix, buf_str(text));
        cleanup_out_header(state, buf_str(state->temp), buf_len(state->temp));
    }
    if ((state->flags & CLEANUP_FLAG_LOCAL)
        && !HDR_SEEN(state, state->resent ? HDR_RESENT_FROM : HDR_FROM))
        cleanup_add_from(state, prefix);
    if (state->extract) {
        char  **list = state->resent ? state->xtr_resent : state->xtr;
        int     n = state->resent ? state->nxtr_resent : state->nxtr;

        for (i = 0; i < n && CLEANUP_OUT_OK(state); i++)
            cleanup_add_rcpt(state, list[i], list[i], "", state->extract_notify);
    }
    buf_free(text);
}
