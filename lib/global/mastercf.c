/* mastercf - master.cf parsing; see mastercf.h for the format.
 *
 * A logical line is split into the seven fixed columns and the command with
 * its arguments. In the arguments a token that starts with `{` runs to the
 * matching `}` (white space inside is kept; the braces and the white space
 * just inside them are removed), and `-o name=value`, `-oname=value` and
 * `-o { name = value }` are taken out of argv into overrides.
 *
 * Each entry also gets `text`, a normalized form with every `-` resolved, so
 * that master can compare an old and a new entry on reload: two entries with
 * the same text start the same processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mastercf.h"
#include "mem.h"
#include "safe_file.h"
#include "msg.h"

#define MASTERCF_FILE_MAX   (4 * 1024 * 1024)   /* master.cf larger than this is refused */
#define MASTERCF_MAXPROC    1000000             /* a maxproc above this is a typo */
#define MASTERCF_NAME_MAX   1024                /* characters in a service name */

static const char *mastercf_types[] = {"inet", "unix", "unix-dgram", "fifo", "pass"};

/* One token of a logical line. */
typedef struct MTOKEN {
    char   *text;
    int     braced;                 /* came from { ... } */
} MTOKEN;

/* Parse state for one file or text. */
typedef struct MPARSE {
    const char *label;              /* file name for errors, or NULL */
    BUF    *why;
    int     lineno;                 /* first line of the current logical line */
} MPARSE;

/* mastercf_ws - white space between fields */
static int mastercf_ws(int ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' || ch == '\f';
}

