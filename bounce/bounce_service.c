/* bounce_service - the bounce protocol of mail_proto.h: append, flush, warn.
 *
 * append  one recipient's status into bounce/<ID> (failed, delivered,
 *         expanded) or defer/<ID> (delayed), on disk before we answer;
 * flush   one notice from bounce/<ID> to the sender (or, for a message
 *         with the null sender, to $2bounce_notice_recipient), then the
 *         log goes; answered 0 only once cleanup has committed the notice;
 * warn    one delay notice from defer/<ID>; the log stays.
 * Every request is one attribute list, read whole and checked for exactly
 * the names of its kind; anything else ends the session with status 1.
 * A queue ID or queue name is only ever used in a path after it was
 * checked (queue_id_valid, a fixed list of folders).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "attr.h"
#include "bounce.h"
#include "config.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "queue_id.h"

/* The shapes of the three requests (names in order). */
static const char *const bounce_append_names[] = {
    MAIL_ATTR_REQ, MAIL_ATTR_QUEUEID, MAIL_ATTR_ORCPT, MAIL_ATTR_RECIP,
    MAIL_ATTR_DSN_ORCPT, MAIL_ATTR_DSN_NOTIFY, MAIL_ATTR_OFFSET,
    MAIL_ATTR_DSN_STATUS, MAIL_ATTR_DSN_ACTION, MAIL_ATTR_WHY, NULL,
};
static const char *const bounce_flush_names[] = {
    MAIL_ATTR_REQ, MAIL_ATTR_QUEUEID, MAIL_ATTR_QUEUE, MAIL_ATTR_SENDER,
    MAIL_ATTR_ENVID, MAIL_ATTR_RET, NULL,
};

/* Folders a message being bounced may be in. */
static const char *const bounce_queues[] = {
    MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD, NULL,
};

/* bounce_shape_ok - does the list hold exactly these names, in order? */
static int bounce_shape_ok(const ATTR_LIST *list, const char *const *names)
{
    int     i;

    for (i = 0; names[i]; i++)
        if (i >= list->count || strcmp(list->names[i], names[i]) != 0)
            return 0;
    return i == list->count;
}

/* bounce_number - a decimal attribute value within [0, max]; -1 if not */
static int bounce_number(const char *text, long max, long *value)
{
    char   *end;

    if (!isdigit((unsigned char) *text))
        return -1;
    errno = 0;
    *value = strtol(text, &end, 10);
    return errno || *end || *value > max ? -1 : 0;
}

/* bounce_status_ok - an enhanced status code "c.s.d" whose class fits */
static int bounce_status_ok(const char *status, BOUNCE_ACTION action)
{
    const char *cp = status;
    int     part, digits;
    char    want = action == BOUNCE_ACT_FAILED ? '5'
        : action == BOUNCE_ACT_DELAYED ? '4' : '2';

    if (*cp != want && !(action == BOUNCE_ACT_FAILED && *cp == '4'))
        return 0;
    for (part = 0; part < 3; part++) {
        for (digits = 0; isdigit((unsigned char) *cp); cp++)
            digits++;
        if (digits < 1 || digits > 3 || (part < 2 && *cp++ != '.'))
            return 0;
    }
    return *cp == 0;
}

/* bounce_cut - a bounded copy of an outside value */
static char *bounce_cut(const char *id, const char *what, const char *value, size_t max)
{
    if (strlen(value) > max) {
        msg_warn("%s: %s longer than %lu bytes: truncated", id, what, (unsigned long) max);
        return xstrndup(value, max);
    }
    return xstrdup(value);
}

/* bounce_append - store one recipient's status (append request) */
static int bounce_append(const char *queue_dir, const ATTR_LIST *list)
{
    const char *id = list->values[1];
    BOUNCE_ENTRY entry;
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    long    notify, offset;
    int     ret = -1;

    memset(&entry, 0, sizeof(entry));
    if (!queue_id_valid(id)) {
        msg_warn("append request: bad queue ID");
    } else if (bounce_action_parse(list->values[8], &entry.action) < 0) {
        msg_warn("%s: append request: unknown dsn_action \"%.40s\"", id, list->values[8]);
    } else if (bounce_number(list->values[5], 0xffff, &notify) < 0
               || bounce_number(list->values[6], 1L << 40, &offset) < 0) {
        msg_warn("%s: append request: bad dsn_notify or offset", id);
    } else {
        entry.offset = offset;
        entry.notify = (int) notify;
        entry.orig_rcpt = bounce_cut(id, "original recipient", list->values[2], BOUNCE_ADDR_MAX);
        entry.recipient = bounce_cut(id, "recipient", list->values[3], BOUNCE_ADDR_MAX);
        entry.dsn_orcpt = bounce_cut(id, "ORCPT", list->values[4], BOUNCE_ADDR_MAX);
        entry.reason = bounce_cut(id, "reason", list->values[9], BOUNCE_REASON_MAX);
        /* A missing or odd code gets the generic one of its class. */
        entry.status = xstrdup(bounce_status_ok(list->values[7], entry.action)
                               ? list->values[7]
                               : entry.action == BOUNCE_ACT_FAILED ? "5.0.0"
                               : entry.action == BOUNCE_ACT_DELAYED ? "4.0.0" : "2.0.0");
        bounce_log_path(path, queue_dir, entry.action == BOUNCE_ACT_DELAYED
                        ? MAIL_QUEUE_DEFER : MAIL_QUEUE_BOUNCE, id);
        if ((ret = bounce_log_append(buf_str(path), &entry, why)) < 0)
            msg_warn("%s: %s", id, buf_str(why));
        bounce_entry_free(&entry);
    }
    buf_free(path);
    buf_free(why);
    return ret;
}

