/* attr - named attribute lists over a stream: the IPC of every daemon.
 *
 * Wire format (DESIGN §4): name NUL value NUL ... NUL — a list ends with an
 * empty name. Numbers travel as decimal text. Reading is strict: the
 * attributes must arrive in the order the reader asks for them, with no
 * name missing and none extra; a value longer than ATTR_VALUE_MAX, a name
 * longer than ATTR_NAME_MAX or a list longer than ATTR_COUNT_MAX is refused.
 * Every read is bounded by the stream's timeout.
 *
 * Calls are built with type-checked macros so that a wrong argument type is
 * a compile error, not a crash:
 *     attr_send(s, SEND_STR(MAIL_ATTR_QUEUEID, id), SEND_INT(MAIL_ATTR_STATUS, 0), ATTR_END);
 *     attr_recv(s, RECV_STR(MAIL_ATTR_QUEUEID, idbuf), RECV_INT(MAIL_ATTR_STATUS, &st), ATTR_END);
 * Both return 0 on success and -1 on failure; attr_last_error() says why.
 * Names come from mail_proto.h.
 *
 * Values on the wire: STR as is (it cannot hold NUL), INT and LONG as
 * decimal text (optional '-', digits only, in range), DATA as lower-case
 * hex, two digits per byte (upper case is accepted), so NUL bytes survive
 * and a DATA value holds at most ATTR_VALUE_MAX / 2 bytes. The names and
 * values of one list together hold at most ATTR_LIST_MAX bytes.
 * attr_send refuses (-1, nothing written) a list the reader would refuse;
 * a NULL or empty name, a NULL string or an unknown type is a panic.
 *
 * After a failed attr_recv the stream is out of step with the peer: close
 * it. A malformed list from one of our own daemons is a bug, which the
 * caller treats as fatal; the reader itself never crashes and never
 * allocates more than the bounds above.
 */
#ifndef SUREL_ATTR_H
#define SUREL_ATTR_H

#include "buf.h"
#include "stream.h"

#define ATTR_NAME_MAX   100
#define ATTR_VALUE_MAX  (1024 * 1024)
#define ATTR_COUNT_MAX  1024
#define ATTR_LIST_MAX   (4 * 1024 * 1024)   /* names + values of one list */

enum attr_type {
    ATTR_TYPE_END = 0,              /* end of the argument list */
    ATTR_TYPE_STR,                  /* const char * / BUF * */
    ATTR_TYPE_INT,                  /* int / int * */
    ATTR_TYPE_LONG,                 /* long / long * */
    ATTR_TYPE_DATA                  /* (const void *, size_t) / BUF * (may hold NUL: hex on the wire) */
};

/* Type checks: inline functions that only accept the right type. */
static inline const char *attr_cstr(const char *s) { return s; }
static inline BUF *attr_buf(BUF *b) { return b; }
static inline int *attr_intp(int *p) { return p; }
static inline long *attr_longp(long *p) { return p; }
static inline const void *attr_cptr(const void *p) { return p; }

#define ATTR_END                    ATTR_TYPE_END
#define SEND_STR(name, val)         ATTR_TYPE_STR, attr_cstr(name), attr_cstr(val)
#define SEND_INT(name, val)         ATTR_TYPE_INT, attr_cstr(name), (int) (val)
#define SEND_LONG(name, val)        ATTR_TYPE_LONG, attr_cstr(name), (long) (val)
#define SEND_DATA(name, ptr, len)   ATTR_TYPE_DATA, attr_cstr(name), attr_cptr(ptr), (size_t) (len)
#define RECV_STR(name, buf)         ATTR_TYPE_STR, attr_cstr(name), attr_buf(buf)
#define RECV_INT(name, ptr)         ATTR_TYPE_INT, attr_cstr(name), attr_intp(ptr)
#define RECV_LONG(name, ptr)        ATTR_TYPE_LONG, attr_cstr(name), attr_longp(ptr)
#define RECV_DATA(name, buf)        ATTR_TYPE_DATA, attr_cstr(name), attr_buf(buf)

int     attr_send(STREAM *s, ...);      /* writes and flushes one list */
int     attr_recv(STREAM *s, ...);      /* reads one list, strictly */
const char *attr_last_error(void);
/* 1 when the last failure was a clean end of input before the first byte of
 * a list: the peer closed between requests, which is no error to log. */
int     attr_last_eof(void);

/* A whole list read without knowing its shape (tools, tests, fuzzing). */
typedef struct ATTR_LIST {
    int     count;
    char  **names;
    char  **values;
} ATTR_LIST;

/* Values are kept as sent (DATA stays hex). `list` is overwritten; on
 * failure it is left empty. Release with attr_list_free. */
int     attr_recv_list(STREAM *s, ATTR_LIST *list);    /* 0 or -1 */
const char *attr_list_get(const ATTR_LIST *list, const char *name);   /* first, or NULL */
void    attr_list_free(ATTR_LIST *list);

#endif
