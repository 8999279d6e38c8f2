/* check_smtpd_check - SMTP access control, called the way smtpd calls it.
 *
 * Each case adds main.cf lines to a base configuration, runs
 * smtpd_check_init and one check, and compares the whole reply line with
 * what Postfix sends in the same situation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"
#include "smtpd_restriction.h"
#include "dnsbl_pattern.h"
#include "testsupport.h"

#define INSIDE      "192.0.2.7"         /* in the base mynetworks */
#define OUTSIDE     "203.0.113.5"
#define OK          SMTPD_CHECK_OK
#define REJECT      SMTPD_CHECK_REJECT
#define DEFER       SMTPD_CHECK_DEFER

static const char base_conf[] =
    "myhostname = mx.example.com\n"
    "mydomain = example.com\n"
    "mynetworks = 192.0.2.0/24 [2001:db8::]/32\n"
    "inet_interfaces = 192.0.2.10\n"
    "alias_maps =\n"
    "local_recipient_maps = inline:{alice=x, bob=x, postmaster=x}\n"
    "relay_domains = relay.example\n"
    "virtual_alias_maps = inline:{valias.example=x, info@valias.example=alice}\n"
    "virtual_mailbox_domains = vmail.example\n"
    "virtual_mailbox_maps = inline:{carol@vmail.example=x}\n";

/* configure - the base configuration plus a case's lines; then init */
static void configure(const char *extra)
{
    BUF    *why = buf_alloc(64);

    config_reset();
    ck_assert_msg(config_parse_text(base_conf, strlen(base_conf), why) == 0, "%s", buf_str(why));
    if (extra)
        ck_assert_msg(config_parse_text(extra, strlen(extra), why) == 0, "%s: %s", extra,
                      buf_str(why));
    smtpd_check_init();
    buf_free(why);
}

/* One RCPT TO and the answer. */
typedef struct RCPT_CASE {
    const char *conf;               /* main.cf lines added to base_conf */
    const char *client;             /* client address */
    const char *helo;
    const char *sender;             /* internal form; "" for <> */
    const char *rcpt;               /* internal form */
    int     want;                   /* SMTPD_CHECK_* */
    const char *reply;              /* the whole reply when not OK */
} RCPT_CASE;

