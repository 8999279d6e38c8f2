/* check_qfile - queue files: the commit protocol, the grammar, marks. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "qfile.h"
#include "safe_file.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"

static char *queue_dir;

static void make_queue(void)
{
    static const char *dirs[] = {"temp", "incoming", "hold"};
    size_t  i;

    queue_dir = ts_tempdir();
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char   *p = ts_path(queue_dir, dirs[i]);

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
}

/* count_files - entries in queue_dir/sub, not counting . and .. */
static int count_files(const char *sub)
{
    char   *p = ts_path(queue_dir, sub);
    DIR    *d = opendir(p);
    struct dirent *e;
    int     n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    xfree(p);
    return n;
}

/* write_message - a small complete message with two recipients */
static QFILE_WRITER *write_message(QFILE_SIZES *sz)
{
    BUF    *why = buf_alloc(100);
    QFILE_WRITER *w = qfile_create(queue_dir, why);
    STREAM *s;
    long    before_m;

    ck_assert_msg(w != NULL, "qfile_create: %s", buf_str(why));
    s = qfile_stream(w);
    rec_puts(s, REC_TYPE_FROM, "sender@example.org");
    rec_puts(s, REC_TYPE_ATTR, "dsn_ret=HDRS");
    rec_puts(s, REC_TYPE_ORCP, "Alice@Sandbox.test");
    rec_puts(s, REC_TYPE_RCPT, "alice@sandbox.test");
    rec_puts(s, REC_TYPE_RCPT, "bob@sandbox.test");
    ck_assert_int_eq(stream_flush(s), 0);
    before_m = lseek(w->fd, 0, SEEK_CUR);
    rec_puts(s, REC_TYPE_MESG, "");
    rec_puts(s, REC_TYPE_NORM, "Subject: hi");
    rec_puts(s, REC_TYPE_NORM, "");
    rec_puts(s, REC_TYPE_CONT, "a long ");
    rec_puts(s, REC_TYPE_NORM, "line");
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    sz->content_size = 12 + 1 + 11 + 1;
    sz->data_offset = before_m;
    sz->nrcpt = 2;
    sz->flags = 0;
    buf_free(why);
    return w;
}

/* Each directory_fsync mode commits the same way as seen from outside:
 * the two orders (folder fsync, or one fsync after the rename) differ only
 * in their calls, which test_durability_order watches. */
static const int commit_modes[] = {DIR_FSYNC_AUTO, DIR_FSYNC_YES, DIR_FSYNC_NO};

START_TEST(test_commit_moves_ready_file_into_incoming)
{
    QFILE_SIZES sz;
    QFILE_WRITER *w;
    QFILE_SUMMARY sum;
    BUF    *why = buf_alloc(100), *path = buf_alloc(100);
    struct stat st;
    STREAM *s;
    int     fd;

    qfile_set_dir_fsync(commit_modes[_i]);
    make_queue();
    w = write_message(&sz);
    ck_assert(queue_id_valid(w->id));
    ck_assert_int_eq(count_files("temp"), 1);
    ck_assert_int_eq(count_files("incoming"), 0);   /* nothing half-written there */
    ck_assert_int_eq(stat(w->temp_path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, QFILE_MODE_WRITING);
    ck_assert_msg(qfile_commit(w, "incoming", &sz, why) == 0, "%s", buf_str(why));
    ck_assert_int_eq(count_files("temp"), 0);
    ck_assert_int_eq(count_files("incoming"), 1);

    qfile_path(path, queue_dir, "incoming", w->id, 0);
    fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why);
    ck_assert_msg(fd >= 0, "%s", buf_str(why));
    ck_assert_int_eq(st.st_mode & 0777, QFILE_MODE_READY);
    s = stream_fdopen(fd);
    ck_assert_msg(qfile_verify(s, &sum, why) == 0, "%s", buf_str(why));
    ck_assert_int_eq(sum.nrcpt_todo, 2);
    ck_assert_int_eq(sum.sizes.content_size, sz.content_size);
    ck_assert_int_eq(sum.arrival.tv_sec, w->arrival.tv_sec);
    stream_close(s);
    qfile_writer_free(w);
    buf_free(why);
    buf_free(path);
}
END_TEST

