"""test_local - the local delivery agent under the real master, as root.

Each test writes its own instance (main.cf, master.cf with only the local
service, aliases), queue files in the qfile record format into active/,
and speaks the delivery protocol of lib/global/mail_proto.h over private/local,
as qmgr would. Test users are made with useradd and removed afterwards.
test_local_sandbox.py reuses the helpers here for sandbox instances.
"""
import fcntl
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import attr
from harness import rules
from master_harness import MasterInstance, pid_alive
from qmgr_harness import QmgrInstance
from surel_harness import binary, record, surel, unix_listening, wait_for

QID_DIGITS = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"
_qid_counter = [0]


def queue_id():
    """A valid, unique queue ID (time part base 52, 'z', a counter base 51)."""
    def put(value, base, width):
        out = ""
        while value or len(out) < width:
            out = QID_DIGITS[value % base] + out
            value //= base
        return out or "0"
    _qid_counter[0] += 1
    now = time.time()
    return (put(int(now), 52, 6) + put(int((now % 1) * 1e6), 52, 4) + "z"
            + put(os.getpid() * 1000 + _qid_counter[0], 51, 1))


def content_records(content):
    """N records for each LF-ended line; long lines split into L + N."""
    if isinstance(content, str):
        content = content.encode()
    assert content.endswith(b"\n")
    out = []
    for line in content[:-1].split(b"\n"):
        while len(line) > 1000:
            out.append(("L", line[:1000]))
            line = line[1000:]
        out.append(("N", line))
    return out


def queue_file(sender, rcpts, content):
    """The bytes of a complete queue file; (bytes, data_offset, [R offsets])."""
    now = time.time()
    body = b""
    size_len = len(record("C", "%15d %15d %15d %15d" % (0, 0, 0, 0)))
    body += record("T", "%d %d" % (int(now), int((now % 1) * 1e6)))
    body += record("S", sender)
    offsets = []
    for orig, addr in rcpts:
        body += record("O", orig)
        offsets.append(size_len + len(body))
        body += record("R", addr)
    data_offset = size_len + len(body)
    body += record("M")
    size = 0
    for rtype, data in content_records(content):
        body += record(rtype, data)
        size += len(data) + (1 if rtype == "N" else 0)
    body += record("X") + record("E")
    head = record("C", "%15d %15d %15d %15d" % (size, data_offset, len(rcpts), 0))
    assert len(head) == size_len
    return head + body, data_offset, offsets


def attr_list(pairs):
    return attr.encode(pairs)


class AttrReader(attr.AttrReader):
    """Reads attribute lists (name\\0value\\0...\\0) from a socket."""

    def __init__(self, sock):
        super().__init__(sock, "local")


class LocalInstance(MasterInstance):
    """A master running only the local service, plus queue and mail folders."""

    def __init__(self, main_cf_extra="", owner=None, aliases=""):
        self.tmp_root = None
        super().__init__("local unix - n n - - local\n", main_cf_extra="", owner=None)
        os.chmod(self.root, 0o755)
        for d in ("active", "deferred", "incoming", "hold", "temp", "corrupt"):
            os.makedirs(os.path.join(self.spool, d), exist_ok=True)
        self.spool_mail = os.path.join(self.root, "spool-mail")
        os.mkdir(self.spool_mail)
        os.chmod(self.spool_mail, 0o1777)
        self.out = os.path.join(self.root, "out")
        os.mkdir(self.out)
        os.chmod(self.out, 0o777)
        self.aliases = os.path.join(self.etc, "aliases")
        with open(os.path.join(self.etc, "main.cf"), "a") as f:
            f.write("\n".join([
                "myhostname = test.example",
                "mydomain = example",
                "mydestination = test.example, localhost",
                "alias_maps = lmdb:%s" % self.aliases,
                "alias_database = lmdb:%s" % self.aliases,
                "mail_spool_directory = %s" % self.spool_mail,
                "recipient_delimiter = +",
                "command_time_limit = 5s",
                "daemon_timeout = 60s",
            ]) + "\n" + main_cf_extra)
        self.write_aliases(aliases)
        self.give_to(owner)

    def write_aliases(self, text):
        with open(self.aliases, "w") as f:
            f.write(text)
        surel("map", "build", "-a", "lmdb:" + self.aliases)
        if getattr(self, "owner", None):
            pw = pwd.getpwnam(self.owner)
            for p in (self.aliases, self.aliases + ".lmdb"):
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def start_local(self):
        self.start()
        wait_for(lambda: unix_listening(self.unix_path("local")), 10, "private/local")

    def deliver(self, sender, rcpts, content, timeout=30.0):
        """One delivery request; returns ([reply per recipient], final, qid)."""
        replies, final, qid, self.last_offsets = deliver_request(
            self.spool, self.unix_path("local"), self.owner, sender, rcpts, content, timeout)
        return replies, final, qid


def put_queue_file(spool, owner, sender, rcpts, content):
    """Write a ready queue file into active/; (id, data_offset, offsets)."""
    data, data_offset, offsets = queue_file(sender, rcpts, content)
    qid = queue_id()
    path = os.path.join(spool, "active", qid)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o700)
    if owner:
        pw = pwd.getpwnam(owner)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return qid, data_offset, offsets


def deliver_request(spool, local_socket, owner, sender, rcpts, content, timeout=30.0):
    """Queue a file and send one delivery request for it, as qmgr would;
    ([reply per recipient], final reply, queue ID, R record offsets)."""
    if isinstance(rcpts, str):
        rcpts = [rcpts]
    rcpts = [(r, r) if isinstance(r, str) else r for r in rcpts]
    qid, data_offset, offsets = put_queue_file(spool, owner, sender, rcpts, content)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(local_socket)
    try:
        raw_content = content.encode() if isinstance(content, str) else content
        sock.sendall(attr_list([
            ("flags", 0), ("queue_name", "active"), ("queue_id", qid),
            ("offset", data_offset), ("size", len(raw_content)), ("nexthop", "test.example"),
            ("sender", sender), ("dsn_envid", ""), ("dsn_ret", 0),
            ("arrival_time", int(time.time())), ("nrcpt", len(rcpts))]))
        for (orig, addr), off in zip(rcpts, offsets):
            sock.sendall(attr_list([
                ("original_recipient", orig), ("recipient", addr), ("dsn_orig_rcpt", ""),
                ("dsn_notify", 0), ("offset", off)]))
        reader = AttrReader(sock)
        replies = {}
        for _ in rcpts:
            reply = reader.read()
            replies[int(reply["offset"])] = reply
        final = reader.read()
    finally:
        sock.close()
    return [replies[o] for o in offsets], final, qid, offsets


def make_user(name, home_root):
    """A real account with its home under home_root (removed by remove_user)."""
    home = os.path.join(home_root, name)
    subprocess.run(["useradd", "--no-user-group", "--gid", "nogroup", "--create-home",
                    "--home-dir", home, "--shell", "/bin/sh", name],
                   check=True, capture_output=True)
    os.chmod(home, 0o755)
    return pwd.getpwnam(name)


