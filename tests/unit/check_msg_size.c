/* check_msg_size - the one message_size_limit count (msg_size.h): the
 * client's octets, queue records counted the same way, and the leading
 * trace fields left out, so that what smtpd accepts at the limit cleanup
 * and the maildrop check accept too. */
#include <check.h>
#include <string.h>

#include "msg_size.h"
#include "record.h"
#include "testsupport.h"

/* count - the msg_size_record total of "|"-separated records, each
 * "N:text" or "L:text" */
static long long count(const char *spec)
{
    char    copy[512];
    char   *rec, *save = NULL;
    MSG_SIZE sz;

    ck_assert_uint_lt(strlen(spec), sizeof(copy));
    strcpy(copy, spec);
    msg_size_init(&sz);
    for (rec = strtok_r(copy, "|", &save); rec; rec = strtok_r(NULL, "|", &save))
        msg_size_record(&sz, rec[0] == 'L' ? REC_TYPE_CONT : REC_TYPE_NORM, rec + 2,
                        strlen(rec + 2));
    return sz.octets;
}

START_TEST(test_records)
{
    static const struct {
        const char *records;
        long long octets;
    } t[] = {
        {"N:abc|N:de", 3 + 2 + 2 + 2},             /* CR LF is two octets */
        {"L:abc|L:def|N:gh", 8 + 2},               /* one long line in pieces */
        {"N:", 2},
        /* Leading trace fields (smtpd's Received:, local's Delivered-To:)
         * with their continuation lines are left out ... */
        {"N:Received: from x|N:\tby y|N:Subject: s|N:|N:body", 10 + 2 + 2 + 4 + 2},
        {"N:delivered-to: a@b|N:RECEIVED: z|N:x", 1 + 2},
        {"L:Received: from a very long|N: line|N:x", 1 + 2},
        /* ... only while they lead: further down they are content. */
        {"N:Subject: s|N:Received: r", 10 + 2 + 11 + 2},
        {"N:x|N:Delivered-To: a", 1 + 2 + 15 + 2},
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(count(t[i].records) == t[i].octets, "%s: %lld, not %lld",
                      t[i].records, count(t[i].records), t[i].octets);
}
END_TEST

/* smtpd's count of what the client sent agrees with the record count of
 * the same lines, and the limit is "more than", not "as much as". */
START_TEST(test_client_octets_and_limit)
{
    long long octets = msg_size_octets(998, 2);

    ck_assert(octets == 1000);
    ck_assert(count("L:12345|N:6789") == msg_size_octets(9, 2));
    ck_assert(msg_size_octets(3, 1) == 4);          /* a bare LF is one octet */
    ck_assert(!msg_size_exceeds(1000, 1000));
    ck_assert(msg_size_exceeds(1001, 1000));
    ck_assert(!msg_size_exceeds(1LL << 40, 0));     /* 0: no limit */
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("msg_size");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_records);
    tcase_add_test(tc, test_client_octets_and_limit);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
