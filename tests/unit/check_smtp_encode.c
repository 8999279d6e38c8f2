/* check_smtp_encode - queued content to DATA bytes (design.md §10.6):
 * every line end one CR LF, dots stuffed after normalising, long lines
 * broken with CR LF SPACE, exactly one final dot line. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "record.h"
#include "smtp.h"
#include "testsupport.h"

/* One content record: type and bytes. */
typedef struct {
    int     type;
    const char *data;
} REC;

/* encode - the records through one encoder; the wire bytes */
static void encode(const REC *recs, long limit, BUF *out)
{
    SMTP_ENCODER e;
    int     i;

    buf_reset(out);
    smtp_encode_init(&e, limit);
    for (i = 0; recs[i].data; i++)
        smtp_encode(&e, recs[i].type, recs[i].data, strlen(recs[i].data), out);
    smtp_encode_end(&e, out);
}

START_TEST(test_table)
{
    static const struct {
        const char *name;
        REC     recs[6];
        long    limit;
        const char *want;
    } t[] = {
        {"plain lines", {{'N', "Subject: x"}, {'N', ""}, {'N', "body"}, {0, NULL}}, 0,
         "Subject: x\r\n\r\nbody\r\n.\r\n"},
        {"leading dots", {{'N', "."}, {'N', ".."}, {'N', ".x"}, {'N', "a.b"}, {0, NULL}}, 0,
         "..\r\n...\r\n..x\r\na.b\r\n.\r\n"},
        {"bare CR is a line end", {{'N', "a\rb"}, {0, NULL}}, 0, "a\r\nb\r\n.\r\n"},
        {"bare LF is a line end", {{'N', "a\nb"}, {0, NULL}}, 0, "a\r\nb\r\n.\r\n"},
        {"CR LF inside a record is one end", {{'N', "a\r\nb"}, {0, NULL}}, 0,
         "a\r\nb\r\n.\r\n"},
        {"CR before the record end is the same end", {{'N', "a\r"}, {'N', "b"}, {0, NULL}}, 0,
         "a\r\nb\r\n.\r\n"},
        {"two CRs are two ends", {{'N', "a\r\rb"}, {0, NULL}}, 0, "a\r\n\r\nb\r\n.\r\n"},
        {"dot after a bare CR is stuffed", {{'N', "a\r.\r\n."}, {0, NULL}}, 0,
         "a\r\n..\r\n..\r\n.\r\n"},
        {"smuggling: LF . LF", {{'N', "x\n.\nMAIL FROM:<e@vil>"}, {0, NULL}}, 0,
         "x\r\n..\r\nMAIL FROM:<e@vil>\r\n.\r\n"},
        {"smuggling: CR . CR", {{'N', "x\r.\rRCPT TO:<e@vil>"}, {0, NULL}}, 0,
         "x\r\n..\r\nRCPT TO:<e@vil>\r\n.\r\n"},
        {"a line in L pieces", {{'L', ".ab"}, {'L', "cd"}, {'N', ".e"}, {0, NULL}}, 0,
         "..abcd.e\r\n.\r\n"},
        {"CR at an L end meets LF", {{'L', "a\r"}, {'N', "\nb"}, {0, NULL}}, 0,
         "a\r\nb\r\n.\r\n"},
        {"last line without an end", {{'L', "tail"}, {0, NULL}}, 0, "tail\r\n.\r\n"},
        {"empty content", {{0, NULL}}, 0, ".\r\n"},
        {"line limit", {{'N', "abcdefg"}, {0, NULL}}, 3, "abc\r\n de\r\n fg\r\n.\r\n"},
        {"line limit exact", {{'N', "abc"}, {'N', ".bc"}, {0, NULL}}, 3,
         "abc\r\n..b\r\n c\r\n.\r\n"},
    };
    BUF    *out = buf_alloc(64);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        encode(t[i].recs, t[i].limit, out);
        ck_assert_msg(buf_len(out) == strlen(t[i].want) && memcmp(buf_str(out), t[i].want,
                                                                   buf_len(out)) == 0,
                      "%s: got \"%s\"", t[i].name, buf_str(out));
    }
    buf_free(out);
}
END_TEST

/* No output of any input holds a bare CR, a bare LF, or CR LF . CR LF
 * before the end: every byte string of a small alphabet, split anywhere. */
START_TEST(test_no_bare_ends)
{
    static const char alpha[] = {'\r', '\n', '.', 'a'};
    BUF    *out = buf_alloc(64);
    char    data[6];
    int     n, code, k, split, bad;
    const char *end;
    size_t  j;

    for (n = 1; n <= 5; n++) {
        int     total = 1;

        for (k = 0; k < n; k++)
            total *= 4;
        for (code = 0; code < total; code++) {
            int     c = code;

            for (k = 0; k < n; k++, c /= 4)
                data[k] = alpha[c % 4];
            data[n] = 0;
            for (split = 0; split <= n; split++) {
                SMTP_ENCODER e;

                buf_reset(out);
                smtp_encode_init(&e, 0);
                smtp_encode(&e, REC_TYPE_CONT, data, (size_t) split, out);
                smtp_encode(&e, REC_TYPE_NORM, data + split, (size_t) (n - split), out);
                smtp_encode_end(&e, out);
                for (j = 0, bad = 0; j < buf_len(out); j++) {
                    char    ch = buf_str(out)[j];

                    bad |= ch == '\r' && buf_str(out)[j + 1] != '\n';
                    bad |= ch == '\n' && (j == 0 || buf_str(out)[j - 1] != '\r');
                }
                end = strstr(buf_str(out), "\r\n.\r\n");
                bad |= buf_len(out) < 3 || (end && end + 5 != buf_str(out) + buf_len(out))
                    || strcmp(buf_str(out) + buf_len(out) - 3, ".\r\n") != 0;
                if (bad)
                    ck_abort_msg("bad output for input %d split at %d: \"%s\"", code, split,
                                 buf_str(out));
            }
        }
    }
    buf_free(out);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_encode");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_no_bare_ends);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
