/* check_address - RFC 5321 paths: every form, every error, both address forms. */
#include <check.h>
#include <string.h>
#include <sys/socket.h>

#include "address.h"
#include "buf.h"
#include "config.h"
#include "testsupport.h"

/* One path and what parsing it must give. */
typedef struct PATH_CASE {
    const char *text;               /* what follows MAIL FROM: / RCPT TO: */
    int     flags;                  /* ADDR_* */
    int     status;                 /* 0, ADDR_ERR_SYNTAX, ADDR_ERR_8BIT */
    const char *addr;               /* internal form when status is 0 */
    int     is_null;
    const char *rest;               /* ESMTP parameters when status is 0 */
} PATH_CASE;

static const PATH_CASE path_cases[] = {
    /* plain forms */
    {"<user@example.com>", 0, 0, "user@example.com", 0, ""},
    {"<user@example.com> SIZE=100 BODY=8BITMIME", 0, 0, "user@example.com", 0, "SIZE=100 BODY=8BITMIME"},
    {" <user@example.com>", 0, 0, "user@example.com", 0, ""},
    {"<first.last+tag@sub.example.com>", 0, 0, "first.last+tag@sub.example.com", 0, ""},
    {"<!#$%&'*+-/=?^_`{|}~@example.com>", 0, 0, "!#$%&'*+-/=?^_`{|}~@example.com", 0, ""},
    {"<User@Example.COM>", 0, 0, "User@Example.COM", 0, ""},
    {"<a-b.c-d@x-y.example>", 0, 0, "a-b.c-d@x-y.example", 0, ""},
    {"<postmaster>", 0, 0, "postmaster", 0, ""},
    {"<1@123.example>", 0, 0, "1@123.example", 0, ""},
    /* null path */
    {"<>", 0, 0, "", 1, ""},
    {"<> SIZE=10", ADDR_STRICT, 0, "", 1, "SIZE=10"},
    /* quoted local parts become unquoted (internal form) */
    {"<\"john smith\"@example.org>", 0, 0, "john smith@example.org", 0, ""},
    {"<\"a\\\"b\"@example.org>", 0, 0, "a\"b@example.org", 0, ""},
    {"<\"a\\\\b\"@example.org>", 0, 0, "a\\b@example.org", 0, ""},
    {"<\"user@remote\"@local.example>", 0, 0, "user@remote@local.example", 0, ""},
    {"<\"\"@example.org>", 0, 0, "@example.org", 0, ""},
    {"<\"a..b\"@example.org>", 0, 0, "a..b@example.org", 0, ""},
    /* routing characters are kept as they are */
    {"<user%remote@local.example>", 0, 0, "user%remote@local.example", 0, ""},
    {"<remote!user@local.example>", 0, 0, "remote!user@local.example", 0, ""},
    /* source routes are stripped; the final mailbox counts */
    {"<@relay.example:user@final.example>", 0, 0, "user@final.example", 0, ""},
    {"<@a.example,@b.example:user@final.example> X=1", 0, 0, "user@final.example", 0, "X=1"},
    {"<@[192.0.2.1]:user@final.example>", 0, 0, "user@final.example", 0, ""},
    /* address literals */
    {"<user@[192.0.2.1]>", 0, 0, "user@[192.0.2.1]", 0, ""},
    {"<user@[IPv6:2001:db8::1]>", 0, 0, "user@[IPv6:2001:db8::1]", 0, ""},
    {"<user@[ipv6:::1]>", 0, 0, "user@[ipv6:::1]", 0, ""},
    /* brackets optional unless strict */
    {"user@example.com", 0, 0, "user@example.com", 0, ""},
    {"user@example.com SIZE=5", 0, 0, "user@example.com", 0, "SIZE=5"},
    {"user@example.com", ADDR_STRICT, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    /* UTF-8 only with SMTPUTF8 */
    {"<j\xc3\xb6rg@example.com>", ADDR_UTF8, 0, "j\xc3\xb6rg@example.com", 0, ""},
    {"<jorg@b\xc3\xbc\x63her.example>", ADDR_UTF8, 0, "jorg@b\xc3\xbc\x63her.example", 0, ""},
    {"<\"j \xc3\xb6\"@example.com>", ADDR_UTF8, 0, "j \xc3\xb6@example.com", 0, ""},
    {"<j\xc3\xb6rg@example.com>", 0, ADDR_ERR_8BIT, NULL, 0, NULL},
    {"<jorg@b\xc3\xbc\x63her.example>", 0, ADDR_ERR_8BIT, NULL, 0, NULL},
    {"<\"j \xc3\xb6\"@example.com>", 0, ADDR_ERR_8BIT, NULL, 0, NULL},
    {"<j\xc3(rg@example.com>", ADDR_UTF8, ADDR_ERR_SYNTAX, NULL, 0, NULL},     /* bad sequence */
    {"<j\xc0\xafrg@example.com>", ADDR_UTF8, ADDR_ERR_SYNTAX, NULL, 0, NULL},  /* overlong */
    {"<j\xed\xa0\x80@example.com>", ADDR_UTF8, ADDR_ERR_SYNTAX, NULL, 0, NULL},/* surrogate */
    {"<j\xff@example.com>", ADDR_UTF8, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    /* syntax errors */
    {"", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example.com", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example.com>SIZE=1", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example.com>>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<.user@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user.@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<us..er@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user name@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user(comment)@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@exa mple.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example..com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@.example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example.com.>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@-example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example-.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@exa_mple.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@192.0.2.1>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},       /* literal needs [] */
    {"<user@[192.0.2.256]>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@[192.0.2]>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@[2001:db8::1]>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},   /* IPv6: tag needed */
    {"<user@[IPv6:2001:db8::g]>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@[x-tag:content]>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@[192.0.2.1>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<a@b@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<\"unterminated@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<\"a\x01\"@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<\"a\\\x01\"@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<@relay.example user@final.example>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<@relay.example,user@final.example>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<@bad..relay:user@final.example>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<@relay.example:>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<user@example.com\r\n>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"user@example.com>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<<user@example.com>>", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"<\"a@b\">", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},         /* ambiguous internal form */
    {"<\"\">", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
    {"\"\"", 0, ADDR_ERR_SYNTAX, NULL, 0, NULL},
};

START_TEST(test_path_table)
{
    const PATH_CASE *tc = &path_cases[_i];
    BUF    *addr = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    const char *rest = NULL;
    int     is_null = -1;
    int     status;

    status = address_parse_path(tc->text, tc->flags, addr, &is_null, &rest, why);
    ck_assert_msg(status == tc->status, "case %d \"%s\": status %d, want %d (%s)",
                  _i, tc->text, status, tc->status, buf_str(why));
    if (status == 0) {
        ck_assert_msg(strcmp(buf_str(addr), tc->addr) == 0, "case %d \"%s\": addr \"%s\", want \"%s\"",
                      _i, tc->text, buf_str(addr), tc->addr);
        ck_assert_msg(is_null == tc->is_null, "case %d \"%s\": is_null %d", _i, tc->text, is_null);
        ck_assert_msg(rest && strcmp(rest, tc->rest) == 0, "case %d \"%s\": rest \"%s\"",
                      _i, tc->text, rest ? rest : "(null)");
    } else {
        ck_assert_msg(buf_len(why) > 0, "case %d \"%s\": no reason given", _i, tc->text);
    }
    buf_free(addr);
    buf_free(why);
}
END_TEST

START_TEST(test_8bit_reason)
{
    BUF    *addr = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    const char *rest;
    int     is_null;

    ck_assert_int_eq(address_parse_path("<\xc3\xa9@example.com>", 0, addr, &is_null, &rest, why),
                     ADDR_ERR_8BIT);
    ck_assert_str_eq(buf_str(why), "Must declare SMTPUTF8 to send unicode address");
    buf_free(addr);
    buf_free(why);
}
END_TEST

START_TEST(test_length_limit)
{
    BUF    *text = buf_alloc(ADDR_MAX + 64);
    BUF    *addr = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    const char *rest;
    int     is_null;
    size_t  i;

    /* exactly ADDR_MAX bytes between the brackets: accepted */
    buf_putc(text, '<');
    for (i = 0; i < ADDR_MAX - strlen("@example.com"); i++)
        buf_putc(text, 'a');
    buf_puts(text, "@example.com>");
    ck_assert_int_eq(address_parse_path(buf_str(text), 0, addr, &is_null, &rest, why), 0);
    ck_assert_uint_eq(buf_len(addr), ADDR_MAX);
    /* one more: refused */
    buf_sprintf(text, "<a%s", buf_str(addr));
    buf_putc(text, '>');
    ck_assert_int_eq(address_parse_path(buf_str(text), 0, addr, &is_null, &rest, why),
                     ADDR_ERR_SYNTAX);
    ck_assert_str_eq(buf_str(why), "address too long");
    buf_free(text);
    buf_free(addr);
    buf_free(why);
}
END_TEST

START_TEST(test_long_label)
{
    BUF    *text = buf_alloc(256);
    BUF    *addr = buf_alloc(64);
    const char *rest;
    int     is_null;
    int     i;

    buf_puts(text, "<u@");
    for (i = 0; i < 63; i++)
        buf_putc(text, 'l');
    buf_puts(text, ".example>");
    ck_assert_int_eq(address_parse_path(buf_str(text), 0, addr, &is_null, &rest, NULL), 0);
    buf_sprintf(text, "<u@l%s", buf_str(addr) + 2);
    buf_putc(text, '>');
    ck_assert_int_eq(address_parse_path(buf_str(text), 0, addr, &is_null, &rest, NULL),
                     ADDR_ERR_SYNTAX);
    buf_free(text);
    buf_free(addr);
}
END_TEST

START_TEST(test_split)
{
    BUF    *local = buf_alloc(16);
    BUF    *domain = buf_alloc(16);

    address_split("user@remote@local.example", local, domain);
    ck_assert_str_eq(buf_str(local), "user@remote");
    ck_assert_str_eq(buf_str(domain), "local.example");
    address_split("postmaster", local, domain);
    ck_assert_str_eq(buf_str(local), "postmaster");
    ck_assert_str_eq(buf_str(domain), "");
    address_split("", local, domain);
    ck_assert_str_eq(buf_str(local), "");
    ck_assert_str_eq(buf_str(domain), "");
    buf_free(local);
    buf_free(domain);
}
END_TEST

/* Internal form and the external form address_externalize must give. */
static const char *const extern_cases[][2] = {
    {"user@example.com", "user@example.com"},
    {"first.last@example.com", "first.last@example.com"},
    {"john smith@example.org", "\"john smith\"@example.org"},
    {"a\"b@example.org", "\"a\\\"b\"@example.org"},
    {"a\\b@example.org", "\"a\\\\b\"@example.org"},
    {"user@remote@local.example", "\"user@remote\"@local.example"},
    {"a..b@example.org", "\"a..b\"@example.org"},
    {".a@example.org", "\".a\"@example.org"},
    {"@example.org", "\"\"@example.org"},
    {"postmaster", "postmaster"},
    {"j\xc3\xb6rg@example.com", "j\xc3\xb6rg@example.com"},
    {"", ""},
};

START_TEST(test_externalize)
{
    BUF    *out = buf_alloc(16);
    BUF    *back = buf_alloc(16);
    BUF    *path = buf_alloc(16);
    const char *rest;
    int     is_null;

    address_externalize(extern_cases[_i][0], out);
    ck_assert_msg(strcmp(buf_str(out), extern_cases[_i][1]) == 0, "\"%s\" -> \"%s\", want \"%s\"",
                  extern_cases[_i][0], buf_str(out), extern_cases[_i][1]);
    /* and parsing the external form gives the internal one back */
    buf_sprintf(path, "<%s>", buf_str(out));
    ck_assert_int_eq(address_parse_path(buf_str(path), ADDR_UTF8, back, &is_null, &rest, NULL), 0);
    ck_assert_str_eq(buf_str(back), extern_cases[_i][0]);
    buf_free(out);
    buf_free(back);
    buf_free(path);
}
END_TEST

START_TEST(test_valid_domain)
{
    ck_assert(address_valid_domain("example.com", 0));
    ck_assert(address_valid_domain("localhost", 0));
    ck_assert(address_valid_domain("[192.0.2.1]", 0));
    ck_assert(address_valid_domain("[IPv6:::1]", 0));
    ck_assert(address_valid_domain("b\xc3\xbc\x63her.example", ADDR_UTF8));
    ck_assert(!address_valid_domain("b\xc3\xbc\x63her.example", 0));
    ck_assert(!address_valid_domain("", 0));
    ck_assert(!address_valid_domain("example.com.", 0));
    ck_assert(!address_valid_domain("192.0.2.1", 0));
    ck_assert(!address_valid_domain("a b", 0));
    ck_assert(!address_valid_domain("[192.0.2.1", 0));
    ck_assert(!address_valid_domain("[192.0.2.1]x", 0));
    ck_assert(!address_valid_domain("ex_ample.com", 0));
}
END_TEST

START_TEST(test_has_8bit)
{
    ck_assert(!address_has_8bit("user@example.com"));
    ck_assert(address_has_8bit("j\xc3\xb6rg@example.com"));
}
END_TEST

/* address_qualify: the one "add @$myorigin" rule of cleanup, qmgr's
 * resolve, local and bounce; "user@" is qualified too (resolve and local
 * did, cleanup and bounce did not). */
START_TEST(test_qualify)
{
    static const struct {
        const char *origin, *in, *out;
    } t[] = {
        {"example.org", "user", "user@example.org"},
        {"example.org", "user@", "user@example.org"},
        {"example.org", "user@other.example", "user@other.example"},
        {"example.org", "", ""},                    /* the null sender */
        {"example.org", "a@b@", "a@b@example.org"}, /* the last '@' */
        {"example.org", "john q. public", "john q. public@example.org"},
        {"", "user", "user"},                       /* no $myorigin: unchanged */
    };
    BUF    *out = buf_alloc(16);
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        config_reset();
        config_set("myorigin", t[i].origin);
        address_qualify(t[i].in, out);
        ck_assert_msg(strcmp(buf_str(out), t[i].out) == 0, "\"%s\" with myorigin \"%s\": \"%s\"",
                      t[i].in, t[i].origin, buf_str(out));
    }
    config_reset();
    buf_free(out);
}
END_TEST

/* address_literal: the one reading of [addr] for smtpd's syntax check
 * and resolve_local's "is this ours". */
START_TEST(test_literal)
{
    static const struct {
        const char *text, *inner;
        int     family;
    } t[] = {
        {"[127.0.0.1]", "127.0.0.1", AF_INET},
        {"[IPv6:::1]", "::1", AF_INET6},
        {"[ipv6:0::1]", "0::1", AF_INET6},
        {"[IPv6:::ffff:127.0.0.1]", "::ffff:127.0.0.1", AF_INET6},
        {"[127.1]", NULL, 0},                       /* inet_pton's strict form only */
        {"[::1]", NULL, 0},                         /* IPv6 needs its tag */
        {"[IPv6:127.0.0.1]", NULL, 0},
        {"[1.2.3.4", NULL, 0},
        {"[]", NULL, 0},
        {"example.org", NULL, 0},
    };
    char    inner[64];
    size_t  i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        inner[0] = 0;
        ck_assert_msg(address_literal(t[i].text, strlen(t[i].text), inner, sizeof(inner))
                      == t[i].family, "%s", t[i].text);
        if (t[i].inner)
            ck_assert_str_eq(inner, t[i].inner);
    }
    ck_assert_int_eq(address_literal("[IPv6:::1]", 10, inner, 3), 0);     /* does not fit */
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("address");
    TCase  *tc = tcase_create("address");

    tcase_add_loop_test(tc, test_path_table, 0, (int) (sizeof(path_cases) / sizeof(path_cases[0])));
    tcase_add_test(tc, test_8bit_reason);
    tcase_add_test(tc, test_length_limit);
    tcase_add_test(tc, test_long_label);
    tcase_add_test(tc, test_split);
    tcase_add_loop_test(tc, test_externalize, 0,
                        (int) (sizeof(extern_cases) / sizeof(extern_cases[0])));
    tcase_add_test(tc, test_valid_domain);
    tcase_add_test(tc, test_qualify);
    tcase_add_test(tc, test_literal);
    tcase_add_test(tc, test_has_8bit);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
