/*
 * NAME
 *      test-agent - a delivery agent (or bounce service) for qmgr tests
 * SYNOPSIS
 *      test-agent [log=FILE] [delay=MS] [rule=TEXT:ACTION ...]    (master.cf)
 *      test-agent bounce [log=FILE] [status=N] [delay=MS]
 * DESCRIPTION
 *      A single_server speaking the real delivery protocol of mail_proto.h:
 *      it reads a request and its recipients (deliver_request.h), opens the queue file with
 *      qfile_open_ready and holds a shared flock on it while "delivering"
 *      (as local does), checks that each recipient offset points at an R
 *      record, waits delay ms, and answers each recipient by the first
 *      rule whose TEXT occurs in the address: ok, defer, bounce, or
 *      defer-once (defer the first time this recipient is seen in the
 *      log, deliver after). Default: ok. Each event is one line appended
 *      to FILE, so tests can check what qmgr sent and when:
 *          start PID ID NRCPT NEXTHOP MS
 *          rcpt ID ADDRESS ACTION offset=ok|bad notify=N
 *          end PID ID MS
 *      With "bounce" it is a bounce service instead: it logs each
 *      request ("bounce REQUEST ID RECIPIENT ACTION DSN REASON") and
 *      answers {status=N} (default 0).
 * SECURITY
 *      Test program only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attr.h"
#include "buf.h"
#include "deliver_request.h"
#include "event.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "qfile.h"
#include "server.h"

#define MAX_RULES   32

static const char *log_path;
static long delay_ms;
static int bounce_mode;
static int bounce_status;
static int nrules;
static char *rule_text[MAX_RULES];
static char *rule_action[MAX_RULES];

/* agent_log - one line, one write, appended */
static void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void agent_log(const char *fmt, ...)
{
    BUF    *line = buf_alloc(128);
    va_list ap;
    int     fd;

    va_start(ap, fmt);
    buf_vprintf(line, fmt, ap);
    va_end(ap);
    buf_putc(line, '\n');
    if (log_path && (fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) >= 0) {
        if (write(fd, buf_str(line), buf_len(line)) < 0)
            msg_warn("write %s: %m", log_path);
        close(fd);
    }
    buf_free(line);
}

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* seen_before - does the log already say this recipient was deferred? */
static int seen_before(const char *id, const char *addr)
{
    BUF    *want = buf_alloc(64);
    FILE   *fp;
    char    line[1024];
    int     found = 0;

    buf_sprintf(want, "rcpt %s %s defer-once ", id, addr);
    if (log_path && (fp = fopen(log_path, "r")) != NULL) {
        while (!found && fgets(line, sizeof(line), fp))
            found = strncmp(line, buf_str(want), buf_len(want)) == 0;
        fclose(fp);
    }
    buf_free(want);
    return found;
}

/* agent_action - the rule for an address */
static const char *agent_action(const char *addr)
{
    int     i;

    for (i = 0; i < nrules; i++)
        if (strstr(addr, rule_text[i]))
            return rule_action[i];
    return "ok";
}

/* agent_bounce - one bounce request */
static void agent_bounce(STREAM *client)
{
    ATTR_LIST list;

    if (attr_recv_list(client, &list) < 0)
        return;
#define GET(n) (attr_list_get(&list, (n)) ? attr_list_get(&list, (n)) : "-")
    agent_log("bounce %s %s <%s> %s %s %s", GET(MAIL_ATTR_REQ), GET(MAIL_ATTR_QUEUEID),
              GET(MAIL_ATTR_RECIP), GET(MAIL_ATTR_DSN_ACTION), GET(MAIL_ATTR_DSN_STATUS),
              GET(MAIL_ATTR_WHY));
    if (delay_ms > 0)
        usleep((useconds_t) delay_ms * 1000);
    attr_list_free(&list);
    attr_send(client, SEND_INT(MAIL_ATTR_STATUS, bounce_status), ATTR_END);
}

