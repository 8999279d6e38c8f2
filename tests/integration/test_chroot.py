"""test_chroot - chrooted daemons (master.cf chroot y, Debian's default) find
their tables (issue 13).

A root sandbox instance whose services run chrooted in the queue folder
where Debian's master.cf chroots them (local, virtual, pipe, proxymap,
postlogd and authd never are):

- alias tables (lmdb:/hash:, outside the jail) answer in the chrooted
  smtpd: they are opened before the chroot;
- unix:passwd.byname (local_recipient_maps' default) answers through
  proxymap, which runs outside the jail: a system account is accepted and
  an unknown name still gets 550 5.1.1;
- without a proxymap service the same lookups defer (451 4.3.0), never
  reject: NSS inside a jail would say "no such user" for everybody;
- a table rebuilt while a chrooted smtpd has it open is never answered
  from the stale copy: that process defers, logs "table ... has changed --
  restarting", and the next process sees the new entry;
- proxymap runs as mail_owner with / as its root, the chrooted smtpd in the
  queue folder.
"""
import os
import pwd
import re
import unittest

from harness import core as h
from harness import e2e as e


# Debian's master.cf runs these outside the jail: the delivery agents that
# write users' mailboxes, proxymap (it reads the tables), postlogd (it
# writes maillog_file) and authd (it reads its password table).
NEVER_CHROOTED = ("local", "virtual", "pipe", "proxymap", "postlogd", "authd")


def chroot_everything(text):
    """master.cf with the chroot column set to y where Debian's has it."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if (len(fields) >= 8 and not line[0].isspace() and not line.startswith("#")
                and fields[7] not in NEVER_CHROOTED):
            fields[4] = "y"
            line = "  ".join(fields)
        out.append(line)
    return "\n".join(out) + "\n"


def rcpt_reply(inst, rcpt):
    """(code, text) of RCPT TO:<rcpt> in a new session."""
    client = e.smtp_client(inst)
    try:
        code, _ = client.mail("bob@sandbox.test")
        assert code == 250, code
        code, text = client.rcpt(rcpt)
        return code, text.decode(errors="replace")
    finally:
        client.quit()


@unittest.skipUnless(os.geteuid() == 0, "chroot needs a root instance")
class ChrootTest(h.InstanceTest):

    def chrooted_instance(self, without_proxymap=False):
        inst = self.instance()
        with open(inst.path("etc", "master.cf")) as f:
            text = chroot_everything(f.read())
        if without_proxymap:
            text = re.sub(r"(?m)^proxymap\s.*$", "", text)
        else:
            self.assertRegex(text, r"(?m)^proxymap\s+unix\s", "the sandbox's master.cf has proxymap")
        inst.write_master_cf(text)
        inst.start()
        return inst

    def test_tables_answer_in_the_jail(self):
        inst = self.chrooted_instance()
        # An alias (etc/aliases.lmdb is outside the queue folder).
        qid = e.send(inst, "bob@sandbox.test", ["postmaster@sandbox.test"],
                     e.crlf("Subject: via alias\n\nbody\n"))
        e.wait_delivered(inst, "alice")
        inst.wait_log("%s: removed" % qid)
        # A system account, through unix:passwd.byname -> proxymap.
        self.assertEqual(rcpt_reply(inst, "nobody@sandbox.test")[0], 250)
        code, text = rcpt_reply(inst, "no-such-user-x@sandbox.test")
        self.assertEqual(code, 550, text)
        self.assertIn("5.1.1", text)
        # Who runs where.
        owner = pwd.getpwnam("surel")
        spool = os.path.realpath(inst.spool)
        smtpd = inst.service_pids(str(inst.smtp_port)) or [
            pid for pid, argv in inst.processes() if os.path.basename(argv[0]) == "smtpd"]
        self.assertTrue(smtpd, "a running smtpd")
        self.assertEqual(os.readlink("/proc/%d/root" % smtpd[0]), spool)
        proxymap = [pid for pid, argv in inst.processes()
                    if os.path.basename(argv[0]) == "proxymap"]
        self.assertTrue(proxymap, "proxymap ran for the passwd lookup")
        self.assertEqual(os.readlink("/proc/%d/root" % proxymap[0]), "/")
        self.assertEqual(h.process_uid(proxymap[0]), owner.pw_uid)

    def test_no_proxymap_defers_never_rejects(self):
        inst = self.chrooted_instance(without_proxymap=True)
        code, text = rcpt_reply(inst, "nobody@sandbox.test")
        self.assertEqual(code, 451, text)
        self.assertIn("4.3.0", text)
        code, text = rcpt_reply(inst, "no-such-user-x@sandbox.test")
        self.assertEqual(code, 451, text)
        inst.wait_log("proxymap")

    def test_rebuilt_table_reaches_the_jail(self):
        inst = self.chrooted_instance()
        self.assertEqual(rcpt_reply(inst, "postmaster@sandbox.test")[0], 250)
        with open(inst.path("etc", "aliases"), "a") as f:
            f.write("carol: alice\n")
        inst.surel("map", "build", "-a", "lmdb:" + inst.path("etc", "aliases"))
        # Each smtpd that had the old file open defers once and restarts;
        # a fresh one opens the new file before its chroot. Never a 550.
        answers = []

        def carol_accepted():
            code, text = rcpt_reply(inst, "carol@sandbox.test")
            answers.append((code, text))
            return code == 250
        h.wait_for(carol_accepted, 20, "carol accepted after the rebuild", interval=0.2)
        for code, text in answers[:-1]:
            self.assertEqual(code, 451, text)
        if len(answers) > 1:
            inst.wait_log("has changed -- restarting")


if __name__ == "__main__":
    h.main()
