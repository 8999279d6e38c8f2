"""test_smtpd_dnsbl - DNS block and allow lists in smtpd's restrictions
(smtpd/smtpd_check_dnsbl.c) against a real name server: Debian's unbound
on a loopback port (harness/dns.py) with zones the test writes. Clients
connect from other loopback addresses (127.0.0.2, ...: loopback holds all
of 127/8), so each one is listed or not by its own address.

  bl.example      lists 127.0.0.2 (A 127.0.0.2, with a TXT record)
  filt.example    lists 127.0.0.3 as 127.0.0.2 and 127.0.0.6 as 127.0.0.4
                  (restriction filt.example=127.0.0.4: only .6 matches)
  wl.example      allow list: 127.0.0.5 (also in bl.example)
  broken.example  refused by the server: a temporary failure, not listed
  silent.example  never answered (unbound's deny): the lookup is bounded,
                  and the failure is cached for the session
  rhsbl.example   lists the domain spam.example (reject_rhsbl_sender)
"""
import os
import shutil
import tempfile
import time
import unittest

from harness.dns import HAVE_UNBOUND, NameServer, ZoneTestCase
from harness.smtpd import SmtpdInstance
from surel_harness import binary

HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)

ZONE = [
    'local-zone: "bl.example." static',
    'local-data: "2.0.0.127.bl.example. A 127.0.0.2"',
    "local-data: '2.0.0.127.bl.example. TXT \"Listed at bl.example\"'",
    'local-data: "5.0.0.127.bl.example. A 127.0.0.2"',
    'local-zone: "filt.example." static',
    'local-data: "3.0.0.127.filt.example. A 127.0.0.2"',
    'local-data: "6.0.0.127.filt.example. A 127.0.0.4"',
    'local-zone: "wl.example." static',
    'local-data: "5.0.0.127.wl.example. A 127.0.0.2"',
    'local-zone: "rhsbl.example." static',
    'local-data: "spam.example.rhsbl.example. A 127.0.0.2"',
    'local-zone: "broken.example." refuse',
    'local-zone: "silent.example." deny',
]


@unittest.skipUnless(HAVE_SMTPD and HAVE_UNBOUND, "needs bin/smtpd and unbound")
class DnsblTest(ZoneTestCase):
    ZONE = ZONE

    @classmethod
    def make_instance(cls, tmpdir, dns_servers):
        replies = os.path.join(tmpdir, "rbl_replies")
        with open(replies, "w") as f:
            f.write("filt.example=127.0.0.4 550 5.7.1 Custom: $client_address "
                    "is listed by $rbl_domain${rbl_reason?; $rbl_reason}\n")
        return SmtpdInstance(
            dns_servers=dns_servers,
            mynetworks="192.0.2.0/24",
            smtpd_client_restrictions="permit_dnswl_client wl.example, "
            "reject_rbl_client filt.example=127.0.0.4, "
            "reject_rbl_client bl.example=127.0.[0;1].[1..3], "
            "reject_rbl_client broken.example",
            smtpd_sender_restrictions="reject_rhsbl_sender rhsbl.example",
            rbl_reply_maps="texthash:" + replies)

    def rcpt(self, source, sender="a@client.example"):
        c = self.inst.connect(source=source)
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        return c.cmd("RCPT TO:<user@sandbox.test>")

    def test_listed_client_rejected_the_postfix_way(self):
        self.assertEqual(self.rcpt("127.0.0.2"),
                         "554 5.7.1 Service unavailable; Client host [127.0.0.2] blocked "
                         "using bl.example; Listed at bl.example")
        self.inst.wait_log(
            "NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 554 5.7.1 Service unavailable; "
            "Client host [127.0.0.2] blocked using bl.example; Listed at bl.example; "
            "from=<a@client.example> to=<user@sandbox.test> proto=ESMTP "
            "helo=<client.example>")

    def test_unlisted_client_accepted_and_dead_list_is_not_listed(self):
        # 127.0.0.3 is in filt.example, but as 127.0.0.2, not the =127.0.0.4
        # the restriction asks for; broken.example fails: a warning, no reject.
        self.assertEqual(self.rcpt("127.0.0.3"), "250 2.1.5 Ok")
        self.inst.wait_log("warning: 3.0.0.127.broken.example: RBL lookup error")

    def test_filtered_entry_matches_and_uses_reply_map(self):
        self.assertEqual(self.rcpt("127.0.0.6"),
                         "550 5.7.1 Custom: 127.0.0.6 is listed by filt.example")

    def test_dnswl_permits_before_the_block_list(self):
        self.assertEqual(self.rcpt("127.0.0.5"), "250 2.1.5 Ok")

    def test_rhsbl_sender(self):
        self.assertEqual(self.rcpt("127.0.0.3", sender="x@spam.example"),
                         "554 5.7.1 Service unavailable; Sender address [spam.example] "
                         "blocked using rhsbl.example")
        self.assertEqual(self.rcpt("127.0.0.3", sender="x@good.example"), "250 2.1.5 Ok")


@unittest.skipUnless(HAVE_SMTPD and HAVE_UNBOUND, "needs bin/smtpd and unbound")
class SilentListTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="surel-dnsbl-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.ns = NameServer(self.tmp, ZONE).start()
        self.addCleanup(self.ns.stop)
        self.inst = SmtpdInstance(dns_servers="127.0.0.1@%d" % self.ns.port,
                                  smtpd_client_restrictions="reject_rbl_client silent.example")
        self.addCleanup(self.inst.cleanup)
        self.inst.start()
        self.inst.wait_listening()

    def test_silent_list_is_bounded_and_asked_once(self):
        c = self.inst.connect(source="127.0.0.2")
        self.addCleanup(c.close)
        c.cmd("EHLO client.example")
        c.cmd("MAIL FROM:<a@client.example>")
        start = time.monotonic()
        self.assertEqual(c.cmd("RCPT TO:<one@sandbox.test>"), "250 2.1.5 Ok")
        first = time.monotonic() - start
        self.assertLess(first, 12, "the lookup of a silent list took %.1fs" % first)
        start = time.monotonic()
        self.assertEqual(c.cmd("RCPT TO:<two@sandbox.test>"), "250 2.1.5 Ok")
        self.assertLess(time.monotonic() - start, 1, "the failure was not cached")
        self.inst.wait_log("warning: 2.0.0.127.silent.example: RBL lookup error")


if __name__ == "__main__":
    unittest.main()
