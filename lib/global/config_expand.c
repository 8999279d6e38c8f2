/* config_expand - $name expansion and the computed defaults.
 *
 * Expansion follows Postfix's mac_expand(): $name, ${name}, $(name),
 * ${name?text}, ${name:text}, ${name?{text}}, ${name:{text}},
 * ${name?{text1}:{text2}}, and $$ for one dollar. A name that is being
 * expanded and is seen again is a cycle; nesting deeper than
 * CONFIG_EXPAND_DEPTH and results longer than CONFIG_EXPAND_MAX are errors
 * too, so that no configuration can hang, exhaust the stack, or grow a value
 * exponentially (a=$b$b, b=$c$c, ...). An undefined name expands to nothing.
 * Computed defaults (myhostname, mydomain, mynetworks, config_directory,
 * smtpd_tls_security_level) are made here, when first needed.
 *
 * Values from files: myorigin = /file/name (what Debian's installer
 * writes: myorigin = /etc/mailname) is the first line of that file, as
 * Debian's Postfix reads it. The file is read once and remembered until
 * config_reset(), so that a daemon that expands myorigin again after its
 * chroot (when -o or a later change made the cache stale) still has it.
 * List parameters take /file/name entries where Postfix does (the match
 * lists: mydestination, relay_domains, mynetworks, virtual_*_domains):
 * lib/util/match_list.c reads those.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "mem.h"
#include "msg.h"

/* Expansion state for one top-level request. */
typedef struct EXPAND {
    BUF    *why;                    /* error text */
    int     depth;                  /* current nesting */
} EXPAND;

static int expand_text(const char *text, size_t len, BUF *out, EXPAND *ex);
static int expand_entry(CONFIG_ENT *ent, BUF *out, EXPAND *ex);

/* config_get_hostname - gethostname(), with .localdomain when it has no dot */
static const char *config_get_hostname(void)
{
    char    host[256];

    if (config_hostname == NULL) {
        if (gethostname(host, sizeof(host)) != 0 || host[0] == 0)
            snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = 0;
        if (strchr(host, '.') == NULL) {
            size_t  len = strlen(host) + sizeof(".localdomain");

            config_hostname = xmalloc(len);
            snprintf(config_hostname, len, "%s.localdomain", host);
        } else {
            config_hostname = xstrdup(host);
        }
    }
    return config_hostname;
}

/* config_computed - is this parameter's default computed rather than text? */
int config_computed(int id)
{
    return id == P_myhostname || id == P_mydomain || id == P_mynetworks
        || id == P_config_directory || id == P_smtpd_tls_security_level;
}

/* config_yes - the expanded value of a BOOL table parameter is yes */
static int config_yes(int id, int *yes, EXPAND *ex)
{
    BUF    *tmp = buf_alloc(16);
    int     status;

    *yes = 0;
    if ((status = expand_entry(config_by_id[id], tmp, ex)) == 0)
        (void) config_parse_bool(buf_str(tmp), yes);    /* bad ones: config_validate */
    buf_free(tmp);
    return status;
}

/* config_tls_level_default - smtpd_tls_security_level when main.cf has none:
 * Postfix's obsolete smtpd_enforce_tls (encrypt) and smtpd_use_tls (may),
 * which old main.cf files and guides still set, else empty (none). */
static int config_tls_level_default(BUF *out, EXPAND *ex)
{
    int     yes;

    if (config_yes(P_smtpd_enforce_tls, &yes, ex) < 0)
        return -1;
    if (yes) {
        buf_puts(out, "encrypt");
        return 0;
    }
    if (config_yes(P_smtpd_use_tls, &yes, ex) < 0)
        return -1;
    if (yes)
        buf_puts(out, "may");
    return 0;
}

