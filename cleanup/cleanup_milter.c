/* cleanup_milter - the content phase of mail filters, and their changes.
 *
 * Two sources of filters (doc/design.md "Milters"):
 *   - smtpd's smtpd_milters: the sessions arrive right after {queue_id}
 *     (CLEANUP_FLAG_SMTPD_MILTERS; cleanup_milter_receive, non-blocking,
 *     in the event loop), with the filters' negotiated state and the
 *     macro values smtpd knows;
 *   - non_smtpd_milters for local submissions (CLEANUP_FLAG_MILTER, set
 *     by pickup): cleanup opens them itself at the end of the message and
 *     emulates connect (localhost [127.0.0.1]), HELO, MAIL, each RCPT and
 *     DATA, as Postfix does.
 * After E, before the commit (cleanup_milter_finish), the message as it
 * stands in the queue file (smtpd's Received:, cleanup's Message-Id:,
 * Date:, mapped addresses) is read back from the M record and sent: each
 * logical header (name, value with CRLF in its folding), the end of the
 * header, the body in chunks of at most 65,535 bytes with CRLF line ends,
 * the end of the message; milter.c skips the steps a filter negotiated
 * away. Every filter sees the message as received; the changes of all are
 * applied in filter order:
 *   - headers: add (at the end), insert at an index (0 = the top; the
 *     index counts every header of the file), change/delete the n-th
 *     header of a name (index 0 is 1; an empty value deletes; a change of
 *     a header that is not there adds it, as libmilter documents);
 *   - body: replaced as a whole (SMFIR_REPLBODY chunks, CRLF or LF);
 *   - sender (CHGFROM; RET= and ENVID= arguments kept, others ignored
 *     with a warning), recipients (ADDRCPT, ADDRCPT_PAR with NOTIFY= and
 *     ORCPT=, DELRCPT by the address as received or as mapped);
 *   - quarantine: the file goes to hold/ with A quarantine_reason=..., shown
 *     by `surel queue list`.
 * Header, body or sender changes rewrite the file's envelope and content
 * in place: the new version is written after the current end, copied
 * down over the old one and the file truncated (the file is still in
 * temp/, so a crash leaves only a file that is never scheduled); the
 * recipients are written after X by the commit as always.
 *
 * A reject or tempfail (the filter's own text with SMFIR_REPLYCODE) becomes
 * the status with the whole SMTP reply as reason, which smtpd says at the
 * end of DATA, and is logged here once, "QID: milter-reject:
 * END-OF-MESSAGE from NAME[ADDR]: 5.7.1 text; from=<s> to=<r> proto=P
 * helo=<h>"; discard and hold are logged alike.
 *
 * Blocking: a filter conversation is synchronous, so while one message
 * is with its filters this process's other clients wait (their bytes stay
 * in their sockets; they time out only after ipc_timeout). Each wait is
 * bounded by milter_command_timeout (smtpd-style stages) or
 * milter_content_timeout (content), and SMFIR_PROGRESS stretches one
 * answer to MILTER_PROGRESS_CAP times that at most (milter.h). Meanwhile
 * the process is BUSY for the master (multi_server_busy), so new clients
 * go to another cleanup process.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "address.h"
#include "cleanup.h"
#include "config.h"
#include "dsn.h"
#include "header_name.h"
#include "mail_proto.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"
#include "record.h"
#include "server.h"

#define CLEANUP_MILTER_COPY     (64 * 1024)     /* bytes per copy step */

/* One logical header as it will be written ("Name: value\n\tmore"). */
typedef struct CM_HDR {
    char   *text;
    size_t  name_len;               /* the name, without the colon */
} CM_HDR;

/* The message being judged, and the changes asked for. */
typedef struct CLEANUP_MILTER {
    MILTERS *milters;
    MILTERS_RECV *recv;             /* the hand-over being read */
    int     own;                    /* non_smtpd_milters: opened here */
    int     held_before;            /* quarantine known at hand-over (smtpd logged) */
    CLEANUP_STATE *state;
    const char *rcpt;               /* RCPT being emulated, for {rcpt_addr} */
    CM_HDR *hdrs;
    int     nhdrs;
    long    env_offset;             /* first envelope record after C and T */
    long    body_offset;            /* first body record */
    long    x_offset;               /* the X record */
    BUF    *new_body;               /* SMFIR_REPLBODY, or NULL */
    int     changed;                /* header, body, sender or attributes */
    int     have_separator;         /* an empty line ends the header */
    size_t  body_limit;
} CLEANUP_MILTER;

