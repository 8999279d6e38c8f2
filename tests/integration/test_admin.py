"""surel start, stop, reload, status and check on sandbox instances, and
the install rules.

The control verbs are tested twice: against a stand-in master (a small
Python process that holds the pid lock exactly as lib/util/pidlock.h says the
master does), so that their logic is covered whatever the state of the
real master; and against the real master once bin/master is built.
"""
import grp
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import unittest

import surel_harness as h

ROOT = os.geteuid() == 0
HAVE_MASTER = os.access(h.binary("master"), os.X_OK)
BUILD_DIR = os.path.dirname(os.path.realpath(h.BIN_DIR))

# A stand-in master: holds the pid lock, writes its pid, appends each
# SIGHUP to a file, and exits on SIGTERM unless told to ignore it.
FAKE_MASTER = r"""
import fcntl, os, signal, sys
pidfile, hupfile, mode = sys.argv[1:4]
fd = os.open(pidfile, os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.ftruncate(fd, 0)
os.write(fd, b"%10d\n" % os.getpid())
def hup(signum, frame):
    with open(hupfile, "a") as f:
        f.write("hup\n")
signal.signal(signal.SIGHUP, hup)
signal.signal(signal.SIGTERM, signal.SIG_IGN if mode == "stubborn" else lambda s, f: sys.exit(0))
print("ready", flush=True)
while True:
    signal.pause()
"""


class FakeMaster:
    def __init__(self, inst, mode="normal"):
        self.hupfile = os.path.join(inst.root, "hups")
        pidfile = os.path.join(inst.spool, "pid", "master.pid")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FAKE_MASTER, pidfile, self.hupfile, mode],
            stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def hups(self):
        try:
            with open(self.hupfile) as f:
                return f.read().count("hup")
        except OSError:
            return 0

    def gone(self):
        return self.proc.poll() is not None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def check_lines(result):
    """The warning lines of `surel check`."""
    return [l for l in result.stderr.splitlines() if "warning:" in l]


