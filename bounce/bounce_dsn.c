/* bounce_dsn - compose RFC 3464 delivery status notifications.
 *
 * A notice is multipart/report; report-type=delivery-status with three
 * parts: a human-readable explanation (text/plain), the machine-readable
 * report (message/delivery-status: per-message fields, then one block per
 * recipient) and the original message (message/rfc822 for RET=FULL,
 * text/rfc822-headers for RET=HDRS), when it could be read. The result is
 * a list of queue-file content records (N, and L for a long original line
 * split by the writer), ready to go to cleanup.
 *
 * Text that came from outside (addresses, reasons, ENVID) is made safe
 * before it goes into a header or a report field: control bytes and
 * non-ASCII become '?', and long values are folded, so that no reason can
 * add a header, a field or a MIME part. The boundary is checked against
 * every line of every part and changed until no line starts with it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bounce.h"
#include "remote_reply.h"
#include "mail_proto.h"
#include "mem.h"
#include "record.h"

#define BOUNCE_FOLD_WIDTH   78          /* fold text lines beyond this */
#define BOUNCE_HARD_WIDTH   900         /* split a word longer than this */
#define BOUNCE_BOUNDARY_MAX 60          /* RFC 2046 allows 70 */

void bounce_text_init(BOUNCE_TEXT *text)
{
    memset(text, 0, sizeof(*text));
}

void bounce_text_free(BOUNCE_TEXT *text)
{
    int     i;

    for (i = 0; i < text->count; i++)
        xfree(text->lines[i].data);
    xfree(text->lines);
    bounce_text_init(text);
}

/* bounce_text_add - append one record */
void bounce_text_add(BOUNCE_TEXT *text, int type, const char *data, size_t len)
{
    size_t  i;

    if (text->count == text->size) {
        text->size = text->size ? 2 * text->size : 64;
        text->lines = xreallocarray(text->lines, (size_t) text->size, sizeof(*text->lines));
    }
    text->lines[text->count].type = type;
    /* Exactly len bytes: data need not be NUL-terminated (copying len + 1
     * read one byte past a caller's buffer; found by fuzz_bounce_dsn). */
    text->lines[text->count].data = xmalloc(len + 1);
    memcpy(text->lines[text->count].data, data, len);
    text->lines[text->count].data[len] = 0;
    text->lines[text->count].len = len;
    text->count++;
    text->bytes += len;
    for (i = 0; i < len && !text->eight_bit; i++)
        if ((unsigned char) data[i] & 0x80)
            text->eight_bit = 1;
}

/* bounce_text_printf - append one formatted line (an N record) */
void bounce_text_printf(BOUNCE_TEXT *text, const char *fmt, ...)
{
    BUF    *line = buf_alloc(100);
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(line, fmt, ap);
    va_end(ap);
    bounce_text_add(text, REC_TYPE_NORM, buf_str(line), buf_len(line));
    buf_free(line);
}

/* bounce_text_append - append all records of another text */
static void bounce_text_append(BOUNCE_TEXT *text, const BOUNCE_TEXT *more)
{
    int     i;

    for (i = 0; i < more->count; i++)
        bounce_text_add(text, more->lines[i].type, more->lines[i].data, more->lines[i].len);
}

/* bounce_text_render - the text as one string, lines ended by LF (tests, logs) */
void bounce_text_render(const BOUNCE_TEXT *text, BUF *out)
{
    int     i;

    buf_reset(out);
    for (i = 0; i < text->count; i++) {
        buf_append(out, text->lines[i].data, text->lines[i].len);
        if (text->lines[i].type == REC_TYPE_NORM)
            buf_putc(out, '\n');
    }
}

/* bounce_ret_parse - dsn_ret text: "HDRS" (or Postfix's 2) returns headers only */
int bounce_ret_parse(const char *text)
{
    if (strcasecmp(text, "HDRS") == 0 || strcmp(text, "2") == 0)
        return BOUNCE_RET_HDRS;
    return BOUNCE_RET_FULL;
}

/* bounce_notify_wants - does a recipient's NOTIFY ask for this notice?
 * No NOTIFY at all means FAILURE,DELAY (RFC 3461 leaves the default to
 * the MTA; this is Postfix's). */
int bounce_notify_wants(int notify, BOUNCE_ACTION action)
{
    if (notify == 0)
        notify = DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY;
    if (notify & DSN_NOTIFY_NEVER)
        return 0;
    switch (action) {
    case BOUNCE_ACT_FAILED:
        return (notify & DSN_NOTIFY_FAILURE) != 0;
    case BOUNCE_ACT_DELAYED:
        return (notify & DSN_NOTIFY_DELAY) != 0;
    default:
        return (notify & DSN_NOTIFY_SUCCESS) != 0;
    }
}

