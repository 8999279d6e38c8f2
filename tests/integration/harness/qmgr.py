"""harness.qmgr (also `qmgr_harness`) - a master instance with qmgr, a test agent and a test bounce.

Each test writes its own main.cf/master.cf through QmgrInstance: qmgr
(the real one), `agent` (bin/test-agent: the delivery protocol, logging
what it gets to agent.log) and `bounce` (bin/test-agent in bounce mode,
logging requests to bounce.log). Messages are injected with bin/test-inject
(lib/qfile), as the queue's owner. Every wait polls with a deadline.
"""
import os
import pwd
import socket
import subprocess
import time

from .core import binary, wait_for
from .master import MasterInstance

QUEUES = ("temp", "incoming", "active", "deferred", "hold", "corrupt", "bounce", "defer")


def owner_name():
    """Run the instance as `surel` when we are root (as CI does)."""
    return "surel" if os.geteuid() == 0 else None


class QmgrInstance(MasterInstance):
    def __init__(self, agent_args="", bounce_args="", main_cf_extra="", extra_services="",
                 with_bounce=True, qmgr_wakeup="1"):
        self.agent_log = None
        owner = owner_name()
        main = "\n".join([
            "myhostname = mx.test",
            "myorigin = mx.test",
            "mydestination = localhost, mx.test",
            "local_transport = agent",
            "default_transport = agent",
            "minimal_backoff_time = 1s",
            "maximal_backoff_time = 2s",
            "queue_run_delay = 1s",
            "transport_retry_time = 1s",
            "",
        ]) + main_cf_extra
        super().__init__("", main_cf_extra=main, owner=owner)
        self.agent_log = os.path.join(self.root, "agent.log")
        self.bounce_log = os.path.join(self.root, "bounce.log")
        lines = [
            "qmgr unix n - n %s 1 qmgr" % qmgr_wakeup,
            "agent unix - - n - - test-agent log=%s %s" % (self.agent_log, agent_args),
        ]
        if with_bounce:
            lines.append("bounce unix - - n - - test-agent bounce log=%s %s"
                         % (self.bounce_log, bounce_args))
        self.write_master_cf("\n".join(lines) + "\n" + extra_services)
        for q in QUEUES:
            path = os.path.join(self.spool, q)
            os.mkdir(path, 0o700)
            self.chown(path)
        for f in (self.agent_log, self.bounce_log):
            open(f, "a").close()
            self.chown(f)

    def chown(self, path):
        if self.owner:
            pw = pwd.getpwnam(self.owner)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def as_owner(self, argv):
        if self.owner:
            return ["setpriv", "--reuid=" + self.owner, "--regid=" + self.owner,
                    "--clear-groups"] + argv
        return argv

    # Messages.
    def inject(self, *recipients, **opts):
        """Write a committed queue file; return its queue ID."""
        argv = [binary("test-inject"), "-q", self.spool]
        for flag, key in (("-Q", "queue"), ("-f", "sender"), ("-t", "arrival"),
                          ("-w", "warn"), ("-N", "notify"), ("-O", "orig"), ("-b", "body")):
            if key in opts:
                argv += [flag, str(opts[key])]
        proc = subprocess.run(self.as_owner(argv + list(recipients)), capture_output=True,
                              text=True, timeout=30)
        if proc.returncode != 0:
            raise AssertionError("test-inject failed: %s" % proc.stderr)
        return proc.stdout.strip()

    def trigger(self, data=b"I"):
        """Write trigger bytes to public/qmgr (retrying until qmgr listens)."""
        def attempt():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(self.unix_path("qmgr", private=False))
                    s.sendall(data)
                return True
            except OSError:
                return False
        wait_for(attempt, 10, "qmgr socket")

    def queue_file(self, queue, qid):
        """Path of qid in queue (hashed like qfile_path for deferred/defer)."""
        if queue in ("deferred", "defer"):
            return os.path.join(self.spool, queue, qid[9], qid)
        return os.path.join(self.spool, queue, qid)

    def where(self, qid):
        """The queue folders holding qid right now."""
        return [q for q in QUEUES if os.path.exists(self.queue_file(q, qid))]

    def wait_gone(self, qid, timeout=15.0):
        wait_for(lambda: not self.where(qid), timeout, "%s to leave the queue" % qid)

    def wait_in(self, queue, qid, timeout=15.0):
        wait_for(lambda: os.path.exists(self.queue_file(queue, qid)), timeout,
                 "%s in %s/" % (qid, queue))

    # Logs.
    def _read(self, path):
        try:
            with open(path) as f:
                return f.read().splitlines()
        except OSError:
            return []

    def agent_lines(self, kind=None):
        lines = self._read(self.agent_log)
        return [l.split() for l in lines if kind is None or l.startswith(kind + " ")]

    def bounce_lines(self):
        return self._read(self.bounce_log)

    def max_overlap(self, qid_filter=None):
        """Most deliveries in flight at once, from the agent's start/end lines."""
        depth = best = 0
        for words in self.agent_lines():
            if qid_filter and words[2] not in qid_filter:
                continue
            if words[0] == "start":
                depth += 1
                best = max(best, depth)
            elif words[0] == "end":
                depth -= 1
        return best
