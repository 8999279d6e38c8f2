/* check_smtpd_cmd - command splitting, ESMTP parameters (SIZE, BODY,
 * SMTPUTF8, RET, ENVID, NOTIFY, ORCPT), xtext, BDAT arguments, the
 * Received: header and the cleanup status replies. */
#include <check.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>

#include "mail_proto.h"
#include "smtpd.h"
#include "testsupport.h"

START_TEST(test_split)
{
    BUF    *verb = buf_alloc(10);
    BUF    *reply = buf_alloc(10);
    const char *args;

    ck_assert_int_eq(smtpd_cmd_split("MAIL FROM:<a@b>", 15, verb, &args, reply), 0);
    ck_assert_str_eq(buf_str(verb), "MAIL");
    ck_assert_str_eq(args, "FROM:<a@b>");
    ck_assert_int_eq(smtpd_cmd_split("  quit  ", 8, verb, &args, reply), 0);
    ck_assert_str_eq(buf_str(verb), "quit");
    ck_assert_str_eq(args, "");
    ck_assert_int_eq(smtpd_cmd_split("", 0, verb, &args, reply), -1);
    ck_assert_str_eq(buf_str(reply), "500 5.5.2 Error: bad syntax");
    ck_assert_int_eq(smtpd_cmd_split("NO\0OP", 5, verb, &args, reply), -1);
    ck_assert_int_eq(smtpd_cmd_split("NOOP\x01", 5, verb, &args, reply), -1);
    ck_assert_int_eq(smtpd_cmd_split("AAAAAAAAAAAAAAAAAAAAAAAAAAAA x", 30, verb, &args, reply), -1);
    ck_assert_str_eq(buf_str(reply), "500 5.5.2 Error: command not recognized");
    buf_free(verb);
    buf_free(reply);
}
END_TEST

START_TEST(test_keyword)
{
    const char *rest;

    ck_assert(smtpd_cmd_keyword("from:<a>", "FROM:", &rest));
    ck_assert_str_eq(rest, "<a>");
    ck_assert(smtpd_cmd_keyword("FROM:   <a>", "FROM:", &rest));
    ck_assert_str_eq(rest, "<a>");
    ck_assert(!smtpd_cmd_keyword("FRM:<a>", "FROM:", &rest));
}
END_TEST

START_TEST(test_mail_params)
{
    SMTPD_MAIL_ARGS a;
    BUF    *reply = buf_alloc(10);

    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=hdrs ENVID=QQ+2B1",
                                       1, &a, reply), 0);
    ck_assert(a.size_given);
    ck_assert_int_eq(a.size, 1000);
    ck_assert_int_eq(a.body, DSN_BODY_8BITMIME);
    ck_assert_int_eq(a.smtputf8, 1);
    ck_assert_int_eq(a.ret, DSN_RET_HDRS);
    ck_assert_str_eq(buf_str(a.envid), "QQ+1");
    smtpd_mail_args_free(&a);

    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("SIZE=99999999999999999999999", 1, &a, reply), 0);
    ck_assert(a.size == LLONG_MAX);
    smtpd_mail_args_free(&a);

    {
        static const struct {
            const char *text;
            const char *reply;
        } bad[] = {
            {"SIZE=12x", "501 5.5.4 Bad message size syntax"},
            {"SIZE=1 SIZE=2", "501 5.5.4 Bad message size syntax"},
            {"BODY=BINARYMIME", "501 5.5.4 Unsupported BODY parameter value"},
            {"RET=ALL", "501 5.5.4 Bad RET parameter syntax"},
            {"ENVID=a+2", "501 5.5.4 Bad ENVID parameter syntax"},
            {"SMTPUTF8=yes", "501 5.5.4 Bad SMTPUTF8 parameter syntax"},
            {"FOO=bar", "555 5.5.4 Unsupported option: FOO"},
            {"=x", "501 5.5.4 Bad parameter syntax"},
        };
        size_t  i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            smtpd_mail_args_init(&a);
            ck_assert_msg(smtpd_mail_params(bad[i].text, 1, &a, reply) == -1, "%s", bad[i].text);
            ck_assert_msg(strcmp(buf_str(reply), bad[i].reply) == 0, "%s: %s", bad[i].text,
                          buf_str(reply));
            smtpd_mail_args_free(&a);
        }
    }
    /* Parameters need EHLO. */
    smtpd_mail_args_init(&a);
    ck_assert_int_eq(smtpd_mail_params("SIZE=10", 0, &a, reply), -1);
    ck_assert_str_eq(buf_str(reply), "555 5.5.4 Unsupported option: SIZE");
    smtpd_mail_args_free(&a);
    buf_free(reply);
}
END_TEST

