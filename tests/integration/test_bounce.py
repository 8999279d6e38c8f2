"""test_bounce - the bounce daemon under the real master, over its socket.

Each test writes an instance (harness.master.MasterInstance: its own
main.cf and master.cf, daemon_directory = the build's bin/), runs bin/bounce
as the `bounce` service and talks to private/bounce as qmgr does: attribute
lists (name NUL value NUL ... NUL). The message being bounced is a queue
file written here in the queue-file record format (record.h, qfile.h).

The notices go to private/cleanup. When the real cleanup daemon is built
(bin/cleanup) it serves that socket and the notices are read back from the
queue files it commits; until then a small peer in this file speaks the
cleanup protocol of mail_proto.h on that socket and keeps what it got.
Either way each notice is parsed with Python's email package.
"""
import email
import email.policy
import os
import pwd
import random
import socket
import threading
import time
import unittest

from harness.attr import AttrReader, encode as attr_bytes
from harness.core import binary, record, unix_listening, wait_for
from harness.master import MasterInstance

HOSTNAME = "mx.bounce.test"
ID_DIGITS = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
NOTIFY_NEVER, NOTIFY_SUCCESS, NOTIFY_FAILURE, NOTIFY_DELAY = 1, 2, 4, 8
REAL_CLEANUP = os.path.exists(binary("cleanup"))


# Wire formats.
def read_attrs(f):
    """One attribute list from a binary file object: [(name, value)]."""
    return AttrReader(f).read_pairs()


