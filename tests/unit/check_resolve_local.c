/* check_resolve_local - destination classes from mydestination,
 * virtual_*_domains, relay_domains and the machine's own addresses. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "resolve_local.h"
#include "testsupport.h"

/* setup - a known configuration; inet_interfaces names one test address */
static void setup(void)
{
    config_reset();
    config_set("myhostname", "mx.example.com");
    config_set("mydomain", "example.com");
    config_set("inet_interfaces", "192.0.2.10, [2001:db8::10]");
    config_set("relay_domains", "relay.example, .sub.relay.example");
    config_set("virtual_alias_maps", "inline:{alias.example=x, user@alias.example=u}");
    config_set("virtual_mailbox_domains", "mailbox.example");
    resolve_local_reset();
}

/* One domain and its class. */
static const struct {
    const char *domain;
    RESOLVE_CLASS want;
} class_cases[] = {
    {"mx.example.com", RESOLVE_CLASS_LOCAL},        /* $myhostname */
    {"MX.Example.COM.", RESOLVE_CLASS_LOCAL},
    {"localhost", RESOLVE_CLASS_LOCAL},
    {"localhost.example.com", RESOLVE_CLASS_LOCAL}, /* localhost.$mydomain */
    {"example.com", RESOLVE_CLASS_DEFAULT},         /* not in the default mydestination */
    {"sub.mx.example.com", RESOLVE_CLASS_DEFAULT},  /* no parent magic */
    {"[192.0.2.10]", RESOLVE_CLASS_LOCAL},
    {"[127.0.0.1]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:2001:db8::10]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:::1]", RESOLVE_CLASS_LOCAL},
    /* Every spelling of an own address is the same binary address. */
    {"[IPv6:0::1]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:0:0::1]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:0:0:0:0:0:0:0:1]", RESOLVE_CLASS_LOCAL},
    {"[ipv6:0000:0000::0001]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:::ffff:127.0.0.1]", RESOLVE_CLASS_LOCAL},    /* IPv4-mapped 127.0.0.1 */
    {"[IPv6:2001:DB8:0::10]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:2001:0db8:0000:0000:0000:0000:0000:0010]", RESOLVE_CLASS_LOCAL},
    {"[IPv6:::ffff:192.0.2.10]", RESOLVE_CLASS_LOCAL},
    {"[127.0.0.1].", RESOLVE_CLASS_DEFAULT},           /* not a literal */
    {"[127.1]", RESOLVE_CLASS_DEFAULT},                /* inet_pton's syntax only */
    {"[IPv6:::2]", RESOLVE_CLASS_DEFAULT},
    {"[::1]", RESOLVE_CLASS_DEFAULT},                  /* RFC 5321: IPv6 needs its tag */
    {"[127.0.0.1", RESOLVE_CLASS_DEFAULT},
    {"127.0.0.1", RESOLVE_CLASS_DEFAULT},
    {"[192.0.2.11]", RESOLVE_CLASS_DEFAULT},
    {"[IPv6:192.0.2.10]", RESOLVE_CLASS_DEFAULT},
    {"alias.example", RESOLVE_CLASS_ALIAS},         /* $virtual_alias_maps */
    {"mailbox.example", RESOLVE_CLASS_VIRTUAL},
    {"relay.example", RESOLVE_CLASS_RELAY},
    {"x.relay.example", RESOLVE_CLASS_RELAY},       /* relay_domains: parent style */
    {"xrelay.example", RESOLVE_CLASS_DEFAULT},
    {"a.sub.relay.example", RESOLVE_CLASS_RELAY},
    {"remote.example", RESOLVE_CLASS_DEFAULT},
    {"", RESOLVE_CLASS_DEFAULT},
};

START_TEST(test_classes)
{
    RESOLVE_CLASS got = resolve_class(class_cases[_i].domain);

    ck_assert_msg(got == class_cases[_i].want, "\"%s\": %s, want %s", class_cases[_i].domain,
                  resolve_class_name(got), resolve_class_name(class_cases[_i].want));
}
END_TEST

