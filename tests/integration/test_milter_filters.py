"""test_milter_filters - real mail filters from Debian through surel's milter client.

Each test starts the filter itself, with its own configuration file in a
temporary folder and a private loopback port (never the system service),
points a whole sandbox instance's smtpd_milters at it and checks what the
SMTP client hears and what is delivered:

  OpenDKIM        outgoing mail is signed (the key from opendkim-genkey),
                  the signature verifies with python3-dkim against the
                  test's key record (no DNS: a dnsfunc answers it), and
                  a broken signature gets OpenDKIM's Authentication-Results
                  (its key look-up is TestPublicKeys, a file)
  SpamAssassin    spamd (local tests only, no rule updates) behind
                  spamass-milter -r: GTUBE is rejected at end of data with
                  the filter's reply; clean mail gets X-Spam-Status
  ClamAV          clamd with a one-signature database the test writes
                  (the EICAR string) behind clamav-milter: an EICAR
                  attachment is rejected, clean mail passes
  rspamd          the proxy worker in milter mode, no network look-ups:
                  GTUBE rejected, clean mail delivered with its headers

Debian modules run under /usr/bin/python3 (the first python3 on PATH may
be another build). A test skips, saying what is missing, only when its
package is not installed.
"""
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import unittest

from harness.core import Instance, binary, free_port, tcp_listening, wait_for
from harness.e2e import wait_delivered
from harness.smtpd import SmtpClient, queued_id

DEBIAN_PYTHON = "/usr/bin/python3"
HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def have(*paths):
    return all(os.access(p, os.X_OK) for p in paths)