/* bounce_kind_subject - the Subject: of each kind of notice */
const char *bounce_kind_subject(BOUNCE_KIND kind)
{
    switch (kind) {
    case BOUNCE_KIND_POSTMASTER:
        return "Postmaster Copy: Undelivered Mail";
    case BOUNCE_KIND_DELAY:
        return "Delayed Mail (still being retried)";
    case BOUNCE_KIND_SUCCESS:
        return "Successful Mail Delivery Report";
    default:
        return "Undelivered Mail Returned to Sender";
    }
}

/* bounce_safe - outside text made fit for a header or report field */
static void bounce_safe(BUF *out, const char *text)
{
    const unsigned char *cp;

    buf_reset(out);
    for (cp = (const unsigned char *) text; *cp; cp++)
        buf_putc(out, *cp >= 0x20 && *cp < 0x7f ? *cp : (*cp == '\t' ? ' ' : '?'));
}

/* bounce_fold - add `prefix value` as lines of at most ~78 columns; the
 * continuation lines start with `indent` (a space for header fields) */
static void bounce_fold(BOUNCE_TEXT *text, const char *prefix, const char *value,
                        const char *indent)
{
    BUF    *safe = buf_alloc(100);
    BUF    *line = buf_alloc(100);
    const char *cp, *brk;
    size_t  room;

    bounce_safe(safe, value);
    /* No line may be white space only (some readers take it for the blank
     * line that ends a header or a report block): drop the value's
     * trailing spaces, and all spaces at a fold point. */
    while (buf_len(safe) > 0 && buf_str(safe)[buf_len(safe) - 1] == ' ')
        buf_truncate(safe, buf_len(safe) - 1);
    buf_set(line, prefix);
    cp = buf_str(safe);
    for (;;) {
        room = buf_len(line) < BOUNCE_FOLD_WIDTH ? BOUNCE_FOLD_WIDTH - buf_len(line) : 0;
        if (strlen(cp) <= room) {
            buf_puts(line, cp);
            break;
        }
        /* Break at the last space that fits, else the first one after. */
        for (brk = cp + room; brk > cp && *brk != ' '; brk--)
             /* void */ ;
        if (brk == cp)
            brk = strchr(cp + 1, ' ');
        if (brk == NULL || brk - cp > BOUNCE_HARD_WIDTH)
            brk = strlen(cp) > BOUNCE_HARD_WIDTH ? cp + BOUNCE_HARD_WIDTH : NULL;
        if (brk == NULL) {
            buf_puts(line, cp);
            break;
        }
        buf_append(line, cp, (size_t) (brk - cp));
        bounce_text_add(text, REC_TYPE_NORM, buf_str(line), buf_len(line));
        buf_set(line, indent);
        for (cp = brk; *cp == ' '; cp++)
             /* void */ ;
    }
    bounce_text_add(text, REC_TYPE_NORM, buf_str(line), buf_len(line));
    buf_free(safe);
    buf_free(line);
}

/* bounce_date - an RFC 5322 date */
static void bounce_date(BUF *out, time_t when)
{
    struct tm tm;
    char    text[80];

    localtime_r(&when, &tm);
    strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm);
    buf_set(out, text);
}

/* bounce_duration - "3 hour(s)" style text for the delay notice */
static void bounce_duration(BUF *out, long seconds)
{
    if (seconds >= 86400 && seconds % 86400 == 0)
        buf_sprintf(out, "%ld day(s)", seconds / 86400);
    else if (seconds >= 3600)
        buf_sprintf(out, "%ld hour(s)", seconds / 3600);
    else
        buf_sprintf(out, "%ld minute(s)", seconds / 60);
}

