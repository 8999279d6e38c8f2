"""harness.master (also `master_harness`) - run bin/master directly on a hand-written instance.

test_master.py uses this instead of `surel sandbox`: each test writes its
own main.cf and master.cf (daemon_directory = the build's bin/, so the
test daemons bin/test-* are the services), starts bin/master -c ETC and
looks at the processes (/proc), the sockets and the log. Every wait polls
a condition against a deadline.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .core import binary, free_port, processes, process_uid, sigkill, wait_for, BIN_DIR


def ipv6_loopback_ok():
    """Can we listen on [::1] here?"""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port6():
    return free_port(socket.AF_INET6, "::1")


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class Client:
    """A line-oriented client of an echo service ("<pid> <uid> <line>")."""

    def __init__(self, address, family=socket.AF_INET, timeout=10.0):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(address)
        except OSError:
            self.sock.close()
            raise
        self.pending = b""

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def readline(self, timeout=10.0):
        """One answer line (text); socket.timeout when none comes in time."""
        self.sock.settimeout(timeout)
        while b"\n" not in self.pending:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("service hung up")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def ask(self, line="ping", timeout=10.0):
        """Send a line; return (pid, uid, echoed text)."""
        self.send(line)
        pid, uid, text = self.readline(timeout).split(" ", 2)
        return int(pid), int(uid), text

    def close(self):
        self.sock.close()


class MasterInstance:
    """An instance folder: etc/ (main.cf, master.cf), spool/, maillog."""

    def __init__(self, master_cf, main_cf_extra="", owner=None):
        self.root = tempfile.mkdtemp(prefix="surel-master-")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        self.spool = os.path.join(self.root, "spool")
        self.logfile = os.path.join(self.root, "maillog")
        for d in (self.etc, self.spool):
            os.mkdir(d)
        for d in ("pid", "private", "public"):
            os.mkdir(os.path.join(self.spool, d))
        lines = [
            "queue_directory = %s" % self.spool,
            "daemon_directory = %s" % os.path.abspath(BIN_DIR),
            "maillog_file = %s" % self.logfile,
            "maillog_file_prefixes = %s" % self.root,
            "mail_owner = surel",
        ]
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("\n".join(lines) + "\n" + main_cf_extra)
        self.write_master_cf(master_cf)
        self.give_to(owner)
        if owner is None and os.geteuid() == 0:
            # As `surel check` leaves a real queue (lib/global/mail_queue.c):
            # the socket folders belong to mail_owner, whose effective ids
            # the root master takes to create the listeners there.
            pw = pwd.getpwnam("surel")
            for d in ("private", "public"):
                os.chown(os.path.join(self.spool, d), pw.pw_uid, pw.pw_gid)

    def give_to(self, owner):
        """Make the whole instance (and its log file) belong to owner, the
        account a non-root master runs as; None: leave it as it is."""
        self.owner = owner
        if owner:
            pw = pwd.getpwnam(owner)
            for dirpath, dirnames, filenames in os.walk(self.root):
                for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                    os.chown(name, pw.pw_uid, pw.pw_gid)
            open(self.logfile, "a").close()
            os.chown(self.logfile, pw.pw_uid, pw.pw_gid)

    def write_master_cf(self, text):
        path = os.path.join(self.etc, "master.cf")
        with open(path, "w") as f:
            f.write(text)
        if getattr(self, "owner", None):
            pw = pwd.getpwnam(self.owner)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    # Control.
    def master_argv(self, *extra):
        argv = [binary("master"), "-c", self.etc] + list(extra)
        if self.owner:
            argv = ["setpriv", "--reuid=" + self.owner, "--regid=" + self.owner,
                    "--clear-groups"] + argv
        return argv

    def start(self, check=True, env=None):
        """Run the master (it detaches once ready); return CompletedProcess."""
        proc = subprocess.run(self.master_argv(), capture_output=True, text=True, timeout=30,
                              env=env)
        if check and proc.returncode != 0:
            raise AssertionError("master exited %d: %s%s" % (
                proc.returncode, proc.stdout, proc.stderr))
        return proc

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def signal(self, signo):
        os.kill(self.master_pid(), signo)

    def stop(self, timeout=15.0):
        pid = self.master_pid()
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), timeout, "master %d to exit" % pid)

    # Observation.
    def processes(self):
        """[(pid, argv)] of the master and daemons of this instance (by -c ETC)."""
        return [(pid, argv) for pid, argv in processes()
                if self.etc in argv and pid_alive(pid)]

    def service_pids(self, service):
        result = []
        for pid, argv in self.processes():
            for i, a in enumerate(argv[:-1]):
                if a == "-n" and argv[i + 1] == service:
                    result.append(pid)
        return sorted(result)

    def log(self):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_count(self, text):
        return self.log().count(text)

    def wait_log(self, text, timeout=10.0):
        return wait_for(lambda: text in self.log(), timeout, "log line %r" % text)

    def unix_path(self, name, private=True):
        return os.path.join(self.spool, "private" if private else "public", name)

    def cleanup(self):
        sigkill([self.master_pid()] + [pid for pid, _ in self.processes()])
        shutil.rmtree(self.root, ignore_errors=True)


def uid_of(name):
    return pwd.getpwnam(name).pw_uid


def proc_root(pid):
    return os.readlink("/proc/%d/root" % pid)


__all__ = ["Client", "MasterInstance", "ipv6_loopback_ok", "free_port6", "pid_alive",
           "uid_of", "proc_root", "process_uid", "wait_for"]
