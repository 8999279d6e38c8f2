/* check_qfile_dump - qfile_dump (lib/global/qfile_dump.c), the readable
 * view of a queue file that cleanup writes (for `surel queue show ID`). */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "qfile.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"

/* dump - qfile_dump of a record file; returns the text, sets *ret */
static char *dump(const char *dir, const char *name, int *ret)
{
    char   *in_path = ts_path(dir, name), *out_path = ts_path(dir, "dump.out");
    int     in_fd = open(in_path, O_RDONLY), out_fd;
    STREAM *in, *out;
    BUF    *why = buf_alloc(100);
    char   *text;

    ck_assert_int_ge(in_fd, 0);
    out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    in = stream_fdopen(in_fd);
    out = stream_fdopen(out_fd);
    *ret = qfile_dump(in, out, why);
    stream_close(in);
    stream_close(out);
    text = ts_read_file(out_path, NULL);
    xfree(in_path);
    xfree(out_path);
    buf_free(why);
    return text;
}

/* write_records - a record file from (type, text) pairs, ending at type 0 */
static void write_records(const char *dir, const char *name, const char *const *recs)
{
    char   *path = ts_path(dir, name);
    STREAM *s = stream_fdopen(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));

    for (; recs[0]; recs += 2)
        rec_puts(s, recs[0][0], recs[1]);
    ck_assert_int_eq(stream_close(s), 0);
    xfree(path);
}

START_TEST(test_dump_shape)
{
    char   *dir = ts_tempdir();
    static const char *const recs[] = {
        "T", "0 5", "S", "a@x", "O", "B@y", "R", "b@y", "M", "",
        "N", "Subject: hi", "L", "ab", "N", "c\001\\", "N", "",
        "X", "", "A", "k=v", "E", "", NULL,
    };
    int     ret;
    char   *text;

    write_records(dir, "q", recs);
    text = dump(dir, "q", &ret);
    ck_assert_int_eq(ret, 0);
    ck_assert_str_eq(text, "*** ENVELOPE RECORDS ***\n"
                     "time: 1970-01-01 00:00:00.000005 UTC (0)\n"
                     "sender: a@x\n"
                     "original_recipient: B@y\n"
                     "recipient: b@y\n"
                     "*** MESSAGE CONTENTS ***\n"
                     "Subject: hi\n"
                     "abc\\001\\134\n"
                     "\n"
                     "*** HEADER EXTRACTED ***\n"
                     "attribute: k=v\n"
                     "*** MESSAGE FILE END ***\n");
    xfree(text);
}
END_TEST

START_TEST(test_dump_incomplete_file)
{
    char   *dir = ts_tempdir();
    static const char *const recs[] = {"S", "a@x", "M", "", "N", "line", NULL};
    int     ret;
    char   *text;

    write_records(dir, "q", recs);
    text = dump(dir, "q", &ret);
    ck_assert_int_eq(ret, -1);                      /* no end record */
    ck_assert_ptr_nonnull(strstr(text, "sender: a@x\n*** MESSAGE CONTENTS ***\nline\n"));
    xfree(text);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("qfile_dump");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_dump_shape);
    tcase_add_test(tc, test_dump_incomplete_file);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
