"""harness.sink - a scriptable SMTP/LMTP server on loopback that records
what a client sends, for the tests of surel's SMTP client (smtp/).

    sink = Sink(rcpt_reply={"gone@remote.test": "550 5.1.1 no such user"})
    sink.start()                       # 127.0.0.1:sink.port (or unix_path)
    ... sink.wait_transactions(1) ...
    t = sink.transactions[0]           # mail, rcpts, data (wire bytes), helo
    sink.close()

The data kept is the DATA content exactly as it came over the wire
(dot-stuffed, CR LF line ends) up to, not including, the final ".\r\n".
Behaviours a test can ask for: MAIL and RCPT answered only once DATA
has come (a client that does not pipeline hangs), EHLO refused, any EHLO
keyword list, per-recipient RCPT replies, an LMTP reply per recipient,
dropping the connection in the middle of DATA for the first N
transactions, a greeting of
one's choosing, a reply to RSET (a 421 hangs up), never answering at
one stage (stall_at: greeting, ehlo, mail, rcpt, data, dot, quit; the
quit stall records when the client hung up; xfer: the content is not
read after 354, with a small receive buffer, so a large message blocks
the client's writes), STARTTLS with the
test's ssl.SSLContext (handshakes and SNI names recorded), a pause
before the reply to DATA's final dot (data_delay, so deliveries overlap;
rcpt_delay: a pause of its own for a transaction to one of these recipients).
It counts connections, the most sessions open at once (max_sessions) and
the most transactions between MAIL and the end of DATA at once (max_tx);
each transaction records time.monotonic() at MAIL (mail_time) and after
the final reply (end_time). Everything is bounded: lines by LINE_MAX, waits by a
socket timeout, so a broken client cannot hang a test.
"""
import os
import socket
import threading
import time

LINE_MAX = 10000
DEFAULT_FEATURES = ("PIPELINING", "SIZE 10240000", "8BITMIME", "DSN", "SMTPUTF8")


