/* fuzz_milter - the milter packet codec (lib/global/milter_pkt.c) on
 * arbitrary bytes: a stream of packets as a filter would send them is
 * walked with the bounded head parser and every field reader, and each
 * NUL-ended field is checked as a reply text. Invariants: a head that is
 * accepted is within MILTER_PKT_MAX, a cursor never passes its packet's
 * end, and a text that milter_reply_ok accepts starts with 4 or 5 and
 * holds no bare CR or LF. Any break is a panic.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "milter.h"
#include "msg.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_text(const char *s)
{
    const char *cp;

    if (milter_reply_ok(s) < 0)
        return;
    if (s[0] != '4' && s[0] != '5')
        msg_panic("fuzz_milter: accepted reply %.10s", s);
    for (cp = s; *cp; cp++)
        if ((*cp == '\r' && cp[1] != '\n') || (*cp == '\n' && (cp == s || cp[-1] != '\r')))
            msg_panic("fuzz_milter: accepted reply with a bare CR or LF");
}

/* The hand-over description (smtpd -> cleanup): any bytes, no
 * descriptors; whatever is accepted describes filters without sockets. */
static void fuzz_import(const uint8_t *data, size_t size)
{
    BUF    *why = buf_alloc(64);
    MILTERS *ms = milters_import((const char *) data, size, NULL, 0, why);

    if (ms != NULL)
        milters_free(ms);
    buf_free(why);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  pos = 0;

    fuzz_import(data, size);

    while (size - pos >= 5) {
        MILTER_PKT p;
        const char *s;
        uint32_t v;
        size_t  len;
        int     cmd;

        if (milter_pkt_head(data + pos, &cmd, &len) < 0)
            break;
        if (len >= MILTER_PKT_MAX)
            msg_panic("fuzz_milter: head length %zu accepted", len);
        pos += 5;
        if (len > size - pos)
            len = size - pos;
        milter_pkt_init(&p, (const char *) data + pos, len);
        /* Alternate the readers as the reply types do (index, name, value). */
        while (milter_pkt_left(&p) > 0) {
            if ((cmd & 1) && milter_pkt_get_u32(&p, &v) < 0)
                break;
            if (milter_pkt_get_str(&p, &s) < 0)
                break;
            fuzz_text(s);
            if (p.pos > p.len)
                msg_panic("fuzz_milter: cursor past the end");
        }
        if (p.pos > p.len)
            msg_panic("fuzz_milter: cursor past the end");
        pos += len;
    }
    return 0;
}
