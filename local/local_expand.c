/* local_expand - per-recipient $name expansion and alias value tokens.
 *
 * forward_path and luser_relay are RAW parameters: main.cf keeps their
 * $home, $user, ${extension} ... and local(8) fills them in for each
 * recipient, as Postfix does. (mailbox_command is RAW too but is never
 * expanded: it is shell text, and the envelope reaches it through the
 * environment only, see local_command.c.) The syntax is main.cf's: $name,
 * ${name}, ${name?text} (text when name is not empty), ${name:text} (text
 * when it is empty) and $$ for a dollar. Only the names below exist here;
 * anything else is an error, so that a typo in forward_path is noticed
 * instead of silently naming another file.
 *
 * Envelope data in an expansion that names a file or reaches a command is
 * censored as Postfix does: every character of a $name's value outside the
 * filter (forward_expansion_filter, command_expansion_filter) becomes '_',
 * so that "$user" from "|cmd;x"@domain can never add shell syntax or climb
 * out of a folder. The literal text of the parameter is left alone.
 *
 * Alias values and .forward files are lists of destinations separated by
 * commas or newlines; a destination may be put in double quotes to keep
 * commas and spaces in it ("|/usr/bin/vacation -a x, y").
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "local.h"
#include "mem.h"
#include "msg.h"
#include "split_addr.h"

#define LOCAL_TOKENS_MAX    1000    /* destinations in one alias value or file */
#define LOCAL_NAME_MAX      64      /* longest $name */

/* local_var - the value of one expansion name, or NULL if the name is unknown */
static const char *local_var(const LOCAL_VARS *vars, const char *name)
{
    static const struct {
        const char *name;
        size_t  offset;
    } table[] = {
        {"home", offsetof(LOCAL_VARS, home)},
        {"user", offsetof(LOCAL_VARS, user)},
        {"shell", offsetof(LOCAL_VARS, shell)},
        {"local", offsetof(LOCAL_VARS, local)},
        {"domain", offsetof(LOCAL_VARS, domain)},
        {"extension", offsetof(LOCAL_VARS, extension)},
        {"recipient", offsetof(LOCAL_VARS, recipient)},
        {"recipient_delimiter", offsetof(LOCAL_VARS, recipient_delimiter)},
        {"sender", offsetof(LOCAL_VARS, sender)},
    };
    size_t  i;
    const char *value;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strcmp(table[i].name, name) == 0) {
            value = *(const char *const *) ((const char *) vars + table[i].offset);
            return value ? value : "";
        }
    }
    return NULL;
}

/* local_expand_ref - one ${...} or $name at *cpp (after the '$') */
static int local_expand_ref(const char **cpp, const LOCAL_VARS *vars, const char *filter,
                            BUF *out, int *flags, BUF *why)
{
    const char *cp = *cpp;
    char    name[LOCAL_NAME_MAX + 1];
    size_t  n = 0;
    int     braced = (*cp == '{');
    const char *value;
    const char *text = NULL;
    size_t  text_len = 0;
    int     op = 0;

    if (braced)
        cp++;
    while ((isalnum((unsigned char) *cp) || *cp == '_') && n < LOCAL_NAME_MAX)
        name[n++] = *cp++;
    name[n] = 0;
    if (n == 0 || isalnum((unsigned char) *cp) || *cp == '_') {
        buf_sprintf(why, "bad $name in \"%s\"", *cpp - 1);
        return -1;
    }
    if (braced) {
        if (*cp == '?' || *cp == ':') {
            op = *cp++;
            text = cp;
            while (*cp && *cp != '}')
                cp++;
            text_len = (size_t) (cp - text);
        }
        if (*cp != '}') {
            buf_sprintf(why, "missing '}' in \"%s\"", *cpp - 1);
            return -1;
        }
        cp++;
    }
    if ((value = local_var(vars, name)) == NULL) {
        buf_sprintf(why, "unknown name $%s", name);
        return -1;
    }
    if (strcmp(name, "extension") == 0 && *value == 0 && flags)
        *flags |= LOCAL_EXP_EMPTY_EXT;
    if (op == '?') {
        if (*value)
            buf_append(out, text, text_len);
    } else if (op == ':') {
        if (*value == 0)
            buf_append(out, text, text_len);
    } else {
        size_t  start = buf_len(out);

        buf_puts(out, value);
        if (filter)
            local_censor(buf_str(out) + start, filter);
    }
    *cpp = cp;
    return 0;
}

