/* check_deliver_request - the delivery agents' request reader and replies,
 * fed real attribute streams over a socketpair: a good request, too many
 * recipients, over-long fields, missing fields, bad numbers. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "config.h"
#include "deliver_request.h"
#include "mail_proto.h"
#include "mem.h"
#include "stream.h"
#include "testsupport.h"

#define GOOD_ID "4Xk9Bc1wFqz7"

static STREAM *qmgr_end, *agent_end;

static void pair_open(void)
{
    int     sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    qmgr_end = stream_fdopen(sv[0]);
    agent_end = stream_fdopen(sv[1]);
    stream_set_timeout(qmgr_end, 5);
    stream_set_timeout(agent_end, 5);
}

static void pair_close(void)
{
    stream_close(qmgr_end);
    stream_close(agent_end);
}

/* The fields of a request head, as qmgr sends them. */
typedef struct HEAD {
    const char *queue, *id, *nexthop, *sender, *envid, *ret;
    long    offset, size, arrival;
    int     nrcpt;
} HEAD;

static HEAD good_head(void)
{
    HEAD    h = {"active", GOOD_ID, "x.test", "s@example.org", "env1", "FULL", 300, 42,
    1700000000L, 2};

    return h;
}

static void send_head(const HEAD *h)
{
    ck_assert_int_eq(attr_send(qmgr_end, SEND_INT(MAIL_ATTR_FLAGS, 0),
                               SEND_STR(MAIL_ATTR_QUEUE, h->queue),
                               SEND_STR(MAIL_ATTR_QUEUEID, h->id),
                               SEND_LONG(MAIL_ATTR_OFFSET, h->offset),
                               SEND_LONG(MAIL_ATTR_SIZE, h->size),
                               SEND_STR(MAIL_ATTR_NEXTHOP, h->nexthop),
                               SEND_STR(MAIL_ATTR_SENDER, h->sender),
                               SEND_STR(MAIL_ATTR_ENVID, h->envid),
                               SEND_STR(MAIL_ATTR_RET, h->ret),
                               SEND_LONG(MAIL_ATTR_ARRIVAL, h->arrival),
                               SEND_INT(MAIL_ATTR_NRCPT, h->nrcpt), ATTR_END), 0);
}

static void send_rcpt(const char *orig, const char *addr, int notify, long offset)
{
    ck_assert_int_eq(attr_send(qmgr_end, SEND_STR(MAIL_ATTR_ORCPT, orig),
                               SEND_STR(MAIL_ATTR_RECIP, addr),
                               SEND_STR(MAIL_ATTR_DSN_ORCPT, ""),
                               SEND_INT(MAIL_ATTR_DSN_NOTIFY, notify),
                               SEND_LONG(MAIL_ATTR_OFFSET, offset), ATTR_END), 0);
}

/* refused - the read fails with a reason containing `want`; req is empty */
static void refused(const char *what, const char *want)
{
    DELIVER_REQUEST req;
    BUF    *why = buf_alloc(16);

    ck_assert_msg(deliver_request_read(agent_end, &req, why) == -1, "%s: accepted", what);
    ck_assert_msg(strstr(buf_str(why), want) != NULL, "%s: reason \"%s\", want \"%s\"", what,
                  buf_str(why), want);
    ck_assert_msg(req.nrcpt == 0 && req.rcpt == NULL && req.sender == NULL, "%s: not empty", what);
    buf_free(why);
}

