/* smtp_encode - queued content to SMTP DATA bytes (design.md §10.6).
 *
 * Line ends are normalised first, then dots are stuffed: every CR LF, bare
 * LF, bare CR and the end of an N record is one CR LF on the wire, so no
 * bare CR or LF ever leaves the machine and the only "<CR><LF>.<CR><LF>"
 * we send is the final one (outbound SMTP smuggling is impossible). A line
 * starting with "." gets a second one (RFC 5321 4.5.2). A line longer than
 * smtp_line_length_limit is broken by inserting CR LF SPACE (Postfix's
 * smtp_line_length_limit, which keeps folded headers valid).
 * The state crosses record boundaries: a line may come in several L
 * records, and a CR that ends one record may meet an LF in the next.
 */
#include "record.h"
#include "smtp.h"

void    smtp_encode_init(SMTP_ENCODER *e, long limit)
{
    e->limit = limit > 0 ? limit : 0;
    e->col = 0;
    e->cr = 0;
}

/* smtp_encode_eol - end the current line */
static void smtp_encode_eol(SMTP_ENCODER *e, BUF *out)
{
    buf_append(out, "\r\n", 2);
    e->col = 0;
    e->cr = 0;
}

/* smtp_encode_byte - one content byte that is not a line end */
static void smtp_encode_byte(SMTP_ENCODER *e, int ch, BUF *out)
{
    if (e->limit > 0 && e->col >= e->limit) {
        buf_append(out, "\r\n ", 3);
        e->col = 1;
    }
    if (e->col == 0 && ch == '.') {
        buf_putc(out, '.');
        e->col++;
    }
    buf_putc(out, ch);
    e->col++;
}

void    smtp_line_ends(int *cr, int rec_type, const char *data, size_t len,
                       void (*text) (void *ctx, const char *run, size_t n),
                       void (*eol) (void *ctx), void *ctx)
{
    size_t  i = 0, start;

    while (i < len) {
        if (*cr) {                      /* CR LF is one line end, CR x two things */
            *cr = 0;
            eol(ctx);
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        for (start = i; i < len && data[i] != '\r' && data[i] != '\n'; i++)
            /* void */ ;
        if (i > start)
            text(ctx, data + start, i - start);
        if (i < len) {
            if (data[i] == '\r')
                *cr = 1;
            else
                eol(ctx);
            i++;
        }
    }
    if (rec_type == REC_TYPE_NORM) {    /* a CR just before it is the same end */
        *cr = 0;
        eol(ctx);
    }
}

/* The encoder's side of smtp_line_ends. */
typedef struct SMTP_ENCODE_CTX {
    SMTP_ENCODER *e;
    BUF    *out;
} SMTP_ENCODE_CTX;

static void smtp_encode_text(void *ctx, const char *run, size_t n)
{
    SMTP_ENCODE_CTX *c = ctx;
    size_t  i;

    for (i = 0; i < n; i++)
        smtp_encode_byte(c->e, (unsigned char) run[i], c->out);
}

static void smtp_encode_end_line(void *ctx)
{
    SMTP_ENCODE_CTX *c = ctx;

    smtp_encode_eol(c->e, c->out);
}

void    smtp_encode(SMTP_ENCODER *e, int rec_type, const char *data, size_t len, BUF *out)
{
    SMTP_ENCODE_CTX c = {e, out};

    smtp_line_ends(&e->cr, rec_type, data, len, smtp_encode_text, smtp_encode_end_line, &c);
}

void    smtp_encode_end(SMTP_ENCODER *e, BUF *out)
{
    if (e->cr || e->col > 0)
        smtp_encode_eol(e, out);
    buf_append(out, ".\r\n", 3);
}
