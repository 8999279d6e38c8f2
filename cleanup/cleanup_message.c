/* cleanup_message - message content: N and L records between M and X.
 *
 * Each content record first has its stray CR and LF bytes replaced by a
 * space (cleanup_replace_stray_cr_lf, Postfix 3.9: a queued line can then
 * never end early on the way out, so we can never be "server A" of an
 * SMTP smuggling attack) and is counted against message_size_limit.
 * Lines are then joined into logical headers (a line starting with a blank
 * continues the header before it; an L record continues its line) until
 * the first line that is not a header, usually the empty one; the header
 * is at most header_size_limit bytes and the excess is discarded, as in
 * Postfix. Body lines pass through body_checks one record at a time.
 * MIME structure is not parsed (no mime_header_checks).
 */
#include <string.h>

#include "cleanup.h"
#include "header_name.h"
#include "mail_proto.h"
#include "msg.h"
#include "record.h"

/* cleanup_header_append - more header text, within header_size_limit */
static void cleanup_header_append(CLEANUP_STATE *state, const char *data, size_t len)
{
    size_t  used = buf_len(state->header);
    size_t  limit = (size_t) cleanup_conf.header_size_limit;
    size_t  room = limit > used ? limit - used : 0;

    if (len > room) {
        len = room;
        state->header_truncated = 1;
    }
    buf_append(state->header, data, len);
}

/* cleanup_header_flush - the logical header being built is complete */
static void cleanup_header_flush(CLEANUP_STATE *state)
{
    if (buf_len(state->header) == 0)
        return;
    cleanup_header(state, state->header);
    buf_reset(state->header);
    state->header_truncated = 0;
}

/* cleanup_body - one body record through body_checks into the file */
static void cleanup_body(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    if ((state->flags & CLEANUP_FLAG_FILTER) && cleanup_conf.body_checks) {
        BUF    *text = buf_alloc(len + 1);
        int     act;

        buf_append(text, data, len);
        act = cleanup_checks(state, cleanup_conf.body_checks, "body", text);
        if (act == CLEANUP_ACT_KEEP)
            cleanup_out_line(state, buf_str(text), buf_len(text), type == REC_TYPE_CONT);
        buf_free(text);
        return;
    }
    cleanup_out_line(state, data, len, type == REC_TYPE_CONT);
}

/* cleanup_content_line - a record, with stray CR/LF already replaced */
static void cleanup_content_line(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    int     continuing = state->last_partial;

    state->last_partial = (type == REC_TYPE_CONT);
    if (state->in_header) {
        if (continuing) {
            cleanup_header_append(state, data, len);
            return;
        }
        if (buf_len(state->header) > 0 && len > 0 && (data[0] == ' ' || data[0] == '\t')) {
            cleanup_header_append(state, "\n", 1);
            cleanup_header_append(state, data, len);
            return;
        }
        cleanup_header_flush(state);
        if (header_name_len(data, len)) {
            cleanup_header_append(state, data, len);
            return;
        }
        cleanup_header_done(state);
        state->in_header = 0;
    } else if (continuing) {
        cleanup_body(state, type, data, len);
        return;
    }
    if (CLEANUP_OUT_OK(state))
        cleanup_body(state, type, data, len);
}

/* cleanup_content - see cleanup.h */
void cleanup_content(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    BUF    *line;
    size_t  i;

    msg_size_record(&state->in_size, type, data, len);
    if (msg_size_exceeds(state->in_size.octets, cleanup_conf.message_size_limit))
        cleanup_set_reason(state, CLEANUP_STAT_SIZE, NULL);
    if (!CLEANUP_OUT_OK(state)) {
        state->last_partial = (type == REC_TYPE_CONT);
        return;
    }
    line = buf_alloc(len + 1);
    buf_append(line, data, len);
    if (cleanup_conf.replace_stray_cr_lf)
        for (i = 0; i < len; i++)
            if (line->data[i] == '\r' || line->data[i] == '\n')
                line->data[i] = ' ';
    cleanup_content_line(state, type, buf_str(line), buf_len(line));
    buf_free(line);
}

/* cleanup_content_end - X: finish the header if the message was all header */
void cleanup_content_end(CLEANUP_STATE *state)
{
    if (state->in_header) {
        cleanup_header_flush(state);
        cleanup_header_done(state);
        state->in_header = 0;
    }
    cleanup_out(state, REC_TYPE_XTRA, "", 0);
}