static const RCPT_CASE rcpt_cases[] = {
    /* 0: local mail from anywhere; relaying only from mynetworks */
    {NULL, OUTSIDE, "client.example", "s@client.example", "alice@mx.example.com", OK, NULL},
    {NULL, OUTSIDE, "client.example", "s@client.example", "user@remote.example", DEFER,
     "450 4.7.1 <user@remote.example>: Relay access denied"},
    {NULL, INSIDE, "client.example", "s@client.example", "user@remote.example", OK, NULL},
    {NULL, "::ffff:192.0.2.7", "c.example", "s@c.example", "user@remote.example", OK, NULL},
    {NULL, "2001:db8::7", "c.example", "s@c.example", "user@remote.example", OK, NULL},
    {"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination\n",
     OUTSIDE, "c.example", "s@c.example", "user@remote.example", REJECT,
     "554 5.7.1 <user@remote.example>: Relay access denied"},
    /* 6: relay tricks: a local domain with routing in the local part */
    {NULL, OUTSIDE, "c.example", "s@c.example", "user%remote.example@mx.example.com", DEFER,
     "450 4.7.1 <user%remote.example@mx.example.com>: Relay access denied"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "remote.example!user@mx.example.com", DEFER,
     "450 4.7.1 <remote.example!user@mx.example.com>: Relay access denied"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "user@remote.example@mx.example.com", DEFER,
     "450 4.7.1 <user@remote.example@mx.example.com>: Relay access denied"},
    {"smtpd_relay_restrictions = reject_unauth_destination\n", OUTSIDE, "c.example",
     "s@c.example", "user%remote.example@localhost", REJECT,
     "554 5.7.1 <user%remote.example@localhost>: Relay access denied"},
    {"smtpd_relay_restrictions = reject_unauth_destination\n", OUTSIDE, "c.example",
     "s@c.example", "user%remote.example@relay.example", REJECT,
     "554 5.7.1 <user%remote.example@relay.example>: Relay access denied"},
    /* 11: allow_untrusted_routing lets it through relay control; the user is unknown */
    {"allow_untrusted_routing = yes\n", OUTSIDE, "c.example", "s@c.example",
     "user%remote.example@mx.example.com", REJECT,
     "550 5.1.1 <user%remote.example@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    /* 12: relay_domains, literals, unqualified, case, trailing dot */
    {NULL, OUTSIDE, "c.example", "s@c.example", "anyone@relay.example", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "anyone@sub.relay.example", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "anyone@xrelay.example", DEFER,
     "450 4.7.1 <anyone@xrelay.example>: Relay access denied"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "alice@[192.0.2.10]", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "alice@[192.0.2.99]", DEFER,
     "450 4.7.1 <alice@[192.0.2.99]>: Relay access denied"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "alice", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "Alice@MX.Example.COM.", OK, NULL},
    /* 18: our own IPv6 address as a literal (SASL: test_sasl_needed) */
    {NULL, OUTSIDE, "c.example", "s@c.example", "alice@[IPv6:::1]", OK, NULL},
    /* 19: unknown users: local, virtual alias, virtual mailbox */
    {NULL, OUTSIDE, "c.example", "s@c.example", "nobody@mx.example.com", REJECT,
     "550 5.1.1 <nobody@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    {"recipient_delimiter = +\n", OUTSIDE, "c.example", "s@c.example",
     "alice+tag@mx.example.com", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "alice+tag@mx.example.com", REJECT,
     "550 5.1.1 <alice+tag@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "info@valias.example", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "other@valias.example", REJECT,
     "550 5.1.1 <other@valias.example>: Recipient address rejected: "
     "User unknown in virtual alias table"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "carol@vmail.example", OK, NULL},
    {NULL, OUTSIDE, "c.example", "s@c.example", "dave@vmail.example", REJECT,
     "550 5.1.1 <dave@vmail.example>: Recipient address rejected: "
     "User unknown in virtual mailbox table"},
    {"smtpd_reject_unlisted_recipient = no\n", OUTSIDE, "c.example", "s@c.example",
     "nobody@mx.example.com", OK, NULL},
    {"local_recipient_maps =\n", OUTSIDE, "c.example", "s@c.example",
     "nobody@mx.example.com", OK, NULL},
    {"unknown_local_recipient_reject_code = 450\n", OUTSIDE, "c.example", "s@c.example",
     "nobody@mx.example.com", DEFER,
     "450 4.1.1 <nobody@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    /* 29: tables that fail: 451, never a reject */
    {"local_recipient_maps = texthash:/nonexistent/surel-users\n", OUTSIDE, "c.example",
     "s@c.example", "nobody@mx.example.com", DEFER,
     "451 4.3.0 <nobody@mx.example.com>: Temporary lookup failure"},
    {"relay_domains = texthash:/nonexistent/surel-relay\n", OUTSIDE, "c.example",
     "s@c.example", "user@remote.example", DEFER,
     "451 4.3.0 <user@remote.example>: Temporary lookup failure"},
    {"mynetworks = texthash:/nonexistent/surel-nets\n", OUTSIDE, "c.example", "s@c.example",
     "user@remote.example", DEFER, "451 4.3.0 <unknown[203.0.113.5]>: Temporary lookup failure"},
    {"smtpd_recipient_restrictions = check_recipient_access texthash:/nonexistent/surel-a\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "451 4.3.0 <alice@mx.example.com>: Temporary lookup failure"},
    /* 33: fully-qualified addresses */
    {"smtpd_recipient_restrictions = reject_non_fqdn_recipient\n", INSIDE, "c.example",
     "s@c.example", "alice@localhost", REJECT,
     "504 5.5.2 <alice@localhost>: Recipient address rejected: need fully-qualified address"},
    {"smtpd_recipient_restrictions = reject_non_fqdn_recipient\n", INSIDE, "c.example",
     "s@c.example", "alice", REJECT,
     "504 5.5.2 <alice>: Recipient address rejected: need fully-qualified address"},
    {"smtpd_recipient_restrictions = reject_non_fqdn_recipient\n", INSIDE, "c.example",
     "s@c.example", "alice@[192.0.2.10]", OK, NULL},
    {"smtpd_sender_restrictions = reject_non_fqdn_sender\n", INSIDE, "c.example", "bob",
     "alice@mx.example.com", REJECT,
     "504 5.5.2 <bob>: Sender address rejected: need fully-qualified address"},
    {"smtpd_sender_restrictions = reject_non_fqdn_sender\n", INSIDE, "c.example", "",
     "alice@mx.example.com", OK, NULL},
    /* 38: known domains, without DNS */
    {"smtpd_sender_restrictions = reject_unknown_sender_domain\n", OUTSIDE, "c.example",
     "x@nosuchtld", "alice@mx.example.com", DEFER,
     "450 4.1.8 <x@nosuchtld>: Sender address rejected: Domain not found"},
    {"smtpd_sender_restrictions = reject_unknown_sender_domain\n", OUTSIDE, "c.example",
     "x@host.invalid", "alice@mx.example.com", DEFER,
     "450 4.1.8 <x@host.invalid>: Sender address rejected: Domain not found"},
    {"smtpd_sender_restrictions = reject_unknown_sender_domain\n", OUTSIDE, "c.example",
     "x@example.org", "alice@mx.example.com", OK, NULL},
    {"smtpd_sender_restrictions = reject_unknown_sender_domain\n", OUTSIDE, "c.example",
     "alice@localhost", "alice@mx.example.com", OK, NULL},
    {"smtpd_sender_restrictions = reject_unknown_sender_domain\n", OUTSIDE, "c.example",
     "", "alice@mx.example.com", OK, NULL},
    {"smtpd_recipient_restrictions = reject_unknown_recipient_domain\n", INSIDE, "c.example",
     "s@c.example", "x@remote.invalid", DEFER,
     "450 4.1.2 <x@remote.invalid>: Recipient address rejected: Domain not found"},
    {"smtpd_recipient_restrictions = reject_unknown_recipient_domain\n"
     "unknown_address_reject_code = 550\n", INSIDE, "c.example", "s@c.example",
     "x@remote.invalid", REJECT,
     "550 5.1.2 <x@remote.invalid>: Recipient address rejected: Domain not found"},
    /* 45: unlisted senders */
    {"smtpd_sender_restrictions = reject_unlisted_sender\n", OUTSIDE, "c.example",
     "mallory@mx.example.com", "alice@mx.example.com", REJECT,
     "550 5.1.0 <mallory@mx.example.com>: Sender address rejected: "
     "User unknown in local recipient table"},
    {"smtpd_sender_restrictions = reject_unlisted_sender\n", OUTSIDE, "c.example",
     "bob@mx.example.com", "alice@mx.example.com", OK, NULL},
    {"smtpd_reject_unlisted_sender = yes\n", OUTSIDE, "c.example",
     "mallory@mx.example.com", "alice@mx.example.com", REJECT,
     "550 5.1.0 <mallory@mx.example.com>: Sender address rejected: "
     "User unknown in local recipient table"},
    /* 48: access tables: results as access(5) gives them */
    {"smtpd_recipient_restrictions = check_recipient_access inline:{spam@mx.example.com=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "spam@mx.example.com", REJECT,
     "554 5.7.1 <spam@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{{alice@mx.example.com=REJECT go away}}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: go away"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{{alice@mx.example.com=550 5.1.1 no such user}}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "550 5.1.1 <alice@mx.example.com>: Recipient address rejected: no such user"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{{alice@mx.example.com=450 come back later}}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <alice@mx.example.com>: Recipient address rejected: come back later"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=DEFER}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{mx.example.com=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{.example.com=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{example.com=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=DUNNO}, reject\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=OK}, reject\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=12345}, reject\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=reject_non_fqdn_sender}\n",
     OUTSIDE, "c.example", "bob", "alice@mx.example.com", REJECT,
     "504 5.5.2 <bob>: Sender address rejected: need fully-qualified address"},
    /* the action DEFER, in any case (as Postfix), not the restriction defer */
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=defer}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    /* 61: an OK in the recipient list can't open the relay: both lists must permit */
    {"smtpd_recipient_restrictions = check_recipient_access inline:{user@remote.example=OK}\n",
     OUTSIDE, "c.example", "s@c.example", "user@remote.example", DEFER,
     "450 4.7.1 <user@remote.example>: Relay access denied"},
    {"smtpd_recipient_restrictions = permit\n", OUTSIDE, "c.example", "s@c.example",
     "user@remote.example", DEFER, "450 4.7.1 <user@remote.example>: Relay access denied"},
    /* 63: configuration errors: mail waits */
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=static:x}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "451 4.3.5 Server configuration error"},
    {"smtpd_recipient_restrictions = frobnicate\n", OUTSIDE, "c.example", "s@c.example",
     "alice@mx.example.com", DEFER, "451 4.3.5 Server configuration error"},
    {"smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=HOLD}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "451 4.3.5 Server configuration error"},
    /* 66: client, helo and sender lists, evaluated at RCPT (delay_reject) */
    {"smtpd_client_restrictions = check_client_access inline:{203.0.113=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <unknown[203.0.113.5]>: Client host rejected: Access denied"},
    {"smtpd_client_restrictions = check_client_access inline:{203.0.113.6=REJECT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_client_restrictions = check_client_access texthash:/nonexistent/surel-c\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "451 4.3.0 <unknown[203.0.113.5]>: Temporary lookup failure"},
    {"smtpd_client_restrictions = permit_mynetworks, reject\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <unknown[203.0.113.5]>: Client host rejected: Access denied"},
    {"smtpd_client_restrictions = permit_mynetworks, reject\n", INSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_helo_restrictions = check_helo_access inline:{.bad.example=REJECT}\n",
     OUTSIDE, "x.bad.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <x.bad.example>: Helo command rejected: Access denied"},
    {"smtpd_helo_restrictions = reject_invalid_helo_hostname\n", OUTSIDE, "bad_host!",
     "s@c.example", "alice@mx.example.com", REJECT,
     "501 5.5.2 <bad_host!>: Helo command rejected: Invalid name"},
    {"smtpd_helo_restrictions = reject_invalid_helo_hostname\n", OUTSIDE, "[192.0.2.999]",
     "s@c.example", "alice@mx.example.com", REJECT,
     "501 5.5.2 <[192.0.2.999]>: Helo command rejected: invalid ip address"},
    {"smtpd_helo_restrictions = reject_invalid_helo_hostname\n", OUTSIDE, "my_host.example.",
     "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_helo_restrictions = reject_invalid_helo_hostname\n", OUTSIDE, "203.0.113.5",
     "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n", OUTSIDE, "localhost",
     "s@c.example", "alice@mx.example.com", REJECT,
     "504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname"},
    {"smtpd_helo_restrictions = reject_non_fqdn_helo_hostname\n", OUTSIDE, "[203.0.113.5]",
     "s@c.example", "alice@mx.example.com", OK, NULL},
    {"smtpd_sender_restrictions = check_sender_access inline:{<>=REJECT}\n", OUTSIDE,
     "c.example", "", "alice@mx.example.com", REJECT,
     "554 5.7.1 <>: Sender address rejected: Access denied"},
    {"smtpd_sender_restrictions = check_sender_access inline:{{spammer.example=REJECT 5.7.0 no}}\n",
     OUTSIDE, "c.example", "x@spammer.example", "alice@mx.example.com", REJECT,
     "554 5.7.0 <x@spammer.example>: Sender address rejected: no"},
    {"smtpd_sender_restrictions = defer\n", OUTSIDE, "c.example", "s@c.example",
     "alice@mx.example.com", DEFER,
     "450 4.3.2 <s@c.example>: Sender address rejected: Try again later"},
    /* 81: restriction classes, soft_bounce, reply codes */
    {"smtpd_restriction_classes = strict\nstrict = reject\n"
     "smtpd_recipient_restrictions = check_recipient_access inline:{alice@mx.example.com=strict}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"smtpd_restriction_classes = strict\nstrict = reject\n"
     "smtpd_relay_restrictions = strict\n", INSIDE, "c.example", "s@c.example",
     "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"soft_bounce = yes\nsmtpd_recipient_restrictions = reject\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", DEFER,
     "454 4.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    {"reject_code = 550\nsmtpd_recipient_restrictions = reject\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", REJECT,
     "550 5.7.1 <alice@mx.example.com>: Recipient address rejected: Access denied"},
    /* 85: untrusted text is made one printable line */
    {"smtpd_recipient_restrictions = check_recipient_access inline:{{alice@mx.example.com=REJECT a\tb}}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", REJECT,
     "554 5.7.1 <alice@mx.example.com>: Recipient address rejected: a b"},
    {NULL, OUTSIDE, "c.example", "s@c.example", "j\xc3\xbcrgen@mx.example.com", REJECT,
     "550 5.1.1 <j\xc3\xbcrgen@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    /* 87: the extension split is split_addr's: several delimiters, the first
     * one found splits; "xxx-request" and "owner-xxx" stay whole with '-' */
    {"recipient_delimiter = +-\n", OUTSIDE, "c.example", "s@c.example",
     "alice-x+y@mx.example.com", OK, NULL},
    {"recipient_delimiter = -\n", OUTSIDE, "c.example", "s@c.example",
     "alice-request@mx.example.com", REJECT,
     "550 5.1.1 <alice-request@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    {"recipient_delimiter = +\n", OUTSIDE, "c.example", "s@c.example",
     "+alice@mx.example.com", REJECT,
     "550 5.1.1 <+alice@mx.example.com>: Recipient address rejected: "
     "User unknown in local recipient table"},
    /* 92: DEFER_IF_PERMIT turns a later permit (explicit or the end of the
     * lists) into its deferral; DEFER_IF_REJECT a later 5xx reject */
    {"smtpd_recipient_restrictions = check_recipient_access "
     "inline:{{alice@mx.example.com=DEFER_IF_PERMIT wait}}, permit\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <alice@mx.example.com>: Recipient address rejected: wait"},
    {"smtpd_client_restrictions = check_client_access inline:{203.0.113.5=DEFER_IF_PERMIT}\n",
     OUTSIDE, "c.example", "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <unknown[203.0.113.5]>: Client host rejected: Service unavailable"},
    {"smtpd_recipient_restrictions = check_recipient_access "
     "inline:{{alice@mx.example.com=DEFER_IF_REJECT grey}}, reject\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", DEFER,
     "450 4.7.1 <alice@mx.example.com>: Recipient address rejected: grey"},
    {"smtpd_recipient_restrictions = check_recipient_access "
     "inline:{{alice@mx.example.com=DEFER_IF_REJECT grey}}, permit\n", OUTSIDE, "c.example",
     "s@c.example", "alice@mx.example.com", OK, NULL},
};

START_TEST(test_rcpt_table)
{
    const RCPT_CASE *tc = &rcpt_cases[_i];
    SMTPD_CHECK_CTX ctx = {.client_addr = tc->client, .client_name = "unknown", .helo = tc->helo,
          .sender = tc->sender};
    BUF    *reply = buf_alloc(64);
    int     got;

    configure(tc->conf);
    got = smtpd_check_rcpt(&ctx, tc->rcpt, reply);
    ck_assert_msg(got == tc->want, "case %d <%s> from %s: status %d, want %d (%s)", _i,
                  tc->rcpt, tc->client, got, tc->want, buf_str(reply));
    if (tc->want != OK)
        ck_assert_msg(strcmp(buf_str(reply), tc->reply) == 0,
                      "case %d <%s>:\n got \"%s\"\nwant \"%s\"", _i, tc->rcpt, buf_str(reply),
                      tc->reply);
    buf_free(reply);
}
END_TEST

START_TEST(test_sasl_needed)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure(NULL);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "user@remote.example", reply), DEFER);
    ctx.sasl_authenticated = 1;
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "user@remote.example", reply), OK);
    buf_free(reply);
}
END_TEST

