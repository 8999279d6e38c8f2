"""test_sendmail - sendmail, postdrop and pickup on sandbox instances.

Each test makes an instance (surel_harness) and submits mail the way local
programs do: the sendmail command (also as mailq and newaliases), a real
MUA (bsd-mailx), -bs SMTP on a pipe, postdrop run as real users.

Until the real cleanup daemon is in the build, the instance's cleanup
service is sendmail_fakes.py, which records what pickup sent it; the
checks that need cleanup's own work (Bcc removed, From added) run only
when bin/cleanup exists and then look at the queue file or the delivered
message.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest
import uuid

import surel_harness as h

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_CLEANUP = os.path.join(HERE, "sendmail_fakes.py")
REAL_CLEANUP = os.path.exists(h.binary("cleanup"))
MUA = next((p for p in ("/opt/surel-mua/usr/bin/bsd-mailx", shutil.which("bsd-mailx") or "")
            if p and os.access(p, os.X_OK)), None)
IS_ROOT = os.geteuid() == 0
TEST_USERS = ("sureltest1", "sureltest2")

EX_DATAERR, EX_NOUSER, EX_NOPERM, EX_USAGE = 65, 67, 77, 64


def records(data):
    """[(type, bytes)] of a record stream (record.h)."""
    out, i = [], 0
    while i < len(data):
        t = chr(data[i])
        i += 1
        length, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        out.append((t, data[i:i + length]))
        i += length
    return out


class Submission:
    """What became of one message: envelope and content as far as known."""

    def __init__(self, flags=None, sender=None, fullname=None, rcpts=None, content=b"",
                 where=""):
        self.flags, self.sender, self.fullname = flags, sender, fullname
        self.rcpts, self.content, self.where = rcpts, content, where


def from_records(recs, flags=None, where=""):
    sub = Submission(flags=flags, rcpts=[], where=where)
    lines, partial = [], b""
    for t, d in recs:
        if t == "S":
            sub.sender = d.decode("latin-1")
        elif t == "F":
            sub.fullname = d.decode("latin-1")
        elif t in ("R", "D"):           # D: already delivered (marked in place)
            sub.rcpts.append(d.decode("latin-1"))
        elif t == "L":
            partial += d
        elif t == "N":
            lines.append(partial + d)
            partial = b""
    sub.content = b"\n".join(lines) + b"\n"
    return sub


class SendmailHelpers(h.InstanceTest):
    """Instances with a cleanup service, and ways to find submissions."""

    def make(self, start=True):
        inst = self.instance()
        if not REAL_CLEANUP:
            with open(os.path.join(inst.etc, "master.cf"), "a") as f:
                f.write("cleanup unix - - n - 0 %s\n" % FAKE_CLEANUP)
        if start:
            inst.start()
        return inst

    def sendmail(self, inst, *args, input="", env=None, prog="sendmail", preexec=None):
        e = dict(os.environ)
        e.update(env or {})
        return subprocess.run([h.binary(prog), "-C", inst.etc] + list(args), input=input.encode()
                              if isinstance(input, str) else input, capture_output=True,
                              env=e, timeout=60, preexec_fn=preexec)

    def maildrop(self, inst):
        return sorted(os.listdir(inst.path("spool", "maildrop")))

    def find(self, inst, token):
        """The submission whose content holds token, or None."""
        token = token.encode()
        fake = inst.path("fake-cleanup")
        if os.path.isdir(fake):
            for name in sorted(os.listdir(fake)):
                if name.endswith(".json"):
                    with open(os.path.join(fake, name)) as f:
                        d = json.load(f)
                    recs = [(t, v.encode("latin-1")) for t, v in d["records"]]
                    sub = from_records(recs, d["flags"], "fake-cleanup")
                    if token in sub.content:
                        return sub
        for q in ("incoming", "active", "deferred", "hold"):
            for root, _, files in os.walk(inst.path("spool", q)):
                for name in files:
                    with open(os.path.join(root, name), "rb") as f:
                        data = f.read()
                    if token in data:
                        return from_records(records(data), where="queue")
        for root, _, files in os.walk(inst.path("mail")):
            for name in files:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read()
                if token in data:
                    return Submission(content=data.replace(b"\r\n", b"\n"), where="maildir")
        return None

    def wait_submission(self, inst, token, timeout=15):
        return h.wait_for(lambda: self.find(inst, token), timeout, "submission %s" % token)

    def token(self):
        return "tok" + uuid.uuid4().hex[:12]


class SendmailTest(SendmailHelpers):

    # -t -i with Cc and Bcc.
    def test_t_i_with_cc_and_bcc(self):
        inst = self.make()
        tok = self.token()
        msg = ("To: alice@sandbox.test\nCc: bob@sandbox.test\nBcc: carol@sandbox.test\n"
               "Subject: %s\n\nline one\n.\nafter the lone dot\n" % tok)
        p = self.sendmail(inst, "-t", "-i", input=msg)
        self.assertEqual(p.returncode, 0, p.stderr)
        sub = self.wait_submission(inst, tok)
        self.assertIn(b"\n.\nafter the lone dot\n", sub.content)   # -i: the dot did not end it
        if sub.where == "fake-cleanup":
            self.assertTrue(sub.flags & 16, "CLEANUP_FLAG_EXTRACT passed to cleanup")
            self.assertEqual(sub.flags & 7, 7, "LOCAL|FILTER|MAP_OK")
            self.assertEqual(sub.rcpts, [])     # cleanup extracts them
        else:
            self.assertNotIn(b"\nBcc:", b"\n" + sub.content.split(b"\n\n")[0])
            if sub.where == "queue":
                for r in ("alice@sandbox.test", "bob@sandbox.test", "carol@sandbox.test"):
                    self.assertIn(r, sub.rcpts)
        self.assertEqual(self.maildrop(inst), [])

    def test_dot_ends_input_without_i(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nbody\n.\nnot mail\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        sub = self.wait_submission(inst, tok)
        self.assertNotIn(b"not mail", sub.content)
        if sub.rcpts is not None and sub.where != "maildir":
            self.assertEqual(sub.rcpts, ["bob@sandbox.test"])

    def test_f_and_F(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "-f", "boss@sandbox.test", "-F", "Big Boss", "alice@sandbox.test",
                          input="Subject: %s\n\nhello\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        sub = self.wait_submission(inst, tok)
        if sub.where == "fake-cleanup":
            self.assertEqual(sub.sender, "boss@sandbox.test")
            self.assertEqual(sub.fullname, "Big Boss")
        else:
            header = sub.content.split(b"\n\n")[0]
            self.assertRegex(header, rb"(?m)^From: .*Big Boss.*boss@sandbox\.test")

    def test_null_sender(self):
        inst = self.make()
        tok = self.token()
        p = self.sendmail(inst, "-f", "<>", "bob@sandbox.test", input="Subject: %s\n\nx\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        sub = self.wait_submission(inst, tok)
        if sub.where != "maildir":
            self.assertEqual(sub.sender, "")

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
        sub = self.wait_submission(inst, tok)
        self.assertIn(b"\n.leading dot\nbody\n", sub.content)     # dot-stuffing undone
        if sub.where != "maildir":
            self.assertEqual(sub.sender, "alice@sandbox.test")
        if sub.where == "fake-cleanup":
            self.assertEqual(sub.rcpts, ["bob@sandbox.test"])

    def test_mailq_and_newaliases_by_name(self):
        inst = self.make(start=False)
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
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
        # mailq prints what `surel queue list` prints, once that verb exists.
        q = inst.surel("queue", "list", check=False)
        if q.returncode == 0:
            p = self.sendmail(inst, prog="mailq")
            self.assertEqual(p.stdout.decode(), q.stdout)

    def test_bv_reports_transports(self):
        inst = self.make(start=False)
        p = self.sendmail(inst, "-bv", "alice@sandbox.test", "someone@elsewhere.example")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout.decode()
        self.assertIn("<alice@sandbox.test>: deliverable: transport=local:sandbox.test", out)
        self.assertIn("<someone@elsewhere.example>: deliverable: transport=error:", out)
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
        e = dict(os.environ, MAILRC=rc, MAIL_CONFIG=inst.etc, HOME=inst.root)
        p = subprocess.run([MUA, "-n", "-s", "mua " + tok, "-c", "alice@sandbox.test",
                            "bob@sandbox.test"], input=b"sent by bsd-mailx\n", env=e,
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        sub = self.wait_submission(inst, tok)
        self.assertIn(b"sent by bsd-mailx", sub.content)
        if sub.where == "fake-cleanup":
            self.assertTrue(sub.flags & 16)     # bsd-mailx runs `sendmail -i -t`
            self.assertIn(b"To: bob@sandbox.test", sub.content)
        elif sub.where == "queue":
            self.assertIn("bob@sandbox.test", sub.rcpts)
            self.assertIn("alice@sandbox.test", sub.rcpts)

    def test_submit_while_stopped_then_start(self):
        inst = self.make(start=False)
        tok = self.token()
        p = self.sendmail(inst, "bob@sandbox.test", input="Subject: %s\n\nwaiting\n" % tok)
        self.assertEqual(p.returncode, 0, p.stderr)
        files = self.maildrop(inst)
        self.assertEqual(len(files), 1)
        st = os.stat(inst.path("spool", "maildrop", files[0]))
        self.assertEqual(st.st_mode & 0o777, 0o744)     # complete
        self.assertIsNone(self.find(inst, tok))
        inst.start()
        self.wait_submission(inst, tok)
        h.wait_for(lambda: self.maildrop(inst) == [], 10, "maildrop/ to empty")
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
        # Too large for message_size_limit: postdrop refuses, removes its file.
        inst.conf(message_size_limit="1000")
        p = self.sendmail(inst, "bob@sandbox.test", input="x" * 5000 + "\n")
        self.assertEqual(p.returncode, EX_DATAERR, p.stderr)
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
        self.wait_submission(inst, tok)
        inst.wait_log("uid=%d from=<%s>" % (u1[0], TEST_USERS[0]))


if __name__ == "__main__":
    h.main()
