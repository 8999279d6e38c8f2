"""test_live_fuzz - a bounded live fuzzer: mutated SMTP sessions against a
running sandbox instance.

For SUREL_LIVE_FUZZ_SECONDS (20 by default) a few threads, each with its
own PRNG seeded from SUREL_LIVE_FUZZ_SEED (so the sessions are the same
from run to run; only their interleaving varies), open sessions and throw
at smtpd what a hostile or broken client sends: pipelined command groups,
DATA and BDAT content split at random points into separate writes, NUL,
CR and LF noise, bare LF line ends, over-long lines, bad and unknown
ESMTP parameters, unknown commands, STARTTLS/AUTH in odd places, and
abrupt disconnects (a close with a reset in the middle of anything). Some
sessions are well-formed, so that cleanup, qmgr, local and bounce get
real work too.

Afterwards the instance must be alive and correct: the master runs,
smtpd answers a normal session with 220/250 and a normal message is
delivered to a Maildir, the queue empties, corrupt/ is empty, and no
daemon logged `panic:` or was killed by a signal. Under the sanitizer
build (./test, label sanitize) tests/sanitize/run_sanitized.py fails the
run on any ASan/UBSan report of the daemons.
"""
import os
import random
import re
import socket
import struct
import sys
import threading
import time

import e2e_harness as e
import surel_harness as h

SANITIZED = os.environ.get("SUREL_SANITIZED") == "1"
SECONDS = float(os.environ.get("SUREL_LIVE_FUZZ_SECONDS", "20"))
SEED = int(os.environ.get("SUREL_LIVE_FUZZ_SEED", "20261202"))
THREADS = 4
READ_WAIT = 0.02            # seconds a session waits for replies between writes

SENDERS = ["carol@sandbox.test", "", "alice@sandbox.test", "x@elsewhere.example",
           "carol@sandbox.test", "\"quoted user\"@sandbox.test", "@a,@b:carol@sandbox.test"]
RCPTS = ["alice@sandbox.test", "bob@sandbox.test", "postmaster@sandbox.test",
         "nobody@sandbox.test", "gone@elsewhere.example", "alice@localhost",
         "alice+ext@sandbox.test", "\"bob\"@sandbox.test", "root@[127.0.0.1]"]
MAIL_PARAMS = ["SIZE=100", "SIZE=99999999999999999999", "SIZE=abc", "BODY=8BITMIME",
               "BODY=7BIT", "BODY=BINARYMIME", "BODY=9BIT", "SMTPUTF8", "RET=FULL",
               "RET=HDRS", "RET=X", "ENVID=abc+2B", "ENVID=" + "e" * 200, "AUTH=<>",
               "FOO=BAR", "=", "SIZE=", "BODY=8BITMIME BODY=7BIT"]
RCPT_PARAMS = ["NOTIFY=SUCCESS,FAILURE", "NOTIFY=NEVER", "NOTIFY=NEVER,DELAY",
               "NOTIFY=FOO", "ORCPT=rfc822;alice@sandbox.test", "ORCPT=rfc822;a+2Bb",
               "ORCPT=", "ORCPT=x;" + "o" * 600, "FOO", "NOTIFY="]
OTHER = ["RSET", "NOOP", "NOOP x", "VRFY alice", "EXPN staff", "HELP", "ETRN sandbox.test",
         "STARTTLS", "AUTH PLAIN AGFsaWNlAHg=", "AUTH LOGIN", "XCLIENT ADDR=1.2.3.4",
         "TURN", "QUIT", "", " ", "MAIL", "RCPT", "DATA", "BDAT", "BDAT x",
         "BDAT 0 LAST", "EHLO", "HELO", "MAIL FROM:", "RCPT TO:<>", "MAIL FROM:<<>>"]
NOISE = [b"\0", b"\r", b"\n", b"\r\n", b"\r\r\n", b"\n.\n", b"\r\n.\r\n", b".", b"\xff",
         b"\x1b[0m", b"\t", b"\r\n.\n", b"\n.\r\n"]


def message(rng, token):
    """A small message, sometimes with hostile content."""
    lines = ["From: carol@sandbox.test", "To: alice@sandbox.test",
             "Subject: live fuzz %s" % token, "X-Token: %s" % token, ""]
    for i in range(rng.randint(0, 12)):
        kind = rng.random()
        if kind < 0.1:
            lines.append("." * rng.randint(1, 3) + "dot line %d" % i)
        elif kind < 0.15:
            lines.append("x" * rng.randint(990, 1100))
        elif kind < 0.2:
            lines.append("Subject: in the body")
        elif kind < 0.25:
            lines.append("--boundary-ish %d" % i)
        else:
            lines.append("line %d of %s" % (i, token))
    return "\r\n".join(lines).encode() + b"\r\n"


