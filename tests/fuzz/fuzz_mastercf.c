/* fuzz_mastercf - master.cf parsing: every column, -o forms, braces, errors.
 *
 * The input is parsed as master.cf text; a good parse is walked (each
 * entry's normalized text and argv read) and freed. Nothing may crash, hang
 * or leak, whatever the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mastercf.h"
#include "mem.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    BUF    *why = buf_alloc(64);
    char   *text = xstrndup((const char *) data, size);
    MASTER_CF cf;
    size_t  total = 0;
    int     i;
    int     j;

    if (mastercf_parse_text(text, 100, &cf, why) == 0) {
        for (i = 0; i < cf.count; i++) {
            total += strlen(cf.ents[i].text);
            for (j = 0; j < cf.ents[i].argc; j++)
                total += strlen(cf.ents[i].argv[j]);
            if (mastercf_find(&cf, cf.ents[i].name, cf.ents[i].type) != &cf.ents[i])
                __builtin_trap();       /* duplicates must have been refused */
        }
        mastercf_free(&cf);
    }
    (void) total;
    xfree(text);
    buf_free(why);
    return 0;
}
