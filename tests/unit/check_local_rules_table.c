/* check_local_rules_table - tests/rules/recipients.table through local's
 * delivery (local_deliver_recipient, as local_service.c calls it for each
 * recipient of a request) into a temp sandbox: each row's recipient, as
 * qmgr's resolve hands it over (bare names get @$myorigin), lands in the
 * Maildir of the user the table names, is an unknown user, or is
 * forwarded (not ours: re-injected through cleanup, which is not running
 * here, so the forward defers with "mail forwarding unavailable"). */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/time.h>
#include <unistd.h>

#include "local.h"
#include "mail_proto.h"
#include "record.h"
#include "resolve.h"
#include "stream.h"
#include "rules_table.inc"

/* queue_file - a queue file with some content; msg set up to read it */
static void queue_file(LOCAL_MSG *msg, const char *dir)
{
    char   *path = ts_path(dir, "qfile");
    int     fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    STREAM *s = stream_fdopen(fd);

    ck_assert_int_ge(fd, 0);
    rec_puts(s, REC_TYPE_FROM, "bob@sandbox.test");
    memset(msg, 0, sizeof(*msg));
    msg->data_offset = (long) (rec_header_len(16) + 16);
    rec_put(s, REC_TYPE_MESG, "", 0);
    rec_puts(s, REC_TYPE_NORM, "Subject: rules table");
    rec_puts(s, REC_TYPE_NORM, "");
    rec_puts(s, REC_TYPE_NORM, "body");
    rec_put(s, REC_TYPE_XTRA, "", 0);
    rec_put(s, REC_TYPE_END, "", 0);
    ck_assert_int_eq(stream_close(s), 0);
    msg->fd = open(path, O_RDONLY);
    ck_assert_int_ge(msg->fd, 0);
    msg->queue_id = "RULESTABLE";
    msg->sender = "bob@sandbox.test";
    gettimeofday(&msg->arrival, NULL);
    msg->start = msg->arrival;
    free(path);
}

/* give_to_mail_owner - as root, local writes sandbox mailboxes as
 * mail_owner (local_user.c): let it into the temp mail folder */
static void give_to_mail_owner(void)
{
    char    parent[1024];
    struct passwd *pw;

    if (geteuid() != 0)
        return;
    ck_assert_msg((pw = getpwnam(config_str(P_mail_owner))) != NULL, "no %s account",
                  config_str(P_mail_owner));
    snprintf(parent, sizeof(parent), "%s", config_str(P_sandbox_mail_directory));
    *strrchr(parent, '/') = 0;
    ck_assert_int_eq(chown(parent, pw->pw_uid, pw->pw_gid), 0);
    ck_assert_int_eq(chown(config_str(P_sandbox_mail_directory), pw->pw_uid, pw->pw_gid), 0);
}

/* maildir_count - messages in mail/USER/Maildir/new */
static int maildir_count(const char *user)
{
    char    path[1024];
    DIR    *d;
    struct dirent *e;
    int     n = 0;

    snprintf(path, sizeof(path), "%s/%s/Maildir/new", config_str(P_sandbox_mail_directory), user);
    if ((d = opendir(path)) == NULL)
        return 0;
    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

START_TEST(test_local_delivery)
{
    BUF    *why = buf_alloc(64);
    RESOLVE_REPLY *reply = resolve_reply_alloc();
    RESOLVER *r;
    LOCAL_STATE state;
    LOCAL_MSG msg;
    char   *sandbox, *queue_dir, *extra;
    const char *rcpt, *user;
    int     i, before;
    size_t  n;

    rules_load();
    sandbox = rules_sandbox();
    queue_dir = ts_tempdir();       /* no private/cleanup: forwards defer */
    n = strlen(sandbox) + strlen(queue_dir) + 64;
    extra = xmalloc(n);
    snprintf(extra, n, "%squeue_directory = %s\n", sandbox, queue_dir);
    queue_file(&msg, queue_dir);
    for (i = 0; i < rules_count; i++) {
        rules_configure(&rules[i], extra);
        local_user_reset();
        give_to_mail_owner();
        ck_assert_msg(local_alias_open(config_str(P_alias_maps), why) == 0, "%s", buf_str(why));
        ck_assert_msg((r = resolve_open(why)) != NULL, "%s", buf_str(why));
        ck_assert_int_eq(resolve_addr(r, rules[i].rcpt, reply, why), RESOLVE_OK);
        rcpt = buf_str(reply->recipient);
        user = strncmp(rules[i].local, "mailbox:", 8) == 0 ? rules[i].local + 8 : NULL;
        before = user ? maildir_count(user) : 0;
        local_state_init(&state, &msg, rules[i].rcpt, rcpt);
        local_deliver_recipient(&state, rcpt);
        if (user) {
            ck_assert_msg(state.result.stat == DELIVER_STAT_OK && maildir_count(user) == before + 1,
                          "<%s> (delimiter %s): %s %s, not delivered to %s's mailbox",
                          rcpt, rules[i].delim, state.result.dsn, buf_str(state.result.why), user);
        } else if (strcmp(rules[i].local, "unknown") == 0) {
            ck_assert_msg(strcmp(state.result.dsn, "5.1.1") == 0, "<%s>: %s %s, not unknown",
                          rcpt, state.result.dsn, buf_str(state.result.why));
        } else {
            ck_assert_str_eq(rules[i].local, "forward");
            ck_assert_msg(strncmp(buf_str(state.result.why), "mail forwarding", 15) == 0,
                          "<%s>: %s %s, not forwarded", rcpt, state.result.dsn,
                          buf_str(state.result.why));
        }
        local_state_free(&state);
        resolve_close(r);
        local_alias_close();
    }
    close(msg.fd);
    free(extra);
    free(sandbox);
    free(queue_dir);
    resolve_reply_free(reply);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("local_rules_table");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_local_delivery);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
