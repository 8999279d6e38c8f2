"""test_agents - the small delivery agents: discard(8), pipe(8) and virtual(8).

Each test starts a sandbox instance (a root one in CI: the master drops
each daemon as in production), routes a domain to the agent with
transport_maps, submits mail over SMTP and looks at the log, the queue
and what the agent produced.
"""
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import core as h
from harness import e2e as e


def simple_message(subject, to, sender="bob@sandbox.test", body="body\n"):
    return e.crlf("From: %s\nTo: %s\nSubject: %s\n\n%s" % (sender, to, subject, body))


class Discard(h.InstanceTest):
    """discard:reason in transport_maps: the mail is gone, logged as sent."""

    def test_discard_logs_the_reason_and_removes_the_message(self):
        inst = self.started(transport_maps="inline:{ example.net=discard:silently, "
                                           "{coded.example=discard:2.7.1 by policy} }")
        qid = e.send(inst, "bob@sandbox.test", ["someone@example.net", "x@coded.example"],
                     simple_message("thrown away", "someone@example.net"))
        inst.wait_log("%s: removed" % qid, timeout=20)
        log = inst.log()
        self.assertRegex(log, r"surel/discard\[\d+\]: %s: to=<someone@example\.net>, "
                              r"relay=none, delay=[0-9.]+, delays=[0-9./]+, dsn=2\.0\.0, "
                              r"status=sent \(silently\)" % qid)
        self.assertRegex(log, r"%s: to=<x@coded\.example>, relay=none, .*dsn=2\.7\.1, "
                              r"status=sent \(by policy\)" % qid)
        self.assertEqual(e.queue_files(inst), {})
        self.assertEqual(inst.messages("bob"), [])      # no notice to the sender


# The command the pipe services run: it writes its argv, its stdin and its
# ids into OUT/<n>.json and then does what the first recipient's local
# part says (ok, tempfail: exit 75, nouser: exit 67 with output, slow:
# sleep past the time limit).
PIPE_SCRIPT = """#!/usr/bin/python3
import json, os, sys, time
out = sys.argv[1]
data = sys.stdin.buffer.read()
name = os.path.join(out, "%d.json" % time.time_ns())
with open(name + ".tmp", "w") as f:
    json.dump({"argv": sys.argv[2:], "stdin": data.decode("latin-1"),
               "uid": os.getuid(), "gid": os.getgid(), "env": dict(os.environ),
               "cwd": os.getcwd()}, f)
os.rename(name + ".tmp", name)
what = [a for a in sys.argv[2:] if a.lower().endswith("@pipe.test")]
what = what[0].split("@")[0] if what else "ok"
if what.startswith("tempfail"):
    sys.exit(75)
if what.startswith("nouser"):
    print("no such mailbox here")
    sys.exit(67)
if what.startswith("slow"):
    time.sleep(60)
"""

PIPE_USER = "surelpipetest"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"


