"""test_smtpd_anvil - the defences against connection exhaustion (issue 10,
finding 3), each attack reproduced on a real instance.

- anvil's counts: smtpd_client_connection_count_limit across addresses
  (127.0.0.2 and 127.0.0.3 count apart), _connection_rate_limit,
  _message_rate_limit, _recipient_rate_limit; the exemption of
  smtpd_client_event_limit_exceptions (default $mynetworks); without an
  anvil service smtpd goes on without limits and warns.
- error limits: smtpd_soft_error_limit with smtpd_error_sleep_time (the
  tarpit), smtpd_junk_command_limit (NOOP floods end in "too many errors").
- deadlines: with smtpd_per_request_deadline a client that trickles one
  byte per second into a command or into DATA is cut off after
  smtpd_timeout in all, while a sender above smtpd_min_data_rate may take
  longer than smtpd_timeout for its message.
"""
import socket
import time
import unittest

from harness import attr
from smtpd_harness import SmtpdInstance, SmtpdTestCase, queued_id
from surel_harness import wait_for

# Every limit test counts 127.0.0.x: take them out of the exemption
# ($mynetworks holds 127.0.0.0/8).
COUNTED = {"smtpd_client_event_limit_exceptions": ""}


class AnvilTestCase(SmtpdTestCase):

    def setUp(self):
        super().setUp()
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        super().tearDown()

    def connect(self, inst, source=None):
        c = inst.connect(source)
        self.clients.append(c)
        return c

    def service(self, inst):
        return "127.0.0.1:%d" % inst.smtp_port


class AnvilLimitsTest(AnvilTestCase):

    def test_count_limit_per_address(self):
        inst = self.instance(smtpd_client_connection_count_limit="2", **COUNTED)
        a1 = self.connect(inst, "127.0.0.2")
        a2 = self.connect(inst, "127.0.0.2")
        self.assertTrue(a1.greeting[0].startswith("220"))
        self.assertTrue(a2.greeting[0].startswith("220"))
        a3 = self.connect(inst, "127.0.0.2")
        self.assertEqual(a3.greeting,
                         ["421 4.7.0 sandbox.test Error: too many connections from 127.0.0.2"])
        self.assertTrue(a3.closed())
        inst.wait_log("warning: Connection concurrency limit exceeded: 3 from "
                      "unknown[127.0.0.2] for service %s" % self.service(inst))
        # Between Postfix's usual connect and disconnect lines.
        inst.wait_log("disconnect from unknown[127.0.0.2] commands=0")
        log = inst.log()
        self.assertLess(log.rindex(": connect from unknown[127.0.0.2]"),
                        log.index("Connection concurrency limit exceeded"))
        # Another address has its own count.
        b1 = self.connect(inst, "127.0.0.3")
        self.assertTrue(b1.greeting[0].startswith("220"), b1.greeting)
        self.assertEqual(b1.cmd("QUIT")[:3], "221")

    def test_connection_rate_limit(self):
        inst = self.instance(smtpd_client_connection_rate_limit="3", **COUNTED)
        for _ in range(3):
            c = self.connect(inst, "127.0.0.4")
            self.assertTrue(c.greeting[0].startswith("220"), c.greeting)
            c.cmd("QUIT")
            c.close()
        c = self.connect(inst, "127.0.0.4")
        self.assertEqual(c.greeting,
                         ["421 4.7.0 sandbox.test Error: too many connections from 127.0.0.4"])
        inst.wait_log("warning: Connection rate limit exceeded: 4 from unknown[127.0.0.4] "
                      "for service %s" % self.service(inst))
        # The rate is per client: another address still gets in.
        d = self.connect(inst, "127.0.0.5")
        self.assertTrue(d.greeting[0].startswith("220"), d.greeting)

    def test_rate_window_ends(self):
        inst = self.instance(smtpd_client_connection_rate_limit="1",
                             anvil_rate_time_unit="2s", **COUNTED)
        c = self.connect(inst, "127.0.0.6")
        self.assertTrue(c.greeting[0].startswith("220"))
        c.close()
        self.assertEqual(self.connect(inst, "127.0.0.6").greeting[0][:3], "421")

        def admitted():
            d = inst.connect("127.0.0.6")
            d.close()
            return d.greeting[0].startswith("220")
        wait_for(admitted, 10, "a new rate window after anvil_rate_time_unit")

    def test_message_rate_limit(self):
        inst = self.instance(smtpd_client_message_rate_limit="2", **COUNTED)
        c = self.connect(inst, "127.0.0.2")
        c.cmd("EHLO client.test")
        for _ in range(2):
            self.assertEqual(c.cmd("MAIL FROM:<a@client.test>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RSET")[:3], "250")
        # The third, even in a new connection: the rate is per client.
        c.close()
        c = self.connect(inst, "127.0.0.2")
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@client.test>"),
                         "450 4.7.1 Error: too much mail from 127.0.0.2")
        inst.wait_log("warning: Message delivery request rate limit exceeded: 3 from "
                      "unknown[127.0.0.2] for service %s" % self.service(inst))

    def test_recipient_rate_limit(self):
        inst = self.instance(smtpd_client_recipient_rate_limit="2", **COUNTED)
        c = self.connect(inst, "127.0.0.2")
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@client.test>")
        self.assertEqual(c.cmd("RCPT TO:<b1@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<b2@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<b3@sandbox.test>"),
                         "450 4.7.1 Error: too many recipients from 127.0.0.2")
        inst.wait_log("warning: Recipient address rate limit exceeded: 3 from "
                      "unknown[127.0.0.2] for service %s" % self.service(inst))
        # The two accepted recipients still make a message.
        c.cmd("DATA")
        queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))

    def test_mynetworks_exempt_by_default(self):
        inst = self.instance(smtpd_client_connection_rate_limit="1",
                             smtpd_client_message_rate_limit="1")
        for _ in range(3):
            c = self.connect(inst, "127.0.0.2")
            self.assertTrue(c.greeting[0].startswith("220"), c.greeting)
            c.cmd("EHLO client.test")
            self.assertEqual(c.cmd("MAIL FROM:<a@client.test>"), "250 2.1.0 Ok")
            c.close()
        self.assertNotIn("rate limit exceeded", inst.log())

    def test_no_anvil_no_limits(self):
        inst = SmtpdInstance(smtpd_client_connection_count_limit="1", **COUNTED)
        self.instances.append(inst)
        # The same instance without the anvil line.
        with open(inst.path("etc", "master.cf")) as f:
            text = f.read()
        inst.write_master_cf("".join(l for l in text.splitlines(True)
                                     if not l.startswith("anvil")))
        inst.start()
        inst.wait_listening()
        a = self.connect(inst, "127.0.0.2")
        b = self.connect(inst, "127.0.0.2")
        self.assertTrue(a.greeting[0].startswith("220"))
        self.assertTrue(b.greeting[0].startswith("220"), b.greeting)
        inst.wait_log("going on without client limits")


