"""test_size_limit - message_size_limit means the same to every program.

smtpd (the client's octets, RFC 1870), cleanup and the maildrop check
(postdrop, pickup) count a message with one function (lib/global/
msg_size.h), so a message accepted at exactly the limit on the way in is
not refused further on: before that, cleanup added one byte per line end
plus smtpd's own Received: header and refused what smtpd had accepted.
"""
import subprocess
import unittest

from harness import core as h
from harness import e2e as e


class SizeLimitTest(h.InstanceTest):

    def test_at_the_limit_is_delivered_over_it_refused(self):
        inst = self.instance()
        inst.conf(message_size_limit="1000")
        inst.start()
        # One line of 998 octets and its CR LF: 1000 octets, the limit.
        at_limit = b"a" * 998 + b"\r\n"
        self.assertEqual(len(at_limit), 1000)
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], at_limit)
        self.assertTrue(qid)
        data = e.wait_delivered(inst, "alice")[0]
        self.assertIn(b"\n" + b"a" * 998 + b"\n", data)
        # One octet more is refused at the end of DATA.
        client = e.smtp_client(inst)
        try:
            client.mail("bob@sandbox.test")
            client.rcpt("alice@sandbox.test")
            code, text = client.data(b"b" * 999 + b"\r\n")
        finally:
            client.close()
        self.assertEqual((code, text), (552, b"5.3.4 Error: message file too big"))
        # The sendmail command: postdrop's maildrop check, pickup and cleanup
        # agree with smtpd (998 octets and a line end count 1000).
        p = subprocess.run([h.binary("sendmail"), "-C", inst.etc, "alice@sandbox.test"],
                           input=b"c" * 998 + b"\n", capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.wait_delivered(inst, "alice", count=2)
        self.assertTrue(any(b"\n" + b"c" * 998 + b"\n" in d for d in data))
        p = subprocess.run([h.binary("sendmail"), "-C", inst.etc, "alice@sandbox.test"],
                           input=b"d" * 999 + b"\n", capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main()
