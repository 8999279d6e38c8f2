"""test_smtpd_policy - check_policy_service (smtpd/smtpd_check_policy.c):
Postfix's policy delegation protocol against a policy server the test
runs (a small Python one, on loopback TCP or a UNIX socket in the queue's
private/ folder). Its answer is chosen by the recipient's local part:
dunno@ -> DUNNO, reject@ -> REJECT text, dip@ -> DEFER_IF_PERMIT text,
dir@ -> DEFER_IF_REJECT text (then the list rejects), ok@ -> OK, hold@ ->
HOLD, discard@ -> DISCARD, prepend@ -> PREPEND header; it
records every request and counts its connections. Also: a server that is
down and one that never answers get smtpd_policy_service_default_action.
"""
import os
import socketserver
import threading
import time
import unittest

from harness.core import free_port, wait_for
from harness.smtpd import SmtpdInstance, content_text, queued_id, read_records
from surel_harness import binary

HAVE_SMTPD = os.access(binary("smtpd"), os.X_OK)

# Every attribute Postfix 3.x sends in a request (SMTPD_POLICY_README).
POSTFIX_ATTRS = [
    "request", "protocol_state", "protocol_name", "helo_name", "queue_id", "sender",
    "recipient", "recipient_count", "client_address", "client_name",
    "reverse_client_name", "instance", "sasl_method", "sasl_username", "sasl_sender",
    "size", "ccert_subject", "ccert_issuer", "ccert_fingerprint",
    "ccert_pubkey_fingerprint", "encryption_protocol", "encryption_cipher",
    "encryption_keysize", "etype", "stress", "client_port", "policy_context",
    "server_address", "server_port", "compatibility_level", "mail_version",
]

ACTIONS = {
    "dunno": "DUNNO",
    "reject": "REJECT go away",
    "dip": "DEFER_IF_PERMIT try later",
    "dir": "DEFER_IF_REJECT greylisted",
    "ok": "OK",
    "hold": "HOLD",
    "discard": "DISCARD",
    "prepend": "PREPEND X-Policy: checked by test",
}


