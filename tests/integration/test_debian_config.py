"""test_debian_config - Debian's stock Postfix main.cf and master.cf run surel (issue 13).

The files come from Debian's postfix package, unpacked (never installed)
by tools/install-deps into /opt/surel-postfix: main.cf as Debian's
postinst writes it for an "Internet Site" (main.cf.debian, then
main.cf.tls, then the postinst's settings: myhostname, alias_maps,
myorigin = /etc/mailname, mydestination, mynetworks, recipient_delimiter
...) and master.cf.dist byte for byte. The test changes only what must
differ on a test machine, in a block appended to main.cf: paths (queue,
data, programs, the log, the alias file, /etc/mailname, the certificate),
the accounts, the listen address (loopback) and the sandbox's delivery
folder; in master.cf only the smtp service's listen address. With these,
as root with Debian's chroot = y:

- the instance starts; `surel check` is silent on it;
- mail is received, aliased through a hash: table built by newaliases
  (Debian's `alias_maps = hash:/etc/aliases`) and delivered, also with a
  recipient_delimiter extension;
- each deliberately broken variant makes `surel check` fail and name the
  problem: an unknown table type, a chrooted master.cf without proxymap,
  an unknown service type.
"""
import os
import re
import shutil
import subprocess
import unittest

from harness import core as h
from harness import e2e as e

DEBIAN = "/opt/surel-postfix/usr/share/postfix"

# What Debian's postinst sets for "Internet Site" (postconf -e in
# postfix.postinst), with the host name of this test.
POSTINST_SETTINGS = """\
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = sandbox.test
alias_maps = hash:/etc/aliases
alias_database = hash:/etc/aliases
myorigin = /etc/mailname
mydestination = $myhostname, sandbox.test, localhost.localdomain, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +
inet_interfaces = all
inet_protocols = all
"""


def debian_main_cf():
    with open(os.path.join(DEBIAN, "main.cf.debian")) as f:
        text = f.read()
    with open(os.path.join(DEBIAN, "main.cf.tls")) as f:
        text += f.read()
    return text + POSTINST_SETTINGS


def make_cert(folder):
    """A self-signed certificate standing in for Debian's ssl-cert snakeoil one."""
    cert, key = os.path.join(folder, "snakeoil.pem"), os.path.join(folder, "snakeoil.key")
    h.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=sandbox.test", "-keyout", key, "-out", cert])
    os.chmod(key, 0o600)
    return cert, key


@unittest.skipUnless(os.geteuid() == 0, "Debian's chroot = y needs a root instance")
@unittest.skipUnless(os.path.exists(os.path.join(DEBIAN, "master.cf.dist")),
                     "tools/install-deps unpacks Debian's postfix package into /opt/surel-postfix")
class DebianConfigTest(h.InstanceTest):

    def debian_instance(self):
        inst = self.instance()
        with open(inst.path("etc", "main.cf")) as f:
            sandbox = dict(re.findall(r"(?m)^(\w+) = (.*)$", f.read()))
        etc = inst.etc
        with open(os.path.join(etc, "mailname"), "w") as f:
            f.write("sandbox.test\n")
        with open(os.path.join(etc, "aliases"), "w") as f:
            f.write("postmaster: root\nroot: alice\n")
        cert, key = make_cert(etc)
        paths = {
            # Where things are, and who runs them, on this test machine.
            "queue_directory": sandbox["queue_directory"],
            "data_directory": sandbox["data_directory"],
            "daemon_directory": sandbox["daemon_directory"],
            "command_directory": sandbox["command_directory"],
            "maillog_file": sandbox["maillog_file"],
            "maillog_file_prefixes": sandbox["maillog_file_prefixes"],
            "mail_owner": sandbox["mail_owner"],
            "setgid_group": sandbox["setgid_group"],
            "alias_maps": "hash:%s/aliases" % etc,
            "alias_database": "hash:%s/aliases" % etc,
            "myorigin": "%s/mailname" % etc,
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "smtp_tls_CApath": etc,
            # Loopback only, no DNS, and the sandbox's Maildirs instead of
            # the machine's real users.
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "dns_servers": sandbox["dns_servers"],
            "home_mailbox": sandbox["home_mailbox"],
            "sandbox_users": sandbox["sandbox_users"],
            "sandbox_mail_directory": sandbox["sandbox_mail_directory"],
            "default_transport": sandbox["default_transport"],
            "relay_transport": sandbox["relay_transport"],
        }
        with open(os.path.join(etc, "main.cf"), "w") as f:
            f.write(debian_main_cf())
            f.write("\n# surel test: paths, accounts, loopback, sandbox delivery\n")
            for name, value in paths.items():
                f.write("%s = %s\n" % (name, value))
        with open(os.path.join(DEBIAN, "master.cf.dist")) as f:
            master = f.read()
        master, n = re.subn(r"(?m)^smtp(\s+inet\s)", r"127.0.0.1:%d\1" % inst.smtp_port, master)
        self.assertEqual(n, 1)
        inst.write_master_cf(master)
        h.run([h.binary("newaliases"), "-C", etc])
        self.assertTrue(os.path.exists(os.path.join(etc, "aliases.db")))
        return inst

    def check(self, inst):
        return inst.surel("check", check=False)

    def test_debian_files_carry_mail(self):
        inst = self.debian_instance()
        r = self.check(inst)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        inst.start()
        qid = e.send(inst, "someone@client.test", ["postmaster@sandbox.test"],
                     e.crlf("Subject: to postmaster\n\nbody\n"))
        e.wait_delivered(inst, "alice")
        inst.wait_log("%s: removed" % qid)
        self.assertRegex(inst.log(), r"%s: to=<alice@sandbox\.test>, orig_to=<postmaster@"
                         r"sandbox\.test>, relay=local, .*status=sent" % qid)
        e.send(inst, "someone@client.test", ["bob+lists@sandbox.test"],
               e.crlf("Subject: extension\n\nbody\n"))
        e.wait_delivered(inst, "bob")
        # Debian's chroot = y: smtpd ran in the queue folder.
        smtpd = [pid for pid, argv in inst.processes() if os.path.basename(argv[0]) == "smtpd"]
        self.assertTrue(smtpd)
        self.assertEqual(os.readlink("/proc/%d/root" % smtpd[0]), os.path.realpath(inst.spool))

    def test_check_names_each_broken_variant(self):
        inst = self.debian_instance()
        with open(inst.path("etc", "master.cf")) as f:
            master = f.read()
        variants = [
            ("main.cf", "check_client_access cdb:/etc/postfix/access",
             'unknown table type "cdb"'),
            ("master.cf", re.sub(r"(?m)^proxymap\s.*$", "", master),
             "is chrooted and main.cf uses unix: tables"),
            ("master.cf", master + "weird     udp   -       -       n       -       -       smtpd\n",
             "bad service type"),
            ("master.cf", re.sub(r"(?m)^(postlog\s+unix-dgram\s+n\s+-\s+)n", r"\1y", master),
             "postlogd cannot reach"),
        ]
        with open(inst.path("etc", "main.cf")) as f:
            main = f.read()
        for where, change, problem in variants:
            with self.subTest(problem=problem):
                if where == "main.cf":
                    with open(inst.path("etc", "main.cf"), "w") as f:
                        f.write(main + "smtpd_client_restrictions = %s\n" % change)
                else:
                    inst.write_master_cf(change)
                r = self.check(inst)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(problem, r.stderr)
                with open(inst.path("etc", "main.cf"), "w") as f:
                    f.write(main)
                inst.write_master_cf(master)
        self.assertEqual(self.check(inst).returncode, 0)


if __name__ == "__main__":
    h.main()
