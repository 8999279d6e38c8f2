"""test_local_sandbox - local delivery on sandbox instances.

Two shapes: a master run as the unprivileged `surel` account (everything,
local included, runs as that user: the sandbox mode of a non-root user),
and a `surel sandbox` instance started by root, where local keeps root and
delivers to the sandbox users with the instance user's rights. Both speak
the delivery protocol to private/local with queue files written here.
"""
import os
import pwd
import unittest

import e2e_harness as e2e

from harness.core import InstanceTest, wait_for
from test_local import (LocalInstance, MESSAGE, deliver_request, maildir_messages,
                        read_file)


@unittest.skipUnless(os.geteuid() == 0, "needs root to run the master as surel")
class LocalSandboxUserTest(unittest.TestCase):
    """Master and local run as `surel`: no privilege to switch."""

    def setUp(self):
        self.inst = None

    def tearDown(self):
        if self.inst:
            self.inst.cleanup()

    def instance(self, aliases="", users=("alice", "bob")):
        mail = "MAILDIR_ROOT"
        inst = LocalInstance(
            "sandbox_users = USERS\nsandbox_mail_directory = %s\n" % mail, aliases=aliases)
        self.inst = inst
        inst.mail = os.path.join(inst.root, "mail")
        inst.users = os.path.join(inst.etc, "users")
        main_cf = os.path.join(inst.etc, "main.cf")
        text = read_file(main_cf).replace("USERS", inst.users).replace(mail, inst.mail)
        with open(main_cf, "w") as f:
            f.write(text)
        with open(inst.users, "w") as f:
            f.write("# sandbox users\n" + "".join(u + "\n" for u in users))
        os.mkdir(inst.mail)
        pw = pwd.getpwnam("surel")
        inst.owner = "surel"
        for dirpath, dirnames, filenames in os.walk(inst.root):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in filenames]:
                os.chown(name, pw.pw_uid, pw.pw_gid)
        inst.start_local()
        return inst

    def test_sandbox_user_gets_maildir_as_the_instance_user(self):
        inst = self.instance()
        replies, final, qid = inst.deliver("a@remote.example", "Alice@test.example", MESSAGE)
        self.assertEqual(final, {"status": "0"})
        self.assertEqual(replies[0]["status"], "0", replies[0])
        maildir = os.path.join(inst.mail, "alice", "Maildir")
        msgs = maildir_messages(maildir)
        self.assertEqual(msgs, [("Return-Path: <a@remote.example>\n"
                                 "Delivered-To: alice@test.example\n" + MESSAGE).encode()])
        new = os.path.join(maildir, "new")
        st = os.stat(os.path.join(new, os.listdir(new)[0]))
        self.assertEqual(st.st_uid, pwd.getpwnam("surel").pw_uid)
        inst.wait_log("%s: to=<Alice@test.example>" % qid)
        self.assertIn("status=sent (delivered to maildir)", inst.log())

    def test_passwd_users_are_not_sandbox_users(self):
        inst = self.instance()
        replies, _, _ = inst.deliver("a@remote.example", "root@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "5")
        self.assertEqual(replies[0]["reason"], 'unknown user: "root"')

    def test_user_list_is_read_again_when_it_changes(self):
        inst = self.instance()
        replies, _, _ = inst.deliver("a@remote.example", "carol@test.example", MESSAGE)
        self.assertEqual(replies[0]["dsn_status"], "5.1.1")
        with open(inst.users, "a") as f:
            f.write("carol\n")
        replies, _, _ = inst.deliver("a@remote.example", "carol@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(len(maildir_messages(os.path.join(inst.mail, "carol", "Maildir"))), 1)

    def test_alias_command_runs_as_the_instance_user(self):
        inst = self.instance()
        out = os.path.join(inst.out, "id.out")
        inst.write_aliases('probe: "|id -u > %s", bob\n' % out)
        replies, _, _ = inst.deliver("a@remote.example", "probe@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(read_file(out).strip(), str(pwd.getpwnam("surel").pw_uid))
        self.assertEqual(len(maildir_messages(os.path.join(inst.mail, "bob", "Maildir"))), 1)

    def test_symlinked_sandbox_maildir_is_refused(self):
        inst = self.instance()
        target = os.path.join(inst.root, "target")
        os.makedirs(os.path.join(target, "new"))
        os.makedirs(os.path.join(target, "tmp"))
        os.makedirs(os.path.join(inst.mail, "alice"))
        os.symlink(target, os.path.join(inst.mail, "alice", "Maildir"))
        pw = pwd.getpwnam("surel")
        for p in (target, os.path.join(target, "new"), os.path.join(target, "tmp"),
                  os.path.join(inst.mail, "alice")):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        replies, _, _ = inst.deliver("a@remote.example", "alice@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertEqual(os.listdir(os.path.join(target, "new")), [])


@unittest.skipUnless(os.geteuid() == 0, "a root-made sandbox needs root")
class LocalSurelSandboxTest(InstanceTest):
    """A `surel sandbox` instance started by root: local as in production."""

    def test_sandbox_instance_delivers_to_users_and_aliases(self):
        inst = self.instance()
        # The test plays qmgr: a real one would move the planted file out of
        # active/ when it starts (recovery), racing the request.
        with open(os.path.join(inst.etc, "master.cf")) as f:
            inst.write_master_cf(e2e.without_service(f.read(), "qmgr"))
        inst.start()
        sock = os.path.join(inst.spool, "private", "local")
        wait_for(lambda: os.path.exists(sock), 10, "private/local")
        replies, final, qid, _ = deliver_request(
            inst.spool, sock, None, "a@remote.example",
            ["bob@sandbox.test", "postmaster@sandbox.test", "nobody-here@sandbox.test"], MESSAGE)
        self.assertEqual(final, {"status": "0"})
        self.assertEqual([r["status"] for r in replies], ["0", "0", "5"], replies)
        self.assertEqual(len(inst.messages("bob")), 1)
        # postmaster is an alias of alice in the sandbox's aliases file.
        names = inst.wait_messages("alice")
        path = os.path.join(inst.maildir("alice"), names[0])
        self.assertTrue(read_file(path, "rb").startswith(
            b"Return-Path: <a@remote.example>\nDelivered-To: postmaster@sandbox.test\n"))
        self.assertEqual(os.stat(path).st_uid, pwd.getpwnam("surel").pw_uid)
        inst.wait_log("%s: to=<alice@sandbox.test>, orig_to=<postmaster@sandbox.test>" % qid)


if __name__ == "__main__":
    unittest.main(verbosity=2)