START_TEST(test_good_request_and_replies)
{
    HEAD    h = good_head();
    DELIVER_REQUEST req;
    BUF    *why = buf_alloc(16), *dsn = buf_alloc(8), *reason = buf_alloc(8);
    long    offset;
    int     status;

    pair_open();
    send_head(&h);
    send_rcpt("Alias@x.test", "a@x.test", DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, 400);
    send_rcpt("", "b@x.test", 0, 500);
    ck_assert_int_eq(deliver_request_read(agent_end, &req, why), 1);
    ck_assert_str_eq(req.queue_name, "active");
    ck_assert_str_eq(req.queue_id, GOOD_ID);
    ck_assert_str_eq(req.nexthop, "x.test");
    ck_assert_str_eq(req.sender, "s@example.org");
    ck_assert_str_eq(req.dsn_envid, "env1");
    ck_assert_str_eq(req.dsn_ret, "FULL");
    ck_assert_int_eq(req.data_offset, 300);
    ck_assert_int_eq(req.data_size, 42);
    ck_assert_int_eq(req.arrival, 1700000000L);    /* a number, not text */
    ck_assert_int_eq(req.nrcpt, 2);
    ck_assert_str_eq(req.rcpt[0].orig_addr, "Alias@x.test");
    ck_assert_str_eq(req.rcpt[0].address, "a@x.test");
    ck_assert_int_eq(req.rcpt[0].dsn_notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    ck_assert_int_eq(req.rcpt[0].offset, 400);
    ck_assert_str_eq(req.rcpt[1].orig_addr, "");
    ck_assert_int_eq(req.rcpt[1].offset, 500);
    ck_assert(req.start.tv_sec > 0);

    /* Replies, as qmgr reads them. */
    ck_assert_int_eq(deliver_reply_rcpt(agent_end, &req.rcpt[1], DELIVER_STAT_DEFER, "4.2.0",
                                        "later"), 0);
    ck_assert_int_eq(deliver_reply_done(agent_end, 0), 0);
    ck_assert_int_eq(attr_recv(qmgr_end, RECV_LONG(MAIL_ATTR_OFFSET, &offset),
                               RECV_INT(MAIL_ATTR_STATUS, &status),
                               RECV_STR(MAIL_ATTR_DSN_STATUS, dsn),
                               RECV_STR(MAIL_ATTR_WHY, reason), ATTR_END), 0);
    ck_assert_int_eq(offset, 500);
    ck_assert_int_eq(status, DELIVER_STAT_DEFER);
    ck_assert_str_eq(buf_str(dsn), "4.2.0");
    ck_assert_str_eq(buf_str(reason), "later");
    ck_assert_int_eq(attr_recv(qmgr_end, RECV_INT(MAIL_ATTR_STATUS, &status), ATTR_END), 0);
    ck_assert_int_eq(status, 0);
    deliver_request_free(&req);

    /* qmgr hangs up between requests: a clean end, no error. */
    stream_close(qmgr_end);
    qmgr_end = NULL;
    ck_assert_int_eq(deliver_request_read(agent_end, &req, why), 0);
    stream_close(agent_end);
    buf_free(why);
    buf_free(dsn);
    buf_free(reason);
}
END_TEST

/* Counts: 0, negative and more than DELIVER_RCPT_MAX recipients are
 * refused before any recipient is read (nothing is allocated for them). */
START_TEST(test_recipient_count)
{
    static const int counts[] = {0, -1, DELIVER_RCPT_MAX + 1, 2000000000};
    size_t  i;

    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        HEAD    h = good_head();

        pair_open();
        h.nrcpt = counts[i];
        send_head(&h);
        refused("nrcpt", MAIL_ATTR_NRCPT);
        pair_close();
    }
}
END_TEST

/* Fewer recipients than announced: the read fails at the end of input. */
START_TEST(test_missing_recipient)
{
    HEAD    h = good_head();

    pair_open();
    send_head(&h);
    send_rcpt("", "a@x.test", 0, 400);
    shutdown(stream_fd(qmgr_end), SHUT_WR);
    refused("one of two recipients", "recipient 2");
    pair_close();
}
END_TEST

