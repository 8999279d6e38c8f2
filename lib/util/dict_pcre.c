/* dict_pcre - pcre:/file tables in Postfix's pcre_table(5) format.
 *
 * Each logical line is one rule, tried in order; the first that applies
 * gives the result:
 *     /pattern/flags result       the key matches pattern
 *     !/pattern/flags result      the key does not match (no $n in result)
 *     if /pattern/flags           rules up to the matching endif apply only
 *     if !/pattern/flags          when the key matches (does not match)
 *     endif
 * Any non-space, non-alphanumeric character may delimit a pattern; a
 * backslash escapes it inside. Flags toggle PCRE2 options from Postfix's
 * defaults (case-insensitive and dot-matches-newline on): i caseless,
 * m multiline, s dotall, x extended, A anchored, E dollar-end-only,
 * U ungreedy; X (PCRE_EXTRA) is obsolete under PCRE2, which always rejects
 * unknown escapes, and is ignored with a warning. In the result, $1..$n,
 * ${n} and $(n) are replaced by the captured text (empty when the group did
 * not take part) and $$ stands for one $.
 *
 * A rule that cannot be used (bad pattern, unknown flag, a $n beyond the
 * pattern's groups, $n after a negation) is warned about with file and line
 * and skipped, as Postfix does. Deliberate difference: a broken `if` is not
 * dropped (which would let the rules it guards apply to every key); it is
 * kept as a condition that never holds, so its block is skipped.
 *
 * Keys are matched as given, never folded: case is the pattern's business.
 * A matching error (resource limit, bad UTF-8 under (*UTF)) is warned about
 * and the rule treated as not applying, as Postfix does.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <ctype.h>
#include <pcre2.h>
#include <string.h>
#include <strings.h>

#include "dict.h"
#include "mem.h"
#include "msg.h"

#define PCRE_RULES_MAX  100000          /* rules in one table */

typedef enum {
    PCRE_OP_MATCH, PCRE_OP_IF, PCRE_OP_ENDIF
} PCRE_OP;

/* One rule of the table. */
typedef struct PCRE_RULE {
    PCRE_OP op;
    int     lineno;                     /* source line, for warnings */
    pcre2_code *re;                     /* NULL: an if that never holds */
    int     match;                      /* 1: applies on match; 0: on no match */
    char   *result;                     /* MATCH: replacement text */
    int     has_subst;                  /* result holds $n (else $$ already undone) */
    size_t  endif;                      /* IF: index of its endif, or the rule count */
} PCRE_RULE;

typedef struct PCRE_PRIV {
    PCRE_RULE *rules;
    size_t  count;
    size_t  size;
    const char *path;                   /* while loading */
    size_t *stack;                      /* while loading: open ifs */
    size_t  depth;
    uint32_t max_groups;                /* largest capture count */
    pcre2_match_data *md;               /* shared by every rule */
    int     last_rc;                    /* pcre2_match() result of the last match */
} PCRE_PRIV;

 /*
  * Replacement text: one walker both checks it at load time (out == NULL)
  * and expands it at lookup time.
  */
typedef struct PCRE_SUBST {
    const char *subject;                /* the key, at lookup */
    PCRE2_SIZE *ov;                     /* its match offsets */
    uint32_t pairs;                     /* pairs in ov that were set */
    size_t  max_index;                  /* out: largest $n seen */
    const char *err;                    /* out: what is wrong */
} PCRE_SUBST;

/* pcre_subst - check or expand $n, ${n}, $(n) and $$; -1 on bad syntax */
static int pcre_subst(const char *text, BUF *out, PCRE_SUBST *ps)
{
    const char *cp;
    const char *name;
    size_t  len;
    size_t  n;
    char    close;

    for (cp = text; *cp; cp++) {
        if (*cp != '$') {
            if (out)
                buf_putc(out, *cp);
            continue;
        }
        cp++;
        if (*cp == '$') {
            if (out)
                buf_putc(out, '$');
            continue;
        }
        if (*cp == '{' || *cp == '(') {
            close = *cp == '{' ? '}' : ')';
            name = ++cp;
            while (*cp && *cp != close)
                cp++;
            if (*cp == 0) {
                ps->err = "missing closing bracket";
                return -1;
            }
            len = (size_t) (cp - name);
        } else {
            name = cp;
            while (isalnum((unsigned char) *cp) || *cp == '_')
                cp++;
            len = (size_t) (cp - name);
            cp--;
        }
        if (len == 0 || strspn(name, "0123456789") < len) {
            ps->err = len == 0 ? "$ without a number (write $$ for a $)"
                : "non-numeric replacement index";
            return -1;
        }
        if (len > 4 || (n = strtoul(name, NULL, 10)) < 1) {
            ps->err = "out of range replacement index";
            return -1;
        }
        if (n > ps->max_index)
            ps->max_index = n;
        if (out && n < ps->pairs && ps->ov[2 * n] != PCRE2_UNSET)
            buf_append(out, ps->subject + ps->ov[2 * n],
                       ps->ov[2 * n + 1] - ps->ov[2 * n]);
    }
    return 0;
}

