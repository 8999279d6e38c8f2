"""test_smtp_dns - the SMTP client's DNS (smtp/smtp_dns.c) against a real
name server: Debian's unbound, started by the test on a loopback port with
local-zone/local-data records the test writes (its own config, no remote
access, no root hints used: every name is in a local zone). The instance's
dns_servers points at it (127.0.0.1@PORT); MX hosts are 127.0.0.x
addresses and smtp_tcp_port is the sinks' port. The zones are below
.example, not .test: unbound (and so libunbound) answers NXDOMAIN for
.test itself by default (RFC 6761 special-use names).
"""
import os
import shutil
import tempfile
import unittest

from harness import core as h
from harness import e2e
from harness.dns import UNBOUND, NameServer
from harness.sink import Sink
from test_smtp import SENDER, dsn_report


def free_port_on(host):
    return h.free_port(host=host)


@unittest.skipUnless(os.path.exists(UNBOUND), "unbound is not installed (tools/install-deps)")
class SmtpDnsTest(h.InstanceTest):
    ZONE = [
        # MX order: mx1 (10, refuses) before mx2 (20, takes the mail).
        'local-zone: "order.example." static',
        'local-data: "order.example. MX 20 mx2.order.example."',
        'local-data: "order.example. MX 10 mx1.order.example."',
        'local-data: "mx1.order.example. A 127.0.0.2"',
        'local-data: "mx2.order.example. A 127.0.0.3"',
        # Equal preferences: both hosts get mail over several deliveries.
        'local-zone: "equal.example." static',
        'local-data: "equal.example. MX 10 mxa.equal.example."',
        'local-data: "equal.example. MX 10 mxb.equal.example."',
        'local-data: "mxa.equal.example. A 127.0.0.3"',
        'local-data: "mxb.equal.example. A 127.0.0.4"',
        # No MX: the domain's A record.
        'local-zone: "plain.example." static',
        'local-data: "plain.example. A 127.0.0.3"',
        # Null MX (RFC 7505).
        'local-zone: "nullmx.example." static',
        'local-data: "nullmx.example. MX 0 ."',
        # An MX that is ourselves (the sandbox's myhostname).
        'local-zone: "loop.example." static',
        'local-data: "loop.example. MX 10 %(me)s."',
        # An MX at our own address (the sandbox's inet_interfaces).
        'local-zone: "loopaddr.example." static',
        'local-data: "loopaddr.example. MX 10 here.loopaddr.example."',
        'local-data: "here.loopaddr.example. A 127.0.0.1"',
        # Nothing at all: NXDOMAIN.
        'local-zone: "nx.example." static',
        # The server refuses: the resolver's answer is SERVFAIL.
        'local-zone: "broken.example." refuse',
    ]

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="surel-dns-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port_on("127.0.0.3")

    def nameserver(self, me):
        """A real unbound serving ZONE (harness/dns.py); its UDP port."""
        ns = NameServer(self.tmp, [z % {"me": me} for z in self.ZONE]).start()
        self.addCleanup(ns.stop)
        return ns.port

    def sink(self, host, **kw):
        s = Sink(host=host, port=self.port, **kw).start()
        self.addCleanup(s.close)
        return s

    def started(self):
        inst = self.instance()
        me = "sandbox.test"
        with open(os.path.join(inst.root, "etc", "main.cf")) as f:
            for line in f:
                if line.startswith("myhostname ="):
                    me = line.split("=", 1)[1].strip()
        ns = self.nameserver(me)
        inst.conf(default_transport="smtp", relayhost="", dns_servers="127.0.0.1@%d" % ns,
                  smtp_tcp_port=str(self.port), inet_protocols="ipv4")
        inst.start()
        return inst

    def test_mx_order_and_fallback(self):
        """mx1 (preference 10) refuses the connection; mx2 (20) takes it."""
        sink = self.sink("127.0.0.3")
        inst = self.started()
        qid = e2e.send(inst, SENDER, ["bob@order.example"], e2e.crlf("Subject: mx\n\nx\n"))
        sink.wait_transactions(1)
        inst.wait_log("%s: to=<bob@order.example>" % qid)
        self.assertRegex(inst.log(), r"to=<bob@order\.example>, relay=mx2\.order\.example"
                         r"\[127\.0\.0\.3\]:%d, .*status=sent" % self.port)

    def test_mx_reply_in_bounce(self):
        """A 5xx from the MX: the DSN names it (Remote-MTA: dns; mx2...)."""
        self.sink("127.0.0.3", rcpt_reply={"gone@order.example": "550 5.1.1 no such user"})
        inst = self.started()
        qid = e2e.send(inst, SENDER, ["gone@order.example"], e2e.crlf("Subject: r\n\nx\n"))
        inst.wait_log("%s: to=<gone@order.example>" % qid)
        report = dsn_report(inst)
        self.assertIn("Remote-MTA: dns; mx2.order.example", report)
        self.assertIn("Diagnostic-Code: smtp; 550 5.1.1 no such user", report)

    def test_equal_preferences_share(self):
        """Two MX hosts of preference 10: over 16 deliveries both get mail
        (all 16 on one host: chance 2^-15)."""
        a = self.sink("127.0.0.3")
        b = self.sink("127.0.0.4")
        inst = self.started()
        for i in range(16):
            e2e.send(inst, SENDER, ["bob@equal.example"], e2e.crlf("Subject: %d\n\nx\n" % i))
        h.wait_for(lambda: len(a.transactions) + len(b.transactions) == 16, 60,
                   "16 deliveries")
        self.assertGreater(len(a.transactions), 0)
        self.assertGreater(len(b.transactions), 0)

    def test_no_mx_uses_a(self):
        sink = self.sink("127.0.0.3")
        inst = self.started()
        qid = e2e.send(inst, SENDER, ["bob@plain.example"], e2e.crlf("Subject: a\n\nx\n"))
        sink.wait_transactions(1)
        inst.wait_log("%s: to=<bob@plain.example>" % qid)
        self.assertRegex(inst.log(), r"relay=plain\.example\[127\.0\.0\.3\]:%d, .*status=sent"
                         % self.port)

    def bounced(self, rcpt, dsn, reason):
        inst = self.started()
        qid = e2e.send(inst, SENDER, [rcpt], e2e.crlf("Subject: b\n\nx\n"))
        inst.wait_log("%s: to=<%s>" % (qid, rcpt), timeout=30)
        self.assertRegex(inst.log(), r"to=<%s>, relay=none, .*dsn=%s, status=bounced \(%s\)"
                         % (rcpt.replace(".", r"\."), dsn.replace(".", r"\."), reason))
        return inst

    def test_null_mx_bounces(self):
        inst = self.bounced("bob@nullmx.example", "5.1.10",
                            r"Domain nullmx\.example does not accept mail \(nullMX\)")
        self.assertIn("5.1.10", dsn_report(inst))

    def test_nxdomain_bounces(self):
        self.bounced("bob@nx.example", "5.1.2",
                     r"Host or domain name not found\. Name service error for "
                     r"name=nx\.example type=MX: Host not found")

    def test_mx_is_ourselves_loops(self):
        self.bounced("bob@loop.example", "5.4.6", r"mail for loop\.example loops back to myself")

    def test_mx_at_our_address_loops(self):
        self.bounced("bob@loopaddr.example", "5.4.6",
                     r"mail for loopaddr\.example loops back to myself")

    def test_servfail_defers(self):
        inst = self.started()
        qid = e2e.send(inst, SENDER, ["bob@broken.example"], e2e.crlf("Subject: s\n\nx\n"))
        inst.wait_log("%s: to=<bob@broken.example>" % qid, timeout=60)
        self.assertRegex(inst.log(), r"dsn=4\.4\.3, status=deferred \(Host or domain name not "
                         r"found\. Name service error for name=broken\.example type=MX: Host not "
                         r"found, try again\)")


if __name__ == "__main__":
    h.main()
