"""test_milter - smtpd_milters at the SMTP stages, against a real filter process.

The filter is harness.milter.TestMilter, a raw-protocol milter on a
loopback port (so it can also hang and crash). Each test starts a
smtpd + cleanup sandbox with smtpd_milters pointing at it and checks what
the SMTP client hears, what reached incoming/, what the filter was sent
(negotiated steps, macros) and the log lines (milter-reject with the queue
ID or NOQUEUE, the default_action warning).
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

from harness.core import binary, free_port, tcp_listening, wait_for
from harness.milter import TestMilter
from harness.core import Instance, read_records
from harness.e2e import wait_delivered
from harness.smtpd import SmtpdInstance, SmtpClient, attrs, content_text, queued_id, types

HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)


class MilterBase(unittest.TestCase):
    """Filters and smtpd + cleanup instances, stopped after each test."""

    def setUp(self):
        self.instances = []
        self.milters = []

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()
        for m in self.milters:
            m.close()

    def milter(self, **kw):
        m = TestMilter(**kw)
        self.milters.append(m)
        return m

    def instance(self, master_extra="", **params):
        inst = SmtpdInstance(master_extra=master_extra, **params)
        self.instances.append(inst)
        inst.start()
        inst.wait_listening()
        # The probe's session was a connect (answered before its greeting):
        # start each test's record clean.
        for m in self.milters:
            with m.lock:
                del m.events[:]
        return inst

    def session(self, inst, helo="client.test"):
        c = inst.connect()
        self.addCleanup(c.close)
        if helo:
            self.assertTrue(c.cmd("EHLO %s" % helo).startswith("250"))
        return c

    def send(self, c, rcpts=("user@sandbox.test",), sender="sender@client.test"):
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        for r in rcpts:
            self.assertEqual(c.cmd("RCPT TO:<%s>" % r), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        return c.cmd("Subject: t\r\n\r\nbody\r\n.")


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built")
class MilterSmtpTest(MilterBase):

    def test_stages_macros_and_continue(self):
        m = self.milter()
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        qid = queued_id(self.send(c))
        self.assertEqual(len(inst.queue_files()), 1)
        wait_for(lambda: "abort" in m.stages() or len(m.stages()) >= 5, 5, "filter events")
        self.assertEqual(m.stages()[:5], ["connect", "helo", "mail", "rcpt", "data"])
        ev = dict((e[0], e) for e in m.events)
        raw = b"\0".join(ev["connect"][1])
        # host, NUL, family, port (the client's, network order), address
        self.assertEqual(raw[:9], b"unknown\x004")
        self.assertEqual(struct.unpack("!H", raw[9:11])[0], c.sock.getsockname()[1])
        self.assertEqual(raw[11:], b"127.0.0.1\0")
        self.assertEqual(ev["helo"][1][0], b"client.test")
        self.assertEqual(ev["mail"][1][0], b"<sender@client.test>")
        self.assertEqual(ev["rcpt"][1][0], b"<user@sandbox.test>")
        macros = m.macros()
        self.assertIn("j", macros)
        self.assertIn("{daemon_name}", macros)
        self.assertTrue(macros["v"].startswith("surel "))
        self.assertEqual(macros["_"], "unknown [127.0.0.1]")
        self.assertEqual(macros["{mail_addr}"], "sender@client.test")
        self.assertEqual(macros["{rcpt_addr}"], "user@sandbox.test")
        self.assertEqual(ev["data"][2].get("i"), qid)           # the queue ID at DATA

    def test_negotiated_steps_are_not_sent(self):
        # NOHELO | NORCPT | NR_MAIL: HELO and RCPT never sent, MAIL unanswered.
        m = self.milter(protocol=0x2 | 0x8 | 0x4000)
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        queued_id(self.send(c))
        c.cmd("QUIT")
        wait_for(lambda: "data" in m.stages(), 5, "DATA at the filter: %r" % m.events)
        self.assertNotIn("helo", m.stages())
        self.assertNotIn("rcpt", m.stages())
        self.assertIn("mail", m.stages())

    def test_reject_at_each_stage_with_the_filters_text(self):
        for stage, setup in (("helo", None), ("mail", "helo"), ("rcpt", "mail"),
                             ("data", "rcpt")):
            with self.subTest(stage=stage):
                text = "550 5.7.1 filter says no at %s" % stage
                m = self.milter(rules={stage: ("reply", text)})
                inst = self.instance(smtpd_milters=m.endpoint)
                c = inst.connect()
                self.addCleanup(c.close)
                got = c.cmd("EHLO client.test")
                if stage == "helo":
                    self.assertEqual(got, text)
                    inst.wait_log("NOQUEUE: milter-reject: EHLO from unknown[127.0.0.1]: " + text)
                    continue
                self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"),
                                 text if stage == "mail" else "250 2.1.0 Ok")
                if stage == "mail":
                    inst.wait_log("NOQUEUE: milter-reject: MAIL from unknown[127.0.0.1]: "
                                  + text + "; from=<s@client.test>")
                    continue
                self.assertEqual(c.cmd("RCPT TO:<u@sandbox.test>"),
                                 text if stage == "rcpt" else "250 2.1.5 Ok")
                if stage == "rcpt":
                    inst.wait_log("milter-reject: RCPT from unknown[127.0.0.1]: " + text
                                  + "; from=<s@client.test> to=<u@sandbox.test>")
                    continue
                self.assertEqual(c.cmd("DATA"), text)
                self.assertEqual(inst.queue_files(), [])
                # The rejection names the queue ID cleanup gave.
                wait_for(lambda: "milter-reject: DATA from" in inst.log(), 5, "log")
                self.assertNotIn("NOQUEUE: milter-reject: DATA", inst.log())

    def test_tempfail_one_recipient_and_multiline_reply(self):
        def rcpt(fields):
            if fields[0] == b"<bad@sandbox.test>":
                return ("reply", "451-4.7.1 first line\r\n451 4.7.1 try later")
            return "continue"
        m = self.milter(rules={"rcpt": rcpt})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<bad@sandbox.test>"),
                         "451-4.7.1 first line\n451 4.7.1 try later")
        self.assertEqual(c.cmd("RCPT TO:<good@sandbox.test>"), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))

    def test_unknown_command(self):
        m = self.milter(rules={"unknown": ("reply", "502 5.5.1 not here either")})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        self.assertEqual(c.cmd("XYZZY magic words"), "502 5.5.1 not here either")
        ev = [e for e in m.events if e[0] == "unknown"]
        self.assertEqual(ev[0][1][0], b"XYZZY magic words")
        # Without a filter's answer it is smtpd's own 500.
        m.rules["unknown"] = "continue"
        self.assertEqual(c.cmd("XYZZY"), "500 5.5.2 Error: command not recognized")

    def test_plain_reject_and_tempfail_replies(self):
        m = self.milter(rules={"mail": lambda f: "reject" if b"spam" in f[0] else "tempfail"})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        self.assertEqual(c.cmd("MAIL FROM:<spam@client.test>"), "550 5.7.1 Command rejected")
        self.assertEqual(c.cmd("MAIL FROM:<x@client.test>"),
                         "451 4.7.1 Service unavailable - try again later")

    def test_connect_reject_answers_every_command(self):
        m = self.milter(rules={"connect": ("reply", "554 5.7.1 go away")})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.greeting[0].startswith("220"))
        self.assertEqual(c.cmd("EHLO client.test"), "554 5.7.1 go away")
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"), "554 5.7.1 go away")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        inst.wait_log("NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.1]: 554 5.7.1 go away")

    def test_accept_at_connect_ends_the_filters_part(self):
        m = self.milter(rules={"connect": "accept", "mail": "reject"})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        queued_id(self.send(c))
        self.assertEqual(m.stages(), ["connect"])

    def test_discard_at_rcpt(self):
        m = self.milter(rules={"rcpt": "discard"})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        qid = queued_id(self.send(c))
        inst.wait_log("%s: milter-discard: END-OF-MESSAGE from unknown[127.0.0.1]" % qid)
        self.assertEqual(inst.queue_files(), [])

    def test_progress_then_continue(self):
        m = self.milter(rules={"mail": [("progress",), ("progress",), "continue"]})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        queued_id(self.send(c))

    def test_hung_filter_gets_default_tempfail(self):
        m = self.milter(rules={"mail": "hang"})
        inst = self.instance(smtpd_milters=m.endpoint, milter_command_timeout="2s")
        c = self.session(inst)
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"),
                         "451 4.3.5 Server configuration problem - try again later")
        inst.wait_log("milter %s: timeout while reading a reply; default_action=tempfail"
                      % m.endpoint)
        # Later commands get the same answer: the filter is gone for this session.
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"),
                         "451 4.3.5 Server configuration problem - try again later")

    def test_crashed_filter_with_default_accept(self):
        m = self.milter(rules={"rcpt": "crash"})
        inst = self.instance(smtpd_milters=m.endpoint, milter_default_action="accept")
        c = self.session(inst)
        queued_id(self.send(c))
        self.assertEqual(len(inst.queue_files()), 1)
        inst.wait_log("milter %s: lost connection while reading a reply; "
                      "default_action=accept" % m.endpoint)

    def test_unreachable_filter_with_default_reject(self):
        endpoint = "inet:127.0.0.1:%d" % free_port()
        inst = self.instance(smtpd_milters=endpoint, milter_default_action="reject")
        c = self.session(inst, helo=None)
        self.assertEqual(c.cmd("EHLO client.test"), "550 5.5.0 Service unavailable")
        inst.wait_log("milter %s: cannot connect" % endpoint)

    def test_failed_filter_with_default_quarantine_holds_the_message(self):
        for stage in ("connect", "data", "header", "body", "eom"):
            with self.subTest(stage=stage):
                m = self.milter(rules={stage: "crash"})
                inst = self.instance(smtpd_milters=m.endpoint,
                                     milter_default_action="quarantine")
                c = self.session(inst)
                qid = queued_id(self.send(c))
                self.assertEqual(inst.queue_files(), [])
                held = inst.queue_files("hold")
                self.assertEqual([os.path.basename(p) for p in held], [qid])
                inst.wait_log("%s: milter-hold: END-OF-MESSAGE from unknown[127.0.0.1]: "
                              "milter %s failed" % (qid, m.endpoint))
                listing = inst.surel("queue", "list", check=False).stdout
                self.assertIn(qid + "!", listing)      # Postfix's mark for hold/

    def test_per_filter_settings_and_order(self):
        # The first filter fails but says accept in its braces; the second rejects.
        dead = "inet:127.0.0.1:%d" % free_port()
        m = self.milter(rules={"mail": ("reply", "550 5.7.1 second filter")})
        inst = self.instance(smtpd_milters="{ %s, default_action=accept, connect_timeout=5s } %s"
                             % (dead, m.endpoint))
        c = self.session(inst)
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"), "550 5.7.1 second filter")

    def test_master_cf_override(self):
        m = self.milter(rules={"mail": ("reply", "550 5.7.1 only on the second port")})
        port2 = free_port()
        inst = self.instance(master_extra="127.0.0.1:%d inet n - n - - smtpd -o smtpd_milters=%s\n"
                             % (port2, m.endpoint))
        # The main listener has no filter.
        c = self.session(inst)
        queued_id(self.send(c))
        c2 = SmtpClient(port2)
        self.addCleanup(c2.close)
        c2.cmd("EHLO client.test")
        self.assertEqual(c2.cmd("MAIL FROM:<s@client.test>"), "550 5.7.1 only on the second port")


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built")
class MilterContentTest(MilterBase):
    """The content phase, in cleanup: header, end of header, body, end of
    message, the filters' changes in the queue file and their verdicts."""

    def records(self, inst, qid, queue="incoming"):
        for p in inst.queue_files(queue):
            if os.path.basename(p) == qid:
                return read_records(p)
        raise AssertionError("no %s in %s/" % (qid, queue))

    def message(self, c, text, rcpts=("user@sandbox.test",), sender="sender@client.test"):
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        for r in rcpts:
            self.assertEqual(c.cmd("RCPT TO:<%s>" % r), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        return c.cmd(text + "\r\n.")

    def test_header_body_and_eom_as_the_filter_expects(self):
        m = self.milter()
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        body = "line one\r\n" + ("x" * 1000 + "\r\n") * 140     # > 2 chunks of 65,535
        qid = queued_id(self.message(c, "Subject: hello\r\nX-Fold: a\r\n\tb\r\n\r\n" + body))
        wait_for(lambda: "eom" in m.stages(), 5, "eom at the filter: %r" % m.stages())
        hdrs = [e[1] for e in m.events if e[0] == "header"]
        names = [h[0] for h in hdrs]
        self.assertEqual(names[0], b"Received")            # smtpd's, as in the file
        self.assertIn([b"Subject", b"hello", b""], hdrs)    # the blank after ':' dropped
        self.assertIn([b"X-Fold", b"a\r\n\tb", b""], hdrs)  # CRLF in the folding
        self.assertIn(b"Message-Id", names)                 # cleanup's own, added
        stages = m.stages()
        i = stages.index("eoh")
        self.assertEqual(set(stages[:i]) - {"connect", "helo", "mail", "rcpt", "data"},
                         {"header"})
        chunks = [e[1] for e in m.events if e[0] == "body"]
        self.assertGreater(len(chunks), 2)
        self.assertTrue(all(len(ch) <= 65535 for ch in chunks))
        self.assertEqual(b"".join(chunks), body.encode() + b"\r\n")   # + the last, empty line
        self.assertEqual(stages[-1], "eom")
        eom = [e for e in m.events if e[0] == "eom"][0]
        self.assertEqual(eom[2].get("i"), qid)              # end-of-data macros
        self.assertEqual(len(inst.queue_files()), 1)

    def test_long_lines_in_pieces_survive_a_rewrite(self):
        # Lines longer than line_length_limit reach the queue file as
        # L pieces: the filter gets them whole, and a rewrite (a header
        # change) keeps them byte for byte.
        m = self.milter(rules={"eom": [("addheader", "X-After", "1"), "continue"]})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        long_header = "X-Long: " + "h" * 5000
        long_body = "b" * 10000
        qid = queued_id(self.message(c, "Subject: t\r\n%s\r\n\r\n%s\r\nend" % (
            long_header, long_body)))
        hdrs = [e[1] for e in m.events if e[0] == "header"]
        self.assertIn([b"X-Long", b"h" * 5000, b""], hdrs)
        body = b"".join(e[1] for e in m.events if e[0] == "body")
        self.assertEqual(body, long_body.encode() + b"\r\nend\r\n")
        recs = self.records(inst, qid)
        self.assertIn("L", [t for t, _ in recs])
        text = content_text(recs)
        self.assertIn(long_header.encode() + b"\n", text)
        self.assertTrue(text.endswith(b"X-After: 1\n\n" + long_body.encode() + b"\nend\n"))
        shown = inst.surel("queue", "show", qid, check=False)
        self.assertEqual(shown.returncode, 0, shown.stderr)

    def test_no_steps_and_no_reply_steps_are_honoured(self):
        # NOHDRS | NOEOH | NOBODY: only the end of the message comes.
        m = self.milter(protocol=0x20 | 0x40 | 0x10)
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        queued_id(self.message(c, "Subject: t\r\n\r\nbody"))
        wait_for(lambda: "eom" in m.stages(), 5, "eom")
        self.assertFalse({"header", "eoh", "body"} & set(m.stages()))
        # NR_HDR | NR_EOH | NR_BODY: sent, never waited for (the filter
        # does not answer them; a wait would run into the 3s timeout).
        m2 = self.milter(protocol=0x80 | 0x40000 | 0x80000)
        inst2 = self.instance(smtpd_milters=m2.endpoint, milter_content_timeout="3s")
        c2 = self.session(inst2)
        queued_id(self.message(c2, "Subject: t\r\n\r\nbody"))
        self.assertIn("body", m2.stages())

    def test_skip_ends_the_body(self):
        m = self.milter(protocol=0x400, rules={"body": "skip"})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        queued_id(self.message(c, "Subject: t\r\n\r\n" + ("y" * 998 + "\r\n") * 200))
        wait_for(lambda: "eom" in m.stages(), 5, "eom")
        self.assertEqual(m.stages().count("body"), 1)

    def test_every_change_is_in_the_queue_file(self):
        m = self.milter(rules={"eom": [
            ("addheader", "X-Added", "one"),
            ("insheader", 0, "X-Top", "first"),
            ("chgheader", 1, "Subject", "changed"),
            ("chgheader", 2, "X-Dup", ""),                   # the second X-Dup goes
            ("addheader", "X-Folded", "a\r\n\tb"),
            ("replbody", b"new body\r\nsecond line\r\n"),
            ("addrcpt", "<added@sandbox.test>"),
            ("addrcpt_par", "<par@sandbox.test>", "NOTIFY=SUCCESS,FAILURE"),
            ("delrcpt", "<gone@sandbox.test>"),
            ("chgfrom", "<new-sender@client.test>", "RET=HDRS"),
            ("progress",),
            "continue"]})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        qid = queued_id(self.message(
            c, "Subject: old\r\nX-Dup: 1\r\nX-Dup: 2\r\nX-Dup: 3\r\n\r\nold body",
            rcpts=("user@sandbox.test", "gone@sandbox.test")))
        recs = self.records(inst, qid)
        text = content_text(recs)
        head, _, body = text.partition(b"\n\n")
        lines = head.split(b"\n")
        self.assertEqual(lines[0], b"X-Top: first")
        self.assertIn(b"Subject: changed", lines)
        self.assertNotIn(b"Subject: old", lines)
        self.assertEqual([l for l in lines if l.startswith(b"X-Dup")],
                         [b"X-Dup: 1", b"X-Dup: 3"])
        self.assertEqual(lines[-3:], [b"X-Added: one", b"X-Folded: a", b"\tb"])
        self.assertEqual(body, b"new body\nsecond line\n")
        self.assertEqual(types(recs, "S"), [b"new-sender@client.test"])
        self.assertEqual(attrs(recs).get("dsn_ret"), "HDRS")
        self.assertEqual(sorted(types(recs, "R")),
                         [b"added@sandbox.test", b"par@sandbox.test", b"user@sandbox.test"])
        self.assertIn(b"6", types(recs, "n"))                # SUCCESS|FAILURE
        # The file still verifies (sizes, offsets): surel queue show reads it.
        shown = inst.surel("queue", "show", qid, check=False)
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("new body", shown.stdout)

    def test_reject_and_tempfail_at_end_of_data_with_the_filters_reply(self):
        m = self.milter(rules={"eom": lambda f: ("reply", "550 5.7.1 spam is not welcome")})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        self.assertEqual(self.message(c, "Subject: t\r\n\r\nbody"),
                         "550 5.7.1 spam is not welcome")
        self.assertEqual(inst.queue_files(), [])
        line = ("milter-reject: END-OF-MESSAGE from unknown[127.0.0.1]: 5.7.1 spam is not "
                "welcome; from=<sender@client.test> to=<user@sandbox.test> proto=ESMTP "
                "helo=<client.test>")
        inst.wait_log(line)
        self.assertEqual(inst.log().count("milter-reject: END-OF-MESSAGE"), 1)
        self.assertNotIn("reject: END-OF-MESSAGE from unknown[127.0.0.1]: 550",
                         inst.log().replace("milter-reject", ""))
        m.rules["eom"] = ("reply", "451-4.7.1 later\r\n451 4.7.1 really")
        self.assertEqual(self.message(c, "Subject: t\r\n\r\nbody"),
                         "451-4.7.1 later\n451 4.7.1 really")
        m.rules["eom"] = "tempfail"
        self.assertEqual(self.message(c, "Subject: t\r\n\r\nbody"),
                         "451 4.7.1 Service unavailable - try again later")
        self.assertEqual(inst.queue_files(), [])
        # The session goes on: the next message is accepted.
        m.rules["eom"] = "continue"
        queued_id(self.message(c, "Subject: t\r\n\r\nbody"))

    def test_discard_and_quarantine_at_end_of_data(self):
        m = self.milter(rules={"eom": "discard"})
        inst = self.instance(smtpd_milters=m.endpoint)
        c = self.session(inst)
        qid = queued_id(self.message(c, "Subject: t\r\n\r\nbody"))
        inst.wait_log("%s: milter-discard: END-OF-MESSAGE from unknown[127.0.0.1]: milter "
                      "triggers DISCARD action" % qid)
        self.assertEqual(inst.queue_files(), [])
        m.rules["eom"] = [("quarantine", "looks odd"), "continue"]
        qid = queued_id(self.message(c, "Subject: t\r\n\r\nbody"))
        self.assertEqual([os.path.basename(p) for p in inst.queue_files("hold")], [qid])
        inst.wait_log("%s: milter-hold: END-OF-MESSAGE from unknown[127.0.0.1]: looks odd" % qid)
        listing = inst.surel("queue", "list", check=False).stdout
        self.assertIn(qid + "!", listing)
        self.assertIn("(quarantine: looks odd)", listing)

    def test_hung_and_crashed_filters_at_end_of_data(self):
        m = self.milter(rules={"eom": "hang"})
        inst = self.instance(smtpd_milters=m.endpoint, milter_content_timeout="2s")
        c = self.session(inst)
        self.assertEqual(self.message(c, "Subject: t\r\n\r\nbody"),
                         "451 4.3.5 Server configuration problem - try again later")
        inst.wait_log("milter %s: timeout while reading a reply; default_action=tempfail"
                      % m.endpoint)
        self.assertEqual(inst.queue_files(), [])
        # smtpd sees the failure too: its next MAIL gets the default action.
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"),
                         "451 4.3.5 Server configuration problem - try again later")
        m2 = self.milter(rules={"eom": "crash"})
        inst2 = self.instance(smtpd_milters=m2.endpoint, milter_default_action="accept")
        c2 = self.session(inst2)
        queued_id(self.message(c2, "Subject: t\r\n\r\nbody"))
        self.assertEqual(len(inst2.queue_files()), 1)

    def test_two_filters_in_order(self):
        m1 = self.milter(rules={"eom": [("addheader", "X-First", "1"), "continue"]})
        m2 = self.milter(rules={"eom": [("addheader", "X-Second", "2"), "continue"]})
        inst = self.instance(smtpd_milters="%s, %s" % (m1.endpoint, m2.endpoint))
        c = self.session(inst)
        qid = queued_id(self.message(c, "Subject: t\r\n\r\nbody"))
        head = content_text(self.records(inst, qid)).partition(b"\n\n")[0].split(b"\n")
        self.assertEqual(head[-2:], [b"X-First: 1", b"X-Second: 2"])
        # The second message of the session works the same.
        qid = queued_id(self.message(c, "Subject: t2\r\n\r\nbody"))
        head = content_text(self.records(inst, qid)).partition(b"\n\n")[0].split(b"\n")
        self.assertEqual(head[-2:], [b"X-First: 1", b"X-Second: 2"])


    def test_a_slow_filter_does_not_hold_up_other_messages(self):
        # The first end of message takes 6 s at the filter; a second
        # message sent meanwhile is answered first: the busy cleanup told
        # the master, which gave the new client another cleanup process.
        gate = threading.Event()
        calls = []

        def eom(fields):
            calls.append(1)
            if len(calls) == 1:
                gate.wait(6)
            return "continue"
        m = self.milter(rules={"eom": eom})
        inst = self.instance(smtpd_milters=m.endpoint)
        done = {}

        def first():
            c = self.session(inst)
            done["first"] = self.message(c, "Subject: slow\r\n\r\nbody")
            done["first_at"] = time.monotonic()
        t = threading.Thread(target=first)
        t.start()
        wait_for(lambda: calls, 10, "the first end of message at the filter")
        c2 = self.session(inst)
        queued_id(self.message(c2, "Subject: quick\r\n\r\nbody"))
        second_at = time.monotonic()
        self.assertNotIn("first", done)         # still with the filter
        gate.set()
        t.join(30)
        queued_id(done["first"])
        self.assertLess(second_at, done["first_at"])


