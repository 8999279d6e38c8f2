/* check_maildrop - the maildrop grammar and address checks
 * (lib/global/maildrop.c) that sendmail, postdrop and pickup rely on. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "testsupport.h"

/* A stream is written as "T:data|T:data|..." with T the record type. */
typedef struct STREAM_CASE {
    const char *records;
    long    size_limit;
    int     expect;                     /* result of the last record fed */
    const char *why_part;               /* expected in why when refused */
} STREAM_CASE;

static const STREAM_CASE cases[] = {
    /* Accepted. */
    {"S:alice|R:bob@example.org|M:|N:Subject: x|N:|N:body|X:|E:", 0, MAILDROP_DONE, NULL},
    {"A:flags=16|S:alice|M:|N:To: bob|X:|E:", 0, MAILDROP_DONE, NULL},
    {"A:flags=16|A:dsn_notify=10|S:alice|M:|N:To: bob|X:|E:", 0, MAILDROP_DONE, NULL},
    {"A:dsn_envid=abc|A:dsn_ret=HDRS|A:encoding=8bitmime|F:Alice Doe|S:|O:bob|o:rfc822;bob@x|n:6|R:bob|M:|L:aa|N:bb|X:|E:",
     0, MAILDROP_DONE, NULL},
    {"S:alice|R:bob@[127.0.0.1]|M:|N:x|X:|E:", 0, MAILDROP_DONE, NULL},
    /* DSN values as smtpd stores them (dsn.c): a decoded ENVID may hold
     * '+', '=' and blanks; ORCPT is "type;address" with a UTF-8 address. */
    {"A:dsn_envid=a+b =c|S:a|o:utf-8;j\xc3\xbcrgen@x|R:b|M:|X:|E:", 0, MAILDROP_DONE, NULL},
    /* Grammar. */
    {"R:bob|S:alice", 0, MAILDROP_BAD, "unexpected recipient"},
    {"S:alice|M:", 0, MAILDROP_BAD, "no recipients"},
    {"S:alice|S:alice", 0, MAILDROP_BAD, "unexpected sender"},
    {"F:a|F:b", 0, MAILDROP_BAD, "unexpected fullname"},
    {"S:alice|R:bob|A:flags=16", 0, MAILDROP_BAD, "unexpected attribute"},
    {"S:alice|O:bob|M:", 0, MAILDROP_BAD, "unexpected message_content"},
    {"S:alice|R:bob|M:|L:a|X:", 0, MAILDROP_BAD, "unexpected extracted"},
    {"S:alice|R:bob|M:|N:a|X:|R:carol", 0, MAILDROP_BAD, "unexpected recipient"},
    {"S:alice|R:bob|M:|N:a|X:|E:|E:", 0, MAILDROP_BAD, "unexpected end"},
    {"C:1 2 3|S:alice", 0, MAILDROP_BAD, "unexpected size"},
    {"S:alice|R:bob|D:carol", 0, MAILDROP_BAD, "unexpected done_recipient"},
    {"S:alice|R:bob|W:1", 0, MAILDROP_BAD, "unexpected warning_time"},
    {"T:1 2|S:alice", 0, MAILDROP_BAD, "unexpected time"},
    {"?:x", 0, MAILDROP_BAD, "unknown record type"},
    /* Attributes. */
    {"A:flags=1", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:flags=20", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:flags=16|A:flags=16", 0, MAILDROP_BAD, "given twice"},
    {"A:queue_id=X", 0, MAILDROP_BAD, "not allowed"},
    {"A:dsn_ret=ALL", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:noequals", 0, MAILDROP_BAD, "malformed"},
    {"A:dsn_notify=3", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:dsn_notify=16", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:dsn_notify=x", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:dsn_notify=2|A:dsn_notify=2", 0, MAILDROP_BAD, "given twice"},
    {"n:0", 0, MAILDROP_BAD, "unexpected dsn_notify"},
    {"S:a|n:3|R:b", 0, MAILDROP_BAD, "bad dsn_notify"},
    {"S:a|o:nosemicolon|R:b", 0, MAILDROP_BAD, "bad dsn_orig_rcpt"},
    {"S:a|o:rfc822;|R:b", 0, MAILDROP_BAD, "bad dsn_orig_rcpt"},
    {"S:a|o:rfc 822;a@b|R:b", 0, MAILDROP_BAD, "bad dsn_orig_rcpt"},
    {"A:dsn_envid=a\tb", 0, MAILDROP_BAD, "malformed"},
    {"A:dsn_envid=\xc3\xa9", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:dsn_ret=full", 0, MAILDROP_BAD, "bad attribute value"},
    {"A:encoding=8BITMIME", 0, MAILDROP_BAD, "bad attribute value"},
    /* Addresses. */
    {"S:-oQ/tmp|R:b", 0, MAILDROP_BAD, "start with '-'"},
    {"S:a|R:", 0, MAILDROP_BAD, "empty address"},
    {"S:a|R:b c@d", 0, MAILDROP_BAD, "local part"},
    {"S:a|R:b..c@d", 0, MAILDROP_BAD, "local part"},
    {"S:a|R:b@d..e", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@d@e", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:<b@d>", 0, MAILDROP_BAD, "local part"},
    /* Domains are checked by address_valid_domain, as smtpd checks them
     * (fuzz_maildrop found all of these accepted by a second, looser copy
     * of the hostname rule), with one trailing dot allowed. */
    {"S:a|R:b@[IPv3:2001:db8::1]", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@[IPv6:2001:d:8b:1]", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@[vvv]", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@[192.0.2.999]", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@33333", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@-x.example", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@x-.example", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@exampl\xff.com", 0, MAILDROP_BAD, "bad domain"},
    {"S:b@x..|R:a", 0, MAILDROP_BAD, "bad domain"},
    {"S:b@.|R:a", 0, MAILDROP_BAD, "bad domain"},
    {"S:a|R:b@[IPv6:2001:db8::1]|R:b@\xc3\xa9" "cole.example|R:b@example.org.|M:|N:x|X:|E:",
     0, MAILDROP_DONE, NULL},
    {"F:evil\nFrom: x", 0, MAILDROP_BAD, "full name"},
    /* Size (msg_size.h): "abc" CR LF + "de" CR LF = 9 octets, as smtpd
     * would count them; a leading Received: field does not count. */
    {"S:a|R:b|M:|N:abc|N:de|X:|E:", 9, MAILDROP_DONE, NULL},
    {"S:a|R:b|M:|N:abc|N:de", 8, MAILDROP_TOOBIG, "message_size_limit"},
    {"S:a|R:b|M:|N:Received: x|N: y|N:abc|N:de|X:|E:", 9, MAILDROP_DONE, NULL},
};

/* feed - run one case's records through a checker; the last result */
static int feed(const STREAM_CASE *tc, BUF *why)
{
    MAILDROP_CHECK c;
    char   *copy = xstrdup(tc->records);
    char   *save = NULL;
    char   *rec;
    int     result = MAILDROP_MORE;

    maildrop_check_init(&c, tc->size_limit);
    for (rec = strtok_r(copy, "|", &save); rec; rec = strtok_r(NULL, "|", &save)) {
        result = maildrop_check_record(&c, rec[0], rec + 2, strlen(rec + 2), why);
        if (result < 0)
            break;
    }
    xfree(copy);
    return result;
}

START_TEST(test_stream)
{
    const STREAM_CASE *tc = &cases[_i];
    BUF    *why = buf_alloc(100);
    int     result = feed(tc, why);

    ck_assert_msg(result == tc->expect, "%s: got %d (%s), expected %d",
                  tc->records, result, buf_str(why), tc->expect);
    if (tc->why_part)
        ck_assert_msg(strstr(buf_str(why), tc->why_part) != NULL,
                      "%s: why \"%s\" lacks \"%s\"", tc->records, buf_str(why), tc->why_part);
    buf_free(why);
}
END_TEST

START_TEST(test_recipient_limit)
{
    MAILDROP_CHECK c;
    BUF    *why = buf_alloc(100);
    int     i;

    maildrop_check_init(&c, 0);
    ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_FROM, "a", 1, why), MAILDROP_MORE);
    for (i = 0; i < MAILDROP_RCPT_MAX; i++)
        ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_RCPT, "b", 1, why), MAILDROP_MORE);
    ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_RCPT, "b", 1, why), MAILDROP_BAD);
    ck_assert_str_eq(buf_str(why), "too many recipients");
    buf_free(why);
}
END_TEST

