/* check_remote_reply - a server's reply in a delivery reason, both ways. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "remote_reply.h"
#include "testsupport.h"

START_TEST(test_round_trip)
{
    BUF    *reason = buf_alloc(64), *mta = buf_alloc(16), *reply = buf_alloc(16);

    remote_reply_format(reason, "mx.example", "192.0.2.1", "550 5.1.1 <u@x>: no such user",
                        "RCPT TO command");
    ck_assert_str_eq(buf_str(reason), "host mx.example[192.0.2.1] said: 550 5.1.1 <u@x>: "
                     "no such user (in reply to RCPT TO command)");
    ck_assert_int_eq(remote_reply_parse(buf_str(reason), mta, reply), 1);
    ck_assert_str_eq(buf_str(mta), "mx.example");
    ck_assert_str_eq(buf_str(reply), "550 5.1.1 <u@x>: no such user");
    /* A reply that holds the note's words keeps them. */
    remote_reply_format(reason, "h", "::1", "554 (in reply to nothing)", "end of DATA command");
    ck_assert_int_eq(remote_reply_parse(buf_str(reason), mta, reply), 1);
    ck_assert_str_eq(buf_str(reply), "554 (in reply to nothing)");
    buf_free(reason);
    buf_free(mta);
    buf_free(reply);
}
END_TEST

START_TEST(test_not_replies)
{
    static const char *const t[] = {
        "cannot write mailbox: quota exceeded",
        "connect to 127.0.0.1[127.0.0.1]:25: Connection refused",
        "host mx said: 550 x",                  /* no [addr] */
        "host mx[1.2.3.4] said: hello",         /* not a reply */
        "lost connection with mx[1.2.3.4] while sending RCPT TO",
        "550 5.1.1 bare reply",
        "host  said: 550 x[y]",                 /* " said: " overlaps "host " (fuzz_bounce_dsn) */
        "host said: 550 [x]",
    };
    BUF    *mta = buf_alloc(16), *reply = buf_alloc(16);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(remote_reply_parse(t[i], mta, reply) == 0 && buf_len(mta) == 0
                      && buf_len(reply) == 0, "%s", t[i]);
    buf_free(mta);
    buf_free(reply);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("remote_reply");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_not_replies);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
