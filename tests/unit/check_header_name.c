/* check_header_name - the one header-name rule (cleanup, local, the
 * message_size_limit count) and the hop count (cleanup and local). */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "header_name.h"
#include "testsupport.h"

START_TEST(test_names)
{
    static const struct {
        const char *text, *name;
        size_t  len_at, named_at;
    } t[] = {
        {"Received: from x", "Received", 9, 9},
        {"received: from x", "Received", 9, 9},        /* any case */
        {"Received : from x", "Received", 10, 10},     /* blanks before the colon */
        {"Received\t: x", "Received", 10, 10},
        {"Received-SPF: pass", "Received", 13, 0},     /* another name */
        {"Receive: x", "Received", 8, 0},
        {"Delivered-To: a@b", "Delivered-To", 13, 13},
        {"Received", "Received", 0, 0},                /* no colon */
        {" Received: x", "Received", 0, 0},            /* a continuation line */
        {": x", "Received", 0, 0},
        {"Bad Name: x", "Bad Name", 0, 0},             /* no blanks inside a name */
        {"", "Received", 0, 0},
    };
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_msg(header_name_len(t[i].text, strlen(t[i].text)) == t[i].len_at,
                      "\"%s\": name length %zu", t[i].text,
                      header_name_len(t[i].text, strlen(t[i].text)));
        ck_assert_msg(header_named(t[i].text, strlen(t[i].text), t[i].name) == t[i].named_at,
                      "\"%s\" named %s: %zu", t[i].text, t[i].name,
                      header_named(t[i].text, strlen(t[i].text), t[i].name));
    }
}
END_TEST

START_TEST(test_hops)
{
    ck_assert(header_is_hop("Received: x", 11));
    ck_assert(header_is_hop("RECEIVED : x", 12));
    ck_assert(!header_is_hop("Delivered-To: a@b", 17));
    ck_assert(!header_is_hop("X-Received: x", 13));
    config_reset();
    ck_assert(!hop_count_exceeded(50));             /* Postfix's default, 50 */
    ck_assert(hop_count_exceeded(51));
    config_set("hopcount_limit", "5");
    ck_assert(!hop_count_exceeded(5));
    ck_assert(hop_count_exceeded(6));
    config_reset();
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("header_name");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_names);
    tcase_add_test(tc, test_hops);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
