"""test_crash_delivery - the scheduler and the delivery agent killed while
they deliver (DESIGN §10, invariant 3: at-least-once).

500 messages, each with a unique token, go in over pipelined SMTP sessions
to alice, bob or both. While they are being delivered qmgr and local are
killed with SIGKILL several times; the master restarts them. When the
queue is empty every message must have reached each of its recipients at
least once, byte for byte as sent. Duplicates are allowed (a crash between
a delivery and its mark in the queue file) and their number is printed.
"""
import os
import sys
import threading
import time

from harness import e2e as e
from harness import core as h

COUNT = 500
KILL_AT = (100, 250, 400)      # delivered messages at which qmgr and local die
DEADLINE = 90.0                 # seconds for everything after the instance starts


def job(i):
    """(sender, recipients, message) of message i: to alice, bob or both."""
    rcpts = (["alice@sandbox.test"], ["bob@sandbox.test"],
             ["alice@sandbox.test", "bob@sandbox.test"])[i % 3]
    token = "tok-%04d" % i
    message = e.crlf(
        "From: carol@client.test\nTo: %s\nSubject: load %d\nMessage-ID: <%s@client.test>\n"
        "Date: Sun, 22 Nov 2026 04:18:57 +0000\nX-Token: %s\n\n%s"
        % (", ".join(rcpts), i, token, token,
           "".join("line %d of message %s\n" % (n, token) for n in range(i % 40 + 1))))
    return "carol@client.test", rcpts, message, token


class DeliveryCrash(h.InstanceTest):

    def delivered_count(self, inst):
        return len(inst.messages("alice")) + len(inst.messages("bob"))

    def test_sigkill_of_qmgr_and_local_during_delivery_loses_nothing(self):
        inst = self.instance()
        # A killed qmgr leaves messages in active/ whose deliveries may be
        # deferred (local gone mid-delivery); retry them quickly.
        inst.conf(minimal_backoff_time="1s", maximal_backoff_time="2s", queue_run_delay="1s")
        inst.start()
        deadline = e.deadline_after(DEADLINE)
        jobs = [job(i) for i in range(COUNT)]
        submitted = {}

        def submit():
            try:
                submitted["results"] = e.submit_many(
                    inst.smtp_port, [j[:3] for j in jobs], connections=4, per_session=100)
            except Exception as err:  # checked by the main thread
                submitted["error"] = err

        sender = threading.Thread(target=submit)
        sender.start()
        kills = []
        for threshold in KILL_AT:
            h.wait_for(lambda: self.delivered_count(inst) >= threshold or
                       (not sender.is_alive() and not e.queue_files(inst)),
                       max(1.0, deadline - time.monotonic()),
                       "%d deliveries" % threshold, interval=0.01)
            qmgr = e.kill_service(inst, "qmgr")
            local = e.kill_service(inst, "local")
            kills.append((self.delivered_count(inst), qmgr, local))
        sender.join(max(1.0, deadline - time.monotonic()))
        self.assertFalse(sender.is_alive(), "submission did not finish in time")
        self.assertNotIn("error", submitted)
        self.assertEqual(len(submitted["results"]), COUNT)

        # Every kill hit a running qmgr (the scheduler had work then).
        self.assertTrue(all(q for _, q, _ in kills), kills)
        h.wait_for(lambda: not e.queue_files(inst, ("incoming", "active", "deferred")),
                   max(1.0, deadline - time.monotonic()), "an empty queue", interval=0.1)

        want = {}
        for sender_, rcpts, message, token in jobs:
            for rcpt in rcpts:
                want[(rcpt.split("@")[0], token)] = message
        got = {}
        for user in ("alice", "bob"):
            for data in e.delivered(inst, user):
                token = e.token_of(data)
                self.assertIsNotNone(token, data[:300])
                key = (user, token)
                self.assertIn(key, want, "delivered to the wrong user: %r" % (key,))
                return_path, delivered_to, _, rest = e.split_prepended(data)
                self.assertEqual(return_path, "<carol@client.test>")
                self.assertEqual(delivered_to, user + "@sandbox.test")
                self.assertEqual(rest, e.lf(want[key]), token)
                got[key] = got.get(key, 0) + 1
        missing = sorted(set(want) - set(got))
        self.assertEqual(missing, [], "%d deliveries lost" % len(missing))
        duplicates = sum(n - 1 for n in got.values())
        restarts = inst.log().count("killed by signal 9")
        sys.stderr.write("\n%d messages, %d deliveries, %d duplicates; kills at %s "
                         "delivered; %d processes reported killed by signal 9\n"
                         % (COUNT, len(want), duplicates, [k[0] for k in kills], restarts))
        # At-least-once allows duplicates, but a crash can only duplicate
        # what was being delivered when it happened.
        self.assertLess(duplicates, 50)
        self.assertEqual(os.listdir(inst.path("spool", "temp")), [])

    def test_local_processes_killed_together_pause_local_once(self):
        """Several local processes killed at once are one failure for the
        master's crash throttle: delivery resumes after its first pause
        (1 s), not after a pause doubled for each process (2^(n-1) s)."""
        inst = self.instance()
        inst.start()
        jobs = [job(i)[:3] for i in range(150)]
        e.submit_many(inst.smtp_port, jobs, connections=4)
        h.wait_for(lambda: self.delivered_count(inst) >= 200, 30, "the burst delivered")
        # local processes stay idle for max_idle after the burst.
        pids = inst.service_pids("local")
        if len(pids) < 5:
            self.skipTest("only %d local processes after the burst" % len(pids))
        e.kill_service(inst, "local")
        h.wait_for(lambda: inst.log().count("local pid") >= len(pids), 10,
                   "the master to reap every local")
        started = time.monotonic()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
                     e.crlf("Subject: after the kill\n\nbody\n"))
        inst.wait_log("%s: removed" % qid, 60)
        took = time.monotonic() - started
        # 1 s of pause plus a start; 5 processes counted apart would be 16 s.
        self.assertLess(took, 6.0, "delivery resumed after %.1f s" % took)


if __name__ == "__main__":
    h.main()