/* ---- Macros the filters may ask for. */

static const char *cleanup_milter_macro(void *ctx, const char *name)
{
    CLEANUP_MILTER *cm = ctx;
    CLEANUP_STATE *state = cm->state;
    const char *v;
    const char *addr = cleanup_attr_value(state, MAIL_ATTR_CLIENT_ADDR);

    if ((v = milters_macro_copy(cm->milters, name)) != NULL)
        return (v);
    if ((v = milter_macro_common(name)) != NULL)
        return (v);
    if (strcmp(name, "i") == 0 || strcmp(name, "{i}") == 0)
        return (state->queue_id);
    if (strcmp(name, "{client_addr}") == 0)
        return (addr ? addr : "127.0.0.1");
    if (strcmp(name, "{client_name}") == 0 || strcmp(name, "{client_ptr}") == 0)
        return (addr ? cleanup_attr_value(state, MAIL_ATTR_CLIENT_NAME) : "localhost");
    if (strcmp(name, "_") == 0 && addr == NULL)
        return ("localhost [127.0.0.1]");
    if (strcmp(name, "{mail_addr}") == 0)
        return (state->sender);
    if (strcmp(name, "{rcpt_addr}") == 0)
        return (cm->rcpt);
    return (NULL);
}

/* ---- Receiving smtpd's sessions. */

int     cleanup_milter_receive(CLEANUP_STATE *state, int fd)
{
    CLEANUP_MILTER *cm = state->milter;
    BUF    *why;
    MILTERS *ms = NULL;
    int     r;

    if (cm == NULL) {
        cm = state->milter = xcalloc(1, sizeof(*cm));
        cm->state = state;
        cm->recv = milters_recv_create();
    }
    why = buf_alloc(64);
    r = milters_recv_step(cm->recv, fd, &ms, why);
    if (r < 0)
        msg_warn("%s: %s", state->queue_id, buf_str(why));
    buf_free(why);
    if (r != 1)
        return (r);
    milters_recv_free(cm->recv);
    cm->recv = NULL;
    cm->milters = ms;
    cm->held_before = milters_quarantine(ms) != NULL;
    milters_set_queue_id(ms, state->queue_id);
    milters_set_macros(ms, cleanup_milter_macro, cm);
    return (1);
}

void    cleanup_milter_free(CLEANUP_STATE *state)
{
    CLEANUP_MILTER *cm = state->milter;
    int     i;

    if (cm == NULL)
        return;
    if (cm->recv)
        milters_recv_free(cm->recv);
    if (cm->milters)
        milters_free(cm->milters);      /* handed-over sessions: closed, not QUIT */
    for (i = 0; i < cm->nhdrs; i++)
        xfree(cm->hdrs[i].text);
    xfree(cm->hdrs);
    if (cm->new_body)
        buf_free(cm->new_body);
    xfree(cm);
    state->milter = NULL;
}

/* ---- Logging, Postfix's shape. */

static void cleanup_milter_log(CLEANUP_STATE *state, const char *kind, const char *text)
{
    BUF    *line = buf_alloc(300);
    const char *name = cleanup_attr_value(state, MAIL_ATTR_CLIENT_NAME);
    const char *addr = cleanup_attr_value(state, MAIL_ATTR_CLIENT_ADDR);
    const char *cp;

    buf_sprintf(line, "%s: %s: END-OF-MESSAGE from ", state->queue_id, kind);
    if (addr)
        buf_printf(line, "%s[%s]: ", name ? name : "unknown", addr);
    else
        buf_puts(line, "local: ");
    for (cp = text; *cp && buf_len(line) < 900; cp++)
        buf_putc(line, (unsigned char) *cp < ' ' || *cp == 127 ? ' ' : *cp);
    buf_putc(line, ';');
    cleanup_log_envelope(state, line);
    msg_info("%s", buf_str(line));
    buf_free(line);
}

/* ---- Reading the content back from the queue file. */

/* A stream over the queue file from an offset. It reads with pread(2)
 * at its own position: a dup()ed descriptor shares the file offset with
 * the writer, and moving that would send the writer's records astray. */