START_TEST(test_abort_leaves_nothing)
{
    QFILE_SIZES sz;
    QFILE_WRITER *w;

    make_queue();
    w = write_message(&sz);
    qfile_abort(w);
    ck_assert_int_eq(count_files("temp"), 0);
    ck_assert_int_eq(count_files("incoming"), 0);
}
END_TEST

START_TEST(test_mark_done_in_place)
{
    QFILE_SIZES sz;
    QFILE_WRITER *w;
    QFILE_SUMMARY sum;
    BUF    *why = buf_alloc(100), *path = buf_alloc(100), *data = buf_alloc(100);
    struct stat st;
    STREAM *s;
    long    offset = 0;
    int     fd, type;

    make_queue();
    w = write_message(&sz);
    ck_assert_int_eq(qfile_commit(w, "incoming", &sz, why), 0);
    qfile_path(path, queue_dir, "incoming", w->id, 0);
    fd = qfile_open_ready(buf_str(path), O_RDWR, &st, why);
    ck_assert_int_ge(fd, 0);
    s = stream_fdopen(fd);
    while ((type = rec_get(s, data, 4096)) > 0 && type != REC_TYPE_RCPT)
        offset += (long) (rec_header_len(buf_len(data)) + buf_len(data));
    ck_assert_int_eq(type, REC_TYPE_RCPT);
    ck_assert_str_eq(buf_str(data), "alice@sandbox.test");
    ck_assert_int_eq(qfile_mark(fd, offset, REC_TYPE_DONE), 0);
    stream_close(s);

    fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why);
    s = stream_fdopen(fd);
    ck_assert_msg(qfile_verify(s, &sum, why) == 0, "%s", buf_str(why));
    ck_assert_int_eq(sum.nrcpt_done, 1);
    ck_assert_int_eq(sum.nrcpt_todo, 1);
    stream_close(s);
    qfile_writer_free(w);
    buf_free(why);
    buf_free(path);
    buf_free(data);
}
END_TEST

START_TEST(test_open_ready_refuses_unsafe_files)
{
    BUF    *why = buf_alloc(100);
    struct stat st;
    char   *f, *slink, *hard;

    make_queue();
    f = ts_path(queue_dir, "incoming/f");
    slink = ts_path(queue_dir, "incoming/link");
    hard = ts_path(queue_dir, "incoming/hard");
    ts_write_file(f, "x");
    ck_assert_int_eq(chmod(f, 0600), 0);
    ck_assert_int_lt(qfile_open_ready(f, O_RDONLY, &st, why), 0);   /* not ready */
    ck_assert_ptr_nonnull(strstr(buf_str(why), "not ready"));
    ck_assert_int_eq(chmod(f, 0700), 0);
    ck_assert_int_eq(symlink(f, slink), 0);
    ck_assert_int_lt(qfile_open_ready(slink, O_RDONLY, &st, why), 0);
    ck_assert_int_eq(link(f, hard), 0);
    ck_assert_int_lt(qfile_open_ready(f, O_RDONLY, &st, why), 0);   /* two links */
    ck_assert_int_eq(unlink(hard), 0);
    ck_assert_int_lt(qfile_open_ready(queue_dir, O_RDONLY, &st, why), 0);
    ck_assert_int_ge(qfile_open_ready(f, O_RDONLY, &st, why), 0);
    buf_free(why);
}
END_TEST

/* verify_bytes - qfile_verify over raw bytes */
static int verify_bytes(const char *data, size_t len, BUF *why)
{
    QFILE_SUMMARY sum;
    STREAM *s = stream_memopen(data, len);
    int     ret = qfile_verify(s, &sum, why);

    stream_release(s);
    return ret;
}

