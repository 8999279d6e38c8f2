/* check_bounce_dsn - composition of delivery status notifications: the
 * header, the three parts, the report fields, NOTIFY, and that outside
 * text can neither add header lines nor end a MIME part. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bounce.h"
#include "buf.h"
#include "mail_proto.h"
#include "mem.h"
#include "record.h"
#include "testsupport.h"

#define TEST_ID     "4Xk9Bc1wFzq7"
#define TEST_NOW    1700000000L

static BOUNCE_ENTRY make_entry(BOUNCE_ACTION action, const char *rcpt, const char *orcpt,
                               const char *status, const char *reason)
{
    BOUNCE_ENTRY e;

    memset(&e, 0, sizeof(e));
    e.action = action;
    e.status = (char *) status;
    e.recipient = (char *) rcpt;
    e.orig_rcpt = (char *) rcpt;
    e.dsn_orcpt = (char *) orcpt;
    e.reason = (char *) reason;
    return e;
}

static BOUNCE_INFO make_info(BOUNCE_KIND kind, int ret)
{
    BOUNCE_INFO info;

    memset(&info, 0, sizeof(info));
    info.kind = kind;
    info.queue_id = TEST_ID;
    info.new_id = "4Xk9Bd2wFzq9";
    info.sender = "sender@example.org";
    info.to = "sender@example.org";
    info.envid = "";
    info.ret = ret;
    info.hostname = "mx.example.net";
    info.postmaster = "postmaster";
    info.arrival.tv_sec = TEST_NOW - 60;
    info.now = TEST_NOW;
    info.warn_after = 4 * 3600;
    info.lifetime = 5 * 86400;
    return info;
}

/* original - a small message as content records */
static void original(BOUNCE_TEXT *t, const char *const *lines)
{
    bounce_text_init(t);
    for (; *lines; lines++)
        bounce_text_add(t, REC_TYPE_NORM, *lines, strlen(*lines));
}

static const char *const message[] = {
    "From: sender@example.org", "To: a@example.com", "Subject: hello", "",
    "body line 1", "body line 2", NULL,
};

/* compose - render one notice to text */
static char *compose(const BOUNCE_INFO *info, const BOUNCE_ENTRY *const *e, int n,
                     const BOUNCE_TEXT *orig)
{
    BOUNCE_TEXT out;
    BUF    *text = buf_alloc(1000);
    int     i;

    bounce_text_init(&out);
    bounce_dsn_compose(&out, info, e, n, orig);
    for (i = 0; i < out.count; i++) {
        ck_assert_msg(out.lines[i].len <= 998, "line %d is %lu bytes", i,
                      (unsigned long) out.lines[i].len);
        /* A line of white space only would end a header or a report block
         * for some readers, and continue a field for others. */
        ck_assert_msg(out.lines[i].len == 0 || strspn(out.lines[i].data, " \t") < out.lines[i].len,
                      "line %d is white space only", i);
    }
    bounce_text_render(&out, text);
    bounce_text_free(&out);
    return buf_steal(text);
}

/* has_line - does text hold this exact line? */
static int has_line(const char *text, const char *line)
{
    size_t  len = strlen(line);
    const char *cp = text;

    while ((cp = strstr(cp, line)) != NULL) {
        if ((cp == text || cp[-1] == '\n') && (cp[len] == '\n' || cp[len] == 0))
            return 1;
        cp++;
    }
    return 0;
}

/* header_end - where the notice's own header ends */
static const char *body_of(const char *text)
{
    const char *cp = strstr(text, "\n\n");

    ck_assert_ptr_nonnull(cp);
    return cp + 2;
}

/* boundary_of - the boundary parameter of the top Content-Type */
static char *boundary_of(const char *text)
{
    const char *cp = strstr(text, "boundary=\"");
    const char *end;

    ck_assert_ptr_nonnull(cp);
    cp += 10;
    end = strchr(cp, '"');
    ck_assert_ptr_nonnull(end);
    return xstrndup(cp, (size_t) (end - cp));
}

