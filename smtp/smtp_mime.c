/* smtp_mime - 8-bit MIME content down-converted for a server without
 * 8BITMIME (RFC 6152), on the fly, as Postfix's mime_state does with
 * MIME_OPT_DOWNGRADE.
 *
 * The content is split into lines with the encoder's rules (CR LF, a bare
 * CR, a bare LF and the end of an N record each end one line), so what
 * this module sees is exactly the lines that go on the wire. Headers are
 * collected one (folded) header at a time, at most header_size_limit
 * bytes, to read Content-Type (type, subtype, boundary) and
 * Content-Transfer-Encoding. Then, per MIME entity (the message, each
 * multipart part, each message/rfc822 inside):
 *   - declared 7bit, quoted-printable, base64 (or nothing: 7bit): passed
 *     on as it is (Postfix does not convert undeclared 8-bit either);
 *   - declared 8bit or binary, a leaf: its Content-Transfer-Encoding
 *     header is dropped, "Content-Transfer-Encoding: quoted-printable" is
 *     added at the end of its headers and its body is encoded (RFC 2045
 *     6.7: lines of at most 76, soft breaks, "=XX" for 8-bit bytes, "="
 *     and controls, white space at a line end encoded);
 *   - declared 8bit or binary, multipart or message/rfc822: it becomes
 *     "7bit" and its parts or the enclosed message are converted in turn;
 *   - declared 8bit or binary, another message type (partial,
 *     external-body, global): cannot be converted (RFC 2046 5.2 forbids
 *     encoding them): the message bounces 5.6.3;
 *   - 8-bit bytes in any header: cannot be converted (RFC 2047 would need
 *     the charset): bounces 5.6.3. Postfix sends those on as they are;
 *     surel does not send 8-bit header bytes to a 7-bit server.
 * Multipart boundaries are a stack of at most mime_nesting_limit (more:
 * 5.6.0 "MIME nesting exceeds safety limit", Postfix's text); a boundary
 * line closes every part inside it, as Postfix resynchronises. Nested
 * message/rfc822 needs no stack (it ends with its enclosing part).
 * Output lines go through smtp_encode (dots, smtp_line_length_limit, CR
 * LF); a quoted-printable line is never longer than 76, so the limit does
 * not break it. A line longer than SMTP_MIME_LINE_MAX is handled in
 * pieces (never parsed as a header or boundary past its first piece).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "header_name.h"
#include "mem.h"
#include "record.h"
#include "smtp.h"

#define SMTP_MIME_LINE_MAX  4096        /* line piece handled at once */
#define SMTP_QP_LINE        76          /* RFC 2045 6.7 (5) */

/* Content types we tell apart. */
#define CT_TEXT         0
#define CT_MULTIPART    1
#define CT_MESSAGE      2
#define CT_OTHER        3

/* message/ subtypes, and multipart/digest (its parts default to message/rfc822). */
#define ST_OTHER        0
#define ST_RFC822       1
#define ST_DIGEST       2

/* Parser states. */
#define MS_HEAD         0               /* in a header block */
#define MS_BODY         1

typedef struct SMTP_MIME_BOUND {
    char   *text;                       /* the boundary, without "--" */
    size_t  len;
    int     digest;                     /* multipart/digest */
} SMTP_MIME_BOUND;

struct SMTP_MIME {
    SMTP_ENCODER *enc;
    int     state;                      /* MS_* */
    int     ctype, stype;               /* the current entity's Content-Type */
    int     eight;                      /* it is declared 8bit or binary */
    char   *boundary;                   /* its boundary parameter (multipart) */
    SMTP_MIME_BOUND *stack;
    int     depth, max_depth;
    size_t  header_limit, bound_limit;
    BUF    *line;                       /* the line being assembled */
    int     cr;                         /* a CR is waiting (smtp_line_ends) */
    BUF    *dest;                       /* smtp_mime_record's output */
    int     piece;                      /* line continues a piece already handled */
    BUF    *hdr;                        /* the header being collected, raw lines joined by \n */
    int     hdr_skip;                   /* too long: passed on raw, not parsed */
    int     hdr_cte;                    /* a CTE header was dropped: one added at the end */
    BUF    *qp;                         /* the quoted-printable line being built */
    int     error;
    char    dsn[16];
    BUF    *why;
};

