/* smtpd_restriction - the names of the SMTP server's restrictions, once:
 * smtpd evaluates them (smtpd/smtpd_check*.c) and `surel check` reports a
 * list that names anything else (a typo, or a Postfix restriction surel
 * does not have, which smtpd answers with 451 4.3.5 at run time).
 * Restriction classes (smtpd_restriction_classes) are names too; they
 * are the caller's to know.
 */
#ifndef SUREL_SMTPD_RESTRICTION_H
#define SUREL_SMTPD_RESTRICTION_H

#define RESTRICTION_ARG_TABLE   (1 << 0)    /* the next item is TYPE:TABLE */
#define RESTRICTION_ARG_DOMAIN  (1 << 1)    /* the next item is a DNSBL domain[=pattern] */
#define RESTRICTION_ARG_SERVICE (1 << 2)    /* the next item is a policy endpoint */
#define RESTRICTION_DNS         (1 << 3)    /* asks DNS (dns_servers) */

#define RESTRICTION_ARG (RESTRICTION_ARG_TABLE | RESTRICTION_ARG_DOMAIN | RESTRICTION_ARG_SERVICE)

typedef struct RESTRICTION_INFO {
    const char *name;
    int     flags;                  /* RESTRICTION_* */
} RESTRICTION_INFO;

/* smtpd_restriction_find - a restriction by name (any case), or NULL */
const RESTRICTION_INFO *smtpd_restriction_find(const char *name);

/* smtpd_restriction_table - every restriction; count set */
const RESTRICTION_INFO *smtpd_restriction_table(int *count);

#endif
