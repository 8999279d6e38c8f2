"""test_smtpd_backup_mx - a backup MX: relay_domains plus relay_recipient_maps
(lib/global/local_rcpt.c, smtpd's reject_unlisted_recipient).

The instance relays relay.example for a client outside mynetworks; only
the recipients relay_recipient_maps lists are accepted, others hear
Postfix's "User unknown in relay recipient table". Accepted mail goes to
the primary, a transport_maps [127.0.0.x]:port nexthop: while nothing
listens there the mail waits in deferred/, and once the primary (a
harness.sink server) answers, `surel queue flush` delivers it.
"""
import unittest

from harness import core as h
from harness import e2e
from harness.core import free_port
from harness.sink import Sink
from harness.smtpd import SmtpClient

PRIMARY = "127.0.0.9"


class BackupMxTest(h.InstanceTest):
    def test_known_recipients_queued_until_the_primary_answers(self):
        port = free_port()
        inst = self.instance()
        inst.conf(mynetworks="127.0.0.1/32", relay_domains="relay.example", recipient_delimiter="+",
                  relay_recipient_maps="inline:{ known@relay.example=ok, "
                  "@other.relay.example=ok }",
                  transport_maps="inline:{ relay.example=smtp:[%s]:%d }" % (PRIMARY, port))
        inst.start()
        h.wait_for(lambda: self.answers(inst), 10, "smtpd to answer")
        c = SmtpClient(inst.smtp_port, source="127.0.0.2")
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<x@relay.example>"),
                         "550 5.1.1 <x@relay.example>: Recipient address rejected: "
                         "User unknown in relay recipient table")
        self.assertEqual(c.cmd("RCPT TO:<known+ext@relay.example>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("DATA"), "354 End data with <CR><LF>.<CR><LF>")
        c.send("Subject: backup\r\n\r\nfor the primary\r\n.\r\n")
        reply = "\n".join(c.reply())
        self.assertTrue(reply.startswith("250 2.0.0 Ok: queued as "), reply)
        qid = reply.rsplit(" ", 1)[1]
        inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.2]: 550 5.1.1 "
                      "<x@relay.example>: Recipient address rejected: User unknown in relay "
                      "recipient table")
        # The primary is down: deferred, kept.
        inst.wait_log("%s: to=<known+ext@relay.example>" % qid, timeout=20)
        self.assertRegex(inst.log(), r"%s: to=<known\+ext@relay\.example>, .*"
                         r"status=deferred \(connect to %s\[%s\]:%d: Connection refused"
                         % (qid, PRIMARY.replace(".", r"\."), PRIMARY.replace(".", r"\."), port))
        h.wait_for(lambda: "deferred" in e2e.queue_files(inst), 15, "the message in deferred/")
        # The primary answers: flushed and delivered.
        sink = Sink(host=PRIMARY, port=port).start()
        self.addCleanup(sink.close)
        inst.surel("queue", "flush")
        t = sink.wait_transactions(1)[0]
        self.assertEqual(t["rcpts"], ["RCPT TO:<known+ext@relay.example>"])
        self.assertIn(b"for the primary", t["data"])
        h.wait_for(lambda: not e2e.queue_files(inst), 20, "the queue to empty")

    @staticmethod
    def answers(inst):
        try:
            SmtpClient(inst.smtp_port).close()
            return True
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