/* agent_answer - the reply for one recipient's action ("silent": none) */
static void agent_answer(STREAM *client, const DELIVER_RCPT *r, const char *action)
{
    if (strcmp(action, "ok") == 0)
        deliver_reply_rcpt(client, r, DELIVER_STAT_OK, "2.0.0", "delivered");
    else if (strcmp(action, "bounce") == 0)
        deliver_reply_rcpt(client, r, DELIVER_STAT_BOUNCE, "5.1.1", "no such user");
    else if (strcmp(action, "silent") != 0)
        deliver_reply_rcpt(client, r, DELIVER_STAT_DEFER, "4.2.0", "try again later");
}

/* agent_service - one delivery request */
static void agent_service(STREAM *client, const SERVER_CTX *ctx)
{
    DELIVER_REQUEST req;
    BUF    *path = buf_alloc(64), *why = buf_alloc(64);
    int     i, fd = -1;
    struct stat st;
    char    type;
    const char *action;

    (void) ctx;
    memset(&req, 0, sizeof(req));
    if (bounce_mode) {
        agent_bounce(client);
        goto out;
    }
    if (deliver_request_read(client, &req, why) <= 0) {
        agent_log("badrequest %s", buf_str(why));
        goto out;
    }
    /* The server skeleton runs us in $queue_directory. */
    if (deliver_request_path(&req, ".", path, why) < 0
        || (fd = qfile_open_ready(buf_str(path), O_RDONLY, &st, why)) < 0)
        agent_log("openfail %s", buf_str(why));
    else
        flock(fd, LOCK_SH);
    agent_log("start %ld %s %d %s %ld", (long) getpid(), req.queue_id, req.nrcpt, req.nexthop,
              now_ms());
    if (delay_ms > 0)
        usleep((useconds_t) delay_ms * 1000);
    for (i = 0; i < req.nrcpt; i++) {
        const DELIVER_RCPT *r = &req.rcpt[i];

        type = 0;
        if (fd >= 0 && pread(fd, &type, 1, (off_t) r->offset) != 1)
            type = 0;
        action = agent_action(r->address);
        if (strcmp(action, "defer-once") == 0 && seen_before(req.queue_id, r->address))
            action = "ok";
        agent_log("rcpt %s %s %s offset=%s notify=%d", req.queue_id, r->address, action,
                  type == 'R' ? "ok" : "bad", r->dsn_notify);
        agent_answer(client, r, action);
    }
    agent_log("end %ld %s %ld", (long) getpid(), req.queue_id, now_ms());
    deliver_reply_done(client, 0);
out:
    if (fd >= 0)
        close(fd);
    deliver_request_free(&req);
    buf_free(path);
    buf_free(why);
}

/* agent_init - read the master.cf arguments */
static void agent_init(const SERVER_CTX *ctx)
{
    int     i;
    char   *colon;

    for (i = 0; i < ctx->argc; i++) {
        const char *a = ctx->argv[i];

        if (strcmp(a, "bounce") == 0)
            bounce_mode = 1;
        else if (strncmp(a, "log=", 4) == 0)
            log_path = a + 4;
        else if (strncmp(a, "delay=", 6) == 0)
            delay_ms = atol(a + 6);
        else if (strncmp(a, "status=", 7) == 0)
            bounce_status = atoi(a + 7);
        else if (strncmp(a, "rule=", 5) == 0 && nrules < MAX_RULES
                 && (colon = strrchr(a + 5, ':')) != NULL) {
            rule_text[nrules] = xstrndup(a + 5, (size_t) (colon - a - 5));
            rule_action[nrules++] = xstrdup(colon + 1);
        } else
            msg_fatal("test-agent: unknown argument %s", a);
    }
}

int main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {.pre_init = agent_init};

    single_server_main(argc, argv, agent_service, &hooks);
}
