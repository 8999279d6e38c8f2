"""harness.core - start whole sandbox instances and talk to them.

Integration tests import this module (also as `surel_harness`). Everything is bounded: waits poll a
condition until a deadline (never sleep-and-hope), every process started is
stopped in tearDown, and all traffic stays on loopback.

Environment (set by CTest): SUREL_BIN_DIR (the build's bin/ folder) and
SUREL_SOURCE_DIR.
"""
import fcntl
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

_HERE = os.path.dirname(os.path.abspath(__file__))       # tests/integration/harness
BIN_DIR = os.environ.get("SUREL_BIN_DIR") or os.path.join(_HERE, "..", "..", "..", "build", "bin")
SOURCE_DIR = os.environ.get("SUREL_SOURCE_DIR") or os.path.join(_HERE, "..", "..", "..")


SYNC_TAG = "surel-harness-log-sync"   # Instance.log_sync's lines, filtered out
_sync_count = 0


def binary(name):
    """Path of a program built into bin/ (surel, master, test daemons...)."""
    return os.path.join(BIN_DIR, name)


# Ports for the instances of the tests. bind(0) hands out ports of the
# kernel's ephemeral range, which outgoing connections use too, and a port
# found free is closed again before the instance binds it: two tests run in
# parallel (ctest -j) or any client's connect() could take it in between,
# and the master then fails with "Address already in use". So test ports
# come from below the ephemeral range (no connect() ever picks them) and
# each is claimed with a lock file held until this process exits, so two
# test processes never pick the same one.
PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "surel-test-ports")
_claimed_ports = []        # open lock files, kept for the life of the process


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _claim_port(port):
    """Lock port's file; True when this process now owns the port."""
    os.makedirs(PORT_LOCK_DIR, mode=0o1777, exist_ok=True)
    f = open(os.path.join(PORT_LOCK_DIR, "%d.lock" % port), "a")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return False
    _claimed_ports.append(f)
    return True