START_TEST(test_rcpt_params)
{
    SMTPD_RCPT_ARGS a;
    BUF    *reply = buf_alloc(10);
    static const char *const bad[] = {"NOTIFY=NEVER,SUCCESS", "NOTIFY=SOMETIMES", "NOTIFY=",
        "NOTIFY=SUCCESS,", "ORCPT=rfc822", "ORCPT=;a@b", "ORCPT=rfc822;a+0Ab",
    "ORCPT=rfc822;a@b ORCPT=rfc822;c@d", "XYZ"};
    size_t  i;

    smtpd_rcpt_args_init(&a);
    ck_assert_int_eq(smtpd_rcpt_params("NOTIFY=success,DELAY ORCPT=rfc822;a+2Bb@c", 1, &a,
                                       reply), 0);
    ck_assert_int_eq(a.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_DELAY);
    ck_assert_str_eq(buf_str(a.orcpt), "rfc822;a+b@c");
    smtpd_rcpt_args_free(&a);
    smtpd_rcpt_args_init(&a);
    ck_assert_int_eq(smtpd_rcpt_params("NOTIFY=NEVER", 1, &a, reply), 0);
    ck_assert_int_eq(a.notify, DSN_NOTIFY_NEVER);
    smtpd_rcpt_args_free(&a);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smtpd_rcpt_args_init(&a);
        ck_assert_msg(smtpd_rcpt_params(bad[i], 1, &a, reply) == -1, "accepted %s", bad[i]);
        smtpd_rcpt_args_free(&a);
    }
    buf_free(reply);
}
END_TEST

START_TEST(test_bdat_args)
{
    long long size;
    int     last;

    ck_assert_int_eq(smtpd_bdat_args("100", &size, &last), 0);
    ck_assert(size == 100 && last == 0);
    ck_assert_int_eq(smtpd_bdat_args("0 last", &size, &last), 0);
    ck_assert(size == 0 && last == 1);
    ck_assert_int_eq(smtpd_bdat_args("", &size, &last), -1);
    ck_assert_int_eq(smtpd_bdat_args("-1", &size, &last), -1);
    ck_assert_int_eq(smtpd_bdat_args("10 FIRST", &size, &last), -1);
    ck_assert_int_eq(smtpd_bdat_args("10x", &size, &last), -1);
    ck_assert_int_eq(smtpd_bdat_args("1234567890123456789", &size, &last), -1);
}
END_TEST

