"""test_durability_order - 250 only after the queue file is on disk; a local
delivery reported only after the mailbox file is.

strace follows the master of a live instance (-f: every daemon it starts
from then on), with -y so that each descriptor shows its path, while one
message goes in over SMTP and is delivered to a Maildir. In strace's
output (one file, in the order the calls happened) the test checks the
two commit orders of directory_fsync (doc/design.md, "Durability"):

With folder fsyncs (directory_fsync = yes, or auto on a file system whose
file fsync does not make names durable):
- cleanup: fsync of the queue file in temp/, then its rename into
  incoming/, then the fsync of incoming/ itself, all completed before
  smtpd starts writing `250 2.0.0 Ok: queued`;
- local: fsync of the file in Maildir/tmp, its link into Maildir/new, the
  fsync of Maildir/new, all completed before local's first write to a
  socket after the link (its status reply to qmgr).

With one fsync per file (directory_fsync = no, or auto on ext4, xfs,
tmpfs):
- cleanup: the queue file's data written out (sync_file_range) while in
  temp/, its rename into incoming/, then the fsync of the file itself,
  completed before the 250; no fsync of incoming/;
- local: the Maildir file's data written out while in tmp/, its link into
  new/, then the fsync of the file, completed before the status reply; no
  fsync of new/.
"""
import os
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import unittest

import e2e_harness as e
import surel_harness as h

LINE = re.compile(r"^(\d+)\s+(?:\d+\.\d+\s+)?(.*)$")


def parse(path):
    """[(index, pid, text, kind)] with kind 'full', 'start' (unfinished) or
    'end' (resumed); index is the line's place in the output."""
    out = []
    with open(path, errors="replace") as f:
        for i, raw in enumerate(f):
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            pid, text = int(m.group(1)), m.group(2)
            kind = ("start" if text.endswith("<unfinished ...>")
                    else "end" if text.startswith("<...") else "full")
            out.append((i, pid, text, kind))
    return out


def completed(lines, pid, pattern):
    """Index where the first call by pid matching pattern completed."""
    rx = re.compile(pattern)
    for n, (i, p, text, kind) in enumerate(lines):
        if p != pid or not rx.search(text):
            continue
        if kind == "full":
            return i
        if kind == "start":
            name = text.split("(", 1)[0]
            for j, p2, t2, k2 in lines[n + 1:]:
                if p2 == pid and k2 == "end" and t2.startswith("<... %s resumed>" % name):
                    return j
    return None


def started(lines, pattern, pid=None, after=-1):
    """(index, pid) where the first call matching pattern started."""
    rx = re.compile(pattern)
    for i, p, text, kind in lines:
        if i > after and (pid is None or p == pid) and kind in ("full", "start") \
                and rx.search(text):
            return i, p
    return None, None


def pid_of(lines, pattern):
    for _, p, text, _ in lines:
        if re.search(pattern, text):
            return p
    return None


