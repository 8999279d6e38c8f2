/* check_queue_list - lib/qfile_read and lib/queue_list: envelope reading,
 * content, the mailq table and JSON, defer log reasons, hashed walks. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "qfile.h"
#include "qfile_read.h"
#include "mail_queue.h"
#include "queue_list.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"

static char *queue_dir;

/* make_queue - a fresh queue folder with the folders a listing reads */
static void make_queue(void)
{
    static const char *dirs[] = {"temp", "incoming", "active", "deferred", "hold",
    "maildrop", "defer"};
    size_t  i;

    queue_dir = ts_tempdir();
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char   *p = ts_path(queue_dir, dirs[i]);

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
    config_reset();
    config_set("hash_queue_names", "deferred, defer");
    config_set("hash_queue_depth", "1");
}

/* inject - a committed file in `queue`: sender, a done and two todo
 * recipients (the first with DSN fields), a header and a body with an
 * L-continued line. Returns the ID (static). */
static const char *inject(const char *queue, const char *sender)
{
    static char id[QUEUE_ID_BUFSZ];
    BUF    *why = buf_alloc(100);
    QFILE_WRITER *w = qfile_create(queue_dir, why);
    QFILE_SIZES sz = {0, 0, 3, 0};
    STREAM *s;

    ck_assert_msg(w != NULL, "qfile_create: %s", buf_str(why));
    s = qfile_stream(w);
    rec_puts(s, REC_TYPE_ATTR, "client_address=127.0.0.1");
    rec_puts(s, REC_TYPE_FROM, sender);
    rec_puts(s, REC_TYPE_ORCP, "X@Example.com");
    rec_puts(s, REC_TYPE_DSN_ORCPT, "rfc822;X@Example.com");
    rec_puts(s, REC_TYPE_DSN_NOTIFY, "6");
    rec_puts(s, REC_TYPE_RCPT, "x@example.com");
    rec_puts(s, REC_TYPE_DONE, "done@example.com");
    rec_puts(s, REC_TYPE_RCPT, "y@example.org");
    ck_assert_int_eq(stream_flush(s), 0);
    sz.data_offset = lseek(w->fd, 0, SEEK_CUR);
    rec_puts(s, REC_TYPE_MESG, "");
    rec_puts(s, REC_TYPE_NORM, "Subject: hi");
    rec_puts(s, REC_TYPE_NORM, "");
    rec_puts(s, REC_TYPE_CONT, "a long ");
    rec_puts(s, REC_TYPE_NORM, "line");
    rec_puts(s, REC_TYPE_XTRA, "");
    rec_puts(s, REC_TYPE_END, "");
    sz.content_size = 12 + 1 + 12;
    ck_assert_msg(qfile_commit(w, queue, &sz, why) == 0, "commit: %s", buf_str(why));
    strcpy(id, w->id);
    qfile_writer_free(w);
    buf_free(why);
    return id;
}

/* path_of - queue_dir/queue/id, unhashed */
static char *path_of(const char *queue, const char *id)
{
    BUF    *b = buf_alloc(100);

    qfile_path(b, queue_dir, queue, id, 0);
    return buf_steal(b);
}

/* listing - queue_list's output as a string */
static char *listing(int flags)
{
    char   *out = ts_path(queue_dir, "listing");
    int     fd = open(out, O_RDWR | O_CREAT | O_TRUNC, 0600);
    STREAM *s = stream_fdopen(fd);
    BUF    *why = buf_alloc(100);
    char   *text;

    ck_assert_msg(queue_list(s, queue_dir, flags, why) == 0, "queue_list: %s", buf_str(why));
    ck_assert_int_eq(stream_close(s), 0);
    text = ts_read_file(out, NULL);
    unlink(out);
    xfree(out);
    buf_free(why);
    return text;
}

