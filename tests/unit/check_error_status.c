/* check_error_status - what the error agent answers for a nexthop. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "mail_proto.h"
#include "testsupport.h"

START_TEST(test_table)
{
    static const struct {
        const char *nexthop;
        int     retry, status;
        const char *dsn, *reason;
    } t[] = {
        {"this sandbox does not deliver to other domains", 0, DELIVER_STAT_BOUNCE, "5.0.0",
         "this sandbox does not deliver to other domains"},
        {"5.1.1 User unknown", 0, DELIVER_STAT_BOUNCE, "5.1.1", "User unknown"},
        {"4.3.2 busy now", 0, DELIVER_STAT_DEFER, "4.3.2", "busy now"},
        {"5.7.1 go away", 1, DELIVER_STAT_DEFER, "4.7.1", "go away"},
        {"try later", 1, DELIVER_STAT_DEFER, "4.0.0", "try later"},
        {"", 0, DELIVER_STAT_BOUNCE, "5.0.0", "mail delivery is disabled"},
        {"5.1.1", 0, DELIVER_STAT_BOUNCE, "5.1.1", "mail delivery is disabled"},
        {"5.1.1x not a code", 0, DELIVER_STAT_BOUNCE, "5.0.0", "5.1.1x not a code"},
        {"3.1.1 bad class", 0, DELIVER_STAT_BOUNCE, "5.0.0", "3.1.1 bad class"},
        {"5.1234.1 too long", 0, DELIVER_STAT_BOUNCE, "5.0.0", "5.1234.1 too long"},
    };
    BUF    *dsn = buf_alloc(8), *reason = buf_alloc(8);
    size_t  i;
    int     st;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        st = error_status(t[i].nexthop, t[i].retry, dsn, reason);
        ck_assert_msg(st == t[i].status && strcmp(buf_str(dsn), t[i].dsn) == 0
                      && strcmp(buf_str(reason), t[i].reason) == 0,
                      "\"%s\" retry=%d: got %d %s \"%s\"", t[i].nexthop, t[i].retry, st,
                      buf_str(dsn), buf_str(reason));
    }
    buf_free(dsn);
    buf_free(reason);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("error_status");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_table);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
