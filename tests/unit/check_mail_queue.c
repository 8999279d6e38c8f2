/* check_mail_queue - the queue folder table: create, check and repair. */
#include <check.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "mail_queue.h"
#include "mem.h"
#include "queue_id.h"
#include "testsupport.h"

/* Reports collected by the scan, one per line, "+" for repairs. */
static BUF *reports;

static void collect(const char *text, int fixed, void *ctx)
{
    (void) ctx;
    buf_printf(reports, "%s%s\n", fixed ? "+" : "", text);
}

/* test_ids - surel/sureldrop as root (the accounts CI creates), else the
 * caller for everything, as in a sandbox instance. */
static void test_ids(MAIL_QUEUE_IDS *ids)
{
    BUF    *why = buf_alloc(64);

    if (geteuid() == 0) {
        ck_assert_msg(mail_queue_ids("surel", "sureldrop", ids, why) == 0, "%s", buf_str(why));
    } else {
        ids->root_uid = ids->mail_uid = geteuid();
        ids->root_gid = ids->mail_gid = ids->setgid_gid = getegid();
    }
    buf_free(why);
}

/* fresh_queue - a temp folder path for a queue that does not exist yet */
static char *fresh_queue(void)
{
    char   *dir = ts_tempdir();
    char   *q = ts_path(dir, "spool");

    xfree(dir);
    return q;
}

static mode_t mode_of(const char *q, const char *name)
{
    char   *p = ts_path(q, name);
    struct stat st;

    ck_assert_int_eq(lstat(p, &st), 0);
    xfree(p);
    return st.st_mode & 07777;
}

START_TEST(test_table_follows_postfix_files)
{
    static const struct {
        const char *name;
        mode_t  mode;
        MAIL_QUEUE_OWNER owner;
        MAIL_QUEUE_GROUP group;
    } want[] = {
        {"maildrop", 01730, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_SETGID},
        {"temp", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"incoming", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"active", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"deferred", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"hold", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"corrupt", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"bounce", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"defer", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"private", 0700, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_ANY},
        {"public", 02710, MAIL_QUEUE_OWNER_MAIL, MAIL_QUEUE_GROUP_SETGID},
        {"pid", 0755, MAIL_QUEUE_OWNER_ROOT, MAIL_QUEUE_GROUP_ANY},
        {"", 0755, MAIL_QUEUE_OWNER_ROOT, MAIL_QUEUE_GROUP_ANY},
    };
    size_t  i;

    ck_assert_int_eq(mail_queue_ndirs, (int) (sizeof(want) / sizeof(want[0])));
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const MAIL_QUEUE_DIR *d = mail_queue_dir_find(want[i].name);

        ck_assert_msg(d != NULL, "no entry for '%s'", want[i].name);
        ck_assert_msg(d->mode == want[i].mode, "%s: mode %o", want[i].name, (unsigned) d->mode);
        ck_assert_msg(d->owner == want[i].owner, "%s: owner", want[i].name);
        ck_assert_msg(d->group == want[i].group, "%s: group", want[i].name);
    }
    ck_assert_ptr_null(mail_queue_dir_find("nonesuch"));
}
END_TEST

START_TEST(test_create_is_complete_and_idempotent)
{
    MAIL_QUEUE_IDS ids;
    char   *q = fresh_queue();
    int     i;

    test_ids(&ids);
    reports = buf_alloc(256);
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE, collect, NULL), 0);
    /* One "created" line per folder, the queue itself included. */
    for (i = 0; i < mail_queue_ndirs; i++) {
        const MAIL_QUEUE_DIR *d = &mail_queue_dirs[i];
        struct stat st;
        char   *p = *d->name ? ts_path(q, d->name) : xstrdup(q);
        char    line[512];

        snprintf(line, sizeof(line), "+%s: created\n", p);
        ck_assert_msg(strstr(buf_str(reports), line) != NULL, "no '%s' in %s", line,
                      buf_str(reports));
        ck_assert_int_eq(lstat(p, &st), 0);
        ck_assert_msg((st.st_mode & 07777) == d->mode, "%s: mode %o", p,
                      (unsigned) (st.st_mode & 07777));
        ck_assert_uint_eq(st.st_uid, d->owner == MAIL_QUEUE_OWNER_ROOT ? ids.root_uid : ids.mail_uid);
        if (d->group == MAIL_QUEUE_GROUP_SETGID)
            ck_assert_uint_eq(st.st_gid, ids.setgid_gid);
        xfree(p);
    }
    /* A second pass finds nothing to do and says nothing. */
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE, collect, NULL), 0);
    ck_assert_str_eq(buf_str(reports), "");
    buf_free(reports);
    xfree(q);
}
END_TEST

