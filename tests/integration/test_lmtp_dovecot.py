"""test_lmtp_dovecot - LMTP delivery into a real Dovecot (Debian's
dovecot-lmtpd and dovecot-imapd), the Debian + Dovecot layout:

    mailbox_transport = lmtp:unix:private/dovecot-lmtp
    mailbox_transport = lmtp:inet:127.0.0.1:PORT
    virtual_transport = lmtp:unix:private/dovecot-lmtp

local expands aliases and hands the mailbox delivery to the lmtp agent
(lib/global/deliver_pass.c), which logs it; Dovecot runs from
harness.dovecot with its own config, sockets and Maildirs in a temp
folder, a per-user quota with quota_full_tempfail (an over-quota user
gets 4xx: deferred), and IMAP on a loopback port, where the test reads
the delivered mail back with imaplib.
"""
import imaplib
import os
import re
import unittest

from harness import core as h
from harness import e2e
from harness import dovecot

SENDER = "alice@sandbox.test"
BIG = "x" * 70 + "\n"


@unittest.skipUnless(dovecot.installed(dovecot.LMTP_BINARY, dovecot.IMAP_BINARY),
                     "dovecot-lmtpd and dovecot-imapd are not installed")
class LmtpDovecotTest(h.InstanceTest):
    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        # The over-quota user must be a local user too.
        with open(self.inst.path("etc", "users"), "a") as f:
            f.write("full\n")
        self.socket = self.inst.path("spool", "private", "dovecot-lmtp")
        self.lmtp_port, self.imap_port = h.free_port(), h.free_port()
        self.dv = dovecot.Dovecot.mail(self.socket, self.lmtp_port, self.imap_port, users={
            "bob": ("bobsecret", None), "full": ("fullsecret", "1k")})
        self.addCleanup(self.dv.stop)

    def imap_messages(self, user, password):
        """Every message in user's INBOX, as bytes, read over IMAP."""
        c = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        try:
            c.login(user, password)
            c.select("INBOX", readonly=True)
            typ, data = c.search(None, "ALL")
            out = []
            for num in data[0].split():
                typ, msg = c.fetch(num, "(RFC822)")
                out.append(msg[0][1])
            c.logout()
            return out
        finally:
            try:
                c.shutdown()
            except OSError:
                pass

    def deliver(self, rcpts, subject):
        body = e2e.crlf("Subject: %s\n\n%s" % (subject, BIG * 30))  # ~2 KB: over full's 1k
        return e2e.send(self.inst, SENDER, rcpts, body)

    def log_line(self, text):
        self.inst.wait_log(text, timeout=30)
        return [l for l in self.inst.log().splitlines() if text in l][0]

    def check_delivered_and_deferred(self, qid, relay):
        log_ok = self.log_line("%s: to=<bob@sandbox.test>" % qid)
        self.assertRegex(log_ok, r"relay=%s, .*dsn=2\.0\.0, status=sent \(250 2\.0\.0 "
                         r"<bob@sandbox\.test> .*Saved\)" % re.escape(relay))
        log_full = self.log_line("%s: to=<full@sandbox.test>" % qid)
        self.assertRegex(log_full, r"relay=%s, .*dsn=4\.2\.2, status=deferred \(host .* said: "
                         r"452 4\.2\.2 .*[Qq]uota" % re.escape(relay))
        # local handed the mailbox over: it logs no delivery of its own.
        self.assertNotRegex(self.inst.log(), r"%s: to=<bob@sandbox\.test>.*relay=local" % qid)
        h.wait_for(lambda: e2e.queue_files(self.inst).get("deferred") == [qid], 15,
                   "the message to wait for full")
        msgs = self.imap_messages("bob", "bobsecret")
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Subject: to dovecot", msgs[0])
        self.assertIn(BIG.encode().rstrip(b"\n"), msgs[0])
        self.assertEqual(self.imap_messages("full", "fullsecret"), [])

    def test_mailbox_transport_unix(self):
        self.inst.conf(mailbox_transport="lmtp:unix:private/dovecot-lmtp")
        self.inst.start()
        qid = self.deliver(["bob@sandbox.test", "full@sandbox.test"], "to dovecot")
        hostname = re.search(r"relay=([^\[]+)\[private/dovecot-lmtp\]",
                             self.log_line("%s: to=<bob@sandbox.test>" % qid))
        self.assertIsNotNone(hostname, self.inst.log())
        self.check_delivered_and_deferred(qid, "%s[private/dovecot-lmtp]" % hostname.group(1))

    def test_mailbox_transport_inet(self):
        self.inst.conf(mailbox_transport="lmtp:inet:127.0.0.1:%d" % self.lmtp_port)
        self.inst.start()
        qid = self.deliver(["bob@sandbox.test", "full@sandbox.test"], "to dovecot")
        self.check_delivered_and_deferred(qid, "127.0.0.1[127.0.0.1]:%d" % self.lmtp_port)

    def test_aliases_before_the_transport(self):
        """An alias is expanded by local first; its target goes to Dovecot."""
        with open(self.inst.path("etc", "aliases"), "a") as f:
            f.write("robert: bob\n")
        self.inst.surel("map", "build", "-a", "lmdb:" + self.inst.path("etc", "aliases"))
        self.inst.conf(mailbox_transport="lmtp:unix:private/dovecot-lmtp")
        self.inst.start()
        qid = self.deliver(["robert@sandbox.test"], "to dovecot")
        line = self.log_line("%s: to=<bob@sandbox.test>" % qid)
        self.assertIn("status=sent", line)
        self.assertIn("orig_to=<robert@sandbox.test>", line)
        h.wait_for(lambda: len(self.imap_messages("bob", "bobsecret")) == 1, 15, "bob's mail")

    def test_virtual_transport(self):
        self.inst.conf(virtual_mailbox_domains="virt.test",
                       virtual_mailbox_maps="inline:{ bob@virt.test=bob }",
                       virtual_transport="lmtp:unix:private/dovecot-lmtp")
        self.inst.start()
        qid = self.deliver(["bob@virt.test"], "to dovecot")
        line = self.log_line("%s: to=<bob@virt.test>" % qid)
        self.assertIn("status=sent", line)
        h.wait_for(lambda: len(self.imap_messages("bob", "bobsecret")) == 1, 15, "bob's mail")


if __name__ == "__main__":
    unittest.main()
