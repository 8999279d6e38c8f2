"""authd - surel's own SASL server (smtpd_sasl_type = surel).

smtpd talks Dovecot's auth protocol 1.1 to bin/authd on private/authd
(the default path for type surel), which checks PLAIN and LOGIN against
authd_password_maps: a texthash table of crypt(3) hashes made by
`surel passwd` (yescrypt for alice, SHA-512-crypt with -6 for bob).
Checked: both mechanisms and both hash kinds, 535 5.7.8 for a wrong
password, an unknown user and a locked entry (with authd's own log line
and no password anywhere in the log), login names folded to lower case,
a PLAIN authorization identity that differs refused, relay for the
authenticated client, 454 when the table cannot be read,
authd_failure_delay, and, on a root instance, that authd runs as
surelauth and mail_owner (smtpd's account) cannot read the table.
"""
import base64
import os
import pwd
import grp
import shutil
import signal
import subprocess
import time
import unittest

import surel_harness as h
from harness.milter import TestMilter
from harness.smtpd import SmtpdTestCase, content_text, queued_id, read_records, wait_for

AUTHD = "authd unix - - n - - authd\n"


def b64(data):
    return base64.b64encode(data.encode()).decode()


def received(inst, qid):
    """The Received: header smtpd wrote into the queue file, lines joined by LF."""
    text = content_text(read_records(inst.queue_file(qid)))
    return text.split(b"\nSubject:")[0]


def make_hash(password, *opts):
    out = h.run([h.binary("surel"), "passwd", *opts], input=password + "\n")
    return out.stdout.strip()