START_TEST(envelope_fields)
{
    const char *id;
    char   *path;
    QFILE_ENVELOPE env;
    BUF    *why = buf_alloc(100);
    int     fd;

    make_queue();
    id = inject("incoming", "alice@sandbox.test");
    path = path_of("incoming", id);
    fd = open(path, O_RDONLY);
    ck_assert_int_eq(qfile_read_envelope(fd, &env, why), 0);
    ck_assert_str_eq(env.sender, "alice@sandbox.test");
    ck_assert_int_eq(env.nattrs, 1);
    ck_assert_str_eq(qfile_envelope_attr(&env, "client_address"), "127.0.0.1");
    ck_assert_ptr_null(qfile_envelope_attr(&env, "client"));
    ck_assert_int_eq(env.nrcpts, 3);
    ck_assert_str_eq(env.rcpts[0].address, "x@example.com");
    ck_assert_str_eq(env.rcpts[0].orig, "X@Example.com");
    ck_assert_str_eq(env.rcpts[0].dsn_orcpt, "rfc822;X@Example.com");
    ck_assert_int_eq(env.rcpts[0].notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE);
    ck_assert_int_eq(env.rcpts[0].done, 0);
    ck_assert_str_eq(env.rcpts[1].address, "done@example.com");
    ck_assert_int_eq(env.rcpts[1].done, 1);
    ck_assert_str_eq(env.rcpts[1].orig, "");
    ck_assert_int_eq(env.rcpts[2].notify, 0);
    ck_assert_int_eq(env.sum.sizes.content_size, 25);
    /* The recipient's offset points at its R record: a mark there works. */
    {
        char    type;

        ck_assert_int_eq(pread(fd, &type, 1, env.rcpts[2].offset), 1);
        ck_assert_int_eq(type, REC_TYPE_RCPT);
        ck_assert_int_eq(pread(fd, &type, 1, env.rcpts[1].offset), 1);
        ck_assert_int_eq(type, REC_TYPE_DONE);
    }
    qfile_envelope_free(&env);
    close(fd);
    xfree(path);
    buf_free(why);
}
END_TEST

/* content_cb - collect content records as "N:text|" */
static void content_cb(int type, const char *data, size_t len, void *ctx)
{
    buf_printf(ctx, "%c:%.*s|", type, (int) len, data);
}

START_TEST(content_in_order)
{
    const char *id;
    char   *path;
    QFILE_ENVELOPE env;
    BUF    *why = buf_alloc(100);
    BUF    *got = buf_alloc(100);
    int     fd;

    make_queue();
    id = inject("incoming", "a@b");
    path = path_of("incoming", id);
    fd = open(path, O_RDONLY);
    ck_assert_int_eq(qfile_read_envelope(fd, &env, why), 0);
    ck_assert_int_eq(qfile_read_content(fd, &env, content_cb, got, why), 0);
    ck_assert_str_eq(buf_str(got), "N:Subject: hi|N:|L:a long |N:line|");
    qfile_envelope_free(&env);
    close(fd);
    xfree(path);
    buf_free(why);
    buf_free(got);
}
END_TEST

START_TEST(corrupt_file_refused)
{
    const char *id;
    char   *path;
    QFILE_ENVELOPE env;
    BUF    *why = buf_alloc(100);
    struct stat st;
    int     fd;

    make_queue();
    id = inject("incoming", "a@b");
    path = path_of("incoming", id);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size - 2), 0);     /* no end record */
    fd = open(path, O_RDONLY);
    ck_assert_int_eq(qfile_read_envelope(fd, &env, why), -1);
    ck_assert_msg(strstr(buf_str(why), "end record") || strstr(buf_str(why), "truncated"),
                  "why: %s", buf_str(why));
    close(fd);
    /* ... and a listing skips it without failing. */
    ck_assert_str_eq(listing(0), "Mail queue is empty\n");
    xfree(path);
    buf_free(why);
}
END_TEST