typedef struct CM_READER {
    off_t   off;
} CM_READER;

static ssize_t cleanup_milter_pread(void *ctx, int fd, void *buf, size_t len, int timeout)
{
    CM_READER *r = ctx;
    ssize_t n;

    (void) timeout;
    if ((n = pread(fd, buf, len, r->off)) > 0)
        r->off += n;
    return (n);
}

static STREAM *cleanup_milter_reader(CLEANUP_STATE *state, long offset, CM_READER *r)
{
    int     fd = dup(stream_fd(state->dst));
    STREAM *s;

    if (fd < 0)
        return (NULL);
    r->off = offset;
    s = stream_fdopen(fd);
    stream_set_io(s, cleanup_milter_pread, NULL, r);
    return (s);
}

static void cleanup_milter_add_hdr(CLEANUP_MILTER *cm, int at, const char *text, size_t len)
{
    CM_HDR *h;

    cm->hdrs = xreallocarray(cm->hdrs, (size_t) cm->nhdrs + 1, sizeof(*cm->hdrs));
    if (at < 0 || at > cm->nhdrs)
        at = cm->nhdrs;
    memmove(cm->hdrs + at + 1, cm->hdrs + at, (size_t) (cm->nhdrs - at) * sizeof(*cm->hdrs));
    h = cm->hdrs + at;
    h->text = xstrndup(text, len);
    h->name_len = strcspn(h->text, ": \t");
    cm->nhdrs++;
}

/* Where the envelope starts: after the C and T records qfile_create wrote. */
static int cleanup_milter_env_offset(CLEANUP_MILTER *cm)
{
    CM_READER rd;
    STREAM *s = cleanup_milter_reader(cm->state, 0, &rd);
    BUF    *data = buf_alloc(64);
    long    off = 0;
    int     i, type, ret = 0;

    if (s == NULL)
        return (-1);
    for (i = 0; i < 2; i++) {
        if ((type = rec_get(s, data, REC_LEN_MAX)) != REC_TYPE_SIZE && type != REC_TYPE_TIME) {
            ret = -1;
            break;
        }
        off += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    }
    cm->env_offset = off;
    buf_free(data);
    stream_close(s);
    return (ret);
}

/* Send one body line (a whole line, L pieces joined). */
static int cleanup_milter_body_line(CLEANUP_MILTER *cm, BUF *line, BUF *reply)
{
    return (milters_body_line(cm->milters, buf_str(line), buf_len(line), reply));
}

/* Each header, then the end of the header. */
static int cleanup_milter_send_header(CLEANUP_MILTER *cm, BUF *reply)
{
    int     i, r = MILTER_CONTINUE;

    for (i = 0; i < cm->nhdrs && r == MILTER_CONTINUE; i++) {
        CM_HDR *h = cm->hdrs + i;
        char   *name = xstrndup(h->text, h->name_len);
        const char *value = h->text + strcspn(h->text, ":");

        r = milters_header(cm->milters, name, *value ? value + 1 : value, reply);
        xfree(name);
    }
    return (r == MILTER_CONTINUE ? milters_eoh(cm->milters, reply) : r);
}

/* Read the content, collect the headers, send everything but the end of
 * the message. MILTER_CONTINUE, or the verdict (reply set). */
