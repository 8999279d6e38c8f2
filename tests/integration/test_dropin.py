"""test_dropin - a Postfix administrator's files and habits work (issue 13).

Sandbox instances set up the way Debian's Postfix files and common guides
do, checked from the outside (log lines, delivered mail, `surel check`):

- syslog_name = postfix makes every line read postfix/<program>[pid], and
  master.cf's -o syslog_name=postfix/submission (or postfix/$service_name)
  gives postfix/submission/smtpd, so that pflogsumm and fail2ban match;
  a service whose name is not its program's logs under the program's
  name (relay runs smtp: postfix/smtp), as Postfix's master and mail_task
  do, unless -o syslog_name=postfix/$service_name says otherwise
  (Postfix's own master.cf: postfix/relay/smtp);
- parameters surel knows but does not implement, set in main.cf or with
  -o, get one warning each from the master, and `surel check` fails on
  those whose loss weakens security (issue 10, finding 3);
- Debian's "cleanup unix n" (public/cleanup): smtpd, pickup, local and
  bounce reach cleanup there, and mail flows;
- Postfix's command names (postconf, postmap, postalias, postqueue,
  postsuper, postcat, postfix, postlog: links to surel in bin/; mailq and
  newaliases: sendmail's names) with their common flags, against the same
  kind of instance: postconf -n/-d/-e/-X/-M/-F/-P/-h/-x, postmap
  -q/-s/-d/-i, postcat -q/-e/-h/-b, postfix
  start/stop/reload/check/status/flush/logrotate/set-permissions, postqueue
  -f/-p/-j/-i, postsuper -d/-h/-H/-r/-e/-f/-s/-p with ALL, queue names and
  `-`.
"""
import json
import os
import re
import smtplib