START_TEST(test_delay_reject)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "mail.client.example"};
    BUF    *reply = buf_alloc(64);
    const char *client_reply =
        "554 5.7.1 <mail.client.example[203.0.113.5]>: Client host rejected: Access denied";

    /* yes (default): nothing happens until RCPT, which names the client */
    configure("smtpd_client_restrictions = reject\n"
              "smtpd_helo_restrictions = reject\nsmtpd_sender_restrictions = reject\n");
    ck_assert_int_eq(smtpd_check_client(&ctx, reply), OK);
    ctx.helo = "c.example";
    ck_assert_int_eq(smtpd_check_helo(&ctx, reply), OK);
    ctx.sender = "s@c.example";
    ck_assert_int_eq(smtpd_check_mail(&ctx, reply), OK);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), REJECT);
    ck_assert_str_eq(buf_str(reply), client_reply);

    /* no: each list at its own command */
    configure("smtpd_delay_reject = no\nsmtpd_client_restrictions = reject\n");
    ck_assert_int_eq(smtpd_check_client(&ctx, reply), REJECT);
    ck_assert_str_eq(buf_str(reply), client_reply);
    configure("smtpd_delay_reject = no\nsmtpd_helo_restrictions = reject\n");
    ck_assert_int_eq(smtpd_check_client(&ctx, reply), OK);
    ck_assert_int_eq(smtpd_check_helo(&ctx, reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "554 5.7.1 <c.example>: Helo command rejected: Access denied");
    configure("smtpd_delay_reject = no\nsmtpd_sender_restrictions = reject\n");
    ck_assert_int_eq(smtpd_check_helo(&ctx, reply), OK);
    ck_assert_int_eq(smtpd_check_mail(&ctx, reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "554 5.7.1 <s@c.example>: Sender address rejected: Access denied");
    /* and RCPT does not run them again */
    configure("smtpd_delay_reject = no\nsmtpd_client_restrictions = reject\n");
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), OK);
    buf_free(reply);
}
END_TEST