/* Every length has its bound. */
START_TEST(test_overlong_fields)
{
    char   *big = xmalloc(DELIVER_ADDR_MAX + 2);
    char   *hop = xmalloc(DELIVER_NEXTHOP_MAX + 2);
    HEAD    h;
    int     i;

    memset(big, 'a', DELIVER_ADDR_MAX + 1);
    big[DELIVER_ADDR_MAX + 1] = 0;
    memset(hop, 'h', DELIVER_NEXTHOP_MAX + 1);
    hop[DELIVER_NEXTHOP_MAX + 1] = 0;
    for (i = 0; i < 6; i++) {
        const char *want;

        h = good_head();
        pair_open();
        switch (i) {
        case 0: h.sender = big; want = MAIL_ATTR_SENDER; break;
        case 1: h.nexthop = hop; want = MAIL_ATTR_NEXTHOP; break;
        case 2: h.ret = "FULLFULLFULL"; want = MAIL_ATTR_RET; break;
        case 3: h.queue = "activeactiveactiveactiveactiveactive"; want = MAIL_ATTR_QUEUE; break;
        case 4: h.id = "4Xk9Bc1wFqz7777777777777777"; want = MAIL_ATTR_QUEUEID; break;
        default: h.nrcpt = 1; want = MAIL_ATTR_RECIP; break;
        }
        send_head(&h);
        if (i == 5)
            send_rcpt("", big, 0, 400);
        refused(want, want);
        pair_close();
    }
    /* At the bound is fine. */
    big[DELIVER_ADDR_MAX] = 0;
    h = good_head();
    h.sender = big;
    h.nrcpt = 1;
    pair_open();
    send_head(&h);
    send_rcpt(big, big, 0, 400);
    {
        DELIVER_REQUEST req;
        BUF    *why = buf_alloc(16);

        ck_assert_msg(deliver_request_read(agent_end, &req, why) == 1, "%s", buf_str(why));
        ck_assert_uint_eq(strlen(req.rcpt[0].address), DELIVER_ADDR_MAX);
        deliver_request_free(&req);
        buf_free(why);
    }
    pair_close();
    xfree(big);
    xfree(hop);
}
END_TEST

/* A field left out, or one too many: strict order, as attr.h reads. */
START_TEST(test_missing_and_extra_fields)
{
    pair_open();
    ck_assert_int_eq(attr_send(qmgr_end, SEND_INT(MAIL_ATTR_FLAGS, 0),
                               SEND_STR(MAIL_ATTR_QUEUE, "active"),
                               SEND_STR(MAIL_ATTR_QUEUEID, GOOD_ID),
                               SEND_LONG(MAIL_ATTR_OFFSET, 1), SEND_LONG(MAIL_ATTR_SIZE, 1),
                               SEND_STR(MAIL_ATTR_NEXTHOP, ""), SEND_STR(MAIL_ATTR_SENDER, ""),
                               SEND_STR(MAIL_ATTR_ENVID, ""),
                               /* no dsn_ret */
                               SEND_LONG(MAIL_ATTR_ARRIVAL, 1),
                               SEND_INT(MAIL_ATTR_NRCPT, 1), ATTR_END), 0);
    refused("no dsn_ret", MAIL_ATTR_RET);
    pair_close();

    pair_open();
    {
        HEAD    h = good_head();

        h.nrcpt = 1;
        send_head(&h);
    }
    ck_assert_int_eq(attr_send(qmgr_end, SEND_STR(MAIL_ATTR_ORCPT, ""),
                               SEND_STR(MAIL_ATTR_RECIP, "a@x.test"),
                               SEND_INT(MAIL_ATTR_DSN_NOTIFY, 0),     /* no dsn_orig_rcpt */
                               SEND_LONG(MAIL_ATTR_OFFSET, 9), ATTR_END), 0);
    refused("no dsn_orig_rcpt", "recipient 1");
    pair_close();

    pair_open();
    {
        HEAD    h = good_head();

        h.nrcpt = 1;
        send_head(&h);
    }
    ck_assert_int_eq(attr_send(qmgr_end, SEND_STR(MAIL_ATTR_ORCPT, ""),
                               SEND_STR(MAIL_ATTR_RECIP, ""), SEND_STR(MAIL_ATTR_DSN_ORCPT, ""),
                               SEND_INT(MAIL_ATTR_DSN_NOTIFY, 0),
                               SEND_LONG(MAIL_ATTR_OFFSET, 9), ATTR_END), 0);
    refused("empty recipient", "empty address");
    pair_close();
}
END_TEST

