"""surel queue list/show/flush/delete/hold/release/requeue on sandbox instances.

Queue files are written by bin/test-qinject with lib/qfile's commit
protocol (as cleanup writes them). Every changing verb is checked by
comparing the whole queue (every file's path, content and mtime) before
and after: it must change what it should and nothing else.
"""
import fcntl
import hashlib
import itertools
import json
import os
import random
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import threading
import time

from harness import attr
from harness import core as h
from harness import e2e as e

QUEUES = ("maildrop", "incoming", "active", "deferred", "hold", "corrupt", "defer", "bounce")
TEST_USER = "surelqtest"


def ensure_test_user():
    """An ordinary local account for the permission tests."""
    try:
        return pwd.getpwnam(TEST_USER)
    except KeyError:
        h.run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", TEST_USER])
        return pwd.getpwnam(TEST_USER)


def as_user(argv, user=TEST_USER, check=False, **kw):
    pw = pwd.getpwnam(user)
    return h.run(["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                  "--clear-groups", "--"] + argv, check=check, **kw)


class QueueTest(h.InstanceTest):

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        self.spool = self.inst.spool

    # Helpers.
    def inject(self, *args, queue="incoming", body="Subject: test\n\nhello\n", hashed=False):
        argv = [h.binary("test-qinject"), "-d", self.spool, "-u", "surel", "-q", queue]
        if hashed:
            argv += ["-H", "1"]
        proc = h.run(argv + list(args), input=body)
        return proc.stdout.strip()

    def q(self, *args, check=True, **kw):
        return self.inst.surel("queue", *args, check=check, **kw)

    def snapshot(self):
        """{relative path: (sha256, mtime_ns)} of every file in the queue folders."""
        result = {}
        for queue in QUEUES:
            top = os.path.join(self.spool, queue)
            for folder, _, files in os.walk(top):
                for name in files:
                    path = os.path.join(folder, name)
                    try:
                        with open(path, "rb") as f:
                            digest = hashlib.sha256(f.read()).hexdigest()
                        result[os.path.relpath(path, self.spool)] = (digest, os.stat(path).st_mtime_ns)
                    except FileNotFoundError:
                        pass
        return result

    def where(self, qid):
        """Relative paths of the files named qid."""
        return sorted(p for p in self.snapshot() if os.path.basename(p) == qid)

    def defer_log(self, qid, lines):
        """A defer/ log in bounce's format (one entry a line, %XX escapes)."""
        folder = os.path.join(self.spool, "defer", qid[9])
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, qid)
        with open(path, "w") as f:
            for rcpt, reason in lines:
                f.write("action=delayed offset=0 notify=0 status=4.4.1 recipient=%s "
                        "orig_rcpt=%s dsn_orcpt= reason=%s\n" % (
                            rcpt, rcpt, reason.replace("%", "%25").replace(" ", "%20")))
        return path

    def assert_only_changed(self, before, after, removed=(), added=(), touched=()):
        """after == before except the paths named (relative to the spool)."""
        for path in removed:
            self.assertIn(path, before)
            self.assertNotIn(path, after)
        for path in added:
            self.assertNotIn(path, before)
            self.assertIn(path, after)
        rest_before = {p: v for p, v in before.items() if p not in removed and p not in touched}
        rest_after = {p: v for p, v in after.items() if p not in added and p not in touched}
        self.assertEqual(rest_before, rest_after)

    # list
    def test_list_empty(self):
        self.assertEqual(self.q("list").stdout, "Mail queue is empty\n")
        self.assertEqual(self.q("list", "-j").stdout, "")

    def test_list_table(self):
        a = self.inject("-f", "alice@sandbox.test", "-r", "x@example.com",
                        "-D", "gone@example.com", "-r", "y@example.org")
        d = self.inject("-f", "", "-r", "z@example.com", "-r", "w@example.com",
                        queue="deferred", hashed=True)
        self.defer_log(d, [("z@example.com", "connect to mx.example.com: Connection refused")])
        hd = self.inject("-r", "held@example.com", queue="hold")
        act = self.inject("-r", "busy@example.com", queue="active")
        out = self.q("list").stdout
        lines = out.splitlines()
        # Postfix's mailq layout for long queue IDs, column for column
        # (postqueue's showq_compat): scripts parse it.
        self.assertEqual(lines[0], "----Queue ID----- --Size-- ---Arrival Time----"
                                   " --Sender/Recipient------")
        # Kbytes are truncated, as Postfix's: four small messages are 0.
        self.assertTrue(out.endswith("\n\n-- 0 Kbytes in 4 Requests.\n"), out)
        # Queue order: incoming, active, deferred, hold.
        starts = [l.split()[0] for l in lines if l and l[0] not in " (-"]
        self.assertEqual(starts, [a, act + "*", d, hd + "!"])
        entry = out.split("\n\n")
        first = entry[0].splitlines()
        self.assertRegex(first[1], r"^%s {%d} +\d+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
                         r"alice@sandbox\.test$" % (a, 17 - len(a) - 1))
        self.assertEqual(first[1][17:26].strip().isdigit(), True)   # size: 8 columns after the ID
        self.assertIn(" " * 47 + "x@example.com", entry[0])
        self.assertIn(" " * 47 + "y@example.org", entry[0])
        self.assertNotIn("gone@example.com", out)         # done: not shown
        deferred = [e for e in entry if d in e][0].splitlines()
        self.assertIn("MAILER-DAEMON", deferred[0])
        reason = "(connect to mx.example.com: Connection refused)"
        self.assertEqual(deferred[1], " " * (76 - len(reason) + 2) + reason)   # ends at column 78
        self.assertEqual(deferred[2], " " * 47 + "z@example.com")
        self.assertEqual(deferred[3], " " * (76 - len("reason unavailable")) + "(reason unavailable)")
        self.assertEqual(deferred[4], " " * 47 + "w@example.com")

    def test_list_json(self):
        a = self.inject("-f", "alice@sandbox.test", "-r", "x@example.com", "-D", "gone@example.com",
                        body="Subject: x\n\n" + "line\n" * 10)
        d = self.inject("-f", "", "-r", "z@example.com", queue="deferred", hashed=True)
        self.defer_log(d, [("z@example.com", "4.4.1 timed out \"quoted\"")])
        rows = [json.loads(l) for l in self.q("list", "-j").stdout.splitlines()]
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0]["queue_name"], "incoming")
        self.assertEqual(rows[0]["queue_id"], a)
        self.assertEqual(rows[0]["sender"], "alice@sandbox.test")
        self.assertEqual(rows[0]["message_size"], len("Subject: x\n\n" + "line\n" * 10))
        self.assertFalse(rows[0]["forced_expire"])
        self.assertAlmostEqual(rows[0]["arrival_time"], time.time(), delta=60)
        self.assertEqual(rows[0]["recipients"], [{"address": "x@example.com"}])
        self.assertEqual(rows[1]["queue_name"], "deferred")
        self.assertEqual(rows[1]["sender"], "")
        self.assertEqual(rows[1]["recipients"],
                         [{"address": "z@example.com", "delay_reason": "4.4.1 timed out \"quoted\""}])

    def test_list_skips_unready_and_changes_nothing(self):
        a = self.inject("-r", "x@example.com")
        bad = os.path.join(self.spool, "incoming", a[:-1] + ("b" if a[-1] != "b" else "c"))
        with open(bad, "w") as f:
            f.write("not a queue file")
        os.chmod(bad, 0o600)                              # not ready
        before = self.snapshot()
        out = self.q("list").stdout
        self.assertIn(a, out)
        self.assertIn("in 1 Request.", out)
        self.assertEqual(self.snapshot(), before)

    # show
    def test_show(self):
        a = self.inject("-f", "alice@sandbox.test", "-a", "client_address=127.0.0.1",
                        "-o", "rfc822;X@Example.com", "-n", "6", "-r", "x@example.com",
                        "-D", "gone@example.com",
                        body="Subject: hi\nFrom: alice@sandbox.test\n\nbody one\nbody two\n")
        out = self.q("show", a).stdout
        self.assertIn("*** ENVELOPE RECORDS incoming/%s ***" % a, out)
        self.assertIn("sender: alice@sandbox.test\n", out)
        self.assertIn("named_attribute: client_address=127.0.0.1\n", out)
        self.assertIn("recipient: x@example.com (todo)\n    dsn_orig_rcpt: rfc822;X@Example.com\n"
                      "    dsn_notify: success,failure\n", out)
        self.assertIn("recipient: gone@example.com (done)\n", out)
        self.assertIn("*** MESSAGE CONTENTS incoming/%s ***\nSubject: hi\nFrom: alice@sandbox.test\n"
                      "\nbody one\nbody two\n*** MESSAGE FILE END" % a, out)
        self.assertEqual(self.q("show", "-h", a).stdout, "Subject: hi\nFrom: alice@sandbox.test\n")
        self.assertEqual(self.q("show", "-b", a).stdout, "body one\nbody two\n")
        env = self.q("show", "-e", a).stdout
        self.assertIn("sender: alice@sandbox.test", env)
        self.assertNotIn("Subject", env)

    def test_show_refuses_bad_ids(self):
        for bad in ("../../etc/passwd", "abc/def", "", "x" * 40):
            proc = self.q("show", bad, check=False)
            self.assertNotEqual(proc.returncode, 0, bad)
            self.assertIn("invalid queue ID", proc.stderr)
        proc = self.q("show", "4jXFcc2cGNz1bcSV", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no such message", proc.stderr)

    # delete, hold, release, requeue
    def test_delete(self):
        a = self.inject("-r", "x@example.com")
        b = self.inject("-r", "y@example.com", queue="deferred", hashed=True)
        logpath = self.defer_log(b, [("y@example.com", "later")])
        os.makedirs(os.path.join(self.spool, "bounce"), exist_ok=True)
        with open(os.path.join(self.spool, "bounce", b), "w") as f:
            f.write("action=failed recipient=q@example.com reason=no\n")
        before = self.snapshot()
        proc = self.q("delete", b)
        after = self.snapshot()
        self.assert_only_changed(before, after, removed=[
            "deferred/%s/%s" % (b[9], b), os.path.relpath(logpath, self.spool), "bounce/" + b])
        self.assertIn(a, self.q("list").stdout)
        self.assertIn("%s: removed" % b, self.inst.log())
        self.assertIn("Deleted: 1 message", proc.stderr)

    def test_hold_and_release(self):
        a = self.inject("-r", "x@example.com")
        b = self.inject("-r", "y@example.com", queue="deferred", hashed=True)
        before = self.snapshot()
        self.q("hold", a)
        after = self.snapshot()
        self.assert_only_changed(before, after, removed=["incoming/" + a], added=["hold/" + a])
        self.assertEqual(before["incoming/" + a], after["hold/" + a])   # same bytes, same mtime
        self.assertIn("%s: placed on hold" % a, self.inst.log())
        self.assertIn(a + "!", self.q("list").stdout)
        # release: hold -> deferred (hashed), mtime now
        os.utime(os.path.join(self.spool, "hold", a), (1000000, 1000000))
        before = self.snapshot()
        t0 = time.time()
        self.q("release", a)
        after = self.snapshot()
        dst = "deferred/%s/%s" % (a[9], a)
        self.assert_only_changed(before, after, removed=["hold/" + a], added=[dst])
        self.assertEqual(after[dst][0], before["hold/" + a][0])
        self.assertGreaterEqual(after[dst][1] / 1e9, t0 - 2)
        self.assertIn("%s: released from hold" % a, self.inst.log())
        st = os.stat(os.path.join(self.spool, "deferred", a[9]))
        self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, "surel")   # qmgr can use it
        # release only works on held mail
        proc = self.q("release", b, check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no such message", proc.stderr)

    def test_requeue(self):
        b = self.inject("-r", "y@example.com", queue="deferred", hashed=True)
        c = self.inject("-r", "z@example.com", queue="hold")
        before = self.snapshot()
        self.q("requeue", "ALL", "deferred")
        after = self.snapshot()
        self.assert_only_changed(before, after, removed=["deferred/%s/%s" % (b[9], b)],
                                 added=["incoming/" + b])
        self.assertIn("%s: requeued" % b, self.inst.log())
        self.assertIn("hold/" + c, after)

    def test_all_and_stdin(self):
        ids = [self.inject("-r", "u%d@example.com" % i) for i in range(4)]
        keep = self.inject("-r", "keep@example.com", queue="hold")
        proc = self.q("hold", "-", input="%s\n%s\n\n" % (ids[0], ids[1]))
        self.assertIn("Placed on hold: 2 messages", proc.stderr)
        self.assertEqual(sorted(self.where(ids[0]) + self.where(ids[1])),
                         sorted(["hold/" + ids[0], "hold/" + ids[1]]))
        self.q("delete", "ALL", "incoming")
        snap = self.snapshot()
        self.assertEqual(sorted(snap), sorted(["hold/" + i for i in (ids[0], ids[1], keep)]))
        self.q("delete", "ALL")
        self.assertEqual(self.snapshot(), {})

    def test_busy_message_is_left_alone(self):
        a = self.inject("-r", "x@example.com", queue="active")
        path = os.path.join(self.spool, "active", a)
        before = self.snapshot()
        with open(path, "rb") as f:
            fcntl.flock(f, fcntl.LOCK_SH)             # as a delivery agent does
            for verb in ("delete", "hold", "requeue"):
                proc = self.q(verb, a, check=False)
                self.assertEqual(proc.returncode, 1, verb)
                self.assertIn("busy", proc.stderr)
            self.assertEqual(self.snapshot(), before)
        self.q("delete", a)                            # lock gone: it works
        self.assertEqual(self.snapshot(), {})

    def test_refuses_unknown_queue_and_bad_id(self):
        proc = self.q("hold", "ALL", "corrupt", check=False)
        self.assertNotEqual(proc.returncode, 0)
        proc = self.q("delete", "../x", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("invalid queue ID", proc.stderr)

    def test_changes_while_mail_flows(self):
        """A background writer keeps committing new files (and a stand-in
        scheduler removes some) while the verbs run: only their targets change."""
        targets = [self.inject("-r", "t%d@example.com" % i) for i in range(3)]
        flowing = []
        stop = threading.Event()
        errors = []

        def submitter():
            while not stop.is_set():
                try:
                    flowing.append(self.inject("-r", "bg@example.com", queue="deferred", hashed=True))
                except AssertionError as e:
                    errors.append(e)

        gone = []

        def scheduler():
            # Mail that arrives and is removed again at once, as delivered
            # mail is: listing and the verbs must not trip over it.
            while not stop.is_set():
                try:
                    qid = self.inject("-r", "fleeting@example.com")
                    os.unlink(os.path.join(self.spool, "incoming", qid))
                    gone.append(qid)
                except (AssertionError, OSError) as e:
                    errors.append(e)

        listed = []

        def lister():
            while not stop.is_set():
                proc = self.q("list", check=False)
                listed.append(proc.returncode)
                if proc.returncode != 0 or not proc.stdout.endswith((".\n", "empty\n")):
                    errors.append(proc)

        threads = [threading.Thread(target=f) for f in (submitter, scheduler, lister)]
        for t in threads:
            t.start()
        try:
            h.wait_for(lambda: len(flowing) >= 3, 20, "background submissions")
            self.q("hold", targets[0])
            self.q("delete", targets[1])
            self.q("hold", targets[2])
            self.q("release", targets[2])
            h.wait_for(lambda: len(flowing) >= 30 and len(gone) >= 30 and len(listed) >= 10, 60,
                       "more background submissions")
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(errors, [])
        snap = self.snapshot()
        self.assertEqual(self.where(targets[0]), ["hold/" + targets[0]])
        self.assertEqual(self.where(targets[1]), [])
        self.assertEqual(self.where(targets[2]), ["deferred/%s/%s" % (targets[2][9], targets[2])])
        for qid in flowing:
            self.assertEqual(self.where(qid), ["deferred/%s/%s" % (qid[9], qid)])
        for qid in gone:
            self.assertEqual(self.where(qid), [])
        self.assertEqual(len(snap), 2 + len(flowing))

    # status
    def test_status_counts(self):
        self.inject("-r", "x@example.com")
        self.inject("-r", "x@example.com")
        self.inject("-r", "x@example.com", queue="hold")
        self.inject("-r", "x@example.com", queue="deferred", hashed=True)
        proc = self.inst.surel("status", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("queue: 0 maildrop, 2 incoming, 0 active, 1 deferred, 1 hold, 0 corrupt",
                      proc.stderr)


class FlowingQueueTest(h.InstanceTest):
    """The verbs against real mail flow: a started sandbox instance
    (smtpd, cleanup, qmgr, local) takes a stream of SMTP messages while
    hold, release, requeue and delete run on whatever is queued."""

    MESSAGES = 240

    def job(self, i):
        """(sender, rcpts, message bytes) of message i; X-Token says which."""
        rcpts = ["alice@sandbox.test"] if i % 3 else ["alice@sandbox.test", "bob@sandbox.test"]
        subject = "hold-me %d" % i if i % 8 == 0 else "flow %d" % i
        text = ("From: carol@client.test\nTo: %s\nSubject: %s\n"
                "Date: Sun, 22 Nov 2026 04:18:57 +0000\nMessage-ID: <flow.%d@client.test>\n"
                "X-Token: tok-%d\n\n.dot line %d\n%s\nend\n"
                % (", ".join(rcpts), subject, i, i, i, "x" * (i * 7 % 300)))
        return "carol@client.test", rcpts, e.crlf(text)

    def delivered_files(self):
        """{(user, Maildir file name)} of everything delivered so far."""
        return {(u, n) for u in ("alice", "bob") for n in self.inst.messages(u)}

    def test_verbs_while_smtp_mail_is_delivered(self):
        inst = self.instance()
        self.inst = inst
        checks = inst.path("etc", "header_checks")
        with open(checks, "w") as f:
            f.write("/^Subject: hold-me/ HOLD held for the flow test\n")
        inst.conf(header_checks="pcre:" + checks, minimal_backoff_time="1s",
                  maximal_backoff_time="1s", queue_run_delay="1s")
        inst.start()
        jobs = [self.job(i) for i in range(self.MESSAGES)]
        results = []
        submit_errors = []

        def submit():
            try:
                results.extend(e.submit_many(inst.smtp_port, jobs, connections=3,
                                             per_session=40))
            except Exception as err:          # reported below
                submit_errors.append(err)

        ops = []            # (verb, qid, returncode, stderr, delivered files after)
        moving = []
        rng = random.Random(4711)

        def verb(*args):
            proc = inst.surel("queue", *args, check=False)
            return proc

        # Local deliveries take about a millisecond, less than a verb's turn:
        # qmgr is stopped (SIGSTOP) for the first rounds so that mail piles
        # up in incoming/ for every verb to act on, then resumed while the
        # verbs go on against mail that moves.
        qmgr = h.wait_for(lambda: inst.service_pids("qmgr"), 10, "qmgr to run")
        for pid in qmgr:
            os.kill(pid, signal.SIGSTOP)
        self.addCleanup(lambda: [os.kill(p, signal.SIGCONT) for p in qmgr
                                 if h.process_uid(p) is not None])
        resume_at = time.monotonic() + 3
        stopped = True
        sender = threading.Thread(target=submit)
        sender.start()
        rounds = 0
        # Verbs for moving mail go round in turn (a random pick could miss
        # one in a short run); a round that ends with a verb not yet done
        # goes on while mail is still moving.
        turn = itertools.cycle(("hold", "requeue", "delete", "requeue"))
        done = set()
        try:
            while sender.is_alive() or rounds < 5 or (
                    rounds < 200 and moving and not {"hold", "requeue", "delete"} <= done):
                if not sender.is_alive():
                    rounds += 1
                if stopped and ({"hold", "requeue", "delete"} <= done
                                or time.monotonic() > resume_at):
                    for pid in qmgr:
                        os.kill(pid, signal.SIGCONT)
                    stopped = False
                rows = [json.loads(l) for l in verb("list", "-j").stdout.splitlines()]
                moving = [r["queue_id"] for r in rows
                          if r["queue_name"] in ("incoming", "active", "deferred")]
                held = [r["queue_id"] for r in rows if r["queue_name"] == "hold"]
                for qid in rng.sample(moving, min(3, len(moving))):
                    v = next(turn)
                    proc = verb(v, qid)
                    if proc.returncode == 0:
                        done.add(v)
                    ops.append((v, qid, proc.returncode, proc.stderr, self.delivered_files()))
                if held:
                    qid = rng.choice(held)
                    v = rng.choice(("release", "release", "delete", "requeue"))
                    proc = verb(v, qid)
                    ops.append((v, qid, proc.returncode, proc.stderr, self.delivered_files()))
                proc = verb("requeue", "ALL", "deferred", "active")
                ops.append(("requeue-ALL", "", proc.returncode, proc.stderr, None))
        finally:
            for pid in qmgr:
                os.kill(pid, signal.SIGCONT)
            sender.join()
        self.assertEqual(submit_errors, [])
        self.assertEqual(len(results), len(jobs))
        token_of_qid = {r[0]: i for i, r in enumerate(results)}
        # Whatever is held now (header_checks or hold above) goes on its way.
        verb("release", "ALL")
        h.wait_for(lambda: not e.queue_files(inst), 60, "the queue to drain")

        deleted = {}        # job index -> delivered files when delete returned
        acted = {}
        for v, qid, rc, err, files_after in ops:
            if rc == 0 and qid:
                acted[v] = acted.get(v, 0) + 1
            if v == "delete" and rc == 0:
                self.assertIn("Deleted: 1 message", err)
                deleted[token_of_qid[qid]] = files_after
            elif rc != 0:
                # Only the races the verbs are meant to lose.
                self.assertRegex(err, r"busy|no such message|try again", (v, qid, err))
        print("\nverbs that acted: %r, of %d tries; deleted %d" % (
            acted, len([o for o in ops if o[1]]), len(deleted)))
        for v in ("hold", "requeue", "release", "delete"):
            self.assertGreater(acted.get(v, 0), 0, v)

        # Read every delivery: (user, file name, token, bytes).
        copies = {}
        for user in ("alice", "bob"):
            for path in e.maildir_files(inst, user):
                data = e.read_bytes(path)
                token = e.token_of(data)
                self.assertIsNotNone(token, data[:200])
                copies.setdefault((user, int(token.split("-")[1])), []).append(
                    (os.path.basename(path), data))
        duplicates = 0
        for i, (snd, rcpts, message) in enumerate(jobs):
            for rcpt in rcpts:
                user = rcpt.split("@")[0]
                got = copies.get((user, i), [])
                if i in deleted:
                    late = [n for n, _ in got if (user, n) not in deleted[i]]
                    self.assertEqual(late, [], "message %d delivered after its delete:\n%s" % (
                        i, "\n".join(l for l in inst.log().splitlines() if results[i][0] in l)))
                    continue
                self.assertTrue(got, "message %d never reached %s" % (i, user))
                duplicates += len(got) - 1
                for _, data in got:
                    return_path, delivered_to, received, rest = e.split_prepended(data)
                    self.assertEqual((return_path, delivered_to), ("<carol@client.test>", rcpt))
                    self.assertEqual(rest, e.lf(message), "message %d for %s" % (i, user))
        print("duplicates: %d" % duplicates)
        self.assertEqual(os.listdir(inst.path("spool", "corrupt")), [])
        left = e.queue_files(inst, ("temp", "defer", "bounce"))
        if left:
            log = inst.log()
            for q in left.values():
                for qid in q:
                    print("\n".join(l for l in log.splitlines() if qid in l))
        self.assertEqual(left, {})
        log = inst.log()
        for bad in ("panic", "fatal", "corrupt queue file", "killed by signal"):
            self.assertNotIn(bad, log)


class RunningQueueTest(h.InstanceTest):
    """Verbs that talk to services: the instance runs with showq and a
    stand-in qmgr (bin/test-trigger logs every trigger it gets)."""

    def setUp(self):
        super().setUp()
        self.inst = self.instance()
        self.spool = self.inst.spool
        self.inst.write_master_cf(
            "showq     unix  n       -       n       -       -       showq\n"
            "qmgr      unix  n       -       n       -       1       test-trigger\n"
            "defer     unix  -       -       n       -       0       bounce\n")
        self.inst.start()

    def inject(self, *args, queue="incoming", hashed=False):
        argv = [h.binary("test-qinject"), "-d", self.spool, "-u", "surel", "-q", queue]
        if hashed:
            argv += ["-H", "1"]
        return h.run(argv + list(args), input="Subject: t\n\nx\n").stdout.strip()

    def triggers(self):
        return "".join(line.split("data=", 1)[1] for line in self.inst.log().splitlines()
                       if "trigger service=qmgr data=" in line)

    def test_flush_triggers_qmgr(self):
        self.inst.surel("queue", "flush")
        h.wait_for(lambda: "FAI" in self.triggers(), 10, "flush triggers")

    def test_flush_site_touches_only_that_site(self):
        old = time.time() + 3600                       # next attempt in an hour
        mine = self.inject("-r", "a@site.example", "-t", "3600", queue="deferred", hashed=True)
        other = self.inject("-r", "b@other.example", "-t", "3600", queue="deferred", hashed=True)
        mtime = lambda qid: os.stat(os.path.join(self.spool, "deferred", qid[9], qid)).st_mtime
        self.assertGreater(mtime(mine), old - 10)
        self.inst.surel("queue", "flush", "site.example")
        self.assertLess(mtime(mine), time.time() + 1)
        self.assertGreater(mtime(other), old - 10)
        h.wait_for(lambda: "DI" in self.triggers(), 10, "flush site triggers")

    def test_ordinary_user_may_list_not_change(self):
        ensure_test_user()
        a = self.inject("-f", "alice@sandbox.test", "-r", "x@example.com")
        b = self.inject("-r", "y@example.com", queue="hold")
        root_text = self.inst.surel("queue", "list").stdout
        root_json = self.inst.surel("queue", "list", "-j").stdout
        # surel installed set-gid setgid_group, as postqueue is set-gid postdrop.
        tooldir = os.path.join(self.inst.root, "tool")
        os.makedirs(tooldir)
        os.chmod(tooldir, 0o755)
        tool = os.path.join(tooldir, "surel")
        shutil.copy(h.binary("surel"), tool)
        os.chown(tool, 0, grp.getgrnam("sureldrop").gr_gid)
        os.chmod(tool, 0o2755)
        cfg = ["-c", self.inst.etc]
        proc = as_user([tool] + cfg + ["queue", "list"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, root_text)
        proc = as_user([tool] + cfg + ["queue", "list", "-j"])
        self.assertEqual(proc.stdout, root_json)
        # Without the set-gid install the user is told why not.
        proc = as_user([h.binary("surel")] + cfg + ["queue", "list"])
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("cannot list the queue", proc.stderr)
        # Nothing that changes the queue or shows message content.
        before = QueueTest.snapshot(self)
        for args in (["delete", a], ["hold", a], ["release", b], ["requeue", "ALL"],
                     ["delete", "ALL"], ["show", a], ["flush", "sandbox.test"]):
            for prog in (tool, h.binary("surel")):
                proc = as_user([prog] + cfg + ["queue"] + args)
                self.assertNotEqual(proc.returncode, 0, args)
                self.assertIn("permission denied", proc.stderr, args)
        self.assertEqual(QueueTest.snapshot(self), before)
        proc = as_user([h.binary("surel")] + cfg + ["status"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("queue: not readable", proc.stderr)

    def test_reason_from_the_real_defer_log(self):
        """The delay reason bounce's defer service logs is the one list shows."""
        qid = self.inject("-f", "alice@sandbox.test", "-r", "far@example.com",
                          queue="deferred", hashed=True)
        path = os.path.join(self.spool, "private", "defer")
        h.wait_for(lambda: os.path.exists(path), 10, "private/defer")
        request = [("request", "append"), ("queue_id", qid), ("original_recipient", "far@example.com"),
                   ("recipient", "far@example.com"), ("dsn_orig_rcpt", ""), ("dsn_notify", 0),
                   ("offset", 100), ("dsn_status", "4.4.1"), ("dsn_action", "delayed"),
                   ("reason", "connect to example.com[192.0.2.1]:25: Connection refused")]
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(20)
            s.connect(path)
            s.sendall(attr.encode(request))
            reply = attr.AttrReader(s, "bounce").read_pairs()
        self.assertEqual(reply, [("status", "0")])
        out = self.inst.surel("queue", "list").stdout
        self.assertIn("(connect to example.com[192.0.2.1]:25: Connection refused)\n"
                      + " " * 47 + "far@example.com\n", out)
        row = json.loads(self.inst.surel("queue", "list", "-j").stdout)
        self.assertEqual(row["recipients"], [{"address": "far@example.com", "delay_reason":
                                              "connect to example.com[192.0.2.1]:25: Connection refused"}])

    def test_status_counts_running(self):
        self.inject("-r", "x@example.com", queue="hold")
        proc = self.inst.surel("status")
        self.assertIn("queue: 0 maildrop, 0 incoming, 0 active, 0 deferred, 1 hold, 0 corrupt",
                      proc.stderr)


if __name__ == "__main__":
    h.main()