START_TEST(test_failure_notice)
{
    BOUNCE_ENTRY a = make_entry(BOUNCE_ACT_FAILED, "a@example.com", "rfc822;A@Example.com",
                                "5.1.1", "host mx.example.com[192.0.2.1] said: 550 5.1.1 "
                                "<a@example.com>: no such user (in reply to RCPT TO command)");
    BOUNCE_ENTRY b = make_entry(BOUNCE_ACT_FAILED, "b@example.com", "", "5.2.2",
                                "cannot write mailbox: quota exceeded");
    const BOUNCE_ENTRY *e[] = {&a, &b};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    BOUNCE_TEXT orig;
    BUF    *want = buf_alloc(100);
    char   *text, *boundary;

    info.envid = "ENV-42";
    original(&orig, message);
    text = compose(&info, e, 2, &orig);
    boundary = boundary_of(text);
    /* The notice's own header. */
    ck_assert(has_line(text, "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)"));
    ck_assert(has_line(text, "Subject: Undelivered Mail Returned to Sender"));
    ck_assert(has_line(text, "To: sender@example.org"));
    ck_assert(has_line(text, "Auto-Submitted: auto-replied"));
    ck_assert(has_line(text, "MIME-Version: 1.0"));
    ck_assert(has_line(text, "Content-Type: multipart/report; report-type=delivery-status;"));
    ck_assert(has_line(text, "Message-Id: <20231114221320.4Xk9Bd2wFzq9@mx.example.net>"));
    ck_assert_ptr_nonnull(strstr(text, "\nDate: "));
    /* Part 1: the explanation. */
    ck_assert(has_line(text, "This is the mail system at host mx.example.net."));
    ck_assert_ptr_nonnull(strstr(text, "I'm sorry to have to inform you that your message could not\n"
                                 "be delivered to one or more recipients. It's attached below."));
    ck_assert_ptr_nonnull(strstr(text, "<b@example.com>: cannot write mailbox: quota exceeded"));
    /* Part 2: the report. */
    ck_assert(has_line(text, "Content-Type: message/delivery-status"));
    ck_assert(has_line(text, "Reporting-MTA: dns; mx.example.net"));
    ck_assert(has_line(text, "X-Surel-Queue-ID: " TEST_ID));
    ck_assert(has_line(text, "X-Surel-Sender: rfc822; sender@example.org"));
    ck_assert(has_line(text, "Original-Envelope-Id: ENV-42"));
    ck_assert_ptr_nonnull(strstr(text, "\nArrival-Date: "));
    ck_assert(has_line(text, "Final-Recipient: rfc822; a@example.com"));
    ck_assert(has_line(text, "Original-Recipient: rfc822; A@Example.com"));
    ck_assert(has_line(text, "Action: failed"));
    ck_assert(has_line(text, "Status: 5.1.1"));
    ck_assert(has_line(text, "Remote-MTA: dns; mx.example.com"));
    ck_assert(has_line(text, "Diagnostic-Code: smtp; 550 5.1.1 <a@example.com>: no such user"));
    /* b's reason came from no server: no Remote-MTA for it (one in all). */
    ck_assert_ptr_null(strstr(strstr(text, "Remote-MTA") + 1, "Remote-MTA"));
    ck_assert(has_line(text, "Final-Recipient: rfc822; b@example.com"));
    ck_assert(has_line(text, "Diagnostic-Code: x-unix; cannot write mailbox: quota exceeded"));
    /* b has no ORCPT: exactly one Original-Recipient. */
    ck_assert_ptr_null(strstr(strstr(text, "Original-Recipient") + 1, "Original-Recipient"));
    /* Part 3: the whole message. */
    ck_assert(has_line(text, "Content-Description: Undelivered Message"));
    ck_assert(has_line(text, "Content-Type: message/rfc822"));
    ck_assert(has_line(text, "body line 2"));
    /* Structure: three parts, then the close delimiter last. */
    buf_sprintf(want, "--%s", boundary);
    ck_assert_ptr_nonnull(strstr(body_of(text), buf_str(want)));
    buf_sprintf(want, "--%s--", boundary);
    ck_assert(has_line(text, buf_str(want)));
    buf_putc(want, '\n');
    ck_assert_str_eq(text + strlen(text) - buf_len(want), buf_str(want));
    ck_assert(has_line(text, "Content-Transfer-Encoding: 7bit"));
    bounce_text_free(&orig);
    xfree(boundary);
    xfree(text);
    buf_free(want);
}
END_TEST

