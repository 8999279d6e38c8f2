/* fuzz_maildrop - the maildrop verifier (lib/global/maildrop.c) on the
 * record stream a local user hands to postdrop, as postdrop and then
 * pickup see it.
 *
 * Input: one byte choosing message_size_limit, then the record stream.
 * The stream is read with rec_get and checked record by record as
 * postdrop does (pd_copy), the accepted records are written back with
 * rec_put into a "maildrop file", and that file is read and checked
 * again as pickup does (pickup_verify).
 *
 * Beyond "does not crash" it checks, for every stream the checker
 * accepts:
 *  - the record types match the grammar of maildrop.h, written here as an
 *    independent regular expression: A{0,8} F? S ([Oon]* R)* M (L* N)* X E,
 *    with at least one R unless the flags ask for extraction, each
 *    attribute name at most once, and no more than MAILDROP_RCPT_MAX R;
 *  - the sender and every recipient hold no control character, space or
 *    RFC 5322 special that could change a header or a command line
 *    (" < > ( ) , ; \), never start with '-', and (unless an address
 *    literal) are parsed back unchanged by the SMTP path parser that
 *    smtpd and the rest of the system use;
 *  - the counted content size (lib/global/msg_size.h) is at most the sum
 *    of N (+2: CR LF) and L record lengths (leading trace fields are not
 *    counted), and within the limit;
 *  - pickup accepts what postdrop wrote, with the same records, and
 *    refuses anything after the E record.
 */
#include <fcntl.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "buf.h"
#include "mail_proto.h"
#include "maildrop.h"
#include "mem.h"
#include "record.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_CHECK(cond)  do { if (!(cond)) __builtin_trap(); } while (0)
#define FZ_RECORDS_MAX  20000

/* One pass over a stream: what the checker saw and said. */
typedef struct FZ_PASS {
    BUF    *types;                      /* record types accepted, in order */
    BUF    *out;                        /* the accepted records, rec_put */
    long    content;                    /* N len + 2, L len */
    long    nrcpt;
    int     flags;
    int     verdict;                    /* MAILDROP_DONE, or < 0 */
    MAILDROP_CHECK check;
} FZ_PASS;

/* fz_write - a stream write function that appends to a BUF */
static ssize_t fz_write(void *ctx, int fd, const void *buf, size_t len, int timeout)
{
    buf_append((BUF *) ctx, buf, len);
    return (ssize_t) len;
}

/* fz_address - the sender or a recipient the checker accepted */
static void fz_address(const char *addr, size_t len, int is_sender)
{
    BUF    *ext, *path, *parsed, *why;
    int     is_null;
    const char *rest, *at;
    size_t  i;

    FZ_CHECK(strlen(addr) == len);
    if (len == 0) {
        FZ_CHECK(is_sender);
        return;
    }
    FZ_CHECK(addr[0] != '-');
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char) addr[i];

        FZ_CHECK(ch >= 0x20 && ch != 0x7f);
        FZ_CHECK(strchr(" \"<>(),;\\", ch) == NULL);
    }
    at = memchr(addr, '@', len);
    for (i = 0; i < (at ? (size_t) (at - addr) : len); i++)
        if ((unsigned char) addr[i] >= 0x80)
            return;                     /* any 8-bit local part (maildrop.h); SMTP wants UTF-8 */
    ext = buf_alloc(100);
    path = buf_alloc(100);
    parsed = buf_alloc(100);
    why = buf_alloc(100);
    /* maildrop.h allows one trailing dot after the domain (Postfix strips
     * it when it rewrites the address); SMTP does not. */
    buf_set(why, addr);
    if (at && len > 1 && addr[len - 1] == '.')
        buf_truncate(why, len - 1);
    address_externalize(buf_str(why), ext);
    buf_sprintf(path, "<%s>", buf_str(ext));
    FZ_CHECK(address_parse_path(buf_str(path), ADDR_STRICT | ADDR_UTF8, parsed, &is_null,
                                &rest, why) == 0);
    FZ_CHECK(!is_null && *rest == 0);
    FZ_CHECK(buf_len(parsed) <= len && buf_len(parsed) + 1 >= len
             && memcmp(buf_str(parsed), addr, buf_len(parsed)) == 0);
    buf_free(ext);
    buf_free(path);
    buf_free(parsed);
    buf_free(why);
}

