/* str_split - split a list on commas and white space, { } groups whole.
 *
 * The rule is in str_split.h. One implementation for main.cf lists
 * (config_split_list), table lists (maps_open), inline: tables and match
 * lists, so that `{ a, b }` means the same everywhere.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mem.h"
#include "str_split.h"

/* str_split_sep - a separator: comma or white space */
static int str_split_sep(int ch)
{
    return ch == ',' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'
        || ch == '\v' || ch == '\f';
}

/* str_split_space - white space only (inside a group's braces) */
static int str_split_space(int ch)
{
    return ch != ',' && str_split_sep(ch);
}

/* str_split_end - end of the item at start; *open gets the unclosed depth */
static const char *str_split_end(const char *start, int *open)
{
    const char *cp;
    int     level = 0;

    for (cp = start; *cp; cp++) {
        if (*cp == '{')
            level++;
        else if (*cp == '}' && level > 0)
            level--;
        else if (level == 0 && str_split_sep((unsigned char) *cp))
            break;
    }
    *open = level;
    return cp;
}

/* str_split_one_group - is [s, e) exactly one balanced { ... } group? */
static int str_split_one_group(const char *s, const char *e)
{
    const char *cp;
    int     level = 0;

    if (e - s < 2 || *s != '{' || e[-1] != '}')
        return 0;
    for (cp = s; cp < e; cp++) {
        if (*cp == '{')
            level++;
        else if (*cp == '}' && --level == 0)
            return cp == e - 1;
    }
    return 0;
}

/* str_split_strip - drop the braces of a one-group item and the space inside */
static void str_split_strip(const char **s, const char **e)
{
    if (!str_split_one_group(*s, *e))
        return;
    (*s)++;
    (*e)--;
    while (*s < *e && str_split_space((unsigned char) **s))
        (*s)++;
    while (*e > *s && str_split_space((unsigned char) (*e)[-1]))
        (*e)--;
}

/* str_split_next - the next item, or NULL at the end (or on error with why) */
char   *str_split_next(const char **cpp, BUF *why)
{
    const char *start = *cpp;
    const char *end;
    int     open;

    while (*start && str_split_sep((unsigned char) *start))
        start++;
    if (*start == 0) {
        *cpp = start;
        return NULL;
    }
    end = str_split_end(start, &open);
    *cpp = end;
    if (open > 0 && why != NULL) {
        buf_sprintf(why, "missing '}' in \"%.200s\"", start);
        return NULL;
    }
    str_split_strip(&start, &end);
    return xstrndup(start, (size_t) (end - start));
}

/* str_split_list - every item of text, NULL-terminated */
char  **str_split_list(const char *text, int *count)
{
    char  **list = xcalloc(8, sizeof(*list));
    size_t  size = 8;
    size_t  used = 0;
    const char *cp = text;
    char   *item;

    while ((item = str_split_next(&cp, NULL)) != NULL) {
        if (used + 2 > size) {
            size *= 2;
            list = xreallocarray(list, size, sizeof(*list));
        }
        list[used++] = item;
    }
    list[used] = NULL;
    if (count)
        *count = (int) used;
    return list;
}

/* str_split_free - release a str_split_list() result */
void    str_split_free(char **list)
{
    char  **cp;

    if (list == NULL)
        return;
    for (cp = list; *cp; cp++)
        xfree(*cp);
    xfree(list);
}

/* str_split_has - one item of text is word, any case */
int     str_split_has(const char *text, const char *word)
{
    const char *cp = text;
    char   *item;
    int     found = 0;

    while (!found && (item = str_split_next(&cp, NULL)) != NULL) {
        found = strcasecmp(item, word) == 0;
        xfree(item);
    }
    return found;
}