START_TEST(test_wrong_mode_is_reported_then_fixed)
{
    MAIL_QUEUE_IDS ids;
    char   *q = fresh_queue();
    char   *incoming = ts_path(q, "incoming");
    char    line[512];

    test_ids(&ids);
    reports = buf_alloc(256);
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE, collect, NULL), 0);
    ck_assert_int_eq(chmod(incoming, 0755), 0);
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 1);
    snprintf(line, sizeof(line), "%s: mode 0755, expected 0700\n", incoming);
    ck_assert_str_eq(buf_str(reports), line);
    /* Checking changes nothing. */
    ck_assert_uint_eq(mode_of(q, "incoming"), 0755);
    /* -f: repaired, and the next check is clean. */
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_FIX, collect, NULL), 0);
    ck_assert_uint_eq(mode_of(q, "incoming"), 0700);
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 0);
    ck_assert_str_eq(buf_str(reports), "");
    /* The special bits count too. */
    ck_assert_int_eq(chmod(ts_path(q, "maildrop"), 0730), 0);
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 1);
    ck_assert_ptr_nonnull(strstr(buf_str(reports), "maildrop: mode 0730, expected 1730"));
    buf_free(reports);
    xfree(incoming);
    xfree(q);
}
END_TEST

START_TEST(test_missing_and_symlink)
{
    MAIL_QUEUE_IDS ids;
    char   *q = fresh_queue();
    char   *hold = ts_path(q, "hold");
    char   *elsewhere = ts_path(q, "elsewhere");
    char    line[512];

    test_ids(&ids);
    reports = buf_alloc(256);
    /* Without the queue folder, one line, not one per folder. */
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 1);
    snprintf(line, sizeof(line), "%s: missing\n", q);
    ck_assert_str_eq(buf_str(reports), line);

    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE, collect, NULL), 0);
    ck_assert_int_eq(rmdir(hold), 0);
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 1);
    snprintf(line, sizeof(line), "%s: missing\n", hold);
    ck_assert_str_eq(buf_str(reports), line);

    /* A link is never followed nor "fixed", even with every flag. */
    ck_assert_int_eq(mkdir(elsewhere, 0700), 0);
    ck_assert_int_eq(symlink(elsewhere, hold), 0);
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE | MAIL_QUEUE_FIX,
                                     collect, NULL), 1);
    snprintf(line, sizeof(line), "%s: is a symbolic link, expected a folder\n", hold);
    ck_assert_str_eq(buf_str(reports), line);
    buf_free(reports);
    xfree(hold);
    xfree(elsewhere);
    xfree(q);
}
END_TEST

START_TEST(test_wrong_owner_as_root)
{
    MAIL_QUEUE_IDS ids;
    char   *q = fresh_queue();
    char   *active = ts_path(q, "active");
    char   *pub = ts_path(q, "public");
    char    line[512];
    struct stat st;

    if (geteuid() != 0)
        return;                         /* only root can give folders away */
    test_ids(&ids);
    reports = buf_alloc(256);
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_CREATE, collect, NULL), 0);
    ck_assert_int_eq(chown(active, 0, 0), 0);
    ck_assert_int_eq(chown(pub, ids.mail_uid, 0), 0);  /* clears nothing on a folder */
    ck_assert_int_eq(chmod(pub, 02710), 0);
    buf_reset(reports);
    ck_assert_int_eq(mail_queue_scan(q, &ids, 0, collect, NULL), 2);
    snprintf(line, sizeof(line), "%s: owner root, expected surel\n", active);
    ck_assert_msg(strstr(buf_str(reports), line) != NULL, "%s", buf_str(reports));
    snprintf(line, sizeof(line), "%s: group root, expected sureldrop\n", pub);
    ck_assert_msg(strstr(buf_str(reports), line) != NULL, "%s", buf_str(reports));
    ck_assert_int_eq(mail_queue_scan(q, &ids, MAIL_QUEUE_FIX, collect, NULL), 0);
    ck_assert_int_eq(lstat(active, &st), 0);
    ck_assert_uint_eq(st.st_uid, ids.mail_uid);
    ck_assert_int_eq(lstat(pub, &st), 0);
    ck_assert_uint_eq(st.st_gid, ids.setgid_gid);
    ck_assert_uint_eq(st.st_mode & 07777, 02710);
    buf_free(reports);
    xfree(active);
    xfree(pub);
    xfree(q);
}
END_TEST

