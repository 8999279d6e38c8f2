"""test_logtools - Debian's log tools read surel's log as Postfix's (issue 13).

One sandbox instance with syslog_name = postfix carries a mixed session:
two local deliveries, a bounce (and its DSN, delivered), a deferral, a
message held by header_checks, a message rejected by header_checks, an
unknown recipient and a relay attempt from an untrusted client. Then:

- Debian's pflogsumm counts exactly what happened: received, delivered,
  deferred, bounced, rejected, held (a rejected message is counted once:
  cleanup logs it, smtpd adds no second line);
- fail2ban-regex with Debian's stock postfix filter, in normal and in
  aggressive mode, matches every smtpd reject line of the session.
"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import unittest

from harness import core as h
from harness import e2e as e

FAIL2BAN_FILTER = "/etc/fail2ban/filter.d/postfix.conf"


def message(subject):
    return e.crlf("From: bob@sandbox.test\nTo: someone@sandbox.test\nSubject: %s\n\nbody\n"
                  % subject)


def pflogsumm_totals(logfile):
    """{"received": N, "delivered": N, ...} from pflogsumm's Grand Totals."""
    out = h.run(["pflogsumm", logfile]).stdout
    totals = {}
    section = out.split("Grand Totals", 1)[1].split("Per-Hour", 1)[0]
    for number, word in re.findall(r"(?m)^\s+(\d+)\s+([a-z]+(?: [a-z]+)?)", section):
        totals.setdefault(word, int(number))
    return totals


@unittest.skipUnless(shutil.which("pflogsumm") and shutil.which("fail2ban-regex")
                     and os.path.exists(FAIL2BAN_FILTER), "pflogsumm and fail2ban are installed"
                     " by tools/install-deps")
class LogToolsTest(h.InstanceTest):

    @classmethod
    def setUpClass(cls):
        cls.inst = h.Instance()
        inst = cls.inst
        checks = inst.path("etc", "header_checks")
        with open(checks, "w") as f:
            f.write("/^Subject: hold me/ HOLD\n/^Subject: reject me/ REJECT no thanks\n")
        inst.conf(syslog_name="postfix", mynetworks="127.0.0.1/32",
                  header_checks="pcre:" + checks,
                  transport_maps="inline:{ { defer.example = retry:4.4.1 try later } }")
        inst.start()
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("one"))
        e.send(inst, "bob@sandbox.test", ["bob@sandbox.test"], message("two"))
        e.send(inst, "bob@sandbox.test", ["someone@elsewhere.example"], message("bounce"))
        defer_id = e.send(inst, "bob@sandbox.test", ["x@defer.example"], message("defer"))
        held_id = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("hold me"))
        client = e.smtp_client(inst)
        client.mail("bob@sandbox.test")
        client.rcpt("alice@sandbox.test")
        assert client.data(message("reject me"))[0] == 550
        client.rset()
        client.mail("bob@sandbox.test")
        assert client.rcpt("nosuchuser@sandbox.test")[0] == 550
        client.quit()
        # An untrusted client (127.0.0.2 is outside mynetworks) may not relay.
        sock = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=10,
                                        source_address=("127.0.0.2", 0))
        untrusted = smtplib.SMTP()
        untrusted.sock = sock
        untrusted.getreply()
        untrusted.ehlo("evil.test")
        untrusted.mail("x@evil.test")
        assert untrusted.rcpt("y@relay.example")[0] in (450, 454, 554)
        untrusted.quit()
        # Everything has happened once the log says so.
        e.wait_delivered(inst, "alice", 1)
        e.wait_delivered(inst, "bob", 2)             # "two" and the bounce
        inst.wait_log("%s: to=<x@defer.example>" % defer_id)
        inst.wait_log("status=bounced")
        inst.wait_log("sender non-delivery notification")
        h.wait_for(lambda: os.path.exists(inst.path("spool", "hold", held_id)), 10,
                   "the held message")
        h.wait_for(lambda: len(re.findall(r"status=sent", inst.log())) == 3, 10,
                   "three deliveries logged")

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def test_pflogsumm_counts(self):
        totals = pflogsumm_totals(self.inst.logfile)
        self.assertEqual(totals.get("received"), 6, totals)    # five messages and the DSN
        self.assertEqual(totals.get("delivered"), 3, totals)
        self.assertEqual(totals.get("deferred"), 1, totals)
        self.assertEqual(totals.get("bounced"), 1, totals)
        self.assertEqual(totals.get("rejected"), 3, totals)    # header, unknown user, relay
        self.assertEqual(totals.get("held"), 1, totals)

    def fail2ban_matches(self, mode):
        out = h.run(["fail2ban-regex", self.inst.logfile,
                     "%s[mode=%s]" % (FAIL2BAN_FILTER, mode)]).stdout
        found = re.search(r"Lines: \d+ lines, \d+ ignored, (\d+) matched", out)
        self.assertIsNotNone(found, out)
        return int(found.group(1))

    def test_fail2ban_matches_every_smtpd_reject(self):
        rejects = len(re.findall(r"(?m)postfix/smtpd\[\d+\]: NOQUEUE: reject: ", self.inst.log()))
        self.assertEqual(rejects, 2)
        self.assertEqual(self.fail2ban_matches("normal"), rejects)
        self.assertEqual(self.fail2ban_matches("aggressive"), rejects)


if __name__ == "__main__":
    h.main()
