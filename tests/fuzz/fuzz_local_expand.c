/* fuzz_local_expand - local(8)'s alias/.forward token splitter and its
 * $name expansion (local_expand.c) on text an alias table or a user's
 * .forward holds, with envelope values ($user, $extension, ...) that came
 * from outside.
 *
 * Input: NUL-separated fields: the text, then the values of home, user,
 * shell, local, domain, extension, recipient, recipient_delimiter and
 * sender (a missing field is a NULL value).
 *
 * Beyond "does not crash" it checks:
 *  - tokens: at most 1000, NULL-terminated, none empty or ending in white
 *    space; quoting every token ("..." with \" and \\) and joining them
 *    with commas and newlines parses back to the same tokens (so the
 *    splitter loses or invents nothing a quoted destination can say);
 *  - expansion with and without forward_expansion_filter succeeds or
 *    fails alike, sets the same flags and gives outputs of one length
 *    that differ only where the filtered one has '_' for a character
 *    outside the filter (the filter censors values, never adds or drops
 *    text); text without '$' expands to itself;
 *  - for each name, "$name", "${name}", "${name?x}" and "${name:x}"
 *    give the value, the value, x when the value is not empty and x when
 *    it is; and censored values hold only filter characters and '_'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "local.h"
#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)  do { if (!(cond)) __builtin_trap(); } while (0)
#define FZ_FILTER "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define FZ_NVARS        9

static const char *const fz_names[FZ_NVARS] = {
    "home", "user", "shell", "local", "domain", "extension", "recipient",
    "recipient_delimiter", "sender",
};

/* fz_check_tokens - the splitter's invariants and the quoting round trip */
static void fz_check_tokens(const char *text)
{
    char  **tokens, **again;
    int     count, count2, i;
    BUF    *joined = buf_alloc(100);
    const char *cp;
    size_t  len;

    tokens = local_tokens(text, &count);
    FZ_CHECK(count >= 0 && count <= 1000 && tokens[count] == NULL);
    for (i = 0; i < count; i++) {
        len = strlen(tokens[i]);
        FZ_CHECK(len > 0);
        FZ_CHECK(strchr(" \t\n\r\v\f", tokens[i][len - 1]) == NULL);
        buf_putc(joined, '"');
        for (cp = tokens[i]; *cp; cp++) {
            if (*cp == '"' || *cp == '\\')
                buf_putc(joined, '\\');
            buf_putc(joined, *cp);
        }
        buf_puts(joined, i % 2 ? "\"\n" : "\", ");
    }
    again = local_tokens(buf_str(joined), &count2);
    FZ_CHECK(count2 == count);
    for (i = 0; i < count; i++)
        FZ_CHECK(strcmp(tokens[i], again[i]) == 0);
    local_tokens_free(tokens);
    local_tokens_free(again);
    buf_free(joined);
}

/* fz_check_filter - expansion with and without the filter */
static void fz_check_filter(const char *text, const LOCAL_VARS *vars)
{
    BUF    *plain = buf_alloc(100), *censored = buf_alloc(100);
    BUF    *why1 = buf_alloc(100), *why2 = buf_alloc(100);
    int     rc1, rc2, fl1, fl2;
    size_t  i;

    rc1 = local_expand(text, vars, NULL, plain, &fl1, why1);
    rc2 = local_expand(text, vars, FZ_FILTER, censored, &fl2, why2);
    FZ_CHECK(rc1 == rc2);
    FZ_CHECK(rc1 == 0 || rc1 == -1);
    if (rc1 < 0) {
        FZ_CHECK(buf_len(why1) > 0 && strcmp(buf_str(why1), buf_str(why2)) == 0);
    } else {
        FZ_CHECK(fl1 == fl2);
        FZ_CHECK(buf_len(plain) == buf_len(censored));
        for (i = 0; i < buf_len(plain); i++) {
            char    p = buf_str(plain)[i], c = buf_str(censored)[i];

            FZ_CHECK(p == c || (c == '_' && strchr(FZ_FILTER, p) == NULL));
        }
        if (strchr(text, '$') == NULL)
            FZ_CHECK(strcmp(buf_str(plain), text) == 0);
    }
    buf_free(plain);
    buf_free(censored);
    buf_free(why1);
    buf_free(why2);
}

/* fz_expect - text expands to want (unfiltered) */
static void fz_expect(const char *text, const LOCAL_VARS *vars, const char *want)
{
    BUF    *out = buf_alloc(100), *why = buf_alloc(100);

    FZ_CHECK(local_expand(text, vars, NULL, out, NULL, why) == 0);
    FZ_CHECK(strcmp(buf_str(out), want) == 0);
    buf_free(out);
    buf_free(why);
}

/* fz_check_names - each name's four forms, and the censored value */
static void fz_check_names(const LOCAL_VARS *vars, const char *const *values)
{
    BUF    *text = buf_alloc(100), *out = buf_alloc(100), *why = buf_alloc(100);
    const char *v;
    int     i;

    for (i = 0; i < FZ_NVARS; i++) {
        v = values[i] ? values[i] : "";
        buf_sprintf(text, "$%s", fz_names[i]);
        fz_expect(buf_str(text), vars, v);
        buf_sprintf(text, "${%s}", fz_names[i]);
        fz_expect(buf_str(text), vars, v);
        buf_sprintf(text, "${%s?x}", fz_names[i]);
        fz_expect(buf_str(text), vars, *v ? "x" : "");
        buf_sprintf(text, "${%s:x}", fz_names[i]);
        fz_expect(buf_str(text), vars, *v ? "" : "x");
        buf_sprintf(text, "$%s", fz_names[i]);
        FZ_CHECK(local_expand(buf_str(text), vars, FZ_FILTER, out, NULL, why) == 0);
        FZ_CHECK(buf_len(out) == strlen(v));
        FZ_CHECK(strspn(buf_str(out), FZ_FILTER "_") == buf_len(out));
    }
    buf_free(text);
    buf_free(out);
    buf_free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *copy = xmalloc(size + 1);
    char   *fields[1 + FZ_NVARS] = {0};
    const char *values[FZ_NVARS];
    const char **slots[FZ_NVARS];
    LOCAL_VARS vars;
    char   *cp, *end;
    int     n, i;

    memcpy(copy, data, size);
    copy[size] = 0;
    for (cp = copy, end = copy + size, n = 0; n < 1 + FZ_NVARS; n++) {
        fields[n] = cp;
        cp += strlen(cp);
        if (cp >= end)
            break;
        cp++;
    }
    memset(&vars, 0, sizeof(vars));
    slots[0] = &vars.home;
    slots[1] = &vars.user;
    slots[2] = &vars.shell;
    slots[3] = &vars.local;
    slots[4] = &vars.domain;
    slots[5] = &vars.extension;
    slots[6] = &vars.recipient;
    slots[7] = &vars.recipient_delimiter;
    slots[8] = &vars.sender;
    for (i = 0; i < FZ_NVARS; i++)
        *slots[i] = values[i] = fields[i + 1];
    fz_check_tokens(fields[0]);
    fz_check_filter(fields[0], &vars);
    fz_check_names(&vars, values);
    xfree(copy);
    return 0;
}