/* local_censor - every character of text outside filter becomes '_' */
void    local_censor(char *text, const char *filter)
{
    char   *cp;

    for (cp = text; *(cp += strspn(cp, filter)) != 0; cp++)
        *cp = '_';
}

/* local_expand - text with its $names filled in (their values censored by
 * filter unless it is NULL); 0, or -1 with why */
int local_expand(const char *text, const LOCAL_VARS *vars, const char *filter, BUF *out,
                 int *flags, BUF *why)
{
    const char *cp = text;

    buf_reset(out);
    if (flags)
        *flags = 0;
    while (*cp) {
        if (*cp != '$') {
            buf_putc(out, *cp++);
        } else if (cp[1] == '$') {
            buf_putc(out, '$');
            cp += 2;
        } else {
            cp++;
            if (local_expand_ref(&cp, vars, filter, out, flags, why) < 0)
                return -1;
        }
    }
    return 0;
}

/* local_tokens - the destinations of an alias value or .forward text */
char  **local_tokens(const char *value, int *count)
{
    char  **tokens = xcalloc(LOCAL_TOKENS_MAX + 1, sizeof(char *));
    const char *cp = value;
    BUF    *tok = buf_alloc(100);
    int     n = 0;
    int     quoted;

    while (*cp && n < LOCAL_TOKENS_MAX) {
        while (*cp == ',' || isspace((unsigned char) *cp))
            cp++;
        if (*cp == 0)
            break;
        /* A '#' at the start of a destination comments out the rest of the line. */
        if (*cp == '#') {
            while (*cp && *cp != '\n')
                cp++;
            continue;
        }
        buf_reset(tok);
        quoted = 0;
        for (; *cp; cp++) {
            if (*cp == '"') {
                quoted = !quoted;
                continue;
            }
            if (*cp == '\\' && quoted && cp[1]) {
                buf_putc(tok, *++cp);
                continue;
            }
            if (!quoted && (*cp == ',' || *cp == '\n'))
                break;
            buf_putc(tok, *cp);
        }
        buf_trim_right(tok);
        if (buf_len(tok) > 0)
            tokens[n++] = xstrdup(buf_str(tok));
    }
    buf_free(tok);
    *count = n;
    return tokens;
}

/* local_tokens_free - what local_tokens made */
void    local_tokens_free(char **tokens)
{
    char  **tp;

    for (tp = tokens; *tp; tp++)
        xfree(*tp);
    xfree(tokens);
}

/* local_split_extension - user+ext as split_addr() (lib/global, the split
 * every program uses) cuts it: 1 when split, 0 when there is no extension */
int local_split_extension(const char *local, const char *delims, BUF *user, BUF *ext,
                          char *delim_used)
{
    size_t  pos = split_addr(local, strlen(local), delims);

    buf_reset(ext);
    if (delim_used)
        *delim_used = 0;
    if (pos == 0) {
        buf_set(user, local);
        return 0;
    }
    buf_reset(user);
    buf_append(user, local, pos);
    buf_set(ext, local + pos + 1);
    if (strchr(buf_str(ext), '/') != NULL) {
        /* The extension ends up in file names ($home/.forward+ext): a
         * slash could climb out of $home. Postfix ignores such extensions. */
        msg_warn("%s: ignoring address extension with '/'", local);
        buf_reset(ext);
    }
    if (delim_used)
        *delim_used = local[pos];
    return 1;
}

/* local_list_has - word is an item of a comma/space list (any case) */
int local_list_has(const char *list, const char *word)
{
    int     count, i, found = 0;
    char  **items = config_split_list(list, &count);

    for (i = 0; i < count && !found; i++)
        found = strcasecmp(items[i], word) == 0;
    config_free_list(items);
    return found;
}