@unittest.skipUnless(os.geteuid() == 0, "needs root: the command runs as a test user")
class Pipe(h.InstanceTest):
    """pipe services of master.cf delivering through PIPE_SCRIPT."""

    @classmethod
    def setUpClass(cls):
        subprocess.run(["userdel", "--force", PIPE_USER], capture_output=True)
        subprocess.run(["useradd", "--no-user-group", "--gid", "nogroup", "--no-create-home",
                        "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", PIPE_USER],
                       check=True, capture_output=True)
        cls.pw = pwd.getpwnam(PIPE_USER)

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["userdel", "--force", PIPE_USER], capture_output=True)

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="surel-pipe-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        os.chmod(self.dir, 0o755)
        self.script = os.path.join(self.dir, "deliver.py")
        with open(self.script, "w") as f:
            f.write(PIPE_SCRIPT)
        os.chmod(self.script, 0o755)
        self.out = os.path.join(self.dir, "out")
        os.mkdir(self.out)
        os.chown(self.out, self.pw.pw_uid, self.pw.pw_gid)

    def pipe_instance(self, services, **params):
        """An instance with extra master.cf lines; pipe.test goes to `one`,
        multi.test to `multi`."""
        inst = self.instance()
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write(services)
        params.setdefault("transport_maps",
                          "inline:{ pipe.test=one:Pipe.Host, multi.test=multi:[Next.Hop] }")
        inst.conf(one_destination_recipient_limit="1", **params)
        inst.start()
        return inst

    def runs(self, count=1, timeout=20):
        def done():
            names = sorted(n for n in os.listdir(self.out) if n.endswith(".json"))
            return names if len(names) >= count else None
        names = h.wait_for(done, timeout, "%d command run(s)" % count)
        result = []
        for n in names:
            with open(os.path.join(self.out, n)) as f:
                result.append(json.load(f))
        return result

    ONE = ("one unix - n n - - pipe\n"
           "  flags=DROFq. user=%s argv=%s %s ${sender} ${recipient} ${user}\n"
           "  ${extension} ${domain} ${nexthop} ${mailbox} ${original_recipient}\n"
           "  $queue_id ${size} ${client_address} $(client_helo) {x ${sasl_username} y}\n"
           "  ${extension?has-ext} ${extension:no-ext} $$literal\n")

    def one(self):
        return self.ONE % (PIPE_USER, self.script, self.out)

    def test_macros_flags_and_ids(self):
        inst = self.pipe_instance(self.one(), recipient_delimiter="+")
        qid = e.send(inst, "bob@sandbox.test", ["Ann+Box@Pipe.test"],
                     e.crlf("From: bob@sandbox.test\nSubject: piped\n\n.dot line\n"
                            "From here\nlast\n"))
        [run] = self.runs()
        argv = run["argv"]
        self.assertEqual(argv[:8], ["bob@sandbox.test", "Ann+Box@Pipe.test", "Ann", "Box",
                                    "Pipe.test", "Pipe.Host", "Ann+Box",
                                    "Ann+Box@Pipe.test"])
        self.assertEqual(argv[8], qid)
        self.assertGreater(int(argv[9]), 50)                        # ${size}
        self.assertEqual(argv[10:], ["127.0.0.1", "client.test", "x  y", "has-ext", "",
                                     "$literal"])
        self.assertEqual((run["uid"], run["gid"]), (self.pw.pw_uid, self.pw.pw_gid))
        # export_environment and PATH only (Python itself adds LC_CTYPE
        # when the locale is C: PEP 538).
        self.assertLessEqual(set(run["env"]) - {"LC_CTYPE"},
                             {"PATH", "TZ", "LANG", "MAIL_CONFIG"})
        self.assertEqual(run["env"]["PATH"], "/usr/bin:/bin")
        stdin = run["stdin"]
        self.assertRegex(stdin, r"^From bob@sandbox\.test  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
                                r"\d{4}\nReturn-Path: <bob@sandbox\.test>\n"
                                r"X-Original-To: Ann\+Box@Pipe\.test\n"
                                r"Delivered-To: ann\+box@pipe\.test\nReceived: ")
        self.assertIn("\n\nX..dot line\n".replace("X", ""), stdin)        # . flag
        self.assertIn("\nFrom here\nlast\n", stdin)                     # no > flag
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r"surel/pipe\[\d+\]: %s: to=<Ann\+Box@Pipe\.test>, "
                                     r"relay=one, .*dsn=2\.0\.0, "
                                     r"status=sent \(delivered via one service\)" % qid)

    def test_recipient_macro_multiplies_and_quote_flags(self):
        multi = ("multi unix - n n - - pipe\n"
                 "  flags=h> user=%s:nogroup argv=%s %s -s ${sender} -n ${nexthop}\n"
                 "  -r ${recipient} ${null}\n" % (PIPE_USER, self.script, self.out))
        multi = multi.replace(" ${null}", "")
        inst = self.pipe_instance(multi)
        qid = e.send(inst, "", ["A@Multi.Test", "b@multi.test"],
                     e.crlf("Subject: two\n\nFrom the start\n"))
        [run] = self.runs()
        self.assertEqual(run["argv"], ["-s", "MAILER-DAEMON", "-n", "[next.hop]", "-r",
                                       "A@multi.test", "b@multi.test"])
        self.assertIn("\n>From the start\n", run["stdin"])
        self.assertFalse(run["stdin"].startswith("Return-Path"))
        inst.wait_log("%s: removed" % qid)
        self.assertEqual(len(re.findall(r"%s: to=<[Ab]@[Mm]ulti\.[Tt]est>, relay=multi, .*"
                                        r"status=sent" % qid, inst.log())), 2)

    @unittest.skipUnless(os.path.exists(DOVECOT_LDA), "dovecot-core is not installed")
    def test_dovecot_lda(self):
        # A real peer: Dovecot's LDA as Postfix's documentation runs it
        # (flags=DRXhu, -f ${sender} -a ${original_recipient}), writing
        # into a Maildir of the pipe user; its own config, log and folders.
        mail = os.path.join(self.dir, "mail")
        os.mkdir(mail)
        os.chown(mail, self.pw.pw_uid, self.pw.pw_gid)
        conf = os.path.join(self.dir, "dovecot.conf")
        with open(conf, "w") as f:
            f.write("protocols =\nssl = no\nbase_dir = %s/run\nlog_path = %s/lda.log\n"
                    "mail_location = maildir:%s/%%n/Maildir\n" % (self.dir, mail, mail))
        os.chmod(conf, 0o644)
        lda = ("dovecot unix - n n - - pipe\n"
               "  flags=DRXhu user=%s argv=%s -c %s -f ${sender} -a ${original_recipient}\n"
               % (PIPE_USER, DOVECOT_LDA, conf))
        inst = self.pipe_instance(lda, transport_maps="inline:{ lda.test=dovecot: }",
                                  dovecot_destination_recipient_limit="1")
        qid = e.send(inst, "bob@sandbox.test", ["Someone@LDA.test"],
                     simple_message("through dovecot", "someone@lda.test"))
        inst.wait_log("%s: removed" % qid, timeout=30)
        self.assertRegex(inst.log(), r"%s: to=<Someone@LDA\.test>, relay=dovecot, .*"
                                     r"status=sent \(delivered via dovecot service\)" % qid)
        new = os.path.join(mail, PIPE_USER, "Maildir", "new")
        [name] = os.listdir(new)
        with open(os.path.join(new, name), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"Return-Path: <bob@sandbox.test>\n"
                                        b"Delivered-To: someone@lda.test\n"), data[:200])
        self.assertIn(b"Subject: through dovecot", data)
        with open(os.path.join(mail, "lda.log")) as f:
            self.assertIn("saved mail to INBOX", f.read())

    def test_flag_d_needs_one_recipient_per_request(self):
        multi = ("multi unix - n n - - pipe\n"
                 "  flags=D user=%s argv=%s %s ${recipient}\n" % (PIPE_USER, self.script, self.out))
        inst = self.pipe_instance(multi)
        qid = e.send(inst, "bob@sandbox.test", ["a@multi.test", "b@multi.test"],
                     e.crlf("Subject: two\n\nbody\n"))
        inst.wait_log("warning: pipe flag `D' requires multi_destination_recipient_limit = 1",
                      timeout=20)
        h.wait_for(lambda: len(re.findall(r"%s: to=<[ab]@multi\.test>, relay=multi, .*"
                                          r"dsn=4\.3\.5, status=deferred \(mail system "
                                          r"configuration error\)" % qid, inst.log())) == 2,
                   10, "both deferred")
        self.assertEqual(os.listdir(self.out), [])                  # nothing ran

    def test_exit_statuses(self):
        inst = self.pipe_instance(self.one(), one_time_limit="2s", minimal_backoff_time="1h",
                                  maximal_backoff_time="1h")
        qid = e.send(inst, "bob@sandbox.test",
                     ["tempfail@pipe.test", "nouser@pipe.test", "slow@pipe.test"],
                     e.crlf("Subject: statuses\n\nbody\n"))
        self.runs(3)
        log = lambda: inst.log()
        h.wait_for(lambda: re.search(r"to=<slow@pipe\.test>.*status=", log()), 20, "slow")
        h.wait_for(lambda: re.search(r"to=<nouser@pipe\.test>.*status=", log()), 20, "nouser")
        h.wait_for(lambda: re.search(r"to=<tempfail@pipe\.test>.*status=", log()), 20, "temp")
        self.assertRegex(log(), r"%s: to=<tempfail@pipe\.test>, relay=one, .*dsn=4\.3\.0, "
                                r"status=deferred \(temporary failure\)" % qid)
        self.assertRegex(log(), r"%s: to=<nouser@pipe\.test>, relay=one, .*dsn=5\.1\.1, "
                                r"status=bounced \(user unknown\. Command output: "
                                r"no such mailbox here\)" % qid)
        # The time limit kills the command (and its group) and bounces, as
        # Postfix's pipe does.
        self.assertRegex(log(), r"%s: to=<slow@pipe\.test>, relay=one, .*dsn=5\.3\.0, "
                                r"status=bounced \(Command time limit exceeded: "
                                r"\"%s\"\)" % (qid, re.escape(self.script)))
        out = subprocess.run(["pgrep", "-u", PIPE_USER], capture_output=True, text=True)
        self.assertEqual(out.stdout, "")
        # The sender gets one notice with both bounced recipients.
        [notice] = e.wait_delivered(inst, "bob")
        text = notice.decode(errors="replace")
        self.assertIn("Final-Recipient: rfc822; nouser@pipe.test", text)
        self.assertIn("Status: 5.1.1", text)
        self.assertIn("Status: 5.3.0", text)
        # The deferred recipient keeps the message queued.
        h.wait_for(lambda: "deferred" in e.queue_files(inst), 10, "deferred message")

    def test_refused_users(self):
        bad = ("rootpipe unix - n n - - pipe user=root argv=/bin/true\n"
               "ownerpipe unix - n n - - pipe user=surel argv=/bin/true\n"
               "noargv unix - n n - - pipe user=%s\n"
               "badmacro unix - n n - - pipe user=%s argv=/bin/echo ${nosuch}\n"
               % (PIPE_USER, PIPE_USER))
        inst = self.pipe_instance(bad, transport_maps="inline:{ r.test=rootpipe:, "
                                  "o.test=ownerpipe:, n.test=noargv:, b.test=badmacro: }")
        qid = e.send(inst, "bob@sandbox.test", ["a@r.test", "a@o.test", "a@n.test", "a@b.test"],
                     e.crlf("Subject: refused\n\nbody\n"))
        for text in ("service rootpipe: user= specifies root privileges",
                     "service ownerpipe: user= specifies the mail system owner surel",
                     "service noargv: missing argv= attribute",
                     "service badmacro: unknown macro $nosuch"):
            inst.wait_log(text, timeout=20)
        # Nothing is lost: qmgr keeps the mail.
        self.assertIn(qid, str(e.queue_files(inst, ("active", "deferred", "incoming"))))