#define SMTP_MIME_8BIT_HEADER \
    "8-bit data in a message header cannot be converted for a server without 8BITMIME"

/* ---- output ---- */

/* smtp_mime_has_8bit - any byte with the high bit set */
static int smtp_mime_has_8bit(const char *text, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++)
        if (text[i] & 0x80)
            return 1;
    return 0;
}

static void smtp_mime_out(SMTP_MIME *mm, const char *text, size_t len, int partial, BUF *out)
{
    smtp_encode(mm->enc, partial ? REC_TYPE_CONT : REC_TYPE_NORM, text, len, out);
}

/* smtp_mime_fail - the first error decides */
static void smtp_mime_fail(SMTP_MIME *mm, const char *dsn, const char *why)
{
    if (mm->error)
        return;
    mm->error = 1;
    snprintf(mm->dsn, sizeof(mm->dsn), "%s", dsn);
    buf_set(mm->why, why);
}

/* ---- quoted-printable ---- */

/* smtp_qp_piece - encode a piece of a body line; at the real end of the
 * line (last) the QP line is sent */
static void smtp_qp_piece(SMTP_MIME *mm, const char *text, size_t len, int last, BUF *out)
{
    static const char hex[] = "0123456789ABCDEF";
    char    tok[3];
    size_t  i, tlen;

    for (i = 0; i < len; i++) {
        int     ch = (unsigned char) text[i];
        int     at_end = i + 1 == len;

        /* White space is literal unless it would end the line (or the piece:
         * "=20" is always allowed, and the next piece may not come). */
        if ((ch >= 33 && ch <= 126 && ch != '=') || ((ch == ' ' || ch == '\t') && !at_end)) {
            tok[0] = (char) ch;
            tlen = 1;
        } else {
            tok[0] = '=';
            tok[1] = hex[ch >> 4];
            tok[2] = hex[ch & 15];
            tlen = 3;
        }
        /* Room for the token and a soft break "=" within 76. */
        if (buf_len(mm->qp) + tlen > SMTP_QP_LINE - 1) {
            buf_putc(mm->qp, '=');
            smtp_mime_out(mm, buf_str(mm->qp), buf_len(mm->qp), 0, out);
            buf_reset(mm->qp);
        }
        buf_append(mm->qp, tok, tlen);
    }
    if (last) {
        smtp_mime_out(mm, buf_str(mm->qp), buf_len(mm->qp), 0, out);
        buf_reset(mm->qp);
    }
}

/* ---- headers ---- */

/* smtp_mime_skip - past white space and (comments) */
static const char *smtp_mime_skip(const char *cp)
{
    int     level;

    for (;;) {
        while (*cp == ' ' || *cp == '\t' || *cp == '\n' || *cp == '\r')
            cp++;
        if (*cp != '(')
            return cp;
        for (level = 0; *cp; cp++) {
            if (*cp == '\\' && cp[1])
                cp++;
            else if (*cp == '(')
                level++;
            else if (*cp == ')' && --level == 0) {
                cp++;
                break;
            }
        }
    }
}

/* smtp_mime_token - a MIME token (RFC 2045 5.1) into out; past it */
static const char *smtp_mime_token(const char *cp, BUF *out)
{
    buf_reset(out);
    while (*cp && (unsigned char) *cp > ' ' && (unsigned char) *cp < 127
           && strchr("()<>@,;:\\\"/[]?=", *cp) == NULL)
        buf_putc(out, *cp++);
    return cp;
}

/* smtp_mime_value - a token or quoted-string into out; past it */
static const char *smtp_mime_value(const char *cp, BUF *out)
{
    if (*cp != '"')
        return smtp_mime_token(cp, out);
    buf_reset(out);
    for (cp++; *cp && *cp != '"'; cp++) {
        if (*cp == '\\' && cp[1])
            cp++;
        if (*cp != '\n' && *cp != '\r')
            buf_putc(out, *cp);
    }
    return *cp == '"' ? cp + 1 : cp;
}