/* pcre_get_pattern - parse [!...]<d>pattern<d>flags; compile; 0 or -1 (warned) */
static int pcre_get_pattern(PCRE_PRIV *priv, int lineno, char **cpp,
                            pcre2_code **rep, int *match)
{
    char   *cp = *cpp;
    char   *pattern;
    char    delim;
    uint32_t options = PCRE2_CASELESS | PCRE2_DOTALL;
    PCRE2_SIZE erroff;
    int     errcode;
    PCRE2_UCHAR errtext[256];

    *match = 1;
    for (; *cp == '!' || isspace((unsigned char) *cp); cp++)
        if (*cp == '!')
            *match = !*match;
    if (*cp == 0) {
        msg_warn("pcre:%s, line %d: no pattern: skipping this rule", priv->path, lineno);
        return -1;
    }
    delim = *cp++;
    pattern = cp;
    for (; *cp && *cp != delim; cp++)
        if (*cp == '\\' && cp[1])
            cp++;
    if (*cp == 0) {
        msg_warn("pcre:%s, line %d: no closing pattern delimiter \"%c\": "
                 "skipping this rule", priv->path, lineno, delim);
        return -1;
    }
    *cp++ = 0;
    for (; *cp && !isspace((unsigned char) *cp); cp++) {
        switch (*cp) {
        case 'i':
            options ^= PCRE2_CASELESS;
            break;
        case 'm':
            options ^= PCRE2_MULTILINE;
            break;
        case 's':
            options ^= PCRE2_DOTALL;
            break;
        case 'x':
            options ^= PCRE2_EXTENDED;
            break;
        case 'A':
            options ^= PCRE2_ANCHORED;
            break;
        case 'E':
            options ^= PCRE2_DOLLAR_ENDONLY;
            break;
        case 'U':
            options ^= PCRE2_UNGREEDY;
            break;
        case 'X':
            msg_warn("pcre:%s, line %d: ignoring obsolete flag \"X\" "
                     "(PCRE2 always rejects unknown escapes)", priv->path, lineno);
            break;
        default:
            msg_warn("pcre:%s, line %d: unknown flag \"%c\": skipping this rule",
                     priv->path, lineno, *cp);
            return -1;
        }
    }
    *cpp = cp;
    *rep = pcre2_compile((PCRE2_SPTR) pattern, PCRE2_ZERO_TERMINATED, options,
                         &errcode, &erroff, NULL);
    if (*rep == NULL) {
        if (pcre2_get_error_message(errcode, errtext, sizeof(errtext)) < 0)
            strcpy((char *) errtext, "unknown error");
        msg_warn("pcre:%s, line %d: error in pattern at offset %zu: %s: "
                 "skipping this rule", priv->path, lineno, (size_t) erroff,
                 (char *) errtext);
        return -1;
    }
    return 0;
}

/* pcre_add - append a rule */
static PCRE_RULE *pcre_add(PCRE_PRIV *priv, PCRE_OP op, int lineno)
{
    PCRE_RULE *rule;

    if (priv->count == priv->size) {
        priv->size = priv->size ? 2 * priv->size : 16;
        priv->rules = xreallocarray(priv->rules, priv->size, sizeof(*rule));
    }
    rule = priv->rules + priv->count++;
    memset(rule, 0, sizeof(*rule));
    rule->op = op;
    rule->lineno = lineno;
    return rule;
}

