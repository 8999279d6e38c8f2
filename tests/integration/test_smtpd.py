"""test_smtpd - the SMTP server's protocol over real sockets, under master.

Verbs and reply classes, the queue file smtpd's submission becomes (through
cleanup), the Received: header, DSN and SMTPUTF8 parameters, BDAT,
pipelining, and Postfix-shaped log lines.
"""
import os
import re
import shutil
import smtplib
import unittest

from smtpd_harness import (SmtpdTestCase, SmtpdInstance, attrs, content_text, queued_id,
                           read_records, types)
from surel_harness import swaks, wait_for


class SmtpdProtocolTest(unittest.TestCase):
    """One instance for every test of this class (default parameters)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()
        cls.inst.start()
        cls.inst.wait_listening()

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.c = self.inst.connect()

    def tearDown(self):
        self.c.close()

    def session(self, ehlo=True):
        r = self.c.cmd(("EHLO" if ehlo else "HELO") + " client.test")
        self.assertTrue(r.startswith("250"), r)
        return r

    def test_greeting_and_ehlo(self):
        self.assertEqual(self.c.greeting, ["220 sandbox.test ESMTP surel"])
        lines = self.session().split("\n")
        self.assertEqual(lines[0], "250-sandbox.test")
        keywords = [l[4:] for l in lines[1:]]
        for kw in ("PIPELINING", "SIZE 10240000", "VRFY", "ENHANCEDSTATUSCODES", "8BITMIME",
                   "DSN", "SMTPUTF8", "CHUNKING"):
            self.assertIn(kw, keywords)
        self.assertNotIn("STARTTLS", keywords)
        self.assertTrue(lines[-1].startswith("250 "), lines)
        self.assertTrue(all(l.startswith("250-") for l in lines[:-1]), lines)

    def test_plain_transaction_queue_file_and_logs(self):
        self.session(ehlo=False)
        self.assertEqual(self.c.cmd("MAIL FROM:<alice@sandbox.test>"), "250 2.1.0 Ok")
        self.assertEqual(self.c.cmd("RCPT TO:<bob@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(self.c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        self.c.send("Subject: hello\r\n\r\n..dotted\r\nline 2\r\n.\r\n")
        qid = queued_id("\n".join(self.c.reply()))
        self.assertEqual(self.c.cmd("QUIT"), "221 2.0.0 Bye")
        recs = read_records(self.inst.queue_file(qid))
        a = attrs(recs)
        self.assertEqual(a["client_address"], "127.0.0.1")
        self.assertEqual(a["client_name"], "unknown")
        self.assertEqual(a["helo_name"], "client.test")
        self.assertEqual(a["protocol_name"], "SMTP")
        self.assertEqual(types(recs, "S"), [b"alice@sandbox.test"])
        self.assertEqual(types(recs, "R"), [b"bob@sandbox.test"])
        body = content_text(recs)
        self.assertRegex(body.decode(), r"^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\n"
                         r"\tby sandbox\.test \(surel\) with SMTP id %s\n"
                         r"\tfor <bob@sandbox\.test>; \w\w\w, [ \d]\d \w\w\w \d{4} " % qid)
        self.assertIn(b"\nSubject: hello\n", body)
        self.assertTrue(body.endswith(b"\n\n.dotted\nline 2\n"), body)
        log = self.inst.wait_log("disconnect from unknown[127.0.0.1] helo=1 mail=1 rcpt=1 "
                                 "data=1 quit=1 commands=5")
        self.assertIn("connect from unknown[127.0.0.1]", self.inst.log())
        self.assertIn("%s: client=unknown[127.0.0.1]" % qid, self.inst.log())
        self.assertTrue(log)

    def test_sequence_syntax_and_unknown(self):
        c = self.c
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test>"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("HELO"), "501 5.5.4 Syntax: HELO hostname")
        self.session()
        self.assertEqual(c.cmd("mail from:<a@sandbox.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("MAIL FROM:<a@sandbox.test>"), "503 5.5.1 Error: nested MAIL command")
        self.assertEqual(c.cmd("DATA"), "554 5.5.1 Error: no valid recipients")
        self.assertEqual(c.cmd("RCPT bob"), "501 5.5.4 Syntax: RCPT TO:<address>")
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test"), "501 5.1.3 Bad recipient address syntax")
        self.assertEqual(c.cmd("RCPT TO:<>"), "501 5.1.3 Bad recipient address syntax")
        self.assertEqual(c.cmd("RSET"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("RSET now"), "501 5.5.4 Syntax: RSET")
        self.assertEqual(c.cmd("MAIL TO:<a@b>"), "501 5.5.4 Syntax: MAIL FROM:<address>")
        self.assertEqual(c.cmd("MAIL FROM:<a@b> FOO=BAR"), "555 5.5.4 Unsupported option: FOO")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("noop whatever"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("FROBNICATE"), "500 5.5.2 Error: command not recognized")
        self.assertEqual(c.cmd("EXPN staff"), "502 5.5.1 Error: command not implemented")
        self.assertEqual(c.cmd("STARTTLS"), "502 5.5.1 Error: command not implemented")
        self.assertEqual(c.cmd("VRFY bob"),
                         "252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery")
        self.assertEqual(c.cmd("VRFY"), "501 5.5.4 Syntax: VRFY address")
        self.assertTrue(c.cmd("HELP").startswith("214-2.0.0 "))
        self.assertEqual(c.cmd("quit"), "221 2.0.0 Bye")
        self.assertTrue(c.closed())

    def test_helo_params_need_ehlo(self):
        self.session(ehlo=False)
        self.assertEqual(self.c.cmd("MAIL FROM:<a@sandbox.test> SIZE=10"),
                         "555 5.5.4 Unsupported option: SIZE")

    def test_null_sender_postmaster_quoted_and_source_route(self):
        c = self.c
        self.session()
        self.assertEqual(c.cmd("MAIL FROM:<>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<postmaster>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd('RCPT TO:<"john smith"@sandbox.test>'), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<@relay.example,@b.example:bob@sandbox.test>"), "250 2.1.5 Ok")
        c.send("DATA\r\n")
        self.assertTrue(c.reply()[0].startswith("354"))
        c.send("Subject: x\r\n\r\nhi\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        recs = read_records(self.inst.queue_file(qid))
        self.assertEqual(types(recs, "S"), [b""])
        rcpts = types(recs, "R")
        self.assertEqual(len(rcpts), 3)
        self.assertTrue(rcpts[0].startswith(b"postmaster"), rcpts)
        self.assertIn(b"john smith@sandbox.test", rcpts)
        self.assertIn(b"bob@sandbox.test", rcpts)
        # More than one recipient: Received: names none of them.
        self.assertNotIn(b"\tfor <", content_text(recs))

    def test_pipelined_whole_transaction_in_one_write(self):
        c = self.c
        self.session()
        c.send("MAIL FROM:<alice@sandbox.test>\r\nRCPT TO:<bob@sandbox.test>\r\n"
               "RCPT TO:<alice@sandbox.test>\r\nDATA\r\nSubject: p\r\n\r\nbody\r\n.\r\n"
               "MAIL FROM:<bob@sandbox.test>\r\nRCPT TO:<alice@sandbox.test>\r\nDATA\r\n"
               "Subject: q\r\n\r\nbody 2\r\n.\r\nQUIT\r\n")
        replies = [c.reply()[0] for _ in range(10)]
        self.assertEqual(replies[:4], ["250 2.1.0 Ok", "250 2.1.5 Ok", "250 2.1.5 Ok",
                                       "354 End data with <CR><LF>.<CR><LF>"])
        first = queued_id(replies[4])
        self.assertEqual(replies[5:8], ["250 2.1.0 Ok", "250 2.1.5 Ok",
                                        "354 End data with <CR><LF>.<CR><LF>"])
        second = queued_id(replies[8])
        self.assertEqual(replies[9], "221 2.0.0 Bye")
        self.assertNotEqual(first, second)
        self.assertIn(b"Subject: p\n", content_text(read_records(self.inst.queue_file(first))))
        self.assertIn(b"Subject: q\n", content_text(read_records(self.inst.queue_file(second))))

    def test_dsn_and_smtputf8_parameters(self):
        c = self.c
        self.session()
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test> RET=HDRS ENVID=abc+2Bd SMTPUTF8 "
                               "BODY=8BITMIME SIZE=100"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test> NOTIFY=SUCCESS,FAILURE "
                               "ORCPT=rfc822;bob+40sandbox.test"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<j\u00fcrgen@sandbox.test> NOTIFY=NEVER"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@sandbox.test> NOTIFY=NEVER,DELAY"),
                         "501 5.5.4 Bad NOTIFY parameter syntax")
        self.assertEqual(c.cmd("RCPT TO:<x@sandbox.test> ORCPT=rfc822"),
                         "501 5.5.4 Bad ORCPT parameter syntax")
        c.send("DATA\r\n")
        self.assertTrue(c.reply()[0].startswith("354"))
        c.send("Subject: gr\u00fc\u00dfe\r\n\r\n\u00e4\u00f6\u00fc\r\n.\r\n".encode())
        qid = queued_id(c.reply()[0])
        recs = read_records(self.inst.queue_file(qid))
        a = attrs(recs)
        self.assertEqual(a["dsn_envid"], "abc+d")
        self.assertEqual(a["dsn_ret"], "HDRS")
        self.assertEqual(a["smtputf8"], "1")
        self.assertEqual(a["encoding"], "8bitmime")
        self.assertEqual(a["protocol_name"], "UTF8SMTP")
        self.assertEqual(types(recs, "o"), [b"rfc822;bob@sandbox.test"])
        self.assertEqual(types(recs, "n"), [b"6", b"1"])
        self.assertIn("j\u00fcrgen@sandbox.test".encode(), types(recs, "R"))
        body = content_text(recs)
        self.assertIn("Subject: gr\u00fc\u00dfe\n".encode(), body)
        self.assertIn(b" with UTF8SMTP id ", body)

    def test_utf8_address_needs_smtputf8(self):
        self.session()
        self.assertEqual(self.c.cmd("MAIL FROM:<j\u00fcrgen@sandbox.test>"),
                         "553 5.6.7 Must declare SMTPUTF8 to send unicode address")
        self.assertEqual(self.c.cmd("MAIL FROM:<a@sandbox.test>"), "250 2.1.0 Ok")
        self.assertEqual(self.c.cmd("RCPT TO:<j\u00fcrgen@sandbox.test>"),
                         "553 5.6.7 Must declare SMTPUTF8 to send unicode address")

    def test_bdat_chunks(self):
        c = self.c
        self.session()
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        part1 = b"Subject: chunked\r\n\r\n.line one\r\n"
        part2 = b"line two\r\n"
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: %d bytes" % len(part1)])
        self.assertEqual(c.cmd("DATA"), "503 5.5.1 Error: DATA and BDAT cannot be mixed")
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        qid = queued_id(c.reply()[0])
        body = content_text(read_records(self.inst.queue_file(qid)))
        # BDAT content is raw: the leading dot stays.
        # cleanup adds Message-Id and Date at the end of the header.
        self.assertIn(b"\nSubject: chunked\n", body)
        self.assertTrue(body.endswith(b"\n\n.line one\nline two\n"), body)

    def test_bdat_refused_chunk_is_still_read(self):
        c = self.c
        self.session()
        chunk = b"QUIT\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(chunk) + chunk)
        self.assertEqual(c.reply(), ["503 5.5.1 Error: need MAIL command"])
        # The chunk's "QUIT" was data, not a command: the session goes on.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(c.cmd("BDAT x"), "501 5.5.4 Syntax: BDAT count [LAST]")
        self.assertTrue(c.closed())

    def test_smtplib_and_swaks_clients(self):
        with smtplib.SMTP("127.0.0.1", self.inst.smtp_port, timeout=15) as s:
            s.ehlo("smtplib.test")
            self.assertTrue(s.has_extn("pipelining"))
            s.sendmail("alice@sandbox.test", ["bob@sandbox.test"],
                       "Subject: via smtplib\r\n\r\nhello\r\n")
        if shutil.which("swaks"):
            status, out, qid = swaks(self.inst.smtp_port, "--pipeline")
            self.assertEqual(status, 0, out)
            self.assertIsNotNone(qid, out)

        def subjects():
            found = set()
            for p in self.inst.queue_files():
                body = content_text(read_records(p))
                for s in (b"via smtplib", b"via swaks"):
                    if b"Subject: " + s in body:
                        found.add(s)
            return found
        want = {b"via smtplib", b"via swaks"} if shutil.which("swaks") else {b"via smtplib"}
        wait_for(lambda: subjects() == want, 10, "messages from smtplib/swaks")


class SmtpdConfigTest(SmtpdTestCase):
    """Tests that need their own main.cf settings."""

    def test_vrfy_disabled(self):
        inst = self.instance(disable_vrfy_command="yes")
        c = inst.connect()
        ehlo = c.cmd("EHLO client.test")
        self.assertNotIn("VRFY", ehlo)
        self.assertEqual(c.cmd("VRFY bob"), "502 5.5.1 VRFY command is disabled")
        c.close()

    def test_helo_required_and_strict_envelopes(self):
        inst = self.instance(smtpd_helo_required="yes", strict_rfc821_envelopes="yes")
        c = inst.connect()
        self.assertEqual(c.cmd("MAIL FROM:<a@sandbox.test>"), "503 5.5.1 Error: send HELO/EHLO first")
        c.cmd("HELO client.test")
        self.assertEqual(c.cmd("MAIL FROM:a@sandbox.test"), "501 5.1.7 Bad sender address syntax")
        self.assertEqual(c.cmd("MAIL FROM:<a@sandbox.test>"), "250 2.1.0 Ok")
        c.close()

    def test_reject_is_logged_postfix_style(self):
        inst = self.instance(smtpd_recipient_restrictions="reject")
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        r = c.cmd("RCPT TO:<someone@elsewhere.example>")
        self.assertTrue(r.startswith("554 5.7.1 "), r)
        c.cmd("QUIT")
        c.close()
        line = inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: " + r)
        self.assertTrue(line)
        self.assertRegex(inst.log(), re.escape("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: %s; "
                                               "from=<alice@sandbox.test> to=<someone@elsewhere.example> "
                                               "proto=ESMTP helo=<client.test>" % r))
        inst.wait_log("disconnect from unknown[127.0.0.1] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4")

    def test_cleanup_failure_gives_451_and_nothing_queued(self):
        # The real cleanup fails to commit: incoming/ is not writable by the
        # account it runs as (surel under root, else the test's own user),
        # so the rename out of temp/ fails (CLEANUP_STAT_WRITE).
        inst = self.instance()
        incoming = inst.path("spool", "incoming")
        os.chmod(incoming, 0o500)
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: x\r\n\r\nx\r\n.\r\n")
        self.assertEqual(c.reply(), ["451 4.3.0 Error: queue file write error"])
        # The session goes on; nothing was queued, nothing left in temp/.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        self.assertEqual(inst.queue_files(), [])
        self.assertEqual(inst.queue_files("hold"), [])
        wait_for(lambda: inst.queue_files("temp") == [], 10, "temp/ to be empty")
        c.close()
        qid = wait_for(lambda: re.search(r"(\w+): client=unknown\[127\.0\.0\.1\]", inst.log()),
                       10, "the client= log line").group(1)
        inst.wait_log("warning: %s: rename " % qid)
        self.assertRegex(inst.log(), r"warning: %s: rename \S+ to \S+/incoming/%s: "
                         r"Permission denied" % (qid, qid))
        inst.wait_log("%s: reject: END-OF-MESSAGE from unknown[127.0.0.1]: "
                      "451 4.3.0 Error: queue file write error" % qid)
        # Once incoming/ is writable again, mail flows.
        os.chmod(incoming, 0o700)
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        c.send("Subject: y\r\n\r\ny\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        self.assertEqual([os.path.basename(p) for p in inst.queue_files()], [qid])
        c.close()

    def test_no_cleanup_service_gives_451(self):
        inst = SmtpdInstance()
        self.instances.append(inst)
        inst.write_master_cf("127.0.0.1:%d inet n - n - - smtpd\n" % inst.smtp_port)
        inst.start()
        inst.wait_listening()
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        self.assertEqual(c.cmd("DATA"), "451 4.3.0 Error: queue file write error")
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        c.close()


HEADER_CHECKS = r"""/^Subject: reject default/ REJECT
/^Subject: reject text/ REJECT no such mail wanted here
/^Subject: reject later/ REJECT 4.7.0 try again later
/^Subject: discard me/ DISCARD
/^Subject: hold me/ HOLD
"""
BODY_CHECKS = r"""/^body reject/ REJECT 5.7.1 bad body line
"""


class SmtpdChecksTest(unittest.TestCase):
    """header_checks and body_checks as an SMTP client meets them: the
    real cleanup decides, smtpd turns its {status, reason} into the reply
    at the end of DATA."""

    @classmethod
    def setUpClass(cls):
        cls.inst = SmtpdInstance()
        for name, text in (("header_checks", HEADER_CHECKS), ("body_checks", BODY_CHECKS)):
            with open(os.path.join(cls.inst.etc, name), "w") as f:
                f.write(text)
        cls.inst.conf(header_checks="pcre:%s/header_checks" % cls.inst.etc,
                      body_checks="pcre:%s/body_checks" % cls.inst.etc)
        try:
            cls.inst.start()
            cls.inst.wait_listening()
        except BaseException:
            cls.inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def send(self, subject, body="hello"):
        """One message over SMTP; the reply to its final dot."""
        c = self.inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: %s\r\n\r\n%s\r\n.\r\n" % (subject, body))
        reply = c.reply()
        self.assertEqual(len(reply), 1, reply)
        # The session goes on after any verdict.
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        return reply[0]

    def logged_id(self, pattern):
        """The queue ID of the log line matching pattern ((\\w+) first)."""
        found = wait_for(lambda: re.search(pattern, self.inst.log(), re.M), 10,
                         "log line %r" % pattern)
        return found.group(1)

    def assert_not_queued(self, qid):
        for queue in ("incoming", "hold", "active", "deferred", "corrupt"):
            self.assertNotIn(qid, [os.path.basename(p) for p in self.inst.queue_files(queue)],
                             queue)
        wait_for(lambda: self.inst.queue_files("temp") == [], 10, "temp/ to be empty")

    def test_reject_gives_550_with_the_text(self):
        cases = [("reject default", "hello", "550 5.7.1 message content rejected",
                  "header Subject: reject default"),
                 ("reject text", "hello", "550 5.7.1 no such mail wanted here",
                  "header Subject: reject text"),
                 ("fine", "body reject me", "550 5.7.1 bad body line", "body body reject me"),
                 # A 4.x.x text makes it a temporary refusal.
                 ("reject later", "hello", "451 4.7.0 try again later",
                  "header Subject: reject later")]
        for subject, body, want, what in cases:
            with self.subTest(subject=subject, body=body):
                self.assertEqual(self.send(subject, body), want)
                qid = self.logged_id(r"(\w+): reject: %s from unknown\[127\.0\.0\.1\]; "
                                     r"from=<alice@sandbox\.test> to=<bob@sandbox\.test> "
                                     r"proto=ESMTP helo=<client\.test>: %s$"
                                     % (re.escape(what), re.escape(want[4:])))
                self.assert_not_queued(qid)
                # Logged once, by cleanup, as Postfix does: smtpd adds no
                # "reject: END-OF-MESSAGE" line that pflogsumm would count again
                # (smtpd would have logged it before it sent the reply we got).
                self.assertEqual(len(re.findall(r"%s: reject: " % qid, self.inst.log())), 1)

    def test_discard_gives_250_and_queues_nothing(self):
        qid = queued_id(self.send("discard me"))
        self.inst.wait_log("%s: discard: header Subject: discard me from unknown[127.0.0.1]; "
                           "from=<alice@sandbox.test> to=<bob@sandbox.test> proto=ESMTP "
                           "helo=<client.test>" % qid)
        self.assert_not_queued(qid)

    def test_hold_gives_250_and_the_file_is_in_hold(self):
        qid = queued_id(self.send("hold me", "held body"))
        held = [p for p in self.inst.queue_files("hold") if os.path.basename(p) == qid]
        self.assertEqual(len(held), 1, self.inst.queue_files("hold"))
        self.assertNotIn(qid, [os.path.basename(p) for p in self.inst.queue_files()])
        recs = read_records(held[0])
        self.assertEqual(types(recs, "R"), [b"bob@sandbox.test"])
        self.assertIn(b"\nSubject: hold me\n", content_text(recs))
        self.assertTrue(content_text(recs).endswith(b"\n\nheld body\n"))
        self.inst.wait_log("%s: hold: header Subject: hold me from unknown[127.0.0.1]; "
                           "from=<alice@sandbox.test> to=<bob@sandbox.test> proto=ESMTP "
                           "helo=<client.test>" % qid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