def mutate(rng, data):
    """data with a few random byte-level changes."""
    data = bytearray(data)
    for _ in range(rng.choice((0, 0, 1, 1, 2, 4))):
        op = rng.random()
        pos = rng.randint(0, len(data))
        if op < 0.4:
            data[pos:pos] = rng.choice(NOISE)
        elif op < 0.6 and data:
            del data[pos:pos + rng.randint(1, 8)]
        elif op < 0.75 and data:
            data[min(pos, len(data) - 1)] = rng.randint(0, 255)
        elif op < 0.85:
            data[pos:pos] = bytes(rng.choice(b"A.:<>@ \t\"\\") for _ in range(rng.randint(1, 40)))
        elif op < 0.95:
            data[pos:pos] = b"L" * rng.choice((600, 1000, 2100, 5000, 20000))
        else:
            data = data.replace(b"\r\n", b"\n")
    return bytes(data)


def command(rng):
    """One command line (bytes, CR LF ended), often malformed."""
    r = rng.random()
    if r < 0.25:
        params = " ".join(rng.sample(MAIL_PARAMS, rng.randint(0, 3)))
        line = "MAIL FROM:<%s> %s" % (rng.choice(SENDERS), params)
    elif r < 0.55:
        params = " ".join(rng.sample(RCPT_PARAMS, rng.randint(0, 2)))
        line = "RCPT TO:<%s> %s" % (rng.choice(RCPTS), params)
    elif r < 0.65:
        line = rng.choice(("EHLO", "HELO", "ehlo", "LHLO")) + " " + rng.choice(
            ("client.test", "[127.0.0.1]", "", "x" * 300, "a b c", "\u00e9xample.test"))
    else:
        line = rng.choice(OTHER)
    line = line.rstrip() if rng.random() < 0.8 else line
    return mutate(rng, line.encode() + b"\r\n")


def dot_stuff(data):
    return re.sub(rb"(^|\r\n)\.", rb"\1..", data)