static int cleanup_milter_content(CLEANUP_MILTER *cm, BUF *reply)
{
    CM_READER rd;
    STREAM *s = cleanup_milter_reader(cm->state, cm->state->data_offset, &rd);
    BUF    *data = buf_alloc(CLEANUP_OUT_CHUNK + 16);
    BUF    *line = buf_alloc(256);
    long    off = cm->state->data_offset;
    int     type, partial = 0, in_header = 1, r = MILTER_CONTINUE;
    int     sent_eoh = 0;

    if (s == NULL || rec_get(s, data, REC_LEN_MAX) != REC_TYPE_MESG) {
        buf_set(reply, "451 4.3.0 Error: queue file read error");
        r = MILTER_REJECT;
        goto done;
    }
    off += (long) (rec_header_len(0));
    for (;;) {
        long    rec_off = off;

        type = rec_get(s, data, REC_LEN_MAX);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT && type != REC_TYPE_XTRA) {
            buf_set(reply, "451 4.3.0 Error: queue file read error");
            r = MILTER_REJECT;
            goto done;
        }
        off += (long) (rec_header_len(buf_len(data)) + buf_len(data));
        if (type == REC_TYPE_XTRA) {
            cm->x_offset = rec_off;
            if (in_header)
                cm->body_offset = rec_off;
            break;
        }
        if (in_header && !partial) {
            const char *d = buf_str(data);

            if (cm->nhdrs > 0 && buf_len(data) > 0 && (d[0] == ' ' || d[0] == '\t')) {
                CM_HDR *h = cm->hdrs + cm->nhdrs - 1;
                size_t  old = strlen(h->text);

                h->text = xrealloc(h->text, old + buf_len(data) + 2);
                h->text[old] = '\n';
                memcpy(h->text + old + 1, d, buf_len(data) + 1);
            } else if (header_name_len(d, buf_len(data)) > 0) {
                cleanup_milter_add_hdr(cm, -1, d, buf_len(data));
            } else {
                in_header = 0;
                cm->body_offset = rec_off;
                /* The empty line after the header is no part of the body
                 * the filters see (nor of SMFIR_REPLBODY). */
                if (buf_len(data) == 0 && type == REC_TYPE_NORM) {
                    cm->have_separator = 1;
                    if ((r = cleanup_milter_send_header(cm, reply)) != MILTER_CONTINUE)
                        goto done;
                    sent_eoh = 1;
                    continue;
                }
            }
            if (in_header) {
                partial = (type == REC_TYPE_CONT);
                continue;
            }
        } else if (in_header) {
            /* An L piece continues the last header line. */
            CM_HDR *h = cm->hdrs + cm->nhdrs - 1;
            size_t  old = strlen(h->text);

            h->text = xrealloc(h->text, old + buf_len(data) + 1);
            memcpy(h->text + old, buf_str(data), buf_len(data) + 1);
            partial = (type == REC_TYPE_CONT);
            continue;
        }
        /* The body: the header first, once. */
        if (!sent_eoh) {
            sent_eoh = 1;
            if ((r = cleanup_milter_send_header(cm, reply)) != MILTER_CONTINUE)
                goto done;
        }
        buf_append(line, buf_str(data), buf_len(data));
        partial = (type == REC_TYPE_CONT);
        if (!partial) {
            if ((r = cleanup_milter_body_line(cm, line, reply)) != MILTER_CONTINUE)
                goto done;
            buf_reset(line);
        }
    }
    if (!sent_eoh)
        r = cleanup_milter_send_header(cm, reply);
  done:
    if (s)
        stream_close(s);
    buf_free(data);
    buf_free(line);
    return (r);
}

/* ---- The changes (MILTER_EDITS callbacks). */

/* "Name: value" with the filter's folding as LF lines, CR dropped. */
static void cleanup_milter_hdr_text(BUF *out, const char *name, const char *value)
{
    const char *cp;

    buf_sprintf(out, "%s:", name);
    if (*value != ' ' && *value != '\t')
        buf_putc(out, ' ');
    for (cp = value; *cp; cp++)
        if (*cp != '\r')
            buf_putc(out, *cp);
    while (buf_len(out) > 0 && out->data[buf_len(out) - 1] == '\n')
        buf_truncate(out, buf_len(out) - 1);
}

static int cleanup_milter_add_header(void *ctx, const char *name, const char *value)
{
    CLEANUP_MILTER *cm = ctx;
    BUF    *t = buf_alloc(128);

    cleanup_milter_hdr_text(t, name, value);
    cleanup_milter_add_hdr(cm, -1, buf_str(t), buf_len(t));
    buf_free(t);
    cm->changed = 1;
    return (0);
}

static int cleanup_milter_ins_header(void *ctx, long index, const char *name, const char *value)
{
    CLEANUP_MILTER *cm = ctx;
    BUF    *t = buf_alloc(128);

    cleanup_milter_hdr_text(t, name, value);
    cleanup_milter_add_hdr(cm, index < 0 ? 0 : index > cm->nhdrs ? cm->nhdrs : (int) index,
                           buf_str(t), buf_len(t));
    buf_free(t);
    cm->changed = 1;
    return (0);
}

