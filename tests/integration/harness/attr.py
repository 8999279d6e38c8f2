"""harness.attr - the attribute-list wire format (lib/util/attr.c), once.

A list is `name NUL value NUL ... NUL`: an empty name ends it. Numbers
travel as decimal text and every value as its str(); the readers return
text (decoded with replacement, as daemons may send any bytes). Tests that
speak a daemon's protocol (cleanup, local, bounce, qmgr's agents) use
these instead of re-encoding the format.
"""


def encode(pairs):
    """Bytes of one attribute list; pairs is a dict or (name, value) pairs,
    sent in order."""
    if hasattr(pairs, "items"):
        pairs = pairs.items()
    out = bytearray()
    for name, value in pairs:
        name, value = str(name).encode(), str(value).encode()
        if not name or b"\0" in name or b"\0" in value:
            raise ValueError("attribute names must be non-empty; no NUL in names or values")
        out += name + b"\0" + value + b"\0"
    return bytes(out + b"\0")


def decode(data):
    """(pairs, rest): the first list in data as [(name, value)] and the bytes
    after it; ValueError when data holds no complete list."""
    pairs, pos = [], 0
    while True:
        end = data.find(b"\0", pos)
        if end < 0:
            raise ValueError("incomplete attribute list")
        name = data[pos:end].decode(errors="replace")
        pos = end + 1
        if not name:
            return pairs, data[pos:]
        end = data.find(b"\0", pos)
        if end < 0:
            raise ValueError("incomplete attribute list")
        pairs.append((name, data[pos:end].decode(errors="replace")))
        pos = end + 1


class AttrReader:
    """Reads attribute lists from a socket (recv) or a binary file object
    (read). A file is read a byte at a time, so queue-file records or other
    data that follow a list on the same file are left for the caller."""

    def __init__(self, source, who="peer"):
        self.source = source
        self.who = who
        self.pending = b""

    def _more(self):
        if hasattr(self.source, "recv"):
            chunk = self.source.recv(4096)
        else:
            chunk = self.source.read(1)
        if not chunk:
            raise ConnectionError("%s hung up" % self.who)
        self.pending += chunk

    def _field(self):
        while b"\0" not in self.pending:
            self._more()
        field, self.pending = self.pending.split(b"\0", 1)
        return field.decode(errors="replace")

    def read_pairs(self):
        """The next list as [(name, value)], in the order sent."""
        pairs = []
        while True:
            name = self._field()
            if name == "":
                return pairs
            pairs.append((name, self._field()))

    def read(self):
        """The next list as a dict."""
        return dict(self.read_pairs())


def send(sock, pairs):
    """Write one list to a socket."""
    sock.sendall(encode(pairs))
