"""test_smtp_mime - 8BITMIME on the way out (smtp/smtp_mime.c).

A server that announces 8BITMIME gets 8-bit content byte-exact with
BODY=8BITMIME; one that does not gets the 8-bit MIME parts converted to
quoted-printable (valid 7-bit content that decodes back to the original
bytes, checked with Python's email package), and a message that cannot
be converted (8-bit bytes in a header) bounces 5.6.3 without the server
ever seeing the end of DATA. The sinks are harness.sink servers on
loopback; no name is looked up.
"""
import email
import email.policy
import re

from harness import core as h
from harness.sink import Sink, unstuff
from test_smtp import SENDER, body_of, dsn_report, raw_send, relay_to

SEVEN_BIT_SINK = ("PIPELINING", "SIZE 10240000", "DSN")   # no 8BITMIME

TEXT_8BIT = "caf\u00e9 = na\u00efve, \u00fcber alles \u2014 ".encode() * 6 + b"trailing \t"
HTML_8BIT = "<p>\u00e9t\u00e9</p>".encode()
INNER_8BIT = "Gr\u00fc\u00dfe".encode()
# A multipart message: an 8-bit text part (long line, "=", trailing
# white space, a leading dot), a 7-bit part, an 8-bit message/rfc822
# whose own body is 8-bit, and an 8-bit leaf in a nested multipart.
MESSAGE = (b"Subject: 8-bit parts\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: multipart/mixed; boundary=\"=_outer\"\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n"
           b"preamble\r\n--=_outer\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           + TEXT_8BIT + b"\r\n." + TEXT_8BIT[:20] + b"\r\n"
           b"--=_outer\r\nContent-Type: text/plain\r\n\r\nseven bit\r\n"
           b"--=_outer\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Subject: inner\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + INNER_8BIT + b"\r\n"
           b"--=_outer\r\nContent-Type: multipart/alternative;\r\n boundary=inner\r\n\r\n"
           b"--inner\r\nContent-Type: text/html; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: binary\r\n\r\n" + HTML_8BIT + b"\r\n"
           b"--inner--\r\n--=_outer--\r\nepilogue\r\n")


def stuffed(content):
    """content dot-stuffed and ended, for raw_send."""
    return re.sub(rb"(?m)^\.", b"..", content) + b".\r\n"


class SmtpMimeTest(h.InstanceTest):
    def sink(self, **kw):
        s = Sink(**kw).start()
        self.addCleanup(s.close)
        return s

    def started(self, sink, **params):
        inst = self.instance()
        relay_to(inst, "[127.0.0.1]:%d" % sink.port, **params)
        inst.start()
        return inst

    def test_8bitmime_server_gets_the_bytes(self):
        """A server with 8BITMIME: BODY=8BITMIME and the content unchanged."""
        sink = self.sink()
        inst = self.started(sink)
        raw_send(inst, SENDER, ["bob@remote.test"], stuffed(MESSAGE), mail_params=" BODY=8BITMIME")
        t = sink.wait_transactions(1)[0]
        self.assertIn(" BODY=8BITMIME", t["mail"])
        self.assertEqual(body_of(unstuff(t["data"])), MESSAGE.split(b"\r\n\r\n", 1)[1])

    def test_7bit_server_gets_quoted_printable(self):
        """No 8BITMIME: no BODY=, only 7-bit bytes, lines of at most 76 in
        the converted parts, CR LF only; every part decodes to what was
        sent; the 7-bit part is unchanged."""
        sink = self.sink(features=SEVEN_BIT_SINK)
        inst = self.started(sink)
        qid = raw_send(inst, SENDER, ["bob@remote.test"], stuffed(MESSAGE),
                       mail_params=" BODY=8BITMIME")
        t = sink.wait_transactions(1)[0]
        self.assertNotIn("BODY=", t["mail"])
        data = t["data"]
        self.assertFalse(any(b >= 0x80 for b in data), "8-bit bytes went to a 7-bit server")
        self.assertNotRegex(data, rb"\r(?!\n)|(?<!\r)\n", "a bare CR or LF left the machine")
        msg = email.message_from_bytes(unstuff(data).replace(b"\r\n", b"\n"),
                                       policy=email.policy.compat32)
        self.assertEqual(msg["Content-Transfer-Encoding"], "7bit")
        parts = msg.get_payload()
        self.assertEqual(len(parts), 4)
        self.assertEqual(parts[0]["Content-Transfer-Encoding"], "quoted-printable")
        self.assertEqual(parts[0].get_payload(decode=True),
                         TEXT_8BIT + b"\n." + TEXT_8BIT[:20])   # the last CR LF is the boundary's
        self.assertEqual(parts[1].get_payload(), "seven bit")
        self.assertIsNone(parts[1]["Content-Transfer-Encoding"])
        self.assertEqual(parts[2]["Content-Transfer-Encoding"], "7bit")
        inner = parts[2].get_payload()[0]
        self.assertEqual(inner["Subject"], "inner")
        self.assertEqual(inner["Content-Transfer-Encoding"], "quoted-printable")
        self.assertEqual(inner.get_payload(decode=True), INNER_8BIT)
        html = parts[3].get_payload()[0]
        self.assertEqual(html["Content-Transfer-Encoding"], "quoted-printable")
        self.assertEqual(html.get_payload(decode=True), HTML_8BIT)
        # The converted lines keep RFC 2045's 76; a dot line is stuffed.
        text = unstuff(data).split(b"quoted-printable\r\n\r\n", 1)[1].split(b"\r\n--=_outer")[0]
        self.assertTrue(all(len(l) <= 76 for l in text.split(b"\r\n")), text)
        self.assertIn(b"\r\n..caf=C3=A9", data)
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertIn("status=sent", inst.log().split("%s: to=<bob@remote.test>" % qid)[1])

    def test_no_conversion_when_disabled(self):
        """disable_mime_output_conversion = yes: the bytes as they are."""
        sink = self.sink(features=SEVEN_BIT_SINK)
        inst = self.started(sink, disable_mime_output_conversion="yes")
        raw_send(inst, SENDER, ["bob@remote.test"], stuffed(MESSAGE), mail_params=" BODY=8BITMIME")
        t = sink.wait_transactions(1)[0]
        self.assertEqual(body_of(unstuff(t["data"])), MESSAGE.split(b"\r\n\r\n", 1)[1])

    def test_8bit_header_bounces(self):
        """8-bit bytes in a header cannot go to a 7-bit server: 5.6.3, the
        session is dropped before the end of DATA (nothing delivered)."""
        sink = self.sink(features=SEVEN_BIT_SINK)
        inst = self.started(sink)
        qid = raw_send(inst, SENDER, ["bob@remote.test"],
                       stuffed("Subject: caf\u00e9\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                               "x\r\n".encode()), mail_params=" BODY=8BITMIME")
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"to=<bob@remote\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]"
                         r":\d+, .*dsn=5\.6\.3, status=bounced \(8-bit data in a message header "
                         r"cannot be converted for a server without 8BITMIME\)")
        self.assertIn("Status: 5.6.3", dsn_report(inst))
        self.assertEqual(sink.transactions, [])
        self.assertEqual(len(sink.command_lines("DATA")), 1)


if __name__ == "__main__":
    h.main()