class Sink:
    def __init__(self, lmtp=False, unix_path=None, features=DEFAULT_FEATURES, ehlo_ok=True,
                 greeting="220 sink.test ESMTP test sink", rcpt_reply=None, data_reply=None,
                 lmtp_reply=None, drop_in_data=0, hold_until_data=False,
                 host="127.0.0.1", port=0, rset_reply="250 2.0.0 Ok", tls_context=None,
                 stall_at=None, data_delay=0.0, rcpt_delay=None):
        self.lmtp = lmtp
        self.host, self.want_port = host, port   # another 127.0.0.x: an MX host
        self.unix_path = unix_path
        self.features = features
        self.ehlo_ok = ehlo_ok
        self.greeting = greeting
        self.rcpt_reply = rcpt_reply or {}      # address -> reply line
        self.data_reply = data_reply or "250 2.0.0 Ok: queued as SINK1"
        self.lmtp_reply = lmtp_reply or {}      # address -> reply after DATA (LMTP)
        self.drop_in_data = drop_in_data        # transactions to cut short in DATA
        # The stage whose reply never comes (the client's timeout for it).
        self.stall_at = stall_at
        self.quit_hangups = []                  # (QUIT seen, hang-up) monotonic times
        # Answer MAIL and RCPT only once DATA has arrived: a client that
        # does not pipeline waits for a reply that never comes.
        self.hold_until_data = hold_until_data
        self.rset_reply = rset_reply            # a 421 hangs up after it
        # An ssl.SSLContext (server side): STARTTLS is offered with it.
        self.tls_context = tls_context
        self.tls = []                           # per handshake: version, cipher, resumed
        self.sni = []                           # SNI names seen (None: none sent)
        if tls_context is not None:
            tls_context.sni_callback = self._sni_seen
        self.transactions = []                  # completed ones
        self.commands = []                      # every command line, in order
        self.connections = 0
        self.data_delay = data_delay
        self.rcpt_delay = rcpt_delay or {}
        self.sessions = self.max_sessions = 0   # open now, most at once
        self.in_tx = self.max_tx = 0            # between MAIL and the end of DATA
        self.lock = threading.Lock()
        self.stopping = False
        self.threads = []

    # Life cycle.
    def start(self):
        if self.unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(self.unix_path)
            os.chmod(self.unix_path, 0o666)     # the client runs as mail_owner
            self.address = self.unix_path
        else:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.stall_at == "xfer":         # accepted sockets inherit it
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            self.sock.bind((self.host, self.want_port))
            self.port = self.sock.getsockname()[1]
            self.address = (self.host, self.port)       # host "::1": IPv6
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def close(self):
        self.stopping = True
        for t in self.threads:
            t.join(5)
        self.sock.close()
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)

    def wait_transactions(self, count, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.transactions) >= count:
                    return list(self.transactions)
            time.sleep(0.05)
        raise AssertionError("sink: %d transaction(s) within %.0fs, got %d; commands %r"
                             % (count, timeout, len(self.transactions), self.commands))

    def command_lines(self, verb):
        with self.lock:
            return [c for c in self.commands if c.upper().startswith(verb)]

    # The server.
    def _sni_seen(self, sslobj, name, ctx):
        with self.lock:
            self.sni.append(name)

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                self.sessions += 1
                self.max_sessions = max(self.max_sessions, self.sessions)
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, conn):
        conn.settimeout(30)
        f = conn.makefile("rb")
        state = {"in_tx": False}
        try:
            self._session(conn, f, state)
        except (OSError, ValueError):
            pass
        finally:
            with self.lock:
                self.sessions -= 1
                if state["in_tx"]:
                    self.in_tx -= 1
            try:
                f.close()
                conn.close()
            except OSError:
                pass

    def _tx_mark(self, state, on):
        """a transaction starts (MAIL) or ends (DATA done, RSET)"""
        with self.lock:
            if on and not state["in_tx"]:
                self.in_tx += 1
                self.max_tx = max(self.max_tx, self.in_tx)
            elif not on and state["in_tx"]:
                self.in_tx -= 1
            state["in_tx"] = on

    def _session(self, conn, f, state):
        held = []

        def say(*lines):
            conn.sendall(b"".join(l.encode() + b"\r\n" for l in held + list(lines)))
            del held[:]

        def answer(line):
            if self.hold_until_data:
                held.append(line)
            else:
                say(line)

        if self.stall_at == "greeting":
            self._stall(f)
            return
        say(self.greeting)
        if not self.greeting.startswith("220"):
            return
        peer = conn.getpeername() if not self.unix_path else ""
        tx = None
        in_tls = False
        while not self.stopping:
            line = f.readline(LINE_MAX)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", errors="replace")
            with self.lock:
                self.commands.append(cmd)
            verb = cmd.split(" ", 1)[0].upper()
            stage = {"EHLO": "ehlo", "LHLO": "ehlo", "HELO": "ehlo", "MAIL": "mail",
                     "RCPT": "rcpt", "DATA": "data", "QUIT": "quit"}.get(verb)
            if stage is not None and stage == self.stall_at:
                seen = time.monotonic()
                self._stall(f)
                if stage == "quit":
                    with self.lock:
                        self.quit_hangups.append((seen, time.monotonic()))
                return
            if verb in ("EHLO", "LHLO") and (self.ehlo_ok or self.lmtp):
                features = list(self.features)
                if self.tls_context is not None and not in_tls:
                    features.append("STARTTLS")
                feats = ["250-sink.test"] + ["250-" + k for k in features[:-1]]
                feats += ["250 " + features[-1]] if features else []
                if not features:
                    feats = ["250 sink.test"]
                say(*feats)
                tx = {"helo": cmd}
            elif verb == "EHLO":
                say("502 5.5.2 EHLO not understood")
            elif verb == "HELO":
                say("250 sink.test")
                tx = {"helo": cmd}
            elif verb == "MAIL":
                tx = dict(tx or {}, mail=cmd, rcpts=[], accepted=[], peer=peer,
                          mail_time=time.monotonic())
                self._tx_mark(state, True)
                answer("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = cmd[cmd.index("<") + 1:cmd.index(">")] if "<" in cmd else ""
                tx["rcpts"].append(cmd)
                reply = self.rcpt_reply.get(addr, "250 2.1.5 Ok")
                if reply.startswith("2"):
                    tx["accepted"].append(addr)
                tx["tls"] = in_tls
                answer(reply)
            elif verb == "DATA":
                if not tx or not tx.get("accepted"):
                    say("554 5.5.1 Error: no valid recipients")
                    continue
                say("354 End data with <CR><LF>.<CR><LF>")
                if self.stall_at == "xfer":
                    deadline = time.monotonic() + 60
                    while not self.stopping and time.monotonic() < deadline:
                        time.sleep(0.1)         # read nothing: the client's writes block
                    return
                if not self._data(conn, f, tx, say):
                    return
                self._tx_mark(state, False)
            elif verb == "STARTTLS" and self.tls_context is not None and not in_tls:
                say("220 2.0.0 Ready to start TLS")
                conn = self.tls_context.wrap_socket(conn, server_side=True)
                f = conn.makefile("rb")
                in_tls = True
                with self.lock:
                    self.tls.append({"version": conn.version(), "cipher": conn.cipher()[0],
                                     "resumed": conn.session_reused})
                tx = None
            elif verb == "RSET":
                self._tx_mark(state, False)
                tx = {"helo": (tx or {}).get("helo")}
                say(self.rset_reply)
                if self.rset_reply.startswith("421"):
                    return
            elif verb == "QUIT":
                say("221 2.0.0 Bye")
                return
            else:
                say("502 5.5.2 Error: command not recognized")

    def _stall(self, f):
        """Never answer; read until the client hangs up (or the socket
        timeout ends the wait)."""
        while f.readline(LINE_MAX):
            pass

    def _data(self, conn, f, tx, say):
        """Read DATA content; False when the connection is to be dropped."""
        data = b""
        with self.lock:
            drop = self.drop_in_data > 0
            if drop:
                self.drop_in_data -= 1
        while True:
            line = f.readline(LINE_MAX)
            if not line:
                return False
            if line == b".\r\n":
                break
            data += line
            if drop and len(data) > 0:
                conn.shutdown(socket.SHUT_RDWR)     # gone in the middle of DATA
                return False
        tx["data"] = data
        with self.lock:
            self.transactions.append(tx)
        if self.stall_at == "dot":
            self._stall(f)
            return False
        delay = max([self.rcpt_delay.get(a, 0) for a in tx["accepted"]] + [self.data_delay])
        if delay > 0:
            time.sleep(delay)
        if self.lmtp:
            say(*[self.lmtp_reply.get(a, "250 2.0.0 <%s> delivered" % a) for a in tx["accepted"]])
        else:
            say(self.data_reply)
        tx["end_time"] = time.monotonic()
        tx = {"helo": tx.get("helo")}
        return True


def unstuff(data):
    """The content of wire DATA bytes: dots unstuffed."""
    return b"".join(l[1:] if l.startswith(b".") else l for l in data.splitlines(True))
