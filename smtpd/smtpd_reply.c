/* smtpd_reply - replies to the client and the reject log line.
 *
 * A reply is written into the client stream's buffer, never straight to
 * the socket: smtpd_proto.c decides when the buffer goes out (PIPELINING)
 * and, after STARTTLS, the stream's I/O is TLS, so every byte we send
 * passes here or through smtpd_flush. Every final 4xx/5xx line counts
 * towards smtpd_hard_error_limit; once smtpd_soft_error_limit errors were
 * made, every reply is delayed by smtpd_error_sleep_time (Postfix's tarpit). smtpd_log_reject writes Postfix's
 * "NOQUEUE: reject: ..." line that log tools look for.
 */
#include <stdarg.h>
#include <unistd.h>

#include "msg.h"
#include "smtpd.h"

/* smtpd_reply - queue one reply line (flushed by the loop); 4xx and 5xx
 * final lines count as errors */
void    smtpd_reply(SMTPD_STATE *st, const char *fmt, ...)
{
    static BUF *out;                /* not st->reply: callers format from it */
    va_list ap;
    int     final;

    if (out == NULL)
        out = buf_alloc(256);
    buf_reset(out);
    va_start(ap, fmt);
    buf_vprintf(out, fmt, ap);
    va_end(ap);
    final = buf_len(out) < 4 || buf_str(out)[3] != '-';
    /* Postfix's tarpit ("sleep-on-anything"): once the client has made
     * smtpd_soft_error_limit errors, every reply waits
     * smtpd_error_sleep_time, with what is queued sent first. Once per
     * reply: a multi-line reply waits before its last line only. */
    if (final && st->errors >= smtpd_params.soft_error_limit && smtpd_params.error_sleep > 0) {
        (void) smtpd_flush(st);
        sleep((unsigned) smtpd_params.error_sleep);
    }
    if (final && buf_len(out) >= 4 && (buf_str(out)[0] == '4' || buf_str(out)[0] == '5'))
        st->errors++;
    if (msg_verbose)
        msg_debug("> %s: %s", st->namaddr, buf_str(out));
    buf_puts(out, "\r\n");
    (void) stream_write(st->client, buf_str(out), buf_len(out));
}

/* smtpd_flush - send the queued replies; -1 when the client is gone */
int     smtpd_flush(SMTPD_STATE *st)
{
    return stream_flush(st->client);
}

/* smtpd_log_reject - Postfix's "NOQUEUE: reject: RCPT from ..." line */
void    smtpd_log_reject(SMTPD_STATE *st, const char *queue_id, const char *stage,
                         const char *reply, const char *rcpt)
{
    smtpd_log_refusal(st, queue_id, "reject", stage, reply, rcpt);
}

/* smtpd_log_refusal - the same line for any kind ("reject", "milter-reject");
 * the reply is shown printable (a filter's may hold CR LF) */
void    smtpd_log_refusal(SMTPD_STATE *st, const char *queue_id, const char *kind,
                          const char *stage, const char *reply, const char *rcpt)
{
    BUF    *extra = buf_alloc(200);
    BUF    *text = buf_alloc(200);
    BUF    *shown = buf_alloc(200);

    if (st->have_mail) {
        smtpd_printable(buf_str(st->sender), text);
        buf_printf(extra, " from=<%s>", buf_str(text));
    }
    if (rcpt) {
        smtpd_printable(rcpt, text);
        buf_printf(extra, " to=<%s>", buf_str(text));
    }
    buf_printf(extra, " proto=%s", st->esmtp ? "ESMTP" : "SMTP");
    if (buf_len(st->helo)) {
        smtpd_printable(buf_str(st->helo), text);
        buf_printf(extra, " helo=<%s>", buf_str(text));
    }
    smtpd_printable(reply, shown);
    msg_info("%s: %s: %s from %s: %s;%s", queue_id ? queue_id : "NOQUEUE", kind,
             stage, st->namaddr, buf_str(shown), buf_str(extra));
    buf_free(extra);
    buf_free(text);
    buf_free(shown);
}
