"""cleanup under the real master: a Python client speaks the cleanup
protocol (mail_proto.h) on spool/private/cleanup of a sandbox instance and
the tests look at the queue folders and the log.

Covered: a committed message (incoming/, mode 0700, record grammar and
size record checked here in Python), headers added, every header/body
checks action, virtual alias expansion with its limits, duplicates, the
size limit, two clients served at once, and the two crash cases: a client
that disconnects mid-message and a cleanup killed with SIGKILL mid-message
leave nothing in incoming/.
"""
import os
import signal
import socket
import stat
import unittest

from harness import attr
from harness import core as h
from harness.core import parse_records, record

FLAG_FILTER, FLAG_MAP_OK, FLAG_LOCAL = 1, 2, 4
STAT_BAD, STAT_SIZE, STAT_CONT, STAT_RCPT, STAT_DEFER = 1, 4, 8, 32, 64

HEADER_CHECKS = r"""/^Subject: reject me/ REJECT
/^Subject: reject text/ REJECT 5.7.0 not here
/^Subject: discard me/ DISCARD
/^Subject: hold me/ HOLD
/^Subject: warn me/ WARN watch this
/^X-Ignore-Me:/ IGNORE
/^Subject: replace me/ REPLACE Subject: replaced
/^Subject: prepend me/ PREPEND X-Prepended: yes
/^Subject: redirect me/ REDIRECT boss@example.net
/^Subject: bcc me/ BCC copy@example.net
/^Subject: folded\s+header/ REJECT folded match
"""
BODY_CHECKS = r"""/^body reject/ REJECT 5.7.1 bad body
/^body replace/ REPLACE replaced body line
"""
VIRTUAL = ("inline:{{team@v.test = ann@real.test, bob@real.test, team@v.test}, "
           "{big@v.test = a@r.test, b@r.test, c@r.test, d@r.test, e@r.test}, "
           "{loop1@v.test = loop2@v.test}, {loop2@v.test = loop1@v.test}, "
           "{dup@v.test = ann@real.test}}")


def message_records(sender, rcpts, content, attrs=()):
    out = b"".join(record("A", a) for a in attrs)
    out += record("S", sender)
    out += b"".join(record("R", r) for r in rcpts)
    out += record("M")
    for line in content.split("\n")[:-1] if content.endswith("\n") else content.split("\n"):
        out += record("N", line)
    return out + record("X") + record("E")


def check_grammar(recs):
    """The qfile.h grammar: C T envelope* M content* X extracted* E, and the
    size record's content size, data offset and recipient count."""
    types = "".join(t for t, _ in recs)
    assert types[0] == "C" and types[1] == "T", types
    assert types.endswith("E") and types.count("E") == 1, types
    m, x = types.index("M"), types.index("X")
    assert set(types[2:m]) <= set("FSAWOonRD"), types
    assert set(types[m + 1:x]) <= set("NL"), types
    assert set(types[x + 1:-1]) <= set("AOonRD"), types
    size, offset, nrcpt, _ = (int(v) for v in recs[0][1].split())
    content = sum(len(d) + (1 if t == "N" else 0) for t, d in recs[m + 1:x])
    assert size == content, (size, content)
    assert nrcpt == types.count("R") + types.count("D")
    pos = 0
    for t, d in recs[:m]:
        pos += len(record(t, d))
    assert offset == pos, (offset, pos)


class Client:
    """One connection to private/cleanup."""

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.reader = attr.AttrReader(self.sock, "cleanup")

    def send_attrs(self, **attrs):
        self.sock.sendall(attr.encode(attrs))

    def recv_attrs(self):
        return self.reader.read()

    def start(self, flags):
        self.send_attrs(flags=flags)
        return self.recv_attrs()["queue_id"]

    def close(self):
        self.sock.close()


