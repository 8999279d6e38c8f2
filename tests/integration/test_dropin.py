"""test_dropin - a Postfix administrator's files and habits work (issue 13).

Sandbox instances set up the way Debian's Postfix files and common guides
do, checked from the outside (log lines, delivered mail, `surel check`):

- syslog_name = postfix makes every line read postfix/<program>[pid], and
  master.cf's -o syslog_name=postfix/submission (or postfix/$service_name)
  gives postfix/submission/smtpd, so that pflogsumm and fail2ban match;
- parameters surel knows but does not implement, set in main.cf or with
  -o, get one warning each from the master, and `surel check` fails on
  those whose loss weakens security (issue 10, finding 3);
- Debian's "cleanup unix n" (public/cleanup): smtpd, pickup, local and
  bounce reach cleanup there, and mail flows.
"""
import os
import re
import smtplib

from harness import core as h
from harness import e2e as e


def message(subject):
    return e.crlf("From: bob@sandbox.test\nTo: alice@sandbox.test\nSubject: %s\n\nbody\n"
                  % subject)


class DropIn(h.InstanceTest):

    def with_services(self, inst, extra, edit=lambda text: text):
        """The sandbox's master.cf, edited, with extra lines appended."""
        with open(inst.path("etc", "master.cf")) as f:
            text = f.read()
        inst.write_master_cf(edit(text) + extra)

    def test_syslog_name_in_main_cf_and_master_cf(self):
        inst = self.instance()
        submission = h.free_port()
        inst.conf(syslog_name="postfix")
        self.with_services(
            inst, "127.0.0.1:%d inet n - n - - smtpd\n"
            "  -o syslog_name=postfix/submission\n" % submission,
            lambda text: re.sub(r"(?m)^(local\s+unix.*)$",
                                r"\1\n  -o syslog_name=postfix/$service_name", text))
        inst.start()
        qid1 = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("port 25"))
        with smtplib.SMTP("127.0.0.1", submission, timeout=e.SMTP_TIMEOUT) as s:
            s.ehlo("client.test")
            s.sendmail("bob@sandbox.test", ["alice@sandbox.test"], message("submission"))
        e.wait_delivered(inst, "alice", count=2)
        inst.wait_log("%s: removed" % qid1)
        log = inst.log()
        pid = r"\[\d+\]: "
        self.assertRegex(log, r" postfix/master" + pid)
        self.assertRegex(log, r" postfix/smtpd" + pid + r"connect from ")
        self.assertRegex(log, r" postfix/submission/smtpd" + pid + r"connect from ")
        self.assertRegex(log, r" postfix/cleanup" + pid + qid1 + ": message-id=")
        self.assertRegex(log, r" postfix/qmgr" + pid + qid1 + ": from=<bob@sandbox.test>")
        self.assertRegex(log, r" postfix/local/local" + pid + qid1 + r": to=<alice@sandbox.test>")
        # pflogsumm's and fail2ban's pattern: host postfix/<daemon>[pid]: ...
        for line in log.splitlines():
            if not line.strip():
                continue
            self.assertRegex(line, r"^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ postfix/[\w/]+\[\d+\]: ",
                             "line not in Postfix's shape: %r" % line)
            self.assertNotIn(" surel/", line)

    def test_default_syslog_name_is_surel(self):
        inst = self.instance()
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("default"))
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r" surel/smtpd\[\d+\]: connect from ")
        self.assertNotIn(" postfix/", inst.log())

    def test_unimplemented_parameters_warn_once(self):
        inst = self.instance()
        submission = h.free_port()
        inst.conf(masquerade_domains="example.com",
                  smtpd_tls_protocols="!SSLv2, !SSLv3, !TLSv1",
                  biff="no", readme_directory="/usr/share/doc/postfix",
                  compatibility_level="3.6")
        self.with_services(inst, "127.0.0.1:%d inet n - n - - smtpd\n"
                           "  -o smtpd_sasl_auth_enable=yes\n"
                           "  -o smtpd_tls_wrappermode=no\n" % submission)
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("warned"))
        inst.wait_log("%s: removed" % qid)
        log = inst.log()
        self.assertEqual(len(re.findall(r"master\[\d+\]: warning: \S+main\.cf: parameter "
                                        r"masquerade_domains is not implemented and is "
                                        r"ignored", log)), 1, log)
        self.assertEqual(len(re.findall(r"warning: \S+main\.cf: parameter smtpd_tls_protocols "
                                        r"is not implemented and is ignored: SECURITY", log)),
                         1, log)
        self.assertEqual(len(re.findall(r"warning: \S+master\.cf line \d+: service "
                                        r"127\.0\.0\.1:%d: parameter smtpd_sasl_auth_enable "
                                        r"is not implemented and is ignored" % submission,
                                        log)), 1, log)
        for quiet in ("biff", "readme_directory", "compatibility_level", "wrappermode"):
            self.assertNotIn(quiet, log)

        # surel check: the security one is a problem, the others are warnings.
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("parameter smtpd_tls_protocols is not implemented and is ignored: "
                      "SECURITY", r.stderr)
        self.assertIn("parameter masquerade_domains is not implemented", r.stderr)
        inst.conf(smtpd_tls_protocols=">=TLSv1")          # Postfix's default: what surel does
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("parameter masquerade_domains is not implemented", r.stderr)
        self.assertNotIn("smtpd_tls_protocols", r.stderr)

    def test_public_cleanup_socket(self):
        inst = self.instance()
        with open(inst.path("etc", "aliases"), "a") as f:
            f.write("fwd: someone@remote.example\n")
        inst.surel("map", "build", "-a", "lmdb:" + inst.path("etc", "aliases"))
        self.with_services(inst, "", lambda text: re.sub(
            r"(?m)^cleanup\s+unix\s+-\s+", "cleanup   unix  n       ", text))
        with open(inst.path("etc", "master.cf")) as f:
            self.assertRegex(f.read(), r"(?m)^cleanup +unix +n ")
        inst.start()
        h.wait_for(lambda: os.path.exists(inst.path("spool", "public", "cleanup")), 10,
                   "public/cleanup")
        self.assertFalse(os.path.exists(inst.path("spool", "private", "cleanup")))
        # smtpd
        e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("over smtp"))
        e.wait_delivered(inst, "alice")
        # pickup
        proc = h.run([h.binary("sendmail"), "-C", inst.etc, "-i", "bob@sandbox.test"],
                     input="Subject: from sendmail\n\nbody\n")
        self.assertEqual(proc.stdout + proc.stderr, "")
        # local (forwarding through cleanup) and bounce (its notice through
        # cleanup): the forwarded copy bounces at the error transport.
        qid = e.send(inst, "bob@sandbox.test", ["fwd@sandbox.test"], message("forwarded"))
        inst.wait_log("%s: to=<someone@remote.example>, orig_to=<fwd@sandbox.test>" % qid)
        msgs = e.wait_delivered(inst, "bob", count=2, timeout=30)
        self.assertTrue(any(b"Subject: from sendmail" in m for m in msgs))
        self.assertTrue(any(b"Undelivered Mail Returned to Sender" in m
                            or b"someone@remote.example" in m for m in msgs), msgs)
        self.assertRegex(inst.log(), r"%s: to=<someone@remote\.example>, orig_to=<fwd@sandbox"
                         r"\.test>, .*status=sent \(forwarded as " % qid)
        self.assertRegex(inst.log(), r"bounce\[\d+\]: \w+: sender non-delivery notification: ")
        self.assertNotIn("connect to private/cleanup", inst.log())
        self.assertNotIn("Error: queue file write error", inst.log())


if __name__ == "__main__":
    h.main()
