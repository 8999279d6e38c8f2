/* fuzz_qfile - the queue-file reader on arbitrary bytes must never crash,
 * hang or allocate without bound; it either accepts or says why not. */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "qfile.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QFILE_SUMMARY sum;
    BUF    *why = buf_alloc(100);
    STREAM *s = stream_memopen(data, size);

    if (qfile_verify(s, &sum, why) == 0 && sum.nrcpt_todo + sum.nrcpt_done != sum.sizes.nrcpt)
        __builtin_trap();               /* accepted a file that disagrees with itself */
    stream_release(s);
    buf_free(why);
    return 0;
}
