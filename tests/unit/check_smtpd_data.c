/* check_smtpd_data - the DATA/BDAT reader: end of DATA, smuggling
 * variants, dot-unstuffing, long lines, bare CR/LF, BDAT raw content. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "smtpd.h"
#include "testsupport.h"

/* Records as text: "N:data|L:data|" with CR shown as \r, LF as \n, NUL as \0. */
static BUF *out;

static void collect(void *ctx, int type, const char *data, size_t len)
{
    size_t  i;

    (void) ctx;
    buf_putc(out, type);
    buf_putc(out, ':');
    for (i = 0; i < len; i++) {
        if (data[i] == '\r')
            buf_puts(out, "\\r");
        else if (data[i] == '\n')
            buf_puts(out, "\\n");
        else if (data[i] == 0)
            buf_puts(out, "\\0");
        else
            buf_putc(out, data[i]);
    }
    buf_putc(out, '|');
}

/* run - feed len bytes to a DATA reader; returns bytes used, -1 if no end */
static long run(SMTPD_DATA *d, const char *in, size_t len, int dot, size_t limit,
                int prev_crlf)
{
    size_t  used;
    int     r;

    if (out == NULL)
        out = buf_alloc(100);
    buf_reset(out);
    smtpd_data_init(d, dot, limit, prev_crlf, collect, NULL);
    r = smtpd_data_feed(d, in, len, &used);
    return r == SMTPD_DATA_END ? (long) used : -1;
}

START_TEST(test_plain_end)
{
    static const char in[] = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
    SMTPD_DATA d;
    long    used = run(&d, in, sizeof(in) - 1, 1, 2048, 1);

    ck_assert_int_eq(used, (long) (sizeof(in) - 1 - strlen("QUIT\r\n")));
    ck_assert_str_eq(buf_str(out), "N:Subject: x|N:|N:body|");
    ck_assert_int_eq(d.bytes, 12 + 2 + 6);    /* CR LF counts two octets */
    ck_assert_int_eq(d.bare_lf, 0);
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_end_right_after_data)
{
    SMTPD_DATA d;

    /* DATA<CR><LF> then .<CR><LF>: an empty message. */
    ck_assert_int_eq(run(&d, ".\r\n", 3, 1, 2048, 1), 3);
    ck_assert_str_eq(buf_str(out), "");
    smtpd_data_free(&d);
    /* DATA<LF> then .<CR><LF> is "\n.\r\n": content, not an end. */
    ck_assert_int_eq(run(&d, ".\r\n", 3, 1, 2048, 0), -1);
    ck_assert_str_eq(buf_str(out), "N:.|");
    smtpd_data_free(&d);
}
END_TEST

/* Every smuggling variant: the fake end and the "command" after it stay in
 * the one message, and only the final <CR><LF>.<CR><LF> ends it. */
static const char *const smuggle[] = {
    "\n.\n", "\r.\r", "\r.\n", "\n.\r", "\n.\r\n", "\r\n.\n", "\r.\r\n",
    "\r\n.\r", "\r\n\0.\r\n", "\r\n.\0\r\n", "\r\n.\r\r\n",
};
static const size_t smuggle_len[] = {3, 3, 3, 3, 4, 4, 4, 4, 6, 6, 5};

START_TEST(test_smuggling_variants)
{
    size_t  i;

    for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++) {
        BUF    *in = buf_alloc(200);
        SMTPD_DATA d;
        long    used;

        buf_puts(in, "Subject: a");
        buf_append(in, smuggle[i], smuggle_len[i]);
        buf_puts(in, "MAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\nDATA\r\nfake\r\n");
        buf_puts(in, "\r\n.\r\n");
        buf_puts(in, "NEXT");
        used = run(&d, buf_str(in), buf_len(in), 1, 2048, 1);
        ck_assert_msg(used == (long) buf_len(in) - 4, "variant %zu: used %ld of %zu",
                      i, used, buf_len(in));
        ck_assert_msg(strstr(buf_str(out), "MAIL FROM:<evil@x>") != NULL,
                      "variant %zu: smuggled command not kept as content: %s", i, buf_str(out));
        ck_assert_msg(strstr(buf_str(out), "N:fake|") != NULL, "variant %zu: %s", i, buf_str(out));
        smtpd_data_free(&d);
        buf_free(in);
    }
}
END_TEST

