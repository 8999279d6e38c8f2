/*
 * NAME
 *      scache - the SMTP connection cache
 * SYNOPSIS
 *      scache (started by master; master.cf: scache unix - - n - 1 scache)
 * DESCRIPTION
 *      Postfix's scache(8), with one level: it keeps idle SMTP sessions
 *      (open descriptors, passed over private/scache with SCM_RIGHTS) under
 *      a destination label, so that the next delivery to that destination,
 *      by any smtp process, continues a session instead of opening one.
 *      An smtp process exits after max_use requests and processes compete
 *      for qmgr's requests, so a cache inside one process would rarely be
 *      found again; one cache process is found by all (doc/design.md,
 *      "Connection reuse"). The protocol is in lib/global/mail_proto.h:
 *          save {label, props, ttl} + descriptor -> {status}
 *          find {label} -> {status, props} + descriptor
 *      A found session leaves the cache (it is the finder's now); the
 *      newest session of a label is found first. props is the smtp
 *      client's record of the session (peer, EHLO features, age, use
 *      count), opaque here.
 *
 *      A session waits at most its ttl (smtp_connection_cache_time_limit);
 *      then scache says QUIT (without waiting for the answer) and closes
 *      it. A session whose server speaks or hangs up while it waits (a
 *      421 on an idle timeout) is closed at once. At most SCACHE_MAX
 *      sessions are kept; past that a save is refused and the smtp client
 *      ends its session itself. When scache is down, smtp works without
 *      a cache; when scache dies, the sessions it held are closed by the
 *      kernel (the servers see a lost connection between transactions,
 *      which SMTP allows).
 * SECURITY
 *      Runs as mail_owner, reachable only by mail_owner's processes
 *      (private/). It never reads or writes a cached descriptor except
 *      the QUIT at expiry; it holds plaintext sessions only (a TLS session
 *      lives in the smtp process that made it).
 * PARAMETERS
 *      none of its own; the smtp client's smtp_connection_cache_* say
 *      what is saved and for how long.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "event.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "server.h"
#include "unix_fd.h"

#define SCACHE_MAX          1000        /* sessions kept at most */
#define SCACHE_TTL_MAX      3600        /* seconds a session may wait at most */
#define SCACHE_IPC_TIMEOUT  10

typedef struct SCACHE_ENTRY {
    char   *label;
    char   *props;
    int     fd;                         /* the session */
    struct SCACHE_ENTRY *next;          /* newest first */
    struct SCACHE_ENTRY *prev;
} SCACHE_ENTRY;

typedef struct SCACHE_CLIENT {
    STREAM *stream;
    UNIX_FD_IO io;
} SCACHE_CLIENT;

static SCACHE_ENTRY *scache_list;
static int scache_count;

static void scache_expire_event(int event, void *context);
static void scache_peer_event(int event, void *context);

/* scache_unlink - take an entry out of the cache (its descriptor stays open) */
static void scache_unlink(SCACHE_ENTRY *e)
{
    event_cancel_timer(scache_expire_event, e);
    event_disable_readwrite(e->fd);
    if (e->prev)
        e->prev->next = e->next;
    else
        scache_list = e->next;
    if (e->next)
        e->next->prev = e->prev;
    scache_count--;
}

/* scache_entry_free - forget an unlinked entry */
static void scache_entry_free(SCACHE_ENTRY *e)
{
    xfree(e->label);
    xfree(e->props);
    xfree(e);
}