from harness import core as h
from harness import e2e as e
from harness.sink import Sink


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

    def test_service_log_names(self):
        """relay_domains mail through relay_transport=relay to a sink:
        with Postfix's master.cf line (relay ... smtp -o
        syslog_name=postfix/$service_name) its delivery logs
        postfix/relay/smtp; a service without the -o logs under its
        program, postfix/smtp, whatever its name (Postfix names the log
        tag after argv[0], the command: master_ent.c, mail_task.c)."""
        sink = Sink().start()
        self.addCleanup(sink.close)
        hop = "[127.0.0.1]:%d" % sink.port
        inst = self.instance()
        inst.conf(syslog_name="postfix", relay_domains="backup.test, plain.test",
                  relay_transport="relay:" + hop,
                  transport_maps="inline:{ plain.test=plainrelay:%s }" % hop)
        self.with_services(
            inst, "plainrelay unix - - n - - smtp\n",
            lambda text: re.sub(r"(?m)^(relay\s+unix.*)$",
                                r"\1\n  -o syslog_name=postfix/$service_name", text))
        inst.start()
        q1 = e.send(inst, "bob@sandbox.test", ["a@backup.test"], message("relay"))
        q2 = e.send(inst, "bob@sandbox.test", ["b@plain.test"], message("plain"))
        sink.wait_transactions(2, timeout=30)
        inst.wait_log("%s: removed" % q1, timeout=30)
        inst.wait_log("%s: removed" % q2, timeout=30)
        log = inst.log()
        pid = r"\[\d+\]: "
        self.assertRegex(log, r" postfix/relay/smtp" + pid + q1 + r": to=<a@backup\.test>, "
                         r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % sink.port)
        self.assertRegex(log, r" postfix/smtp" + pid + q2 + r": to=<b@plain\.test>, "
                         r"relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d, .*status=sent" % sink.port)
        self.assertNotRegex(log, r" postfix/(plainrelay|relay)\[")

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
        inst.conf(fallback_transport="relay:[127.0.0.1]:9",
                  smtpd_tls_req_ccert="yes",
                  biff="no", readme_directory="/usr/share/doc/postfix",
                  compatibility_level="3.6")
        self.with_services(inst, "127.0.0.1:%d inet n - n - - smtpd\n"
                           "  -o ipc_idle=10s\n"
                           "  -o smtpd_tls_wrappermode=no\n" % submission)
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("warned"))
        inst.wait_log("%s: removed" % qid)
        log = inst.log()
        self.assertEqual(len(re.findall(r"master\[\d+\]: warning: \S+main\.cf: parameter "
                                        r"fallback_transport is not implemented and is "
                                        r"ignored", log)), 1, log)
        self.assertEqual(len(re.findall(r"warning: \S+main\.cf: parameter smtpd_tls_req_ccert "
                                        r"is not implemented and is ignored: SECURITY", log)),
                         1, log)
        self.assertEqual(len(re.findall(r"warning: \S+master\.cf line \d+: service "
                                        r"127\.0\.0\.1:%d: parameter ipc_idle "
                                        r"is not implemented and is ignored" % submission,
                                        log)), 1, log)
        for quiet in ("biff", "readme_directory", "compatibility_level", "wrappermode"):
            self.assertNotIn(quiet, log)

        # surel check: the security one is a problem, the others are warnings.
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("parameter smtpd_tls_req_ccert is not implemented and is ignored: "
                      "SECURITY", r.stderr)
        self.assertIn("parameter fallback_transport is not implemented", r.stderr)
        inst.conf(smtpd_tls_req_ccert="no")               # Postfix's default: what surel does
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("parameter fallback_transport is not implemented", r.stderr)
        self.assertNotIn("smtpd_tls_req_ccert", r.stderr)

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

    def test_debian_hash_tables(self):
        # Debian's main.cf: alias_maps = hash:/etc/aliases, alias_database
        # likewise, default_database_type = hash; newaliases and a bare
        # `postmap FILE` build FILE.db, and mail is delivered through both.
        inst = self.instance()
        aliases = inst.path("etc", "aliases")
        virtual = inst.path("etc", "virtual")
        with open(aliases, "a") as f:
            f.write("dropin: bob\n")
        with open(virtual, "w") as f:
            f.write("info@sandbox.test alice\n")
        inst.conf(alias_maps="hash:" + aliases, alias_database="hash:" + aliases,
                  default_database_type="hash", virtual_alias_maps="hash:" + virtual)
        h.run([h.binary("sendmail"), "-C", inst.etc, "-bi"])
        h.run([h.binary("postmap"), "-c", inst.etc, virtual])
        self.assertTrue(os.path.exists(aliases + ".db"))
        self.assertTrue(os.path.exists(virtual + ".db"))
        inst.start()
        e.send(inst, "bob@sandbox.test", ["dropin@sandbox.test"], message("alias"))
        e.send(inst, "bob@sandbox.test", ["info@sandbox.test"], message("virtual"))
        self.assertIn(b"Subject: alias", e.wait_delivered(inst, "bob")[0])
        self.assertIn(b"Subject: virtual", e.wait_delivered(inst, "alice")[0])

    def test_unbuilt_table_gives_451_and_names_it(self):
        # Debian's main.cf before anyone ran newaliases: hash:/etc/aliases has
        # no .db. smtpd must answer (not die per connection): 451 4.3.0, and
        # the log names the table; the client is never left without a banner.
        inst = self.instance()
        missing = inst.path("etc", "never-built")
        inst.conf(alias_maps="hash:" + missing, local_recipient_maps="$alias_maps")
        inst.start()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.ehlo("client.test")
            c.mail("bob@sandbox.test")
            # alice is a sandbox user, found without a table; dropin is not.
            code, text = c.rcpt("dropin@sandbox.test")
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.3.0", text)
        self.assertIn(b"Temporary lookup failure", text)
        inst.wait_log("hash:%s is unavailable: table %s.db does not exist" % (missing, missing))

    def test_unknown_table_type_gives_451_and_names_it(self):
        # A Postfix main.cf may name a type surel lacks (cdb:): smtpd starts
        # and greets, the lookups that need the table defer, the log says
        # which table and why; the rest of the configuration keeps working.
        inst = self.instance()
        inst.conf(smtpd_recipient_restrictions="check_recipient_access cdb:/etc/postfix/rcpt,"
                  " permit_mynetworks, reject_unauth_destination")
        inst.start()
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            self.assertEqual(c.ehlo("client.test")[0], 250)
            c.mail("bob@sandbox.test")
            code, text = c.rcpt("alice@sandbox.test")
        self.assertEqual(code, 451, text)
        self.assertIn(b"4.3.0", text)
        inst.wait_log("cdb:/etc/postfix/rcpt is unavailable: table \"cdb:/etc/postfix/rcpt\":"
                      " unknown table type \"cdb\"")

    def test_check_reports_tables_that_would_defer_mail(self):
        # What the daemons survive (and defer mail for) surel check names
        # first: an unknown type, an unbuilt file table, a chrooted service
        # without the proxymap its unix: lookups need.
        inst = self.instance()
        self.assertEqual(inst.surel("check", check=False).returncode, 0)
        unbuilt = inst.path("etc", "unbuilt")
        inst.conf(smtpd_recipient_restrictions="check_recipient_access cdb:/etc/x,"
                  " check_policy_service inet:127.0.0.1:9, check_client_access proxy:hash:"
                  + unbuilt + ", permit_mynetworks, reject_unauth_destination")
        self.with_services(inst, "", lambda text: re.sub(
            r"(?m)^proxymap\s.*$", "", re.sub(r"(?m)^(pickup\s+unix\s+n\s+-\s+)n", r"\1y", text)))
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        warnings = [l for l in r.stderr.splitlines() if "warning:" in l]
        self.assertEqual(len(warnings), 4, r.stderr)     # three problems and the count
        self.assertIn('smtpd_recipient_restrictions: table "cdb:/etc/x": unknown table type "cdb"',
                      r.stderr)
        self.assertIn("table hash:%s has no %s.db; run surel map build hash:%s"
                      % (unbuilt, unbuilt, unbuilt), r.stderr)
        self.assertIn("service pickup is chrooted and main.cf uses unix: tables", r.stderr)
        self.assertNotIn("inet:127.0.0.1:9", r.stderr)


