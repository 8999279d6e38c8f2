/* smtpd_cmd_mail - MAIL FROM and RCPT TO: the envelope.
 *
 * Paths are parsed by address_parse_path (lib/global/address.h): angle brackets
 * (required with strict_rfc821_envelopes), source routes stripped, quoted
 * local parts, <> for the null sender. The envelope is kept in memory
 * until DATA/BDAT opens the cleanup connection (see doc/smtpd.md).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

#include "address.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

/* smtpd_path_flags - address_parse_path flags for this server */
static int smtpd_path_flags(void)
{
    return (smtpd_params.strict_envelopes ? ADDR_STRICT : 0)
        | (smtpd_params.smtputf8_enable ? ADDR_UTF8 : 0);
}

/* smtpd_storage_ok - room in the queue file system for a message of size
 * bytes (0: SIZE not given), Postfix's rule: the message may take at most
 * 1/1.5 of the free space and must leave queue_minfree. The daemon's
 * working folder is queue_directory (the skeleton chdir'ed there). A file
 * system we cannot ask is not held against the client. */
static int smtpd_storage_ok(long size)
{
    struct statvfs fs;
    double  free_bytes;

    if (statvfs(".", &fs) < 0) {
        msg_warn("statvfs queue_directory: %m");
        return 1;
    }
    free_bytes = (double) fs.f_bavail * (double) fs.f_frsize;
    if ((double) size > free_bytes / 1.5
        || free_bytes - (double) size < (double) smtpd_params.queue_minfree) {
        msg_warn("not enough free space in mail queue: %.0f bytes free, message %ld, "
                 "queue_minfree %ld", free_bytes, size, smtpd_params.queue_minfree);
        return 0;
    }
    return 1;
}

/* smtpd_instance - Postfix's policy "instance": one value per transaction
 * (pid, time, a counter), so a policy server can tell messages apart */
static void smtpd_instance(SMTPD_STATE *st)
{
    static unsigned seqno;
    struct timeval tv;

    gettimeofday(&tv, NULL);
    snprintf(st->instance, sizeof(st->instance), "%x.%lx.%lx.%x", (unsigned) getpid(),
             (unsigned long) tv.tv_sec, (unsigned long) tv.tv_usec, ++seqno);
}

