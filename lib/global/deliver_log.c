/* deliver_log - delivery log lines in Postfix's shape; see deliver_log.h. */
#include <stdio.h>
#include <strings.h>
#include <sys/time.h>

#include "deliver_log.h"
#include "mail_proto.h"
#include "msg.h"

/* deliver_log_status - see deliver_log.h */
const char *deliver_log_status(int stat)
{
    return stat == DELIVER_STAT_OK ? "sent" : stat == DELIVER_STAT_DEFER ? "deferred" : "bounced";
}

/* deliver_log_delta - b - a in seconds, 0 when the clock went back */
static double deliver_log_delta(const struct timeval *a, const struct timeval *b)
{
    double  d = (double) (b->tv_sec - a->tv_sec) + (double) (b->tv_usec - a->tv_usec) / 1e6;

    return d < 0 ? 0 : d;
}

/* deliver_log_time - seconds as Postfix's format_tv prints them: two
 * significant digits, whole seconds from 10 on, 0 below 0.01 s (the
 * resolution Postfix logs by default) */
static void deliver_log_time(BUF *out, double sec)
{
    if (sec < 0.01)
        buf_puts(out, "0");
    else if (sec >= 10)
        buf_printf(out, "%.0f", sec);
    else
        buf_printf(out, "%.2g", sec);
}

/* deliver_log_format - see deliver_log.h */
void deliver_log_format(BUF *out, const DELIVER_LOG *ev, const struct timeval *now)
{
    buf_sprintf(out, "%s: to=<%s>", ev->queue_id, ev->to);
    if (ev->orig_to && *ev->orig_to && strcasecmp(ev->orig_to, ev->to) != 0)
        buf_printf(out, ", orig_to=<%s>", ev->orig_to);
    buf_printf(out, ", relay=%s, delay=", ev->relay);
    deliver_log_time(out, deliver_log_delta(&ev->arrival, now));
    buf_puts(out, ", delays=");
    deliver_log_time(out, deliver_log_delta(&ev->arrival, &ev->handoff));
    buf_puts(out, "/0/0/");
    deliver_log_time(out, deliver_log_delta(&ev->handoff, now));
    buf_printf(out, ", dsn=%s, status=%s (%s)", ev->dsn, ev->status, ev->reason);
}

/* deliver_log - see deliver_log.h */
void deliver_log(const DELIVER_LOG *ev)
{
    BUF    *line = buf_alloc(256);
    struct timeval now;

    gettimeofday(&now, NULL);
    deliver_log_format(line, ev, &now);
    msg_info("%s", buf_str(line));
    buf_free(line);
}
