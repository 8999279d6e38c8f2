/* cleanup_masq - address masquerading (Postfix's masquerade_domains).
 *
 * user@host.sub.example.com becomes user@example.com when
 * masquerade_domains lists example.com: the first listed domain that the
 * address's domain is a proper subdomain of replaces it. A listed domain
 * that equals the address's domain ends the search without a change; a
 * `!domain` entry that matches (equal or parent) ends it without a change
 * too, so `!sub.example.com, example.com` keeps sub.example.com's hosts
 * apart. Local parts (case-folded) that masquerade_exceptions matches
 * (names or TYPE:TABLE lookups of the name) are never masqueraded.
 * masquerade_classes (default envelope_sender, header_sender,
 * header_recipient) says which addresses: envelope_sender,
 * envelope_recipient, header_sender, header_recipient. As in Postfix it
 * applies after canonical mapping, with CLEANUP_FLAG_MAP_OK only.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "config.h"
#include "match_list.h"
#include "mem.h"
#include "msg.h"

/* cleanup_masq_init - parse the three parameters into cleanup_conf */
void cleanup_masq_init(void)
{
    static const struct {
        const char *name;
        int     flag;
    } classes[] = {
        {"envelope_sender", CLEANUP_MASQ_ENV_FROM},
        {"envelope_recipient", CLEANUP_MASQ_ENV_RCPT},
        {"header_sender", CLEANUP_MASQ_HDR_FROM},
        {"header_recipient", CLEANUP_MASQ_HDR_RCPT},
    };
    BUF    *why = buf_alloc(100);
    char  **list;
    int     count, i;
    size_t  j;

    cleanup_conf.masq_domains = config_split_list(config_str(P_masquerade_domains),
                                                  &cleanup_conf.masq_count);
    cleanup_conf.masq_flags = 0;
    list = config_split_list(config_str(P_masquerade_classes), &count);
    for (i = 0; i < count; i++) {
        for (j = 0; j < sizeof(classes) / sizeof(classes[0]); j++)
            if (strcasecmp(list[i], classes[j].name) == 0)
                break;
        if (j == sizeof(classes) / sizeof(classes[0]))
            msg_warn("masquerade_classes: unknown class %s -- ignored", list[i]);
        else
            cleanup_conf.masq_flags |= classes[j].flag;
    }
    config_free_list(list);
    cleanup_conf.masq_except = NULL;
    if (*config_str(P_masquerade_exceptions)
        && (cleanup_conf.masq_except = domain_list_init("masquerade_exceptions",
                                                        config_str(P_masquerade_exceptions),
                                                        0, why)) == NULL)
        msg_fatal("%s", buf_str(why));
    buf_free(why);
}

/* cleanup_masq_free - forget them (tests reload the configuration) */
void cleanup_masq_free(void)
{
    if (cleanup_conf.masq_domains)
        config_free_list(cleanup_conf.masq_domains);
    cleanup_conf.masq_domains = NULL;
    cleanup_conf.masq_count = 0;
    match_list_free(cleanup_conf.masq_except);
    cleanup_conf.masq_except = NULL;
}

/* cleanup_masq_excepted - is the local part one of masquerade_exceptions? */
static int cleanup_masq_excepted(const char *addr, size_t local_len)
{
    BUF    *name;
    size_t  i;
    int     found;

    if (cleanup_conf.masq_except == NULL)
        return 0;
    name = buf_alloc(local_len + 1);
    for (i = 0; i < local_len; i++)
        buf_putc(name, (char) tolower((unsigned char) addr[i]));
    found = domain_list_match(cleanup_conf.masq_except, buf_str(name)) == MATCH_YES;
    buf_free(name);
    return found;
}

/* cleanup_masquerade - see cleanup.h */
int cleanup_masquerade(CLEANUP_STATE *state, int class, BUF *addr)
{
    const char *at = strrchr(buf_str(addr), '@');
    const char *domain;
    size_t  domain_len, masq_len;
    int     i;

    (void) state;
    if ((cleanup_conf.masq_flags & class) == 0 || cleanup_conf.masq_count == 0 || at == NULL)
        return 0;
    domain = at + 1;
    domain_len = strlen(domain);
    if (cleanup_masq_excepted(buf_str(addr), (size_t) (at - buf_str(addr))))
        return 0;
    for (i = 0; i < cleanup_conf.masq_count; i++) {
        const char *masq = cleanup_conf.masq_domains[i];
        int     truncate = *masq != '!';

        if (!truncate)
            masq++;
        if ((masq_len = strlen(masq)) == 0)
            continue;
        if (masq_len == domain_len) {
            if (strcasecmp(masq, domain) == 0)
                return 0;
        } else if (masq_len < domain_len) {
            const char *parent = domain + domain_len - masq_len;

            if (parent[-1] == '.' && strcasecmp(masq, parent) == 0) {
                if (!truncate)
                    return 0;
                buf_truncate(addr, (size_t) (domain - buf_str(addr)));
                buf_puts(addr, masq);
                return 1;
            }
        }
    }
    return 0;
}
