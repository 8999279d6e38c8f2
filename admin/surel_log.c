/*
 * NAME
 *      surel log - log lines as the mail system does (Postfix's postlog)
 * SYNOPSIS
 *      surel [-c config_dir] log [-p priority] [-t tag] [text ...]
 *      postlog [-iv] [-c config_dir] [-p priority] [-t tag] [text ...]
 * DESCRIPTION
 *      Logs the text as one line, or, without text, each line of standard
 *      input as one line, where the mail system logs: through postlogd
 *      (public/$postlog_service_name) when maillog_file is set and the
 *      socket can be reached, else maillog_file directly when the caller
 *      may write it, else syslog; and on standard error. The line reads
 *      "$syslog_name/postlog[pid]: text" ("postfix/postlog" with
 *      syslog_name = postfix), or "TAG[pid]: text" with -t TAG. priority
 *      is info (default), warn (or warning), error, fatal or panic; all
 *      but info put "warning: ", "error: ", "fatal: " or "panic: " before
 *      the text, as Postfix does. -i and -v (postlog's) are accepted and
 *      ignored. Lines longer than 4096 bytes are cut.
 * SECURITY
 *      Runs with the caller's rights (the set-gid right is given up: XXX
 *      Postfix >= 3.7 makes postlog set-gid so that any user reaches
 *      postlogd; here a user outside setgid_group logs to syslog and
 *      stderr). The text is made printable by msg.c like every log line.
 * EXIT STATUS
 *      0; 2 for a usage error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "maillog.h"
#include "msg.h"
#include "surel.h"

#define LOG_TEXT_MAX    4096            /* bytes of one line, as msg.c */

/* log_severity - the msg.c severity and text prefix of a priority name;
 * -1 for an unknown name */
static int log_severity(const char *name, const char **prefix)
{
    *prefix = "";
    if (strcmp(name, "info") == 0)
        return MSG_INFO;
    if (strcmp(name, "warn") == 0 || strcmp(name, "warning") == 0)
        return MSG_WARN;
    if (strcmp(name, "error") == 0) {
        *prefix = "error: ";            /* msg.c has no error severity */
        return MSG_INFO;
    }
    if (strcmp(name, "fatal") == 0)
        return MSG_FATAL;
    if (strcmp(name, "panic") == 0)
        return MSG_PANIC;
    return -1;
}

/* log_one - one line, never exiting (msg_vlog, not msg_fatal) */
static void __attribute__((format(printf, 2, 3))) log_one(int severity, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    msg_vlog(severity, fmt, ap);
    va_end(ap);
}

/* log_tag - name lines "TAG[pid]" (TAG may hold slashes: prefix/name) */
static void log_tag(const char *tag)
{
    const char *slash = strrchr(tag, '/');
    char    prefix[128];

    msg_init(tag, MSG_TO_STDERR | MSG_TO_SYSLOG);
    if (slash == NULL) {
        msg_set_name("");
        return;
    }
    snprintf(prefix, sizeof(prefix), "%.*s", (int) (slash - tag), tag);
    msg_set_name(prefix);
}

/* surel_log_main - the `surel log` verb */
int surel_log_main(int argc, char **argv)
{
    const char *priority = "info";
    const char *tag = NULL;
    const char *prefix;
    char    line[LOG_TEXT_MAX + 2];
    BUF    *text;
    int     severity;
    int     ch;
    int     i;

    while ((ch = getopt(argc, argv, "+p:t:")) != -1) {
        switch (ch) {
        case 'p':
            priority = optarg;
            break;
        case 't':
            tag = optarg;
            break;
        default:
            fprintf(stderr, "usage: surel log [-p priority] [-t tag] [text ...]\n");
            return 2;
        }
    }
    if ((severity = log_severity(priority, &prefix)) < 0) {
        fprintf(stderr, "surel log: unknown priority '%s' (info, warn, error, fatal, panic)\n",
                priority);
        return 2;
    }
    config_init(surel_config_dir);
    if (tag && *tag) {
        log_tag(tag);
    } else {
        msg_init("postlog", MSG_TO_STDERR | MSG_TO_SYSLOG);
        msg_set_name(config_str(P_syslog_name));
    }
    (void) maillog_client(1);
    if (optind < argc) {
        text = buf_alloc(100);
        for (i = optind; i < argc; i++)
            buf_printf(text, "%s%s", i > optind ? " " : "", argv[i]);
        log_one(severity, "%s%.*s", prefix, LOG_TEXT_MAX, buf_str(text));
        buf_free(text);
        return 0;
    }
    while (fgets(line, sizeof(line), stdin) != NULL) {
        size_t  len = strlen(line);
        int     c;

        if (len > 0 && line[len - 1] == '\n')
            line[--len] = 0;
        else if (len == sizeof(line) - 1)   /* cut: skip the rest of the line */
            while ((c = getchar()) != EOF && c != '\n')
                 /* void */ ;
        log_one(severity, "%s%s", prefix, line);
    }
    return 0;
}
