"""surel sandbox: the layout, owners and contents of a fresh instance,
refusing an existing one, --smtp-port, and the instance starting."""
import grp
import os
import pwd
import re
import shutil
import socket
import stat
import tempfile
import unittest

from harness import core as h

ROOT = os.geteuid() == 0


def read_main_cf(path):
    """{name: value} of a main.cf without continuation lines."""
    values = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def active_lines(path):
    """The lines of a file that are neither comments nor blank."""
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]


def service_names(path):
    """First field of every master.cf line, commented out or not."""
    with open(path) as f:
        return [l.lstrip("#").split()[0] for l in f if l.lstrip("#").split()]


def owner(path):
    st = os.lstat(path)
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


class SandboxLayout(h.InstanceTest):

    def test_layout_modes_and_owners(self):
        inst = self.instance()
        r = inst.root
        if ROOT:
            mail_owner, mail_group, setgid_group = "surel", "surel", "sureldrop"
            top = ("root", "root")
        else:
            mail_owner = pwd.getpwuid(os.geteuid()).pw_name
            mail_group = setgid_group = grp.getgrgid(os.getegid()).gr_name
            top = (mail_owner, mail_group)
        expect = {
            "": (top, 0o755),
            "etc": (top, 0o755),
            "etc/main.cf": (top, 0o644),
            "etc/master.cf": (top, 0o644),
            "etc/users": (top, 0o644),
            "etc/aliases": (top, 0o644),
            "spool": (top, 0o755),
            "spool/pid": (top, 0o755),
            "spool/maildrop": ((mail_owner, setgid_group), 0o1730),
            "spool/public": ((mail_owner, setgid_group), 0o2710),
            "log": ((mail_owner, mail_group), 0o755),
            "log/maillog": ((mail_owner, mail_group), 0o644),
            "data": ((mail_owner, mail_group), 0o700),
            "mail": ((mail_owner, mail_group), 0o755),
        }
        for name in ("temp", "incoming", "active", "deferred", "hold", "corrupt",
                     "bounce", "defer", "private"):
            expect["spool/" + name] = ((mail_owner, mail_group), 0o700)
        for user in ("alice", "bob"):
            for sub in ("", "/Maildir", "/Maildir/new", "/Maildir/cur", "/Maildir/tmp"):
                expect["mail/" + user + sub] = ((mail_owner, mail_group), 0o700)
        for rel, (who, bits) in sorted(expect.items()):
            path = os.path.join(r, rel)
            self.assertTrue(os.path.lexists(path), "missing: " + path)
            self.assertEqual(owner(path), who, path)
            self.assertEqual(oct(mode(path)), oct(bits), path)
        for rel in ("etc/main.cf", "etc/master.cf", "etc/users", "etc/aliases", "log/maillog"):
            self.assertTrue(stat.S_ISREG(os.lstat(os.path.join(r, rel)).st_mode), rel)

    def test_main_cf_values(self):
        inst = self.instance()
        r = inst.root
        cf = read_main_cf(os.path.join(inst.etc, "main.cf"))
        want = {
            "queue_directory": r + "/spool",
            "data_directory": r + "/data",
            "maillog_file": r + "/log/maillog",
            "myhostname": "sandbox.test",
            "mydestination": "sandbox.test, localhost",
            "inet_interfaces": "127.0.0.1",
            "mynetworks": "127.0.0.0/8 [::1]/128",
            "home_mailbox": "Maildir/",
            "alias_maps": "lmdb:%s/etc/aliases" % r,
            "alias_database": "lmdb:%s/etc/aliases" % r,
            "sandbox_users": r + "/etc/users",
            "sandbox_mail_directory": r + "/mail",
            "mail_owner": "surel" if ROOT else pwd.getpwuid(os.geteuid()).pw_name,
            "setgid_group": "sureldrop" if ROOT else grp.getgrgid(os.getegid()).gr_name,
        }
        for name, value in want.items():
            self.assertEqual(cf.get(name), value, name)
        # Mail never leaves the machine.
        self.assertTrue(cf["default_transport"].startswith("error:"), cf["default_transport"])
        self.assertTrue(cf["relay_transport"].startswith("error:"), cf["relay_transport"])
        # A sandbox made by the build's surel runs the build's daemons.
        bin_dir = os.path.realpath(h.BIN_DIR)
        if os.access(os.path.join(bin_dir, "master"), os.X_OK):
            self.assertEqual(cf.get("daemon_directory"), bin_dir)
            self.assertEqual(cf.get("command_directory"), bin_dir)
        else:
            self.assertNotIn("daemon_directory", cf)

    def test_users_aliases_and_maildirs(self):
        inst = self.instance()
        users = active_lines(os.path.join(inst.etc, "users"))
        self.assertEqual(users, ["alice", "bob"])
        aliases = dict(l.split(":", 1) for l in active_lines(os.path.join(inst.etc, "aliases")))
        self.assertEqual(aliases["postmaster"].strip(), "alice")
        self.assertEqual(aliases["MAILER-DAEMON"].strip(), "postmaster")
        # The alias database is built, as newaliases would (a real LMDB file).
        table = "lmdb:%s" % os.path.join(inst.etc, "aliases")
        self.assertEqual(h.surel("map", "query", table, "postmaster").stdout.strip(), "alice")
        self.assertEqual(h.surel("map", "query", table, "mailer-daemon").stdout.strip(), "postmaster")
        for user in users:
            for sub in ("new", "cur", "tmp"):
                self.assertTrue(os.path.isdir(os.path.join(inst.root, "mail", user, "Maildir", sub)))

    def test_master_cf_smtp_port_and_services(self):
        port = h.free_port()
        inst = self.instance(smtp_port=port)
        master_cf = os.path.join(inst.etc, "master.cf")
        with open(master_cf) as f:
            # Every service line, active or commented out.
            entries = [(l.startswith("#"), l.lstrip("#").split()) for l in f
                       if len(l.lstrip("#").split()) >= 8 and l.lstrip("#").split()[1] in
                       ("inet", "unix", "fifo", "unix-dgram", "pass")]
        smtp = [fields for _, fields in entries if fields[0] == "127.0.0.1:%d" % port]
        self.assertEqual(len(smtp), 1, entries)
        self.assertEqual(smtp[0][1], "inet")
        self.assertEqual(smtp[0][7], "smtpd")
        services = set(fields[0] for commented, fields in entries if not commented)
        for name in ("pickup", "cleanup", "qmgr", "bounce", "error", "retry", "local",
                     "showq"):
            self.assertIn(name, services)
        # Only daemons may submit: cleanup's socket is under private/.
        cleanup = [f for _, f in entries if f[0] == "cleanup"][0]
        self.assertEqual(cleanup[2], "-")
        # The services are conf/master.cf's, as written there (active or
        # commented out), whatever is built: only the SMTP name differs.
        conf = os.path.join(h.SOURCE_DIR, "conf", "master.cf")
        with open(conf) as f:
            template = [(l.startswith("#"), l.lstrip("#").split()) for l in f
                        if len(l.lstrip("#").split()) >= 8 and l.lstrip("#").split()[1] in
                        ("inet", "unix", "fifo", "unix-dgram", "pass")]
        renamed = [(c, ["127.0.0.1:%d" % port] + f[1:] if f[:2] == ["smtp", "inet"] and not c
                    else f) for c, f in template]
        self.assertEqual(entries, renamed)
        # Every active service's program exists in a build tree: a fresh
        # sandbox has no configuration error to report.
        if os.access(h.binary("master"), os.X_OK):
            daemon_dir = inst.surel("conf", "-h", "daemon_directory").stdout.strip()
            for commented, fields in entries:
                if not commented:
                    self.assertTrue(os.access(os.path.join(daemon_dir, fields[7]), os.X_OK),
                                    fields)

    def test_outside_the_build_the_installed_template_is_read(self):
        # A surel that is not in the build's bin/ reads the master.cf the
        # install lays down in SUREL_TEMPLATE_DIR, never a copy of its own.
        bindir = tempfile.mkdtemp(prefix="surel-bin-")
        self.addCleanup(shutil.rmtree, bindir, True)
        surel = os.path.join(bindir, "surel")
        shutil.copy2(h.binary("surel"), surel)
        root = tempfile.mkdtemp(prefix="surel-it-")
        self.addCleanup(shutil.rmtree, root, True)
        r = h.run([surel, "sandbox", root, "--smtp-port", str(h.free_port())], check=False)
        m = re.search(r"master\.cf template (\S+): ", r.stderr)
        if r.returncode == 0:
            with open(os.path.join(root, "etc", "master.cf")) as f:
                template = re.search(r"^# from (\S+);", f.read(), re.M).group(1)
            self.assertFalse(template.startswith(h.SOURCE_DIR), template)
        else:
            self.assertIsNotNone(m, r.stderr)
            self.assertTrue(m.group(1).endswith("/share/surel/master.cf"), m.group(1))
            self.assertFalse(os.path.exists(m.group(1)))
            self.assertEqual(os.listdir(root), [])      # nothing was made

    def test_default_port_is_2525(self):
        root = tempfile.mkdtemp(prefix="surel-it-")
        self.addCleanup(shutil.rmtree, root, True)
        h.surel("sandbox", root)
        self.assertIn("127.0.0.1:2525", service_names(os.path.join(root, "etc", "master.cf")))

    def test_bad_port_and_bad_dir_are_refused(self):
        root = tempfile.mkdtemp(prefix="surel-it-")
        self.addCleanup(shutil.rmtree, root, True)
        for port in ("0", "65536", "25x", ""):
            r = h.surel("sandbox", root, "--smtp-port", port, check=False)
            self.assertNotEqual(r.returncode, 0, port)
            self.assertFalse(os.path.exists(os.path.join(root, "etc", "main.cf")), port)
        for bad in ("with space", "dollar$x", "com,ma"):
            path = os.path.join(root, bad)
            r = h.surel("sandbox", path, check=False)
            self.assertEqual(r.returncode, 1, bad)
            self.assertIn("letters, digits", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(path, "etc")), bad)

    def test_existing_instance_is_refused_unless_forced(self):
        inst = self.instance()
        main_cf = os.path.join(inst.etc, "main.cf")
        users = os.path.join(inst.etc, "users")
        with open(main_cf, "a") as f:
            f.write("# site change\n")
        r = h.surel("sandbox", inst.root, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already holds a surel instance", r.stderr)
        with open(main_cf) as f:
            self.assertIn("# site change", f.read())
        # --force rewrites main.cf and master.cf, keeps users and the mail.
        with open(users, "a") as f:
            f.write("carol\n")
        port = h.free_port()
        h.surel("sandbox", inst.root, "--smtp-port", str(port), "--force")
        with open(main_cf) as f:
            self.assertNotIn("# site change", f.read())
        self.assertIn("carol", active_lines(users))
        self.assertIn("127.0.0.1:%d" % port, service_names(os.path.join(inst.etc, "master.cf")))

    @unittest.skipUnless(ROOT, "needs root to act as another user")
    def test_non_root_sandbox_belongs_to_its_user(self):
        parent = tempfile.mkdtemp(prefix="surel-it-")
        self.addCleanup(shutil.rmtree, parent, True)
        os.chmod(parent, 0o755)
        os.chown(parent, pwd.getpwnam("surel").pw_uid, -1)
        root = os.path.join(parent, "inst")
        h.run(["setpriv", "--reuid=surel", "--regid=surel", "--clear-groups",
               h.binary("surel"), "sandbox", root])
        cf = read_main_cf(os.path.join(root, "etc", "main.cf"))
        self.assertEqual(cf["mail_owner"], "surel")
        self.assertEqual(cf["setgid_group"], grp.getgrgid(pwd.getpwnam("surel").pw_gid).gr_name)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in [""] + dirnames + filenames:
                path = os.path.join(dirpath, name)
                self.assertEqual(owner(path)[0], "surel", path)
        self.assertEqual(mode(os.path.join(root, "spool", "maildrop")), 0o1730)


class SandboxRuns(h.InstanceTest):

    @unittest.skipUnless(os.access(h.binary("master"), os.X_OK), "master not built yet")
    def test_instance_starts_and_stops(self):
        inst = self.instance()
        inst.start()
        self.assertTrue(inst.master_pid())
        inst.wait_log("daemon started")
        inst.stop()
        h.wait_for(lambda: not inst.running(), 10, "instance to stop")

    @unittest.skipUnless(os.access(h.binary("master"), os.X_OK)
                         and os.access(h.binary("smtpd"), os.X_OK), "smtpd not built yet")
    def test_instance_listens_on_its_smtp_port(self):
        inst = self.instance()
        inst.start()

        def greeting():
            try:
                with socket.create_connection(("127.0.0.1", inst.smtp_port), timeout=5) as s:
                    return s.recv(512)
            except OSError:
                return b""
        self.assertTrue(h.wait_for(greeting, 10, "SMTP greeting on port %d"
                                   % inst.smtp_port).startswith(b"220 "))
        inst.stop()


if __name__ == "__main__":
    h.main()
