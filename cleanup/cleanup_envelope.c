/* cleanup_envelope - sender, recipients and attributes from the client.
 *
 * Envelope records are checked, mapped (canonical, virtual aliases, with
 * CLEANUP_FLAG_MAP_OK) and kept in memory: the sender and attributes are
 * written when M arrives, the recipients only at the very end (after X),
 * once header extraction and REDIRECT have had their say. Duplicates are
 * dropped as Postfix does: same address, original address and DSN fields.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "address.h"
#include "cleanup.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

#define P_SEEN_ORCP     (1 << 0)
#define P_SEEN_DSN_ORCP (1 << 1)
#define P_SEEN_NOTIFY   (1 << 2)
#define CLEANUP_ADDR_MAX    2000    /* longest envelope address accepted */
#define CLEANUP_ATTR_MAX    1000    /* A records per message */

/* cleanup_notify - an n record: a DSN NOTIFY bit mask in decimal */
static int cleanup_notify(const char *data, size_t len)
{
    long    value = 0;
    size_t  i;

    if (len == 0 || len > 3)
        return -1;
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char) data[i]))
            return -1;
        value = value * 10 + (data[i] - '0');
    }
    return value > 0 && value < 16 ? (int) value : -1;
}

/* cleanup_attr - an A record: "name=value", name in [a-z0-9_] */
static void cleanup_attr(CLEANUP_STATE *state, const char *data, size_t len)
{
    const char *eq = memchr(data, '=', len);
    const char *cp;

    if (eq == NULL || eq == data || memchr(data, 0, len) || state->nattrs >= CLEANUP_ATTR_MAX) {
        cleanup_bad(state, "bad attribute record");
        return;
    }
    for (cp = data; cp < eq; cp++) {
        if (!islower((unsigned char) *cp) && !isdigit((unsigned char) *cp) && *cp != '_') {
            cleanup_bad(state, "bad attribute name");
            return;
        }
    }
    /* dsn_notify= is sendmail -t -N: a setting for the recipients
     * extracted from the headers, not an attribute of the message. */
    if ((size_t) (eq - data) == sizeof(MAIL_ATTR_DSN_NOTIFY) - 1
        && memcmp(data, MAIL_ATTR_DSN_NOTIFY, sizeof(MAIL_ATTR_DSN_NOTIFY) - 1) == 0) {
        if ((state->extract_notify = cleanup_notify(eq + 1, len - (size_t) (eq - data) - 1)) < 0)
            cleanup_bad(state, "bad dsn_notify attribute");
        return;
    }
    state->attrs = xreallocarray(state->attrs, (size_t) state->nattrs + 1, sizeof(char *));
    state->attrs[state->nattrs++] = xstrndup(data, len);
}

/* cleanup_text_ok - an address or name: no NUL, not too long */
static int cleanup_text_ok(const char *data, size_t len)
{
    return len <= CLEANUP_ADDR_MAX && memchr(data, 0, len) == NULL;
}

/* cleanup_sender - the S record: qualify, map, remember */
static void cleanup_sender(CLEANUP_STATE *state, const char *data)
{
    BUF    *out = buf_alloc(100);

    state->log_sender = xstrdup(data);
    if (*data == 0) {
        state->sender = xstrdup("");
    } else {
        address_qualify(data, out);
        if (state->flags & CLEANUP_FLAG_MAP_OK) {
            BUF    *mapped = buf_alloc(100);

            if (cleanup_canon_sender(state, buf_str(out), mapped) > 0)
                buf_set(out, buf_str(mapped));
            buf_free(mapped);
            (void) cleanup_masquerade(state, CLEANUP_MASQ_ENV_FROM, out);
        }
        state->sender = buf_steal(out);
        out = NULL;
    }
    if (out)
        buf_free(out);
}

/* cleanup_pending - O, o and n: each at most once before their R */
static void cleanup_pending(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    int     bit = type == REC_TYPE_ORCP ? P_SEEN_ORCP
        : type == REC_TYPE_DSN_ORCPT ? P_SEEN_DSN_ORCP : P_SEEN_NOTIFY;

    if (state->p_seen & bit) {
        cleanup_bad(state, "recipient attribute given twice");
        return;
    }
    state->p_seen |= bit;
    if (type == REC_TYPE_ORCP)
        state->p_orcpt = xstrndup(data, len);
    else if (type == REC_TYPE_DSN_ORCPT)
        state->p_dsn_orcpt = xstrndup(data, len);
    else if ((state->p_notify = cleanup_notify(data, len)) < 0)
        cleanup_bad(state, "bad DSN notify record");
}

/* cleanup_envelope_rcpt - an R record with what came before it */
static void cleanup_envelope_rcpt(CLEANUP_STATE *state, const char *data, size_t len)
{
    if (len == 0) {
        cleanup_bad(state, "empty recipient");
        return;
    }
    if (state->first_rcpt == NULL)
        state->first_rcpt = xstrndup(data, len);
    cleanup_add_rcpt(state, data, state->p_orcpt ? state->p_orcpt : data,
                     state->p_dsn_orcpt ? state->p_dsn_orcpt : "", state->p_notify);
    xfree(state->p_orcpt);
    xfree(state->p_dsn_orcpt);
    state->p_orcpt = state->p_dsn_orcpt = NULL;
    state->p_notify = 0;
    state->p_seen = 0;
}

