"""test_e2e - the whole mail system, end to end, on sandbox instances.

Real clients (smtplib, the sendmail command, the surel command) submit
mail to a started sandbox instance; the tests then read what lands in the
users' Maildirs: the exact bytes, the headers the system prepends, the
delivery status notifications, and the hold queue's effect.
"""
import os
import pwd
import re
import unittest

from harness import e2e as e
from harness import core as h

# A message with everything that tends to get mangled on the way: lines
# starting with dots (SMTP dot-stuffing), a lone dot, a line of 990 bytes
# (the SMTP limit) and one of 5000 (longer than line_length_limit, so
# smtpd and cleanup split it into records that local must join again),
# 8-bit UTF-8 and non-UTF-8 bytes, white space at line ends and blank
# lines. Headers are all present so that cleanup adds none.
EXACT_MESSAGE = b"".join([
    b"From: Bob <bob@sandbox.test>\r\n",
    b"To: Alice <alice@sandbox.test>\r\n",
    b"Subject: byte exact\r\n",
    b"Date: Sun, 22 Nov 2026 04:18:57 +0000\r\n",
    b"Message-ID: <exact.1@client.test>\r\n",
    b"MIME-Version: 1.0\r\n",
    b"Content-Type: text/plain; charset=utf-8\r\n",
    b"Content-Transfer-Encoding: 8bit\r\n",
    b"X-Folded: first part\r\n",
    b"\tsecond part\r\n",
    b"\r\n",
    b".leading dot\r\n",
    b"..two leading dots\r\n",
    b".\r\n",
    b"..\r\n",
    b" . space then dot\r\n",
    b"x" * 990 + b"\r\n",
    b"".join(b"%04d" % i for i in range(1250)) + b"\r\n",
    "8-bit: Gr\u00fc\u00dfe, \u00e9t\u00e9, \u65e5\u672c\u8a9e\r\n".encode(),
    b"raw bytes: \x80\xff\xfe\r\n",
    b"trailing space   \r\n",
    b"\r\n",
    b"\r\n",
    b"last line\r\n",
])

RECEIVED = re.compile(
    rb"Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\n"
    rb"\tby sandbox\.test \(surel\) with ESMTP id (" + e.QUEUE_ID.encode() + rb")\n"
    rb"\tfor <([^>]+)>; [^\n]+\n$")


def simple_message(subject, to="alice@sandbox.test", sender="bob@sandbox.test", body="body\n"):
    return e.crlf("From: %s\nTo: %s\nSubject: %s\n\n%s" % (sender, to, subject, body))


def delivery_status(dsn):
    """(per-message fields, [per-recipient fields]) of a DSN's
    message/delivery-status part, as lists of email.message.Message."""
    for part in dsn.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            return blocks[0], blocks[1:]
    raise AssertionError("no message/delivery-status part in:\n%s" % dsn.as_string())


