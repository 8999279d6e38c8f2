/* sendmail_args - the sendmail command line: options, modes, addresses.
 *
 * Postfix's sendmail(1) flag set: what real programs pass is accepted, what
 * makes no sense here is accepted and ignored the way Postfix ignores it,
 * and anything else is a usage error (EX_USAGE), never a silent surprise.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dsn.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"

#define SM_OPTIONS  "+B:C:F:GIL:N:O:R:UV:X:b:c:e:f:h:imno:p:q::r:tvx"

/* sm_parse_notify - -N never | success,delay,failure (dsn.c's grammar,
 * the one smtpd and -bs use for NOTIFY=) */
static int sm_parse_notify(const char *text, int *bits, BUF *why)
{
    if ((*bits = dsn_notify_parse(text, strlen(text))) == 0) {
        buf_sprintf(why, "-N: bad DSN notification \"%s\"", text);
        return -1;
    }
    return 0;
}

/* sm_check_envid - -V is the decoded envelope ID, as the queue keeps it
 * (dsn.c: what smtpd and -bs accept after xtext decoding, and what the
 * maildrop check lets through), so a bad value is a usage error before
 * postdrop starts rather than a refused submission after the message */
static int sm_check_envid(const char *envid, BUF *why)
{
    if (!dsn_envid_ok(envid, strlen(envid))) {
        buf_sprintf(why, "-V: bad envelope ID \"%.100s\" (1 to %d printable ASCII characters)",
                    envid, DSN_ENVID_MAX);
        return -1;
    }
    return 0;
}

/* sm_parse_b - the -b mode letter */
static int sm_parse_b(const char *arg, SM_ARGS *args, BUF *why)
{
    if (strcmp(arg, "m") == 0)
        args->mode = SM_MODE_DELIVER;
    else if (strcmp(arg, "s") == 0)
        args->mode = SM_MODE_SMTP;
    else if (strcmp(arg, "p") == 0)
        args->mode = SM_MODE_MAILQ;
    else if (strcmp(arg, "i") == 0)
        args->mode = SM_MODE_NEWALIASES;
    else if (strcmp(arg, "v") == 0)
        args->mode = SM_MODE_VERIFY;
    else {
        buf_sprintf(why, "-b%s: unsupported mode (use surel start for the daemons)", arg);
        return -1;
    }
    return 0;
}

/* sm_parse_o - -o letter[value]: -oi is -i, -oA names the alias file,
 * the rest (delivery mode, error mode, -om, -o7, -o8...) is ignored */
static void sm_parse_o(const char *arg, SM_ARGS *args)
{
    if (strcmp(arg, "i") == 0)
        args->dot_ends = 0;
    else if (arg[0] == 'A' && arg[1] != 0)
        args->alias_file = arg + 1;
}

