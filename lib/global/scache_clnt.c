/* scache_clnt - connection cache client; see scache_clnt.h. */
#include <unistd.h>

#include "attr.h"
#include "mail_connect.h"
#include "mail_proto.h"
#include "scache_clnt.h"
#include "stream.h"
#include "unix_fd.h"

/* scache_clnt_open - a stream to private/scache that passes descriptors */
static STREAM *scache_clnt_open(UNIX_FD_IO *io, BUF *why)
{
    STREAM *s;
    int     fd;

    if ((fd = mail_connect(NULL, MAIL_SERVICE_SCACHE, why)) < 0)
        return NULL;
    s = stream_fdopen(fd);
    unix_fd_stream(s, io);
    stream_set_timeout(s, SCACHE_CLNT_TIMEOUT);
    return s;
}

int     scache_clnt_save(const char *label, const char *props, int ttl, int fd, BUF *why)
{
    UNIX_FD_IO io;
    STREAM *s;
    int     status = SCACHE_STAT_FAIL;

    if ((s = scache_clnt_open(&io, why)) == NULL)
        return -1;
    io.send_fd = fd;
    if (attr_send(s, SEND_STR(MAIL_ATTR_REQ, SCACHE_REQ_SAVE), SEND_STR(SCACHE_ATTR_LABEL, label),
                  SEND_STR(SCACHE_ATTR_PROPS, props), SEND_INT(SCACHE_ATTR_TTL, ttl),
                  ATTR_END) < 0
        || attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status), ATTR_END) < 0)
        buf_sprintf(why, "scache: %s", attr_last_error());
    else if (status != SCACHE_STAT_OK)
        buf_sprintf(why, "scache: session refused");
    if (io.recv_fd >= 0)
        close(io.recv_fd);
    stream_close(s);
    return status == SCACHE_STAT_OK ? 0 : -1;
}

int     scache_clnt_find(const char *label, BUF *props, BUF *why)
{
    UNIX_FD_IO io;
    STREAM *s;
    int     status = SCACHE_STAT_FAIL;

    buf_reset(why);
    if ((s = scache_clnt_open(&io, why)) == NULL)
        return -1;
    if (attr_send(s, SEND_STR(MAIL_ATTR_REQ, SCACHE_REQ_FIND), SEND_STR(SCACHE_ATTR_LABEL, label),
                  ATTR_END) < 0
        || attr_recv(s, RECV_INT(MAIL_ATTR_STATUS, &status), RECV_STR(SCACHE_ATTR_PROPS, props),
                     ATTR_END) < 0) {
        buf_sprintf(why, "scache: %s", attr_last_error());
        status = SCACHE_STAT_FAIL;
    } else if (status == SCACHE_STAT_OK && io.recv_fd < 0) {
        buf_sprintf(why, "scache: a session without its descriptor");
        status = SCACHE_STAT_FAIL;
    }
    stream_close(s);
    if (status != SCACHE_STAT_OK) {
        if (io.recv_fd >= 0)
            close(io.recv_fd);
        return -1;
    }
    return io.recv_fd;
}
