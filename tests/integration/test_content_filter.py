"""test_content_filter - after-queue content filtering (Postfix's
content_filter and FILTER actions, FILTER_README's amavis-style setup).

A harness sink stands in for the filter. With content_filter =
smtp:[127.0.0.1]:PORT every message smtpd receives goes to the sink with
its envelope unchanged; the sink's copy is sent back into a second smtpd
service with `-o content_filter=` (the re-injection port), which delivers
it into the local Maildir and not to the filter again. FILTER actions in
header_checks and in an smtpd access table send one message to the sink
while others are delivered locally; a FILTER value without a colon is
warned about and ignored, as Postfix does.
"""
import os
import smtplib
import unittest

from harness import core as h
from harness import e2e
from harness.sink import Sink

SENDER = "alice@sandbox.test"
RCPT = "bob@sandbox.test"


def unstuff(data):
    """The sink's DATA (dot-stuffed wire bytes) as a message for smtplib,
    which stuffs it again."""
    lines = data.split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b"..") else l for l in lines)


def mail_address(tx):
    cmd = tx["mail"]
    return cmd[cmd.index("<") + 1:cmd.index(">")]


class ContentFilterTest(h.InstanceTest):
    def sink(self):
        sink = Sink(port=h.free_port())
        sink.start()
        self.addCleanup(sink.close)
        return sink

    def queue_empty(self, inst):
        return not e2e.queue_files(inst)

    def test_content_filter_and_reinjection(self):
        """main.cf content_filter: mail from SMTP reaches the filter with
        its envelope; re-injected through `-o content_filter=` it is
        delivered locally, once."""
        sink = self.sink()
        inst = self.instance()
        inst.conf(content_filter="smtp:[127.0.0.1]:%d" % sink.port)
        reinject = h.free_port()
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("\n127.0.0.1:%d inet n - n - - smtpd\n    -o content_filter=\n" % reinject)
        inst.start()
        h.wait_for(lambda: h.tcp_listening(reinject), 10, "the re-injection smtpd")

        body = e2e.crlf("Subject: to be scanned\n\nscan me\n")
        qid = e2e.send(inst, SENDER, [RCPT, "alice@sandbox.test"], body)
        sink.wait_transactions(1)
        tx = sink.transactions[0]
        self.assertEqual(mail_address(tx), SENDER)
        self.assertEqual(sorted(tx["accepted"]), sorted([RCPT, "alice@sandbox.test"]))
        self.assertIn(b"scan me", tx["data"])
        h.wait_for(lambda: self.queue_empty(inst), 20, "the filtered message to leave")
        self.assertRegex(inst.log(), r"%s: to=<%s>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                         % (qid, RCPT, sink.port))
        self.assertEqual(inst.messages("bob"), [])

        # The filter's answer: back in on the re-injection port.
        client = smtplib.SMTP("127.0.0.1", reinject, timeout=30)
        try:
            client.ehlo("filter.test")
            client.sendmail(mail_address(tx), tx["accepted"], unstuff(tx["data"]))
        finally:
            client.quit()
        [data] = e2e.wait_delivered(inst, "bob")
        self.assertIn(b"scan me", data)
        e2e.wait_delivered(inst, "alice")
        h.wait_for(lambda: self.queue_empty(inst), 20, "the re-injected message to leave")
        self.assertEqual(len(sink.transactions), 1, "the re-injected message looped")

    def test_filter_actions(self):
        """FILTER in header_checks and in check_sender_access routes one
        message to the sink; the others (and a bad FILTER) go local."""
        sink = self.sink()
        inst = self.instance()
        target = "smtp:[127.0.0.1]:%d" % sink.port
        with open(os.path.join(inst.etc, "header_checks"), "w") as f:
            f.write("/^Subject: filter-me/ FILTER %s\n" % target)
            f.write("/^Subject: bad-filter/ FILTER nocolon\n")
        with open(os.path.join(inst.etc, "sender_access"), "w") as f:
            f.write("/^filtered@/ FILTER %s\n" % target)
            f.write("/^badfilter@/ FILTER nocolon\n")
        inst.conf(header_checks="pcre:%s/header_checks" % inst.etc,
                  smtpd_sender_restrictions="check_sender_access pcre:%s/sender_access"
                  % inst.etc)
        inst.start()

        e2e.send(inst, SENDER, [RCPT], e2e.crlf("Subject: filter-me\n\nheader filter\n"))
        sink.wait_transactions(1)
        self.assertEqual(sink.transactions[0]["accepted"], [RCPT])
        self.assertIn(b"header filter", sink.transactions[0]["data"])
        self.assertRegex(inst.log(), r"filter: header Subject: filter-me from .*: "
                         + r"smtp:\[127\.0\.0\.1\]:%d" % sink.port)

        e2e.send(inst, "filtered@sandbox.test", [RCPT], e2e.crlf("Subject: x\n\naccess filter\n"))
        sink.wait_transactions(2)
        self.assertEqual(mail_address(sink.transactions[1]), "filtered@sandbox.test")
        self.assertIn(b"access filter", sink.transactions[1]["data"])
        self.assertRegex(inst.log(), r"filter: RCPT from .*<filtered@sandbox\.test>: "
                         r"Sender address triggers FILTER smtp:")

        # Not filtered: delivered locally.
        e2e.send(inst, SENDER, [RCPT], e2e.crlf("Subject: plain\n\nplain one\n"))
        e2e.send(inst, SENDER, [RCPT], e2e.crlf("Subject: bad-filter\n\nbad header\n"))
        e2e.send(inst, "badfilter@sandbox.test", [RCPT], e2e.crlf("Subject: y\n\nbad access\n"))
        got = e2e.wait_delivered(inst, "bob", 3)
        self.assertEqual(sorted(b"plain one" in d or b"bad header" in d or b"bad access" in d
                                for d in got), [True] * 3)
        log = inst.log()
        self.assertIn("warning: bad FILTER command nocolon in header_checks map -- "
                      "need transport:destination", log)
        self.assertRegex(log, r"warning: access table pcre:\S+ entry \"FILTER nocolon\" "
                         r"requires transport:destination")
        h.wait_for(lambda: self.queue_empty(inst), 20, "the queue to empty")
        self.assertEqual(len(sink.transactions), 2)

    def test_last_filter_wins(self):
        """content_filter, then an access FILTER, then a header FILTER:
        each later one replaces the earlier (Postfix's order)."""
        main, access, header = self.sink(), self.sink(), self.sink()
        inst = self.instance()
        with open(os.path.join(inst.etc, "header_checks"), "w") as f:
            f.write("/^Subject: filter-me/ FILTER smtp:[127.0.0.1]:%d\n" % header.port)
        with open(os.path.join(inst.etc, "sender_access"), "w") as f:
            f.write("/^filtered@/ FILTER smtp:[127.0.0.1]:%d\n" % access.port)
        inst.conf(content_filter="smtp:[127.0.0.1]:%d" % main.port,
                  header_checks="pcre:%s/header_checks" % inst.etc,
                  smtpd_sender_restrictions="check_sender_access pcre:%s/sender_access"
                  % inst.etc)
        inst.start()
        e2e.send(inst, SENDER, [RCPT], e2e.crlf("Subject: a\n\nto main\n"))
        e2e.send(inst, "filtered@sandbox.test", [RCPT], e2e.crlf("Subject: b\n\nto access\n"))
        e2e.send(inst, "filtered@sandbox.test", [RCPT],
                 e2e.crlf("Subject: filter-me\n\nto header\n"))
        for sink, text in ((main, b"to main"), (access, b"to access"), (header, b"to header")):
            sink.wait_transactions(1)
            self.assertIn(text, sink.transactions[0]["data"])
        h.wait_for(lambda: self.queue_empty(inst), 20, "the queue to empty")
        self.assertEqual([len(s.transactions) for s in (main, access, header)], [1, 1, 1])
        self.assertEqual(inst.messages("bob"), [])

    def test_empty_nexthop_is_the_recipient_domain(self):
        """FILTER filt: (no next hop) goes to the recipient's domain, here
        the address literal [127.0.0.1], on the filt service's port."""
        sink = self.sink()
        inst = self.instance()
        with open(os.path.join(inst.etc, "header_checks"), "w") as f:
            f.write("/^Subject: no-nexthop/ FILTER filt:\n")
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("\nfilt unix - - n - - smtp -o smtp_tcp_port=%d\n" % sink.port)
        inst.conf(header_checks="pcre:%s/header_checks" % inst.etc)
        inst.start()
        e2e.send(inst, SENDER, ["bob@[127.0.0.1]"], e2e.crlf("Subject: no-nexthop\n\nx\n"))
        sink.wait_transactions(1)
        self.assertEqual(sink.transactions[0]["accepted"], ["bob@[127.0.0.1]"])
        h.wait_for(lambda: self.queue_empty(inst), 20, "the queue to empty")

    def test_default_filter_nexthop(self):
        """FILTER smtp: (no next hop) with default_filter_nexthop set goes
        there, not to the recipient's domain."""
        sink = self.sink()
        inst = self.instance()
        with open(os.path.join(inst.etc, "header_checks"), "w") as f:
            f.write("/^Subject: default-nexthop/ FILTER smtp:\n")
        inst.conf(header_checks="pcre:%s/header_checks" % inst.etc,
                  default_filter_nexthop="[127.0.0.1]:%d" % sink.port)
        inst.start()
        e2e.send(inst, SENDER, ["carol@elsewhere.test"], e2e.crlf("Subject: default-nexthop\n\nx\n"))
        sink.wait_transactions(1)
        self.assertEqual(sink.transactions[0]["accepted"], ["carol@elsewhere.test"])
        h.wait_for(lambda: self.queue_empty(inst), 20, "the queue to empty")

    def test_reinjection_with_receive_override_options(self):
        """FILTER_README's re-injection service: with
        receive_override_options=no_header_body_checks the header_checks
        FILTER that sent the message out does not send it out again, and
        with no_unknown_recipient_checks its RCPT is not checked against
        the local users (the first pass did that)."""
        sink = self.sink()
        inst = self.instance()
        with open(os.path.join(inst.etc, "header_checks"), "w") as f:
            f.write("/^Subject: scan-me/ FILTER smtp:[127.0.0.1]:%d\n" % sink.port)
        inst.conf(header_checks="pcre:%s/header_checks" % inst.etc)
        reinject = h.free_port()
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("\n127.0.0.1:%d inet n - n - - smtpd\n    -o content_filter=\n"
                    "    -o receive_override_options=no_header_body_checks,"
                    "no_unknown_recipient_checks,no_address_mappings,no_milters\n" % reinject)
        inst.start()
        h.wait_for(lambda: h.tcp_listening(reinject), 10, "the re-injection smtpd")
        e2e.send(inst, SENDER, [RCPT], e2e.crlf("Subject: scan-me\n\nfiltered once\n"))
        sink.wait_transactions(1)
        tx = sink.transactions[0]
        client = smtplib.SMTP("127.0.0.1", reinject, timeout=30)
        try:
            client.ehlo("filter.test")
            client.sendmail(mail_address(tx), tx["accepted"], unstuff(tx["data"]))
            client.mail(SENDER)
            self.assertEqual(client.rcpt("nobody-here@sandbox.test")[0], 250)
            client.rset()
        finally:
            client.quit()
        [data] = e2e.wait_delivered(inst, "bob")
        self.assertIn(b"filtered once", data)
        h.wait_for(lambda: self.queue_empty(inst), 20, "the re-injected message to leave")
        self.assertEqual(len(sink.transactions), 1, "the re-injected message looped")
        # The first service still checks recipients.
        client = smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30)
        try:
            client.ehlo("client.test")
            client.mail(SENDER)
            self.assertEqual(client.rcpt("nobody-here@sandbox.test")[0], 550)
        finally:
            client.quit()

    def test_local_submission_is_filtered(self):
        """pickup honours content_filter too: sendmail mail reaches the
        filter, as in Postfix (a pickup -o content_filter= turns it off)."""
        sink = self.sink()
        inst = self.instance()
        inst.conf(content_filter="smtp:[127.0.0.1]:%d" % sink.port)
        inst.start()
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", SENDER, RCPT],
              input="Subject: local\n\nfrom cron\n")
        sink.wait_transactions(1)
        self.assertEqual(sink.transactions[0]["accepted"], [RCPT])
        self.assertIn(b"from cron", sink.transactions[0]["data"])
        h.wait_for(lambda: self.queue_empty(inst), 20, "the queue to empty")
        self.assertEqual(inst.messages("bob"), [])


if __name__ == "__main__":
    h.main()
