/* smtpd_check - TEMPORARY STUB so that smtpd links before the access
 * branch lands. DROP THIS FILE when merging (the real one comes from the
 * access-control engineer). Implements only the restriction word
 * "reject" in each smtpd_*_restrictions list, which the tests use.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "smtpd_check.h"

/* stub_has_reject - the list names the "reject" restriction */
static int stub_has_reject(PARAM_ID id)
{
    char  **list;
    int     n;
    int     i;
    int     found = 0;

    list = config_split_list(config_str(id), &n);
    for (i = 0; i < n; i++)
        if (strcmp(list[i], "reject") == 0)
            found = 1;
    config_free_list(list);
    return found;
}

void    smtpd_check_init(void)
{
}

int     smtpd_check_client(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    if (!stub_has_reject(P_smtpd_client_restrictions) || config_bool(P_smtpd_delay_reject))
        return SMTPD_CHECK_OK;
    buf_sprintf(reply, "554 5.7.1 <unknown[%s]>: Client host rejected: Access denied",
                ctx->client_addr);
    return SMTPD_CHECK_REJECT;
}

int     smtpd_check_helo(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    (void) ctx;
    (void) reply;
    return SMTPD_CHECK_OK;
}

int     smtpd_check_mail(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    (void) ctx;
    (void) reply;
    return SMTPD_CHECK_OK;
}

int     smtpd_check_rcpt(const SMTPD_CHECK_CTX *ctx, const char *rcpt, BUF *reply)
{
    (void) ctx;
    if (!stub_has_reject(P_smtpd_recipient_restrictions))
        return SMTPD_CHECK_OK;
    buf_sprintf(reply, "554 5.7.1 <%s>: Recipient address rejected: Access denied", rcpt);
    return SMTPD_CHECK_REJECT;
}

int     smtpd_check_data(const SMTPD_CHECK_CTX *ctx, BUF *reply)
{
    (void) ctx;
    (void) reply;
    return SMTPD_CHECK_OK;
}

int     smtpd_check_in_mynetworks(const char *client_addr)
{
    (void) client_addr;
    return 1;
}
