/* check_cleanup_core - cleanup's state machine on in-memory input: header
 * processing, canonical and virtual mapping, checks actions, limits and
 * protocol errors. Each test builds the client's record stream, feeds it
 * to cleanup_input, finishes, and reads back the queue file it committed
 * (verified with qfile_verify first).
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cleanup.h"
#include "config.h"
#include "mail_proto.h"
#include "mem.h"
#include "qfile.h"
#include "record.h"
#include "stream.h"
#include "testsupport.h"

static char *queue_dir;

/* setup - a queue with temp/ incoming/ hold/, and main.cf text on top */
static void setup(const char *main_cf)
{
    static const char *dirs[] = {"temp", "incoming", "hold", "public"};
    BUF    *why = buf_alloc(100);
    size_t  i;

    queue_dir = ts_tempdir();
    for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char   *p = ts_path(queue_dir, dirs[i]);

        ck_assert_int_eq(mkdir(p, 0700), 0);
        xfree(p);
    }
    config_reset();
    config_set("queue_directory", queue_dir);
    config_set("myhostname", "mx.example.org");
    config_set("myorigin", "example.org");
    config_set("mydestination", "example.org, localhost");
    if (main_cf)
        ck_assert_msg(config_parse_text(main_cf, strlen(main_cf), why) == 0, "%s", buf_str(why));
    cleanup_conf_init();
    buf_free(why);
}

/* enc - one client record */
static void enc(BUF *b, int type, const char *data)
{
    size_t  len = strlen(data), left = len;

    buf_putc(b, type);
    do {
        unsigned char ch = left & 0x7f;

        left >>= 7;
        buf_putc(b, ch | (left ? 0x80 : 0));
    } while (left);
    buf_append(b, data, len);
}

/* message - envelope "S sender" then recipients, content lines split at \n */
static void message(BUF *b, const char *sender, const char *rcpts, const char *content)
{
    char   *copy = xstrdup(rcpts), *cp, *r;
    const char *line = content, *nl;

    enc(b, REC_TYPE_FROM, sender);
    for (cp = copy; (r = strsep(&cp, " ")) != NULL;)
        if (*r)
            enc(b, REC_TYPE_RCPT, r);
    xfree(copy);
    enc(b, REC_TYPE_MESG, "");
    while (*line) {
        char   *text;

        nl = strchr(line, '\n');
        text = xstrndup(line, nl ? (size_t) (nl - line) : strlen(line));
        enc(b, REC_TYPE_NORM, text);
        xfree(text);
        line = nl ? nl + 1 : line + strlen(line);
    }
    enc(b, REC_TYPE_XTRA, "");
    enc(b, REC_TYPE_END, "");
}

/* What a submission gave. */
typedef struct RESULT {
    int     status;
    char    reason[300];
    char    id[QUEUE_ID_BUFSZ];
    const char *queue;              /* "incoming", "hold" or NULL: no file */
    BUF    *lines;                  /* content, one line each, '\n' after each */
    BUF    *rcpts;                  /* "orcpt>rcpt" each, ' ' after each */
    BUF    *sender;
    BUF    *attrs;                  /* A records, ' ' after each */
    BUF    *filter;                 /* I records, "X:" after X, ' ' after each */
    long    nrcpt;
    long    warn;                   /* the W record's time, -1: none */
} RESULT;

/* file_exists - queue_dir/sub/id */
static int file_exists(const char *sub, const char *id)
{
    BUF    *p = buf_alloc(100);
    struct stat st;
    int     ret;

    buf_sprintf(p, "%s/%s/%s", queue_dir, sub, id);
    ret = stat(buf_str(p), &st) == 0;
    if (ret)
        ck_assert_int_eq(st.st_mode & 07777, QFILE_MODE_READY);
    buf_free(p);
    return ret;
}

/* count_temp - files left in temp/ */
static int count_temp(void)
{
    char   *p = ts_path(queue_dir, "temp");
    DIR    *d = opendir(p);
    struct dirent *e;
    int     n = 0;

    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    xfree(p);
    return n;
}

/* read_back - verify the committed file and collect what it says */
static void read_back(RESULT *r)
{
    BUF    *path = buf_alloc(100), *why = buf_alloc(100), *data = buf_alloc(100);
    struct stat st;
    QFILE_SUMMARY sum;
    STREAM *s;
    int     fd, type, partial = 0, content = 0, extracted = 0;

    buf_sprintf(path, "%s/%s/%s", queue_dir, r->queue, r->id);
    fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why);
    ck_assert_msg(fd >= 0, "%s", buf_str(why));
    s = stream_fdopen(fd);
    ck_assert_msg(qfile_verify(s, &sum, why) == 0, "qfile_verify: %s", buf_str(why));
    stream_close(s);
    r->nrcpt = sum.sizes.nrcpt;
    fd = open(buf_str(path), O_RDONLY);
    s = stream_fdopen(fd);
    while ((type = rec_get(s, data, REC_LEN_MAX)) > 0) {
        if (type == REC_TYPE_MESG)
            content = 1;
        else if (type == REC_TYPE_XTRA)
            content = 0, extracted = 1;
        else if (content && (type == REC_TYPE_NORM || type == REC_TYPE_CONT)) {
            buf_append(r->lines, buf_str(data), buf_len(data));
            if (type == REC_TYPE_NORM)
                buf_putc(r->lines, '\n');
            partial = type == REC_TYPE_CONT;
        } else if (type == REC_TYPE_ORCP) {
            buf_printf(r->rcpts, "%s>", buf_str(data));
        } else if (type == REC_TYPE_RCPT) {
            buf_printf(r->rcpts, "%s ", buf_str(data));
        } else if (type == REC_TYPE_FROM) {
            buf_set(r->sender, buf_str(data));
        } else if (type == REC_TYPE_ATTR) {
            buf_printf(r->attrs, "%s ", buf_str(data));
        } else if (type == REC_TYPE_WARN) {
            r->warn = atol(buf_str(data));
        } else if (type == REC_TYPE_FILT) {
            buf_printf(r->filter, "%s%s ", extracted ? "X:" : "", buf_str(data));
        }
    }
    ck_assert_int_eq(partial, 0);
    stream_close(s);
    buf_free(path);
    buf_free(why);
    buf_free(data);
}