START_TEST(test_received)
{
    SMTPD_RECEIVED r;
    BUF    *lines[5];
    int     n;
    int     i;

    for (i = 0; i < 5; i++)
        lines[i] = buf_alloc(10);
    memset(&r, 0, sizeof(r));
    r.helo = "client.example\r\nX-Evil: 1";
    r.client_name = "unknown";
    r.client_addr = "::1";
    r.by = "mx.example";
    r.mail_name = "surel";
    r.protocol = smtpd_protocol_name(1, 0, 0, 1);
    r.queue_id = "4Xk9Bc1wFzq7";
    r.rcpt = "u@example.org";
    r.when = 0;
    n = smtpd_received(&r, lines, 4);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(buf_str(lines[0]),
                     "Received: from client.example??X-Evil: 1 (unknown [IPv6:::1])");
    ck_assert_str_eq(buf_str(lines[1]), "\tby mx.example (surel) with UTF8SMTP id 4Xk9Bc1wFzq7");
    ck_assert(strncmp(buf_str(lines[2]), "\tfor <u@example.org>; ", 22) == 0);
    r.rcpt = NULL;
    r.helo = NULL;
    r.client_addr = "192.0.2.1";
    n = smtpd_received(&r, lines, 4);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(buf_str(lines[0]), "Received: from unknown (unknown [192.0.2.1])");
    ck_assert_str_eq(buf_str(lines[1]), "\tby mx.example (surel) with UTF8SMTP id 4Xk9Bc1wFzq7;");
    /* After STARTTLS: the cipher line between "from" and "by". */
    r.tls = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)";
    r.protocol = smtpd_protocol_name(1, 1, 0, 0);
    ck_assert_int_eq(smtpd_received(&r, lines, 3), 0);     /* no room: nothing */
    n = smtpd_received(&r, lines, 4);
    ck_assert_int_eq(n, 4);
    ck_assert_str_eq(buf_str(lines[1]),
                     "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))");
    ck_assert_str_eq(buf_str(lines[2]), "\tby mx.example (surel) with ESMTPS id 4Xk9Bc1wFzq7;");
    /* smtpd_sasl_authenticated_header: Postfix's line after the cipher. */
    r.auth_sender = "alice\tx";
    r.protocol = smtpd_protocol_name(1, 1, 1, 0);
    ck_assert_int_eq(smtpd_received(&r, lines, 4), 0);     /* no room: nothing */
    n = smtpd_received(&r, lines, 5);
    ck_assert_int_eq(n, 5);
    ck_assert_str_eq(buf_str(lines[1]),
                     "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))");
    ck_assert_str_eq(buf_str(lines[2]), "\t(Authenticated sender: alice?x)");
    ck_assert_str_eq(buf_str(lines[3]), "\tby mx.example (surel) with ESMTPSA id 4Xk9Bc1wFzq7;");
    for (i = 0; i < 5; i++)
        buf_free(lines[i]);
}
END_TEST

START_TEST(test_protocol_names)
{
    ck_assert_str_eq(smtpd_protocol_name(0, 0, 0, 0), "SMTP");
    ck_assert_str_eq(smtpd_protocol_name(1, 0, 0, 0), "ESMTP");
    ck_assert_str_eq(smtpd_protocol_name(1, 1, 0, 0), "ESMTPS");
    ck_assert_str_eq(smtpd_protocol_name(1, 0, 1, 0), "ESMTPA");
    ck_assert_str_eq(smtpd_protocol_name(1, 1, 1, 0), "ESMTPSA");
    ck_assert_str_eq(smtpd_protocol_name(1, 1, 1, 1), "UTF8SMTPSA");
}
END_TEST

/* smtpd's reply for every cleanup status is the shared table's (the
 * one local and pickup decide by): reply code, enhanced code, text. */
START_TEST(test_cleanup_stat_reply)
{
    const CLEANUP_STAT_DETAIL *d;
    BUF    *reply = buf_alloc(10);
    char    want[200];
    int     status;

    for (status = -1; status < 128; status++) {
        if (status == 0)
            continue;
        d = cleanup_stat_detail(status);
        smtpd_cleanup_reply(status, "", reply);
        snprintf(want, sizeof(want), "%d %s Error: %s", d->smtp, d->dsn, d->text);
        ck_assert_msg(strcmp(buf_str(reply), want) == 0, "status %d: %s", status, buf_str(reply));
        ck_assert_msg((buf_str(reply)[0] == '5') == cleanup_stat_permanent(status),
                      "status %d: %s", status, buf_str(reply));
    }
    smtpd_cleanup_reply(-1, "", reply);
    ck_assert_str_eq(buf_str(reply), "451 4.3.0 Error: queue file write error");
    smtpd_cleanup_reply(CLEANUP_STAT_HOPS, "", reply);
    ck_assert_str_eq(buf_str(reply), "554 5.4.0 Error: too many hops");
    smtpd_cleanup_reply(CLEANUP_STAT_RCPT, "", reply);
    ck_assert_str_eq(buf_str(reply), "550 5.1.0 Error: no recipients specified");
    buf_free(reply);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("smtpd_cmd");
    TCase  *tc = tcase_create("core");

    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_keyword);
    tcase_add_test(tc, test_mail_params);
    tcase_add_test(tc, test_rcpt_params);
    tcase_add_test(tc, test_bdat_args);
    tcase_add_test(tc, test_received);
    tcase_add_test(tc, test_protocol_names);
    tcase_add_test(tc, test_cleanup_stat_reply);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