/* reject_unknown_client_hostname / _reverse_: the name's status decides
 * the code (a temporary failure is always 450), 4.7.25 as Postfix 3.6 */
START_TEST(test_unknown_client_names)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown",
        .reverse_name = "forged.example", .name_status = SMTPD_PEER_CODE_FORGED,
        .reverse_name_status = SMTPD_PEER_CODE_OK, .helo = "c.example", .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure("unknown_client_reject_code = 550\n"
              "smtpd_client_restrictions = reject_unknown_reverse_client_hostname, "
              "reject_unknown_client_hostname\n");
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "550 5.7.25 Client host rejected: cannot find your "
                     "hostname, [203.0.113.5]");
    ctx.reverse_name = "unknown";
    ctx.reverse_name_status = ctx.name_status = SMTPD_PEER_CODE_TEMP;
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), DEFER);
    ck_assert_str_eq(buf_str(reply), "450 4.7.25 Client host rejected: cannot find your "
                     "reverse hostname, [203.0.113.5]");
    ctx.client_name = ctx.reverse_name = "mail.client.example";
    ctx.reverse_name_status = ctx.name_status = SMTPD_PEER_CODE_OK;
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), OK);
    buf_free(reply);
}
END_TEST

START_TEST(test_helo_required)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown",
          .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure("smtpd_helo_required = yes\n");
    ck_assert_int_eq(smtpd_check_mail(&ctx, reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "503 5.5.1 Error: send HELO/EHLO first");
    ctx.helo = "c.example";
    ck_assert_int_eq(smtpd_check_mail(&ctx, reply), OK);
    configure(NULL);
    ctx.helo = NULL;
    ck_assert_int_eq(smtpd_check_mail(&ctx, reply), OK);
    buf_free(reply);
}
END_TEST

