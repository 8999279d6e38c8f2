/* str_split - the one list splitter every list-valued setting uses.
 *
 * Postfix's rule (util/mystrtok.c mystrtokq() with CHARS_COMMA_SP and "{}",
 * then extpar() on an item that starts with '{'):
 *   - items are separated by runs of commas and white space; there are no
 *     empty items;
 *   - text between balanced { } is never split, so `inline:{a=1, b=2}` and
 *     `check_policy_service { inet:host:port, timeout=10s }` keep their
 *     inner commas;
 *   - an item that is exactly one { ... } group loses the braces and the
 *     white space just inside them (`{ x y }` is the item `x y`); braces
 *     elsewhere in an item belong to it;
 *   - a '{' that is never closed makes the rest of the text one item, as
 *     mystrtokq() does; str_split_next() reports that as an error when the
 *     caller passes a why buffer (tables refuse it), str_split_list()
 *     accepts it (main.cf lists are read as Postfix reads them).
 * A stray '}' outside any group is an ordinary character.
 *     const char *cp = text;
 *     while ((item = str_split_next(&cp, why)) != NULL) { ...; xfree(item); }
 */
#ifndef SUREL_STR_SPLIT_H
#define SUREL_STR_SPLIT_H

#include "buf.h"

/* The next item (a new string), or NULL at the end; NULL with why set when
 * why is not NULL and a '{' is not closed. *cpp moves past the item. */
char   *str_split_next(const char **cpp, BUF *why);

/* Every item, NULL-terminated; count (may be NULL) gets how many. */
char  **str_split_list(const char *text, int *count);
void    str_split_free(char **list);

/* True when one item of text equals word, ignoring case (Postfix compares
 * option words such as noplaintext and login names that way). */
int     str_split_has(const char *text, const char *word);

#endif
