/* smtp_reply - one server reply, line by line (RFC 5321 4.2).
 *
 * A reply is one or more lines "NNN-text" ending with "NNN text" (or a
 * bare "NNN"); every line carries the same code. The text kept is every
 * line as sent, joined by a space, as Postfix shows multi-line replies in
 * its logs ("550-5.1.1 first part 550 5.1.1 second part"); control bytes
 * become '?' so that no server can write into our log lines or DSNs.
 * The enhanced status code (RFC 3463) is the one of the first line when
 * its class matches the reply's, else the reply's class with ".0.0"
 * (Postfix does the same: a "550 4.1.1" is a permanent failure).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "smtp.h"

void    smtp_reply_init(SMTP_REPLY *r)
{
    r->text = buf_alloc(128);
    smtp_reply_reset(r);
}

void    smtp_reply_free(SMTP_REPLY *r)
{
    buf_free(r->text);
}

void    smtp_reply_reset(SMTP_REPLY *r)
{
    r->code = 0;
    r->dsn[0] = 0;
    r->lines = 0;
    buf_reset(r->text);
}

/* smtp_reply_dsn - the enhanced code at the start of text, length or 0 */
static size_t smtp_reply_dsn(const char *text, size_t len)
{
    size_t  i = 0, part, digits;

    for (part = 0; part < 3; part++) {
        if (part > 0) {
            if (i >= len || text[i] != '.')
                return 0;
            i++;
        }
        for (digits = 0; i < len && isdigit((unsigned char) text[i]) && digits < 3; digits++)
            i++;
        if (digits == 0 || (part == 0 && digits != 1))
            return 0;
    }
    return (i == len || text[i] == ' ') && i < 16 ? i : 0;
}

/* smtp_reply_append - the line, made printable, onto the kept text */
static void smtp_reply_append(SMTP_REPLY *r, const char *line, size_t len)
{
    size_t  i;

    if (buf_len(r->text) > 0 && buf_len(r->text) < SMTP_REPLY_TEXT_MAX)
        buf_putc(r->text, ' ');
    for (i = 0; i < len && buf_len(r->text) < SMTP_REPLY_TEXT_MAX; i++) {
        unsigned char ch = (unsigned char) line[i];

        buf_putc(r->text, ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
}

int     smtp_reply_line(SMTP_REPLY *r, const char *line, size_t len)
{
    int     code;
    size_t  n;

    if (len < 3 || !isdigit((unsigned char) line[0]) || !isdigit((unsigned char) line[1])
        || !isdigit((unsigned char) line[2]) || line[0] < '2' || line[0] > '5'
        || (len > 3 && line[3] != ' ' && line[3] != '-')) {
        smtp_reply_reset(r);
        smtp_reply_append(r, line, len > 100 ? 100 : len);
        return -1;
    }
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->lines > 0 && code != r->code) {
        smtp_reply_reset(r);
        buf_sprintf(r->text, "reply code changed within a multi-line reply");
        return -1;
    }
    if (++r->lines > SMTP_REPLY_LINES_MAX) {
        smtp_reply_reset(r);
        buf_sprintf(r->text, "more than %d lines in one reply", SMTP_REPLY_LINES_MAX);
        return -1;
    }
    if (r->lines == 1) {
        r->code = code;
        n = len > 4 ? smtp_reply_dsn(line + 4, len - 4) : 0;
        if (n > 0 && line[4] == line[0]) {
            memcpy(r->dsn, line + 4, n);
            r->dsn[n] = 0;
        } else {
            snprintf(r->dsn, sizeof(r->dsn), "%c.0.0", line[0]);
        }
    }
    smtp_reply_append(r, line, len);
    return len > 3 && line[3] == '-' ? 0 : 1;
}
