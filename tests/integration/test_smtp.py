"""test_smtp - the SMTP/LMTP delivery agent (smtp/) on a sandbox instance.

Each test starts a sandbox that relays other domains through the smtp
transport (default_transport = smtp and relayhost = [127.0.0.1]:PORT, or
transport_maps), a test server of our own on loopback (harness.sink:
records the envelope and the DATA bytes as they came over the wire) and
sends mail into the instance over SMTP. Nothing leaves loopback and no
name is looked up: every next hop is an address literal or a socket.
"""
import email
import email.policy
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import core as h
from harness import e2e
from harness.master import ipv6_loopback_ok
from harness.sink import Sink, unstuff

SENDER = "alice@sandbox.test"
# Postfix's smtp-sink, unpacked by tools/install-deps (never installed).
SMTP_SINK = "/opt/surel-postfix/usr/sbin/smtp-sink"
SMTP_SINK_LIBS = "/opt/surel-postfix/usr/lib/postfix"


def relay_to(inst, relayhost, **extra):
    inst.conf(default_transport="smtp", relayhost=relayhost, **extra)


def raw_send(inst, sender, rcpts, content, mail_params="", rcpt_params=""):
    """One transaction with content sent as raw bytes (bare CR and LF
    kept): the caller dot-stuffs and ends it. Returns the queue ID."""
    c = e2e.RawSMTP(inst.smtp_port)
    try:
        c.reply()
        c.command("EHLO client.test", 250)
        c.command("MAIL FROM:<%s>%s" % (sender, mail_params), 250)
        for r in rcpts:
            c.command("RCPT TO:<%s>%s" % (r, rcpt_params), 250)
        c.command("DATA", 354)
        c.send(content)
        code, lines = c.reply()
        if code != 250:
            raise AssertionError("content refused: %r" % lines)
        c.command("QUIT")
        return re.search(r"queued as (\w+)", lines[-1]).group(1)
    finally:
        c.close()


def body_of(data):
    """The wire bytes after the header (the instance adds Received:)."""
    return data.split(b"\r\n\r\n", 1)[1]