class AnvilProtocolTest(AnvilTestCase):
    """anvil itself, over its socket: Postfix's requests and answers."""

    def client(self, inst):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(inst.path("spool", "private", "anvil"))
        self.clients.append(s)
        return s, attr.AttrReader(s, "anvil")

    def ask(self, conn, request, ident):
        s, reader = conn
        attr.send(s, [("request", request), ("ident", ident)])
        return reader.read()

    def test_requests(self):
        inst = self.instance(anvil_status_update_time="1s")
        a = self.client(inst)
        self.assertEqual(self.ask(a, "connect", "smtp:192.0.2.1"),
                         {"status": "0", "count": "1", "rate": "1"})
        self.assertEqual(self.ask(a, "connect", "smtp:192.0.2.1"),
                         {"status": "0", "count": "2", "rate": "2"})
        # Another service counts apart.
        self.assertEqual(self.ask(a, "connect", "submission:192.0.2.1")["count"], "1")
        self.assertEqual(self.ask(a, "message", "smtp:192.0.2.1"), {"status": "0", "rate": "1"})
        self.assertEqual(self.ask(a, "recipient", "smtp:192.0.2.1"), {"status": "0", "rate": "1"})
        self.assertEqual(self.ask(a, "recipient", "smtp:192.0.2.1"), {"status": "0", "rate": "2"})
        self.assertEqual(self.ask(a, "newtls", "smtp:192.0.2.1"), {"status": "0", "rate": "1"})
        self.assertEqual(self.ask(a, "auth", "smtp:192.0.2.1"), {"status": "0", "rate": "1"})
        self.assertEqual(self.ask(a, "lookup", "smtp:192.0.2.1"),
                         {"status": "0", "count": "2", "rate": "2", "mail": "1", "rcpt": "2",
                          "newtls": "1", "auth": "1"})
        self.assertEqual(self.ask(a, "disconnect", "smtp:192.0.2.1"), {"status": "0"})
        self.assertEqual(self.ask(a, "lookup", "smtp:192.0.2.1")["count"], "1")
        # A disconnect this client never connected is refused.
        b = self.client(inst)
        self.assertEqual(self.ask(b, "disconnect", "smtp:192.0.2.1"), {"status": "-1"})
        self.assertEqual(self.ask(b, "bogus", "smtp:192.0.2.1"), {"status": "-1"})
        # A client that goes away loses its connections.
        self.assertEqual(self.ask(b, "connect", "smtp:192.0.2.9")["count"], "1")
        b[0].close()
        wait_for(lambda: self.ask(a, "lookup", "smtp:192.0.2.9")["count"] == "0", 10,
                 "anvil to drop a closed client's connections")
        # Postfix's statistics lines, every anvil_status_update_time.
        inst.wait_log("statistics: max connection count 2 for (smtp:192.0.2.1)")
        inst.wait_log("statistics: max recipient rate 2/60s for (smtp:192.0.2.1)")
        inst.wait_log("statistics: max cache size ")


