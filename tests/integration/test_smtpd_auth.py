"""SMTP AUTH (RFC 4954) against a real Dovecot auth server.

Debian's dovecot-core runs with its own dovecot.conf in a temp folder:
no protocols, a passwd-file passdb with a SHA-512-crypt hash, and the
auth service's unix_listener at the instance's spool/private/auth, which
smtpd reaches through smtpd_sasl_type = dovecot, smtpd_sasl_path =
private/auth. Checked: PLAIN (initial response and 334), LOGIN,
"*" cancel, 535 and Postfix's failure log line, the hard error limit,
relay for an authenticated client only, the log line and Received
protocol, smtpd_tls_auth_only, and fail2ban's stock postfix[mode=auth]
filter on the failure lines (syslog_name = postfix).
"""
import base64
import os
import shutil
import subprocess
import socket
import tempfile
import unittest

from harness.smtpd import SmtpdTestCase, queued_id, read_records, types, wait_for
from harness.dovecot import DOVECOT, Dovecot



def b64(data):
    return base64.b64encode(data.encode()).decode()


def auth_dovecot(socket_path):
    """Dovecot's auth service (harness.dovecot) with alice's SHA-512-crypt hash."""
    hashed = subprocess.run(["openssl", "passwd", "-6", "secret"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return Dovecot.auth(socket_path, ["alice:{SHA512-CRYPT}%s" % hashed])


@unittest.skipUnless(os.path.exists(DOVECOT), "dovecot-core is not installed")
class AuthDovecotTest(SmtpdTestCase):

    def auth_instance(self, **params):
        params.setdefault("smtpd_sasl_auth_enable", "yes")
        params.setdefault("smtpd_sasl_type", "dovecot")
        params.setdefault("smtpd_sasl_path", "private/auth")
        params.setdefault("mydestination", "localhost")
        params.setdefault("mynetworks", "192.0.2.0/24")
        params.setdefault("smtpd_error_sleep_time", "0")
        inst = self.instance(**params)
        dv = auth_dovecot(inst.path("spool", "private", "auth"))
        self.addCleanup(dv.stop)
        return inst, dv

    def test_plain_login_cancel_fail(self):
        inst, dv = self.auth_instance()
        c = inst.connect()
        ehlo = c.cmd("EHLO client.test")
        self.assertIn("250-AUTH PLAIN LOGIN", ehlo)
        self.assertNotIn("AUTH=", ehlo)
        # Unauthenticated: no relay.
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        self.assertRegex(c.cmd("RCPT TO:<bob@remote.example>"), r"^4[0-9][0-9] 4\.7\.1 .*Relay access denied")
        self.assertTrue(c.cmd("RSET").startswith("250"))
        # Wrong password (PLAIN, initial response): 535, Postfix's log line.
        r = c.cmd("AUTH PLAIN " + b64("\0alice\0wrong"))
        self.assertEqual(r, "535 5.7.8 Error: authentication failed: authentication failure")
        inst.wait_log("warning: unknown[127.0.0.1]: SASL PLAIN authentication failed: "
                      "authentication failure")
        # LOGIN with a wrong password logs the last challenge, as Postfix.
        self.assertEqual(c.cmd("AUTH LOGIN"), "334 VXNlcm5hbWU6")
        self.assertEqual(c.cmd(b64("alice")), "334 UGFzc3dvcmQ6")
        self.assertTrue(c.cmd(b64("nope")).startswith("535 5.7.8 "))
        inst.wait_log("SASL LOGIN authentication failed: UGFzc3dvcmQ6")
        # Cancel.
        self.assertTrue(c.cmd("AUTH PLAIN").startswith("334"))
        self.assertTrue(c.cmd("*").startswith("501 5.7.0"))
        # PLAIN through a 334, right password.
        self.assertTrue(c.cmd("AUTH PLAIN").startswith("334"))
        self.assertEqual(c.cmd(b64("\0alice\0secret")), "235 2.7.0 Authentication successful")
        self.assertTrue(c.cmd("AUTH PLAIN =").startswith("503"))
        # Authenticated: relay allowed, AUTH= accepted, log and Received.
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org> AUTH=<>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<bob@remote.example>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        qid = queued_id(c.cmd("Subject: t\r\n\r\nhi\r\n."))
        inst.wait_log("%s: client=unknown[127.0.0.1], sasl_method=PLAIN, "
                      "sasl_username=alice" % qid)
        recs = read_records(inst.queue_file(qid))
        self.assertIn(b"with ESMTPA id", b"\n".join(types(recs, "N")))
        c.cmd("QUIT")
        self.assertNotIn("secret", inst.log())
        self.assertNotIn("wrong", inst.log())

    def test_login_success_and_hard_limit(self):
        inst, dv = self.auth_instance(smtpd_hard_error_limit="3",
                                      broken_sasl_auth_clients="yes")
        c = inst.connect()
        self.assertIn("250-AUTH=PLAIN LOGIN", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("alice")), "334 UGFzc3dvcmQ6")
        self.assertEqual(c.cmd(b64("secret")), "235 2.7.0 Authentication successful")
        c.cmd("QUIT")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x1")).startswith("535"))
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x2")).startswith("535"))
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x3")).startswith("535"))
        self.assertIn("421 4.7.0", "\n".join(c.reply()))
        self.assertTrue(c.closed())

    def test_tls_auth_only(self):
        inst, dv = self.auth_instance(smtpd_tls_auth_only="yes")
        c = inst.connect()
        self.assertNotIn("AUTH", c.cmd("EHLO client.test"))
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("503 5.5.1"))
        c.cmd("QUIT")

    def test_sender_login_mismatch(self):
        inst, dv = self.auth_instance(
            smtpd_sender_login_maps="inline:{alice@example.org=alice, bob@example.org=bob}",
            smtpd_sender_restrictions="reject_sender_login_mismatch")
        c = inst.connect()
        c.cmd("EHLO client.test")
        # Unauthenticated, an owned address: not logged in.
        self.assertTrue(c.cmd("MAIL FROM:<bob@example.org>").startswith("250"))
        self.assertEqual(c.cmd("RCPT TO:<u@localhost>"),
                         "553 5.7.1 <bob@example.org>: Sender address rejected: not logged in")
        c.cmd("RSET")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")).startswith("235"))
        self.assertTrue(c.cmd("MAIL FROM:<bob@example.org>").startswith("250"))
        self.assertEqual(c.cmd("RCPT TO:<u@localhost>"),
                         "553 5.7.1 <bob@example.org>: Sender address rejected: "
                         "not owned by user alice")
        c.cmd("RSET")
        self.assertTrue(c.cmd("MAIL FROM:<alice@example.org>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<u@localhost>").startswith("250"))
        c.cmd("QUIT")

    def test_auth_rate_limit(self):
        inst, dv = self.auth_instance(smtpd_client_auth_rate_limit="2", mynetworks="")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x1")).startswith("535"))
        self.assertTrue(c.cmd("AUTH PLAIN " + b64("\0alice\0x2")).startswith("535"))
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0alice\0secret")),
                         "450 4.7.1 Error: too many AUTH commands from 127.0.0.1")
        inst.wait_log("warning: AUTH command rate limit exceeded: 3 from unknown[127.0.0.1] "
                      "for service")
        c.cmd("QUIT")

    def shipped_service(self, name):
        """conf/master.cf's commented `name` entry, uncommented, on a free
        port, in an instance with a certificate and Dovecot's AUTH."""
        from harness.core import free_port
        from harness.smtpd import SmtpdInstance
        certdir = tempfile.mkdtemp(prefix="surel-sub-")
        self.addCleanup(shutil.rmtree, certdir, True)
        os.chmod(certdir, 0o755)
        cert, key = os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost"], check=True,
                       capture_output=True)
        os.chmod(key, 0o600)
        src = os.path.join(os.environ["SUREL_SOURCE_DIR"], "conf", "master.cf")
        block, on = [], False
        for line in open(src):
            if line.startswith("#%s " % name):
                on = True
            elif on and not line.startswith("#  -o"):
                break
            if on:
                block.append(line[1:])
        self.assertTrue(block, "no %s entry in conf/master.cf" % name)
        port = free_port()
        block[0] = block[0].replace("%s inet" % name, "127.0.0.1:%d inet" % port)
        inst = SmtpdInstance(master_extra="".join(block), smtpd_tls_cert_file=cert,
                             smtpd_tls_key_file=key, smtpd_sasl_type="dovecot",
                             smtpd_sasl_path="private/auth", mydestination="localhost")
        self.instances.append(inst)
        inst.start()
        inst.wait_listening()
        dv = auth_dovecot(inst.path("spool", "private", "auth"))
        self.addCleanup(dv.stop)
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                return True
            except OSError:
                return False
        wait_for(up, 10, "the %s port" % name)
        return inst, port, cert

    def test_submission_587_as_shipped(self):
        """conf/master.cf's submission entry, uncommented, on a free port:
        EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA as a mail client does."""
        import smtplib
        import ssl
        inst, port, cert = self.shipped_service("submission")
        ctx = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP("localhost", port, timeout=15) as m:
            m.ehlo("client.test")
            self.assertFalse(m.has_extn("auth"))       # smtpd_tls_auth_only=yes
            self.assertEqual(m.mail("alice@example.org")[0], 530)
            m.starttls(context=ctx)
            m.ehlo("client.test")
            self.assertTrue(m.has_extn("auth"))
            m.login("alice", "secret")
            m.sendmail("alice@example.org", ["bob@remote.example"],
                       b"Subject: sub\r\n\r\nvia 587\r\n")
        inst.wait_log("postfix/submission/smtpd[")
        inst.wait_log("sasl_username=alice")
        wait_for(lambda: len(inst.queue_files()) == 1, 10, "the message in incoming/")

    def test_submissions_465_as_shipped(self):
        """The submissions entry (smtpd_tls_wrappermode=yes): TLS from the
        first byte, then EHLO, AUTH, MAIL, RCPT, DATA."""
        import smtplib
        import ssl
        inst, port, cert = self.shipped_service("submissions")
        ctx = ssl.create_default_context(cafile=cert)
        with smtplib.SMTP_SSL("localhost", port, timeout=15, context=ctx) as m:
            m.ehlo("client.test")
            self.assertFalse(m.has_extn("starttls"))
            self.assertTrue(m.has_extn("auth"))
            m.login("alice", "secret")
            m.sendmail("alice@example.org", ["bob@remote.example"],
                       b"Subject: sub\r\n\r\nvia 465\r\n")
        inst.wait_log("postfix/submissions/smtpd[")
        inst.wait_log("sasl_username=alice")
        wait_for(lambda: len(inst.queue_files()) == 1, 10, "the message in incoming/")

    def test_security_options_noplaintext(self):
        inst, dv = self.auth_instance(smtpd_sasl_security_options="noanonymous,noplaintext")
        c = inst.connect()
        self.assertNotIn("AUTH", c.cmd("EHLO client.test"))
        self.assertTrue(c.cmd("AUTH LOGIN").startswith("503 5.5.1"))
        c.cmd("QUIT")

    def test_mail_auth_param_needs_auth_enabled(self):
        inst = self.instance(mynetworks="127.0.0.0/8")
        c = inst.connect()
        self.assertNotIn("AUTH", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("MAIL FROM:<a@example.org> AUTH=<>"),
                         "555 5.5.4 Unsupported option: AUTH")
        c.cmd("QUIT")

    @unittest.skipUnless(os.path.exists("/etc/fail2ban/filter.d/postfix.conf")
                         and shutil.which("fail2ban-regex"), "fail2ban is not installed")
    def test_fail2ban(self):
        inst, dv = self.auth_instance(syslog_name="postfix")
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("AUTH LOGIN")
        c.cmd(b64("alice"))
        self.assertTrue(c.cmd(b64("nope")).startswith("535"))
        c.cmd("QUIT")
        inst.wait_log("postfix/smtpd[")
        inst.wait_log("SASL LOGIN authentication failed")
        out = subprocess.run(["fail2ban-regex", inst.logfile,
                              "/etc/fail2ban/filter.d/postfix.conf[mode=auth]"],
                             capture_output=True, text=True, timeout=120).stdout
        self.assertRegex(out, r"Failregex: [1-9]\d* total", out)


if __name__ == "__main__":
    unittest.main()