def dsn_report(inst, user="alice", timeout=30.0):
    """The message/delivery-status part of the first DSN in user's Maildir."""
    names = inst.wait_messages(user, 1, timeout)
    with open(os.path.join(inst.maildir(user), names[0]), "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            # Unfolded: a long field is folded onto continuation lines.
            return "".join(str(p) for p in part.get_payload()).replace("\n ", " ")
    raise AssertionError("no delivery-status part in %r" % msg)


def queue_empty(inst):
    return not e2e.queue_files(inst)


class SmtpTest(h.InstanceTest):
    def sink(self, **kw):
        s = Sink(**kw).start()
        self.addCleanup(s.close)
        return s

    def started(self, sink=None, relayhost=None, **params):
        inst = self.instance()
        relay_to(inst, relayhost or "[127.0.0.1]:%d" % sink.port, **params)
        inst.start()
        return inst

    def test_relay_byte_exact(self):
        """Envelope and content arrive as sent: bare LF and bare CR lines
        leave with CR LF only, leading dots stuffed once, DSN parameters
        and SIZE passed on; Postfix's log line."""
        sink = self.sink()
        inst = self.started(sink, cleanup_replace_stray_cr_lf="no")
        body = (b"plain line\r\nbare LF line\nbare CR line\rafter CR\r\n.leading dot\r\n"
                b"..two dots\r\n.\r\n")      # the last is a line "." stuffed by us
        content = (b"Subject: byte exact\r\n\r\n" + body.replace(b"\r\n.", b"\r\n..")
                   + b".\r\n")
        qid = raw_send(inst, SENDER, ["bob@remote.test"], content,
                       mail_params=" RET=HDRS ENVID=env+2B42",
                       rcpt_params=" NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@remote.test")
        t = sink.wait_transactions(1)[0]
        self.assertRegex(t["mail"], r"^MAIL FROM:<alice@sandbox.test> SIZE=\d+ RET=HDRS "
                         r"ENVID=env\+2B42$")
        self.assertEqual(t["rcpts"], ["RCPT TO:<bob@remote.test> NOTIFY=SUCCESS,FAILURE "
                                      "ORCPT=rfc822;Bob@remote.test"])
        self.assertTrue(t["helo"].startswith("EHLO "))
        data = t["data"]
        self.assertNotRegex(data, rb"\r(?!\n)|(?<!\r)\n", "a bare CR or LF left the machine")
        self.assertEqual(body_of(unstuff(data)),
                         b"plain line\r\nbare LF line\r\nbare CR line\r\nafter CR\r\n"
                         b".leading dot\r\n..two dots\r\n.\r\n")
        self.assertIn(b"\r\n..leading dot\r\n...two dots\r\n..\r\n", data)
        line = inst.wait_log("%s: to=<bob@remote.test>" % qid)
        log = inst.log()
        self.assertRegex(log, r"%s: to=<bob@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, "
                         r"delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                         r"status=sent \(250 2\.0\.0 Ok: queued as SINK1\)" % (qid, sink.port))
        h.wait_for(lambda: queue_empty(inst), 15, "the queue to empty")
        del line

    def test_recipient_mix(self):
        """2xx delivered, 4xx deferred, 5xx bounced with the server's reply
        in the DSN (Remote-MTA, Diagnostic-Code)."""
        sink = self.sink(rcpt_reply={
            "later@remote.test": "451 4.3.0 try again later",
            "gone@remote.test": "550 5.1.1 <gone@remote.test>: Recipient address rejected"})
        inst = self.started(sink)
        qid = e2e.send(inst, SENDER, ["ok@remote.test", "later@remote.test", "gone@remote.test"],
                       e2e.crlf("Subject: mix\n\nhello\n"))
        t = sink.wait_transactions(1)[0]
        self.assertEqual(t["accepted"], ["ok@remote.test"])
        inst.wait_log("%s: to=<gone@remote.test>" % qid)
        log = inst.log()
        self.assertIn("to=<ok@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % sink.port, log)
        self.assertRegex(log, r"to=<later@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, "
                         r".*dsn=4\.3\.0, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] said: "
                         r"451 4\.3\.0 try again later \(in reply to RCPT TO command\)\)")
        self.assertRegex(log, r"to=<gone@remote\.test>, .*dsn=5\.1\.1, status=bounced")
        report = dsn_report(inst)
        self.assertIn("Final-Recipient: rfc822; gone@remote.test", report)
        self.assertIn("Status: 5.1.1", report)
        self.assertIn("Remote-MTA: dns; 127.0.0.1", report)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 <gone@remote.test>: Recipient address "
                      "rejected", report)
        self.assertNotIn("in reply to", report)
        # later@ waits in the deferred queue; the others are done.
        h.wait_for(lambda: "deferred" in e2e.queue_files(inst), 15,
                   "the message in deferred/")

    def test_relayhost_list(self):
        """The first relayhost refuses the connection; the second takes it."""
        dead = h.free_port()
        sink = self.sink()
        inst = self.started(relayhost="[127.0.0.1]:%d, [127.0.0.1]:%d" % (dead, sink.port))
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: list\n\nx\n"))
        sink.wait_transactions(1)
        inst.wait_log("%s: to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % (qid, sink.port))
        self.assertIn("status=sent", inst.log().split("%s: to=<bob@remote.test>" % qid)[1])

    def test_sender_dependent_relayhost(self):
        """sender_dependent_relayhost_maps picks the relay by sender
        (@domain here) over relayhost; other senders keep relayhost."""
        by_sender = self.sink()
        sink = self.sink()
        inst = self.started(sink, sender_dependent_relayhost_maps="inline:{ @special.test="
                            "[127.0.0.1]:%d }" % by_sender.port)
        e2e.send(inst, "boss@special.test", ["bob@remote.test"], e2e.crlf("Subject: s\n\nx\n"))
        e2e.send(inst, SENDER, ["carol@remote.test"], e2e.crlf("Subject: g\n\nx\n"))
        self.assertEqual(by_sender.wait_transactions(1, timeout=15)[0]["mail"],
                         "MAIL FROM:<boss@special.test> SIZE=%s"
                         % by_sender.transactions[0]["mail"].split("SIZE=")[1])
        self.assertIn("carol@remote.test", sink.wait_transactions(1)[0]["accepted"])

    def test_all_hosts_dead(self):
        """Nobody answers: deferred with Postfix's connect wording."""
        dead = h.free_port()
        inst = self.started(relayhost="[127.0.0.1]:%d" % dead)
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: dead\n\nx\n"))
        inst.wait_log("%s: to=<bob@remote.test>, relay=none" % qid)
        self.assertRegex(inst.log(), r"dsn=4\.4\.1, status=deferred \(connect to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection refused\)" % dead)

    def test_domain_needs_dns(self):
        """A next hop whose name server does not answer waits (4.4.3): the
        sandbox's dns_servers is a dead loopback port (test_smtp_dns.py
        has a real name server)."""
        # .example, not .test: libunbound answers NXDOMAIN for .test itself.
        inst = self.started(relayhost="relay.remote.example")
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: dns\n\nx\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid, timeout=60)
        self.assertRegex(inst.log(), r"dsn=4\.4\.3, status=deferred \(Host or domain name not "
                         r"found\. Name service error for name=relay\.remote\.example type=MX: "
                         r"Host not found, try again\)")

    def test_drop_during_data(self):
        """The server vanishes in the middle of DATA: deferred; the retry
        delivers it, once."""
        sink = self.sink(drop_in_data=1)
        inst = self.started(sink)
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: drop\n\nbody\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"dsn=4\.4\.2, status=deferred \(lost connection with "
                         r"127\.0\.0\.1\[127\.0\.0\.1\] while sending (message body|end of data)")
        self.assertEqual(sink.transactions, [])
        h.wait_for(lambda: "deferred" in e2e.queue_files(inst), 15,
                   "the message in deferred/")
        inst.surel("queue", "flush")
        sink.wait_transactions(1)
        h.wait_for(lambda: "status=sent" in inst.log(), 20, "the retry to be sent")
        h.wait_for(lambda: queue_empty(inst), 15, "the queue to empty")
        self.assertEqual(len(sink.transactions), 1)
        self.assertEqual(inst.log().count("to=<bob@remote.test>, relay=127.0.0.1"), 2)

    def test_size_refused_early(self):
        """A message larger than the server's SIZE bounces 5.3.4 before MAIL."""
        sink = self.sink(features=("PIPELINING", "SIZE 100"))
        inst = self.started(sink)
        qid = e2e.send(inst, SENDER, ["bob@remote.test"],
                       e2e.crlf("Subject: big\n\n" + "x" * 500 + "\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"dsn=5\.3\.4, status=bounced \(message size \d+ exceeds "
                         r"size limit 100 of server 127\.0\.0\.1\[127\.0\.0\.1\]\)")
        self.assertIn("Status: 5.3.4", dsn_report(inst))
        self.assertEqual(sink.command_lines("MAIL"), [])

    def test_ehlo_refused_helo(self):
        """EHLO refused: HELO, and no ESMTP parameters afterwards."""
        sink = self.sink(ehlo_ok=False)
        inst = self.started(sink, smtp_helo_name="client.sandbox.test")
        e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: helo\n\nx\n"))
        t = sink.wait_transactions(1)[0]
        self.assertEqual(t["helo"], "HELO client.sandbox.test")
        self.assertEqual(sink.command_lines("EHLO"), ["EHLO client.sandbox.test"])
        self.assertEqual(t["mail"], "MAIL FROM:<alice@sandbox.test>")

    def test_lmtp_unix_socket(self):
        """transport_maps lmtp:unix:/path; one reply per recipient after DATA."""
        folder = tempfile.mkdtemp(prefix="surel-lmtp-")
        os.chmod(folder, 0o755)
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "lmtp.sock")
        sink = self.sink(lmtp=True, unix_path=path, lmtp_reply={
            "two@remote.test": "452 4.2.2 <two@remote.test> mailbox full",
            "three@remote.test": "550 5.1.1 <three@remote.test> no such user"})
        inst = self.instance()
        inst.conf(transport_maps="inline:{ remote.test=lmtp:unix:%s }" % path)
        inst.start()
        qid = e2e.send(inst, SENDER, ["one@remote.test", "two@remote.test", "three@remote.test"],
                       e2e.crlf("Subject: lmtp\n\nx\n"))
        t = sink.wait_transactions(1)[0]
        self.assertTrue(t["helo"].startswith("LHLO "))
        self.assertEqual(len(t["accepted"]), 3)
        inst.wait_log("%s: to=<three@remote.test>" % qid)
        log = inst.log()
        relay = r"relay=[^\[]+\[%s\]" % re.escape(path)
        self.assertRegex(log, r"to=<one@remote\.test>, %s, .*dsn=2\.0\.0, status=sent" % relay)
        self.assertRegex(log, r"to=<two@remote\.test>, %s, .*dsn=4\.2\.2, status=deferred" % relay)
        self.assertRegex(log, r"to=<three@remote\.test>, %s, .*dsn=5\.1\.1, status=bounced" % relay)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 <three@remote.test> no such user",
                      dsn_report(inst))

    def test_lmtp_inet(self):
        """transport_maps lmtp:inet:127.0.0.1:PORT: LMTP over TCP."""
        sink = self.sink(lmtp=True)
        inst = self.instance()
        inst.conf(transport_maps="inline:{ remote.test=lmtp:inet:127.0.0.1:%d }" % sink.port)
        inst.start()
        qid = e2e.send(inst, SENDER, ["one@remote.test"], e2e.crlf("Subject: lmtp tcp\n\nx\n"))
        self.assertTrue(sink.wait_transactions(1)[0]["helo"].startswith("LHLO "))
        inst.wait_log("%s: to=<one@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % (qid, sink.port))
        self.assertIn("status=sent (250 2.0.0 <one@remote.test> delivered)", inst.log())

    def test_5xx_greeting(self):
        """A 554 greeting: skipped for the next host (smtp_skip_5xx_greeting
        = yes); with no, the recipients bounce with the greeting."""
        grumpy = self.sink(greeting="554 5.7.1 go away")
        sink = self.sink()
        inst = self.started(relayhost="[127.0.0.1]:%d [127.0.0.1]:%d" % (grumpy.port, sink.port))
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: skip\n\nx\n"))
        sink.wait_transactions(1)
        inst.wait_log("%s: to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % (qid, sink.port))
        inst.conf(smtp_skip_5xx_greeting="no", relayhost="[127.0.0.1]:%d" % grumpy.port)
        inst.stop()
        h.wait_for(lambda: not inst.running(), 15, "the instance to stop")
        inst.start()
        qid = e2e.send(inst, SENDER, ["carol@remote.test"], e2e.crlf("Subject: no skip\n\nx\n"))
        inst.wait_log("%s: to=<carol@remote.test>" % qid, timeout=20)
        self.assertRegex(inst.log(), r"to=<carol@remote\.test>, .*dsn=5\.7\.1, status=bounced "
                         r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 554 5\.7\.1 go away "
                         r"\(in reply to initial greeting\)\)")

    def test_pipelining(self):
        """With PIPELINING, MAIL, every RCPT and DATA go before any reply
        is read: the server answers only once DATA is in (a client that
        waited for each reply would time out), and the mail is delivered.
        qmgr hands out 50 recipients per request: three transactions."""
        sink = self.sink(hold_until_data=True)
        inst = self.started(sink, smtp_mail_timeout="5s", smtp_rcpt_timeout="5s")
        rcpts = ["r%d@remote.test" % i for i in range(150)]
        e2e.send(inst, SENDER, rcpts, e2e.crlf("Subject: pipelined\n\nx\n"))
        got = sink.wait_transactions(3)
        self.assertEqual(sorted(a for t in got for a in t["accepted"]), sorted(rcpts))
        self.assertNotIn("timed out", inst.log())

    def test_fallback_relay(self):
        """A transport_maps destination that is dead: smtp_fallback_relay."""
        dead = h.free_port()
        sink = self.sink()
        inst = self.instance()
        inst.conf(transport_maps="inline:{ remote.test=smtp:[127.0.0.1]:%d }" % dead,
                  smtp_fallback_relay="[127.0.0.1]:%d" % sink.port)
        inst.start()
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: fb\n\nx\n"))
        sink.wait_transactions(1)
        inst.wait_log("%s: to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % (qid, sink.port))

    def test_bind_address(self):
        """smtp_bind_address: the server sees that source address."""
        sink = self.sink()
        inst = self.started(sink, smtp_bind_address="127.0.0.2")
        e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: bind\n\nx\n"))
        self.assertEqual(sink.wait_transactions(1)[0]["peer"][0], "127.0.0.2")

    def test_inet_protocols(self):
        """An IPv4 next hop with inet_protocols = ipv6: never connected to."""
        sink = self.sink()
        inst = self.instance()
        relay_to(inst, "[127.0.0.1]:%d" % sink.port)
        # Only for the client (-o): the instance's own listener is IPv4.
        with open(os.path.join(inst.etc, "master.cf")) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^(smtp +unix .*)$", r"\1\n  -o inet_protocols=ipv6", text)
        self.assertEqual(n, 1)
        inst.write_master_cf(text)
        inst.start()
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: v6\n\nx\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertIn("address family disabled by inet_protocols", inst.log())
        self.assertEqual(sink.connections, 0)

    @unittest.skipUnless(ipv6_loopback_ok(), "no ::1 on this machine")
    def test_ipv6_next_hop(self):
        """[ipv6:::1]:port is reached over IPv6 (relay=::1[::1]:port); with
        inet_protocols = ipv4 the same next hop is never connected to."""
        sink = self.sink(host="::1")
        inst = self.started(relayhost="[ipv6:::1]:%d" % sink.port)
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: v6\n\nx\n"))
        self.assertEqual(sink.wait_transactions(1)[0]["peer"][0], "::1")
        inst.wait_log("%s: to=<bob@remote.test>, relay=::1[::1]:%d" % (qid, sink.port))
        self.assertIn("status=sent", inst.log().split("%s: to=<bob@remote.test>" % qid)[1])

    @unittest.skipUnless(ipv6_loopback_ok(), "no ::1 on this machine")
    def test_bind_address6(self):
        """smtp_bind_address6 is the source of IPv6 connections: an address
        the machine lacks fails the bind (the IPv4 one is not used)."""
        sink = self.sink(host="::1")
        inst = self.started(relayhost="[ipv6:::1]:%d" % sink.port, smtp_bind_address6="2001:db8::1",
                            smtp_bind_address="127.0.0.1")
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: bind6\n\nx\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertIn("bind 2001:db8::1: Cannot assign requested address", inst.log())
        self.assertEqual(sink.connections, 0)

    @unittest.skipUnless(ipv6_loopback_ok(), "no ::1 on this machine")
    def test_ipv6_disabled_by_inet_protocols(self):
        sink = self.sink(host="::1")
        inst = self.instance()
        relay_to(inst, "[ipv6:::1]:%d" % sink.port, inet_protocols="ipv4")
        inst.start()
        qid = e2e.send(inst, SENDER, ["bob@remote.test"], e2e.crlf("Subject: v4 only\n\nx\n"))
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"dsn=4\.4\.4, status=deferred \(connect to ::1\[::1\]:%d: "
                         r"address family disabled by inet_protocols\)" % sink.port)
        self.assertEqual(sink.connections, 0)

    def test_8bitmime_and_smtputf8(self):
        """BODY=8BITMIME is passed on; a UTF-8 recipient to a server
        without SMTPUTF8 bounces 5.6.7 before MAIL."""
        sink = self.sink(features=("PIPELINING", "8BITMIME"))
        inst = self.started(sink)
        raw_send(inst, SENDER, ["bob@remote.test"], b"Subject: 8bit\r\n\r\ncaf\xc3\xa9\r\n.\r\n",
                 mail_params=" BODY=8BITMIME")
        t = sink.wait_transactions(1)[0]
        self.assertEqual(t["mail"], "MAIL FROM:<alice@sandbox.test> BODY=8BITMIME")
        self.assertIn(b"\r\n\r\ncaf\xc3\xa9\r\n", t["data"])
        qid = raw_send(inst, SENDER, ["bj\u00f6rn@remote.test"],
                       b"Subject: utf8\r\n\r\nx\r\n.\r\n", mail_params=" SMTPUTF8")
        inst.wait_log("%s: to=<bj\u00f6rn@remote.test>" % qid)
        self.assertRegex(inst.log(), r"dsn=5\.6\.7, status=bounced \(SMTPUTF8 is required, "
                         r"but was not offered by host 127\.0\.0\.1\[127\.0\.0\.1\]\)")
        self.assertEqual(len(sink.command_lines("MAIL")), 1)

    def test_smtputf8_passed_on(self):
        """A server with SMTPUTF8: SMTPUTF8 and BODY=8BITMIME on MAIL, the
        UTF-8 recipient and the UTF-8 header and body as sent."""
        utf8 = self.sink()
        inst = self.started(utf8)
        content = "Subject: gr\u00fc\u00dfe\r\n\r\nbj\u00f6rn\r\n".encode()
        raw_send(inst, SENDER, ["bj\u00f6rn@remote.test"], content + b".\r\n",
                 mail_params=" SMTPUTF8 BODY=8BITMIME")
        t = utf8.wait_transactions(1)[0]
        self.assertRegex(t["mail"], r"^MAIL FROM:<alice@sandbox\.test> SIZE=\d+ BODY=8BITMIME "
                         r"SMTPUTF8$")
        self.assertEqual(t["rcpts"], ["RCPT TO:<bj\u00f6rn@remote.test>"])
        self.assertEqual(body_of(t["data"]), "bj\u00f6rn\r\n".encode())
        self.assertIn("Subject: gr\u00fc\u00dfe\r\n".encode(), t["data"])

    @unittest.skipUnless(os.access(SMTP_SINK, os.X_OK), "no smtp-sink (tools/install-deps)")
    def test_relay_to_postfix_smtp_sink(self):
        """A real peer: Postfix's smtp-sink takes the envelope (with DSN
        parameters) and the content as sent (its dump: LF line ends, dots
        unstuffed)."""
        folder = tempfile.mkdtemp(prefix="surel-sink-")
        os.chmod(folder, 0o777)                 # smtp-sink drops to -u nobody
        self.addCleanup(shutil.rmtree, folder, True)
        port = h.free_port()
        argv = [SMTP_SINK, "-d", os.path.join(folder, "msg.")]
        if os.geteuid() == 0:
            argv += ["-u", "nobody"]
        sink = subprocess.Popen(argv + ["127.0.0.1:%d" % port, "10"],
                                env=dict(os.environ, LD_LIBRARY_PATH=SMTP_SINK_LIBS),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(sink.wait, 10)
        self.addCleanup(sink.kill)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                return True
            except OSError:
                return False
        h.wait_for(listening, 10, "smtp-sink to listen")
        inst = self.started(relayhost="[127.0.0.1]:%d" % port)
        body = b".leading dot\r\nline two\r\n..two dots\r\n"
        qid = raw_send(inst, SENDER, ["bob@remote.test"],
                       b"Subject: to smtp-sink\r\n\r\n" + body.replace(b"\r\n.", b"\r\n..")
                       .replace(b".leading", b"..leading", 1) + b".\r\n",
                       rcpt_params=" NOTIFY=FAILURE")
        inst.wait_log("%s: to=<bob@remote.test>, relay=127.0.0.1[127.0.0.1]:%d" % (qid, port))
        self.assertIn("dsn=2.0.0, status=sent (250 2.0.0 Ok)",
                      inst.log().split("%s: to=<bob@remote.test>" % qid)[1])
        dumps = h.wait_for(lambda: [n for n in os.listdir(folder) if n.startswith("msg.")], 10,
                           "the smtp-sink dump")
        with open(os.path.join(folder, dumps[0]), "rb") as f:
            dump = f.read()
        self.assertIn(b"X-Mail-Args: <alice@sandbox.test>\n", dump)   # it offers no SIZE
        self.assertIn(b"X-Rcpt-Args: <bob@remote.test> NOTIFY=FAILURE\n", dump)
        self.assertIn(b"\n\n.leading dot\nline two\n..two dots\n", dump)
        self.assertIn(b"Subject: to smtp-sink\n", dump)


if __name__ == "__main__":
    h.main()