class StressTest(AnvilTestCase):
    """The master passes -o stress=yes to the process that takes smtpd to
    its process limit (and to later ones for a while); its
    stress-dependent defaults are Postfix's."""

    def test_stress_defaults_at_process_limit(self):
        inst = SmtpdInstance()
        self.instances.append(inst)
        with open(inst.path("etc", "master.cf")) as f:
            text = f.read()
        inst.write_master_cf(text.replace("inet n - n - - smtpd", "inet n - n - 3 smtpd"))
        inst.start()
        inst.wait_listening()
        service = self.service(inst)
        first = [self.connect(inst) for _ in range(2)]
        for c in first:
            self.assertTrue(c.greeting[0].startswith("220"), c.greeting)
        third = self.connect(inst)
        self.assertTrue(third.greeting[0].startswith("220"), third.greeting)
        inst.wait_log('warning: service "%s" (%s) has reached its process limit "3": '
                      'new clients may experience noticeable delays' % (service, service))
        stressed = [pid for pid, argv in inst.processes()
                    if service in argv and "stress=yes" in argv]
        self.assertEqual(len(stressed), 1, inst.processes())
        # Not under stress: an error is one of 20.
        self.assertEqual(first[0].cmd("BOGUS")[:3], "500")
        self.assertEqual(first[0].cmd("NOOP"), "250 2.0.0 Ok")
        # Under stress smtpd_hard_error_limit is 1: the first error ends it.
        third.send("BOGUS\r\n")
        self.assertEqual(third.reply()[0][:3], "500")
        self.assertEqual(third.reply(), ["421 4.7.0 sandbox.test Error: too many errors"])
        self.assertTrue(third.closed())
        # The warning is logged once, however long the limit holds.
        self.assertEqual(inst.log().count("has reached its process limit"), 1)


