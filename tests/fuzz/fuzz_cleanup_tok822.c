/* fuzz_cleanup_tok822 - the RFC 5322 address-list tokenizer (lib/tok822) on
 * header values from the network: spans must lie inside the text, in
 * order, and rewriting every address must terminate within bounds. */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "mem.h"
#include "tok822.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *) data;
    TOK822_LIST list;
    char  **replace;
    BUF    *out = buf_alloc(100);
    size_t  prev = 0;
    int     i;

    tok822_parse(text, size, &list);
    replace = xcalloc((size_t) list.count + 1, sizeof(char *));
    for (i = 0; i < list.count; i++) {
        if (list.addrs[i].start > list.addrs[i].end || list.addrs[i].end > size
            || list.addrs[i].start < prev)
            __builtin_trap();
        prev = list.addrs[i].end;
        replace[i] = (i % 2) ? list.addrs[i].addr : "new user@example.org";
    }
    tok822_rewrite(text, size, &list, replace, out);
    for (i = 0; i < list.count; i++) {
        buf_reset(out);
        tok822_quote(list.addrs[i].addr, out);
    }
    xfree(replace);
    tok822_list_free(&list);
    buf_free(out);
    return 0;
}