/* A flush or warn request, checked. */
typedef struct BOUNCE_REQ {
    const char *id;
    const char *queue;
    const char *sender;
    const char *envid;
    int     ret;
} BOUNCE_REQ;

/* bounce_send_notice - read the original, compose, queue through cleanup.
 * 0 once cleanup committed the notice; -1 (logged) otherwise. */
static int bounce_send_notice(const char *queue_dir, const BOUNCE_REQ *req, BOUNCE_KIND kind,
                              const BOUNCE_ENTRY *const *entries, int count,
                              const char *env_sender, const char *rcpt)
{
    BOUNCE_INFO info;
    BOUNCE_TEXT original, notice;
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    BUF    *new_id = buf_alloc(QUEUE_ID_BUFSZ);
    STREAM *cleanup = NULL;
    int     rc, ret = -1;

    memset(&info, 0, sizeof(info));
    bounce_text_init(&original);
    bounce_text_init(&notice);
    bounce_log_path(path, queue_dir, req->queue, req->id);
    rc = bounce_original_read(buf_str(path), req->ret, config_int(P_bounce_size_limit),
                              &original, &info.arrival, why);
    if (rc == -1) {
        msg_warn("%s: cannot read the message to return: %s", req->id, buf_str(why));
        goto done;
    }
    if (rc == -2)
        msg_warn("%s: message to return is damaged (%s): sending the notice without it",
                 req->id, buf_str(why));
    if (bounce_cleanup_open(queue_dir, (int) config_time(P_ipc_timeout),
                            &cleanup, new_id, why) < 0) {
        msg_warn("%s: cannot queue a notice: %s", req->id, buf_str(why));
        goto done;
    }
    info.kind = kind;
    info.queue_id = req->id;
    info.new_id = buf_str(new_id);
    info.sender = req->sender;
    info.to = rcpt;
    info.envid = req->envid;
    info.ret = req->ret;
    info.hostname = config_str(P_myhostname);
    info.postmaster = "postmaster";
    info.now = time(NULL);
    info.warn_after = config_time(P_delay_warning_time);
    info.lifetime = config_time(P_maximal_queue_lifetime);
    bounce_dsn_compose(&notice, &info, entries, count, rc == 0 ? &original : NULL);
    if (bounce_cleanup_send(cleanup, env_sender, rcpt, &notice, why) < 0) {
        msg_warn("%s: cannot queue a notice: %s", req->id, buf_str(why));
        goto done;
    }
    msg_info("%s: %s %s notification: %s", req->id,
             kind == BOUNCE_KIND_POSTMASTER ? "postmaster" : "sender",
             kind == BOUNCE_KIND_DELAY ? "delay"
             : kind == BOUNCE_KIND_SUCCESS ? "delivery status" : "non-delivery",
             buf_str(new_id));
    ret = 0;
done:
    if (cleanup)
        stream_close(cleanup);
    bounce_text_free(&original);
    bounce_text_free(&notice);
    buf_free(path);
    buf_free(why);
    buf_free(new_id);
    return ret;
}

/* bounce_select - the entries whose NOTIFY asks for a notice of this sort;
 * *failed counts the failures among them */
static int bounce_select(const BOUNCE_LOG *log, int delayed, const BOUNCE_ENTRY **out,
                         int *failed)
{
    int     i, n = 0;

    *failed = 0;
    for (i = 0; i < log->count; i++) {
        const BOUNCE_ENTRY *e = &log->entries[i];

        if ((e->action == BOUNCE_ACT_DELAYED) != delayed
            || !bounce_notify_wants(e->notify, e->action))
            continue;
        if (e->action == BOUNCE_ACT_FAILED)
            (*failed)++;
        out[n++] = e;
    }
    return n;
}

