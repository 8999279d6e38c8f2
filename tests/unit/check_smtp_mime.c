/* check_smtp_mime - 8BITMIME down-conversion (smtp/smtp_mime.c): 8-bit
 * MIME parts become quoted-printable on the wire, 7-bit content passes
 * byte-exact, what cannot be converted is refused with its DSN code. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "smtp.h"
#include "testsupport.h"

/* convert - every line of text (LF-separated) as one N record through
 * the converter and the encoder; the wire bytes, or NULL with *dsn set */
static const char *convert(const char *text, int depth, const char **dsn, BUF *out)
{
    SMTP_ENCODER e;
    SMTP_MIME *mm;
    const char *cp, *nl;
    int     rc = 0;
    static char code[16];

    buf_reset(out);
    smtp_encode_init(&e, 998);
    mm = smtp_mime_create(&e, depth, 102400, 2048);
    for (cp = text; *cp && rc == 0; cp = *nl ? nl + 1 : nl) {
        if ((nl = strchr(cp, '\n')) == NULL)
            nl = cp + strlen(cp);
        rc = smtp_mime_record(mm, REC_TYPE_NORM, cp, (size_t) (nl - cp), out);
    }
    if (rc == 0)
        rc = smtp_mime_end(mm, out);
    if (rc < 0) {
        (void) smtp_mime_error(mm, dsn);
        snprintf(code, sizeof(code), "%s", *dsn);
        *dsn = code;
        smtp_mime_free(mm);
        return NULL;
    }
    smtp_mime_free(mm);
    smtp_encode_end(&e, out);
    return buf_str(out);
}

START_TEST(test_seven_bit_unchanged)
{
    BUF    *out = buf_alloc(100);
    const char *dsn = NULL;
    const char *got;

    got = convert("Subject: x\nContent-Type: multipart/mixed; boundary=\"b1\"\n\npre\n--b1\n"
                  "Content-Type: text/plain\n\n.dot\n--b1--\nepi", 100, &dsn, out);
    ck_assert_str_eq(got, "Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                     "pre\r\n--b1\r\nContent-Type: text/plain\r\n\r\n..dot\r\n--b1--\r\nepi\r\n"
                     ".\r\n");
    /* Undeclared 8-bit (no Content-Transfer-Encoding) is passed on, as Postfix. */
    got = convert("Subject: y\n\ncaf\xc3\xa9", 100, &dsn, out);
    ck_assert_str_eq(got, "Subject: y\r\n\r\ncaf\xc3\xa9\r\n.\r\n");
    buf_free(out);
}
END_TEST

