/* tok822 - find the addresses in an RFC 5322 address list; see tok822.h.
 *
 * Two passes: the text is cut into tokens (atoms, quoted strings,
 * comments, domain literals, special characters), then the token list is
 * cut into items at top-level commas and semicolons; an item's address is
 * what sits between angle brackets, else all its tokens but comments.
 */
#include <string.h>

#include "mem.h"
#include "tok822.h"

#define TOK_ATOM    'a'
#define TOK_QSTRING 'q'
#define TOK_COMMENT '('
#define TOK_DLIT    'd'

typedef struct TOK {
    int     type;                   /* TOK_* or the special character */
    size_t  start;                  /* span in the text */
    size_t  end;
} TOK;

#define TOK822_SPECIALS "()<>@,;:\\\".[]"

/* tok822_skip_comment - end of a comment that starts at i ('('), escapes honoured */
static size_t tok822_skip_comment(const char *text, size_t len, size_t i)
{
    int     depth = 0;

    for (; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len) {
            i++;
        } else if (text[i] == '(') {
            depth++;
        } else if (text[i] == ')' && --depth == 0) {
            return i + 1;
        }
    }
    return len;
}

/* tok822_skip_until - end of a quoted string or domain literal starting at i */
static size_t tok822_skip_until(const char *text, size_t len, size_t i, int close)
{
    for (i++; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len)
            i++;
        else if (text[i] == close)
            return i + 1;
    }
    return len;
}

/* tok822_tokens - cut text into tokens; at most TOK822_TOKEN_LIMIT */
static TOK *tok822_tokens(const char *text, size_t len, int *count)
{
    TOK    *toks = NULL;
    int     n = 0, cap = 0;
    size_t  i = 0;

    while (i < len && n < TOK822_TOKEN_LIMIT) {
        unsigned char ch = (unsigned char) text[i];
        TOK     t;

        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
            i++;
            continue;
        }
        t.start = i;
        if (ch == '(') {
            t.type = TOK_COMMENT;
            i = tok822_skip_comment(text, len, i);
        } else if (ch == '"') {
            t.type = TOK_QSTRING;
            i = tok822_skip_until(text, len, i, '"');
        } else if (ch == '[') {
            t.type = TOK_DLIT;
            i = tok822_skip_until(text, len, i, ']');
        } else if (ch != '\\' && strchr(TOK822_SPECIALS, ch)) {
            t.type = ch;
            i++;
        } else {
            t.type = TOK_ATOM;
            while (i < len) {
                ch = (unsigned char) text[i];
                if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'
                    || (ch != '\\' && strchr(TOK822_SPECIALS, ch)))
                    break;
                i += (ch == '\\' && i + 1 < len) ? 2 : 1;
            }
        }
        t.end = i;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            toks = xreallocarray(toks, (size_t) cap, sizeof(*toks));
        }
        toks[n++] = t;
    }
    *count = n;
    return toks;
}

/* tok822_unquote - append a token's text in internal form */
static void tok822_unquote(BUF *out, const char *text, const TOK *t)
{
    size_t  i = t->start, end = t->end;

    if (t->type == TOK_QSTRING) {
        i++;
        if (end > i && text[end - 1] == '"')
            end--;
    }
    if (t->type == TOK_DLIT) {
        buf_append(out, text + i, end - i);
        return;
    }
    for (; i < end; i++) {
        if (text[i] == '\\' && i + 1 < end)
            i++;
        buf_putc(out, text[i]);
    }
}

/* tok822_add - one address from tokens [a, b) (comments skipped) */
static void tok822_add(TOK822_LIST *list, const char *text, const TOK *toks,
                       int a, int b, size_t empty_at)
{
    BUF    *addr = buf_alloc(64);
    TOK822_ADDR *ap;
    int     i;

    while (a < b && toks[a].type == TOK_COMMENT)
        a++;
    while (b > a && toks[b - 1].type == TOK_COMMENT)
        b--;
    for (i = a; i < b; i++)
        if (toks[i].type != TOK_COMMENT)
            tok822_unquote(addr, text, toks + i);
    list->addrs = xreallocarray(list->addrs, (size_t) list->count + 1, sizeof(*list->addrs));
    ap = list->addrs + list->count++;
    ap->addr = buf_steal(addr);
    ap->start = a < b ? toks[a].start : empty_at;
    ap->end = a < b ? toks[b - 1].end : empty_at;
}

