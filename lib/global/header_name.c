/* header_name - header names and the hop count; see header_name.h. */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "header_name.h"

/* header_name_len - see header_name.h */
size_t  header_name_len(const char *text, size_t len)
{
    size_t  i = 0;

    while (i < len && text[i] > ' ' && text[i] < 127 && text[i] != ':')
        i++;
    if (i == 0)
        return 0;
    while (i < len && (text[i] == ' ' || text[i] == '\t'))
        i++;
    if (i >= len || text[i] != ':')
        return 0;
    return i + 1;
}

/* header_named - see header_name.h */
size_t  header_named(const char *text, size_t len, const char *name)
{
    size_t  at = header_name_len(text, len);
    size_t  n = strlen(name);

    if (at == 0 || at <= n || strncasecmp(text, name, n) != 0
        || strspn(text + n, " \t") != at - 1 - n)
        return 0;
    return at;
}

/* header_is_hop - see header_name.h */
int     header_is_hop(const char *text, size_t len)
{
    return header_named(text, len, "Received") != 0;
}

/* hop_count_exceeded - see header_name.h */
int     hop_count_exceeded(long hops)
{
    return hops > config_int(P_hopcount_limit);
}
