/* config - main.cf: parsing, $name expansion, typed access; see config.h.
 *
 * Every name ever mentioned (the whole parameter table, plus whatever main.cf
 * and -o set) has one CONFIG_ENT in a small hash table. An entry keeps the
 * main.cf value and the -o value apart (-o wins), and caches its expanded
 * value until the configuration changes; old expansions are kept until
 * config_reset() because callers hold the pointers config_str() gave them.
 *
 * Expansion follows Postfix's mac_expand(): $name, ${name}, $(name),
 * ${name?text}, ${name:text}, ${name?{text}}, ${name:{text}},
 * ${name?{text1}:{text2}}, and $$ for one dollar. A name that is being
 * expanded and is seen again is a cycle; nesting deeper than
 * CONFIG_EXPAND_DEPTH and results longer than CONFIG_EXPAND_MAX are errors
 * too, so that no configuration can hang, exhaust the stack, or grow a value
 * exponentially (a=$b$b, b=$c$c, ...).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mem.h"
#include "safe_file.h"
#include "msg.h"

#define CONFIG_FILE_MAX     (4 * 1024 * 1024)   /* main.cf larger than this is refused */
#define CONFIG_EXPAND_DEPTH 100                 /* nested $name / ${...} levels */
#define CONFIG_EXPAND_MAX   (1024 * 1024)       /* bytes in one expanded value */
#define CONFIG_NAME_MAX     256                 /* characters in a parameter name */

typedef struct CONFIG_ENT {
    char   *name;
    int     id;                     /* PARAM_ID, or -1 outside the table */
    char   *file_value;             /* main.cf (or config_set), or NULL */
    char   *override_value;         /* -o, or NULL; wins over file_value */
    char   *cache;                  /* expanded value, valid when cache_gen matches */
    unsigned long cache_gen;
    int     busy;                   /* being expanded right now: seen again = cycle */
    struct CONFIG_ENT *next;        /* hash chain */
} CONFIG_ENT;

static const PARAM_INFO config_table[PARAM_COUNT] = {
#define PARAM(name, type, def, min, max, doc) {#name, PARAM_TYPE_##type, def, min, max, doc},
#include "params.def"
#undef PARAM
};

static CONFIG_ENT **config_hash;        /* buckets */
static size_t config_hash_size;
static size_t config_hash_used;
static CONFIG_ENT *config_by_id[PARAM_COUNT];
static unsigned long config_gen = 1;    /* bumped on every change: caches go stale */
static char *config_dir;                /* chosen by config_init() */
static char *config_path;               /* the main.cf read last, for warnings */
static char *config_hostname;           /* gethostname(), once */
static char **config_graveyard;         /* stale expansions callers may still hold */
static size_t config_graveyard_used;
static size_t config_graveyard_size;

/* Expansion state for one top-level request. */
typedef struct EXPAND {
    BUF    *why;                    /* error text */
    int     depth;                  /* current nesting */
} EXPAND;

static int expand_text(const char *text, size_t len, BUF *out, EXPAND *ex);
static int expand_entry(CONFIG_ENT *ent, BUF *out, EXPAND *ex);

/* config_ws - white space as main.cf knows it */
static int config_ws(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* config_name_char - may this character appear in a parameter name? */
static int config_name_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')
        || (ch >= '0' && ch <= '9') || ch == '_';
}

/* config_name_ok - a whole string that is a valid parameter name */
static int config_name_ok(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len > CONFIG_NAME_MAX)
        return 0;
    for (i = 0; i < len; i++)
        if (!config_name_char((unsigned char) name[i]))
            return 0;
    return 1;
}

/* config_hash_of - FNV-1a over a name of known length */
static size_t config_hash_of(const char *name, size_t len)
{
    size_t  h = 2166136261u;
    size_t  i;

    for (i = 0; i < len; i++) {
        h ^= (unsigned char) name[i];
        h *= 16777619u;
    }
    return h;
}

