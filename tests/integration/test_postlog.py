"""test_postlog - postlogd is the one writer of maillog_file; surel logrotate.

Every sandbox instance runs master.cf's `postlog unix-dgram` service
(conf/master.cf): each program sends its log lines to public/postlog and
postlogd appends them (doc/design.md §6). Shown here on real instances:
- no process but postlogd holds maillog_file open, and a message's lines
  arrive in the order its programs logged them;
- after `surel logrotate` (and `postfix logrotate`) not one line reaches
  the rotated file, whatever writes it: qmgr and the master, which ran
  before the rotation, a reload, new daemons; the new file gets the new
  lines, and the rotated file is compressed and gunzips;
- lines in flight survive postlogd being killed and the master stopping;
- the maillog_file_prefixes guard, and logrotate's refusals.
"""
import gzip
import os
import signal
import subprocess

import e2e_harness as e
import surel_harness as h

BOUND = 15.0


def message(subject):
    return ("Subject: %s\r\n\r\nbody of %s\r\n" % (subject, subject)).encode()


def holders(inst, path):
    """Names of the instance's processes that have path open."""
    real = os.path.realpath(path)
    names = []
    for pid, argv in inst.processes():
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target == real or target == real + " (deleted)":
                names.append(os.path.basename(argv[0]))
    return names


def rotated_files(inst):
    folder = os.path.dirname(inst.logfile)
    base = os.path.basename(inst.logfile) + "."
    return sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.startswith(base))


