"""test_crash_restart - a crashed qmgr or pickup comes back at once.

qmgr and pickup run only when woken (a trigger, or the periodic wakeup:
300 s and 60 s in the default master.cf). The master now wakes a new
process at once when one dies by a signal or a non-zero exit, so
acknowledged mail never waits for the next wakeup; a process that fails
at every start is throttled instead of restarted in a tight loop.
"""
import os
import re
import signal
import time

import e2e_harness as e
import surel_harness as h
from surel_harness import record

BOUND = 25.0    # seconds; below the 60 s and 300 s wakeups, with room for a loaded machine and the sanitizer build


def simple_message(subject):
    return ("Subject: %s\r\n\r\nbody of %s\r\n" % (subject, subject)).encode()


class CrashRestartTest(h.InstanceTest):

    def test_qmgr_killed_with_mail_in_active_delivers_without_new_mail(self):
        inst = self.instance()
        checks = inst.path("etc", "header_checks")
        with open(checks, "w") as f:
            f.write("/^Subject: park/ HOLD parked by the test\n")
        inst.conf(header_checks="pcre:" + checks)
        inst.start()
        # Held messages are complete queue files that qmgr passed by; the
        # test moves them into active/, where only a (new) qmgr looks.
        qids = [e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
                       simple_message("park %d" % i)) for i in range(5)]
        h.wait_for(lambda: sorted(e.queue_files(inst).get("hold", [])) == sorted(qids),
                   10, "five held messages")
        [qmgr] = inst.service_pids("qmgr")
        os.kill(qmgr, signal.SIGSTOP)
        for qid in qids:
            os.rename(inst.path("spool", "hold", qid), inst.path("spool", "active", qid))
        os.kill(qmgr, signal.SIGKILL)
        inst.wait_log("pid %d killed by signal 9" % qmgr)
        e.wait_delivered(inst, "alice", 5, timeout=BOUND)
        h.wait_for(lambda: not e.queue_files(inst), BOUND, "the queue to empty")
        new = inst.service_pids("qmgr")
        self.assertTrue(new and qmgr not in new, "a new qmgr runs")

    def test_pickup_killed_with_files_in_maildrop_picks_them_up(self):
        inst = self.started()
        # A first submission, so that this pickup has served (a crash after
        # serving is replaced at once, not throttled).
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", "me@sandbox.test",
               "bob@sandbox.test"], input="Subject: first\n\nbody\n")
        e.wait_delivered(inst, "bob", 1)
        [pickup] = inst.service_pids("pickup")
        os.kill(pickup, signal.SIGSTOP)
        # Finished maildrop files, as postdrop leaves them, with no trigger.
        for i in range(3):
            data = (record("S", b"me") + record("R", b"bob@sandbox.test") + record("M")
                    + record("N", b"Subject: planted %d" % i) + record("N", b"")
                    + record("N", b"body") + record("X") + record("E"))
            path = inst.path("spool", "maildrop", "0000000%dplanted" % i)
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o744)
        os.kill(pickup, signal.SIGKILL)
        inst.wait_log("pid %d killed by signal 9" % pickup)
        e.wait_delivered(inst, "bob", 4, timeout=BOUND)
        self.assertEqual(os.listdir(inst.path("spool", "maildrop")), [])

    def test_local_killed_mid_delivery_defers_the_recipient(self):
        inst = self.instance()
        # A duration of its own, so that a test beside it (the sanitizer
        # run of this file) never finds our sleeper, nor we its.
        naptime = str(100000 + inst.smtp_port)
        inst.conf(mailbox_command="/bin/sleep " + naptime)
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
                     simple_message("cut short"))
        sleepers = lambda: [pid for pid, argv in h.processes()
                            if argv[:2] == ["/bin/sleep", naptime]]
        h.wait_for(sleepers, 10, "the delivery command to run")
        self.addCleanup(lambda: [os.kill(p, signal.SIGKILL) for p in sleepers()])
        killed = e.kill_service(inst, "local")
        self.assertTrue(killed)
        inst.wait_log("%s: transport local: connection lost before the delivery status" % qid)
        h.wait_for(lambda: e.queue_files(inst) == {"deferred": [qid]}, 10,
                   "the message to be deferred")
        self.assertRegex(inst.log(), r"%s: to=<alice@sandbox.test>.* status=deferred" % qid)
        # Retried, not forgotten: with a working mailbox it is delivered.
        inst.conf(mailbox_command="")
        inst.surel("reload")
        inst.surel("queue", "flush")
        e.wait_delivered(inst, "alice", 1)
        h.wait_for(lambda: not e.queue_files(inst), 10, "the queue to empty")

    def test_qmgr_failing_at_every_start_is_throttled(self):
        inst = self.started()
        # A broken setting that only qmgr reads, injected for its service.
        with open(os.path.join(inst.etc, "master.cf")) as f:
            text = f.read()
        broken = re.sub(r"(?m)^(qmgr\s+unix.*qmgr)\s*$",
                        r"\1 -o qmgr_message_active_limit=lots", text)
        self.assertNotEqual(broken, text)
        inst.write_master_cf(broken)
        inst.surel("reload")
        inst.wait_log("qmgr: bad command startup -- throttling")
        first = time.monotonic()
        h.wait_for(lambda: time.monotonic() - first > 6.5, 10, "observation window")
        log = inst.log()
        starts = len(re.findall(r"process \S*qmgr pid \d+ exit status 1", log))
        # Pauses of 1, 2 and 4 s: about four starts in 6.5 s, never a loop.
        self.assertGreaterEqual(starts, 2)
        self.assertLessEqual(starts, 6, "throttled, not restarted in a tight loop")
        self.assertRegex(log, r"qmgr.*fatal: .*qmgr_message_active_limit")


if __name__ == "__main__":
    h.main()