/* smtpd_cmd_mail - MAIL FROM:<path> [SIZE= BODY= SMTPUTF8 RET= ENVID=] */
int     smtpd_cmd_mail(SMTPD_STATE *st, const char *args)
{
    SMTPD_CHECK_CTX ctx;
    BUF    *addr;
    BUF    *why;
    const char *path;
    const char *params;
    int     is_null;
    int     ret = -1;

    if (smtpd_params.helo_required && buf_len(st->helo) == 0) {
        smtpd_reply(st, "503 5.5.1 Error: send HELO/EHLO first");
        return -1;
    }
    if (smtpd_tls_required(st))
        return -1;
    if (st->have_mail) {
        smtpd_reply(st, "503 5.5.1 Error: nested MAIL command");
        return -1;
    }
    if (!smtpd_cmd_keyword(args, "FROM:", &path)) {
        smtpd_reply(st, "501 5.5.4 Syntax: MAIL FROM:<address>");
        return -1;
    }
    addr = buf_alloc(100);
    why = buf_alloc(100);
    smtpd_mail_args_free(&st->mail);
    smtpd_mail_args_init(&st->mail);
    if (address_parse_path(path, smtpd_path_flags(), addr, &is_null, &params, why) < 0) {
        msg_debug("%s: MAIL FROM: %s", st->namaddr, buf_str(why));
        smtpd_reply(st, "501 5.1.7 Bad sender address syntax");
    } else if (smtpd_mail_params(params, st->esmtp, &st->mail, why) < 0) {
        smtpd_reply(st, "%s", buf_str(why));
    } else if (st->mail.auth_given && !smtpd_params.sasl_enable) {
        smtpd_reply(st, "555 5.5.4 Unsupported option: AUTH");
    } else if (st->mail.smtputf8 && !smtpd_params.smtputf8_enable) {
        smtpd_reply(st, "555 5.5.4 Unsupported option: SMTPUTF8");
    } else if (!st->mail.smtputf8 && address_has_8bit(buf_str(addr))) {
        smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else if (st->mail.size_given && smtpd_params.message_size_limit > 0
               && st->mail.size > smtpd_params.message_size_limit) {
        smtpd_reply(st, "552 5.3.4 Message size exceeds fixed limit");
    } else if (!smtpd_storage_ok(st->mail.size_given ? st->mail.size : 0)) {
        smtpd_log_reject(st, NULL, "MAIL", "452 4.3.1 Insufficient system storage", NULL);
        smtpd_reply(st, "452 4.3.1 Insufficient system storage");
    } else if (smtpd_rate_mail(st) < 0) {
        /* 450 4.7.1 Error: too much mail from ADDR (smtpd_conn.c) */
    } else {
        buf_set(st->sender, buf_str(addr));
        st->have_mail = 1;
        smtpd_instance(st);
        smtpd_check_ctx(st, &ctx);
        if (smtpd_check_mail(&ctx, why) != SMTPD_CHECK_OK) {
            smtpd_log_reject(st, NULL, "MAIL", buf_str(why), NULL);
            smtpd_reply(st, "%s", buf_str(why));
            st->have_mail = 0;
            buf_reset(st->sender);
        } else if (smtpd_milter_mail(st, params) < 0) {
            st->have_mail = 0;
            buf_reset(st->sender);
        } else {
            smtpd_reply(st, "250 2.1.0 Ok");
            ret = 0;
        }
    }
    if (ret < 0) {
        smtpd_mail_args_free(&st->mail);
        smtpd_mail_args_init(&st->mail);
    }
    buf_free(addr);
    buf_free(why);
    return ret;
}

/* smtpd_rcpt_add - remember an accepted recipient */
static void smtpd_rcpt_add(SMTPD_STATE *st, const char *addr, const SMTPD_RCPT_ARGS *a)
{
    SMTPD_RCPT *r;

    if (st->rcpt_count >= st->rcpt_cap) {
        st->rcpt_cap = st->rcpt_cap ? st->rcpt_cap * 2 : 8;
        st->rcpt = xreallocarray(st->rcpt, (size_t) st->rcpt_cap, sizeof(*st->rcpt));
    }
    r = st->rcpt + st->rcpt_count++;
    r->addr = xstrdup(addr);
    r->orcpt = buf_len(a->orcpt) ? xstrdup(buf_str(a->orcpt)) : NULL;
    r->notify = a->notify;
}

/* smtpd_is_postmaster - the bare "postmaster" RFC 5321 4.5.1 requires */
static int smtpd_is_postmaster(const char *addr)
{
    return strcasecmp(addr, "postmaster") == 0;
}

/* smtpd_cmd_rcpt - RCPT TO:<path> [NOTIFY= ORCPT=] */
int     smtpd_cmd_rcpt(SMTPD_STATE *st, const char *args)
{
    SMTPD_CHECK_CTX ctx;
    SMTPD_RCPT_ARGS a;
    BUF    *addr;
    BUF    *why;
    const char *path;
    const char *params;
    int     is_null;
    int     ret = -1;

    if (!st->have_mail) {
        smtpd_reply(st, "503 5.5.1 Error: need MAIL command");
        return -1;
    }
    if (!smtpd_cmd_keyword(args, "TO:", &path)) {
        smtpd_reply(st, "501 5.5.4 Syntax: RCPT TO:<address>");
        return -1;
    }
    addr = buf_alloc(100);
    why = buf_alloc(100);
    smtpd_rcpt_args_init(&a);
    if (address_parse_path(path, smtpd_path_flags(), addr, &is_null, &params, why) < 0
        || is_null || buf_len(addr) == 0) {
        msg_debug("%s: RCPT TO: %s", st->namaddr, buf_str(why));
        smtpd_reply(st, "501 5.1.3 Bad recipient address syntax");
    } else if (smtpd_rcpt_params(params, st->esmtp, &a, why) < 0) {
        smtpd_reply(st, "%s", buf_str(why));
    } else if (!st->mail.smtputf8 && address_has_8bit(buf_str(addr))) {
        smtpd_reply(st, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
    } else if (smtpd_rate_rcpt(st) < 0) {
        /* 450 4.7.1 Error: too many recipients from ADDR (smtpd_conn.c) */
    } else if (st->rcpt_count >= smtpd_params.recipient_limit) {
        smtpd_reply(st, "452 4.5.3 Error: too many recipients");
    } else {
        smtpd_check_ctx(st, &ctx);
        if (!smtpd_is_postmaster(buf_str(addr))
            && smtpd_check_rcpt(&ctx, buf_str(addr), why) != SMTPD_CHECK_OK) {
            smtpd_log_reject(st, NULL, "RCPT", buf_str(why), buf_str(addr));
            smtpd_reply(st, "%s", buf_str(why));
        } else if (smtpd_milter_rcpt(st, buf_str(addr), params) < 0) {
            /* the filter's reply is queued */
        } else {
            smtpd_rcpt_add(st, buf_str(addr), &a);
            smtpd_reply(st, "250 2.1.5 Ok");
            ret = 0;
        }
    }
    smtpd_rcpt_args_free(&a);
    buf_free(addr);
    buf_free(why);
    return ret;
}
