/* split_addr - the one address extension split (see split_addr.h). */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "split_addr.h"

/* same_name - the len bytes at local are name, in any case */
static int same_name(const char *local, size_t len, const char *name)
{
    return strlen(name) == len && strncasecmp(local, name, len) == 0;
}

/* reserved - a name that is never split, whatever the delimiter */
static int reserved(const char *local, size_t len)
{
    return same_name(local, len, "postmaster") || same_name(local, len, "mailer-daemon")
        || same_name(local, len, config_str(P_double_bounce_sender));
}

/* list_name - owner-xxx or xxx-request, which '-' must not split */
static int list_name(const char *local, size_t len)
{
    static const char request[] = "-request";
    size_t  rlen = sizeof(request) - 1;

    return (len >= 6 && strncasecmp(local, "owner-", 6) == 0)
        || (len > rlen && strncasecmp(local + len - rlen, request, rlen) == 0);
}

/* split_addr - offset of the splitting delimiter, or 0 */
size_t split_addr(const char *local, size_t len, const char *delims)
{
    size_t  pos;

    if (delims == NULL || *delims == 0 || len == 0 || reserved(local, len))
        return 0;
    if (strchr(delims, '-') && config_bool(P_owner_request_special) && list_name(local, len))
        return 0;
    for (pos = 0; pos < len; pos++)
        if (local[pos] != 0 && strchr(delims, local[pos]))
            break;
    return pos < len ? pos : 0;         /* pos 0: the user would be empty */
}
