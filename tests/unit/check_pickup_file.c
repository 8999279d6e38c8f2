/* check_pickup_file - pickup's checks of maildrop files and its side of
 * the cleanup protocol, against a stand-in cleanup on a real socket. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "pickup.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"
#include "rules_table.inc"

static char *queue_dir;
static PICKUP_CONF conf;
static pid_t fake_pid = -1;
static int show_norm;                   /* fake_serve: also the text of N records */

/* make_queue - the folders pickup uses, in a fresh temp folder */
static void make_queue(void)
{
    static const char *dirs[] = {"maildrop", "corrupt", "private"};
    size_t  i;

    queue_dir = ts_tempdir();
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char   *p = ts_path(queue_dir, dirs[i]);

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
    conf.queue_dir = queue_dir;
    conf.size_limit = 0;
    conf.ipc_timeout = 10;
}

/* stop_fake - reap the stand-in cleanup, if one runs */
static void stop_fake(void)
{
    if (fake_pid > 0) {
        kill(fake_pid, SIGKILL);        /* Check handles SIGTERM by killing the group */
        waitpid(fake_pid, NULL, 0);
        fake_pid = -1;
    }
}

/* fake_serve - one cleanup session: writes "flags=N types=..." (every
 * record type received, in order) to queue_dir/got, answers `status` */
static void fake_serve(int client, int status)
{
    STREAM *s = stream_fdopen(client);
    BUF    *data = buf_alloc(100);
    BUF    *got = buf_alloc(100);
    char   *path = ts_path(queue_dir, "got");
    int     flags;
    int     type;

    if (attr_recv(s, RECV_INT(MAIL_ATTR_FLAGS, &flags), ATTR_END) < 0)
        _exit(2);
    attr_send(s, SEND_STR(MAIL_ATTR_QUEUEID, "TESTID"), ATTR_END);
    buf_sprintf(got, "flags=%d types=", flags);
    while ((type = rec_get(s, data, 100000)) > 0) {
        buf_putc(got, type);
        if (type == REC_TYPE_ATTR || type == REC_TYPE_FROM || type == REC_TYPE_RCPT
            || (show_norm && type == REC_TYPE_NORM)) {
            buf_printf(got, "(%s)", buf_str(data));
        }
        if (type == REC_TYPE_END)
            break;
    }
    ts_write_file(path, buf_str(got));
    attr_send(s, SEND_INT(MAIL_ATTR_STATUS, status), SEND_STR(MAIL_ATTR_WHY, ""), ATTR_END);
    stream_close(s);
}

