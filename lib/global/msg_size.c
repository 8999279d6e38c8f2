/* msg_size - the message_size_limit count; see msg_size.h. */
#include <string.h>
#include <strings.h>

#include "header_name.h"
#include "msg_size.h"
#include "record.h"

/* msg_size_init - see msg_size.h */
void    msg_size_init(MSG_SIZE *sz)
{
    memset(sz, 0, sizeof(*sz));
    sz->lead = 1;
    sz->line_start = 1;
}

/* msg_size_octets - see msg_size.h */
long long msg_size_octets(size_t len, int eol)
{
    return (long long) len + eol;
}

/* msg_size_trace - does this line (its first record) leave the count out */
static int msg_size_trace(MSG_SIZE *sz, const char *data, size_t len)
{
    if (!sz->lead)
        return 0;
    if (len > 0 && (data[0] == ' ' || data[0] == '\t'))
        return sz->skip;                /* a continuation goes with its field */
    if (header_is_hop(data, len) || header_named(data, len, "Delivered-To"))
        return 1;
    sz->lead = 0;                       /* the sender's own content from here */
    return 0;
}

/* msg_size_record - see msg_size.h */
void    msg_size_record(MSG_SIZE *sz, int type, const char *data, size_t len)
{
    if (sz->line_start)
        sz->skip = msg_size_trace(sz, data, len);
    if (!sz->skip)
        sz->octets += msg_size_octets(len, type == REC_TYPE_NORM ? 2 : 0);
    sz->line_start = (type == REC_TYPE_NORM);
}

/* msg_size_exceeds - see msg_size.h */
int     msg_size_exceeds(long long octets, long limit)
{
    return limit > 0 && octets > limit;
}
