/* check_milter - the milter packet codec, and the client against a scripted filter.
 *
 * The scripted filter is a child process on a UNIX socket: it writes its
 * whole script of replies at once, then records every byte the client
 * sends until EOF, so each test can check both what the client did with
 * the replies and exactly which packets it sent (and which it did not).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "mem.h"
#include "milter.h"
#include "testsupport.h"

START_TEST(test_pkt_round_trip)
{
    BUF    *out = buf_alloc(16), *d = buf_alloc(16);
    MILTER_PKT p;
    const char *s;
    uint32_t v;
    size_t  len;
    int     cmd;

    milter_pkt_put_u32(d, 0x01020304);
    milter_pkt_put_str(d, "name");
    milter_pkt_put_str(d, "");
    milter_pkt_put(out, SMFIR_INSHEADER, buf_str(d), buf_len(d));
    ck_assert_int_eq(buf_len(out), 5 + 4 + 5 + 1);
    ck_assert_int_eq(milter_pkt_head((unsigned char *) buf_str(out), &cmd, &len), 0);
    ck_assert_int_eq(cmd, 'i');
    ck_assert_int_eq(len, buf_len(d));
    milter_pkt_init(&p, buf_str(out) + 5, len);
    ck_assert_int_eq(milter_pkt_get_u32(&p, &v), 0);
    ck_assert_uint_eq(v, 0x01020304);
    ck_assert_int_eq(milter_pkt_get_str(&p, &s), 0);
    ck_assert_str_eq(s, "name");
    ck_assert_int_eq(milter_pkt_get_str(&p, &s), 0);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(milter_pkt_left(&p), 0);
    /* Past the end: refused, never read. */
    ck_assert_int_eq(milter_pkt_get_str(&p, &s), -1);
    ck_assert_int_eq(milter_pkt_get_u32(&p, &v), -1);
    buf_free(out);
    buf_free(d);
}
END_TEST

START_TEST(test_pkt_bounds)
{
    unsigned char zero[5] = {0, 0, 0, 0, 'c'};
    unsigned char huge[5] = {0xff, 0xff, 0xff, 0xff, 'b'};
    unsigned char over[5] = {0, 0x10, 0x00, 0x41, 'b'};        /* 1 MiB + 65 */
    unsigned char one[5] = {0, 0, 0, 1, 'c'};
    MILTER_PKT p;
    const char *s;
    uint32_t v;
    size_t  len;
    int     cmd;

    ck_assert_int_eq(milter_pkt_head(zero, &cmd, &len), -1);
    ck_assert_int_eq(milter_pkt_head(huge, &cmd, &len), -1);
    ck_assert_int_eq(milter_pkt_head(over, &cmd, &len), -1);
    ck_assert_int_eq(milter_pkt_head(one, &cmd, &len), 0);
    ck_assert_int_eq(len, 0);
    /* A string without its NUL and a short number are refused. */
    milter_pkt_init(&p, "abc", 3);
    ck_assert_int_eq(milter_pkt_get_str(&p, &s), -1);
    milter_pkt_init(&p, "abc", 3);
    ck_assert_int_eq(milter_pkt_get_u32(&p, &v), -1);
}
END_TEST

START_TEST(test_reply_text)
{
    ck_assert_int_eq(milter_reply_ok("550 5.7.1 go away"), 0);
    ck_assert_int_eq(milter_reply_ok("451 4.7.1 later"), 0);
    ck_assert_int_eq(milter_reply_ok("550"), 0);
    ck_assert_int_eq(milter_reply_ok("550-5.7.1 one\r\n550 5.7.1 two"), 0);
    ck_assert_int_eq(milter_reply_ok("250 ok"), -1);
    ck_assert_int_eq(milter_reply_ok("55x no"), -1);
    ck_assert_int_eq(milter_reply_ok("550x"), -1);
    ck_assert_int_eq(milter_reply_ok("550 a\r\n550 b"), -1);     /* ' ' not last */
    ck_assert_int_eq(milter_reply_ok("550-a\r\n450 b"), -1);     /* code class changes */
    ck_assert_int_eq(milter_reply_ok("550 a\nRCPT TO:<x>"), -1); /* bare LF injection */
    ck_assert_int_eq(milter_reply_ok(""), -1);
}
END_TEST

