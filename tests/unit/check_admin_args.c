/* check_admin_args - the argument parsers of the surel command's verbs and
 * its verb table (admin/surel_verbs.c): what each accepts, what it refuses
 * and why, and which verbs keep the set-gid right. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "surel.h"
#include "testsupport.h"

#define ARGV(...) ((char *[]) {__VA_ARGS__, NULL})
#define ARGC(...) ((int) (sizeof((char *[]) {__VA_ARGS__}) / sizeof(char *)))
#define CALL(fn, out, ...) fn(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), out, why)

static BUF *why;

static void setup(void)
{
    why = buf_alloc(10);
}

static void teardown(void)
{
    buf_free(why);
}

START_TEST(test_top_level_options_stop_at_the_verb)
{
    SUREL_ARGS a;

    ck_assert_int_eq(CALL(surel_args, &a, "surel", "-c", "/etc/x", "-v", "conf", "-d"), 0);
    ck_assert_str_eq(a.config_dir, "/etc/x");
    ck_assert_int_eq(a.verbose, 1);
    ck_assert_int_eq(a.verb_index, 4);          /* conf; -d is conf's */
    ck_assert_int_eq(a.help + a.version, 0);
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "--version"), 0);
    ck_assert_int_eq(a.version, 1);
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "--help"), 0);
    ck_assert_int_eq(a.help, 1);
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "-h"), 0);
    ck_assert_int_eq(a.help, 1);
}
END_TEST

START_TEST(test_top_level_refusals)
{
    SUREL_ARGS a;

    ck_assert_int_eq(CALL(surel_args, &a, "surel"), -1);
    ck_assert_msg(strstr(buf_str(why), "no verb") != NULL, "%s", buf_str(why));
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "-c", "d"), -1);
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "--bogus", "status"), -1);
    ck_assert_int_eq(CALL(surel_args, &a, "surel", "-q", "status"), -1);
}
END_TEST

START_TEST(test_conf_args)
{
    CONF_ARGS a;

    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-d", "-h", "myhostname"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_SHOW);
    ck_assert_int_eq(a.mode, CONF_SHOW_DEFS | CONF_HIDE_NAME);
    ck_assert_int_eq(a.nnames, 1);
    ck_assert_str_eq(a.names[0], "myhostname");
    /* name=value alone means edit, as with postconf. */
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "a=1", "b"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_EDIT);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-X", "a"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_REMOVE);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-M"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_MASTER);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-F", "smtp/inet"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_FIELDS);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-P"), 0);
    ck_assert_int_eq(a.action, CONF_ACT_PARAMS);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-c", "/x", "-n"), 0);
    ck_assert_str_eq(a.config_dir, "/x");
    ck_assert_int_eq(a.mode, CONF_SHOW_SET);
}
END_TEST

START_TEST(test_conf_refusals)
{
    CONF_ARGS a;

    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-d", "-n"), -1);
    ck_assert_msg(strstr(buf_str(why), "-d and -n") != NULL, "%s", buf_str(why));
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-M", "-X", "a"), -1);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-M", "-F"), -1);
    ck_assert_msg(strstr(buf_str(why), "exclude") != NULL, "%s", buf_str(why));
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-X"), -1);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-e"), -1);
    ck_assert_int_eq(CALL(surel_conf_args, &a, "conf", "-q"), -1);
}
END_TEST

/* Ports that `surel sandbox --smtp-port` must refuse. */
static const char *const bad_ports[] = {"0", "65536", "25x", "", "-1", " 25"};

START_TEST(test_sandbox_bad_port)
{
    SANDBOX_ARGS a;

    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox", "/tmp/x", "--smtp-port",
                          (char *) bad_ports[_i]), -1);
    ck_assert_msg(strstr(buf_str(why), "not a port number") != NULL, "\"%s\": %s",
                  bad_ports[_i], buf_str(why));
}
END_TEST

START_TEST(test_sandbox_args)
{
    SANDBOX_ARGS a;

    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox", "/tmp/x"), 0);
    ck_assert_str_eq(a.dir, "/tmp/x");
    ck_assert_int_eq(a.port, 2525);
    ck_assert_int_eq(a.force, 0);
    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox", "--smtp-port=65535", "d", "--force"), 0);
    ck_assert_int_eq(a.port, 65535);
    ck_assert_int_eq(a.force, 1);
    ck_assert_str_eq(a.dir, "d");
    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox"), -1);
    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox", "a", "b"), -1);
    ck_assert_int_eq(CALL(surel_sandbox_args, &a, "sandbox", "a", "--bogus"), -1);
    ck_assert_msg(strstr(buf_str(why), "usage") != NULL, "%s", buf_str(why));
}
END_TEST

START_TEST(test_start_and_queue_list_args)
{
    int     flag;

    ck_assert_int_eq(CALL(surel_start_args, &flag, "start"), 0);
    ck_assert_int_eq(flag, 0);
    ck_assert_int_eq(CALL(surel_start_args, &flag, "start", "-f"), 0);
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(CALL(surel_start_args, &flag, "start", "now"), -1);
    ck_assert_int_eq(CALL(surel_start_args, &flag, "start", "-x"), -1);
    ck_assert_int_eq(CALL(surel_queue_list_args, &flag, "list", "-j"), 0);
    ck_assert_int_eq(flag, 1);
    ck_assert_int_eq(CALL(surel_queue_list_args, &flag, "list"), 0);
    ck_assert_int_eq(flag, 0);
    ck_assert_int_eq(CALL(surel_queue_list_args, &flag, "list", "x"), -1);
}
END_TEST

/* Only `queue` (which hands over to list and flush) keeps the set-gid
 * right at the top; among queue's sub-verbs only list and flush. */
START_TEST(test_setgid_rows)
{
    size_t  i;

    for (i = 0; i < surel_nverbs; i++)
        ck_assert_msg(surel_verbs[i].needs_setgid == (strcmp(surel_verbs[i].name, "queue") == 0),
                      "verb %s", surel_verbs[i].name);
    for (i = 0; i < surel_queue_nverbs; i++)
        ck_assert_msg(surel_queue_verbs[i].needs_setgid
                      == (strcmp(surel_queue_verbs[i].name, "list") == 0
                          || strcmp(surel_queue_verbs[i].name, "flush") == 0),
                      "queue verb %s", surel_queue_verbs[i].name);
    ck_assert_ptr_nonnull(surel_verb_find(surel_verbs, surel_nverbs, "sandbox"));
    ck_assert_ptr_null(surel_verb_find(surel_verbs, surel_nverbs, "sandboxx"));
    for (i = 0; i < surel_nverbs; i++) {
        ck_assert_ptr_nonnull(surel_verbs[i].fn);
        ck_assert_msg(strncmp(surel_verbs[i].usage, surel_verbs[i].name,
                              strlen(surel_verbs[i].name)) == 0, "usage of %s", surel_verbs[i].name);
    }
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("admin_args");
    TCase  *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_top_level_options_stop_at_the_verb);
    tcase_add_test(tc, test_top_level_refusals);
    tcase_add_test(tc, test_conf_args);
    tcase_add_test(tc, test_conf_refusals);
    tcase_add_loop_test(tc, test_sandbox_bad_port, 0, sizeof(bad_ports) / sizeof(bad_ports[0]));
    tcase_add_test(tc, test_sandbox_args);
    tcase_add_test(tc, test_start_and_queue_list_args);
    tcase_add_test(tc, test_setgid_rows);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