START_TEST(test_ids_refuse_bad_accounts)
{
    MAIL_QUEUE_IDS ids;
    BUF    *why = buf_alloc(64);
    struct passwd *me = getpwuid(geteuid());

    ck_assert_int_eq(mail_queue_ids("no-such-user-surel", "root", &ids, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "unknown user name"));
    ck_assert_int_eq(mail_queue_ids("root", "root", &ids, why), -1);
    ck_assert_ptr_nonnull(strstr(buf_str(why), "privileged user ID"));
    if (me && me->pw_uid != 0) {
        ck_assert_int_eq(mail_queue_ids(me->pw_name, "no-such-group-surel", &ids, why), -1);
        ck_assert_ptr_nonnull(strstr(buf_str(why), "unknown group name"));
    } else {
        ck_assert_int_eq(mail_queue_ids("surel", "no-such-group-surel", &ids, why), -1);
        ck_assert_ptr_nonnull(strstr(buf_str(why), "unknown group name"));
        /* As root, postdrop's group must differ from mail_owner's group. */
        ck_assert_int_eq(mail_queue_ids("surel", "surel", &ids, why), -1);
        ck_assert_ptr_nonnull(strstr(buf_str(why), "same group ID"));
    }
    buf_free(why);
}
END_TEST

/* mail_queue_path: hashing follows $hash_queue_names (folder names in any
 * case, as Postfix's strcasecmp), subfolders are the ID's characters 9,
 * 8, ... as they are; bad folder names and IDs give -1 and no path. */
START_TEST(test_path_hashing)
{
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 123456};
    char    id[QUEUE_ID_BUFSZ], want[256];
    BUF    *path = buf_alloc(16);
    static const struct {
        const char *names, *depth, *queue;
        int     levels;                 /* -1: refused */
    } t[] = {
        {"deferred, defer", "1", "deferred", 1},
        {"deferred, defer", "1", "defer", 1},
        {"deferred, defer", "1", "incoming", 0},
        {"deferred, defer", "2", "deferred", 2},
        {"DEFERRED", "3", "deferred", 3},           /* names match in any case */
        {"deferred active", "4", "active", 4},
        {"", "2", "deferred", 0},
        {"deferred", "1", "Deferred", -1},          /* not a folder of the table */
        {"deferred", "1", "../deferred", -1},
        {"deferred", "1", "", -1},
        {"deferred", "1", "nosuch", -1},
    };
    size_t  i;
    int     k, got;

    queue_id_make(id, &tv, 123456789);
    ck_assert_msg(queue_id_valid(id), "%s", id);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        config_reset();
        config_set("hash_queue_names", t[i].names);
        config_set("hash_queue_depth", t[i].depth);
        got = mail_queue_path(path, "/q", t[i].queue, id);
        if (t[i].levels < 0) {
            ck_assert_msg(got == -1 && buf_len(path) == 0, "names=%s queue=%s: got %d \"%s\"",
                          t[i].names, t[i].queue, got, buf_str(path));
            continue;
        }
        snprintf(want, sizeof(want), "/q/%s/", t[i].queue);
        for (k = 0; k < t[i].levels; k++)
            snprintf(want + strlen(want), sizeof(want) - strlen(want), "%c/", id[9 - k]);
        strcat(want, id);
        ck_assert_msg(got == 0 && strcmp(buf_str(path), want) == 0,
                      "names=%s depth=%s queue=%s: got %d \"%s\", want \"%s\"", t[i].names,
                      t[i].depth, t[i].queue, got, buf_str(path), want);
        ck_assert_int_eq(mail_queue_hash_depth(t[i].queue), t[i].levels);
    }
    config_reset();
    buf_free(path);
}
END_TEST

