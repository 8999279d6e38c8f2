/* fuzz_smtpd_cmd - the SMTP command parser and the DATA reader on
 * arbitrary bytes.
 *
 * Each input line goes through what a session runs on a command line:
 * smtpd_cmd_split, then for MAIL/RCPT the path parser and the ESMTP
 * parameter parsers, for BDAT its arguments. The whole input is also fed
 * to the DATA reader (dot mode and BDAT mode), which must end DATA only
 * right after <CR><LF>.<CR><LF> (invariant 5): anything else is a panic.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "buf.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_sink - content records: check their bounds */
static void fuzz_sink(void *ctx, int type, const char *rec, size_t len)
{
    (void) ctx;
    (void) rec;
    if (len > 64)
        msg_panic("fuzz_smtpd_cmd: record type %c of %zu bytes over the limit", type, len);
}

/* fuzz_line - one command line the way smtpd_dispatch sees it */
static void fuzz_line(const char *line, size_t len)
{
    BUF    *verb = buf_alloc(32);
    BUF    *reply = buf_alloc(100);
    BUF    *addr = buf_alloc(100);
    char   *copy = xmalloc(len + 1);
    const char *args;
    const char *path;
    const char *params;
    int     is_null;

    memcpy(copy, line, len);
    copy[len] = 0;
    if (smtpd_cmd_split(copy, len, verb, &args, reply) == 0) {
        if (strlen(args) > len)
            msg_panic("fuzz_smtpd_cmd: args past the line");
        if (strcasecmp(buf_str(verb), "MAIL") == 0 && smtpd_cmd_keyword(args, "FROM:", &path)) {
            SMTPD_MAIL_ARGS a;

            smtpd_mail_args_init(&a);
            if (address_parse_path(path, ADDR_UTF8, addr, &is_null, &params, reply) == 0)
                (void) smtpd_mail_params(params, 1, &a, reply);
            if (buf_len(a.envid) > DSN_ENVID_MAX)
                msg_panic("fuzz_smtpd_cmd: ENVID too long");
            smtpd_mail_args_free(&a);
        } else if (strcasecmp(buf_str(verb), "RCPT") == 0 && smtpd_cmd_keyword(args, "TO:", &path)) {
            SMTPD_RCPT_ARGS a;

            smtpd_rcpt_args_init(&a);
            if (address_parse_path(path, ADDR_UTF8, addr, &is_null, &params, reply) == 0)
                (void) smtpd_rcpt_params(params, 1, &a, reply);
            smtpd_rcpt_args_free(&a);
        } else if (strcasecmp(buf_str(verb), "BDAT") == 0) {
            long long n;
            int     last;

            if (smtpd_bdat_args(args, &n, &last) == 0 && n < 0)
                msg_panic("fuzz_smtpd_cmd: negative BDAT size");
        }
    }
    xfree(copy);
    buf_free(verb);
    buf_free(reply);
    buf_free(addr);
}

/* fuzz_data - the DATA reader may only stop right after CRLF.CRLF */
static void fuzz_data(const uint8_t *data, size_t size)
{
    SMTPD_DATA d;
    size_t  used;

    smtpd_data_init(&d, 1, 64, 1, fuzz_sink, NULL);
    if (smtpd_data_feed(&d, (const char *) data, size, &used) == SMTPD_DATA_END) {
        if (used < 3 || memcmp(data + used - 3, ".\r\n", 3) != 0
            || (used > 3 && (used < 5 || memcmp(data + used - 5, "\r\n", 2) != 0)))
            msg_panic("fuzz_smtpd_cmd: DATA ended at %zu without CRLF.CRLF", used);
    }
    smtpd_data_free(&d);
    smtpd_data_init(&d, 0, 64, 1, fuzz_sink, NULL);
    if (smtpd_data_feed(&d, (const char *) data, size, &used) != SMTPD_DATA_MORE || used != size)
        msg_panic("fuzz_smtpd_cmd: BDAT content ended early");
    smtpd_data_finish(&d);
    smtpd_data_free(&d);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *cp = (const char *) data;
    const char *end = cp + size;

    while (cp < end) {
        const char *nl = memchr(cp, '\n', (size_t) (end - cp));
        size_t  len = (size_t) ((nl ? nl : end) - cp);

        if (len > 0 && cp[len - 1] == '\r')
            len--;
        fuzz_line(cp, len);
        cp = nl ? nl + 1 : end;
    }
    fuzz_data(data, size);
    return 0;
}