def read_record(f):
    """(type, data) of the next record, or None at end of input."""
    t = f.read(1)
    if not t:
        return None
    n, shift = 0, 0
    while True:
        b = f.read(1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    data = f.read(n)
    return t.decode(), data


def records_to_message(recs):
    """Envelope and content of a record list (a queue file or a cleanup stream)."""
    sender, rcpts, lines, in_content, partial = None, [], [], False, b""
    for rtype, data in recs:
        if rtype == "S" and not in_content:
            sender = data.decode()
        elif rtype == "R" and not in_content:
            rcpts.append(data.decode())
        elif rtype == "M":
            in_content = True
        elif rtype == "X":
            in_content = False
        elif rtype == "L" and in_content:
            partial += data
        elif rtype == "N" and in_content:
            lines.append(partial + data)
            partial = b""
    return {"sender": sender, "rcpts": rcpts, "content": b"\n".join(lines) + b"\n"}


def queue_id():
    """A fresh, well-formed queue ID (queue_id.h)."""
    return ("".join(random.choice(ID_DIGITS) for _ in range(10)) + "z"
            + "".join(random.choice(ID_DIGITS[:-1]) for _ in range(4)))


def queue_file(sender, rcpts, lines, attrs=()):
    """The bytes of a complete queue file (qfile.h grammar)."""
    env = record("T", "%d 0" % (int(time.time()) - 120)) + record("S", sender)
    for name, value in attrs:
        env += record("A", "%s=%s" % (name, value))
    for r in rcpts:
        env += record("O", r) + record("R", r)
    content = b"".join(record("N", line) for line in lines)
    size = sum(len(line.encode()) + 1 for line in lines)

    def size_record(offset):
        return record("C", "%15d %15d %15d %15d" % (size, offset, len(rcpts), 0))
    head = size_record(0)
    data_offset = len(head) + len(env)
    return size_record(data_offset) + env + record("M", "") + content + record("X", "") + record("E", "")


ORIGINAL = [
    "From: Sender <sender@example.org>",
    "To: rcpt@example.com",
    "Subject: the original subject",
    "Message-Id: <orig.1@example.org>",
    "",
    "first body line",
    "--not-our-boundary",
    "last body line",
]


class FakeCleanup:
    """Speaks the cleanup protocol on private/cleanup; keeps each submission."""

    def __init__(self, path, owner_uid):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        if owner_uid is not None:
            os.chown(path, owner_uid, -1)
        self.sock.listen(8)
        self.submissions = []
        self.connections = 0
        self.reply_status = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    self.session(conn)
                except (EOFError, OSError, IndexError):
                    pass

    def session(self, conn):
        f = conn.makefile("rb")
        with self.lock:
            self.connections += 1
        flags = dict(read_attrs(f))
        new_id = queue_id()
        conn.sendall(attr_bytes([("queue_id", new_id)]))
        recs = []
        while True:
            rec = read_record(f)
            if rec is None:
                raise EOFError("no end record")
            recs.append(rec)
            if rec[0] == "E":
                break
        msg = records_to_message(recs)
        msg["flags"] = int(flags.get("flags", "-1"))
        msg["queue_id"] = new_id
        conn.sendall(attr_bytes([("status", self.reply_status), ("reason", "")]))
        if self.reply_status == 0:
            with self.lock:
                self.submissions.append(msg)

    def close(self):
        self.sock.close()


class BounceTest(unittest.TestCase):

    def setUp(self):
        owner = "surel" if os.geteuid() == 0 else None
        self.uid = pwd.getpwnam(owner).pw_uid if owner else None
        self.gid = pwd.getpwnam(owner).pw_gid if owner else None
        services = "bounce unix - - n - 0 bounce\n"
        if REAL_CLEANUP:
            services += "cleanup unix - - n - 0 cleanup\n"
        self.inst = MasterInstance(services, "myhostname = %s\nmyorigin = %s\n" % (HOSTNAME, HOSTNAME),
                                   owner=owner)
        for d in ("temp", "incoming", "active", "deferred", "hold", "bounce", "defer", "corrupt"):
            self.mkdir(os.path.join(self.inst.spool, d))
        self.fake = None
        if not REAL_CLEANUP:
            self.fake = FakeCleanup(self.inst.unix_path("cleanup"), self.uid)
        self.inst.start()
        wait_for(lambda: unix_listening(self.inst.unix_path("bounce")), 10, "private/bounce")

    def tearDown(self):
        if self.fake:
            self.fake.close()
        self.inst.cleanup()

    # Helpers.
    def mkdir(self, path, mode=0o700):
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def queue(self, sender="sender@example.org", rcpts=("rcpt@example.com",), queue="active",
              lines=ORIGINAL):
        qid = queue_id()
        path = os.path.join(self.inst.spool, queue, qid)
        with open(path, "wb") as f:
            f.write(queue_file(sender, list(rcpts), list(lines)))
        os.chmod(path, 0o700)
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)
        return qid

    def request(self, pairs):
        """Send one request over a new connection; return the reply attributes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(20)
            s.connect(self.inst.unix_path("bounce"))
            s.sendall(attr_bytes(pairs))
            return dict(read_attrs(s.makefile("rb")))

    def append(self, qid, rcpt, action="failed", status="5.1.1", reason="550 5.1.1 no such user",
               notify=0, orcpt="", offset=100):
        return self.request([("request", "append"), ("queue_id", qid), ("original_recipient", rcpt),
                             ("recipient", rcpt), ("dsn_orig_rcpt", orcpt), ("dsn_notify", notify),
                             ("offset", offset), ("dsn_status", status), ("dsn_action", action),
                             ("reason", reason)])

    def flush(self, qid, sender="sender@example.org", ret="", envid="", request="flush",
              queue="active"):
        return self.request([("request", request), ("queue_id", qid), ("queue_name", queue),
                             ("sender", sender), ("dsn_envid", envid), ("dsn_ret", ret)])

    def log_path(self, folder, qid, hashed=False):
        if hashed:
            return os.path.join(self.inst.spool, folder, qid[9], qid)
        return os.path.join(self.inst.spool, folder, qid)

    def notices(self):
        """Every notice queued so far: dicts with sender, rcpts, content."""
        if self.fake:
            with self.fake.lock:
                return list(self.fake.submissions)
        found = []
        for folder in ("incoming", "hold"):
            top = os.path.join(self.inst.spool, folder)
            for name in sorted(os.listdir(top)):
                recs = []
                with open(os.path.join(top, name), "rb") as f:
                    while True:
                        rec = read_record(f)
                        if rec is None:
                            break
                        recs.append(rec)
                msg = records_to_message(recs)
                msg["queue_id"] = name
                found.append(msg)
        return found

    def one_notice(self):
        notices = self.notices()
        self.assertEqual(len(notices), 1, notices)
        return notices[0], email.message_from_bytes(notices[0]["content"], policy=email.policy.compat32)

    def report_parts(self, msg):
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "delivery-status")
        parts = msg.get_payload()
        self.assertEqual(parts[0].get_content_type(), "text/plain")
        self.assertEqual(parts[1].get_content_type(), "message/delivery-status")
        # The delivery-status payload is a list: per-message fields, then per recipient.
        blocks = parts[1].get_payload()
        return parts, blocks[0], blocks[1:]

    # Tests.
    def test_append_then_flush_returns_full_message(self):
        qid = self.queue(rcpts=("rcpt@example.com", "other@example.com"))
        self.assertEqual(self.append(qid, "rcpt@example.com", orcpt="rfc822;Rcpt@Example.com",
                                     reason="host mx.example.com[192.0.2.1] said: 550 5.1.1 "
                                            "no such user (in reply to RCPT TO command)"),
                         {"status": "0"})
        self.assertEqual(self.append(qid, "other@example.com", status="5.2.2", offset=200,
                                     reason="mailbox full"), {"status": "0"})
        with open(self.log_path("bounce", qid)) as f:
            self.assertEqual(len(f.read().splitlines()), 2)
        self.assertEqual(self.flush(qid, envid="ENV-7"), {"status": "0"})
        self.assertFalse(os.path.exists(self.log_path("bounce", qid)))
        notice, msg = self.one_notice()
        self.assertEqual(notice["sender"], "")
        self.assertEqual(notice["rcpts"], ["sender@example.org"])
        if self.fake:
            self.assertEqual(notice["flags"], 8)        # CLEANUP_FLAG_BOUNCE
        self.assertEqual(msg["Subject"], "Undelivered Mail Returned to Sender")
        self.assertEqual(msg["From"], "MAILER-DAEMON@%s (Mail Delivery System)" % HOSTNAME)
        self.assertEqual(msg["Auto-Submitted"], "auto-replied")
        self.assertIn(notice["queue_id"], msg["Message-Id"])
        self.assertIsNotNone(msg["Date"])
        parts, per_msg, per_rcpt = self.report_parts(msg)
        self.assertEqual(len(parts), 3)
        text = parts[0].get_payload()
        self.assertIn("This is the mail system at host %s." % HOSTNAME, text)
        self.assertIn("I'm sorry to have to inform you that your message could not", text)
        self.assertIn("<other@example.com>: mailbox full", text)
        self.assertEqual(per_msg["Reporting-MTA"], "dns; %s" % HOSTNAME)
        self.assertEqual(per_msg["X-Surel-Queue-ID"], qid)
        self.assertEqual(per_msg["Original-Envelope-Id"], "ENV-7")
        self.assertIsNotNone(per_msg["Arrival-Date"])
        self.assertEqual(len(per_rcpt), 2)
        first = {b["Final-Recipient"]: b for b in per_rcpt}
        a = first["rfc822; rcpt@example.com"]
        self.assertEqual(a["Original-Recipient"], "rfc822; Rcpt@Example.com")
        self.assertEqual(a["Action"], "failed")
        self.assertEqual(a["Status"], "5.1.1")
        self.assertTrue(a["Diagnostic-Code"].startswith("smtp; 550 5.1.1 no such user"), a["Diagnostic-Code"])
        b = first["rfc822; other@example.com"]
        self.assertIsNone(b["Original-Recipient"])
        self.assertEqual(b["Status"], "5.2.2")
        self.assertEqual(b["Diagnostic-Code"], "x-unix; mailbox full")
        self.assertEqual(parts[2].get_content_type(), "message/rfc822")
        returned = parts[2].get_payload()[0]
        self.assertEqual(returned["Subject"], "the original subject")
        self.assertIn("last body line", returned.get_payload())
        self.assertIn("--not-our-boundary", returned.get_payload())
        self.inst.wait_log("%s: sender non-delivery notification: %s" % (qid, notice["queue_id"]))

    def test_ret_hdrs_returns_headers_only(self):
        qid = self.queue()
        self.assertEqual(self.append(qid, "rcpt@example.com"), {"status": "0"})
        self.assertEqual(self.flush(qid, ret="HDRS"), {"status": "0"})
        _, msg = self.one_notice()
        parts, per_msg, _ = self.report_parts(msg)
        self.assertIsNone(per_msg["Original-Envelope-Id"])
        self.assertEqual(parts[2].get_content_type(), "text/rfc822-headers")
        headers = parts[2].get_payload()
        self.assertIn("Subject: the original subject", headers)
        self.assertNotIn("first body line", headers)

    def test_bounce_for_null_sender_goes_to_postmaster(self):
        qid = self.queue(sender="")
        self.assertEqual(self.append(qid, "rcpt@example.com"), {"status": "0"})
        self.assertEqual(self.flush(qid, sender=""), {"status": "0"})
        notice, msg = self.one_notice()
        self.assertEqual(notice["rcpts"], ["postmaster@%s" % HOSTNAME])
        self.assertEqual(notice["sender"], "double-bounce@%s" % HOSTNAME)
        self.assertEqual(msg["To"], "postmaster@%s" % HOSTNAME)
        self.report_parts(msg)
        self.inst.wait_log("%s: postmaster non-delivery notification: %s" % (qid, notice["queue_id"]))

    def test_failed_postmaster_notice_does_not_loop(self):
        qid = self.queue(sender="double-bounce@%s" % HOSTNAME)
        self.assertEqual(self.append(qid, "postmaster@%s" % HOSTNAME), {"status": "0"})
        self.assertEqual(self.flush(qid, sender="double-bounce@%s" % HOSTNAME), {"status": "0"})
        self.inst.wait_log("%s: undeliverable postmaster notification discarded" % qid)
        self.assertEqual(self.notices(), [])
        self.assertFalse(os.path.exists(self.log_path("bounce", qid)))

    def test_notify_never_sends_nothing(self):
        qid = self.queue()
        self.assertEqual(self.append(qid, "rcpt@example.com", notify=NOTIFY_NEVER), {"status": "0"})
        self.assertEqual(self.flush(qid), {"status": "0"})
        self.assertFalse(os.path.exists(self.log_path("bounce", qid)))
        self.assertEqual(self.notices(), [])
        if self.fake:
            self.assertEqual(self.fake.connections, 0)

    def test_notify_success_gets_delivery_report(self):
        qid = self.queue()
        self.assertEqual(self.append(qid, "rcpt@example.com", action="delivered", status="2.0.0",
                                     reason="delivered to maildir", notify=NOTIFY_SUCCESS),
                         {"status": "0"})
        self.assertEqual(self.flush(qid), {"status": "0"})
        _, msg = self.one_notice()
        self.assertEqual(msg["Subject"], "Successful Mail Delivery Report")
        _, _, per_rcpt = self.report_parts(msg)
        self.assertEqual(per_rcpt[0]["Action"], "delivered")
        self.assertEqual(per_rcpt[0]["Status"], "2.0.0")

    def test_delay_warning_keeps_defer_log(self):
        qid = self.queue(queue="deferred")
        self.mkdir(os.path.dirname(self.log_path("deferred", qid, hashed=True)))
        os.rename(self.log_path("deferred", qid), self.log_path("deferred", qid, hashed=True))
        self.assertEqual(self.append(qid, "rcpt@example.com", action="delayed", status="4.4.1",
                                     reason="connect to mx.example.com: Connection refused",
                                     notify=NOTIFY_DELAY), {"status": "0"})
        self.assertTrue(os.path.exists(self.log_path("defer", qid, hashed=True)))
        self.assertEqual(self.flush(qid, request="warn", queue="deferred"), {"status": "0"})
        self.assertTrue(os.path.exists(self.log_path("defer", qid, hashed=True)))
        _, msg = self.one_notice()
        self.assertEqual(msg["Subject"], "Delayed Mail (still being retried)")
        _, _, per_rcpt = self.report_parts(msg)
        self.assertEqual(per_rcpt[0]["Action"], "delayed")
        self.assertEqual(per_rcpt[0]["Status"], "4.4.1")
        self.assertIsNotNone(per_rcpt[0]["Will-Retry-Until"])

    def test_flush_without_log_is_ok_and_silent(self):
        qid = self.queue()
        self.assertEqual(self.flush(qid), {"status": "0"})
        self.assertEqual(self.notices(), [])

    def test_cleanup_failure_keeps_log(self):
        # cleanup can't commit (incoming/ not writable: CLEANUP_STAT_WRITE)
        # or, with the test peer, says so: the flush fails, the log stays,
        # and a later flush sends the notice.
        incoming = os.path.join(self.inst.spool, "incoming")
        if self.fake:
            self.fake.reply_status = 2      # CLEANUP_STAT_WRITE
        else:
            os.chmod(incoming, 0o500)
        qid = self.queue()
        self.assertEqual(self.append(qid, "rcpt@example.com"), {"status": "0"})
        self.assertNotEqual(self.flush(qid), {"status": "0"})
        self.assertTrue(os.path.exists(self.log_path("bounce", qid)))
        self.inst.wait_log("%s: cannot queue a notice" % qid)
        if self.fake:
            self.fake.reply_status = 0
        else:
            os.chmod(incoming, 0o700)
        self.assertEqual(self.flush(qid), {"status": "0"})
        self.assertEqual(len(self.notices()), 1)

    def test_bad_requests_are_refused(self):
        self.assertEqual(self.append("../../etc", "rcpt@example.com"), {"status": "1"})
        self.assertEqual(self.request([("request", "append"), ("queue_id", queue_id())]),
                         {"status": "1"})
        self.assertEqual(self.request([("request", "explode")]), {"status": "1"})
        self.assertEqual(self.flush(queue_id(), queue="../private"), {"status": "1"})
        # The service still works afterwards.
        qid = self.queue()
        self.assertEqual(self.append(qid, "rcpt@example.com"), {"status": "0"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