START_TEST(test_ret_hdrs_and_no_original)
{
    BOUNCE_ENTRY a = make_entry(BOUNCE_ACT_FAILED, "a@example.com", "", "5.0.0", "550 no");
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_HDRS);
    BOUNCE_TEXT orig;
    static const char *const headers[] = {"From: s@example.org", "Subject: x", NULL};
    char   *text;

    original(&orig, headers);
    text = compose(&info, e, 1, &orig);
    ck_assert(has_line(text, "Content-Type: text/rfc822-headers"));
    ck_assert(has_line(text, "Content-Description: Undelivered Message Headers"));
    ck_assert_ptr_null(strstr(text, "message/rfc822"));
    ck_assert_ptr_null(strstr(text, "Original-Envelope-Id"));
    xfree(text);
    text = compose(&info, e, 1, NULL);
    ck_assert_ptr_null(strstr(text, "rfc822-headers"));
    ck_assert_ptr_null(strstr(text, "It's attached below"));
    bounce_text_free(&orig);
    xfree(text);
}
END_TEST

/* A reason with line ends can add no header line and no report field. */
START_TEST(test_reason_cannot_inject)
{
    BOUNCE_ENTRY a = make_entry(BOUNCE_ACT_FAILED, "a@example.com\nBcc: x@evil", "",
                                "5.0.0", "550 no\r\nSubject: evil\n\nAction: delivered");
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    char   *text;

    text = compose(&info, e, 1, NULL);
    ck_assert_ptr_null(strstr(text, "\nSubject: evil"));
    ck_assert_ptr_null(strstr(text, "\nBcc:"));
    ck_assert_ptr_null(strstr(text, "\nAction: delivered"));
    ck_assert_ptr_nonnull(strstr(text, "Final-Recipient: rfc822; a@example.com?Bcc: x@evil"));
    xfree(text);
}
END_TEST

/* Content lines that start like the boundary force another boundary. */
START_TEST(test_boundary_avoids_content)
{
    BOUNCE_ENTRY a = make_entry(BOUNCE_ACT_FAILED, "a@example.com", "", "5.0.0", "550 no");
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    BOUNCE_TEXT orig;
    BUF    *base = buf_alloc(100);
    BUF    *line = buf_alloc(100);
    char   *text, *boundary;
    int     n;

    /* The first candidates, written into the message, the first one split
     * over two records the way a long line is queued. */
    buf_sprintf(base, "%s.%ld/mx.example.net", TEST_ID, TEST_NOW);
    bounce_text_init(&orig);
    bounce_text_add(&orig, REC_TYPE_NORM, "Subject: trap", 13);
    bounce_text_add(&orig, REC_TYPE_NORM, "", 0);
    bounce_text_add(&orig, REC_TYPE_CONT, "--", 2);
    bounce_text_add(&orig, REC_TYPE_NORM, buf_str(base), buf_len(base));
    for (n = 1; n <= 3; n++) {
        buf_sprintf(line, "--%s.%d=--", buf_str(base), n);
        bounce_text_add(&orig, REC_TYPE_NORM, buf_str(line), buf_len(line));
    }
    text = compose(&info, e, 1, &orig);
    boundary = boundary_of(text);
    ck_assert_str_ne(boundary, buf_str(base));
    buf_sprintf(line, "%s.4=", buf_str(base));
    ck_assert_str_eq(boundary, buf_str(line));
    bounce_text_free(&orig);
    xfree(boundary);
    xfree(text);
    buf_free(base);
    buf_free(line);
}
END_TEST

START_TEST(test_delay_and_success_notices)
{
    BOUNCE_ENTRY d = make_entry(BOUNCE_ACT_DELAYED, "d@example.com", "", "4.4.1",
                                "connect to mx.example.com[192.0.2.1]:25: Connection refused");
    BOUNCE_ENTRY s = make_entry(BOUNCE_ACT_DELIVERED, "s@example.com", "", "2.0.0",
                                "delivered to maildir");
    const BOUNCE_ENTRY *de[] = {&d};
    const BOUNCE_ENTRY *se[] = {&s};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_DELAY, BOUNCE_RET_HDRS);
    char   *text;

    text = compose(&info, de, 1, NULL);
    ck_assert(has_line(text, "Subject: Delayed Mail (still being retried)"));
    ck_assert(has_line(text, "Action: delayed"));
    ck_assert(has_line(text, "Status: 4.4.1"));
    ck_assert_ptr_nonnull(strstr(text, "\nWill-Retry-Until: "));
    ck_assert_ptr_nonnull(strstr(text, "for more than 4 hour(s)"));
    ck_assert_ptr_nonnull(strstr(text, "until it is 5 day(s) old"));
    xfree(text);
    info = make_info(BOUNCE_KIND_SUCCESS, BOUNCE_RET_FULL);
    text = compose(&info, se, 1, NULL);
    ck_assert(has_line(text, "Subject: Successful Mail Delivery Report"));
    ck_assert(has_line(text, "Action: delivered"));
    ck_assert(has_line(text, "Status: 2.0.0"));
    ck_assert_ptr_null(strstr(text, "Will-Retry-Until"));
    xfree(text);
}
END_TEST

