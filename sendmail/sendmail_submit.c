/* sendmail_submit - turn a message into the maildrop record stream and
 * hand it to postdrop.
 *
 * sendmail runs with the caller's rights only: it cannot write the queue.
 * It starts $command_directory/postdrop (setgid $setgid_group) with a pipe
 * on its stdin and writes the records of lib/global/maildrop.h into it while it
 * reads the message; postdrop checks them again and writes the maildrop
 * file. Only postdrop's exit status says whether the message was queued.
 * A submission that fails half way closes the pipe without the end
 * record, so postdrop removes its file: nothing half-written stays.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "sendmail.h"

/* sm_postdrop_path - the postdrop program. $SUREL_POSTDROP is honoured
 * because sendmail has no privilege to lose: it only picks which program
 * the caller runs with the caller's own rights. */
const char *sm_postdrop_path(void)
{
    static BUF *path;
    const char *env = getenv("SUREL_POSTDROP");

    if (env && *env)
        return env;
    if (path == NULL)
        path = buf_alloc(100);
    buf_sprintf(path, "%s/postdrop", config_str(P_command_directory));
    return buf_str(path);
}

/* sm_drop_open - start postdrop with a pipe on its stdin */
int sm_drop_open(SM_DROP *drop, const char *config_dir, BUF *why)
{
    int     fds[2];
    const char *path = sm_postdrop_path();
    pid_t   pid;

    drop->pid = -1;
    drop->out = NULL;
    signal(SIGPIPE, SIG_IGN);           /* a dead postdrop is a write error */
    if (pipe2(fds, O_CLOEXEC) < 0) {
        buf_sprintf(why, "pipe: %s", strerror(errno));
        return -1;
    }
    if ((pid = fork()) < 0) {
        buf_sprintf(why, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        if (dup2(fds[0], 0) < 0)
            _exit(EX_OSERR);
        if (config_dir)
            execl(path, "postdrop", "-c", config_dir, (char *) NULL);
        else
            execl(path, "postdrop", (char *) NULL);
        fprintf(stderr, "sendmail: cannot run %s: %s\n", path, strerror(errno));
        _exit(EX_UNAVAILABLE);
    }
    close(fds[0]);
    drop->pid = pid;
    drop->out = stream_fdopen(fds[1]);
    return 0;
}

/* sm_drop_wait - postdrop's exit status as an EX_* code */
static int sm_drop_wait(SM_DROP *drop, BUF *why)
{
    int     status;

    if (drop->pid < 0)
        return EX_SOFTWARE;
    while (waitpid(drop->pid, &status, 0) < 0) {
        if (errno != EINTR) {
            buf_sprintf(why, "waitpid: %s", strerror(errno));
            return EX_OSERR;
        }
    }
    drop->pid = -1;
    if (WIFEXITED(status)) {
        if (WEXITSTATUS(status) != 0)
            buf_sprintf(why, "postdrop exited with status %d", WEXITSTATUS(status));
        return WEXITSTATUS(status);
    }
    buf_sprintf(why, "postdrop died by signal %d", WTERMSIG(status));
    return EX_TEMPFAIL;
}

/* sm_drop_close - finish the stream and take postdrop's verdict */
int sm_drop_close(SM_DROP *drop, BUF *why)
{
    int     write_failed = stream_close(drop->out) < 0;
    int     status;

    drop->out = NULL;
    status = sm_drop_wait(drop, why);
    if (status == 0 && write_failed) {
        buf_set(why, "write to postdrop failed");
        status = EX_IOERR;
    }
    return status;
}

/* sm_drop_abort - end the stream without its end record; postdrop then
 * removes what it wrote */
void sm_drop_abort(SM_DROP *drop)
{
    BUF    *why = buf_alloc(100);

    if (drop->out) {
        stream_close(drop->out);
        drop->out = NULL;
    }
    (void) sm_drop_wait(drop, why);
    buf_free(why);
}

/* sm_put_envelope - A* F? S recipient* M */
int sm_put_envelope(STREAM *out, const SM_ENVELOPE *env)
{
    int     i;

    if (env->flags)
        rec_fprintf(out, REC_TYPE_ATTR, "%s=%d", MAIL_ATTR_FLAGS, env->flags);
    if (env->envid)
        rec_fprintf(out, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_ENVID, env->envid);
    if (env->dsn_ret)
        rec_fprintf(out, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_RET, env->dsn_ret);
    if (env->encoding)
        rec_fprintf(out, REC_TYPE_ATTR, "%s=%s", MAIL_ATTR_ENCODING, env->encoding);
    /* -t -N: cleanup gives these bits to the recipients it extracts (as
     * Postfix's sendmail does); command-line ones carry their own n. */
    if ((env->flags & CLEANUP_FLAG_EXTRACT) && env->dsn_notify)
        rec_fprintf(out, REC_TYPE_ATTR, "%s=%d", MAIL_ATTR_DSN_NOTIFY, env->dsn_notify);
    if (env->fullname && *env->fullname)
        rec_puts(out, REC_TYPE_FULL, env->fullname);
    rec_puts(out, REC_TYPE_FROM, env->sender);
    for (i = 0; i < env->nrcpt; i++) {
        int     notify = env->notify ? env->notify[i] : env->dsn_notify;

        if (env->orcpts && env->orcpts[i])
            rec_puts(out, REC_TYPE_DSN_ORCPT, env->orcpts[i]);
        if (notify)
            rec_fprintf(out, REC_TYPE_DSN_NOTIFY, "%d", notify);
        rec_puts(out, REC_TYPE_RCPT, env->rcpts[i]);
    }
    return rec_put(out, REC_TYPE_MESG, "", 0);
}

/* sm_put_line - one content line (partial: more of it follows) */
int sm_put_line(STREAM *out, const char *data, size_t len, int partial)
{
    return rec_put(out, partial ? REC_TYPE_CONT : REC_TYPE_NORM, data, len);
}

/* sm_put_end - X E: the stream is complete */
int sm_put_end(STREAM *out)
{
    rec_put(out, REC_TYPE_XTRA, "", 0);
    return rec_put(out, REC_TYPE_END, "", 0);
}

/* sm_copy_message - stdin lines into N/L records. CRLF and LF both end a
 * line; a leading mbox "From " line is dropped; with dot_ends a line that
 * is a lone "." ends the message. */
int sm_copy_message(STREAM *in, STREAM *out, int dot_ends)
{
    BUF    *line = buf_alloc(MAILDROP_LINE_MAX + 1);
    int     first = 1;
    int     continued = 0;              /* the line before was partial */
    int     rc;
    int     result = 0;
    size_t  len;

    for (;;) {
        rc = stream_get_line(in, line, MAILDROP_LINE_MAX);
        if (rc == STREAM_EOF)
            break;
        if (rc == STREAM_ERROR) {
            result = -1;
            break;
        }
        len = buf_len(line);
        if (rc == STREAM_LINE_OK) {
            len--;                      /* the LF */
            if (len > 0 && buf_str(line)[len - 1] == '\r')
                len--;
        }
        if (!continued) {
            if (first && rc != STREAM_LINE_PARTIAL && len >= 5
                && memcmp(buf_str(line), "From ", 5) == 0) {
                first = 0;
                continue;
            }
            if (dot_ends && rc != STREAM_LINE_PARTIAL && len == 1 && buf_str(line)[0] == '.')
                break;
        }
        first = 0;
        if (sm_put_line(out, buf_str(line), len, rc == STREAM_LINE_PARTIAL) < 0) {
            result = -1;
            break;
        }
        continued = (rc == STREAM_LINE_PARTIAL);
        if (rc == STREAM_LINE_LAST)
            break;
    }
    if (result == 0 && continued)
        result = sm_put_line(out, "", 0, 0);    /* close the partial line */
    buf_free(line);
    return result;
}

/* sm_login_name - who runs us: the passwd name of the real uid */
const char *sm_login_name(void)
{
    struct passwd *pw = getpwuid(getuid());

    return pw ? pw->pw_name : NULL;
}

/* sm_default_fullname - $NAME, else the passwd GECOS field up to its first
 * comma; control characters dropped (they would end up in a header) */
void sm_default_fullname(BUF *out)
{
    const char *name = getenv("NAME");
    struct passwd *pw;
    const char *cp;

    buf_reset(out);
    if (name == NULL || *name == 0) {
        pw = getpwuid(getuid());
        name = pw && pw->pw_gecos ? pw->pw_gecos : "";
    }
    for (cp = name; *cp && *cp != ',' && buf_len(out) < MAILDROP_FIELD_MAX; cp++)
        if ((unsigned char) *cp >= 0x20 && *cp != 0x7f)
            buf_putc(out, *cp);
}

/* sm_fullname - -F text cleaned of control characters, or the default */
static void sm_fullname(const SM_ARGS *args, BUF *out)
{
    const char *cp;

    if (args->fullname == NULL) {
        sm_default_fullname(out);
        return;
    }
    buf_reset(out);
    for (cp = args->fullname; *cp && buf_len(out) < MAILDROP_FIELD_MAX; cp++)
        if ((unsigned char) *cp >= 0x20 && *cp != 0x7f)
            buf_putc(out, *cp);
}

/* sm_sender - -f (checked) or the login name */
static int sm_sender(const SM_ARGS *args, BUF *sender, BUF *why)
{
    const char *login;

    if (args->sender)
        return sm_clean_address(args->sender, sender, 1, why);
    if ((login = sm_login_name()) == NULL) {
        buf_sprintf(why, "no login name for uid %ld", (long) getuid());
        return -1;
    }
    return sm_clean_address(login, sender, 0, why);
}

/* sm_deliver - -bm: read the message from stdin and submit it */
int sm_deliver(const SM_ARGS *args, STREAM *in)
{
    BUF    *why = buf_alloc(100);
    BUF    *sender = buf_alloc(100);
    BUF    *fullname = buf_alloc(100);
    SM_ENVELOPE env;
    SM_DROP drop;
    char  **rcpts = NULL;
    int     nrcpt = 0;
    int     status = 0;
    int     i;

    /* Everything that can be refused is refused before postdrop starts. */
    if (sm_sender(args, sender, why) < 0) {
        fprintf(stderr, "sendmail: sender: %s\n", buf_str(why));
        status = EX_NOUSER;
        goto done;
    }
    for (i = 0; i < args->nrcpt_args; i++) {
        if (sm_parse_addresses(args->rcpt_args[i], &rcpts, &nrcpt, why) < 0) {
            fprintf(stderr, "sendmail: recipient: %s\n", buf_str(why));
            status = EX_NOUSER;
            goto done;
        }
    }
    if (nrcpt == 0 && !args->extract) {
        fprintf(stderr, "sendmail: no recipients specified (give addresses or -t)\n");
        status = EX_USAGE;
        goto done;
    }
    sm_fullname(args, fullname);
    memset(&env, 0, sizeof(env));
    env.sender = buf_str(sender);
    env.fullname = buf_str(fullname);
    env.flags = args->extract ? CLEANUP_FLAG_EXTRACT : 0;
    env.dsn_notify = args->dsn_notify;
    env.dsn_ret = args->dsn_ret;
    env.envid = args->envid;
    env.encoding = args->encoding;
    env.rcpts = rcpts;
    env.nrcpt = nrcpt;

    if (sm_drop_open(&drop, args->config_dir, why) < 0) {
        fprintf(stderr, "sendmail: %s\n", buf_str(why));
        status = EX_OSERR;
        goto done;
    }
    sm_put_envelope(drop.out, &env);
    if (sm_copy_message(in, drop.out, args->dot_ends) < 0 && stream_error(in)) {
        fprintf(stderr, "sendmail: error reading the message: %s\n", strerror(errno));
        sm_drop_abort(&drop);
        status = EX_IOERR;
        goto done;
    }
    sm_put_end(drop.out);
    if ((status = sm_drop_close(&drop, why)) != 0)
        fprintf(stderr, "sendmail: message not queued: %s\n", buf_str(why));

done:
    sm_free_addresses(rcpts, nrcpt);
    buf_free(why);
    buf_free(sender);
    buf_free(fullname);
    return status;
}