class FilterTest(unittest.TestCase):
    """A temp folder, processes to stop, and a started sandbox instance."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="surel-filter-")
        os.chmod(self.tmp, 0o755)
        self.procs = []
        self.inst = None

    def tearDown(self):
        if self.inst:
            self.inst.cleanup()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def write(self, name, text, mode=0o644):
        with open(self.path(name), "w" if isinstance(text, str) else "wb") as f:
            f.write(text)
        os.chmod(self.path(name), mode)
        return self.path(name)

    def spawn(self, args, name, port=None, timeout=60, what=None):
        """Start a process in its own group, output to a file; wait for port."""
        log = open(self.path(name + ".out"), "wb")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.procs.append(p)
        if port is not None:
            def up():
                if p.poll() is not None:
                    raise AssertionError("%s exited %s: %s" % (args[0], p.returncode,
                                                               self.output(name)))
                return tcp_listening(port)
            wait_for(up, timeout, what or "%s on port %d" % (args[0], port), interval=0.2)
        return p

    def output(self, name):
        try:
            with open(self.path(name + ".out"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def instance(self, **params):
        self.inst = Instance()
        self.inst.conf(**params)
        self.inst.start()
        wait_for(lambda: tcp_listening(self.inst.smtp_port), 10, "smtpd")
        return self.inst

    def transaction(self, text, sender="sender@client.test", rcpt="alice@sandbox.test",
                    source=None):
        """One message over SMTP; the final reply."""
        c = SmtpClient(self.inst.smtp_port, source)
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<%s>" % rcpt), "250 2.1.5 Ok")
        self.assertTrue(c.cmd("DATA").startswith("354"))
        return c.cmd(text.replace("\n", "\r\n") + "\r\n.")


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@unittest.skipUnless(HAVE_SMTPD and have("/usr/sbin/opendkim", "/usr/sbin/opendkim-genkey"),
                     "opendkim and opendkim-tools (Debian) not installed")
class OpenDkimTest(FilterTest):

    def setUp(self):
        super().setUp()
        subprocess.run(["/usr/sbin/opendkim-genkey", "-D", self.tmp, "-d", "sign.test",
                        "-s", "sel"], check=True, capture_output=True, timeout=60)
        with open(self.path("sel.txt")) as f:
            zone = f.read()
        # The TXT record: the quoted strings of the zone line, joined.
        self.txt = "".join(part for i, part in enumerate(zone.split('"')) if i % 2 == 1)
        self.assertIn("p=", self.txt)
        self.write("keys", "sel._domainkey.sign.test %s\n" % self.txt)
        self.port = free_port()
        # Mail from 127.0.0.2 is ours to sign (InternalHosts); from
        # 127.0.0.1 it comes from outside and is verified.
        self.write("opendkim.conf", textwrap.dedent("""\
            Socket inet:%d@127.0.0.1
            Mode sv
            Domain sign.test
            Selector sel
            KeyFile %s
            RequireSafeKeys no
            TestPublicKeys %s
            InternalHosts 127.0.0.2
            AuthservID auth.test
            Canonicalization simple/simple
            Syslog no
            PidFile %s
            UMask 022
            """ % (self.port, self.path("sel.private"), self.path("keys"),
                   self.path("opendkim.pid"))))
        self.spawn(["/usr/sbin/opendkim", "-f", "-x", self.path("opendkim.conf")],
                   "opendkim", self.port)
        self.instance(smtpd_milters="inet:127.0.0.1:%d" % self.port)

    def verify(self, message):
        """python3-dkim's verdict on a delivered message, with our key record."""
        script = textwrap.dedent("""\
            import sys, dkim
            txt = sys.argv[1].encode()
            def dns(name, timeout=5):
                return txt if name == b"sel._domainkey.sign.test." else None
            print(dkim.verify(sys.stdin.buffer.read(), dnsfunc=dns))
            """)
        r = subprocess.run([DEBIAN_PYTHON, "-c", script, self.txt], input=crlf(message),
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip() == b"True"

    def test_outgoing_mail_is_signed_and_verifies(self):
        msg = ("From: Ann <ann@sign.test>\nTo: alice@sandbox.test\nSubject: signed\n"
               "X-Fold: one\n\ttwo\n\nbody line\n  indented line\n")
        queued_id(self.transaction(msg, sender="ann@sign.test", source="127.0.0.2"))
        data = wait_delivered(self.inst, "alice")[0]
        self.assertIn(b"\nDKIM-Signature: v=1; a=rsa-sha256; c=simple/simple; d=sign.test;",
                      data)
        self.assertTrue(self.verify(data), data)
        # Change one byte of the body: it no longer verifies.
        self.assertFalse(self.verify(data.replace(b"body line", b"body lime")))

    def test_incoming_signatures_are_checked(self):
        msg = "From: ann@sign.test\nTo: alice@sandbox.test\nSubject: s\n\nthe body\n"
        queued_id(self.transaction(msg, sender="ann@sign.test", source="127.0.0.2"))
        signed = wait_delivered(self.inst, "alice")[0]
        # What was delivered, as it would arrive elsewhere: the headers the
        # delivery added go, the DKIM-Signature and the rest stay.
        rest = signed.split(b"\n", 2)[2]                    # Return-Path, Delivered-To
        good = rest.decode()
        bad = good.replace("the body", "the b0dy")
        queued_id(self.transaction(good.rstrip("\n"), sender="ann@sign.test"))
        queued_id(self.transaction(bad.rstrip("\n"), sender="ann@sign.test"))
        got = wait_delivered(self.inst, "alice", 3)
        verified = [d for d in got if b"Authentication-Results:" in d]
        self.assertEqual(len(verified), 2, got)
        results = sorted(d.split(b"Authentication-Results: ", 1)[1].split(b"\n")[0]
                         for d in verified)
        self.assertTrue(any(b"auth.test" in r for r in results), results)
        text = b"\n".join(d.split(b"Authentication-Results: ", 1)[1][:300] for d in verified)
        self.assertIn(b"dkim=pass", text)
        self.assertIn(b"dkim=fail", text)


@unittest.skipUnless(HAVE_SMTPD and have("/usr/sbin/spamd", "/usr/sbin/spamass-milter",
                                         "/usr/bin/spamc"),
                     "spamd, spamc and spamass-milter (Debian) not installed")
class SpamAssassinTest(FilterTest):

    def setUp(self):
        super().setUp()
        self.spamd_port = free_port()
        self.port = free_port()
        os.makedirs(self.path("site"))
        # Debian's plugin list (*.pre) with a local.cf of our own: no
        # network tests, no Bayes, no rule updates.
        for name in os.listdir("/etc/spamassassin"):
            if name.endswith(".pre"):
                shutil.copy(os.path.join("/etc/spamassassin", name), self.path("site"))
        self.write("site/local.cf", "use_bayes 0\nskip_rbl_checks 1\n"
                   "dns_available no\nreport_safe 0\n")
        self.spawn(["/usr/sbin/spamd", "-L", "-x", "--listen=127.0.0.1:%d" % self.spamd_port,
                    "--allowed-ips=127.0.0.1", "--siteconfigpath=" + self.path("site"),
                    "--max-children=1", "--min-children=1", "-s", "stderr",
                    "--pidfile=" + self.path("spamd.pid"), "-u", "nobody",
                    "--helper-home-dir=" + self.tmp],
                   "spamd", self.spamd_port, timeout=120, what="spamd to listen")
        self.spawn(["/usr/sbin/spamass-milter", "-p", "inet:%d@127.0.0.1" % self.port,
                    "-r", "5", "-m", "-P", self.path("spamass.pid"), "--",
                    "-d", "127.0.0.1", "-p", str(self.spamd_port)],
                   "spamass-milter", self.port)
        self.instance(smtpd_milters="inet:127.0.0.1:%d" % self.port)

    def test_gtube_is_rejected_with_the_filters_reply(self):
        reply = self.transaction("Subject: buy\n\n%s\n" % GTUBE)
        self.assertTrue(reply.startswith("550 5.7.1"), reply)
        self.assertIn("Blocked by SpamAssassin", reply)
        self.inst.wait_log("milter-reject: END-OF-MESSAGE from")
        self.assertEqual(self.inst.messages("alice"), [])

    def test_clean_mail_is_delivered_with_x_spam_status(self):
        queued_id(self.transaction("From: a@client.test\nTo: alice@sandbox.test\n"
                                   "Subject: lunch\n\nShall we meet at noon?\n"))
        data = wait_delivered(self.inst, "alice", timeout=60)[0]
        self.assertIn(b"\nX-Spam-Status: No", data)


@unittest.skipUnless(HAVE_SMTPD and have("/usr/sbin/clamd", "/usr/sbin/clamav-milter"),
                     "clamav-daemon and clamav-milter (Debian) not installed")
class ClamAvTest(FilterTest):

    def setUp(self):
        super().setUp()
        import hashlib
        os.makedirs(self.path("db"))
        # One signature, the EICAR test file (by its MD5 and size), plus the
        # string anywhere in a body part: no freshclam, no download.
        self.write("db/test.hdb", "%s:%d:Surel.Test.EICAR\n"
                   % (hashlib.md5(EICAR).hexdigest(), len(EICAR)))
        self.write("db/test.ndb", "Surel.Test.EICAR.String:0:*:%s\n" % EICAR.hex())
        self.clamd_port = free_port()
        self.port = free_port()
        self.write("clamd.conf", textwrap.dedent("""\
            TCPSocket %d
            TCPAddr 127.0.0.1
            DatabaseDirectory %s
            Foreground yes
            LogFile %s
            PidFile %s
            Bytecode no
            ScanMail yes
            """ % (self.clamd_port, self.path("db"), self.path("clamd.log"),
                   self.path("clamd.pid"))))
        self.spawn(["/usr/sbin/clamd", "-c", self.path("clamd.conf")], "clamd",
                   self.clamd_port, timeout=120, what="clamd to load its database")
        self.write("clamav-milter.conf", textwrap.dedent("""\
            MilterSocket inet:%d@127.0.0.1
            ClamdSocket tcp:127.0.0.1:%d
            Foreground yes
            LogFile %s
            PidFile %s
            OnInfected Reject
            OnFail Defer
            AddHeader Replace
            RejectMsg Virus found: %%v
            """ % (self.port, self.clamd_port, self.path("milter.log"),
                   self.path("milter.pid"))))
        self.spawn(["/usr/sbin/clamav-milter", "-c", self.path("clamav-milter.conf")],
                   "clamav-milter", self.port)
        self.instance(smtpd_milters="inet:127.0.0.1:%d" % self.port)

    def mime(self, payload):
        return ("From: a@client.test\nTo: alice@sandbox.test\nSubject: file\n"
                "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n"
                "--b1\nContent-Type: text/plain\n\nsee attached\n"
                "--b1\nContent-Type: application/octet-stream\n"
                "Content-Disposition: attachment; filename=\"f.com\"\n"
                "Content-Transfer-Encoding: base64\n\n%s\n--b1--\n"
                % base64.encodebytes(payload).decode().strip())

    def test_eicar_attachment_is_rejected(self):
        reply = self.transaction(self.mime(EICAR))
        self.assertTrue(reply.startswith("5"), reply)
        self.assertIn("Surel.Test.EICAR", reply)
        self.inst.wait_log("milter-reject: END-OF-MESSAGE from")
        self.assertEqual(self.inst.messages("alice"), [])

    def test_clean_mail_passes(self):
        queued_id(self.transaction(self.mime(b"just some harmless bytes\n")))
        data = wait_delivered(self.inst, "alice", timeout=30)[0]
        self.assertIn(b"\nX-Virus-Scanned: clamav-milter", data)
        self.assertIn(b"X-Virus-Status: Clean", data)


@unittest.skipUnless(HAVE_SMTPD and have("/usr/bin/rspamd"), "rspamd (Debian) not installed")
class RspamdTest(FilterTest):
    """Debian's rspamd.conf with a LOCAL_CONFDIR of the test's: the proxy
    worker in milter mode scanning itself, the other workers on private
    ports, DNS at a dead loopback port (no look-up leaves the machine),
    no fuzzy servers (their names would go to the system resolver), no
    Redis (Bayes off)."""

    def setUp(self):
        super().setUp()
        self.port = free_port()
        local = self.path("local")
        for d in ("local/local.d", "db", "run", "log"):
            os.makedirs(self.path(d))
        for d in ("db", "run", "log"):
            os.chmod(self.path(d), 0o777)
        conf = {
            "worker-proxy.inc": 'bind_socket = "127.0.0.1:%d";\nmilter = yes;\ntimeout = 120s;\n'
                                'upstream "local" { default = yes; self_scan = yes; }\ncount = 1;\n'
                                % self.port,
            "worker-normal.inc": 'bind_socket = "127.0.0.1:%d";\ncount = 1;\n' % free_port(),
            "worker-controller.inc": 'bind_socket = "127.0.0.1:%d";\ncount = 1;\n' % free_port(),
            "worker-fuzzy.inc": 'bind_socket = "127.0.0.1:%d";\ncount = -1;\n' % free_port(),
            "options.inc": 'dns { nameserver = ["127.0.0.1:1"]; timeout = 1s; retransmits = 1; }\n'
                           'disable_hyperscan = true;\n',
            "logging.inc": 'type = "console";\nlevel = "notice";\n',
            "fuzzy_check.conf": "enabled = false;\n",
            "milter_headers.conf": 'use = ["x-spamd-result", "x-spam-status", "x-rspamd-queue-id"];\n'
                                   "skip_local = false;\nskip_authenticated = false;\n",
        }
        for name, text in conf.items():
            self.write("local/local.d/" + name, text)
        self.spawn(["/usr/bin/rspamd", "-f", "-i", "-c", "/etc/rspamd/rspamd.conf",
                    "--var=LOCAL_CONFDIR=" + local, "--var=DBDIR=" + self.path("db"),
                    "--var=RUNDIR=" + self.path("run"), "--var=LOGDIR=" + self.path("log")],
                   "rspamd", self.port, timeout=180, what="rspamd's proxy worker")
        self.instance(smtpd_milters="inet:127.0.0.1:%d" % self.port,
                      milter_content_timeout="120s")

    def test_gtube_rejected_and_clean_mail_delivered_with_headers(self):
        reply = self.transaction("From: a@client.test\nTo: alice@sandbox.test\n"
                                 "Subject: buy\n\n%s\n" % GTUBE)
        # rspamd's own reply (its reject action's text), at end of data.
        self.assertEqual(reply, "554 5.7.1 Gtube pattern", self.output("rspamd"))
        self.inst.wait_log("milter-reject: END-OF-MESSAGE from")
        queued_id(self.transaction("From: a@client.test\nTo: alice@sandbox.test\n"
                                   "Subject: lunch\nMessage-Id: <m1@client.test>\n"
                                   "Date: Wed, 2 Dec 2026 12:00:00 +0000\n\n"
                                   "Shall we meet at noon?\n"))
        data = wait_delivered(self.inst, "alice", timeout=60)[0]
        self.assertIn(b"\nX-Spamd-Result: default: False", data)
        self.assertIn(b"\nX-Rspamd-Queue-Id: ", data)
        # Nothing was looked up through the system resolver (getaddrinfo
        # is what rspamd_resolve_addrs uses for upstream names).
        self.assertNotIn("rspamd_resolve_addrs", self.output("rspamd"))


if __name__ == "__main__":
    unittest.main()
