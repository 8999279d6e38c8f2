/* check_authd_proto - authd's side of Dovecot's auth protocol 1.1: the
 * handshake order, AUTH/CONT for PLAIN and LOGIN, every malformed line
 * (a transcript table naming the failing line), the bounds on names, and
 * the password check against a real texthash table of crypt(3) hashes. */
#include <check.h>
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authd.h"
#include "sasl_codec.h"
#include "testsupport.h"

/* The check callback: alice/secret is right, "temp" cannot be looked up. */
static AUTHD_RESULT fake_check(const char *user, const char *password, void *ctx,
                               BUF *why)
{
    (void) ctx;
    if (strcmp(user, "temp") == 0) {
        buf_set(why, "table down");
        return AUTHD_TEMP;
    }
    if (strcmp(user, "alice") == 0 && strcmp(password, "secret") == 0)
        return AUTHD_OK;
    buf_set(why, "password mismatch");
    return AUTHD_FAIL;
}

#define R   AUTHD_REPLY
#define F   AUTHD_REPLY_FAILED
#define C   AUTHD_CLOSE

/* One client line, the reply it gets and the action. */
typedef struct STEP {
    const char *line;
    const char *reply;
    AUTHD_ACTION action;
} STEP;

#define HS  {"VERSION\t1\t1", "", R}, {"CPID\t42", "", R}
/* base64 of "\0alice\0secret", "\0alice\0wrong", "alice", "secret" ... */
#define PLAIN_OK    "AGFsaWNlAHNlY3JldA=="
#define PLAIN_BAD   "AGFsaWNlAHdyb25n"

static const struct {
    const char *name;
    STEP    steps[6];
} transcripts[] = {
    {"plain initial response", {HS, {"AUTH\t1\tPLAIN\tservice=smtp\tnologin\tlip=\trip=127.0.0.1\tresp=" PLAIN_OK,
                                      "OK\t1\tuser=alice\n", R}}},
    {"plain, case folded", {HS, {"AUTH\t7\tplain\tresp=AEFMSUNFAHNlY3JldA==", "OK\t7\tuser=alice\n", R}}},
    {"plain via CONT", {HS, {"AUTH\t2\tPLAIN\tservice=smtp", "CONT\t2\t\n", R},
                        {"CONT\t2\t" PLAIN_OK, "OK\t2\tuser=alice\n", R}}},
    {"plain wrong", {HS, {"AUTH\t3\tPLAIN\tresp=" PLAIN_BAD, "FAIL\t3\n", F},
                     {"AUTH\t4\tPLAIN\tresp=" PLAIN_OK, "OK\t4\tuser=alice\n", R}}},
    {"plain authzid differs", {HS, {"AUTH\t1\tPLAIN\tresp=Ym9iAGFsaWNlAHNlY3JldA==", "FAIL\t1\n", F}}},
    {"plain authzid same", {HS, {"AUTH\t1\tPLAIN\tresp=YWxpY2UAYWxpY2UAc2VjcmV0", "OK\t1\tuser=alice\n", R}}},
    {"plain empty", {HS, {"AUTH\t1\tPLAIN\tresp=", "FAIL\t1\n", F}}},
    {"plain no password", {HS, {"AUTH\t1\tPLAIN\tresp=AGFsaWNlAA==", "FAIL\t1\n", F}}},
    {"plain bad base64", {HS, {"AUTH\t1\tPLAIN\tresp=!!!!", "FAIL\t1\treason=Invalid base64 data\n", F}}},
    {"temp", {HS, {"AUTH\t1\tPLAIN\tresp=AHRlbXAAeA==", "FAIL\t1\ttemp\n", R}}},
    {"login", {HS, {"AUTH\t5\tLOGIN\tservice=smtp", "CONT\t5\tVXNlcm5hbWU6\n", R},
               {"CONT\t5\tYWxpY2U=", "CONT\t5\tUGFzc3dvcmQ6\n", R},
               {"CONT\t5\tc2VjcmV0", "OK\t5\tuser=alice\n", R}}},
    {"login initial response", {HS, {"AUTH\t5\tLOGIN\tresp=YWxpY2U=", "CONT\t5\tUGFzc3dvcmQ6\n", R},
                                {"CONT\t5\td3Jvbmc=", "FAIL\t5\n", F}}},
    {"login empty resp asks", {HS, {"AUTH\t5\tLOGIN\tresp=", "CONT\t5\tVXNlcm5hbWU6\n", R}}},
    {"login name with NUL", {HS, {"AUTH\t5\tLOGIN\tresp=YQBi", "FAIL\t5\n", F}}},
    {"login password with NUL", {HS, {"AUTH\t5\tLOGIN\tresp=YWxpY2U=", "CONT\t5\tUGFzc3dvcmQ6\n", R},
                                 {"CONT\t5\tcwBlY3JldA==", "FAIL\t5\n", F}}},
    {"login name with control", {HS, {"AUTH\t5\tLOGIN\tresp=YQli", "FAIL\t5\n", F}}},
    {"unknown mech", {HS, {"AUTH\t1\tCRAM-MD5", "FAIL\t1\treason=Unsupported authentication mechanism\n", R}}},
    {"no VERSION first", {{"CPID\t42", "", C}}},
    {"version 2", {{"VERSION\t2\t0", "", C}}},
    {"AUTH before CPID", {{"VERSION\t1\t1", "", R}, {"AUTH\t1\tPLAIN", "", C}}},
    {"bad CPID", {{"VERSION\t1\t1", "", R}, {"CPID\tx", "", C}}},
    {"unknown command", {HS, {"REQUEST\t1", "", C}}},
    {"bad id", {HS, {"AUTH\tx\tPLAIN", "", C}}},
    {"id too long", {HS, {"AUTH\t12345678901\tPLAIN", "", C}}},
    {"id too big", {HS, {"AUTH\t4294967296\tPLAIN", "", C}}},
    {"AUTH missing mech", {HS, {"AUTH\t1", "", C}}},
    {"second AUTH in progress", {HS, {"AUTH\t1\tPLAIN", "CONT\t1\t\n", R}, {"AUTH\t2\tPLAIN", "", C}}},
    {"CONT without AUTH", {HS, {"CONT\t1\tYQ==", "", C}}},
    {"CONT wrong id", {HS, {"AUTH\t1\tPLAIN", "CONT\t1\t\n", R}, {"CONT\t2\t" PLAIN_OK, "", C}}},
    {"CONT after the end", {HS, {"AUTH\t1\tPLAIN\tresp=" PLAIN_OK, "OK\t1\tuser=alice\n", R},
                            {"CONT\t1\t" PLAIN_OK, "", C}}},
    {"bad escape", {HS, {"AUTH\t1\tPLAIN\tresp=\001x", "", C}}},
};