VUID = 5000


@unittest.skipUnless(os.geteuid() == 0, "needs root: delivers with the virtual uid")
class Virtual(h.InstanceTest):
    """virtual(8): virtual_mailbox_domains delivered below virtual_mailbox_base."""

    def virtual_instance(self, **params):
        inst = self.instance()
        base = inst.path("vmail")
        os.mkdir(base, 0o700)
        os.chown(base, VUID, VUID)
        conf = dict(virtual_mailbox_domains="virt.test", virtual_mailbox_base=base,
                    virtual_mailbox_maps="inline:{ {alice@virt.test=virt.test/alice/}, "
                                         "{bob@virt.test=virt.test/bob.mbox} }",
                    virtual_uid_maps="static:%d" % VUID, virtual_gid_maps="static:%d" % VUID)
        conf.update(params)
        inst.conf(**conf)
        inst.start()
        return inst, base

    def test_maildir_and_mbox_with_the_mapped_ids(self):
        inst, base = self.virtual_instance()
        qid = e.send(inst, "carol@sandbox.test", ["alice@virt.test", "bob@virt.test"],
                     simple_message("virtual", "alice@virt.test", "carol@sandbox.test",
                                    "From the start\n"))
        inst.wait_log("%s: removed" % qid, timeout=20)
        log = inst.log()
        self.assertRegex(log, r"surel/virtual\[\d+\]: %s: to=<alice@virt\.test>, "
                              r"relay=virtual, .*dsn=2\.0\.0, status=sent \(delivered to "
                              r"maildir\)" % qid)
        self.assertRegex(log, r"%s: to=<bob@virt\.test>, relay=virtual, .*status=sent" % qid)
        new = os.path.join(base, "virt.test", "alice", "new")
        [name] = os.listdir(new)
        st = os.stat(os.path.join(new, name))
        self.assertEqual((st.st_uid, st.st_gid), (VUID, VUID))
        self.assertEqual(os.stat(os.path.join(base, "virt.test")).st_uid, VUID)
        with open(os.path.join(new, name), "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"Return-Path: <carol@sandbox.test>\n"
                                        b"Delivered-To: alice@virt.test\n"), data[:200])
        mbox = os.path.join(base, "virt.test", "bob.mbox")
        st = os.stat(mbox)
        self.assertEqual((st.st_uid, st.st_gid), (VUID, VUID))
        with open(mbox, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(b"From carol@sandbox.test "), data[:100])
        self.assertIn(b"\n>From the start\n", data)

    def test_unknown_user_and_low_uid(self):
        inst, base = self.virtual_instance(
            virtual_minimum_uid=str(VUID + 1), minimal_backoff_time="1h",
            maximal_backoff_time="1h")
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", "carol@sandbox.test",
               "nobody@virt.test", "alice@virt.test"], input="Subject: x\n\nbody\n")
        inst.wait_log("to=<alice@virt.test>", timeout=20)
        inst.wait_log("to=<nobody@virt.test>", timeout=20)
        log = inst.log()
        self.assertRegex(log, r"to=<nobody@virt\.test>, relay=virtual, .*dsn=5\.1\.1, "
                              r"status=bounced \(unknown user: \"nobody@virt\.test\"\)")
        self.assertIn("warning: recipient alice@virt.test: bad uid %d in virtual_uid_maps"
                      % VUID, log)
        self.assertRegex(log, r"to=<alice@virt\.test>, relay=virtual, .*dsn=4\.3\.5, "
                              r"status=deferred \(mail system configuration error\)")
        self.assertFalse(os.path.exists(os.path.join(base, "virt.test")))

    def test_virtual_mailbox_limit(self):
        inst, base = self.virtual_instance(virtual_mailbox_limit="1000",
                                           mailbox_size_limit="0")
        qid = e.send(inst, "carol@sandbox.test", ["alice@virt.test"],
                     simple_message("big", "alice@virt.test", "carol@sandbox.test",
                                    "x" * 2000 + "\n"))
        inst.wait_log("%s: to=<alice@virt.test>" % qid, timeout=20)
        self.assertRegex(inst.log(), r"%s: to=<alice@virt\.test>, relay=virtual, .*"
                                     r"dsn=5\.2\.2, status=bounced" % qid)


if __name__ == "__main__":
    h.main()