START_TEST(test_data)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure(NULL);
    ck_assert_int_eq(smtpd_check_data(&ctx, reply), OK);
    configure("smtpd_data_restrictions = permit_mynetworks, reject\n");
    ck_assert_int_eq(smtpd_check_data(&ctx, reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "554 5.7.1 <DATA>: Data command rejected: Access denied");
    ctx.client_addr = INSIDE;
    ck_assert_int_eq(smtpd_check_data(&ctx, reply), OK);
    buf_free(reply);
}
END_TEST

START_TEST(test_in_mynetworks)
{
    configure(NULL);
    ck_assert_int_eq(smtpd_check_in_mynetworks(INSIDE), 1);
    ck_assert_int_eq(smtpd_check_in_mynetworks("::ffff:192.0.2.200"), 1);
    ck_assert_int_eq(smtpd_check_in_mynetworks("2001:db8:5::1"), 1);
    ck_assert_int_eq(smtpd_check_in_mynetworks(OUTSIDE), 0);
    ck_assert_int_eq(smtpd_check_in_mynetworks("127.0.0.1"), 0);
    configure("mynetworks = texthash:/nonexistent/surel-nets\n");
    ck_assert_int_eq(smtpd_check_in_mynetworks(INSIDE), -1);
}
END_TEST