/* good_file - a minimal valid file; `size` from the size record */
static BUF *good_file(void)
{
    BUF    *b = buf_alloc(200);
    char    sizes[80];

    /* C(63 bytes) T S R M N X E; the M record sits at offset 65+6+5+4 = 80 */
    snprintf(sizes, sizeof(sizes), "%15d %15d %15d %15d", 2, 80, 1, 0);
    buf_putc(b, 'C'); buf_putc(b, 63); buf_puts(b, sizes);
    buf_putc(b, 'T'); buf_putc(b, 4); buf_puts(b, "1 23");
    buf_putc(b, 'S'); buf_putc(b, 3); buf_puts(b, "a@b");
    buf_putc(b, 'R'); buf_putc(b, 2); buf_puts(b, "rc");
    buf_putc(b, 'M'); buf_putc(b, 0);
    buf_putc(b, 'N'); buf_putc(b, 1); buf_puts(b, "x");
    buf_putc(b, 'X'); buf_putc(b, 0);
    buf_putc(b, 'E'); buf_putc(b, 0);
    return b;
}

START_TEST(test_verify_accepts_minimal_file)
{
    BUF    *b = good_file(), *why = buf_alloc(100);

    ck_assert_msg(verify_bytes(buf_str(b), buf_len(b), why) == 0, "%s", buf_str(why));
    buf_free(b);
    buf_free(why);
}
END_TEST

/* Each damage applied to the good file must be refused. */
static const struct {
    const char *what;
    size_t  at;                         /* byte offset to change, or truncate */
    int     value;                      /* new byte; -1 truncate at `at` */
} damages[] = {
    {"truncated before end record", 87, -1},
    {"truncated inside the end record", 88, -1},
    {"truncated inside a record", 84, -1},
    {"unknown record type", 71, 'Q'},
    {"second sender", 76, 'S'},         /* R becomes S */
    {"content record in envelope", 76, 'N'},
    {"partial line before X", 82, 'L'},
    {"wrong recipient count", 76, 'A'}, /* R becomes A: count 0 != 1 */
    {"length beyond the file", 83, 120},
};

START_TEST(test_verify_refuses_damage)
{
    BUF    *b = good_file(), *why = buf_alloc(100);
    size_t  len = buf_len(b);

    if (damages[_i].value < 0)
        len = damages[_i].at;
    else
        b->data[damages[_i].at] = (char) damages[_i].value;
    ck_assert_msg(verify_bytes(buf_str(b), len, why) < 0, "accepted: %s", damages[_i].what);
    buf_free(b);
    buf_free(why);
}
END_TEST

START_TEST(test_verify_refuses_trailing_data)
{
    BUF    *b = good_file(), *why = buf_alloc(100);

    buf_putc(b, 'N');
    buf_putc(b, 0);
    ck_assert_int_lt(verify_bytes(buf_str(b), buf_len(b), why), 0);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "after the end"));
    buf_free(b);
    buf_free(why);
}
END_TEST

START_TEST(test_record_length_must_be_shortest)
{
    static const char bytes[] = {'M', (char) 0x80, 0x00};
    BUF    *data = buf_alloc(10);
    STREAM *s = stream_memopen(bytes, sizeof(bytes));

    ck_assert_int_eq(rec_get(s, data, 100), REC_ERROR);
    stream_release(s);
    buf_free(data);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("qfile");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_commit_moves_ready_file_into_incoming, 0,
                        (int) (sizeof(commit_modes) / sizeof(commit_modes[0])));
    tcase_add_test(tc, test_abort_leaves_nothing);
    tcase_add_test(tc, test_mark_done_in_place);
    tcase_add_test(tc, test_open_ready_refuses_unsafe_files);
    tcase_add_test(tc, test_verify_accepts_minimal_file);
    tcase_add_loop_test(tc, test_verify_refuses_damage, 0, sizeof(damages) / sizeof(damages[0]));
    tcase_add_test(tc, test_verify_refuses_trailing_data);
    tcase_add_test(tc, test_record_length_must_be_shortest);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
