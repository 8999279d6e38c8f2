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

from qmgr_harness import QmgrInstance
from surel_harness import wait_for


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
