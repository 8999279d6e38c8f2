/* pipe_attr - the master.cf arguments of a pipe service, as Postfix's
 * pipe(8) takes them:
 *     flags=BDFORXhqu.>   see pipe.h; another letter is refused
 *     user=USER[:GROUP]   required; the command runs with these ids. Never
 *                         root, nor group 0; as root also never
 *                         $mail_owner (uid or group) nor $setgid_group
 *                         (Postfix refuses the same: a command must not
 *                         get the queue's rights)
 *     size=N              bounce messages larger than N bytes (5.2.3)
 *     eol=TEXT            line end (\n by default; \r\n, \t, \\, \ooo)
 *     directory=PATH      working folder of the command
 *     null_sender=TEXT    the sender <> as ${sender}, From_ and
 *                         Return-Path: (MAILER-DAEMON by default; empty
 *                         keeps it empty)
 *     argv=COMMAND ARGS   last: the command and the rest of the line,
 *                         with macros (pipe_expand.c); never a shell
 * Everything is checked once, at start-up: a mistake is fatal (logged,
 * the master throttles restarts, qmgr defers the mail), as in Postfix.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "pipe.h"

/* pipe_flags - the flags= letters; 0, or -1 with why */
static int pipe_flags(const char *text, int *flags, BUF *why)
{
    static const char letters[] = "BDFORXhqu.>";
    const char *p, *at;

    for (p = text; *p; p++) {
        if ((at = strchr(letters, *p)) == NULL) {
            buf_sprintf(why, "unknown flag \"%c\" in flags=%s", *p, text);
            return -1;
        }
        *flags |= 1 << (at - letters);
    }
    return 0;
}

/* pipe_eol - decode eol=; 0, or -1 with why */
static int pipe_eol(const char *text, char *out, BUF *why)
{
    size_t  n = 0;
    int     c, digits;

    while (*text) {
        if (n >= PIPE_EOL_MAX) {
            buf_sprintf(why, "eol= is longer than %d bytes", PIPE_EOL_MAX);
            return -1;
        }
        if (*text != '\\') {
            out[n++] = *text++;
            continue;
        }
        text++;
        switch (*text) {
        case 'n': c = '\n'; text++; break;
        case 'r': c = '\r'; text++; break;
        case 't': c = '\t'; text++; break;
        case '\\': c = '\\'; text++; break;
        default:
            for (c = 0, digits = 0; digits < 3 && *text >= '0' && *text <= '7'; digits++)
                c = c * 8 + (*text++ - '0');
            if (digits == 0 || c == 0 || c > 255) {
                buf_sprintf(why, "bad escape in eol=");
                return -1;
            }
        }
        out[n++] = (char) c;
    }
    out[n] = 0;
    if (n == 0) {
        buf_sprintf(why, "empty eol=");
        return -1;
    }
    return 0;
}

/* pipe_user - user=USER[:GROUP] into ids, with Postfix's refusals */
static int pipe_user(const char *text, PIPE_ATTR *attr, BUF *why)
{
    char   *name = xstrdup(text), *group = strchr(name, ':');
    struct passwd *pw;
    struct group *gr;
    int     ret = -1;

    if (group)
        *group++ = 0;
    if ((pw = getpwnam(name)) == NULL) {
        buf_sprintf(why, "user= names an unknown user: %s", name);
        goto out;
    }
    attr->uid = pw->pw_uid;
    attr->gid = pw->pw_gid;
    if (group) {
        if ((gr = getgrnam(group)) == NULL) {
            buf_sprintf(why, "user= names an unknown group: %s", group);
            goto out;
        }
        attr->gid = gr->gr_gid;
    }
    if (attr->uid == 0) {
        buf_sprintf(why, "user= specifies root privileges");
        goto out;
    }
    if (attr->gid == 0) {
        buf_sprintf(why, "user= specifies privileged group id 0");
        goto out;
    }
    /* Sandbox instances run everything as one user: the mail_owner checks
     * only mean something when we can change ids. */
    if (geteuid() == 0) {
        if ((pw = getpwnam(config_str(P_mail_owner))) != NULL
            && (pw->pw_uid == attr->uid || pw->pw_gid == attr->gid)) {
            buf_sprintf(why, "user= specifies the mail system owner %s or its group",
                        config_str(P_mail_owner));
            goto out;
        }
        if ((gr = getgrnam(config_str(P_setgid_group))) != NULL && gr->gr_gid == attr->gid) {
            buf_sprintf(why, "user= specifies the setgid_group %s", config_str(P_setgid_group));
            goto out;
        }
    }
    attr->user = xstrdup(name);
    ret = 0;
  out:
    xfree(name);
    return ret;
}