/* config_find_len - the entry for a name, or NULL */
static CONFIG_ENT *config_find_len(const char *name, size_t len)
{
    CONFIG_ENT *ent;

    if (config_hash == NULL)
        return NULL;
    for (ent = config_hash[config_hash_of(name, len) % config_hash_size]; ent; ent = ent->next)
        if (strncmp(ent->name, name, len) == 0 && ent->name[len] == 0)
            return ent;
    return NULL;
}

/* config_grow - double the bucket array when chains get long */
static void config_grow(void)
{
    size_t  new_size = config_hash_size ? config_hash_size * 2 : 256;
    CONFIG_ENT **new_hash = xcalloc(new_size, sizeof(*new_hash));
    CONFIG_ENT *ent;
    CONFIG_ENT *next;
    size_t  i;

    for (i = 0; i < config_hash_size; i++) {
        for (ent = config_hash[i]; ent; ent = next) {
            size_t  h = config_hash_of(ent->name, strlen(ent->name)) % new_size;

            next = ent->next;
            ent->next = new_hash[h];
            new_hash[h] = ent;
        }
    }
    xfree(config_hash);
    config_hash = new_hash;
    config_hash_size = new_size;
}

/* config_enter - the entry for a name, created when new */
static CONFIG_ENT *config_enter(const char *name)
{
    size_t  len = strlen(name);
    CONFIG_ENT *ent = config_find_len(name, len);
    size_t  h;

    if (ent)
        return ent;
    if (config_hash_used >= config_hash_size)
        config_grow();
    ent = xcalloc(1, sizeof(*ent));
    ent->name = xstrdup(name);
    ent->id = -1;
    h = config_hash_of(name, len) % config_hash_size;
    ent->next = config_hash[h];
    config_hash[h] = ent;
    config_hash_used++;
    return ent;
}

/* config_boot - enter the parameter table once (and again after config_reset) */
static void config_boot(void)
{
    int     id;

    if (config_hash != NULL)
        return;
    config_grow();
    for (id = 0; id < PARAM_COUNT; id++) {
        CONFIG_ENT *ent = config_enter(config_table[id].name);

        ent->id = id;
        config_by_id[id] = ent;
    }
}

/* config_changed - a value changed: every cached expansion is stale */
static void config_changed(void)
{
    config_gen++;
}

/* config_bury - keep a stale expansion alive until config_reset() */
static void config_bury(char *text)
{
    if (text == NULL)
        return;
    if (config_graveyard_used == config_graveyard_size) {
        config_graveyard_size = config_graveyard_size ? config_graveyard_size * 2 : 64;
        config_graveyard = xreallocarray(config_graveyard, config_graveyard_size,
                                         sizeof(*config_graveyard));
    }
    config_graveyard[config_graveyard_used++] = text;
}

/* config_reset - forget everything (tests, fuzzing) */
void config_reset(void)
{
    CONFIG_ENT *ent;
    CONFIG_ENT *next;
    size_t  i;

    for (i = 0; i < config_hash_size; i++) {
        for (ent = config_hash[i]; ent; ent = next) {
            next = ent->next;
            xfree(ent->name);
            xfree(ent->file_value);
            xfree(ent->override_value);
            xfree(ent->cache);
            xfree(ent);
        }
    }
    xfree(config_hash);
    config_hash = NULL;
    config_hash_size = config_hash_used = 0;
    memset(config_by_id, 0, sizeof(config_by_id));
    for (i = 0; i < config_graveyard_used; i++)
        xfree(config_graveyard[i]);
    xfree(config_graveyard);
    config_graveyard = NULL;
    config_graveyard_used = config_graveyard_size = 0;
    xfree(config_dir);
    config_dir = NULL;
    xfree(config_path);
    config_path = NULL;
    xfree(config_hostname);
    config_hostname = NULL;
    config_changed();
}

