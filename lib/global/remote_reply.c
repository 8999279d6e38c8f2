/* remote_reply - a server's reply inside a delivery reason; see remote_reply.h. */
#include <string.h>

#include "remote_reply.h"

#define RR_HOST     "host "
#define RR_SAID     " said: "
#define RR_NOTE     " (in reply to "

void    remote_reply_format(BUF *out, const char *host, const char *addr, const char *reply,
                            const char *what)
{
    buf_sprintf(out, RR_HOST "%s[%s]" RR_SAID "%s" RR_NOTE "%s)", host, addr, reply, what);
}

/* remote_reply_is_code - "NNN" then space, '-' or the end: an SMTP reply */
static int remote_reply_is_code(const char *p)
{
    return p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0'
        && p[2] <= '9' && (p[3] == ' ' || p[3] == '-' || p[3] == 0);
}

int     remote_reply_parse(const char *reason, BUF *mta, BUF *reply)
{
    const char *said, *host, *bracket, *note, *last, *end;

    buf_reset(mta);
    buf_reset(reply);
    if (strncmp(reason, RR_HOST, strlen(RR_HOST)) != 0)
        return 0;
    host = reason + strlen(RR_HOST);
    /* Search after "host ": in "host  said: " the match would start
     * before the host name, and said - host would be negative. */
    if ((said = strstr(host, RR_SAID)) == NULL)
        return 0;
    /* The host is "name[addr]"; the name never holds '[' or a space. */
    bracket = memchr(host, '[', (size_t) (said - host));
    if (bracket == NULL || bracket == host || memchr(host, ' ', (size_t) (bracket - host)))
        return 0;
    said += strlen(RR_SAID);
    if (!remote_reply_is_code(said))
        return 0;
    /* The note is the last "(in reply to ...)": a reply may hold the
     * words itself, so only the one that ends the text counts. */
    end = said + strlen(said);
    last = NULL;
    for (note = strstr(said, RR_NOTE); note; note = strstr(note + 1, RR_NOTE))
        last = note;
    if (last && end[-1] == ')')
        end = last;
    buf_append(mta, host, (size_t) (bracket - host));
    buf_append(reply, said, (size_t) (end - said));
    return 1;
}
