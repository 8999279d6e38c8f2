/* check_resolve - recipient routing (lib/global/resolve.c): every class's
 * route, transport_maps lookup order, "[host]:port" nexthops, @$myorigin,
 * and try-later tables. The classes themselves are resolve_local's, tested
 * in check_resolve_local.c. */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "mem.h"
#include "msg.h"
#include "resolve.h"
#include "resolve_local.h"
#include "testsupport.h"

static char *tdir;

/* base_config - a small, fixed configuration; extra "name=value" pairs */
static void base_config(const char *const *extra)
{
    config_reset();
    resolve_local_reset();
    config_set("myhostname", "mx.example.org");
    config_set("mydomain", "example.org");
    config_set("myorigin", "$mydomain");
    config_set("mydestination", "$myhostname, localhost, example.org");
    config_set("relay_domains", "relay.test");
    config_set("virtual_mailbox_domains", "vmail.test");
    config_set("virtual_alias_domains", "valias.test");
    config_set("default_transport", "smtp");
    for (; extra && *extra; extra += 2)
        config_set(extra[0], extra[1]);
}

/* route_from - resolve addr for mail from sender (NULL: resolve_addr);
 * "transport|nexthop|recipient" or "TRYLATER" */
static char *route_from(const char *sender, const char *addr)
{
    BUF    *why = buf_alloc(32);
    BUF    *out = buf_alloc(64);
    RESOLVER *r = resolve_open(why);
    RESOLVE_REPLY *reply = resolve_reply_alloc();

    ck_assert_msg(r != NULL, "resolve_open: %s", buf_str(why));
    if ((sender ? resolve_addr_from(r, sender, addr, reply, why)
         : resolve_addr(r, addr, reply, why)) == RESOLVE_OK)
        buf_sprintf(out, "%s|%s|%s", buf_str(reply->transport), buf_str(reply->nexthop),
                    buf_str(reply->recipient));
    else
        buf_sprintf(out, "TRYLATER: %s", buf_str(why));
    resolve_reply_free(reply);
    resolve_close(r);
    buf_free(why);
    return buf_steal(out);
}

static char *route(const char *addr)
{
    return route_from(NULL, addr);
}

static void expect_from(const char *sender, const char *addr, const char *want)
{
    char   *got = route_from(sender, addr);

    ck_assert_msg(strcmp(got, want) == 0, "<%s> -> %s: got \"%s\", want \"%s\"",
                  sender ? sender : "(none)", addr, got, want);
    xfree(got);
}

static void expect(const char *addr, const char *want)
{
    char   *got = route(addr);

    ck_assert_msg(strcmp(got, want) == 0
                  || (strcmp(want, "TRYLATER") == 0 && strncmp(got, "TRYLATER:", 9) == 0),
                  "%s: got \"%s\", want \"%s\"", addr, got, want);
    xfree(got);
}

START_TEST(test_classes)
{
    base_config(NULL);
    expect("user@example.org", "local|mx.example.org|user@example.org");
    expect("user@MX.Example.ORG", "local|mx.example.org|user@MX.Example.ORG");
    expect("user@localhost", "local|mx.example.org|user@localhost");
    expect("user@localhost.", "local|mx.example.org|user@localhost.");
    expect("user@[127.0.0.1]", "local|mx.example.org|user@[127.0.0.1]");
    expect("user@vmail.test", "virtual|vmail.test|user@vmail.test");
    expect("user@valias.test", "error|5.1.1 User unknown in virtual alias table|user@valias.test");
    expect("user@relay.test", "relay|relay.test|user@relay.test");
    /* relay_domains matches subdomains (Postfix's parent_domain_matches_subdomains) */
    expect("user@sub.relay.test", "relay|sub.relay.test|user@sub.relay.test");
    /* mydestination does not */
    expect("user@sub.example.org", "smtp|sub.example.org|user@sub.example.org");
    expect("user@remote.test", "smtp|remote.test|user@remote.test");
    expect("user@[192.0.2.1]", "smtp|[192.0.2.1]|user@[192.0.2.1]");
}
END_TEST

START_TEST(test_myorigin)
{
    base_config(NULL);
    expect("postmaster", "local|mx.example.org|postmaster@example.org");
    expect("joe@", "local|mx.example.org|joe@example.org");
    {
        static const char *const extra[] = {"myorigin", "elsewhere.test", NULL};

        base_config(extra);
        expect("joe", "smtp|elsewhere.test|joe@elsewhere.test");
    }
}
END_TEST

START_TEST(test_transport_values)
{
    static const char *const relayhost[] = {"relayhost", "[smart.test]:587", NULL};
    static const char *const routes[] = {
        "local_transport", "lmtp:unix:private/dovecot",
        "relay_transport", "smtp:[gw.test]",
        "virtual_transport", "mybox",
        "default_transport", "error:remote mail is off", NULL};

    base_config(relayhost);
    expect("a@remote.test", "smtp|[smart.test]:587|a@remote.test");
    expect("a@relay.test", "relay|[smart.test]:587|a@relay.test");
    expect("a@vmail.test", "virtual|vmail.test|a@vmail.test");  /* never via relayhost */
    expect("a@example.org", "local|mx.example.org|a@example.org");

    base_config(routes);
    expect("a@example.org", "lmtp|unix:private/dovecot|a@example.org");
    expect("a@relay.test", "smtp|[gw.test]|a@relay.test");
    expect("a@vmail.test", "mybox|vmail.test|a@vmail.test");
    expect("a@remote.test", "error|remote mail is off|a@remote.test");
}
END_TEST