/* smtp_mime_ctype - Content-Type: type/subtype; boundary=... */
static void smtp_mime_ctype(SMTP_MIME *mm, const char *value)
{
    BUF    *type = buf_alloc(32), *sub = buf_alloc(32), *name = buf_alloc(32);
    const char *cp = smtp_mime_skip(value);

    cp = smtp_mime_skip(smtp_mime_token(cp, type));
    if (*cp == '/')
        cp = smtp_mime_skip(smtp_mime_token(smtp_mime_skip(cp + 1), sub));
    if (strcasecmp(buf_str(type), "text") == 0) {
        mm->ctype = CT_TEXT;
    } else if (strcasecmp(buf_str(type), "multipart") == 0) {
        mm->ctype = CT_MULTIPART;
        mm->stype = strcasecmp(buf_str(sub), "digest") == 0 ? ST_DIGEST : ST_OTHER;
    } else if (strcasecmp(buf_str(type), "message") == 0) {
        mm->ctype = CT_MESSAGE;
        mm->stype = strcasecmp(buf_str(sub), "rfc822") == 0 ? ST_RFC822 : ST_OTHER;
    } else {
        mm->ctype = CT_OTHER;
    }
    while (mm->ctype == CT_MULTIPART && *cp == ';') {
        cp = smtp_mime_skip(smtp_mime_token(smtp_mime_skip(cp + 1), name));
        if (*cp != '=')
            break;
        cp = smtp_mime_skip(smtp_mime_value(smtp_mime_skip(cp + 1), sub));
        if (strcasecmp(buf_str(name), "boundary") == 0 && buf_len(sub) > 0
            && buf_len(sub) <= mm->bound_limit) {
            xfree(mm->boundary);
            mm->boundary = xstrdup(buf_str(sub));
        }
    }
    buf_free(type);
    buf_free(sub);
    buf_free(name);
}

/* smtp_mime_header_is - the header (NUL-terminated) is called name: its value */
static const char *smtp_mime_header_is(const char *hdr, size_t len, const char *name)
{
    size_t  at = header_named(hdr, len, name);

    return at > 0 ? hdr + at : NULL;
}

/* smtp_mime_header_done - parse the collected header and pass it on
 * (a Content-Transfer-Encoding that declares 8bit or binary is dropped) */
static void smtp_mime_header_done(SMTP_MIME *mm, BUF *out)
{
    const char *hdr = buf_str(mm->hdr), *value, *cp, *nl;
    size_t  len = buf_len(mm->hdr);
    BUF    *enc;

    if (buf_len(mm->hdr) == 0 && !mm->hdr_skip)
        return;
    if (mm->hdr_skip) {
        mm->hdr_skip = 0;
        buf_reset(mm->hdr);
        return;
    }
    if (smtp_mime_has_8bit(hdr, buf_len(mm->hdr))) {
        smtp_mime_fail(mm, "5.6.3", SMTP_MIME_8BIT_HEADER);
        buf_reset(mm->hdr);
        return;
    }
    if ((value = smtp_mime_header_is(hdr, len, "Content-Type")) != NULL) {
        smtp_mime_ctype(mm, value);
    } else if ((value = smtp_mime_header_is(hdr, len, "Content-Transfer-Encoding")) != NULL) {
        enc = buf_alloc(16);
        smtp_mime_token(smtp_mime_skip(value), enc);
        mm->eight = strcasecmp(buf_str(enc), "8bit") == 0
            || strcasecmp(buf_str(enc), "binary") == 0;
        buf_free(enc);
        if (mm->eight) {
            mm->hdr_cte = 1;
            buf_reset(mm->hdr);
            return;
        }
    }
    for (cp = hdr; cp <= hdr + buf_len(mm->hdr); cp = nl + 1) {
        if ((nl = memchr(cp, '\n', (size_t) (hdr + buf_len(mm->hdr) - cp))) == NULL)
            nl = hdr + buf_len(mm->hdr);
        smtp_mime_out(mm, cp, (size_t) (nl - cp), 0, out);
    }
    buf_reset(mm->hdr);
}

/* smtp_mime_entity - a new entity's defaults: text/plain, 7bit */
static void smtp_mime_entity(SMTP_MIME *mm, int ctype, int stype)
{
    mm->state = MS_HEAD;
    mm->ctype = ctype;
    mm->stype = stype;
    mm->eight = 0;
    mm->hdr_cte = 0;
    xfree(mm->boundary);
    mm->boundary = NULL;
}

