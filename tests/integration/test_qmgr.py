"""test_qmgr - the queue manager under the real master.

qmgr runs as the instance's qmgr service; a test agent (bin/test-agent)
speaks the delivery protocol as the `agent` transport and another copy
plays the bounce service, both logging what qmgr asked of them. Queue
files are written with bin/test-inject (lib/qfile).
"""
import os
import signal
import struct
import time
import unittest

from harness.qmgr import QmgrInstance
from harness.core import wait_for


class QmgrTest(unittest.TestCase):
    def setUp(self):
        self.instances = []

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()

    def start(self, **kw):
        inst = QmgrInstance(**kw)
        self.instances.append(inst)
        inst.start()
        return inst

    # Delivery, marks, removal.
    def test_delivered_and_removed(self):
        inst = self.start()
        qid = inst.inject("one@mx.test", "two@remote.test", "bare")
        inst.trigger(b"I")
        inst.wait_log("%s: removed" % qid)
        self.assertEqual(inst.where(qid), [])
        log = inst.log()
        self.assertIn("%s: from=<sender@example.org>, size=21, nrcpt=3 (queue active)" % qid, log)
        rcpts = {w[2]: w for w in inst.agent_lines("rcpt") if w[1] == qid}
        self.assertEqual(sorted(rcpts), ["bare@mx.test", "one@mx.test", "two@remote.test"])
        for words in rcpts.values():
            self.assertEqual(words[4], "offset=ok", words)   # offsets point at R records
        starts = [w for w in inst.agent_lines("start") if w[2] == qid]
        # Two destinations (mx.test, remote.test): two requests.
        self.assertEqual(sorted((w[3], w[4]) for w in starts), [("1", "remote.test"), ("2", "mx.test")])
        self.assertEqual(inst.bounce_lines(), [])

    def test_done_recipients_are_marked_in_place(self):
        # One recipient delivered, one deferred: the file keeps D for the first.
        inst = self.start(agent_args="rule=later:defer")
        qid = inst.inject("now@mx.test", "later@mx.test")
        inst.trigger()
        inst.wait_in("deferred", qid)
        with open(inst.queue_file("deferred", qid), "rb") as f:
            data = f.read()
        self.assertIn(b"D\x0bnow@mx.test", data)
        self.assertIn(b"R\x0dlater@mx.test", data)

    # Deferral, backoff, retry.
    def test_deferred_then_retried(self):
        inst = self.start(agent_args="rule=later:defer-once")
        qid = inst.inject("later@mx.test")
        inst.trigger()
        inst.wait_in("deferred", qid)
        seen = time.time()
        mtime = os.stat(inst.queue_file("deferred", qid)).st_mtime
        self.assertGreater(mtime, seen - 0.5)     # next attempt lies ahead (>= 1s backoff)
        inst.wait_log("%s: removed" % qid, timeout=20)
        actions = [w[3] for w in inst.agent_lines("rcpt") if w[1] == qid]
        self.assertEqual(actions, ["defer-once", "ok"])
        starts = [int(w[5]) for w in inst.agent_lines("start") if w[2] == qid]
        self.assertGreaterEqual(starts[1] - starts[0], 900)  # not before the 1s backoff
        delayed = [l for l in inst.bounce_lines() if l.startswith("bounce append %s" % qid)]
        self.assertEqual(len(delayed), 1)
        self.assertIn("<later@mx.test> delayed 4.2.0 try again later", delayed[0])

    def test_bounced_recipient(self):
        inst = self.start(agent_args="rule=nouser:bounce")
        qid = inst.inject("nouser@mx.test", "fine@mx.test")
        inst.trigger()
        inst.wait_log("%s: removed" % qid)
        lines = [l for l in inst.bounce_lines() if qid in l]
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("bounce append %s <nouser@mx.test> failed 5.1.1 no such user" % qid, lines[0])
        self.assertTrue(lines[1].startswith("bounce flush %s" % qid), lines[1])

    def test_bounce_service_down_keeps_recipient(self):
        inst = self.start(agent_args="rule=nouser:bounce", with_bounce=False)
        qid = inst.inject("nouser@mx.test")
        inst.trigger()
        inst.wait_in("deferred", qid)
        inst.wait_log("%s: to=<nouser@mx.test>: bounce service failed" % qid)
        self.assertNotIn("%s: removed" % qid, inst.log())
        with open(inst.queue_file("deferred", qid), "rb") as f:
            self.assertIn(b"R\x0enouser@mx.test", f.read())

    def test_notify_success(self):
        inst = self.start()
        qid = inst.inject("happy@mx.test", notify=2)
        inst.trigger()
        inst.wait_log("%s: removed" % qid)
        lines = [l for l in inst.bounce_lines() if qid in l]
        self.assertEqual(len(lines), 2, lines)
        self.assertIn("append %s <happy@mx.test> delivered 2.0.0" % qid, lines[0])
        self.assertTrue(lines[1].startswith("bounce flush %s" % qid))

    # Files that must not be delivered.
    def test_corrupt_file_moved_aside(self):
        inst = self.start()
        model = inst.inject("a@mx.test", queue="hold")
        bad = model[:-1] + ("x" if model[-1] != "x" else "y")
        path = inst.queue_file("incoming", bad)
        with open(path, "wb") as f:
            f.write(b"C\x03abcE\x00")
        os.chmod(path, 0o700)
        inst.chown(path)
        # A truncated copy of a good file: no end record.
        with open(inst.queue_file("hold", model), "rb") as f:
            data = f.read()
        short = model[:-2] + ("xx" if model[-2:] != "xx" else "yy")
        path2 = inst.queue_file("incoming", short)
        with open(path2, "wb") as f:
            f.write(data[:-5])
        os.chmod(path2, 0o700)
        inst.chown(path2)
        good = inst.inject("a@mx.test")
        inst.trigger()
        inst.wait_log("%s: removed" % good)
        inst.wait_in("corrupt", bad)
        inst.wait_in("corrupt", short)
        log = inst.log()
        self.assertIn("%s: corrupt queue file (" % bad, log)
        self.assertIn("moved to corrupt/", log)
        self.assertFalse([w for w in inst.agent_lines("start") if w[2] in (bad, short)])

    def test_hold_is_never_scheduled(self):
        inst = self.start()
        held = inst.inject("held@mx.test", queue="hold")
        inst.trigger(b"A")
        sentinel = inst.inject("s@mx.test")
        inst.trigger(b"A")
        inst.wait_log("%s: removed" % sentinel)
        self.assertEqual(inst.where(held), ["hold"])
        self.assertNotIn(held, inst.log())

    def test_incoming_picked_up_without_a_trigger(self):
        # No master wakeup ("-"): after the first message (triggered, so
        # that qmgr is running and past its start-up scan), a file
        # committed into incoming/ with no trigger at all must be found by
        # qmgr's own periodic scan (queue_run_delay = 1s here).
        inst = self.start(qmgr_wakeup="-")
        first = inst.inject("first@mx.test")
        inst.trigger(b"I")
        inst.wait_log("%s: removed" % first)
        [pid] = inst.service_pids("qmgr")
        t0 = time.monotonic()
        quiet = inst.inject("quiet@mx.test")
        inst.wait_log("%s: removed" % quiet, timeout=10)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(inst.service_pids("qmgr"), [pid])    # the same qmgr found it
        self.assertEqual([w[2] for w in inst.agent_lines("rcpt") if w[1] == quiet],
                         ["quiet@mx.test"])

    def test_stale_temp_files_removed(self):
        inst = QmgrInstance()
        self.instances.append(inst)
        old = os.path.join(inst.spool, "temp", "123.456.0")
        young = os.path.join(inst.spool, "temp", "789.456.0")
        ready = os.path.join(inst.spool, "temp", "555.456.0")
        for p, mode in ((old, 0o600), (young, 0o600), (ready, 0o700)):
            with open(p, "w") as f:
                f.write("x")
            os.chmod(p, mode)
            inst.chown(p)
        two_days = time.time() - 2 * 86400
        os.utime(old, (two_days, two_days))
        os.utime(ready, (two_days, two_days))
        inst.start()
        inst.trigger()
        inst.wait_log("123.456.0: removed uncommitted file")
        # Ready but still in temp/ (killed between fchmod and rename): never
        # acknowledged either, so it goes too.
        inst.wait_log("555.456.0: removed uncommitted file")
        self.assertFalse(os.path.exists(old))
        self.assertTrue(os.path.exists(young))
        self.assertFalse(os.path.exists(ready))

    # Crash recovery and locking.
    def test_active_recovered_after_qmgr_killed(self):
        inst = self.start(agent_args="delay=2500")
        qid = inst.inject("slow@mx.test")
        inst.trigger()
        wait_for(lambda: [w for w in inst.agent_lines("start") if w[2] == qid], 10, "agent start")
        self.assertEqual(inst.where(qid), ["active"])
        [pid] = inst.service_pids("qmgr")
        os.kill(pid, signal.SIGKILL)
        # The master starts a new qmgr (wakeup every second); it puts the
        # file back, sees the agent's lock and waits; then delivers again.
        inst.wait_log("recovered 1 message from active/", timeout=20)
        inst.wait_log("%s: still being delivered by another process" % qid, timeout=20)
        inst.wait_log("%s: removed" % qid, timeout=30)
        events = [(w[0], int(w[-1])) for w in inst.agent_lines() if w[0] in ("start", "end")
                  and w[2] == qid]
        self.assertEqual([e[0] for e in events], ["start", "end", "start", "end"], events)
        self.assertGreaterEqual(events[2][1], events[1][1])   # never two at once

    # Scheduler bounds.
    def test_concurrency_limit(self):
        inst = self.start(agent_args="delay=300",
                          main_cf_extra="agent_destination_concurrency_limit = 2\n")
        ids = [inst.inject("u%d@dest.test" % i) for i in range(8)]
        inst.trigger()
        for qid in ids:
            inst.wait_log("%s: removed" % qid, timeout=30)
        self.assertEqual(inst.max_overlap(), 2)

    def test_local_style_one_recipient_per_request(self):
        inst = self.start(agent_args="delay=200",
                          main_cf_extra="agent_destination_recipient_limit = 1\n"
                                        "agent_destination_concurrency_limit = 1\n")
        qid = inst.inject("a@mx.test", "b@mx.test", "c@mx.test")
        inst.trigger()
        inst.wait_log("%s: removed" % qid)
        starts = [w for w in inst.agent_lines("start") if w[2] == qid]
        self.assertEqual([w[3] for w in starts], ["1", "1", "1"])
        # The limit is per recipient: the three go in parallel.
        self.assertEqual(inst.max_overlap(), 3)

    def test_active_limit(self):
        inst = self.start(agent_args="delay=200",
                          main_cf_extra="qmgr_message_active_limit = 2\n")
        ids = [inst.inject("u%d@d%d.test" % (i, i)) for i in range(6)]
        inst.trigger()
        for qid in ids:
            inst.wait_log("%s: removed" % qid, timeout=30)
        # Active messages are the ones between "(queue active)" and "removed".
        depth = best = 0
        for line in inst.log().splitlines():
            if "(queue active)" in line:
                depth += 1
                best = max(best, depth)
            elif line.endswith(": removed"):
                depth -= 1
        self.assertEqual(best, 2)

    def test_unreachable_transport_throttled(self):
        inst = self.start(main_cf_extra="transport_maps = inline:{ nowhere.test=missing: }\n")
        qid = inst.inject("x@nowhere.test", "y@mx.test")
        inst.trigger()
        inst.wait_in("deferred", qid)
        log = inst.log()
        self.assertRegex(log, r"%s: to=<x@nowhere.test>, relay=none, delay=[0-9.]+, "
                              r"delays=[0-9./]+, dsn=4\.3\.0, status=deferred "
                              r"\(mail transport unavailable\)" % qid)
        self.assertIn("transport missing: mail transport unavailable: throttled", log)
        # The other recipient was delivered and marked done.
        self.assertEqual([w[2] for w in inst.agent_lines("rcpt") if w[1] == qid], ["y@mx.test"])
        # No tight loop: with 1s backoff and 1s throttle, a few attempts in 3s.
        time.sleep(3)
        self.assertLessEqual(inst.log().count("connect to transport private/missing"), 5)

    # Lifetime and warnings.
    def test_expired_message_bounced_once(self):
        inst = self.start(agent_args="rule=stuck:defer")
        old = int(time.time()) - 10 * 86400
        qid = inst.inject("stuck@mx.test", arrival=old)
        inst.trigger()
        inst.wait_log("%s: removed" % qid)
        self.assertIn("%s: from=<sender@example.org>, status=expired, returned to sender" % qid,
                      inst.log())
        lines = [l for l in inst.bounce_lines() if qid in l]
        self.assertEqual(len([l for l in lines if l.startswith("bounce flush")]), 1, lines)
        self.assertIn("bounce append %s <stuck@mx.test> failed 4.4.7 message expired" % qid,
                      "\n".join(lines))

    def test_qmgr_log_has_orig_to_only_when_it_differs(self):
        # The results qmgr logs itself (here: recipients the agent did not
        # report, deferred by qmgr) are in Postfix's shape: orig_to= only
        # when the original recipient differs from to= (ignoring case).
        inst = self.start(agent_args="rule=stuck:silent")
        same = inst.inject("stuck@mx.test", orig="Stuck@MX.test")
        other = inst.inject("stuck@mx.test", orig="alias@mx.test")
        inst.trigger()
        inst.wait_in("deferred", same)
        inst.wait_in("deferred", other)
        log = inst.log()
        self.assertRegex(log, r"qmgr\[\d+\]: %s: to=<stuck@mx.test>, relay=none, delay=" % same)
        self.assertRegex(log, r"qmgr\[\d+\]: %s: to=<stuck@mx.test>, orig_to=<alias@mx.test>, "
                              r"relay=none, delay=" % other)

    def park_in_deferred(self, inst, qid, next_attempt):
        """Move a file written into hold/ to deferred/ (hashed), due at
        next_attempt: a message that has been deferred before."""
        src = inst.queue_file("hold", qid)
        dst = inst.queue_file("deferred", qid)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        inst.chown(os.path.dirname(dst))
        os.utime(src, (next_attempt, next_attempt))
        os.rename(src, dst)

    def test_bounce_queue_lifetime_applies_to_null_sender_only(self):
        # Both 2 days old, both sitting in deferred/ and deferred again on
        # this attempt: past bounce_queue_lifetime (1d), well within
        # maximal_queue_lifetime (5d). The bounce (sender <>) is given up;
        # the ordinary message stays and is retried.
        inst = self.start(agent_args="rule=stuck:defer",
                          main_cf_extra="maximal_queue_lifetime = 5d\n"
                                        "bounce_queue_lifetime = 1d\n")
        old = int(time.time()) - 2 * 86400
        bounce = inst.inject("stuck@mx.test", sender="", arrival=old, queue="hold")
        plain = inst.inject("stuck@mx.test", arrival=old, queue="hold")
        for qid in (bounce, plain):
            self.park_in_deferred(inst, qid, old + 3600)
        inst.trigger(b"D")
        inst.wait_log("%s: removed" % bounce)
        log = inst.log()
        self.assertIn("%s: from=<>, status=expired, returned to sender" % bounce, log)
        lines = [l for l in inst.bounce_lines() if bounce in l]
        self.assertIn("bounce append %s <stuck@mx.test> failed 4.4.7 message expired" % bounce,
                      "\n".join(lines))
        self.assertEqual(len([l for l in lines if l.startswith("bounce flush")]), 1, lines)
        # The ordinary one: deferred again (not expired), then tried again.
        wait_for(lambda: len([w for w in inst.agent_lines("rcpt") if w[1] == plain]) >= 2, 15,
                 "a second attempt of %s" % plain)
        log = inst.log()
        self.assertNotIn("%s: from=<sender@example.org>, status=expired" % plain, log)
        self.assertNotIn("%s: removed" % plain, log)
        mine = [l for l in inst.bounce_lines() if plain in l]
        self.assertTrue(mine and all(" delayed " in l for l in mine), mine)
        self.assertEqual([w[1] for w in inst.agent_lines("rcpt") if w[1] == bounce], [bounce])

    def test_delay_warning_once(self):
        inst = self.start(agent_args="rule=slow:defer")
        qid = inst.inject("slow@mx.test", warn=int(time.time()) - 1)
        inst.trigger()
        wait_for(lambda: any(l.startswith("bounce warn %s" % qid) for l in inst.bounce_lines()),
                 10, "warn request")
        inst.wait_in("deferred", qid)
        # Let it go round again: the W record now says "no more warnings".
        inst.trigger(b"A")
        wait_for(lambda: len([w for w in inst.agent_lines("rcpt") if w[1] == qid]) >= 2, 10,
                 "second attempt")
        inst.trigger(b"A")
        wait_for(lambda: len([w for w in inst.agent_lines("rcpt") if w[1] == qid]) >= 3, 10,
                 "third attempt")
        warns = [l for l in inst.bounce_lines() if l.startswith("bounce warn %s" % qid)]
        self.assertEqual(len(warns), 1)
        path = inst.queue_file("deferred", qid)
        wait_for(lambda: os.path.exists(path), 10, "file back in deferred/")
        with open(path, "rb") as f:
            self.assertIn(b"W\x0f" + b"0".rjust(15), f.read())

    # The error agent.
    def test_error_transport(self):
        inst = self.start(
            extra_services="error unix - - n - - error\nretry unix - - n - - error\n",
            main_cf_extra="transport_maps = inline:{ {gone.test=error:5.1.1 User unknown},"
                          " {later.test=retry:no route yet} }\n")
        qid = inst.inject("x@gone.test", "y@later.test", "z@mx.test")
        inst.trigger()
        inst.wait_in("deferred", qid)
        log = inst.log()
        # Postfix's shape (deliver_log.h); no orig_to= when it equals to=.
        self.assertRegex(log, r"error\[\d+\]: %s: to=<x@gone.test>, relay=none, delay=[\d.]+, "
                              r"delays=[\d.]+/0/0/[\d.]+, dsn=5\.1\.1, status=bounced \(User unknown\)"
                              % qid)
        self.assertRegex(log, r"%s: to=<y@later.test>, relay=none, delay=[\d.]+, "
                              r"delays=[\d./]+, dsn=4\.0\.0, status=deferred \(no route yet\)" % qid)
        lines = "\n".join(l for l in inst.bounce_lines() if qid in l)
        self.assertIn("append %s <x@gone.test> failed 5.1.1 User unknown" % qid, lines)
        self.assertIn("append %s <y@later.test> delayed 4.0.0 no route yet" % qid, lines)
        self.assertIn("flush %s" % qid, lines)
        with open(inst.queue_file("deferred", qid), "rb") as f:
            data = f.read()
        self.assertIn(b"D\x0bx@gone.test", data)     # bounced and flushed: done
        self.assertIn(b"R\x0cy@later.test", data)
        self.assertIn(b"D\x09z@mx.test", data)

    # Bounds under load: many messages, mixed results, small limits.
    def test_load_with_bounds(self):
        inst = self.start(agent_args="delay=5 rule=soon:defer-once rule=nouser:bounce",
                          main_cf_extra="qmgr_message_active_limit = 20\n"
                                        "agent_destination_concurrency_limit = 3\n"
                                        "agent_destination_recipient_limit = 2\n")
        ids = []
        for i in range(150):
            ids.append(inst.inject("a%d@d%d.test" % (i, i % 3), "soon%d@d%d.test" % (i, i % 3),
                                   "nouser%d@d%d.test" % (i, (i + 1) % 3)))
        inst.trigger()
        wait_for(lambda: inst.log().count(": removed") >= len(ids), 90, "every message removed")
        for qid in ids:
            self.assertEqual(inst.where(qid), [], qid)
        # Per destination never more than 3 requests at once.
        depth, best = {}, {}
        open_req = {}
        for words in inst.agent_lines():
            if words[0] == "start":
                dest = words[4]
                open_req[words[1]] = dest
                depth[dest] = depth.get(dest, 0) + 1
                best[dest] = max(best.get(dest, 0), depth[dest])
            elif words[0] == "end":
                depth[open_req.pop(words[1])] -= 1
        self.assertTrue(best and max(best.values()) <= 3, best)
        # Each bounced recipient flushed once, each message removed once.
        log = inst.log()
        for qid in ids:
            self.assertEqual(log.count("%s: removed" % qid), 1)
        flushes = [l for l in inst.bounce_lines() if l.startswith("bounce flush")]
        self.assertEqual(len(flushes), len(ids))
        self.assertNotIn("panic", log)
        self.assertNotIn("exit status", log)
        self.assertNotIn("killed by signal", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