/* fz_pass - check the records of s as postdrop/pickup do */
static void fz_pass(FZ_PASS *p, STREAM *s, long limit)
{
    BUF    *data = buf_alloc(MAILDROP_RECORD_LIMIT + 1);
    BUF    *why = buf_alloc(100);
    static int devnull = -1;
    STREAM *out;
    int     type, rc = MAILDROP_MORE, n = 0;

    if (devnull < 0 && (devnull = open("/dev/null", O_WRONLY)) < 0)
        abort();
    out = stream_fdopen(devnull);       /* written through fz_write only */
    p->types = buf_alloc(100);
    p->out = buf_alloc(100);
    p->content = p->nrcpt = 0;
    stream_set_io(out, NULL, fz_write, p->out);
    maildrop_check_init(&p->check, limit);
    while (rc == MAILDROP_MORE && n++ < FZ_RECORDS_MAX) {
        if ((type = rec_get(s, data, MAILDROP_RECORD_LIMIT)) < 0) {
            rc = MAILDROP_BAD;
            break;
        }
        rc = maildrop_check_record(&p->check, type, buf_str(data), buf_len(data), why);
        if (rc < 0)
            break;
        buf_putc(p->types, type);
        FZ_CHECK(rec_put(out, type, buf_str(data), buf_len(data)) == 0);
        if (type == REC_TYPE_NORM)
            p->content += (long) buf_len(data) + 2;
        else if (type == REC_TYPE_CONT)
            p->content += (long) buf_len(data);
        else if (type == REC_TYPE_FROM || type == REC_TYPE_RCPT)
            fz_address(buf_str(data), buf_len(data), type == REC_TYPE_FROM);
        if (type == REC_TYPE_RCPT)
            p->nrcpt++;
    }
    if (rc == MAILDROP_DONE && rec_get(s, data, MAILDROP_RECORD_LIMIT) != REC_EOF)
        rc = MAILDROP_BAD;                /* data after the end record */
    FZ_CHECK(stream_flush(out) == 0);
    stream_release(out);
    p->verdict = rc;
    p->flags = p->check.flags;
    buf_free(data);
    buf_free(why);
}

static void fz_pass_free(FZ_PASS *p)
{
    buf_free(p->types);
    buf_free(p->out);
}

/* fz_grammar - the accepted type sequence, against maildrop.h's grammar */
static void fz_grammar(const FZ_PASS *p)
{
    static regex_t re;
    static int compiled;

    if (!compiled++)
        FZ_CHECK(regcomp(&re, "^A{0,8}F?S([Oon]*R)*M(L*N)*XE$", REG_EXTENDED | REG_NOSUB) == 0);
    FZ_CHECK(regexec(&re, buf_str(p->types), 0, NULL, 0) == 0);
    FZ_CHECK(p->nrcpt > 0 || (p->flags & CLEANUP_FLAG_EXTRACT));
    FZ_CHECK(p->nrcpt <= MAILDROP_RCPT_MAX && p->nrcpt == p->check.nrcpt);
    FZ_CHECK((p->flags & ~CLEANUP_FLAG_EXTRACT) == 0);
    FZ_CHECK(p->check.content_size.octets >= 0 && p->check.content_size.octets <= p->content);
    FZ_CHECK(p->check.size_limit == 0 || p->check.content_size.octets <= p->check.size_limit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long limits[] = {0, 10, 100, 1000, 10240000};
    FZ_PASS postdrop, pickup;
    STREAM *in;
    long    limit;

    if (size < 1)
        return 0;
    limit = limits[data[0] % 5];
    in = stream_memopen(data + 1, size - 1);
    fz_pass(&postdrop, in, limit);
    stream_release(in);
    if (postdrop.verdict == MAILDROP_DONE) {
        fz_grammar(&postdrop);
        /* What postdrop wrote, pickup must accept, record for record. */
        in = stream_memopen(buf_str(postdrop.out), buf_len(postdrop.out));
        fz_pass(&pickup, in, limit);
        stream_release(in);
        FZ_CHECK(pickup.verdict == MAILDROP_DONE);
        FZ_CHECK(strcmp(buf_str(pickup.types), buf_str(postdrop.types)) == 0);
        FZ_CHECK(buf_len(pickup.out) == buf_len(postdrop.out)
                 && memcmp(buf_str(pickup.out), buf_str(postdrop.out), buf_len(pickup.out)) == 0);
        fz_pass_free(&pickup);
        /* One more byte after E is refused. */
        buf_putc(postdrop.out, REC_TYPE_END);
        in = stream_memopen(buf_str(postdrop.out), buf_len(postdrop.out));
        fz_pass(&pickup, in, limit);
        stream_release(in);
        FZ_CHECK(pickup.verdict == MAILDROP_BAD);
        fz_pass_free(&pickup);
    }
    fz_pass_free(&postdrop);
    return 0;
}
