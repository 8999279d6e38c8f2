/* local_status - the outcome of one delivery attempt, and how outcomes merge.
 *
 * A leaf: every destination fills in a LOCAL_STATUS (a DSN code, a
 * DELIVER_STAT_* of mail_proto.h and the reason text), and a recipient's
 * result is the worst of its destinations': anything deferred defers it,
 * else anything bounced bounces it (local_resolve.c). soft_bounce turns
 * every 5.x.x into 4.x.x here, in one place.
 */
#include <stdarg.h>
#include <stdio.h>

#include "config.h"
#include "local.h"
#include "mail_proto.h"

/* local_status_init - a status that says nothing happened yet */
void    local_status_init(LOCAL_STATUS *st)
{
    st->stat = DELIVER_STAT_OK;
    snprintf(st->dsn, sizeof(st->dsn), "2.0.0");
    st->why = buf_alloc(100);
    st->logged = 0;
}

/* local_status_free - release the reason */
void    local_status_free(LOCAL_STATUS *st)
{
    buf_free(st->why);
    st->why = NULL;
}

/* local_status_set - status from a DSN code (2.x.x, 4.x.x, 5.x.x) and text;
 * soft_bounce turns a 5 into a 4 */
void    local_status_set(LOCAL_STATUS *st, const char *dsn, const char *fmt, ...)
{
    va_list ap;

    snprintf(st->dsn, sizeof(st->dsn), "%s", dsn);
    if (dsn[0] == '5' && config_bool(P_soft_bounce))
        st->dsn[0] = '4';
    st->stat = st->dsn[0] == '2' ? DELIVER_STAT_OK
        : st->dsn[0] == '4' ? DELIVER_STAT_DEFER : DELIVER_STAT_BOUNCE;
    va_start(ap, fmt);
    buf_reset(st->why);
    buf_vprintf(st->why, fmt, ap);
    va_end(ap);
}

/* local_status_rank - ok < bounce < defer: what wins when merging */
static int local_status_rank(int stat)
{
    return stat == DELIVER_STAT_DEFER ? 2 : stat == DELIVER_STAT_BOUNCE ? 1 : 0;
}

/* local_status_merge - keep the worst result */
void    local_status_merge(LOCAL_STATUS *into, const LOCAL_STATUS *from)
{
    if (local_status_rank(from->stat) >= local_status_rank(into->stat)
        && !(into->stat != DELIVER_STAT_OK && from->stat == into->stat)) {
        into->stat = from->stat;
        snprintf(into->dsn, sizeof(into->dsn), "%s", from->dsn);
        buf_set(into->why, buf_str(from->why));
    }
}
