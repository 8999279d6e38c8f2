/* check_match_list - host lists (CIDR v4/v6, mapped, names, negation, tables)
 * and domain lists (exact, .subdomain, parent style, tables, files). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "match_list.h"
#include "testsupport.h"

/* One client and the answer a host list must give. */
typedef struct HOST_CASE {
    const char *list;
    const char *name;               /* client name or NULL */
    const char *addr;
    MATCH_RESULT want;
} HOST_CASE;

static const HOST_CASE host_cases[] = {
    /* IPv4 networks and single addresses */
    {"192.0.2.0/24", NULL, "192.0.2.77", MATCH_YES},
    {"192.0.2.0/24", NULL, "192.0.3.1", MATCH_NO},
    {"192.0.2.0/25", NULL, "192.0.2.127", MATCH_YES},
    {"192.0.2.0/25", NULL, "192.0.2.128", MATCH_NO},
    {"192.0.2.1", NULL, "192.0.2.1", MATCH_YES},
    {"192.0.2.1", NULL, "192.0.2.2", MATCH_NO},
    {"192.0.2.1/32", NULL, "192.0.2.1", MATCH_YES},
    {"10.0.0.0/8, 127.0.0.0/8", NULL, "127.0.0.1", MATCH_YES},
    {"10.0.0.0/8 127.0.0.0/8", NULL, "10.200.3.4", MATCH_YES},
    {"0.0.0.0/0", NULL, "203.0.113.9", MATCH_YES},
    {"0.0.0.0/0", NULL, "2001:db8::1", MATCH_NO},
    {"172.16.0.0/12", NULL, "172.31.255.255", MATCH_YES},
    {"172.16.0.0/12", NULL, "172.32.0.0", MATCH_NO},
    /* IPv6, with and without brackets */
    {"[2001:db8::]/32", NULL, "2001:db8:1::5", MATCH_YES},
    {"[2001:db8::]/32", NULL, "2001:db9::5", MATCH_NO},
    {"2001:db8::/32", NULL, "2001:DB8::5", MATCH_YES},
    {"[::1]/128", NULL, "::1", MATCH_YES},
    {"[::1]", NULL, "::1", MATCH_YES},
    {"[::1]", NULL, "::2", MATCH_NO},
    {"[2001:db8::]/33", NULL, "2001:db8:8000::1", MATCH_NO},
    /* IPv4-mapped IPv6 clients match IPv4 networks, and mapped networks */
    {"127.0.0.0/8", NULL, "::ffff:127.0.0.1", MATCH_YES},
    {"192.0.2.0/24", NULL, "::FFFF:192.0.2.9", MATCH_YES},
    {"192.0.2.0/24", NULL, "::ffff:192.0.3.9", MATCH_NO},
    {"[::ffff:127.0.0.0]/104", NULL, "127.0.0.1", MATCH_YES},
    {"[::ffff:127.0.0.0]/104", NULL, "::ffff:127.0.0.1", MATCH_YES},
    /* a short IPv6 network is not "everybody" */
    {"[::]/0", NULL, "2001:db8::1", MATCH_YES},
    {"[::]/0", NULL, "192.0.2.1", MATCH_NO},
    {"[::]/0", NULL, "::ffff:192.0.2.1", MATCH_NO},
    /* negation: first match wins */
    {"!192.0.2.66, 192.0.2.0/24", NULL, "192.0.2.66", MATCH_NO},
    {"!192.0.2.66, 192.0.2.0/24", NULL, "192.0.2.67", MATCH_YES},
    {"192.0.2.0/24, !192.0.2.66", NULL, "192.0.2.66", MATCH_YES},
    {"![2001:db8::1] [2001:db8::]/32", NULL, "2001:db8::1", MATCH_NO},
    /* names match the verified client name */
    {"mail.example.com", "mail.example.com", "192.0.2.1", MATCH_YES},
    {"mail.example.com", "MAIL.Example.COM.", "192.0.2.1", MATCH_YES},
    {"mail.example.com", "unknown", "192.0.2.1", MATCH_NO},
    {"mail.example.com", NULL, "192.0.2.1", MATCH_NO},
    {".example.com", "mail.example.com", "192.0.2.1", MATCH_YES},
    {".example.com", "example.com", "192.0.2.1", MATCH_NO},
    {"example.com", "mail.example.com", "192.0.2.1", MATCH_NO},
    {"unknown", "unknown", "192.0.2.1", MATCH_NO},
    /* tables: the address, the name and its parents */
    {"inline:{192.0.2.5=ok}", NULL, "192.0.2.5", MATCH_YES},
    {"inline:{192.0.2.5=ok}", NULL, "192.0.2.6", MATCH_NO},
    {"inline:{192.0.2.5=ok}", NULL, "::ffff:192.0.2.5", MATCH_YES},
    {"inline:{.example.com=ok}", "a.b.example.com", "192.0.2.1", MATCH_YES},
    {"inline:{example.com=ok}", "a.example.com", "192.0.2.1", MATCH_NO},
    {"!inline:{192.0.2.5=x}, 192.0.2.0/24", NULL, "192.0.2.5", MATCH_NO},
    /* a table that can't be read: try later, unless something matched first */
    {"texthash:/nonexistent/surel-table", NULL, "192.0.2.1", MATCH_TRYLATER},
    {"192.0.2.1 texthash:/nonexistent/surel-table", NULL, "192.0.2.1", MATCH_YES},
    {"", NULL, "192.0.2.1", MATCH_NO},
};

