/* smtpd_check_expand - $name expansion of reply templates
 * (default_rbl_reply, rbl_reply_maps), as Postfix's smtpd_expand:
 * $name, ${name}, ${name?text} (text when name is not empty),
 * ${name:text} (text when it is empty), $$ for one dollar; the text of
 * ? and : is expanded too. The names: rbl_code, rbl_class, rbl_domain,
 * rbl_what, rbl_reason, rbl_txt (set by the caller), and from the
 * session client_address, client_name, helo_name, sender, recipient,
 * sasl_username. An unknown name is an error, so that a typo in a
 * template is logged instead of sent (the caller falls back).
 * Values come from the client (HELO, sender) and DNS (TXT): the
 * reply is made one printable line by smtpd_check_reject.
 */
#include <ctype.h>
#include <string.h>

#include "smtpd_check_int.h"

#define EXPAND_DEPTH_MAX    10      /* ${a?${b?...}} nesting */
#define EXPAND_OUT_MAX      2000    /* longer than any reply line */
#define EXPAND_NAME_MAX     64

/* expand_var - the value of name, or NULL when unknown */
static const char *expand_var(CHECK_STATE *st, const SMTPD_EXPAND_VARS *v, const char *name)
{
    const SMTPD_CHECK_CTX *ctx = st->ctx;
    const struct {
        const char *name;
        const char *value;
    }       table[] = {
        {"rbl_code", v->rbl_code},
        {"rbl_class", v->rbl_class},
        {"rbl_domain", v->rbl_domain},
        {"rbl_what", v->rbl_what},
        {"rbl_reason", v->rbl_txt},
        {"rbl_txt", v->rbl_txt},
        {"client_address", ctx->client_addr},
        {"client_name", ctx->client_name},
        {"helo_name", ctx->helo},
        {"sender", ctx->sender},
        {"recipient", st->rcpt},
        {"sasl_username", ctx->sasl_username},
    };
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(table[i].name, name) == 0)
            return table[i].value ? table[i].value : "";
    return NULL;
}

static int expand_text(CHECK_STATE *st, const char *text, size_t len,
                       const SMTPD_EXPAND_VARS *v, BUF *out, BUF *why, int depth);

/* expand_ref - one reference after '$'; bytes of text used, or -1 */
static int expand_ref(CHECK_STATE *st, const char *text, size_t len,
                      const SMTPD_EXPAND_VARS *v, BUF *out, BUF *why, int depth)
{
    char    name[EXPAND_NAME_MAX + 1];
    size_t  i = 0, n = 0, arg = 0, arglen = 0;
    int     braced = len > 0 && text[0] == '{';
    int     op = 0, level;
    const char *value;

    if (braced)
        i++;
    while (i < len && (isalnum((unsigned char) text[i]) || text[i] == '_')) {
        if (n >= EXPAND_NAME_MAX) {
            buf_sprintf(why, "name too long");
            return -1;
        }
        name[n++] = text[i++];
    }
    name[n] = 0;
    if (n == 0) {
        buf_sprintf(why, "bad $name");
        return -1;
    }
    if (braced) {
        if (i < len && (text[i] == '?' || text[i] == ':')) {
            op = text[i++];
            arg = i;
            for (level = 1; i < len; i++) {
                if (text[i] == '{')
                    level++;
                else if (text[i] == '}' && --level == 0)
                    break;
            }
            arglen = i - arg;
        }
        if (i >= len || text[i] != '}') {
            buf_sprintf(why, "missing '}' after ${%s", name);
            return -1;
        }
        i++;
    }
    if ((value = expand_var(st, v, name)) == NULL) {
        buf_sprintf(why, "unknown name $%s", name);
        return -1;
    }
    if (op == 0)
        buf_puts(out, value);
    else if ((op == '?') == (*value != 0)
             && expand_text(st, text + arg, arglen, v, out, why, depth + 1) < 0)
        return -1;
    return (int) i;
}

/* expand_text - len bytes of text onto out */
static int expand_text(CHECK_STATE *st, const char *text, size_t len,
                       const SMTPD_EXPAND_VARS *v, BUF *out, BUF *why, int depth)
{
    size_t  i = 0;
    int     used;

    if (depth > EXPAND_DEPTH_MAX) {
        buf_sprintf(why, "nested too deep");
        return -1;
    }
    while (i < len) {
        if (buf_len(out) > EXPAND_OUT_MAX) {
            buf_sprintf(why, "result too long");
            return -1;
        }
        if (text[i] != '$') {
            buf_putc(out, text[i++]);
        } else if (i + 1 < len && text[i + 1] == '$') {
            buf_putc(out, '$');
            i += 2;
        } else {
            if ((used = expand_ref(st, text + i + 1, len - i - 1, v, out, why, depth)) < 0)
                return -1;
            i += 1 + (size_t) used;
        }
    }
    return 0;
}

int     smtpd_check_expand(CHECK_STATE *st, const char *tmpl, const SMTPD_EXPAND_VARS *vars,
                           BUF *out, BUF *why)
{
    buf_reset(out);
    return expand_text(st, tmpl, strlen(tmpl), vars, out, why, 0);
}