/* submit - feed the bytes in pieces of `chunk`, finish, look at the result */
static RESULT *submit_bytes(int flags, const BUF *input, size_t chunk)
{
    RESULT *r = xcalloc(1, sizeof(*r));
    BUF    *why = buf_alloc(100);
    CLEANUP_STATE *state = cleanup_open(flags, why);

    r->warn = -1;
    size_t  off = 0;
    int     in = CLEANUP_IN_MORE;

    ck_assert_msg(state != NULL, "cleanup_open: %s", buf_str(why));
    snprintf(r->id, sizeof(r->id), "%s", state->queue_id);
    while (off < buf_len(input) && in == CLEANUP_IN_MORE) {
        size_t  n = buf_len(input) - off < chunk ? buf_len(input) - off : chunk;

        in = cleanup_input(state, buf_str(input) + off, n);
        off += n;
    }
    r->status = cleanup_finish(state);
    snprintf(r->reason, sizeof(r->reason), "%s", buf_str(state->reason));
    cleanup_free(state);
    r->lines = buf_alloc(100);
    r->rcpts = buf_alloc(100);
    r->sender = buf_alloc(100);
    r->attrs = buf_alloc(100);
    r->filter = buf_alloc(100);
    r->queue = file_exists("incoming", r->id) ? "incoming"
        : file_exists("hold", r->id) ? "hold" : NULL;
    if (r->queue)
        read_back(r);
    ck_assert_int_eq(count_temp(), 0);  /* nothing is ever left behind */
    buf_free(why);
    return r;
}

static RESULT *submit(int flags, const char *sender, const char *rcpts, const char *content)
{
    BUF    *b = buf_alloc(1000);
    RESULT *r;

    message(b, sender, rcpts, content);
    r = submit_bytes(flags, b, 7);      /* odd pieces: records split anywhere */
    buf_free(b);
    return r;
}

/* count - occurrences of text in buf */
static int count(const BUF *buf, const char *text)
{
    const char *cp = buf_str(buf);
    int     n = 0;

    while ((cp = strstr(cp, text)) != NULL) {
        n++;
        cp += strlen(text);
    }
    return n;
}

#define HAS(buf, text)  (strstr(buf_str(buf), (text)) != NULL)
#define ALL_FLAGS       (CLEANUP_FLAG_FILTER | CLEANUP_FLAG_MAP_OK)

/* write_table - a table file in the queue folder; returns "type:path" */
static char *write_table(const char *type, const char *name, const char *text)
{
    char   *path = ts_path(queue_dir, name);
    BUF    *spec = buf_alloc(100);

    ts_write_file(path, text);
    buf_sprintf(spec, "%s:%s", type, path);
    xfree(path);
    return buf_steal(spec);
}

/* setup_checks - header_checks/body_checks from pcre text */
static void setup_checks(const char *header_pcre, const char *body_pcre)
{
    BUF    *cf = buf_alloc(200);
    char   *spec;

    setup(NULL);
    if (header_pcre) {
        spec = write_table("pcre", "header_checks", header_pcre);
        buf_printf(cf, "header_checks = %s\n", spec);
        xfree(spec);
    }
    if (body_pcre) {
        spec = write_table("pcre", "body_checks", body_pcre);
        buf_printf(cf, "body_checks = %s\n", spec);
        xfree(spec);
    }
    cleanup_conf_free();
    config_parse_text(buf_str(cf), buf_len(cf), cf);
    cleanup_conf_init();
    buf_free(cf);
}

/* ---------------------------------------------------------------- headers */

START_TEST(test_commit_adds_message_id_and_date)
{
    RESULT *r;
    char    want[200];

    setup(NULL);
    r = submit(0, "a@example.org", "b@example.net", "Subject: hi\n\nbody\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->queue, "incoming");
    snprintf(want, sizeof(want), ".%s@mx.example.org>\n", r->id);
    ck_assert_msg(HAS(r->lines, "Message-Id: <") && HAS(r->lines, want), "%s",
                  buf_str(r->lines));
    ck_assert(HAS(r->lines, "\nDate: "));
    ck_assert(!HAS(r->lines, "From:"));         /* not a local submission */
    ck_assert(HAS(r->lines, "Subject: hi\n"));
    ck_assert(HAS(r->lines, "\n\nbody\n"));
    ck_assert_str_eq(buf_str(r->rcpts), "b@example.net>b@example.net ");
    ck_assert_str_eq(buf_str(r->sender), "a@example.org");
    ck_assert_int_eq(r->nrcpt, 1);
}
END_TEST

START_TEST(test_local_adds_from_with_full_name)
{
    BUF    *b = buf_alloc(200);
    RESULT *r;

    setup(NULL);
    enc(b, REC_TYPE_FULL, "Joe (the) User");
    message(b, "joe", "b@example.net", "Subject: x\n\nhi\n");
    r = submit_bytes(CLEANUP_FLAG_LOCAL, b, 1000);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->sender), "joe@example.org");  /* qualified */
    ck_assert_msg(HAS(r->lines, "From: \"Joe (the) User\" <joe@example.org>\n"), "%s",
                  buf_str(r->lines));
}
END_TEST