/* cleanup_envelope - a record before M */
void cleanup_envelope(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if (!cleanup_text_ok(data, len)) {
        cleanup_bad(state, "envelope record too long or with a NUL byte");
        return;
    }
    if (state->phase == CLEANUP_PH_ATTR) {
        if (type == REC_TYPE_ATTR && state->fullname == NULL) {
            cleanup_attr(state, data, len);
        } else if (type == REC_TYPE_FILT) {
            (void) cleanup_set_filter(state, data, "content filter record");
        } else if (type == REC_TYPE_FULL && state->fullname == NULL) {
            state->fullname = xstrndup(data, len);
        } else if (type == REC_TYPE_FROM) {
            cleanup_sender(state, data);
            state->phase = CLEANUP_PH_RCPT;
        } else {
            cleanup_bad(state, "unexpected record type before the sender");
        }
        return;
    }
    switch (type) {
    case REC_TYPE_ORCP:
    case REC_TYPE_DSN_ORCPT:
    case REC_TYPE_DSN_NOTIFY:
        cleanup_pending(state, type, data, len);
        return;
    case REC_TYPE_RCPT:
        cleanup_envelope_rcpt(state, data, len);
        return;
    case REC_TYPE_MESG:
        if (state->p_seen) {
            cleanup_bad(state, "recipient attributes without a recipient");
            return;
        }
        cleanup_write_envelope(state);
        state->phase = CLEANUP_PH_CONTENT;
        return;
    default:
        cleanup_bad(state, "unexpected record type in the envelope");
        return;
    }
}

/* cleanup_keep_rcpt - one final recipient, unless it is a duplicate */
static void cleanup_keep_rcpt(CLEANUP_STATE *state, const char *addr, const char *orcpt,
                              const char *dsn_orcpt, int dsn_notify)
{
    CLEANUP_RCPT *rp;

    buf_sprintf(state->temp, "%s\n%d\n%s\n", dsn_orcpt, dsn_notify, orcpt);
    for (const char *cp = addr; *cp; cp++)
        buf_putc(state->temp, tolower((unsigned char) *cp));
    if (cleanup_dup_seen(state->dups, buf_str(state->temp)))
        return;
    if (state->nrcpt >= CLEANUP_RCPT_MAX) {
        msg_warn("%s: more than %d recipients -- message not accepted, try again later",
                 state->queue_id, CLEANUP_RCPT_MAX);
        cleanup_set_reason(state, CLEANUP_STAT_DEFER, "4.5.3 Too many recipients");
        return;
    }
    if (state->nrcpt == state->rcpt_cap) {
        state->rcpt_cap = state->rcpt_cap ? 2 * state->rcpt_cap : 8;
        state->rcpts = xreallocarray(state->rcpts, (size_t) state->rcpt_cap, sizeof(*rp));
    }
    rp = state->rcpts + state->nrcpt++;
    rp->addr = xstrdup(addr);
    rp->orcpt = xstrdup(orcpt);
    rp->dsn_orcpt = xstrdup(dsn_orcpt);
    rp->dsn_notify = dsn_notify;
}

/* cleanup_expand_keep - virtual alias expansion (CLEANUP_FLAG_MAP_OK),
 * then keep each result */
static void cleanup_expand_keep(CLEANUP_STATE *state, const char *addr, const char *orcpt,
                                const char *dsn_orcpt, int dsn_notify)
{
    char  **list;
    int     count, i;

    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0) {
        cleanup_keep_rcpt(state, addr, orcpt, dsn_orcpt, dsn_notify);
    } else if (cleanup_virtual(state, addr, &list, &count) == 0) {
        for (i = 0; i < count; i++) {
            cleanup_keep_rcpt(state, list[i], orcpt, dsn_orcpt, dsn_notify);
            xfree(list[i]);
        }
        xfree(list);
    }
}

/*
 * BCC recipients (always_bcc, sender_bcc_maps, recipient_bcc_maps), as
 * Postfix's cleanup_addr_bcc: an envelope recipient, never a header, with
 * NOTIFY=NEVER (the sender hears nothing of the copy), qualified and
 * expanded through virtual aliases like any recipient, but not looked up
 * in the BCC tables again. Only for mail entering the system: Postfix's
 * CLEANUP_FLAG_BCC_OK is part of the mask smtpd and pickup use, the one
 * that carries CLEANUP_FLAG_FILTER here; local's re-injections (aliases,
 * .forward) and bounces get no copies.
 */
#define CLEANUP_BCC_OK(s)   (((s)->flags & CLEANUP_FLAG_FILTER) != 0)

void cleanup_add_bcc(CLEANUP_STATE *state, const char *bcc)
{
    BUF    *out = buf_alloc(100);

    address_qualify(bcc, out);
    if (buf_len(out))
        cleanup_expand_keep(state, buf_str(out), buf_str(out), "", DSN_NOTIFY_NEVER);
    buf_free(out);
}

