/* pipe_service - the delivery protocol (mail_proto.h) of a pipe service.
 *
 * For each request (deliver_request.h): open the queue file read-only
 * with a shared lock (deliver_request_open) and read its envelope, which
 * verifies the whole file (qfile_read_envelope); copy the message into an
 * in-memory file as the flags say (pipe_copy.c); expand argv= for the
 * request's recipients (pipe_expand.c); run the command once for all of
 * them (pipe_command.c); log and answer the one result for every
 * recipient, relay=<service>, as Postfix's pipe does:
 *     ID: to=<r>, relay=maildrop, ..., dsn=2.0.0,
 *         status=sent (delivered via maildrop service)
 * A request the service cannot take defers (or bounces) before anything
 * runs: the queue file cannot be read (4.3.0), flags D or O with more
 * than one recipient (4.3.5 mail system configuration error, and a
 * warning that <service>_destination_recipient_limit must be 1, as
 * Postfix says), a message larger than size= (5.2.3 message too large).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "address.h"
#include "attr.h"
#include "config.h"
#include "deliver_log.h"
#include "deliver_request.h"
#include "dict.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pipe.h"
#include "qfile_read.h"
#include "split_addr.h"

static PIPE_ATTR pipe_attr;
static long pipe_time_limit;

/* pipe_init - the master.cf arguments and the time limit, checked once */
void    pipe_init(const SERVER_CTX *ctx)
{
    BUF    *why = buf_alloc(100);
    BUF    *name = buf_alloc(64);
    const char *value;

    if (pipe_attr_parse(ctx->argc, ctx->argv, &pipe_attr, why) < 0)
        msg_fatal("service %s: %s", ctx->service, buf_str(why));
    /* <service>_time_limit, else command_time_limit (Postfix's
     * transport_time_limit). */
    pipe_time_limit = config_time(P_command_time_limit);
    buf_sprintf(name, "%s_time_limit", ctx->service);
    if ((value = config_lookup(buf_str(name))) != NULL
        && (config_parse_time(value, 's', &pipe_time_limit) < 0 || pipe_time_limit <= 0))
        msg_fatal("bad %s value: %s", buf_str(name), value);
    buf_free(name);
    buf_free(why);
}

/* pipe_address - an address as the flags want it in argv: local part
 * and domain folded (u, h), then quoted (q) */
static void pipe_address(const char *addr, int flags, BUF *out)
{
    const char *at = strrchr(addr, '@');
    size_t  local_len = at ? (size_t) (at - addr) : strlen(addr);
    BUF    *tmp = buf_alloc(64);
    char   *p;

    buf_set(tmp, addr);
    p = buf_str(tmp);
    if (flags & PIPE_FLAG_FOLD_USER) {
        p[local_len] = 0;
        dict_fold(p);
        if (at)
            p[local_len] = '@';
    }
    if ((flags & PIPE_FLAG_FOLD_HOST) && at)
        dict_fold(p + local_len + 1);
    if (flags & PIPE_FLAG_QUOTE)
        address_externalize(buf_str(tmp), out);
    else
        buf_set(out, buf_str(tmp));
    buf_free(tmp);
}

/* Per-recipient values and the storage behind them. */
typedef struct PIPE_RCPT_BUFS {
    BUF    *recipient, *original, *mailbox, *user, *extension, *domain;
} PIPE_RCPT_BUFS;

/* pipe_rcpt_vars - the per-recipient macros of one recipient */
static void pipe_rcpt_vars(const DELIVER_RCPT *rcpt, int flags, PIPE_RCPT_BUFS *b,
                           PIPE_RCPT_VARS *v)
{
    BUF    *folded = buf_alloc(64);
    const char *at;
    size_t  local_len, pos;

    b->recipient = buf_alloc(64);
    b->original = buf_alloc(64);
    b->mailbox = buf_alloc(64);
    b->user = buf_alloc(64);
    b->extension = buf_alloc(16);
    b->domain = buf_alloc(64);
    pipe_address(rcpt->address, flags, b->recipient);
    pipe_address(*rcpt->orig_addr ? rcpt->orig_addr : rcpt->address, flags, b->original);
    /* mailbox, user, extension and domain come from the folded, unquoted form */
    pipe_address(rcpt->address, flags & ~PIPE_FLAG_QUOTE, folded);
    at = strrchr(buf_str(folded), '@');
    local_len = at ? (size_t) (at - buf_str(folded)) : buf_len(folded);
    buf_append(b->mailbox, buf_str(folded), local_len);
    buf_set(b->domain, at ? at + 1 : "");
    if ((pos = split_addr(buf_str(b->mailbox), local_len,
                          config_str(P_recipient_delimiter))) > 0) {
        buf_append(b->user, buf_str(b->mailbox), pos);
        buf_append(b->extension, buf_str(b->mailbox) + pos + 1, local_len - pos - 1);
    } else {
        buf_set(b->user, buf_str(b->mailbox));
    }
    v->recipient = buf_str(b->recipient);
    v->original_recipient = buf_str(b->original);
    v->mailbox = buf_str(b->mailbox);
    v->user = buf_str(b->user);
    v->extension = buf_str(b->extension);
    v->domain = buf_str(b->domain);
    buf_free(folded);
}