/* IDs: a hashed folder needs a real queue ID (its characters name the
 * subfolders); another folder takes any plain file name (maildrop). */
START_TEST(test_path_names)
{
    static const struct {
        const char *queue, *id;
        int     ok;
    } t[] = {
        {"deferred", "short", -1},
        {"deferred", "../../etc/passwd", -1},
        {"deferred", "", -1},
        {"maildrop", "any-name.123", 0},
        {"maildrop", "../x", -1},
        {"maildrop", ".hidden", -1},
        {"maildrop", "a/b", -1},
        {"maildrop", "", -1},
    };
    BUF    *path = buf_alloc(16);
    size_t  i;

    config_reset();
    config_set("hash_queue_names", "deferred");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_msg(mail_queue_path(path, ".", t[i].queue, t[i].id) == t[i].ok,
                      "%s/%s: not %d", t[i].queue, t[i].id, t[i].ok);
    ck_assert_int_eq(mail_queue_path(path, ".", "maildrop", "any-name.123"), 0);
    ck_assert_str_eq(buf_str(path), "./maildrop/any-name.123");
    config_reset();
    buf_free(path);
}
END_TEST

/* mail_queue_mkdirs: the missing hash levels above a queue path are made,
 * owned like the queue folder; a missing queue folder is not made. */
START_TEST(test_mkdirs)
{
    struct timeval tv = {.tv_sec = 1700000000, .tv_usec = 654321};
    char    id[QUEUE_ID_BUFSZ];
    char   *dir = ts_tempdir();
    char   *deferred = ts_path(dir, "deferred");
    BUF    *path = buf_alloc(64);
    BUF    *level = buf_alloc(64);
    struct stat st;
    struct passwd *pw = geteuid() == 0 ? getpwnam("surel") : NULL;

    queue_id_make(id, &tv, 42);
    config_reset();
    config_set("hash_queue_names", "deferred");
    config_set("hash_queue_depth", "2");
    ck_assert_int_eq(mail_queue_path(path, dir, "deferred", id), 0);
    /* No queue folder: refused, nothing made. */
    ck_assert_int_eq(mail_queue_mkdirs(buf_str(path)), -1);
    ck_assert_int_eq(lstat(deferred, &st), -1);
    ck_assert_int_eq(mkdir(deferred, 0700), 0);
    if (pw)
        ck_assert_int_eq(chown(deferred, pw->pw_uid, pw->pw_gid), 0);
    ck_assert_int_eq(mail_queue_mkdirs(buf_str(path)), 0);
    buf_sprintf(level, "%s/%c", deferred, id[9]);
    ck_assert_int_eq(lstat(buf_str(level), &st), 0);
    ck_assert(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
    if (pw)
        ck_assert(st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid);
    buf_printf(level, "/%c", id[8]);
    ck_assert_int_eq(lstat(buf_str(level), &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    if (pw)
        ck_assert(st.st_uid == pw->pw_uid && st.st_gid == pw->pw_gid);
    /* Again: nothing to do. */
    ck_assert_int_eq(mail_queue_mkdirs(buf_str(path)), 0);
    config_reset();
    xfree(deferred);
    xfree(dir);
    buf_free(path);
    buf_free(level);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("mail_queue");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_table_follows_postfix_files);
    tcase_add_test(tc, test_create_is_complete_and_idempotent);
    tcase_add_test(tc, test_wrong_mode_is_reported_then_fixed);
    tcase_add_test(tc, test_missing_and_symlink);
    tcase_add_test(tc, test_wrong_owner_as_root);
    tcase_add_test(tc, test_ids_refuse_bad_accounts);
    tcase_add_test(tc, test_path_hashing);
    tcase_add_test(tc, test_path_names);
    tcase_add_test(tc, test_mkdirs);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