class ErrorLimitsTest(AnvilTestCase):

    def test_soft_error_limit_tarpits(self):
        inst = self.instance(smtpd_soft_error_limit="2", smtpd_error_sleep_time="1s")
        c = self.connect(inst)
        times = []
        for _ in range(4):
            start = time.monotonic()
            self.assertEqual(c.cmd("BOGUS")[:3], "500")
            times.append(time.monotonic() - start)
        # Errors 1 and 2 come at once; once 2 errors were made, every
        # reply waits 1 s (Postfix's sleep-on-anything), a good one too.
        self.assertLess(times[0], 0.8, times)
        self.assertLess(times[1], 0.8, times)
        self.assertGreaterEqual(times[2], 0.9, times)
        self.assertGreaterEqual(times[3], 0.9, times)
        start = time.monotonic()
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertGreaterEqual(time.monotonic() - start, 0.9)

    def test_junk_command_limit(self):
        inst = self.instance(smtpd_junk_command_limit="3", smtpd_hard_error_limit="2",
                             smtpd_soft_error_limit="100")
        c = self.connect(inst)
        # HELO + 3 NOOPs: 4 junk commands, within Postfix's "junk_cmds++ > limit".
        self.assertEqual(c.cmd("HELO client.test")[:3], "250")
        for _ in range(3):
            self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        # The fifth and sixth count as errors: the hard limit (2) ends it.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        c.send("NOOP\r\n")
        self.assertEqual(c.reply(), ["250 2.0.0 Ok"])
        self.assertEqual(c.reply(), ["421 4.7.0 sandbox.test Error: too many errors"])
        self.assertTrue(c.closed())
        inst.wait_log("too many errors after NOOP from unknown[127.0.0.1]")

    def test_message_resets_junk_count(self):
        inst = self.instance(smtpd_junk_command_limit="1", smtpd_hard_error_limit="1")
        c = self.connect(inst)
        self.assertEqual(c.cmd("HELO client.test")[:3], "250")
        self.assertEqual(c.cmd("NOOP")[:3], "250")
        c.cmd("MAIL FROM:<a@client.test>")
        c.cmd("RCPT TO:<b@sandbox.test>")
        c.cmd("DATA")
        queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))
        self.assertEqual(c.cmd("NOOP")[:3], "250")
        self.assertEqual(c.cmd("NOOP")[:3], "250")
        self.assertEqual(c.cmd("QUIT")[:3], "221")


class DeadlineTest(AnvilTestCase):

    def trickle(self, c, data, interval, limit):
        """Send data one byte per interval for at most limit seconds; the
        seconds until the server's 421, or None if it never came."""
        start = time.monotonic()
        c.sock.settimeout(interval)
        for ch in data:
            if time.monotonic() - start > limit:
                return None
            try:
                c.send(bytes([ch]))
            except OSError:
                break
            try:
                chunk = c.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
            c.buf += chunk
            if b"421 4.4.2" in c.buf:
                return time.monotonic() - start
            if not chunk:
                break
        return time.monotonic() - start if b"421 4.4.2" in c.buf else None

    def test_slow_data_is_cut_off(self):
        inst = self.instance(smtpd_timeout="3s", smtpd_per_request_deadline="yes")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@client.test>")
        c.cmd("RCPT TO:<b@sandbox.test>")
        self.assertEqual(c.cmd("DATA")[:3], "354")
        took = self.trickle(c, b"Subject: slow\r\n\r\n" + b"x" * 100, 1.0, 12)
        self.assertIsNotNone(took, "a one-byte-per-second DATA was never cut off")
        self.assertLess(took, 6.5)
        self.assertIn(b"421 4.4.2 sandbox.test Error: timeout exceeded", c.buf)
        inst.wait_log("timeout after DATA from unknown[127.0.0.1]")
        self.assertEqual(inst.queue_files(), [])

    def test_slow_command_is_cut_off(self):
        inst = self.instance(smtpd_timeout="3s", smtpd_per_request_deadline="yes")
        c = self.connect(inst)
        took = self.trickle(c, b"EHLO " + b"a" * 100, 1.0, 12)
        self.assertIsNotNone(took, "a one-byte-per-second command was never cut off")
        self.assertLess(took, 6.5)

    def test_without_deadline_per_read(self):
        # Postfix's default outside stress (smtpd_per_request_deadline =
        # ${stress?{yes}:{no}}): each read has its own smtpd_timeout.
        inst = self.instance(smtpd_timeout="3s")
        c = self.connect(inst)
        self.assertIsNone(self.trickle(c, b"EHLO " + b"a" * 100, 1.0, 7))

    def test_min_data_rate_extends_deadline(self):
        inst = self.instance(smtpd_timeout="2s", smtpd_per_request_deadline="yes",
                             smtpd_min_data_rate="500")
        c = self.connect(inst)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@client.test>")
        c.cmd("RCPT TO:<b@sandbox.test>")
        self.assertEqual(c.cmd("DATA")[:3], "354")
        c.send("Subject: steady\r\n\r\n")
        # 4 s of content at 2000 bytes/s: each 1000 bytes buy 2 s.
        start = time.monotonic()
        while time.monotonic() - start < 4:
            c.send(b"y" * 998 + b"\r\n")
            time.sleep(0.5)
        queued_id(c.cmd("."))


if __name__ == "__main__":
    unittest.main(verbosity=2)
