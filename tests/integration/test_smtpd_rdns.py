"""test_smtpd_rdns - the client's name from DNS (smtpd/smtpd_peer.c,
smtpd_peername_lookup = yes) against a real name server: Debian's unbound
on a loopback port (harness/dns.py) with PTR and A records the test
writes. Clients connect from other loopback addresses, each with its own
reverse name:

  127.0.0.2  good.example, A 127.0.0.2            confirmed: the client name
  127.0.0.3  spam.example, A 127.0.0.3            listed in rhsbl.example
  127.0.0.4  mx.blocked.example, A 127.0.0.4      check_client_access .blocked.example
  127.0.0.5  forged.example, A 127.0.0.99         not confirmed: name unknown,
                                                  reverse name forged.example
  127.0.0.6  no PTR                               both names unknown
  127.0.0.7  reverse zone refused                 temporary failure: 450

and without DNS (dns_servers empty) every client is unknown at once.
"""
import os
import shutil
import tempfile
import time
import unittest

from harness.dns import HAVE_UNBOUND, NameServer, ZoneTestCase, ptr
from harness.smtpd import SmtpdInstance, content_text, read_records
from surel_harness import binary

HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)

ZONE = [
    ptr("127.0.0.2", "good.example"),
    'local-zone: "good.example." static',
    'local-data: "good.example. A 127.0.0.2"',
    ptr("127.0.0.3", "spam.example"),
    'local-zone: "spam.example." static',
    'local-data: "spam.example. A 127.0.0.3"',
    ptr("127.0.0.4", "mx.blocked.example"),
    'local-zone: "blocked.example." static',
    'local-data: "mx.blocked.example. A 127.0.0.4"',
    ptr("127.0.0.5", "forged.example"),
    'local-zone: "forged.example." static',
    'local-data: "forged.example. A 127.0.0.99"',
    'local-zone: "7.0.0.127.in-addr.arpa." refuse',
    'local-zone: "rhsbl.example." static',
    'local-data: "spam.example.rhsbl.example. A 127.0.0.2"',
]

RESTRICTIONS = ("check_client_access texthash:%s, reject_rhsbl_client rhsbl.example, "
                "reject_unknown_reverse_client_hostname, reject_unknown_client_hostname")


def queued_id(reply):
    return reply.rsplit(" ", 1)[1]


class RdnsBase(unittest.TestCase):
    def rcpt(self, source):
        c = self.inst.connect(source=source)
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), "250 2.1.0 Ok")
        return c, c.cmd("RCPT TO:<user@sandbox.test>")


