/* cleanup_status - the one table of what a cleanup status means; see
 * cleanup_status.h. The codes and texts are Postfix's cleanup_stat_map
 * (there is no PROXY status here: no before-queue proxy).
 */
#include "cleanup_status.h"

/* Most severe first: a status is answered by its first entry. */
static const CLEANUP_STAT_DETAIL cleanup_stat_map[] = {
    {CLEANUP_STAT_DEFER, 451, "4.7.1", 0, "service unavailable"},
    {CLEANUP_STAT_BAD, 451, "4.3.0", 0, "internal protocol error"},
    {CLEANUP_STAT_RCPT, 550, "5.1.0", 1, "no recipients specified"},
    {CLEANUP_STAT_HOPS, 554, "5.4.0", 1, "too many hops"},
    {CLEANUP_STAT_SIZE, 552, "5.3.4", 1, "message file too big"},
    {CLEANUP_STAT_CONT, 550, "5.7.1", 1, "message content rejected"},
    {CLEANUP_STAT_WRITE, 451, "4.3.0", 0, "queue file write error"},
};

#define CLEANUP_STAT_NMAP ((int) (sizeof(cleanup_stat_map) / sizeof(cleanup_stat_map[0])))

static const CLEANUP_STAT_DETAIL cleanup_stat_success = {
    CLEANUP_STAT_OK, 250, "2.0.0", 0, "Success",
};

/* cleanup_stat_find - the first entry with this bit */
static const CLEANUP_STAT_DETAIL *cleanup_stat_find(int bit)
{
    int     i;

    for (i = 0; i < CLEANUP_STAT_NMAP; i++)
        if (cleanup_stat_map[i].status == bit)
            return cleanup_stat_map + i;
    return cleanup_stat_map;        /* not reached: every caller's bit is listed */
}

const CLEANUP_STAT_DETAIL *cleanup_stat_detail(int status)
{
    int     i;

    if (status == CLEANUP_STAT_OK)
        return &cleanup_stat_success;
    /* No answer from cleanup: nothing was queued, try again later. */
    if (status < 0)
        return cleanup_stat_find(CLEANUP_STAT_WRITE);
    for (i = 0; i < CLEANUP_STAT_NMAP; i++)
        if (status & cleanup_stat_map[i].status)
            return cleanup_stat_map + i;
    /* A bit this version does not know (a newer cleanup?): temporary. */
    return cleanup_stat_find(CLEANUP_STAT_BAD);
}

const char *cleanup_strerror(int status)
{
    return cleanup_stat_detail(status)->text;
}

int     cleanup_stat_permanent(int status)
{
    return cleanup_stat_detail(status)->permanent;
}

void    cleanup_stat_reply(int status, BUF *reply)
{
    const CLEANUP_STAT_DETAIL *d = cleanup_stat_detail(status);

    if (status == CLEANUP_STAT_OK)
        buf_sprintf(reply, "%d %s Ok", d->smtp, d->dsn);
    else
        buf_sprintf(reply, "%d %s Error: %s", d->smtp, d->dsn, d->text);
}

const CLEANUP_STAT_DETAIL *cleanup_stat_table(int *count)
{
    *count = CLEANUP_STAT_NMAP;
    return cleanup_stat_map;
}
