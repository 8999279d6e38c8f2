/* match_list - Postfix-style match lists: client host lists and domain lists.
 *
 * A list is a parameter value (`mynetworks`, `relay_domains`,
 * `mydestination`, ...): patterns separated by commas or white space,
 * parsed once (before chroot: tables are opened then) and matched many
 * times. Patterns, in order, first match wins; no match is MATCH_NO:
 *     192.0.2.0/24  192.0.2.1  [2001:db8::]/32  [::1]  2001:db8::1
 *                    network or single address (host lists only)
 *     example.com   that name; its subdomains too with MATCH_FLAG_PARENT
 *     .example.com  subdomains of example.com
 *     type:table    looked up with the name (and its parents, as
 *                   `.parent` keys unless MATCH_FLAG_PARENT) and, in host
 *                   lists, with the client address; any value is a match
 *     /file/name    patterns read from that file (one or more a line)
 *     !pattern      a match of pattern makes the answer MATCH_NO
 * An IPv4-mapped IPv6 client address (::ffff:192.0.2.1) matches the IPv4
 * patterns. `#` is no comment inside a value (main.cf has comment lines
 * only): a pattern starting with `#` is an error. A table that can't be
 * read makes the answer MATCH_TRYLATER, so that mail waits.
 */
#ifndef SUREL_MATCH_LIST_H
#define SUREL_MATCH_LIST_H

#include "buf.h"

#define MATCH_FLAG_PARENT   (1 << 0)    /* "example.com" matches sub.example.com */

typedef enum match_result {
    MATCH_NO = 0,
    MATCH_YES = 1,
    MATCH_TRYLATER = 2
} MATCH_RESULT;

typedef struct MATCH_LIST MATCH_LIST;

/* Host lists (mynetworks): NULL + why on a pattern that can't be parsed. */
MATCH_LIST *host_list_init(const char *param, const char *text, int flags, BUF *why);
/* name: the client's verified name, NULL or "unknown" if none; addr: its address. */
MATCH_RESULT host_list_match(MATCH_LIST *list, const char *name, const char *addr);

/* Domain lists (mydestination, relay_domains, virtual_*_domains). */
MATCH_LIST *domain_list_init(const char *param, const char *text, int flags, BUF *why);
MATCH_RESULT domain_list_match(MATCH_LIST *list, const char *domain);

void    match_list_free(MATCH_LIST *list);

/* "192.0.2.1", "::1", "::ffff:192.0.2.1" as 16 bytes (IPv4 as IPv4-mapped);
 * 0, or -1 for text that is no address. */
int     match_parse_addr(const char *text, unsigned char addr[16]);

#endif
