"""test_local_rules - local(8)'s address rules on a running sandbox instance.

Mail goes in over SMTP (loopback) and the tests look at what local did:
  - luser_relay is resolved as an address only: an envelope local part
    such as "|cmd" or /file, copied into luser_relay by $local, never runs
    a command or writes a file (Postfix's documented luser_relay set-up,
    "luser_relay = $local@other.example" with "local_recipient_maps =").
  - own address literals, in any spelling, are delivered here once;
  - Return-Path: and Delivered-To: carry the quoted (external) form.
"""
import os
import re
import unittest

import e2e_harness as e
import surel_harness as h


def message(subject, to="x@sandbox.test"):
    return e.crlf("From: bob@sandbox.test\nTo: %s\nSubject: %s\n\nbody\n" % (to, subject))


class LocalRules(h.InstanceTest):

    def smtp(self, inst, rcpts, subject):
        """One transaction from bob@sandbox.test; the queue ID of the mail."""
        client = e.RawSMTP(inst.smtp_port)
        try:
            client.reply()
            client.command("EHLO client.test", 250)
            code, lines = client.transaction("bob@sandbox.test", rcpts, message(subject))
            self.assertEqual(code, 250, lines)
            client.command("QUIT")
        finally:
            client.close()
        return lines[-1].split()[-1]

    def test_luser_relay_is_an_address_not_a_command_or_file(self):
        inst = self.instance()
        # A folder anyone may write to, so that a command or file delivery
        # run with default_privs (as the unfixed luser_relay did) would
        # leave its trace here.
        pwn = inst.path("pwn")
        os.mkdir(pwn)
        os.chmod(pwn, 0o1777)
        ran, written = os.path.join(pwn, "command-ran"), os.path.join(pwn, "file-written")
        inst.conf(luser_relay="$local@other.example", local_recipient_maps="")
        inst.start()
        attack_cmd = '"|id >%s;#"@sandbox.test' % ran
        attack_file = "%s@sandbox.test" % written
        qid = self.smtp(inst, [attack_cmd, attack_file], "attack")
        # Each went to the relay address ($local@other.example), which this
        # sandbox cannot reach: both bounce back to bob.
        inst.wait_log("%s: removed" % qid, timeout=20)
        # local has answered for both recipients: whatever it ran is done.
        self.assertFalse(os.path.exists(ran), "the envelope's |command ran")
        self.assertFalse(os.path.exists(written), "the envelope's /file was written")
        e.wait_delivered(inst, "bob", 2, timeout=20)
        log = inst.log()
        for local in ("|id >%s;#" % ran, written):
            self.assertRegex(log, r"%s: to=<%s@other\.example>, orig_to=<%s@sandbox\.test>, "
                             r".*status=sent \(forwarded as " % (qid, re.escape(local),
                                                                 re.escape(local)))
            self.assertRegex(log, r"to=<%s@other\.example>, .*status=bounced" % re.escape(local))
        self.assertEqual(os.listdir(pwn), [])
        self.assertNotIn("delivered to command", log)
        self.assertNotIn("delivered to file", log)


    def test_own_address_literals_are_delivered_locally_once(self):
        # smtpd, cleanup, qmgr and local ask one function (resolve_local)
        # whether a domain is ours: an address literal of this machine, in
        # any spelling, is delivered here once, not "forwarded" back to us.
        inst = self.started()
        for n, rcpt in enumerate(["alice@[127.0.0.1]", "alice@[IPv6:0::1]",
                                  "alice@[IPv6:0:0::1]"], 1):
            qid = self.smtp(inst, [rcpt], "literal %d" % n)
            inst.wait_log("%s: removed" % qid, timeout=20)
            self.assertRegex(inst.log(), r"%s: to=<%s>, relay=local, .*status=sent "
                             r"\(delivered to maildir\)" % (qid, re.escape(rcpt)))
            self.assertEqual(len(e.delivered(inst, "alice")), n)
        log = inst.log()
        self.assertNotIn("forwarded as", log)
        self.assertNotIn("forwarding loop", log)
        self.assertNotIn("too many hops", log)
        self.assertEqual(e.delivered(inst, "bob"), [])     # no bounce either


    def test_delivered_mail_has_quoted_return_path_and_delivered_to(self):
        # The queue file holds addresses in the internal form (john q.
        # public@example.org); what local writes into mail is RFC 5321's
        # external form, quoted where the local part needs it.
        inst = self.started(recipient_delimiter="+")
        sender, rcpt = '"john q. public"@example.org', '"alice+x y"@sandbox.test'
        client = e.RawSMTP(inst.smtp_port)
        try:
            client.reply()
            client.command("EHLO client.test", 250)
            code, lines = client.transaction(sender, [rcpt], message("quoted"))
            self.assertEqual(code, 250, lines)
        finally:
            client.close()
        [data] = e.wait_delivered(inst, "alice", 1, timeout=20)
        return_path, delivered_to, _, _ = e.split_prepended(data)
        self.assertEqual(return_path, "<%s>" % sender)
        self.assertEqual(delivered_to, rcpt)


if __name__ == "__main__":
    h.main()