START_TEST(test_list_parse)
{
    MILTER_SETTINGS set = {5, 5, 5, 6, MILTER_DEF_TEMPFAIL, {0}};
    BUF    *why = buf_alloc(32);
    MILTERS *ms;

    ms = milters_create("inet:127.0.0.1:8891, unix:/run/x.sock "
                        "{ inet:[::1]:10, default_action=accept, command_timeout=10s }",
                        &set, why);
    ck_assert_ptr_nonnull(ms);
    ck_assert_int_eq(milters_count(ms), 3);
    milters_free(ms);
    ck_assert_ptr_null(milters_create("tcp:1.2.3.4:5", &set, why));
    ck_assert_ptr_null(milters_create("{ inet:h:1, default_action=maybe }", &set, why));
    ck_assert_ptr_null(milters_create("{ inet:h:1, nosuch=1 }", &set, why));
    ck_assert_ptr_null(milters_create("inet:h:1 { inet:h:2, default_action=accept", &set, why));
    ck_assert_ptr_null(milters_create("inet:h:1, bogus", &set, NULL));
    ms = milters_create("", &set, why);
    ck_assert_int_eq(milters_count(ms), 0);
    milters_free(ms);
    buf_free(why);
}
END_TEST

/* ---- The scripted filter. */

typedef struct FAKE {
    char   *endpoint;               /* unix:path */
    pid_t   pid;
    int     pipe_rd;                /* what the client sent */
} FAKE;

static void fake_start(FAKE *f, const BUF *script, int close_after)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "milter.sock");
    struct sockaddr_un sun;
    int     lfd, pfd[2];

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(lfd, 5), 0);
    ck_assert_int_eq(pipe(pfd), 0);
    f->endpoint = xmalloc(strlen(path) + 6);
    sprintf(f->endpoint, "unix:%s", path);
    if ((f->pid = fork()) == 0) {
        int     fd = accept(lfd, NULL, NULL);
        char    b[4096];
        ssize_t n;

        close(pfd[0]);
        if (write(fd, buf_str(script), buf_len(script)) < 0)
            _exit(1);
        if (close_after) {
            close(fd);
            _exit(0);
        }
        while ((n = read(fd, b, sizeof(b))) > 0)
            if (write(pfd[1], b, (size_t) n) != n)
                _exit(1);
        _exit(0);
    }
    close(lfd);
    close(pfd[1]);
    f->pipe_rd = pfd[0];
    xfree(path);
    xfree(dir);
}

/* A filter that answers like a real one: reply group k (a BUF of
 * packets) goes out only after the k-th command that is not a macro
 * packet, so nothing waits in the client's read-ahead. */
static void fake_start_paced(FAKE *f, BUF **groups, int ngroups)
{
    char   *dir = ts_tempdir();
    char   *path = ts_path(dir, "milter.sock");
    struct sockaddr_un sun;
    int     lfd, pfd[2];

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sun, sizeof(sun)), 0);
    ck_assert_int_eq(listen(lfd, 5), 0);
    ck_assert_int_eq(pipe(pfd), 0);
    f->endpoint = xmalloc(strlen(path) + 6);
    sprintf(f->endpoint, "unix:%s", path);
    if ((f->pid = fork()) == 0) {
        int     fd = accept(lfd, NULL, NULL), k = 0;
        unsigned char head[5];
        char    b[65536];

        close(pfd[0]);
        for (;;) {
            int     cmd;
            size_t  len;

            if (read(fd, head, 5) != 5 || milter_pkt_head(head, &cmd, &len) < 0
                || len > sizeof(b) || (len > 0 && recv(fd, b, len, MSG_WAITALL) != (ssize_t) len))
                break;
            if (write(pfd[1], head, 5) != 5 || write(pfd[1], b, len) != (ssize_t) len)
                _exit(1);
            if (cmd != SMFIC_MACRO && cmd != SMFIC_QUIT && cmd != SMFIC_ABORT && k < ngroups) {
                if (write(fd, buf_str(groups[k]), buf_len(groups[k])) < 0)
                    _exit(1);
                k++;
            }
        }
        _exit(0);
    }
    close(lfd);
    close(pfd[1]);
    f->pipe_rd = pfd[0];
    xfree(path);
    xfree(dir);
}