/* cleanup_bcc_sender - sender_bcc_maps and always_bcc, once per message
 * with at least one recipient (Postfix adds them at the end too) */
void cleanup_bcc_sender(CLEANUP_STATE *state)
{
    BUF    *bcc;

    if (!CLEANUP_BCC_OK(state) || state->nrcpt == 0 || !CLEANUP_OUT_OK(state))
        return;
    bcc = buf_alloc(100);
    if (state->sender && *state->sender
        && cleanup_map_find(state, cleanup_conf.sender_bcc_maps, "sender_bcc_maps",
                            state->sender, 0, bcc) > 0)
        cleanup_add_bcc(state, buf_str(bcc));
    if (*cleanup_conf.always_bcc)
        cleanup_add_bcc(state, cleanup_conf.always_bcc);
    buf_free(bcc);
}

/* cleanup_add_rcpt - qualify, map and expand one recipient, keep the
 * results; its recipient_bcc_maps copy, looked up after canonical mapping
 * and before virtual expansion, as Postfix does */
void cleanup_add_rcpt(CLEANUP_STATE *state, const char *addr, const char *orcpt,
                      const char *dsn_orcpt, int dsn_notify)
{
    BUF    *out = buf_alloc(100);
    BUF    *mapped = buf_alloc(100);

    address_qualify(addr, out);
    if ((state->flags & CLEANUP_FLAG_MAP_OK) == 0
        || cleanup_canon_recip(state, buf_str(out), mapped) >= 0) {
        if (buf_len(mapped))
            buf_set(out, buf_str(mapped));
        if (state->flags & CLEANUP_FLAG_MAP_OK)
            (void) cleanup_masquerade(state, CLEANUP_MASQ_ENV_RCPT, out);
        cleanup_expand_keep(state, buf_str(out), orcpt, dsn_orcpt, dsn_notify);
        if (CLEANUP_BCC_OK(state)
            && cleanup_map_find(state, cleanup_conf.recipient_bcc_maps, "recipient_bcc_maps",
                                buf_str(out), 0, mapped) > 0)
            cleanup_add_bcc(state, buf_str(mapped));
    }
    buf_free(out);
    buf_free(mapped);
}

/* cleanup_write_envelope - at M: attributes, full name, sender, the delay
 * warning time (fixed width: qmgr rewrites it to 0 in place once warned;
 * never for a bounce, whose sender <> gets no notices), then M */
void cleanup_write_envelope(CLEANUP_STATE *state)
{
    int     i;
    char    warn[32];

    for (i = 0; i < state->nattrs; i++)
        cleanup_out_string(state, REC_TYPE_ATTR, state->attrs[i]);
    if (state->fullname)
        cleanup_out_string(state, REC_TYPE_FULL, state->fullname);
    cleanup_out_string(state, REC_TYPE_FROM, state->sender);
    if (cleanup_conf.delay_warning_time > 0 && !(state->flags & CLEANUP_FLAG_BOUNCE)) {
        snprintf(warn, sizeof(warn), "%*ld", QFILE_SIZE_WIDTH,
                 (long) state->qf->arrival.tv_sec + cleanup_conf.delay_warning_time);
        cleanup_out(state, REC_TYPE_WARN, warn, QFILE_SIZE_WIDTH);
    }
    if (stream_flush(state->dst) < 0) {
        state->errs |= CLEANUP_STAT_WRITE;
        return;
    }
    state->data_offset = (long) lseek(stream_fd(state->dst), 0, SEEK_CUR);
    cleanup_out(state, REC_TYPE_MESG, "", 0);
}

/* cleanup_write_rcpts - after X: the content filter, then every recipient
 * (a REDIRECT replaces all) */
void cleanup_write_rcpts(CLEANUP_STATE *state)
{
    int     i;

    cleanup_bcc_sender(state);
    if (state->redirect) {
        for (i = 0; i < state->nrcpt; i++) {
            xfree(state->rcpts[i].addr);
            xfree(state->rcpts[i].orcpt);
            xfree(state->rcpts[i].dsn_orcpt);
        }
        state->nrcpt = 0;
        cleanup_dup_free(state->dups);
        state->dups = cleanup_dup_create();
        cleanup_keep_rcpt(state, state->redirect, state->redirect, "", 0);
    }
    if (state->filter)
        cleanup_out_string(state, REC_TYPE_FILT, state->filter);
    for (i = 0; i < state->nrcpt; i++) {
        CLEANUP_RCPT *rp = state->rcpts + i;

        cleanup_out_string(state, REC_TYPE_ORCP, rp->orcpt);
        if (*rp->dsn_orcpt)
            cleanup_out_string(state, REC_TYPE_DSN_ORCPT, rp->dsn_orcpt);
        if (rp->dsn_notify) {
            char    num[16];

            snprintf(num, sizeof(num), "%d", rp->dsn_notify);
            cleanup_out_string(state, REC_TYPE_DSN_NOTIFY, num);
        }
        cleanup_out_string(state, REC_TYPE_RCPT, rp->addr);
    }
}
