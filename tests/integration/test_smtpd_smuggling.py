"""test_smtpd_smuggling - only <CR><LF>.<CR><LF> ends DATA (invariant 5).

Each variant of a fake end of data is sent inside one DATA, followed by a
whole "smuggled" transaction and then the real end. The server must answer
exactly one 250 per DATA, queue exactly one file per DATA, and keep the
smuggled commands as content of that file. With
smtpd_forbid_bare_newline = reject, a message holding a bare LF is refused
(550 5.5.2) and nothing is queued, still as one message.
"""
import unittest

from smtpd_harness import SmtpdTestCase, content_text, queued_id, read_records
from surel_harness import wait_for

VARIANTS = [b"\n.\n", b"\r.\r", b"\r.\n", b"\n.\r", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n",
            b"\r\n.\r", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n", b"\r\n.\r\r\n"]

SMUGGLED = (b"MAIL FROM:<evil@attacker.example>\r\nRCPT TO:<bob@sandbox.test>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled body\r\n")


def smuggle_session(inst, variant):
    """One DATA with the variant inside; the replies after DATA's 354."""
    c = inst.connect()
    try:
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        r = c.cmd("DATA")
        assert r.startswith("354"), r
        c.send(b"Subject: carrier\r\n\r\nbefore" + variant + SMUGGLED + b"\r\n.\r\nQUIT\r\n")
        replies = []
        while True:
            line = c.reply()[0]
            replies.append(line)
            if line.startswith("221") or line.startswith("421"):
                break
        return replies
    finally:
        c.close()


class SmugglingTest(SmtpdTestCase):

    def test_every_variant_stays_in_one_message(self):
        inst = self.instance()
        for i, variant in enumerate(VARIANTS):
            with self.subTest(variant=variant):
                before = set(inst.queue_files())
                replies = smuggle_session(inst, variant)
                # One verdict for the one DATA, then QUIT's 221: no reply
                # to any smuggled command.
                self.assertEqual(len(replies), 2, replies)
                qid = queued_id(replies[0])
                self.assertEqual(replies[1], "221 2.0.0 Bye")
                new = set(inst.queue_files()) - before
                self.assertEqual(len(new), 1, new)
                body = content_text(read_records(inst.queue_file(qid)))
                self.assertIn(b"MAIL FROM:<evil@attacker.example>", body)
                self.assertIn(b"smuggled body", body)
                self.assertIn(b"Subject: carrier", body)
        self.assertEqual(len(inst.queue_files()), len(VARIANTS))

    def test_bare_lf_normalized_dot_kept(self):
        inst = self.instance()
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        c.send(b"Subject: lf\nline a\n.\nline b\r\nbare\rcr\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        body = content_text(read_records(inst.queue_file(qid)))
        # The bare CR is kept by smtpd; cleanup then replaces it with a space
        # (cleanup_replace_stray_cr_lf) so that we can never relay it.
        self.assertIn(b"\nSubject: lf\n", body)
        self.assertTrue(body.endswith(b"line a\n.\nline b\nbare cr\n"), body)
        c.close()

    def test_reject_mode_refuses_bare_lf(self):
        inst = self.instance(smtpd_forbid_bare_newline="reject")
        for variant in VARIANTS:
            with self.subTest(variant=variant):
                replies = smuggle_session(inst, variant)
                self.assertEqual(len(replies), 2, replies)
                if b"\n" in variant.replace(b"\r\n", b""):
                    self.assertEqual(replies[0], "550 5.5.2 Error: bare <LF> received")
                else:
                    queued_id(replies[0])
        bare = [v for v in VARIANTS if b"\n" in v.replace(b"\r\n", b"")]
        self.assertEqual(len(inst.queue_files()), len(VARIANTS) - len(bare))
        wait_for(lambda: inst.queue_files("temp") == [], 10, "temp/ to be empty")
        # A command line with a bare LF is refused too, without being run.
        c = inst.connect()
        c.send(b"EHLO client.test\n")
        self.assertEqual(c.reply(), ["550 5.5.2 Error: bare <LF> received"])
        self.assertEqual(c.cmd("NOOP"), "250 2.0.0 Ok")
        c.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
