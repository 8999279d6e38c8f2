/* smtpd_restriction - the restriction names smtpd implements (see
 * smtpd_restriction.h). A name here that smtpd does not evaluate is a
 * bug smtpd panics on (unit test check_smtpd_check runs every one). */
#include <stddef.h>
#include <strings.h>

#include "smtpd_restriction.h"

static const RESTRICTION_INFO table[] = {
    /* Generic (smtpd_check.c). */
    {"permit", 0},
    {"dunno", 0},
    {"reject", 0},
    {"defer", 0},
    {"permit_mynetworks", 0},
    {"permit_sasl_authenticated", 0},
    {"reject_unauth_pipelining", 0},
    {"reject_sender_login_mismatch", 0},
    {"reject_authenticated_sender_login_mismatch", 0},
    {"reject_unauthenticated_sender_login_mismatch", 0},
    {"check_client_access", RESTRICTION_ARG_TABLE},
    {"check_helo_access", RESTRICTION_ARG_TABLE},
    {"check_sender_access", RESTRICTION_ARG_TABLE},
    {"check_recipient_access", RESTRICTION_ARG_TABLE},
    {"check_policy_service", RESTRICTION_ARG_SERVICE},
    /* Addresses, relaying and HELO (smtpd_check_addr.c). */
    {"reject_unauth_destination", 0},
    {"defer_unauth_destination", 0},
    {"permit_auth_destination", 0},
    {"reject_non_fqdn_sender", 0},
    {"reject_non_fqdn_recipient", 0},
    {"reject_unknown_sender_domain", 0},
    {"reject_unknown_recipient_domain", 0},
    {"reject_unlisted_sender", 0},
    {"reject_unlisted_recipient", 0},
    {"check_recipient_maps", 0},
    {"reject_invalid_helo_hostname", 0},
    {"reject_invalid_hostname", 0},
    {"reject_non_fqdn_helo_hostname", 0},
    {"reject_non_fqdn_hostname", 0},
    /* The client's name (smtpd_check.c, found by smtpd_peer.c). */
    {"reject_unknown_client_hostname", 0},
    {"reject_unknown_client", 0},
    {"reject_unknown_reverse_client_hostname", 0},
    /* DNS block and allow lists (smtpd_check_dnsbl.c). */
    {"reject_rbl_client", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"reject_rhsbl_client", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"reject_rhsbl_reverse_client", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"reject_rhsbl_sender", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"reject_rhsbl_helo", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"permit_dnswl_client", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
    {"permit_rhswl_client", RESTRICTION_ARG_DOMAIN | RESTRICTION_DNS},
};

const RESTRICTION_INFO *smtpd_restriction_find(const char *name)
{
    size_t  i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcasecmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const RESTRICTION_INFO *smtpd_restriction_table(int *count)
{
    *count = (int) (sizeof(table) / sizeof(table[0]));
    return table;
}