START_TEST(table_shape)
{
    char    id_in[QUEUE_ID_BUFSZ], id_hold[QUEUE_ID_BUFSZ], id_act[QUEUE_ID_BUFSZ];
    char   *text;
    BUF    *want = buf_alloc(100);

    make_queue();
    ck_assert_str_eq(listing(0), "Mail queue is empty\n");
    ck_assert_str_eq(listing(QUEUE_LIST_JSON), "");
    strcpy(id_hold, inject("hold", ""));
    strcpy(id_in, inject("incoming", "alice@sandbox.test"));
    strcpy(id_act, inject("active", "b@c"));
    text = listing(0);
    ck_assert_msg(strncmp(text, "----Queue ID----- --Size-- ---Arrival Time---- "
                          "--Sender/Recipient------\n", 72) == 0, "%s", text);
    /* incoming, then active (*), then hold (!); the ID column is 17 wide */
    buf_sprintf(want, "\n%-17s ", id_in);
    ck_assert_msg(strstr(text, buf_str(want)) != NULL, "%s", text);
    buf_sprintf(want, "\n%s*", id_act);
    ck_assert_msg(strstr(text, buf_str(want)) != NULL, "%s", text);
    buf_sprintf(want, "\n%s!", id_hold);
    ck_assert_msg(strstr(text, buf_str(want)) != NULL, "%s", text);
    ck_assert(strstr(text, id_in) < strstr(text, id_act));
    ck_assert(strstr(text, id_act) < strstr(text, id_hold));
    ck_assert_msg(strstr(text, ":00 MAILER-DAEMON\n") != NULL
                  || strstr(text, " MAILER-DAEMON\n") != NULL, "%s", text);
    buf_sprintf(want, "\n%47sx@example.com\n", "");
    ck_assert_msg(strstr(text, buf_str(want)) != NULL, "%s", text);
    ck_assert_msg(strstr(text, "done@example.com") == NULL, "done recipient shown: %s", text);
    /* Kbytes truncated, as Postfix's: three small files make 0 */
    ck_assert_msg(strstr(text, "\n\n-- 0 Kbytes in 3 Requests.\n") != NULL, "%s", text);
    buf_free(want);
}
END_TEST

/* write_defer_log - defer/<hash>/<id> with the given text */
static void write_defer_log(const char *id, const char *text)
{
    BUF    *p = buf_alloc(100);

    buf_sprintf(p, "%s/defer/%c", queue_dir, id[9]);
    (void) mkdir(buf_str(p), 0700);
    buf_printf(p, "/%s", id);
    ts_write_file(buf_str(p), text);
    buf_free(p);
}

START_TEST(json_with_reasons)
{
    char    id[QUEUE_ID_BUFSZ];
    char   *text;

    make_queue();
    strcpy(id, inject("incoming", "s\"q@example.com"));
    write_defer_log(id,
                    "action=delayed offset=1 recipient=x@example.com reason=first%20try\n"
                    "action=failed recipient=y@example.org reason=not%20delayed\n"
                    "action=delayed recipient=x@example.com reason=conn%20refused%25\n"
                    "action=delayed recipient=y@example.org reason=half%20written");
    text = listing(QUEUE_LIST_JSON);
    {
        BUF    *want = buf_alloc(200);

        buf_sprintf(want, "{\"queue_name\": \"incoming\", \"queue_id\": \"%s\", "
                    "\"arrival_time\": ", id);
        ck_assert_msg(strncmp(text, buf_str(want), buf_len(want)) == 0, "%s", text);
        ck_assert_msg(strstr(text, "\"message_size\": 25, \"forced_expire\": false, "
                             "\"sender\": \"s\\\"q@example.com\", \"recipients\": ["
                             "{\"address\": \"x@example.com\", \"delay_reason\": "
                             "\"conn refused%\"}, {\"address\": \"y@example.org\"}]}\n")
                      != NULL, "%s", text);
        buf_free(want);
    }
    /* The table prints the reason once, above its recipient. */
    text = listing(0);
    {
        BUF    *want = buf_alloc(200);

        /* right-aligned to column 76, recipient under the address column */
        buf_sprintf(want, "\n%*s(conn refused%%)\n%47sx@example.com\n",
                    76 - (int) strlen("conn refused%"), "", "");
        ck_assert_msg(strstr(text, buf_str(want)) != NULL, "%s", text);
        buf_free(want);
    }
    ck_assert_msg(strstr(text, "half written") == NULL, "%s", text);
}
END_TEST