@unittest.skipUnless(HAVE_SMTPD, "bin/smtpd not built")
class MilterDeliveryTest(unittest.TestCase):
    """Whole instances: the changes reach the delivered message, and
    non_smtpd_milters see local submissions (sendmail -> pickup -> cleanup)."""

    def setUp(self):
        self.inst = None
        self.milters = []

    def tearDown(self):
        if self.inst:
            self.inst.cleanup()
        for m in self.milters:
            m.close()

    def started(self, **params):
        self.inst = Instance()
        self.inst.conf(**params)
        self.inst.start()
        return self.inst

    def milter(self, **kw):
        m = TestMilter(**kw)
        self.milters.append(m)
        return m

    def test_changes_are_in_the_delivered_message(self):
        m = self.milter(rules={"eom": [("chgheader", 1, "Subject", "filtered"),
                                       ("addheader", "X-Filter", "seen"),
                                       ("replbody", b"replaced\r\n"),
                                       ("addrcpt", "<bob@sandbox.test>"), "continue"]})
        inst = self.started(smtpd_milters=m.endpoint)
        wait_for(lambda: tcp_listening(inst.smtp_port), 10, "smtpd")
        c = SmtpClient(inst.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<s@client.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<alice@sandbox.test>"), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        queued_id(c.cmd("Subject: original\r\n\r\noriginal body\r\n."))
        for user in ("alice", "bob"):
            data = wait_delivered(inst, user)[0]
            self.assertIn(b"\nSubject: filtered\n", data)
            self.assertIn(b"\nX-Filter: seen\n", data)
            self.assertTrue(data.endswith(b"\n\nreplaced\n"), data)

    def test_non_smtpd_milters_see_sendmail_mail(self):
        m = self.milter(rules={"eom": [("addheader", "X-Local-Filter", "yes"), "continue"]})
        inst = self.started(non_smtpd_milters=m.endpoint)
        r = subprocess.run([binary("sendmail"), "-C", inst.etc, "-f", "root@sandbox.test",
                            "alice@sandbox.test"], input=b"Subject: local\n\nhello\n",
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        data = wait_delivered(inst, "alice")[0]
        self.assertIn(b"\nX-Local-Filter: yes\n", data)
        stages = m.stages()
        self.assertEqual(stages[:5], ["connect", "helo", "mail", "rcpt", "data"])
        ev = dict((e[0], e) for e in m.events)
        self.assertEqual(ev["connect"][1][0], b"localhost")
        self.assertEqual(ev["mail"][1][0], b"<root@sandbox.test>")
        self.assertEqual(ev["rcpt"][1][0], b"<alice@sandbox.test>")
        self.assertIn("eom", stages)
        # smtpd mail is not theirs.
        m.rules["eom"] = "reject"
        wait_for(lambda: tcp_listening(inst.smtp_port), 10, "smtpd")
        c = SmtpClient(inst.smtp_port)
        self.addCleanup(c.close)
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<s@client.test>")
        c.cmd("RCPT TO:<alice@sandbox.test>")
        c.cmd("DATA")
        queued_id(c.cmd("Subject: smtp\r\n\r\nx\r\n."))
        # A reject of local mail is logged the same way ("from local").
        r = subprocess.run([binary("sendmail"), "-C", inst.etc, "-f", "root@sandbox.test",
                            "alice@sandbox.test"], input=b"Subject: local2\n\nhello\n",
                           capture_output=True, timeout=30)
        inst.wait_log("milter-reject: END-OF-MESSAGE from local: 5.7.1 Command rejected; "
                      "from=<root@sandbox.test> to=<alice@sandbox.test>")


DEBIAN_PYTHON = "/usr/bin/python3"


def have_libmilter():
    try:
        return subprocess.run([DEBIAN_PYTHON, "-c", "import Milter"],
                              capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


@unittest.skipUnless(HAVE_SMTPD and have_libmilter(),
                     "python3-milter (Debian's libmilter binding) not installed")
class LibmilterTest(unittest.TestCase):
    """The same stages against the real filter library, libmilter."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="surel-libmilter-")
        self.logfile = os.path.join(self.tmp, "filter.log")
        self.port = free_port()
        self.proc = subprocess.Popen(
            [DEBIAN_PYTHON, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "libmilter_filter.py"), str(self.port), self.logfile],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(self._stop)

        def listening():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(listening, 15, "the libmilter filter to listen")
        self.inst = SmtpdInstance(smtpd_milters="inet:127.0.0.1:%d" % self.port)
        self.addCleanup(self.inst.cleanup)
        self.inst.start()
        self.inst.wait_listening()
        # libmilter serves each connection in a thread of its own: let the
        # probe session of wait_listening end (its close logged) before a
        # test's session, so that their events never interleave.
        wait_for(lambda: any(e["stage"] == "close" for e in self.events()), 10,
                 "the probe session's close at the filter")

    def _stop(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def events(self):
        try:
            with open(self.logfile) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    def test_stages_replies_and_macros(self):
        c = self.inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<reject@client.test>"), "550 5.7.1 libmilter says no")
        self.assertEqual(c.cmd("MAIL FROM:<ok@client.test> SIZE=100"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<tempfail@sandbox.test>"), "451 4.7.1 libmilter says later")
        self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        qid = queued_id(c.cmd("Subject: t\r\n\r\nbody\r\n."))
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        wait_for(lambda: any(e["stage"] == "close" and i > 2
                             for i, e in enumerate(self.events())), 10, "the filter's close")
        ev = [e for e in self.events() if e["stage"] != "start"]
        # The probe session of wait_listening comes first: use the last connect.
        last = max(i for i, e in enumerate(ev) if e["stage"] == "connect")
        ev = ev[last:]
        stages = [e["stage"] for e in ev]
        self.assertEqual(stages, ["connect", "helo", "mail", "mail", "rcpt", "rcpt", "data",
                                  "eoh", "eom", "close"])
        self.assertEqual(ev[0]["macros"]["j"], "sandbox.test")
        self.assertTrue(ev[0]["macros"]["v"].startswith("surel "))
        self.assertIn("127.0.0.1", ev[0]["addr"])
        self.assertEqual(ev[1]["helo"], "client.test")
        self.assertEqual(ev[3]["sender"], "<ok@client.test>")
        self.assertEqual(ev[3]["params"], ["SIZE=100"])
        self.assertEqual(ev[3]["macros"]["{mail_addr}"], "ok@client.test")
        self.assertEqual(ev[5]["macros"]["{rcpt_addr}"], "user@sandbox.test")
        self.assertEqual(ev[6]["macros"]["i"], qid)
        # The content as libmilter saw it (after its own parsing).
        names = [h[0] for h in ev[7]["headers"]]
        self.assertEqual(names[0], "Received")
        self.assertIn(["Subject", "t"], ev[7]["headers"])
        self.assertEqual(ev[8]["body"], "body\r\n")
        self.assertEqual(ev[8]["macros"]["i"], qid)

    def test_content_changes_and_reject_through_libmilter(self):
        c = self.inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        for subject, want in (("libreject", "550 5.7.1 libmilter rejects the content"),
                              ("libedit", None)):
            self.assertEqual(c.cmd("MAIL FROM:<ok@client.test>"), "250 2.1.0 Ok")
            self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"), "250 2.1.5 Ok")
            self.assertTrue(c.cmd("DATA").startswith("354"))
            got = c.cmd("Subject: %s\r\nX-Other: 1\r\n\r\nold body\r\n." % subject)
            if want:
                self.assertEqual(got, want)
                continue
            qid = queued_id(got)
        text = content_text(read_records(self.inst.queue_file(qid)))
        head, _, body = text.partition(b"\n\n")
        self.assertIn(b"\nSubject: libmilter changed it\n", b"\n" + head + b"\n")
        self.assertIn(b"X-Libmilter: edited", head)
        self.assertEqual(body, b"libmilter body\n")


if __name__ == "__main__":
    unittest.main()
