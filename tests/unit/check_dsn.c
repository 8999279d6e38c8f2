/* check_dsn - the DSN keywords and BODY (lib/global/dsn.c): every value
 * smtpd, sendmail and the maildrop checks take or refuse, by table; each
 * failure names its input. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "dsn.h"
#include "testsupport.h"

#define N(a) ((int) (sizeof(a) / sizeof((a)[0])))

/* xtext decode: input, 0/-1, the decoded text. */
static const struct {
    const char *in;
    int     ret;
    const char *out;
} xtext_cases[] = {
    {"abc", 0, "abc"},
    {"a+2Bb+3Dc", 0, "a+b=c"},
    {"+20", 0, " "},
    {"", 0, ""},
    {"a+2", -1, NULL},              /* truncated escape */
    {"a+", -1, NULL},
    {"a+zz", -1, NULL},
    {"a+2b", -1, NULL},             /* hex is upper case */
    {"a=b", -1, NULL},              /* '=' must be escaped */
    {"a+b", -1, NULL},              /* '+' must be escaped */
    {"a b", -1, NULL},              /* no blanks */
    {"a\x7f", -1, NULL},
    {"\xc3\xa9", -1, NULL},         /* no 8-bit bytes */
};

START_TEST(test_xtext_decode)
{
    BUF    *out = buf_alloc(10);
    int     r = dsn_xtext_decode(xtext_cases[_i].in, strlen(xtext_cases[_i].in), out);

    ck_assert_msg(r == xtext_cases[_i].ret, "xtext \"%s\": %d", xtext_cases[_i].in, r);
    if (r == 0)
        ck_assert_msg(strcmp(buf_str(out), xtext_cases[_i].out) == 0, "xtext \"%s\": \"%s\"",
                      xtext_cases[_i].in, buf_str(out));
    buf_free(out);
}
END_TEST

/* encode then decode gives every byte back; what is xtext stays as is. */
START_TEST(test_xtext_round_trip)
{
    BUF    *enc = buf_alloc(10);
    BUF    *dec = buf_alloc(10);
    char    all[256];
    int     i;

    for (i = 0; i < 256; i++)
        all[i] = (char) i;
    dsn_xtext_encode(all, sizeof(all), enc);
    ck_assert_int_eq(dsn_xtext_decode(buf_str(enc), buf_len(enc), dec), 0);
    ck_assert_uint_eq(buf_len(dec), sizeof(all));
    ck_assert(memcmp(buf_str(dec), all, sizeof(all)) == 0);
    dsn_xtext_encode("a+b=c d", 7, enc);
    ck_assert_str_eq(buf_str(enc), "a+2Bb+3Dc+20d");
    dsn_xtext_encode("plain", 5, enc);
    ck_assert_str_eq(buf_str(enc), "plain");
    buf_free(enc);
    buf_free(dec);
}
END_TEST

/* NOTIFY (wire form): the bits, 0 when refused. */
static const struct {
    const char *in;
    int     bits;
} notify_cases[] = {
    {"NEVER", DSN_NOTIFY_NEVER},
    {"never", DSN_NOTIFY_NEVER},
    {"SUCCESS", DSN_NOTIFY_SUCCESS},
    {"success,DELAY", DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY},
    {"FAILURE,DELAY,SUCCESS", DSN_NOTIFY_FAILURE | DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS},
    {"success, delay", DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY},     /* -N with a blank */
    {"DELAY,DELAY", DSN_NOTIFY_DELAY},
    {"NEVER,SUCCESS", 0},           /* NEVER stands alone */
    {"SUCCESS,NEVER", 0},
    {"", 0},
    {"SOMETIMES", 0},
    {"SUCCESS,", 0},                /* empty item */
    {",SUCCESS", 0},
    {"SUCCESS,,DELAY", 0},
    {"SUCCESS DELAY", 0},           /* a comma between items */
    {"SUCCESSFUL", 0},
    {"SUCC", 0},
};

START_TEST(test_notify_parse)
{
    int     bits = dsn_notify_parse(notify_cases[_i].in, strlen(notify_cases[_i].in));

    ck_assert_msg(bits == notify_cases[_i].bits, "NOTIFY \"%s\": %d, want %d",
                  notify_cases[_i].in, bits, notify_cases[_i].bits);
}
END_TEST

/* NOTIFY (stored form, decimal bits). */
static const struct {
    const char *in;
    int     bits;
} notify_stored_cases[] = {
    {"1", DSN_NOTIFY_NEVER}, {"2", 2}, {"6", 6}, {"14", 14}, {"10", 10},
    {"0", 0}, {"3", 0}, {"15", 0}, {"16", 0}, {"x", 0}, {"", 0}, {"014", 0}, {"-2", 0},
};