/* pipe_number - a non-negative decimal number */
static int pipe_number(const char *text, long *out)
{
    char   *end;

    errno = 0;
    *out = strtol(text, &end, 10);
    return (errno == 0 && end != text && *end == 0 && *out >= 0) ? 0 : -1;
}

int     pipe_attr_parse(int argc, char **argv, PIPE_ATTR *attr, BUF *why)
{
    int     i, j, have_user = 0;
    const char *arg;

    memset(attr, 0, sizeof(*attr));
    strcpy(attr->eol, "\n");
    attr->null_sender = xstrdup("MAILER-DAEMON");
    for (i = 0; i < argc; i++) {
        arg = argv[i];
        if (strncmp(arg, "argv=", 5) == 0) {
            if (argv[i][5] == 0 && i + 1 >= argc) {
                buf_sprintf(why, "argv= names no command");
                return -1;
            }
            attr->argc = argc - i - (arg[5] == 0);
            if (attr->argc > PIPE_ARGV_MAX) {
                buf_sprintf(why, "argv= has more than %d arguments", PIPE_ARGV_MAX);
                return -1;
            }
            attr->argv = xcalloc((size_t) attr->argc + 1, sizeof(char *));
            j = 0;
            if (arg[5])
                attr->argv[j++] = xstrdup(arg + 5);
            for (i++; i < argc; i++)
                attr->argv[j++] = xstrdup(argv[i]);
            break;
        } else if (strncmp(arg, "flags=", 6) == 0) {
            if (pipe_flags(arg + 6, &attr->flags, why) < 0)
                return -1;
        } else if (strncmp(arg, "user=", 5) == 0) {
            if (have_user++ || pipe_user(arg + 5, attr, why) < 0) {
                if (have_user > 1)
                    buf_sprintf(why, "user= given twice");
                return -1;
            }
        } else if (strncmp(arg, "size=", 5) == 0) {
            if (pipe_number(arg + 5, &attr->size_limit) < 0) {
                buf_sprintf(why, "bad size= value: %s", arg + 5);
                return -1;
            }
        } else if (strncmp(arg, "eol=", 4) == 0) {
            if (pipe_eol(arg + 4, attr->eol, why) < 0)
                return -1;
        } else if (strncmp(arg, "directory=", 10) == 0) {
            xfree(attr->directory);
            attr->directory = xstrdup(arg + 10);
        } else if (strncmp(arg, "null_sender=", 12) == 0) {
            xfree(attr->null_sender);
            attr->null_sender = xstrdup(arg + 12);
        } else {
            buf_sprintf(why, "unknown attribute: %s", arg);
            return -1;
        }
    }
    if (!have_user) {
        buf_sprintf(why, "missing user= attribute");
        return -1;
    }
    if (attr->argv == NULL) {
        buf_sprintf(why, "missing argv= attribute");
        return -1;
    }
    return pipe_expand_check(attr->argc, attr->argv, why);
}

void    pipe_attr_free(PIPE_ATTR *attr)
{
    int     i;

    for (i = 0; attr->argv && i < attr->argc; i++)
        xfree(attr->argv[i]);
    xfree(attr->argv);
    xfree(attr->user);
    xfree(attr->directory);
    xfree(attr->null_sender);
    memset(attr, 0, sizeof(*attr));
}
