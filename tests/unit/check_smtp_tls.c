/* check_smtp_tls - TLS policy entries (Postfix's smtp_tls_policy_maps syntax). */
#include <check.h>
#include <string.h>

#include "buf.h"
#include "smtp.h"
#include "testsupport.h"

START_TEST(test_policy_parse)
{
    static const struct {
        const char *text;
        int     ok, level;
        const char *protocols, *ciphers, *match, *servername;
    } t[] = {
        {"none", 1, SMTP_TLS_NONE, "", "", "", ""},
        {"may", 1, SMTP_TLS_MAY, "", "", "", ""},
        {"ENCRYPT protocols=>=TLSv1.3 ciphers=high", 1, SMTP_TLS_ENCRYPT, ">=TLSv1.3", "high", "", ""},
        {"verify match=hostname:nexthop", 1, SMTP_TLS_VERIFY, "", "", "hostname:nexthop", ""},
        {"secure match=.example.com servername=mx.example", 1, SMTP_TLS_SECURE, "", "",
         ".example.com", "mx.example"},
        {"dane", 1, SMTP_TLS_DANE, "", "", "", ""},
        {"dane-only", 1, SMTP_TLS_DANE_ONLY, "", "", "", ""},
        {"fingerprint", 1, SMTP_TLS_FINGERPRINT, "", "", "", ""},
        {"", 0, 0, "", "", "", ""},
        {"sometimes", 0, 0, "", "", "", ""},
        {"verify match", 0, 0, "", "", "", ""},
        {"verify tafile=/x", 0, 0, "", "", "", ""},
        {"encrypt ciphers=aaaaaaaaaaaaaaaaaaaaaaaa", 0, 0, "", "", "", ""},
    };
    SMTP_TLS_POLICY p;
    BUF    *why = buf_alloc(64);
    size_t  i;
    int     rc;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        buf_reset(why);
        rc = smtp_tls_policy_parse(t[i].text, &p, why);
        ck_assert_msg((rc == 0) == t[i].ok, "\"%s\": %d %s", t[i].text, rc, buf_str(why));
        if (!t[i].ok) {
            ck_assert_msg(buf_len(why) > 0, "\"%s\": no reason", t[i].text);
            continue;
        }
        ck_assert_msg(p.level == t[i].level && strcmp(p.protocols, t[i].protocols) == 0
                      && strcmp(p.ciphers, t[i].ciphers) == 0 && strcmp(p.match, t[i].match) == 0
                      && strcmp(p.servername, t[i].servername) == 0,
                      "\"%s\": level %d protocols %s ciphers %s match %s servername %s",
                      t[i].text, p.level, p.protocols, p.ciphers, p.match, p.servername);
    }
    ck_assert_str_eq(smtp_tls_level_name(SMTP_TLS_DANE_ONLY), "dane-only");
    buf_free(why);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtp_tls");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_policy_parse);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
