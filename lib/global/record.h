/* record - typed, length-prefixed records: queue files and cleanup input.
 *
 * A record is one type byte, the data length in 7-bit groups (least
 * significant first, high bit = more follows), then the data, which may
 * hold any byte. Nothing is parsed by delimiters, so no content can forge
 * a record (Exim's spool-header injections are impossible by design).
 * The same records travel from smtpd/pickup to cleanup over the socket
 * and sit in the queue file (DESIGN §3).
 *
 * Record types (Postfix's letters where Postfix has one):
 *   C  size: fixed-width numbers, rewritten in place when the file is done
 *   T  arrival time "sec usec"          F  full name of a local sender
 *   S  envelope sender ("" for <>)      A  attribute "name=value"
 *   O  original recipient (as given)    o  DSN ORCPT "type;address"
 *   n  DSN NOTIFY bit mask (decimal)    R  recipient, to be delivered
 *   D  recipient done (an R whose type byte was overwritten)
 *   W  next delay warning time (fixed width, rewritten in place)
 *   M  start of content                 N  content line (without CRLF)
 *   L  partial content line, continued by the next N or L
 *   X  end of content, start of extracted envelope
 *   E  end of file: a file without it is incomplete
 *   I  content filter "transport:nexthop" (Postfix's REC_TYPE_FILT, whose
 *      letter 'L' is our partial line): smtpd sends it before S
 *      (content_filter, an access table FILTER), cleanup writes the final
 *      one after X (header/body_checks FILTER may replace it), qmgr sends
 *      every recipient to it (doc/design.md "Content filters")
 */
#ifndef SUREL_RECORD_H
#define SUREL_RECORD_H

#include <stddef.h>

#include "buf.h"
#include "stream.h"

#define REC_TYPE_SIZE   'C'
#define REC_TYPE_TIME   'T'
#define REC_TYPE_FULL   'F'
#define REC_TYPE_FROM   'S'
#define REC_TYPE_ATTR   'A'
#define REC_TYPE_ORCP   'O'
#define REC_TYPE_DSN_ORCPT 'o'
#define REC_TYPE_DSN_NOTIFY 'n'
#define REC_TYPE_RCPT   'R'
#define REC_TYPE_DONE   'D'
#define REC_TYPE_WARN   'W'
#define REC_TYPE_MESG   'M'
#define REC_TYPE_NORM   'N'
#define REC_TYPE_CONT   'L'
#define REC_TYPE_XTRA   'X'
#define REC_TYPE_END    'E'
#define REC_TYPE_FILT   'I'

#define REC_LEN_MAX     (1024 * 1024)   /* no record is ever longer */

/* rec_get results besides a record type (a positive byte). */
#define REC_EOF         (-1)            /* clean end of input before a record */
#define REC_ERROR       (-2)            /* I/O error, truncation, bad length */

int     rec_put(STREAM *s, int type, const void *data, size_t len);
int     rec_puts(STREAM *s, int type, const char *str);
int     rec_fprintf(STREAM *s, int type, const char *fmt, ...)
            __attribute__((format(printf, 3, 4)));
int     rec_get(STREAM *s, BUF *data, size_t limit);
size_t  rec_header_len(size_t data_len);    /* bytes before the data */
int     rec_type_known(int type);
const char *rec_type_name(int type);

#endif
