"""harness.e2e (also `e2e_harness`) - helpers shared by the end-to-end and crash tests.

Built on harness.core (Instance: sandbox + start/stop + log + Maildirs).
Adds what the whole-system tests need: a raw SMTP client that can stop in
the middle of DATA, a fast batch sender, reading delivered messages,
splitting off the headers the mail system prepends, killing every process
of an instance at once, and sandbox instances made and run by the
unprivileged `surel` account.

Everything is bounded: sockets have timeouts and waits poll a condition
until a deadline.
"""
import email
import email.policy
import os
import pwd
import re
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

from . import core as h

SMTP_TIMEOUT = 30.0

# A queue ID (lib/global/queue_id.h): [0-9A-Za-z], at most 20 characters.
QUEUE_ID = r"[0-9A-Za-z]{1,20}"

# The folders a scheduler reads (DESIGN §3); temp/ is cleanup's own.
SCHEDULED_QUEUES = ("incoming", "active", "deferred", "hold", "maildrop")


def crlf(text):
    """bytes with every line ending made CR LF (SMTP's wire form)."""
    if isinstance(text, str):
        text = text.encode()
    return re.sub(rb"\r?\n", b"\r\n", text)


def lf(data):
    """bytes with CR LF line endings made LF (how Maildir files are stored)."""
    return data.replace(b"\r\n", b"\n")


def smtp_client(inst, helo="client.test", source=None):
    """An smtplib client connected to the instance, after EHLO; source: the
    client's own loopback address (e.g. "127.0.0.2", which is not one of
    the machine's interface addresses)."""
    client = smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=SMTP_TIMEOUT,
                          source_address=(source, 0) if source else None)
    code, _ = client.ehlo(helo)
    if code != 250:
        raise AssertionError("EHLO refused: %d" % code)
    return client


def send(inst, sender, rcpts, message, mail_options=(), rcpt_options=(), source=None):
    """Send one message over SMTP; return the queue ID of its 250 reply.

    message is bytes with CR LF line endings (smtplib dot-stuffs it).
    """
    client = smtp_client(inst, source=source)
    try:
        return send_on(client, sender, rcpts, message, mail_options, rcpt_options)
    finally:
        client.quit()


def send_on(client, sender, rcpts, message, mail_options=(), rcpt_options=()):
    """Send one message on an open smtplib client; return its queue ID."""
    code, reply = client.mail(sender, list(mail_options))
    if code != 250:
        raise AssertionError("MAIL FROM refused: %d %r" % (code, reply))
    for rcpt in rcpts:
        code, reply = client.rcpt(rcpt, list(rcpt_options))
        if code not in (250, 251):
            raise AssertionError("RCPT TO:<%s> refused: %d %r" % (rcpt, code, reply))
    code, reply = client.data(message)
    if code != 250:
        raise AssertionError("DATA refused: %d %r" % (code, reply))
    found = re.search(rb"queued as (" + QUEUE_ID.encode() + rb")", reply)
    if not found:
        raise AssertionError("no queue ID in %r" % reply)
    return found.group(1).decode()


def dot_stuff(message):
    """SMTP DATA content: CR LF line ends, a dot doubled at a line start,
    and a final line end."""
    data = re.sub(rb"(?m)^\.", b"..", crlf(message))
    return data if data.endswith(b"\r\n") or not data else data + b"\r\n"


def submit_many(port, jobs, connections=4, per_session=50):
    """Send many messages over `connections` parallel pipelined SMTP
    sessions (a new session every per_session messages).

    jobs: list of (sender, [rcpts], message bytes). Returns a list, in the
    order of jobs, of (queue ID, time of the 250 reply as time.monotonic(),
    seconds from the first command to the 250 reply). Raises the first
    error any session met.
    """
    results = [None] * len(jobs)
    errors = []

    def worker(indexes):
        try:
            client = None
            for n, i in enumerate(indexes):
                if client is None or n % per_session == 0:
                    if client:
                        client.command("QUIT")
                        client.close()
                    client = RawSMTP(port)
                    client.reply()
                    client.command("EHLO client.test", 250)
                sender, rcpts, message = jobs[i]
                started = time.monotonic()
                code, lines = client.transaction(sender, rcpts, message)
                done = time.monotonic()
                found = re.search(r"queued as (%s)" % QUEUE_ID, lines[-1])
                if code != 250 or not found:
                    raise AssertionError("message %d: %r" % (i, lines))
                results[i] = (found.group(1), done, done - started)
            if client:
                client.command("QUIT")
                client.close()
        except Exception as err:  # reported to the caller below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(list(range(k, len(jobs), connections)),))
               for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


