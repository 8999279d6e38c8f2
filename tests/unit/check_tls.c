/* check_tls - Postfix's TLS protocol list syntax (tls_protocol_mask). */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "testsupport.h"
#include "tls.h"

#define V12_13 (TLS_PROTO_TLSv1_2 | TLS_PROTO_TLSv1_3)
#define TLS_ALL (TLS_PROTO_TLSv1 | TLS_PROTO_TLSv1_1 | V12_13)

static int mask(const char *spec)
{
    BUF    *why = buf_alloc(10);
    int     m = tls_protocol_mask(spec, why);

    buf_free(why);
    return m;
}

START_TEST(test_bounds)
{
    ck_assert_int_eq(mask(">=TLSv1.2"), V12_13);
    ck_assert_int_eq(mask(">=TLSv1"), TLS_ALL);
    ck_assert_int_eq(mask("<=TLSv1.2"), TLS_ALL & ~TLS_PROTO_TLSv1_3);
    ck_assert_int_eq(mask(">=TLSv1.1, <=TLSv1.2"), TLS_PROTO_TLSv1_1 | TLS_PROTO_TLSv1_2);
    ck_assert_int_eq(mask(">=tlsv1.3"), TLS_PROTO_TLSv1_3);     /* any case */
}
END_TEST

START_TEST(test_exclusions_and_names)
{
    ck_assert_int_eq(mask("!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"), V12_13);
    ck_assert_int_eq(mask("!SSLv2:!SSLv3"), TLS_ALL);
    ck_assert_int_eq(mask("!TLSv1.2"), TLS_ALL & ~TLS_PROTO_TLSv1_2);  /* a hole */
    ck_assert_int_eq(mask("TLSv1.2 TLSv1.3"), V12_13);
    ck_assert_int_eq(mask("TLSv1.3"), TLS_PROTO_TLSv1_3);
    ck_assert_int_eq(mask(""), TLS_ALL);        /* SSL is never offered */
    ck_assert_int_eq(mask("SSLv3 TLSv1.2"), TLS_PROTO_TLSv1_2);
}
END_TEST

START_TEST(test_errors)
{
    BUF    *why = buf_alloc(10);

    ck_assert_int_eq(tls_protocol_mask("TLSv1.4", why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "unknown TLS protocol \"TLSv1.4\""));
    ck_assert_int_eq(tls_protocol_mask(">=TLSv1.3, !TLSv1.3", why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "no TLS protocol left"));
    ck_assert_int_eq(tls_protocol_mask("SSLv3", why), -1);
    ck_assert_int_eq(tls_protocol_mask(">=", why), -1);
    ck_assert_int_eq(tls_protocol_mask("!", why), -1);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("tls");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_exclusions_and_names);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