def _bindable(port, family, host, kind=socket.SOCK_STREAM):
    with socket.socket(family, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(family=socket.AF_INET, host="127.0.0.1", kind=socket.SOCK_STREAM):
    """A TCP (or, with kind=SOCK_DGRAM, UDP) port on host that nobody has
    bound and no other test process will be handed (see PORT_LOCK_DIR
    above)."""
    high = min(_ephemeral_low(), 65536) - 1
    low = 20000 if high > 21000 else 1024
    rng = random.SystemRandom()
    for _ in range(1000):
        port = rng.randint(low, high)
        if _claim_port(port) and _bindable(port, family, host, kind):
            return port
    raise AssertionError("no free test port in %d-%d" % (low, high))


def record(rtype, data=b""):
    """One record (lib/global/record.h): type byte, 7-bit-group little-endian
    length, data."""
    if isinstance(data, str):
        data = data.encode()
    n, length = len(data), bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            break
    return rtype.encode() + bytes(length) + data


def parse_records(data):
    """[(type char, bytes)] of a record stream (queue file, maildrop file);
    asserts the framing."""
    out, i = [], 0
    while i < len(data):
        rtype = chr(data[i])
        i += 1
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((rtype, data[i:i + length]))
        i += length
        assert i <= len(data), "truncated record"
    return out


def read_records(path):
    """[(type char, bytes)] of the records in a file."""
    with open(path, "rb") as f:
        return parse_records(f.read())


def unix_listening(path):
    """True once a unix stream socket at path takes connections (the file
    exists from bind(), a moment before listen())."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(path)
        except OSError:
            return False
    return True


def tcp_listening(port, host="127.0.0.1"):
    """True once something takes TCP connections on host:port."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


def wait_for(condition, timeout=10.0, what="condition", interval=0.05):
    """Poll condition() until it returns a true value; fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def run(args, check=True, env=None, input=None, timeout=60):
    """Run a command; return CompletedProcess with text stdout/stderr."""
    proc = subprocess.run(args, capture_output=True, text=True, env=env,
                          input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), proc.returncode, proc.stdout, proc.stderr))
    return proc


def swaks(port, *options, sender="alice@sandbox.test", rcpt="bob@sandbox.test",
          subject="via swaks"):
    """Send one message with swaks (Debian's SMTP test client) to 127.0.0.1:port.

    options are further swaks flags (--tls, --pipeline, ...). Returns
    (exit status, the whole dialogue as text, the queue ID from the
    server's "250 2.0.0 Ok: queued as ID" or None).
    """
    argv = ["swaks", "--server", "127.0.0.1", "--port", str(port), "--from", sender,
            "--to", rcpt, "--header", "Subject: " + subject, "--timeout", "15"]
    p = subprocess.run(argv + list(options), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    out = p.stdout.decode(errors="replace")
    queued = re.search(r"250 2\.0\.0 Ok: queued as (\w+)", out)
    return p.returncode, out, queued.group(1) if queued else None


def surel(*args, config=None, check=True, **kw):
    """Run the surel admin command (optionally with -c config)."""
    argv = [binary("surel")]
    if config:
        argv += ["-c", config]
    return run(argv + list(args), check=check, **kw)


def processes():
    """[(pid, argv list)] of every process on the machine."""
    result = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if raw:
            result.append((int(entry), [a.decode(errors="replace") for a in raw.split(b"\0") if a]))
    return result


def process_uid(pid):
    """Real uid of a process, or None if it is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Instance:
    """A sandbox instance made by `surel sandbox DIR --smtp-port N`."""

    def __init__(self, root=None, smtp_port=None):
        self.root = root or tempfile.mkdtemp(prefix="surel-it-")
        self.smtp_port = smtp_port or free_port()
        surel("sandbox", self.root, "--smtp-port", str(self.smtp_port))
        self.etc = os.path.join(self.root, "etc")
        # smtpd names its clients from DNS (smtpd_peername_lookup = yes),
        # and libunbound answers 127.0.0.1 -> localhost from its built-in
        # zones even with the sandbox's dead dns_servers: the tests were
        # written for "unknown[127.0.0.1]", so an instance looks no names
        # up unless its test asks (test_smtpd_rdns.py does).
        self.conf(smtpd_peername_lookup="no")
        self.spool = os.path.join(self.root, "spool")
        self.logfile = os.path.join(self.root, "log", "maillog")

    # Control.
    def surel(self, *args, check=True, **kw):
        return surel(*args, config=self.etc, check=check, **kw)

    def start(self):
        self.surel("start")
        wait_for(self.running, 10, "master of %s to run" % self.root)

    def stop(self, check=True):
        self.surel("stop", check=check)

    def running(self):
        return self.surel("status", check=False).returncode == 0

    def conf(self, **params):
        self.surel("conf", *["%s=%s" % kv for kv in params.items()])

    def write_master_cf(self, text):
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(text)

    def master_pid(self):
        try:
            with open(os.path.join(self.spool, "pid", "master.pid")) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # Observation.
    def path(self, *parts):
        """A path inside the instance: path("spool", "incoming")."""
        return os.path.join(self.root, *parts)

    def maildir(self, user, sub="new"):
        """DIR/mail/<user>/Maildir/<sub> of a sandbox user."""
        return self.path("mail", user, "Maildir", sub)

    def messages(self, user):
        """Names of the messages delivered to a user's Maildir/new, sorted."""
        try:
            return sorted(os.listdir(self.maildir(user)))
        except OSError:
            return []

    def wait_messages(self, user, count=1, timeout=10.0):
        """Wait until the user's Maildir/new holds at least count messages."""
        return wait_for(lambda: len(self.messages(user)) >= count and self.messages(user),
                        timeout, "%d message(s) for %s" % (count, user))

    def _read_log(self):
        """maillog_file as it is now, without the harness's sync lines."""
        try:
            with open(self.logfile, errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        if SYNC_TAG not in text:
            return text
        return "".join(l for l in text.splitlines(True) if SYNC_TAG not in l)

    def log_sync(self, timeout=10.0):
        """Wait until postlogd wrote every line sent before now.

        Log lines travel as datagrams to public/postlog and postlogd writes
        them a moment later (doc/design.md §6). The socket is one queue for
        every sender, so once a line the harness sends appears in the file,
        so has every line sent before it. Without a running postlog service
        there is nothing to wait for."""
        path = os.path.join(self.spool, "public", "postlog")
        global _sync_count
        _sync_count += 1
        marker = "%s %d.%d" % (SYNC_TAG, os.getpid(), _sync_count)
        line = "%s localhost %s[%d]: %s" % (time.strftime("%b %e %H:%M:%S"), SYNC_TAG,
                                             os.getpid(), marker)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.settimeout(timeout)
                s.connect(path)
                s.send(line.encode())
        except OSError:
            return
        try:
            wait_for(lambda: self._log_has(marker), timeout, "postlogd to write the log")
        except AssertionError:
            pass                        # postlogd down: the log is what it is

    def _log_has(self, marker):
        try:
            with open(self.logfile, errors="replace") as f:
                return marker in f.read()
        except OSError:
            return False

    def log(self):
        """maillog_file, with every line logged before the call in it."""
        self.log_sync()
        return self._read_log()

    def wait_log(self, text, timeout=10.0):
        return wait_for(lambda: text in self._read_log(), timeout, "log line %r" % text)

    def processes(self):
        """[(pid, argv)] of this instance's processes (master and daemons)."""
        return [(pid, argv) for pid, argv in processes() if self.etc in argv]

    def service_pids(self, service):
        """pids of daemons running the master.cf service `service`."""
        result = []
        for pid, argv in self.processes():
            for i, a in enumerate(argv[:-1]):
                if a == "-n" and argv[i + 1] == service:
                    result.append(pid)
        return result

    def cleanup(self):
        if self.running():
            self.stop(check=False)
        sigkill([self.master_pid()] + [pid for pid, _ in self.processes()])
        shutil.rmtree(self.root, ignore_errors=True)


def sigkill(pids):
    """SIGKILL each pid (None and already gone ones are skipped)."""
    for pid in pids:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class InstanceTest(unittest.TestCase):
    """A TestCase whose self.instance() makes instances torn down afterwards."""

    def setUp(self):
        self._instances = []

    def tearDown(self):
        for inst in self._instances:
            inst.cleanup()

    def instance(self, **kw):
        inst = Instance(**kw)
        self._instances.append(inst)
        return inst

    def started(self, **params):
        """A new instance with these main.cf parameters, running."""
        inst = self.instance()
        if params:
            inst.conf(**params)
        inst.start()
        return inst


def main():
    unittest.main(verbosity=2)
