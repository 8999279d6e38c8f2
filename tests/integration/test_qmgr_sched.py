"""test_qmgr_sched - qmgr's per-destination scheduling, seen at a sink.

A backlog for one destination is made as in life: the destination is down
while mail comes in, qmgr declares it dead after one failed cohort and
defers the rest without connecting, then the destination comes back and
`surel queue flush <site>` sends everything at once. What the sink
(harness/sink.py) sees then shows the concurrency limit, slow start, the
rate delay and the recipient limit; what it saw while "down" (a server
that answers 421) shows that a dead destination is not hammered. Mail to
a relay domain goes through relay_transport. Nexthops are [127.0.0.1]:port
(no DNS).
"""
import unittest

from harness import core as h
from harness import e2e
from harness.sink import Sink

SENDER = "alice@sandbox.test"


def deferred(inst):
    return len(e2e.queue_files(inst).get("deferred", []))


def queue_empty(inst):
    return not e2e.queue_files(inst)


class SchedTest(h.InstanceTest):
    def relay_instance(self, port, **params):
        inst = self.instance()
        conf = dict(default_transport="smtp", relayhost="[127.0.0.1]:%d" % port,
                    minimal_backoff_time="3600s", maximal_backoff_time="3600s",
                    queue_run_delay="3600s")
        conf.update(params)
        inst.conf(**conf)
        inst.start()
        return inst

    def backlog(self, inst, n, rcpts_each=1, site="remote.test", body=None):
        """n messages while nothing listens: all deferred (the destination
        is dead after the first cohort). Returns the recipients."""
        body = body or e2e.crlf("Subject: backlog\n\nhello\n")
        jobs, rcpts = [], []
        for i in range(n):
            r = ["m%d.%d@%s" % (i, j, site) for j in range(rcpts_each)]
            rcpts += r
            jobs.append((SENDER, r, body))
        e2e.submit_many(inst.smtp_port, jobs, connections=2, per_session=50)
        h.wait_for(lambda: deferred(inst) == n, 60, "every message to be deferred")
        return rcpts

    def flush_to(self, inst, sink, site="remote.test"):
        sink.start()
        self.addCleanup(sink.close)
        inst.surel("queue", "flush", site)

    def delivered_once(self, inst, sink, rcpts):
        h.wait_for(lambda: sum(len(t["accepted"]) for t in sink.transactions) >= len(rcpts)
                   and queue_empty(inst), 120, "every recipient delivered, the queue empty")
        got = sorted(r for t in sink.transactions for r in t["accepted"])
        self.assertEqual(got, sorted(rcpts))

    def test_concurrency_limit(self):
        """smtp_destination_concurrency_limit = 2, 40 messages, deliveries
        that take a while: never more than 2 sessions at once, and 2 are
        reached."""
        port = h.free_port()
        inst = self.relay_instance(port, smtp_destination_concurrency_limit="2",
                                   smtp_connection_cache_on_demand="no")
        rcpts = self.backlog(inst, 40)
        sink = Sink(port=port, data_delay=0.1)
        self.flush_to(inst, sink)
        self.delivered_once(inst, sink, rcpts)
        print("40 messages, limit 2: at most %d sessions, %d transactions at once"
              % (sink.max_sessions, sink.max_tx))
        self.assertLessEqual(sink.max_sessions, 2)
        self.assertEqual(sink.max_tx, 2)

    def test_slow_start(self):
        """initial_destination_concurrency = 1: the first delivery goes
        alone, the window then grows (1/concurrency per success) up to the
        limit of 4."""
        port = h.free_port()
        inst = self.relay_instance(port, smtp_destination_concurrency_limit="4",
                                   initial_destination_concurrency="1",
                                   smtp_connection_cache_on_demand="no")
        rcpts = self.backlog(inst, 30)
        sink = Sink(port=port, data_delay=0.1)
        self.flush_to(inst, sink)
        self.delivered_once(inst, sink, rcpts)
        tx = sorted(sink.transactions, key=lambda t: t["mail_time"])
        self.assertGreaterEqual(tx[1]["mail_time"], tx[0]["end_time"],
                                "the second delivery started before the first ended")
        print("slow start: at most %d at once" % sink.max_tx)
        self.assertGreater(sink.max_tx, 1)
        self.assertLessEqual(sink.max_tx, 4)

    def test_dead_destination_not_hammered(self):
        """A destination that answers 421: one cohort of connections
        (initial_destination_concurrency = 2), then 40 messages are
        deferred without a connection ("delivery temporarily suspended").
        Once it answers and `surel queue flush <site>` runs, every message
        is delivered exactly once."""
        port = h.free_port()
        down = Sink(port=port, greeting="421 4.3.2 down for maintenance").start()
        inst = self.relay_instance(port, initial_destination_concurrency="2")
        rcpts = self.backlog(inst, 40)
        connections = down.connections
        down.close()
        print("dead destination: %d connections for 40 messages" % connections)
        self.assertGreaterEqual(connections, 1)
        self.assertLessEqual(connections, 2)
        log = inst.log()
        self.assertRegex(log, r"destination smtp:\[127\.0\.0\.1\]:%d: dead after 1 failed "
                         r"cohort: retry in 3600s" % port)
        self.assertRegex(log, r"relay=none, .*dsn=4\.3\.2, status=deferred \(delivery "
                         r"temporarily suspended: host 127\.0\.0\.1\[127\.0\.0\.1\] said: "
                         r"421 4\.3\.2 down for maintenance \(in reply to initial greeting\)\)")
        sink = Sink(port=port)
        self.flush_to(inst, sink)
        self.delivered_once(inst, sink, rcpts)
        self.assertRegex(inst.log(), r"no longer dead")

    def test_rate_delay(self):
        """smtp_destination_rate_delay = 1s: one delivery at a time, and at
        least 1 s from the end of one to the start of the next."""
        port = h.free_port()
        inst = self.relay_instance(port, smtp_destination_rate_delay="1s",
                                   smtp_destination_concurrency_limit="10")
        rcpts = self.backlog(inst, 4)
        sink = Sink(port=port)
        self.flush_to(inst, sink)
        self.delivered_once(inst, sink, rcpts)
        tx = sorted(sink.transactions, key=lambda t: t["mail_time"])
        gaps = [b["mail_time"] - a["end_time"] for a, b in zip(tx, tx[1:])]
        print("rate delay 1s: gaps %s" % ", ".join("%.2f" % g for g in gaps))
        self.assertEqual(sink.max_tx, 1)
        self.assertTrue(all(g >= 0.95 for g in gaps), gaps)

    def test_recipient_limit(self):
        """smtp_destination_recipient_limit = 3: 10 recipients of one
        message make 4 transactions (3 + 3 + 3 + 1)."""
        port = h.free_port()
        sink = Sink(port=port).start()
        self.addCleanup(sink.close)
        inst = self.relay_instance(port, smtp_destination_recipient_limit="3")
        rcpts = ["r%d@remote.test" % i for i in range(10)]
        e2e.send(inst, SENDER, rcpts, e2e.crlf("Subject: many\n\nhello\n"))
        self.delivered_once(inst, sink, rcpts)
        self.assertEqual(sorted(len(t["accepted"]) for t in sink.transactions), [1, 3, 3, 3])

    def test_relay_transport(self):
        """relay_domains: mail for them goes through relay_transport, the
        rest through default_transport."""
        pr, pd = h.free_port(), h.free_port()
        relay, other = Sink(port=pr).start(), Sink(port=pd).start()
        self.addCleanup(relay.close)
        self.addCleanup(other.close)
        inst = self.instance()
        inst.conf(relay_domains="backup.test",
                  relay_transport="relay:[127.0.0.1]:%d" % pr,
                  default_transport="smtp:[127.0.0.1]:%d" % pd)
        inst.start()
        e2e.send(inst, SENDER, ["a@backup.test", "b@elsewhere.test"],
                 e2e.crlf("Subject: two ways\n\nhello\n"))
        relay.wait_transactions(1)
        other.wait_transactions(1)
        h.wait_for(lambda: queue_empty(inst), 30, "the queue to empty")
        self.assertEqual([r for t in relay.transactions for r in t["accepted"]],
                         ["a@backup.test"])
        self.assertEqual([r for t in other.transactions for r in t["accepted"]],
                         ["b@elsewhere.test"])


if __name__ == "__main__":
    unittest.main()