/* config_set - a main.cf-level value; the last one wins */
void config_set(const char *name, const char *value)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_enter(name);
    xfree(ent->file_value);
    ent->file_value = xstrdup(value);
    config_changed();
}

/* config_override - a master.cf -o value; wins over main.cf */
void config_override(const char *name, const char *value)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_enter(name);
    xfree(ent->override_value);
    ent->override_value = xstrdup(value);
    config_changed();
}

/* config_trim - shrink [*start, *end) past white space at both ends */
static void config_trim(const char **start, const char **end)
{
    while (*start < *end && config_ws((unsigned char) **start))
        (*start)++;
    while (*end > *start && config_ws((unsigned char) (*end)[-1]))
        (*end)--;
}

/* config_split_assignment - "name = value" into trimmed parts; NULL or an error */
static const char *config_split_assignment(const char *text, size_t len,
                                           char **name, char **value)
{
    const char *eq = memchr(text, '=', len);
    const char *ns = text;
    const char *ne = eq;
    const char *vs;
    const char *ve = text + len;

    if (eq == NULL)
        return "missing '=' after parameter name";
    config_trim(&ns, &ne);
    if (ns == ne)
        return "missing parameter name before '='";
    if (!config_name_ok(ns, (size_t) (ne - ns)))
        return "bad parameter name (letters, digits and _ only)";
    vs = eq + 1;
    config_trim(&vs, &ve);
    *name = xstrndup(ns, (size_t) (ne - ns));
    *value = xstrndup(vs, (size_t) (ve - vs));
    return NULL;
}

/* config_override_arg - "name=value" from a -o option */
int config_override_arg(const char *name_eq_value, BUF *why)
{
    char   *name;
    char   *value;
    const char *err;

    err = config_split_assignment(name_eq_value, strlen(name_eq_value), &name, &value);
    if (err != NULL) {
        if (why)
            buf_sprintf(why, "-o %s: %s", name_eq_value, err);
        return -1;
    }
    config_override(name, value);
    xfree(name);
    xfree(value);
    return 0;
}

/* Pending assignments of one parse: applied only when the whole text is good. */
typedef struct CONFIG_PENDING {
    char  **names;
    char  **values;
    size_t  used;
    size_t  size;
} CONFIG_PENDING;

/* config_pending_add - remember one assignment */
static void config_pending_add(CONFIG_PENDING *p, char *name, char *value)
{
    if (p->used == p->size) {
        p->size = p->size ? p->size * 2 : 32;
        p->names = xreallocarray(p->names, p->size, sizeof(*p->names));
        p->values = xreallocarray(p->values, p->size, sizeof(*p->values));
    }
    p->names[p->used] = name;
    p->values[p->used] = value;
    p->used++;
}

/* config_pending_free - apply (when asked) and release */
static void config_pending_done(CONFIG_PENDING *p, int apply)
{
    size_t  i;

    for (i = 0; i < p->used; i++) {
        if (apply)
            config_set(p->names[i], p->values[i]);
        xfree(p->names[i]);
        xfree(p->values[i]);
    }
    xfree(p->names);
    xfree(p->values);
}

/* config_finish_line - one logical line into a pending assignment */
static int config_finish_line(const char *label, BUF *logical, int lineno,
                              CONFIG_PENDING *pending, BUF *why)
{
    char   *name;
    char   *value;
    const char *err;

    err = config_split_assignment(buf_str(logical), buf_len(logical), &name, &value);
    if (err != NULL) {
        if (why)
            buf_sprintf(why, "%s%sline %d: %s", label ? label : "", label ? ": " : "",
                        lineno, err);
        return -1;
    }
    config_pending_add(pending, name, value);
    return 0;
}