/* mastercf_error - "file: line N: text"; always -1 */
static int mastercf_error(MPARSE *mp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int mastercf_error(MPARSE *mp, const char *fmt, ...)
{
    va_list ap;

    if (mp->why) {
        buf_sprintf(mp->why, "%s%sline %d: ", mp->label ? mp->label : "",
                    mp->label ? ": " : "", mp->lineno);
        va_start(ap, fmt);
        buf_vprintf(mp->why, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* mastercf_type_name - "inet", "unix", ... */
const char *mastercf_type_name(MASTER_TYPE type)
{
    if ((int) type < 0 || (size_t) type >= sizeof(mastercf_types) / sizeof(mastercf_types[0]))
        return "unknown";
    return mastercf_types[type];
}

/* mastercf_free_tokens - release a token list */
static void mastercf_free_tokens(MTOKEN *list, int count)
{
    int     i;

    for (i = 0; i < count; i++)
        xfree(list[i].text);
    xfree(list);
}

/* mastercf_tokens - split a logical line; braces only from field `first_brace` on */
static int mastercf_tokens(MPARSE *mp, const char *line, int first_brace,
                           MTOKEN **tokens, int *count)
{
    const char *cp = line;
    MTOKEN *list = NULL;
    int     used = 0;
    int     size = 0;

    for (;;) {
        const char *start;
        const char *end;
        int     braced = 0;

        while (mastercf_ws((unsigned char) *cp))
            cp++;
        if (*cp == 0)
            break;
        if (*cp == '{' && used >= first_brace) {
            int     level = 0;

            for (end = cp; *end; end++) {
                if (*end == '{')
                    level++;
                else if (*end == '}' && --level == 0)
                    break;
            }
            if (*end != '}') {
                mastercf_free_tokens(list, used);
                return mastercf_error(mp, "missing '}' in \"%.60s\"", cp);
            }
            if (end[1] != 0 && !mastercf_ws((unsigned char) end[1])) {
                mastercf_free_tokens(list, used);
                return mastercf_error(mp, "text after '}' in \"%.60s\"", cp);
            }
            start = cp + 1;
            cp = end + 1;
            while (start < end && mastercf_ws((unsigned char) *start))
                start++;
            while (end > start && mastercf_ws((unsigned char) end[-1]))
                end--;
            braced = 1;
        } else {
            start = cp;
            while (*cp && !mastercf_ws((unsigned char) *cp))
                cp++;
            end = cp;
        }
        if (used == size) {
            size = size ? size * 2 : 16;
            list = xreallocarray(list, (size_t) size, sizeof(*list));
        }
        list[used].text = xstrndup(start, (size_t) (end - start));
        list[used].braced = braced;
        used++;
    }
    *tokens = list;
    *count = used;
    return 0;
}

/* mastercf_bool - y, n or - (the default) */
static int mastercf_bool(MPARSE *mp, const char *text, const char *field, int def, int *value)
{
    if (strcmp(text, "-") == 0)
        *value = def;
    else if (strcmp(text, "y") == 0)
        *value = 1;
    else if (strcmp(text, "n") == 0)
        *value = 0;
    else
        return mastercf_error(mp, "bad %s field (y, n or -): %.60s", field, text);
    return 0;
}

/* mastercf_number - a non-negative decimal number up to max */
static int mastercf_number(const char *text, long max, int *value)
{
    long    v = 0;
    const char *cp;

    if (*text == 0)
        return -1;
    for (cp = text; *cp; cp++) {
        if (*cp < '0' || *cp > '9')
            return -1;
        v = v * 10 + (*cp - '0');
        if (v > max)
            return -1;
    }
    *value = (int) v;
    return 0;
}

/* mastercf_override - "name=value" (spaces around = allowed) into the entry */
static int mastercf_override(MPARSE *mp, MASTER_ENT *ent, const char *text)
{
    const char *eq = strchr(text, '=');
    const char *ne;
    const char *vs;
    const char *ve;
    const char *cp;
    size_t  len;
    char   *pair;

    if (eq == NULL || eq == text)
        return mastercf_error(mp, "-o needs name=value, got \"%.60s\"", text);
    ne = eq;
    while (ne > text && mastercf_ws((unsigned char) ne[-1]))
        ne--;
    for (cp = text; cp < ne; cp++)
        if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')
              || (*cp >= '0' && *cp <= '9') || *cp == '_'))
            return mastercf_error(mp, "-o: bad parameter name in \"%.60s\"", text);
    if (ne == text)
        return mastercf_error(mp, "-o needs name=value, got \"%.60s\"", text);
    vs = eq + 1;
    while (*vs && mastercf_ws((unsigned char) *vs))
        vs++;
    ve = vs + strlen(vs);
    while (ve > vs && mastercf_ws((unsigned char) ve[-1]))
        ve--;
    len = (size_t) (ne - text) + 1 + (size_t) (ve - vs) + 1;
    pair = xmalloc(len);
    snprintf(pair, len, "%.*s=%.*s", (int) (ne - text), text, (int) (ve - vs), vs);
    ent->overrides = xreallocarray(ent->overrides, (size_t) ent->noverrides + 2,
                                   sizeof(*ent->overrides));
    ent->overrides[ent->noverrides++] = pair;
    ent->overrides[ent->noverrides] = NULL;
    return 0;
}

/* mastercf_command - argv and overrides from the tokens after the columns */
static int mastercf_command(MPARSE *mp, MASTER_ENT *ent, MTOKEN *tok, int ntok)
{
    int     i;

    ent->argv = xcalloc((size_t) ntok + 1, sizeof(*ent->argv));
    ent->overrides = xcalloc(1, sizeof(*ent->overrides));
    for (i = 0; i < ntok; i++) {
        const char *t = tok[i].text;

        if (i > 0 && !tok[i].braced && strcmp(t, "-o") == 0) {
            if (i + 1 >= ntok)
                return mastercf_error(mp, "-o needs name=value after it");
            if (mastercf_override(mp, ent, tok[++i].text) < 0)
                return -1;
        } else if (i > 0 && !tok[i].braced && strncmp(t, "-o", 2) == 0 && strchr(t, '=')) {
            if (mastercf_override(mp, ent, t + 2) < 0)
                return -1;
        } else {
            ent->argv[ent->argc++] = xstrdup(t);
        }
    }
    return 0;
}

/* mastercf_put_arg - one argument of the normalized text */
static void mastercf_put_arg(BUF *out, const char *arg)
{
    buf_putc(out, ' ');
    if (*arg == 0 || *arg == '{' || arg[strcspn(arg, " \t\r\n\v\f")] != 0)
        buf_printf(out, "{ %s }", arg);
    else
        buf_puts(out, arg);
}

/* mastercf_normalize - the entry's text with every default filled in */
static void mastercf_normalize(MASTER_ENT *ent)
{
    BUF    *out = buf_alloc(128);
    int     i;

    buf_sprintf(out, "%s %s %c %c %c %d%s %d", ent->name, mastercf_type_name(ent->type),
                ent->private_ ? 'y' : 'n', ent->unpriv ? 'y' : 'n', ent->chroot ? 'y' : 'n',
                ent->wakeup, ent->wakeup_on_use ? "?" : "", ent->maxproc);
    mastercf_put_arg(out, ent->argv[0]);
    for (i = 0; i < ent->noverrides; i++) {
        buf_puts(out, " -o");
        mastercf_put_arg(out, ent->overrides[i]);
    }
    for (i = 1; i < ent->argc; i++)
        mastercf_put_arg(out, ent->argv[i]);
    ent->text = buf_steal(out);         /* frees out itself */
}

/* mastercf_columns - the seven fixed columns */
static int mastercf_columns(MPARSE *mp, MASTER_ENT *ent, MTOKEN *tok, int default_maxproc)
{
    size_t  t;
    char   *w;
    size_t  wlen;

    ent->name = xstrdup(tok[0].text);
    for (t = 0; t < sizeof(mastercf_types) / sizeof(mastercf_types[0]); t++)
        if (strcmp(tok[1].text, mastercf_types[t]) == 0)
            break;
    if (t == sizeof(mastercf_types) / sizeof(mastercf_types[0]))
        return mastercf_error(mp, "bad service type (inet, unix, unix-dgram, fifo or pass): "
                              "%.60s", tok[1].text);
    ent->type = (MASTER_TYPE) t;
    /* A local service name becomes a socket path under private/ or public/. */
    if (strlen(ent->name) > MASTERCF_NAME_MAX
        || (ent->type != MASTER_INET && (strchr(ent->name, '/') || ent->name[0] == '.')))
        return mastercf_error(mp, "bad service name: %.60s", ent->name);
    if (mastercf_bool(mp, tok[2].text, "private", 1, &ent->private_) < 0
        || mastercf_bool(mp, tok[3].text, "unpriv", 1, &ent->unpriv) < 0
        || mastercf_bool(mp, tok[4].text, "chroot", 0, &ent->chroot) < 0)
        return -1;
    w = tok[5].text;
    wlen = strlen(w);
    if (strcmp(w, "-") == 0) {
        ent->wakeup = 0;
    } else {
        if (wlen > 1 && w[wlen - 1] == '?') {
            ent->wakeup_on_use = 1;
            w[--wlen] = 0;
        }
        if (mastercf_number(w, INT_MAX, &ent->wakeup) < 0)
            return mastercf_error(mp, "bad wakeup time: %.60s", tok[5].text);
    }
    if (strcmp(tok[6].text, "-") == 0)
        ent->maxproc = default_maxproc;
    else if (mastercf_number(tok[6].text, MASTERCF_MAXPROC, &ent->maxproc) < 0)
        return mastercf_error(mp, "bad process limit: %.60s", tok[6].text);
    return 0;
}

/* mastercf_free_ent - release one entry's memory */
static void mastercf_free_ent(MASTER_ENT *ent)
{
    int     i;

    xfree(ent->name);
    for (i = 0; ent->argv && i < ent->argc; i++)
        xfree(ent->argv[i]);
    xfree(ent->argv);
    for (i = 0; ent->overrides && i < ent->noverrides; i++)
        xfree(ent->overrides[i]);
    xfree(ent->overrides);
    xfree(ent->text);
    memset(ent, 0, sizeof(*ent));
}

/* mastercf_entry - one logical line into an entry */
static int mastercf_entry(MPARSE *mp, const char *line, int default_maxproc, MASTER_ENT *ent)
{
    static const char *fields[] = {"type", "private", "unpriv", "chroot", "wakeup",
                                   "maxproc", "command"};
    MTOKEN *tok = NULL;
    int     ntok = 0;
    int     status = 0;

    memset(ent, 0, sizeof(*ent));
    ent->lineno = mp->lineno;
    if (mastercf_tokens(mp, line, 7, &tok, &ntok) < 0)
        return -1;
    if (ntok < 8)
        status = mastercf_error(mp, "missing %s field", ntok > 0 ? fields[ntok - 1] : "type");
    else if ((status = mastercf_columns(mp, ent, tok, default_maxproc)) == 0
             && (status = mastercf_command(mp, ent, tok + 7, ntok - 7)) == 0)
        mastercf_normalize(ent);
    mastercf_free_tokens(tok, ntok);
    if (status < 0)
        mastercf_free_ent(ent);
    return status;
}

/* mastercf_add - parse a logical line and append it; duplicates are errors */
static int mastercf_add(MPARSE *mp, const char *line, int default_maxproc, MASTER_CF *cf)
{
    MASTER_ENT ent;
    const MASTER_ENT *old;

    if (mastercf_entry(mp, line, default_maxproc, &ent) < 0)
        return -1;
    if ((old = mastercf_find(cf, ent.name, ent.type)) != NULL) {
        mastercf_error(mp, "duplicate service: %.60s/%s (also at line %d)", ent.name,
                       mastercf_type_name(ent.type), old->lineno);
        mastercf_free_ent(&ent);
        return -1;
    }
    cf->ents = xreallocarray(cf->ents, (size_t) cf->count + 1, sizeof(*cf->ents));
    cf->ents[cf->count++] = ent;
    return 0;
}

/* mastercf_parse_labeled - master.cf text; label names the file in errors */
static int mastercf_parse_labeled(const char *label, const char *text, int default_maxproc,
                                  MASTER_CF *cf, BUF *why)
{
    MPARSE  mp = {label, why, 0};
    BUF    *logical = buf_alloc(256);
    int     have = 0;
    int     lineno = 0;
    int     status = 0;
    const char *cp = text;

    cf->count = 0;
    cf->ents = NULL;
    while (*cp && status == 0) {
        const char *nl = strchr(cp, '\n');
        size_t  len = nl ? (size_t) (nl - cp) : strlen(cp);
        size_t  skip = 0;
        const char *line = cp;

        cp += len + (nl ? 1 : 0);
        lineno++;
        while (skip < len && mastercf_ws((unsigned char) line[skip]))
            skip++;
        if (skip == len || line[skip] == '#')
            continue;                   /* blank or comment, also inside an entry */
        if (skip > 0) {
            if (!have) {
                mp.lineno = lineno;
                status = mastercf_error(&mp, "continuation line without an entry before it");
                break;
            }
            buf_putc(logical, ' ');
            buf_append(logical, line, len);
            continue;
        }
        if (have)
            status = mastercf_add(&mp, buf_str(logical), default_maxproc, cf);
        buf_reset(logical);
        buf_append(logical, line, len);
        have = 1;
        mp.lineno = lineno;
    }
    if (status == 0 && have)
        status = mastercf_add(&mp, buf_str(logical), default_maxproc, cf);
    buf_free(logical);
    if (status < 0)
        mastercf_free(cf);
    return status;
}

/* mastercf_parse_text - master.cf text (no file name in errors); 0 or -1 */
int mastercf_parse_text(const char *text, int default_maxproc, MASTER_CF *cf, BUF *why)
{
    return mastercf_parse_labeled(NULL, text, default_maxproc, cf, why);
}

/* mastercf_read - read and parse a master.cf file */
int mastercf_read(const char *path, int default_maxproc, MASTER_CF *cf, BUF *why)
{
    BUF    *text;
    int     fd;
    int     status;

    cf->count = 0;
    cf->ents = NULL;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        if (why)
            buf_sprintf(why, "open %s: %s", path, strerror(errno));
        return -1;
    }
    text = read_small_fd(fd, path, MASTERCF_FILE_MAX, why);
    close(fd);
    if (text == NULL)
        return -1;
    if (strlen(buf_str(text)) != buf_len(text)) {
        if (why)
            buf_sprintf(why, "%s: NUL character in text", path);
        buf_free(text);
        return -1;
    }
    status = mastercf_parse_labeled(path, buf_str(text), default_maxproc, cf, why);
    buf_free(text);
    return status;
}

/* mastercf_free - release every entry */
void mastercf_free(MASTER_CF *cf)
{
    int     i;

    for (i = 0; i < cf->count; i++)
        mastercf_free_ent(&cf->ents[i]);
    xfree(cf->ents);
    cf->ents = NULL;
    cf->count = 0;
}

/* mastercf_find - the entry with this service name and type, or NULL */
const MASTER_ENT *mastercf_find(const MASTER_CF *cf, const char *name, MASTER_TYPE type)
{
    int     i;

    for (i = 0; i < cf->count; i++)
        if (cf->ents[i].type == type && strcmp(cf->ents[i].name, name) == 0)
            return &cf->ents[i];
    return NULL;
}

/* mastercf_program - the path of a command's program; 1 when executable */
int     mastercf_program(const char *command, const char *daemon_dir, BUF *path)
{
    struct stat st;

    if (command[0] == '/')
        buf_set(path, command);
    else
        buf_sprintf(path, "%s/%s", daemon_dir, command);
    return stat(buf_str(path), &st) == 0 && S_ISREG(st.st_mode)
        && access(buf_str(path), X_OK) == 0;
}

/* Postfix daemons whose work is built into surel's programs. */
static const struct {
    const char *command;
    const char *why;
} mastercf_builtins[] = {
    {"tlsmgr", "built in: smtpd and smtp keep their own TLS session state and OpenSSL seeds itself"},
    {"trivial-rewrite", "built in: every program rewrites and resolves addresses itself"},
};

/* Postfix daemons surel does not have (yet): what is missing without them. */
static const struct {
    const char *command;
    const char *why;
} mastercf_absents[] = {
    {"verify", "surel has no address verification (reject_unverified_* are refused)"},
    {"flush", "surel has no per-site fast flush; ETRN and `postqueue -s` retry every "
     "deferred message of the site instead"},
};

const char *mastercf_absent(const char *command)
{
    const char *name = strrchr(command, '/') ? strrchr(command, '/') + 1 : command;
    size_t  i;

    for (i = 0; i < sizeof(mastercf_absents) / sizeof(mastercf_absents[0]); i++)
        if (strcmp(mastercf_absents[i].command, name) == 0)
            return mastercf_absents[i].why;
    return NULL;
}

const char *mastercf_builtin(const char *command)
{
    const char *name = strrchr(command, '/') ? strrchr(command, '/') + 1 : command;
    size_t  i;

    for (i = 0; i < sizeof(mastercf_builtins) / sizeof(mastercf_builtins[0]); i++)
        if (strcmp(mastercf_builtins[i].command, name) == 0)
            return mastercf_builtins[i].why;
    return NULL;
}