/* tok822_item - the address of the item starting at token i; the next item */
static int tok822_item(TOK822_LIST *list, const char *text, const TOK *toks, int n, int i)
{
    int     start = i, open = -1, close = -1, j, k;
    int     content = 0;

    for (j = i; j < n; j++) {
        int     type = toks[j].type;

        if (open >= 0 && close < 0) {
            if (type == '>')
                close = j;
            continue;
        }
        if (type == '<' && open < 0) {
            open = j;
        } else if (type == ',' || type == ';') {
            break;
        } else if (type == ':' && open < 0) {
            start = j + 1;                  /* a group's display name */
            content = 0;
        } else if (type != TOK_COMMENT) {
            content = 1;
        }
    }
    if (open >= 0) {
        int     a = open + 1, b = close >= 0 ? close : j;

        for (k = a; k < b; k++)
            if (toks[k].type == ':')
                a = k + 1;                  /* <@route,@route:user@domain> */
        tok822_add(list, text, toks, a, b, toks[open].end);
    } else if (content) {
        tok822_add(list, text, toks, start, j, 0);
    }
    return j + 1;
}

/* tok822_parse - see tok822.h */
int tok822_parse(const char *text, size_t len, TOK822_LIST *list)
{
    int     n, i = 0;
    TOK    *toks = tok822_tokens(text, len, &n);

    list->count = 0;
    list->addrs = NULL;
    while (i < n)
        i = tok822_item(list, text, toks, n, i);
    xfree(toks);
    return list->count;
}

void tok822_list_free(TOK822_LIST *list)
{
    int     i;

    for (i = 0; i < list->count; i++)
        xfree(list->addrs[i].addr);
    xfree(list->addrs);
    list->addrs = NULL;
    list->count = 0;
}

/* tok822_needs_quote - is this local part not a dot-atom? */
static int tok822_needs_quote(const char *local, size_t len)
{
    size_t  i;

    if (len == 0 || local[0] == '.' || local[len - 1] == '.')
        return len > 0;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) local[i];

        if (ch <= ' ' || ch == 127 || (ch != '.' && strchr(TOK822_SPECIALS, ch)))
            return 1;
        if (ch == '.' && local[i + 1] == '.')
            return 1;
    }
    return 0;
}

/* tok822_quote - see tok822.h */
void tok822_quote(const char *internal, BUF *out)
{
    const char *at = strrchr(internal, '@');
    size_t  llen = at ? (size_t) (at - internal) : strlen(internal);
    size_t  i;

    if (!tok822_needs_quote(internal, llen)) {
        buf_puts(out, internal);
        return;
    }
    buf_putc(out, '"');
    for (i = 0; i < llen; i++) {
        if (internal[i] == '"' || internal[i] == '\\')
            buf_putc(out, '\\');
        buf_putc(out, internal[i]);
    }
    buf_putc(out, '"');
    if (at)
        buf_puts(out, at);
}

/* tok822_rewrite - see tok822.h */
void tok822_rewrite(const char *text, size_t len, const TOK822_LIST *list,
                    char *const *replace, BUF *out)
{
    size_t  pos = 0;
    int     i;

    buf_reset(out);
    for (i = 0; i < list->count; i++) {
        const TOK822_ADDR *ap = list->addrs + i;

        if (replace[i] == NULL || ap->start < pos || ap->end > len)
            continue;
        buf_append(out, text + pos, ap->start - pos);
        tok822_quote(replace[i], out);
        pos = ap->end;
    }
    buf_append(out, text + pos, len - pos);
}
