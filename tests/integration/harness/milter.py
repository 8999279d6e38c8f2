"""harness.milter - a milter (filter side) written on the raw protocol.

A test filter for surel's milter client: it listens on a loopback port,
negotiates version 6 with the actions and protocol flags the test gives,
records every command and macro it receives, and answers each stage as
the test's `rules` say. Python's socket and struct only, so every byte is
under the test's control: it can also hang (never answer) or crash
(close the connection) at any stage, for milter_default_action.

rules: {stage: answer}, stage one of "connect", "helo", "mail", "rcpt",
"data", "header", "eoh", "body", "eom", "abort"; answer one of
    "continue", "accept", "reject", "tempfail", "discard", "skip",
    ("reply", "550 5.7.1 text"), "hang", "crash",
    a list of modifications then a final answer (at eom):
        ("addheader", name, value), ("insheader", index, name, value),
        ("chgheader", index, name, value), ("replbody", bytes),
        ("addrcpt", rcpt), ("addrcpt_par", rcpt, args), ("delrcpt", rcpt),
        ("chgfrom", sender, args), ("quarantine", reason), ("progress",)
    or a function(args) returning one of those (args: the command's
    NUL-separated fields).
"""
import socket
import struct
import threading

STAGES = {b"C": "connect", b"H": "helo", b"M": "mail", b"R": "rcpt", b"T": "data",
          b"L": "header", b"N": "eoh", b"B": "body", b"E": "eom", b"U": "unknown"}
NO_FLAGS = {"connect": 0x1, "helo": 0x2, "mail": 0x4, "rcpt": 0x8, "body": 0x10,
            "header": 0x20, "eoh": 0x40, "unknown": 0x100, "data": 0x200}
NR_FLAGS = {"connect": 0x1000, "helo": 0x2000, "mail": 0x4000, "rcpt": 0x8000,
            "data": 0x10000, "unknown": 0x20000, "eoh": 0x40000, "body": 0x80000,
            "header": 0x80}
SIMPLE = {"continue": b"c", "accept": b"a", "reject": b"r", "tempfail": b"t",
          "discard": b"d", "skip": b"s"}
ALL_ACTIONS = 0x1ff


def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data


def z(*fields):
    return b"".join((f.encode() if isinstance(f, str) else f) + b"\0" for f in fields)


class TestMilter:
    """A filter on 127.0.0.1:port; .events lists (stage, fields, macros)."""

    def __init__(self, rules=None, actions=ALL_ACTIONS, protocol=0):
        self.rules = rules or {}
        self.actions = actions
        self.protocol = protocol
        self.events = []
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.endpoint = "inet:127.0.0.1:%d" % self.port
        self.stopped = threading.Event()
        self.threads = []
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()

    def close(self):
        self.stopped.set()
        try:
            # shutdown() wakes the accept() blocked in the other thread;
            # close() alone would leave the port listening for it.
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    def stages(self):
        with self.lock:
            return [e[0] for e in self.events]

    def macros(self):
        """Every macro the filter was given, merged."""
        out = {}
        with self.lock:
            for _, _, m in self.events:
                out.update(m)
        return out

    def _accept_loop(self):
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()

    @staticmethod
    def _read(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn):
        macros = {}
        try:
            while True:
                (length,) = struct.unpack("!I", self._read(conn, 4))
                body = self._read(conn, length)
                cmd, data = body[:1], body[1:]
                if cmd == b"O":
                    conn.sendall(packet(b"O", struct.pack("!III", 6, self.actions,
                                                          self.protocol)))
                elif cmd == b"D":
                    fields = data[1:].split(b"\0")
                    for i in range(0, len(fields) - 1, 2):
                        macros[fields[i].decode()] = fields[i + 1].decode()
                elif cmd == b"Q":
                    return
                elif cmd == b"A":
                    with self.lock:
                        self.events.append(("abort", [], {}))
                else:
                    stage = STAGES.get(cmd, "?")
                    fields = data if stage == "body" else data.split(b"\0")
                    with self.lock:
                        self.events.append((stage, fields, dict(macros)))
                    macros = {}
                    if not self._answer(conn, stage, fields):
                        return
        except (EOFError, OSError, struct.error):
            pass
        finally:
            conn.close()

    def _answer(self, conn, stage, fields):
        """Send the rule's answer; False to end the connection."""
        if self.protocol & NO_FLAGS.get(stage, 0):
            raise AssertionError("the MTA sent %s although the filter asked not to" % stage)
        if self.protocol & NR_FLAGS.get(stage, 0):
            return True
        rule = self.rules.get(stage, "continue")
        if callable(rule):
            rule = rule(fields)
        if rule == "hang":
            self.stopped.wait(120)
            return False
        if rule == "crash":
            return False
        steps = rule if isinstance(rule, list) else [rule]
        out = b""
        for step in steps:
            if isinstance(step, str):
                out += packet(SIMPLE[step])
                continue
            kind = step[0]
            if kind == "reply":
                out += packet(b"y", z(step[1]))
            elif kind == "progress":
                out += packet(b"p")
            elif kind == "addheader":
                out += packet(b"h", z(step[1], step[2]))
            elif kind == "insheader":
                out += packet(b"i", struct.pack("!I", step[1]) + z(step[2], step[3]))
            elif kind == "chgheader":
                out += packet(b"m", struct.pack("!I", step[1]) + z(step[2], step[3]))
            elif kind == "replbody":
                out += packet(b"b", step[1])
            elif kind == "addrcpt":
                out += packet(b"+", z(step[1]))
            elif kind == "addrcpt_par":
                out += packet(b"2", z(step[1], step[2]))
            elif kind == "delrcpt":
                out += packet(b"-", z(step[1]))
            elif kind == "chgfrom":
                out += packet(b"e", z(step[1], step[2]))
            elif kind == "quarantine":
                out += packet(b"q", z(step[1]))
            else:
                raise ValueError(step)
        conn.sendall(out)
        return True
