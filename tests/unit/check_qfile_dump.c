/* check_qfile_dump - the one readable view of a queue file (lib/global/
 * qfile_dump.c, behind `surel queue show`): the sections of a verified
 * file, the -e/-h/-b parts, the record walk for a file that does not
 * verify, and the escaping that keeps client bytes off the terminal. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "qfile.h"
#include "qfile_dump.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"

/* dump_path - qfile_dump of a file; returns the text, sets *ret */
static char *dump_path(const char *path, int what, int *ret)
{
    char   *dir = ts_tempdir();
    char   *out_path = ts_path(dir, "dump.out");
    int     fd = open(path, O_RDONLY);
    STREAM *out;
    BUF    *why = buf_alloc(100);
    char   *text;

    ck_assert_int_ge(fd, 0);
    out = stream_fdopen(open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600));
    *ret = qfile_dump(fd, "incoming/ID", what, out, why);
    ck_assert_int_eq(stream_close(out), 0);
    close(fd);
    text = ts_read_file(out_path, NULL);
    xfree(out_path);
    buf_free(why);
    return text;
}

/* committed_file - a real, verified queue file; its path (malloc'ed) */
static char *committed_file(void)
{
    static const char *const sub[] = {"temp", "incoming"};
    char   *queue_dir = ts_tempdir();
    BUF    *why = buf_alloc(100);
    BUF    *path = buf_alloc(100);
    QFILE_WRITER *w;
    QFILE_SIZES sz = {0, 0, 2, 0};
    STREAM *s;
    size_t  i;

    for (i = 0; i < 2; i++) {
        char   *p = ts_path(queue_dir, sub[i]);

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
    w = qfile_create(queue_dir, why);
    ck_assert_msg(w != NULL, "qfile_create: %s", buf_str(why));
    s = qfile_stream(w);
    rec_puts(s, REC_TYPE_FROM, "s\033[2J@x");      /* an escape sequence */
    rec_puts(s, REC_TYPE_ATTR, "client_address=127.0.0.1");
    rec_puts(s, REC_TYPE_ORCP, "B@y");
    rec_puts(s, REC_TYPE_RCPT, "b@y");
    rec_puts(s, REC_TYPE_RCPT, "c@y");
    ck_assert_int_eq(stream_flush(s), 0);
    sz.data_offset = lseek(w->fd, 0, SEEK_CUR);
    rec_puts(s, REC_TYPE_MESG, "");
    rec_puts(s, REC_TYPE_NORM, "Subject: a\001b\\c");
    rec_puts(s, REC_TYPE_NORM, "");
    rec_puts(s, REC_TYPE_CONT, "bo");
    rec_puts(s, REC_TYPE_NORM, "dy");
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    sz.content_size = 15 + 1 + 5;
    ck_assert_msg(qfile_commit(w, "incoming", &sz, why) == 0, "%s", buf_str(why));
    qfile_path(path, queue_dir, "incoming", w->id, 0);
    qfile_writer_free(w);
    buf_free(why);
    return buf_steal(path);
}

START_TEST(test_verified_sections)
{
    char   *path = committed_file();
    int     ret;
    char   *text = dump_path(path, QFILE_DUMP_ALL, &ret);

    ck_assert_int_eq(ret, 0);
    ck_assert_msg(strncmp(text, "*** ENVELOPE RECORDS incoming/ID ***\nmessage_size: 21\n",
                          54) == 0, "%s", text);
    ck_assert_msg(strstr(text, "sender: s\\033[2J@x\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "named_attribute: client_address=127.0.0.1\n"
                         "recipient: b@y (todo)\n    original_recipient: B@y\n"
                         "recipient: c@y (todo)\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "*** MESSAGE CONTENTS incoming/ID ***\n"
                         "Subject: a\\001b\\134c\n\nbody\n"
                         "*** MESSAGE FILE END incoming/ID ***\n") != NULL, "%s", text);
    ck_assert_ptr_null(strchr(text, '\033'));
    xfree(text);
    xfree(path);
}
END_TEST

START_TEST(test_parts_alone)
{
    char   *path = committed_file();
    int     ret;
    char   *text;

    text = dump_path(path, QFILE_DUMP_HEADER, &ret);
    ck_assert_int_eq(ret, 0);
    ck_assert_str_eq(text, "Subject: a\\001b\\134c\n");
    xfree(text);
    text = dump_path(path, QFILE_DUMP_BODY, &ret);
    ck_assert_str_eq(text, "body\n");
    xfree(text);
    text = dump_path(path, QFILE_DUMP_ENVELOPE, &ret);
    ck_assert_ptr_nonnull(strstr(text, "sender: "));
    ck_assert_ptr_null(strstr(text, "Subject"));
    ck_assert_ptr_null(strstr(text, "***"));
    xfree(text);
    xfree(path);
}
END_TEST

/* write_records - a record file from (type, text) pairs, ending at NULL */
static char *write_records(const char *const *recs)
{
    char   *path = ts_path(ts_tempdir(), "q");
    STREAM *s = stream_fdopen(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600));

    for (; recs[0]; recs += 2)
        rec_puts(s, recs[0][0], recs[1]);
    ck_assert_int_eq(stream_close(s), 0);
    return path;
}

/* No size record: not a queue file qfile_verify accepts; walked instead. */
START_TEST(test_unverified_file_is_walked)
{
    static const char *const recs[] = {
        "T", "0 5", "S", "a@x", "O", "B@y", "R", "b@y", "M", "",
        "N", "Subject: hi", "L", "ab", "N", "c\001\\", "N", "",
        "X", "", "A", "k=v", "E", "", NULL,
    };
    char   *path = write_records(recs);
    int     ret;
    char   *text = dump_path(path, QFILE_DUMP_ALL, &ret);
    const char *body;
    static const char head[] = "*** RECORDS incoming/ID (not a valid queue file: ";

    ck_assert_int_eq(ret, -1);
    ck_assert_msg(strncmp(text, head, strlen(head)) == 0, "%s", text);
    body = strstr(text, ") ***\n");
    ck_assert_ptr_nonnull(body);
    ck_assert_str_eq(body, ") ***\n"
                     "time: 0 5\n"
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
    /* A part alone is for tools: nothing is printed from such a file. */
    text = dump_path(path, QFILE_DUMP_BODY, &ret);
    ck_assert_int_eq(ret, -1);
    ck_assert_str_eq(text, "");
    xfree(text);
    xfree(path);
}
END_TEST

START_TEST(test_incomplete_file)
{
    static const char *const recs[] = {"S", "a@x", "M", "", "N", "line", NULL};
    char   *path = write_records(recs);
    int     ret;
    char   *text = dump_path(path, QFILE_DUMP_ALL, &ret);

    ck_assert_int_eq(ret, -1);
    ck_assert_msg(strstr(text, "sender: a@x\n*** MESSAGE CONTENTS ***\nline\n"
                         "*** NO END RECORD ***\n") != NULL, "%s", text);
    xfree(text);
    xfree(path);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("qfile_dump");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_verified_sections);
    tcase_add_test(tc, test_parts_alone);
    tcase_add_test(tc, test_unverified_file_is_walked);
    tcase_add_test(tc, test_incomplete_file);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
