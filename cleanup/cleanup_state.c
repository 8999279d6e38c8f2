/* cleanup_state - one submission from queue ID to commit: the record
 * state machine of the cleanup protocol (mail_proto.h) and the end game.
 *
 * The client's records must follow  A* F? S ((O|o|n)* R)* M (N|L)* X E.
 * Anything else (a record type clients may not send, C T D W, a record out
 * of place) is CLEANUP_STAT_BAD; records are then read and dropped up to
 * E, so that the client, which writes the whole message before it reads
 * the answer, still gets one. Errors found in the content (size, REJECT,
 * hops) work the same way: the rest is drained, nothing is queued.
 */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "mail_proto.h"
#include "mail_queue.h"
#include "mem.h"
#include "msg.h"
#include "record.h"

/* cleanup_open - a new submission with its queue file in temp/ */
CLEANUP_STATE *cleanup_open(int flags, BUF *why)
{
    CLEANUP_STATE *state;
    QFILE_WRITER *qf;

    if ((qf = qfile_create(cleanup_conf.queue_dir, why)) == NULL)
        return NULL;
    state = xcalloc(1, sizeof(*state));
    msg_size_init(&state->in_size);
    state->qf = qf;
    state->dst = qfile_stream(qf);
    memcpy(state->queue_id, qf->id, sizeof(state->queue_id));
    state->flags = flags;
    state->hold = (flags & CLEANUP_FLAG_HOLD) != 0;  /* smtpd: a milter quarantined it */
    /* sendmail -t: only local submissions (pickup) may ask. */
    state->extract = (flags & CLEANUP_FLAG_LOCAL) && (flags & CLEANUP_FLAG_EXTRACT);
    state->reason = buf_alloc(64);
    state->phase = CLEANUP_PH_ATTR;
    state->in.data = buf_alloc(256);
    state->dups = cleanup_dup_create();
    state->header = buf_alloc(256);
    state->temp = buf_alloc(256);
    state->in_header = 1;
    return state;
}

/* cleanup_free_strings - release an array of strings */
static void cleanup_free_strings(char **list, int count)
{
    int     i;

    for (i = 0; i < count; i++)
        xfree(list[i]);
    xfree(list);
}

/* cleanup_free - release everything; the queue file must be dealt with first */
void cleanup_free(CLEANUP_STATE *state)
{
    int     i;

    cleanup_milter_free(state);
    if (state->qf)
        qfile_abort(state->qf);
    buf_free(state->reason);
    buf_free(state->in.data);
    buf_free(state->header);
    buf_free(state->temp);
    cleanup_free_strings(state->attrs, state->nattrs);
    cleanup_free_strings(state->xtr, state->nxtr);
    cleanup_free_strings(state->xtr_resent, state->nxtr_resent);
    for (i = 0; i < state->nrcpt; i++) {
        xfree(state->rcpts[i].addr);
        xfree(state->rcpts[i].orcpt);
        xfree(state->rcpts[i].dsn_orcpt);
    }
    xfree(state->rcpts);
    cleanup_dup_free(state->dups);
    xfree(state->fullname);
    xfree(state->filter);
    xfree(state->sender);
    xfree(state->log_sender);
    xfree(state->first_rcpt);
    xfree(state->p_orcpt);
    xfree(state->p_dsn_orcpt);
    xfree(state->redirect);
    xfree(state);
}

/* cleanup_abort - the submission failed or the client left: no file stays */
void cleanup_abort(CLEANUP_STATE *state)
{
    cleanup_free(state);
}

/* cleanup_set_reason - record an error and, first one wins, its text */
void cleanup_set_reason(CLEANUP_STATE *state, int err, const char *text)
{
    state->errs |= err;
    if (text && buf_len(state->reason) == 0)
        buf_set(state->reason, text);
}

/* cleanup_bad - a protocol error: nothing is queued; drain up to E */
void cleanup_bad(CLEANUP_STATE *state, const char *what)
{
    msg_warn("%s: message rejected: %s", state->queue_id, what);
    state->errs |= CLEANUP_STAT_BAD;
    state->phase = CLEANUP_PH_SKIP;
}

/* cleanup_record - one record from the client */
void cleanup_record(CLEANUP_STATE *state, int type, const char *data, size_t len)
{
    switch (state->phase) {
    case CLEANUP_PH_ATTR:
    case CLEANUP_PH_RCPT:
        cleanup_envelope(state, type, data, len);
        return;
    case CLEANUP_PH_CONTENT:
        if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
            cleanup_content(state, type, data, len);
        } else if (type == REC_TYPE_XTRA) {
            if (state->last_partial) {
                cleanup_bad(state, "content ends inside a line");
                return;
            }
            cleanup_content_end(state);
            if (state->phase == CLEANUP_PH_CONTENT)
                state->phase = CLEANUP_PH_EXTRACTED;
        } else {
            cleanup_bad(state, "unexpected record type in message content");
        }
        return;
    case CLEANUP_PH_EXTRACTED:
        if (type == REC_TYPE_END)
            state->phase = CLEANUP_PH_DONE;
        else
            cleanup_bad(state, "unexpected record type after the content");
        return;
    case CLEANUP_PH_SKIP:
        if (type == REC_TYPE_END)
            state->phase = CLEANUP_PH_DONE;
        return;
    case CLEANUP_PH_DONE:
        cleanup_bad(state, "records after the end record");
        state->phase = CLEANUP_PH_DONE;
        return;
    }
}

/* cleanup_commit - the end record, then durable and visible */
static void cleanup_commit(CLEANUP_STATE *state)
{
    QFILE_SIZES sizes;
    BUF    *why = buf_alloc(100);

    cleanup_write_rcpts(state);
    cleanup_out(state, REC_TYPE_END, "", 0);
    memset(&sizes, 0, sizeof(sizes));
    sizes.content_size = state->content_size;
    sizes.data_offset = state->data_offset;
    sizes.nrcpt = state->nrcpt;
    if (state->errs == 0
        && qfile_commit(state->qf, state->hold ? MAIL_QUEUE_HOLD : MAIL_QUEUE_INCOMING,
                        &sizes, why) == 0) {
        qfile_writer_free(state->qf);
        state->qf = NULL;
        cleanup_trigger_qmgr();
    } else {
        if (state->errs == 0)
            msg_warn("%s: %s", state->queue_id, buf_str(why));
        state->errs |= CLEANUP_STAT_WRITE;
    }
    buf_free(why);
}

/* cleanup_finish - after E (or a broken stream): commit or drop the file.
 * Returns the status for the client; the reason is in state->reason. */
int cleanup_finish(CLEANUP_STATE *state)
{
    if (state->phase != CLEANUP_PH_DONE && state->errs == 0)
        cleanup_bad(state, "premature end of input");
    cleanup_milter_finish(state);       /* filters: content, verdict, changes */
    if (state->errs == 0 && state->discard) {
        buf_set(state->reason, "discarded");
        return CLEANUP_STAT_OK;         /* cleanup_free removes the file */
    }
    if (state->errs == 0 && state->redirect == NULL && state->nrcpt == 0)
        state->errs |= CLEANUP_STAT_RCPT;
    if (state->errs == 0)
        cleanup_commit(state);
    /* Temporary wins, never a bounce; CONT stays with it (a 4.x.x
     * header_checks REJECT: cleanup has logged the rejection). */
    if (state->errs & CLEANUP_STAT_DEFER)
        return CLEANUP_STAT_DEFER | (state->errs & CLEANUP_STAT_CONT);
    return state->errs;
}
