"""test_master - the master supervisor and the daemon skeleton, on real processes.

Each test writes a main.cf/master.cf whose services are the test daemons
(bin/test-echo, test-multi, test-trigger, test-crash), starts bin/master
and checks what clients, /proc and the log see.
"""
import os
import shutil
import signal
import socket
import subprocess
import time
import unittest

from harness.master import (Client, MasterInstance, free_port6, ipv6_loopback_ok,
                            pid_alive, proc_root, process_uid, uid_of, wait_for)
from harness.core import binary, free_port

IS_ROOT = os.geteuid() == 0


def connected(path):
    """A Client of the unix socket at path, or None while nobody listens."""
    try:
        return Client(path, socket.AF_UNIX)
    except OSError:
        return None


class MasterTest(unittest.TestCase):

    def setUp(self):
        self.instances = []

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()

    def instance(self, master_cf, main_cf_extra="", owner=None):
        inst = MasterInstance(master_cf, main_cf_extra, owner)
        self.instances.append(inst)
        return inst

    # Services answer.
    def test_inet_and_unix_services_answer(self):
        port = free_port()
        cf = ("127.0.0.1:%d inet n - n - - test-echo\n" % port
              + "echo unix - - n - - test-echo\n")
        port6 = None
        if ipv6_loopback_ok():
            port6 = free_port6()
            cf += "[::1]:%d inet n - n - - test-echo\n" % port6
        inst = self.instance(cf)
        inst.start()
        c = Client(("127.0.0.1", port))
        pid, _, text = c.ask("hello")
        self.assertEqual(text, "hello")
        self.assertIn(pid, inst.service_pids("127.0.0.1:%d" % port))
        c.close()
        c = Client(inst.unix_path("echo"), socket.AF_UNIX)
        pid, _, text = c.ask("over unix")
        self.assertEqual(text, "over unix")
        self.assertIn(pid, inst.service_pids("echo"))
        c.close()
        if port6:
            c = Client(("::1", port6), socket.AF_INET6)
            pid, _, _ = c.ask()
            self.assertIn(pid, inst.service_pids("[::1]:%d" % port6))
            c.close()

    def test_bare_port_listens_on_inet_interfaces(self):
        port = free_port()
        inst = self.instance("%d inet n - n - - test-echo\n" % port,
                             "inet_interfaces = 127.0.0.1\n")
        inst.start()
        c = Client(("127.0.0.1", port))
        self.assertEqual(c.ask("x")[2], "x")
        c.close()

    def test_localhost_and_host_names(self):
        port = free_port()
        inst = self.instance("localhost:%d inet n - n - - test-echo\n" % port,
                             "inet_protocols = ipv4\n")
        inst.start()
        c = Client(("127.0.0.1", port))
        self.assertEqual(c.ask("x")[2], "x")
        c.close()
        inst = self.instance("mail.example.com:%d inet n - n - - test-echo\n" % free_port())
        proc = inst.start(check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("only numeric addresses and localhost", proc.stderr)

    def test_foreground_master_stops_on_sigint(self):
        inst = self.instance("echo unix - - n - - test-echo\n")
        proc = subprocess.Popen([binary("master"), "-c", inst.etc, "-f"],
                                stderr=subprocess.PIPE, text=True)
        try:
            # The socket file appears at bind(), a moment before listen():
            # wait for a connection that is taken, not for the file.
            c = wait_for(lambda: connected(inst.unix_path("echo")), 10, "the listener")
            pid = c.ask()[0]
            c.close()
            proc.send_signal(signal.SIGINT)
            self.assertEqual(proc.wait(timeout=15), 0)
            self.assertFalse(pid_alive(pid))
            self.assertIn("daemon started", proc.stderr.read())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stderr.close()

    def test_daemon_timeout_ends_a_stuck_request(self):
        inst = self.instance("echo unix - - n - - test-echo -o daemon_timeout=1\n")
        inst.start()
        c = Client(inst.unix_path("echo"), socket.AF_UNIX)
        pid = c.ask()[0]
        # The client keeps the session open without a word: the watchdog fires.
        inst.wait_log("pid %d killed by signal %d" % (pid, signal.SIGALRM), 10)
        c.close()

    def test_unsupported_service_is_refused_with_reason(self):
        inst = self.instance("relay pass - - n - - test-echo\n")
        proc = inst.start(check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("not supported", proc.stderr)
        # unix-dgram is supported since postlogd (test_postlog.py).

    def test_missing_program_is_logged_and_left_out(self):
        # A service whose program does not exist is the administrator's
        # error: the master says which line and program, leaves that
        # service out (no listener, no crash loop) and runs the others.
        inst = self.instance("echo unix - - n - - test-echo\n"
                             "ghost unix - - n - - no-such-program-surel\n")
        inst.start()
        inst.wait_log("service ghost/unix: no program")
        self.assertRegex(inst.log(), r"master\.cf line 2: service ghost/unix: no program "
                         r"\S*/no-such-program-surel: the service is not started")
        c = Client(inst.unix_path("echo"), socket.AF_UNIX)
        self.assertEqual(c.ask("still here")[2], "still here")
        c.close()
        self.assertFalse(os.path.exists(inst.unix_path("ghost")))
        # Reported again on reload, until fixed.
        inst.signal(signal.SIGHUP)
        wait_for(lambda: inst.log_count("service ghost/unix: no program") >= 2, 10,
                 "the error to be logged again after reload")

    def test_start_failure_reason_reaches_the_caller(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            inst = self.instance("127.0.0.1:%d inet n - n - - test-echo\n" % port)
            proc = inst.start(check=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("fatal:", proc.stderr)
        self.assertIn("Address already in use", proc.stderr)

    # Process counts and lifetimes.
    def test_maxproc_bounds_concurrent_processes(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - 3 test-echo\n" % port)
        inst.start()
        addr = ("127.0.0.1", port)
        clients = [Client(addr) for _ in range(3)]
        pids = {c.ask()[0] for c in clients}
        self.assertEqual(len(pids), 3, "3 concurrent clients, 3 processes")
        waiting = Client(addr)
        waiting.send("late")
        with self.assertRaises(socket.timeout):
            waiting.readline(timeout=1.5)
        self.assertEqual(len(inst.service_pids("127.0.0.1:%d" % port)), 3)
        clients[0].close()
        answer = waiting.readline()
        self.assertTrue(answer.endswith(" late"), answer)
        self.assertIn(int(answer.split()[0]), pids, "a freed process takes the waiting client")
        self.assertLessEqual(len(inst.service_pids("127.0.0.1:%d" % port)), 3)
        for c in clients[1:] + [waiting]:
            c.close()

    def test_max_use_gives_a_new_process(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - 1 test-echo -o max_use=2\n" % port)
        inst.start()
        seen = []
        for _ in range(3):
            c = Client(("127.0.0.1", port))
            seen.append(c.ask()[0])
            c.close()
        self.assertEqual(seen[0], seen[1], "one process serves max_use clients")
        self.assertNotEqual(seen[1], seen[2], "then a new one takes over")
        wait_for(lambda: not pid_alive(seen[0]), 5, "used-up process to exit")

    def test_max_idle_ends_an_idle_process(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - - test-echo -o max_idle=1\n" % port)
        inst.start()
        c = Client(("127.0.0.1", port))
        pid = c.ask()[0]
        c.close()
        wait_for(lambda: not pid_alive(pid), 5, "idle process %d to exit" % pid)
        self.assertEqual(inst.service_pids("127.0.0.1:%d" % port), [])
        self.assertNotIn("exit status", inst.log(), "an idle exit is clean")

    def test_multi_server_serves_many_clients_in_one_process(self):
        inst = self.instance("multi unix - - n - - test-multi\n")
        inst.start()
        # The second client connects once the first is served: before that
        # the master may rightly start a second process (none is idle yet).
        a = Client(inst.unix_path("multi"), socket.AF_UNIX)
        pa, _, ta = a.ask("a")
        b = Client(inst.unix_path("multi"), socket.AF_UNIX)
        pb, _, tb = b.ask("b")
        self.assertEqual((ta, tb), ("a", "b"))
        self.assertEqual(pa, pb)
        self.assertEqual(a.ask("again")[0], pa)
        a.close()
        b.close()

    @unittest.skipUnless(shutil.which("strace"), "needs strace")
    def test_multi_server_reports_status_once_not_per_client(self):
        # A multi server stays available while it takes clients: BUSY and
        # IDLE around its first client (the master's crash throttle wants
        # to know it served), then nothing per client, BUSY at max_use.
        inst = self.instance("multi unix - - n - - test-multi -o max_use=5\n")
        inst.start()
        first = Client(inst.unix_path("multi"), socket.AF_UNIX)
        pid = first.ask("1")[0]
        out = os.path.join(inst.root, "status.trace")
        tracer = subprocess.Popen(["strace", "-qq", "-y", "-e", "trace=write", "-o", out,
                                   "-p", str(pid)], stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: "TracerPid:\t0\n" not in open("/proc/%d/status" % pid).read(),
                     10, "strace to attach")
            clients = []
            for n in range(2, 5):                      # clients 2, 3, 4: no status
                c = Client(inst.unix_path("multi"), socket.AF_UNIX)
                self.assertEqual(c.ask(str(n))[0], pid)
                clients.append(c)
            c = Client(inst.unix_path("multi"), socket.AF_UNIX)   # the 5th: max_use
            self.assertEqual(c.ask("5")[0], pid)
            clients.append(c)
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=10)
        with open(out) as f:
            status = [line for line in f if line.startswith("write(3<pipe:")]
        self.assertEqual(len(status), 1, "status writes for clients 2-5: %r" % status)
        for c in clients + [first]:
            c.close()

    @unittest.skipUnless(shutil.which("strace"), "needs strace")
    def test_trigger_server_reports_status_once_not_per_trigger(self):
        # Like a multi server, a trigger server reads its clients from the
        # event loop and is always available: status around the first
        # trigger only (qmgr gets one trigger per queued message).
        inst = self.instance("trig unix n - n - 1 test-trigger\n")
        inst.start()

        def trigger(data):
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(inst.unix_path("trig", private=False))
                s.sendall(data)
        trigger(b"I")
        inst.wait_log("trigger service=trig data=I")
        [pid] = inst.service_pids("trig")
        out = os.path.join(inst.root, "status.trace")
        tracer = subprocess.Popen(["strace", "-qq", "-y", "-e", "trace=write", "-o", out,
                                   "-p", str(pid)], stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: "TracerPid:\t0\n" not in open("/proc/%d/status" % pid).read(),
                     10, "strace to attach")
            for data in (b"A", b"D", b"F"):
                trigger(data)
                inst.wait_log("trigger service=trig data=%s" % data.decode())
        finally:
            tracer.send_signal(signal.SIGINT)
            tracer.wait(timeout=10)
        self.assertEqual(inst.service_pids("trig"), [pid])
        with open(out) as f:
            status = [line for line in f if line.startswith("write(3<pipe:")]
        self.assertEqual(status, [], "status writes for triggers 2-4")

    # Failures.
    def test_killed_daemon_is_replaced(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - - test-echo\n" % port)
        inst.start()
        c = Client(("127.0.0.1", port))
        pid = c.ask()[0]
        c.close()
        os.kill(pid, signal.SIGKILL)
        inst.wait_log("pid %d killed by signal 9" % pid)

        def answers_from_new_pid():
            try:
                c = Client(("127.0.0.1", port), timeout=5)
                new = c.ask(timeout=5)[0]
                c.close()
                return new if new != pid else None
            except OSError:
                return None
        wait_for(answers_from_new_pid, 15, "a new process to answer")

    def test_crash_loop_is_throttled(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - 1 test-crash\n" % port)
        inst.start()
        # A waiting client keeps the listener readable: each pause ends in a
        # new attempt. 1 s, 2 s, 4 s pauses: about 3 starts in 4.5 s.
        pending = socket.create_connection(("127.0.0.1", port))
        inst.wait_log("exit status 1")
        first = time.monotonic()
        wait_for(lambda: time.monotonic() - first > 4.5, 10, "observation window")
        starts = inst.log_count("exit status 1")
        pending.close()
        self.assertGreaterEqual(starts, 2, "restarted after the pause")
        self.assertLessEqual(starts, 5, "throttled, not a tight loop")
        self.assertIn("test-crash: bad command startup -- throttling", inst.log())

    # Wakeups.
    def test_wakeup_rate_and_conditional_wakeup(self):
        inst = self.instance("wake unix n - n 1 1 test-trigger\n"
                             "lazy unix n - n 1? 1 test-trigger\n")
        inst.start()
        inst.wait_log("trigger service=wake data=W")
        first = time.monotonic()
        wait_for(lambda: time.monotonic() - first > 3.4, 10, "observation window")
        count = inst.log_count("trigger service=wake data=W")
        self.assertGreaterEqual(count, 3)
        self.assertLessEqual(count, 6)
        self.assertNotIn("service=lazy", inst.log(), "no wakeup before first use")
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(inst.unix_path("lazy", private=False))
            s.sendall(b"I")
        inst.wait_log("trigger service=lazy data=I")
        inst.wait_log("trigger service=lazy data=W", 5)

    def test_fifo_service_wakeup(self):
        inst = self.instance("fifo fifo n - n 1 1 test-trigger\n")
        inst.start()
        inst.wait_log("trigger service=fifo data=W")
        wait_for(lambda: inst.log_count("trigger service=fifo data=W") >= 2, 5,
                 "a second fifo wakeup")

    # Reload.
    def test_reload_adds_removes_and_keeps_services(self):
        keep, gone, new = free_port(), free_port(), free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - 1 test-echo\n" % keep
                             + "127.0.0.1:%d inet n - n - - test-echo\n" % gone
                             + "old unix - - n - - test-echo\n")
        inst.start()
        across = Client(("127.0.0.1", keep))
        old_pid = across.ask("before")[0]
        # With maxproc 1 and its process busy, this client waits in the backlog.
        queued = Client(("127.0.0.1", keep))
        queued.send("queued")
        c = Client(("127.0.0.1", gone))
        gone_pid = c.ask()[0]
        c.close()
        c = Client(inst.unix_path("old"), socket.AF_UNIX)
        old_unix_pid = c.ask()[0]
        c.close()

        inst.write_master_cf("127.0.0.1:%d inet n - n - 1 test-echo\n" % keep
                             + "127.0.0.1:%d inet n - n - - test-echo\n" % new)
        inst.signal(signal.SIGHUP)
        inst.wait_log("reload")

        def new_answers():
            try:
                c = Client(("127.0.0.1", new), timeout=5)
                c.ask(timeout=5)
                c.close()
                return True
            except OSError:
                return False
        wait_for(new_answers, 10, "the added service to answer")
        wait_for(lambda: not pid_alive(gone_pid) and not pid_alive(old_unix_pid), 10,
                 "processes of removed services to exit")
        self.assertFalse(os.path.exists(inst.unix_path("old")))

        def refused():
            with socket.socket() as s:
                s.settimeout(2)
                return s.connect_ex(("127.0.0.1", gone)) != 0
        wait_for(refused, 10, "the removed listener to close")
        self.assertEqual(inst.service_pids("old"), [])

        # The kept service: the connected client still works, and the
        # client that was waiting in the kept listener's backlog is served.
        self.assertEqual(across.ask("after")[:1], (old_pid,))
        across.close()
        answer = queued.readline()
        self.assertTrue(answer.endswith(" queued"), answer)
        self.assertNotEqual(int(answer.split()[0]), old_pid, "a new generation serves")
        queued.close()
        wait_for(lambda: not pid_alive(old_pid), 10, "the retired process to exit")

    # Stop and the pid lock.
    def test_sigterm_leaves_no_process(self):
        port = free_port()
        inst = self.instance("127.0.0.1:%d inet n - n - - test-echo\n" % port
                             + "wake unix n - n 1 1 test-trigger\n"
                             + "echo unix - - n - - test-echo\n")
        inst.start()
        busy = Client(("127.0.0.1", port))
        busy.ask()
        idle = Client(inst.unix_path("echo"), socket.AF_UNIX)
        idle.ask()
        idle.close()
        inst.wait_log("trigger service=wake")
        self.assertGreaterEqual(len(inst.processes()), 4)
        inst.stop()
        wait_for(lambda: inst.processes() == [], 10, "every process of the instance to go")
        busy.close()

    def test_second_master_refuses(self):
        inst = self.instance("echo unix - - n - - test-echo\n")
        inst.start()
        pid = inst.master_pid()
        proc = inst.start(check=False)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("already running", proc.stderr)
        self.assertIn(str(pid), proc.stderr)
        self.assertTrue(pid_alive(pid))
        fg = subprocess.run([binary("master"), "-c", inst.etc, "-f"],
                            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(fg.returncode, 0)
        self.assertIn("master pid %d" % pid, fg.stderr)

    # Privileges.
    @unittest.skipUnless(IS_ROOT, "needs root")
    def test_daemons_drop_privileges_and_chroot(self):
        inst = self.instance("priv unix - n n - - test-echo\n"
                             "unpriv unix - y n - - test-echo\n"
                             "jail unix - y y - - test-echo\n")
        inst.start()
        surel = uid_of("surel")
        results = {}
        for name in ("priv", "unpriv", "jail"):
            c = Client(inst.unix_path(name), socket.AF_UNIX)
            results[name] = c.ask()
            c.close()
        self.assertEqual(results["priv"][1], 0)
        self.assertEqual(results["unpriv"][1], surel)
        self.assertEqual(process_uid(results["unpriv"][0]), surel)
        self.assertEqual(process_uid(results["jail"][0]), surel)
        with open("/proc/%d/status" % results["jail"][0]) as f:
            groups = [l for l in f if l.startswith("Groups:")][0].split()[1:]
        self.assertEqual(groups, [str(os.stat("/proc/%d" % results["jail"][0]).st_gid)])
        self.assertEqual(proc_root(results["jail"][0]), os.path.realpath(inst.spool))
        self.assertEqual(proc_root(results["unpriv"][0]), "/")

    @unittest.skipUnless(IS_ROOT, "needs root to become the surel user")
    def test_sandbox_mode_runs_everything_as_the_user(self):
        if not os.access(binary("test-echo"), os.X_OK):
            self.skipTest("no test daemons")
        inst = self.instance("echo unix - y y - - test-echo\n", owner="surel")
        probe = subprocess.run(["setpriv", "--reuid=surel", "--regid=surel", "--clear-groups",
                                "test", "-x", binary("test-echo")])
        if probe.returncode != 0:
            self.skipTest("build folder not reachable by the surel user")
        inst.start()
        surel = uid_of("surel")
        self.assertEqual(process_uid(inst.master_pid()), surel)
        c = Client(inst.unix_path("echo"), socket.AF_UNIX)
        pid, uid, _ = c.ask()
        c.close()
        self.assertEqual(uid, surel)
        self.assertEqual(proc_root(pid), "/", "no chroot in sandbox mode")
        inst.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