START_TEST(test_sandbox_users)
{
    char   *dir = ts_tempdir();
    char   *users = ts_path(dir, "users");
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *conf = buf_alloc(64);
    BUF    *reply = buf_alloc(64);

    /* the sandbox users are valid although no table lists them, and they
     * are checked before a table that can't be read */
    ts_write_file(users, "# users\nAlice\n  carol  \n\n");
    buf_sprintf(conf, "sandbox_users = %s\nlocal_recipient_maps = texthash:/nonexistent/x\n", users);
    configure(buf_str(conf));
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "carol@mx.example.com", reply), OK);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@localhost", reply), OK);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "dave@mx.example.com", reply), DEFER);
    buf_sprintf(conf, "sandbox_users = %s\n", users);
    configure(buf_str(conf));
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "dave@mx.example.com", reply), REJECT);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "bob@mx.example.com", reply), OK);
    free(users);
    buf_free(conf);
    buf_free(reply);
}
END_TEST

START_TEST(test_pcre_full_key_only)
{
    char   *dir = ts_tempdir();
    char   *table = ts_path(dir, "access.pcre");
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *conf = buf_alloc(64);
    BUF    *reply = buf_alloc(64);

    /* a regex table sees the whole address, never the partial keys */
    ts_write_file(table, "/^mx\\.example\\.com$/ REJECT\n/^bob@/ REJECT\n");
    buf_sprintf(conf, "smtpd_recipient_restrictions = check_recipient_access pcre:%s\n", table);
    configure(buf_str(conf));
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), OK);
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "bob@mx.example.com", reply), REJECT);
    free(table);
    buf_free(conf);
    buf_free(reply);
}
END_TEST