START_TEST(test_notify_str)
{
    BUF    *out = buf_alloc(8);

    dsn_notify_str(DSN_NOTIFY_NEVER, out);
    ck_assert_str_eq(buf_str(out), "NEVER");
    dsn_notify_str(DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, out);
    ck_assert_str_eq(buf_str(out), "SUCCESS,FAILURE,DELAY");
    ck_assert_int_eq(dsn_notify_parse(buf_str(out), buf_len(out)),
                     DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    dsn_notify_str(0, out);
    ck_assert_str_eq(buf_str(out), "");
    buf_free(out);
}
END_TEST

START_TEST(test_notify_stored)
{
    int     bits = dsn_notify_stored(notify_stored_cases[_i].in, strlen(notify_stored_cases[_i].in));

    ck_assert_msg(bits == notify_stored_cases[_i].bits, "stored NOTIFY \"%s\": %d",
                  notify_stored_cases[_i].in, bits);
}
END_TEST

/* RET and BODY: wire (any case) and stored (exact) forms agree. */
START_TEST(test_ret_body)
{
    ck_assert_int_eq(dsn_ret_parse("FULL", 4), DSN_RET_FULL);
    ck_assert_int_eq(dsn_ret_parse("hdrs", 4), DSN_RET_HDRS);
    ck_assert_int_eq(dsn_ret_parse("ALL", 3), 0);
    ck_assert_int_eq(dsn_ret_parse("FULLX", 5), 0);
    ck_assert_int_eq(dsn_ret_parse("FUL", 3), 0);
    ck_assert_str_eq(dsn_ret_str(DSN_RET_FULL), "FULL");
    ck_assert_str_eq(dsn_ret_str(DSN_RET_HDRS), "HDRS");
    ck_assert_int_eq(dsn_ret_stored("HDRS", 4), DSN_RET_HDRS);
    ck_assert_int_eq(dsn_ret_stored("hdrs", 4), 0);
    ck_assert_int_eq(dsn_body_parse("8bitMIME", 8), DSN_BODY_8BITMIME);
    ck_assert_int_eq(dsn_body_parse("7BIT", 4), DSN_BODY_7BIT);
    ck_assert_int_eq(dsn_body_parse("BINARYMIME", 10), 0);
    ck_assert_str_eq(dsn_body_str(DSN_BODY_7BIT), "7bit");
    ck_assert_str_eq(dsn_body_str(DSN_BODY_8BITMIME), "8bitmime");
    ck_assert_int_eq(dsn_body_stored("8bitmime", 8), DSN_BODY_8BITMIME);
    ck_assert_int_eq(dsn_body_stored("8BITMIME", 8), 0);
    ck_assert(dsn_ret_str(0) == NULL && dsn_body_str(0) == NULL);
}
END_TEST

/* ENVID (xtext in, decoded out; bound 100 decoded characters). */
static char envid_100[101];
static char envid_101[102];
static char envid_100_escaped[301];         /* 100 "+41": 300 bytes of xtext */

static const struct {
    const char *in;
    int     ret;
    const char *out;                /* NULL: the input itself */
} envid_cases[] = {
    {"abc", 0, "abc"},
    {"abc+2Bd", 0, "abc+d"},
    {"q+2Cx", 0, "q,x"},
    {"a+20b", 0, "a b"},            /* a blank is printable (RFC 3461 4.4) */
    {"<x-2.y_z@host>", 0, NULL},
    {envid_100, 0, NULL},
    {envid_100_escaped, 0, NULL},   /* the bound is on the decoded text */
    {envid_101, -1, NULL},
    {"", -1, NULL},
    {"a+2", -1, NULL},
    {"a+0Ab", -1, NULL},            /* decodes to a control character */
    {"a+C3+A9", -1, NULL},          /* decodes to 8-bit bytes */
    {"a+b", -1, NULL},              /* not xtext */
};

START_TEST(test_envid_parse)
{
    BUF    *out = buf_alloc(10);
    int     r;

    buf_set(out, "old");
    r = dsn_envid_parse(envid_cases[_i].in, strlen(envid_cases[_i].in), out);
    ck_assert_msg(r == envid_cases[_i].ret, "ENVID \"%.40s\": %d", envid_cases[_i].in, r);
    if (r == 0 && envid_cases[_i].in == envid_100_escaped) {
        ck_assert_uint_eq(buf_len(out), 100);
        ck_assert(strspn(buf_str(out), "A") == 100);
    } else if (r == 0) {
        ck_assert_str_eq(buf_str(out), envid_cases[_i].out ? envid_cases[_i].out
                         : envid_cases[_i].in);
        ck_assert(dsn_envid_ok(buf_str(out), buf_len(out)));
    } else {
        ck_assert_msg(buf_len(out) == 0, "refused ENVID left \"%s\"", buf_str(out));
    }
    buf_free(out);
}
END_TEST

/* The stored ENVID (what sendmail -V gives and the maildrop holds). */
START_TEST(test_envid_ok)
{
    ck_assert(dsn_envid_ok("a+b", 3));
    ck_assert(dsn_envid_ok("a b", 3));
    ck_assert(dsn_envid_ok("a=b", 3));
    ck_assert(!dsn_envid_ok("", 0));
    ck_assert(!dsn_envid_ok("a\tb", 3));
    ck_assert(!dsn_envid_ok("a\x7f", 2));
    ck_assert(!dsn_envid_ok("\xc3\xa9", 2));
    ck_assert(!dsn_envid_ok("a\0b", 3));
}
END_TEST

/* ORCPT: wire form in, stored "type;address" out; 500 bytes at most. */
static char orcpt_500[501];
static char orcpt_501[502];

static const struct {
    const char *in;
    int     ret;
    const char *out;                /* NULL: the input itself */
} orcpt_cases[] = {
    {"rfc822;bob@example.org", 0, NULL},
    {"rfc822;a+2Bb@c", 0, "rfc822;a+b@c"},
    {"RFC822;bob+40sandbox.test", 0, "RFC822;bob@sandbox.test"},
    {"utf-8;j\xc3\xbcrgen@example.org", 0, NULL},      /* RFC 6533: kept as sent */
    {"x-type;anything+goes", 0, NULL},                  /* only rfc822 is xtext */
    {orcpt_500, 0, NULL},
    {orcpt_501, -1, NULL},
    {"rfc822", -1, NULL},           /* no ';' */
    {";a@b", -1, NULL},             /* no type */
    {"rfc822;", -1, NULL},          /* no address */
    {"rfc 822;a@b", -1, NULL},      /* the type is an atom */
    {"rfc822;a+0Ab", -1, NULL},     /* decodes to a control character */
    {"rfc822;a+b", -1, NULL},       /* not xtext */
    {"utf-8;a\x01b", -1, NULL},
};

START_TEST(test_orcpt_parse)
{
    BUF    *out = buf_alloc(10);
    int     r;

    buf_set(out, "old");
    r = dsn_orcpt_parse(orcpt_cases[_i].in, strlen(orcpt_cases[_i].in), out);
    ck_assert_msg(r == orcpt_cases[_i].ret, "ORCPT \"%.40s\": %d", orcpt_cases[_i].in, r);
    if (r == 0) {
        ck_assert_str_eq(buf_str(out), orcpt_cases[_i].out ? orcpt_cases[_i].out
                         : orcpt_cases[_i].in);
        /* What parse stores, the maildrop check takes. */
        ck_assert(dsn_orcpt_ok(buf_str(out), buf_len(out)));
    } else {
        ck_assert_str_eq(buf_str(out), "old");
    }
    buf_free(out);
}
END_TEST

START_TEST(test_orcpt_ok)
{
    ck_assert(dsn_orcpt_ok("rfc822;a@b", 10));
    ck_assert(!dsn_orcpt_ok("nosemicolon", 11));
    ck_assert(!dsn_orcpt_ok(";a@b", 4));
    ck_assert(!dsn_orcpt_ok("rfc822;", 7));
    ck_assert(!dsn_orcpt_ok("rfc822;a\nb", 10));
    ck_assert(dsn_orcpt_ok(orcpt_500, strlen(orcpt_500)));
    ck_assert(!dsn_orcpt_ok(orcpt_501, strlen(orcpt_501)));
}
END_TEST

/* fill_long_values - the values at and one past the bounds */
static void fill_long_values(void)
{
    int     i;

    memset(envid_100, 'e', 100);
    memset(envid_101, 'e', 101);
    for (i = 0; i < 100; i++)
        memcpy(envid_100_escaped + 3 * i, "+41", 3);
    memcpy(orcpt_500, "rfc822;", 7);
    memset(orcpt_500 + 7, 'a', 493);
    memcpy(orcpt_501, "rfc822;", 7);
    memset(orcpt_501 + 7, 'a', 494);
}

int     main(void)
{
    Suite  *s = suite_create("dsn");
    TCase  *tc = tcase_create("core");

    fill_long_values();

    tcase_add_loop_test(tc, test_xtext_decode, 0, N(xtext_cases));
    tcase_add_test(tc, test_xtext_round_trip);
    tcase_add_test(tc, test_notify_str);
    tcase_add_loop_test(tc, test_notify_parse, 0, N(notify_cases));
    tcase_add_loop_test(tc, test_notify_stored, 0, N(notify_stored_cases));
    tcase_add_test(tc, test_ret_body);
    tcase_add_loop_test(tc, test_envid_parse, 0, N(envid_cases));
    tcase_add_test(tc, test_envid_ok);
    tcase_add_loop_test(tc, test_orcpt_parse, 0, N(orcpt_cases));
    tcase_add_test(tc, test_orcpt_ok);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
