/* dnsbl_pattern - the reply filter of a DNSBL restriction
 * (reject_rbl_client bl.example=PATTERN): Postfix's ip_match syntax,
 * four octets, each a number or a [list] of numbers and n..m ranges
 * separated by ';' (127.0.0.2, 127.0.0.[2..11], 127.0.[0;1].[2;4..6]).
 * smtpd matches A records with it; `surel check` checks the syntax.
 */
#ifndef SUREL_DNSBL_PATTERN_H
#define SUREL_DNSBL_PATTERN_H

/* dnsbl_pattern_match - an A record (4 bytes) against pattern: 1 match,
 * 0 no match, -1 a bad pattern */
int     dnsbl_pattern_match(const char *pattern, const unsigned char addr[4]);

/* dnsbl_pattern_valid - 1 when pattern parses */
int     dnsbl_pattern_valid(const char *pattern);

#endif