/* bounce_intro - the human-readable opening of each kind of notice */
static void bounce_intro(BOUNCE_TEXT *text, const BOUNCE_INFO *info, int have_original)
{
    BUF    *a = buf_alloc(40);
    BUF    *b = buf_alloc(40);

    bounce_text_printf(text, "This is the mail system at host %s.", info->hostname);
    bounce_text_printf(text, "%s", "");
    switch (info->kind) {
    case BOUNCE_KIND_DELAY:
        bounce_duration(a, info->warn_after);
        bounce_duration(b, info->lifetime);
        bounce_text_printf(text, "THIS IS A WARNING ONLY: you do not need to send your message again.");
        bounce_text_printf(text, "%s", "");
        bounce_text_printf(text, "Your message could not be delivered for more than %s.", buf_str(a));
        bounce_text_printf(text, "It will be retried until it is %s old.", buf_str(b));
        break;
    case BOUNCE_KIND_SUCCESS:
        bounce_text_printf(text, "Your message was delivered to the destination(s) listed");
        bounce_text_printf(text, "below. Other systems further on may still report problems.");
        break;
    case BOUNCE_KIND_POSTMASTER:
        bounce_text_printf(text, "A delivery status notification (sent with the null sender)");
        bounce_text_printf(text, "could not be delivered to one or more recipients.");
        break;
    default:
        bounce_text_printf(text, "I'm sorry to have to inform you that your message could not");
        bounce_text_printf(text, "be delivered to one or more recipients.%s",
                           have_original ? " It's attached below." : "");
        break;
    }
    bounce_text_printf(text, "%s", "");
    if (info->kind != BOUNCE_KIND_SUCCESS) {
        bounce_text_printf(text, "For further assistance, please send mail to %s.", info->postmaster);
        bounce_text_printf(text, "%s", "");
        bounce_text_printf(text, "If you do so, please include this problem report. You can");
        bounce_text_printf(text, "delete your own text from the attached returned message.");
        bounce_text_printf(text, "%s", "");
    }
    bounce_text_printf(text, "                   The mail system");
    bounce_text_printf(text, "%s", "");
    buf_free(a);
    buf_free(b);
}

/* bounce_human - part 1: the explanation and one paragraph per recipient */
static void bounce_human(BOUNCE_TEXT *text, const BOUNCE_INFO *info,
                         const BOUNCE_ENTRY *const *entries, int count, int have_original)
{
    BUF    *para = buf_alloc(100);
    int     i;

    bounce_intro(text, info, have_original);
    for (i = 0; i < count; i++) {
        /* The addresses are folded with the reason (bounce_fold makes all
         * of it safe): each may be up to 1000 bytes, and as an unfolded
         * prefix they made lines over RFC 5322's 998. */
        buf_sprintf(para, "<%s>", entries[i]->recipient);
        if (*entries[i]->orig_rcpt && strcmp(entries[i]->orig_rcpt, entries[i]->recipient) != 0)
            buf_printf(para, " (expanded from <%s>)", entries[i]->orig_rcpt);
        buf_printf(para, ": %s", entries[i]->reason);
        bounce_fold(text, "", buf_str(para), "    ");
        bounce_text_printf(text, "%s", "");
    }
    buf_free(para);
}

/* bounce_diagnostic - "smtp; 550 ..." when the reason carries a server's
 * reply (remote_reply.h: "host X[A] said: 550 ... (in reply to RCPT TO
 * command)", or a bare "550 ..."), else "x-unix; reason"; mta gets the server's name, or
 * stays empty */
static void bounce_diagnostic(BUF *out, BUF *mta, const char *reason)
{
    BUF    *reply = buf_alloc(100);

    if (remote_reply_parse(reason, mta, reply))
        buf_sprintf(out, "smtp; %s", buf_str(reply));
    else if (reason[0] >= '2' && reason[0] <= '5' && reason[1] >= '0' && reason[1] <= '9'
             && reason[2] >= '0' && reason[2] <= '9' && (reason[3] == ' ' || reason[3] == '-'))
        buf_sprintf(out, "smtp; %s", reason);       /* a bare reply, from no named host */
    else
        buf_sprintf(out, "x-unix; %s", reason);
    buf_free(reply);
}

/* bounce_orcpt - Original-Recipient value from a DSN ORCPT "type;address" */
static void bounce_orcpt(BUF *out, const char *orcpt)
{
    const char *semi = strchr(orcpt, ';');

    if (semi == NULL)
        buf_sprintf(out, "rfc822; %s", orcpt);
    else
        buf_sprintf(out, "%.*s; %s", (int) (semi - orcpt), orcpt, semi + 1);
}

