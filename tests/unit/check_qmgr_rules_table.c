/* check_qmgr_rules_table - tests/rules/recipients.table through qmgr's
 * resolve step (resolve_open + resolve_addr, as qmgr_message.c calls
 * them for each recipient it imports): the address class and the
 * master.cf transport of each row. */
#include <check.h>

#include "resolve.h"
#include "rules_table.inc"

START_TEST(test_class_and_transport)
{
    BUF    *why = buf_alloc(64);
    RESOLVE_REPLY *reply = resolve_reply_alloc();
    RESOLVER *r;
    int     i;

    rules_load();
    for (i = 0; i < rules_count; i++) {
        rules_configure(&rules[i], NULL);
        ck_assert_msg((r = resolve_open(why)) != NULL, "%s", buf_str(why));
        ck_assert_msg(resolve_addr(r, rules[i].rcpt, reply, why) == RESOLVE_OK, "<%s>: %s",
                      rules[i].rcpt, buf_str(why));
        ck_assert_msg(strcmp(resolve_class_name(reply->addr_class), rules[i].class_name) == 0
                      && strcmp(buf_str(reply->transport), rules[i].transport) == 0,
                      "<%s> (delimiter %s): class %s transport %s, the table %s %s",
                      rules[i].rcpt, rules[i].delim, resolve_class_name(reply->addr_class),
                      buf_str(reply->transport), rules[i].class_name, rules[i].transport);
        resolve_close(r);
    }
    resolve_reply_free(reply);
    buf_free(why);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("qmgr_rules_table");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_class_and_transport);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
