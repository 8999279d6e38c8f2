/* qmgr_time - retry and expiry arithmetic, kept apart so tests can call it.
 *
 * Backoff is Postfix's: the time to the next attempt is the time the
 * message has already spent in the queue, clamped to
 * [minimal_backoff_time, maximal_backoff_time]. Since each retry waits
 * about as long as the message has waited so far, the interval doubles
 * from one attempt to the next until it reaches the maximum.
 */
#include <stdio.h>
#include <sys/time.h>

#include "qmgr.h"

/* qmgr_backoff - seconds from now until the next attempt */
long qmgr_backoff(long now, long arrival, long min_backoff, long max_backoff)
{
    long    delay = now - arrival;

    if (max_backoff < min_backoff)
        max_backoff = min_backoff;
    if (delay > max_backoff)
        delay = max_backoff;
    if (delay < min_backoff)
        delay = min_backoff;
    return delay;
}

/* qmgr_expired - has the message outlived its lifetime? A null sender
 * means a bounce: bounce_queue_lifetime applies. A lifetime of 0 means
 * "try once" (Postfix). */
int qmgr_expired(long now, long arrival, const char *sender,
                 long max_lifetime, long bounce_lifetime)
{
    long    lifetime = (sender == NULL || *sender == 0) ? bounce_lifetime : max_lifetime;

    return now - arrival >= lifetime;
}

