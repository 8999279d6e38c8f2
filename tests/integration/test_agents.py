"""test_agents - the small delivery agents: discard(8) and pipe(8).

Each test starts a sandbox instance (a root one in CI: the master drops
each daemon as in production), routes a domain to the agent with
transport_maps, submits mail over SMTP and looks at the log, the queue
and what the agent produced.
"""
import os
import re
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


if __name__ == "__main__":
    h.main()