class CleanupTest(unittest.TestCase):
    """One sandbox instance for the whole class (starting one takes time)."""

    @classmethod
    def setUpClass(cls):
        cls.inst = h.Instance()
        etc = cls.inst.etc
        with open(os.path.join(etc, "header_checks"), "w") as f:
            f.write(HEADER_CHECKS)
        with open(os.path.join(etc, "body_checks"), "w") as f:
            f.write(BODY_CHECKS)
        with open(os.path.join(etc, "main.cf"), "a") as f:
            f.write("\nheader_checks = pcre:%s/header_checks\n" % etc)
            f.write("body_checks = pcre:%s/body_checks\n" % etc)
            f.write("virtual_alias_maps = %s\n" % VIRTUAL)
            f.write("virtual_alias_expansion_limit = 4\n")
            f.write("message_size_limit = 20000\n")
            f.write("masquerade_domains = masq.test\nmasquerade_classes = envelope_recipient\n")
        # A stand-in qmgr (bin/test-trigger logs each trigger it gets).
        # Replace the real qmgr, if the sandbox has one.
        mcf = os.path.join(etc, "master.cf")
        with open(mcf) as f:
            kept = [l for l in f if not l.startswith(("qmgr ", "#qmgr "))]
        with open(mcf, "w") as f:
            f.writelines(kept)
            f.write("qmgr unix n - n - 1 test-trigger\n")
        try:
            cls.inst.start()
            cls.socket = h.wait_for(cls.find_socket, 10, "the cleanup socket")
        except BaseException:
            cls.inst.cleanup()
            raise

    @classmethod
    def find_socket(cls):
        path = cls.inst.path("spool", "private", "cleanup")
        return path if os.path.exists(path) else None

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    # Helpers.
    def submit(self, content, flags=FLAG_FILTER | FLAG_MAP_OK, sender="s@example.org",
               rcpts=("r@example.net",), attrs=()):
        c = Client(self.socket)
        try:
            qid = c.start(flags)
            self.assertTrue(qid)
            c.sock.sendall(message_records(sender, rcpts, content, attrs))
            reply = c.recv_attrs()
        finally:
            c.close()
        return qid, int(reply["status"]), reply["reason"]

    def queue_file(self, queue, qid):
        return self.inst.path("spool", queue, qid)

    def read_queue_file(self, queue, qid):
        path = self.queue_file(queue, qid)
        st = os.lstat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        with open(path, "rb") as f:
            recs = parse_records(f.read())
        check_grammar(recs)
        return recs

    def lines(self, recs):
        m = [t for t, _ in recs].index("M")
        x = [t for t, _ in recs].index("X")
        return [d.decode() for t, d in recs[m + 1:x]]

    def rcpts(self, recs):
        return [d.decode() for t, d in recs if t == "R"]

    def nothing_queued(self, qid):
        for q in ("incoming", "hold", "active", "deferred"):
            self.assertFalse(os.path.exists(self.queue_file(q, qid)), q)

    def temp_empty(self):
        return not os.listdir(self.inst.path("spool", "temp"))

    # Tests.
    def test_commit_into_incoming(self):
        qid, status, reason = self.submit("Subject: plain\n\nhello\n")
        self.assertEqual((status, reason), (0, ""))
        recs = self.read_queue_file("incoming", qid)
        lines = self.lines(recs)
        self.assertIn("Subject: plain", lines)
        self.assertTrue(any(l.startswith("Message-Id: <") and ("." + qid + "@") in l
                            for l in lines), lines)
        self.assertTrue(any(l.startswith("Date: ") for l in lines), lines)
        self.assertEqual(lines[-2:], ["", "hello"])
        self.assertEqual(self.rcpts(recs), ["r@example.net"])
        self.inst.wait_log("%s: message-id=<" % qid)
        self.assertTrue(self.temp_empty())
        self.inst.wait_log("trigger service=qmgr data=I")     # qmgr was told

    def test_local_submission_gets_from(self):
        qid, status, _ = self.submit("Subject: local\n\nx\n", flags=FLAG_LOCAL, sender="joe")
        self.assertEqual(status, 0)
        recs = self.read_queue_file("incoming", qid)
        self.assertIn(b"joe@", dict((t, d) for t, d in recs)["S"])
        self.assertTrue(any(l.startswith("From: joe@") for l in self.lines(recs)))

    def test_reject(self):
        qid, status, reason = self.submit("Subject: reject me\n\nx\n")
        self.assertEqual((status, reason), (STAT_CONT, "5.7.1 message content rejected"))
        self.nothing_queued(qid)
        self.inst.wait_log("%s: reject: header Subject: reject me from local; "
                           "from=<s@example.org> to=<r@example.net>: "
                           "5.7.1 message content rejected" % qid)
        qid, status, reason = self.submit("Subject: reject text\n\nx\n")
        self.assertEqual((status, reason), (STAT_CONT, "5.7.0 not here"))

    def test_reject_log_names_client(self):
        attrs = ("client_name=mail.example.com", "client_address=192.0.2.7",
                 "protocol_name=ESMTP", "helo_name=helo.example.com")
        qid, status, _ = self.submit("Subject: reject me\n\nx\n", attrs=attrs)
        self.assertEqual(status, STAT_CONT)
        self.inst.wait_log("%s: reject: header Subject: reject me from mail.example.com"
                           "[192.0.2.7]; from=<s@example.org> to=<r@example.net> proto=ESMTP "
                           "helo=<helo.example.com>: 5.7.1 message content rejected" % qid)

    def test_folded_header_is_one(self):
        qid, status, reason = self.submit("Subject: folded\n\theader\n\nx\n")
        self.assertEqual((status, reason), (STAT_CONT, "5.7.1 folded match"))

    def test_discard(self):
        qid, status, reason = self.submit("Subject: discard me\n\nx\n")
        self.assertEqual((status, reason), (0, "discarded"))
        self.nothing_queued(qid)
        self.inst.wait_log("%s: discard: header Subject: discard me" % qid)

    def test_hold(self):
        qid, status, _ = self.submit("Subject: hold me\n\nx\n")
        self.assertEqual(status, 0)
        self.read_queue_file("hold", qid)
        self.assertFalse(os.path.exists(self.queue_file("incoming", qid)))
        self.inst.wait_log("%s: hold: header Subject: hold me" % qid)

    def test_warn(self):
        qid, status, _ = self.submit("Subject: warn me\n\nx\n")
        self.assertEqual(status, 0)
        self.read_queue_file("incoming", qid)
        self.inst.wait_log("%s: warning: header Subject: warn me from local; "
                           "from=<s@example.org> to=<r@example.net>: watch this" % qid)

    def test_ignore_replace_prepend(self):
        qid, status, _ = self.submit("X-Ignore-Me: 1\nSubject: replace me\n\nx\n")
        self.assertEqual(status, 0)
        lines = self.lines(self.read_queue_file("incoming", qid))
        self.assertNotIn("X-Ignore-Me: 1", lines)
        self.assertIn("Subject: replaced", lines)
        qid, status, _ = self.submit("Subject: prepend me\n\nx\n")
        lines = self.lines(self.read_queue_file("incoming", qid))
        self.assertEqual(lines[:2], ["X-Prepended: yes", "Subject: prepend me"])

    def test_redirect(self):
        qid, status, _ = self.submit("Subject: redirect me\n\nx\n",
                                     rcpts=("a@example.net", "b@example.net"))
        self.assertEqual(status, 0)
        self.assertEqual(self.rcpts(self.read_queue_file("incoming", qid)), ["boss@example.net"])

    def test_bcc_action(self):
        qid, status, _ = self.submit("Subject: bcc me\n\nx\n")
        self.assertEqual(status, 0)
        recs = self.read_queue_file("incoming", qid)
        self.assertEqual(self.rcpts(recs), ["r@example.net", "copy@example.net"])
        # The copy: NOTIFY=NEVER (DSN_NOTIFY_NEVER = 1) right before its R.
        types = [(t, d.decode()) for t, d in recs]
        at = types.index(("R", "copy@example.net"))
        self.assertIn(("n", "1"), types[at - 2:at])
        self.assertNotIn("copy@example.net", "".join(self.lines(recs)))
        self.inst.wait_log("%s: bcc: header Subject: bcc me" % qid)

    def test_masquerade_envelope_recipient_class(self):
        qid, status, _ = self.submit("From: a@h.masq.test\nSubject: m\n\nx\n",
                                     sender="s@h.masq.test", rcpts=("u@h.masq.test",))
        self.assertEqual(status, 0)
        recs = self.read_queue_file("incoming", qid)
        self.assertEqual(self.rcpts(recs), ["u@masq.test"])
        self.assertEqual(dict(recs)["S"], b"s@h.masq.test")      # class not listed
        self.assertIn("From: a@h.masq.test", self.lines(recs))

    def test_body_checks(self):
        qid, status, reason = self.submit("Subject: b\n\nfine\nbody reject this\n")
        self.assertEqual((status, reason), (STAT_CONT, "5.7.1 bad body"))
        self.nothing_queued(qid)
        qid, status, _ = self.submit("Subject: b\n\nbody replace this\n")
        self.assertIn("replaced body line", self.lines(self.read_queue_file("incoming", qid)))

    def test_virtual_alias_and_duplicates(self):
        qid, status, _ = self.submit("Subject: v\n\nx\n",
                                     rcpts=("team@v.test", "dup@v.test", "team@v.test"))
        self.assertEqual(status, 0)
        recs = self.read_queue_file("incoming", qid)
        self.assertEqual(self.rcpts(recs), ["ann@real.test", "bob@real.test", "team@v.test",
                                            "ann@real.test"])
        origs = [d.decode() for t, d in recs if t == "O"]
        self.assertEqual(origs, ["team@v.test"] * 3 + ["dup@v.test"])

    def test_virtual_limits_defer(self):
        qid, status, reason = self.submit("Subject: v\n\nx\n", rcpts=("big@v.test",))
        self.assertEqual((status, reason), (STAT_DEFER, "4.6.0 Alias expansion error"))
        self.nothing_queued(qid)
        qid, status, _ = self.submit("Subject: v\n\nx\n", rcpts=("loop1@v.test",))
        self.assertEqual(status, STAT_DEFER)
        self.nothing_queued(qid)

    def test_size_limit(self):
        qid, status, _ = self.submit("Subject: big\n\n" + ("x" * 70 + "\n") * 400)
        self.assertEqual(status, STAT_SIZE)
        self.nothing_queued(qid)

    def test_refused_record_types(self):
        for bad in ("C", "T", "D", "W"):
            c = Client(self.socket)
            qid = c.start(0)
            c.sock.sendall(record("S", "s@x") + record(bad, "0") + record("R", "r@x")
                           + record("M") + record("N", "x") + record("X") + record("E"))
            reply = c.recv_attrs()
            c.close()
            self.assertEqual(int(reply["status"]), STAT_BAD, bad)
            self.nothing_queued(qid)

    def test_two_clients_at_once(self):
        slow = Client(self.socket)
        slow_id = slow.start(0)
        data = message_records("s@x", ["r@x"], "Subject: slow\n\nx\n")
        slow.sock.sendall(data[:20])
        qid, status, _ = self.submit("Subject: fast\n\nx\n")
        self.assertEqual(status, 0)             # served while the slow one waits
        slow.sock.sendall(data[20:])
        self.assertEqual(int(slow.recv_attrs()["status"]), 0)
        slow.close()
        self.read_queue_file("incoming", slow_id)

    def test_disconnect_mid_message_leaves_nothing(self):
        c = Client(self.socket)
        qid = c.start(0)
        data = message_records("s@x", ["r@x"], "Subject: gone\n\n" + "line\n" * 100)
        c.sock.sendall(data[:len(data) // 2])
        c.close()
        self.inst.wait_log("%s: lost connection with the client" % qid)
        h.wait_for(self.temp_empty, 10, "temp/ to be empty")
        self.nothing_queued(qid)

    def test_sigkill_mid_message_leaves_nothing(self):
        c = Client(self.socket)
        qid = c.start(0)
        data = message_records("s@x", ["r@x"], "Subject: killed\n\n" + "line\n" * 100)
        c.sock.sendall(data[:len(data) // 2])
        pids = h.wait_for(lambda: self.inst.service_pids("cleanup"), 10, "cleanup pid")
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        c.sock.settimeout(10)
        try:
            got = c.sock.recv(100)
        except ConnectionError:
            got = b""
        c.close()
        self.assertEqual(got, b"")              # no answer: the client says 451
        self.nothing_queued(qid)
        # At most a file that is not ready (0600) stays in temp/.
        for name in os.listdir(self.inst.path("spool", "temp")):
            mode = stat.S_IMODE(os.lstat(self.inst.path("spool", "temp", name)).st_mode)
            self.assertEqual(mode & 0o100, 0)
        # The master starts a new cleanup and mail flows again.
        qid, status, _ = self.submit("Subject: after\n\nx\n")
        self.assertEqual(status, 0)


if __name__ == "__main__":
    h.main()