/* pcre_parse_match - a /pattern/flags result rule */
static void pcre_parse_match(PCRE_PRIV *priv, char *cp, int lineno)
{
    PCRE_SUBST ps = {NULL, NULL, 0, 0, NULL};
    PCRE_RULE *rule;
    pcre2_code *re;
    uint32_t groups = 0;
    int     match;
    BUF    *literal;

    if (pcre_get_pattern(priv, lineno, &cp, &re, &match) < 0)
        return;
    while (isspace((unsigned char) *cp))
        cp++;
    if (*cp == 0)
        msg_warn("pcre:%s, line %d: no result text: using an empty string",
                 priv->path, lineno);
    if (pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups) != 0)
        groups = 0;
    if (pcre_subst(cp, NULL, &ps) < 0) {
        msg_warn("pcre:%s, line %d: bad result text: %s: skipping this rule",
                 priv->path, lineno, ps.err);
    } else if (ps.max_index > 0 && !match) {
        msg_warn("pcre:%s, line %d: $number found in negative match result: "
                 "skipping this rule", priv->path, lineno);
    } else if (ps.max_index > groups) {
        msg_warn("pcre:%s, line %d: out of range replacement index \"%zu\" "
                 "(the pattern has %u groups): skipping this rule",
                 priv->path, lineno, ps.max_index, (unsigned) groups);
    } else {
        rule = pcre_add(priv, PCRE_OP_MATCH, lineno);
        rule->re = re;
        rule->match = match;
        rule->has_subst = ps.max_index > 0;
        if (rule->has_subst) {
            rule->result = xstrdup(cp);
        } else {                        /* undo $$ once, here */
            literal = buf_alloc(strlen(cp) + 1);
            (void) pcre_subst(cp, literal, &ps);
            rule->result = buf_steal(literal);
        }
        if (groups > priv->max_groups)
            priv->max_groups = groups;
        return;
    }
    pcre2_code_free(re);
}

/* pcre_parse_if - if /pattern/flags; a broken one never holds */
static void pcre_parse_if(PCRE_PRIV *priv, char *cp, int lineno)
{
    PCRE_RULE *rule;
    pcre2_code *re = NULL;
    int     match = 1;

    if (pcre_get_pattern(priv, lineno, &cp, &re, &match) < 0) {
        msg_warn("pcre:%s, line %d: the rules up to the matching endif are skipped",
                 priv->path, lineno);
    } else {
        while (isspace((unsigned char) *cp))
            cp++;
        if (*cp)
            msg_warn("pcre:%s, line %d: ignoring extra text after if: \"%s\"",
                     priv->path, lineno, cp);
    }
    rule = pcre_add(priv, PCRE_OP_IF, lineno);
    rule->re = re;
    rule->match = match;
    rule->endif = PCRE_RULES_MAX;       /* until its endif is seen */
    /* The stack grows with the ifs, which are bounded by PCRE_RULES_MAX. */
    priv->stack = xreallocarray(priv->stack, priv->depth + 1, sizeof(*priv->stack));
    priv->stack[priv->depth++] = priv->count - 1;
}

/* pcre_parse_endif - close the innermost if */
static void pcre_parse_endif(PCRE_PRIV *priv, char *cp, int lineno)
{
    if (priv->depth == 0) {
        msg_warn("pcre:%s, line %d: ignoring endif without matching if",
                 priv->path, lineno);
        return;
    }
    while (isspace((unsigned char) *cp))
        cp++;
    if (*cp)
        msg_warn("pcre:%s, line %d: ignoring extra text after endif", priv->path, lineno);
    (void) pcre_add(priv, PCRE_OP_ENDIF, lineno);
    priv->rules[priv->stack[--priv->depth]].endif = priv->count - 1;
}

/* pcre_line - one logical line of the table */
static int pcre_line(char *line, int lineno, void *ctx)
{
    PCRE_PRIV *priv = ctx;

    if (priv->count >= PCRE_RULES_MAX) {
        msg_warn("pcre:%s, line %d: more than %d rules: ignoring the rest",
                 priv->path, lineno, PCRE_RULES_MAX);
        return 0;
    }
    if (!isalnum((unsigned char) *line))
        pcre_parse_match(priv, line, lineno);
    else if (strncasecmp(line, "if", 2) == 0 && !isalnum((unsigned char) line[2]))
        pcre_parse_if(priv, line + 2, lineno);
    else if (strncasecmp(line, "endif", 5) == 0 && !isalnum((unsigned char) line[5]))
        pcre_parse_endif(priv, line + 5, lineno);
    else
        msg_warn("pcre:%s, line %d: ignoring unrecognized line", priv->path, lineno);
    return 0;
}

