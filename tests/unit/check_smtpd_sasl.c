/* check_smtpd_sasl - the AUTH codec: base64 bounds and strictness, the
 * PLAIN message split, Dovecot auth protocol field escaping. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "smtpd.h"
#include "sasl_codec.h"
#include "testsupport.h"

START_TEST(test_b64_round_trip)
{
    static const char *const cases[][2] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
        {"Username:", "VXNlcm5hbWU6"}, {"Password:", "UGFzc3dvcmQ6"},
    };
    BUF    *enc = buf_alloc(8);
    BUF    *dec = buf_alloc(8);
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sasl_b64_encode(cases[i][0], strlen(cases[i][0]), enc);
        ck_assert_msg(strcmp(buf_str(enc), cases[i][1]) == 0, "encode %s", cases[i][0]);
        ck_assert_msg(sasl_b64_decode(cases[i][1], strlen(cases[i][1]), 100, dec) == 0,
                      "decode %s", cases[i][1]);
        ck_assert_msg(strcmp(buf_str(dec), cases[i][0]) == 0, "decode %s", cases[i][1]);
    }
    buf_free(enc);
    buf_free(dec);
}
END_TEST

START_TEST(test_b64_bad)
{
    static const char *const bad[] = {
        "Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9v", "====", "Zm9\n",
    };
    BUF    *dec = buf_alloc(8);
    size_t  i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(sasl_b64_decode(bad[i], strlen(bad[i]), 100, dec) == -1,
                      "accepted %s", bad[i]);
        ck_assert_msg(buf_len(dec) == 0, "left bytes for %s", bad[i]);
    }
    /* The bound: 3 bytes fit in 3, not in 2. */
    ck_assert_int_eq(sasl_b64_decode("Zm9v", 4, 3, dec), 0);
    ck_assert_int_eq(sasl_b64_decode("Zm9v", 4, 2, dec), -1);
    ck_assert_int_eq(sasl_b64_decode("Zm9vZm9vZm9v", 12, 5, dec), -1);
    buf_free(dec);
}
END_TEST

START_TEST(test_plain)
{
    BUF    *z = buf_alloc(8);
    BUF    *c = buf_alloc(8);
    BUF    *p = buf_alloc(8);

    ck_assert_int_eq(sasl_plain_split("\0alice\0secret", 13, z, c, p), 0);
    ck_assert_str_eq(buf_str(z), "");
    ck_assert_str_eq(buf_str(c), "alice");
    ck_assert_str_eq(buf_str(p), "secret");
    ck_assert_int_eq(sasl_plain_split("bob\0alice\0", 10, z, c, p), 0);
    ck_assert_str_eq(buf_str(z), "bob");
    ck_assert_str_eq(buf_str(p), "");
    ck_assert_int_eq(sasl_plain_split("alice\0secret", 12, z, c, p), -1);   /* one NUL */
    ck_assert_int_eq(sasl_plain_split("\0\0secret", 8, z, c, p), -1);       /* no authcid */
    ck_assert_int_eq(sasl_plain_split("\0a\0b\0c", 7, z, c, p), -1);        /* three NULs */
    ck_assert_int_eq(sasl_plain_split("", 0, z, c, p), -1);
    sasl_wipe(p);
    ck_assert_int_eq(buf_len(p), 0);
    ck_assert_int_eq(p->data[0], 0);
    buf_free(z);
    buf_free(c);
    buf_free(p);
}
END_TEST

START_TEST(test_dovecot_fields)
{
    BUF    *out = buf_alloc(8);
    char    line[128];
    char   *f[8];

    sasl_dv_escape(out, "a\tb\001c\r\nd", 9);
    ck_assert_str_eq(buf_str(out), "a\001tb\0011c\001r\001nd");
    snprintf(line, sizeof(line), "OK\t1\tuser=%s", buf_str(out));
    ck_assert_int_eq(sasl_dv_split(line, f, 8), 3);
    ck_assert_str_eq(f[0], "OK");
    ck_assert_str_eq(f[1], "1");
    ck_assert_str_eq(f[2], "user=a\tb\001c\r\nd");
    snprintf(line, sizeof(line), "FAIL\t2\treason=x\001zy");
    ck_assert_int_eq(sasl_dv_split(line, f, 8), -1);                  /* bad escape */
    snprintf(line, sizeof(line), "a\tb\tc");
    ck_assert_int_eq(sasl_dv_split(line, f, 2), -1);                  /* too many */
    snprintf(line, sizeof(line), "DONE");
    ck_assert_int_eq(sasl_dv_split(line, f, 8), 1);
    ck_assert_str_eq(f[0], "DONE");
    snprintf(line, sizeof(line), "CONT\t7\t");
    ck_assert_int_eq(sasl_dv_split(line, f, 8), 3);
    ck_assert_str_eq(f[2], "");
    buf_free(out);
}
END_TEST

START_TEST(test_mail_auth_param)
{
    SMTPD_MAIL_ARGS a;
    BUF    *reply = buf_alloc(16);

    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("AUTH=<>", 1, &a, reply), 0);
    ck_assert_int_eq(a.auth_given, 1);
    smtpd_mail_args_free(&a);
    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("AUTH=a+2Bb@c AUTH=<>", 1, &a, reply), -1);
    ck_assert_str_eq(buf_str(reply), "501 5.5.4 Bad AUTH parameter syntax");
    smtpd_mail_args_free(&a);
    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("AUTH", 1, &a, reply), -1);
    smtpd_mail_args_free(&a);
    buf_free(reply);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtpd_sasl");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_b64_round_trip);
    tcase_add_test(tc, test_b64_bad);
    tcase_add_test(tc, test_plain);
    tcase_add_test(tc, test_dovecot_fields);
    tcase_add_test(tc, test_mail_auth_param);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
