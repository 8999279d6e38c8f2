"""test_smtpd_pipelining - reject_unauth_pipelining (Postfix's meaning):
a client that sends commands ahead of time where RFC 2920 does not allow
it (after a command that must end a group, such as DATA or EHLO), or at
all without having seen PIPELINING (it said HELO), is marked for the
session, logged "improper command pipelining after CMD from ...", and the
restriction then rejects with 503 5.5.0. A client that waits, or pipelines
MAIL/RCPT after EHLO, is not touched.
"""
import os
import unittest

from harness.smtpd import SmtpdInstance
from surel_harness import binary

HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)


@unittest.skipUnless(HAVE_SMTPD, "needs bin/smtpd")
class PipeliningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance(smtpd_data_restrictions="reject_unauth_pipelining")
        cls.inst.start()
        cls.inst.wait_listening()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def client(self):
        c = self.inst.connect()
        self.addCleanup(c.close)
        return c

    def test_helo_client_that_pipelines_is_rejected_at_data(self):
        c = self.client()
        c.send(b"HELO client.example\r\nMAIL FROM:<a@client.example>\r\n"
               b"RCPT TO:<user@sandbox.test>\r\n")
        self.assertTrue(c.reply()[0].startswith("250"))
        self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("DATA"), "503 5.5.0 <DATA>: Data command rejected: "
                         "Improper use of SMTP command pipelining")
        self.inst.wait_log("improper command pipelining after HELO from unknown[127.0.0.1]")

    def test_data_with_the_message_behind_it(self):
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        c.send(b"MAIL FROM:<a@client.example>\r\nRCPT TO:<user@sandbox.test>\r\n")
        self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        c.send(b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\n")
        self.assertEqual(c.reply(), ["503 5.5.0 <DATA>: Data command rejected: "
                                     "Improper use of SMTP command pipelining"])

    def test_ehlo_client_pipelining_mail_rcpt_is_fine(self):
        c = self.client()
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        c.send(b"MAIL FROM:<a@client.example>\r\nRCPT TO:<user@sandbox.test>\r\nDATA\r\n")
        self.assertEqual(c.reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.reply(), ["250 2.1.5 Ok"])
        self.assertTrue(c.reply()[0].startswith("354"))
        self.assertTrue(c.cmd("Subject: x\r\n\r\nbody\r\n.").startswith("250 2.0.0 Ok: queued"))


if __name__ == "__main__":
    unittest.main()