/* smtp_mime_head_end - the end of a header block (blank: it was a blank
 * line, else a line that is no header): the new CTE, then what follows */
static void smtp_mime_head_end(SMTP_MIME *mm, int blank, BUF *out)
{
    SMTP_MIME_BOUND *b;

    smtp_mime_header_done(mm, out);
    if (mm->eight) {
        if (mm->ctype == CT_MESSAGE && mm->stype != ST_RFC822) {
            smtp_mime_fail(mm, "5.6.3", "8-bit message content other than message/rfc822 "
                           "cannot be converted for a server without 8BITMIME");
            return;
        }
        const char *cte = mm->ctype == CT_MESSAGE || mm->ctype == CT_MULTIPART
            ? "Content-Transfer-Encoding: 7bit" : "Content-Transfer-Encoding: quoted-printable";

        smtp_mime_out(mm, cte, strlen(cte), 0, out);
        blank = 1;                      /* the added header needs its separator */
    }
    if (blank)
        smtp_mime_out(mm, "", 0, 0, out);
    if (mm->ctype == CT_MESSAGE && mm->stype == ST_RFC822) {
        smtp_mime_entity(mm, CT_TEXT, ST_OTHER);        /* the enclosed message's headers */
        return;
    }
    if (mm->ctype == CT_MULTIPART && mm->boundary) {
        if (mm->depth >= mm->max_depth) {
            smtp_mime_fail(mm, "5.6.0", "MIME nesting exceeds safety limit");
            return;
        }
        b = &mm->stack[mm->depth++];
        b->text = mm->boundary;
        b->len = strlen(b->text);
        b->digest = mm->stype == ST_DIGEST;
        mm->boundary = NULL;
        mm->eight = 0;                  /* the preamble */
        mm->ctype = CT_OTHER;
    }
    mm->state = MS_BODY;
}

/* smtp_mime_pop - boundaries down to depth */
static void smtp_mime_pop(SMTP_MIME *mm, int depth)
{
    while (mm->depth > depth)
        xfree(mm->stack[--mm->depth].text);
}

/* smtp_mime_boundary - a body line that is a boundary of an open
 * multipart: handled (1), or not one (0) */
static int smtp_mime_boundary(SMTP_MIME *mm, const char *text, size_t len, BUF *out)
{
    int     i;
    SMTP_MIME_BOUND *b;

    if (mm->depth == 0 || len < 3 || text[0] != '-' || text[1] != '-')
        return 0;
    for (i = mm->depth - 1; i >= 0; i--) {
        b = &mm->stack[i];
        if (len >= 2 + b->len && memcmp(text + 2, b->text, b->len) == 0)
            break;
    }
    if (i < 0)
        return 0;
    smtp_mime_out(mm, text, len, 0, out);
    smtp_mime_pop(mm, i + 1);
    if (len >= 4 + b->len && memcmp(text + 2 + b->len, "--", 2) == 0) {
        smtp_mime_pop(mm, i);           /* the epilogue: passed on */
        smtp_mime_entity(mm, CT_OTHER, ST_OTHER);
        mm->state = MS_BODY;
    } else {
        smtp_mime_entity(mm, b->digest ? CT_MESSAGE : CT_TEXT, b->digest ? ST_RFC822 : ST_OTHER);
    }
    return 1;
}

/* smtp_mime_line - one line, or one piece of a long line (partial: more
 * of it follows; mm->piece: it continues an earlier piece) */