START_TEST(test_long_reason_is_folded)
{
    BUF    *reason = buf_alloc(5000);
    BOUNCE_ENTRY a;
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    char   *text;
    int     i;

    buf_puts(reason, "550 ");
    for (i = 0; i < 300; i++)
        buf_puts(reason, "word ");
    for (i = 0; i < 2000; i++)
        buf_putc(reason, 'x');
    a = make_entry(BOUNCE_ACT_FAILED, "a@example.com", "", "5.0.0", buf_str(reason));
    text = compose(&info, e, 1, NULL);          /* compose checks every line <= 998 */
    ck_assert_ptr_nonnull(strstr(text, "\nDiagnostic-Code: smtp; 550 word word"));
    ck_assert_ptr_nonnull(strstr(text, "\n word word"));     /* a folded field */
    xfree(text);
    buf_free(reason);
}
END_TEST

/* A long recipient and a long original recipient (each within smtpd's
 * 1000-byte address limit) used to make one human-readable line of
 * ~1,100 bytes, over RFC 5322's 998 (found by fuzz_bounce_dsn): the
 * "<rcpt> (expanded from <orig>): " opening is folded like the reason. */
START_TEST(test_long_addresses_are_folded)
{
    BUF    *rcpt = buf_alloc(700);
    BUF    *orig = buf_alloc(700);
    BOUNCE_ENTRY a;
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    char   *text;
    int     i;

    for (i = 0; i < 600; i++) {
        buf_putc(rcpt, 'r');
        buf_putc(orig, 'o');
    }
    buf_puts(rcpt, "@example.com");
    buf_puts(orig, "@example.org");
    a = make_entry(BOUNCE_ACT_FAILED, buf_str(rcpt), "", "5.1.1", "user unknown");
    a.orig_rcpt = (char *) buf_str(orig);
    text = compose(&info, e, 1, NULL);          /* compose checks every line <= 998 */
    ck_assert_ptr_nonnull(strstr(text, buf_str(rcpt)));
    ck_assert_ptr_nonnull(strstr(text, buf_str(orig)));
    ck_assert_ptr_nonnull(strstr(text, "(expanded from"));
    ck_assert_ptr_nonnull(strstr(text, "\n    user unknown\n"));
    xfree(text);
    buf_free(rcpt);
    buf_free(orig);
}
END_TEST

/* Values that end in (or hold runs of) spaces used to fold into a
 * continuation line of white space only (found by fuzz_bounce_dsn); compose
 * checks that no line is blank-but-for-spaces. */
START_TEST(test_trailing_spaces_fold_cleanly)
{
    BUF    *reason = buf_alloc(1000);
    BUF    *sender = buf_alloc(1000);
    BOUNCE_ENTRY a;
    const BOUNCE_ENTRY *e[] = {&a};
    BOUNCE_INFO info = make_info(BOUNCE_KIND_FAILURE, BOUNCE_RET_FULL);
    char   *text;
    int     i;

    buf_puts(reason, "550 ");
    for (i = 0; i < 90; i++)
        buf_putc(reason, 'r');
    for (i = 0; i < 200; i++)
        buf_putc(reason, ' ');
    buf_puts(reason, "end");
    for (i = 0; i < 100; i++)
        buf_putc(reason, ' ');
    for (i = 0; i < 80; i++)
        buf_putc(sender, 's');
    buf_puts(sender, "@example.org ");
    info.sender = info.to = buf_str(sender);
    a = make_entry(BOUNCE_ACT_FAILED, "a@example.com", "", "5.0.0", buf_str(reason));
    text = compose(&info, e, 1, NULL);
    ck_assert_ptr_nonnull(strstr(text, "end\n"));
    xfree(text);
    buf_free(reason);
    buf_free(sender);
}
END_TEST