START_TEST(test_leaf_to_quoted_printable)
{
    BUF    *out = buf_alloc(100);
    const char *dsn = NULL;
    const char *got;

    got = convert("Subject: x\nContent-Transfer-Encoding: 8bit\nContent-Type: text/plain; "
                  "charset=utf-8\n\ncaf\xc3\xa9 = ok\n.\xc3\xa9\ntrailing \nplain", 100, &dsn, out);
    ck_assert_str_eq(got, "Subject: x\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                     "caf=C3=A9 =3D ok\r\n..=C3=A9\r\ntrailing=20\r\nplain\r\n.\r\n");
    buf_free(out);
}
END_TEST

START_TEST(test_soft_breaks)
{
    BUF    *out = buf_alloc(100);
    BUF    *in = buf_alloc(300);
    const char *dsn = NULL, *got, *cp, *end;
    int     i;

    buf_set(in, "Content-Transfer-Encoding: binary\n\n");
    for (i = 0; i < 100; i++)
        buf_puts(in, "\xc3\xa9");
    got = convert(buf_str(in), 100, &dsn, out);
    ck_assert_ptr_nonnull(got);
    cp = strstr(got, "\r\n\r\n") + 4;
    for (i = 0; (end = strstr(cp, "\r\n")) && *cp != '.'; cp = end + 2, i++) {
        ck_assert_int_le(end - cp, 76);
        if (i < 7)                      /* 200 tokens of 3: soft breaks but the last */
            ck_assert_int_eq(end[-1], '=');
    }
    ck_assert_int_eq(i, 8);
    buf_free(in);
    buf_free(out);
}
END_TEST

START_TEST(test_multipart_and_nested_message)
{
    BUF    *out = buf_alloc(100);
    const char *dsn = NULL;
    const char *got;

    got = convert("Content-Type: multipart/mixed;\n\tboundary=\"outer\"\n"
                  "Content-Transfer-Encoding: 8bit\n\n--outer\n"
                  "Content-Transfer-Encoding: 8bit\n\n\xe9t\xe9\n--outer\n"
                  "Content-Type: message/rfc822\nContent-Transfer-Encoding: 8bit\n\n"
                  "Subject: inner\nContent-Transfer-Encoding: 8BIT\n\nna\xefve\n"
                  "--outer\nContent-Type: text/plain\n\nseven\n--outer--\n", 100, &dsn, out);
    ck_assert_str_eq(got, "Content-Type: multipart/mixed;\r\n\tboundary=\"outer\"\r\n"
                     "Content-Transfer-Encoding: 7bit\r\n\r\n--outer\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n=E9t=E9\r\n--outer\r\n"
                     "Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                     "Subject: inner\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                     "na=EFve\r\n--outer\r\nContent-Type: text/plain\r\n\r\nseven\r\n"
                     "--outer--\r\n.\r\n");
    buf_free(out);
}
END_TEST

START_TEST(test_cannot_convert)
{
    BUF    *out = buf_alloc(100);
    const char *dsn = NULL;

    ck_assert_ptr_null(convert("Subject: caf\xc3\xa9\n\nx", 100, &dsn, out));
    ck_assert_str_eq(dsn, "5.6.3");
    ck_assert_ptr_null(convert("Content-Type: message/partial; id=1\n"
                               "Content-Transfer-Encoding: 8bit\n\nx", 100, &dsn, out));
    ck_assert_str_eq(dsn, "5.6.3");
    ck_assert_ptr_null(convert("Content-Type: multipart/mixed; boundary=a\n\n--a\n"
                               "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
                               "Content-Type: multipart/mixed; boundary=c\n\n--c\n\nx\n",
                               2, &dsn, out));
    ck_assert_str_eq(dsn, "5.6.0");
    buf_free(out);
}
END_TEST

START_TEST(test_line_ends_and_pieces)
{
    SMTP_ENCODER e;
    SMTP_MIME *mm;
    BUF    *out = buf_alloc(100);

    /* Bare LF and CR end lines inside a record; a line in L pieces. */
    smtp_encode_init(&e, 998);
    mm = smtp_mime_create(&e, 100, 102400, 2048);
    ck_assert_int_eq(smtp_mime_record(mm, REC_TYPE_CONT,
                                      "Content-Transfer-Encoding: 8bit\n\ra\xe9\rb", 37, out), 0);
    ck_assert_int_eq(smtp_mime_record(mm, REC_TYPE_CONT, "\xe9", 1, out), 0);
    ck_assert_int_eq(smtp_mime_record(mm, REC_TYPE_NORM, "c", 1, out), 0);
    ck_assert_int_eq(smtp_mime_end(mm, out), 0);
    smtp_encode_end(&e, out);
    ck_assert_str_eq(buf_str(out), "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                     "a=E9\r\nb=E9c\r\n.\r\n");
    smtp_mime_free(mm);
    buf_free(out);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_mime");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_seven_bit_unchanged);
    tcase_add_test(tc, test_leaf_to_quoted_printable);
    tcase_add_test(tc, test_soft_breaks);
    tcase_add_test(tc, test_multipart_and_nested_message);
    tcase_add_test(tc, test_cannot_convert);
    tcase_add_test(tc, test_line_ends_and_pieces);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