def remove_user(name):
    subprocess.run(["userdel", "--force", name], capture_output=True)


def maildir_messages(maildir):
    new = os.path.join(maildir, "new")
    try:
        names = sorted(os.listdir(new))
    except OSError:
        return []
    result = []
    for n in names:
        with open(os.path.join(new, n), "rb") as f:
            result.append(f.read())
    return result


MESSAGE = (
    "Received: from client.example by test.example\n"
    "From: Sender <sender@remote.example>\n"
    "Subject: test\n"
    "\n"
    "first line\n"
    ".\n"
    "..two dots\n"
    "From the start of a line\n"
    ">From already quoted\n"
    " From indented\n"
    + "x" * 2500 + "\n"
    "\n"
    "last line\n"
)


@unittest.skipUnless(os.geteuid() == 0, "needs root: delivers as test users")
class LocalRootTest(unittest.TestCase):
    """local run by a root master: deliveries as real users."""

    @classmethod
    def setUpClass(cls):
        cls.home_root = tempfile.mkdtemp(prefix="surel-local-home-")
        os.chmod(cls.home_root, 0o755)
        tag = "%04d" % (os.getpid() % 10000)
        cls.u1 = "sla" + tag
        cls.u2 = "slb" + tag
        cls.pw1 = make_user(cls.u1, cls.home_root)
        cls.pw2 = make_user(cls.u2, cls.home_root)

    @classmethod
    def tearDownClass(cls):
        remove_user(cls.u1)
        remove_user(cls.u2)
        shutil.rmtree(cls.home_root, ignore_errors=True)

    def setUp(self):
        self.instances = []
        for pw in (self.pw1, self.pw2):
            for name in os.listdir(pw.pw_dir):
                path = os.path.join(pw.pw_dir, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)

    def tearDown(self):
        for inst in self.instances:
            inst.cleanup()

    def instance(self, main_cf="home_mailbox = Maildir/\n", aliases=""):
        inst = LocalInstance(main_cf, aliases=aliases)
        self.instances.append(inst)
        inst.start_local()
        return inst

    def maildir(self, pw):
        return os.path.join(pw.pw_dir, "Maildir")

    def addr(self, user):
        return "%s@test.example" % user

    # Mailboxes.

    def test_maildir_delivery_is_byte_exact_and_owned_by_the_user(self):
        inst = self.instance()
        rcpt = self.addr(self.u1)
        replies, final, qid = inst.deliver("sender@remote.example", rcpt, MESSAGE)
        self.assertEqual(final, {"status": "0"})
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(replies[0]["dsn_status"], "2.0.0")
        self.assertEqual(replies[0]["offset"], str(inst.last_offsets[0]))
        msgs = maildir_messages(self.maildir(self.pw1))
        self.assertEqual(len(msgs), 1)
        expected = ("Return-Path: <sender@remote.example>\nDelivered-To: %s\n" % rcpt
                    + MESSAGE).encode()
        self.assertEqual(msgs[0], expected)
        new = os.path.join(self.maildir(self.pw1), "new")
        name = os.listdir(new)[0]
        self.assertRegex(name, r"^\d+\.M\d+P\d+V[0-9a-f]+I[0-9a-f]+\.test\.example$")
        st = os.stat(os.path.join(new, name))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.pw1.pw_uid, 0o600))
        self.assertEqual(os.stat(self.maildir(self.pw1)).st_uid, self.pw1.pw_uid)
        self.assertEqual(os.listdir(os.path.join(self.maildir(self.pw1), "tmp")), [])
        line = inst.wait_log("%s: to=<%s>" % (qid, rcpt)) and [
            l for l in inst.log().splitlines() if "%s: to=<%s>" % (qid, rcpt) in l][0]
        self.assertRegex(line, r"relay=local, delay=[0-9.]+, delays=[0-9.]+/0/0/[0-9.]+, "
                         r"dsn=2\.0\.0, status=sent \(delivered to maildir\)")

    def test_mbox_delivery_quotes_from_and_keeps_old_mail(self):
        inst = self.instance(main_cf="")
        mbox = os.path.join(inst.spool_mail, self.u1)
        old = b"From old@example  Mon Jan  1 00:00:00 2024\nSubject: old\n\nold body\n\n"
        with open(mbox, "wb") as f:
            f.write(old)
        os.chown(mbox, self.pw1.pw_uid, self.pw1.pw_gid)
        os.chmod(mbox, 0o600)
        rcpt = self.addr(self.u1)
        replies, final, qid = inst.deliver("", rcpt, MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        with open(mbox, "rb") as f:
            data = f.read()
        self.assertTrue(data.startswith(old))
        new = data[len(old):].decode()
        first, rest = new.split("\n", 1)
        self.assertRegex(first, r"^From MAILER-DAEMON  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        quoted = MESSAGE.replace("\nFrom the start", "\n>From the start")
        self.assertEqual(rest, "Return-Path: <>\nDelivered-To: %s\n" % rcpt + quoted + "\n")
        self.assertFalse(os.path.exists(mbox + ".lock"))
        self.assertEqual(os.stat(mbox).st_uid, self.pw1.pw_uid)
        inst.wait_log("status=sent (delivered to mailbox)")

    def test_new_mbox_in_spool_is_made_for_the_user(self):
        inst = self.instance(main_cf="")
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u2), "Subject: x\n\nhi\n")
        self.assertEqual(replies[0]["status"], "0", replies[0])
        st = os.stat(os.path.join(inst.spool_mail, self.u2))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (self.pw2.pw_uid, 0o600))

    def test_mailbox_size_limit_bounces_and_leaves_mbox_unchanged(self):
        inst = self.instance(main_cf="mailbox_size_limit = 1000\n")
        mbox = os.path.join(inst.spool_mail, self.u1)
        with open(mbox, "wb") as f:
            f.write(b"From x  Mon Jan  1 00:00:00 2024\n\nold\n\n")
        os.chown(mbox, self.pw1.pw_uid, self.pw1.pw_gid)
        before = read_file(mbox, "rb")
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "5", replies[0])
        self.assertEqual(replies[0]["dsn_status"], "5.2.2")
        self.assertEqual(read_file(mbox, "rb"), before)

    # mbox locking: a dot-lock <mbox>.lock, then an fcntl write lock, each
    # waited for up to 10 s (LOCAL_LOCK_WAIT), then the delivery defers.

    OLD_MAIL = b"From old@example  Mon Jan  1 00:00:00 2024\nSubject: old\n\nold body\n\n"

    def old_mbox(self, path, pw):
        with open(path, "wb") as f:
            f.write(self.OLD_MAIL)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, 0o600)
        return path

    def hold_fcntl_lock(self, path):
        """An fcntl write lock on path, as another mail program would hold
        it; the fd, released by closing it. (Only this fd may be used to
        read the file meanwhile: closing any other fd of ours on the same
        file would drop the lock.)"""
        fd = os.open(path, os.O_RDWR)
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd

    def fresh_dotlock(self, path, mtime=None):
        lock = path + ".lock"
        with open(lock, "w") as f:
            f.write("%d\n" % os.getpid())
        if mtime is not None:
            os.utime(lock, (mtime, mtime))
        return lock

    def deliver_in_background(self, inst, rcpt):
        result = {}

        def run():
            result["start"] = time.monotonic()
            try:
                result["r"] = inst.deliver("a@remote.example", rcpt, MESSAGE)
            except Exception as e:     # reported by reply_of in the test's thread
                result["error"] = e
            result["end"] = time.monotonic()
        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    def reply_of(self, thread, result):
        """The one reply of a background delivery (waited for, bounded)."""
        thread.join(40)
        self.assertFalse(thread.is_alive(), "no answer from local")
        self.assertIn("r", result, "no answer from local: %r" % result.get("error"))
        return result["r"][0][0]

    def local_has_open(self, inst, path):
        """Some local process of inst has path open (it got past opening)."""
        for pid in inst.service_pids("local"):
            try:
                fds = os.listdir("/proc/%d/fd" % pid)
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == path:
                        return True
                except OSError:
                    pass
        return False

    def test_mbox_locks_held_by_others_defer_the_delivery(self):
        # Three mailboxes, delivered to at the same time (three local
        # processes), each kept locked for longer than local waits: an
        # fcntl lock, a fresh dot-lock, and a stale dot-lock that local may
        # not remove (root's, in a sticky folder). All defer with 4.2.0 and
        # are left unchanged; afterwards they are delivered normally.
        sticky = os.path.join(self.home_root, "sticky")
        os.mkdir(sticky)
        os.chmod(sticky, 0o1777)
        self.addCleanup(shutil.rmtree, sticky, True)
        stale_file = os.path.join(sticky, "stale.mbox")
        with open(stale_file, "wb") as f:
            f.write(self.OLD_MAIL)
        os.chmod(stale_file, 0o666)
        inst = self.instance(main_cf="", aliases="stale: %s\n" % stale_file)
        mbox1 = self.old_mbox(os.path.join(inst.spool_mail, self.u1), self.pw1)
        mbox2 = self.old_mbox(os.path.join(inst.spool_mail, self.u2), self.pw2)
        fd = self.hold_fcntl_lock(mbox1)
        try:
            dotlock2 = self.fresh_dotlock(mbox2)
            stale_lock = self.fresh_dotlock(stale_file, mtime=time.time() - 3600)
            runs = [self.deliver_in_background(inst, rcpt)
                    for rcpt in (self.addr(self.u1), self.addr(self.u2), "stale@test.example")]
            replies = [self.reply_of(thread, result) for thread, result in runs]
            self.assertEqual(os.pread(fd, 65536, 0), self.OLD_MAIL)
        finally:
            os.close(fd)
        for reply, (_, result) in zip(replies, runs):
            self.assertEqual((reply["status"], reply["dsn_status"]), ("4", "4.2.0"), reply)
            # local waited for the lock before giving up, and not for ever.
            self.assertGreater(result["end"] - result["start"], 8)
            self.assertLess(result["end"] - result["start"], 25)
        self.assertEqual(replies[0]["reason"], "cannot update mailbox: unable to lock for "
                         "exclusive access: Resource temporarily unavailable")
        self.assertEqual(replies[1]["reason"], "cannot update mailbox: unable to create lock "
                         "file %s: File exists" % dotlock2)
        self.assertEqual(replies[2]["reason"], "cannot update file: unable to create lock "
                         "file %s: File exists" % stale_lock)
        self.assertEqual(read_file(mbox2, "rb"), self.OLD_MAIL)
        self.assertEqual(read_file(stale_file, "rb"), self.OLD_MAIL)
        # local removed its own dot-lock (u1's), not anybody else's.
        self.assertFalse(os.path.exists(mbox1 + ".lock"))
        self.assertTrue(os.path.exists(dotlock2))
        self.assertTrue(os.path.exists(stale_lock))
        self.assertEqual(inst.log_count("cannot remove stale lock %s" % stale_lock), 1)
        self.assertEqual(inst.log_count("status=deferred (cannot update "), 3)

        # Locks gone: the same mail is delivered.
        os.unlink(dotlock2)
        os.unlink(stale_lock)
        replies, _, _ = inst.deliver("a@remote.example",
                                     [self.addr(self.u1), self.addr(self.u2),
                                      "stale@test.example"], MESSAGE)
        self.assertEqual([r["status"] for r in replies], ["0", "0", "0"], replies)
        for path in (mbox1, mbox2, stale_file):
            data = read_file(path, "rb")
            self.assertTrue(data.startswith(self.OLD_MAIL + b"From a@remote.example  "), path)
            self.assertTrue(data.endswith(b"\nlast line\n\n"), path)
            self.assertFalse(os.path.exists(path + ".lock"))

    def test_mbox_delivery_waits_for_a_lock_released_in_time(self):
        inst = self.instance(main_cf="")
        mbox1 = self.old_mbox(os.path.join(inst.spool_mail, self.u1), self.pw1)
        mbox2 = self.old_mbox(os.path.join(inst.spool_mail, self.u2), self.pw2)

        # fcntl: local makes its dot-lock, then waits for our lock.
        fd = self.hold_fcntl_lock(mbox1)
        try:
            thread, result = self.deliver_in_background(inst, self.addr(self.u1))
            wait_for(lambda: os.path.exists(mbox1 + ".lock"), 10, "local's dot-lock")
            self.assertTrue(thread.is_alive())
            self.assertEqual(os.pread(fd, 65536, 0), self.OLD_MAIL)
        finally:
            os.close(fd)
        reply = self.reply_of(thread, result)
        self.assertEqual(reply["status"], "0", reply)

        # dot-lock: local has the mailbox open and waits for the lock file.
        dotlock = self.fresh_dotlock(mbox2)
        thread, result = self.deliver_in_background(inst, self.addr(self.u2))
        wait_for(lambda: self.local_has_open(inst, mbox2), 10, "local to open the mailbox")
        self.assertTrue(thread.is_alive())
        self.assertEqual(read_file(mbox2, "rb"), self.OLD_MAIL)
        os.unlink(dotlock)
        reply = self.reply_of(thread, result)
        self.assertEqual(reply["status"], "0", reply)

        for path in (mbox1, mbox2):
            data = read_file(path, "rb")
            self.assertTrue(data.startswith(self.OLD_MAIL + b"From a@remote.example  "), path)
            self.assertTrue(data.endswith(b"\nlast line\n\n"), path)
            self.assertFalse(os.path.exists(path + ".lock"))

    def test_stale_dot_lock_of_the_user_is_removed(self):
        inst = self.instance(main_cf="")
        mbox = self.old_mbox(os.path.join(inst.spool_mail, self.u1), self.pw1)
        lock = self.fresh_dotlock(mbox, mtime=time.time() - 3600)
        os.chown(lock, self.pw1.pw_uid, self.pw1.pw_gid)
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertFalse(os.path.exists(lock))
        self.assertIn("removed stale lock %s" % lock, inst.log())

    def test_symlinked_maildir_is_refused(self):
        inst = self.instance()
        target = os.path.join(self.pw1.pw_dir, "elsewhere")
        for sub in ("", "/tmp", "/new", "/cur"):
            os.mkdir(target + sub)
            os.chown(target + sub, self.pw1.pw_uid, self.pw1.pw_gid)
        os.symlink(target, self.maildir(self.pw1))
        replies, _, qid = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("symbolic link", replies[0]["reason"])
        self.assertEqual(os.listdir(os.path.join(target, "new")), [])
        inst.wait_log("%s: to=<%s>" % (qid, self.addr(self.u1)))
        self.assertIn("status=deferred", inst.log())

    def test_symlinked_mbox_is_refused(self):
        inst = self.instance(main_cf="")
        victim = os.path.join(inst.root, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chown(victim, self.pw1.pw_uid, self.pw1.pw_gid)
        os.symlink(victim, os.path.join(inst.spool_mail, self.u1))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("symbolic link", replies[0]["reason"])
        self.assertEqual(read_file(victim), "precious\n")

    def test_mbox_of_another_owner_is_refused(self):
        inst = self.instance(main_cf="")
        mbox = os.path.join(inst.spool_mail, self.u1)
        with open(mbox, "w") as f:
            f.write("")
        os.chown(mbox, self.pw2.pw_uid, self.pw2.pw_gid)
        os.chmod(mbox, 0o666)       # writable: only the owner check refuses it
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("wrong owner", replies[0]["reason"])
        self.assertEqual(os.path.getsize(mbox), 0)

    # Recipients.

    def test_unknown_user_bounces(self):
        inst = self.instance()
        replies, final, qid = inst.deliver("a@remote.example", "nosuchuser@test.example", MESSAGE)
        self.assertEqual(final, {"status": "0"})
        self.assertEqual(replies[0]["status"], "5")
        self.assertEqual(replies[0]["dsn_status"], "5.1.1")
        self.assertEqual(replies[0]["reason"], 'unknown user: "nosuchuser"')
        inst.wait_log('%s: to=<nosuchuser@test.example>' % qid)
        self.assertIn('status=bounced (unknown user: "nosuchuser")', inst.log())

    def test_luser_relay_takes_unknown_users(self):
        inst = self.instance(main_cf="home_mailbox = Maildir/\nluser_relay = %s\n" % self.u2)
        replies, _, _ = inst.deliver("a@remote.example", "nosuchuser@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", (replies[0], inst.log()))
        self.assertEqual(len(maildir_messages(self.maildir(self.pw2))), 1)

    def test_luser_relay_to_an_unknown_local_user_bounces_once(self):
        # The relay address is itself unknown here: it bounces, it is not
        # handed to luser_relay again (no endless recursion).
        inst = self.instance(main_cf="home_mailbox = Maildir/\nluser_relay = lost-$user\n")
        replies, final, _ = inst.deliver("a@remote.example", "nosuchuser@test.example", MESSAGE)
        self.assertEqual(final, {"status": "0"})
        self.assertEqual(replies[0]["dsn_status"], "5.1.1", replies[0])
        self.assertEqual(replies[0]["reason"], 'unknown user: "lost-nosuchuser"')

    def test_extension_delivers_to_the_user_with_delivered_to_kept(self):
        inst = self.instance()
        rcpt = "%s+Lists@test.example" % self.u1.upper()
        replies, _, _ = inst.deliver("a@remote.example", rcpt, MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        msgs = maildir_messages(self.maildir(self.pw1))
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Delivered-To: %s\n" % rcpt.lower().encode(), msgs[0])

    def test_several_recipients_each_get_a_reply(self):
        inst = self.instance()
        replies, final, _ = inst.deliver("a@remote.example",
                                         [self.addr(self.u1), "ghost@test.example",
                                          self.addr(self.u2)], MESSAGE)
        self.assertEqual([r["status"] for r in replies], ["0", "5", "0"])
        self.assertEqual(final, {"status": "0"})

    def test_delivered_to_loop_bounces(self):
        inst = self.instance()
        rcpt = self.addr(self.u1)
        looped = "Delivered-To: %s\n" % rcpt.upper() + MESSAGE
        replies, _, qid = inst.deliver("a@remote.example", rcpt, looped)
        self.assertEqual(replies[0]["status"], "5")
        self.assertEqual(replies[0]["dsn_status"], "5.4.6")
        self.assertIn("mail forwarding loop", replies[0]["reason"])
        self.assertEqual(maildir_messages(self.maildir(self.pw1)), [])

    def test_too_many_hops_bounce(self):
        # The rule cleanup applies (header_name.h: more than hopcount_limit
        # Received: headers), with cleanup's answer for it (the HOPS row
        # of tests/rules/cleanup_status.table), not a code of local's own.
        [(_, _, dsn, permanent, text)] = [r for r in rules.cleanup_status() if r[0] == 16]
        self.assertTrue(permanent)
        inst = self.instance()
        # MESSAGE has one Received: header of its own.
        hops = "".join("Received: from h%d by h%d\n" % (i, i) for i in range(50))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), hops + MESSAGE)
        self.assertEqual((replies[0]["status"], replies[0]["dsn_status"]), ("5", dsn))
        self.assertEqual(replies[0]["reason"], text)
        # Fifty Received: headers are within the limit, and Delivered-To:
        # headers are loop detection's, not hops: delivered.
        hops = "".join("Received: from h%d by h%d\n" % (i, i) for i in range(49))
        hops += "".join("Delivered-To: other%d@remote.example\n" % i for i in range(10))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), hops + MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])

    # Aliases.

    def test_alias_to_several_users_keeps_orig_to(self):
        inst = self.instance(aliases="team: %s, %s\n" % (self.u1, self.u2))
        replies, _, qid = inst.deliver("a@remote.example", "team@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        for pw in (self.pw1, self.pw2):
            msgs = maildir_messages(self.maildir(pw))
            self.assertEqual(len(msgs), 1)
            self.assertTrue(msgs[0].startswith(
                b"Return-Path: <a@remote.example>\nDelivered-To: team@test.example\n"))
        inst.wait_log("%s: to=<%s@test.example>, orig_to=<team@test.example>" % (qid, self.u2))

    def test_alias_of_alias_and_duplicates_delivered_once(self):
        inst = self.instance(aliases="outer: inner, %s\ninner: %s\n" % (self.u1, self.u1))
        replies, _, _ = inst.deliver("a@remote.example", "outer@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(len(maildir_messages(self.maildir(self.pw1))), 1)

    def test_alias_to_itself_delivers_to_the_user(self):
        inst = self.instance(aliases="%s: %s, %s\n" % (self.u1, self.u1, self.u2))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(len(maildir_messages(self.maildir(self.pw1))), 1)
        self.assertEqual(len(maildir_messages(self.maildir(self.pw2))), 1)

    def test_backslash_in_the_envelope_recipient_skips_nothing(self):
        # "\\user" means "this user's mailbox, no alias, no .forward" only
        # inside alias, .forward and :include: values; as the envelope
        # recipient it is just a name, so it cannot get around the alias.
        inst = self.instance(aliases="%s: %s\nfan: \\%s\n" % (self.u1, self.u2, self.u1))
        replies, _, _ = inst.deliver("a@remote.example", "\\%s@test.example" % self.u1, MESSAGE)
        self.assertEqual(replies[0]["dsn_status"], "5.1.1", replies[0])
        self.assertEqual(maildir_messages(self.maildir(self.pw1)), [])
        self.assertEqual(maildir_messages(self.maildir(self.pw2)), [])
        # In an alias value it still means the mailbox, not the alias.
        replies, _, _ = inst.deliver("a@remote.example", "fan@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(len(maildir_messages(self.maildir(self.pw1))), 1)
        self.assertEqual(maildir_messages(self.maildir(self.pw2)), [])

    def test_alias_loop_bounces(self):
        inst = self.instance(aliases="ping: pong\npong: ping\n")
        replies, _, _ = inst.deliver("a@remote.example", "ping@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "5", replies[0])
        self.assertEqual(replies[0]["dsn_status"], "5.4.6")
        self.assertIn("mail forwarding loop", replies[0]["reason"])

    def test_owner_alias_becomes_the_sender(self):
        inst = self.instance(aliases="list: %s\nowner-list: %s\n" % (self.u1, self.u2))
        inst.deliver("a@remote.example", "list@test.example", MESSAGE)
        msgs = maildir_messages(self.maildir(self.pw1))
        self.assertTrue(msgs[0].startswith(b"Return-Path: <owner-list@test.example>\n"), msgs[0][:80])

    def test_alias_command_file_and_include(self):
        inst = self.instance()
        cmd_out = os.path.join(inst.out, "cmd.out")
        file_out = os.path.join(inst.out, "file.mbox")
        include = os.path.join(inst.etc, "list.inc")
        with open(include, "w") as f:
            f.write("# members\n%s\n" % self.u2)
        inst.write_aliases(
            'cmd: "|cat > %s; echo \\"$SENDER $RECIPIENT $USER\\" >> %s"\n'
            "file: %s\n"
            "inc: :include:%s\n" % (cmd_out, cmd_out, file_out, include))
        replies, _, qid = inst.deliver("a@remote.example",
                                       ["cmd@test.example", "file@test.example",
                                        "inc@test.example"], MESSAGE)
        self.assertEqual([r["status"] for r in replies], ["0", "0", "0"], replies)
        with open(cmd_out) as f:
            text = f.read()
        first, rest = text.split("\n", 1)
        self.assertRegex(first, r"^From a@remote\.example  ")
        self.assertEqual(rest, "Return-Path: <a@remote.example>\nDelivered-To: cmd@test.example\n"
                         + MESSAGE + "a@remote.example cmd@test.example nobody\n")
        # Commands of a root-owned alias table run as default_privs.
        self.assertEqual(os.stat(cmd_out).st_uid, pwd.getpwnam("nobody").pw_uid)
        with open(file_out) as f:
            data = f.read()
        self.assertIn("\n>From the start of a line\n", data)
        self.assertTrue(data.endswith(MESSAGE.replace("\nFrom the", "\n>From the") + "\n"))
        self.assertEqual(len(maildir_messages(self.maildir(self.pw2))), 1)
        inst.wait_log("status=sent (delivered to command: ")
        self.assertIn("status=sent (delivered to file: %s)" % file_out, inst.log())

    def test_commands_not_allowed_from_include_by_default(self):
        inst = self.instance()
        include = os.path.join(inst.etc, "cmd.inc")
        with open(include, "w") as f:
            f.write("|/bin/true\n")
        inst.write_aliases("inc: :include:%s\n" % include)
        replies, _, _ = inst.deliver("a@remote.example", "inc@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "5")
        self.assertIn("mail to command is restricted", replies[0]["reason"])

    # allow_mail_to_commands / allow_mail_to_files: which sources may name
    # a |command or /file destination.

    SOURCES = ("alias", "forward", "include")

    def restriction_results(self, main_cf, kind):
        """One `kind` ("file" or "command") destination from each source:
        an alias, u1's .forward and an :include: file (named by an alias),
        delivered in one request; {source: (reply, written content or None)}."""
        inst = self.instance(main_cf="home_mailbox = Maildir/\n" + main_cf)
        out = {src: os.path.join(inst.out, "%s.%s" % (src, kind)) for src in self.SOURCES}

        def dest(src):
            return out[src] if kind == "file" else '"|cat > %s"' % out[src]
        include = os.path.join(inst.etc, "dest.inc")
        with open(include, "w") as f:
            f.write(dest("include") + "\n")
        inst.write_aliases("viaalias: %s\nviainclude: :include:%s\n" % (dest("alias"), include))
        self.write_forward(self.pw1, dest("forward") + "\n")
        replies, _, qid = inst.deliver(
            "a@remote.example",
            ["viaalias@test.example", self.addr(self.u1), "viainclude@test.example"], MESSAGE)
        inst.wait_log("%s: to=<viainclude@test.example>" % qid)
        results = {}
        for src, reply in zip(self.SOURCES, replies):
            results[src] = (reply, read_file(out[src]) if os.path.exists(out[src]) else None)
        # A refused .forward must not fall back to the mailbox.
        self.assertEqual(maildir_messages(self.maildir(self.pw1)), [])
        results["log"] = inst.log()
        inst.cleanup()
        return results

    def assert_only_allowed(self, results, allowed, kind):
        for src in self.SOURCES:
            reply, written = results[src]
            if src in allowed:
                self.assertEqual(reply["status"], "0", (src, reply))
                self.assertIsNotNone(written, src)
                self.assertIn("\n" + MESSAGE.splitlines()[-1] + "\n", written)
            else:
                self.assertEqual((reply["status"], reply["dsn_status"], reply["reason"]),
                                 ("5", "5.7.1", "mail to %s is restricted" % kind), src)
                self.assertIsNone(written, src)
        refused = len(self.SOURCES) - len(allowed)
        self.assertEqual(results["log"].count(
            "status=bounced (mail to %s is restricted)" % kind), refused)

    def test_allow_mail_to_files_decides_per_source(self):
        # Postfix's values: alias, forward, include; default alias, forward.
        for value, allowed in ((None, {"alias", "forward"}), ("alias", {"alias"}),
                               ("forward", {"forward"}), ("include", {"include"}),
                               ("", set())):
            with self.subTest(allow_mail_to_files=value):
                main_cf = "" if value is None else "allow_mail_to_files = %s\n" % value
                self.assert_only_allowed(self.restriction_results(main_cf, "file"),
                                         allowed, "file")

    def test_allow_mail_to_commands_decides_per_source(self):
        for value, allowed in ((None, {"alias", "forward"}), ("alias", {"alias"}),
                               ("forward", {"forward"}),
                               ("alias, forward, include", set(self.SOURCES)), ("", set())):
            with self.subTest(allow_mail_to_commands=value):
                main_cf = "" if value is None else "allow_mail_to_commands = %s\n" % value
                self.assert_only_allowed(self.restriction_results(main_cf, "command"),
                                         allowed, "command")

    def test_failing_commands_defer_or_bounce(self):
        inst = self.instance(aliases='tmp: "|echo try later; exit 75"\n'
                                     'perm: "|echo no such mailbox >&2; exit 67"\n'
                                     'other: "|exit 3"\n')
        replies, _, qid = inst.deliver("a@remote.example",
                                       ["tmp@test.example", "perm@test.example",
                                        "other@test.example"], MESSAGE)
        self.assertEqual(replies[0]["status"], "4")
        self.assertEqual(replies[0]["dsn_status"], "4.3.0")
        self.assertEqual(replies[0]["reason"],
                         'Command died with status 75: "echo try later; exit 75". '
                         'Command output: try later')
        self.assertEqual(replies[1]["status"], "5")
        self.assertEqual(replies[1]["dsn_status"], "5.1.1")
        self.assertIn("Command output: no such mailbox", replies[1]["reason"])
        self.assertEqual((replies[2]["status"], replies[2]["dsn_status"]), ("5", "5.3.0"))
        inst.wait_log("%s: to=<tmp@test.example>" % qid)
        self.assertIn("status=deferred (Command died with status 75", inst.log())

    def test_command_time_limit_kills_the_process_group(self):
        # The command records its own process group, so the test judges that
        # group only (not every sleep on the machine: the sanitize run of this
        # script may be running the same command at the same time).
        inst = self.instance(main_cf="home_mailbox = Maildir/\ncommand_time_limit = 1s\n")
        pgid_file = os.path.join(inst.out, "pgid.out")
        inst.write_aliases('slow: "|cut -d\' \' -f5 /proc/$$/stat > %s; sleep 297 & sleep 297"\n'
                           % pgid_file)
        start = time.monotonic()
        replies, _, _ = inst.deliver("a@remote.example", "slow@test.example", MESSAGE)
        self.assertLess(time.monotonic() - start, 15)
        self.assertIn("time limit", replies[0]["reason"])
        self.assertNotEqual(replies[0]["status"], "0")
        with open(pgid_file) as f:
            pgid = int(f.read())
        wait_for(lambda: not _group_members(pgid), 10,
                 "the command's process group %d to be killed" % pgid)

    def test_command_environment_is_clean(self):
        inst = self.instance()
        env_out = os.path.join(inst.out, "env.out")
        inst.write_aliases('envdump: "|env > %s"\n' % env_out)
        inst.deliver("we;ird$(x)@remote.example", "envdump@test.example", MESSAGE)
        with open(env_out) as f:
            env = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
        # command_expansion_filter (Postfix's default) censors the envelope.
        self.assertEqual(env["SENDER"], "we_ird__x_@remote.example")
        self.assertEqual(env["PATH"], "/usr/bin:/bin")
        self.assertEqual(env["RECIPIENT"], "envdump@test.example")
        self.assertEqual(env["LOCAL"], "envdump")
        self.assertEqual(env["DOMAIN"], "test.example")
        self.assertNotIn("MAIL_CONFIG", env)
        self.assertFalse(os.path.exists(os.path.join(inst.root, "x")))

    def test_alias_table_missing_defers(self):
        inst = self.instance(main_cf="home_mailbox = Maildir/\nalias_maps = lmdb:/nonexistent/aliases\n")
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("alias database unavailable", replies[0]["reason"])

    # .forward

    def write_forward(self, pw, text, name=".forward"):
        path = os.path.join(pw.pw_dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, pw.pw_uid, pw.pw_gid)
        return path

    def test_forward_to_another_user_and_self(self):
        inst = self.instance()
        self.write_forward(self.pw1, "%s, \\%s\n" % (self.u2, self.u1))
        replies, _, qid = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(len(maildir_messages(self.maildir(self.pw1))), 1)
        self.assertEqual(len(maildir_messages(self.maildir(self.pw2))), 1)

    def test_forward_command_runs_as_the_user(self):
        inst = self.instance()
        out = os.path.join(inst.out, "fwd.out")
        self.write_forward(self.pw1, '"|id -u > %s"\n' % out)
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(read_file(out).strip(), str(self.pw1.pw_uid))
        self.assertEqual(maildir_messages(self.maildir(self.pw1)), [])

    def test_forward_with_extension(self):
        inst = self.instance()
        self.write_forward(self.pw1, "%s\n" % self.u2, name=".forward+lists")
        replies, _, _ = inst.deliver("a@remote.example", "%s+lists@test.example" % self.u1,
                                     MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(maildir_messages(self.maildir(self.pw1)), [])
        self.assertEqual(len(maildir_messages(self.maildir(self.pw2))), 1)
        # Without the extension the plain mailbox gets it.
        inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(len(maildir_messages(self.maildir(self.pw1))), 1)

    def test_forward_writable_by_others_or_hard_linked_is_refused(self):
        # A .forward or :include: file that others can change, or that is a
        # second name for someone else's file, must not give out its owner's
        # rights: such files defer, and nothing is delivered through them.
        inst = self.instance()
        path = self.write_forward(self.pw1, "%s\n" % self.u2)
        os.chmod(path, 0o664)
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("writable by group or others", replies[0]["reason"])
        os.chmod(path, 0o644)
        os.link(path, os.path.join(self.pw1.pw_dir, "second-name"))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("one link", replies[0]["reason"])
        self.assertEqual(maildir_messages(self.maildir(self.pw2)), [])

    def test_mailbox_command_for_root_runs_as_default_privs(self):
        # Root's own mail through mailbox_command runs as $default_privs
        # (nobody), never as root (Postfix does the same).
        tmp = tempfile.mkdtemp(prefix="surel-mbcmd-")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "uid")
        os.chmod(tmp, 0o777)
        inst = self.instance(main_cf="mailbox_command = /bin/sh -c 'id -u > %s'\n" % out)
        replies, _, _ = inst.deliver("a@remote.example", "root@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(read_file(out).strip(), str(pwd.getpwnam("nobody").pw_uid))

    # mailbox_command for ordinary users.

    MBCMD_SCRIPT = (
        "#!/bin/sh\n"
        "# records who runs it, its environment and its standard input\n"
        "id -u > \"$HOME/cmd.uid\"\n"
        "env > \"$HOME/cmd.env\"\n"
        "cat > \"$HOME/cmd.in\"\n"
        "[ -f \"$HOME/cmd.exit\" ] && exit \"$(cat \"$HOME/cmd.exit\")\"\n"
        "exit 0\n")

    def mailbox_command_script(self):
        tmp = tempfile.mkdtemp(prefix="surel-mbcmd-")
        self.addCleanup(shutil.rmtree, tmp, True)
        os.chmod(tmp, 0o755)
        script = os.path.join(tmp, "record")
        with open(script, "w") as f:
            f.write(self.MBCMD_SCRIPT)
        os.chmod(script, 0o755)
        return script

    def set_exit(self, pw, code):
        path = os.path.join(pw.pw_dir, "cmd.exit")
        with open(path, "w") as f:
            f.write("%d\n" % code)

    def test_mailbox_command_runs_as_the_user_with_the_message_and_a_clean_environment(self):
        script = self.mailbox_command_script()
        # A variable that local itself has (master passes it on through
        # import_environment) must still not reach the command.
        os.environ["SUREL_LEAK_CHECK"] = "leaked"
        self.addCleanup(os.environ.pop, "SUREL_LEAK_CHECK", None)
        inst = self.instance(main_cf="mailbox_command = %s\nimport_environment = "
                             "MAIL_CONFIG TZ LANG=C SUREL_LEAK_CHECK\n" % script)
        rcpt = "%s+box@test.example" % self.u1
        replies, _, qid = inst.deliver("a@remote.example", [("list@test.example", rcpt)], MESSAGE)
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(replies[0]["reason"], "delivered to command: %s" % script)
        home = self.pw1.pw_dir
        self.assertEqual(read_file(os.path.join(home, "cmd.uid")).strip(), str(self.pw1.pw_uid))
        self.assertEqual(os.stat(os.path.join(home, "cmd.in")).st_uid, self.pw1.pw_uid)
        # The message on stdin, byte for byte: From line, Return-Path,
        # Delivered-To, the content without ">From " quoting.
        data = read_file(os.path.join(home, "cmd.in"), "rb")
        first, rest = data.split(b"\n", 1)
        self.assertRegex(first, rb"^From a@remote\.example  \w{3} \w{3} [ \d]\d "
                         rb"\d\d:\d\d:\d\d \d{4}$")
        self.assertEqual(rest, ("Return-Path: <a@remote.example>\nDelivered-To: %s\n" % rcpt
                                + MESSAGE).encode())
        env = dict(l.split("=", 1) for l in read_file(os.path.join(home, "cmd.env")).splitlines())
        self.assertEqual(env, {
            "HOME": home, "USER": self.u1, "LOGNAME": self.u1, "SHELL": "/bin/sh",
            "PATH": "/usr/bin:/bin", "SENDER": "a@remote.example", "RECIPIENT": rcpt,
            "ORIGINAL_RECIPIENT": "list@test.example", "LOCAL": "%s+box" % self.u1,
            "EXTENSION": "box", "DOMAIN": "test.example", "QUEUE_ID": qid,
            "PWD": home,        # set by the shell: the command runs in $HOME
        })
        # The variable was there to leak: local's own environment has it.
        environs = []
        for pid in inst.service_pids("local"):
            try:
                environs.append(read_file("/proc/%d/environ" % pid, "rb").split(b"\0"))
            except OSError:
                pass
        self.assertTrue(any(b"SUREL_LEAK_CHECK=leaked" in e for e in environs), environs)
        self.assertFalse(os.path.exists(self.maildir(self.pw1)))
        self.assertFalse(os.path.exists(os.path.join(inst.spool_mail, self.u1)))

        # Exit 75 (EX_TEMPFAIL) defers; another non-zero exit bounces.
        self.set_exit(self.pw1, 75)
        replies, _, _ = inst.deliver("a@remote.example", rcpt, MESSAGE)
        self.assertEqual((replies[0]["status"], replies[0]["dsn_status"], replies[0]["reason"]),
                         ("4", "4.3.0", 'Command died with status 75: "%s"' % script))
        self.set_exit(self.pw1, 3)
        replies, _, _ = inst.deliver("a@remote.example", rcpt, MESSAGE)
        self.assertEqual((replies[0]["status"], replies[0]["dsn_status"], replies[0]["reason"]),
                         ("5", "5.3.0", 'Command died with status 3: "%s"' % script))

    def test_mailbox_command_exit_75_keeps_the_mail_queued_under_qmgr(self):
        # With the real qmgr: exit 75 leaves the message in deferred/ and
        # it is retried (and delivered once the command succeeds); another
        # exit status bounces it (bounce service asked, file removed).
        script = self.mailbox_command_script()
        self.set_exit(self.pw1, 75)
        self.set_exit(self.pw2, 3)
        inst = RootQmgrInstance(
            main_cf_extra="local_transport = local\nalias_maps =\n"
                          "mailbox_command = %s\ncommand_time_limit = 5s\n" % script,
            extra_services="local unix - n n - - local\n")
        self.instances.append(inst)
        inst.start()
        qid1 = inst.inject("%s@mx.test" % self.u1)
        qid2 = inst.inject("%s@mx.test" % self.u2)
        inst.trigger()
        inst.wait_in("deferred", qid1)
        inst.wait_log("%s: to=<%s@mx.test>, relay=local" % (qid1, self.u1))
        self.assertIn("status=deferred (Command died with status 75: \"%s\")" % script,
                      inst.log())
        inst.wait_log("%s: removed" % qid2)
        self.assertIn("%s: to=<%s@mx.test>, relay=local" % (qid2, self.u2), inst.log())
        lines = [l for l in inst.bounce_lines() if qid2 in l]
        self.assertIn("bounce append %s <%s@mx.test> failed 5.3.0 Command died with status 3"
                      % (qid2, self.u2), lines[0])
        self.assertNotIn("%s: removed" % qid1, inst.log())
        self.assertFalse([l for l in inst.bounce_lines() if qid1 in l and " failed " in l])
        # The command now succeeds: the next retry delivers the kept mail.
        self.set_exit(self.pw1, 0)
        inst.wait_log("%s: removed" % qid1, timeout=20)
        self.assertIn("status=sent (delivered to command: %s)" % script, inst.log())
        self.assertIn(b"Delivered-To: %s@mx.test\n" % self.u1.encode(),
                      read_file(os.path.join(self.pw1.pw_dir, "cmd.in"), "rb"))

    def test_forward_symlink_is_not_followed(self):
        inst = self.instance()
        real = self.write_forward(self.pw2, "%s\n" % self.u2, name="fwd-target")
        os.symlink(real, os.path.join(self.pw1.pw_dir, ".forward"))
        replies, _, _ = inst.deliver("a@remote.example", self.addr(self.u1), MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertEqual(maildir_messages(self.maildir(self.pw2)), [])

    # Forwarding to other domains.

    def test_remote_address_is_forwarded_through_cleanup(self):
        inst = self.instance(aliases="fwd: someone@remote.example\n")
        fake = FakeCleanup(inst.unix_path("cleanup"))
        try:
            replies, _, qid = inst.deliver("a@remote.example", "fwd@test.example", MESSAGE)
        finally:
            fake.close()
        self.assertEqual(replies[0]["status"], "0", replies[0])
        self.assertEqual(replies[0]["reason"], "forwarded as FAKEQID1")
        self.assertEqual(fake.flags, "2")
        recs = fake.records
        self.assertEqual(recs[0], ("S", b"a@remote.example"))
        self.assertEqual(recs[1], ("O", b"fwd@test.example"))
        self.assertEqual(recs[2], ("R", b"someone@remote.example"))
        self.assertEqual(recs[3], ("M", b""))
        self.assertEqual(recs[4], ("N", b"Delivered-To: fwd@test.example"))
        self.assertEqual(recs[5:-2], content_records(MESSAGE))
        self.assertEqual(recs[-2:], [("X", b""), ("E", b"")])

    def test_forwarding_to_an_address_of_a_delivered_to_header_is_a_loop(self):
        # The mail already went through someone@remote.example (its
        # Delivered-To says so): forwarding it there again would loop.
        # No cleanup runs here: had local tried to forward, it would defer.
        inst = self.instance(aliases="fwd: someone@remote.example\n")
        looped = "Delivered-To: Someone@Remote.Example\n" + MESSAGE
        replies, _, _ = inst.deliver("a@remote.example", "fwd@test.example", looped)
        self.assertEqual(replies[0]["dsn_status"], "5.4.6", replies[0])
        self.assertEqual(replies[0]["reason"], "mail forwarding loop for someone@remote.example")

    def test_forwarding_without_cleanup_defers(self):
        inst = self.instance(aliases="fwd: someone@remote.example\n")
        replies, _, _ = inst.deliver("a@remote.example", "fwd@test.example", MESSAGE)
        self.assertEqual(replies[0]["status"], "4", replies[0])
        self.assertIn("mail forwarding unavailable", replies[0]["reason"])

    def test_cleanup_refusal_is_answered_from_the_shared_table(self):
        # Postfix's codes (cleanup_status.h, the table smtpd's replies and
        # pickup's verdicts come from): permanent ones bounce, the rest
        # defer, with the table's enhanced code and text.
        inst = self.instance(aliases="fwd: someone@remote.example\n")
        # The rows of tests/rules/cleanup_status.table (-1, no answer, is
        # a lost cleanup: the IPC error case).
        cases = [(status, "5" if permanent else "4", dsn, text)
                 for status, _, dsn, permanent, text in rules.cleanup_status() if status >= 0]
        for status, code, dsn, text in cases:
            fake = FakeCleanup(inst.unix_path("cleanup"), status=status)
            try:
                replies, _, _ = inst.deliver("a@remote.example", "fwd@test.example", MESSAGE)
            finally:
                fake.close()
                os.unlink(inst.unix_path("cleanup"))
            self.assertEqual((replies[0]["status"], replies[0]["dsn_status"]), (code, dsn),
                             (status, replies[0]))
            self.assertIn("mail forwarding failed: " + text, replies[0]["reason"], status)

    # Protocol and queue file.

    def test_missing_queue_file_defers_every_recipient(self):
        inst = self.instance()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(20)
        sock.connect(inst.unix_path("local"))
        sock.sendall(attr_list([
            ("flags", 0), ("queue_name", "active"), ("queue_id", queue_id()),
            ("offset", 100), ("size", 10), ("nexthop", "x"), ("sender", ""),
            ("dsn_envid", ""), ("dsn_ret", 0), ("arrival_time", 0), ("nrcpt", 1)]))
        sock.sendall(attr_list([("original_recipient", "x@test.example"),
                                ("recipient", "x@test.example"), ("dsn_orig_rcpt", ""),
                                ("dsn_notify", 0), ("offset", 77)]))
        reader = AttrReader(sock)
        reply = reader.read()
        self.assertEqual((reply["offset"], reply["status"]), ("77", "4"))
        self.assertEqual(reader.read(), {"status": "0"})
        sock.close()

    def test_queue_name_outside_the_queue_is_refused(self):
        inst = self.instance()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(20)
        sock.connect(inst.unix_path("local"))
        sock.sendall(attr_list([
            ("flags", 0), ("queue_name", "../etc"), ("queue_id", queue_id()),
            ("offset", 100), ("size", 10), ("nexthop", "x"), ("sender", ""),
            ("dsn_envid", ""), ("dsn_ret", 0), ("arrival_time", 0), ("nrcpt", 1)]))
        sock.sendall(attr_list([("original_recipient", "x@test.example"),
                                ("recipient", "x@test.example"), ("dsn_orig_rcpt", ""),
                                ("dsn_notify", 0), ("offset", 77)]))
        reply = AttrReader(sock).read()
        self.assertEqual(reply["status"], "4")
        self.assertIn("bad queue name", reply["reason"])
        sock.close()

    def test_queue_file_locked_shared_during_delivery(self):
        inst = self.instance(aliases='slow: "|sleep 2"\n')
        import fcntl
        result = {}

        def run():
            result["r"] = inst.deliver("a@remote.example", "slow@test.example", MESSAGE)
        t = threading.Thread(target=run)
        t.start()
        path = wait_for(lambda: [os.path.join(inst.spool, "active", n)
                                 for n in os.listdir(os.path.join(inst.spool, "active"))], 10,
                        "queue file")[0]

        def locked():
            with open(path, "rb") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return False
                except BlockingIOError:
                    return True
        wait_for(locked, 10, "local's shared lock")
        t.join(30)
        self.assertEqual(result["r"][0][0]["status"], "0")
        self.assertFalse(locked())


class RootQmgrInstance(QmgrInstance):
    """qmgr_harness's instance (queue owned by surel, the mail_owner) with
    its master started by root, so that local keeps root and delivers as
    the recipients; qmgr and the test bounce still drop to surel."""

    def master_argv(self, *extra):
        return [binary("master"), "-c", self.etc] + list(extra)


def read_file(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def _group_members(pgid):
    """Live processes (zombies aside: nobody may reap them here) in a group."""
    members = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(pid))
    return members


class FakeCleanup:
    """Stands in for cleanup on private/cleanup: records one submission and
    answers status (0: queued) with reason."""

    def __init__(self, path, status=0, reason=""):
        self.status, self.reason = status, reason
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(5)
        self.sock.settimeout(30)
        self.records = []
        self.flags = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(30)
        reader = AttrReader(conn)
        self.flags = reader.read().get("flags")
        conn.sendall(attr_list([("queue_id", "FAKEQID1")]))
        buf = reader.pending
        while True:
            rec, buf = self._record(conn, buf)
            self.records.append(rec)
            if rec[0] == "E":
                break
        conn.sendall(attr_list([("status", self.status), ("reason", self.reason)]))
        conn.close()

    @staticmethod
    def _record(conn, buf):
        def need(n):
            nonlocal buf
            while len(buf) < n:
                chunk = conn.recv(65536)
                if not chunk:
                    raise ConnectionError("eof")
                buf += chunk
        need(1)
        pos, length, shift = 1, 0, 0
        while True:
            need(pos + 1)
            byte = buf[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        need(pos + length)
        rec = (chr(buf[0]), bytes(buf[pos:pos + length]))
        return rec, buf[pos + length:]

    def close(self):
        self.thread.join(30)
        self.sock.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