START_TEST(test_transcripts)
{
    size_t  t = (size_t) _i;
    AUTHD_CONN c;
    BUF    *reply = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    char    line[256];
    int     i;

    authd_conn_init(&c);
    for (i = 0; i < 6 && transcripts[t].steps[i].line; i++) {
        const STEP *s = &transcripts[t].steps[i];
        AUTHD_ACTION a;

        snprintf(line, sizeof(line), "%s", s->line);
        buf_reset(reply);
        a = authd_line(&c, line, reply, fake_check, NULL, why);
        ck_assert_msg(a == s->action, "%s, line %d (%s): action %d, want %d (%s)",
                      transcripts[t].name, i, s->line, a, s->action, buf_str(why));
        if (a != AUTHD_CLOSE)
            ck_assert_msg(strcmp(buf_str(reply), s->reply) == 0,
                          "%s, line %d (%s): reply \"%s\", want \"%s\"",
                          transcripts[t].name, i, s->line, buf_str(reply), s->reply);
        ck_assert_msg(strstr(buf_str(why), "secret") == NULL && strstr(buf_str(why), "wrong")
                      == NULL, "%s: why holds a password: %s", transcripts[t].name,
                      buf_str(why));
    }
    authd_conn_free(&c);
    buf_free(reply);
    buf_free(why);
}
END_TEST

START_TEST(test_greeting)
{
    BUF    *out = buf_alloc(64);

    authd_greeting(out, 123, 7, "00ff");
    ck_assert_str_eq(buf_str(out), "VERSION\t1\t2\nMECH\tPLAIN\tplaintext\n"
                     "MECH\tLOGIN\tplaintext\nSPID\t123\nCUID\t7\nCOOKIE\t00ff\nDONE\n");
    buf_free(out);
}
END_TEST

