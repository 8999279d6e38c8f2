"""test_full_disk - a full disk gives 4xx replies and deferrals, never a loss.

The instance lives on a small tmpfs the test mounts (root only); the
mailboxes on a second, smaller one, so that the queue can accept mail
the Maildir cannot take. Checked:
- free space below queue_minfree (or below 1.5 x the SIZE of the message):
  MAIL gets `452 4.3.1 Insufficient system storage`, nothing is queued;
- the spool filling up during DATA: a 4xx after the data, no file left in
  temp/ or incoming/;
- a Maildir on a full file system: the delivery is deferred (4.2.0),
  never bounced; when space returns, every acknowledged message is
  delivered.
"""
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import unittest

import e2e_harness as e
import surel_harness as h

MIB = 1024 * 1024


def mount_tmpfs(path, size, uid=0, gid=0):
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755,uid=%d,gid=%d"
                    % (size, uid, gid), "tmpfs", path], check=True)


def fill(path, leave):
    """Fill the file system of path until about `leave` bytes remain free."""
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(path, "filler"), "wb") as f:
        f.write(b"\0" * max(0, free - leave))


def message(size, subject):
    line = b"x" * 76 + b"\r\n"
    return b"Subject: " + subject.encode() + b"\r\n\r\n" + line * (size // len(line))


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("mount"), "needs root to mount tmpfs")
class FullDiskTest(h.InstanceTest):

    def setUp(self):
        super().setUp()
        self.top = tempfile.mkdtemp(prefix="surel-disk-")
        os.chmod(self.top, 0o755)
        self.mounts = []
        self.addCleanup(self.unmount_all)

    def unmount_all(self):
        for inst in self._instances:     # daemons first: they hold files open
            inst.cleanup()
        self._instances = []
        for path in reversed(self.mounts):
            subprocess.run(["umount", "-l", path], check=False)
        shutil.rmtree(self.top, ignore_errors=True)

    def disk_instance(self, spool_size=16 * MIB, mail_size=None):
        root = os.path.join(self.top, "inst")
        os.mkdir(root)
        mount_tmpfs(root, spool_size)
        self.mounts.append(root)
        inst = h.Instance(root=root)
        self._instances.append(inst)
        if mail_size:
            mail = inst.path("mail")
            st = os.stat(mail)
            for name in os.listdir(mail):       # tmpfs mounted over it: start empty
                shutil.rmtree(os.path.join(mail, name))
            mount_tmpfs(mail, mail_size, st.st_uid, st.st_gid)
            self.mounts.append(mail)
        return inst

    def test_below_queue_minfree_mail_gets_452(self):
        inst = self.disk_instance()
        inst.conf(queue_minfree=str(64 * MIB))      # more than the 16 MiB disk has
        inst.start()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.ehlo("client.test")
            code, text = c.mail("bob@sandbox.test")
            self.assertEqual((code, text), (452, b"4.3.1 Insufficient system storage"))
        self.assertEqual(e.queue_files(inst), {})
        inst.wait_log("reject: MAIL from")

    def test_size_above_two_thirds_of_the_free_space_gets_452(self):
        inst = self.disk_instance()
        inst.conf(message_size_limit=str(64 * MIB))
        inst.start()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.ehlo("client.test")
            code, text = c.mail("bob@sandbox.test", ["SIZE=%d" % (15 * MIB)])
            self.assertEqual((code, text), (452, b"4.3.1 Insufficient system storage"))
            c.rset()
            code, text = c.mail("bob@sandbox.test", ["SIZE=%d" % MIB])
            self.assertEqual(code, 250, text)
        self.assertEqual(e.queue_files(inst), {})

    def test_spool_filling_during_data_gives_4xx_and_no_partial_file(self):
        inst = self.disk_instance()
        inst.conf(message_size_limit=str(8 * MIB))
        inst.start()
        fill(inst.path("spool"), 256 * 1024)
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=30) as c:
            c.ehlo("client.test")
            self.assertEqual(c.mail("bob@sandbox.test")[0], 250)
            self.assertEqual(c.rcpt("alice@sandbox.test")[0], 250)
            code, text = c.data(message(2 * MIB, "too big for the disk"))
        self.assertTrue(400 <= code < 500, (code, text))
        self.assertEqual(os.listdir(inst.path("spool", "temp")), [])
        self.assertEqual(e.queue_files(inst), {})
        # Space back: the next message goes through.
        os.unlink(inst.path("spool", "filler"))
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message(1000, "fits"))
        e.wait_delivered(inst, "alice", 1)

    def test_full_maildir_defers_then_delivers_when_space_returns(self):
        inst = self.disk_instance(mail_size=256 * 1024)
        inst.conf(minimal_backoff_time="1s", maximal_backoff_time="2s", queue_run_delay="1s")
        inst.start()
        mail = inst.path("mail")
        filler = os.path.join(mail, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass                    # ENOSPC: the mailbox disk is full
        os.close(fd)
        qids = [e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
                       message(20000, "full mailbox disk %d" % i)) for i in range(3)]
        h.wait_for(lambda: sorted(e.queue_files(inst).get("deferred", [])) == sorted(qids),
                   20, "the three messages deferred")
        log = inst.log()
        for qid in qids:
            self.assertRegex(log, r"%s: to=<alice@sandbox.test>.*dsn=4\.\d\.\d, status=deferred"
                             % qid)
            self.assertNotRegex(log, r"%s: to=<alice@sandbox.test>.*status=bounced" % qid)
        os.unlink(filler)
        inst.surel("queue", "flush")
        e.wait_delivered(inst, "alice", 3, timeout=30)
        h.wait_for(lambda: not e.queue_files(inst), 20, "the queue to empty")


if __name__ == "__main__":
    h.main()
