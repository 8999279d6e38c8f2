"""harness.smtpd (also `smtpd_harness`) - sandbox instances running smtpd and cleanup only.

smtpd's integration tests talk SMTP over real sockets to bin/smtpd under
the real master. master.cf holds just the SMTP listener, the real
cleanup service and anvil (connection counts and rates), and no qmgr: every accepted message stays in
spool/incoming/ where the tests count and read it.
"""
import os
import re
import socket
import time
import unittest

from .core import Instance, read_records, wait_for  # noqa: F401 (re-exported)

SMTP_TIMEOUT = 15.0


def content_text(records):
    """The message content of a queue file as bytes, lines joined by LF."""
    out = b""
    inside = False
    for rtype, data in records:
        if rtype == "M":
            inside = True
        elif rtype == "X":
            inside = False
        elif inside and rtype == "N":
            out += data + b"\n"
        elif inside and rtype == "L":
            out += data
    return out


class SmtpdInstance(Instance):
    """A sandbox instance with smtpd + cleanup, configured by params."""

    def __init__(self, master_extra="", smtpd_maxproc="-", **params):
        super().__init__()
        self.write_master_cf(
            "127.0.0.1:%d inet n - n - %s smtpd\n"
            "cleanup unix - - n - 0 cleanup\n"
            "anvil unix - - n - 1 anvil\n%s" % (self.smtp_port, smtpd_maxproc, master_extra))
        # smtpd's tests are about the protocol: recipients are not checked
        # against local users (Postfix: an empty local_recipient_maps).
        params.setdefault("local_recipient_maps", "")
        if params:
            self.conf(**params)

    def queue_files(self, queue="incoming"):
        """Paths of the files in a queue folder (hashed subfolders too)."""
        result = []
        for dirpath, _, files in os.walk(self.path("spool", queue)):
            result.extend(os.path.join(dirpath, f) for f in files)
        return sorted(result)

    def queue_file(self, queue_id):
        for p in self.queue_files():
            if os.path.basename(p) == queue_id:
                return p
        raise AssertionError("no queue file %s in incoming/: %s" % (queue_id, self.queue_files()))

    def connect(self, source=None):
        """A client; source: the loopback address to connect from."""
        return SmtpClient(self.smtp_port, source)

    def wait_listening(self):
        def ok():
            try:
                c = SmtpClient(self.smtp_port)
            except OSError:
                return False
            c.close()
            return True
        wait_for(ok, 10, "smtpd to answer on port %d" % self.smtp_port)


class SmtpdTestCase(unittest.TestCase):
    """A TestCase whose self.instance(**params) starts a SmtpdInstance,
    waits until it answers, and tears it down after the test."""

    def setUp(self):
        self.instances = []

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()

    def instance(self, **params):
        inst = SmtpdInstance(**params)
        self.instances.append(inst)
        inst.start()
        inst.wait_listening()
        return inst


class SmtpClient:
    """A raw SMTP client: exact bytes out, whole replies in."""

    def __init__(self, port, source=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SMTP_TIMEOUT,
                                             source_address=(source, 0) if source else None)
        self.buf = b""
        self.greeting = self.reply()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; pending %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One whole (possibly multi-line) reply as its list of lines."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return lines

    def cmd(self, line):
        """Send one command; its reply's lines joined by newlines."""
        self.send(line + "\r\n")
        return "\n".join(self.reply())

    def closed(self):
        """True when the server has closed the connection (EOF)."""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True


def queued_id(reply):
    m = re.match(r"250 2\.0\.0 Ok: queued as (\w+)$", reply)
    if not m:
        raise AssertionError("not queued: %r" % reply)
    return m.group(1)


def attrs(records):
    """The A records of a queue file as a dict."""
    out = {}
    for rtype, data in records:
        if rtype == "A":
            k, _, v = data.decode("utf-8", "replace").partition("=")
            out[k] = v
    return out


def types(records, wanted):
    return [data for rtype, data in records if rtype == wanted]


def deadline(seconds):
    return time.monotonic() + seconds
