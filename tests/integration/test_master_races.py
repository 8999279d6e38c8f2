"""test_master_races - a root master never acts on names in mail_owner's folders.

private/ and public/ belong to mail_owner, so a process running as
mail_owner (a compromised smtpd, cleanup, qmgr ...) can swap any name in
them for a symbolic link or a hard link at any moment. These tests play
that attacker at the worst moment, on a real root master:

- right after bind() of a service socket (an LD_PRELOAD shim,
  bin/libtest-bind_race.so, replaces the new socket by a symlink to a
  root-only file): the master used to chmod(path, 0666) as root and made
  the target world-writable;
- a fifo service's name replaced by a hard link to a root file: the
  master's wakeup used to open it as root and write into the file;
- maillog_file planted as a hard link to a root file or as a FIFO: the
  master used to append to it (or block on it) as root.
"""
import os
import stat
import tempfile
import unittest

from master_harness import MasterInstance, wait_for
from surel_harness import BIN_DIR

IS_ROOT = os.geteuid() == 0


def root_only_file(text=b"secret\n"):
    """A root-owned 0600 file outside the instance: the attacker's target."""
    fd, path = tempfile.mkstemp(prefix="surel-race-target-")
    os.write(fd, text)
    os.close(fd)
    os.chmod(path, 0o600)
    return path


@unittest.skipUnless(IS_ROOT, "needs a root master")
class MasterRaceTest(unittest.TestCase):

    def setUp(self):
        self.instances = []
        self.targets = []

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()
        for path in self.targets:
            os.unlink(path)

    def instance(self, master_cf, main_cf_extra=""):
        inst = MasterInstance(master_cf, main_cf_extra)
        self.instances.append(inst)
        return inst

    def target(self, text=b"secret\n"):
        path = root_only_file(text)
        self.targets.append(path)
        return path

    def test_socket_swapped_after_bind_is_not_chmodded(self):
        target = self.target()
        inst = self.instance("race unix - - n - - test-echo\n"
                             "echo unix - - n - - test-echo\n")
        env = dict(os.environ,
                   LD_PRELOAD=os.path.abspath(os.path.join(BIN_DIR, "libtest-bind_race.so")),
                   SUREL_RACE_SOCKET="private/race", SUREL_RACE_TARGET=target)
        inst.start(check=False, env=env)
        wait_for(lambda: os.path.islink(inst.unix_path("race")), 10,
                 "the shim to swap private/race")
        st = os.stat(target)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                         "the root master changed the mode of a file a symlink pointed at")
        self.assertEqual(st.st_uid, 0)
        # The other sockets are mail_owner's and connectable by anyone.
        sock = os.lstat(inst.unix_path("echo"))
        self.assertTrue(stat.S_ISSOCK(sock.st_mode))
        self.assertEqual(sock.st_uid, __import__("pwd").getpwnam("surel").pw_uid)
        self.assertEqual(stat.S_IMODE(sock.st_mode), 0o666)

    def test_fifo_replaced_by_hard_link_gets_no_wakeup_write(self):
        target = self.target(b"unchanged\n")
        inst = self.instance("fifo fifo n - n 1 1 test-trigger\n")
        inst.start()
        inst.wait_log("trigger service=fifo data=W")
        fifo = inst.unix_path("fifo", private=False)
        os.unlink(fifo)
        os.link(target, fifo)
        mark = inst.log_count("service fifo: wakeup")
        wait_for(lambda: inst.log_count("service fifo: wakeup") > mark, 10,
                 "the next wakeup to be refused")
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"unchanged\n", "the root master wrote into a root file")

    def test_maillog_file_hard_link_is_refused(self):
        target = self.target(b"root's file\n")
        inst = self.instance("echo unix - - n - - test-echo\n")
        os.link(target, inst.logfile)
        proc = inst.start(check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("maillog_file", proc.stdout + proc.stderr)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"root's file\n")

    def test_maillog_file_fifo_is_refused_without_hanging(self):
        inst = self.instance("echo unix - - n - - test-echo\n")
        os.mkfifo(inst.logfile, 0o600)
        proc = inst.start(check=False)      # subprocess timeout: 30 s
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("maillog_file", proc.stdout + proc.stderr)


if __name__ == "__main__":
    unittest.main()