static void pipe_rcpt_bufs_free(PIPE_RCPT_BUFS *b)
{
    buf_free(b->recipient);
    buf_free(b->original);
    buf_free(b->mailbox);
    buf_free(b->user);
    buf_free(b->extension);
    buf_free(b->domain);
}

/* pipe_attr_of - a queue file attribute, "" if absent */
static const char *pipe_attr_of(const QFILE_ENVELOPE *env, const char *name)
{
    const char *v = qfile_envelope_attr(env, name);

    return v ? v : "";
}

/* pipe_run - expand argv and run the command; the DELIVER_STAT_* */
static int pipe_run(const DELIVER_REQUEST *req, const QFILE_ENVELOPE *env, int qfd,
                    const char *service, BUF *dsn, BUF *reason)
{
    PIPE_RCPT_BUFS *bufs = xcalloc((size_t) req->nrcpt, sizeof(*bufs));
    PIPE_RCPT_VARS *rv = xcalloc((size_t) req->nrcpt, sizeof(*rv));
    PIPE_VARS vars;
    PIPE_COPY copy;
    BUF    *sender = buf_alloc(64), *nexthop = buf_alloc(64), *size = buf_alloc(16);
    BUF    *why = buf_alloc(100);
    const char *env_sender = *req->sender ? req->sender : pipe_attr.null_sender;
    char  **argv = NULL;
    int     i, in_fd = -1, stat;

    for (i = 0; i < req->nrcpt; i++)
        pipe_rcpt_vars(&req->rcpt[i], pipe_attr.flags, &bufs[i], &rv[i]);
    if (pipe_attr.flags & PIPE_FLAG_QUOTE)
        address_externalize(env_sender, sender);
    else
        buf_set(sender, env_sender);
    buf_set(nexthop, req->nexthop);
    if (pipe_attr.flags & PIPE_FLAG_FOLD_HOST)
        dict_fold(buf_str(nexthop));
    buf_sprintf(size, "%ld", req->data_size);
    memset(&vars, 0, sizeof(vars));
    vars.sender = buf_str(sender);
    vars.nexthop = buf_str(nexthop);
    vars.queue_id = req->queue_id;
    vars.size = buf_str(size);
    vars.client_address = pipe_attr_of(env, MAIL_ATTR_CLIENT_ADDR);
    vars.client_hostname = pipe_attr_of(env, MAIL_ATTR_CLIENT_NAME);
    vars.client_helo = pipe_attr_of(env, MAIL_ATTR_HELO);
    vars.client_protocol = pipe_attr_of(env, MAIL_ATTR_PROTO_NAME);
    vars.client_port = pipe_attr_of(env, "client_port");
    vars.sasl_method = pipe_attr_of(env, "sasl_method");
    vars.sasl_sender = pipe_attr_of(env, "sasl_sender");
    vars.sasl_username = pipe_attr_of(env, "sasl_username");
    vars.nrcpt = req->nrcpt;
    vars.rcpt = rv;

    copy.sender = env_sender;
    copy.delivered = req->rcpt[0].address;
    copy.orig_rcpt = *req->rcpt[0].orig_addr ? req->rcpt[0].orig_addr : req->rcpt[0].address;
    if ((argv = pipe_expand_argv(pipe_attr.argc, pipe_attr.argv, &vars, why)) == NULL) {
        buf_set(dsn, "4.3.5");
        buf_sprintf(reason, "mail system configuration error: %s", buf_str(why));
        stat = DELIVER_STAT_DEFER;
    } else if ((in_fd = memfd_create("surel-pipe", MFD_CLOEXEC)) < 0
               || pipe_copy(qfd, env, &pipe_attr, &copy, in_fd, why) < 0
               || lseek(in_fd, 0, SEEK_SET) < 0) {
        if (in_fd < 0 || buf_len(why) == 0)
            buf_sprintf(why, "%s", strerror(errno));
        buf_set(dsn, "4.3.0");
        buf_sprintf(reason, "cannot run command: %s", buf_str(why));
        stat = DELIVER_STAT_DEFER;
    } else if ((stat = pipe_command(argv, &pipe_attr, in_fd, pipe_time_limit, dsn,
                                    reason)) == DELIVER_STAT_OK) {
        buf_sprintf(reason, "delivered via %s service", service);
    }
    if (in_fd >= 0)
        close(in_fd);
    pipe_argv_free(argv);
    for (i = 0; i < req->nrcpt; i++)
        pipe_rcpt_bufs_free(&bufs[i]);
    xfree(bufs);
    xfree(rv);
    buf_free(sender);
    buf_free(nexthop);
    buf_free(size);
    buf_free(why);
    return stat;
}

