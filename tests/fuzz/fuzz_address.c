/* fuzz_address - the RFC 5321 path parser on arbitrary bytes.
 *
 * The first input byte chooses the flags (strict, UTF-8); the rest is the
 * text after MAIL FROM: / RCPT TO:. Whatever is accepted must keep the
 * parser's promises: within ADDR_MAX, no 8-bit bytes without ADDR_UTF8,
 * `rest` inside the input, and the external form parses back to the same
 * internal form.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "mem.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static BUF *addr, *why, *ext, *path, *again;
    const char *rest = NULL;
    char   *text;
    int     flags;
    int     is_null;
    int     status;

    if (size < 1)
        return 0;
    if (addr == NULL) {
        addr = buf_alloc(64);
        why = buf_alloc(64);
        ext = buf_alloc(64);
        path = buf_alloc(64);
        again = buf_alloc(64);
    }
    flags = data[0] & (ADDR_STRICT | ADDR_UTF8);
    text = xstrndup((const char *) data + 1, size - 1);
    status = address_parse_path(text, flags, addr, &is_null, &rest, why);
    if (status == 0) {
        if (buf_len(addr) > ADDR_MAX)
            msg_panic("fuzz_address: %zu bytes accepted", buf_len(addr));
        if (!(flags & ADDR_UTF8) && address_has_8bit(buf_str(addr)))
            msg_panic("fuzz_address: 8-bit accepted without UTF8");
        if (rest < text || rest > text + strlen(text))
            msg_panic("fuzz_address: rest outside the input");
        if (is_null != (buf_len(addr) == 0))
            msg_panic("fuzz_address: is_null %d for \"%s\"", is_null, buf_str(addr));
        if (!is_null) {
            address_externalize(buf_str(addr), ext);
            buf_sprintf(path, "<%s>", buf_str(ext));
            if (address_parse_path(buf_str(path), flags, again, &is_null, &rest, NULL) != 0
                || strcmp(buf_str(again), buf_str(addr)) != 0)
                msg_panic("fuzz_address: \"%s\" does not round-trip", buf_str(addr));
        }
    } else if (buf_len(why) == 0) {
        msg_panic("fuzz_address: failure without a reason");
    }
    xfree(text);
    return 0;
}