START_TEST(test_transport_maps_order)
{
    static const char *const extra[] = {
        "recipient_delimiter", "+",
        "transport_maps",
        "inline:{ full+ext@t.test=one:[h1]:2525, user@t.test=two:, t.test=three:h3,"
        " .t.test=four:h4, .test=five:, *=six:h6, keep@remote.test=:[only.hop] }",
        NULL};

    base_config(extra);
    expect("full+ext@t.test", "one|[h1]:2525|full+ext@t.test");
    expect("user+x@t.test", "two|t.test|user+x@t.test");       /* user@domain, nexthop kept */
    expect("user@t.test", "two|t.test|user@t.test");
    expect("other@t.test", "three|h3|other@t.test");          /* domain */
    expect("a@sub.t.test", "four|h4|a@sub.t.test");           /* .parent */
    expect("a@deep.sub.t.test", "four|h4|a@deep.sub.t.test");
    expect("a@x.test", "five|x.test|a@x.test");               /* outer parent */
    expect("a@example.org", "six|h6|a@example.org");          /* wildcard beats class */
    expect("keep@remote.test", "smtp|[only.hop]|keep@remote.test");
}
END_TEST

START_TEST(test_transport_maps_split_addr)
{
    static const char *const extra[] = {
        "recipient_delimiter", "-+",
        "transport_maps", "inline:{ owner@t.test=one:, list@t.test=two:, t.test=three:h3 }",
        NULL};

    /* The user part is split_addr's: "owner-xxx" and "xxx-request" are not
     * split with '-' among the delimiters; the first delimiter splits. */
    base_config(extra);
    expect("owner-list@t.test", "three|h3|owner-list@t.test");
    expect("list-request@t.test", "three|h3|list-request@t.test");
    expect("list+a-b@t.test", "two|t.test|list+a-b@t.test");
    expect("owner+x@t.test", "one|t.test|owner+x@t.test");
}
END_TEST

/* sender_dependent_relayhost_maps: sender, sender without extension,
 * @domain, <> for the null sender; it replaces relayhost for off-host
 * mail only; a transport's own nexthop and transport_maps still win. */
START_TEST(test_sender_dependent_relayhost)
{
    const char *extra[] = {
        "relayhost", "[global.test]",
        "recipient_delimiter", "+",
        "sender_dependent_relayhost_maps",
        "inline:{ boss@s.test=[boss.test]:587, @s.test=[s-relay.test], <>=[bounces.test],"
        " quiet@s.test=DUNNO }",
        "transport_maps", "inline:{ pinned.test=smtp:[pinned.test] }",
        NULL, NULL};

    base_config(extra);
    expect_from("boss@s.test", "u@far.test", "smtp|[boss.test]:587|u@far.test");
    expect_from("boss+x@s.test", "u@far.test", "smtp|[boss.test]:587|u@far.test");
    expect_from("other@s.test", "u@far.test", "smtp|[s-relay.test]|u@far.test");
    expect_from("", "u@far.test", "smtp|[bounces.test]|u@far.test");
    expect_from("quiet@s.test", "u@far.test", "smtp|[global.test]|u@far.test");
    expect_from("someone@else.test", "u@far.test", "smtp|[global.test]|u@far.test");
    expect_from("boss@s.test", "u@relay.test", "relay|[boss.test]:587|u@relay.test");
    expect_from("boss@s.test", "u@pinned.test", "smtp|[pinned.test]|u@pinned.test");
    expect_from("boss@s.test", "u@example.org", "local|mx.example.org|u@example.org");
    expect_from("boss@s.test", "u@vmail.test", "virtual|vmail.test|u@vmail.test");
    /* Without a sender (resolve_addr): no lookup. */
    expect("u@far.test", "smtp|[global.test]|u@far.test");
}
END_TEST

START_TEST(test_trylater)
{
    char   *missing = ts_path(tdir, "no-such-table");
    BUF    *maps = buf_alloc(64);
    const char *extra[] = {"transport_maps", NULL, NULL};

    buf_sprintf(maps, "texthash:%s", missing);
    extra[1] = buf_str(maps);
    base_config(extra);
    expect("a@remote.test", "TRYLATER");
    buf_sprintf(maps, "texthash:%s", missing);
    {
        const char *extra2[] = {"mydestination", NULL, NULL};

        extra2[1] = buf_str(maps);
        base_config(extra2);
        ck_assert_int_eq(resolve_local("example.org"), -1);
        expect("a@remote.test", "TRYLATER");
    }
    buf_free(maps);
    xfree(missing);
}
END_TEST


static Suite *resolve_suite(void)
{
    Suite  *s = suite_create("resolve");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_classes);
    tcase_add_test(tc, test_myorigin);
    tcase_add_test(tc, test_transport_values);
    tcase_add_test(tc, test_transport_maps_order);
    tcase_add_test(tc, test_transport_maps_split_addr);
    tcase_add_test(tc, test_trylater);
    tcase_add_test(tc, test_sender_dependent_relayhost);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tdir = ts_tempdir();
    msg_init("check_resolve", 0);
    {
        char   *log = ts_path(tdir, "log");

        msg_set_logfile(log);
        xfree(log);
    }
    return ts_run_suite(resolve_suite());
}
