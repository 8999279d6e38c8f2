/* check_smtp_cache - the session record a cached connection carries. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "smtp.h"
#include "testsupport.h"

START_TEST(test_props_round_trip)
{
    SMTP_CONN c, back;
    BUF    *out = buf_alloc(64);

    memset(&c, 0, sizeof(c));
    c.features = 31;
    c.peer_size = 10240000;
    c.created = 1700000000;
    c.uses = 3;
    c.peer.port = 2525;
    strcpy(c.peer.name, "mx.example");
    strcpy(c.peer.addr, "192.0.2.1");
    smtp_cache_props_format(&c, out);
    ck_assert_int_eq(smtp_cache_props_parse(buf_str(out), &back), 0);
    ck_assert_int_eq(back.features, 31);
    ck_assert_int_eq(back.peer_size, 10240000);
    ck_assert_int_eq(back.created, 1700000000);
    ck_assert_int_eq(back.uses, 3);
    ck_assert_str_eq(back.peer.relay, "mx.example[192.0.2.1]:2525");
    /* A UNIX-domain peer has no port in relay=. */
    c.peer.port = 0;
    strcpy(c.peer.addr, "private/dovecot-lmtp");
    smtp_cache_props_format(&c, out);
    ck_assert_int_eq(smtp_cache_props_parse(buf_str(out), &back), 0);
    ck_assert_str_eq(back.peer.relay, "mx.example[private/dovecot-lmtp]");
    buf_free(out);
}
END_TEST

START_TEST(test_props_refused)
{
    static const char *bad[] = {
        "", "1 2 3", "1 2 3 4 5", "1 2 3 4 5\tname", "1 2 3 4 5\t\taddr", "1 2 3 4 5\tname\t",
        "1 2 3 0 25\tname\taddr",           /* a session that never carried mail */
        "1 2 3 4 70000\tname\taddr", "1 2 3 4 -1\tname\taddr", "1 2 3 4 25 \tname\taddr",
        "1 2 3 4 25\tname\taddr\textra",
    };
    SMTP_CONN c;
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(smtp_cache_props_parse(bad[i], &c) == -1, "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_label)
{
    DELIVER_REQUEST req;
    SMTP_MSG m;
    BUF    *a = buf_alloc(64), *b = buf_alloc(64);

    memset(&req, 0, sizeof(req));
    memset(&m, 0, sizeof(m));
    req.nexthop = "[mx.example]:25";
    m.req = &req;
    m.tls.level = SMTP_TLS_MAY;
    smtp_cache_label(&m, "smtp", a);
    ck_assert_str_eq(buf_str(a), "smtp:smtp:[mx.example]:25:tls=may");
    /* Another TLS policy, service, protocol or next hop: another label. */
    m.tls.level = SMTP_TLS_ENCRYPT;
    smtp_cache_label(&m, "smtp", b);
    ck_assert_str_ne(buf_str(a), buf_str(b));
    m.tls.level = SMTP_TLS_MAY;
    smtp_cache_label(&m, "relay", b);
    ck_assert_str_ne(buf_str(a), buf_str(b));
    m.lmtp = 1;
    smtp_cache_label(&m, "smtp", b);
    ck_assert_str_ne(buf_str(a), buf_str(b));
    m.lmtp = 0;
    req.nexthop = "[mx2.example]:25";
    smtp_cache_label(&m, "smtp", b);
    ck_assert_str_ne(buf_str(a), buf_str(b));
    buf_free(a);
    buf_free(b);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_cache");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_props_round_trip);
    tcase_add_test(tc, test_props_refused);
    tcase_add_test(tc, test_label);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
