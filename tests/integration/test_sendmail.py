"""test_sendmail - sendmail, postdrop and pickup on sandbox instances.

Each test makes an instance (harness.core) and submits mail the way local
programs do: the sendmail command (also as mailq and newaliases), a real
MUA (bsd-mailx), -bs SMTP on a pipe, postdrop run as real users. The
checks are made on what arrives in the users' Maildirs once the queue is
empty (so every copy is counted), or, for what only the queue file shows
(DSN options), on the queue file of an instance without qmgr.
"""
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest
import uuid

from harness import e2e as e
from harness import core as h
from harness import rules

MUA = next((p for p in ("/opt/surel-mua/usr/bin/bsd-mailx", shutil.which("bsd-mailx") or "")
            if p and os.access(p, os.X_OK)), None)
IS_ROOT = os.geteuid() == 0
TEST_USERS = ("sureltest1", "sureltest2")

EX_DATAERR, EX_NOUSER, EX_NOPERM, EX_USAGE = 65, 67, 77, 64

# The folders a submission passes through before delivery is over.
QUEUES = ("maildrop", "incoming", "active", "deferred", "hold")

DSN_NEVER, DSN_SUCCESS, DSN_FAILURE, DSN_DELAY = 1, 2, 4, 8     # lib/global/mail_proto.h


def envelope(recs):
    """(A record values, [(recipient, n record value or None)]) of a queue
    file's records; an n record belongs to the R record after it."""
    attrs, rcpts, notify = [], [], None
    for t, d in recs:
        if t == "A":
            attrs.append(d.decode())
        elif t == "n":
            notify = d.decode()
        elif t == "R":
            rcpts.append((d.decode(), notify))
            notify = None
    return attrs, rcpts


def header_of(data):
    """The header block of a delivered message (bytes, LF line ends)."""
    return e.lf(data).split(b"\n\n", 1)[0] + b"\n"


class SendmailHelpers(h.InstanceTest):
    """Instances, sendmail runs, and the copies that reach the Maildirs."""

    def make(self, start=True, users=()):
        """An instance; users: more sandbox users besides alice and bob."""
        inst = self.instance()
        if users:
            with open(os.path.join(inst.etc, "users"), "a") as f:
                f.write("".join(u + "\n" for u in users))
        if start:
            inst.start()
        return inst

    def sendmail(self, inst, *args, input="", env=None, prog="sendmail", preexec=None):
        env_ = dict(os.environ)
        env_.update(env or {})
        return subprocess.run([h.binary(prog), "-C", inst.etc] + list(args), input=input.encode()
                              if isinstance(input, str) else input, capture_output=True,
                              env=env_, timeout=60, preexec_fn=preexec)

    def maildrop(self, inst):
        return sorted(os.listdir(inst.path("spool", "maildrop")))

    def copies(self, inst, user, token):
        """The messages in a user's Maildir/new that hold token (bytes)."""
        return [d for d in e.delivered(inst, user) if token.encode() in d]

    def wait_delivered(self, inst, users, token, queues=QUEUES, timeout=20):
        """Wait until every user has a copy of the message with token and
        the queue is empty, so that no other copy is still on its way;
        return {user: [copies]} (the caller counts them)."""
        h.wait_for(lambda: all(self.copies(inst, u, token) for u in users), timeout,
                   "%s delivered to %s" % (token, ", ".join(users)))
        h.wait_for(lambda: not e.queue_files(inst, queues), timeout, "the queue to empty")
        return {u: self.copies(inst, u, token) for u in users}

    def only_copy(self, inst, user, token, queues=QUEUES):
        """The one copy of the message with token that user got."""
        got = self.wait_delivered(inst, [user], token, queues)[user]
        self.assertEqual(len(got), 1, "copies for %s" % user)
        return got[0]

    def queued(self, inst, token, queue="incoming"):
        """Records of the queue file in queue/ that holds token, or None."""
        for root, _, files in os.walk(inst.path("spool", queue)):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                if token.encode() in data:
                    return h.parse_records(data)
        return None

    def token(self):
        return "tok" + uuid.uuid4().hex[:12]


