/* fuzz_bounce_log - the status-log line parser on arbitrary bytes: it must
 * never crash, and whatever it accepts must format back to a line that
 * parses to the same entry (so escaping loses nothing and forges nothing). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bounce.h"
#include "buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* same - two entries say the same thing */
static int same(const BOUNCE_ENTRY *a, const BOUNCE_ENTRY *b)
{
    return a->action == b->action && a->offset == b->offset && a->notify == b->notify
        && strcmp(a->status, b->status) == 0 && strcmp(a->recipient, b->recipient) == 0
        && strcmp(a->orig_rcpt, b->orig_rcpt) == 0 && strcmp(a->dsn_orcpt, b->dsn_orcpt) == 0
        && strcmp(a->reason, b->reason) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BOUNCE_ENTRY first, second;
    BUF    *line;

    if (bounce_log_parse((const char *) data, size, &first) < 0)
        return 0;
    line = buf_alloc(size + 1);
    bounce_log_format(line, &first);
    if (memchr(buf_str(line), '\n', buf_len(line)) != buf_str(line) + buf_len(line) - 1)
        __builtin_trap();               /* one entry became more than one line */
    if (bounce_log_parse(buf_str(line), buf_len(line) - 1, &second) < 0 || !same(&first, &second))
        __builtin_trap();
    bounce_entry_free(&first);
    bounce_entry_free(&second);
    buf_free(line);
    return 0;
}