START_TEST(test_existing_headers_are_kept_not_doubled)
{
    RESULT *r;

    setup(NULL);
    r = submit(CLEANUP_FLAG_LOCAL, "a@example.org", "b@x",
               "From: Me <a@example.org>\nMessage-ID: <m1@x>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(!HAS(r->lines, "Message-Id:"));
    ck_assert(HAS(r->lines, "Message-ID: <m1@x>\n"));
    ck_assert_int_eq(count(r->lines, "Date:"), 1);
    ck_assert(!HAS(r->lines, "From: a@example.org"));
}
END_TEST

START_TEST(test_resent_headers_get_resent_additions)
{
    RESULT *r;

    setup(NULL);
    r = submit(CLEANUP_FLAG_LOCAL, "a@example.org", "b@x",
               "Message-ID: <m1@x>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nFrom: a@x\n"
               "Resent-To: c@x\n\nbody\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "Resent-Message-Id: <"));
    ck_assert(HAS(r->lines, "Resent-Date: "));
    ck_assert(HAS(r->lines, "Resent-From: a@example.org\n"));
    ck_assert(!HAS(r->lines, "\nMessage-Id: <"));
}
END_TEST

START_TEST(test_dropped_headers)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "a@example.org", "b@x",
               "Return-Path: <evil@x>\nDelivered-To: b@x\nBcc: secret@x\nContent-Length: 5\n"
               "Resent-Bcc: s2@x\nSubject: s\n\nbody\nReturn-Path: in the body stays\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(!HAS(r->lines, "Return-Path: <evil"));
    ck_assert(!HAS(r->lines, "Bcc:"));
    ck_assert(!HAS(r->lines, "Content-Length"));
    ck_assert(HAS(r->lines, "Delivered-To: b@x\n"));        /* loop detection needs it */
    ck_assert(HAS(r->lines, "\nReturn-Path: in the body stays\n"));
}
END_TEST

START_TEST(test_folded_header_kept_and_body_starts_at_non_header)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "a@example.org", "b@x", "Subject: one\n\ttwo\n  three\nnot a header\nX-A: 1\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_msg(HAS(r->lines, "Subject: one\n\ttwo\n  three\n"), "%s", buf_str(r->lines));
    /* Added headers go before the first body line; X-A: is body now. */
    ck_assert(strstr(buf_str(r->lines), "Message-Id:") < strstr(buf_str(r->lines), "not a header"));
    ck_assert(HAS(r->lines, "not a header\nX-A: 1\n"));
}
END_TEST

START_TEST(test_headers_only_message)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "a@example.org", "b@x", "Subject: only\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "Subject: only\nMessage-Id: <"));
}
END_TEST

START_TEST(test_stray_cr_lf_replaced)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "a@example.org", "b@x", "Subject: a\rb\n\nbody\r.\rmore\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "Subject: a b\n"));
    ck_assert(HAS(r->lines, "body . more\n"));
    ck_assert(strchr(buf_str(r->lines), '\r') == NULL);
}
END_TEST

START_TEST(test_long_lines_split_and_verified)
{
    BUF    *content = buf_alloc(30000);
    RESULT *r;
    int     i;

    setup(NULL);
    buf_puts(content, "Subject: long\n\n");
    for (i = 0; i < 20000; i++)
        buf_putc(content, 'a' + i % 26);
    buf_puts(content, "\nend\n");
    r = submit(0, "a@example.org", "b@x", buf_str(content));
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "\nend\n"));            /* read_back joined the pieces */
    ck_assert(memcmp(strstr(buf_str(r->lines), "abcdefghij"), buf_str(content) + 15, 20000) == 0);
    buf_free(content);
}
END_TEST

/* ----------------------------------------------------------------- limits */

START_TEST(test_message_size_limit)
{
    RESULT *r;

    setup("message_size_limit = 100\n");
    r = submit(0, "a@example.org", "b@x",
               "Subject: x\n\n0123456789012345678901234567890123456789\n"
               "0123456789012345678901234567890123456789\n0123456789012345678901234567890123456789\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_SIZE);
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_header_size_limit_truncates)
{
    BUF    *content = buf_alloc(5000);
    RESULT *r;
    int     i;

    setup("header_size_limit = 1024\n");
    buf_puts(content, "X-Big: ");
    for (i = 0; i < 3000; i++)
        buf_putc(content, 'x');
    buf_puts(content, "\nSubject: after\n\nbody\n");
    r = submit(0, "a@example.org", "b@x", buf_str(content));
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "Subject: after\n"));
    ck_assert_int_eq((int) (strchr(buf_str(r->lines), '\n') - buf_str(r->lines)), 1024);
    buf_free(content);
}
END_TEST

START_TEST(test_hopcount_limit)
{
    BUF    *content = buf_alloc(5000);
    RESULT *r;
    int     i;

    setup("hopcount_limit = 5\n");
    for (i = 0; i < 5; i++)
        buf_puts(content, "Received: from x by y\n");
    buf_puts(content, "\nbody\n");
    r = submit(0, "a@example.org", "b@x", buf_str(content));
    ck_assert_int_eq(r->status, 0);                 /* 5 is the limit, not over it */
    buf_set(content, "Received: from z by y\n");
    for (i = 0; i < 5; i++)
        buf_puts(content, "Received: from x by y\n");
    buf_puts(content, "\nbody\n");
    r = submit(0, "a@example.org", "b@x", buf_str(content));
    ck_assert_int_eq(r->status, CLEANUP_STAT_HOPS);
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_no_recipients)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "a@example.org", "", "Subject: x\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_RCPT);
    ck_assert_ptr_null(r->queue);
}
END_TEST