/* start_fake - a stand-in cleanup on private/cleanup answering status */
static void start_fake(int status)
{
    struct sockaddr_un sun;
    int     sock = socket(AF_UNIX, SOCK_STREAM, 0);
    int     client;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/private/cleanup", queue_dir);
    ck_assert_int_eq(bind(sock, (struct sockaddr *) &sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(sock, 5), 0);
    if ((fake_pid = fork()) == 0) {
        while ((client = accept(sock, NULL, NULL)) >= 0)
            fake_serve(client, status);
        _exit(0);
    }
    close(sock);
}

/* put_file - maildrop/name holding records ("T:data|..."), mode given */
static void put_file(const char *name, const char *records, mode_t mode)
{
    char   *path;
    char   *copy = xstrdup(records);
    char   *save = NULL;
    char   *rec;
    STREAM *s;
    int     fd;

    path = xmalloc(strlen(queue_dir) + strlen(name) + 20);
    sprintf(path, "%s/maildrop/%s", queue_dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    s = stream_fdopen(fd);
    for (rec = strtok_r(copy, "|", &save); rec; rec = strtok_r(NULL, "|", &save))
        rec_puts(s, rec[0], rec + 2);
    ck_assert_int_eq(stream_flush(s), 0);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    stream_close(s);
    xfree(copy);
    xfree(path);
}

/* exists - queue_dir/sub/name exists (without following a link) */
static int exists(const char *sub, const char *name)
{
    char    path[4096];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s/%s", queue_dir, sub, name);
    return lstat(path, &st) == 0;
}

/* got - what the stand-in cleanup received ("" when nothing) */
static char *got(void)
{
    char   *path = ts_path(queue_dir, "got");
    char   *text;

    if (access(path, F_OK) != 0) {
        xfree(path);
        return xstrdup("");
    }
    text = ts_read_file(path, NULL);
    xfree(path);
    return text;
}

#define GOOD "A:flags=16|F:Alice|S:alice|R:bob@example.org|M:|N:To: carol|N:|N:hi|X:|E:"

START_TEST(test_good_file_is_sent_then_removed)
{
    char   *text;

    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", GOOD, 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_SENT);
    stop_fake();
    ck_assert(!exists("maildrop", "f1"));
    text = got();
    /* The flags record is pickup's to act on, not cleanup's to see. */
    ck_assert_str_eq(text, "flags=87 types=FS(alice)R(bob@example.org)MNNNXE");
    xfree(text);
}
END_TEST

START_TEST(test_received_header_names_the_uid_and_queue_id)
{
    char   *text;
    char    want[200];

    make_queue();
    conf.received_by = "host.example";
    conf.mail_name = "surel";
    show_norm = 1;
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", GOOD, 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_SENT);
    stop_fake();
    text = got();
    /* Postfix's two lines, first in the content, before the file's own. */
    snprintf(want, sizeof(want), "MN(Received: by host.example (surel, from userid %ld))"
             "N(\tid TESTID; ", (long) getuid());
    ck_assert_msg(strstr(text, want) != NULL, "got %s", text);
    ck_assert_msg(strstr(text, ")N(To: carol)N()N(hi)XE") != NULL, "got %s", text);
    xfree(text);
    conf.received_by = NULL;
    show_norm = 0;
}
END_TEST

/* LOCAL|FILTER|MAP_OK, and MILTER: non_smtpd_milters see local mail. */
START_TEST(test_without_extract_flags_are_local_filter_map)
{
    char   *text;

    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", "A:dsn_ret=HDRS|S:alice|R:bob|M:|N:x|X:|E:", 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_SENT);
    stop_fake();
    text = got();
    ck_assert_str_eq(text, "flags=71 types=A(dsn_ret=HDRS)S(alice)R(bob)MNXE");
    xfree(text);
}
END_TEST

START_TEST(test_incomplete_file_is_left_alone)
{
    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", GOOD, 0444);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_SKIP);
    stop_fake();
    ck_assert(exists("maildrop", "f1"));
    ck_assert_str_eq(got(), "");
}
END_TEST

/* Files that fail a check: each goes to corrupt/, cleanup never sees it. */
static const char *const bad_files[] = {
    "S:alice|R:bob|M:|N:x|X:",                          /* no end record */
    "S:alice|M:|N:x|X:|E:",                             /* no recipient */
    "T:1 2|S:alice|R:bob|M:|N:x|X:|E:",                 /* cleanup's own record */
    "A:flags=1|S:alice|R:bob|M:|N:x|X:|E:",             /* a flag users may not ask for */
    "S:alice|R:-oQ/tmp/x|M:|N:x|X:|E:",                 /* option-like address */
    "S:alice|R:bob|M:|N:x|X:|E:|N:more",                /* data after the end */
};

START_TEST(test_bad_file_goes_to_corrupt)
{
    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", bad_files[_i], 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_CORRUPT);
    stop_fake();
    ck_assert_msg(!exists("maildrop", "f1") && exists("corrupt", "f1"), "%s", bad_files[_i]);
    ck_assert_str_eq(got(), "");
}
END_TEST

START_TEST(test_size_limit)
{
    make_queue();
    conf.size_limit = 5;
    put_file("f1", "S:alice|R:bob|M:|N:123456|X:|E:", 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_CORRUPT);
    ck_assert(exists("corrupt", "f1"));
}
END_TEST

START_TEST(test_unknown_owner_goes_to_corrupt)
{
    char    path[4096];

    if (geteuid() != 0)
        return;                         /* chown needs root (CI runs as root) */
    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("f1", GOOD, 0744);
    snprintf(path, sizeof(path), "%s/maildrop/f1", queue_dir);
    ck_assert_int_eq(chown(path, 3999999, 3999999), 0);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_CORRUPT);
    stop_fake();
    ck_assert(exists("corrupt", "f1"));
    ck_assert_str_eq(got(), "");
}
END_TEST

START_TEST(test_links_go_to_corrupt)
{
    char    path[4096];
    char    other[4096];

    make_queue();
    put_file("f1", GOOD, 0744);
    snprintf(path, sizeof(path), "%s/maildrop/f1", queue_dir);
    snprintf(other, sizeof(other), "%s/hardlink", queue_dir);
    ck_assert_int_eq(link(path, other), 0);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_CORRUPT);
    snprintf(path, sizeof(path), "%s/maildrop/sym", queue_dir);
    ck_assert_int_eq(symlink(other, path), 0);
    ck_assert_int_eq(pickup_file(&conf, "sym"), PICKUP_CORRUPT);
    ck_assert(exists("corrupt", "sym"));
}
END_TEST

