"""test_pickup - the pickup daemon under the real master: bad maildrop files
go to corrupt/ with a log line and are never delivered; a good one queued
after them still is, exactly once."""
import os
import socket

from harness import core as h
from harness.core import record
import test_sendmail


class PickupTest(test_sendmail.SendmailHelpers):

    def plant(self, inst, name, data, mode=0o744, uid=None):
        path = inst.path("spool", "maildrop", name)
        with open(path, "wb") as f:
            f.write(data)
        os.chmod(path, mode)
        if uid is not None:
            os.chown(path, uid, -1)
        return path

    def trigger(self, inst):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(inst.path("spool", "public", "pickup"))
            s.sendall(b"W")

    def test_bad_files_go_to_corrupt(self):
        inst = self.make()
        tok = self.token()
        good = (record("S", b"alice") + record("R", b"bob@sandbox.test") + record("M")
                + record("N", ("Subject: " + tok).encode()) + record("X") + record("E"))
        self.plant(inst, "00000001bad", record("S", b"alice") + record("T", b"1 2"))
        self.plant(inst, "00000002noend", good[:-2])
        self.plant(inst, "00000003incomplete", good, mode=0o400)
        if os.geteuid() == 0:
            self.plant(inst, "00000004nobody", good, uid=3999999)
        self.plant(inst, "00000005good", good)
        self.trigger(inst)
        # The noend, incomplete and nobody files hold the token too: one copy
        # means only the good one went through. The unfinished file stays in
        # maildrop/, so the wait for an empty queue leaves maildrop/ out.
        data = self.only_copy(inst, "bob", tok, queues=test_sendmail.QUEUES[1:])
        self.assertTrue(data.startswith(b"Return-Path: <alice@sandbox.test>\n"
                                        b"Delivered-To: bob@sandbox.test\n"), data)
        self.assertRegex(data, rb"(?m)^Subject: %s$" % tok.encode())
        corrupt = inst.path("spool", "corrupt")
        expect = {"00000001bad", "00000002noend"} | (
            {"00000004nobody"} if os.geteuid() == 0 else set())
        h.wait_for(lambda: expect <= set(os.listdir(corrupt)), 10, "files in corrupt/")
        self.assertEqual(self.maildrop(inst), ["00000003incomplete"])
        inst.wait_log("maildrop/00000001bad: uid=%d: unexpected time record; moved to corrupt/"
                      % os.getuid())
        inst.wait_log("maildrop/00000002noend: uid=%d: no end record" % os.getuid())


if __name__ == "__main__":
    h.main()
