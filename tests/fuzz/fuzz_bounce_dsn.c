/* fuzz_bounce_dsn - the DSN composer (bounce_dsn.c) on recipient status
 * records and original message data that came from outside.
 *
 * Input: one control byte (kind, RET, original present, entry count),
 * then NUL-separated fields: a host-name seed, sender, ENVID, and per
 * entry action/notify byte, status, recipient, original recipient, ORCPT,
 * reason; the rest is the original message, split at LF into N records
 * (long lines into L records, as a queue file holds them).
 *
 * Beyond "does not crash" it checks that the notice is well-formed mail:
 *  - every line the composer wrote itself is a complete N record of
 *    printable US-ASCII (no CR, LF, NUL or other control byte), at most
 *    998 bytes (RFC 5322), and empty or more than white space (a line of
 *    spaces ends a header or a report block for some readers);
 *  - the header has each field once (outside text cannot add one) and a
 *    boundary="..." parameter of 1..70 RFC 2046 characters;
 *  - the body holds exactly one "--boundary" line per part (2 or 3), ends
 *    with the one "--boundary--" line, and no other logical line (the
 *    original's included, across L records) starts with "--boundary";
 *  - the report part has one Final-Recipient, Action and Status field per
 *    entry and every line is a field or a folded continuation;
 *  - the original part carries the original records unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "buf.h"
#include "mail_proto.h"
#include "mem.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_ENTRIES_MAX  7
#define FZ_SPLIT        300             /* original lines longer than this become L records */
#define FZ_CHECK(cond)  do { if (!(cond)) __builtin_trap(); } while (0)

/* A cursor over the input. */
typedef struct FZ_IN {
    const uint8_t *cp;
    const uint8_t *end;
} FZ_IN;

/* fz_field - the next NUL-terminated field (or the rest), as a string */
static char *fz_field(FZ_IN *in)
{
    const uint8_t *nul = memchr(in->cp, 0, (size_t) (in->end - in->cp));
    const uint8_t *stop = nul ? nul : in->end;
    char   *s = xmalloc((size_t) (stop - in->cp) + 1);

    memcpy(s, in->cp, (size_t) (stop - in->cp));
    s[stop - in->cp] = 0;
    in->cp = nul ? nul + 1 : in->end;
    return s;
}

/* fz_byte - the next byte, 0 at the end */
static int fz_byte(FZ_IN *in)
{
    return in->cp < in->end ? *in->cp++ : 0;
}

/* fz_hostname - a host name like $myhostname (trusted, from main.cf),
 * made from the seed's letters, digits, dots and hyphens */
static char *fz_hostname(const char *seed)
{
    BUF    *h = buf_alloc(64);
    const char *cp;

    for (cp = seed; *cp && buf_len(h) < 60; cp++)
        if ((*cp >= 'a' && *cp <= 'z') || (*cp >= '0' && *cp <= '9') || *cp == '.' || *cp == '-')
            buf_putc(h, *cp);
    if (buf_len(h) == 0)
        buf_set(h, "mx.example.net");
    return buf_steal(h);
}

/* fz_original - the rest of the input as content records */
static void fz_original(BOUNCE_TEXT *t, const uint8_t *cp, const uint8_t *end)
{
    const uint8_t *lf;
    size_t  len;

    while (cp < end) {
        lf = memchr(cp, '\n', (size_t) (end - cp));
        len = (size_t) ((lf ? lf : end) - cp);
        while (len > FZ_SPLIT) {
            bounce_text_add(t, REC_TYPE_CONT, (const char *) cp, FZ_SPLIT);
            cp += FZ_SPLIT;
            len -= FZ_SPLIT;
        }
        bounce_text_add(t, REC_TYPE_NORM, (const char *) cp, len);
        cp += len + (lf != NULL);
    }
}

/* fz_ascii_line - a line the composer wrote: printable US-ASCII or tab */
static void fz_ascii_line(const struct BOUNCE_LINE *l)
{
    size_t  i;

    FZ_CHECK(l->type == REC_TYPE_NORM);
    FZ_CHECK(l->len <= 998);
    FZ_CHECK(strlen(l->data) == l->len);
    FZ_CHECK(l->len == 0 || strspn(l->data, " \t") < l->len);     /* no blank line in disguise */
    for (i = 0; i < l->len; i++)
        FZ_CHECK((l->data[i] >= 0x20 && l->data[i] < 0x7f) || l->data[i] == '\t');
}

static int fz_starts(const struct BOUNCE_LINE *l, const char *prefix)
{
    return strncmp(l->data, prefix, strlen(prefix)) == 0;
}

