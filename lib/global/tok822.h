/* tok822 - find the addresses in an RFC 5322 address-list header value.
 *
 * cleanup rewrites the addresses in From:, To:, Cc: ... (canonical maps)
 * and extracts recipients from To:/Cc:/Bcc: for `sendmail -t`. Both need
 * to know where each address sits in text such as
 *     "Smith, John" <john@x.example> (work), undisclosed:;, bob@y
 * The tokenizer understands quoted strings, nested comments with escapes,
 * domain literals, angle addresses with source routes, and groups
 * (`name: a, b;`). Each address found is given in the internal form
 * (quotes and escapes removed: `john smith@x`) with its byte span in the
 * text, so that a caller can replace it and keep every other byte
 * (display names, comments, folding) exactly as written.
 *
 * Input may be anything (it comes from the network and is fuzzed): the
 * parser never reads past `len`, never fails, and stops looking after
 * TOK822_TOKEN_LIMIT tokens (Postfix's header_address_token_limit).
 */
#ifndef SUREL_TOK822_H
#define SUREL_TOK822_H

#include <stddef.h>

#include "buf.h"

#define TOK822_TOKEN_LIMIT  10240

typedef struct TOK822_ADDR {
    char   *addr;                   /* internal form; "" for <> */
    size_t  start;                  /* span of the address in the text: */
    size_t  end;                    /*   [start, end) */
} TOK822_ADDR;

typedef struct TOK822_LIST {
    int     count;
    TOK822_ADDR *addrs;
} TOK822_LIST;

/* tok822_parse - the addresses of an address list, in order; the count */
int     tok822_parse(const char *text, size_t len, TOK822_LIST *list);
void    tok822_list_free(TOK822_LIST *list);

/* tok822_quote - external form of an internal address: the local part
 * quoted when it is not a dot-atom (`"john smith"@x`). Appends to out. */
void    tok822_quote(const char *internal, BUF *out);

/* tok822_rewrite - text with address i replaced by the external form of
 * replace[i] (NULL: left as written). Replaces out's content. */
void    tok822_rewrite(const char *text, size_t len, const TOK822_LIST *list,
                       char *const *replace, BUF *out);

#endif
