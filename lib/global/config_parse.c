/* config_parse - reading main.cf and -o name=value into the store.
 *
 * Postfix syntax: `name = value`; a line starting with white space continues
 * the previous one; blank lines and lines whose first non-blank is `#` are
 * skipped anywhere, also inside a logical line (as Postfix's readllines()).
 * A text is applied only when all of it parses, so a broken main.cf never
 * leaves half a configuration behind. Values are kept as written; expansion
 * happens on use (config_expand.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "config_private.h"
#include "mem.h"
#include "msg.h"
#include "safe_file.h"

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