@unittest.skipUnless(shutil.which("strace"), "needs strace")
class DurabilityOrderTest(h.InstanceTest):

    def trace(self, inst):
        """Start strace on the master; return (process, output path)."""
        out = os.path.join(tempfile.mkdtemp(prefix="surel-strace-"), "trace")
        self.addCleanup(shutil.rmtree, os.path.dirname(out), True)
        master = inst.master_pid()
        proc = subprocess.Popen(
            ["strace", "-f", "-qq", "-y", "-ttt", "-s", "120", "-o", out,
             "-e", "trace=fsync,fdatasync,sync_file_range,rename,renameat,renameat2,link,"
             "linkat,write,sendto,sendmsg",
             "-p", str(master)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def traced():
            with open("/proc/%d/status" % master) as f:
                return "TracerPid:\t0\n" not in f.read()
        h.wait_for(traced, 10, "strace to attach to the master")
        return proc, out

    def run_one(self, directory_fsync):
        """One message in and delivered under the trace: (lines, spool, maildir)."""
        inst = self.instance()
        inst.conf(directory_fsync=directory_fsync)
        inst.start()
        # Daemons started before the trace would not be followed: end them
        # (the master starts new ones on demand, under the trace).
        for service in ("smtp", "cleanup", "local"):
            for pid in inst.service_pids(service):
                os.kill(pid, signal.SIGTERM)
        proc, out = self.trace(inst)
        spool = os.path.realpath(inst.spool)
        maildir = os.path.realpath(inst.maildir("alice", "new"))[:-len("/new")]
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.sendmail("bob@sandbox.test", ["alice@sandbox.test"],
                       b"Subject: durable\r\n\r\nbody\r\n")
        e.wait_delivered(inst, "alice", 1)
        h.wait_for(lambda: not e.queue_files(inst), 10, "the queue to empty")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        return parse(out), re.escape(spool), re.escape(maildir)

    def check_folder_fsyncs(self, lines, q, m):
        # The commit in cleanup, before smtpd's 250.
        cleanup = pid_of(lines, r"^fsync\(\d+<%s/temp/" % q)
        self.assertIsNotNone(cleanup, "no fsync of a queue file in temp/ was seen")
        file_synced = completed(lines, cleanup, r"^fsync\(\d+<%s/temp/" % q)
        # The rename names are relative to queue_directory (cleanup's cwd).
        renamed = completed(lines, cleanup, r'^rename(at2?)?\(.*temp/[^"]*", .*incoming/')
        dir_synced = completed(lines, cleanup, r"^fsync\(\d+<%s/incoming>" % q)
        reply, _ = started(lines, r"^(write|sendto|sendmsg)\(.*250 2\.0\.0 Ok: queued")
        self.assertIsNotNone(reply, "smtpd's 250 was not seen")
        for what, at in (("queue file fsync", file_synced), ("rename", renamed),
                         ("incoming/ fsync", dir_synced)):
            self.assertIsNotNone(at, "cleanup: no %s" % what)
        self.assertLess(file_synced, renamed)
        self.assertLess(renamed, dir_synced)
        self.assertLess(dir_synced, reply, "250 sent before the queue file was on disk")

        # The Maildir commit in local, before its status reply.
        local = pid_of(lines, r"^fsync\(\d+<%s/tmp/" % m)
        self.assertIsNotNone(local, "no fsync of a file in Maildir/tmp was seen")
        mail_synced = completed(lines, local, r"^fsync\(\d+<%s/tmp/" % m)
        linked = completed(lines, local, r"^link(at)?\(.*%s/tmp\b.*%s/new\b" % (m, m))
        new_synced = completed(lines, local, r"^fsync\(\d+<%s/new>" % m)
        for what, at in (("mailbox fsync", mail_synced), ("link into new/", linked),
                         ("new/ fsync", new_synced)):
            self.assertIsNotNone(at, "local: no %s" % what)
        status, _ = started(lines, r"^(write|sendto|sendmsg)\(\d+<(UNIX|socket)", local, linked)
        self.assertIsNotNone(status, "local's status reply was not seen")
        self.assertLess(mail_synced, linked)
        self.assertLess(linked, new_synced)
        self.assertLess(new_synced, status, "delivery reported before the mailbox was on disk")

    def check_file_fsyncs(self, lines, q, m):
        # cleanup: data out while in temp/, rename, one fsync, then the 250.
        cleanup = pid_of(lines, r"^sync_file_range\(\d+<%s/temp/" % q)
        self.assertIsNotNone(cleanup, "no sync_file_range of a queue file in temp/ was seen")
        written = completed(lines, cleanup, r"^sync_file_range\(\d+<%s/temp/" % q)
        renamed = completed(lines, cleanup, r'^rename(at2?)?\(.*temp/[^"]*", .*incoming/')
        # After the rename the descriptor's path is incoming/ID (or active/ID
        # when qmgr was quicker than the fsync).
        file_synced = completed(lines, cleanup, r"^fsync\(\d+<%s/(incoming|active)/" % q)
        reply, _ = started(lines, r"^(write|sendto|sendmsg)\(.*250 2\.0\.0 Ok: queued")
        for what, at in (("data write-out", written), ("rename", renamed),
                         ("queue file fsync after the rename", file_synced),
                         ("250 from smtpd", reply)):
            self.assertIsNotNone(at, "cleanup: no %s" % what)
        self.assertLess(written, renamed)
        self.assertLess(renamed, file_synced)
        self.assertLess(file_synced, reply, "250 sent before the queue file was on disk")
        self.assertIsNone(completed(lines, cleanup, r"^fsync\(\d+<%s/incoming>" % q),
                          "incoming/ fsync'ed although the file's fsync covers its name")

        # local: data out while in tmp/, link into new/, the file's fsync,
        # then the status reply.
        local = pid_of(lines, r"^sync_file_range\(\d+<%s/tmp/" % m)
        self.assertIsNotNone(local, "no sync_file_range of a file in Maildir/tmp was seen")
        written = completed(lines, local, r"^sync_file_range\(\d+<%s/tmp/" % m)
        linked = completed(lines, local, r"^link(at)?\(.*%s/tmp\b.*%s/new\b" % (m, m))
        # The descriptor was opened under tmp/, whose name is gone by then.
        mail_synced = completed(lines, local, r"^fsync\(\d+<%s/tmp/" % m)
        for what, at in (("data write-out", written), ("link into new/", linked),
                         ("mailbox fsync after the link", mail_synced)):
            self.assertIsNotNone(at, "local: no %s" % what)
        status, _ = started(lines, r"^(write|sendto|sendmsg)\(\d+<(UNIX|socket)", local, linked)
        self.assertIsNotNone(status, "local's status reply was not seen")
        self.assertLess(written, linked)
        self.assertLess(linked, mail_synced)
        self.assertLess(mail_synced, status, "delivery reported before the mailbox was on disk")
        self.assertIsNone(completed(lines, local, r"^fsync\(\d+<%s/new>" % m),
                          "new/ fsync'ed although the file's fsync covers its name")

    def test_folder_fsyncs(self):
        """directory_fsync = yes: the portable order, two fsyncs per commit."""
        self.check_folder_fsyncs(*self.run_one("yes"))

    def test_file_fsync_only(self):
        """directory_fsync = no: one fsync per commit, after the name."""
        self.check_file_fsyncs(*self.run_one("no"))

    def test_auto_follows_the_file_system(self):
        """The default: one fsync on ext4, xfs and tmpfs, two elsewhere."""
        spool_fs = subprocess.run(["stat", "-f", "-c", "%t", tempfile.gettempdir()],
                                  capture_output=True, text=True, check=True).stdout.strip()
        lines, q, m = self.run_one("auto")
        if spool_fs.lower() in ("ef53", "58465342", "1021994"):
            self.check_file_fsyncs(lines, q, m)
        else:
            self.check_folder_fsyncs(lines, q, m)


if __name__ == "__main__":
    h.main()
