"""test_rules_table - tests/rules/recipients.table, live.

The same rows the unit suites run through smtpd's RCPT check, qmgr's
resolve and local's delivery (tests/unit/check_*_rules_table.c) go over
SMTP to a running sandbox instance, one instance per recipient_delimiter
of the table. For each row: smtpd's verdict at RCPT TO is the table's;
when accepted, the agent that logs the recipient's delivery is the
table's transport (each agent logs under its master.cf service name,
surel/<service>[pid]), and a "mailbox:USER" row lands in USER's Maildir
and nowhere else. An "unknown" row is refused by smtpd already (the unit
suite shows local would say 5.1.1 too); "forward" rows never reach local
here (qmgr routes them to the error transport).
"""
import re
import unittest

from harness import core as h
from harness import e2e as e
from harness import rules

class RulesTable(h.InstanceTest):

    def make(self, conf, users, aliases, delim):
        inst = self.instance()
        inst.conf(recipient_delimiter=delim, **conf)
        with open(inst.path("etc", "users"), "a") as f:
            f.write("".join(u + "\n" for u in users))
        path = inst.path("etc", "aliases")
        with open(path) as f:
            have = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                    for l in f if ":" in l and not l.startswith("#")}
        missing = {k: v for k, v in aliases.items() if k not in have}
        for k, v in aliases.items():
            if k in have:
                self.assertEqual(have[k], v, "etc/aliases says %s: %s" % (k, have[k]))
        if missing:
            with open(path, "a") as f:
                f.write("".join("%s: %s\n" % kv for kv in missing.items()))
            inst.surel("map", "build", "-a", "lmdb:" + path)
        inst.start()
        return inst

    def send_row(self, inst, row, n):
        """smtpd's RCPT verdict ("ok" or the code) and the queue ID if queued."""
        client = e.RawSMTP(inst.smtp_port)
        try:
            client.reply()
            client.command("EHLO client.test", 250)
            client.command("MAIL FROM:<bob@sandbox.test>", 250)
            code, lines = client.command("RCPT TO:<%s>" % row["rcpt"])
            if code != 250:
                return str(code), None, lines
            client.command("DATA", 354)
            client.send(e.crlf("From: bob@sandbox.test\nSubject: rules row %d\n\n"
                               "row %d %s\n" % (n, n, row["rcpt"])) + b".\r\n")
            code, lines = client.reply()
            self.assertEqual(code, 250, lines)
            client.command("QUIT")
            return "ok", lines[-1].split()[-1], lines
        finally:
            client.close()

    def test_every_program_agrees_with_the_table(self):
        conf, users, aliases, rows = rules.recipients()
        delims = sorted({r["delim"] for r in rows})
        checked = 0
        for delim in delims:
            inst = self.make(conf, users, aliases, delim)
            for n, row in enumerate(rows):
                if row["delim"] != delim:
                    continue
                what = "<%s> (delimiter %s)" % (row["rcpt"], delim)
                before = {u: len(inst.messages(u)) for u in ["alice", "bob"] + users}
                verdict, qid, lines = self.send_row(inst, row, n)
                self.assertEqual(verdict, row["smtpd"], "%s: smtpd said %r" % (what, lines))
                checked += 1
                if qid is None:
                    continue
                inst.wait_log("%s: removed" % qid, timeout=20)
                agents = re.findall(r"surel/(\S+?)\[\d+\]: %s: to=<[^>]*>, (?:orig_to=<[^>]*>, )?"
                                    r"relay=" % qid, inst.log())
                self.assertEqual(agents, [row["transport"]], "%s: delivery logged by %r"
                                 % (what, agents))
                if row["local"].startswith("mailbox:"):
                    user = row["local"].split(":", 1)[1]
                    data = e.wait_delivered(inst, user, before[user] + 1)
                    self.assertTrue(any(b"rules row %d\n" % n in d for d in data), what)
                    for other, count in before.items():
                        if other != user and other != "bob":
                            self.assertEqual(len(inst.messages(other)), count,
                                             "%s: also delivered to %s" % (what, other))
            inst.cleanup()
        self.assertEqual(checked, len(rows))


if __name__ == "__main__":
    h.main()