/* Everything the client sent, after it closed. */
static BUF *fake_finish(FAKE *f)
{
    BUF    *got = buf_alloc(256);
    char    b[4096];
    ssize_t n;
    int     status;

    while ((n = read(f->pipe_rd, b, sizeof(b))) > 0)
        buf_append(got, b, (size_t) n);
    close(f->pipe_rd);
    waitpid(f->pid, &status, 0);
    xfree(f->endpoint);
    return (got);
}

/* The command bytes of the packets in a byte stream, "D" macros included. */
static void packet_cmds(const BUF *got, BUF *cmds)
{
    size_t  pos = 0;

    buf_reset(cmds);
    while (pos + 5 <= buf_len(got)) {
        int     cmd;
        size_t  len;

        ck_assert_int_eq(milter_pkt_head((unsigned char *) buf_str(got) + pos, &cmd, &len), 0);
        buf_putc(cmds, cmd);
        pos += 5 + len;
    }
    ck_assert_int_eq(pos, buf_len(got));
}

static void put_optneg(BUF *script, uint32_t actions, uint32_t proto)
{
    BUF    *d = buf_alloc(16);

    milter_pkt_put_u32(d, 6);
    milter_pkt_put_u32(d, actions);
    milter_pkt_put_u32(d, proto);
    milter_pkt_put(script, SMFIC_OPTNEG, buf_str(d), buf_len(d));
    buf_free(d);
}

static const char *macro_fn(void *ctx, const char *name)
{
    (void) ctx;
    if (strcmp(name, "j") == 0)
        return ("mx.example");
    if (strcmp(name, "i") == 0)
        return ("QID123");
    return (NULL);
}

static MILTER_SETTINGS test_set = {5, 5, 5, 6, MILTER_DEF_TEMPFAIL,
    {"j {daemon_name}", "", "i", "i", "i", "i", "i", ""}};