/* bounce_report - part 2: message/delivery-status (RFC 3464 section 2) */
static void bounce_report(BOUNCE_TEXT *text, const BOUNCE_INFO *info,
                          const BOUNCE_ENTRY *const *entries, int count)
{
    BUF    *value = buf_alloc(100), *mta = buf_alloc(64);
    int     i;

    bounce_fold(text, "Reporting-MTA: dns; ", info->hostname, " ");
    bounce_fold(text, "X-Surel-Queue-ID: ", info->queue_id, " ");
    buf_sprintf(value, "rfc822; %s", info->sender);
    bounce_fold(text, "X-Surel-Sender: ", buf_str(value), " ");
    if (info->arrival.tv_sec > 0) {
        bounce_date(value, info->arrival.tv_sec);
        bounce_fold(text, "Arrival-Date: ", buf_str(value), " ");
    }
    if (info->envid && *info->envid)
        bounce_fold(text, "Original-Envelope-Id: ", info->envid, " ");
    for (i = 0; i < count; i++) {
        const BOUNCE_ENTRY *e = entries[i];

        bounce_text_printf(text, "%s", "");
        buf_sprintf(value, "rfc822; %s", e->recipient);
        bounce_fold(text, "Final-Recipient: ", buf_str(value), " ");
        if (*e->dsn_orcpt) {
            bounce_orcpt(value, e->dsn_orcpt);
            bounce_fold(text, "Original-Recipient: ", buf_str(value), " ");
        }
        bounce_fold(text, "Action: ", bounce_action_name(e->action), " ");
        bounce_fold(text, "Status: ", e->status, " ");
        bounce_diagnostic(value, mta, e->reason);
        if (buf_len(mta) > 0)
            bounce_fold(text, "Remote-MTA: dns; ", buf_str(mta), " ");
        bounce_fold(text, "Diagnostic-Code: ", buf_str(value), " ");
        if (e->action == BOUNCE_ACT_DELAYED && info->arrival.tv_sec > 0) {
            bounce_date(value, info->arrival.tv_sec + info->lifetime);
            bounce_fold(text, "Will-Retry-Until: ", buf_str(value), " ");
        }
    }
    buf_free(value);
    buf_free(mta);
}

/* bounce_starts_with - does the logical line at records[i] begin with
 * `prefix`? A line split into L records is joined as far as needed. */
static int bounce_starts_with(const BOUNCE_TEXT *text, int i, const char *prefix)
{
    size_t  plen = strlen(prefix);
    size_t  have = 0, take;

    for (; i < text->count && have < plen; i++) {
        take = text->lines[i].len < plen - have ? text->lines[i].len : plen - have;
        if (memcmp(text->lines[i].data, prefix + have, take) != 0)
            return 0;
        have += take;
        if (text->lines[i].type == REC_TYPE_NORM)
            break;
    }
    return have == plen;
}

/* bounce_collides - does any line of a part start with "--boundary"? */
static int bounce_collides(const BOUNCE_TEXT *text, const char *delim)
{
    int     i, line_start = 1;

    for (i = 0; i < text->count; i++) {
        if (line_start && bounce_starts_with(text, i, delim))
            return 1;
        line_start = text->lines[i].type == REC_TYPE_NORM;
    }
    return 0;
}

/* bounce_boundary - a boundary that no line of any part starts with.
 * Candidates "base", "base.1=", "base.2=", ...: none is a prefix of
 * another, so each line rules out at most one of them besides base, and
 * the loop ends within (lines + 2) tries. */
