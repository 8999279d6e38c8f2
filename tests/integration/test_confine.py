"""test_confine - daemons confine themselves; a violation kills and is logged.

bin/test-confine runs under the master with smtpd's real profile
(lib/global/server_confine.c) and, on request, does what the profile
forbids: reading the queue, writing anywhere, running a program. The real
daemons of a sandbox instance are checked through /proc: every one but the
master runs under a seccomp filter, and all but local with no_new_privs.
"""
import os
import smtplib
import socket
import time

from harness.master import Client, MasterInstance
import surel_harness as h


class ConfineTest(h.InstanceTest):

    def confined_service(self, main_cf_extra=""):
        inst = MasterInstance("confine unix - - n - - test-confine\n", main_cf_extra)
        self.addCleanup(inst.cleanup)
        inst.start()
        return inst

    def ask(self, inst, line):
        c = Client(inst.unix_path("confine"), socket.AF_UNIX)
        try:
            c.send(line)
            return c.readline()
        finally:
            c.close()

    def test_smtpd_profile_reads_system_files_but_not_the_queue(self):
        inst = self.confined_service()
        queue_file = os.path.join(inst.spool, "incoming-probe")
        with open(queue_file, "w") as f:
            f.write("a queue file\n")
        os.chmod(queue_file, 0o644)
        self.assertEqual(self.ask(inst, "read /etc/hostname"), "ok")
        self.assertEqual(self.ask(inst, "read " + queue_file), "Permission denied")
        self.assertEqual(self.ask(inst, "write /tmp/surel-confine-probe"), "Permission denied")
        self.assertFalse(os.path.exists("/tmp/surel-confine-probe"))
        self.assertIn("Seccomp:\t2", self.ask(inst, "status"))

    def test_a_forbidden_system_call_kills_the_process_and_is_logged(self):
        inst = self.confined_service()
        c = Client(inst.unix_path("confine"), socket.AF_UNIX)
        c.send("exec")
        with self.assertRaises((OSError, AssertionError)):
            c.readline(timeout=10)
        c.close()
        inst.wait_log("confinement: forbidden system call 59 (seccomp)")
        inst.wait_log("killed by signal 31: a system call its confinement forbids")

    def test_daemon_confinement_no_turns_it_off(self):
        inst = self.confined_service("daemon_confinement = no\n")
        self.assertIn("Seccomp:\t0", self.ask(inst, "status"))

    def test_every_daemon_of_an_instance_is_confined(self):
        inst = self.instance()
        inst.start()
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", "bob@sandbox.test",
               "alice@sandbox.test"], input="Subject: confined\n\nbody\n")
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.sendmail("bob@sandbox.test", ["alice@sandbox.test"], b"Subject: s\r\n\r\nb\r\n")
        inst.wait_messages("alice", 2)
        seen = {}

        def state(pid):
            """(Seccomp, NoNewPrivs) of pid, or None once it is gone."""
            try:
                with open("/proc/%d/status" % pid) as f:
                    status = dict(line.rstrip("\n").split(":\t", 1)
                                  for line in f if ":\t" in line)
            except OSError:
                return None
            return status["Seccomp"], status["NoNewPrivs"]

        for pid, argv in inst.processes():
            prog = os.path.basename(argv[0])
            # A daemon the master has just started (a successor after
            # max_use, say) confines itself within its start-up: give it
            # that long before judging it, and skip one that exits.
            deadline = time.monotonic() + 5
            now = state(pid)
            while prog != "master" and now and now[0] == "0" and time.monotonic() < deadline:
                time.sleep(0.05)
                now = state(pid)
            if now:
                seen[prog] = now
        self.assertEqual(seen.pop("master"), ("0", "0"))
        self.assertEqual(seen.pop("local"), ("2", "0"), "local: filter without no_new_privs")
        for prog in ("smtpd", "cleanup", "qmgr", "pickup"):
            self.assertIn(prog, seen)
        for prog, state in seen.items():
            self.assertEqual(state, ("2", "1"), prog)


if __name__ == "__main__":
    h.main()