class AuthdTest(SmtpdTestCase):

    def auth_instance(self, table=None, smtpd_maxproc="-", **params):
        params.setdefault("smtpd_sasl_auth_enable", "yes")
        params.setdefault("smtpd_sasl_type", "surel")
        params.setdefault("mydestination", "localhost")
        params.setdefault("mynetworks", "192.0.2.0/24")
        params.setdefault("smtpd_error_sleep_time", "0")
        params.setdefault("authd_failure_delay", "0")
        inst = self.instance(master_extra=AUTHD, smtpd_maxproc=smtpd_maxproc, **params)
        if table is None:
            table = {"alice": make_hash("secret"), "bob": make_hash("hunter2", "-6"),
                     "carol": "!" + make_hash("secret")}
        path = inst.path("etc", "sasl_passwd")
        with open(path, "w") as f:
            f.write("# login   crypt(3) hash\n")
            for user, hashed in table.items():
                f.write("%s %s\n" % (user, hashed))
        if os.geteuid() == 0:
            os.chown(path, 0, grp.getgrnam("surelauth").gr_gid)
        os.chmod(path, 0o640)
        if "authd_password_maps" not in params:
            inst.conf(authd_password_maps="texthash:" + path)
        self.table = path
        return inst

    def test_plain_and_login_against_the_table(self):
        inst = self.auth_instance()
        c = inst.connect()
        self.assertIn("250-AUTH PLAIN LOGIN", c.cmd("EHLO client.test"))
        # Not yet authenticated: no relay.
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        self.assertRegex(c.cmd("RCPT TO:<bob@remote.example>"), r"^4\d\d 4\.7\.1 .*Relay access denied")
        c.cmd("RSET")
        # Wrong password: 535 and both log lines.
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0alice\0wrong")),
                         "535 5.7.8 Error: authentication failed: authentication failure")
        inst.wait_log("warning: unknown[127.0.0.1]: SASL PLAIN authentication failed: "
                      "authentication failure")
        inst.wait_log("login failed: user=<alice>: password mismatch, rip=127.0.0.1")
        # Unknown user, locked entry: the same 535.
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0mallory\0secret")).startswith("535 5.7.8 "))
        inst.wait_log("login failed: user=<mallory>: unknown user")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0carol\0secret")).startswith("535 5.7.8 "))
        inst.wait_log("login failed: user=<carol>: no usable password hash")
        # Another authorization identity: refused.
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("bob\0alice\0secret")).startswith("535"))
        # PLAIN through a 334 (yescrypt); the name is folded to lower case.
        self.assertEqual(c.cmd("AUTH PLAIN"), "334 ")
        self.assertEqual(c.cmd(b64("\0ALICE\0secret")), "235 2.7.0 Authentication successful")
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<bob@remote.example>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        qid = queued_id(c.cmd("Subject: t\r\n\r\nhi\r\n."))
        inst.wait_log("%s: client=unknown[127.0.0.1], sasl_method=PLAIN, "
                      "sasl_username=alice" % qid)
        # smtpd_sasl_authenticated_header = no (Postfix's default): no login.
        self.assertNotIn(b"Authenticated sender", received(inst, qid))
        c.cmd("QUIT")
        # LOGIN (SHA-512-crypt), challenges as Dovecot's.
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64("bob")), "334 UGFzc3dvcmQ6")
        self.assertTrue(c.cmd(b64("nope")).startswith("535 5.7.8 "))
        inst.wait_log("SASL LOGIN authentication failed: UGFzc3dvcmQ6")
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("bob")), "334 UGFzc3dvcmQ6")
        self.assertEqual(c.cmd(b64("hunter2")), "235 2.7.0 Authentication successful")
        c.cmd("QUIT")
        log = inst.log()
        for secret in ("secret", "hunter2", "wrong", "nope", "$y$", "$6$"):
            self.assertNotIn(secret, log)

    def test_milters_see_the_login(self):
        # Postfix's milter_mail_macros {auth_type} {auth_authen}: a filter
        # (OpenDKIM signing for logged-in users, say) learns who sent it.
        m = TestMilter()
        self.addCleanup(m.close)
        inst = self.auth_instance(smtpd_milters=m.endpoint)
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("235"))
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        macros = m.macros()
        self.assertEqual(macros.get("{auth_type}"), "PLAIN")
        self.assertEqual(macros.get("{auth_authen}"), "alice")
        c.cmd("QUIT")

    def test_authenticated_header(self):
        inst = self.auth_instance(smtpd_sasl_authenticated_header="yes")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("MAIL FROM:<x@example.org>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<u@localhost>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        anon = queued_id(c.cmd("Subject: t\r\n\r\nhi\r\n."))
        self.assertNotIn(b"Authenticated sender", received(inst, anon))
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("235"))
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<u@localhost>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        qid = queued_id(c.cmd("Subject: t\r\n\r\nhi\r\n."))
        c.cmd("QUIT")
        hdr = received(inst, qid)
        self.assertRegex(hdr, rb"^Received: from client\.test \(unknown \[127\.0\.0\.1\]\)\n"
                              rb"\t\(Authenticated sender: alice\)\n"
                              rb"\tby \S+ \(\S+\) with ESMTPA id " + qid.encode())

    def authd_connections(self, inst):
        """Client connections authd holds: its stream sockets in state
        connected (/proc/net/unix St 03; the listener is St 01)."""
        inodes = set()
        for pid in inst.service_pids("authd"):
            fds = "/proc/%d/fd" % pid
            try:
                for fd in os.listdir(fds):
                    target = os.readlink(os.path.join(fds, fd))
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
            except OSError:
                pass
        with open("/proc/net/unix") as f:
            rows = [line.split() for line in f.readlines()[1:]]
        return sum(1 for r in rows if len(r) >= 7 and r[6] in inodes and r[4] == "0001"
                   and r[5] == "03")

    def test_one_connection_per_smtpd_process(self):
        # One smtpd process (master.cf maxproc 1): otherwise the master may
        # start a second one for the second session while the first process
        # is still finishing the first, and the count below means nothing.
        # At its process limit the service runs in stress mode, whose error
        # limit (1) would end the session at the first failed AUTH: fixed.
        inst = self.auth_instance(smtpd_maxproc="1", smtpd_hard_error_limit="20")
        for password in ("wrong", "secret"):
            c = inst.connect()
            c.cmd("EHLO client.test")
            self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x")).startswith("535"))
            c.cmd("AUTH PLAIN " + b64("\0alice\0" + password))
            c.cmd("QUIT")
            c.closed()
            # Kept across AUTHs and sessions of the one smtpd process.
            wait_for(lambda: self.authd_connections(inst) == 1, 10, "one authd connection")
        self.assertEqual(len([pid for pid, argv in inst.processes()
                              if os.path.basename(argv[0]) == "smtpd"]), 1)
        # authd killed: the kept connection is dead; the next AUTH opens a
        # new one (master starts another authd) and the client sees nothing.
        for pid in inst.service_pids("authd"):
            os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not inst.service_pids("authd"), 10, "authd to die")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")),
                         "235 2.7.0 Authentication successful")
        c.cmd("QUIT")
        wait_for(lambda: self.authd_connections(inst) == 1, 10, "the new authd connection")
        self.assertNotIn("bad reply from the auth server", inst.log())

    def test_table_unreadable_is_temporary(self):
        inst = self.auth_instance(authd_password_maps="lmdb:/nonexistent/sasl_passwd")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret"))
                        .startswith("454 4.7.0 Temporary authentication failure"))
        c.cmd("QUIT")

    def test_failure_delay(self):
        inst = self.auth_instance(authd_failure_delay="1s")
        c = inst.connect()
        c.cmd("EHLO client.test")
        start = time.monotonic()
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0wrong")).startswith("535"))
        self.assertGreaterEqual(time.monotonic() - start, 0.95)
        # The process still serves: the right password goes through.
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("235"))
        c.cmd("QUIT")

    @unittest.skipUnless(os.geteuid() == 0, "needs a root instance")
    def test_authd_alone_reads_the_table(self):
        inst = self.auth_instance()
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("235"))
        pids = inst.service_pids("authd")
        self.assertTrue(pids)
        owner = pwd.getpwnam("surelauth")
        for pid in pids:
            with open("/proc/%d/status" % pid) as f:
                st = dict(line.split(":", 1) for line in f)
            self.assertEqual(st["Uid"].split()[:3], [str(owner.pw_uid)] * 3)
            self.assertEqual(st["Gid"].split()[:3], [str(owner.pw_gid)] * 3)
        c.cmd("QUIT")
        # mail_owner (smtpd's account) cannot open the table.
        mail_owner = pwd.getpwnam("surel")
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setgid(mail_owner.pw_gid)
                os.setuid(mail_owner.pw_uid)
                open(self.table).close()
                os._exit(1)
            except PermissionError:
                os._exit(0)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0,
                         "mail_owner could read %s" % self.table)

    @unittest.skipUnless(shutil.which("doveadm"), "dovecot-core is not installed")
    def test_dovecot_client_talks_to_authd(self):
        """Dovecot's own auth client (doveadm auth test) against authd's
        socket: the protocol is Dovecot's, not only what smtpd sends."""
        inst = self.auth_instance()
        conf = os.path.join(inst.root, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("base_dir = %s/dv\nstate_dir = %s/dv\nlog_path = %s/dv.log\n"
                    "protocols =\nssl = no\n" % (inst.root, inst.root, inst.root))
        sock = inst.path("spool", "private", "authd")

        def doveadm(user, password):
            return subprocess.run(["doveadm", "-c", conf, "auth", "test", "-a", sock,
                                   user, password], capture_output=True, text=True, timeout=60)
        ok = doveadm("bob", "hunter2")
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertIn("passdb: bob auth succeeded", ok.stdout)
        self.assertIn("user=bob", ok.stdout)
        bad = doveadm("bob", "wrong")
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("auth failed", bad.stdout)
        inst.wait_log("login failed: user=<bob>: password mismatch")

    @unittest.skipUnless(os.geteuid() == 0, "needs a root instance")
    def test_check_warns_about_a_readable_table(self):
        inst = self.auth_instance()
        what = "authd_password_maps: %s (mode 0644) can be read by mail_owner" % self.table
        self.assertNotIn("authd_password_maps", inst.surel("check", check=False).stderr)
        os.chmod(self.table, 0o644)
        out = inst.surel("check", check=False)
        self.assertIn(what, out.stderr)
        self.assertNotEqual(out.returncode, 0)

    def test_passwd_verb(self):
        y, six = make_hash("pw"), make_hash("pw", "-6")
        self.assertRegex(y, r"^\$y\$[./0-9A-Za-z$]+$")
        self.assertRegex(six, r"^\$6\$[./0-9A-Za-z$]+$")
        self.assertNotEqual(make_hash("pw"), y)        # a fresh salt each time
        out = h.run([h.binary("surel"), "passwd"], input="", check=False)
        self.assertNotEqual(out.returncode, 0)


if __name__ == "__main__":
    unittest.main()
