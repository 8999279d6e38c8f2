"""test_privileges - every daemon of a root instance holds what doc/design.md says.

The table between `<!-- privileges: begin -->` and `<!-- privileges: end -->`
in doc/design.md §2 names, per program, the uids, gids, supplementary
groups, effective capabilities and root directory of its running
processes. This test starts a root sandbox instance, makes every daemon
run (mail delivered, mail relayed by smtp to a test server, mail bounced, a login checked by
authd,
mail for the error transport, a queue
listing through showq by an unprivileged user) and compares each process's
/proc/<pid>/status and /proc/<pid>/root with the table.
"""
import grp
import os
import unittest
import pwd
import smtplib
import subprocess

import e2e_harness as e
import surel_harness as h
from harness.sink import Sink

DESIGN = os.path.join(os.environ.get("SUREL_SOURCE_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..")), "doc", "design.md")


def design_table():
    """{program: {column: text}} from the privileges table of design.md."""
    with open(DESIGN) as f:
        text = f.read()
    body = text.split("<!-- privileges: begin -->")[1].split("<!-- privileges: end -->")[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in body.strip().splitlines()]
    header, rows = rows[0], [r for r in rows[2:] if r and r[0]]
    return {r[0]: dict(zip(header[1:], r[1:])) for r in rows}


def status(pid):
    """The fields of /proc/pid/status we check."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.split()
    return out


def program_of(argv):
    return os.path.basename(argv[0])


@unittest.skipUnless(os.geteuid() == 0, "needs a root instance")
class PrivilegesTest(h.InstanceTest):

    def make_every_daemon_run(self, inst, sink):
        with smtplib.SMTP("127.0.0.1", inst.smtp_port, timeout=10) as c:
            # AUTH: smtpd asks authd (smtpd_sasl_type = surel).
            c.ehlo("client.test")
            c.login("alice", "secret")
            # relay.example goes out through the smtp client to our sink.
            c.sendmail("bob@sandbox.test", ["someone@relay.example"],
                       b"Subject: relayed\r\n\r\nbody\r\n")
            c.sendmail("bob@sandbox.test", ["alice@sandbox.test"],
                       b"Subject: delivered\r\n\r\nbody\r\n")
            # Other domains go to the error transport: error, then bounce.
            c.sendmail("bob@sandbox.test", ["someone@elsewhere.example"],
                       b"Subject: error transport\r\n\r\nbody\r\n")
        h.run([h.binary("sendmail"), "-C", inst.etc, "-f", "bob@sandbox.test",
               "alice@sandbox.test"], input="Subject: picked up\n\nbody\n")
        # showq serves users who may not read the queue.
        subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        h.binary("surel"), "-c", inst.etc, "queue", "list"],
                       capture_output=True, timeout=30)
        e.wait_delivered(inst, "alice", 2)
        e.wait_delivered(inst, "bob", 1)            # the bounce
        sink.wait_transactions(1)

    def test_every_daemon_holds_what_the_design_says(self):
        table = design_table()
        sink = Sink().start()
        self.addCleanup(sink.close)
        inst = self.instance()
        passwd_table = inst.path("etc", "sasl_passwd")
        hashed = h.run([h.binary("surel"), "passwd"], input="secret\n").stdout.strip()
        with open(passwd_table, "w") as f:
            f.write("alice %s\n" % hashed)
        os.chown(passwd_table, 0, grp.getgrnam("surelauth").gr_gid)
        os.chmod(passwd_table, 0o640)
        inst.conf(transport_maps="inline:{ relay.example=smtp:[127.0.0.1]:%d }" % sink.port,
                  smtpd_sasl_auth_enable="yes", smtpd_sasl_type="surel",
                  authd_password_maps="texthash:" + passwd_table)
        inst.start()
        self.make_every_daemon_run(inst, sink)
        owner = pwd.getpwnam("surel")
        authd_owner = pwd.getpwnam("surelauth")
        seen = set()

        def check(pid, prog):
            want = table[prog]
            st = status(pid)
            ids = {"root": "0", "mail_owner": str(owner.pw_uid),
                   "authd_owner": str(authd_owner.pw_uid)}
            gids = {"root": "0", "mail_owner": str(owner.pw_gid),
                    "authd_owner": str(authd_owner.pw_gid)}
            self.assertEqual(st["Uid"][:3], [ids[want["uid (real, effective, saved)"]]] * 3,
                             "%s pid %d uids" % (prog, pid))
            self.assertEqual(st["Gid"][:3], [gids[want["gid (real, effective, saved)"]]] * 3,
                             "%s pid %d gids" % (prog, pid))
            if want["supplementary groups"] != "any":
                self.assertEqual(st.get("Groups", []), [gids[want["supplementary groups"]]],
                                 "%s pid %d groups" % (prog, pid))
            caps = int(st["CapEff"][0], 16)
            if want["effective capabilities"] == "none":
                self.assertEqual(caps, 0, "%s pid %d capabilities" % (prog, pid))
                self.assertEqual(int(st["CapPrm"][0], 16), 0)
            else:
                self.assertNotEqual(caps, 0)
            root = os.readlink("/proc/%d/root" % pid)
            self.assertIn(root, ("/", os.path.realpath(inst.spool)),
                          "%s pid %d root directory" % (prog, pid))
            seen.add(prog)

        check(inst.master_pid(), "master")
        for pid, argv in inst.processes():
            prog = program_of(argv)
            if prog == "master":
                continue
            self.assertIn(prog, table, "a daemon the design table does not list: %s" % prog)
            check(pid, prog)
        # Every daemon the mail above needs ran and was checked (showq and
        # error may already have exited after serving).
        for prog in ("master", "smtpd", "cleanup", "qmgr", "pickup", "local", "bounce", "smtp",
                     "authd"):
            self.assertIn(prog, seen)


if __name__ == "__main__":
    h.main()