/* pcre_free_priv - release rules and match data */
static void pcre_free_priv(PCRE_PRIV *priv)
{
    size_t  i;

    for (i = 0; i < priv->count; i++) {
        if (priv->rules[i].re)
            pcre2_code_free(priv->rules[i].re);
        xfree(priv->rules[i].result);
    }
    if (priv->md)
        pcre2_match_data_free(priv->md);
    xfree(priv->stack);
    xfree(priv->rules);
    xfree(priv);
}

/* pcre_open - read and compile the rules; bad rules are warned and skipped */
static DICT *pcre_open(const char *name, int flags, BUF *why)
{
    PCRE_PRIV *priv = xcalloc(1, sizeof(*priv));
    DICT   *dict;
    size_t  i;

    priv->path = name;
    if (dict_read_lines(name, pcre_line, priv, why) < 0) {
        pcre_free_priv(priv);
        return NULL;
    }
    for (i = 0; i < priv->count; i++) {
        if (priv->rules[i].op == PCRE_OP_IF && priv->rules[i].endif == PCRE_RULES_MAX) {
            msg_warn("pcre:%s, line %d: if has no matching endif",
                     name, priv->rules[i].lineno);
            priv->rules[i].endif = priv->count;
        }
    }
    priv->path = NULL;
    xfree(priv->stack);
    priv->stack = NULL;
    priv->md = pcre2_match_data_create(priv->max_groups + 1, NULL);
    if (priv->md == NULL)
        msg_fatal("pcre:%s: out of memory for match data", name);
    /* Matching is the pattern's business: keys are never folded. */
    dict = dict_alloc(&dict_pcre_type, name, flags | DICT_FLAG_FIXED_CASE);
    dict->priv = priv;
    return dict;
}

/* pcre_applies - does the rule apply to the key? Errors: warn, "no" */
static int pcre_applies(DICT *dict, const PCRE_RULE *rule, const char *key, size_t len)
{
    PCRE_PRIV *priv = dict->priv;
    PCRE2_UCHAR errtext[256];
    int     rc;

    if (rule->re == NULL)
        return 0;
    rc = pcre2_match(rule->re, (PCRE2_SPTR) key, len, 0, 0, priv->md, NULL);
    priv->last_rc = rc;
    if (rc >= 0)
        return rule->match;
    if (rc == PCRE2_ERROR_NOMATCH)
        return !rule->match;
    if (pcre2_get_error_message(rc, errtext, sizeof(errtext)) < 0)
        strcpy((char *) errtext, "unknown error");
    msg_warn("pcre:%s, line %d: matching error: %s", dict->name, rule->lineno,
             (char *) errtext);
    return 0;
}

/* pcre_lookup - the result of the first rule that applies */
static DICT_STATUS pcre_lookup(DICT *dict, const char *key, BUF *result, BUF *why)
{
    PCRE_PRIV *priv = dict->priv;
    PCRE_SUBST ps = {key, NULL, 0, 0, NULL};
    const PCRE_RULE *rule;
    size_t  len = strlen(key);
    size_t  i;

    for (i = 0; i < priv->count; i++) {
        rule = priv->rules + i;
        switch (rule->op) {
        case PCRE_OP_IF:
            if (!pcre_applies(dict, rule, key, len))
                i = rule->endif;        /* continue after the endif */
            break;
        case PCRE_OP_ENDIF:
            break;
        case PCRE_OP_MATCH:
            if (!pcre_applies(dict, rule, key, len))
                break;
            if (!rule->has_subst) {
                buf_set(result, rule->result);
                return DICT_FOUND;
            }
            ps.ov = pcre2_get_ovector_pointer(priv->md);
            /* Only the first last_rc pairs are set (0: the ovector was
             * too small, which the sizing at open rules out). */
            ps.pairs = priv->last_rc > 0 ? (uint32_t) priv->last_rc : 0;
            (void) pcre_subst(rule->result, result, &ps);
            return DICT_FOUND;
        }
    }
    return DICT_NOTFOUND;
}

/* pcre_close - release rules and match data */
static void pcre_close(DICT *dict)
{
    pcre_free_priv(dict->priv);
    dict_free(dict);
}

const DICT_TYPE dict_pcre_type = {
    "pcre", pcre_open, pcre_lookup, pcre_close, NULL, NULL, "", NULL,
};