/* config_default_value - a table parameter's default, expanded, onto out */
static int config_default_value(int id, BUF *out, EXPAND *ex)
{
    BUF    *tmp;
    const char *dot;
    int     status = 0;

    switch (id) {
    case P_myhostname:
        buf_puts(out, config_get_hostname());
        return 0;
    case P_config_directory:
        buf_puts(out, config_dir ? config_dir : config_choose_dir(NULL));
        return 0;
    case P_mydomain:
        tmp = buf_alloc(64);
        if ((status = expand_entry(config_by_id[P_myhostname], tmp, ex)) == 0) {
            dot = strchr(buf_str(tmp), '.');
            buf_puts(out, dot && dot[1] ? dot + 1 : "localdomain");
        }
        buf_free(tmp);
        return status;
    case P_mynetworks:
        tmp = buf_alloc(64);
        if ((status = expand_entry(config_by_id[P_mynetworks_style], tmp, ex)) == 0)
            status = config_mynetworks_default(buf_str(tmp), out, ex->why);
        buf_free(tmp);
        return status;
    case P_smtpd_tls_security_level:
        return config_tls_level_default(out, ex);
    default:
        return expand_text(config_table[id].def, strlen(config_table[id].def), out, ex);
    }
}

/* ---------------------------------------------------------------------------
 * Expansion.
 */

/* CLIP - the length and text of a quoted piece in an error, at most 200 bytes */
#define CLIP(text, len) (int) ((len) > 200 ? 200 : (len)), (text)