START_TEST(test_user_bounds)
{
    char    name[AUTHD_USER_MAX + 2];

    memset(name, 'a', sizeof(name));
    name[AUTHD_USER_MAX] = 0;
    ck_assert(authd_user_ok(name, AUTHD_USER_MAX));
    name[AUTHD_USER_MAX] = 'a';
    name[AUTHD_USER_MAX + 1] = 0;
    ck_assert(!authd_user_ok(name, AUTHD_USER_MAX + 1));
    ck_assert(!authd_user_ok("", 0));
    ck_assert(!authd_user_ok("a\tb", 3));
    ck_assert(!authd_user_ok("a\177", 2));
    ck_assert(authd_user_ok("alice@example.org", 17));
}
END_TEST

START_TEST(test_hash_equal)
{
    ck_assert(authd_hash_equal("$y$abc", "$y$abc"));
    ck_assert(!authd_hash_equal("$y$abc", "$y$abd"));
    ck_assert(!authd_hash_equal("$y$abc", "$y$ab"));
    ck_assert(!authd_hash_equal("", "x"));
    ck_assert(authd_hash_equal("", ""));
}
END_TEST

/* hash_of - a real crypt(3) hash of password with a fresh salt of prefix */
static void hash_of(const char *prefix, const char *password, char *out, size_t size)
{
    struct crypt_data data;
    char    salt[CRYPT_GENSALT_OUTPUT_SIZE];

    memset(&data, 0, sizeof(data));
    ck_assert(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof(salt)) != NULL);
    ck_assert(crypt_rn(password, salt, &data, sizeof(data)) != NULL);
    snprintf(out, size, "%s", data.output);
}

START_TEST(test_verify_texthash)
{
    char    dir[] = "/tmp/check_authd.XXXXXX";
    char    path[256];
    char    y[CRYPT_OUTPUT_SIZE];
    char    six[CRYPT_OUTPUT_SIZE];
    BUF    *why = buf_alloc(64);
    BUF    *list = buf_alloc(64);
    MAPS   *maps;
    FILE   *fp;

    ck_assert(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/passwd", dir);
    hash_of("$y$", "secret", y, sizeof(y));
    hash_of("$6$", "hunter2", six, sizeof(six));
    ck_assert((fp = fopen(path, "w")) != NULL);
    fprintf(fp, "alice %s\nbob %s extra\ncarol !%s\ndave *\n", y, six, y);
    fclose(fp);
    buf_sprintf(list, "texthash:%s", path);
    ck_assert((maps = maps_open(buf_str(list), 0, why)) != NULL);
    authd_verify_init();
    ck_assert_int_eq(authd_verify(maps, "alice", "secret", why), AUTHD_OK);
    ck_assert_int_eq(authd_verify(maps, "alice", "Secret", why), AUTHD_FAIL);
    ck_assert_str_eq(buf_str(why), "password mismatch");
    ck_assert_int_eq(authd_verify(maps, "bob", "hunter2", why), AUTHD_OK);
    ck_assert_int_eq(authd_verify(maps, "bob", "hunter", why), AUTHD_FAIL);
    ck_assert_int_eq(authd_verify(maps, "carol", "secret", why), AUTHD_FAIL);
    ck_assert_int_eq(authd_verify(maps, "dave", "*", why), AUTHD_FAIL);
    ck_assert_int_eq(authd_verify(maps, "erin", "secret", why), AUTHD_FAIL);
    ck_assert_str_eq(buf_str(why), "unknown user");
    /* A hash given as the password is no password. */
    ck_assert_int_eq(authd_verify(maps, "alice", y, why), AUTHD_FAIL);
    maps_close(maps);
    /* A table that cannot be read: try later. */
    ck_assert((maps = maps_open("lmdb:/nonexistent/passwd", 0, why)) != NULL);
    ck_assert_int_eq(authd_verify(maps, "alice", "secret", why), AUTHD_TEMP);
    maps_close(maps);
    unlink(path);
    rmdir(dir);
    buf_free(why);
    buf_free(list);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("authd_proto");
    TCase  *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_transcripts, 0,
                        (int) (sizeof(transcripts) / sizeof(transcripts[0])));
    tcase_add_test(tc, test_greeting);
    tcase_add_test(tc, test_user_bounds);
    tcase_add_test(tc, test_hash_equal);
    tcase_add_test(tc, test_verify_texthash);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