/* scache_drop - end a cached session: QUIT when asked, then close */
static void scache_drop(SCACHE_ENTRY *e, int quit)
{
    scache_unlink(e);
    /* Never wait for a server: what the socket takes now, or nothing. */
    if (quit)
        (void) send(e->fd, "QUIT\r\n", 6, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(e->fd);
    msg_debug("scache: %s: session closed (%s)", e->label, quit ? "expired" : "server spoke");
    scache_entry_free(e);
}

/* scache_expire_event - a session waited its time */
static void scache_expire_event(int event, void *context)
{
    (void) event;
    scache_drop(context, 1);
}

/* scache_peer_event - the server said something (421) or hung up */
static void scache_peer_event(int event, void *context)
{
    (void) event;
    scache_drop(context, 0);
}

/* scache_save - keep a session; SCACHE_STAT_* */
static int scache_save(SCACHE_CLIENT *cl, const char *label, const char *props, const char *ttl)
{
    SCACHE_ENTRY *e;
    char   *end;
    long    secs = strtol(ttl, &end, 10);

    if (cl->io.recv_fd < 0 || *ttl == 0 || *end || secs < 1 || secs > SCACHE_TTL_MAX
        || strlen(label) > SCACHE_LABEL_MAX || strlen(props) > SCACHE_PROPS_MAX) {
        msg_warn("scache: bad save request for \"%.100s\"", label);
        return SCACHE_STAT_FAIL;
    }
    if (scache_count >= SCACHE_MAX)
        return SCACHE_STAT_FAIL;
    e = xcalloc(1, sizeof(*e));
    e->label = xstrdup(label);
    e->props = xstrdup(props);
    e->fd = cl->io.recv_fd;
    cl->io.recv_fd = -1;
    if ((e->next = scache_list) != NULL)
        e->next->prev = e;
    scache_list = e;
    scache_count++;
    event_request_timer(scache_expire_event, e, secs * 1000);
    event_enable_read(e->fd, scache_peer_event, e);
    msg_debug("scache: %s: session saved for %lds", label, secs);
    return SCACHE_STAT_OK;
}

/* scache_find - the newest session of label, unlinked; NULL: none */
static SCACHE_ENTRY *scache_find(const char *label)
{
    SCACHE_ENTRY *e;

    for (e = scache_list; e; e = e->next) {
        if (strcmp(e->label, label) == 0) {
            scache_unlink(e);
            return e;
        }
    }
    return NULL;
}

/* scache_request - answer one request; 0, or -1 when the client is gone */
static int scache_request(SCACHE_CLIENT *cl, const ATTR_LIST *req)
{
    const char *verb = attr_list_get(req, MAIL_ATTR_REQ);
    const char *label = attr_list_get(req, SCACHE_ATTR_LABEL);
    const char *props = attr_list_get(req, SCACHE_ATTR_PROPS);
    const char *ttl = attr_list_get(req, SCACHE_ATTR_TTL);
    SCACHE_ENTRY *e;
    int     ret;

    if (verb && label && props && ttl && req->count == 4 && strcmp(verb, SCACHE_REQ_SAVE) == 0)
        return attr_send(cl->stream, SEND_INT(MAIL_ATTR_STATUS,
                                              scache_save(cl, label, props, ttl)), ATTR_END);
    if (verb && label && req->count == 2 && strcmp(verb, SCACHE_REQ_FIND) == 0) {
        if ((e = scache_find(label)) == NULL)
            return attr_send(cl->stream, SEND_INT(MAIL_ATTR_STATUS, SCACHE_STAT_FAIL),
                             SEND_STR(SCACHE_ATTR_PROPS, ""), ATTR_END);
        cl->io.send_fd = e->fd;
        ret = attr_send(cl->stream, SEND_INT(MAIL_ATTR_STATUS, SCACHE_STAT_OK),
                        SEND_STR(SCACHE_ATTR_PROPS, e->props), ATTR_END);
        /* Our copy goes either way: the session is the finder's, or lost. */
        close(e->fd);
        scache_entry_free(e);
        return ret;
    }
    msg_warn("scache: bad request \"%.100s\"", verb ? verb : "(none)");
    return attr_send(cl->stream, SEND_INT(MAIL_ATTR_STATUS, SCACHE_STAT_FAIL),
                     SEND_STR(SCACHE_ATTR_PROPS, ""), ATTR_END);
}

/* scache_client_read - the request is there: answer it and hang up */
static void scache_client_read(int event, void *context)
{
    SCACHE_CLIENT *cl = context;
    ATTR_LIST req;

    (void) event;
    if (attr_recv_list(cl->stream, &req) == 0) {
        (void) scache_request(cl, &req);
        attr_list_free(&req);
    } else if (!attr_last_eof()) {
        msg_warn("scache: bad request: %s", attr_last_error());
    }
    if (cl->io.recv_fd >= 0)            /* a descriptor nobody kept */
        close(cl->io.recv_fd);
    event_disable_readwrite(stream_fd(cl->stream));
    multi_server_disconnect(cl->stream);
    xfree(cl);
}

/* scache_service - a new client (multi_server routine) */
static void scache_service(STREAM *client, const SERVER_CTX *ctx)
{
    SCACHE_CLIENT *cl = xcalloc(1, sizeof(*cl));

    (void) ctx;
    cl->stream = client;
    unix_fd_stream(client, &cl->io);
    stream_set_timeout(client, SCACHE_IPC_TIMEOUT);
    event_enable_read(stream_fd(client), scache_client_read, cl);
}

/* scache_pre_exit - say goodbye to every server still waiting */
static void scache_pre_exit(const SERVER_CTX *ctx)
{
    (void) ctx;
    while (scache_list)
        scache_drop(scache_list, 1);
}

int     main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .pre_exit = scache_pre_exit,
        .unlimited = 1,
        .confine = "scache",
    };

    multi_server_main(argc, argv, scache_service, &hooks);
}