START_TEST(test_host_table)
{
    const HOST_CASE *tc = &host_cases[_i];
    BUF    *why = buf_alloc(64);
    MATCH_LIST *list = host_list_init("mynetworks", tc->list, 0, why);
    MATCH_RESULT got;

    ck_assert_msg(list != NULL, "\"%s\": %s", tc->list, buf_str(why));
    got = host_list_match(list, tc->name, tc->addr);
    ck_assert_msg(got == tc->want, "\"%s\" vs %s[%s]: %d, want %d", tc->list,
                  tc->name ? tc->name : "-", tc->addr, got, tc->want);
    match_list_free(list);
    buf_free(why);
}
END_TEST

/* Patterns a host list must refuse at init. */
static const char *const bad_hosts[] = {
    "192.0.2.1/24",                 /* host bits set */
    "192.0.2.0/33",
    "192.0.2.0/",
    "192.0.2.0/x",
    "192.0.2",
    "192.0.2.256",
    "1.2.3.4.5",
    "[2001:db8::1]/32",
    "[2001:db8::]/129",
    "[2001:db8::",
    "[nonsense]",
    "127.0.0.0/8 # trusted",        /* no comments inside a value */
    "!",
    "!!192.0.2.1",
    "inline:{a=b",
    "/nonexistent/surel-patterns",
};

START_TEST(test_host_bad)
{
    BUF    *why = buf_alloc(64);
    MATCH_LIST *list = host_list_init("mynetworks", bad_hosts[_i], 0, why);

    ck_assert_msg(list == NULL, "\"%s\" accepted", bad_hosts[_i]);
    ck_assert_msg(strncmp(buf_str(why), "mynetworks: ", 12) == 0, "\"%s\": why \"%s\"",
                  bad_hosts[_i], buf_str(why));
    buf_free(why);
}
END_TEST

START_TEST(test_host_bits_hint)
{
    BUF    *why = buf_alloc(64);

    ck_assert_ptr_null(host_list_init("mynetworks", "192.0.2.1/24", 0, why));
    ck_assert_msg(strstr(buf_str(why), "non-null host address bits") != NULL, "%s", buf_str(why));
    ck_assert_ptr_null(host_list_init("mynetworks", "10.0.0.1 # x", 0, why));
    ck_assert_msg(strstr(buf_str(why), "comment") != NULL, "%s", buf_str(why));
    buf_free(why);
}
END_TEST

/* One domain and the answer a domain list must give. */
typedef struct DOMAIN_CASE {
    const char *list;
    int     flags;
    const char *domain;
    MATCH_RESULT want;
} DOMAIN_CASE;

static const DOMAIN_CASE domain_cases[] = {
    {"example.com", 0, "example.com", MATCH_YES},
    {"example.com", 0, "EXAMPLE.com", MATCH_YES},
    {"example.com", 0, "example.com.", MATCH_YES},
    {"example.com", 0, "sub.example.com", MATCH_NO},
    {"example.com", 0, "badexample.com", MATCH_NO},
    {"example.com", MATCH_FLAG_PARENT, "sub.example.com", MATCH_YES},
    {"example.com", MATCH_FLAG_PARENT, "badexample.com", MATCH_NO},
    {".example.com", 0, "sub.example.com", MATCH_YES},
    {".example.com", 0, "a.b.example.com", MATCH_YES},
    {".example.com", 0, "example.com", MATCH_NO},
    {"example.com, .example.com", 0, "example.com", MATCH_YES},
    {"sandbox.test localhost", 0, "localhost", MATCH_YES},
    {"sandbox.test localhost", 0, "localhost.localdomain", MATCH_NO},
    {"!sub.example.com .example.com", 0, "sub.example.com", MATCH_NO},
    {"!sub.example.com .example.com", 0, "other.example.com", MATCH_YES},
    {"[192.0.2.1]", 0, "[192.0.2.1]", MATCH_YES},
    {"inline:{example.net=x}", 0, "example.net", MATCH_YES},
    {"inline:{example.net=x}", 0, "sub.example.net", MATCH_NO},
    {"inline:{.example.net=x}", 0, "sub.example.net", MATCH_YES},
    {"inline:{example.net=x}", MATCH_FLAG_PARENT, "sub.example.net", MATCH_YES},
    {"texthash:/nonexistent/surel-table", 0, "example.net", MATCH_TRYLATER},
    {"", 0, "example.com", MATCH_NO},
    {"example.com", 0, "", MATCH_NO},
    {"unknown", 0, "unknown", MATCH_YES},
};

