/* fuzz_attr - the attribute reader on arbitrary bytes.
 *
 * Each input is read twice over a memory stream: as any list
 * (attr_recv_list, repeated until the input is used up) and as a fixed
 * request shape (attr_recv with every type), the way a daemon reads its
 * peer. Neither may crash, leak or read out of bounds; a success must
 * satisfy what the reader promises.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "attr.h"
#include "buf.h"
#include "msg.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_lists - read whole lists until the input ends or one fails */
static void fuzz_lists(const uint8_t *data, size_t size)
{
    STREAM *s = stream_memopen(data, size);
    ATTR_LIST list;
    int     i;

    while (attr_recv_list(s, &list) == 0) {
        if (list.count > ATTR_COUNT_MAX)
            msg_panic("fuzz_attr: %d attributes", list.count);
        for (i = 0; i < list.count; i++) {
            if (*list.names[i] == 0 || strlen(list.names[i]) > ATTR_NAME_MAX)
                msg_panic("fuzz_attr: bad name accepted");
            if (attr_list_get(&list, list.names[i]) == NULL)
                msg_panic("fuzz_attr: name not found again");
        }
        attr_list_free(&list);
    }
    if (list.count != 0 || list.names != NULL)
        msg_panic("fuzz_attr: failed list not emptied");
    stream_close(s);
}

/* fuzz_schema - a strict read of one fixed request */
static void fuzz_schema(const uint8_t *data, size_t size)
{
    STREAM *s = stream_memopen(data, size);
    BUF    *str = buf_alloc(0);
    BUF    *blob = buf_alloc(0);
    int     num = 0;
    long    big = 0;

    if (attr_recv(s, RECV_STR("protocol", str), RECV_INT("status", &num),
                  RECV_LONG("size", &big), RECV_DATA("data", blob), ATTR_END) == 0) {
        if (buf_len(str) != strlen(buf_str(str)) || buf_len(blob) > ATTR_VALUE_MAX / 2)
            msg_panic("fuzz_attr: value out of bounds");
    } else if (*attr_last_error() == 0) {
        msg_panic("fuzz_attr: failure without a reason");
    }
    buf_free(str);
    buf_free(blob);
    stream_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_lists(data, size);
    fuzz_schema(data, size);
    return 0;
}
