"""test_smtp_reuse - connection reuse in the SMTP client (smtp/ + scache/).

A backlog for one destination is made the way it happens in life: the
destination is down while mail comes in (everything is deferred), then it
comes back and the queue is flushed. qmgr then has more mail for the
destination than it sends at once, says so in each request
(DELIVER_FLAG_CONN_STORE/LOAD), and the smtp processes hand their
sessions to scache between messages instead of hanging up. The sink
counts connections; RSET before each reuse is seen in its command log.
"""
import os
import time
import unittest

from harness import core as h
from harness import e2e
from harness.sink import Sink

SENDER = "alice@sandbox.test"
# Fewer on a slow machine (SUREL_REUSE_MESSAGES); the ratio is asserted.
MESSAGES = int(os.environ.get("SUREL_REUSE_MESSAGES", "1000"))


def queue_empty(inst):
    return not e2e.queue_files(inst)


class ReuseTest(h.InstanceTest):
    def backlog(self, inst, jobs, sinks, timeout=60):
        """Submit jobs while nothing listens, wait until all are deferred,
        start the sinks and flush the queue."""
        e2e.submit_many(inst.smtp_port, jobs, connections=4, per_session=100)
        h.wait_for(lambda: len(e2e.queue_files(inst).get("deferred", [])) == len(jobs),
                   timeout, "every message to be deferred")
        for s in sinks:
            s.start()
            self.addCleanup(s.close)
        inst.surel("queue", "flush")

    def test_many_messages_few_connections(self):
        """MESSAGES messages to one destination over at most 10
        connections; each reuse starts with RSET; every cached session
        ends with QUIT when its time is up."""
        port = h.free_port()
        sink = Sink(port=port)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % port,
                  smtp_destination_concurrency_limit="4",
                  smtp_connection_cache_time_limit="1s")
        inst.start()
        body = e2e.crlf("Subject: reuse\n\nhello\n")
        jobs = [(SENDER, ["r%d@remote.test" % i], body) for i in range(MESSAGES)]
        self.backlog(inst, jobs, [sink])
        sink.wait_transactions(MESSAGES, timeout=600)
        h.wait_for(lambda: queue_empty(inst), 60, "the queue to empty")
        print("%d messages over %d connections" % (MESSAGES, sink.connections))
        self.assertLessEqual(sink.connections, max(10, MESSAGES // 100),
                             "%d messages over %d connections" % (MESSAGES, sink.connections))
        got = sorted(r for t in sink.transactions for r in t["accepted"])
        self.assertEqual(got, sorted("r%d@remote.test" % i for i in range(MESSAGES)))
        # Every reused session said RSET first: one per reuse.
        self.assertEqual(len(sink.command_lines("RSET")), MESSAGES - sink.connections)
        # Cached sessions are closed politely once their time is up.
        h.wait_for(lambda: len(sink.command_lines("QUIT")) == sink.connections, 30,
                   "a QUIT on every connection")
        self.assertNotRegex(inst.log(), r"warning: connection cache")

    def test_reuse_stays_with_its_destination(self):
        """Two destinations with interleaved backlogs: a session carries
        mail for its own next hop only."""
        pa, pb = h.free_port(), h.free_port()
        a, b = Sink(port=pa), Sink(port=pb)
        inst = self.instance()
        inst.conf(default_transport="smtp",
                  transport_maps="inline:{ a.test=smtp:[127.0.0.1]:%d, b.test=smtp:[127.0.0.1]:%d }"
                  % (pa, pb),
                  smtp_destination_concurrency_limit="2")
        inst.start()
        body = e2e.crlf("Subject: two\n\nhello\n")
        jobs = [(SENDER, ["u%d@%s.test" % (i, "ab"[i % 2])], body) for i in range(60)]
        self.backlog(inst, jobs, [a, b])
        a.wait_transactions(30)
        b.wait_transactions(30)
        h.wait_for(lambda: queue_empty(inst), 60, "the queue to empty")
        for sink, dom in ((a, "a.test"), (b, "b.test")):
            rcpts = [r for t in sink.transactions for r in t["accepted"]]
            self.assertEqual(len(rcpts), 30)
            self.assertTrue(all(r.endswith("@" + dom) for r in rcpts), rcpts)
            self.assertLess(sink.connections, 30, "no reuse at %s" % dom)

    def test_reuse_count_limit(self):
        """smtp_connection_reuse_count_limit = 2: a session carries three
        messages (the first and two reuses), then QUIT."""
        port = h.free_port()
        sink = Sink(port=port)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % port,
                  smtp_destination_concurrency_limit="1",
                  smtp_connection_reuse_count_limit="2")
        inst.start()
        body = e2e.crlf("Subject: count\n\nhello\n")
        jobs = [(SENDER, ["c%d@remote.test" % i], body) for i in range(30)]
        self.backlog(inst, jobs, [sink])
        sink.wait_transactions(30)
        h.wait_for(lambda: queue_empty(inst), 60, "the queue to empty")
        print("30 messages, reuse count limit 2: %d connections" % sink.connections)
        self.assertGreaterEqual(sink.connections, 10)
        self.assertLessEqual(sink.connections, 12)

    def test_no_cache_without_backlog(self):
        """One message at a time, each more than a second after the
        previous delivery ended (no backlog, nothing concurrent, not back
        to back, nothing listed): each delivery ends with QUIT on its own
        connection."""
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % sink.port)
        inst.start()
        for i in range(3):
            qid = e2e.send(inst, SENDER, ["one%d@remote.test" % i], e2e.crlf("Subject: x\n\nx\n"))
            # qmgr logs "removed" after the request's end set last_done.
            inst.wait_log("%s: removed" % qid, timeout=30)
            done = time.monotonic()
            h.wait_for(lambda: time.monotonic() - done >= 1.1, 5,
                       "1.1 s after the delivery (past the back-to-back second)")
        self.assertEqual(sink.connections, 3)
        self.assertEqual(sink.command_lines("RSET"), [])
        self.assertEqual(len(sink.command_lines("QUIT")), 3)

    def back_to_back(self, inst, sink, n):
        """n messages, each sent as soon as the sink has the previous one."""
        for i in range(n):
            e2e.send(inst, SENDER, ["b2b%d@remote.test" % i], e2e.crlf("Subject: x\n\nx\n"))
            sink.wait_transactions(i + 1, timeout=30)
        h.wait_for(lambda: queue_empty(inst), 30, "the queue to empty")

    def test_back_to_back_deliveries_keep_the_session(self):
        """Postfix's "back-to-back" rule: a message for a destination whose
        last delivery ended within the last second keeps its session (the
        idle queue is kept that second, with its hint), so mail that comes
        one message at a time, each right after the previous delivery,
        goes over one connection after the first (which had no reason to
        stay)."""
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % sink.port,
                  smtp_connection_cache_time_limit="10s")
        inst.start()
        self.back_to_back(inst, sink, 5)
        # 2 connections when every gap is under a second; one slow gap on a
        # loaded machine (the sanitizer run) costs one more. Without the
        # rule each of the 5 messages has its own.
        self.assertLessEqual(sink.connections, 3)
        self.assertEqual(len(sink.command_lines("RSET")), 5 - sink.connections)

    def test_back_to_back_needs_a_window_above_one(self):
        """As in Postfix, the back-to-back rule needs a concurrency window
        above 1: with smtp_destination_concurrency_limit = 1 the same
        messages each go over their own connection."""
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % sink.port,
                  smtp_destination_concurrency_limit="1",
                  smtp_connection_cache_time_limit="10s")
        inst.start()
        self.back_to_back(inst, sink, 3)
        self.assertEqual(sink.connections, 3)
        self.assertEqual(sink.command_lines("RSET"), [])

    def test_concurrent_deliveries_keep_the_session(self):
        """No backlog, but a second delivery starts while the first is
        still at the server (the sink holds its final reply for a while):
        the second one keeps its session (Postfix's "concurrent" rule), and
        a third message, sent while the first is still there, reuses it."""
        sink = Sink(rcpt_delay={"slow@remote.test": 8.0}).start()
        self.addCleanup(sink.close)
        inst = self.instance()
        inst.conf(default_transport="smtp", relayhost="[127.0.0.1]:%d" % sink.port)
        inst.start()
        e2e.send(inst, SENDER, ["slow@remote.test"], e2e.crlf("Subject: x\n\nx\n"))
        h.wait_for(lambda: sink.connections == 1, 10, "the first delivery to connect")
        second = e2e.send(inst, SENDER, ["c1@remote.test"], e2e.crlf("Subject: x\n\nx\n"))
        inst.wait_log("%s: removed" % second)
        self.assertEqual(sink.connections, 2)
        e2e.send(inst, SENDER, ["c2@remote.test"], e2e.crlf("Subject: x\n\nx\n"))
        sink.wait_transactions(3, timeout=30)
        self.assertEqual(sink.connections, 2, "the third message reused a kept session")
        self.assertEqual(len(sink.command_lines("RSET")), 1)

    def test_cache_destinations(self):
        """smtp_connection_cache_destinations: sessions of a listed next
        hop are kept even without a backlog, and a server that went away
        meanwhile (RSET fails) costs nothing but a new connection."""
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.instance()
        hop = "[127.0.0.1]:%d" % sink.port
        inst.conf(default_transport="smtp", relayhost=hop,
                  smtp_connection_cache_destinations=hop,
                  smtp_connection_cache_time_limit="30s")
        inst.start()
        for i in range(3):
            e2e.send(inst, SENDER, ["kept%d@remote.test" % i], e2e.crlf("Subject: x\n\nx\n"))
            sink.wait_transactions(i + 1)
        self.assertEqual(sink.connections, 1)
        self.assertEqual(len(sink.command_lines("RSET")), 2)

    def test_stale_session_dropped(self):
        """A kept session whose server refuses RSET is dropped (with no
        harm to the message: it goes over a new connection)."""
        sink = Sink(rset_reply="421 4.3.2 shutting down").start()
        self.addCleanup(sink.close)
        inst = self.instance()
        hop = "[127.0.0.1]:%d" % sink.port
        inst.conf(default_transport="smtp", relayhost=hop,
                  smtp_connection_cache_destinations=hop,
                  smtp_connection_cache_time_limit="30s")
        inst.start()
        for i in range(3):
            e2e.send(inst, SENDER, ["stale%d@remote.test" % i], e2e.crlf("Subject: x\n\nx\n"))
            sink.wait_transactions(i + 1)
        h.wait_for(lambda: queue_empty(inst), 30, "the queue to empty")
        self.assertEqual(sink.connections, 3)
        self.assertEqual(len(sink.command_lines("RSET")), 2)
        self.assertRegex(inst.log(), r"cached session with 127\.0\.0\.1\[127\.0\.0\.1\]:%d: "
                         r"421 4\.3\.2 shutting down" % sink.port)
        self.assertNotRegex(inst.log(), r"status=deferred")


if __name__ == "__main__":
    unittest.main()
