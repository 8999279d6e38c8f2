/* receive_override - receive_override_options (see receive_override.h) */
#include <stddef.h>
#include <strings.h>

#include "config.h"
#include "mail_proto.h"
#include "msg.h"
#include "receive_override.h"
#include "str_split.h"

static const struct {
    const char *name;
    int     bit;
} receive_override_names[] = {
    {"no_unknown_recipient_checks", RECEIVE_NO_UNKNOWN_RCPT},
    {"no_address_mappings", RECEIVE_NO_ADDR_MAPPINGS},
    {"no_header_body_checks", RECEIVE_NO_HEADER_BODY},
    {"no_milters", RECEIVE_NO_MILTERS},
};

int     receive_override_options(void)
{
    char  **words = str_split_list(config_str(P_receive_override_options), NULL);
    int     opts = 0;
    size_t  i, j;

    for (i = 0; words[i]; i++) {
        for (j = 0; j < sizeof(receive_override_names) / sizeof(receive_override_names[0]); j++)
            if (strcasecmp(words[i], receive_override_names[j].name) == 0)
                break;
        if (j < sizeof(receive_override_names) / sizeof(receive_override_names[0]))
            opts |= receive_override_names[j].bit;
        else
            msg_warn("receive_override_options: unknown option \"%s\" ignored", words[i]);
    }
    str_split_free(words);
    return opts;
}

int     receive_override_cleanup_flags(int flags, int opts)
{
    if (opts & RECEIVE_NO_ADDR_MAPPINGS)
        flags &= ~CLEANUP_FLAG_MAP_OK;
    if (opts & RECEIVE_NO_HEADER_BODY)
        flags &= ~CLEANUP_FLAG_FILTER;
    if (opts & RECEIVE_NO_MILTERS)
        flags &= ~(CLEANUP_FLAG_MILTER | CLEANUP_FLAG_SMTPD_MILTERS);
    return flags;
}