static int cleanup_milter_chg_header(void *ctx, long index, const char *name, const char *value)
{
    CLEANUP_MILTER *cm = ctx;
    size_t  len = strlen(name);
    long    seen = 0;
    int     i;

    if (index < 1)
        index = 1;
    for (i = 0; i < cm->nhdrs; i++) {
        CM_HDR *h = cm->hdrs + i;

        if (h->name_len == len && strncasecmp(h->text, name, len) == 0 && ++seen == index)
            break;
    }
    cm->changed = 1;
    if (i == cm->nhdrs)                 /* not there: added, unless a deletion */
        return (*value ? cleanup_milter_add_header(ctx, name, value) : 0);
    xfree(cm->hdrs[i].text);
    if (*value == '\0') {
        memmove(cm->hdrs + i, cm->hdrs + i + 1, (size_t) (cm->nhdrs - i - 1) * sizeof(*cm->hdrs));
        cm->nhdrs--;
    } else {
        BUF    *t = buf_alloc(128);

        cleanup_milter_hdr_text(t, name, value);
        cm->hdrs[i].text = buf_steal(t);
        cm->hdrs[i].name_len = len;
    }
    return (0);
}

static int cleanup_milter_repl_body(void *ctx, int first, const char *data, size_t len)
{
    CLEANUP_MILTER *cm = ctx;

    if (first || cm->new_body == NULL) {
        if (cm->new_body == NULL)
            cm->new_body = buf_alloc(len + 256);
        buf_reset(cm->new_body);
    }
    if (cm->body_limit > 0 && buf_len(cm->new_body) + len > cm->body_limit)
        return (-1);
    buf_append(cm->new_body, data, len);
    cm->changed = 1;
    return (0);
}

/* An address as a filter sends it: "<a@b>" or "a@b". */
static char *cleanup_milter_addr(const char *addr)
{
    size_t  len = strlen(addr);

    if (len >= 2 && addr[0] == '<' && addr[len - 1] == '>')
        return (xstrndup(addr + 1, len - 2));
    return (xstrdup(addr));
}

/* The next "KEY=value" of ESMTP arguments (space separated). */
static const char *cleanup_milter_arg(const char **cp, size_t *len)
{
    const char *start;

    *cp += strspn(*cp, " ");
    if (**cp == '\0')
        return (NULL);
    start = *cp;
    *len = strcspn(start, " ");
    *cp += *len;
    return (start);
}

static int cleanup_milter_add_rcpt(void *ctx, const char *rcpt, const char *args)
{
    CLEANUP_MILTER *cm = ctx;
    char   *addr = cleanup_milter_addr(rcpt);
    BUF    *orcpt = buf_alloc(64);
    const char *cp = args, *a;
    size_t  len;
    int     notify = 0;

    while ((a = cleanup_milter_arg(&cp, &len)) != NULL) {
        if (len > 7 && strncasecmp(a, "NOTIFY=", 7) == 0
            && (notify = dsn_notify_parse(a + 7, len - 7)) > 0)
            continue;
        if (len > 6 && strncasecmp(a, "ORCPT=", 6) == 0
            && dsn_orcpt_parse(a + 6, len - 6, orcpt) == 0)
            continue;
        msg_warn("%s: milter add recipient <%s>: ignoring ESMTP argument \"%.*s\"",
                 cm->state->queue_id, addr, (int) (len > 100 ? 100 : len), a);
        if (notify < 0)
            notify = 0;
    }
    if (notify < 0)
        notify = 0;
    if (*addr)
        cleanup_add_rcpt(cm->state, addr, addr, buf_str(orcpt), notify);
    buf_free(orcpt);
    xfree(addr);
    return (0);
}

static int cleanup_milter_del_rcpt(void *ctx, const char *rcpt)
{
    CLEANUP_MILTER *cm = ctx;
    CLEANUP_STATE *state = cm->state;
    char   *addr = cleanup_milter_addr(rcpt);
    int     i, j;

    for (i = j = 0; i < state->nrcpt; i++) {
        CLEANUP_RCPT *rp = state->rcpts + i;

        if (strcasecmp(rp->orcpt, addr) == 0 || strcasecmp(rp->addr, addr) == 0) {
            xfree(rp->addr);
            xfree(rp->orcpt);
            xfree(rp->dsn_orcpt);
            continue;
        }
        state->rcpts[j++] = *rp;
    }
    state->nrcpt = j;
    xfree(addr);
    return (0);
}

