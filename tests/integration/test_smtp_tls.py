"""test_smtp_tls - client TLS in the SMTP client (smtp/smtp_tls.c,
lib/util/tls_client.c) against harness.sink speaking STARTTLS with
Python's ssl, and a test CA made with the openssl command.

The sink's certificate is for mx.example, signed by the test CA. The
next hop is [127.0.0.1]:PORT, so the "hostname" is 127.0.0.1 and the
tests name the certificate's name with match= (the policy table) or
smtp_tls_verify_cert_match.
"""
import os
import re
import shutil
import ssl
import subprocess
import tempfile
import unittest

from harness import core as h
from harness import e2e
from harness.sink import Sink

SENDER = "alice@sandbox.test"


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(folder, name):
    """ca.pem (the test CA) and server.pem/server.key for name, and a
    second CA (other-ca.pem) that signed nothing we use."""
    p = lambda n: os.path.join(folder, n)
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", p(ca + ".key"), "-out", p(ca + ".pem"), "-days", "2",
                "-subj", "/CN=surel test %s" % ca)
    with open(p("ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=%s" % name)
    openssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
            "-CAcreateserial", "-out", p("server.pem"), "-days", "2", "-extfile", p("ext.cnf"))


class SmtpTlsTest(h.InstanceTest):
    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="surel-tls-")
        make_ca(cls.pki, "mx.example")
        # The instance runs as another user: it must read the CA files.
        os.chmod(cls.pki, 0o755)
        for n in os.listdir(cls.pki):
            os.chmod(os.path.join(cls.pki, n), 0o644)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)

    def server_ctx(self, maximum=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(self.pki, "server.pem"),
                            os.path.join(self.pki, "server.key"))
        if maximum:
            ctx.maximum_version = maximum
        return ctx

    def tls_sink(self, **kw):
        s = Sink(tls_context=self.server_ctx(kw.pop("maximum", None)), **kw).start()
        self.addCleanup(s.close)
        return s

    def started(self, sink, policy=None, **params):
        inst = self.instance()
        hop = "[127.0.0.1]:%d" % sink.port
        conf = dict(default_transport="smtp", relayhost=hop, smtp_tls_loglevel="1",
                    smtp_tls_CAfile=os.path.join(self.pki, "ca.pem"))
        if policy:
            path = os.path.join(inst.root, "tls_policy")
            with open(path, "w") as f:
                f.write("%s %s\n" % (hop, policy))
            os.chmod(path, 0o644)
            conf["smtp_tls_policy_maps"] = "texthash:" + path
        conf.update(params)
        inst.conf(**conf)
        inst.start()
        return inst

    def send(self, inst, rcpt="bob@remote.test"):
        return e2e.send(inst, SENDER, [rcpt], e2e.crlf("Subject: tls\n\nhello\n"))

    def deferred_with(self, inst, qid, reason):
        line = inst.wait_log("%s: to=<bob@remote.test>" % qid, timeout=30)
        self.assertRegex(inst.log(), r"%s: to=<bob@remote\.test>, relay=.*status=deferred \(%s"
                         % (qid, re.escape(reason)))
        del line

    def test_verify_succeeds(self):
        """verify with the right name: Verified, TLS 1.3, SNI sent, EHLO
        again inside TLS, the mail inside TLS."""
        sink = self.tls_sink()
        inst = self.started(sink, policy="verify match=mx.example servername=mx.example")
        qid = self.send(inst)
        t = sink.wait_transactions(1)[0]
        self.assertTrue(t["tls"])
        self.assertEqual(sink.tls[0]["version"], "TLSv1.3")
        self.assertEqual(sink.sni, ["mx.example"])
        self.assertEqual(len(sink.command_lines("EHLO")), 2)
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"Verified TLS connection established to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: TLSv1\.3 with cipher TLS_\w+ "
                         r"\(\d+/\d+ bits\)" % sink.port)
        self.assertRegex(inst.log(), r"%s: to=<bob@remote\.test>.*status=sent" % qid)

    def lmtp_started(self, sink, **params):
        inst = self.instance()
        inst.conf(transport_maps="inline:{ remote.test=lmtp:inet:127.0.0.1:%d }" % sink.port,
                  **params)
        inst.start()
        return inst

    def test_lmtp_verify_with_lmtp_tls(self):
        """LMTP has its own lmtp_tls_*: verify succeeds, LHLO again inside
        TLS, the mail inside TLS, Postfix's log line."""
        sink = self.tls_sink(lmtp=True)
        inst = self.lmtp_started(sink, lmtp_tls_security_level="verify",
                                 lmtp_tls_CAfile=os.path.join(self.pki, "ca.pem"),
                                 lmtp_tls_verify_cert_match="mx.example",
                                 lmtp_tls_servername="mx.example", lmtp_tls_loglevel="1")
        qid = self.send(inst)
        t = sink.wait_transactions(1)[0]
        self.assertTrue(t["tls"])
        self.assertEqual(sink.sni, ["mx.example"])
        self.assertEqual(len(sink.command_lines("LHLO")), 2)
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"Verified TLS connection established to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: TLSv1\.3" % sink.port)
        self.assertRegex(inst.log(), r"%s: to=<bob@remote\.test>.*status=sent" % qid)

    def test_lmtp_ignores_smtp_tls(self):
        """smtp_tls_security_level = encrypt is not LMTP's: with lmtp_tls_*
        unset (none) the LMTP session stays plaintext."""
        sink = self.tls_sink(lmtp=True)
        inst = self.lmtp_started(sink, smtp_tls_security_level="encrypt")
        qid = self.send(inst)
        t = sink.wait_transactions(1)[0]
        self.assertFalse(t["tls"])
        self.assertEqual(sink.tls, [])
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"%s: to=<bob@remote\.test>.*status=sent" % qid)

    def test_verify_wrong_name_deferred(self):
        """verify with a name the certificate does not carry: deferred,
        nothing delivered, the log says why."""
        sink = self.tls_sink()
        inst = self.started(sink, policy="verify match=wrong.example")
        qid = self.send(inst)
        self.deferred_with(inst, qid, "Server certificate not verified")
        self.assertRegex(inst.log(), r"server certificate verification failed for "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:%d: CN=mx\.example, names checked: "
                         r"wrong\.example" % sink.port)
        self.assertEqual(sink.transactions, [])
        self.assertEqual(sink.command_lines("MAIL"), [])

    def test_verify_untrusted_deferred(self):
        """verify with a CA that did not sign the certificate."""
        sink = self.tls_sink()
        inst = self.started(sink, smtp_tls_security_level="verify",
                            smtp_tls_verify_cert_match="mx.example",
                            smtp_tls_CAfile=os.path.join(self.pki, "other-ca.pem"))
        qid = self.send(inst)
        self.deferred_with(inst, qid, "Server certificate not trusted")
        self.assertRegex(inst.log(), r"Untrusted TLS connection established to 127\.0\.0\.1")
        self.assertEqual(sink.command_lines("MAIL"), [])

    def test_may_wrong_name_still_encrypts(self):
        """may checks nothing: an unmatched certificate is used (Trusted),
        an untrusted one too (Untrusted), as in Postfix."""
        sink = self.tls_sink()
        inst = self.started(sink, smtp_tls_security_level="may")
        self.send(inst)
        t = sink.wait_transactions(1)[0]
        self.assertTrue(t["tls"])
        inst.wait_log("Trusted TLS connection established to 127.0.0.1[127.0.0.1]:%d" % sink.port)

    def test_may_handshake_failure_falls_back_to_plaintext(self):
        """may: a handshake that fails (the server stops at TLS 1.2, the
        client wants 1.3) is retried in plaintext on a new connection."""
        sink = self.tls_sink(maximum=ssl.TLSVersion.TLSv1_2)
        inst = self.started(sink, smtp_tls_security_level="may", smtp_tls_protocols=">=TLSv1.3")
        qid = self.send(inst)
        t = sink.wait_transactions(1)[0]
        self.assertFalse(t["tls"])
        self.assertEqual(sink.connections, 2)
        self.assertEqual(len(sink.command_lines("STARTTLS")), 1)
        inst.wait_log("%s: to=<bob@remote.test>" % qid)
        self.assertRegex(inst.log(), r"%s: TLS handshake failed with 127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                         % (qid, sink.port))
        self.assertRegex(inst.log(), r"%s: 127\.0\.0\.1\[127\.0\.0\.1\]:%d: Cannot start TLS: "
                         r"handshake failure; trying again without TLS" % (qid, sink.port))

    def test_encrypt_handshake_failure_deferred(self):
        sink = self.tls_sink(maximum=ssl.TLSVersion.TLSv1_2)
        inst = self.started(sink, policy="encrypt protocols=>=TLSv1.3")
        qid = self.send(inst)
        self.deferred_with(inst, qid, "Cannot start TLS: handshake failure")
        self.assertEqual(sink.command_lines("MAIL"), [])

    def test_encrypt_refuses_server_without_starttls(self):
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.started(sink, smtp_tls_security_level="encrypt")
        qid = self.send(inst)
        self.deferred_with(inst, qid, "TLS is required, but was not offered by host "
                           "127.0.0.1[127.0.0.1]")
        self.assertEqual(sink.command_lines("MAIL"), [])

    def test_session_resumed_and_not_cached(self):
        """The second handshake with the same server resumes the first
        session (one smtp process: the cache is per process); a TLS
        session is never handed to scache, even for a listed destination."""
        sink = self.tls_sink()
        hop = "[127.0.0.1]:%d" % sink.port
        inst = self.instance()
        with open(os.path.join(inst.etc, "master.cf")) as f:
            text = f.read()
        one = re.sub(r"(?m)^smtp(\s+)unix(\s+)-(\s+)-(\s+)n(\s+)-(\s+)-(\s+)smtp\s*$",
                     r"smtp\1unix\2-\3-\4n\5-\g<6>1\7smtp", text)
        self.assertNotEqual(one, text)
        inst.write_master_cf(one)
        inst.conf(default_transport="smtp", relayhost=hop, smtp_tls_security_level="encrypt",
                  smtp_connection_cache_destinations=hop, smtp_tls_loglevel="1")
        inst.start()
        for i in range(2):
            self.send(inst, "r%d@remote.test" % i)
            sink.wait_transactions(i + 1)
        self.assertEqual(sink.connections, 2)
        self.assertEqual([t["resumed"] for t in sink.tls], [False, True])
        self.assertEqual(sink.command_lines("RSET"), [])

    def test_dane_only_refused(self):
        sink = self.tls_sink()
        inst = self.started(sink, smtp_tls_security_level="dane-only")
        qid = self.send(inst)
        self.deferred_with(inst, qid, "TLS policy for [127.0.0.1]:%d: level \"dane-only\" is "
                           "not implemented yet" % sink.port)
        self.assertRegex(inst.log(), r"warning: %s: TLS policy for" % qid)
        self.assertEqual(sink.connections, 0)


if __name__ == "__main__":
    unittest.main()