/* bounce_text_add copies exactly len bytes: the data may end right at an
 * unreadable page (it used to read one byte more; found by fuzz_bounce_dsn). */
START_TEST(test_text_add_reads_only_len)
{
    long    page = sysconf(_SC_PAGESIZE);
    char   *mem = mmap(NULL, (size_t) (2 * page), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char   *data;
    BOUNCE_TEXT t;

    ck_assert_ptr_ne(mem, MAP_FAILED);
    ck_assert_int_eq(mprotect(mem + page, (size_t) page, PROT_NONE), 0);
    data = mem + page - 5;
    memcpy(data, "hello", 5);                   /* no NUL: the next byte is unmapped */
    bounce_text_init(&t);
    bounce_text_add(&t, REC_TYPE_NORM, data, 5);
    ck_assert_int_eq(t.count, 1);
    ck_assert_str_eq(t.lines[0].data, "hello");
    bounce_text_free(&t);
    munmap(mem, (size_t) (2 * page));
}
END_TEST

/* NOTIFY: FAILURE (and DELAY) by default, NEVER silences all. */
static const struct notify_case {
    int     notify;
    BOUNCE_ACTION action;
    int     wanted;
} notify_cases[] = {
    {0, BOUNCE_ACT_FAILED, 1},
    {0, BOUNCE_ACT_DELAYED, 1},
    {0, BOUNCE_ACT_DELIVERED, 0},
    {DSN_NOTIFY_NEVER, BOUNCE_ACT_FAILED, 0},
    {DSN_NOTIFY_NEVER, BOUNCE_ACT_DELAYED, 0},
    {DSN_NOTIFY_SUCCESS, BOUNCE_ACT_DELIVERED, 1},
    {DSN_NOTIFY_SUCCESS, BOUNCE_ACT_EXPANDED, 1},
    {DSN_NOTIFY_SUCCESS, BOUNCE_ACT_FAILED, 0},
    {DSN_NOTIFY_FAILURE, BOUNCE_ACT_FAILED, 1},
    {DSN_NOTIFY_FAILURE, BOUNCE_ACT_DELAYED, 0},
    {DSN_NOTIFY_DELAY, BOUNCE_ACT_DELAYED, 1},
    {DSN_NOTIFY_DELAY | DSN_NOTIFY_SUCCESS, BOUNCE_ACT_FAILED, 0},
};

START_TEST(test_notify)
{
    const struct notify_case *c = &notify_cases[_i];

    ck_assert_msg(bounce_notify_wants(c->notify, c->action) == c->wanted,
                  "notify=%d action=%s", c->notify, bounce_action_name(c->action));
}
END_TEST

START_TEST(test_ret_parse)
{
    ck_assert_int_eq(bounce_ret_parse("HDRS"), BOUNCE_RET_HDRS);
    ck_assert_int_eq(bounce_ret_parse("hdrs"), BOUNCE_RET_HDRS);
    ck_assert_int_eq(bounce_ret_parse("FULL"), BOUNCE_RET_FULL);
    ck_assert_int_eq(bounce_ret_parse(""), BOUNCE_RET_FULL);
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("bounce_dsn");
    TCase  *tc = tcase_create("core");

    setenv("TZ", "UTC", 1);
    tcase_add_test(tc, test_failure_notice);
    tcase_add_test(tc, test_ret_hdrs_and_no_original);
    tcase_add_test(tc, test_reason_cannot_inject);
    tcase_add_test(tc, test_boundary_avoids_content);
    tcase_add_test(tc, test_delay_and_success_notices);
    tcase_add_test(tc, test_long_reason_is_folded);
    tcase_add_test(tc, test_long_addresses_are_folded);
    tcase_add_test(tc, test_text_add_reads_only_len);
    tcase_add_test(tc, test_trailing_spaces_fold_cleanly);
    tcase_add_loop_test(tc, test_notify, 0, sizeof(notify_cases) / sizeof(notify_cases[0]));
    tcase_add_test(tc, test_ret_parse);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