class ControlVerbs(h.InstanceTest):
    """start/stop/reload/status against the stand-in master."""

    def fake(self, inst, mode="normal"):
        fake = FakeMaster(inst, mode)
        self.addCleanup(fake.kill)
        return fake

    def test_status_tells_running_from_stopped(self):
        inst = self.instance()
        r = inst.surel("status", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("the surel mail system is not running", r.stderr)
        fake = self.fake(inst)
        r = inst.surel("status", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("the surel mail system is running: PID: %d" % fake.proc.pid, r.stderr)
        # A stale pid in an unlocked file means nothing.
        fake.kill()
        r = inst.surel("status", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not running", r.stderr)

    def test_stop_and_reload_when_not_running(self):
        inst = self.instance()
        for verb in ("stop", "reload"):
            r = inst.surel(verb, check=False)
            self.assertEqual(r.returncode, 1, verb)
            self.assertIn("fatal: the surel mail system is not running", r.stderr, verb)

    def test_start_refuses_when_running(self):
        inst = self.instance()
        fake = self.fake(inst)
        r = inst.surel("start", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already running: PID: %d" % fake.proc.pid, r.stderr)

    def test_reload_sends_sighup(self):
        inst = self.instance()
        fake = self.fake(inst)
        inst.surel("reload")
        h.wait_for(lambda: fake.hups() == 1, 10, "SIGHUP to reach the master")
        self.assertIn("refreshing the surel mail system", inst.log())

    def test_stop_waits_for_the_lock_to_go(self):
        inst = self.instance()
        fake = self.fake(inst)
        r = inst.surel("stop")
        # stop returns only once the master is gone and the lock free (the
        # lock goes as the process exits, a moment before it can be reaped).
        h.wait_for(fake.gone, 2, "the fake master to be reaped")
        self.assertIn("stopping the surel mail system", r.stderr)
        self.assertFalse(inst.running())

    def test_stop_forces_a_master_that_ignores_sigterm(self):
        inst = self.instance()
        fake = self.fake(inst, "stubborn")
        r = inst.surel("stop", timeout=60)
        self.assertIn("stopping the surel mail system with force", r.stderr)
        h.wait_for(lambda: fake.proc.poll() is not None, 10, "stand-in master to die")
        self.assertEqual(fake.proc.returncode, -signal.SIGKILL)

    def test_start_without_master_program_fails_clearly(self):
        inst = self.instance()
        with open(os.path.join(inst.etc, "main.cf"), "a") as f:
            f.write("daemon_directory = %s/nowhere\n" % inst.root)
        r = inst.surel("start", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no surel master program %s/nowhere/master" % inst.root, r.stderr)

    def test_start_creates_missing_queue_folders(self):
        inst = self.instance()
        shutil.rmtree(os.path.join(inst.spool, "hold"))
        with open(os.path.join(inst.etc, "main.cf"), "a") as f:
            f.write("daemon_directory = %s/nowhere\n" % inst.root)
        inst.surel("start", check=False)   # fails later: no master here
        st = os.lstat(os.path.join(inst.spool, "hold"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700)
        if ROOT:
            self.assertEqual(st.st_uid, pwd.getpwnam("surel").pw_uid)


class Check(h.InstanceTest):

    def queue_warnings(self, inst, result):
        return [l for l in check_lines(result) if inst.spool in l or inst.root + "/data" in l]

    def test_fresh_sandbox_has_clean_folders(self):
        inst = self.instance()
        r = inst.surel("check", check=False)
        self.assertEqual(self.queue_warnings(inst, r), [])
        if HAVE_MASTER:
            # Every program the sandbox's master.cf names exists: all clean.
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(check_lines(r), [])

    def test_wrong_mode_is_reported_not_fixed(self):
        inst = self.instance()
        incoming = os.path.join(inst.spool, "incoming")
        os.chmod(incoming, 0o755)
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("warning: %s: mode 0755, expected 0700" % incoming, r.stderr)
        self.assertIn("nothing was changed", r.stderr)
        self.assertEqual(stat.S_IMODE(os.lstat(incoming).st_mode), 0o755)
        # -f repairs it; the next check has nothing to say about it.
        inst.surel("check", "-f", check=False)
        self.assertEqual(stat.S_IMODE(os.lstat(incoming).st_mode), 0o700)
        self.assertEqual(self.queue_warnings(inst, inst.surel("check", check=False)), [])

    def test_missing_folder(self):
        inst = self.instance()
        deferred = os.path.join(inst.spool, "deferred")
        os.rmdir(deferred)
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("warning: %s: missing" % deferred, r.stderr)
        self.assertFalse(os.path.exists(deferred))
        inst.surel("check", "-f", check=False)
        self.assertTrue(os.path.isdir(deferred))

    @unittest.skipUnless(ROOT, "only root can give a folder away")
    def test_wrong_owner(self):
        inst = self.instance()
        active = os.path.join(inst.spool, "active")
        maildrop = os.path.join(inst.spool, "maildrop")
        os.chown(active, 0, 0)
        os.chown(maildrop, pwd.getpwnam("surel").pw_uid, 0)
        os.chmod(maildrop, 0o1730)
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("warning: %s: owner root, expected surel" % active, r.stderr)
        self.assertIn("warning: %s: group root, expected sureldrop" % maildrop, r.stderr)
        inst.surel("check", "-f", check=False)
        self.assertEqual(os.lstat(active).st_uid, pwd.getpwnam("surel").pw_uid)
        self.assertEqual(self.queue_warnings(inst, inst.surel("check", check=False)), [])

    def test_symlink_is_never_followed(self):
        inst = self.instance()
        hold = os.path.join(inst.spool, "hold")
        target = os.path.join(inst.root, "elsewhere")
        os.mkdir(target, 0o777)
        os.chmod(target, 0o777)
        os.rmdir(hold)
        os.symlink(target, hold)
        r = inst.surel("check", "-f", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("%s: is a symbolic link" % hold, r.stderr)
        self.assertEqual(stat.S_IMODE(os.lstat(target).st_mode), 0o777)

    def test_bad_config_and_missing_program(self):
        inst = self.instance()
        with open(os.path.join(inst.etc, "main.cf"), "a") as f:
            f.write("message_size_limit = lots\nmail_owner = no-such-user-surel\n")
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("extra unix - - n - - no-such-program\n")
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("message_size_limit", r.stderr)
        self.assertIn("unknown user name 'no-such-user-surel'", r.stderr)
        self.assertRegex(r.stderr, r"service extra: no program \S*/no-such-program")

    def test_postfix_services_built_into_surel(self):
        # Debian's master.cf names Postfix daemons whose work every surel
        # program does itself: the master leaves them out with one info
        # line each and `surel check` is silent; a daemon surel lacks
        # (verify, flush) is one warning at start and no problem for `surel
        # check` (Debian's master.cf checks clean); a program that is
        # simply missing is a warning and a failed check.
        inst = self.instance()
        builtin = {"tlsmgr": "tlsmgr", "rewrite": "trivial-rewrite"}
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n"
                    "rewrite   unix  -       -       n       -       -       trivial-rewrite\n")
        r = inst.surel("check", check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        for name in list(builtin) + list(builtin.values()):
            self.assertNotIn(name, r.stderr)
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("verify    unix  -       -       n       -       1       verify\n"
                    "flush     unix  n       -       n       1000?   0       flush\n")
        self.assertEqual(inst.surel("check", check=False).returncode, 0)
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("typo      unix  -       -       n       -       -       smptd\n")
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stderr, r"service typo: no program \S*/smptd")
        self.assertNotIn("verify", r.stderr)
        inst.start()
        inst.wait_log("service typo/unix: no program")
        inst.wait_log("service verify/unix: not started: surel has no address verification")
        inst.wait_log("service flush/unix: not started: surel has no per-site fast flush")
        log = inst.log()
        for service, program in builtin.items():
            lines = [l for l in log.splitlines() if "service %s/unix:" % service in l]
            self.assertEqual(len(lines), 1, lines)
            self.assertNotIn("warning", lines[0])
            self.assertRegex(lines[0], r"master\[\d+\]: \S+ line \d+: service %s/unix: "
                                       r"not started: %s (built in|not needed): "
                                       % (service, program))
        self.assertTrue(inst.running())

    def test_restrictions_surel_does_not_have(self):
        inst = self.instance()
        inst.conf(smtpd_restriction_classes="myclass",
                  myclass="reject_rbl_client zen.example, permit",
                  smtpd_client_restrictions="permit_mynetworks, reject_unknown_helo_hostname",
                  smtpd_sender_restrictions="myclass, check_sender_access",
                  smtpd_recipient_restrictions="check_policy_service inet:127.0.0.1:9998, "
                  "reject_rhsbl_sender dbl.example=127.0.1.[2..99], "
                  "reject_rbl_client bad.example=127.0.0.[2.., "
                  "check_policy_service private/policy, reject_unauth_destination")
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("submission inet n - n - - smtpd\n"
                    "  -o smtpd_client_restrictions=$myclass,no_such_check\n")
        r = inst.surel("check", check=False)
        warnings = "\n".join(check_lines(r))
        self.assertIn('main.cf: smtpd_client_restrictions: unknown restriction '
                      '"reject_unknown_helo_hostname" (smtpd answers it with 451 4.3.5 '
                      'Server configuration error)', warnings)
        self.assertIn("main.cf: smtpd_sender_restrictions: check_sender_access needs a "
                      "TYPE:TABLE argument", warnings)
        self.assertRegex(warnings, r"master.cf line \d+: service submission: "
                         r"-o smtpd_client_restrictions: unknown restriction \"no_such_check\"")
        self.assertIn("reject_rbl_client bad.example=127.0.0.[2..: bad reply pattern", warnings)
        self.assertIn("check_policy_service private/policy: not inet:host:port, unix:path "
                      "or /path", warnings)
        self.assertNotIn("dbl.example=127.0.1.[2..99]: bad", warnings)
        self.assertNotEqual(r.returncode, 0)
        # The sandbox's dns_servers is set, so the DNS lists are fine; with
        # DNS off each one is a problem, wherever it is named.
        self.assertNotIn("DNS lookups are off", warnings)
        inst.conf(dns_servers="")
        warnings = "\n".join(check_lines(inst.surel("check", check=False)))
        self.assertIn("main.cf: restriction class myclass: reject_rbl_client zen.example: "
                      "DNS lookups are off (dns_servers is empty): nothing is ever listed",
                      warnings)
        self.assertIn("main.cf: smtpd_recipient_restrictions: reject_rhsbl_sender "
                      "dbl.example=127.0.1.[2..99]: DNS lookups are off", warnings)
        self.assertIn("service submission: -o smtpd_client_restrictions: reject_rbl_client "
                      "zen.example: DNS lookups are off", warnings)
        self.assertNotIn("check_policy_service inet", warnings)

    def test_broken_master_cf(self):
        inst = self.instance()
        with open(os.path.join(inst.etc, "master.cf"), "a") as f:
            f.write("broken inet\n")
        r = inst.surel("check", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("master.cf", r.stderr)


@unittest.skipUnless(HAVE_MASTER, "master not built yet")
class RealMaster(h.InstanceTest):

    def test_start_status_start_again_stop(self):
        inst = self.instance()
        self.assertFalse(inst.running())
        inst.start()
        r = inst.surel("status")
        pid = inst.master_pid()
        self.assertIn("is running: PID: %d" % pid, r.stderr)
        r = inst.surel("start", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("already running", r.stderr)
        inst.stop()
        self.assertFalse(inst.running())
        h.wait_for(lambda: inst.processes() == [], 10, "no process of the instance left")

    def test_reload_reaches_the_master(self):
        inst = self.instance()
        inst.start()
        before = inst.log().count("reload")
        inst.surel("reload")
        h.wait_for(lambda: re.search(r"surel/master\[\d+\]: .*reload", inst.log())
                   and inst.log().count("reload") > before, 10, "master's reload log line")
        inst.stop()

    def test_start_foreground(self):
        inst = self.instance()
        proc = subprocess.Popen([h.binary("surel"), "-c", inst.etc, "start", "-f"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            h.wait_for(inst.running, 10, "foreground master to run")
            # -f execs the master: the command's own pid holds the lock.
            self.assertEqual(inst.master_pid(), proc.pid)
            inst.stop()
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class HelpAndVersion(unittest.TestCase):
    """surel --help, help VERB and --version (admin/surel_verbs.c)."""

    VERBS = ("start", "stop", "reload", "status", "logrotate", "log", "check", "conf", "map", "passwd", "sandbox",
             "queue", "help")

    def test_help_lists_every_verb_on_stdout(self):
        for argv in (["--help"], ["-h"], ["help"]):
            r = h.surel(*argv)
            self.assertIn("usage: surel", r.stdout, argv)
            listed = re.findall(r"^  surel (\w+)", r.stdout, re.M)
            self.assertEqual(tuple(listed), self.VERBS, argv)
            self.assertEqual(r.stderr, "", argv)

    def test_help_verb(self):
        r = h.surel("help", "sandbox")
        self.assertIn("usage: surel sandbox DIR [--smtp-port N] [--force]", r.stdout)
        self.assertIn("without root", r.stdout)
        r = h.surel("help", "queue")
        for sub in ("list", "flush", "show", "delete", "hold", "release", "requeue"):
            self.assertRegex(r.stdout, r"(?m)^  surel queue %s\b" % sub)

    def test_unknown_verb_and_no_verb_exit_2(self):
        for argv in (["help", "nosuchverb"], ["nosuchverb"], [], ["--bogus"]):
            r = h.surel(*argv, check=False)
            self.assertEqual(r.returncode, 2, argv)
            self.assertIn("usage: surel", r.stderr, argv)
            self.assertEqual(r.stdout, "", argv)

    def test_version_is_the_project_version(self):
        with open(os.path.join(h.SOURCE_DIR, "CMakeLists.txt")) as f:
            version = re.search(r"project\(surel VERSION ([0-9.]+)", f.read()).group(1)
        self.assertEqual(h.surel("--version").stdout, "surel %s\n" % version)
        # The same value is the parameter mail_version, without a main.cf.
        r = h.surel("conf", "-d", "-h", "mail_version", config="/nonexistent-surel")
        self.assertEqual(r.stdout.strip(), version)


@unittest.skipUnless(os.path.exists(os.path.join(BUILD_DIR, "CMakeCache.txt")),
                     "SUREL_BIN_DIR is not the bin/ of a CMake build tree")
class Install(unittest.TestCase):
    """cmake --install: programs, config files kept, queue folders."""

    def cache(self, build):
        values = {}
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                m = re.match(r"(\w+):\w+=(.*)", line)
                if m:
                    values[m.group(1)] = m.group(2)
        return values

    def test_destdir_install_lays_down_everything(self):
        dest = tempfile.mkdtemp(prefix="surel-install-")
        self.addCleanup(shutil.rmtree, dest, True)
        env = dict(os.environ, DESTDIR=dest)
        h.run(["cmake", "--install", BUILD_DIR], env=env, timeout=300)
        c = self.cache(BUILD_DIR)
        prefix = c["CMAKE_INSTALL_PREFIX"]
        self.assertTrue(os.access(dest + prefix + "/sbin/surel", os.X_OK))
        if HAVE_MASTER:
            self.assertTrue(os.access(dest + c["SUREL_DAEMON_DIR"] + "/master", os.X_OK))
        config = dest + c["SUREL_CONFIG_DIR"]
        for name in ("main.cf", "master.cf"):
            with open(os.path.join(config, name)) as f, \
                    open(os.path.join(h.SOURCE_DIR, "conf", name)) as g:
                self.assertEqual(f.read(), g.read(), name)
        # The master.cf template `surel sandbox` reads once installed, and
        # the parameter reference made from params.def.
        with open(dest + c["SUREL_TEMPLATE_DIR"] + "/master.cf") as f, \
                open(os.path.join(h.SOURCE_DIR, "conf", "master.cf")) as g:
            self.assertEqual(f.read(), g.read())
        # (GNUInstallDirs leaves an empty cache entry for the default share/man.)
        mandir = dest + prefix + "/" + (c.get("CMAKE_INSTALL_MANDIR") or "share/man")
        self.assertTrue(os.path.exists(mandir + "/man5/surel.conf.5"), mandir)
        queue = dest + c["SUREL_QUEUE_DIR"]
        modes = {"": 0o755, "maildrop": 0o1730, "public": 0o2710, "pid": 0o755}
        for name in ("temp", "incoming", "active", "deferred", "hold", "corrupt", "bounce",
                     "defer", "private"):
            modes[name] = 0o700
        for name, bits in modes.items():
            path = os.path.join(queue, name) if name else queue
            self.assertEqual(oct(stat.S_IMODE(os.lstat(path).st_mode)), oct(bits), path)
            # DESTDIR is a package build: owners are left alone.
            self.assertEqual(os.lstat(path).st_uid, os.geteuid(), path)
        # mailq and newaliases are sendmail by other names; a package build
        # can't chgrp, so the set-gid bits are the postinst's there.
        sbin = dest + prefix + "/sbin"
        for name in ("mailq", "newaliases"):
            self.assertEqual(os.readlink(os.path.join(sbin, name)), "sendmail", name)
        for name in ("postdrop", "surel"):
            self.assertEqual(stat.S_IMODE(os.stat(os.path.join(sbin, name)).st_mode) & 0o7000,
                             0, name)
        # A second install keeps the site's configuration.
        with open(os.path.join(config, "main.cf"), "a") as f:
            f.write("myhostname = site.example\n")
        h.run(["cmake", "--install", BUILD_DIR], env=env, timeout=300)
        with open(os.path.join(config, "main.cf")) as f:
            self.assertIn("myhostname = site.example", f.read())

    @unittest.skipUnless(ROOT, "only root can give programs a group")
    def test_root_install_makes_postdrop_and_surel_set_gid(self):
        # The install rules of sendmail/ and admin/ (the build's own
        # cmake_install.cmake scripts), run by root without DESTDIR into a
        # scratch prefix: the daemons' absolute SUREL_DAEMON_DIR is left out.
        top = tempfile.mkdtemp(prefix="surel-install-")
        self.addCleanup(shutil.rmtree, top, True)
        prefix = os.path.join(top, "prefix")
        env = dict(os.environ)
        env.pop("DESTDIR", None)
        for folder in ("sendmail", "admin"):
            h.run(["cmake", "--install", os.path.join(BUILD_DIR, folder), "--prefix", prefix],
                  env=env, timeout=300)
        sbin = os.path.join(prefix, self.cache(BUILD_DIR).get("CMAKE_INSTALL_SBINDIR", "sbin"))
        group = grp.getgrnam("sureldrop").gr_gid        # setgid_group (SUREL_SETGID_GROUP)
        for name in ("postdrop", "surel"):
            st = os.lstat(os.path.join(sbin, name))
            self.assertTrue(stat.S_ISREG(st.st_mode), name)
            self.assertEqual(oct(stat.S_IMODE(st.st_mode)), oct(0o2755), name)
            self.assertEqual((st.st_uid, st.st_gid), (0, group), name)
        st = os.lstat(os.path.join(sbin, "sendmail"))
        self.assertEqual(oct(stat.S_IMODE(st.st_mode)), oct(0o755))   # no privilege itself
        for name in ("mailq", "newaliases"):
            path = os.path.join(sbin, name)
            self.assertEqual(os.readlink(path), "sendmail", name)
            self.assertTrue(os.path.samefile(path, os.path.join(sbin, "sendmail")), name)
        # Installing again keeps the bits (install(TARGETS) rewrites the file).
        h.run(["cmake", "--install", os.path.join(BUILD_DIR, "sendmail"), "--prefix", prefix],
              env=env, timeout=300)
        self.assertEqual(oct(stat.S_IMODE(os.lstat(os.path.join(sbin, "postdrop")).st_mode)),
                         oct(0o2755))

    @unittest.skipUnless(ROOT, "owners are set by a root install only")
    def test_root_install_sets_owners_that_check_accepts(self):
        top = tempfile.mkdtemp(prefix="surel-install-")
        self.addCleanup(shutil.rmtree, top, True)
        os.chmod(top, 0o755)
        build = os.path.join(top, "build")
        prefix = os.path.join(top, "prefix")
        # A configured (not built) tree whose folders all lie in the prefix;
        # the config component needs nothing built.
        h.run(["cmake", "-S", h.SOURCE_DIR, "-B", build, "-DCMAKE_INSTALL_PREFIX=" + prefix],
              timeout=300)
        h.run(["cmake", "--install", build, "--component", "config"], timeout=300)
        c = self.cache(build)
        queue = c["SUREL_QUEUE_DIR"]
        self.assertTrue(queue.startswith(prefix), queue)
        surel_uid = pwd.getpwnam("surel").pw_uid
        self.assertEqual(os.lstat(os.path.join(queue, "incoming")).st_uid, surel_uid)
        self.assertEqual(os.lstat(os.path.join(queue, "pid")).st_uid, 0)
        self.assertEqual(os.lstat(c["SUREL_DATA_DIR"]).st_uid, surel_uid)
        # The install's folders are what `surel check` expects.
        with open(os.path.join(c["SUREL_CONFIG_DIR"], "main.cf"), "a") as f:
            f.write("queue_directory = %s\ndata_directory = %s\n" % (queue, c["SUREL_DATA_DIR"]))
        r = h.surel("check", config=c["SUREL_CONFIG_DIR"], check=False)
        self.assertEqual([l for l in check_lines(r) if queue in l or c["SUREL_DATA_DIR"] in l],
                         [], r.stderr)


if __name__ == "__main__":
    h.main()
