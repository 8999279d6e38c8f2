/* sendmail_modes - the sendmail modes that are other commands' work.
 *
 * mailq (-bp) and -q run the admin command's queue verbs, as Postfix's
 * sendmail runs postqueue, so that both print and do exactly the same;
 * newaliases (-bi) runs `surel map build -a` over $alias_database. Each
 * is an exec with a fixed argv: no shell, nothing interpolated.
 * -bv reports, per recipient, the address as it would be queued and the
 * transport it resolves to by the main.cf rules (mydestination,
 * transport_maps, relay_domains, relayhost, default_transport), without
 * sending anything; an address that resolves to the error transport, or
 * a local address no local_recipient_maps table knows (lib/global/
 * local_rcpt.c, smtpd's rule), is reported undeliverable (exit EX_NOUSER).
 * XXX Postfix's -bv sends a probe through the queue and mails a report;
 * ours answers at once, from the same rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "dict.h"
#include "local_rcpt.h"
#include "mem.h"
#include "resolve.h"
#include "sendmail.h"

#define SM_SUREL_ARGV_MAX   64

/* sm_run_surel - exec $command_directory/surel [-c dir] verb...; returns
 * only when the exec failed */
int sm_run_surel(const SM_ARGS *args, const char *const *verb)
{
    const char *argv[SM_SUREL_ARGV_MAX + 4];
    BUF    *path = buf_alloc(100);
    const char *env = getenv("SUREL_COMMAND");   /* tests: the build's surel */
    int     n = 0;
    int     i;

    if (env && *env)
        buf_set(path, env);
    else
        buf_sprintf(path, "%s/surel", config_str(P_command_directory));
    argv[n++] = "surel";
    if (args->config_dir) {
        argv[n++] = "-c";
        argv[n++] = args->config_dir;
    }
    for (i = 0; verb[i] && i < SM_SUREL_ARGV_MAX; i++)
        argv[n++] = verb[i];
    argv[n] = NULL;
    fflush(stdout);
    execv(buf_str(path), (char *const *) argv);
    fprintf(stderr, "sendmail: cannot run %s: %s\n", buf_str(path), strerror(errno));
    buf_free(path);
    return EX_UNAVAILABLE;
}

/* sm_mailq - -bp, mailq: surel queue list */
int sm_mailq(const SM_ARGS *args)
{
    static const char *const verb[] = {"queue", "list", NULL};

    return sm_run_surel(args, verb);
}

/* sm_flush - -q: surel queue flush */
int sm_flush(const SM_ARGS *args)
{
    static const char *const verb[] = {"queue", "flush", NULL};

    return sm_run_surel(args, verb);
}

/* sm_newaliases - -bi, newaliases: surel map build -a TABLE... for each
 * table of $alias_database (or the -oA file) */
int sm_newaliases(const SM_ARGS *args)
{
    const char *verb[SM_SUREL_ARGV_MAX + 1];
    char  **tables;
    int     count;
    int     n = 0;
    int     i;
    int     status;

    tables = config_split_list(args->alias_file ? args->alias_file
                               : config_str(P_alias_database), &count);
    verb[n++] = "map";
    verb[n++] = "build";
    verb[n++] = "-a";
    for (i = 0; i < count && n < SM_SUREL_ARGV_MAX; i++)
        verb[n++] = tables[i];
    verb[n] = NULL;
    if (count == 0) {
        config_free_list(tables);
        return 0;                       /* no alias database: nothing to do */
    }
    status = sm_run_surel(args, verb);
    config_free_list(tables);
    return status;
}

#define SM_VERIFY_OK    0
#define SM_VERIFY_BAD   1
#define SM_VERIFY_LATER 2

/* sm_resolve - what delivery would do with one recipient, by the
 * resolver qmgr uses (lib/global/resolve.c) and the local recipient rule
 * smtpd uses (lib/global/local_rcpt.c), without a running system:
 * SM_VERIFY_OK with "transport:nexthop" in text, SM_VERIFY_BAD with the
 * reason (an error: transport, an unknown local user), or SM_VERIFY_LATER
 * with why (a table lookup failed). */
static int sm_resolve(const char *rcpt, BUF *text, BUF *why)
{
    static RESOLVER *resolver;
    RESOLVE_REPLY *reply;
    int     ret = SM_VERIFY_LATER;

    if (resolver == NULL && (resolver = resolve_open(why)) == NULL)
        return SM_VERIFY_LATER;
    reply = resolve_reply_alloc();
    if (resolve_addr(resolver, rcpt, reply, why) != RESOLVE_OK)
        goto out;
    if (strcmp(buf_str(reply->transport), "error") == 0) {
        buf_sprintf(text, "%s", buf_len(reply->nexthop) ? buf_str(reply->nexthop)
                    : "mail for this address is not deliverable");
        ret = SM_VERIFY_BAD;
        goto out;
    }
    if (reply->addr_class == RESOLVE_CLASS_LOCAL) {
        switch (local_rcpt_find(buf_str(reply->recipient), why)) {
        case DICT_TRYLATER:
            goto out;
        case DICT_NOTFOUND:
            buf_sprintf(text, "User unknown in local recipient table");
            ret = SM_VERIFY_BAD;
            goto out;
        case DICT_FOUND:
            break;
        }
    }
    buf_sprintf(text, "%s:%s", buf_str(reply->transport), buf_str(reply->nexthop));
    ret = SM_VERIFY_OK;
out:
    resolve_reply_free(reply);
    return ret;
}

/* sm_verify - -bv: one line per recipient, "<addr>: deliverable:
 * transport=T:hop" or "<addr>: undeliverable: reason"; EX_NOUSER when an
 * address is bad or undeliverable, EX_TEMPFAIL when a table failed */
int sm_verify(const SM_ARGS *args, STREAM *out)
{
    BUF    *why = buf_alloc(100);
    BUF    *transport = buf_alloc(100);
    char  **rcpts = NULL;
    int     nrcpt = 0;
    int     status = 0;
    int     i;

    for (i = 0; i < args->nrcpt_args; i++) {
        if (sm_parse_addresses(args->rcpt_args[i], &rcpts, &nrcpt, why) < 0) {
            stream_printf(out, "%s: undeliverable: %s\n", args->rcpt_args[i], buf_str(why));
            status = EX_NOUSER;
        }
    }
    if (args->nrcpt_args == 0) {
        fprintf(stderr, "sendmail: -bv: no recipients specified\n");
        status = EX_USAGE;
    }
    for (i = 0; i < nrcpt; i++) {
        switch (sm_resolve(rcpts[i], transport, why)) {
        case SM_VERIFY_LATER:
            stream_printf(out, "<%s>: deferred: %s\n", rcpts[i], buf_str(why));
            if (status == 0)
                status = EX_TEMPFAIL;
            break;
        case SM_VERIFY_BAD:
            stream_printf(out, "<%s>: undeliverable: %s\n", rcpts[i], buf_str(transport));
            status = EX_NOUSER;
            break;
        default:
            stream_printf(out, "<%s>: deliverable: transport=%s\n", rcpts[i], buf_str(transport));
        }
    }
    stream_flush(out);
    sm_free_addresses(rcpts, nrcpt);
    buf_free(why);
    buf_free(transport);
    return status;
}