static void bounce_boundary(BUF *boundary, const BOUNCE_INFO *info,
                            const BOUNCE_TEXT *const *parts, int nparts)
{
    BUF    *base = buf_alloc(80);
    BUF    *delim = buf_alloc(80);
    const char *cp;
    int     n, p, lines = 0, clash;

    buf_sprintf(base, "%s.%ld/", info->queue_id, (long) info->now);
    for (cp = info->hostname; *cp && buf_len(base) < BOUNCE_BOUNDARY_MAX - 12; cp++)
        if ((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
            || (*cp >= '0' && *cp <= '9') || *cp == '.' || *cp == '-')
            buf_putc(base, *cp);
    for (p = 0; p < nparts; p++)
        lines += parts[p]->count;
    for (n = 0; n <= lines + 1; n++) {
        if (n == 0)
            buf_set(boundary, buf_str(base));
        else
            buf_sprintf(boundary, "%s.%d=", buf_str(base), n);
        buf_sprintf(delim, "--%s", buf_str(boundary));
        for (clash = 0, p = 0; p < nparts && !clash; p++)
            clash = bounce_collides(parts[p], buf_str(delim));
        if (!clash)
            break;
    }
    buf_free(base);
    buf_free(delim);
}

/* bounce_headers - the notice's own header */
static void bounce_headers(BOUNCE_TEXT *out, const BOUNCE_INFO *info,
                           const char *boundary, int eight_bit)
{
    BUF    *value = buf_alloc(100);
    struct tm tm;
    char    stamp[32];

    buf_sprintf(value, "MAILER-DAEMON@%s (Mail Delivery System)", info->hostname);
    bounce_fold(out, "From: ", buf_str(value), " ");
    bounce_fold(out, "Subject: ", bounce_kind_subject(info->kind), " ");
    bounce_fold(out, "To: ", info->to, " ");
    bounce_text_printf(out, "Auto-Submitted: auto-replied");
    bounce_text_printf(out, "MIME-Version: 1.0");
    bounce_text_printf(out, "Content-Type: multipart/report; report-type=delivery-status;");
    bounce_text_printf(out, "\tboundary=\"%s\"", boundary);
    bounce_text_printf(out, "Content-Transfer-Encoding: %s", eight_bit ? "8bit" : "7bit");
    gmtime_r(&info->now, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    buf_sprintf(value, "<%s.%s@%s>", stamp, info->new_id, info->hostname);
    bounce_fold(out, "Message-Id: ", buf_str(value), " ");
    bounce_date(value, info->now);
    bounce_fold(out, "Date: ", buf_str(value), " ");
    bounce_text_printf(out, "%s", "");
    bounce_text_printf(out, "This is a MIME-encapsulated message.");
    bounce_text_printf(out, "%s", "");
    buf_free(value);
}

/* bounce_original_description - Content-Description of part 3 */
static const char *bounce_original_description(const BOUNCE_INFO *info)
{
    switch (info->kind) {
    case BOUNCE_KIND_DELAY:
        return info->ret == BOUNCE_RET_HDRS ? "Delayed Message Headers" : "Delayed Message";
    case BOUNCE_KIND_SUCCESS:
        return info->ret == BOUNCE_RET_HDRS ? "Delivered Message Headers" : "Delivered Message";
    default:
        return info->ret == BOUNCE_RET_HDRS ? "Undelivered Message Headers" : "Undelivered Message";
    }
}

/* bounce_dsn_compose - the whole notice, as content records.
 * original is NULL when the message could not be read. */
void bounce_dsn_compose(BOUNCE_TEXT *out, const BOUNCE_INFO *info,
                        const BOUNCE_ENTRY *const *entries, int count,
                        const BOUNCE_TEXT *original)
{
    BOUNCE_TEXT human, report;
    const BOUNCE_TEXT *parts[3];
    BUF    *boundary = buf_alloc(80);
    int     eight_bit = original && original->eight_bit;

    bounce_text_init(&human);
    bounce_text_init(&report);
    bounce_human(&human, info, entries, count, original != NULL);
    bounce_report(&report, info, entries, count);
    parts[0] = &human;
    parts[1] = &report;
    parts[2] = original;
    bounce_boundary(boundary, info, parts, original ? 3 : 2);

    bounce_headers(out, info, buf_str(boundary), eight_bit);
    bounce_text_printf(out, "--%s", buf_str(boundary));
    bounce_text_printf(out, "Content-Description: Notification");
    bounce_text_printf(out, "Content-Type: text/plain; charset=us-ascii");
    bounce_text_printf(out, "%s", "");
    bounce_text_append(out, &human);
    bounce_text_printf(out, "--%s", buf_str(boundary));
    bounce_text_printf(out, "Content-Description: Delivery report");
    bounce_text_printf(out, "Content-Type: message/delivery-status");
    bounce_text_printf(out, "%s", "");
    bounce_text_append(out, &report);
    bounce_text_printf(out, "%s", "");
    if (original) {
        bounce_text_printf(out, "--%s", buf_str(boundary));
        bounce_text_printf(out, "Content-Description: %s", bounce_original_description(info));
        bounce_text_printf(out, "Content-Type: %s",
                           info->ret == BOUNCE_RET_HDRS ? "text/rfc822-headers" : "message/rfc822");
        if (eight_bit)
            bounce_text_printf(out, "Content-Transfer-Encoding: 8bit");
        bounce_text_printf(out, "%s", "");
        bounce_text_append(out, original);
        /* The delimiter must start a line of its own. */
        if (original->count > 0 && original->lines[original->count - 1].type != REC_TYPE_NORM)
            bounce_text_add(out, REC_TYPE_NORM, "", 0);
        bounce_text_printf(out, "%s", "");
    }
    bounce_text_printf(out, "--%s--", buf_str(boundary));
    bounce_text_free(&human);
    bounce_text_free(&report);
    buf_free(boundary);
}