START_TEST(test_cleanup_down_defers)
{
    make_queue();
    put_file("f1", GOOD, 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_DEFER);
    ck_assert(exists("maildrop", "f1"));
}
END_TEST

START_TEST(test_cleanup_temporary_failure_keeps_the_file)
{
    make_queue();
    start_fake(CLEANUP_STAT_WRITE);
    put_file("f1", GOOD, 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_DEFER);
    stop_fake();
    ck_assert(exists("maildrop", "f1"));
}
END_TEST

START_TEST(test_cleanup_rejection_keeps_it_in_corrupt)
{
    make_queue();
    start_fake(CLEANUP_STAT_RCPT);
    put_file("f1", GOOD, 0744);
    ck_assert_int_eq(pickup_file(&conf, "f1"), PICKUP_CORRUPT);
    stop_fake();
    ck_assert(!exists("maildrop", "f1"));
    ck_assert(exists("corrupt", "f1"));
}
END_TEST

/* Every cleanup status of tests/rules/cleanup_status.table (the rows
 * smtpd's reply and local's bounce-or-defer are tested with): the file
 * goes to corrupt/ exactly when the table calls the status permanent, and
 * stays in maildrop/ for a retry otherwise. (-1, no answer, is a lost
 * cleanup: tested above.) */
START_TEST(test_every_cleanup_status_as_the_table_says)
{
    int     i, status, permanent;

    status_rules_load();
    for (i = 0; i < status_count; i++) {
        status = status_rules[i].status;
        permanent = status_rules[i].permanent;
        if (status < 0)
            continue;
        make_queue();
        start_fake(status);
        put_file("f1", GOOD, 0744);
        ck_assert_msg(pickup_file(&conf, "f1") == (permanent ? PICKUP_CORRUPT : PICKUP_DEFER),
                      "status %d", status);
        stop_fake();
        ck_assert_msg(exists("maildrop", "f1") == !permanent, "status %d", status);
        ck_assert_msg(exists("corrupt", "f1") == permanent, "status %d", status);
    }
}
END_TEST

START_TEST(test_scan_sends_complete_files_and_skips_others)
{
    PICKUP_STATS st;

    make_queue();
    start_fake(CLEANUP_STAT_OK);
    put_file("a1", GOOD, 0744);
    put_file("a2", GOOD, 0444);
    put_file("a3", "S:x", 0744);
    put_file("a4", GOOD, 0744);
    pickup_scan(&conf, &st);
    stop_fake();
    ck_assert_int_eq(st.sent, 2);
    ck_assert_int_eq(st.skipped, 1);
    ck_assert_int_eq(st.corrupt, 1);
    ck_assert(exists("maildrop", "a2"));
    ck_assert(exists("corrupt", "a3"));
}
END_TEST

START_TEST(test_scan_stops_when_cleanup_is_down)
{
    PICKUP_STATS st;

    make_queue();
    put_file("a1", GOOD, 0744);
    put_file("a2", GOOD, 0744);
    pickup_scan(&conf, &st);
    ck_assert_int_eq(st.deferred, 1);
    ck_assert_int_eq(st.sent + st.corrupt, 0);
    ck_assert(exists("maildrop", "a1") && exists("maildrop", "a2"));
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("pickup_file");
    TCase  *tc = tcase_create("core");

    msg_init("check_pickup_file", MSG_TO_STDERR);
    tcase_add_test(tc, test_good_file_is_sent_then_removed);
    tcase_add_test(tc, test_received_header_names_the_uid_and_queue_id);
    tcase_add_test(tc, test_without_extract_flags_are_local_filter_map);
    tcase_add_test(tc, test_incomplete_file_is_left_alone);
    tcase_add_loop_test(tc, test_bad_file_goes_to_corrupt, 0, sizeof(bad_files) / sizeof(bad_files[0]));
    tcase_add_test(tc, test_size_limit);
    tcase_add_test(tc, test_unknown_owner_goes_to_corrupt);
    tcase_add_test(tc, test_links_go_to_corrupt);
    tcase_add_test(tc, test_cleanup_down_defers);
    tcase_add_test(tc, test_cleanup_temporary_failure_keeps_the_file);
    tcase_add_test(tc, test_cleanup_rejection_keeps_it_in_corrupt);
    tcase_add_test(tc, test_every_cleanup_status_as_the_table_says);
    tcase_add_test(tc, test_scan_sends_complete_files_and_skips_others);
    tcase_add_test(tc, test_scan_stops_when_cleanup_is_down);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
