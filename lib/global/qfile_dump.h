/* qfile_dump - print one queue file readably: the one printer behind
 * `surel queue show` (Postfix's postcat -q).
 *
 * A file that verifies (qfile_read_envelope) is printed in sections:
 *     *** ENVELOPE RECORDS incoming/ID ***
 *     message_size: 1234
 *     message_arrival_time: Mon Jan  6 10:00:00 2025
 *     sender: a@example.com
 *     named_attribute: client_address=127.0.0.1
 *     recipient: b@example.com (todo)
 *         original_recipient: B@example.com
 *         dsn_orig_rcpt: rfc822;B@example.com
 *         dsn_notify: success,failure
 *     *** MESSAGE CONTENTS incoming/ID ***
 *     Subject: ...
 *     *** MESSAGE FILE END incoming/ID ***
 * QFILE_DUMP_ENVELOPE, _HEADER and _BODY alone print only that part,
 * without the section lines, for other tools. A file that does not verify
 * (incomplete, damaged: corrupt/ holds such files) is, for the whole view
 * only, walked record by record as `name: value` under "*** RECORDS
 * label (not a valid queue file: why) ***" up to the first bad record, so
 * that an administrator can see what is there. Control bytes (other than
 * TAB) and the backslash are printed as \ooo everywhere: queue files hold
 * what clients sent, and a dump must never drive the terminal.
 */
#ifndef SUREL_QFILE_DUMP_H
#define SUREL_QFILE_DUMP_H

#include "buf.h"
#include "stream.h"

#define QFILE_DUMP_ENVELOPE (1 << 0)
#define QFILE_DUMP_HEADER   (1 << 1)
#define QFILE_DUMP_BODY     (1 << 2)
#define QFILE_DUMP_ALL      (QFILE_DUMP_ENVELOPE | QFILE_DUMP_HEADER | QFILE_DUMP_BODY)

/* Print the open file fd (any offset; it is moved); label names it in the
 * section lines ("incoming/ID"). 0, or -1 with why (what could be read is
 * printed anyway, for the whole view). */
int     qfile_dump(int fd, const char *label, int what, STREAM *out, BUF *why);

#endif