class PostlogTest(h.InstanceTest):

    def deliver(self, inst, subject, count):
        """Send a message to alice; wait until qmgr logged its removal."""
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message(subject))
        inst.wait_messages("alice", count, BOUND)
        inst.wait_log("%s: removed" % qid, BOUND)
        return qid

    def test_postlogd_is_the_only_writer_and_keeps_order(self):
        inst = self.instance()
        inst.start()
        qid = self.deliver(inst, "one", 1)
        self.assertEqual(len(inst.service_pids("postlog")), 1)
        self.assertEqual(set(holders(inst, inst.logfile)), {"postlogd"})
        lines = [l for l in inst.log().splitlines() if qid + ":" in l]
        # smtpd, cleanup, qmgr, local, qmgr: in the order they happened.
        order = ("smtpd", "cleanup", "qmgr", "local")
        firsts = [next(i for i, l in enumerate(lines) if "/%s[" % p in l) for p in order]
        self.assertEqual(firsts, sorted(firsts), lines)
        self.assertIn("removed", lines[-1])

    def check_rotation(self, inst, command):
        """Rotate with compressor `true` (the rotated file stays as it is);
        return (rotated path, its stat right after the rotation)."""
        inst.conf(maillog_file_compressor="true")
        if command == "postfix":
            h.run([h.binary("postfix"), "-c", inst.etc, "logrotate"])
        else:
            inst.surel("logrotate")
        [rotated] = rotated_files(inst)
        return rotated, os.stat(rotated)

    def test_no_line_reaches_the_rotated_file(self):
        inst = self.instance()
        inst.start()
        first = self.deliver(inst, "before", 1)
        [qmgr] = inst.service_pids("qmgr")
        master = inst.master_pid()
        rotated, before = self.check_rotation(inst, "surel")
        with open(rotated) as f:
            old = f.read()
        self.assertIn("%s: removed" % first, old)
        # Watch the rotated file by inode too: a write through an open
        # descriptor would show even after another rename.
        fd = os.open(rotated, os.O_RDONLY)
        try:
            # The same qmgr and master as before, then a reload, new
            # processes, a killed daemon the master logs about.
            second = self.deliver(inst, "after", 2)
            self.assertEqual(inst.service_pids("qmgr"), [qmgr])
            inst.surel("reload")
            inst.wait_log("reload -- configuration", BOUND)
            third = self.deliver(inst, "after reload", 3)
            [pickup] = inst.service_pids("pickup")
            os.kill(pickup, signal.SIGKILL)
            inst.wait_log("pid %d killed by signal 9" % pickup, BOUND)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        self.assertEqual((after.st_ino, after.st_size, after.st_mtime_ns),
                         (before.st_ino, before.st_size, before.st_mtime_ns))
        self.assertEqual(os.stat(rotated).st_size, before.st_size)
        new = inst.log()
        for qid in (second, third):
            self.assertIn("%s: removed" % qid, new)
            self.assertNotIn(qid, old)
        self.assertRegex(new, r"surel/qmgr\[%d\]: %s: removed" % (qmgr, second))
        self.assertRegex(new, r"surel/master\[%d\]: reload -- configuration" % master)
        self.assertIn("logfile '%s' rotated to '%s'" % (inst.logfile, rotated), new)
        self.assertNotIn(first, new)
        self.assertEqual(holders(inst, rotated), [])
        # The new file looks like the old one to its owner.
        self.assertEqual((os.stat(inst.logfile).st_uid, os.stat(inst.logfile).st_mode),
                         (before.st_uid, before.st_mode))

    def test_rotated_file_is_compressed_and_gunzips(self):
        inst = self.instance()
        inst.start()
        first = self.deliver(inst, "before", 1)
        h.run([h.binary("postfix"), "-c", inst.etc, "logrotate"])
        [rotated] = rotated_files(inst)
        self.assertTrue(rotated.endswith(".gz"), rotated)
        self.assertRegex(os.path.basename(rotated), r"^maillog\.\d{8}-\d{6}\.gz$")
        with gzip.open(rotated, "rt") as f:
            old = f.read()
        self.assertIn("%s: removed" % first, old)
        second = self.deliver(inst, "after", 2)
        self.assertIn("%s: removed" % second, inst.log())
        self.assertNotIn(first, inst.log())
        with gzip.open(rotated, "rt") as f:
            self.assertEqual(f.read(), old)

    def test_no_line_lost_across_reloads(self):
        inst = self.instance()
        inst.start()
        qids = []
        for i in range(12):
            qids.append(e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
                               message("reload %d" % i)))
            if i % 4 == 3:
                inst.surel("reload")    # postlogd and the others retire meanwhile
        inst.wait_messages("alice", len(qids), BOUND)
        for qid in qids:
            # local logs this right after each delivery, retired or not.
            inst.wait_log("%s: to=<alice@sandbox.test>" % qid, BOUND)
        inst.stop()
        log = inst.log()
        self.assertEqual(log.count("reload -- configuration"), 3)
        self.assertTrue(log.rstrip("\n").endswith("stopped"), log[-300:])
        for qid in qids:
            lines = [l for l in log.splitlines() if qid + ":" in l]
            # Every program's line about the message. (A qmgr retired while
            # a delivery was in flight leaves the message to its successor,
            # which retries it later: "removed" may not be there yet.)
            for word in ("client=", "message-id=", "from=<bob@sandbox.test>", "status=sent"):
                self.assertTrue(any(word in l for l in lines), (qid, word, lines))

    def test_lines_survive_a_killed_postlogd_and_the_stop(self):
        inst = self.instance()
        inst.start()
        self.deliver(inst, "one", 1)
        [postlogd] = inst.service_pids("postlog")
        os.kill(postlogd, signal.SIGKILL)
        # Sent while no postlogd runs: the lines wait in the master's socket.
        qid = self.deliver(inst, "two", 2)
        inst.wait_log("pid %d killed by signal 9" % postlogd, BOUND)
        h.wait_for(lambda: inst.service_pids("postlog") not in ([], [postlogd]), BOUND,
                   "a new postlogd")
        inst.stop()
        log = inst.log()
        self.assertIn("%s: removed" % qid, log)
        self.assertIn("terminating on signal 15", log)
        self.assertTrue(log.rstrip("\n").endswith("stopped"), log[-300:])

    def test_dev_stdout_is_the_masters_standard_output(self):
        # Containers: `surel start -f` with maillog_file = /dev/stdout.
        inst = self.instance()
        inst.conf(maillog_file="/dev/stdout")
        out_path = inst.path("stdout")
        with open(out_path, "w") as out:
            proc = subprocess.Popen([h.binary("surel"), "-c", inst.etc, "start", "-f"],
                                      stdout=out, stderr=subprocess.DEVNULL)
        try:
            h.wait_for(inst.running, BOUND, "the foreground master")
            qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("out"))
            inst.wait_messages("alice", 1, BOUND)

            def text():
                with open(out_path, errors="replace") as f:
                    return f.read()
            h.wait_for(lambda: "%s: removed" % qid in text(), BOUND, "qmgr's line on stdout")
            self.assertRegex(text(), r"surel/master\[\d+\]: daemon started")
            self.assertFalse(os.path.exists(inst.logfile) and os.path.getsize(inst.logfile))
        finally:
            proc.terminate()
            proc.wait(BOUND)

    def test_postlog_command_logs_through_postlogd(self):
        inst = self.instance()
        inst.start()
        h.run([h.binary("postlog"), "-c", inst.etc, "-i", "-t", "backup/cron", "nightly", "done"])
        h.run([h.binary("postlog"), "-c", inst.etc, "-p", "warn"], input="one\ntwo\n")
        inst.surel("log", "-p", "error", "disk low")
        log = inst.log()
        self.assertRegex(log, r" backup/cron\[\d+\]: nightly done\n")
        self.assertRegex(log, r" surel/postlog\[\d+\]: warning: one\n.* surel/postlog\[\d+\]: warning: two\n")
        self.assertRegex(log, r" surel/postlog\[\d+\]: error: disk low\n")
        self.assertEqual(set(holders(inst, inst.logfile)), {"postlogd"})
        proc = h.run([h.binary("postlog"), "-c", inst.etc, "-p", "loud", "x"], check=False)
        self.assertEqual(proc.returncode, 2)
        proc = h.run([h.binary("postlog"), "-c", inst.etc, "-x", "x"], check=False)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("option -x is not supported", proc.stderr)

    def test_maillog_file_prefixes_guard(self):
        inst = self.instance()
        inst.conf(maillog_file_prefixes="/var")
        proc = inst.surel("start", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("is not under maillog_file_prefixes", proc.stderr + proc.stdout)
        proc = inst.surel("logrotate", check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("is not under maillog_file_prefixes", proc.stderr)

    def test_check_reports_the_prefix_and_a_missing_postlog_service(self):
        inst = self.instance()
        self.assertEqual(inst.surel("check", check=False).returncode, 0)
        inst.conf(maillog_file_prefixes="/var")
        proc = inst.surel("check", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("is not under maillog_file_prefixes", proc.stderr)
        inst.conf(maillog_file_prefixes=os.path.dirname(inst.logfile))
        with open(os.path.join(inst.etc, "master.cf")) as f:
            text = f.read()
        inst.write_master_cf(e.without_service(text, "postlog"))
        proc = inst.surel("check", check=False)
        self.assertEqual(proc.returncode, 0)
        self.assertIn("no public unix-dgram service postlog", proc.stderr)

    def test_logrotate_refusals(self):
        inst = self.instance()
        inst.conf(maillog_file="/dev/stdout")
        proc = inst.surel("logrotate", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not rotating '/dev/stdout'", proc.stderr)
        inst.conf(maillog_file=inst.logfile, maillog_file_compressor="")
        proc = inst.surel("logrotate", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("empty 'maillog_file_compressor'", proc.stderr)
        inst.conf(maillog_file_compressor="false")
        proc = inst.surel("logrotate", check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("rotation failed", proc.stderr)


if __name__ == "__main__":
    h.main()
