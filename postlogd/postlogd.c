/*
 * NAME
 *      postlogd - the internal log server: the one writer of maillog_file
 * SYNOPSIS
 *      postlogd (started by master; master.cf, as Debian's:
 *      postlog unix-dgram n - n - 1 postlogd)
 * DESCRIPTION
 *      When maillog_file is set, every surel program (the daemons, the
 *      master, the surel command, sendmail's postdrop) formats each log
 *      line as it always did ("Mmm dd hh:mm:ss host surel/smtpd[pid]:
 *      text") and sends it as one datagram to public/$postlog_service_name
 *      (lib/util/msg.c). postlogd appends each datagram as one line to
 *      maillog_file, in the order the socket delivers them, which keeps
 *      each process's order. It is Postfix's postlogd(8) (Postfix 3.4).
 *
 *      Rotation: `surel logrotate` renames the file; before each line
 *      postlogd checks, under a shared lock, that maillog_file still
 *      names the file it holds, and reopens it by name when not
 *      (lib/util/logwriter.h), so no line is written to the renamed file
 *      after the rotation, with no signal and no reload.
 *
 *      Lines in flight are never lost: the socket belongs to the master,
 *      which keeps it across reloads and postlogd restarts (datagrams wait
 *      in it meanwhile) and writes what is left in it when it stops.
 *
 *      maillog_file = /dev/stdout writes to postlogd's standard output,
 *      which is the master's (`master -f` in a container). An empty
 *      maillog_file (a reload that removed it, clients still sending):
 *      each line goes to syslog.
 * SECURITY
 *      Runs as mail_owner (Debian's line leaves unpriv at its default),
 *      after opening maillog_file with the master's rights; a rotation's
 *      new file is made by `surel logrotate` with the old one's owner
 *      and mode, so postlogd only reopens a file it could already write.
 *      It only appends what clients sent, after making it one printable
 *      line (control
 *      bytes become '?', at most DGRAM_BUF_SIZE bytes), under the
 *      "postlogd" confinement: no program, no process, writes only to the
 *      folder of maillog_file. The socket is in public/, reachable by the
 *      postdrop group's programs, as in Postfix. maillog_file must be
 *      under maillog_file_prefixes. Opens refuse symbolic links, FIFOs,
 *      devices and hard links (safe_open).
 * PARAMETERS
 *      maillog_file, maillog_file_prefixes (/var, /dev/stdout),
 *      postlog_service_name (postlog), postlogd_watchdog_timeout (10s),
 *      max_idle (100s; max_use does not apply).
 */
#include <string.h>
#include <syslog.h>

#include "buf.h"
#include "config.h"
#include "logwriter.h"
#include "maillog.h"
#include "msg.h"
#include "server.h"

static LOGWRITER *postlogd_file;        /* maillog_file; NULL: syslog */
static BUF *postlogd_batch;             /* this event's lines, written at its end */

/* postlogd_clean - one printable line: control bytes (a client's stray
 * newline would forge a second line) become '?', trailing ends go */
static size_t postlogd_clean(char *buf, size_t len)
{
    size_t  i;

    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == 0))
        len--;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) buf[i];

        if (ch < 0x20 || ch == 0x7f)
            buf[i] = '?';
    }
    return len;
}

/* postlogd_service - one datagram, one line */
static void postlogd_service(char *buf, size_t len, const SERVER_CTX *ctx)
{
    (void) ctx;
    /* The skeleton's buffer has room for the newline (DGRAM_BUF_SIZE + 1). */
    len = postlogd_clean(buf, len);
    if (len == 0)
        return;
    if (postlogd_file == NULL) {
        buf[len] = 0;
        syslog(LOG_MAIL | LOG_INFO, "%s", buf);
        return;
    }
    buf[len++] = '\n';
    buf_append(postlogd_batch, buf, len);
}

/* postlogd_batch_end - the lines of one event in one write.
 *
 * The datagrams that were waiting when postlogd woke (at most DGRAM_BATCH)
 * go out together: one lock, one rotation check and one write instead of
 * four system calls a line. They are in the socket's order; nothing waits
 * longer than the event that read it. */
static void postlogd_batch_end(const SERVER_CTX *ctx)
{
    (void) ctx;
    if (postlogd_file == NULL || buf_len(postlogd_batch) == 0)
        return;
    if (logwriter_write(postlogd_file, buf_str(postlogd_batch), buf_len(postlogd_batch)) < 0)
        msg_warn("write %s: %m", config_str(P_maillog_file));
    buf_reset(postlogd_batch);
}

/* postlogd_pre_init - open maillog_file with the rights we started with */
static void postlogd_pre_init(const SERVER_CTX *ctx)
{
    const char *path = config_str(P_maillog_file);
    BUF    *why = buf_alloc(100);

    if (ctx->argc > 0)
        msg_fatal("unexpected command-line argument: %s", ctx->argv[0]);
    server_set_watchdog(config_time(P_postlogd_watchdog_timeout));
    postlogd_batch = buf_alloc(DGRAM_BUF_SIZE);
    if (*path) {
        if (!maillog_file_allowed(path, why))
            msg_fatal("%s", buf_str(why));
        if ((postlogd_file = logwriter_open(path, why)) == NULL)
            msg_fatal("maillog_file: %s", buf_str(why));
    }
    buf_free(why);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .pre_init = postlogd_pre_init,
        .confine = "postlogd",
        .log_self = 1,
        .batch_end = postlogd_batch_end,
    };

    dgram_server_main(argc, argv, postlogd_service, &hooks);
}
