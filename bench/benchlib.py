"""bench/benchlib - pieces bench/run and bench/compare share.

The test harness (tests/integration/harness) provides the sandbox instance
and the pipelined SMTP submitter; this module adds what only benchmarks
need: test messages that name themselves (an X-Token header), a watcher
that notes when each one lands in a folder, percentiles, and Postfix's
smtp-sink as a counting relay target (bench/compare, bench/syscalls).
"""
import contextlib
import os
import re
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("SUREL_BIN_DIR", os.path.join(TOP, "build", "bin"))
os.environ.setdefault("SUREL_SOURCE_DIR", TOP)
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import e2e_harness as e  # noqa: E402
import surel_harness as h  # noqa: E402

TOKEN = re.compile(rb"^X-Token: b(\d+)\r?$", re.M)


def make_jobs(count, size, recipients, per_message=1, sender="bench@client.test"):
    """(sender, recipients, message) for each message, to per_message of
    `recipients` in turn; the X-Token header names the message so that its
    delivery can be matched to its sending."""
    jobs = []
    filler = ("The quick brown fox jumps over the lazy dog 0123456789.\n" *
              (size // 56 + 1))[:max(0, size - 200)]
    for i in range(count):
        to = [recipients[(i + k) % len(recipients)] for k in range(per_message)]
        message = e.crlf("From: %s\nTo: %s\nSubject: bench %d\n"
                         "X-Token: b%07d\n\n%s\n" % (sender, ", ".join(to), i, i, filler))
        jobs.append((sender, to, message))
    return jobs


class Watcher(threading.Thread):
    """Polls folders (each a Maildir/new, say) and notes when each file
    first shows up and which message (X-Token) it holds.

    folders: {label: path}; landed is keyed (label, token index).
    """

    def __init__(self, folders, expected, interval=0.005):
        super().__init__(daemon=True)
        self.folders = folders
        self.expected = expected
        self.interval = interval
        self.seen = {}            # (label, file name) -> monotonic time seen
        self.landed = {}          # (label, token index) -> first time seen
        self.stop = threading.Event()

    def poll(self):
        now = time.monotonic()
        for label, folder in self.folders.items():
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                if (label, name) in self.seen:
                    continue
                self.seen[(label, name)] = now
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        m = TOKEN.search(f.read(8192))
                except OSError:
                    continue
                if m:
                    self.landed.setdefault((label, int(m.group(1))), now)

    def run(self):
        while not self.stop.is_set() and len(self.landed) < self.expected:
            self.poll()
            time.sleep(self.interval)


def percentiles(values):
    """{p50, p90, p99, max} in milliseconds of a list of seconds."""
    if not values:
        return {}
    s = sorted(values)

    def at(p):
        return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))] * 1000.0
    return {"p50": at(50), "p90": at(90), "p99": at(99), "max": s[-1] * 1000.0}


# Debian's postfix package, unpacked (not installed) where tools/install-deps
# puts it for the tests' smtp-sink: installing it would make Postfix the
# machine's MTA (its postinst owns /usr/sbin/sendmail) on a machine others
# share. Its programs find their libraries through LD_LIBRARY_PATH (the
# binaries' RUNPATH is /usr/lib/postfix), given to each Postfix command
# (pf()) and, through import_environment, to every daemon its master starts.
PF_ROOT = os.environ.get("SUREL_POSTFIX_ROOT", "/opt/surel-postfix")
PF_SBIN = PF_ROOT + "/usr/sbin"
PF_LIBS = PF_ROOT + "/usr/lib/postfix"
POSTFIX_BIN = PF_SBIN + "/postfix"
SMTP_SOURCE = PF_SBIN + "/smtp-source"
SMTP_SINK = PF_SBIN + "/smtp-sink"


def pf(argv):
    """A Postfix program's argv, with its libraries on LD_LIBRARY_PATH."""
    return ["env", "LD_LIBRARY_PATH=" + PF_LIBS] + list(argv)


# The harness's: poll until true, AssertionError after the deadline.
wait_for = h.wait_for
port_open = h.tcp_listening


class SinkCounter:
    """Postfix's smtp-sink on 127.0.0.1:port (of a namespace, given one),
    its -c counter read as it goes: smtp-sink prints "sess=S quit=Q mesg=M\\r" (flushed)
    each time a message's final "." is in, so M is the count of messages
    it has wholly received. No dump files: the sink writes nothing to the
    disk the MTAs share."""

    COUNT = re.compile(rb"sess=(\d+) quit=\d+ mesg=(\d+)\r")

    def __init__(self, port, netns=None):
        argv = pf([SMTP_SINK, "-u", "nobody", "-c", "127.0.0.1:%d" % port, "256"])
        self.proc = subprocess.Popen(netns.argv(argv) if netns else argv,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.total = self.sessions = 0
        self.base = self.sessions_base = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        with (netns.entered() if netns else contextlib.nullcontext()):
            wait_for(lambda: port_open(port), 10, "smtp-sink on port %d" % port)

    def _read(self):
        tail = b""
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            tail = (tail + chunk)[-256:]
            counts = self.COUNT.findall(tail)
            if counts:
                self.sessions, self.total = (int(x) for x in counts[-1])
                tail = tail[tail.rfind(b"\r") + 1:]

    def reset(self):
        self.base, self.sessions_base = self.total, self.sessions

    def count(self):
        """Messages received since the last reset."""
        return self.total - self.base

    def session_count(self):
        """Sessions that ended since the last reset (connection reuse:
        fewer sessions than messages)."""
        return self.sessions - self.sessions_base

    def stop(self):
        self.proc.kill()
        self.proc.wait()
