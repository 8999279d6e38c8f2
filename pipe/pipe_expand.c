/* pipe_expand - the macros of a pipe service's argv= template (Postfix's
 * pipe(8) list):
 *     ${sender} ${nexthop} ${queue_id} ${size} ${client_address}
 *     ${client_helo} ${client_hostname} ${client_port} ${client_protocol}
 *     ${sasl_method} ${sasl_sender} ${sasl_username}
 * and, per recipient,
 *     ${recipient} ${original_recipient} ${mailbox} ${user}
 *     ${extension} ${domain}
 * written $name, ${name} or $(name); ${name?text} gives text when the
 * value is not empty, ${name:text} when it is (text is taken as it is,
 * without macros inside); $$ is a $. An argument that names a
 * per-recipient macro becomes one argument per recipient of the request
 * (Postfix's rule; set <service>_destination_recipient_limit = 1 for one
 * recipient per command). Every expansion is one argv element: values are
 * never split, quoted or seen by a shell, whatever they contain.
 */
#include <ctype.h>
#include <string.h>

#include "mem.h"
#include "pipe.h"

#define PIPE_RESULT_MAX     (PIPE_ARGV_MAX * 10)   /* arguments after expansion */
#define PIPE_NAME_MAX       32

/* The macros; per: a per-recipient one. */
static const struct {
    const char *name;
    int     per;
} pipe_macros[] = {
    {"sender", 0}, {"nexthop", 0}, {"queue_id", 0}, {"size", 0},
    {"client_address", 0}, {"client_helo", 0}, {"client_hostname", 0},
    {"client_port", 0}, {"client_protocol", 0}, {"sasl_method", 0},
    {"sasl_sender", 0}, {"sasl_username", 0},
    {"recipient", 1}, {"original_recipient", 1}, {"mailbox", 1}, {"user", 1},
    {"extension", 1}, {"domain", 1},
};

/* pipe_macro_find - index of a macro name, -1 if unknown */
static int pipe_macro_find(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(pipe_macros) / sizeof(pipe_macros[0]); i++)
        if (strcmp(pipe_macros[i].name, name) == 0)
            return (int) i;
    return -1;
}

/* pipe_macro_value - a macro's value for one recipient (never NULL) */
static const char *pipe_macro_value(int idx, const PIPE_VARS *v, int rcpt)
{
    const PIPE_RCPT_VARS *r = v->nrcpt > 0 ? v->rcpt + rcpt : NULL;
    const char *name = pipe_macros[idx].name;
    const char *val = NULL;

#define PIPE_IS(n) (strcmp(name, n) == 0)
    if (PIPE_IS("sender")) val = v->sender;
    else if (PIPE_IS("nexthop")) val = v->nexthop;
    else if (PIPE_IS("queue_id")) val = v->queue_id;
    else if (PIPE_IS("size")) val = v->size;
    else if (PIPE_IS("client_address")) val = v->client_address;
    else if (PIPE_IS("client_helo")) val = v->client_helo;
    else if (PIPE_IS("client_hostname")) val = v->client_hostname;
    else if (PIPE_IS("client_port")) val = v->client_port;
    else if (PIPE_IS("client_protocol")) val = v->client_protocol;
    else if (PIPE_IS("sasl_method")) val = v->sasl_method;
    else if (PIPE_IS("sasl_sender")) val = v->sasl_sender;
    else if (PIPE_IS("sasl_username")) val = v->sasl_username;
    else if (r && PIPE_IS("recipient")) val = r->recipient;
    else if (r && PIPE_IS("original_recipient")) val = r->original_recipient;
    else if (r && PIPE_IS("mailbox")) val = r->mailbox;
    else if (r && PIPE_IS("user")) val = r->user;
    else if (r && PIPE_IS("extension")) val = r->extension;
    else if (r && PIPE_IS("domain")) val = r->domain;
#undef PIPE_IS
    return val ? val : "";
}

/* pipe_expand_arg - one argument for one recipient into out (vars NULL:
 * only check); *per set when a per-recipient macro occurs; 0 or -1 */
static int pipe_expand_arg(const char *arg, const PIPE_VARS *vars, int rcpt, BUF *out,
                           int *per, BUF *why)
{
    const char *p = arg, *start, *text;
    char    name[PIPE_NAME_MAX + 1], close, op;
    size_t  n, tlen;
    int     idx;
    const char *val;

    buf_reset(out);
    while (*p) {
        if (*p != '$') {
            buf_putc(out, *p++);
            continue;
        }
        p++;
        if (*p == '$') {
            buf_putc(out, *p++);
            continue;
        }
        close = *p == '{' ? '}' : *p == '(' ? ')' : 0;
        if (close)
            p++;
        for (start = p; isalnum((unsigned char) *p) || *p == '_'; p++)
            ;
        n = (size_t) (p - start);
        if (n == 0 || n > PIPE_NAME_MAX) {
            buf_sprintf(why, "bad macro syntax in argument \"%s\"", arg);
            return -1;
        }
        memcpy(name, start, n);
        name[n] = 0;
        op = 0;
        text = NULL;
        tlen = 0;
        if (close && (*p == '?' || *p == ':')) {
            op = *p++;
            text = p;
            while (*p && *p != close)
                p++;
            tlen = (size_t) (p - text);
        }
        if (close && *p++ != close) {
            buf_sprintf(why, "missing '%c' in argument \"%s\"", close, arg);
            return -1;
        }
        if ((idx = pipe_macro_find(name)) < 0) {
            buf_sprintf(why, "unknown macro $%s in argument \"%s\"", name, arg);
            return -1;
        }
        if (pipe_macros[idx].per)
            *per = 1;
        if (vars == NULL)
            continue;
        val = pipe_macro_value(idx, vars, rcpt);
        if (op == '?') {
            if (*val)
                buf_append(out, text, tlen);
        } else if (op == ':') {
            if (*val == 0)
                buf_append(out, text, tlen);
        } else {
            buf_puts(out, val);
        }
    }
    return 0;
}

int     pipe_expand_check(int argc, char **argv, BUF *why)
{
    BUF    *out = buf_alloc(64);
    int     i, per, ret = 0;

    for (i = 0; i < argc && ret == 0; i++)
        ret = pipe_expand_arg(argv[i], NULL, 0, out, &per, why);
    buf_free(out);
    return ret;
}

char  **pipe_expand_argv(int argc, char **argv, const PIPE_VARS *vars, BUF *why)
{
    BUF    *out = buf_alloc(64);
    char  **result = xcalloc(PIPE_RESULT_MAX + 1, sizeof(char *));
    int     i, r, n = 0, per;

    for (i = 0; i < argc; i++) {
        per = 0;
        if (pipe_expand_arg(argv[i], vars, 0, out, &per, why) < 0)
            goto fail;
        for (r = 0; r < (per ? vars->nrcpt : 1); r++) {
            if (n >= PIPE_RESULT_MAX) {
                buf_sprintf(why, "more than %d command arguments", PIPE_RESULT_MAX);
                goto fail;
            }
            if (r > 0 && pipe_expand_arg(argv[i], vars, r, out, &per, why) < 0)
                goto fail;
            result[n++] = xstrdup(buf_str(out));
        }
    }
    buf_free(out);
    return result;

  fail:
    buf_free(out);
    pipe_argv_free(result);
    return NULL;
}

void    pipe_argv_free(char **argv)
{
    char  **p;

    if (argv == NULL)
        return;
    for (p = argv; *p; p++)
        xfree(*p);
    xfree(argv);
}
