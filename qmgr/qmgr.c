/* qmgr - the surel queue manager
 *
 * SYNOPSIS
 *     qmgr [generic daemon options]     (started by master: public/qmgr)
 *
 * DESCRIPTION
 *     qmgr is the one scheduler of an instance (master.cf: `qmgr unix n -
 *     n 300 1 qmgr`). It keeps the active queue in memory and
 *       - moves committed files from incoming/ to active/ (at most
 *         $qmgr_message_active_limit at a time) when triggered and on the
 *         master's wakeup, and files from deferred/ whose next-attempt time
 *         (their mtime) has come, scanning deferred/ every $queue_run_delay;
 *       - resolves each recipient to transport:nexthop (lib/global/resolve.c) and
 *         sends delivery requests to private/<transport> (the delivery
 *         protocol of mail_proto.h), never more at once than the
 *         destination's concurrency limit, without ever waiting for one
 *         agent (non-blocking sockets on the event loop);
 *       - marks delivered recipients done in place (R becomes D), has
 *         bounce log delayed and failed recipients, asks bounce for a DSN
 *         (flush) and delay warnings, moves files with deferred recipients
 *         to deferred/ with a backoff, bounces messages older than
 *         $maximal_queue_lifetime, and removes finished files.
 *     At start-up, files left in active/ by an earlier qmgr go back to
 *     incoming/ (Postfix's choice), and uncommitted files in temp/ older
 *     than a day are removed. hold/ is never looked at.
 *
 * TRIGGERS (one byte each, written to public/qmgr; repeats collapse)
 *     I  scan incoming/      W  wakeup: the same (the master's timer)
 *     D  scan deferred/      A  scan both, ignoring next-attempt times
 *     F  forget throttled transports and dead destinations
 *
 * SECURITY
 *     Runs as $mail_owner (unprivileged). Trusts queue files only after
 *     qfile_open_ready and qfile_verify (bad ones go to corrupt/, never
 *     deleted); trusts replies from agents and bounce only as far as the
 *     strict attribute reader lets them through: a bad reply defers the
 *     recipients concerned, it never crashes the scheduler.
 *
 * PARAMETERS
 *     qmgr_message_active_limit (20000), queue_run_delay (300s),
 *     minimal_backoff_time (300s), maximal_backoff_time (4000s),
 *     maximal_queue_lifetime (5d), bounce_queue_lifetime (5d),
 *     delay_warning_time (0: off; the W record cleanup writes),
 *     default_destination_concurrency_limit (20),
 *     <transport>_destination_concurrency_limit (local: 2),
 *     initial_destination_concurrency (5),
 *     <transport>_destination_concurrency_failed_cohort_limit (1),
 *     <transport>_destination_concurrency_positive_feedback and
 *     _negative_feedback (1/concurrency), <transport>_destination_rate_delay
 *     (0s) (the default_destination_* forms; qmgr_sched.c),
 *     default_destination_recipient_limit (50),
 *     <transport>_destination_recipient_limit (local: 1),
 *     default_process_limit (100: requests in flight per transport),
 *     transport_retry_time (60s), soft_bounce (no), ipc_timeout (3600s),
 *     hash_queue_names, hash_queue_depth, and what lib/global/resolve.h reads:
 *     myorigin, mydestination, local_transport, virtual_mailbox_domains,
 *     virtual_transport, relay_domains, relay_transport, default_transport,
 *     relayhost, transport_maps, recipient_delimiter.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "event.h"
#include "mail_proto.h"
#include "msg.h"
#include "qmgr.h"
#include "qfile.h"
#include "resolve_local.h"
#include "server.h"

/* qmgr_deferred_event - the periodic deferred/ scan (and temp/ purge) */
static void qmgr_deferred_event(int event, void *context)
{
    (void) event;
    (void) context;
    qmgr_purge_temp(QFILE_TEMP_MAX_AGE);
    qmgr_scan_incoming();
    qmgr_scan_deferred(0);
    event_request_timer(qmgr_deferred_event, NULL, config_time(P_queue_run_delay) * 1000L);
}

/* qmgr_trigger - one or more trigger bytes */
static void qmgr_trigger(const char *data, size_t len, const SERVER_CTX *ctx)
{
    int     incoming = 0, deferred = 0, all = 0, flush = 0;
    size_t  i;

    (void) ctx;
    for (i = 0; i < len; i++) {
        switch (data[i]) {
        case TRIGGER_WAKEUP:
        case TRIGGER_SCAN_INCOMING:
            incoming = 1;
            break;
        case TRIGGER_SCAN_DEFERRED:
            deferred = 1;
            break;
        case TRIGGER_SCAN_ALL:
            all = 1;
            break;
        case TRIGGER_FLUSH_DEAD:
            flush = 1;
            break;
        default:
            break;                      /* unknown bytes: ignored, as Postfix does */
        }
    }
    if (flush)
        qmgr_transport_unthrottle_all();
    if (all)
        qmgr_scan_deferred(1);
    else if (deferred)
        qmgr_scan_deferred(0);
    if (incoming)
        qmgr_scan_incoming();
}

/* qmgr_pre_init - open tables while the files are still reachable */
static void qmgr_pre_init(const SERVER_CTX *ctx)
{
    BUF    *why = buf_alloc(100);

    (void) ctx;
    if ((qmgr.resolver = resolve_open(why)) == NULL)
        msg_fatal("%s", buf_str(why));
    (void) resolve_local("localhost");  /* parses the domain lists, opens their tables */
    buf_free(why);
}

/* qmgr_post_init - recover, then start the timers */
static void qmgr_post_init(const SERVER_CTX *ctx)
{
    (void) ctx;
    qmgr.active_limit = config_int(P_qmgr_message_active_limit);
    qmgr.transport_retry_ms = config_time(P_transport_retry_time) * 1000L;
    qmgr_scan_init();
    qmgr_recover_active();
    event_request_timer(qmgr_deferred_event, NULL, 0);
}

int main(int argc, char **argv)
{
    static const SERVER_HOOKS hooks = {
        .pre_init = qmgr_pre_init,
        .post_init = qmgr_post_init,
        .unlimited = 1,
        .confine = "qmgr",
    };

    trigger_server_main(argc, argv, qmgr_trigger, &hooks);
}
