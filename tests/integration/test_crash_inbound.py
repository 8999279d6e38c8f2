"""test_crash_inbound - crashes on the way in (DESIGN §10, invariants 1-3).

- cleanup killed with SIGKILL while an SMTP client is in the middle of
  DATA: the client gets 451 4.3.0 after its final dot, nothing reaches a
  folder a scheduler reads, nothing is delivered.
- every process of an instance killed with SIGKILL at once right after a
  250 (the scheduler kept from delivering first): after a restart the
  message is delivered, exactly as sent.
"""
import os

from harness import e2e as e
from harness import core as h

MESSAGE = e.crlf(
    "From: bob@sandbox.test\nTo: alice@sandbox.test\nSubject: survives a crash\n"
    "Message-ID: <crash.1@client.test>\nDate: Sun, 22 Nov 2026 04:18:57 +0000\n\n"
    ".a dot line\n" + "a line of the body, token crash-0815\n" * 200 + "last\n")


class CleanupKilledMidMessage(h.InstanceTest):

    def test_sigkill_of_cleanup_during_data_gives_451_and_no_mail(self):
        inst = self.instance()
        inst.start()
        client = e.RawSMTP(inst.smtp_port)
        self.addCleanup(client.close)
        self.assertEqual(client.reply()[0], 220)
        client.command("EHLO client.test", 250)
        client.command("MAIL FROM:<bob@sandbox.test>", 250)
        client.command("RCPT TO:<alice@sandbox.test>", 250)
        client.command("DATA", 354)
        client.send("From: bob@sandbox.test\r\nTo: alice@sandbox.test\r\n"
                    "Subject: killed in the middle\r\n\r\n" + "first part of the body\r\n" * 100)
        # The cleanup serving this session has its file in temp/ by now
        # (it makes it when smtpd connects, before smtpd says 354).
        pids = h.wait_for(lambda: inst.service_pids("cleanup"), 10, "a cleanup process")
        h.wait_for(lambda: os.listdir(inst.path("spool", "temp")), 10, "cleanup's file in temp/")
        self.assertEqual(e.kill_service(inst, "cleanup"), pids)
        h.wait_for(lambda: not any(e.alive(p) for p in pids), 10, "cleanup to die")
        client.send("second part of the body, after the crash\r\n" * 100 + ".\r\n")
        code, lines = client.reply()
        self.assertEqual(code, 451, lines)
        self.assertTrue(lines[-1].startswith("451 4.3.0"), lines)
        # The session goes on: QUIT is answered.
        client.command("QUIT", 221)

        self.assertEqual(e.queue_files(inst), {})
        # A message sent afterwards goes all the way through (so cleanup
        # was restarted and the scheduler ran); it is alice's only mail.
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test"], MESSAGE)
        inst.wait_log("%s: removed" % qid, 20)
        [data] = e.delivered(inst, "alice")
        self.assertIn(b"Subject: survives a crash\n", data)
        self.assertNotIn(b"killed in the middle", data)
        self.assertEqual(e.queue_files(inst), {})
        self.assertIn("killed by signal 9", inst.log())
        self.assertNotIn("killed in the middle", inst.log())


class EverythingKilledAfter250(h.InstanceTest):

    def assert_delivered_exactly(self, inst, qid, users):
        for user in users:
            [data] = e.wait_delivered(inst, user, 1, 30)
            return_path, delivered_to, received, rest = e.split_prepended(data)
            self.assertEqual(return_path, "<bob@sandbox.test>")
            self.assertEqual(delivered_to, "%s@sandbox.test" % user)
            self.assertIn(b"with ESMTP id " + qid.encode(), received)
            self.assertEqual(rest, e.lf(MESSAGE))
        inst.wait_log("%s: removed" % qid, 20)
        self.assertEqual(e.queue_files(inst), {})

    def test_sigkill_of_everything_after_250_loses_nothing(self):
        inst = self.instance()
        master_cf = inst.path("etc", "master.cf")
        with open(master_cf) as f:
            normal = f.read()
        # No scheduler: the acknowledged message stays in incoming/.
        inst.write_master_cf(e.without_service(normal, "qmgr"))
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test", "bob@sandbox.test"],
                     MESSAGE)
        self.assertEqual(e.queue_files(inst), {"incoming": [qid]})
        killed = e.kill_everything(inst)
        self.assertIn(inst.master_pid(), killed)
        self.assertEqual(inst.processes(), [])
        self.assertEqual(inst.messages("alice") + inst.messages("bob"), [])

        inst.write_master_cf(normal)
        inst.start()
        self.assert_delivered_exactly(inst, qid, ("alice", "bob"))

    def test_sigkill_of_everything_with_mail_deferred_loses_nothing(self):
        inst = self.instance()
        # Retries come quickly, so that the restarted instance delivers soon.
        inst.conf(minimal_backoff_time="1s", maximal_backoff_time="2s", queue_run_delay="1s")
        master_cf = inst.path("etc", "master.cf")
        with open(master_cf) as f:
            normal = f.read()
        # The local service is unreachable: qmgr defers the message.
        inst.write_master_cf(e.without_service(normal, "local"))
        inst.start()
        qid = e.send(inst, "bob@sandbox.test", ["alice@sandbox.test", "bob@sandbox.test"],
                     MESSAGE)
        inst.wait_log("%s: to=<alice@sandbox.test>" % qid, 20)
        self.assertRegex(inst.log(), r"%s: to=<alice@sandbox\.test>, .*status=deferred" % qid)
        h.wait_for(lambda: e.queue_files(inst).get("deferred") == [qid], 10,
                   "the message in deferred/")
        e.kill_everything(inst)
        self.assertEqual(inst.processes(), [])

        inst.write_master_cf(normal)
        inst.start()
        self.assert_delivered_exactly(inst, qid, ("alice", "bob"))


if __name__ == "__main__":
    h.main()
