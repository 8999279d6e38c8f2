"""bench/benchlib - pieces bench/run and bench/compare share.

The test harness (tests/integration/harness) provides the sandbox instance
and the pipelined SMTP submitter; this module adds what only benchmarks
need: test messages that name themselves (an X-Token header), a watcher
that notes when each one lands in a folder, and percentiles.
"""
import os
import re
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
