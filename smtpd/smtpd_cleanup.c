/* smtpd_cleanup - the client side of the cleanup protocol (mail_proto.h).
 *
 * smtpd connects to the cleanup socket (private/ or public/, as master.cf
 * says: mail_connect.h) when a message starts (DATA or the first BDAT), sends {flags}, reads {queue_id}, then streams records and
 * reads {status, reason} at the end. Any write error is remembered, not
 * reported at once: the content keeps being read from the client (to stay
 * in step with it) and the result becomes 451 4.3.0. A connection closed
 * without the E record makes cleanup throw the file away, which is how a
 * message refused by smtpd itself (size, bare LF) leaves nothing queued.
 */
#include <stdio.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "attr.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "record.h"
#include "smtpd.h"

/* smtpd_cleanup_attach - run the opening exchange on a connected stream */
SMTPD_CLEANUP *smtpd_cleanup_attach(STREAM *s, int flags, BUF *why)
{
    SMTPD_CLEANUP *c;
    BUF    *id = buf_alloc(QUEUE_ID_BUFSZ);

    if (attr_send(s, SEND_INT(MAIL_ATTR_FLAGS, flags), ATTR_END) < 0
        || attr_recv(s, RECV_STR(MAIL_ATTR_QUEUEID, id), ATTR_END) < 0) {
        buf_sprintf(why, "cleanup: %s", attr_last_error());
        buf_free(id);
        return NULL;
    }
    if (buf_len(id) == 0 || !queue_id_valid(buf_str(id))) {
        buf_sprintf(why, "cleanup: %s queue ID \"%.40s\"",
                    buf_len(id) ? "bad" : "no", buf_str(id));
        buf_free(id);
        return NULL;
    }
    c = xcalloc(1, sizeof(*c));
    c->stream = s;
    memcpy(c->id, buf_str(id), buf_len(id) + 1);
    buf_free(id);
    return c;
}

/* smtpd_cleanup_open - connect to the cleanup service (private/ or public/,
 * as master.cf says: mail_connect.h), relative to the queue folder smtpd
 * runs in; NULL with why */
SMTPD_CLEANUP *smtpd_cleanup_open(const char *service, int flags, int timeout, BUF *why)
{
    SMTPD_CLEANUP *c;
    STREAM *s;
    int     fd;

    if ((fd = mail_connect(NULL, service, why)) < 0)
        return NULL;
    s = stream_fdopen(fd);
    stream_set_timeout(s, timeout);
    if ((c = smtpd_cleanup_attach(s, flags, why)) == NULL)
        (void) stream_close(s);
    return c;
}

/* smtpd_cleanup_rec - send one record; errors are remembered */
void    smtpd_cleanup_rec(SMTPD_CLEANUP *c, int type, const char *data, size_t len)
{
    if (c->err)
        return;
    if (rec_put(c->stream, type, data, len) < 0)
        c->err = 1;
}

/* smtpd_cleanup_attr - an A record "name=value" */
void    smtpd_cleanup_attr(SMTPD_CLEANUP *c, const char *name, const char *value)
{
    if (c->err)
        return;
    if (rec_fprintf(c->stream, REC_TYPE_ATTR, "%s=%s", name, value) < 0)
        c->err = 1;
}

/* smtpd_cleanup_finish - X and E, then the verdict: a CLEANUP_STAT_* bit
 * mask (0: committed), or -1 when the conversation failed (nothing queued) */
int     smtpd_cleanup_finish(SMTPD_CLEANUP *c, BUF *reason)
{
    int     status;

    buf_reset(reason);
    smtpd_cleanup_rec(c, REC_TYPE_XTRA, "", 0);
    smtpd_cleanup_rec(c, REC_TYPE_END, "", 0);
    if (c->err || stream_flush(c->stream) < 0) {
        msg_warn("%s: write to cleanup failed", c->id);
        return -1;
    }
    if (attr_recv(c->stream, RECV_INT(MAIL_ATTR_STATUS, &status),
                  RECV_STR(MAIL_ATTR_WHY, reason), ATTR_END) < 0) {
        msg_warn("%s: reading cleanup status: %s", c->id, attr_last_error());
        return -1;
    }
    return status;
}

/* smtpd_cleanup_close - hang up (without E this abandons the message) */
void    smtpd_cleanup_close(SMTPD_CLEANUP *c)
{
    if (c == NULL)
        return;
    (void) stream_close(c->stream);
    xfree(c);
}

/* smtpd_cleanup_dsn_text - does text start with a d.d.d enhanced code
 * and a space (what cleanup's reasons look like, mail_proto.h)? */
static int smtpd_cleanup_dsn_text(const char *text)
{
    int     part;
    int     digits;

    if (text[0] != '4' && text[0] != '5')
        return 0;
    for (part = 0; part < 3; part++) {
        for (digits = 0; isdigit((unsigned char) *text) && digits < 3; digits++)
            text++;
        if (digits == 0 || *text++ != (part < 2 ? '.' : ' '))
            return 0;
    }
    return *text != 0;
}

/* smtpd_cleanup_is_reply - is a reason a whole SMTP reply ("550 5.7.1
 * text", "451-a\r\n451 b"): a milter's end-of-message answer */
int     smtpd_cleanup_is_reply(const char *reason)
{
    return (reason[0] == '4' || reason[0] == '5') && isdigit((unsigned char) reason[1])
        && isdigit((unsigned char) reason[2]) && (reason[3] == ' ' || reason[3] == '-');
}

/* smtpd_cleanup_reply - the client reply for a non-zero status and
 * cleanup's reason. A reason is a DSN code and text without a reply code
 * ("5.7.1 message content rejected", a header_checks REJECT text): the
 * reply code comes from the status, as Postfix's smtpd does ("550 5.7.1
 * text", "451 4.7.0 text"). A reason whose class disagrees with the
 * status (e.g. a write error after a 5.x.x reason) or that is not of that
 * shape is not shown: the status's own reply is used, from the table all
 * of cleanup's clients share (cleanup_status.h; -1, no answer, is a
 * queue file write error). */
void    smtpd_cleanup_reply(int status, const char *reason, BUF *reply)
{
    if (status > 0 && reason != NULL && smtpd_cleanup_is_reply(reason)
        && (reason[0] == '4') == ((status & CLEANUP_STAT_DEFER) != 0)) {
        buf_set(reply, reason);         /* a filter's own reply, as it is */
        return;
    }
    cleanup_stat_reply(status, reply);
    if (status > 0 && reason != NULL && smtpd_cleanup_dsn_text(reason)
        && reason[0] == buf_str(reply)[0]) {
        buf_truncate(reply, 4);
        buf_puts(reply, reason);
    }
}
