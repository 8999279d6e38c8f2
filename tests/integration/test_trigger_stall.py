"""test_trigger_stall - a silent trigger client cannot stall qmgr or pickup.

Anybody in the postdrop group (every local user, through the set-gid
`surel queue flush` and postdrop) may connect to public/qmgr and
public/pickup. A user who stops such a process right after connect()
leaves a connection that never sends and never hangs up. The trigger
servers used to wait up to 10 s for each such client on their only
thread, so three of them froze qmgr (or pickup) for 30 s and new mail
waited. Now the clients are read from the event loop: mail arriving
behind three silent clients is delivered within a few seconds.
"""
import smtplib
import socket

import surel_harness as h

SILENT = 3
BOUND = 8.0         # seconds; the old behaviour needed SILENT * 10 s


class TriggerStallTest(h.InstanceTest):

    def silent_clients(self, inst, service):
        """SILENT connections to public/<service> that send nothing."""
        path = inst.path("spool", "public", service)
        clients = []
        for _ in range(SILENT):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            clients.append(s)
        self.addCleanup(lambda: [c.close() for c in clients])
        return clients

    def test_qmgr_serves_mail_behind_silent_clients(self):
        inst = self.instance()
        inst.start()
        self.silent_clients(inst, "qmgr")
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            c.sendmail("me@example.org", ["alice@sandbox.test"],
                       b"Subject: behind silent qmgr clients\r\n\r\nbody\r\n")
        inst.wait_messages("alice", 1, timeout=BOUND)

    def test_pickup_serves_maildrop_behind_silent_clients(self):
        inst = self.instance()
        inst.start()
        self.silent_clients(inst, "pickup")
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", "me@sandbox.test",
               "bob@sandbox.test"], input="Subject: behind silent pickup clients\n\nbody\n")
        inst.wait_messages("bob", 1, timeout=BOUND)


if __name__ == "__main__":
    h.main()
