/* check_smtp_reply - reading server replies, and the next-hop syntax. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "smtp.h"
#include "testsupport.h"

START_TEST(test_replies)
{
    static const struct {
        const char *lines[4];
        int     result;             /* of the last line given */
        int     code;
        const char *dsn, *text;
    } t[] = {
        {{"250 2.1.5 Ok"}, 1, 250, "2.1.5", "250 2.1.5 Ok"},
        {{"250 Ok"}, 1, 250, "2.0.0", "250 Ok"},
        {{"250"}, 1, 250, "2.0.0", "250"},
        {{"550-5.1.1 first", "550 5.1.1 second"}, 1, 550, "5.1.1", "550-5.1.1 first 550 5.1.1 second"},
        {{"250-mx.example", "250-PIPELINING"}, 0, 250, "2.0.0", "250-mx.example 250-PIPELINING"},
        /* A class that contradicts the code is not believed. */
        {{"550 4.1.1 odd"}, 1, 550, "5.0.0", "550 4.1.1 odd"},
        {{"452 4.5.3 Too many recipients"}, 1, 452, "4.5.3", "452 4.5.3 Too many recipients"},
        {{"421 4.4.2 x.y.z"}, 1, 421, "4.4.2", "421 4.4.2 x.y.z"},
        {{"250 2.1.5x no code"}, 1, 250, "2.0.0", "250 2.1.5x no code"},
        {{"250 2.1234.5 too long"}, 1, 250, "2.0.0", "250 2.1234.5 too long"},
        {{"250 ctl\001\177x"}, 1, 250, "2.0.0", "250 ctl??x"},
        {{"hello"}, -1, 0, "", "hello"},
        {{"25"}, -1, 0, "", "25"},
        {{"2500 x"}, -1, 0, "", "2500 x"},
        {{"650 x"}, -1, 0, "", "650 x"},
        {{"250-a", "550 b"}, -1, 0, "", "reply code changed within a multi-line reply"},
    };
    SMTP_REPLY r;
    size_t  i;
    int     k, got = 0;

    smtp_reply_init(&r);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        smtp_reply_reset(&r);
        for (k = 0; k < 4 && t[i].lines[k]; k++)
            got = smtp_reply_line(&r, t[i].lines[k], strlen(t[i].lines[k]));
        ck_assert_msg(got == t[i].result && r.code == t[i].code && strcmp(r.dsn, t[i].dsn) == 0
                      && strcmp(buf_str(r.text), t[i].text) == 0,
                      "\"%s\": got %d %d %s \"%s\"", t[i].lines[0], got, r.code, r.dsn,
                      buf_str(r.text));
    }
    smtp_reply_free(&r);
}
END_TEST

START_TEST(test_reply_bounds)
{
    SMTP_REPLY r;
    int     i, got = 0;

    smtp_reply_init(&r);
    for (i = 0; i <= SMTP_REPLY_LINES_MAX && got == 0; i++)
        got = smtp_reply_line(&r, "250-x", 5);
    ck_assert_int_eq(got, -1);
    ck_assert_int_eq(i, SMTP_REPLY_LINES_MAX + 1);
    smtp_reply_reset(&r);
    {
        static char longline[3 * SMTP_REPLY_TEXT_MAX];

        memset(longline, 'x', sizeof(longline));
        memcpy(longline, "250 ", 4);
        ck_assert_int_eq(smtp_reply_line(&r, longline, sizeof(longline)), 1);
        ck_assert_uint_eq(buf_len(r.text), SMTP_REPLY_TEXT_MAX);
    }
    smtp_reply_free(&r);
}
END_TEST

START_TEST(test_hops)
{
    static const struct {
        const char *text;
        int     ok, kind, port, literal;
        const char *host;
    } t[] = {
        {"[127.0.0.1]:2525", 1, SMTP_HOP_INET, 2525, 1, "127.0.0.1"},
        {"[127.0.0.1]", 1, SMTP_HOP_INET, 25, 1, "127.0.0.1"},
        {"[ipv6:::1]:26", 1, SMTP_HOP_INET, 26, 1, "::1"},
        {"[::1]", 1, SMTP_HOP_INET, 25, 1, "::1"},
        {"example.com", 1, SMTP_HOP_INET, 25, 0, "example.com"},
        {"example.com:587", 1, SMTP_HOP_INET, 587, 0, "example.com"},
        {"inet:127.0.0.1:24", 1, SMTP_HOP_INET, 24, 0, "127.0.0.1"},
        {"unix:private/dovecot-lmtp", 1, SMTP_HOP_UNIX, 0, 1, "private/dovecot-lmtp"},
        {"[mx.example]:smtp", 1, SMTP_HOP_INET, 25, 1, "mx.example"},
        {"[127.0.0.1", 0, 0, 0, 0, ""},
        {"[127.0.0.1]x", 0, 0, 0, 0, ""},
        {"[127.0.0.1]:0", 0, 0, 0, 0, ""},
        {"[127.0.0.1]:65536", 0, 0, 0, 0, ""},
        {"[127.0.0.1]:nosuchservice", 0, 0, 0, 0, ""},
        {"[]:25", 0, 0, 0, 0, ""},
        {"unix:", 0, 0, 0, 0, ""},
    };
    SMTP_HOP hop;
    BUF    *why = buf_alloc(32);
    size_t  i;
    int     rc;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        rc = smtp_hop_parse(t[i].text, 25, &hop, why);
        ck_assert_msg((rc == 0) == t[i].ok, "%s: %d %s", t[i].text, rc, buf_str(why));
        if (rc == 0)
            ck_assert_msg((int) hop.kind == t[i].kind && hop.port == t[i].port
                          && hop.literal == t[i].literal && strcmp(hop.host, t[i].host) == 0,
                          "%s: got %d %s %d %d", t[i].text, hop.kind, hop.host, hop.port,
                          hop.literal);
    }
    buf_free(why);
}
END_TEST

START_TEST(test_hop_list)
{
    SMTP_HOP hops[SMTP_HOPS_MAX];
    BUF    *why = buf_alloc(32);

    /* relayhost is a list; the fallback relay follows other destinations. */
    ck_assert_int_eq(smtp_hop_list("[127.0.0.1]:1, [127.0.0.1]:2", "[127.0.0.1]:1, [127.0.0.1]:2",
                                   "[127.0.0.2]:3", 25, hops, why), 2);
    ck_assert_int_eq(hops[1].port, 2);
    ck_assert_int_eq(smtp_hop_list("[127.0.0.1]:1", "", "[127.0.0.2]:3 [127.0.0.3]", 25, hops,
                                   why), 3);
    ck_assert_str_eq(hops[2].host, "127.0.0.3");
    ck_assert_int_eq(smtp_hop_list("", "", "", 25, hops, why), -1);
    ck_assert_int_eq(smtp_hop_list("[127.0.0.1]:1, [x", "", "", 25, hops, why), -1);
    buf_free(why);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_reply");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_replies);
    tcase_add_test(tc, test_reply_bounds);
    tcase_add_test(tc, test_hops);
    tcase_add_test(tc, test_hop_list);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