class E2E(h.InstanceTest):
    """Mail submitted to a running root-made sandbox instance."""

    def assert_exact(self, data, sender, rcpt, original, qid=None, received_for=None):
        """data is original (CR LF made LF) with Return-Path, Delivered-To
        and smtpd's Received prepended and nothing else changed."""
        return_path, delivered_to, received, rest = e.split_prepended(data)
        self.assertEqual(return_path, "<%s>" % sender)
        self.assertEqual(delivered_to, rcpt)
        self.assertIsNotNone(received, data[:300])
        m = RECEIVED.match(received)
        self.assertIsNotNone(m, received)
        if qid:
            self.assertEqual(m.group(1).decode(), qid)
        self.assertEqual(m.group(2).decode(), received_for or rcpt)
        self.assertEqual(rest, e.lf(original))

    def test_smtp_message_arrives_byte_exact(self):
        inst = self.started()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], EXACT_MESSAGE,
                     mail_options=["BODY=8BITMIME"])
        [data] = e.wait_delivered(inst, "alice")
        self.assert_exact(data, "bob@sandbox.test", "alice@sandbox.test", EXACT_MESSAGE, qid)
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r"%s: to=<alice@sandbox\.test>, relay=local, .*"
                         r"dsn=2\.0\.0, status=sent \(delivered to maildir\)" % qid)
        self.assertEqual(e.queue_files(inst), {})

    def test_two_recipients_in_one_transaction(self):
        inst = self.started()
        msg = simple_message("for two", to="alice@sandbox.test, bob@sandbox.test")
        qid = e.send(inst, "carol@client.test", ["alice@sandbox.test", "bob@sandbox.test"], msg)
        [to_alice] = e.wait_delivered(inst, "alice")
        [to_bob] = e.wait_delivered(inst, "bob")
        # One transaction, one queue file: smtpd's Received names no single
        # recipient then, so only the rest is compared for both.
        for data, rcpt in ((to_alice, "alice@sandbox.test"), (to_bob, "bob@sandbox.test")):
            return_path, delivered_to, received, rest = e.split_prepended(data)
            self.assertEqual((return_path, delivered_to), ("<carol@client.test>", rcpt))
            self.assertIn(b"with ESMTP id " + qid.encode(), received)
            self.assertEqual(self.strip_added(rest), e.lf(msg))
        inst.wait_log("%s: removed" % qid)
        log = inst.log()
        self.assertIn("%s: from=<carol@client.test>" % qid, log)
        self.assertIn("nrcpt=2 (queue active)", log)
        for rcpt in ("alice", "bob"):
            self.assertRegex(log, r"%s: to=<%s@sandbox\.test>, relay=local, .*status=sent"
                             % (qid, rcpt))

    @staticmethod
    def strip_added(rest):
        """The message without the Message-Id and Date headers cleanup adds
        to a message that lacks them (they come after the client's headers)."""
        head, sep, body = rest.partition(b"\n\n")
        lines = [l for l in head.split(b"\n")
                 if not l.startswith((b"Message-Id: ", b"Date: "))]
        return b"\n".join(lines) + sep + body

    def test_remote_domain_bounces_with_a_dsn(self):
        inst = self.started()
        msg = simple_message("to far away", to="someone@remote.example",
                             body="token: bounce-4711\n")
        qid = e.send(inst, "bob@sandbox.test", ["someone@remote.example"], msg)
        [data] = e.wait_delivered(inst, "bob")
        return_path, delivered_to, _, _ = e.split_prepended(data)
        self.assertEqual(return_path, "<>")
        self.assertEqual(delivered_to, "bob@sandbox.test")
        dsn = e.parse(data)
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        self.assertEqual(dsn["To"], "bob@sandbox.test")
        self.assertIn("MAILER-DAEMON@sandbox.test", dsn["From"])
        per_message, recipients = delivery_status(dsn)
        self.assertEqual(per_message["Reporting-MTA"], "dns; sandbox.test")
        self.assertEqual(len(recipients), 1)
        rcpt = recipients[0]
        self.assertEqual(rcpt["Final-Recipient"], "rfc822; someone@remote.example")
        self.assertEqual(rcpt["Action"], "failed")
        self.assertRegex(rcpt["Status"], r"^5\.\d{1,3}\.\d{1,3}$")
        # The returned message is attached.
        returned = [p for p in dsn.walk() if p.get_content_type() == "message/rfc822"]
        self.assertEqual(len(returned), 1)
        self.assertIn("token: bounce-4711", returned[0].as_string())
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r"%s: to=<someone@remote\.example>, relay=none, .*"
                         r"status=bounced" % qid)
        self.assertIn("%s: sender non-delivery notification: " % qid, inst.log())
        # Nothing for alice; the notice was the only message.
        self.assertEqual(inst.messages("alice"), [])

    def test_sendmail_t_from_the_command_line(self):
        inst = self.started()
        text = ("To: Bob <bob@sandbox.test>\nCc: alice@sandbox.test\n"
                "Subject: from the command line\n\n.a dot line\nbody line\n")
        proc = h.run([h.binary("sendmail"), "-C", inst.etc, "-t", "-i",
                      "-f", "root@sandbox.test"], input=text)
        self.assertEqual(proc.stdout + proc.stderr, "")
        for user in ("bob", "alice"):
            [data] = e.wait_delivered(inst, user)
            return_path, delivered_to, received, rest = e.split_prepended(data)
            self.assertEqual(return_path, "<root@sandbox.test>")
            self.assertEqual(delivered_to, "%s@sandbox.test" % user)
            head, _, body = rest.partition(b"\n\n")
            self.assertEqual(body, b".a dot line\nbody line\n")
            self.assertIn(b"Subject: from the command line\n", head + b"\n")
            self.assertIn(b"Cc: alice@sandbox.test\n", head + b"\n")
            # cleanup adds the missing From:, Message-Id: and Date:.
            self.assertRegex(head, rb"(?m)^From: .*<?root@sandbox\.test>?$")
            self.assertRegex(head, rb"(?m)^Message-Id: <[^>]+@sandbox\.test>$")
        self.assertRegex(inst.log(), r"pickup\[\d+\]: %s: uid=0 from=<root@sandbox\.test>"
                         % e.QUEUE_ID)

    def test_alias_postmaster_arrives_at_alice(self):
        inst = self.started()
        msg = simple_message("to the postmaster", to="postmaster@sandbox.test")
        qid = e.send(inst, "bob@sandbox.test", ["postmaster@sandbox.test"], msg)
        [data] = e.wait_delivered(inst, "alice")
        _, delivered_to, _, rest = e.split_prepended(data)
        self.assertEqual(delivered_to, "postmaster@sandbox.test")
        self.assertEqual(self.strip_added(rest), e.lf(msg))
        inst.wait_log("%s: to=<alice@sandbox.test>, orig_to=<postmaster@sandbox.test>" % qid)
        self.assertEqual(inst.messages("bob"), [])

    def test_address_extension_arrives(self):
        inst = self.started(recipient_delimiter="+")
        qid = e.send(inst, "bob@sandbox.test", ["alice+lists@sandbox.test"],
                     EXACT_MESSAGE, mail_options=["BODY=8BITMIME"])
        [data] = e.wait_delivered(inst, "alice")
        self.assert_exact(data, "bob@sandbox.test", "alice+lists@sandbox.test",
                          EXACT_MESSAGE, qid)
        inst.wait_log("%s: to=<alice+lists@sandbox.test>" % qid)

    def test_notify_success_gives_a_success_dsn(self):
        inst = self.started()
        msg = simple_message("tell me when")
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], msg,
                     rcpt_options=["NOTIFY=SUCCESS"])
        [data] = e.wait_delivered(inst, "alice")
        self.assertEqual(self.strip_added(e.split_prepended(data)[3]), e.lf(msg))
        [notice] = e.wait_delivered(inst, "bob")
        self.assertEqual(e.split_prepended(notice)[0], "<>")
        dsn = e.parse(notice)
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn.get_param("report-type"), "delivery-status")
        per_message, recipients = delivery_status(dsn)
        self.assertEqual(len(recipients), 1)
        self.assertEqual(recipients[0]["Final-Recipient"], "rfc822; alice@sandbox.test")
        self.assertEqual(recipients[0]["Action"], "delivered")
        self.assertRegex(recipients[0]["Status"], r"^2\.\d{1,3}\.\d{1,3}$")
        inst.wait_log("%s: sender delivery status notification: " % qid)

    def test_notify_success_with_orcpt_names_the_original_recipient(self):
        # The client says where the address came from (ORCPT, as a relay
        # would): the success DSN names the recipient and, as
        # Original-Recipient, exactly the ORCPT.
        inst = self.started()
        msg = simple_message("where did it go")
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], msg,
                     rcpt_options=["NOTIFY=SUCCESS", "ORCPT=rfc822;Alice.Liddell@Example.ORG"])
        [data] = e.wait_delivered(inst, "alice")
        self.assertEqual(e.split_prepended(data)[1], "alice@sandbox.test")
        [notice] = e.wait_delivered(inst, "bob")
        self.assertEqual(e.split_prepended(notice)[0], "<>")
        dsn = e.parse(notice)
        self.assertEqual(dsn["Subject"], "Successful Mail Delivery Report")
        _, recipients = delivery_status(dsn)
        self.assertEqual(len(recipients), 1)
        rcpt = recipients[0]
        self.assertEqual(rcpt["Original-Recipient"], "rfc822; Alice.Liddell@Example.ORG")
        self.assertEqual(rcpt["Final-Recipient"], "rfc822; alice@sandbox.test")
        self.assertEqual(rcpt["Action"], "delivered")
        self.assertRegex(rcpt["Status"], r"^2\.\d{1,3}\.\d{1,3}$")
        inst.wait_log("%s: sender delivery status notification: " % qid)
        inst.wait_log("%s: removed" % qid)

    def test_delay_warning_for_mail_stuck_in_deferred(self):
        # cleanup writes the W record (delay_warning_time after arrival),
        # qmgr asks bounce for a warning once the time has come while the
        # recipient is still deferred, and the sender gets one "delayed"
        # DSN; the message itself stays queued.
        inst = self.started(delay_warning_time="1s", minimal_backoff_time="1s",
                            maximal_backoff_time="1s", queue_run_delay="1s",
                            transport_maps="inline:{ {slow.example=retry:4.4.1 still trying} }")
        msg = simple_message("slow going", to="someone@slow.example", body="token: delay-42\n")
        qid = e.send(inst, "bob@sandbox.test", ["someone@slow.example"], msg)
        [notice] = e.wait_delivered(inst, "bob", timeout=20)
        self.assertEqual(e.split_prepended(notice)[0], "<>")
        dsn = e.parse(notice)
        self.assertEqual(dsn.get_content_type(), "multipart/report")
        self.assertEqual(dsn["Subject"], "Delayed Mail (still being retried)")
        self.assertEqual(dsn["To"], "bob@sandbox.test")
        _, recipients = delivery_status(dsn)
        self.assertEqual(len(recipients), 1)
        self.assertEqual(recipients[0]["Final-Recipient"], "rfc822; someone@slow.example")
        self.assertEqual(recipients[0]["Action"], "delayed")
        self.assertEqual(recipients[0]["Status"], "4.4.1")
        self.assertIn("still trying", recipients[0]["Diagnostic-Code"] or "")
        inst.wait_log("%s: sender delay notification: " % qid)
        # Still queued, and retried without a second warning.
        tries = lambda: len(re.findall(r"%s: to=<someone@slow\.example>.*status=deferred" % qid,
                                       inst.log()))
        seen = tries()
        h.wait_for(lambda: tries() >= seen + 2, 15, "two more attempts")
        self.assertEqual(list(e.queue_files(inst)), ["deferred"])
        self.assertEqual(len(inst.messages("bob")), 1)
        self.assertEqual(inst.log().count("%s: sender delay notification" % qid), 1)
        self.assertEqual(inst.messages("alice"), [])

    def test_smtputf8_recipient_through_a_utf8_alias(self):
        # Sandbox users are ASCII; a UTF-8 alias leads to alice.
        inst = self.instance()
        aliases = inst.path("etc", "aliases")
        with open(aliases, "a", encoding="utf-8") as f:
            f.write("j\u00fcrgen.m\u00fcller: alice\n")
        inst.surel("map", "build", "-a", "lmdb:" + aliases)
        inst.start()
        rcpt = "j\u00fcrgen.m\u00fcller@sandbox.test"
        msg = ("From: bob@sandbox.test\nTo: %s\nSubject: Gr\u00fc\u00dfe\n"
               "Date: Sun, 22 Nov 2026 04:18:57 +0000\nMessage-ID: <utf8.1@client.test>\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
               "\u65e5\u672c\u8a9e\n" % rcpt)
        wire = e.crlf(msg.encode("utf-8"))
        client = e.RawSMTP(inst.smtp_port)
        try:
            self.assertEqual(client.reply()[0], 220)
            code, lines = client.command("EHLO client.test", 250)
            self.assertIn("250-SMTPUTF8", lines)
            client.send(("MAIL FROM:<bob@sandbox.test> SMTPUTF8 BODY=8BITMIME\r\n"
                         "RCPT TO:<%s>\r\nDATA\r\n" % rcpt).encode("utf-8"))
            self.assertEqual([client.reply()[0] for _ in range(3)], [250, 250, 354])
            client.send(e.dot_stuff(wire) + b".\r\n")
            code, lines = client.reply()
            self.assertEqual(code, 250, lines)
            qid = re.search(r"queued as (%s)" % e.QUEUE_ID, lines[-1]).group(1)
            client.command("QUIT", 221)
        finally:
            client.close()
        [data] = e.wait_delivered(inst, "alice")
        return_path, delivered_to, received, rest = e.split_prepended(data)
        self.assertEqual(return_path, "<bob@sandbox.test>")
        self.assertEqual(delivered_to, rcpt)
        self.assertIn(b"with UTF8SMTP", received)
        self.assertIn(("for <%s>" % rcpt).encode("utf-8"), received)
        self.assertEqual(rest, e.lf(wire))
        inst.wait_log("%s: to=<alice@sandbox.test>, orig_to=<%s>" % (qid, rcpt))
        self.assertEqual(e.queue_files(inst), {})

    def test_header_checks_hold_keeps_mail_until_release(self):
        inst = self.instance()
        checks = inst.path("etc", "header_checks")
        with open(checks, "w") as f:
            f.write("/^Subject: hold me/ HOLD held by the e2e test\n")
        inst.conf(header_checks="pcre:" + checks)
        inst.start()
        held = simple_message("hold me please")
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], held)
        self.assertEqual(e.queue_files(inst), {"hold": [qid]})
        # A message sent afterwards is delivered: the scheduler ran, and
        # passed the held one by.
        other = simple_message("do not hold")
        other_qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], other)
        [data] = e.wait_delivered(inst, "alice")
        self.assertIn(b"Subject: do not hold\n", data)
        # The file shows in new/ a moment before local's fsync and report:
        # wait for qmgr to finish with it.
        inst.wait_log("%s: removed" % other_qid)
        self.assertEqual(e.queue_files(inst), {"hold": [qid]})
        self.assertRegex(inst.log(), r"%s: hold: header Subject: hold me please from "
                         r"unknown\[127\.0\.0\.1\]; .*: held by the e2e test" % qid)
        listed = inst.surel("queue", "list").stdout
        self.assertRegex(listed, r"(?m)^%s!" % qid)
        inst.surel("queue", "release", qid)
        e.wait_delivered(inst, "alice", 2)
        inst.wait_log("%s: removed" % qid)
        [released] = [d for d in e.delivered(inst, "alice") if b"Subject: hold me" in d]
        self.assertEqual(self.strip_added(e.split_prepended(released)[3]), e.lf(held))
        self.assertEqual(e.queue_files(inst), {})


