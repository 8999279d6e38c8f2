/* fuzz_config - main.cf parsing and expansion of every value.
 *
 * The input is parsed as main.cf; when that succeeds every value set is
 * expanded (which exercises $name, ${name?text}, $$, cycles, nesting and
 * the length bound), split as a list, and every table parameter is checked
 * by its type. The input is also expanded as one piece of text. Nothing
 * here may crash, hang or leak, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "mem.h"
#include "msg.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* expand_one - expand a raw value and split the result */
static void expand_one(const char *name, const char *raw, void *ctx)
{
    BUF    *out = buf_alloc(64);
    BUF    *why = buf_alloc(64);
    char  **list;

    (void) name;
    (void) ctx;
    if (config_expand(raw, out, why) == 0) {
        list = config_split_list(buf_str(out), NULL);
        config_free_list(list);
    }
    buf_free(out);
    buf_free(why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BUF    *why = buf_alloc(64);
    BUF    *out = buf_alloc(64);
    char   *text = xstrndup((const char *) data, size);

    config_reset();
    if (config_parse_text((const char *) data, size, why) == 0) {
        (void) config_each_set(expand_one, NULL);
        (void) config_validate(why);
    }
    (void) config_expand(text, out, why);
    config_free_list(config_split_list(text, NULL));
    xfree(text);
    buf_free(out);
    buf_free(why);
    config_reset();
    return 0;
}