/* expand_fail - record the first error; always -1 */
static int expand_fail(EXPAND *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int expand_fail(EXPAND *ex, const char *fmt, ...)
{
    va_list ap;

    if (ex->why && buf_len(ex->why) == 0) {
        va_start(ap, fmt);
        buf_vprintf(ex->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* expand_put - append with the length bound */
static int expand_put(BUF *out, const char *data, size_t len, EXPAND *ex)
{
    if (buf_len(out) + len > CONFIG_EXPAND_MAX)
        return expand_fail(ex, "expanded value is longer than 1 MiB: \"%.*s...\"",
                           CLIP(buf_str(out), buf_len(out)));
    buf_append(out, data, len);
    return 0;
}

/* The file myorigin named, read once (see the header). */
#define CONFIG_VALUE_FILE_MAX 1024      /* bytes read: a domain name is at most 255 */
static char *config_file_path;
static char *config_file_value;

/* config_expand_reset - forget the file read for myorigin (config_reset) */
void config_expand_reset(void)
{
    xfree(config_file_path);
    xfree(config_file_value);
    config_file_path = config_file_value = NULL;
}

/* config_first_line - the first line of a file, white space trimmed; NULL + why */
static const char *config_first_line(const char *name, const char *path, EXPAND *ex)
{
    char    data[CONFIG_VALUE_FILE_MAX + 1];
    ssize_t len = 0;
    ssize_t n;
    const char *start = data;
    const char *end;
    int     fd;

    if (config_file_path && strcmp(config_file_path, path) == 0)
        return config_file_value;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
        expand_fail(ex, "parameter %s: cannot read %s: %s", name, path, strerror(errno));
        return NULL;
    }
    while (len < CONFIG_VALUE_FILE_MAX
           && (n = read(fd, data + len, (size_t) (CONFIG_VALUE_FILE_MAX - len))) > 0)
        len += n;
    close(fd);
    data[len] = 0;
    end = memchr(data, '\n', (size_t) len);
    if (end == NULL)
        end = data + strlen(data);
    config_trim(&start, &end);
    if (start == end) {
        expand_fail(ex, "parameter %s: %s: its first line is empty", name, path);
        return NULL;
    }
    config_expand_reset();
    config_file_path = xstrdup(path);
    config_file_value = xmalloc((size_t) (end - start) + 1);
    memcpy(config_file_value, start, (size_t) (end - start));
    config_file_value[end - start] = 0;
    return config_file_value;
}

/* config_from_file - a myorigin that names a file becomes its first line */
static int config_from_file(CONFIG_ENT *ent, BUF *value, EXPAND *ex)
{
    const char *line;
    char   *path;

    if (ent->id != P_myorigin || buf_str(value)[0] != '/')
        return 0;
    path = xstrdup(buf_str(value));
    line = config_first_line(ent->name, path, ex);
    xfree(path);
    if (line == NULL)
        return -1;
    buf_set(value, line);
    return 0;
}

/* expand_entry - append the expanded value of one entry; caches it */
static int expand_entry(CONFIG_ENT *ent, BUF *out, EXPAND *ex)
{
    BUF    *tmp;
    const char *raw;
    int     status;

    if (ent->cache != NULL && ent->cache_gen == config_gen)
        return expand_put(out, ent->cache, strlen(ent->cache), ex);
    if (ent->busy)
        return expand_fail(ex, "parameter %s: recursive definition (its value refers "
                           "back to itself)", ent->name);
    if (ex->depth >= CONFIG_EXPAND_DEPTH)
        return expand_fail(ex, "parameter %s: $name references nested too deeply",
                           ent->name);
    ex->depth++;
    ent->busy = 1;
    tmp = buf_alloc(64);
    raw = ent->override_value ? ent->override_value : ent->file_value;
    if (ent->id >= 0 && config_table[ent->id].type == PARAM_TYPE_RAW) {
        /* $names in it belong to the program that uses it (local's $home). */
        buf_puts(tmp, raw ? raw : config_table[ent->id].def);
        status = 0;
    } else if (raw != NULL)
        status = expand_text(raw, strlen(raw), tmp, ex);
    else if (ent->id >= 0)
        status = config_default_value(ent->id, tmp, ex);
    else
        status = 0;                     /* undefined: empty */
    if (status == 0)
        status = config_from_file(ent, tmp, ex);
    ent->busy = 0;
    ex->depth--;
    if (status == 0) {
        config_bury(ent->cache);
        ent->cache = buf_steal(tmp);    /* frees tmp itself */
        ent->cache_gen = config_gen;
        return expand_put(out, ent->cache, strlen(ent->cache), ex);
    }
    buf_free(tmp);
    return status;
}

/* expand_name - append the value of a name (undefined: empty) */
static int expand_name(const char *name, size_t len, BUF *out, EXPAND *ex)
{
    CONFIG_ENT *ent = config_find_len(name, len);

    return ent ? expand_entry(ent, out, ex) : 0;
}

/* expand_match - index of the brace/paren closing text[0], or len */
static size_t expand_match(const char *text, size_t len, char open, char close)
{
    size_t  i;
    int     level = 0;

    for (i = 0; i < len; i++) {
        if (text[i] == open)
            level++;
        else if (text[i] == close && --level == 0)
            return i;
    }
    return len;
}

/* config_one_group - is [s, e) exactly one { ... } group? */
static int config_one_group(const char *s, const char *e)
{
    return e - s >= 2 && *s == '{'
        && expand_match(s, (size_t) (e - s), '{', '}') == (size_t) (e - s) - 1;
}

/* expand_branch - "{text}" gives text; anything else is the text itself */
static void expand_branch(const char *text, size_t len, const char **start, size_t *blen)
{
    const char *s = text;
    const char *e = text + len;

    config_trim(&s, &e);
    if (config_one_group(s, e)) {
        s++;
        e--;
        config_trim(&s, &e);
        *start = s;
        *blen = (size_t) (e - s);
    } else {
        *start = text;
        *blen = len;
    }
}

/* expand_ref - the inside of ${...} or $(...): name, name?text, name:text */
static int expand_ref(const char *ref, size_t len, BUF *out, EXPAND *ex)
{
    size_t  n = 0;
    BUF    *value;
    const char *text;
    size_t  text_len;
    const char *alt = NULL;             /* ${name?{t1}:{t2}}: t2 */
    size_t  alt_len = 0;
    char    op;
    int     status;

    while (n < len && config_name_char((unsigned char) ref[n]))
        n++;
    if (n == 0)
        return expand_fail(ex, "empty macro name: \"%.*s\"", CLIP(ref, len));
    if (n == len)
        return expand_name(ref, n, out, ex);
    op = ref[n];
    if (op != '?' && op != ':')
        return expand_fail(ex, "bad macro reference: \"%.*s\"", CLIP(ref, len));
    text = ref + n + 1;
    text_len = len - n - 1;
    if (op == '?') {
        /* ${name?{t1}:{t2}}: split where the first braced group ends. */
        const char *s = text;
        const char *e = text + text_len;
        size_t  close;

        config_trim(&s, &e);
        if (s < e && *s == '{' && (close = expand_match(s, (size_t) (e - s), '{', '}'))
            < (size_t) (e - s) - 1) {
            const char *colon = s + close + 1;

            while (colon < e && config_ws((unsigned char) *colon))
                colon++;
            if (colon < e && *colon == ':') {
                alt = colon + 1;
                alt_len = (size_t) (e - alt);
                text = s;
                text_len = close + 1;
            }
        }
    }
    value = buf_alloc(64);
    status = expand_name(ref, n, value, ex);
    if (status == 0) {
        int     nonempty = buf_len(value) > 0;

        if ((op == '?' && nonempty) || (op == ':' && !nonempty)) {
            expand_branch(text, text_len, &text, &text_len);
            status = expand_text(text, text_len, out, ex);
        } else if (alt != NULL) {
            expand_branch(alt, alt_len, &alt, &alt_len);
            status = expand_text(alt, alt_len, out, ex);
        }
    }
    buf_free(value);
    return status;
}

/* expand_text - expand $name forms in text, appending to out */
static int expand_text(const char *text, size_t len, BUF *out, EXPAND *ex)
{
    size_t  i = 0;
    int     status = 0;

    if (ex->depth >= CONFIG_EXPAND_DEPTH)
        return expand_fail(ex, "$name references nested too deeply: \"%.*s\"",
                           CLIP(text, len));
    ex->depth++;
    while (i < len && status == 0) {
        const char *dollar = memchr(text + i, '$', len - i);
        size_t  run = dollar ? (size_t) (dollar - (text + i)) : len - i;

        if (run > 0) {
            status = expand_put(out, text + i, run, ex);
            i += run;
            continue;
        }
        i++;                            /* past the $ */
        if (i < len && text[i] == '$') {
            status = expand_put(out, "$", 1, ex);
            i++;
        } else if (i < len && (text[i] == '{' || text[i] == '(')) {
            char    open = text[i];
            size_t  end = expand_match(text + i, len - i, open, open == '{' ? '}' : ')');

            if (end == len - i) {
                status = expand_fail(ex, "truncated macro reference: \"%.*s\"",
                                     CLIP(text, len));
                break;
            }
            status = expand_ref(text + i + 1, end - 1, out, ex);
            i += end + 1;
        } else {
            size_t  n = 0;

            while (i + n < len && config_name_char((unsigned char) text[i + n]))
                n++;
            if (n == 0) {
                status = expand_fail(ex, "empty macro name: \"%.*s\"", CLIP(text, len));
                break;
            }
            status = expand_name(text + i, n, out, ex);
            i += n;
        }
    }
    ex->depth--;
    return status;
}

/* config_expand - expand $name in text into out (replaced); -1 with why */
int config_expand(const char *text, BUF *out, BUF *why)
{
    EXPAND  ex = {why, 0};

    config_boot();
    buf_reset(out);
    if (why)
        buf_reset(why);
    return expand_text(text, strlen(text), out, &ex);
}

/* config_eval - the expanded value of an entry (cached), or NULL with why */
const char *config_eval(CONFIG_ENT *ent, BUF *why)
{
    EXPAND  ex = {why, 0};
    BUF    *out;
    int     status;

    if (ent->cache != NULL && ent->cache_gen == config_gen)
        return ent->cache;
    if (why)
        buf_reset(why);
    out = buf_alloc(64);
    status = expand_entry(ent, out, &ex);
    buf_free(out);
    return status == 0 ? ent->cache : NULL;
}