class PolicyServer:
    """mode: "answer" (the table above), "close" (answer, then close the
    connection), "silent" (read the request, never answer)."""

    def __init__(self, unix_path=None, mode="answer"):
        self.requests = []
        self.connections = 0
        self.mode = mode
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                outer.connections += 1
                while True:
                    req = {}
                    while True:
                        line = self.rfile.readline()
                        if not line:
                            return
                        line = line.decode().rstrip("\n")
                        if line == "":
                            break
                        name, _, value = line.partition("=")
                        req[name] = value
                    outer.requests.append(req)
                    if outer.mode == "silent":
                        time.sleep(30)
                        return
                    local = req.get("recipient", "").split("@")[0]
                    action = ACTIONS.get(local, "DUNNO")
                    self.wfile.write(("action=%s\n\n" % action).encode())
                    self.wfile.flush()
                    if outer.mode == "close":
                        return

        if unix_path:
            cls = type("S", (socketserver.ThreadingMixIn, socketserver.UnixStreamServer), {})
            self.server = cls(unix_path, Handler)
            os.chmod(unix_path, 0o666)
            self.endpoint = None
        else:
            cls = type("S", (socketserver.ThreadingMixIn, socketserver.TCPServer),
                       {"allow_reuse_address": True})
            self.server = cls(("127.0.0.1", 0), Handler)
            self.endpoint = "inet:127.0.0.1:%d" % self.server.server_address[1]
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@unittest.skipUnless(HAVE_SMTPD, "needs bin/smtpd")
class PolicyTest(unittest.TestCase):
    def start(self, restrictions, **params):
        params.setdefault("smtpd_policy_service_retry_delay", "0s")
        inst = SmtpdInstance(smtpd_recipient_restrictions=restrictions, **params)
        self.addCleanup(inst.cleanup)
        inst.start()
        inst.wait_listening()
        return inst

    def server(self, **kw):
        s = PolicyServer(**kw)
        self.addCleanup(s.close)
        return s

    def session(self, inst):
        c = inst.connect()
        self.addCleanup(c.close)
        self.assertTrue(c.cmd("EHLO client.example").startswith("250"))
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example> SIZE=1234"), "250 2.1.0 Ok")
        return c

    def test_dunno_reject_defer_if_permit(self):
        ps = self.server()
        inst = self.start("check_policy_service %s, permit" % ps.endpoint,
                          smtpd_policy_service_policy_context="ctx1")
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<dunno@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<reject@sandbox.test>"),
                         "554 5.7.1 <reject@sandbox.test>: Recipient address rejected: go away")
        self.assertEqual(c.cmd("RCPT TO:<dip@sandbox.test>"),
                         "450 4.7.1 <dip@sandbox.test>: Recipient address rejected: try later")
        self.assertEqual(c.cmd("RCPT TO:<ok@sandbox.test>"), "250 2.1.5 Ok")
        inst.wait_log("NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 554 5.7.1 "
                      "<reject@sandbox.test>: Recipient address rejected: go away; "
                      "from=<a@client.example> to=<reject@sandbox.test> proto=ESMTP "
                      "helo=<client.example>")
        # One connection, kept for every request of the session.
        self.assertEqual(ps.connections, 1)
        self.assertEqual(len(ps.requests), 4)
        first = ps.requests[0]
        self.assertEqual(sorted(first), sorted(POSTFIX_ATTRS))
        self.assertEqual(first["request"], "smtpd_access_policy")
        self.assertEqual(first["protocol_state"], "RCPT")
        self.assertEqual(first["protocol_name"], "ESMTP")
        self.assertEqual(first["helo_name"], "client.example")
        self.assertEqual(first["sender"], "a@client.example")
        self.assertEqual(first["recipient"], "dunno@sandbox.test")
        self.assertEqual(first["recipient_count"], "0")
        self.assertEqual(first["client_address"], "127.0.0.1")
        self.assertEqual(first["client_name"], "unknown")
        self.assertEqual(first["size"], "1234")
        self.assertEqual(first["policy_context"], "ctx1")
        self.assertEqual(first["server_address"], "127.0.0.1")
        self.assertEqual(first["server_port"], str(inst.smtp_port))
        self.assertTrue(first["client_port"].isdigit())
        self.assertTrue(first["instance"])
        self.assertEqual(ps.requests[1]["recipient_count"], "1")
        # One instance per transaction.
        self.assertEqual({r["instance"] for r in ps.requests}, {first["instance"]})

    def send(self, c):
        self.assertTrue(c.cmd("DATA").startswith("354"))
        return queued_id(c.cmd("Subject: test\r\n\r\nbody\r\n."))

    def test_hold_discard_prepend(self):
        ps = self.server()
        inst = self.start("check_policy_service %s, permit" % ps.endpoint)
        # HOLD: logged at RCPT as Postfix does; the file is committed to hold/.
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<hold@sandbox.test>"), "250 2.1.5 Ok")
        inst.wait_log("NOQUEUE: hold: RCPT from unknown[127.0.0.1]: <hold@sandbox.test>: "
                      "Recipient address triggers HOLD action; from=<a@client.example> "
                      "to=<hold@sandbox.test> proto=ESMTP helo=<client.example>")
        qid = self.send(c)
        wait_for(lambda: any(f.endswith(qid) for f in inst.queue_files("hold")), 10,
                 "the held message in hold/")
        # The next transaction is not held; PREPEND adds the header first.
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<prepend@sandbox.test>"), "250 2.1.5 Ok")
        qid = self.send(c)
        text = content_text(read_records(inst.queue_file(qid)))
        self.assertTrue(text.startswith(b"X-Policy: checked by test\nReceived: "), text)
        # DISCARD: the client hears 250, nothing is queued.
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<discard@sandbox.test>"), "250 2.1.5 Ok")
        inst.wait_log("NOQUEUE: discard: RCPT from unknown[127.0.0.1]: "
                      "<discard@sandbox.test>: Recipient address triggers DISCARD action")
        qid = self.send(c)
        wait_for(lambda: not any(f.endswith(qid) for f in inst.queue_files("incoming")
                                 + inst.queue_files("hold")), 10, "nothing queued")

    def test_end_of_data_restrictions(self):
        """smtpd_end_of_data_restrictions: after the final dot, before the
        reply; the policy server sees END-OF-MESSAGE, the queue ID and the
        message size, and its REJECT abandons the message."""
        ps = self.server()
        inst = SmtpdInstance(smtpd_end_of_data_restrictions="check_policy_service %s"
                             % ps.endpoint, smtpd_policy_service_retry_delay="0s")
        self.addCleanup(inst.cleanup)
        inst.start()
        inst.wait_listening()
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<reject@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(ps.requests, [])       # nothing asked before the end
        self.assertTrue(c.cmd("DATA").startswith("354"))
        message = "Subject: eod\r\n\r\nbody\r\n"
        self.assertEqual(c.cmd(message + "."),
                         "554 5.7.1 <END-OF-MESSAGE>: End-of-data rejected: go away")
        req = ps.requests[-1]
        self.assertEqual(req["protocol_state"], "END-OF-MESSAGE")
        self.assertEqual(req["recipient"], "reject@sandbox.test")
        self.assertEqual(req["size"], str(len(message)))
        self.assertTrue(req["queue_id"])
        inst.wait_log("%s: reject: END-OF-MESSAGE from unknown[127.0.0.1]: 554 5.7.1 "
                      "<END-OF-MESSAGE>: End-of-data rejected: go away; "
                      "from=<a@client.example> to=<reject@sandbox.test> proto=ESMTP "
                      "helo=<client.example>" % req["queue_id"])
        self.assertEqual(inst.queue_files(), [])
        # DUNNO: queued as usual.
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), "250 2.1.0 Ok")
        self.assertEqual(c.cmd("RCPT TO:<dunno@sandbox.test>"), "250 2.1.5 Ok")
        qid = self.send(c)
        inst.queue_file(qid)
        self.assertEqual(ps.requests[-1]["protocol_state"], "END-OF-MESSAGE")

    def test_defer_if_reject(self):
        ps = self.server()
        inst = self.start("check_policy_service %s, reject" % ps.endpoint)
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<dir@sandbox.test>"),
                         "450 4.7.1 <dir@sandbox.test>: Recipient address rejected: greylisted")
        self.assertEqual(c.cmd("RCPT TO:<ok@sandbox.test>"), "250 2.1.5 Ok")

    def test_unix_socket_in_private_and_request_limit(self):
        inst = SmtpdInstance(
            smtpd_recipient_restrictions="check_policy_service unix:private/policy, permit",
            smtpd_policy_service_request_limit="1")
        self.addCleanup(inst.cleanup)
        ps = self.server(unix_path=inst.path("spool", "private", "policy"))
        inst.start()
        inst.wait_listening()
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<dunno@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(c.cmd("RCPT TO:<reject@sandbox.test>"),
                         "554 5.7.1 <reject@sandbox.test>: Recipient address rejected: go away")
        # request_limit = 1: a new connection for each request.
        self.assertEqual(ps.connections, 2)

    def test_server_that_closes_after_each_answer(self):
        ps = self.server(mode="close")
        inst = self.start("check_policy_service %s, permit" % ps.endpoint)
        c = self.session(inst)
        for _ in range(3):
            self.assertEqual(c.cmd("RCPT TO:<dunno@sandbox.test>"), "250 2.1.5 Ok")
        self.assertEqual(ps.connections, 3)
        self.assertNotIn("problem talking to server", inst.log())

    def test_server_down_gives_default_action(self):
        port = free_port()
        inst = self.start("check_policy_service inet:127.0.0.1:%d, permit" % port)
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"),
                         "451 4.3.5 <user@sandbox.test>: Recipient address rejected: "
                         "Server configuration problem")
        inst.wait_log("warning: problem talking to server inet:127.0.0.1:%d: connect to "
                      "inet:127.0.0.1:%d: Connection refused" % (port, port))

    def test_silent_server_times_out_to_default_action(self):
        ps = self.server(mode="silent")
        inst = self.start("check_policy_service %s, permit" % ps.endpoint,
                          smtpd_policy_service_timeout="1s",
                          smtpd_policy_service_try_limit="1",
                          smtpd_policy_service_default_action="DUNNO")
        c = self.session(inst)
        start = time.monotonic()
        self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"), "250 2.1.5 Ok")
        self.assertLess(time.monotonic() - start, 5)
        inst.wait_log("warning: problem talking to server %s: timeout" % ps.endpoint)

    def test_per_service_settings_in_braces(self):
        # Postfix's form: { endpoint, name=value, ... }; a value with spaces
        # in its own braces.
        ps = self.server(mode="silent")
        port = free_port()
        inst = self.start("check_policy_service { %s, timeout=1s, try_limit=1, "
                          "policy_context=braced, default_action=DUNNO }, "
                          "check_policy_service { inet:127.0.0.1:%d, "
                          "{ default_action = 450 4.7.1 policy down } }, permit"
                          % (ps.endpoint, port))
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"),
                         "450 4.7.1 <user@sandbox.test>: Recipient address rejected: "
                         "policy down")
        self.assertEqual(ps.requests[0]["policy_context"], "braced")
        inst.wait_log("warning: problem talking to server %s: timeout" % ps.endpoint)

    def test_bad_per_service_option(self):
        inst = self.start("check_policy_service { inet:127.0.0.1:1, colour=blue }, permit")
        c = self.session(inst)
        self.assertEqual(c.cmd("RCPT TO:<user@sandbox.test>"),
                         "451 4.3.5 Server configuration error")
        inst.wait_log('warning: check_policy_service inet:127.0.0.1:1: bad option "colour=blue"')


if __name__ == "__main__":
    unittest.main()
