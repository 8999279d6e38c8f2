"""test_smtp_timeouts - every stage of the SMTP client has its time limit.

One sandbox, one harness.sink server per stage, each never answering at
its stage (greeting, EHLO, MAIL, RCPT, DATA, the content, the end of
data, QUIT); transport_maps sends each test domain to its server and
every smtp_*_timeout is 2s (the connect timeout: a listener whose
queue is full). Each message waits (deferred, 4.4.2) with
Postfix's wording "conversation with H[A] timed out while ...", long
before the defaults (120s to 600s) would have run out. Loopback only.
"""
import socket

from harness import core as h
from harness import e2e
from harness.sink import Sink

SENDER = "alice@sandbox.test"
STAGES = {                 # stall_at -> (timeout parameter, Postfix's words)
    "greeting": ("smtp_helo_timeout", "receiving the initial server greeting"),
    "ehlo": ("smtp_helo_timeout", "performing the EHLO handshake"),
    "mail": ("smtp_mail_timeout", "sending MAIL FROM"),
    "rcpt": ("smtp_rcpt_timeout", "sending RCPT TO"),
    "data": ("smtp_data_init_timeout", "sending DATA command"),
    "xfer": ("smtp_data_xfer_timeout", "sending message body"),
    "dot": ("smtp_data_done_timeout",
            "sending end of data -- message may be sent more than once"),
}
# Larger than the kernel's send and the sink's receive buffers together:
# the client's writes block once the server stops reading.
XFER_SIZE = 8 * 1024 * 1024


class SmtpTimeoutTest(h.InstanceTest):
    @classmethod
    def setUpClass(cls):
        cls.sinks = {s: Sink(stall_at=s).start() for s in list(STAGES) + ["quit"]}

    @classmethod
    def tearDownClass(cls):
        for s in cls.sinks.values():
            s.close()

    def started(self):
        inst = self.instance()
        routes = ", ".join("%s.test=smtp:[127.0.0.1]:%d" % (s, sink.port)
                           for s, sink in self.sinks.items())
        params = {p: "2s" for p, _ in STAGES.values()}
        inst.conf(transport_maps="inline:{ %s }" % routes, smtp_quit_timeout="2s",
                  smtp_connection_cache_on_demand="no", message_size_limit="20000000", **params)
        inst.start()
        return inst

    def test_every_stage_times_out(self):
        inst = self.started()
        qids = {}
        for stage in STAGES:
            body = "Subject: %s\n\nx\n" % stage
            if stage == "xfer":
                body += ("y" * 70 + "\n") * (XFER_SIZE // 71)
            qids[stage] = e2e.send(inst, SENDER, ["u@%s.test" % stage], e2e.crlf(body))
        for stage, (param, words) in STAGES.items():
            key = "%s: to=<u@%s.test>" % (qids[stage], stage)
            inst.wait_log(key, timeout=60)
            line = [l for l in inst.log().splitlines() if key in l][0]
            self.assertRegex(line, r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+, .*dsn=4\.4\.2, "
                             r"status=deferred \(conversation with 127\.0\.0\.1\[127\.0\.0\.1\] "
                             r"timed out while %s\)" % words.replace(".", r"\.").replace("-", r"\-"),
                             "%s (%s)" % (stage, param))

    def test_connect_timeout(self):
        """A server whose listen queue is full drops the SYN: the connect
        gives up after smtp_connect_timeout (Postfix's "Connection timed
        out"), 4.4.1."""
        full = socket.socket()
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        self.addCleanup(full.close)
        port = full.getsockname()[1]
        fillers = []
        for _ in range(3):                  # the queue takes one; the rest wait
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", port))
            fillers.append(c)
            self.addCleanup(c.close)
        inst = self.instance()
        inst.conf(relayhost="[127.0.0.1]:%d" % port, default_transport="smtp",
                  smtp_connect_timeout="2s")
        inst.start()
        qid = e2e.send(inst, SENDER, ["u@remote.test"], e2e.crlf("Subject: c\n\nx\n"))
        inst.wait_log("%s: to=<u@remote.test>" % qid, timeout=30)
        self.assertRegex(inst.log(), r"relay=none, .*dsn=4\.4\.1, status=deferred \(connect to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: Connection timed out\)" % port)

    def test_quit_timeout(self):
        """A server that never answers QUIT: the mail is sent, and the
        client hangs up after smtp_quit_timeout, not 300s."""
        inst = self.started()
        qid = e2e.send(inst, SENDER, ["u@quit.test"], e2e.crlf("Subject: quit\n\nx\n"))
        inst.wait_log("%s: to=<u@quit.test>" % qid, timeout=30)
        self.assertIn("status=sent", inst.log().split("%s: to=<u@quit.test>" % qid)[1])
        sink = self.sinks["quit"]
        seen, gone = h.wait_for(lambda: sink.quit_hangups and sink.quit_hangups[0], 20,
                                "the client to hang up after QUIT")
        self.assertGreaterEqual(gone - seen, 1.5)
        self.assertLess(gone - seen, 15)


if __name__ == "__main__":
    h.main()