START_TEST(test_line_limit_and_nul_in_content)
{
    MAILDROP_CHECK c;
    BUF    *why = buf_alloc(100);
    static char line[MAILDROP_LINE_MAX + 2];

    memset(line, 'x', sizeof(line) - 1);
    maildrop_check_init(&c, 0);
    maildrop_check_record(&c, REC_TYPE_FROM, "a", 1, why);
    maildrop_check_record(&c, REC_TYPE_RCPT, "b", 1, why);
    maildrop_check_record(&c, REC_TYPE_MESG, "", 0, why);
    /* Content may hold any byte, NUL included. */
    ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_NORM, "a\0b", 3, why), MAILDROP_MORE);
    ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_CONT, line, MAILDROP_LINE_MAX, why),
                     MAILDROP_MORE);
    ck_assert_int_eq(maildrop_check_record(&c, REC_TYPE_NORM, line, MAILDROP_LINE_MAX + 1, why),
                     MAILDROP_BAD);
    buf_free(why);
}
END_TEST

START_TEST(test_address_null_sender_only)
{
    BUF    *why = buf_alloc(100);

    ck_assert_int_eq(maildrop_address_check("", 0, 1, why), 0);
    ck_assert_int_eq(maildrop_address_check("", 0, 0, why), -1);
    ck_assert_int_eq(maildrop_address_check("o'brien+tag@Example.ORG.", 24, 0, why), 0);
    ck_assert_int_eq(maildrop_address_check("a\0b", 3, 0, why), -1);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("maildrop");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_stream, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_recipient_limit);
    tcase_add_test(tc, test_line_limit_and_nul_in_content);
    tcase_add_test(tc, test_address_null_sender_only);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