/* fz_check_header - lines [0, *pos): fields once each; returns the boundary */
static char *fz_check_header(const BOUNCE_TEXT *out, int *pos)
{
    static const char *const once[] = {
        "From:", "Subject:", "To:", "Auto-Submitted:", "MIME-Version:",
        "Content-Type:", "Content-Transfer-Encoding:", "Message-Id:", "Date:",
    };
    int     seen[sizeof(once) / sizeof(once[0])] = {0};
    const char *bp, *eq;
    char   *boundary = NULL;
    size_t  k, blen;
    int     i;

    for (i = 0; i < out->count && out->lines[i].len > 0; i++) {
        const struct BOUNCE_LINE *l = &out->lines[i];

        fz_ascii_line(l);
        if (l->data[0] == ' ' || l->data[0] == '\t') {
            FZ_CHECK(i > 0);            /* a continuation continues something */
            FZ_CHECK(strspn(l->data, " \t") < l->len);  /* not a blank line in disguise */
            /* The boundary parameter continues Content-Type (a folded
             * To: may hold the same text, and must not be mistaken). */
            if (fz_starts(&out->lines[i - 1], "Content-Type:")
                && (bp = strstr(l->data, "boundary=\"")) != NULL) {
                FZ_CHECK(boundary == NULL);
                bp += strlen("boundary=\"");
                eq = strchr(bp, '"');
                FZ_CHECK(eq != NULL);
                boundary = xmemdup(bp, (size_t) (eq - bp) + 1);
                boundary[eq - bp] = 0;
            }
            continue;
        }
        FZ_CHECK(strchr(l->data, ':') != NULL);
        for (k = 0; k < sizeof(once) / sizeof(once[0]); k++)
            if (fz_starts(l, once[k]))
                FZ_CHECK(seen[k]++ == 0);
    }
    for (k = 0; k < sizeof(once) / sizeof(once[0]); k++)
        FZ_CHECK(seen[k] == 1);
    FZ_CHECK(boundary != NULL);
    blen = strlen(boundary);
    FZ_CHECK(blen >= 1 && blen <= 70 && boundary[blen - 1] != ' ');
    FZ_CHECK(strspn(boundary, "0123456789abcdefghijklmnopqrstuvwxyz"
                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ") == blen);
    *pos = i;
    return boundary;
}

/* fz_logical_starts - does the logical line at records[i] start with delim? */
static int fz_logical_starts(const BOUNCE_TEXT *t, int i, const char *delim)
{
    BUF    *line = buf_alloc(100);
    size_t  dlen = strlen(delim);
    int     yes;

    for (; i < t->count && buf_len(line) < dlen; i++) {
        buf_append(line, t->lines[i].data, t->lines[i].len);
        if (t->lines[i].type == REC_TYPE_NORM)
            break;
    }
    yes = buf_len(line) >= dlen && memcmp(buf_str(line), delim, dlen) == 0;
    buf_free(line);
    return yes;
}

/* fz_check_report - the delivery-status part, lines [from, to) */
static void fz_check_report(const BOUNCE_TEXT *out, int from, int to, int count)
{
    int     nfinal = 0, naction = 0, nstatus = 0;
    int     i;

    for (i = from; i < to; i++) {
        const struct BOUNCE_LINE *l = &out->lines[i];

        fz_ascii_line(l);
        if (l->len == 0)
            continue;
        if (l->data[0] == ' ' || l->data[0] == '\t') {
            FZ_CHECK(i > from && out->lines[i - 1].len > 0);
            continue;
        }
        FZ_CHECK(strchr(l->data, ':') != NULL);
        nfinal += fz_starts(l, "Final-Recipient:");
        naction += fz_starts(l, "Action:");
        nstatus += fz_starts(l, "Status:");
    }
    FZ_CHECK(nfinal == count && naction == count && nstatus == count);
}

/* fz_check - the whole notice */
static void fz_check(const BOUNCE_TEXT *out, int count, const BOUNCE_TEXT *orig)
{
    char   *boundary, *delim, *close;
    int     start[4], nparts = 0, closed = -1;
    int     i, at_line_start = 1, body, j;

    boundary = fz_check_header(out, &body);
    delim = xmalloc(strlen(boundary) + 5);
    strcpy(delim, "--");
    strcat(delim, boundary);
    close = xmalloc(strlen(delim) + 3);
    strcpy(close, delim);
    strcat(close, "--");
    for (i = body; i < out->count; i++) {
        const struct BOUNCE_LINE *l = &out->lines[i];

        if (at_line_start && fz_logical_starts(out, i, delim)) {
            FZ_CHECK(l->type == REC_TYPE_NORM);
            FZ_CHECK(closed < 0);
            if (strcmp(l->data, close) == 0) {
                closed = i;
            } else {
                FZ_CHECK(strcmp(l->data, delim) == 0);
                FZ_CHECK(nparts < 3);
                start[nparts++] = i;
            }
        }
        at_line_start = l->type == REC_TYPE_NORM;
    }
    FZ_CHECK(nparts == (orig ? 3 : 2));
    FZ_CHECK(closed == out->count - 1);
    start[nparts] = closed;
    /* Parts 1 and 2 are the composer's own text. */
    for (i = body; i < start[2]; i++)
        fz_ascii_line(&out->lines[i]);
    for (i = start[1] + 1; i < start[2] && out->lines[i].len > 0; i++)
        /* skip the part header */ ;
    fz_check_report(out, i + 1, start[2], count);
    if (orig) {
        /* The part header, a blank line, the original verbatim. */
        for (i = start[2] + 1; i < closed && out->lines[i].len > 0; i++)
            fz_ascii_line(&out->lines[i]);
        FZ_CHECK(i < closed);
        i++;
        for (j = 0; j < orig->count; j++, i++) {
            FZ_CHECK(i < closed);
            FZ_CHECK(out->lines[i].type == orig->lines[j].type);
            FZ_CHECK(out->lines[i].len == orig->lines[j].len);
            FZ_CHECK(memcmp(out->lines[i].data, orig->lines[j].data, orig->lines[j].len) == 0);
        }
        for (; i < closed; i++)
            FZ_CHECK(out->lines[i].type == REC_TYPE_NORM && out->lines[i].len == 0);
    }
    xfree(boundary);
    xfree(delim);
    xfree(close);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"4Xk9Bc1wFzq7", "4Xk9Bd2wFzq9", "3Mn0Ab7cDe1F"};
    FZ_IN   in = {data, data + size};
    BOUNCE_ENTRY entries[FZ_ENTRIES_MAX];
    const BOUNCE_ENTRY *ptrs[FZ_ENTRIES_MAX];
    BOUNCE_INFO info;
    BOUNCE_TEXT orig, out;
    char   *host_seed, *hostname, *sender, *envid;
    int     ctl, count, i, k;

    if (size < 1)
        return 0;
    ctl = fz_byte(&in);
    count = (ctl >> 4) & 7;
    memset(&info, 0, sizeof(info));
    info.kind = (BOUNCE_KIND) (ctl & 3);
    info.ret = (ctl & 4) ? BOUNCE_RET_HDRS : BOUNCE_RET_FULL;
    host_seed = fz_field(&in);
    hostname = fz_hostname(host_seed);
    sender = fz_field(&in);
    envid = fz_field(&in);
    info.queue_id = ids[(unsigned char) host_seed[0] % 3];
    info.new_id = ids[((unsigned char) host_seed[0] + 1) % 3];
    info.sender = sender;
    info.to = (ctl & 0x80) ? "postmaster" : sender;
    info.envid = envid;
    info.hostname = hostname;
    info.postmaster = "postmaster";
    info.arrival.tv_sec = (ctl & 1) ? 1700000000L : 0;
    info.now = 1700000060L;
    info.warn_after = 4 * 3600;
    info.lifetime = 5 * 86400;
    for (i = 0; i < count; i++) {
        k = fz_byte(&in);
        memset(&entries[i], 0, sizeof(entries[i]));
        entries[i].action = (BOUNCE_ACTION) (k & 3);
        entries[i].notify = (k >> 2) & 15;
        entries[i].status = fz_field(&in);
        entries[i].recipient = fz_field(&in);
        entries[i].orig_rcpt = fz_field(&in);
        entries[i].dsn_orcpt = fz_field(&in);
        entries[i].reason = fz_field(&in);
        ptrs[i] = &entries[i];
    }
    bounce_text_init(&orig);
    bounce_text_init(&out);
    fz_original(&orig, in.cp, in.end);
    bounce_dsn_compose(&out, &info, ptrs, count, (ctl & 8) ? &orig : NULL);
    fz_check(&out, count, (ctl & 8) ? &orig : NULL);
    bounce_text_free(&out);
    bounce_text_free(&orig);
    for (i = 0; i < count; i++)
        bounce_entry_free(&entries[i]);
    xfree(host_seed);
    xfree(hostname);
    xfree(sender);
    xfree(envid);
    return 0;
}