START_TEST(json_strings)
{
    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        {"plain", "\"plain\""},
        {"q\"b\\", "\"q\\\"b\\\\\""},
        {"tab\there\n", "\"tab\\u0009here\\u000a\""},
        {"\x7f", "\"\\u007f\""},
        {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
        {"bad\xc3", "\"bad\\ufffd\""},
        {"\xff\xfe", "\"\\ufffd\\ufffd\""},
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},             /* overlong '/' */
        {"\xe2\x82\xac!", "\"\xe2\x82\xac!\""},
    };
    BUF    *b = buf_alloc(50);
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(b);
        queue_json_string(b, cases[i].in);
        ck_assert_msg(strcmp(buf_str(b), cases[i].out) == 0, "case %zu: got %s want %s",
                      i, buf_str(b), cases[i].out);
    }
    buf_free(b);
}
END_TEST

/* walk_cb - collect "queue/name" */
static void walk_cb(const char *queue, const char *name, const char *path, void *ctx)
{
    buf_printf(ctx, "%s/%s ", queue, name);
}

START_TEST(walk_hashed_sorted)
{
    char    a[QUEUE_ID_BUFSZ], b[QUEUE_ID_BUFSZ];
    BUF    *got = buf_alloc(100);
    BUF    *want = buf_alloc(100);
    BUF    *why = buf_alloc(100);
    BUF    *from = buf_alloc(100);
    BUF    *to = buf_alloc(100);
    const char *ids[2];
    int     i;

    make_queue();
    strcpy(a, inject("deferred", "a@b"));
    strcpy(b, inject("deferred", "a@b"));
    ids[0] = a;
    ids[1] = b;
    /* Hash both into subfolders, as qmgr does. */
    for (i = 0; i < 2; i++) {
        buf_sprintf(from, "%s/deferred/%s", queue_dir, ids[i]);
        qfile_path(to, queue_dir, "deferred", ids[i], 1);
        buf_sprintf(want, "%s/deferred/%c", queue_dir, ids[i][9]);
        (void) mkdir(buf_str(want), 0700);
        ck_assert_int_eq(rename(buf_str(from), buf_str(to)), 0);
    }
    buf_sprintf(from, "%s/deferred/not-an-id", queue_dir);
    ts_write_file(buf_str(from), "x");
    ck_assert_int_eq(queue_walk(queue_dir, "deferred", 0, walk_cb, got, why), 2);
    buf_sprintf(want, "deferred/%s deferred/%s ", strcmp(a, b) < 0 ? a : b, strcmp(a, b) < 0 ? b : a);
    ck_assert_str_eq(buf_str(got), buf_str(want));
    ck_assert_int_eq(mail_queue_hash_depth("deferred"), 1);
    ck_assert_int_eq(mail_queue_hash_depth("incoming"), 0);
    ck_assert_int_eq(queue_walk(queue_dir, "nonexistent", 0, walk_cb, got, why), -1);
    buf_free(got);
    buf_free(want);
    buf_free(why);
    buf_free(from);
    buf_free(to);
}
END_TEST

START_TEST(maildrop_listed)
{
    char   *path;
    int     fd;
    STREAM *s;
    char   *text;

    make_queue();
    path = ts_path(queue_dir, "maildrop/12345.abc");
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    s = stream_fdopen(fd);
    rec_puts(s, REC_TYPE_ATTR, "flags=16");
    rec_puts(s, REC_TYPE_FROM, "user@sandbox.test");
    rec_puts(s, REC_TYPE_RCPT, "r@example.com");
    rec_puts(s, REC_TYPE_MESG, "");
    rec_puts(s, REC_TYPE_NORM, "hi");
    ck_assert_int_eq(stream_close(s), 0);
    text = listing(QUEUE_LIST_JSON);
    ck_assert_msg(strstr(text, "\"queue_name\": \"maildrop\", \"queue_id\": \"12345.abc\"") != NULL,
                  "%s", text);
    ck_assert_msg(strstr(text, "\"sender\": \"user@sandbox.test\", \"recipients\": "
                         "[{\"address\": \"r@example.com\"}]") != NULL, "%s", text);
    xfree(path);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("queue_list");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, envelope_fields);
    tcase_add_test(tc, content_in_order);
    tcase_add_test(tc, corrupt_file_refused);
    tcase_add_test(tc, table_shape);
    tcase_add_test(tc, json_with_reasons);
    tcase_add_test(tc, json_strings);
    tcase_add_test(tc, walk_hashed_sorted);
    tcase_add_test(tc, maildrop_listed);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
