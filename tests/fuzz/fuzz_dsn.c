/* fuzz_dsn - the DSN keyword parsers (lib/global/dsn.c) on arbitrary
 * bytes, with their invariants: what a parser accepts is within its
 * bound and passes the matching stored-form check; xtext encode undoes
 * decode. Any break is a panic.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "dsn.h"
#include "msg.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    BUF    *out = buf_alloc(64);
    BUF    *again = buf_alloc(64);
    BUF    *back = buf_alloc(64);
    int     bits;

    if (dsn_xtext_decode(text, size, out) == 0) {
        dsn_xtext_encode(buf_str(out), buf_len(out), again);
        if (dsn_xtext_decode(buf_str(again), buf_len(again), back) < 0
            || buf_len(back) != buf_len(out)
            || memcmp(buf_str(back), buf_str(out), buf_len(out)) != 0)
            msg_panic("fuzz_dsn: xtext encode does not undo decode");
    }
    if (dsn_envid_parse(text, size, out) == 0) {
        if (buf_len(out) > DSN_ENVID_MAX || !dsn_envid_ok(buf_str(out), buf_len(out)))
            msg_panic("fuzz_dsn: accepted ENVID fails its check");
    } else if (buf_len(out) != 0) {
        msg_panic("fuzz_dsn: refused ENVID left a value");
    }
    if (dsn_orcpt_parse(text, size, out) == 0
        && (buf_len(out) > DSN_ORCPT_MAX || !dsn_orcpt_ok(buf_str(out), buf_len(out))))
        msg_panic("fuzz_dsn: accepted ORCPT fails its check");
    if ((bits = dsn_notify_parse(text, size)) != 0 && !dsn_notify_valid(bits))
        msg_panic("fuzz_dsn: NOTIFY mask %d", bits);
    if ((bits = dsn_notify_stored(text, size)) != 0 && !dsn_notify_valid(bits))
        msg_panic("fuzz_dsn: stored NOTIFY mask %d", bits);
    (void) dsn_ret_parse(text, size);
    (void) dsn_body_parse(text, size);
    buf_free(out);
    buf_free(again);
    buf_free(back);
    return 0;
}