START_TEST(test_local_and_trylater)
{
    ck_assert_int_eq(resolve_local("mx.example.com"), 1);
    ck_assert_int_eq(resolve_local("relay.example"), 0);
    config_set("relay_domains", "texthash:/nonexistent/surel-relay");
    resolve_local_reset();
    ck_assert_int_eq(resolve_class("remote.example"), RESOLVE_CLASS_TRYLATER);
    ck_assert_int_eq(resolve_local("remote.example"), -1);
    /* local domains are decided before the broken table is asked */
    ck_assert_int_eq(resolve_local("mx.example.com"), 1);
}
END_TEST

START_TEST(test_tables_in_mydestination)
{
    /* A table in mydestination answers the same for every caller: smtpd,
     * cleanup, qmgr and local all ask resolve_local(). */
    config_set("mydestination", "localhost, inline:{Table.Example=x}");
    resolve_local_reset();
    ck_assert_int_eq(resolve_local("table.example"), 1);
    ck_assert_int_eq(resolve_local("TABLE.example."), 1);
    ck_assert_int_eq(resolve_local("other.example"), 0);
    ck_assert_int_eq(resolve_local("[127.0.0.1]"), 1);
    config_set("mydestination", "texthash:/nonexistent/surel-mydest");
    resolve_local_reset();
    ck_assert_int_eq(resolve_local("table.example"), -1);
    ck_assert_int_eq(resolve_local("[IPv6:0::1]"), 1);   /* literals need no table */
}
END_TEST

START_TEST(test_own_addr)
{
    ck_assert(resolve_own_addr("192.0.2.10"));
    ck_assert(resolve_own_addr("::ffff:192.0.2.10"));
    ck_assert(resolve_own_addr("127.0.0.1"));
    ck_assert(!resolve_own_addr("192.0.2.11"));
    ck_assert(!resolve_own_addr("nonsense"));
}
END_TEST

START_TEST(test_all_interfaces)
{
    config_set("inet_interfaces", "all");
    resolve_local_reset();
    /* every Linux machine has the loopback interface */
    ck_assert(resolve_own_addr("127.0.0.1"));
    ck_assert_int_eq(resolve_class("[127.0.0.1]"), RESOLVE_CLASS_LOCAL);
    ck_assert_int_eq(resolve_class("[192.0.2.10]"), RESOLVE_CLASS_DEFAULT);
}
END_TEST

START_TEST(test_bad_list)
{
    BUF    *why = buf_alloc(64);

    /* An item that is no table and no domain pattern is refused ... */
    config_set("relay_domains", "inline:{a=b");
    ck_assert_int_eq(resolve_local_init(why), -1);
    ck_assert_msg(strncmp(buf_str(why), "relay_domains: ", 15) == 0, "%s", buf_str(why));
    buf_free(why);
}
END_TEST

START_TEST(test_unknown_type_defers)
{
    /* ... a table of a type surel lacks is a stand-in: lookups defer. */
    config_set("mydestination", "mx.example.com, nosuchtype:/x");
    resolve_local_reset();
    ck_assert_int_eq(resolve_local("mx.example.com"), 1);
    ck_assert_int_eq(resolve_class("example.com"), RESOLVE_CLASS_TRYLATER);
}
END_TEST

START_TEST(test_bad_list_fatal_on_use)
{
    config_set("mydestination", "inline:{a=b");
    resolve_local_reset();
    (void) resolve_class("example.com");
}
END_TEST

/* Address literals are local only when they are one of our addresses. */
START_TEST(test_literals)
{
    ck_assert_int_eq(resolve_local("[127.0.0.1]"), 1);
    ck_assert_int_eq(resolve_local("[127.1.2.3]"), 0);   /* not an interface address, as Postfix */
    ck_assert_int_eq(resolve_local("[192.0.2.77]"), 0);
    ck_assert_int_eq(resolve_local("[not an address]"), 0);
    ck_assert_int_eq(resolve_local("[IPv6:2001:db8::1]"), 0);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("resolve_local");
    TCase  *tc = tcase_create("resolve_local");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_classes, 0, (int) (sizeof(class_cases) / sizeof(class_cases[0])));
    tcase_add_test(tc, test_local_and_trylater);
    tcase_add_test(tc, test_tables_in_mydestination);
    tcase_add_test(tc, test_own_addr);
    tcase_add_test(tc, test_all_interfaces);
    tcase_add_test(tc, test_literals);
    tcase_add_test(tc, test_bad_list);
    tcase_add_test(tc, test_unknown_type_defers);
    tcase_add_exit_test(tc, test_bad_list_fatal_on_use, 1);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