START_TEST(test_client_steps)
{
    BUF    *script = buf_alloc(256), *reply = buf_alloc(64), *why = buf_alloc(64);
    BUF    *cmds = buf_alloc(32), *got;
    const char *args[] = {"SIZE=10", NULL};
    MILTERS *ms;
    FAKE    f;

    /* No HELO, no reply to RCPT; continue, replycode at MAIL. */
    put_optneg(script, SMFIF_ADDHDRS, SMFIP_NOHELO | SMFIP_NR_RCPT);
    milter_pkt_put(script, SMFIR_PROGRESS, NULL, 0);
    milter_pkt_put(script, SMFIR_CONTINUE, NULL, 0);
    milter_pkt_put(script, SMFIR_REPLYCODE, "550 5.7.1 not you", 18);
    milter_pkt_put(script, SMFIR_TEMPFAIL, NULL, 0);
    fake_start(&f, script, 0);
    ms = milters_create(f.endpoint, &test_set, why);
    ck_assert_ptr_nonnull(ms);
    milters_set_macros(ms, macro_fn, NULL);
    ck_assert_int_eq(milters_connect(ms, "client.example", '4', "192.0.2.1", 25, reply),
                     MILTER_CONTINUE);
    ck_assert_int_eq(milters_helo(ms, "client.example", reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_mail(ms, "a@b", args, reply), MILTER_REJECT);
    ck_assert_str_eq(buf_str(reply), "550 5.7.1 not you");
    milters_abort(ms);
    ck_assert_int_eq(milters_mail(ms, "c@d", NULL, reply), MILTER_REJECT);
    ck_assert_str_eq(buf_str(reply), "451 4.7.1 Service unavailable - try again later");
    ck_assert_int_eq(milters_rcpt(ms, "e@f", NULL, reply), MILTER_CONTINUE);
    milters_free(ms);
    got = fake_finish(&f);
    packet_cmds(got, cmds);
    /* OPTNEG, macros+CONNECT, (no HELO), macros+MAIL, ABORT, macros+MAIL,
     * macros+RCPT (no reply read), QUIT. */
    ck_assert_str_eq(buf_str(cmds), "ODCDMADMDRQ");
    ck_assert_ptr_nonnull(memmem(buf_str(got), buf_len(got), "j\0mx.example\0", 14));
    ck_assert_ptr_nonnull(memmem(buf_str(got), buf_len(got), "<a@b>\0SIZE=10\0", 14));
    ck_assert_ptr_nonnull(memmem(buf_str(got), buf_len(got), "client.example\0" "4\0\031" "192.0.2.1", 27));
    buf_free(got);
    buf_free(cmds);
    buf_free(script);
    buf_free(reply);
    buf_free(why);
}
END_TEST

/* Records the edits as text lines. */
static int e_add(void *ctx, const char *n, const char *v)
{
    buf_printf(ctx, "add %s=%s\n", n, v);
    return (0);
}

static int e_ins(void *ctx, long i, const char *n, const char *v)
{
    buf_printf(ctx, "ins %ld %s=%s\n", i, n, v);
    return (0);
}

static int e_chg(void *ctx, long i, const char *n, const char *v)
{
    buf_printf(ctx, "chg %ld %s=%s\n", i, n, v);
    return (0);
}

static int e_body(void *ctx, int first, const char *d, size_t len)
{
    buf_printf(ctx, "body %d %.*s\n", first, (int) len, d);
    return (0);
}

static int e_addr(void *ctx, const char *r, const char *a)
{
    buf_printf(ctx, "addrcpt %s %s\n", r, a);
    return (0);
}

static int e_del(void *ctx, const char *r)
{
    buf_printf(ctx, "delrcpt %s\n", r);
    return (0);
}

static int e_from(void *ctx, const char *r, const char *a)
{
    buf_printf(ctx, "chgfrom %s %s\n", r, a);
    return (0);
}

START_TEST(test_client_eom_edits)
{
    BUF    *script = buf_alloc(256), *reply = buf_alloc(64), *why = buf_alloc(64);
    BUF    *log = buf_alloc(256), *cmds = buf_alloc(32), *d = buf_alloc(64), *got;
    MILTER_EDITS e = {log, e_add, e_ins, e_chg, e_body, e_addr, e_del, e_from, NULL};
    MILTERS *ms;
    FAKE    f;
    int     i;

    put_optneg(script, SMFIF_ALL, SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT
               | SMFIP_NODATA | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY);
    milter_pkt_put(script, SMFIR_ADDHEADER, "X-A\0one", 8);
    milter_pkt_put_u32(d, 0);
    buf_append(d, "X-B\0two", 8);
    milter_pkt_put(script, SMFIR_INSHEADER, buf_str(d), buf_len(d));
    buf_reset(d);
    milter_pkt_put_u32(d, 2);
    buf_append(d, "Subject\0", 9);
    milter_pkt_put(script, SMFIR_CHGHEADER, buf_str(d), buf_len(d));
    milter_pkt_put(script, SMFIR_REPLBODY, "new\r\n", 5);
    milter_pkt_put(script, SMFIR_REPLBODY, "body\r\n", 6);
    milter_pkt_put(script, SMFIR_ADDRCPT_PAR, "<x@y>\0NOTIFY=NEVER", 19);
    milter_pkt_put(script, SMFIR_ADDRCPT, "<z@y>", 6);
    milter_pkt_put(script, SMFIR_DELRCPT, "<old@y>", 8);
    milter_pkt_put(script, SMFIR_CHGFROM, "<new@y>", 8);
    milter_pkt_put(script, SMFIR_QUARANTINE, "looks odd", 10);
    milter_pkt_put(script, SMFIR_ACCEPT, NULL, 0);
    fake_start(&f, script, 0);
    ms = milters_create(f.endpoint, &test_set, why);
    milters_set_macros(ms, macro_fn, NULL);
    ck_assert_int_eq(milters_connect(ms, "h", 'L', NULL, 0, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_mail(ms, "a@b", NULL, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_rcpt(ms, "old@y", NULL, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_data(ms, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_header(ms, "Subject", " hi", reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_eoh(ms, reply), MILTER_CONTINUE);
    /* 70,000 bytes of body: two chunks, each at most 65,535. */
    for (i = 0; i < 1000; i++)
        ck_assert_int_eq(milters_body_line(ms, "0123456789012345678901234567890123456789"
                                           "012345678901234567890123456789012345678",
                                           68, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_eom(ms, &e, reply), MILTER_CONTINUE);
    ck_assert_str_eq(milters_quarantine(ms), "looks odd");
    ck_assert_str_eq(buf_str(log), "add X-A=one\nins 0 X-B=two\nchg 2 Subject=\n"
                     "body 1 new\r\n\nbody 0 body\r\n\naddrcpt <x@y> NOTIFY=NEVER\n"
                     "addrcpt <z@y> \ndelrcpt <old@y>\nchgfrom <new@y> \n");
    milters_free(ms);
    got = fake_finish(&f);
    packet_cmds(got, cmds);
    /* Only what the filter wanted: header, EOH, two body chunks, EOM. */
    ck_assert_str_eq(buf_str(cmds), "OLDNBBDEQ");
    /* The leading space is stripped (no SMFIP_HDR_LEADSPC). */
    ck_assert_ptr_nonnull(memmem(buf_str(got), buf_len(got), "Subject\0hi\0", 11));
    buf_free(got);
    buf_free(cmds);
    buf_free(d);
    buf_free(log);
    buf_free(script);
    buf_free(reply);
    buf_free(why);
}
END_TEST

/* ---- Handing the sessions over (smtpd -> cleanup). */

static int h_add(void *ctx, const char *n, const char *v)
{
    buf_printf((BUF *) ctx, "add %s=%s\n", n, v);
    return (0);
}

START_TEST(test_handover)
{
    BUF    *reply = buf_alloc(64), *why = buf_alloc(64);
    BUF    *cmds = buf_alloc(32), *log = buf_alloc(64), *blob = buf_alloc(256), *got;
    BUF    *g[6];
    MILTERS *ms, *ms2 = NULL;
    MILTERS_RECV *r;
    MILTER_EDITS e;
    int     sv[2], fds[4], n, step, len, i;
    FAKE    f;

    for (i = 0; i < 6; i++)
        g[i] = buf_alloc(32);
    put_optneg(g[0], SMFIF_ADDHDRS, 0);
    milter_pkt_put(g[1], SMFIR_CONTINUE, NULL, 0);         /* connect */
    milter_pkt_put(g[2], SMFIR_CONTINUE, NULL, 0);         /* MAIL */
    milter_pkt_put(g[3], SMFIR_CONTINUE, NULL, 0);         /* header */
    milter_pkt_put(g[4], SMFIR_CONTINUE, NULL, 0);         /* EOH */
    milter_pkt_put(g[5], SMFIR_ADDHEADER, "X-A\0v\0", 6);
    milter_pkt_put(g[5], SMFIR_CONTINUE, NULL, 0);         /* EOM */
    fake_start_paced(&f, g, 6);
    ms = milters_create(f.endpoint, &test_set, why);
    milters_set_macros(ms, macro_fn, NULL);
    ck_assert_int_eq(milters_connect(ms, "c.example", '4', "192.0.2.1", 25, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_mail(ms, "a@b", NULL, reply), MILTER_CONTINUE);

    /* Every truncation of the description is refused, never read past. */
    n = milters_export(ms, blob, fds, 4);
    ck_assert_int_eq(n, 1);
    for (len = 0; len < (int) buf_len(blob); len++) {
        int     dupfd = dup(fds[0]);

        ck_assert_ptr_null(milters_import(buf_str(blob), (size_t) len, &dupfd, 1, why));
    }

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(milters_send(ms, sv[0], why), 0);
    r = milters_recv_create();
    for (step = 0; (n = milters_recv_step(r, sv[1], &ms2, why)) == 0 && step < 100; step++)
         /* more */ ;
    ck_assert_int_eq(n, 1);
    milters_recv_free(r);
    ck_assert_int_eq(milters_count(ms2), 1);
    ck_assert_str_eq(milters_macro_copy(ms2, "i"), "QID123");  /* evaluated by the sender */
    ck_assert_ptr_null(milters_macro_copy(ms2, "j"));
    milters_set_macros(ms2, macro_fn, NULL);
    ck_assert_int_eq(milters_header(ms2, "Subject", " one\ntwo", reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_eoh(ms2, reply), MILTER_CONTINUE);
    memset(&e, 0, sizeof(e));
    e.ctx = log;
    e.add_header = h_add;
    ck_assert_int_eq(milters_eom(ms2, &e, reply), MILTER_CONTINUE);
    ck_assert_str_eq(buf_str(log), "add X-A=v\n");
    milters_free(ms2);                  /* the receiver never QUITs */
    milters_message_done(ms);           /* nor does the sender ABORT */
    milters_abort(ms);
    milters_free(ms);
    close(sv[0]);
    close(sv[1]);
    got = fake_finish(&f);
    packet_cmds(got, cmds);
    ck_assert_str_eq(buf_str(cmds), "ODCDMLDNDEQ");
    /* The folded value goes with CRLF, the blank after the colon without. */
    ck_assert_ptr_nonnull(memmem(buf_str(got), buf_len(got), "Subject\0one\r\ntwo\0", 17));
    buf_free(got);
    buf_free(cmds);
    buf_free(log);
    buf_free(blob);
    for (i = 0; i < 6; i++)
        buf_free(g[i]);
    buf_free(reply);
    buf_free(why);
}
END_TEST

START_TEST(test_client_failures)
{
    BUF    *script = buf_alloc(256), *reply = buf_alloc(64), *why = buf_alloc(64), *got;
    MILTER_SETTINGS accept_set = test_set;
    unsigned char bad[5] = {0x7f, 0, 0, 0, 'c'};
    MILTERS *ms;
    FAKE    f;

    /* The filter dies after negotiating: tempfail, now and later. */
    put_optneg(script, 0, 0);
    fake_start(&f, script, 1);
    ms = milters_create(f.endpoint, &test_set, why);
    ck_assert_int_eq(milters_connect(ms, "h", 'L', NULL, 0, reply), MILTER_REJECT);
    ck_assert_str_eq(buf_str(reply), "451 4.3.5 Server configuration problem - try again later");
    ck_assert_int_eq(milters_mail(ms, "a@b", NULL, reply), MILTER_REJECT);
    milters_free(ms);
    buf_free(fake_finish(&f));

    /* A huge length: refused, no allocation; default_action=accept. */
    buf_reset(script);
    put_optneg(script, 0, 0);
    buf_append(script, bad, 5);
    fake_start(&f, script, 0);
    accept_set.default_action = MILTER_DEF_ACCEPT;
    ms = milters_create(f.endpoint, &accept_set, why);
    ck_assert_int_eq(milters_connect(ms, "h", 'L', NULL, 0, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_mail(ms, "a@b", NULL, reply), MILTER_CONTINUE);
    milters_free(ms);
    got = fake_finish(&f);
    buf_free(got);

    /* Nobody listening: quarantine. */
    accept_set.default_action = MILTER_DEF_QUARANTINE;
    ms = milters_create("unix:/nonexistent/milter.sock", &accept_set, why);
    ck_assert_int_eq(milters_connect(ms, "h", 'L', NULL, 0, reply), MILTER_CONTINUE);
    ck_assert_int_eq(milters_mail(ms, "a@b", NULL, reply), MILTER_CONTINUE);
    ck_assert_ptr_nonnull(milters_quarantine(ms));
    milters_free(ms);

    /* A change request outside the end of the message is an error. */
    buf_reset(script);
    put_optneg(script, SMFIF_ALL, 0);
    milter_pkt_put(script, SMFIR_ADDHEADER, "X\0y", 4);
    fake_start(&f, script, 0);
    ms = milters_create(f.endpoint, &test_set, why);
    ck_assert_int_eq(milters_connect(ms, "h", 'L', NULL, 0, reply), MILTER_REJECT);
    ck_assert_str_eq(buf_str(reply), "451 4.3.5 Server configuration problem - try again later");
    milters_free(ms);
    buf_free(fake_finish(&f));

    buf_free(script);
    buf_free(reply);
    buf_free(why);
}
END_TEST

int     main(void)
{
    Suite  *s = suite_create("milter");
    TCase  *tc = tcase_create("core");

    signal(SIGPIPE, SIG_IGN);
    tcase_add_test(tc, test_pkt_round_trip);
    tcase_add_test(tc, test_pkt_bounds);
    tcase_add_test(tc, test_reply_text);
    tcase_add_test(tc, test_list_parse);
    tcase_add_test(tc, test_client_steps);
    tcase_add_test(tc, test_client_eom_edits);
    tcase_add_test(tc, test_client_failures);
    tcase_add_test(tc, test_handover);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