/* config_parse_labeled - main.cf text; label names the file in errors */
static int config_parse_labeled(const char *label, const char *text, size_t len, BUF *why)
{
    CONFIG_PENDING pending = {NULL, NULL, 0, 0};
    BUF    *logical = buf_alloc(256);
    int     have_logical = 0;
    int     logical_line = 0;
    int     lineno = 0;
    size_t  pos = 0;
    int     status = 0;

    while (pos < len && status == 0) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t  line_len = nl ? (size_t) (nl - line) : len - pos;
        size_t  skip = 0;

        pos += line_len + (nl ? 1 : 0);
        lineno++;
        if (memchr(line, 0, line_len) != NULL) {
            if (why)
                buf_sprintf(why, "%s%sline %d: NUL character in text", label ? label : "",
                            label ? ": " : "", lineno);
            status = -1;
            break;
        }
        while (skip < line_len && config_ws((unsigned char) line[skip]))
            skip++;
        /* Blank and comment lines are skipped anywhere, also inside a
         * logical line (Postfix's readllines() does the same). */
        if (skip == line_len || line[skip] == '#')
            continue;
        if (skip > 0) {
            if (!have_logical) {
                if (why)
                    buf_sprintf(why, "%s%sline %d: continuation line without a parameter "
                                "before it", label ? label : "", label ? ": " : "", lineno);
                status = -1;
                break;
            }
            buf_append(logical, line, line_len);        /* its white space separates */
            continue;
        }
        if (have_logical)
            status = config_finish_line(label, logical, logical_line, &pending, why);
        buf_reset(logical);
        buf_append(logical, line, line_len);
        have_logical = 1;
        logical_line = lineno;
    }
    if (status == 0 && have_logical)
        status = config_finish_line(label, logical, logical_line, &pending, why);
    config_pending_done(&pending, status == 0);
    buf_free(logical);
    return status;
}

/* config_parse_text - main.cf text (no file name in errors) */
int config_parse_text(const char *text, size_t len, BUF *why)
{
    config_boot();
    return config_parse_labeled(NULL, text, len, why);
}