/* Replace (or add) the A record name=value. */
static void cleanup_milter_set_attr(CLEANUP_STATE *state, const char *name, const char *value)
{
    size_t  len = strlen(name);
    BUF    *t = buf_alloc(64);
    int     i;

    buf_sprintf(t, "%s=%s", name, value);
    for (i = 0; i < state->nattrs; i++) {
        if (strncmp(state->attrs[i], name, len) == 0 && state->attrs[i][len] == '=') {
            xfree(state->attrs[i]);
            state->attrs[i] = buf_steal(t);
            return;
        }
    }
    state->attrs = xreallocarray(state->attrs, (size_t) state->nattrs + 1, sizeof(char *));
    state->attrs[state->nattrs++] = buf_steal(t);
}

static int cleanup_milter_chg_from(void *ctx, const char *from, const char *args)
{
    CLEANUP_MILTER *cm = ctx;
    CLEANUP_STATE *state = cm->state;
    char   *addr = cleanup_milter_addr(from);
    BUF    *envid = buf_alloc(64);
    const char *cp = args, *a;
    size_t  len;
    int     ret;

    while ((a = cleanup_milter_arg(&cp, &len)) != NULL) {
        if (len > 4 && strncasecmp(a, "RET=", 4) == 0 && (ret = dsn_ret_parse(a + 4, len - 4)) > 0) {
            cleanup_milter_set_attr(state, MAIL_ATTR_RET, dsn_ret_str(ret));
        } else if (len > 6 && strncasecmp(a, "ENVID=", 6) == 0
                   && dsn_envid_parse(a + 6, len - 6, envid) == 0) {
            cleanup_milter_set_attr(state, MAIL_ATTR_ENVID, buf_str(envid));
        } else {
            msg_warn("%s: milter change sender <%s>: ignoring ESMTP argument \"%.*s\"",
                     state->queue_id, addr, (int) (len > 100 ? 100 : len), a);
        }
    }
    buf_free(envid);
    xfree(state->sender);
    state->sender = addr;
    cm->changed = 1;
    return (0);
}

static int cleanup_milter_quarantine(void *ctx, const char *reason)
{
    (void) ctx;
    (void) reason;                      /* milter.c keeps it: milters_quarantine */
    return (0);
}

/* ---- Writing the changed message. */

/* Copy the body records of the old content to the end (rewritten). */
static void cleanup_milter_copy_body(CLEANUP_MILTER *cm)
{
    CLEANUP_STATE *state = cm->state;
    CM_READER rd;
    STREAM *s = cleanup_milter_reader(state, cm->body_offset, &rd);
    BUF    *data = buf_alloc(CLEANUP_OUT_CHUNK + 16);
    long    off = cm->body_offset;
    int     type;

    if (s == NULL) {
        state->errs |= CLEANUP_STAT_WRITE;
        buf_free(data);
        return;
    }
    while (off < cm->x_offset && CLEANUP_OUT_OK(state)) {
        type = rec_get(s, data, REC_LEN_MAX);
        if (type != REC_TYPE_NORM && type != REC_TYPE_CONT) {
            state->errs |= CLEANUP_STAT_WRITE;
            break;
        }
        off += (long) (rec_header_len(buf_len(data)) + buf_len(data));
        cleanup_out_line(state, buf_str(data), buf_len(data), type == REC_TYPE_CONT);
    }
    stream_close(s);
    buf_free(data);
}

/* The replaced body, CRLF or LF lines. */
static void cleanup_milter_write_body(CLEANUP_MILTER *cm)
{
    const char *cp = buf_str(cm->new_body), *end = cp + buf_len(cm->new_body), *nl;

    while (cp < end) {
        size_t  len;

        nl = memchr(cp, '\n', (size_t) (end - cp));
        len = (size_t) ((nl ? nl : end) - cp);
        if (len > 0 && cp[len - 1] == '\r')
            len--;
        cleanup_out_line(cm->state, cp, len, 0);
        cp = nl ? nl + 1 : end;
    }
}

