"""test_smtpd_access - relay control and access restrictions over real SMTP.

A client outside mynetworks (the test client is 127.0.0.1; mynetworks is
set to 192.0.2.0/24) must not relay through the server by any trick:
plain remote recipients, user%remote@local, remote!user@local,
"user@remote"@local, source routes. Local recipients are accepted from
anywhere, and the same client inside mynetworks may relay. Replies and
log lines are Postfix's words.

Needs bin/smtpd (the smtpd branch) and its harness; skipped without them.
"""
import os
import unittest

from surel_harness import binary

try:
    from smtpd_harness import SmtpdInstance, queued_id, read_records, types
    HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)
except ImportError:
    HAVE_SMTPD = False

OUTSIDE_NETWORKS = "192.0.2.0/24"

# Recipients that would leave the machine, however they are written.
RELAY_TRICKS = [
    ("<user@remote.example>", "user@remote.example"),
    ("<user%remote.example@sandbox.test>", "user%remote.example@sandbox.test"),
    ("<remote.example!user@sandbox.test>", "remote.example!user@sandbox.test"),
    ('<"user@remote.example"@sandbox.test>', "user@remote.example@sandbox.test"),
    ("<@sandbox.test:user@remote.example>", "user@remote.example"),
    ("<user%remote.example@localhost>", "user%remote.example@localhost"),
]


class AccessTestBase(unittest.TestCase):
    params = {}

    @classmethod
    def setUpClass(cls):
        # Recipients are checked against the real local tables here (the
        # protocol tests switch that off).
        params = dict(cls.params)
        params.setdefault("local_recipient_maps", "unix:passwd.byname $alias_maps")
        cls.inst = SmtpdInstance(**params)
        cls.inst.start()
        cls.inst.wait_listening()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def session(self):
        c = self.inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<sender@client.test>"), "250 2.1.0 Ok")
        return c


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class OutsideDefaultTest(AccessTestBase):
    """Outside mynetworks, default smtpd_relay_restrictions: defer (450)."""
    params = {"mynetworks": OUTSIDE_NETWORKS}

    def test_relay_tricks_deferred(self):
        c = self.session()
        for path, shown in RELAY_TRICKS:
            with self.subTest(path=path):
                self.assertEqual(c.cmd("RCPT TO:%s" % path),
                                 "450 4.7.1 <%s>: Relay access denied" % shown)

    def test_reject_is_logged_the_postfix_way(self):
        c = self.session()
        c.cmd("RCPT TO:<user@remote.example>")
        self.inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 450 4.7.1 "
                           "<user@remote.example>: Relay access denied; "
                           "from=<sender@client.test> to=<user@remote.example> proto=ESMTP "
                           "helo=<client.test>")

    def test_local_recipients_accepted_and_queued(self):
        c = self.session()
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<bob@localhost>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<Alice@SANDBOX.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<user@remote.example>"),
                         "450 4.7.1 <user@remote.example>: Relay access denied")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: t\r\n\r\nhello\r\n.\r\n")
        qid = queued_id("\n".join(c.reply()))
        self.assertTrue(self.inst.queue_file(qid))

    def test_unknown_local_user_rejected(self):
        c = self.session()
        self.assertEqual(c.cmd("RCPT TO:<nosuchuser@sandbox.test>"),
                         "550 5.1.1 <nosuchuser@sandbox.test>: Recipient address rejected: "
                         "User unknown in local recipient table")


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class OutsideRejectTest(AccessTestBase):
    """reject_unauth_destination: the same tricks get 554."""
    params = {"mynetworks": OUTSIDE_NETWORKS,
              "smtpd_relay_restrictions": "permit_mynetworks, reject_unauth_destination"}

    def test_relay_tricks_rejected(self):
        c = self.session()
        for path, shown in RELAY_TRICKS:
            with self.subTest(path=path):
                self.assertEqual(c.cmd("RCPT TO:%s" % path),
                                 "554 5.7.1 <%s>: Relay access denied" % shown)
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"), "250 2.1.5 Ok")