START_TEST(test_recursion_limit)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure("smtpd_restriction_classes = loop\nloop = loop\n"
              "smtpd_recipient_restrictions = loop\n");
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply), DEFER);
    ck_assert_str_eq(buf_str(reply), "451 4.3.5 Server configuration error");
    buf_free(reply);
}
END_TEST

/* An open relay by configuration: refused at start-up, as Postfix does. */
START_TEST(test_no_relay_stop_is_fatal)
{
    configure("smtpd_relay_restrictions = permit_mynetworks\n");
}
END_TEST

START_TEST(test_relay_stop_in_recipient_list_is_enough)
{
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown", .helo = "c.example",
          .sender = "s@c.example"};
    BUF    *reply = buf_alloc(64);

    configure("smtpd_relay_restrictions =\n"
              "smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination\n");
    ck_assert_int_eq(smtpd_check_rcpt(&ctx, "user@remote.example", reply), REJECT);
    ck_assert_str_eq(buf_str(reply), "554 5.7.1 <user@remote.example>: Relay access denied");
    buf_free(reply);
}
END_TEST

START_TEST(test_table_needs_argument)
{
    configure("smtpd_recipient_restrictions = check_recipient_access\n");
}
END_TEST

/* DNSBL reply patterns (Postfix's ip_match): pattern, A record, result */
static const struct {
    const char *pattern;
    unsigned char addr[4];
    int     result;
}       dnsxl_patterns[] = {
    {"127.0.0.2", {127, 0, 0, 2}, 1},
    {"127.0.0.4", {127, 0, 0, 2}, 0},
    {"127.0.0.[2..11]", {127, 0, 0, 11}, 1},
    {"127.0.0.[2..11]", {127, 0, 0, 12}, 0},
    {"127.0.[0;1].[2;4..6]", {127, 0, 1, 5}, 1},
    {"127.0.[0;1].[2;4..6]", {127, 0, 0, 3}, 0},
    {"127.0.0", {127, 0, 0, 2}, -1},
    {"127.0.0.2.1", {127, 0, 0, 2}, -1},
    {"127.0.0.[2..", {127, 0, 0, 2}, -1},
    {"127.0.0.[5..2]", {127, 0, 0, 2}, -1},
    {"127.0.0.256", {127, 0, 0, 2}, -1},
    {"127.0.0.x", {127, 0, 0, 2}, -1},
};

START_TEST(test_dnsxl_pattern)
{
    ck_assert_msg(dnsbl_pattern_match(dnsxl_patterns[_i].pattern, dnsxl_patterns[_i].addr)
                  == dnsxl_patterns[_i].result, "pattern %s", dnsxl_patterns[_i].pattern);
}
END_TEST