class RawSMTP:
    """A line-level SMTP client over a plain socket, for tests that must
    stop in the middle of a transaction (smtplib cannot)."""

    def __init__(self, port, timeout=SMTP_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def reply(self):
        """(code, [text lines]) of one (possibly multi-line) reply."""
        lines = []
        while True:
            line = self.file.readline(4096)
            if not line:
                raise AssertionError("connection closed; reply so far: %r" % lines)
            lines.append(line.rstrip(b"\r\n").decode(errors="replace"))
            if len(line) < 4 or line[3:4] != b"-":
                return int(lines[-1][:3]), lines

    def send(self, data):
        self.sock.sendall(crlf(data) if isinstance(data, str) else data)

    def command(self, line, expect=None):
        """Send a command line; return its reply, checking the code if asked."""
        self.send(line + "\r\n")
        code, lines = self.reply()
        if expect is not None and code != expect:
            raise AssertionError("%s: expected %d, got %r" % (line, expect, lines))
        return code, lines

    def transaction(self, sender, rcpts, message):
        """One mail transaction with PIPELINING (RFC 2920): MAIL, every RCPT
        and DATA in one write, then the dot-stuffed content. Returns the
        final (code, lines); raises if an envelope command is refused."""
        envelope = ["MAIL FROM:<%s>" % sender] + ["RCPT TO:<%s>" % r for r in rcpts] + ["DATA"]
        self.send("".join(c + "\r\n" for c in envelope).encode())
        for cmd in envelope:
            code, lines = self.reply()
            want = 354 if cmd == "DATA" else 250
            if code != want:
                raise AssertionError("%s: expected %d, got %r" % (cmd, want, lines))
        self.send(dot_stuff(message) + b".\r\n")
        return self.reply()

    def close(self):
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass


def maildir_files(inst, user):
    """Full paths of the messages in a user's Maildir/new, sorted by name."""
    return [os.path.join(inst.maildir(user), n) for n in inst.messages(user)]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def delivered(inst, user):
    """The contents (bytes) of every message in a user's Maildir/new."""
    return [read_bytes(p) for p in maildir_files(inst, user)]


def wait_delivered(inst, user, count=1, timeout=20.0):
    """Wait until a user has at least count messages; return their contents."""
    inst.wait_messages(user, count, timeout)
    return delivered(inst, user)


def split_prepended(data):
    """Split a delivered message into (Return-Path value, Delivered-To value,
    Received header (bytes, with its continuation lines) or None, rest).

    local prepends Return-Path and Delivered-To; smtpd's Received comes
    next for SMTP mail. rest is everything after those, byte for byte.
    """
    m = re.match(rb"Return-Path: (<[^>\n]*>)\nDelivered-To: ([^\n]*)\n", data)
    if not m:
        raise AssertionError("no Return-Path/Delivered-To prefix: %r" % data[:200])
    rest = data[m.end():]
    received = None
    r = re.match(rb"Received: [^\n]*\n(?:[ \t][^\n]*\n)*", rest)
    if r:
        received, rest = r.group(0), rest[r.end():]
    return m.group(1).decode(), m.group(2).decode(), received, rest


def parse(data):
    """An email.message.EmailMessage of delivered bytes."""
    return email.message_from_bytes(data, policy=email.policy.compat32)


def queue_files(inst, queues=SCHEDULED_QUEUES):
    """{queue: [file names]} of the non-empty queue folders (hashed too)."""
    found = {}
    for q in queues:
        top = inst.path("spool", q)
        for dirpath, _, filenames in os.walk(top):
            if filenames:
                found.setdefault(q, []).extend(sorted(filenames))
    return found


def kill_everything(inst):
    """SIGKILL the master and every daemon of the instance, all at once
    (as a power cut would: no process gets to clean up). Returns the pids."""
    pids = set(pid for pid, _ in inst.processes())
    master = inst.master_pid()
    if master:
        pids.add(master)
    # Stop them all first so that none reacts to another's death (the
    # master restarting a child, a child seeing its peer hang up), then kill.
    for pid in pids:
        try:
            os.kill(pid, signal.SIGSTOP)
        except OSError:
            pass
    h.sigkill(pids)
    h.wait_for(lambda: not any(alive(p) for p in pids), 10, "killed processes to go")
    return pids


def alive(pid):
    """True while a pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def kill_service(inst, service):
    """SIGKILL every running daemon of a master.cf service; return the pids."""
    pids = inst.service_pids(service)
    h.sigkill(pids)
    return pids


def without_service(master_cf_text, service):
    """master.cf text with the line of one service commented out."""
    out = []
    for line in master_cf_text.splitlines(True):
        fields = line.split()
        if fields and fields[0] == service:
            line = "#" + line
        out.append(line)
    return "".join(out)


def as_surel():
    """argv prefix that runs a command as the `surel` account, no groups."""
    pw = pwd.getpwnam("surel")
    return ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
            "--clear-groups", "--"]


class SurelUserInstance(h.Instance):
    """A sandbox instance made and run by the unprivileged `surel` user,
    on a folder it owns: sandbox mode exactly as a non-root user gets it.
    Needs root (to become surel) and a build folder surel can read."""

    def __init__(self, smtp_port=None):
        pw = pwd.getpwnam("surel")
        self.top = tempfile.mkdtemp(prefix="surel-user-it-")
        os.chown(self.top, pw.pw_uid, pw.pw_gid)
        os.chmod(self.top, 0o755)
        root = os.path.join(self.top, "inst")
        self.smtp_port = smtp_port or h.free_port()
        self._as_surel(["sandbox", root, "--smtp-port", str(self.smtp_port)])
        # Instance.__init__ would run `surel sandbox` as root; set the same
        # attributes by hand instead.
        self.root = root
        self.etc = os.path.join(root, "etc")
        self.spool = os.path.join(root, "spool")
        self.logfile = os.path.join(root, "log", "maillog")
        self.conf(smtpd_peername_lookup="no")      # as h.Instance: see there

    def _as_surel(self, args, check=True):
        return h.run(as_surel() + [h.binary("surel")] + list(args), check=check)

    def surel(self, *args, check=True, **kw):
        return h.run(as_surel() + [h.binary("surel"), "-c", self.etc] + list(args),
                     check=check, **kw)

    def cleanup(self):
        h.Instance.cleanup(self)
        subprocess.run(["rm", "-rf", self.top], check=False)


def token_of(data):
    """The X-Token header value of a delivered message, or None."""
    m = re.search(rb"^X-Token: (\S+)$", data, re.M)
    return m.group(1).decode() if m else None


def deadline_after(seconds):
    return time.monotonic() + seconds