@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class ClientAccessTest(AccessTestBase):
    """Client restrictions wait for RCPT (smtpd_delay_reject) and name the client."""
    params = {"smtpd_client_restrictions": "check_client_access inline:{127.0.0=REJECT}"}

    def test_client_rejected_at_rcpt(self):
        c = self.session()
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"),
                         "554 5.7.1 <unknown[127.0.0.1]>: Client host rejected: Access denied")

    def test_postmaster_still_accepted(self):
        # RFC 5321 4.5.1: the bare <postmaster> is accepted whatever the
        # restrictions say, a rejected client included.
        c = self.session()
        self.assertEqual(c.cmd("RCPT TO:<postmaster>"), "250 2.1.5 Ok")


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class PostmasterTest(AccessTestBase):
    """Every recipient refused, except the bare postmaster (RFC 5321 4.5.1:
    "RCPT TO:<Postmaster>" without a domain must be accepted). Only that
    form bypasses the restrictions; postmaster@domain is checked like any
    address, as in Postfix."""
    params = {"smtpd_recipient_restrictions": "reject"}

    def test_bare_postmaster_accepted_when_all_else_is_refused(self):
        c = self.session()
        refused = "554 5.7.1 <%s>: Recipient address rejected: Access denied"
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"), refused % "alice@sandbox.test")
        self.assertEqual(c.cmd("RCPT TO:<postmaster@sandbox.test>"),
                         refused % "postmaster@sandbox.test")
        self.assertEqual(c.cmd("RCPT TO:<postmaster>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<PostMaster>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: to the postmaster\r\n\r\nhello\r\n.\r\n")
        qid = queued_id("\n".join(c.reply()))
        # cleanup qualifies the bare name with $myorigin.
        self.assertEqual(types(read_records(self.inst.queue_file(qid)), "R"),
                         [b"postmaster@sandbox.test", b"PostMaster@sandbox.test"])


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class UnknownRecipientDomainTest(AccessTestBase):
    """reject_unknown_recipient_domain without DNS (doc/access.md "Known
    domains"): names that can never exist are refused (450 4.1.2), known
    ones pass. The client is inside mynetworks, so only this restriction
    decides for remote domains."""
    params = {"smtpd_recipient_restrictions": "reject_unknown_recipient_domain, "
                                              "permit_mynetworks, reject_unauth_destination"}

    def test_unknown_refused_known_accepted(self):
        c = self.session()
        for rcpt in ("x@remote.invalid", "x@nosuchtld", "x@host.localhost"):
            with self.subTest(rcpt=rcpt):
                self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt),
                                 "450 4.1.2 <%s>: Recipient address rejected: "
                                 "Domain not found" % rcpt)
        accepted = ["x@remote.example", "x@mx.example.org", "x@[192.0.2.1]",
                    "alice@sandbox.test"]
        for rcpt in accepted:
            with self.subTest(rcpt=rcpt):
                self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: t\r\n\r\nhello\r\n.\r\n")
        qid = queued_id("\n".join(c.reply()))
        self.assertEqual(types(read_records(self.inst.queue_file(qid)), "R"),
                         [r.encode() for r in accepted])


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built yet")
class InsideTest(AccessTestBase):
    """The sandbox's own mynetworks holds 127.0.0.0/8: relaying allowed."""

    def test_inside_may_relay(self):
        c = self.session()
        self.assertEqual(c.cmd("RCPT TO:<user@remote.example>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<user%remote.example@sandbox.test>"), "550 5.1.1 "
                         "<user%remote.example@sandbox.test>: Recipient address rejected: "
                         "User unknown in local recipient table")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: t\r\n\r\nhello\r\n.\r\n")
        qid = queued_id("\n".join(c.reply()))
        self.assertTrue(self.inst.queue_file(qid))


if __name__ == "__main__":
    unittest.main(verbosity=2)