@unittest.skipUnless(os.geteuid() == 0, "needs root to become the surel account")
class E2ENonRoot(h.InstanceTest):
    """A sandbox made and run by the unprivileged `surel` account."""

    def test_smtp_message_arrives_byte_exact_as_surel(self):
        inst = e.SurelUserInstance()
        self._instances.append(inst)
        uid = pwd.getpwnam("surel").pw_uid
        self.assertEqual(os.stat(inst.etc).st_uid, uid)
        inst.start()
        daemons = [pid for pid, _ in inst.processes()]
        self.assertTrue(daemons)
        self.assertEqual({h.process_uid(p) for p in daemons} - {None}, {uid})
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], EXACT_MESSAGE,
                     mail_options=["BODY=8BITMIME"])
        [data] = e.wait_delivered(inst, "alice")
        E2E.assert_exact(self, data, "bob@sandbox.test", "alice@sandbox.test",
                         EXACT_MESSAGE, qid)
        [path] = e.maildir_files(inst, "alice")
        self.assertEqual(os.stat(path).st_uid, uid)
        # Every process of the instance stayed unprivileged.
        self.assertEqual({h.process_uid(p) for p, _ in inst.processes()} - {None}, {uid})
        inst.stop()
        h.wait_for(lambda: not inst.running(), 10, "instance to stop")


if __name__ == "__main__":
    h.main()