/* sm_parse_args - argv into args; -1 with why for a usage error */
int sm_parse_args(int argc, char **argv, SM_ARGS *args, BUF *why)
{
    const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
    int     ch;
    int     code;

    memset(args, 0, sizeof(*args));
    args->mode = SM_MODE_DELIVER;
    args->dot_ends = 1;
    if (strcmp(name, "mailq") == 0)
        args->mode = SM_MODE_MAILQ;
    else if (strcmp(name, "newaliases") == 0)
        args->mode = SM_MODE_NEWALIASES;

    optind = 1;
    opterr = 0;
    while ((ch = getopt(argc, argv, SM_OPTIONS)) != -1) {
        switch (ch) {
        case 'B':
            if ((code = dsn_body_parse(optarg, strlen(optarg))) != 0)
                args->encoding = dsn_body_str(code);
            else {
                buf_sprintf(why, "-B: expected 8BITMIME or 7BIT, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'C':
        case 'c':
            args->config_dir = optarg;
            break;
        case 'F':
            args->fullname = optarg;
            break;
        case 'I':
            args->mode = SM_MODE_NEWALIASES;
            break;
        case 'N':
            if (sm_parse_notify(optarg, &args->dsn_notify, why) < 0)
                return -1;
            break;
        case 'R':
            if ((code = dsn_ret_parse(optarg, strlen(optarg))) != 0)
                args->dsn_ret = dsn_ret_str(code);
            else {
                buf_sprintf(why, "-R: expected hdrs or full, not \"%s\"", optarg);
                return -1;
            }
            break;
        case 'V':
            if (sm_check_envid(optarg, why) < 0)
                return -1;
            args->envid = optarg;
            break;
        case 'b':
            if (sm_parse_b(optarg, args, why) < 0)
                return -1;
            break;
        case 'f':
        case 'r':
            args->sender = optarg;
            break;
        case 'i':
            args->dot_ends = 0;
            break;
        case 'o':
            sm_parse_o(optarg, args);
            break;
        case 'q':
            /* -q: flush now. -q<interval> (a daemon's queue run interval)
             * is ignored as Postfix ignores it; -qR<site>, -qI<id> flush
             * the whole queue (a superset of what was asked). */
            if (optarg == NULL || optarg[0] == 'R' || optarg[0] == 'I' || optarg[0] == 'S')
                args->mode = SM_MODE_FLUSH;
            break;
        case 't':
            args->extract = 1;
            break;
        case 'v':
            args->verbose++;
            break;
        case 'G': case 'L': case 'O': case 'U': case 'X': case 'e': case 'h':
        case 'm': case 'n': case 'p': case 'x':
            break;                      /* accepted and ignored, as Postfix does */
        default:
            buf_sprintf(why, "unknown option or missing argument: -%c", optopt ? optopt : '?');
            return -1;
        }
    }
    args->nrcpt_args = argc - optind;
    args->rcpt_args = argv + optind;
    return 0;
}

/* sm_clean_address - one address as a user types it ("<a@b>", "a@b",
 * "Name <a@b>" already reduced by the caller) into the internal form */
int sm_clean_address(const char *text, BUF *addr, int allow_empty, BUF *why)
{
    const char *start = text;
    const char *end = text + strlen(text);

    while (start < end && isspace((unsigned char) *start))
        start++;
    while (end > start && isspace((unsigned char) end[-1]))
        end--;
    if (end - start >= 2 && *start == '<' && end[-1] == '>') {
        start++;
        end--;
    }
    buf_reset(addr);
    buf_append(addr, start, (size_t) (end - start));
    if (maildrop_address_check(buf_str(addr), buf_len(addr), allow_empty, why) < 0) {
        BUF    *tmp = buf_alloc(100);

        buf_sprintf(tmp, "bad address syntax: \"%s\": %s", text, buf_str(why));
        buf_set(why, buf_str(tmp));
        buf_free(tmp);
        return -1;
    }
    return 0;
}

/* sm_next_item - the next comma-separated item of an address list, with
 * quoted strings, <...> and (comments) kept whole; the address in it */
static const char *sm_next_item(const char *cp, BUF *item)
{
    int     quoted = 0;
    int     angle = 0;
    int     comment = 0;
    const char *lt = NULL;
    const char *gt = NULL;
    const char *start = cp;

    buf_reset(item);
    for (; *cp; cp++) {
        if (quoted) {
            if (*cp == '\\' && cp[1])
                cp++;
            else if (*cp == '"')
                quoted = 0;
        } else if (comment) {
            if (*cp == ')')
                comment--;
        } else if (*cp == '"') {
            quoted = 1;
        } else if (*cp == '(') {
            comment++;
        } else if (*cp == '<') {
            angle++;
            lt = cp;
        } else if (*cp == '>') {
            angle--;
            if (gt == NULL)
                gt = cp;
        } else if (*cp == ',' && angle <= 0) {
            break;
        }
    }
    if (lt && gt && gt > lt) {
        buf_append(item, lt, (size_t) (gt - lt + 1));   /* "Name <a@b>": the <a@b> */
    } else {
        /* Drop (comments) outside quotes: "bob@example.org (Bob)". */
        const char *p;
        int     depth = 0;

        for (p = start; p < cp; p++) {
            if (*p == '(')
                depth++;
            else if (*p == ')' && depth > 0)
                depth--;
            else if (depth == 0)
                buf_putc(item, *p);
        }
    }
    return *cp == ',' ? cp + 1 : cp;
}

/* sm_parse_addresses - every address in a comma-separated list, checked;
 * appended to *list. -1 with why at the first bad one. */
int sm_parse_addresses(const char *text, char ***list, int *count, BUF *why)
{
    BUF    *item = buf_alloc(100);
    BUF    *addr = buf_alloc(100);
    const char *cp = text;
    int     result = 0;

    while (*cp) {
        cp = sm_next_item(cp, item);
        buf_trim_right(item);
        if (strspn(buf_str(item), " \t") == buf_len(item))
            continue;                   /* empty item: "a, , b" */
        if (sm_clean_address(buf_str(item), addr, 0, why) < 0) {
            result = -1;
            break;
        }
        if (*count >= MAILDROP_RCPT_MAX) {
            buf_set(why, "too many recipients");
            result = -1;
            break;
        }
        *list = xreallocarray(*list, (size_t) *count + 1, sizeof(char *));
        (*list)[(*count)++] = xstrdup(buf_str(addr));
    }
    buf_free(item);
    buf_free(addr);
    return result;
}

/* sm_free_addresses - release what sm_parse_addresses made */
void sm_free_addresses(char **list, int count)
{
    int     i;

    for (i = 0; i < count; i++)
        xfree(list[i]);
    xfree(list);
}
