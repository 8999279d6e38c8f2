/* check_bounce_submit - reading the message to return from its queue file:
 * RET=HDRS stops at the header, RET=FULL at bounce_size_limit, unsafe or
 * damaged files are told apart. */
#include <check.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "mem.h"
#include "qfile.h"
#include "record.h"
#include "testsupport.h"

/* queue_message - a committed queue file in incoming/; its path */
static char *queue_message(const char *queue_dir)
{
    static const char *const lines[] = {
        "From: s@example.org", "Subject: hi", "", "body one", "body two", NULL,
    };
    BUF    *why = buf_alloc(100);
    BUF    *path = buf_alloc(100);
    QFILE_WRITER *w;
    QFILE_SIZES sz = {0, 0, 1, 0};
    STREAM *s;
    int     i;

    for (i = 0; i < 2; i++) {
        char   *p = ts_path(queue_dir, i ? "incoming" : "temp");

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
    w = qfile_create(queue_dir, why);
    ck_assert_msg(w != NULL, "%s", buf_str(why));
    s = qfile_stream(w);
    rec_puts(s, REC_TYPE_FROM, "s@example.org");
    rec_puts(s, REC_TYPE_RCPT, "r@example.com");
    ck_assert_int_eq(stream_flush(s), 0);
    sz.data_offset = lseek(w->fd, 0, SEEK_CUR);
    rec_puts(s, REC_TYPE_MESG, "");
    for (i = 0; lines[i]; i++) {
        rec_puts(s, REC_TYPE_NORM, lines[i]);
        sz.content_size += (long) strlen(lines[i]) + 1;
    }
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    ck_assert_msg(qfile_commit(w, "incoming", &sz, why) == 0, "%s", buf_str(why));
    qfile_path(path, queue_dir, "incoming", w->id, 0);
    qfile_writer_free(w);
    buf_free(why);
    return buf_steal(path);
}

static char *read_back(const char *path, int ret, long limit, int *rc)
{
    BOUNCE_TEXT text;
    BUF    *why = buf_alloc(10);
    BUF    *out = buf_alloc(100);
    struct timeval arrival = {0, 0};

    bounce_text_init(&text);
    *rc = bounce_original_read(path, ret, limit, &text, &arrival, why);
    if (*rc == 0)
        ck_assert_int_gt(arrival.tv_sec, 0);
    bounce_text_render(&text, out);
    bounce_text_free(&text);
    buf_free(why);
    return buf_steal(out);
}

START_TEST(test_full_hdrs_and_limit)
{
    char   *dir = ts_tempdir();
    char   *path = queue_message(dir);
    char   *text;
    int     rc;

    text = read_back(path, BOUNCE_RET_FULL, 50000, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(text, "From: s@example.org\nSubject: hi\n\nbody one\nbody two\n");
    xfree(text);
    text = read_back(path, BOUNCE_RET_HDRS, 50000, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(text, "From: s@example.org\nSubject: hi\n");
    xfree(text);
    /* bounce_size_limit counts bytes and cuts at a record boundary. */
    text = read_back(path, BOUNCE_RET_FULL, 40, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(text, "From: s@example.org\nSubject: hi\n\nbody one\n");
    xfree(text);
    xfree(path);
}
END_TEST

START_TEST(test_unsafe_and_damaged)
{
    char   *dir = ts_tempdir();
    char   *path = queue_message(dir);
    char   *text;
    int     rc, fd;

    /* Not ready (still being written): cannot be opened. */
    ck_assert_int_eq(chmod(path, 0600), 0);
    text = read_back(path, BOUNCE_RET_FULL, 50000, &rc);
    ck_assert_int_eq(rc, -1);
    xfree(text);
    ck_assert_int_eq(chmod(path, 0700), 0);
    /* Cut short: opened, but damaged. */
    fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, lseek(fd, 0, SEEK_END) - 3), 0);
    close(fd);
    text = read_back(path, BOUNCE_RET_FULL, 50000, &rc);
    ck_assert_int_eq(rc, -2);
    xfree(text);
    /* Missing. */
    ck_assert_int_eq(unlink(path), 0);
    text = read_back(path, BOUNCE_RET_FULL, 50000, &rc);
    ck_assert_int_eq(rc, -1);
    xfree(text);
    xfree(path);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("bounce_submit");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_full_hdrs_and_limit);
    tcase_add_test(tc, test_unsafe_and_damaged);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