/* Every name of lib/global/smtpd_restriction.c is evaluated by smtpd (a
 * name it does not know panics), and none is an "unknown restriction". */
START_TEST(test_every_restriction_is_evaluated)
{
    int     count;
    const RESTRICTION_INFO *r = smtpd_restriction_table(&count) + _i;
    SMTPD_CHECK_CTX ctx = {.client_addr = OUTSIDE, .client_name = "unknown",
        .helo = "c.example", .sender = "s@c.example"};
    BUF    *conf = buf_alloc(100);
    BUF    *reply = buf_alloc(64);

    ck_assert_int_lt(_i, count);
    buf_sprintf(conf, "dns_servers =\nsmtpd_policy_service_retry_delay = 0s\n"
                "smtpd_recipient_restrictions = %s %s\n", r->name,
                (r->flags & RESTRICTION_ARG_TABLE) ? "inline:{x=OK}"
                : (r->flags & RESTRICTION_ARG_DOMAIN) ? "bl.example"
                : (r->flags & RESTRICTION_ARG_SERVICE) ? "inet:127.0.0.1:1" : "");
    configure(buf_str(conf));
    buf_reset(reply);
    (void) smtpd_check_rcpt(&ctx, "alice@mx.example.com", reply);
    ck_assert_msg(strstr(buf_str(reply), "Server configuration error") == NULL, "%s: %s",
                  r->name, buf_str(reply));
    buf_free(conf);
    buf_free(reply);
}
END_TEST

/* DNSBL names of client addresses, as Postfix builds them */
START_TEST(test_dnsxl_reverse)
{
    static const struct {
        const char *addr;
        const char *want;           /* NULL: no address */
    } cases[] = {
        {"127.0.0.2", "2.0.0.127"},
        {"::ffff:192.0.2.7", "7.2.0.192"},
        {"2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"},
        {"unknown", NULL},
    };
    BUF    *out = buf_alloc(80);
    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int     rc = smtpd_check_dnsxl_reverse(cases[i].addr, out);

        ck_assert_msg(rc == (cases[i].want ? 0 : -1), "%s: %d", cases[i].addr, rc);
        if (cases[i].want)
            ck_assert_str_eq(buf_str(out), cases[i].want);
    }
    buf_free(out);
}
END_TEST

START_TEST(test_dnsxl_needs_argument)
{
    configure("smtpd_client_restrictions = reject_rbl_client\n");
}
END_TEST

START_TEST(test_bad_mynetworks_is_fatal)
{
    configure("mynetworks = 192.0.2.1/24\n");
}
END_TEST

int main(void)
{
    Suite  *s = suite_create("smtpd_check");
    TCase  *tc = tcase_create("smtpd_check");

    tcase_add_loop_test(tc, test_rcpt_table, 0, (int) (sizeof(rcpt_cases) / sizeof(rcpt_cases[0])));
    tcase_add_test(tc, test_sasl_needed);
    tcase_add_loop_test(tc, test_dnsxl_pattern, 0,
                        (int) (sizeof(dnsxl_patterns) / sizeof(dnsxl_patterns[0])));
    tcase_add_exit_test(tc, test_dnsxl_needs_argument, 1);
    tcase_add_test(tc, test_dnsxl_reverse);
    {
        int     n;

        (void) smtpd_restriction_table(&n);
        tcase_add_loop_test(tc, test_every_restriction_is_evaluated, 0, n);
    }
    tcase_add_test(tc, test_delay_reject);
    tcase_add_test(tc, test_unknown_client_names);
    tcase_add_test(tc, test_helo_required);
    tcase_add_test(tc, test_data);
    tcase_add_test(tc, test_in_mynetworks);
    tcase_add_test(tc, test_sandbox_users);
    tcase_add_test(tc, test_pcre_full_key_only);
    tcase_add_test(tc, test_recursion_limit);
    tcase_add_exit_test(tc, test_no_relay_stop_is_fatal, 1);
    tcase_add_test(tc, test_relay_stop_in_recipient_list_is_enough);
    tcase_add_exit_test(tc, test_table_needs_argument, 1);
    tcase_add_exit_test(tc, test_bad_mynetworks_is_fatal, 1);
    suite_add_tcase(s, tc);
    return ts_run_suite(s);
}
