"""test_smtpd_limits - every limit gives its reply and stores nothing.

message_size_limit (SIZE=, DATA and BDAT), header_size_limit (a header
is cut, the message kept), smtpd_recipient_limit, the command line
length, smtpd_hard_error_limit, smtpd_timeout and
smtpd_client_connection_count_limit, each on a real instance.
"""
import os
import signal
import time
import unittest

from smtpd_harness import SmtpdTestCase, content_text, queued_id, read_records, types
from surel_harness import wait_for


class LimitsTest(SmtpdTestCase):

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def connect(self, inst):
        c = inst.connect()
        self.clients.append(c)
        return c

    def assert_nothing_queued(self, inst):
        self.assertEqual(inst.queue_files(), [])
        # cleanup removes its unfinished file when smtpd hangs up on it,
        # which it may notice a moment after smtpd has replied.
        wait_for(lambda: inst.queue_files("temp") == [], 10, "temp/ to be empty")

    def test_message_size_limit(self):
        inst = self.instance(message_size_limit="1000")
        c = self.connect(inst)
        self.assertIn("250-SIZE 1000", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test> SIZE=1001"),
                         "552 5.3.4 Message size exceeds fixed limit")
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test> SIZE=1000"), "250 2.1.0 Ok")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        # The rest of the message, with a command-looking line, is read and
        # dropped; the verdict comes after the real end.
        c.send(b"Subject: big\r\n\r\n" + b"x" * 70 + b"\r\n" + (b"y" * 78 + b"\r\n") * 100
               + b"QUIT\r\n.\r\n")
        self.assertEqual(c.reply(), ["552 5.3.4 Error: message file too big"])
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        # BDAT too.
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        chunk = b"z" * 900 + b"\r\n"
        c.send(b"BDAT %d\r\n" % len(chunk) + chunk)
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: %d bytes" % len(chunk)])
        c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        self.assertEqual(c.reply(), ["552 5.3.4 Error: message file too big"])
        self.assert_nothing_queued(inst)
        inst.wait_log("reject: END-OF-MESSAGE from unknown[127.0.0.1]: 552 5.3.4")
        # A message just under the limit still goes through.
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        c.send(b"Subject: small\r\n\r\n" + b"s" * 500 + b"\r\n.\r\n")
        queued_id(c.reply()[0])

    def test_message_size_limit_counts_octets_sent(self):
        # RFC 1870: the size is the octets sent, CR LF counting two. A
        # message of short lines is where counting one per line end went
        # wrong (it let a message half again as big as SIZE through).
        inst = self.instance(message_size_limit="2000")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        head = b"Subject: s\r\n\r\n"                       # 14 octets
        at_limit = head + b"x\r\n" * 662                       # 14 + 1986
        over = head + b"xx\r\n" + b"x\r\n" * 661             # one more
        self.assertEqual(len(at_limit), 2000)
        self.assertEqual(len(over), 2001)

        def send_data(message):
            # No SIZE=: a client that announces less than it sends is the case.
            c.cmd("MAIL FROM:<alice@sandbox.test>")
            c.cmd("RCPT TO:<bob@sandbox.test>")
            self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
            c.send(message + b".\r\n")
            return c.reply()

        def send_bdat(message):
            c.cmd("MAIL FROM:<alice@sandbox.test>")
            c.cmd("RCPT TO:<bob@sandbox.test>")
            half = len(message) // 2
            c.send(b"BDAT %d\r\n" % half + message[:half])
            self.assertEqual(c.reply(), ["250 2.0.0 Ok: %d bytes" % half])
            c.send(b"BDAT %d LAST\r\n" % (len(message) - half) + message[half:])
            return c.reply()

        for send in (send_data, send_bdat):
            self.assertEqual(send(over), ["552 5.3.4 Error: message file too big"], send.__name__)
            self.assertEqual(inst.queue_files(), [])
            qid = queued_id(send(at_limit)[0])
            body = content_text(read_records(inst.queue_file(qid)))
            self.assertTrue(body.endswith(b"\n\n" + b"x\n" * 662), send.__name__)
            os.unlink(inst.queue_file(qid))

    def test_header_size_limit_truncates_and_accepts(self):
        # Postfix: a logical header is kept to its first header_size_limit
        # bytes (folding newlines count), the rest of that header is
        # discarded, and the message is still accepted. 1024 is the
        # smallest value surel takes.
        inst = self.instance(header_size_limit="1024")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        exact = "X-Exact: " + "e" * (1024 - len("X-Exact: "))
        long_line = "X-Long: " + "l" * 3000          # longer than line_length_limit too
        folded = ["X-Folded: start"] + ["\tfold%02d " % i + "f" * 90 for i in range(20)]
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        header = [exact, long_line] + folded + ["Subject: after the big ones"]
        c.send(("\r\n".join(header) + "\r\n\r\nthe body\r\n.\r\n").encode())
        qid = queued_id(c.reply()[0])
        body = content_text(read_records(inst.queue_file(qid))).decode()
        head, _, rest = body.partition("\n\n")
        self.assertEqual(rest, "the body\n")
        # Physical lines from our X-Exact on (smtpd's Received: is before).
        lines = head.split("\n")
        start = lines.index(exact)               # at the limit: kept whole
        self.assertEqual(lines[start + 1], long_line[:1024])
        # The folded header: its first 1024 bytes, cut inside a line.
        want = "\n".join(folded)[:1024].split("\n")
        self.assertEqual(len(want), 12)
        self.assertEqual(len(want[-1]), 18)             # fold10, cut
        got = lines[start + 2:start + 2 + len(want)]
        self.assertEqual(got, want)
        # Nothing of the cut part survives; the next header does.
        self.assertEqual(lines[start + 2 + len(want)], "Subject: after the big ones")
        self.assertNotIn("fold19", body)

    def test_recipient_limit(self):
        inst = self.instance(smtpd_recipient_limit="2")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<carol@sandbox.test>"), "452 4.5.3 Error: too many recipients")
        c.cmd("DATA")
        c.send(b"Subject: r\r\n\r\nx\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        self.assertEqual(types(read_records(inst.queue_file(qid)), "R"),
                         [b"bob@sandbox.test", b"alice@sandbox.test"])

    def test_command_line_too_long(self):
        inst = self.instance(line_length_limit="600")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<" + "a" * 5000 + "@sandbox.test>"),
                         "500 5.5.2 Error: line too long")
        # The rest of the long line was not taken for a command.
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("NOOP " + "n" * 590), "250 2.0.0 Ok")

    def test_hard_error_limit(self):
        inst = self.instance(smtpd_hard_error_limit="3")
        c = self.connect(inst)
        self.assertEqual(c.cmd("BOGUS1"), "500 5.5.2 Error: command not recognized")
        self.assertEqual(c.cmd("BOGUS2"), "500 5.5.2 Error: command not recognized")
        c.send("BOGUS3\r\n")
        self.assertEqual(c.reply(), ["500 5.5.2 Error: command not recognized"])
        self.assertEqual(c.reply(), ["421 4.7.0 sandbox.test Error: too many errors"])
        self.assertTrue(c.closed())
        inst.wait_log("too many errors after")

    def test_timeout(self):
        inst = self.instance(smtpd_timeout="2s")
        c = self.connect(inst)
        start = time.monotonic()
        self.assertEqual(c.reply(), ["421 4.4.2 sandbox.test Error: timeout exceeded"])
        self.assertGreaterEqual(time.monotonic() - start, 1.5)
        self.assertTrue(c.closed())
        inst.wait_log("timeout after CONNECT from unknown[127.0.0.1]")
        # In the middle of DATA, the message is dropped.
        c2 = self.connect(inst)
        c2.cmd("EHLO client.test")
        c2.cmd("MAIL FROM:<alice@sandbox.test>")
        c2.cmd("RCPT TO:<bob@sandbox.test>")
        c2.cmd("DATA")
        c2.send("Subject: unfinished\r\n\r\nhalf")
        self.assertEqual(c2.reply(), ["421 4.4.2 sandbox.test Error: timeout exceeded"])
        inst.wait_log("timeout after DATA from unknown[127.0.0.1]")
        self.assert_nothing_queued(inst)

    def test_connection_count_limit(self):
        # 127.0.0.1 is in $mynetworks, exempt by default
        # (smtpd_client_event_limit_exceptions): count it here.
        inst = self.instance(smtpd_client_connection_count_limit="2",
                             smtpd_client_event_limit_exceptions="")
        a = self.connect(inst)
        b = self.connect(inst)
        self.assertTrue(a.greeting[0].startswith("220"))
        self.assertTrue(b.greeting[0].startswith("220"))
        c = self.connect(inst)
        self.assertEqual(c.greeting, ["421 4.7.0 sandbox.test Error: too many connections from 127.0.0.1"])
        self.assertTrue(c.closed())
        inst.wait_log("warning: Connection concurrency limit exceeded: 3 from unknown[127.0.0.1] "
                      "for service 127.0.0.1:%d" % inst.smtp_port)
        # A session that ends is disconnected from anvil; a killed smtpd
        # too (anvil sees its socket close).
        a.cmd("QUIT")
        a.close()

        def admitted():
            d = inst.connect()
            ok = d.greeting[0].startswith("220")
            d.close()
            return ok
        wait_for(admitted, 10, "a connection after QUIT to be admitted")
        self.assertEqual(b.cmd("NOOP"), "250 2.0.0 Ok")
        # Kill every smtpd of this instance (b's included): no count survives.
        service = "127.0.0.1:%d" % inst.smtp_port
        for pid in inst.service_pids(service):
            os.kill(pid, signal.SIGKILL)
        self.assertTrue(b.closed())

        def two_admitted():
            try:
                d, e = inst.connect(), inst.connect()
            except (OSError, EOFError):
                return False
            ok = d.greeting[0].startswith("220") and e.greeting[0].startswith("220")
            d.close()
            e.close()
            return ok
        wait_for(two_admitted, 15, "two connections after the smtpd processes were killed")


if __name__ == "__main__":
    unittest.main(verbosity=2)