class SendmailTest(SendmailHelpers):

    # -t -i with To, Cc and Bcc: each gets one copy, none shows the Bcc.
    def test_t_i_with_cc_and_bcc(self):
        inst = self.make(users=["carol"])
        tok = self.token()
        msg = ("To: alice@sandbox.test\nCc: bob@sandbox.test\nBcc: carol@sandbox.test\n"
               "Subject: %s\n\nline one\n.\nafter the lone dot\n" % tok)
        p = self.sendmail(inst, "-t", "-i", input=msg)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.wait_delivered(inst, ["alice", "bob", "carol"], tok)
        for user, copies in got.items():
            self.assertEqual(len(copies), 1, "copies for %s" % user)
            data = e.lf(copies[0])
            rp, dt, _, rest = e.split_prepended(data)
            self.assertEqual(dt, "%s@sandbox.test" % user)
            self.assertIn(b"\n\nline one\n.\nafter the lone dot\n", rest)  # -i: kept the dot
            self.assertNotRegex(header_of(data), rb"(?im)^bcc:")
            self.assertNotIn(b"carol", header_of(rest))
            self.assertRegex(header_of(data), rb"(?m)^To: alice@sandbox\.test$")
            self.assertRegex(header_of(data), rb"(?m)^Cc: bob@sandbox\.test$")
        self.assertEqual(self.maildrop(inst), [])

    def test_dot_ends_input_without_i(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nbody\n.\nnot mail\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "bob", tok))
        self.assertTrue(data.endswith(b"\n\nbody\n"), data)
        self.assertNotIn(b"not mail", data)
        self.assertEqual(self.copies(inst, "alice", tok), [])

    def test_f_and_F(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "-f", "boss@sandbox.test", "-F", "Big Boss", "alice@sandbox.test",
                          input="Subject: %s\n\nhello\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "alice", tok))
        rp, _, _, _ = e.split_prepended(data)
        self.assertEqual(rp, "<boss@sandbox.test>")     # the envelope sender
        self.assertRegex(header_of(data), rb"(?m)^From: Big Boss <boss@sandbox\.test>$")

    def test_default_sender_is_the_login_name(self):
        inst = self.make()
        tok = self.token()
        login = pwd.getpwuid(os.getuid()).pw_name
        p = self.sendmail(inst, "alice@sandbox.test", input="Subject: %s\n\nhello\n" % tok,
                          env={"NAME": "Named Person"})
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "alice", tok))
        rp, _, _, _ = e.split_prepended(data)
        self.assertEqual(rp, "<%s@sandbox.test>" % login)
        self.assertRegex(header_of(data),
                         rb"(?m)^From: Named Person <%s@sandbox\.test>$" % re.escape(login.encode()))

    def test_null_sender(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "-f", "<>", "bob@sandbox.test", input="Subject: %s\n\nx\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "bob", tok))
        self.assertTrue(data.startswith(b"Return-Path: <>\n"), data[:100])

    def test_bs_session(self):
        inst = self.make()
        tok = self.token()
        script = ("EHLO client.test\r\nMAIL FROM:<alice@sandbox.test>\r\n"
                  "RCPT TO:<bob@sandbox.test>\r\nRCPT TO:<bad address>\r\nDATA\r\n"
                  "Subject: %s\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n" % tok)
        p = self.sendmail(inst, "-bs", input=script)
        self.assertEqual(p.returncode, 0, p.stderr)
        codes = [line[:3] for line in p.stdout.decode().split("\r\n") if line[:3].isdigit()
                 and line[3:4] == " "]
        self.assertEqual(codes, ["220", "250", "250", "250", "501", "354", "250", "221"])
        data = e.lf(self.only_copy(inst, "bob", tok))
        rp, _, _, _ = e.split_prepended(data)
        self.assertEqual(rp, "<alice@sandbox.test>")
        self.assertIn(b"\n\n.leading dot\nbody\n", data)     # dot-stuffing undone
        self.assertEqual(self.copies(inst, "alice", tok), [])

    # -N, -R, -V and -B (and their -bs forms) as the queue file keeps them
    # (qmgr is left out of master.cf so the file stays in incoming/).
    def test_dsn_options_reach_the_queue_file(self):
        inst = self.make(start=False)
        with open(os.path.join(inst.etc, "master.cf")) as f:
            inst.write_master_cf(e.without_service(f.read(), "qmgr"))
        inst.start()
        cases = (
            (["-N", "success,delay", "-R", "hdrs", "-V", "env1", "-B", "8BITMIME"],
             str(DSN_SUCCESS | DSN_DELAY), ["dsn_envid=env1", "dsn_ret=HDRS", "encoding=8bitmime"]),
            (["-N", "never", "-R", "full", "-B", "7BIT", "-V", "<x-2.y_z@host>"],
             str(DSN_NEVER), ["dsn_envid=<x-2.y_z@host>", "dsn_ret=FULL", "encoding=7bit"]),
            (["-N", "failure"], str(DSN_FAILURE), []),
            # The decoded form smtpd keeps for ENVID=a+2Bb+20c (dsn.c: one rule).
            (["-V", "a+b c"], None, ["dsn_envid=a+b c"]),
            ([], None, []),
        )
        for args, notify, attrs in cases:
            tok = self.token()
            p = self.sendmail(inst, *args, "alice@sandbox.test", "bob@sandbox.test",
                              input="Subject: %s\n\nbody\n" % tok)
            self.assertEqual(p.returncode, 0, p.stderr)
            recs = h.wait_for(lambda: self.queued(inst, tok), 15, "%s in incoming/" % tok)
            got_attrs, rcpts = envelope(recs)
            self.assertEqual(rcpts, [("alice@sandbox.test", notify), ("bob@sandbox.test", notify)],
                             args)
            self.assertEqual(sorted(a for a in got_attrs
                                    if a.split("=")[0] in ("dsn_envid", "dsn_ret", "encoding")),
                             attrs, args)
        # -t -N: the recipients cleanup extracts from To/Cc get the bits too
        # (a dsn_notify attribute of the submission, not kept in the file).
        tok = self.token()
        p = self.sendmail(inst, "-t", "-N", "success,delay",
                          input="To: alice@sandbox.test\nCc: bob@sandbox.test\n"
                                "Subject: %s\n\nbody\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        recs = h.wait_for(lambda: self.queued(inst, tok), 15, "%s in incoming/" % tok)
        got_attrs, rcpts = envelope(recs)
        both = str(DSN_SUCCESS | DSN_DELAY)
        self.assertEqual(rcpts, [("alice@sandbox.test", both), ("bob@sandbox.test", both)])
        self.assertFalse([a for a in got_attrs if a.startswith("dsn_notify=")], got_attrs)
        # The same through -bs: ENVID is xtext (decoded into the queue file,
        # as smtpd does), NOTIFY is per recipient, and a refused MAIL leaves
        # nothing for the next one.
        tok1, tok2 = self.token(), self.token()
        script = ("EHLO client.test\r\n"
                  "MAIL FROM:<alice@sandbox.test> ENVID=bad+0Aone\r\n"
                  "MAIL FROM:<alice@sandbox.test> ENVID=q+2Cx RET=FULL BODY=8BITMIME\r\n"
                  "RCPT TO:<x@sandbox.test> NOTIFY=NEVER,DELAY\r\n"
                  "RCPT TO:<x@sandbox.test> ORCPT=rfc822\r\n"
                  "RCPT TO:<bob@sandbox.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;b+2Bob@sandbox.test\r\n"
                  "RCPT TO:<alice@sandbox.test> NOTIFY=NEVER\r\n"
                  "DATA\r\nSubject: %s\r\n\r\nx\r\n.\r\n"
                  "MAIL FROM:<alice@sandbox.test> BODY=7BIT RET=HDRS ENVID=z X-NO=1\r\n"
                  "MAIL FROM:<alice@sandbox.test>\r\nRCPT TO:<bob@sandbox.test>\r\n"
                  "DATA\r\nSubject: %s\r\n\r\nx\r\n.\r\nQUIT\r\n") % (tok1, tok2)
        p = self.sendmail(inst, "-bs", input=script)
        self.assertEqual(p.returncode, 0, p.stderr)
        codes = [line[:3] for line in p.stdout.decode().split("\r\n") if line[:3].isdigit()
                 and line[3:4] == " "]
        self.assertEqual(codes, ["220", "250", "501", "250", "501", "501", "250", "250", "354",
                                 "250", "555", "250", "250", "354", "250", "221"])
        for tok, rcpts, attrs in (
                (tok1, [("bob@sandbox.test", str(DSN_SUCCESS | DSN_DELAY)),
                        ("alice@sandbox.test", str(DSN_NEVER))],
                 ["dsn_envid=q,x", "dsn_ret=FULL", "encoding=8bitmime"]),
                (tok2, [("bob@sandbox.test", None)], [])):
            recs = h.wait_for(lambda: self.queued(inst, tok), 15, "%s in incoming/" % tok)
            got_attrs, got_rcpts = envelope(recs)
            self.assertEqual(got_rcpts, rcpts)
            # ORCPT is kept decoded, "type;address", as smtpd keeps it.
            self.assertEqual([d for t, d in recs if t == "o"],
                             [b"rfc822;b+ob@sandbox.test"] if tok == tok1 else [])
            self.assertEqual(sorted(a for a in got_attrs
                                    if a.split("=")[0] in ("dsn_envid", "dsn_ret", "encoding")),
                             attrs)
        h.wait_for(lambda: self.maildrop(inst) == [], 10, "maildrop/ to empty")

    def test_mailq_and_newaliases_by_name(self):
        inst = self.make(start=False)
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        # A stand-in `surel` that prints its arguments: which verb each name
        # and flag runs.
        fake = os.path.join(tmp, "surel")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho \"$@\"\n")
        os.chmod(fake, 0o755)
        env = {"SUREL_COMMAND": fake}
        for prog, args, expect in (("mailq", [], "queue list"), ("sendmail", ["-bp"], "queue list"),
                                   ("sendmail", ["-q"], "queue flush"),
                                   ("newaliases", [], "map build -a lmdb:%s/aliases" % inst.etc),
                                   ("sendmail", ["-bi"], "map build -a")):
            p = self.sendmail(inst, *args, env=env, prog=prog)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(p.stdout.decode().startswith("-c %s %s" % (inst.etc, expect)),
                            "%s %s ran: %r" % (prog, args, p.stdout))
        # The real thing: newaliases rebuilds the sandbox's alias table.
        lmdb = os.path.join(inst.etc, "aliases.lmdb")
        os.unlink(lmdb)
        p = self.sendmail(inst, prog="newaliases")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.exists(lmdb))
        # mailq prints what `surel queue list` prints, with a message queued.
        tok = self.token()
        self.assertEqual(self.sendmail(inst, "bob@sandbox.test", input="x %s\n" % tok).returncode, 0)
        q = inst.surel("queue", "list")
        p = self.sendmail(inst, prog="mailq")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.decode(), q.stdout)
        self.assertIn("bob@sandbox.test", q.stdout)

    def test_local_submission_gets_postfix_received_header(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nlocal\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "bob", tok)).decode(errors="replace")
        qid = re.search(r"(\S+): uid=%d from=" % os.getuid(), inst.log()).group(1)
        # Postfix's pickup line: first in the content, the uid, not the name.
        self.assertRegex(data, r"\nReceived: by sandbox\.test \(surel, from userid %d\)\n"
                         r"\tid %s; \w{3}, [ \d]\d \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4} "
                         r"\(\w+\)\nSubject: %s\n" % (os.getuid(), qid, tok))

    def test_header_addresses_are_qualified(self):
        """Local mail's header addresses get @$myorigin (append_at_myorigin)
        and, with append_dot_mydomain, user@host gets .$mydomain; comments
        and display names stay. SMTP clients: only those that
        local_header_rewrite_clients (permit_inet_interfaces) matches."""
        inst = self.make(start=False)
        inst.conf(append_dot_mydomain="yes", mydomain="example.org")
        inst.start()
        headers = ("From: root (Cron Daemon)\nTo: alice\nCc: Bob Builder <bob>, "
                   "\"x y\" <alice@sandbox.test>, undisclosed:;\nReply-To: carol@mailhost\n"
                   "Sender: <>\nSubject: %s\n\nbody\n")
        tok = self.token()
        p = self.sendmail(inst, "-t", input=headers % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.wait_delivered(inst, ["alice", "bob"], tok)
        head = header_of(e.lf(got["alice"][0])).decode()
        self.assertIn("\nFrom: root@sandbox.test (Cron Daemon)\n", head)
        self.assertIn("\nTo: alice@sandbox.test\n", head)
        self.assertIn("\nCc: Bob Builder <bob@sandbox.test>, \"x y\" <alice@sandbox.test>, "
                      "undisclosed:;\n", head)
        self.assertIn("\nReply-To: carol@mailhost.example.org\n", head)
        self.assertIn("\nSender: <>\n", head)
        # SMTP from 127.0.0.1 (an inet_interfaces address): local context.
        smtp = e.crlf(headers.replace("To: alice", "To: alice@sandbox.test"))
        tok = self.token()
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], smtp % tok.encode())
        head = header_of(e.lf(self.only_copy(inst, "alice", tok))).decode()
        self.assertIn("\nFrom: root@sandbox.test (Cron Daemon)\n", head)
        self.assertIn("\nReply-To: carol@mailhost.example.org\n", head)
        # SMTP from 127.0.0.2 (not one of ours): the headers stay as sent.
        tok = self.token()
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], smtp % tok.encode(), source="127.0.0.2")
        head = header_of(e.lf(self.only_copy(inst, "alice", tok))).decode()
        self.assertIn("\nFrom: root (Cron Daemon)\n", head)
        self.assertIn("\nCc: Bob Builder <bob>, ", head)
        self.assertIn("\nReply-To: carol@mailhost\n", head)

    def test_bcc_copies(self):
        """always_bcc, sender_bcc_maps, recipient_bcc_maps: one envelope
        recipient each, in no header, NOTIFY=NEVER (an undeliverable copy
        tells the sender nothing); bounces get no copies."""
        inst = self.make(start=False, users=["carol", "dave", "erin"])
        inst.conf(always_bcc="carol@sandbox.test",
                  sender_bcc_maps="inline:{bob@sandbox.test=dave@sandbox.test}",
                  recipient_bcc_maps="inline:{alice@sandbox.test=erin, "
                                     "bob@sandbox.test=ghost@sandbox.test}")
        inst.start()
        tok = self.token()
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"],
               e.crlf("From: bob@sandbox.test\nTo: alice@sandbox.test\nSubject: %s\n\nx\n"
                      % tok))
        got = self.wait_delivered(inst, ["alice", "carol", "dave", "erin"], tok)
        for user, copies in got.items():
            self.assertEqual(len(copies), 1, user)
            _, dt, _, rest = e.split_prepended(e.lf(copies[0]))
            self.assertEqual(dt, "%s@sandbox.test" % user)
            self.assertNotRegex(header_of(rest).decode(), r"carol|dave|erin")
        # The copy for ghost (unknown) bounces silently: NOTIFY=NEVER.
        tok = self.token()
        qid = e.send(inst, "alice@sandbox.test", ["bob@sandbox.test"],
                     e.crlf("Subject: %s\n\nx\n" % tok))
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r"%s: to=<ghost@sandbox\.test>.*status=bounced" % qid)
        self.assertEqual(len(self.copies(inst, "bob", tok)), 1)
        self.assertEqual(self.copies(inst, "alice", tok), [])       # no bounce notice
        # A bounce (from <>) gets no copy; the message it returns had one.
        tok = self.token()
        p = self.sendmail(inst, "-f", "bob@sandbox.test", "nosuch@sandbox.test",
                          input="Subject: %s\n\nx\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        h.wait_for(lambda: self.copies(inst, "bob", tok), 20, "the bounce to bob")
        h.wait_for(lambda: not e.queue_files(inst, QUEUES), 20, "the queue to empty")
        self.assertEqual(len(self.copies(inst, "carol", tok)), 1)
        self.assertEqual(len(self.copies(inst, "dave", tok)), 1)

    def test_masquerade_domains(self):
        """masquerade_domains with a !exemption and masquerade_exceptions;
        the default classes: envelope sender and headers, not envelope
        recipients."""
        inst = self.make(start=False)
        inst.conf(masquerade_domains="!keep.example.com, example.com",
                  masquerade_exceptions="root")
        inst.start()
        tok = self.token()
        e.send(inst, "bob@host.example.com", ["alice@sandbox.test"], e.crlf(
            "From: Bob <bob@mail.example.com>\nTo: alice@sandbox.test, carol@example.com\n"
            "Cc: root@mail.example.com, dave@a.keep.example.com, erin@x.example.org\n"
            "Subject: %s\n\nx\n" % tok))
        rp, _, _, rest = e.split_prepended(e.lf(self.only_copy(inst, "alice", tok)))
        self.assertEqual(rp, "<bob@example.com>")
        head = "\n" + header_of(rest).decode()
        self.assertIn("\nFrom: Bob <bob@example.com>\n", head)
        self.assertIn("\nTo: alice@sandbox.test, carol@example.com\n", head)
        self.assertIn("\nCc: root@mail.example.com, dave@a.keep.example.com, "
                      "erin@x.example.org\n", head)

    def test_bv_reports_transports(self):
        inst = self.make(start=False)
        p = self.sendmail(inst, "-bv", "alice@sandbox.test", "someone@elsewhere.example")
        out = p.stdout.decode()
        self.assertIn("<alice@sandbox.test>: deliverable: transport=local:sandbox.test", out)
        # The sandbox sends nothing out: default_transport is error.
        self.assertIn("<someone@elsewhere.example>: undeliverable: ", out)
        self.assertEqual(p.returncode, EX_NOUSER, out)
        p = self.sendmail(inst, "-bv", "ALICE@sandbox.test", "postmaster@sandbox.test")
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())
        p = self.sendmail(inst, "-bv", "nosuchuser@sandbox.test")
        self.assertEqual(p.returncode, EX_NOUSER)
        self.assertIn("<nosuchuser@sandbox.test>: undeliverable: User unknown in local "
                      "recipient table", p.stdout.decode())
        p = self.sendmail(inst, "-bv", "bad address")
        self.assertEqual(p.returncode, EX_NOUSER)
        self.assertEqual(self.maildrop(inst), [])

    @unittest.skipUnless(MUA, "bsd-mailx not available (tools/install-deps unpacks it)")
    def test_real_mua(self):
        inst = self.make()
        tok = self.token()
        rc = os.path.join(inst.root, "mailrc")
        with open(rc, "w") as f:
            f.write("set sendmail=%s\n" % h.binary("sendmail"))
        env = dict(os.environ, MAILRC=rc, MAIL_CONFIG=inst.etc, HOME=inst.root)
        p = subprocess.run([MUA, "-n", "-s", "mua " + tok, "-c", "alice@sandbox.test",
                            "bob@sandbox.test"], input=b"sent by bsd-mailx\n", env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = self.wait_delivered(inst, ["alice", "bob"], tok)
        for user, copies in got.items():
            self.assertEqual(len(copies), 1, "copies for %s" % user)
            msg = e.parse(e.lf(copies[0]))
            self.assertEqual(msg["Delivered-To"], "%s@sandbox.test" % user)
            self.assertEqual(msg["Subject"], "mua " + tok)
            self.assertEqual(msg["To"], "bob@sandbox.test")
            self.assertEqual(msg["Cc"], "alice@sandbox.test")
            self.assertEqual(msg.get_payload(), "sent by bsd-mailx\n")

    def test_submit_while_stopped_then_start(self):
        inst = self.make(start=False)
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nwaiting\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = self.maildrop(inst)
        self.assertEqual(len(files), 1)
        st = os.stat(inst.path("spool", "maildrop", files[0]))
        self.assertEqual(st.st_mode & 0o777, 0o744)     # complete
        self.assertEqual(e.queue_files(inst, QUEUES[1:]), {})
        self.assertEqual(self.copies(inst, "bob", tok), [])
        inst.start()
        self.only_copy(inst, "bob", tok)
        inst.wait_log("uid=%d from=<%s>" % (os.getuid(), pwd.getpwuid(os.getuid()).pw_name))

    def test_refusals_leave_nothing(self):
        inst = self.make(start=False)
        p = self.sendmail(inst, input="Subject: x\n\nno recipients\n")
        self.assertEqual(p.returncode, EX_USAGE)
        self.assertIn(b"no recipients", p.stderr)
        p = self.sendmail(inst, "bob@sandbox.test", "not an address", input="x\n")
        self.assertEqual(p.returncode, EX_NOUSER)
        self.assertIn(b"bad address syntax", p.stderr)
        p = self.sendmail(inst, "-f", "bad sender", "bob", input="x\n")
        self.assertEqual(p.returncode, EX_NOUSER)
        p = self.sendmail(inst, "-N", "sometimes", "bob", input="x\n")
        self.assertEqual(p.returncode, EX_USAGE)
        # An envelope ID postdrop would refuse is refused before it starts.
        for envid in ("a\tb", "\u00e9t\u00e9", "x" * 101, ""):
            p = self.sendmail(inst, "-V", envid, "bob", input="x\n")
            self.assertEqual(p.returncode, EX_USAGE, envid)
            self.assertIn(b"-V: bad envelope ID", p.stderr)
        # Too large for message_size_limit: postdrop refuses, removes its file.
        inst.conf(message_size_limit="1000")
        p = self.sendmail(inst, "bob@sandbox.test", input="x" * 5000 + "\n")
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
        # -bs says so as smtpd would (the shared cleanup status table).
        p = self.sendmail(inst, "-bs", input="MAIL FROM:<alice@sandbox.test>\r\n"
                          "RCPT TO:<bob@sandbox.test>\r\nDATA\r\n" + "x" * 5000
                          + "\r\n.\r\nQUIT\r\n")
        self.assertIn(b"\r\n%s\r\n221 " % rules.cleanup_reply(4).encode(), p.stdout)
        # postdrop on its own: garbage, a truncated stream, a forbidden record.
        for data in (b"garbage", b"S\x05alice", b"S\x05aliceR\x03bobM\x00",
                     b"T\x031 2S\x05aliceR\x03bobM\x00X\x00E\x00"):
            p = subprocess.run([h.binary("postdrop"), "-c", inst.etc], input=data,
                               capture_output=True, timeout=30)
            self.assertNotEqual(p.returncode, 0, data)
        self.assertEqual(self.maildrop(inst), [])

    # Two real users against each other's maildrop files (root only).
    def users(self):
        ids = []
        for name in TEST_USERS:
            try:
                pw = pwd.getpwnam(name)
            except KeyError:
                h.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
                pw = pwd.getpwnam(name)
            ids.append((pw.pw_uid, pw.pw_gid))
        return ids

    def setgid_postdrop(self):
        """A copy of postdrop installed as it would be: setgid sureldrop."""
        d = tempfile.mkdtemp(prefix="surel-pd-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        path = os.path.join(d, "postdrop")
        shutil.copy(h.binary("postdrop"), path)
        shutil.chown(path, group="sureldrop")
        os.chmod(path, 0o2755)
        return path

    def as_user(self, ids):
        uid, gid = ids
        return lambda: (os.setgroups([]), os.setgid(gid), os.setuid(uid))

    @unittest.skipUnless(IS_ROOT, "needs root: real users and a setgid postdrop")
    def test_postdrop_users_cannot_touch_each_other(self):
        u1, u2 = self.users()
        inst = self.make(start=False)
        postdrop = self.setgid_postdrop()
        maildrop = inst.path("spool", "maildrop")
        # User 1 is half way through a submission: the file exists, incomplete.
        p1 = subprocess.Popen([postdrop, "-c", inst.etc], stdin=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, preexec_fn=self.as_user(u1))
        p1.stdin.write(b"S\x05aliceR\x03bobM\x00N\x05hello")
        p1.stdin.flush()
        name = h.wait_for(lambda: self.maildrop(inst), 10, "user 1's file")[0]
        victim = os.path.join(maildrop, name)
        st = os.lstat(victim)
        self.assertEqual((st.st_uid, st.st_mode & 0o7777), (u1[0], 0o400))
        # User 2 can neither list, read, replace nor remove it.
        probe = ("import os, sys\n"
                 "for op in (lambda: os.listdir(%r), lambda: open(%r).read(),\n"
                 "           lambda: open(%r, 'w'), lambda: os.unlink(%r),\n"
                 "           lambda: os.rename(%r, %r + 'x')):\n"
                 "    try:\n        op()\n        sys.exit('allowed')\n"
                 "    except PermissionError:\n        pass\n") % (
                     maildrop, victim, victim, victim, victim, victim)
        p = subprocess.run([shutil.which("python3", path="/usr/bin:/bin") or "python3", "-c", probe], preexec_fn=self.as_user(u2),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Nor through postdrop's group: a configuration of their own is refused.
        own = tempfile.mkdtemp(prefix="surel-evil-")
        self.addCleanup(shutil.rmtree, own, True)
        with open(os.path.join(own, "main.cf"), "w") as f:
            f.write("queue_directory = %s\n" % own)
        os.symlink(maildrop, os.path.join(own, "maildrop"))
        os.chown(own, *u2)
        os.chown(os.path.join(own, "main.cf"), *u2)
        good = b"S\x05aliceR\x03bobM\x00N\x01xX\x00E\x00"
        for args, env in (([postdrop, "-c", own], {}), ([postdrop], {"MAIL_CONFIG": own})):
            p = subprocess.run(args, input=good, env=dict(os.environ, **env),
                               preexec_fn=self.as_user(u2), capture_output=True, timeout=30)
            self.assertEqual(p.returncode, EX_NOPERM, p.stderr)
        self.assertEqual(self.maildrop(inst), [name])
        # User 2's own submission is a new file of theirs; user 1's is untouched.
        p = subprocess.run([postdrop, "-c", inst.etc], input=good, preexec_fn=self.as_user(u2),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = self.maildrop(inst)
        self.assertEqual(len(files), 2)
        other = [f for f in files if f != name][0]
        st2 = os.lstat(os.path.join(maildrop, other))
        self.assertEqual((st2.st_uid, st2.st_mode & 0o7777), (u2[0], 0o744))
        self.assertEqual(os.lstat(victim).st_ino, st.st_ino)
        # User 1 gives up half way: the unfinished file goes away.
        p1.stdin.close()
        self.assertNotEqual(p1.wait(timeout=30), 0)
        self.assertEqual(self.maildrop(inst), [other])

    @unittest.skipUnless(IS_ROOT, "needs root: a real user and a setgid postdrop")
    def test_user_submission_is_picked_up_with_their_uid(self):
        u1, _ = self.users()
        inst = self.make()
        postdrop = self.setgid_postdrop()
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nfrom a user\n" % tok,
                          env={"SUREL_POSTDROP": postdrop}, preexec=self.as_user(u1))
        self.assertEqual(p.returncode, 0, p.stderr)
        data = e.lf(self.only_copy(inst, "bob", tok))
        self.assertEqual(e.split_prepended(data)[0], "<%s@sandbox.test>" % TEST_USERS[0])
        inst.wait_log("uid=%d from=<%s>" % (u1[0], TEST_USERS[0]))


if __name__ == "__main__":
    h.main()