/* -------------------------------------------------------------- protocol */

/* Client streams that break the grammar; each must give BAD and no file. */
static const char *bad_streams[] = {
    "C", "T", "D", "W",                 /* cleanup's own records */
    "R",                                /* a recipient before the sender */
    "SS",                               /* two senders */
    "SRN",                              /* content without M */
    "SRMA",                             /* an attribute in the content */
    "SRMLX",                            /* content ends inside a line */
    "SRMNXR",                           /* a recipient after X */
    "SOOR",                             /* O twice for one recipient */
    "SRnM",                             /* n without its recipient */
    "SZ",                               /* unknown type */
};

START_TEST(test_grammar_errors)
{
    BUF    *b = buf_alloc(100);
    const char *cp;
    RESULT *r;

    setup(NULL);
    for (cp = bad_streams[_i]; *cp; cp++)
        enc(b, *cp, *cp == 'S' || *cp == 'R' || *cp == 'O' ? "u@x" : *cp == 'n' ? "2" : "");
    enc(b, REC_TYPE_END, "");
    r = submit_bytes(0, b, 3);
    ck_assert_msg(r->status == CLEANUP_STAT_BAD, "stream %s: status %d", bad_streams[_i],
                  r->status);
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_good_envelope_records_accepted)
{
    BUF    *b = buf_alloc(300);
    RESULT *r;

    setup(NULL);
    enc(b, REC_TYPE_ATTR, "client_address=192.0.2.1");
    enc(b, REC_TYPE_ATTR, "protocol_name=ESMTP");
    enc(b, REC_TYPE_FROM, "");
    enc(b, REC_TYPE_ORCP, "Orig@x");
    enc(b, REC_TYPE_DSN_ORCPT, "rfc822;orig@x");
    enc(b, REC_TYPE_DSN_NOTIFY, "6");
    enc(b, REC_TYPE_RCPT, "orig@x");
    enc(b, REC_TYPE_RCPT, "second@x");
    enc(b, REC_TYPE_MESG, "");
    enc(b, REC_TYPE_NORM, "Subject: s");
    enc(b, REC_TYPE_XTRA, "");
    enc(b, REC_TYPE_END, "");
    r = submit_bytes(0, b, 1);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->sender), "");
    ck_assert_str_eq(buf_str(r->attrs), "client_address=192.0.2.1 protocol_name=ESMTP ");
    ck_assert_str_eq(buf_str(r->rcpts), "Orig@x>orig@x second@x>second@x ");
}
END_TEST

START_TEST(test_premature_end_leaves_nothing)
{
    BUF    *b = buf_alloc(300);
    RESULT *r;

    setup(NULL);
    message(b, "a@x", "b@x", "Subject: s\n\nbody\n");
    buf_truncate(b, buf_len(b) - 4);    /* lose X and E and a bit more */
    r = submit_bytes(0, b, 5);
    ck_assert_int_eq(r->status, CLEANUP_STAT_BAD);
    ck_assert_ptr_null(r->queue);       /* and submit_bytes checked temp/ */
}
END_TEST

START_TEST(test_bad_length_breaks_stream)
{
    CLEANUP_STATE *state;
    BUF    *why = buf_alloc(100);
    /* S with a length in 6 groups (> 28 bits), and one not in shortest form. */
    static const char too_long[] = {'S', (char) 0x80, (char) 0x80, (char) 0x80, (char) 0x80,
                                    (char) 0x80, 1};
    static const char not_short[] = {'S', (char) 0x81, 0};
    static const char over_max[] = {'S', (char) 0x80, (char) 0x80, 0x10};  /* 256 KiB */

    setup(NULL);
    state = cleanup_open(0, why);
    ck_assert_int_eq(cleanup_input(state, too_long, sizeof(too_long)), CLEANUP_IN_BROKEN);
    ck_assert_int_eq(cleanup_finish(state), CLEANUP_STAT_BAD);
    cleanup_free(state);
    state = cleanup_open(0, why);
    ck_assert_int_eq(cleanup_input(state, not_short, sizeof(not_short)), CLEANUP_IN_BROKEN);
    cleanup_free(state);
    state = cleanup_open(0, why);
    ck_assert_int_eq(cleanup_input(state, over_max, sizeof(over_max)), CLEANUP_IN_BROKEN);
    cleanup_free(state);
    ck_assert_int_eq(count_temp(), 0);
    buf_free(why);
}
END_TEST

/* ----------------------------------------------------------------- checks */