def content(rng, token):
    """Either DATA with its content or one or more BDAT chunks."""
    body = message(rng, token)
    if rng.random() < 0.6:
        stuffed = mutate(rng, dot_stuff(body))
        return [b"DATA\r\n", stuffed + (b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n")]
    chunks = []
    pos = 0
    while pos < len(body):
        n = rng.randint(1, max(1, len(body) - pos))
        piece = body[pos:pos + n]
        pos += n
        last = " LAST" if pos >= len(body) else ""
        size = len(piece)
        if rng.random() < 0.1:
            size += rng.choice((-5, -1, 1, 7, 100000))   # a lying size
        chunks.append(b"BDAT %d%s\r\n" % (max(size, 0), last.encode()) + piece)
    if rng.random() < 0.2:
        chunks.append(b"BDAT 0 LAST\r\n")
    return [mutate(rng, c) if rng.random() < 0.2 else c for c in chunks]


def session_script(rng, n):
    """The writes of one session: a list of byte strings."""
    token = "live-%d" % n
    writes = []
    if rng.random() < 0.9:
        writes.append(b"EHLO client.test\r\n" if rng.random() < 0.8 else command(rng))
    shape = rng.random()
    if shape < 0.35:
        # A well-formed transaction, pipelined, then maybe more.
        group = b"MAIL FROM:<carol@sandbox.test>\r\n"
        for rcpt in rng.sample(RCPTS[:5], rng.randint(1, 3)):
            group += b"RCPT TO:<%s>\r\n" % rcpt.encode()
        writes.append(group)
        writes.extend(content(rng, token))
    elif shape < 0.8:
        for _ in range(rng.randint(1, 15)):
            if rng.random() < 0.2:
                writes.extend(content(rng, token))
            else:
                writes.append(command(rng))
    else:
        # Pure noise.
        writes.append(mutate(rng, bytes(rng.randint(0, 255) for _ in range(rng.randint(1, 400)))))
    if rng.random() < 0.5:
        writes.append(b"QUIT\r\n")
    # Re-split the byte stream at random points (pipelining, partial lines).
    stream = b"".join(writes)
    cuts = sorted(rng.randint(0, len(stream)) for _ in range(rng.randint(0, 6)))
    pieces, last = [], 0
    for c in cuts + [len(stream)]:
        pieces.append(stream[last:c])
        last = c
    abort_at = rng.randint(0, len(pieces)) if rng.random() < 0.3 else None
    return [p for p in pieces if p], abort_at, stream.count(b"\n")


def drain(sock, wait, replies):
    """Read what the server has sent within wait seconds into replies (a
    bytearray); False once it closed."""
    deadline = time.monotonic() + wait
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return True
        if not data:
            return False
        replies += data


def run_session(port, rng, n):
    """One session; returns (command lines, bytes sent, messages queued)."""
    pieces, abort_at, lines = session_script(rng, n)
    sent = 0
    replies = bytearray()
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        open_ = drain(sock, READ_WAIT, replies)
        for i, piece in enumerate(pieces):
            if not open_:
                break
            if i == abort_at:
                break
            sock.settimeout(10)
            sock.sendall(piece)
            sent += len(piece)
            open_ = drain(sock, READ_WAIT, replies)
        if abort_at is not None:
            # Abrupt: a reset instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif open_:
            drain(sock, 0.2, replies)
    except OSError:
        pass
    finally:
        sock.close()
    return lines, sent, len(re.findall(rb"(?m)^250 .*queued as", replies))


class Fuzzer(threading.Thread):
    """Runs sessions from its own PRNG until the deadline."""

    def __init__(self, port, index, deadline):
        super().__init__(daemon=True)
        self.port = port
        self.rng = random.Random(SEED * 100 + index)
        self.index = index
        self.deadline = deadline
        self.sessions = self.commands = self.bytes = self.queued = 0
        self.error = None

    def run(self):
        try:
            while time.monotonic() < self.deadline:
                lines, sent, queued = run_session(self.port, self.rng,
                                                  self.index * 1000000 + self.sessions)
                self.sessions += 1
                self.commands += lines
                self.bytes += sent
                self.queued += queued
        except Exception as err:  # reported by the test
            self.error = err


class LiveFuzz(h.InstanceTest):

    def test_mutated_sessions_leave_the_instance_healthy(self):
        inst = self.instance()
        with open(os.path.join(inst.etc, "users"), "a") as f:
            f.write("carol\n")             # the usual sender, who gets the DSNs
        inst.conf(smtpd_timeout="10s", smtpd_hard_error_limit="50",
                  minimal_backoff_time="1s", maximal_backoff_time="2s", queue_run_delay="1s")
        inst.start()
        deadline = e.deadline_after(SECONDS)
        fuzzers = [Fuzzer(inst.smtp_port, i, deadline) for i in range(THREADS)]
        for f in fuzzers:
            f.start()
        for f in fuzzers:
            f.join(SECONDS + 120)
        for f in fuzzers:
            self.assertFalse(f.is_alive(), "fuzzer thread %d hangs" % f.index)
            self.assertIsNone(f.error, "fuzzer thread %d" % f.index)
        sessions = sum(f.sessions for f in fuzzers)
        commands = sum(f.commands for f in fuzzers)
        queued = sum(f.queued for f in fuzzers)
        sys.stderr.write("\nlive fuzz: %d sessions, %d command lines, %d bytes, %d messages "
                         "queued in %.0f s (seed %d, %d threads)\n"
                         % (sessions, commands, sum(f.bytes for f in fuzzers), queued,
                            SECONDS, SEED, THREADS))
        # Some sessions must get through, or cleanup, qmgr, local and bounce
        # were never exercised.
        self.assertGreater(queued, 0)

        # Alive: the master runs and a normal session is served end to end.
        self.assertTrue(inst.running(), "the master is gone")
        client = e.RawSMTP(inst.smtp_port)
        self.assertEqual(client.reply()[0], 220)
        client.command("EHLO client.test", 250)
        msg = e.crlf("From: carol@sandbox.test\nSubject: after the fuzz\n"
                     "X-Token: live-fuzz-check\n\nstill here\n")
        code, lines = client.transaction("carol@sandbox.test", ["bob@sandbox.test"], msg)
        self.assertEqual(code, 250, lines)
        client.command("QUIT", 221)
        client.close()
        slow = 3 if SANITIZED else 1
        h.wait_for(lambda: any(re.search(rb"^X-Token: live-fuzz-check$", d, re.M)
                               for d in e.delivered(inst, "bob")),
                   30 * slow, "the check message in bob's Maildir")

        # Everything the fuzz queued is delivered or bounced.
        h.wait_for(lambda: not e.queue_files(inst), 60 * slow, "an empty queue", interval=0.2)
        self.assertEqual(os.listdir(inst.path("spool", "corrupt")), [])
        log = inst.log().splitlines()
        bad = [line for line in log if "panic:" in line or "killed by signal" in line]
        self.assertEqual(bad[:10], [], "daemons panicked or were killed")
        # What the daemons complained about, by kind (for the CI log).
        kinds = {}
        for line in log:
            m = re.search(r"surel/(\w+)\[\d+\]: (fatal|warning): (.*)", line)
            if m:
                text = re.sub(r"\b[0-9A-Za-z]{12,20}\b|\d+", "#", m.group(3))[:100]
                key = "%s %s: %s" % (m.group(1), m.group(2), text)
                kinds[key] = kinds.get(key, 0) + 1
        for key, count in sorted(kinds.items(), key=lambda kv: -kv[1])[:12]:
            sys.stderr.write("  %5d  %s\n" % (count, key))


if __name__ == "__main__":
    h.main()