START_TEST(test_bare_lf_dot_kept)
{
    static const char in[] = "a\n.\nb\r\n.\r\n";
    SMTPD_DATA d;

    ck_assert_int_eq(run(&d, in, sizeof(in) - 1, 1, 2048, 1), (long) sizeof(in) - 1);
    ck_assert_str_eq(buf_str(out), "N:a|N:.|N:b|");
    ck_assert_int_eq(d.bare_lf, 1);
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_bare_cr_is_content)
{
    static const char in[] = "a\rb\r\nc\r\r\n.\r\n";
    SMTPD_DATA d;

    ck_assert_int_eq(run(&d, in, sizeof(in) - 1, 1, 2048, 1), (long) sizeof(in) - 1);
    ck_assert_str_eq(buf_str(out), "N:a\\rb|N:c\\r|");
    ck_assert_int_eq(d.bare_lf, 0);
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_dot_unstuffing)
{
    static const char in[] = "..\r\n.x\r\n...\r\n.\r\n";
    SMTPD_DATA d;

    ck_assert_int_eq(run(&d, in, sizeof(in) - 1, 1, 2048, 1), (long) sizeof(in) - 1);
    ck_assert_str_eq(buf_str(out), "N:.|N:x|N:..|");
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_long_lines_split)
{
    static const char in[] = "0123456789abcdefghijKLMNO\r\n.\r\n";
    static const char crlf_at_limit[] = "abc\r\n.\r\n";
    SMTPD_DATA d;

    ck_assert_int_eq(run(&d, in, sizeof(in) - 1, 1, 10, 1), (long) sizeof(in) - 1);
    ck_assert_str_eq(buf_str(out), "L:0123456789|L:abcdefghij|N:KLMNO|");
    ck_assert_int_eq(d.bytes, 27);
    smtpd_data_free(&d);
    /* The limit falls between CR and LF: the pair is still one line end. */
    ck_assert_int_eq(run(&d, crlf_at_limit, sizeof(crlf_at_limit) - 1, 1, 3, 1),
                     (long) sizeof(crlf_at_limit) - 1);
    ck_assert_str_eq(buf_str(out), "L:abc|N:|");
    ck_assert_int_eq(d.bare_lf, 0);
    smtpd_data_free(&d);
    /* A stuffed dot at the start of a long line is removed once. */
    ck_assert_int_eq(run(&d, "..abcdef\r\n.\r\n", 13, 1, 4, 1), 13);
    ck_assert_str_eq(buf_str(out), "L:.ab|L:cdef|N:|");
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_bdat_raw)
{
    static const char in[] = "a\r\n.\r\n..b\nc";
    SMTPD_DATA d;

    ck_assert_int_eq(run(&d, in, sizeof(in) - 1, 0, 2048, 1), -1);
    smtpd_data_finish(&d);
    ck_assert_str_eq(buf_str(out), "N:a|N:.|N:..b|N:c|");
    smtpd_data_free(&d);
    /* A trailing CR in the last chunk is content. */
    ck_assert_int_eq(run(&d, "x\r", 2, 0, 2048, 1), -1);
    smtpd_data_finish(&d);
    ck_assert_str_eq(buf_str(out), "N:x\\r|");
    smtpd_data_free(&d);
}
END_TEST

/* The octet count message_size_limit applies to (RFC 1870): what the
 * client sent, CR LF as two octets, without stuffed dots and the end. */
static const struct size_case {
    const char *in;
    int     dot;                    /* 1: DATA, 0: BDAT (then finished) */
    long long bytes;
} size_cases[] = {
    {"a\r\n.\r\n", 1, 3},
    {"\r\n\r\n\r\n.\r\n", 1, 6},            /* empty lines: 2 each, not 1 */
    {"a\nb\r\n.\r\n", 1, 2 + 3},            /* a bare LF is one octet */
    {"..x\r\n.\r\n", 1, 4},                 /* ".x" CR LF: the stuffed dot is not counted */
    {"a\rb\r\n.\r\n", 1, 5},                /* a bare CR is content */
    {"0123456789abc\r\n.\r\n", 1, 15},      /* split into L records */
    {"ab\r\ncd", 0, 6},                     /* BDAT: exactly the chunk bytes */
    {"ab\r\n\r", 0, 5},                     /* a trailing CR at BDAT LAST */
    {"..\r\n", 0, 4},                       /* BDAT has no dot stuffing */
};

START_TEST(test_size_counts_octets_sent)
{
    const struct size_case *c = size_cases + _i;
    SMTPD_DATA d;
    size_t  used;

    if (out == NULL)
        out = buf_alloc(100);
    buf_reset(out);
    smtpd_data_init(&d, c->dot, 10, 1, collect, NULL);
    (void) smtpd_data_feed(&d, c->in, strlen(c->in), &used);
    if (!c->dot)
        smtpd_data_finish(&d);
    ck_assert_msg(d.done, "not finished: %s", c->in);
    ck_assert_msg(d.bytes == c->bytes, "input \"%s\": %lld octets, want %lld",
                  c->in, d.bytes, c->bytes);
    smtpd_data_free(&d);
}
END_TEST

START_TEST(test_byte_at_a_time_equals_feed)
{
    static const char in[] = "x\n.\r\ny\r\n.\r\nQUIT\r\n";
    SMTPD_DATA d;
    BUF    *whole = buf_alloc(100);
    size_t  i;

    (void) run(&d, in, sizeof(in) - 1, 1, 2048, 1);
    buf_set(whole, buf_str(out));
    smtpd_data_free(&d);
    buf_reset(out);
    smtpd_data_init(&d, 1, 2048, 1, collect, NULL);
    for (i = 0; i < sizeof(in) - 1; i++)
        if (smtpd_data_byte(&d, in[i]) == SMTPD_DATA_END)
            break;
    ck_assert_uint_eq(i + 1, sizeof(in) - 1 - 6);
    ck_assert_str_eq(buf_str(out), buf_str(whole));
    smtpd_data_free(&d);
    buf_free(whole);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtpd_data");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_plain_end);
    tcase_add_test(tc, test_end_right_after_data);
    tcase_add_test(tc, test_smuggling_variants);
    tcase_add_test(tc, test_bare_lf_dot_kept);
    tcase_add_test(tc, test_bare_cr_is_content);
    tcase_add_test(tc, test_dot_unstuffing);
    tcase_add_test(tc, test_long_lines_split);
    tcase_add_test(tc, test_bdat_raw);
    tcase_add_test(tc, test_byte_at_a_time_equals_feed);
    tcase_add_loop_test(tc, test_size_counts_octets_sent, 0,
                        (int) (sizeof(size_cases) / sizeof(size_cases[0])));
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
