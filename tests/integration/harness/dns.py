"""dns - a real name server for tests: Debian's unbound on a loopback UDP
port, with only the local-zone/local-data lines a test gives (no root
hints, no recursion: everything outside the local zones is refused).

    ns = NameServer(tmpdir, ['local-zone: "bl.example." static',
                             'local-data: "2.0.0.127.bl.example. A 127.0.0.2"'])
    ns.start(); ...; ns.stop()
    inst.conf(dns_servers="127.0.0.1@%d" % ns.port)

Use names below .example, not .test: unbound answers NXDOMAIN for .test
itself (RFC 6761 special-use names).

Reverse names: ptr("127.0.0.2", "good.example") is the zone line of a PTR
record (unbound's local-data-ptr; 127.0.0.x falls in unbound's own
127.in-addr.arpa zone, where every other name is NXDOMAIN).
"""
import os
import shutil
import socket
import subprocess
import tempfile
import unittest

from .core import free_port, wait_for

UNBOUND = shutil.which("unbound") or "/usr/sbin/unbound"
HAVE_UNBOUND = os.path.exists(UNBOUND)


def udp_port():
    """A UDP port for the name server: from the locked range below the
    ephemeral ports (harness/core.py), never one the kernel just handed
    out to bind(0) and may hand to the next client socket too (a CI run
    lost the port that way: unbound failed to bind and the test waited
    15 s for an answer from nobody)."""
    return free_port(kind=socket.SOCK_DGRAM)


def ptr(addr, name):
    """The zone line of a PTR record addr -> name."""
    return 'local-data-ptr: "%s %s"' % (addr, name)


def _query(name, qtype=1):
    """A DNS query packet (id 1, RD) for name/qtype."""
    q = b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    for label in name.strip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"


class NameServer:
    def __init__(self, tmpdir, zone, probe="probe.example"):
        self.tmp = tmpdir
        self.zone = list(zone) + ['local-zone: "%s." static' % probe,
                                  'local-data: "%s. A 127.0.0.1"' % probe]
        self.probe = probe
        self.port = udp_port()
        self.proc = None

    def start(self, attempts=3):
        """Start unbound and wait until it answers; a server that exits
        (its port taken after all: a resolver's random source port can
        fall anywhere) is started again on another port."""
        for attempt in range(attempts):
            if self._start_once():
                return self
            self.stop()
            self.port = udp_port()
        with open(os.path.join(self.tmp, "unbound.log")) as f:
            raise AssertionError("unbound never answered; its log:\n" + f.read()[-2000:])

    def _start_once(self):
        conf = os.path.join(self.tmp, "unbound.conf")
        lines = ["server:",
                 "  interface: 127.0.0.1@%d" % self.port,
                 "  port: %d" % self.port,
                 "  do-daemonize: no", "  username: \"\"", "  chroot: \"\"",
                 "  directory: \"%s\"" % self.tmp, "  pidfile: \"\"",
                 "  use-syslog: no", "  logfile: \"\"", "  verbosity: 0",
                 "  access-control: 127.0.0.0/8 allow",
                 # A port shared with another socket is a bind error, not
                 # two servers splitting the queries.
                 "  so-reuseport: no",
                 "  do-not-query-localhost: yes",
                 "  module-config: \"iterator\"",
                 "  auto-trust-anchor-file: \"\"",
                 "  trust-anchor-file: \"\"",
                 "  root-hints: \"\"",
                 '  local-zone: "." refuse']
        lines += ["  " + z for z in self.zone]
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log = open(os.path.join(self.tmp, "unbound.log"), "w")
        self.proc = subprocess.Popen([UNBOUND, "-d", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        try:
            wait_for(lambda: self.proc.poll() is not None or self.answers(), 15,
                     "unbound to answer")
        except AssertionError:
            return False
        return self.proc.poll() is None

    def answers(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(_query(self.probe), ("127.0.0.1", self.port))
            return len(s.recv(512)) > 12
        except OSError:
            return False
        finally:
            s.close()

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None


class ZoneTestCase(unittest.TestCase):
    """Tests sharing one name server (cls.ns, serving cls.ZONE) and one
    smtpd instance (cls.inst = cls.make_instance(tmpdir, dns_servers),
    started and answering) for the whole class."""
    ZONE = []

    @classmethod
    def make_instance(cls, tmpdir, dns_servers):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="surel-dns-")
        cls.ns = NameServer(cls.tmp, cls.ZONE).start()
        try:
            cls.inst = cls.make_instance(cls.tmp, "127.0.0.1@%d" % cls.ns.port)
            cls.inst.start()
            cls.inst.wait_listening()
        except BaseException:
            cls.ns.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.ns.stop()
        shutil.rmtree(cls.tmp, True)