/* Numbers: not digits, negative where that means nothing, unknown bits. */
START_TEST(test_bad_numbers)
{
    int     i;

    for (i = 0; i < 5; i++) {
        HEAD    h = good_head();
        const char *want = "negative";

        pair_open();
        switch (i) {
        case 0: h.offset = -1; break;
        case 1: h.size = -5; break;
        case 2: h.arrival = -1; break;
        default: h.nrcpt = 1; break;
        }
        if (i == 3) {
            /* arrival_time as text, the way local used to read it */
            ck_assert_int_eq(attr_send(qmgr_end, SEND_INT(MAIL_ATTR_FLAGS, 0),
                                       SEND_STR(MAIL_ATTR_QUEUE, "active"),
                                       SEND_STR(MAIL_ATTR_QUEUEID, GOOD_ID),
                                       SEND_LONG(MAIL_ATTR_OFFSET, 1),
                                       SEND_LONG(MAIL_ATTR_SIZE, 1),
                                       SEND_STR(MAIL_ATTR_NEXTHOP, ""),
                                       SEND_STR(MAIL_ATTR_SENDER, ""),
                                       SEND_STR(MAIL_ATTR_ENVID, ""),
                                       SEND_STR(MAIL_ATTR_RET, ""),
                                       SEND_STR(MAIL_ATTR_ARRIVAL, "yesterday"),
                                       SEND_INT(MAIL_ATTR_NRCPT, 1), ATTR_END), 0);
            want = MAIL_ATTR_ARRIVAL;
        } else {
            send_head(&h);
        }
        if (i == 4) {
            send_rcpt("", "a@x.test", 1 << 7, 400);
            want = MAIL_ATTR_DSN_NOTIFY;
        }
        refused("bad number", want);
        pair_close();
    }
    /* A recipient offset that is no number at all. */
    pair_open();
    {
        HEAD    h = good_head();

        h.nrcpt = 1;
        send_head(&h);
    }
    ck_assert_int_eq(attr_send(qmgr_end, SEND_STR(MAIL_ATTR_ORCPT, ""),
                               SEND_STR(MAIL_ATTR_RECIP, "a@x.test"),
                               SEND_STR(MAIL_ATTR_DSN_ORCPT, ""),
                               SEND_INT(MAIL_ATTR_DSN_NOTIFY, 0),
                               SEND_STR(MAIL_ATTR_OFFSET, "12x"), ATTR_END), 0);
    refused("offset 12x", "recipient 1");
    pair_close();
}
END_TEST

/* deliver_request_path: queue names and IDs from the request are checked
 * before they become a path (mail_queue_path hashes). */
START_TEST(test_path)
{
    static const struct {
        const char *queue, *id, *want;
    } t[] = {
        {"active", GOOD_ID, "/q/active/" GOOD_ID},
        {"deferred", GOOD_ID, "/q/deferred/q/" GOOD_ID},
        {"../etc", GOOD_ID, "bad queue name"},
        {"", GOOD_ID, "bad queue name"},
        {"private", "../../x", "bad queue ID"},
        {"active", "passwd", "bad queue ID"},
    };
    DELIVER_REQUEST req;
    BUF    *path = buf_alloc(16), *why = buf_alloc(16);
    size_t  i;
    int     got;

    config_reset();
    config_set("hash_queue_names", "deferred");
    config_set("hash_queue_depth", "1");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        memset(&req, 0, sizeof(req));
        snprintf(req.queue_name, sizeof(req.queue_name), "%s", t[i].queue);
        snprintf(req.queue_id, sizeof(req.queue_id), "%s", t[i].id);
        buf_reset(why);
        got = deliver_request_path(&req, "/q", path, why);
        ck_assert_msg(got == 0 ? strcmp(buf_str(path), t[i].want) == 0
                      : strstr(buf_str(why), t[i].want) != NULL,
                      "%s/%s: %d \"%s\" \"%s\"", t[i].queue, t[i].id, got, buf_str(path),
                      buf_str(why));
    }
    config_reset();
    buf_free(path);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("deliver_request");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_good_request_and_replies);
    tcase_add_test(tc, test_recipient_count);
    tcase_add_test(tc, test_missing_recipient);
    tcase_add_test(tc, test_overlong_fields);
    tcase_add_test(tc, test_missing_and_extra_fields);
    tcase_add_test(tc, test_bad_numbers);
    tcase_add_test(tc, test_path);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