/* pipe_check - what refuses a request before anything runs; -1 if none */
static int pipe_check(const DELIVER_REQUEST *req, const char *service, BUF *dsn, BUF *reason)
{
    static const struct {
        int     flag;
        char    letter;
    } single[] = {{PIPE_FLAG_DELIVERED, 'D'}, {PIPE_FLAG_ORIG_RCPT, 'O'}};
    size_t  i;

    for (i = 0; i < sizeof(single) / sizeof(single[0]); i++) {
        if ((pipe_attr.flags & single[i].flag) && req->nrcpt > 1) {
            msg_warn("pipe flag `%c' requires %s_destination_recipient_limit = 1",
                     single[i].letter, service);
            buf_set(dsn, "4.3.5");
            buf_set(reason, "mail system configuration error");
            return DELIVER_STAT_DEFER;
        }
    }
    if (pipe_attr.size_limit > 0 && req->data_size > pipe_attr.size_limit) {
        buf_set(dsn, "5.2.3");
        buf_set(reason, "message too large");
        return DELIVER_STAT_BOUNCE;
    }
    return -1;
}

/* pipe_request - deliver one request and answer it; -1 when the client is gone */
static int pipe_request(STREAM *client, DELIVER_REQUEST *req, const char *service)
{
    QFILE_ENVELOPE env;
    BUF    *dsn = buf_alloc(16), *reason = buf_alloc(100), *why = buf_alloc(100);
    int     fd = -1, i, stat, ret = 0, have_env = 0;

    memset(&env, 0, sizeof(env));
    if ((stat = pipe_check(req, service, dsn, reason)) >= 0) {
        /* refused as a whole */
    } else if ((fd = deliver_request_open(req, config_str(P_queue_directory), why)) < 0
               || qfile_read_envelope(fd, &env, why) < 0) {
        have_env = fd >= 0;
        msg_warn("%s: %s", req->queue_id, buf_str(why));
        buf_set(dsn, "4.3.0");
        buf_sprintf(reason, "cannot read queue file: %s", buf_str(why));
        stat = DELIVER_STAT_DEFER;
    } else {
        have_env = 1;
        stat = pipe_run(req, &env, fd, service, dsn, reason);
    }
    /* Release the shared lock before the replies: qmgr may lock the file
     * as soon as it has the answer (deliver_request.h). */
    if (fd >= 0)
        close(fd);
    if (have_env)
        qfile_envelope_free(&env);
    for (i = 0; i < req->nrcpt && ret == 0; i++) {
        DELIVER_LOG ev = {.queue_id = req->queue_id, .to = req->rcpt[i].address,
            .orig_to = req->rcpt[i].orig_addr, .relay = service,
            .arrival = {req->arrival, 0}, .handoff = req->start, .dsn = buf_str(dsn),
        .status = deliver_log_status(stat), .reason = buf_str(reason)};

        deliver_log(&ev);
        ret = deliver_reply_rcpt(client, &req->rcpt[i], stat, buf_str(dsn), buf_str(reason));
    }
    if (ret == 0)
        ret = deliver_reply_done(client, 0);
    if (ret < 0)
        msg_warn("%s: reply to qmgr: %s", req->queue_id, attr_last_error());
    buf_free(dsn);
    buf_free(reason);
    buf_free(why);
    return ret;
}

/* The service name for pipe_request (deliver_request_serve's callback
 * takes only the client and the request). */
static const char *pipe_service_name;

static int pipe_request_fn(STREAM *client, DELIVER_REQUEST *req)
{
    return pipe_request(client, req, pipe_service_name);
}

/* pipe_service - serve one client: requests until it hangs up */
void    pipe_service(STREAM *client, const SERVER_CTX *ctx)
{
    pipe_service_name = ctx->service;
    deliver_request_serve(client, pipe_request_fn);
}
