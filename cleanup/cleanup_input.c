/* cleanup_input - cut the client's byte stream into records.
 *
 * The daemon serves many clients from one event loop, so it cannot wait
 * inside a record for the rest of it: bytes are fed in as they arrive and
 * this reader keeps its place (type byte, length bytes, data) between
 * calls. The length rules are record.c's (7-bit groups, shortest form);
 * a record longer than CLEANUP_IN_RECORD_MAX or a bad length loses the
 * framing for good, which ends the session (CLEANUP_IN_BROKEN).
 */
#include "cleanup.h"
#include "record.h"

enum { STEP_TYPE, STEP_LEN, STEP_DATA };

/* cleanup_input_record - a whole record: hand it to the state machine */
static int cleanup_input_record(CLEANUP_STATE *state)
{
    CLEANUP_IN *in = &state->in;

    cleanup_record(state, in->type, buf_str(in->data), buf_len(in->data));
    buf_reset(in->data);
    in->step = STEP_TYPE;
    return state->phase == CLEANUP_PH_DONE ? CLEANUP_IN_DONE : CLEANUP_IN_MORE;
}

/* cleanup_input_len - one length byte; -1 when the length is not acceptable */
static int cleanup_input_len(CLEANUP_IN *in, unsigned char ch)
{
    if (in->shift > 28)
        return -1;
    in->len |= (size_t) (ch & 0x7f) << in->shift;
    in->shift += 7;
    if (ch & 0x80)
        return 0;
    if (in->shift > 7 && (ch & 0x7f) == 0)
        return -1;                      /* not the shortest form */
    if (in->len > CLEANUP_IN_RECORD_MAX)
        return -1;
    in->step = STEP_DATA;
    return 0;
}

/* cleanup_input - see cleanup.h */
int cleanup_input(CLEANUP_STATE *state, const char *bytes, size_t len)
{
    CLEANUP_IN *in = &state->in;
    size_t  i = 0;
    int     ret;

    while (i < len) {
        if (in->step == STEP_TYPE) {
            in->type = (unsigned char) bytes[i++];
            in->len = 0;
            in->shift = 0;
            in->step = STEP_LEN;
        } else if (in->step == STEP_LEN) {
            if (cleanup_input_len(in, (unsigned char) bytes[i++]) < 0) {
                cleanup_bad(state, "bad record length");
                return CLEANUP_IN_BROKEN;
            }
            if (in->step == STEP_DATA && in->len == 0
                && (ret = cleanup_input_record(state)) != CLEANUP_IN_MORE)
                return ret;
        } else {
            size_t  want = in->len - buf_len(in->data);
            size_t  take = len - i < want ? len - i : want;

            buf_append(in->data, bytes + i, take);
            i += take;
            if (buf_len(in->data) == in->len
                && (ret = cleanup_input_record(state)) != CLEANUP_IN_MORE)
                return ret;
        }
    }
    return CLEANUP_IN_MORE;
}