/* config_read_file - read one main.cf; 0, or -1 with why */
int config_read_file(const char *path, BUF *why)
{
    BUF    *text;
    int     fd;
    int     status;

    config_boot();
    /* Not O_NOFOLLOW: configuration folders managed by tools are often
     * symlink farms, and only the folder's owner can plant a link there. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (why)
            buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    text = read_small_fd(fd, path, CONFIG_FILE_MAX, why);
    close(fd);
    if (text == NULL)
        return -1;
    status = config_parse_labeled(path, buf_str(text), buf_len(text), why);
    buf_free(text);
    if (status == 0) {
        xfree(config_path);
        config_path = xstrdup(path);
    }
    return status;
}

/* config_choose_dir - -c argument, else $MAIL_CONFIG, else the built-in folder */
const char *config_choose_dir(const char *opt_dir)
{
    const char *env;

    if (opt_dir != NULL && *opt_dir != 0)
        return opt_dir;
    if ((env = getenv("MAIL_CONFIG")) != NULL && *env != 0)
        return env;
    return SUREL_DEFAULT_CONFIG_DIR;
}

/* config_init - choose the folder and read its main.cf; fatal on error */
void config_init(const char *opt_dir)
{
    const char *dir;
    char   *path;
    BUF    *why = buf_alloc(100);
    size_t  len;

    config_boot();
    dir = config_choose_dir(opt_dir);
    xfree(config_dir);
    config_dir = xstrdup(dir);
    len = strlen(dir) + sizeof("/main.cf");
    path = xmalloc(len);
    snprintf(path, len, "%s/main.cf", dir);
    if (config_read_file(path, why) < 0)
        msg_fatal("%s", buf_str(why));
    config_changed();                   /* config_directory's default moved */
    xfree(path);
    buf_free(why);
}

/* ---------------------------------------------------------------------------
 * Computed defaults.
 */

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
static int config_computed(int id)
{
    return id == P_myhostname || id == P_mydomain || id == P_mynetworks
        || id == P_config_directory;
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
static const char *config_eval(CONFIG_ENT *ent, BUF *why)
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

/* ---------------------------------------------------------------------------
 * Typed values.
 */

/* config_parse_bool - yes or no, in any case, as Postfix accepts */
int config_parse_bool(const char *text, int *value)
{
    if (strcasecmp(text, "yes") == 0)
        *value = 1;
    else if (strcasecmp(text, "no") == 0)
        *value = 0;
    else
        return -1;
    return 0;
}

/* config_parse_long - a whole decimal number, optional sign */
static int config_parse_long(const char *text, long *value)
{
    char   *end;
    long    v;

    if (*text == 0 || config_ws((unsigned char) *text))
        return -1;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != 0)
        return -1;
    *value = v;
    return 0;
}

/* config_parse_time - number with optional unit s, m, h, d, w; bare takes default_unit */
int config_parse_time(const char *text, char default_unit, long *seconds)
{
    long    n = 0;
    long    mult;
    const char *cp = text;
    char    unit;

    if (*cp < '0' || *cp > '9')
        return -1;
    for (; *cp >= '0' && *cp <= '9'; cp++) {
        if (n > (LONG_MAX - (*cp - '0')) / 10)
            return -1;
        n = n * 10 + (*cp - '0');
    }
    unit = *cp ? *cp++ : default_unit;
    if (*cp != 0)
        return -1;
    switch (unit) {
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 604800;
        break;
    default:
        return -1;
    }
    if (n > LONG_MAX / mult)
        return -1;
    *seconds = n * mult;
    return 0;
}

/* config_default_unit - the unit of a TIME default ("5d" gives 'd') */
static char config_default_unit(const PARAM_INFO *info)
{
    size_t  len = strlen(info->def);

    if (len > 0 && info->def[len - 1] >= 'a' && info->def[len - 1] <= 'z')
        return info->def[len - 1];
    return 's';
}

/* config_check_number - parse an INT or TIME value with info's bounds */
static int config_check_number(const char *name, const char *value, const PARAM_INFO *info,
                               long *result, BUF *why)
{
    long    v;

    if (info->type == PARAM_TYPE_TIME) {
        if (config_parse_time(value, config_default_unit(info), &v) < 0) {
            if (why)
                buf_sprintf(why, "parameter %s: bad time value or unit: %s", name, value);
            return -1;
        }
    } else if (config_parse_long(value, &v) < 0) {
        if (why)
            buf_sprintf(why, "bad numerical configuration: %s = %s", name, value);
        return -1;
    }
    /* min is always checked (no parameter means anything below 0); max 0
     * means no upper bound. */
    if (v < info->min) {
        if (why)
            buf_sprintf(why, "invalid %s parameter value %s (less than %ld)",
                        name, value, info->min);
        return -1;
    }
    if (info->max != 0 && v > info->max) {
        if (why)
            buf_sprintf(why, "invalid %s parameter value %s (more than %ld)",
                        name, value, info->max);
        return -1;
    }
    *result = v;
    return 0;
}

/* config_check_param - evaluate one table parameter by its type */
static int config_check_param(PARAM_ID id, const char **str, long *num, BUF *why)
{
    const PARAM_INFO *info = &config_table[id];
    const char *value;
    int     b;

    config_boot();
    if ((value = config_eval(config_by_id[id], why)) == NULL)
        return -1;
    if (str)
        *str = value;
    switch (info->type) {
    case PARAM_TYPE_STR:
    case PARAM_TYPE_RAW:
        return 0;
    case PARAM_TYPE_BOOL:
        if (config_parse_bool(value, &b) < 0) {
            if (why)
                buf_sprintf(why, "bad boolean configuration: %s = %s", info->name, value);
            return -1;
        }
        if (num)
            *num = b;
        return 0;
    default:
        return config_check_number(info->name, value, info, num ? num : &(long) {0}, why);
    }
}

/* config_get - one typed getter; fatal on a bad value */
static long config_get(PARAM_ID id, PARAM_TYPE type, const char **str, const char *caller)
{
    BUF    *why;
    long    num = 0;

    if ((int) id < 0 || id >= PARAM_COUNT)
        msg_panic("%s: bad parameter id %d", caller, (int) id);
    if (config_table[id].type != type
        && !(type == PARAM_TYPE_STR && config_table[id].type == PARAM_TYPE_RAW))
        msg_panic("%s: parameter %s has another type", caller, config_table[id].name);
    why = buf_alloc(100);
    if (config_check_param(id, str, &num, why) < 0)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    return num;
}

/* config_str - expanded value of a STR or RAW parameter */
const char *config_str(PARAM_ID id)
{
    const char *str = NULL;

    (void) config_get(id, PARAM_TYPE_STR, &str, "config_str");
    return str;
}

/* config_int - an INT parameter, bounds checked */
long config_int(PARAM_ID id)
{
    return config_get(id, PARAM_TYPE_INT, NULL, "config_int");
}

/* config_bool - a BOOL parameter: 1 or 0 */
int config_bool(PARAM_ID id)
{
    return (int) config_get(id, PARAM_TYPE_BOOL, NULL, "config_bool");
}

/* config_time - a TIME parameter in seconds, bounds checked */
long config_time(PARAM_ID id)
{
    return config_get(id, PARAM_TYPE_TIME, NULL, "config_time");
}

/* ---------------------------------------------------------------------------
 * Names outside the table.
 */

/* config_lookup - expanded value of any name; NULL if unset and not in the table */
const char *config_lookup(const char *name)
{
    CONFIG_ENT *ent;
    const char *value;
    BUF    *why;

    config_boot();
    ent = config_find_len(name, strlen(name));
    if (ent == NULL || (ent->id < 0 && !ent->file_value && !ent->override_value))
        return NULL;
    why = buf_alloc(100);
    if ((value = config_eval(ent, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
    return value;
}

/* config_raw - unexpanded value (table default if unset), or NULL */
const char *config_raw(const char *name)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_find_len(name, strlen(name));
    if (ent == NULL)
        return NULL;
    if (ent->override_value)
        return ent->override_value;
    if (ent->file_value)
        return ent->file_value;
    if (ent->id < 0)
        return NULL;
    if (config_computed(ent->id))
        return config_lookup(name);
    return config_table[ent->id].def;
}

/* config_is_set - set in main.cf or by -o */
int config_is_set(const char *name)
{
    CONFIG_ENT *ent = config_find_len(name, strlen(name));

    return ent != NULL && (ent->file_value != NULL || ent->override_value != NULL);
}

/* config_service_name - "<service>_<param>", with "default_" replaced by the service */
static void config_service_name(BUF *out, const char *service, const char *param)
{
    if (strncmp(param, "default_", 8) == 0)
        buf_sprintf(out, "%s_%s", service, param + 8);
    else
        buf_sprintf(out, "%s_%s", service, param);
}

/* config_int_for - service_param if set (or in the table), else param */
long config_int_for(const char *service, PARAM_ID fallback)
{
    const PARAM_INFO *info;
    CONFIG_ENT *ent;
    BUF    *name;
    BUF    *why;
    const char *value;
    long    v = 0;

    config_boot();
    if ((int) fallback < 0 || fallback >= PARAM_COUNT)
        msg_panic("config_int_for: bad parameter id %d", (int) fallback);
    info = &config_table[fallback];
    name = buf_alloc(64);
    config_service_name(name, service, info->name);
    ent = config_find_len(buf_str(name), buf_len(name));
    if (ent != NULL && ent->id >= 0 && config_table[ent->id].type == PARAM_TYPE_INT) {
        v = config_int((PARAM_ID) ent->id);
    } else if (ent != NULL && (ent->file_value || ent->override_value)) {
        why = buf_alloc(100);
        if ((value = config_eval(ent, why)) == NULL
            || config_check_number(ent->name, value, info, &v, why) < 0)
            msg_fatal("%s", buf_str(why));
        buf_free(why);
    } else {
        v = config_int(fallback);
    }
    buf_free(name);
    return v;
}

/* ---------------------------------------------------------------------------
 * The table, checks and listing.
 */

/* config_param_info - the table entry of a parameter, or NULL */
const PARAM_INFO *config_param_info(PARAM_ID id)
{
    if ((int) id < 0 || id >= PARAM_COUNT)
        return NULL;
    return &config_table[id];
}

/* config_param_by_name - the table entry of a name, or NULL outside the table */
const PARAM_INFO *config_param_by_name(const char *name)
{
    CONFIG_ENT *ent;

    config_boot();
    ent = config_find_len(name, strlen(name));
    return ent && ent->id >= 0 ? &config_table[ent->id] : NULL;
}

/* config_service_param - the table parameter that <service>_<x> stands for */
const PARAM_INFO *config_service_param(const char *name, const char *const *services,
                                       int nservices)
{
    const PARAM_INFO *found = NULL;
    BUF    *cand = buf_alloc(64);
    int     s;
    int     id;

    for (s = 0; s < nservices && !found; s++) {
        size_t  slen = strlen(services[s]);

        if (strncmp(name, services[s], slen) != 0 || name[slen] != '_')
            continue;
        for (id = 0; id < PARAM_COUNT && !found; id++) {
            config_service_name(cand, services[s], config_table[id].name);
            if (strcmp(buf_str(cand), name) == 0)
                found = &config_table[id];
        }
    }
    buf_free(cand);
    return found;
}

/* config_cmp_ent - qsort by name */
static int config_cmp_ent(const void *a, const void *b)
{
    return strcmp((*(CONFIG_ENT *const *) a)->name, (*(CONFIG_ENT *const *) b)->name);
}

/* config_sorted - every entry, sorted by name; caller frees the array */
static CONFIG_ENT **config_sorted(size_t *count)
{
    CONFIG_ENT **list = xcalloc(config_hash_used + 1, sizeof(*list));
    CONFIG_ENT *ent;
    size_t  i;
    size_t  n = 0;

    for (i = 0; i < config_hash_size; i++)
        for (ent = config_hash[i]; ent; ent = ent->next)
            list[n++] = ent;
    qsort(list, n, sizeof(*list), config_cmp_ent);
    *count = n;
    return list;
}

/* config_mentions - does some raw value refer to $name (${name...}, $(name...))? */
static int config_mentions(const char *text, const char *name)
{
    size_t  nlen = strlen(name);
    const char *cp;

    for (cp = strchr(text, '$'); cp; cp = strchr(cp, '$')) {
        cp++;
        if (*cp == '$') {
            cp++;
            continue;
        }
        if (*cp == '{' || *cp == '(')
            cp++;
        if (strncmp(cp, name, nlen) == 0 && !config_name_char((unsigned char) cp[nlen]))
            return 1;
    }
    return 0;
}

/* config_referenced - is name used as $name by any value or default? */
static int config_referenced(const char *name, CONFIG_ENT **list, size_t count)
{
    size_t  i;
    int     id;

    for (i = 0; i < count; i++) {
        if (list[i]->id >= 0 && config_table[list[i]->id].type == PARAM_TYPE_RAW)
            continue;                   /* its $names are not parameters */
        if ((list[i]->file_value && config_mentions(list[i]->file_value, name))
            || (list[i]->override_value && config_mentions(list[i]->override_value, name)))
            return 1;
    }
    for (id = 0; id < PARAM_COUNT; id++)
        if (config_table[id].type != PARAM_TYPE_RAW && config_mentions(config_table[id].def, name))
            return 1;
    return 0;
}

/* config_known - in the table, <service>_<param>, or used as $name elsewhere */
int config_known(const char *name, const char *const *services, int nservices)
{
    CONFIG_ENT **list;
    size_t  count;
    int     known;

    if (config_param_by_name(name) || config_service_param(name, services, nservices))
        return 1;
    list = config_sorted(&count);
    known = config_referenced(name, list, count);
    xfree(list);
    return known;
}

/* config_warn_unknown - warn once per main.cf name nobody uses; never fatal */
int config_warn_unknown(const char *const *services, int nservices)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     warned = 0;

    config_boot();
    list = config_sorted(&count);
    for (i = 0; i < count; i++) {
        CONFIG_ENT *ent = list[i];

        if (ent->id >= 0 || ent->file_value == NULL)
            continue;
        if (config_service_param(ent->name, services, nservices)
            || config_referenced(ent->name, list, count))
            continue;
        msg_warn("%s: unused parameter: %s=%s", config_path ? config_path : "main.cf",
                 ent->name, ent->file_value);
        warned++;
    }
    xfree(list);
    return warned;
}

/* config_validate - every table parameter and every set value evaluates */
int config_validate(BUF *why)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     id;
    int     status = 0;

    config_boot();
    for (id = 0; id < PARAM_COUNT && status == 0; id++)
        status = config_check_param((PARAM_ID) id, NULL, NULL, why);
    list = config_sorted(&count);
    for (i = 0; i < count && status == 0; i++)
        if (list[i]->id < 0 && config_eval(list[i], why) == NULL)
            status = -1;
    xfree(list);
    return status;
}

/* config_each_set - call fn for each name set in main.cf or by -o, sorted */
int config_each_set(void (*fn)(const char *name, const char *raw, void *ctx), void *ctx)
{
    CONFIG_ENT **list;
    size_t  count;
    size_t  i;
    int     n = 0;

    config_boot();
    list = config_sorted(&count);
    for (i = 0; i < count; i++) {
        CONFIG_ENT *ent = list[i];
        const char *raw = ent->override_value ? ent->override_value : ent->file_value;

        if (raw != NULL) {
            fn(ent->name, raw, ctx);
            n++;
        }
    }
    xfree(list);
    return n;
}

/* ---------------------------------------------------------------------------
 * Lists.
 */

/* config_split_list - split on commas and white space; { } groups stay whole.
 * An element that is entirely one { ... } group loses its braces (and the
 * white space just inside them), as Postfix does for `{ name = value }`;
 * braces inside an element (inline:{ a=1, b=2 }) belong to it and stay. */
char  **config_split_list(const char *text, int *count)
{
    char  **list = NULL;
    size_t  used = 0;
    size_t  size = 0;
    const char *cp = text;

    for (;;) {
        const char *start;
        const char *end;
        int     level = 0;

        while (*cp && (*cp == ',' || config_ws((unsigned char) *cp)))
            cp++;
        if (*cp == 0)
            break;
        for (start = cp; *cp; cp++) {
            if (*cp == '{')
                level++;
            else if (*cp == '}' && level > 0)
                level--;
            else if (level == 0 && (*cp == ',' || config_ws((unsigned char) *cp)))
                break;
        }
        end = cp;
        if (config_one_group(start, end)) {
            start++;
            end--;
            config_trim(&start, &end);
        }
        if (used + 2 > size) {
            size = size ? size * 2 : 8;
            list = xreallocarray(list, size, sizeof(*list));
        }
        list[used++] = xstrndup(start, (size_t) (end - start));
    }
    if (list == NULL)
        list = xcalloc(1, sizeof(*list));
    list[used] = NULL;
    if (count)
        *count = (int) used;
    return list;
}

/* config_free_list - release a config_split_list() result */
void config_free_list(char **list)
{
    char  **cp;

    if (list == NULL)
        return;
    for (cp = list; *cp; cp++)
        xfree(*cp);
    xfree(list);
}