/* bounce_flush_log - the notice for bounce/<ID>; the log goes once it is queued */
static int bounce_flush_log(const char *queue_dir, const BOUNCE_REQ *req, const char *log_path,
                            BOUNCE_LOG *log)
{
    const BOUNCE_ENTRY **chosen = xcalloc((size_t) log->count + 1, sizeof(*chosen));
    BUF    *rcpt = buf_alloc(100);
    BUF    *dbl = buf_alloc(100);
    int     count, failed, ret = 0;

    bounce_log_dedup(log);
    count = bounce_select(log, 0, chosen, &failed);
    address_qualify(config_str(P_double_bounce_sender), dbl);
    if (*req->sender == 0 || strcasecmp(req->sender, buf_str(dbl)) == 0) {
        /* Only failures matter here: nobody gets success notices for <>. */
        count = failed ? count : 0;
        if (count && *req->sender) {
            msg_warn("%s: undeliverable postmaster notification discarded", req->id);
            count = 0;
        }
    }
    if (count > 0) {
        if (*req->sender == 0) {
            address_qualify(config_str(P_2bounce_notice_recipient), rcpt);
            ret = bounce_send_notice(queue_dir, req, BOUNCE_KIND_POSTMASTER, chosen, count,
                                     buf_str(dbl), buf_str(rcpt));
        } else {
            ret = bounce_send_notice(queue_dir, req, failed ? BOUNCE_KIND_FAILURE
                                     : BOUNCE_KIND_SUCCESS, chosen, count, "", req->sender);
        }
    }
    if (ret == 0 && unlink(log_path) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", req->id, log_path);
    xfree(chosen);
    buf_free(rcpt);
    buf_free(dbl);
    return ret;
}

/* bounce_warn_log - a delay notice for defer/<ID>; the log stays */
static int bounce_warn_log(const char *queue_dir, const BOUNCE_REQ *req, BOUNCE_LOG *log)
{
    const BOUNCE_ENTRY **chosen = xcalloc((size_t) log->count + 1, sizeof(*chosen));
    int     count, failed, ret = 0;

    bounce_log_dedup(log);
    count = bounce_select(log, 1, chosen, &failed);
    /* Delay warnings go to real senders only. */
    if (count > 0 && *req->sender)
        ret = bounce_send_notice(queue_dir, req, BOUNCE_KIND_DELAY, chosen, count,
                                 "", req->sender);
    xfree(chosen);
    return ret;
}

/* bounce_flush_or_warn - the flush and warn requests */
static int bounce_flush_or_warn(const char *queue_dir, const ATTR_LIST *list, int warn)
{
    BOUNCE_REQ req;
    BOUNCE_LOG log;
    BUF    *path = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    int     i, rc, ret = -1;

    req.id = list->values[1];
    req.queue = list->values[2];
    req.sender = list->values[3];
    req.envid = list->values[4];
    req.ret = bounce_ret_parse(list->values[5]);
    for (i = 0; bounce_queues[i] && strcmp(bounce_queues[i], req.queue) != 0; i++)
         /* void */ ;
    if (!queue_id_valid(req.id) || bounce_queues[i] == NULL) {
        msg_warn("%s request: bad queue ID or queue name", warn ? "warn" : "flush");
        buf_free(path);
        buf_free(why);
        return -1;
    }
    bounce_log_init(&log);
    bounce_log_path(path, queue_dir, warn ? MAIL_QUEUE_DEFER : MAIL_QUEUE_BOUNCE, req.id);
    if ((rc = bounce_log_read(buf_str(path), &log, why)) < 0)
        msg_warn("%s: %s", req.id, buf_str(why));
    else if (rc == 0)
        ret = 0;                        /* nothing was logged: nothing to say */
    else
        ret = warn ? bounce_warn_log(queue_dir, &req, &log)
            : bounce_flush_log(queue_dir, &req, buf_str(path), &log);
    bounce_log_free(&log);
    buf_free(path);
    buf_free(why);
    return ret;
}

/* bounce_service - one client: requests until it hangs up */
void bounce_service(STREAM *client, const char *queue_dir)
{
    ATTR_LIST list;
    const char *req;
    int     ret;

    memset(&list, 0, sizeof(list));
    for (;;) {
        if (attr_recv_list(client, &list) < 0) {
            if (!attr_last_eof())
                msg_warn("read request: %s", attr_last_error());
            break;
        }
        req = list.count > 0 && strcmp(list.names[0], MAIL_ATTR_REQ) == 0 ? list.values[0] : "";
        if (strcmp(req, BOUNCE_REQ_APPEND) == 0 && bounce_shape_ok(&list, bounce_append_names)) {
            ret = bounce_append(queue_dir, &list);
        } else if ((strcmp(req, BOUNCE_REQ_FLUSH) == 0 || strcmp(req, BOUNCE_REQ_WARN) == 0)
                   && bounce_shape_ok(&list, bounce_flush_names)) {
            ret = bounce_flush_or_warn(queue_dir, &list, strcmp(req, BOUNCE_REQ_WARN) == 0);
        } else {
            msg_warn("malformed request \"%.40s\" with %d attributes", req, list.count);
            (void) attr_send(client, SEND_INT(MAIL_ATTR_STATUS, 1), ATTR_END);
            break;
        }
        attr_list_free(&list);
        if (attr_send(client, SEND_INT(MAIL_ATTR_STATUS, ret == 0 ? 0 : 1), ATTR_END) < 0) {
            msg_warn("reply to client: %s", attr_last_error());
            break;
        }
    }
    attr_list_free(&list);
}
