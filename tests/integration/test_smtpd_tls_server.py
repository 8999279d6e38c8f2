"""test_smtpd_tls_server - the TLS server settings (issue 12): implicit TLS
(smtpd_tls_wrappermode), protocol and cipher lists, RSA and ECDSA
certificates side by side (cert/eccert files and smtpd_tls_chain_files),
the private key mode check, smtpd_tls_loglevel and
smtpd_tls_received_header.

A test CA is made with the openssl command; it signs an RSA and an ECDSA
server certificate for "localhost". Clients: Python's ssl, swaks
(--tlsc, implicit TLS) and openssl s_client (the only one here that can
still offer TLS 1.0).
"""
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest

from harness.core import free_port, swaks, wait_for
from smtpd_harness import (SmtpdInstance, SmtpdTestCase, content_text, queued_id,
                           read_records, SmtpClient)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(folder):
    """ca.pem, and rsa.pem/rsa.key, ec.pem/ec.key signed by it, plus
    rsa-chain.pem and ec-chain.pem (key + certificate + CA, for
    smtpd_tls_chain_files)."""
    p = lambda name: os.path.join(folder, name)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2", "-subj", "/CN=surel test CA")
    ext = p("ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    for kind, newkey in (("rsa", ["-newkey", "rsa:2048"]),
                         ("ec", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"])):
        openssl("req", *newkey, "-nodes", "-keyout", p(kind + ".key"), "-out", p(kind + ".csr"),
                "-subj", "/CN=localhost")
        openssl("x509", "-req", "-in", p(kind + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
                "-CAcreateserial", "-out", p(kind + ".pem"), "-days", "2", "-extfile", ext)
        chain = p(kind + "-chain.pem")
        with open(chain, "w") as out:
            for part in (kind + ".key", kind + ".pem", "ca.pem"):
                with open(p(part)) as f:
                    out.write(f.read())
        os.chmod(chain, 0o600)
        os.chmod(p(kind + ".key"), 0o600)


def make_named(folder, kind, san):
    """kind-chain.pem: key, certificate for san (signed by the test CA), CA."""
    p = lambda name: os.path.join(folder, name)
    ext = p(kind + ".cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % san)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p(kind + ".key"), "-out", p(kind + ".csr"), "-subj", "/CN=" + kind)
    openssl("x509", "-req", "-in", p(kind + ".csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p(kind + ".pem"), "-days", "2", "-extfile", ext)
    with open(p(kind + "-chain.pem"), "w") as out:
        for part in (kind + ".key", kind + ".pem", "ca.pem"):
            with open(p(part)) as f:
                out.write(f.read())
    os.chmod(p(kind + "-chain.pem"), 0o600)
    os.chmod(p(kind + ".key"), 0o600)


def der(pem_file):
    with open(pem_file) as f:
        text = f.read()
    first = text[text.index("-----BEGIN CERTIFICATE-----"):]
    first = first[:first.index("-----END CERTIFICATE-----") + 25]
    return ssl.PEM_cert_to_DER_cert(first)


class TlsServerTest(SmtpdTestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="surel-tlsd-")
        os.chmod(cls.dir, 0o755)
        make_ca(cls.dir)
        cls.ca = os.path.join(cls.dir, "ca.pem")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def f(self, name):
        return os.path.join(self.dir, name)

    def both_certs(self):
        return dict(smtpd_tls_cert_file=self.f("rsa.pem"), smtpd_tls_key_file=self.f("rsa.key"),
                    smtpd_tls_eccert_file=self.f("ec.pem"), smtpd_tls_eckey_file=self.f("ec.key"))

    def client_ctx(self):
        return ssl.create_default_context(cafile=self.ca)

    def starttls(self, inst, ctx=None):
        c = inst.connect()
        self.assertIn("250-STARTTLS", c.cmd("EHLO client.test").split("\n"))
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.sock = (ctx or self.client_ctx()).wrap_socket(c.sock, server_hostname="localhost")
        return c

    def send_message(self, c, subject):
        self.assertTrue(c.cmd("EHLO client.test").startswith("250-"))
        self.assertTrue(c.cmd("MAIL FROM:<alice@sandbox.test>").startswith("250"))
        self.assertTrue(c.cmd("RCPT TO:<bob@sandbox.test>").startswith("250"))
        self.assertTrue(c.cmd("DATA").startswith("354"))
        c.send(("Subject: %s\r\n\r\nbody\r\n.\r\n" % subject).encode())
        return queued_id(c.reply()[0])

    def wrapped_client(self, inst, ctx=None):
        """An implicit TLS client: handshake first, then the greeting."""
        c = SmtpClient.__new__(SmtpClient)
        raw = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=20)
        c.sock = (ctx or self.client_ctx()).wrap_socket(raw, server_hostname="localhost")
        c.buf = b""
        c.greeting = c.reply()
        return c

    # --- implicit TLS -------------------------------------------------

    def test_wrappermode_greeting_goes_through_tls(self):
        inst = SmtpdInstance(smtpd_tls_wrappermode="yes", smtpd_tls_loglevel="1",
                             smtpd_tls_received_header="yes", **self.both_certs())
        self.instances.append(inst)
        inst.start()
        box = []

        def answered():
            try:
                box.append(self.wrapped_client(inst))
                return True
            except OSError:
                return False
        wait_for(answered, 10, "smtpd to answer with implicit TLS")
        c = box[0]
        self.assertTrue(c.greeting[0].startswith("220 sandbox.test ESMTP"), c.greeting)
        self.assertEqual(c.sock.version(), "TLSv1.3")
        cipher, _, bits = c.sock.cipher()
        ehlo = c.cmd("EHLO client.test")
        self.assertNotIn("STARTTLS", ehlo, "no STARTTLS inside implicit TLS")
        qid = self.send_message(c, "implicit")
        c.cmd("QUIT")
        c.close()
        received = content_text(read_records(inst.queue_file(qid))).split(b"\nSubject:")[0]
        self.assertIn(("(using TLSv1.3 with cipher %s (%d/%d bits))" % (cipher, bits, bits))
                      .encode(), received)
        self.assertIn(b"with ESMTPS id " + qid.encode(), received)
        inst.wait_log("Anonymous TLS connection established from unknown[127.0.0.1]: "
                      "TLSv1.3 with cipher %s (%d/%d bits)" % (cipher, bits, bits))

    def test_wrappermode_plaintext_client_gets_no_greeting(self):
        inst = SmtpdInstance(smtpd_tls_wrappermode="yes", **self.both_certs())
        self.instances.append(inst)
        inst.start()
        conn = []

        def connected():
            try:
                conn.append(socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=20))
                return True
            except OSError:
                return False
        wait_for(connected, 10, "the master to listen on port %d" % inst.smtp_port)
        s = conn[0]
        # A plaintext client waits for a greeting that never comes in clear;
        # its EHLO is not a ClientHello: the handshake fails.
        s.sendall(b"EHLO client.test\r\n")
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        s.close()
        self.assertNotIn(b"220", data)
        inst.wait_log("TLS handshake failed for unknown[127.0.0.1]")

    def test_wrappermode_in_master_cf_with_swaks_tlsc(self):
        # The submissions way: a second service with -o overrides only.
        extra_port = free_port()
        master_extra = ("127.0.0.1:%d inet n - n - - smtpd -o smtpd_tls_wrappermode=yes "
                        "-o smtpd_tls_received_header=yes\n" % extra_port)
        inst = SmtpdInstance(master_extra=master_extra, smtpd_tls_security_level="may",
                             **self.both_certs())
        self.instances.append(inst)
        inst.start()
        inst.wait_listening()
        status, out, qid = swaks(extra_port, "--tlsc", "--tls-verify", "--tls-ca-path",
                                 self.ca, "--tls-sni", "localhost", subject="via swaks tlsc")
        self.assertEqual(status, 0, out)
        self.assertIn("=== TLS started with cipher TLSv1.3", out)
        body = content_text(read_records(inst.queue_file(qid)))
        self.assertIn(b"(using TLSv1.3 with cipher", body)
        # The port 25 service of the same instance still speaks plaintext first.
        c = inst.connect()
        self.assertTrue(c.greeting[0].startswith("220"))
        self.assertIn("250-STARTTLS", c.cmd("EHLO client.test").split("\n"))
        c.close()

    # --- protocols and ciphers ----------------------------------------

    def test_tls10_client_is_refused(self):
        inst = self.instance(smtpd_tls_security_level="may", **self.both_certs())
        # s_client can still offer TLS 1.0 at security level 0; the server's
        # default ">=TLSv1.2" refuses it.
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % inst.smtp_port,
                            "-starttls", "smtp", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0",
                            "-servername", "localhost"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertNotEqual(p.returncode, 0, out)
        self.assertRegex(out, r"(?i)alert protocol version|unsupported protocol|no protocols")
        inst.wait_log("TLS handshake failed for unknown[127.0.0.1]")
        # The same client with TLS 1.2 gets through: the refusal is the version.
        p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % inst.smtp_port,
                            "-starttls", "smtp", "-tls1_2", "-servername", "localhost"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertIn("Protocol  : TLSv1.2", p.stdout.decode(errors="replace"))

    def test_protocol_list_is_applied(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_protocols="<=TLSv1.2",
                             **self.both_certs())
        c = self.starttls(inst)
        self.assertEqual(c.sock.version(), "TLSv1.2")
        c.close()
        # Mandatory TLS reads smtpd_tls_mandatory_protocols instead.
        inst = self.instance(smtpd_tls_security_level="encrypt", smtpd_tls_protocols="<=TLSv1.2",
                             smtpd_tls_mandatory_protocols="!SSLv2, !SSLv3, !TLSv1, !TLSv1.1, "
                             "!TLSv1.2", **self.both_certs())
        c = self.starttls(inst)
        self.assertEqual(c.sock.version(), "TLSv1.3")
        c.close()
        ctx = self.client_ctx()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        with self.assertRaises((ssl.SSLError, OSError)):
            self.starttls(inst, ctx)
        inst.wait_log("TLS handshake failed for unknown[127.0.0.1]")

    def test_excluded_cipher_is_not_negotiated(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_protocols="TLSv1.2",
                             smtpd_tls_ciphers="high",
                             smtpd_tls_exclude_ciphers="AESGCM, CHACHA20", **self.both_certs())
        c = self.starttls(inst)
        name = c.sock.cipher()[0]
        self.assertNotIn("GCM", name)
        self.assertNotIn("CHACHA", name)
        c.close()

    def test_bad_protocol_list_turns_tls_off_with_reason(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_protocols="TLSv9",
                             **self.both_certs())
        c = inst.connect()
        self.assertNotIn("STARTTLS", c.cmd("EHLO client.test"))
        c.close()
        inst.wait_log('cannot use TLS: unknown TLS protocol "TLSv9"')

    # --- certificates -------------------------------------------------

    def ecdsa_only_ctx(self):
        ctx = self.client_ctx()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256")
        return ctx

    def rsa_only_ctx(self):
        ctx = self.client_ctx()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256")
        return ctx

    def check_cert_choice(self, inst):
        c = self.starttls(inst, self.ecdsa_only_ctx())
        self.assertEqual(c.sock.getpeercert(binary_form=True), der(self.f("ec.pem")))
        c.close()
        c = self.starttls(inst, self.rsa_only_ctx())
        self.assertEqual(c.sock.getpeercert(binary_form=True), der(self.f("rsa.pem")))
        c.close()

    def test_ecdsa_client_gets_ecdsa_certificate(self):
        self.check_cert_choice(self.instance(smtpd_tls_security_level="may",
                                             **self.both_certs()))

    def test_chain_files_rsa_and_ecdsa(self):
        inst = self.instance(smtpd_tls_security_level="may",
                             smtpd_tls_chain_files="%s, %s" % (self.f("rsa-chain.pem"),
                                                               self.f("ec-chain.pem")))
        self.check_cert_choice(inst)
        # The chain's CA comes along; a default client verifies it (TLS 1.3).
        c = self.starttls(inst)
        self.assertEqual(c.sock.version(), "TLSv1.3")
        c.close()

    # --- SNI (tls_server_sni_maps) --------------------------------------

    def sni_instance(self):
        """Default certificate localhost (RSA); by SNI mail.example.org and
        every name below example.net get their own, from an lmdb table."""
        make_named(self.dir, "sni-org", "DNS:mail.example.org")
        make_named(self.dir, "sni-net", "DNS:*.example.net")
        table = self.f("sni_maps")
        with open(table, "w") as f:
            f.write("mail.example.org %s\n.example.net %s\n"
                    "broken.example.org /nonexistent/chain.pem\n"
                    % (self.f("sni-org-chain.pem"), self.f("sni-net-chain.pem")))
        subprocess.run([os.path.join(os.environ["SUREL_BIN_DIR"], "surel"), "map", "build",
                        "lmdb:" + table], check=True, capture_output=True)
        return self.instance(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.f("rsa.pem"),
                             smtpd_tls_key_file=self.f("rsa.key"),
                             tls_server_sni_maps="lmdb:%s, inline:{Upper.Example.COM=%s}"
                             % (table, self.f("sni-net-chain.pem")))

    def peer_cert(self, inst, server_hostname, verify=True):
        ctx = self.client_ctx()
        if not verify:
            ctx.check_hostname = False
        c = inst.connect()
        c.cmd("EHLO client.test")
        self.assertEqual(c.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c.sock = ctx.wrap_socket(c.sock, server_hostname=server_hostname)
        cert = c.sock.getpeercert(binary_form=True)
        self.assertTrue(c.cmd("EHLO client.test").startswith("250-"))
        c.cmd("QUIT")
        c.close()
        return cert

    def test_sni_picks_the_certificate_of_the_name(self):
        inst = self.sni_instance()
        # Exact name; a name below .example.net; both verify against the CA.
        self.assertEqual(self.peer_cert(inst, "mail.example.org"), der(self.f("sni-org.pem")))
        self.assertEqual(self.peer_cert(inst, "MAIL.Example.ORG"), der(self.f("sni-org.pem")))
        self.assertEqual(self.peer_cert(inst, "smtp.example.net"), der(self.f("sni-net.pem")))
        # A second table, whose key was written in capitals.
        self.assertEqual(self.peer_cert(inst, "upper.example.com", verify=False),
                         der(self.f("sni-net.pem")))
        # localhost, an unknown name, no SNI at all: the default certificate.
        self.assertEqual(self.peer_cert(inst, "localhost"), der(self.f("rsa.pem")))
        self.assertEqual(self.peer_cert(inst, "other.example.com", verify=False),
                         der(self.f("rsa.pem")))
        self.assertEqual(self.peer_cert(inst, "example.net", verify=False),
                         der(self.f("rsa.pem")))
        self.assertEqual(self.peer_cert(inst, None, verify=False), der(self.f("rsa.pem")))
        # The entry whose file is missing was skipped with a warning; its name
        # gets the default certificate.
        inst.wait_log("tls_server_sni_maps: broken.example.org: ")
        self.assertEqual(self.peer_cert(inst, "broken.example.org", verify=False),
                         der(self.f("rsa.pem")))

    def test_sni_key_readable_by_group_fails_start_up(self):
        make_named(self.dir, "sni-loose", "DNS:loose.example.org")
        os.chmod(self.f("sni-loose-chain.pem"), 0o640)
        inst = SmtpdInstance(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.f("rsa.pem"),
                             smtpd_tls_key_file=self.f("rsa.key"),
                             tls_server_sni_maps="inline:{Loose.Example.ORG=%s}"
                             % self.f("sni-loose-chain.pem"))
        self.instances.append(inst)
        inst.start()
        text = ("fatal: tls_server_sni_maps: private key file %s is accessible by group"
                % self.f("sni-loose-chain.pem"))

        def refused():
            try:
                with socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=20) as s:
                    greeting = s.recv(4096)     # smtpd exits before its greeting
                self.assertNotIn(b"220", greeting)
            except OSError:
                pass
            return text in inst.log()
        wait_for(refused, 20, "log line %r" % text)

    def test_group_readable_key_fails_start_up(self):
        key = self.f("loose.key")
        shutil.copy(self.f("rsa.key"), key)
        os.chmod(key, 0o640)
        inst = SmtpdInstance(smtpd_tls_security_level="may", smtpd_tls_cert_file=self.f("rsa.pem"),
                             smtpd_tls_key_file=key)
        self.instances.append(inst)
        inst.start()
        text = "fatal: private key file %s is accessible by group or other (mode 0640)" % key

        def refused():
            try:
                s = socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=20)
                greeting = s.recv(4096)     # smtpd exits before its greeting
                s.close()
                self.assertNotIn(b"220", greeting)
            except OSError:
                pass
            return text in inst.log()
        wait_for(refused, 20, "log line %r" % text)

    # --- resumption ---------------------------------------------------

    def resume_across_services(self, **params):
        """A session from the port 25 service, resumed on a second service
        (another smtpd process); returns (first, second) SSL sockets."""
        other = free_port()
        inst = SmtpdInstance(master_extra="127.0.0.1:%d inet n - n - - smtpd\n" % other,
                             smtpd_tls_security_level="may", **params, **self.both_certs())
        self.instances.append(inst)
        inst.start()
        inst.wait_listening()
        ctx = self.client_ctx()
        c1 = self.starttls(inst, ctx)
        c1.cmd("EHLO client.test")          # reads past the handshake: the tickets come
        session = c1.sock.session
        c1.cmd("QUIT")
        c1.close()
        c2 = SmtpClient(other)
        c2.cmd("EHLO client.test")
        self.assertEqual(c2.cmd("STARTTLS"), "220 2.0.0 Ready to start TLS")
        c2.sock = ctx.wrap_socket(c2.sock, server_hostname="localhost", session=session)
        self.assertTrue(c2.cmd("EHLO client.test").startswith("250-"))
        reused = c2.sock.session_reused
        version = c2.sock.version()
        c2.cmd("QUIT")
        c2.close()
        return inst, reused, version

    def test_tls13_session_resumed_by_another_smtpd_process(self):
        inst, reused, version = self.resume_across_services()
        self.assertEqual(version, "TLSv1.3")
        self.assertTrue(reused, "the second smtpd accepted the first one's ticket")
        key = inst.path("data", "smtpd_tls_ticket.key")
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(key).st_size, 32)

    def test_no_tickets_with_zero_timeout(self):
        _, reused, _ = self.resume_across_services(smtpd_tls_session_cache_timeout="0")
        self.assertFalse(reused)

    # --- logging ------------------------------------------------------

    def test_defaults_log_nothing_and_add_no_received_comment(self):
        inst = self.instance(smtpd_tls_security_level="may", **self.both_certs())
        c = self.starttls(inst)
        qid = self.send_message(c, "defaults")
        c.cmd("QUIT")
        c.close()
        received = content_text(read_records(inst.queue_file(qid))).split(b"\nSubject:")[0]
        self.assertIn(b"with ESMTPS id", received)
        self.assertNotIn(b"(using", received)
        inst.wait_log("disconnect from unknown[127.0.0.1]")
        self.assertNotIn("TLS connection established", inst.log())

    def test_loglevel_2_logs_handshake_steps(self):
        inst = self.instance(smtpd_tls_security_level="may", smtpd_tls_loglevel="2",
                             **self.both_certs())
        c = self.starttls(inst)
        c.cmd("QUIT")
        c.close()
        inst.wait_log("Anonymous TLS connection established from unknown[127.0.0.1]: TLSv1.3")
        self.assertIn("SSL_accept:", inst.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