class PostfixNames(h.InstanceTest):
    """Each Postfix command name with the flags scripts use."""

    def run_as(self, name, *args, check=True, **kw):
        return h.run([h.binary(name)] + list(args), check=check, **kw)

    def inject(self, inst, rcpt, queue):
        return h.run([h.binary("test-qinject"), "-d", inst.spool, "-u", "surel", "-q", queue,
                      "-f", "bob@sandbox.test", "-r", rcpt],
                     input="Subject: queued\n\nqueued body\n").stdout.strip()

    def test_postconf(self):
        inst = self.instance()
        c = ("-c", inst.etc)
        self.assertEqual(self.run_as("postconf", *c, "-h", "myhostname").stdout, "sandbox.test\n")
        self.assertEqual(self.run_as("postconf", *c, "-d", "mail_name").stdout,
                         "mail_name = surel\n")
        self.run_as("postconf", *c, "-e", "mail_name=dropin")
        self.assertIn("mail_name = dropin\n", self.run_as("postconf", *c, "-n").stdout)
        self.assertEqual(self.run_as("postconf", *c, "-h", "mail_name").stdout, "dropin\n")
        # -x expands, -X removes.
        self.run_as("postconf", *c, "-e", "smtpd_banner=$myhostname ESMTP")
        self.assertEqual(self.run_as("postconf", *c, "-x", "-h", "smtpd_banner").stdout,
                         "sandbox.test ESMTP\n")
        self.run_as("postconf", *c, "-X", "mail_name", "smtpd_banner")
        self.assertNotIn("mail_name", self.run_as("postconf", *c, "-n").stdout)
        self.assertEqual(self.run_as("postconf", *c, "-h", "mail_name").stdout, "surel\n")
        # master.cf fields and -o overrides, as scripts read them.
        with open(inst.path("etc", "master.cf"), "a") as f:
            f.write("127.0.0.1:2587 inet n - n - - smtpd\n"
                    "  -o syslog_name=postfix/submission\n"
                    "  -o smtpd_tls_security_level=encrypt\n")
        self.assertRegex(self.run_as("postconf", *c, "-M", "127.0.0.1:2587/inet").stdout,
                         r"^127\.0\.0\.1:2587 +inet +n +y +n +0 +\d+ +smtpd "
                         r"-o syslog_name=postfix/submission ")
        fields = self.run_as("postconf", *c, "-F", "127.0.0.1:2587/inet").stdout
        self.assertIn("127.0.0.1:2587/inet/private = n\n", fields)
        self.assertIn("127.0.0.1:2587/inet/chroot = n\n", fields)
        self.assertIn("127.0.0.1:2587/inet/command = smtpd\n", fields)
        self.assertEqual(self.run_as("postconf", *c, "-P", "127.0.0.1:2587/inet").stdout,
                         "127.0.0.1:2587/inet/syslog_name = postfix/submission\n"
                         "127.0.0.1:2587/inet/smtpd_tls_security_level = encrypt\n")

    def test_postmap_and_postalias(self):
        inst = self.instance()
        table = inst.path("etc", "virtual")
        with open(table, "w") as f:
            f.write("info@sandbox.test alice\n")
        self.run_as("postmap", "-c", inst.etc, "lmdb:" + table)
        self.assertEqual(self.run_as("postmap", "-c", inst.etc, "-q", "info@sandbox.test",
                                     "lmdb:" + table).stdout, "alice\n")
        miss = self.run_as("postmap", "-c", inst.etc, "-q", "nobody@x", "lmdb:" + table,
                           check=False)
        self.assertEqual(miss.returncode, 1)
        # -i adds from stdin (replacing a key), -s lists, -d deletes: the
        # built table changes, the text file does not (as with Postfix).
        self.run_as("postmap", "-c", inst.etc, "-i", "lmdb:" + table,
                    input="sales@sandbox.test bob\nINFO@sandbox.test alice, bob\n")
        self.assertEqual(self.run_as("postmap", "-c", inst.etc, "-s", "lmdb:" + table).stdout,
                         "info@sandbox.test\talice, bob\nsales@sandbox.test\tbob\n")
        self.assertEqual(self.run_as("postmap", "-c", inst.etc, "-d", "sales@sandbox.test",
                                     "lmdb:" + table).returncode, 0)
        gone = self.run_as("postmap", "-c", inst.etc, "-d", "sales@sandbox.test",
                           "lmdb:" + table, check=False)
        self.assertEqual(gone.returncode, 1)                # nothing left to delete
        self.assertEqual(self.run_as("postmap", "-c", inst.etc, "-s", "lmdb:" + table).stdout,
                         "info@sandbox.test\talice, bob\n")
        with open(table) as f:
            self.assertEqual(f.read(), "info@sandbox.test alice\n")
        pcre = inst.path("etc", "checks")
        with open(pcre, "w") as f:
            f.write("/x/ OK\n")
        refused = self.run_as("postmap", "-c", inst.etc, "-s", "pcre:" + pcre, check=False)
        self.assertEqual(refused.returncode, 2)
        self.assertIn("tables of type pcre cannot be listed", refused.stderr)
        aliases = inst.path("etc", "aliases")
        with open(aliases, "a") as f:
            f.write("dropin: bob\n")
        self.run_as("postalias", "-c", inst.etc, "lmdb:" + aliases)
        self.assertEqual(self.run_as("postalias", "-c", inst.etc, "-q", "dropin",
                                     "lmdb:" + aliases).stdout, "bob\n")

    def test_postqueue_postsuper_postcat(self):
        inst = self.instance()
        c = ("-c", inst.etc)
        self.assertEqual(self.run_as("postqueue", *c, "-p").stdout, "Mail queue is empty\n")
        held = self.inject(inst, "x@example.com", "hold")
        self.assertIn(held + "!", self.run_as("postqueue", *c, "-p").stdout)
        [row] = [json.loads(l) for l in self.run_as("postqueue", *c, "-j").stdout.splitlines()]
        self.assertEqual((row["queue_id"], row["queue_name"]), (held, "hold"))
        self.assertIn("queued body", self.run_as("postcat", *c, "-q", held).stdout)
        self.assertEqual(self.run_as("postcat", *c, "-h", "-q", held).stdout,
                         "Subject: queued\n")
        self.assertEqual(self.run_as("postcat", *c, "-bq", held).stdout, "queued body\n")
        envelope = self.run_as("postcat", *c, "-e", "-q", held).stdout
        self.assertIn("bob@sandbox.test", envelope)
        self.assertNotIn("queued body", envelope)
        # release, hold again, requeue, delete: each moves the one file.
        self.run_as("postsuper", *c, "-H", held)
        self.assertTrue(os.path.exists(inst.path("spool", "deferred", held[9], held)))
        self.run_as("postsuper", *c, "-h", "ALL")
        self.assertTrue(os.path.exists(inst.path("spool", "hold", held)))
        self.run_as("postsuper", *c, "-r", "ALL", "hold")
        self.assertFalse(os.path.exists(inst.path("spool", "hold", held)))
        self.assertIn(held, self.run_as("postqueue", *c, "-p").stdout)
        self.run_as("postsuper", *c, "-d", "ALL")
        self.assertEqual(self.run_as("postqueue", *c, "-p").stdout, "Mail queue is empty\n")
        two = self.run_as("postsuper", *c, "-d", "A", "-h", "B", check=False)
        self.assertEqual(two.returncode, 2)
        self.assertIn("one of -d, -e, -f, -h, -H, -r per call", two.stderr)

    def test_postsuper_structure_purge_expire(self):
        inst = self.instance()
        c = ("-c", inst.etc)
        spool = lambda *p: inst.path("spool", *p)
        # -s after a change of hash_queue_depth: the file and its log move,
        # the subfolders no longer needed go.
        qid = self.inject(inst, "x@example.com", "deferred")
        os.makedirs(spool("defer", qid[9]), exist_ok=True)
        with open(spool("defer", qid[9], qid), "w") as f:
            f.write("recipient=x%40example.com action=delayed reason=later\n")
        self.run_as("postconf", *c, "-e", "hash_queue_depth=2")
        self.run_as("postsuper", *c, "-s")
        self.assertTrue(os.path.exists(spool("deferred", qid[9], qid[8], qid)))
        self.assertTrue(os.path.exists(spool("defer", qid[9], qid[8], qid)))
        self.run_as("postconf", *c, "-e", "hash_queue_depth=1")
        self.run_as("postsuper", *c, "-s", "deferred", "defer")
        self.assertTrue(os.path.exists(spool("deferred", qid[9], qid)))
        self.assertTrue(os.path.exists(spool("defer", qid[9], qid)))
        self.assertFalse(os.path.exists(spool("deferred", qid[9], qid[8])))
        # -s on a file whose name is not its ID (a restored queue): it gets
        # the name its arrival time and inode give, and its log follows.
        held = self.inject(inst, "y@example.com", "hold")
        other = held[:11] + ("B" if held[11:] != "B" else "C")
        os.rename(spool("hold", held), spool("hold", other))
        os.makedirs(spool("defer", other[9]), exist_ok=True)
        os.rename(spool("defer", qid[9], qid), spool("defer", other[9], other))
        out = self.run_as("postsuper", *c, "-s")
        self.assertIn("%s: renamed to %s" % (other, held), out.stderr)
        self.assertTrue(os.path.exists(spool("hold", held)))
        self.assertFalse(os.path.exists(spool("hold", other)))
        self.assertTrue(os.path.exists(spool("defer", held[9], held)))
        # -p: stale temporary files go; fresh ones and finished mail stay.
        old = 2 * 86400
        files = {spool("temp", "123.456.0"): 0o600, spool("temp", "fresh"): 0o600,
                 spool("maildrop", "unfinished"): 0o400, spool("maildrop", "complete"): 0o744}
        for path, mode in files.items():
            with open(path, "w") as f:
                f.write("x")
            os.chmod(path, mode)
            if "fresh" not in path:
                t = os.stat(path).st_mtime - old
                os.utime(path, (t, t))
        self.run_as("postsuper", *c, "-p")
        self.assertEqual(sorted(os.listdir(spool("temp"))), ["fresh"])
        self.assertEqual(sorted(os.listdir(spool("maildrop"))), ["complete"])
        os.unlink(spool("maildrop", "complete"))
        # -e marks for expiration and leaves a held message held; -f also
        # releases it (the mark is Postfix's group-execute bit).
        self.run_as("postsuper", *c, "-e", held)
        self.assertTrue(os.stat(spool("hold", held)).st_mode & 0o010)
        rows = [json.loads(l) for l in self.run_as("postqueue", *c, "-j").stdout.splitlines()]
        self.assertEqual({r["queue_id"]: r["forced_expire"] for r in rows},
                         {held: True, qid: False})
        self.run_as("postsuper", *c, "-f", "ALL", "hold")
        self.assertTrue(os.stat(spool("deferred", held[9], held)).st_mode & 0o010)
        # -d, -h with "-": IDs from stdin.
        self.run_as("postsuper", *c, "-h", "-", input="%s\n%s\n" % (held, qid))
        self.assertEqual(sorted(os.listdir(spool("hold"))), sorted([held, qid]))
        self.run_as("postsuper", *c, "-d", "-", "hold", input=held + "\n")
        self.assertEqual(os.listdir(spool("hold")), [qid])
        # -d given twice: each ID is acted on (one is in no queue any more: exit 1).
        gone = self.run_as("postsuper", *c, "-d", qid, "-d", held, check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("%s: removed" % qid, gone.stderr)
        self.assertEqual(os.listdir(spool("hold")), [])

    def test_postsuper_expire_returns_a_deferred_message(self):
        # Mail for a next hop that is down waits in deferred/; postsuper -e
        # and a flush return it to its sender at once (Postfix's forced
        # expiration), without another delivery attempt.
        dead = h.free_port()
        inst = self.started(default_transport="smtp", relayhost="[127.0.0.1]:%d" % dead)
        c = ("-c", inst.etc)
        qid = e.send(inst, "alice@sandbox.test", ["x@remote.test"], message("expire me"))
        h.wait_for(lambda: list(e.queue_files(inst)) == ["deferred"], 30,
                   "the message to be deferred")
        self.run_as("postsuper", *c, "-e", qid)
        self.run_as("postqueue", *c, "-f")
        [bounce] = e.wait_delivered(inst, "alice", 1, timeout=30)
        self.assertIn(b"message is administratively expired", bounce)
        self.assertIn(b"Status: 4.7.0", bounce)
        inst.wait_log("%s: from=<alice@sandbox.test>, status=force-expired, returned to sender"
                      % qid)
        inst.wait_log("%s: removed" % qid, timeout=30)
        self.assertEqual(e.queue_files(inst), {})

    def test_postfix_control_and_flush(self):
        inst = self.instance()
        c = ("-c", inst.etc)
        self.assertEqual(self.run_as("postfix", *c, "status", check=False).returncode, 1)
        self.assertEqual(self.run_as("postfix", *c, "check", check=False).returncode, 0)
        os.chmod(inst.path("spool", "hold"), 0o755)
        self.assertEqual(self.run_as("postfix", *c, "check", check=False).returncode, 1)
        self.run_as("postfix", *c, "set-permissions")
        self.assertEqual(os.stat(inst.path("spool", "hold")).st_mode & 0o777, 0o700)
        self.assertEqual(self.run_as("postfix", *c, "check", check=False).returncode, 0)
        inst.conf(local_header_rewrite_clients="permit_inet_interfaces, permit_everyone")
        bad = self.run_as("postfix", *c, "check", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("local_header_rewrite_clients: unknown item permit_everyone", bad.stderr)
        inst.conf(local_header_rewrite_clients="permit_mynetworks, static:all")
        self.assertEqual(self.run_as("postfix", *c, "check", check=False).returncode, 0)
        self.run_as("postfix", *c, "start")
        self.addCleanup(lambda: self.run_as("postfix", *c, "stop", check=False))
        h.wait_for(inst.running, 10, "master")
        self.assertEqual(self.run_as("postfix", *c, "status").returncode, 0)
        pid = inst.master_pid()
        self.run_as("postfix", *c, "reload")
        inst.wait_log("reload -- configuration")
        self.assertEqual(inst.master_pid(), pid)
        self.run_as("postfix", *c, "flush")
        self.run_as("postqueue", *c, "-f")
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], message("names"))
        inst.wait_log("%s: removed" % qid)
        # postqueue -i: one deferred message, not due for an hour, goes now.
        later = h.run([h.binary("test-qinject"), "-d", inst.spool, "-u", "surel", "-q",
                       "deferred", "-H", "1", "-t", "3600", "-f", "bob@sandbox.test",
                       "-r", "bob@sandbox.test"],
                      input="Subject: later\n\nlater\n").stdout.strip()
        self.run_as("postqueue", *c, "-i", later)
        inst.wait_log("%s: removed" % later)
        unknown = self.run_as("postqueue", *c, "-i", later, check=False)
        self.assertEqual(unknown.returncode, 1)
        self.assertIn("no deferred message with this queue ID", unknown.stderr)
        # sendmail's other names, postlog and postfix logrotate, on the
        # same running instance.
        with open(inst.path("etc", "aliases"), "a") as f:
            f.write("names: bob\n")
        self.run_as("newaliases", "-C", inst.etc)
        self.assertEqual(self.run_as("postmap", *c, "-q", "names", "lmdb:" +
                                     inst.path("etc", "aliases")).stdout, "bob\n")
        self.assertEqual(self.run_as("mailq", "-C", inst.etc).stdout, "Mail queue is empty\n")
        self.run_as("postlog", *c, "-t", "dropin/test", "before rotation")
        inst.wait_log("dropin/test")
        rotate = self.run_as("postfix", *c, "logrotate")
        self.assertIn("rotated to", rotate.stderr)
        self.assertTrue([n for n in os.listdir(inst.path("log")) if n.startswith("maillog.")],
                        os.listdir(inst.path("log")))
        self.run_as("postlog", *c, "-p", "warning", "-t", "dropin/test", "after rotation")
        inst.wait_log("after rotation")
        self.run_as("postfix", *c, "stop")
        h.wait_for(lambda: not inst.running(), 10, "master to stop")


if __name__ == "__main__":
    h.main()
