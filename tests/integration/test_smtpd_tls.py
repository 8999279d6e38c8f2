"""test_smtpd_tls - STARTTLS (RFC 3207) with a real OpenSSL handshake.

A self-signed certificate for "localhost" is made with the openssl
command; the client is Python's ssl module (OpenSSL) and verifies the
server against that certificate. Checked: STARTTLS offered only when a
certificate is loaded and only before TLS; a message sent after it
carries "with ESMTPS" and the cipher in Received:; plaintext pipelined
behind STARTTLS is discarded, not run inside the TLS session
(CVE-2011-0411); the session (HELO, MAIL) is forgotten after the
handshake; smtpd_tls_security_level = encrypt refuses MAIL and VRFY
before STARTTLS; a broken certificate or a failed handshake are handled.
"""
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import unittest

from harness.core import swaks
from smtpd_harness import SmtpdTestCase, content_text, queued_id, read_records


def make_certificate(folder):
    """cert.pem and key.pem (RSA 2048, CN and SAN localhost) in folder."""
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class TlsTest(SmtpdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.certdir = tempfile.mkdtemp(prefix="surel-tls-")
        os.chmod(cls.certdir, 0o755)
        cls.cert, cls.key = make_certificate(cls.certdir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.certdir, ignore_errors=True)

    def instance(self, **params):
        params.setdefault("smtpd_tls_cert_file", self.cert)
        params.setdefault("smtpd_tls_key_file", self.key)
        return super().instance(**params)

    def client_context(self):
        ctx = ssl.create_default_context(cafile=self.cert)
        return ctx

    def starttls(self, c):
        """STARTTLS on client c: 220, then the handshake (verifying the server)."""
        r = c.cmd("STARTTLS")
        self.assertEqual(r, "220 2.0.0 Ready to start TLS")
        self.assertEqual(c.buf, b"", "nothing may follow the 220 in plaintext")
        c.sock = self.client_context().wrap_socket(c.sock, server_hostname="localhost")
        return c.sock

    def test_session_after_starttls_is_encrypted(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_received_header="yes",
                             smtpd_tls_loglevel="1")
        c = inst.connect()
        self.assertIn("250-STARTTLS", c.cmd("EHLO client.test").split("\n"))
        tls = self.starttls(c)
        version, cipher, bits = tls.version(), tls.cipher()[0], tls.cipher()[2]
        self.assertEqual(version, "TLSv1.3", "TLS 1.3 is negotiated by default")
        ehlo = c.cmd("EHLO client.test")
        self.assertTrue(ehlo.startswith("250-"), ehlo)
        self.assertNotIn("STARTTLS", ehlo, "not offered again inside TLS")
        self.assertTrue(c.cmd("STARTTLS").startswith("554 5.5.1"))
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<bob@sandbox.test>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        c.send(b"Subject: over tls\r\n\r\nsecret body\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        c.close()
        body = content_text(read_records(inst.queue_file(qid)))
        received = body.split(b"\nSubject:")[0].decode()
        self.assertIn("with ESMTPS id " + qid, received)
        self.assertIn("\t(using %s with cipher %s (%d/%d bits))" % (version, cipher, bits, bits),
                      received)
        self.assertIn(b"secret body", body)
        inst.wait_log("Anonymous TLS connection established from unknown[127.0.0.1]: "
                      "%s with cipher %s (%d/%d bits)" % (version, cipher, bits, bits))

    def test_swaks_verifies_and_sends_over_starttls(self):
        """Another TLS client (swaks, Net::SSLeay) with --tls-verify."""
        inst = self.instance(smtpd_tls_security_level="may")
        status, out, qid = swaks(inst.smtp_port, "--tls", "--tls-verify", "--tls-ca-path",
                                 self.cert, "--tls-sni", "localhost", subject="via swaks tls")
        self.assertEqual(status, 0, out)
        self.assertIn("=== TLS started with cipher", out)
        body = content_text(read_records(inst.queue_file(qid)))
        self.assertIn(b"with ESMTPS id " + qid.encode(), body)
        self.assertIn(b"Subject: via swaks tls", body)

    def test_timeout_reply_goes_through_tls(self):
        # A client that idles past smtpd_timeout after STARTTLS gets the
        # 421 as a TLS record. Plaintext beside the TLS session would make
        # the client's TLS layer fail (or be read as garbage).
        inst = self.instance(smtpd_tls_security_level="may", smtpd_timeout="2s")
        c = inst.connect()
        c.cmd("EHLO client.test")
        tls = self.starttls(c)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250-"))
        start = time.monotonic()
        self.assertEqual(c.reply(), ["421 4.4.2 sandbox.test Error: timeout exceeded"])
        self.assertGreaterEqual(time.monotonic() - start, 1.5)
        self.assertIsInstance(tls, ssl.SSLSocket)
        self.assertTrue(c.closed())
        inst.wait_log("timeout after EHLO from unknown[127.0.0.1]")

    def test_new_tls_session_rate_limit(self):
        inst = self.instance(smtpd_tls_security_level="may",
                             smtpd_client_new_tls_session_rate_limit="2",
                             smtpd_client_event_limit_exceptions="")
        for _ in range(2):
            c = inst.connect()
            c.cmd("EHLO client.test")
            self.starttls(c)
            c.close()
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("STARTTLS"),
                         "421 4.7.0 sandbox.test Error: too many new TLS sessions from 127.0.0.1")
        self.assertTrue(c.closed())
        inst.wait_log("warning: New TLS session rate limit exceeded: 3 from unknown[127.0.0.1] "
                      "for service 127.0.0.1:%d" % inst.smtp_port)

    def test_plaintext_session_says_esmtp(self):
        inst = self.instance(smtpd_tls_security_level="may")
        c = inst.connect()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        c.send(b"Subject: plain\r\n\r\nbody\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        c.close()
        received = content_text(read_records(inst.queue_file(qid))).split(b"\nSubject:")[0]
        self.assertIn(b"with ESMTP id " + qid.encode(), received)
        self.assertNotIn(b"(using", received)

    def test_not_offered_without_security_level(self):
        inst = self.instance()      # smtpd_tls_security_level empty: none
        c = inst.connect()
        self.assertNotIn("STARTTLS", c.cmd("EHLO client.test"))
        self.assertTrue(c.cmd("STARTTLS").startswith("502 5.5.1"))
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        c.close()

    def test_pipelined_plaintext_after_starttls_is_discarded(self):
        inst = self.instance(smtpd_tls_security_level="may")
        c = inst.connect()
        c.cmd("EHLO client.test")
        # The injection: commands in the same packet as STARTTLS.
        c.send(b"STARTTLS\r\nMAIL FROM:<evil@attacker.example>\r\n")
        self.assertEqual(c.reply(), ["220 2.0.0 Ready to start TLS"])
        c.sock = self.client_context().wrap_socket(c.sock, server_hostname="localhost")
        # Had the injected MAIL been run, its 250 would come first and
        # this RCPT would be accepted.
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test>"), "503 5.5.1 Error: need MAIL command")
        self.assertEqual(c.cmd("QUIT"), "221 2.0.0 Bye")
        c.close()
        inst.wait_log("discarding 35 bytes of plaintext sent after STARTTLS")

    def test_starttls_forgets_the_session(self):
        inst = self.instance(smtpd_tls_security_level="may")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        self.starttls(c)
        # RFC 3207 4.2: the MAIL given before the handshake is gone.
        self.assertEqual(c.cmd("RCPT TO:<bob@sandbox.test>"), "503 5.5.1 Error: need MAIL command")
        # And so is EHLO: a message sent without a new one says SMTP.
        c.cmd("MAIL FROM:<alice@sandbox.test>")
        c.cmd("RCPT TO:<bob@sandbox.test>")
        c.cmd("DATA")
        c.send(b"Subject: no ehlo\r\n\r\nbody\r\n.\r\n")
        qid = queued_id(c.reply()[0])
        c.close()
        received = content_text(read_records(inst.queue_file(qid))).split(b"\nSubject:")[0]
        self.assertIn(b"Received: from unknown (unknown [127.0.0.1])", received)
        self.assertIn(b"with SMTP id", received)

    def test_encrypt_refuses_mail_before_starttls(self):
        inst = self.instance(smtpd_tls_security_level="encrypt")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test>"),
                         "530 5.7.0 Must issue a STARTTLS command first")
        self.assertEqual(c.cmd("VRFY bob"), "530 5.7.0 Must issue a STARTTLS command first")
        self.starttls(c)
        c.cmd("EHLO client.test")
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<bob@sandbox.test>").startswith("250"))
        c.close()
        self.assertEqual(inst.queue_files(), [])

    def test_unusable_certificate(self):
        missing = os.path.join(self.certdir, "missing.pem")
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_cert_file=missing,
                             smtpd_tls_key_file=missing)
        c = inst.connect()
        self.assertNotIn("STARTTLS", c.cmd("EHLO client.test"))
        self.assertEqual(c.cmd("STARTTLS"), "454 4.7.0 TLS not available due to local problem")
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        c.close()
        inst.wait_log("cannot use TLS: %s" % missing)

    def test_key_not_matching_certificate(self):
        other = tempfile.mkdtemp(prefix="surel-tls-other-")
        try:
            os.chmod(other, 0o755)
            _, other_key = make_certificate(other)
            inst = self.instance(smtpd_tls_security_level="encrypt", smtpd_tls_key_file=other_key)
            c = inst.connect()
            self.assertNotIn("STARTTLS", c.cmd("EHLO client.test"))
            self.assertEqual(c.cmd("MAIL FROM:<alice@sandbox.test>"),
                             "530 5.7.0 Must issue a STARTTLS command first")
            c.close()
            inst.wait_log("cannot use TLS")
        finally:
            shutil.rmtree(other, ignore_errors=True)

    def test_failed_handshake_ends_only_that_session(self):
        inst = self.instance(smtpd_tls_security_level="may")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.send(b"this is not a TLS ClientHello\r\n" * 4)
        self.assertTrue(c.closed())
        c.close()
        inst.wait_log("TLS handshake failed for unknown[127.0.0.1]")
        inst.wait_log("disconnect from unknown[127.0.0.1] ehlo=1 starttls=0/1")
        # The server goes on serving.
        c = inst.connect()
        self.assertTrue(c.greeting[0].startswith("220"))
        self.assertIn("250-STARTTLS", c.cmd("EHLO client.test").split("\n"))
        c.close()

    def test_client_that_never_handshakes_times_out(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_timeout="2s")
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.sock.settimeout(20)
        self.assertTrue(c.closed())     # the server gives up, bounded by smtpd_timeout
        c.close()
        inst.wait_log("TLS handshake failed for unknown[127.0.0.1]: handshake: timeout")


if __name__ == "__main__":
    unittest.main(verbosity=2)