static void smtp_mime_line(SMTP_MIME *mm, const char *text, size_t len, int partial, BUF *out)
{
    int     cont = mm->piece;

    mm->piece = partial;
    if (mm->error)
        return;
    if (mm->state == MS_HEAD) {
        if (cont || mm->hdr_skip) {
            if (!cont && !(len > 0 && (text[0] == ' ' || text[0] == '\t')))
                mm->hdr_skip = 0;       /* a new line after a skipped header */
            else {
                smtp_mime_out(mm, text, len, partial, out);
                return;
            }
        }
        if (len > 0 && (text[0] == ' ' || text[0] == '\t') && buf_len(mm->hdr) > 0) {
            buf_putc(mm->hdr, '\n');
        } else if (len > 0 && header_name_len(text, len) > 0) {
            smtp_mime_header_done(mm, out);
        } else {
            smtp_mime_head_end(mm, len == 0 && !partial, out);
            if (len == 0 && !partial)
                return;
        }
        if (mm->state == MS_HEAD && !mm->error) {
            if (partial || buf_len(mm->hdr) + len > mm->header_limit) {
                /* Too long to parse: passed on as it is, unless 8-bit. */
                smtp_mime_header_done(mm, out);
                if (smtp_mime_has_8bit(text, len))
                    smtp_mime_fail(mm, "5.6.3", SMTP_MIME_8BIT_HEADER);
                mm->hdr_skip = 1;
                smtp_mime_out(mm, text, len, partial, out);
                return;
            }
            buf_append(mm->hdr, text, len);
            return;
        }
        if (mm->error)
            return;
    }
    if (!cont && smtp_mime_boundary(mm, text, len, out))
        return;
    if (mm->eight)
        smtp_qp_piece(mm, text, len, !partial, out);
    else
        smtp_mime_out(mm, text, len, partial, out);
}

/* ---- line assembly ---- */

/* smtp_mime_eol - the assembled line is complete */
static void smtp_mime_eol(SMTP_MIME *mm, BUF *out)
{
    smtp_mime_line(mm, buf_str(mm->line), buf_len(mm->line), 0, out);
    buf_reset(mm->line);
    mm->cr = 0;
}

SMTP_MIME *smtp_mime_create(SMTP_ENCODER *enc, int max_depth, size_t header_limit,
                            size_t bound_limit)
{
    SMTP_MIME *mm = xcalloc(1, sizeof(*mm));

    mm->enc = enc;
    mm->max_depth = max_depth > 0 ? max_depth : 1;
    mm->stack = xcalloc((size_t) mm->max_depth, sizeof(*mm->stack));
    mm->header_limit = header_limit > 0 ? header_limit : 1;
    mm->bound_limit = bound_limit > 0 ? bound_limit : 1;
    mm->line = buf_alloc(256);
    mm->hdr = buf_alloc(256);
    mm->qp = buf_alloc(SMTP_QP_LINE + 4);
    mm->why = buf_alloc(64);
    smtp_mime_entity(mm, CT_TEXT, ST_OTHER);
    return mm;
}

void    smtp_mime_free(SMTP_MIME *mm)
{
    smtp_mime_pop(mm, 0);
    xfree(mm->stack);
    xfree(mm->boundary);
    buf_free(mm->line);
    buf_free(mm->hdr);
    buf_free(mm->qp);
    buf_free(mm->why);
    xfree(mm);
}

/* The converter's side of smtp_line_ends. */
static void smtp_mime_text(void *ctx, const char *run, size_t n)
{
    SMTP_MIME *mm = ctx;
    size_t  take;

    while (n > 0 && !mm->error) {
        take = SMTP_MIME_LINE_MAX - buf_len(mm->line);
        if (take > n)
            take = n;
        buf_append(mm->line, run, take);
        run += take;
        n -= take;
        if (buf_len(mm->line) >= SMTP_MIME_LINE_MAX) {
            smtp_mime_line(mm, buf_str(mm->line), buf_len(mm->line), 1, mm->dest);
            buf_reset(mm->line);
        }
    }
}

static void smtp_mime_end_line(void *ctx)
{
    SMTP_MIME *mm = ctx;

    smtp_mime_eol(mm, mm->dest);
}

int     smtp_mime_record(SMTP_MIME *mm, int rec_type, const char *data, size_t len, BUF *out)
{
    if (mm->error)
        return -1;
    mm->dest = out;
    smtp_line_ends(&mm->cr, rec_type, data, len, smtp_mime_text, smtp_mime_end_line, mm);
    return mm->error ? -1 : 0;
}

int     smtp_mime_end(SMTP_MIME *mm, BUF *out)
{
    if (!mm->error && (mm->cr || buf_len(mm->line) > 0 || mm->piece))
        smtp_mime_eol(mm, out);
    if (!mm->error && mm->state == MS_HEAD)
        smtp_mime_header_done(mm, out); /* content that ends inside its headers */
    return mm->error ? -1 : 0;
}

const char *smtp_mime_error(const SMTP_MIME *mm, const char **dsn)
{
    *dsn = mm->dsn;
    return buf_str(mm->why);
}