/* Move [from, from + len) down to `to` (to < from) and cut the file. */
static int cleanup_milter_move_down(int fd, long from, long to, long len)
{
    char   *buf = xmalloc(CLEANUP_MILTER_COPY);
    long    done = 0;

    while (done < len) {
        size_t  n = (size_t) (len - done > CLEANUP_MILTER_COPY ? CLEANUP_MILTER_COPY : len - done);

        if (pread(fd, buf, n, from + done) != (ssize_t) n
            || pwrite(fd, buf, n, to + done) != (ssize_t) n) {
            xfree(buf);
            return (-1);
        }
        done += (long) n;
    }
    xfree(buf);
    if (ftruncate(fd, to + len) < 0 || lseek(fd, to + len, SEEK_SET) < 0)
        return (-1);
    return (0);
}

/* Envelope and content again, as changed; recipients follow at commit. */
static void cleanup_milter_rewrite(CLEANUP_MILTER *cm)
{
    CLEANUP_STATE *state = cm->state;
    int     fd = stream_fd(state->dst);
    long    start, end;
    int     i;

    if (stream_flush(state->dst) < 0 || (start = (long) lseek(fd, 0, SEEK_END)) < 0) {
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    state->content_size = 0;
    cleanup_write_envelope(state);      /* attributes, sender, M (sets data_offset) */
    for (i = 0; i < cm->nhdrs; i++)
        cleanup_out_header(state, cm->hdrs[i].text, strlen(cm->hdrs[i].text));
    if (cm->new_body) {
        /* The filter's body comes after the empty line (always written:
         * a body needs it). */
        cleanup_out_line(state, "", 0, 0);
        cleanup_milter_write_body(cm);
    } else {
        cleanup_milter_copy_body(cm);
    }
    cleanup_out(state, REC_TYPE_XTRA, "", 0);
    if (!CLEANUP_OUT_OK(state) || stream_flush(state->dst) < 0
        || (end = (long) lseek(fd, 0, SEEK_CUR)) < 0
        || cleanup_milter_move_down(fd, start, cm->env_offset, end - start) < 0) {
        msg_warn("%s: rewrite queue file after milter changes: %m", state->queue_id);
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    state->data_offset -= start - cm->env_offset;
}

/* ---- non_smtpd_milters: cleanup's own filters, with an emulated SMTP
 * session (Postfix: localhost [127.0.0.1], ESMTP). */

static int cleanup_milter_local_open(CLEANUP_STATE *state, BUF *reply)
{
    const char *list = config_str(P_non_smtpd_milters);
    MILTER_SETTINGS set;
    CLEANUP_MILTER *cm;
    BUF    *why;
    MILTERS *ms;
    int     r, i;

    milter_settings_from_config(&set);
    why = buf_alloc(64);
    if ((ms = milters_create(list, &set, why)) == NULL) {
        msg_warn("non_smtpd_milters: %s", buf_str(why));
        ms = milters_create("unix:/dev/null/bad-non_smtpd_milters", &set, NULL);
    }
    buf_free(why);
    cm = state->milter = xcalloc(1, sizeof(*cm));
    cm->state = state;
    cm->own = 1;
    cm->milters = ms;
    milters_set_queue_id(ms, state->queue_id);
    milters_set_macros(ms, cleanup_milter_macro, cm);
    if ((r = milters_connect(ms, "localhost", '4', "127.0.0.1", 0, reply)) != MILTER_CONTINUE
        || (r = milters_helo(ms, "localhost", reply)) != MILTER_CONTINUE
        || (r = milters_mail(ms, state->sender, NULL, reply)) != MILTER_CONTINUE)
        return (r);
    for (i = 0; i < state->nrcpt; i++) {
        cm->rcpt = state->rcpts[i].addr;
        r = milters_rcpt(ms, state->rcpts[i].orcpt, NULL, reply);
        cm->rcpt = NULL;
        if (r == MILTER_REJECT) {
            /* A local recipient cannot be refused alone (Postfix). */
            msg_warn("%s: non_smtpd_milters rejected recipient <%s>: %s", state->queue_id,
                     state->rcpts[i].orcpt, buf_str(reply));
            buf_set(reply, "451 4.3.5 Server configuration error");
            return (r);
        }
        if (r != MILTER_CONTINUE)
            return (r);
    }
    return (milters_data(ms, reply));
}

/* ---- The end of the message. */

static void cleanup_milter_talk(CLEANUP_STATE *state);

/* The verdict: status, reason and log line. */
static void cleanup_milter_verdict(CLEANUP_MILTER *cm, int r, const char *reply)
{
    CLEANUP_STATE *state = cm->state;
    const char *quarantine = milters_quarantine(cm->milters);

    if (r == MILTER_REJECT) {
        cleanup_milter_log(state, "milter-reject", strlen(reply) > 4 ? reply + 4 : reply);
        cleanup_set_reason(state, reply[0] == '4' ? CLEANUP_STAT_DEFER : CLEANUP_STAT_CONT, NULL);
        buf_set(state->reason, reply);
        return;
    }
    if (r == MILTER_DISCARD) {
        cleanup_milter_log(state, "milter-discard", "milter triggers DISCARD action");
        state->discard = 1;
        return;
    }
    if (quarantine != NULL) {
        state->hold = 1;
        cleanup_milter_set_attr(state, MAIL_ATTR_QUARANTINE, quarantine);
        cm->changed = 1;
        if (!cm->held_before)
            cleanup_milter_log(state, "milter-hold", quarantine);
    }
}

/* cleanup_milter_finish - see cleanup.h. While the filters talk, this
 * process is BUSY for the master, which starts another cleanup for new
 * clients instead of queueing them behind a slow filter. */
void    cleanup_milter_finish(CLEANUP_STATE *state)
{
    int     talk = state->milter != NULL
        || ((state->flags & CLEANUP_FLAG_MILTER) && *config_str(P_non_smtpd_milters));

    if (talk && cleanup_conf.master_child)
        multi_server_busy(1);
    cleanup_milter_talk(state);
    if (talk && cleanup_conf.master_child)
        multi_server_busy(0);
}

static void cleanup_milter_talk(CLEANUP_STATE *state)
{
    CLEANUP_MILTER *cm = state->milter;
    MILTER_EDITS edits;
    BUF    *reply;
    int     r;

    if (cm == NULL && (state->flags & CLEANUP_FLAG_MILTER)
        && (state->flags & CLEANUP_FLAG_SMTPD_MILTERS) == 0
        && *config_str(P_non_smtpd_milters) && state->errs == 0 && !state->discard
        && state->phase == CLEANUP_PH_DONE) {
        reply = buf_alloc(64);
        r = cleanup_milter_local_open(state, reply);
        cm = state->milter;
        if (r != MILTER_CONTINUE) {
            cleanup_milter_verdict(cm, r, buf_str(reply));
            milters_abort(cm->milters);
            buf_free(reply);
            return;
        }
        buf_free(reply);
    }
    if (cm == NULL || cm->milters == NULL)
        return;
    if (state->errs != 0 || state->discard || state->phase != CLEANUP_PH_DONE) {
        milters_abort(cm->milters);     /* the message ends here for the filters too */
        return;
    }
    cm->body_limit = cleanup_conf.message_size_limit > 0
        ? (size_t) cleanup_conf.message_size_limit * 2 : 0;
    reply = buf_alloc(64);
    if (stream_flush(state->dst) < 0 || cleanup_milter_env_offset(cm) < 0) {
        state->errs |= CLEANUP_STAT_WRITE;
        milters_abort(cm->milters);
        buf_free(reply);
        return;
    }
    r = cleanup_milter_content(cm, reply);
    if (r == MILTER_CONTINUE) {
        memset(&edits, 0, sizeof(edits));
        edits.ctx = cm;
        edits.add_header = cleanup_milter_add_header;
        edits.ins_header = cleanup_milter_ins_header;
        edits.chg_header = cleanup_milter_chg_header;
        edits.repl_body = cleanup_milter_repl_body;
        edits.add_rcpt = cleanup_milter_add_rcpt;
        edits.del_rcpt = cleanup_milter_del_rcpt;
        edits.chg_from = cleanup_milter_chg_from;
        edits.quarantine = cleanup_milter_quarantine;
        r = milters_eom(cm->milters, &edits, reply);
        cleanup_milter_verdict(cm, r, buf_str(reply));
    } else {
        cleanup_milter_verdict(cm, r, buf_str(reply));
        milters_abort(cm->milters);
    }
    milters_message_done(cm->milters);
    if (r == MILTER_CONTINUE && cm->changed && CLEANUP_OUT_OK(state))
        cleanup_milter_rewrite(cm);
    buf_free(reply);
}