START_TEST(test_domain_table)
{
    const DOMAIN_CASE *tc = &domain_cases[_i];
    BUF    *why = buf_alloc(64);
    MATCH_LIST *list = domain_list_init("relay_domains", tc->list, tc->flags, why);
    MATCH_RESULT got;

    ck_assert_msg(list != NULL, "\"%s\": %s", tc->list, buf_str(why));
    got = domain_list_match(list, tc->domain);
    ck_assert_msg(got == tc->want, "\"%s\" (flags %d) vs \"%s\": %d, want %d", tc->list,
                  tc->flags, tc->domain, got, tc->want);
    match_list_free(list);
    buf_free(why);
}
END_TEST

START_TEST(test_pattern_files)
{
    char   *dir = ts_tempdir();
    char   *outer = ts_path(dir, "outer");
    char   *inner = ts_path(dir, "inner");
    BUF    *text = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    MATCH_LIST *list;

    ts_write_file(inner, "# comment line\n198.51.100.0/24\n");
    buf_sprintf(text, "192.0.2.0/24 [2001:db8::]/32\n\n%s\n", inner);
    ts_write_file(outer, buf_str(text));
    list = host_list_init("mynetworks", outer, 0, why);
    ck_assert_msg(list != NULL, "%s", buf_str(why));
    ck_assert_int_eq(host_list_match(list, NULL, "192.0.2.1"), MATCH_YES);
    ck_assert_int_eq(host_list_match(list, NULL, "2001:db8::2"), MATCH_YES);
    ck_assert_int_eq(host_list_match(list, NULL, "198.51.100.7"), MATCH_YES);
    ck_assert_int_eq(host_list_match(list, NULL, "203.0.113.1"), MATCH_NO);
    match_list_free(list);

    /* a broken pattern inside a file is an error too */
    ts_write_file(inner, "198.51.100.1/24\n");
    ck_assert_ptr_null(host_list_init("mynetworks", outer, 0, why));

    ts_write_file(inner, "example.org\n.example.net\n");
    list = domain_list_init("relay_domains", inner, 0, why);
    ck_assert_msg(list != NULL, "%s", buf_str(why));
    ck_assert_int_eq(domain_list_match(list, "example.org"), MATCH_YES);
    ck_assert_int_eq(domain_list_match(list, "a.example.net"), MATCH_YES);
    ck_assert_int_eq(domain_list_match(list, "example.net"), MATCH_NO);
    match_list_free(list);
    free(outer);
    free(inner);
    buf_free(text);
    buf_free(why);
}
END_TEST

START_TEST(test_texthash_table)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "clients");
    BUF    *spec = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    MATCH_LIST *list;

    ts_write_file(path, "192.0.2.9 ok\ntrusted.example ok\n");
    buf_sprintf(spec, "texthash:%s", path);
    list = host_list_init("mynetworks", buf_str(spec), 0, why);
    ck_assert_msg(list != NULL, "%s", buf_str(why));
    ck_assert_int_eq(host_list_match(list, NULL, "192.0.2.9"), MATCH_YES);
    ck_assert_int_eq(host_list_match(list, "trusted.example", "203.0.113.1"), MATCH_YES);
    ck_assert_int_eq(host_list_match(list, "other.example", "203.0.113.1"), MATCH_NO);
    match_list_free(list);
    free(path);
    buf_free(spec);
    buf_free(why);
}
END_TEST

START_TEST(test_parse_addr)
{
    unsigned char a[16], b[16];

    ck_assert_int_eq(match_parse_addr("192.0.2.1", a), 0);
    ck_assert_int_eq(match_parse_addr("::ffff:192.0.2.1", b), 0);
    ck_assert(memcmp(a, b, 16) == 0);
    ck_assert_int_eq(match_parse_addr("192.0.2", a), -1);
    ck_assert_int_eq(match_parse_addr("example.com", a), -1);
    ck_assert_int_eq(match_parse_addr("", a), -1);
    ck_assert_int_eq(match_parse_addr("0x7f.1.1.1", a), -1);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("match_list");
    TCase  *tc = tcase_create("match_list");

    tcase_add_loop_test(tc, test_host_table, 0, (int) (sizeof(host_cases) / sizeof(host_cases[0])));
    tcase_add_loop_test(tc, test_host_bad, 0, (int) (sizeof(bad_hosts) / sizeof(bad_hosts[0])));
    tcase_add_test(tc, test_host_bits_hint);
    tcase_add_loop_test(tc, test_domain_table, 0,
                        (int) (sizeof(domain_cases) / sizeof(domain_cases[0])));
    tcase_add_test(tc, test_pattern_files);
    tcase_add_test(tc, test_texthash_table);
    tcase_add_test(tc, test_parse_addr);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