START_TEST(test_reject_default_text)
{
    RESULT *r;

    setup_checks("/^Subject: bad/ REJECT\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: bad stuff\n\nbody\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_CONT);
    ck_assert_str_eq(r->reason, "5.7.1 message content rejected");
    ck_assert_ptr_null(r->queue);
    /* Without CLEANUP_FLAG_FILTER the same message goes through. */
    r = submit(0, "a@x", "b@x", "Subject: bad stuff\n\nbody\n");
    ck_assert_int_eq(r->status, 0);
}
END_TEST

/* submit_filter - a message whose client sent content filter `filter`
 * (NULL: none) */
static RESULT *submit_filter(int flags, const char *filter, const char *content)
{
    BUF    *b = buf_alloc(200);
    RESULT *r;

    if (filter)
        enc(b, REC_TYPE_FILT, filter);
    message(b, "a@x", "b@x", content);
    r = submit_bytes(flags, b, 5);
    buf_free(b);
    return r;
}

/* The content filter: the client's I record, replaced by a header or body
 * FILTER; one I after X, the last one; a value without a colon ignored. */
START_TEST(test_filter_record)
{
    RESULT *r;

    setup_checks("/^Subject: scan/ FILTER smtp:[127.0.0.1]:10025\n"
                 "/^Subject: bad/ FILTER nocolon\n",
                 "/^body-filter/ FILTER lmtp:\n");
    r = submit_filter(ALL_FLAGS, NULL, "Subject: x\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->filter), "");
    r = submit_filter(ALL_FLAGS, "smtp:[10.0.0.1]:25", "Subject: x\n\nb\n");
    ck_assert_str_eq(buf_str(r->filter), "X:smtp:[10.0.0.1]:25 ");
    r = submit_filter(ALL_FLAGS, "smtp:[10.0.0.1]:25", "Subject: scan me\n\nb\n");
    ck_assert_str_eq(buf_str(r->filter), "X:smtp:[127.0.0.1]:10025 ");
    r = submit_filter(ALL_FLAGS, NULL, "Subject: scan\n\nbody-filter\n");
    ck_assert_str_eq(buf_str(r->filter), "X:lmtp: ");    /* body after header: last */
    r = submit_filter(ALL_FLAGS, "smtp:[10.0.0.1]:25", "Subject: bad\n\nb\n");
    ck_assert_str_eq(buf_str(r->filter), "X:smtp:[10.0.0.1]:25 ");
    r = submit_filter(ALL_FLAGS, "nocolon", "Subject: x\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->filter), "");
    /* Without CLEANUP_FLAG_FILTER no checks run; the client's filter stays. */
    r = submit_filter(0, "smtp:", "Subject: scan\n\nb\n");
    ck_assert_str_eq(buf_str(r->filter), "X:smtp: ");
}
END_TEST

START_TEST(test_reject_texts)
{
    RESULT *r;

    setup_checks("/^Subject: five/ REJECT no thanks\n/^Subject: code/ REJECT 5.7.0 go away\n"
                 "/^Subject: four/ REJECT 4.7.1 later\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: five\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_CONT);
    ck_assert_str_eq(r->reason, "5.7.1 no thanks");
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: code\n\nb\n");
    ck_assert_str_eq(r->reason, "5.7.0 go away");
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: four\n\nb\n");
    /* temporary, and marked as a content rejection cleanup has logged */
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER | CLEANUP_STAT_CONT);
    ck_assert(!cleanup_stat_permanent(r->status));
    ck_assert_str_eq(r->reason, "4.7.1 later");
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_folded_header_matched_as_one)
{
    RESULT *r;

    setup_checks("/^Subject: hello\\s+world/ REJECT folded\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: hello\n\tworld\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_CONT);
    ck_assert_str_eq(r->reason, "5.7.1 folded");
}
END_TEST

START_TEST(test_discard)
{
    RESULT *r;

    setup_checks("/^Subject: spam/ DISCARD\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: spam\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->reason, "discarded");
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_hold)
{
    RESULT *r;

    setup_checks("/^Subject: wait/ HOLD\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: wait\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->queue, "hold");
    ck_assert(HAS(r->lines, "Subject: wait\n"));
}
END_TEST

START_TEST(test_warn_ignore_replace_prepend)
{
    RESULT *r;

    setup_checks("/^X-Warn:/ WARN look\n/^X-Drop:/ IGNORE\n"
                 "/^Subject: (.*)/ REPLACE Subject: [tag] $1\n"
                 "/^X-Pre:/ PREPEND X-Added: yes\n/^X-Bad:/ REPLACE not a header\n"
                 "/^X-Ok:/ DUNNO\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x",
               "X-Warn: 1\nX-Drop: 2\nSubject: hi\nX-Pre: 3\nX-Bad: 4\nX-Ok: 5\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(r->queue, "incoming");
    ck_assert(HAS(r->lines, "X-Warn: 1\n"));
    ck_assert(!HAS(r->lines, "X-Drop"));
    ck_assert(HAS(r->lines, "Subject: [tag] hi\n"));
    ck_assert(HAS(r->lines, "X-Added: yes\nX-Pre: 3\n"));
    ck_assert(HAS(r->lines, "X-Bad: 4\n"));        /* a REPLACE that is no header is refused */
    ck_assert(HAS(r->lines, "X-Ok: 5\n"));
}
END_TEST

START_TEST(test_redirect_replaces_recipients)
{
    RESULT *r;

    setup_checks("/^Subject: r/ REDIRECT boss@example.net\n", NULL);
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x c@x", "Subject: r\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "boss@example.net>boss@example.net ");
    ck_assert_int_eq(r->nrcpt, 1);
}
END_TEST

START_TEST(test_body_checks)
{
    RESULT *r;

    setup_checks(NULL, "/^secret/ REPLACE [removed]\n/^drop me/ IGNORE\n/^evil/ REJECT body bad\n");
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x",
               "Subject: secret header untouched\n\nsecret 1\ndrop me\nkeep\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert(HAS(r->lines, "Subject: secret header untouched\n"));
    ck_assert(HAS(r->lines, "\n[removed]\nkeep\n"));
    ck_assert(!HAS(r->lines, "drop me"));
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: s\n\nok\nevil line\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_CONT);
    ck_assert_str_eq(r->reason, "5.7.1 body bad");
}
END_TEST

START_TEST(test_checks_trylater_defers)
{
    RESULT *r;

    setup("header_checks = lmdb:/nonexistent/table\n");
    r = submit(CLEANUP_FLAG_FILTER, "a@x", "b@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
    ck_assert_ptr_null(r->queue);
}
END_TEST

/* ---------------------------------------------------------------- mapping */

START_TEST(test_canonical_envelope_and_headers)
{
    RESULT *r;

    setup("sender_canonical_maps = inline:{joe@example.org=joe.smith@example.org}\n"
          "recipient_canonical_maps = inline:{old@example.net=new@example.net}\n"
          "canonical_maps = inline:{@legacy.example=@example.com}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "joe", "old@example.net carl@legacy.example",
               "From: Joe <joe@example.org>\nTo: old@example.net, \"C\" <carl@legacy.example>\n"
               "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->sender), "joe.smith@example.org");
    ck_assert_str_eq(buf_str(r->rcpts), "old@example.net>new@example.net "
                     "carl@legacy.example>carl@example.com ");
    ck_assert_msg(HAS(r->lines, "From: Joe <joe.smith@example.org>\n"), "%s", buf_str(r->lines));
    ck_assert(HAS(r->lines, "To: new@example.net, \"C\" <carl@example.com>\n"));
    /* Without CLEANUP_FLAG_MAP_OK nothing is mapped. */
    r = submit(0, "joe", "old@example.net", "From: joe@example.org\n\nb\n");
    ck_assert_str_eq(buf_str(r->sender), "joe@example.org");
    ck_assert(HAS(r->lines, "From: joe@example.org\n"));
}
END_TEST

/* submit_from - a message from an SMTP client with these A records */
static RESULT *submit_from(const char *client, const char *proto, const char *content)
{
    BUF    *b = buf_alloc(1000);
    BUF    *a = buf_alloc(100);
    RESULT *r;

    buf_sprintf(a, "client_address=%s", client);
    enc(b, REC_TYPE_ATTR, buf_str(a));
    buf_sprintf(a, "protocol_name=%s", proto);
    enc(b, REC_TYPE_ATTR, buf_str(a));
    message(b, "s@example.net", "r@example.net", content);
    r = submit_bytes(ALL_FLAGS, b, 7);
    buf_free(a);
    buf_free(b);
    return r;
}

/* Header addresses: local context (append_at_myorigin, append_dot_mydomain)
 * for local mail and for local_header_rewrite_clients, none for others. */
START_TEST(test_header_rewrite_contexts)
{
    const char *msg = "From: root (Cron Daemon)\nReply-To: x@host, <>\nSubject: s\n\nb\n";
    RESULT *r;

    setup("append_dot_mydomain = yes\nmydomain = example.com\n"
          "local_header_rewrite_clients = permit_mynetworks, permit_sasl_authenticated, "
          "check_address_map inline:{192.0.2.7=x}\nmynetworks = 192.0.2.0/28\n");
    r = submit(ALL_FLAGS | CLEANUP_FLAG_LOCAL, "joe", "r@example.net", msg);
    ck_assert_msg(HAS(r->lines, "From: root@example.org (Cron Daemon)\n"), "%s",
                  buf_str(r->lines));
    ck_assert(HAS(r->lines, "Reply-To: x@host.example.com, <>\n"));
    ck_assert_str_eq(buf_str(r->sender), "joe@example.org");
    r = submit_from("192.0.2.3", "ESMTP", msg);            /* mynetworks */
    ck_assert(HAS(r->lines, "From: root@example.org (Cron Daemon)\n"));
    r = submit_from("198.51.100.1", "ESMTPSA", msg);       /* authenticated */
    ck_assert(HAS(r->lines, "From: root@example.org (Cron Daemon)\n"));
    r = submit_from("198.51.100.1", "ESMTPS", msg);        /* a stranger */
    ck_assert_msg(HAS(r->lines, "From: root (Cron Daemon)\n"), "%s", buf_str(r->lines));
    ck_assert(HAS(r->lines, "Reply-To: x@host, <>\n"));
    r = submit_from("192.0.2.7", "SMTP", msg);             /* the table */
    ck_assert(HAS(r->lines, "Reply-To: x@host.example.com, <>\n"));
    /* remote_header_rewrite_domain qualifies the stranger's headers. */
    setup("remote_header_rewrite_domain = unknown.invalid\n");
    r = submit_from("198.51.100.1", "ESMTP", msg);
    ck_assert_msg(HAS(r->lines, "From: root@unknown.invalid (Cron Daemon)\n"), "%s",
                  buf_str(r->lines));
    ck_assert(HAS(r->lines, "Reply-To: x@host, <>\n"));
}
END_TEST

/* BCC tables and always_bcc: envelope recipients only, with FILTER only. */
START_TEST(test_bcc_recipients)
{
    RESULT *r;

    setup("always_bcc = archive\n"
          "sender_bcc_maps = inline:{s@example.net=sent@example.org}\n"
          "recipient_bcc_maps = inline:{@example.net=copy@example.org}\n");
    r = submit(ALL_FLAGS, "s@example.net", "r@example.net", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_msg(strcmp(buf_str(r->rcpts), "r@example.net>r@example.net "
                         "copy@example.org>copy@example.org sent@example.org>sent@example.org "
                         "archive@example.org>archive@example.org ") == 0, "%s",
                  buf_str(r->rcpts));
    ck_assert(!HAS(r->lines, "copy@") && !HAS(r->lines, "sent@") && !HAS(r->lines, "archive"));
    r = submit(CLEANUP_FLAG_MAP_OK, "s@example.net", "r@example.net", "Subject: s\n\nb\n");
    ck_assert_str_eq(buf_str(r->rcpts), "r@example.net>r@example.net ");
}
END_TEST

/* masquerade_domains with exceptions and the default classes. */
START_TEST(test_masquerade)
{
    RESULT *r;

    setup("masquerade_domains = !keep.example.com, example.com\n"
          "masquerade_exceptions = root\n");
    r = submit(ALL_FLAGS, "s@a.example.com", "r@b.example.com",
               "From: x@c.example.com, root@c.example.com, k@h.keep.example.com\n"
               "To: y@example.com, z@d.example.com.au\n\nb\n");
    ck_assert_str_eq(buf_str(r->sender), "s@example.com");
    ck_assert_str_eq(buf_str(r->rcpts), "r@b.example.com>r@b.example.com ");
    ck_assert_msg(HAS(r->lines, "From: x@example.com, root@c.example.com, "
                      "k@h.keep.example.com\n"), "%s", buf_str(r->lines));
    ck_assert(HAS(r->lines, "To: y@example.com, z@d.example.com.au\n"));
}
END_TEST

START_TEST(test_canonical_lookup_order_and_extension)
{
    RESULT *r;

    setup("recipient_delimiter = +\n"
          "canonical_maps = inline:{user=local.user, ann@example.net=anna@example.net}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "a@x", "user@example.org user@example.net ann+box@example.net",
               "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    /* "user" matches only in $myorigin/$mydestination; extensions propagate. */
    ck_assert_str_eq(buf_str(r->rcpts), "user@example.org>local.user@example.org "
                     "user@example.net>user@example.net "
                     "ann+box@example.net>anna+box@example.net ");
}
END_TEST

START_TEST(test_canonical_user_form_uses_resolve_local)
{
    RESULT *r;

    /* "Is this domain ours" is resolve_local's answer here too: our own
     * address literals in any spelling and tables in mydestination. */
    setup("mydestination = localhost, inline:{tab.example=x}\n"
          "canonical_maps = inline:{user=local.user}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "a@x",
               "user@[127.0.0.1] user@[IPv6:0::1] user@tab.example user@[192.0.2.99]",
               "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "user@[127.0.0.1]>local.user@example.org "
                     "user@[IPv6:0::1]>local.user@example.org "
                     "user@tab.example>local.user@example.org "
                     "user@[192.0.2.99]>user@[192.0.2.99] ");
}
END_TEST

START_TEST(test_canonical_split_is_split_addr)
{
    RESULT *r;

    /* split_addr: with '-' a delimiter, owner-xxx is no owner + extension;
     * a local part that starts with a delimiter is not split at all. */
    setup("recipient_delimiter = +-\n"
          "canonical_maps = inline:{owner@example.org=boss@example.org,"
          " user@example.org=u@example.net}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "a@x", "owner-list@example.org +user+x@example.org "
               "user-a+b@example.org", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "owner-list@example.org>owner-list@example.org "
                     "+user+x@example.org>+user+x@example.org "
                     "user-a+b@example.org>u-a+b@example.net ");
}
END_TEST

START_TEST(test_virtual_expansion_dedup_self)
{
    RESULT *r;

    setup("virtual_alias_maps = inline:{{list@v.example = a@v.example, b@v.example, list@v.example},"
          " a@v.example=alice@real.example, b@v.example=bob@real.example,"
          " {dup@v.example=alice@real.example, alice@real.example}}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "list@v.example dup@v.example alice@real.example",
               "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts),
                     "list@v.example>alice@real.example list@v.example>bob@real.example "
                     "list@v.example>list@v.example dup@v.example>alice@real.example "
                     "alice@real.example>alice@real.example ");
}
END_TEST

START_TEST(test_duplicates_removed)
{
    RESULT *r;

    setup(NULL);
    r = submit(0, "s@x", "a@x b@x a@x A@X", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    /* Same address and same original address: one copy. A@X has another
     * original address, so it stays (Postfix keeps both). */
    ck_assert_str_eq(buf_str(r->rcpts), "a@x>a@x b@x>b@x A@X>A@X ");
}
END_TEST

START_TEST(test_virtual_limits_defer)
{
    RESULT *r;

    setup("virtual_alias_expansion_limit = 2\n"
          "virtual_alias_maps = inline:{{big@x = a@y, b@y, c@y}, {loop1@x = loop2@x}, {loop2@x = loop1@x}}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "big@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
    ck_assert_str_eq(r->reason, "4.6.0 Alias expansion error");
    ck_assert_ptr_null(r->queue);
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "loop1@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
    ck_assert_ptr_null(r->queue);
}
END_TEST

START_TEST(test_virtual_recursion_limit)
{
    RESULT *r;

    setup("virtual_alias_recursion_limit = 2\n"
          "virtual_alias_maps = inline:{a@x=b@x, b@x=c@x, c@x=d@x}\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "b@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "b@x>d@x ");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "a@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
}
END_TEST

START_TEST(test_map_trylater_defers)
{
    RESULT *r;

    setup("virtual_alias_maps = lmdb:/nonexistent/virtual\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "a@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
    ck_assert_ptr_null(r->queue);
    setup("sender_canonical_maps = lmdb:/nonexistent/canonical\n");
    r = submit(CLEANUP_FLAG_MAP_OK, "s@x", "a@x", "Subject: s\n\nb\n");
    ck_assert_int_eq(r->status, CLEANUP_STAT_DEFER);
}
END_TEST

/* --------------------------------------------------------- delay warnings */

START_TEST(test_delay_warning_record)
{
    RESULT *r;
    struct timeval arrival;

    setup("delay_warning_time = 4h\n");
    r = submit(0, "s@example.org", "a@example.net", "Subject: x\n\nbody\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_int_eq(queue_id_time(r->id, &arrival), 0);
    ck_assert_int_eq(r->warn, (long) arrival.tv_sec + 4 * 3600);
    /* A bounce (sender <>) is never warned about. */
    r = submit(CLEANUP_FLAG_BOUNCE, "", "a@example.net", "Subject: x\n\nbody\n");
    ck_assert_int_eq(r->status, 0);
    ck_assert_int_eq(r->warn, -1);
    /* delay_warning_time = 0 (the default): no record. */
    setup(NULL);
    r = submit(0, "s@example.org", "a@example.net", "Subject: x\n\nbody\n");
    ck_assert_int_eq(r->warn, -1);
}
END_TEST

/* ------------------------------------------------------------ sendmail -t */

START_TEST(test_extract_recipients)
{
    BUF    *b = buf_alloc(300);
    RESULT *r;

    setup(NULL);
    message(b, "me", "", "To: a@x, B <b@x>\nCc: c@x\nBcc: d@x\nSubject: s\n\nbody\n");
    r = submit_bytes(CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_EXTRACT, b, 1000);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "a@x>a@x b@x>b@x c@x>c@x d@x>d@x ");
    ck_assert(!HAS(r->lines, "Bcc"));
    ck_assert(!HAS(r->attrs, "extract"));           /* never queued */
    /* Resent- headers present: only Resent-To/Cc/Bcc count. */
    buf_reset(b);
    message(b, "me", "", "To: a@x\nResent-To: r@x\nResent-Bcc: rb@x\n\nbody\n");
    r = submit_bytes(CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_EXTRACT, b, 1000);
    ck_assert_str_eq(buf_str(r->rcpts), "r@x>r@x rb@x>rb@x ");
    /* Header recipients pass postdrop's strict syntax or are skipped. */
    buf_reset(b);
    message(b, "me", "", "To: \"a\033[2J\"@x, -oQ/tmp@x, ok@x\n\nbody\n");
    r = submit_bytes(CLEANUP_FLAG_LOCAL | CLEANUP_FLAG_EXTRACT, b, 1000);
    ck_assert_int_eq(r->status, 0);
    ck_assert_str_eq(buf_str(r->rcpts), "ok@x>ok@x ");
    /* Not a local submission: the request is ignored (no recipients). */
    buf_reset(b);
    message(b, "me", "", "To: a@x\n\nbody\n");
    r = submit_bytes(CLEANUP_FLAG_EXTRACT, b, 1000);
    ck_assert_int_eq(r->status, CLEANUP_STAT_RCPT);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("cleanup_core");
    TCase  *tc = tcase_create("headers");
    TCase  *tl = tcase_create("limits");
    TCase  *tp = tcase_create("protocol");
    TCase  *tk = tcase_create("checks");
    TCase  *tm = tcase_create("mapping");

    tcase_add_test(tc, test_commit_adds_message_id_and_date);
    tcase_add_test(tc, test_filter_record);
    tcase_add_test(tc, test_local_adds_from_with_full_name);
    tcase_add_test(tc, test_existing_headers_are_kept_not_doubled);
    tcase_add_test(tc, test_resent_headers_get_resent_additions);
    tcase_add_test(tc, test_dropped_headers);
    tcase_add_test(tc, test_folded_header_kept_and_body_starts_at_non_header);
    tcase_add_test(tc, test_headers_only_message);
    tcase_add_test(tc, test_stray_cr_lf_replaced);
    tcase_add_test(tc, test_long_lines_split_and_verified);
    tcase_add_test(tc, test_extract_recipients);
    tcase_add_test(tc, test_delay_warning_record);
    tcase_add_test(tl, test_message_size_limit);
    tcase_add_test(tl, test_header_size_limit_truncates);
    tcase_add_test(tl, test_hopcount_limit);
    tcase_add_test(tl, test_no_recipients);
    tcase_add_loop_test(tp, test_grammar_errors, 0, sizeof(bad_streams) / sizeof(bad_streams[0]));
    tcase_add_test(tp, test_good_envelope_records_accepted);
    tcase_add_test(tp, test_premature_end_leaves_nothing);
    tcase_add_test(tp, test_bad_length_breaks_stream);
    tcase_add_test(tk, test_reject_default_text);
    tcase_add_test(tk, test_reject_texts);
    tcase_add_test(tk, test_folded_header_matched_as_one);
    tcase_add_test(tk, test_discard);
    tcase_add_test(tk, test_hold);
    tcase_add_test(tk, test_warn_ignore_replace_prepend);
    tcase_add_test(tk, test_redirect_replaces_recipients);
    tcase_add_test(tk, test_body_checks);
    tcase_add_test(tk, test_checks_trylater_defers);
    tcase_add_test(tm, test_canonical_envelope_and_headers);
    tcase_add_test(tm, test_canonical_lookup_order_and_extension);
    tcase_add_test(tm, test_canonical_user_form_uses_resolve_local);
    tcase_add_test(tm, test_canonical_split_is_split_addr);
    tcase_add_test(tm, test_virtual_expansion_dedup_self);
    tcase_add_test(tm, test_duplicates_removed);
    tcase_add_test(tm, test_virtual_limits_defer);
    tcase_add_test(tm, test_virtual_recursion_limit);
    tcase_add_test(tm, test_map_trylater_defers);
    tcase_add_test(tm, test_header_rewrite_contexts);
    tcase_add_test(tm, test_bcc_recipients);
    tcase_add_test(tm, test_masquerade);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, tk);
    suite_add_tcase(s, tm);
    return ts_run_suite(s);
}