@unittest.skipUnless(HAVE_SMTPD and HAVE_UNBOUND, "needs bin/smtpd and unbound")
class ReverseNameTest(RdnsBase, ZoneTestCase):
    ZONE = ZONE

    @classmethod
    def make_instance(cls, tmpdir, dns_servers):
        access = os.path.join(tmpdir, "client_access")
        with open(access, "w") as f:
            f.write(".blocked.example REJECT go away\n")
        return SmtpdInstance(
            dns_servers=dns_servers, smtpd_peername_lookup="yes",
            unknown_client_reject_code="550", mynetworks="192.0.2.0/24",
            smtpd_client_restrictions=RESTRICTIONS % access)

    def test_confirmed_name_in_logs_and_received_header(self):
        c, reply = self.rcpt("127.0.0.2")
        self.assertEqual(reply, "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: hi\r\n\r\nbody\r\n.\r\n")
        qid = queued_id("\n".join(c.reply()))
        self.inst.wait_log("connect from good.example[127.0.0.2]")
        self.inst.wait_log("%s: client=good.example[127.0.0.2]" % qid)
        body = content_text(read_records(self.inst.queue_file(qid))).decode()
        self.assertTrue(body.startswith("Received: from client.example "
                                        "(good.example [127.0.0.2])\n"), body)

    def test_listed_client_name_rejected_by_rhsbl(self):
        _, reply = self.rcpt("127.0.0.3")
        self.assertEqual(reply, "554 5.7.1 Service unavailable; Client host [spam.example] "
                         "blocked using rhsbl.example")
        self.inst.wait_log("NOQUEUE: reject: RCPT from spam.example[127.0.0.3]: 554 5.7.1 "
                           "Service unavailable; Client host [spam.example] blocked using "
                           "rhsbl.example; from=<a@client.example> to=<user@sandbox.test>")

    def test_client_access_matches_a_parent_domain_of_the_name(self):
        _, reply = self.rcpt("127.0.0.4")
        self.assertEqual(reply, "554 5.7.1 <mx.blocked.example[127.0.0.4]>: Client host "
                         "rejected: go away")

    def test_forward_confirm_mismatch_is_unknown(self):
        # The reverse name exists (reject_unknown_reverse_client_hostname
        # passes); it does not lead back, so the client name is unknown.
        _, reply = self.rcpt("127.0.0.5")
        self.assertEqual(reply, "550 5.7.25 Client host rejected: cannot find your hostname, "
                         "[127.0.0.5]")
        self.inst.wait_log("warning: hostname forged.example does not resolve to address "
                           "127.0.0.5")
        self.inst.wait_log("connect from unknown[127.0.0.5]")

    def test_no_reverse_name(self):
        _, reply = self.rcpt("127.0.0.6")
        self.assertEqual(reply, "550 5.7.25 Client host rejected: cannot find your reverse "
                         "hostname, [127.0.0.6]")
        self.inst.wait_log("connect from unknown[127.0.0.6]")

    def test_temporary_failure_is_450_whatever_the_code(self):
        _, reply = self.rcpt("127.0.0.7")
        self.assertEqual(reply, "450 4.7.25 Client host rejected: cannot find your reverse "
                         "hostname, [127.0.0.7]")


@unittest.skipUnless(HAVE_SMTPD, "needs bin/smtpd")
class DnsOffTest(RdnsBase):
    def test_dns_off_every_client_is_unknown_at_once(self):
        self.inst = SmtpdInstance(dns_servers="", smtpd_peername_lookup="yes",
                                  smtpd_client_restrictions="reject_unknown_client_hostname")
        self.addCleanup(self.inst.cleanup)
        self.inst.start()
        self.inst.wait_listening()
        start = time.monotonic()
        _, reply = self.rcpt("127.0.0.2")
        self.assertLess(time.monotonic() - start, 2)
        self.assertEqual(reply, "450 4.7.25 Client host rejected: cannot find your hostname, "
                         "[127.0.0.2]")
        self.inst.wait_log("connect from unknown[127.0.0.2]")


@unittest.skipUnless(HAVE_SMTPD and HAVE_UNBOUND and os.geteuid() == 0,
                     "needs bin/smtpd, unbound and root (chroot)")
class ChrootTest(RdnsBase):
    def test_chrooted_smtpd_resolves(self):
        tmp = tempfile.mkdtemp(prefix="surel-rdns-")
        self.addCleanup(shutil.rmtree, tmp, True)
        ns = NameServer(tmp, ZONE).start()
        self.addCleanup(ns.stop)
        self.inst = SmtpdInstance(dns_servers="127.0.0.1@%d" % ns.port,
                                  smtpd_peername_lookup="yes",
                                  smtpd_client_restrictions="reject_unknown_client_hostname")
        self.addCleanup(self.inst.cleanup)
        self.inst.write_master_cf(
            "127.0.0.1:%d inet n - y - - smtpd\n"
            "cleanup unix - - n - 0 cleanup\n"
            "anvil unix - - n - 1 anvil\n"
            # the chrooted smtpd logs through postlogd (maillog_file is outside)
            "postlog unix-dgram n - n - 1 postlogd\n" % self.inst.smtp_port)
        self.inst.start()
        self.inst.wait_listening()
        _, reply = self.rcpt("127.0.0.2")
        self.assertEqual(reply, "250 2.1.5 Ok")
        self.inst.wait_log("connect from good.example[127.0.0.2]")


if __name__ == "__main__":
    unittest.main()
