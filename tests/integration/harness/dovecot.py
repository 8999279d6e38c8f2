"""harness.dovecot - a real Dovecot (Debian's dovecot-core, -lmtpd,
-imapd) started by a test with its own dovecot.conf, base_dir, state and
sockets in a temp folder: never the system service.

    dv = Dovecot.auth(socket_path)              # smtpd's SASL tests
    dv = Dovecot.mail(lmtp_socket, lmtp_port, imap_port, users={...})
    ... dv.log() ... dv.stop()

Dovecot.mail serves LMTP on a UNIX socket and on 127.0.0.1:lmtp_port and
IMAP on 127.0.0.1:imap_port, stores Maildirs below the temp folder and
enforces a per-user quota (quota plugin, Maildir++ backend) with
quota_full_tempfail, so an over-quota recipient gets a 4xx from LMTP.
"""
import os
import pwd
import shutil
import subprocess
import tempfile

from harness.core import sigkill, tcp_listening, wait_for

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
LMTP_BINARY = "/usr/lib/dovecot/lmtp"
IMAP_BINARY = "/usr/lib/dovecot/imap"


def installed(*binaries):
    return os.path.exists(DOVECOT) and all(os.path.exists(b) for b in binaries)


class Dovecot:
    """A Dovecot instance running conf_body; ready once every path in
    ready_paths exists (sockets) and every port in ready_ports answers."""

    def __init__(self, conf_body, ready_paths=(), ready_ports=(), folder=None):
        self.dir = folder or tempfile.mkdtemp(prefix="surel-dovecot-")
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write("base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n"
                    .format(d=self.dir) + conf_body)
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.proc.poll() is not None
                 or (all(os.path.exists(p) for p in ready_paths)
                     and all(tcp_listening(p) for p in ready_ports)),
                 15, "dovecot's sockets")
        if self.proc.poll() is not None:
            raise AssertionError("dovecot failed: %s" % self.log())

    @staticmethod
    def run_user():
        """The account Dovecot's own processes use: ours (root under CI)."""
        return "root" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name

    @classmethod
    def auth(cls, socket_path, passwd_lines):
        """Only the auth service: a passwd-file passdb, its client socket at
        socket_path (mode 0666)."""
        folder = tempfile.mkdtemp(prefix="surel-dovecot-")
        with open(os.path.join(folder, "passwd"), "w") as f:
            f.write("".join(l + "\n" for l in passwd_lines))
        u = cls.run_user()
        return cls("""protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {u}
default_login_user = {u}
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = static
  args = uid={u} gid={u} home={d}
}}
service auth {{
  unix_listener {s} {{
    mode = 0666
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""".format(d=folder, u=u, s=socket_path), ready_paths=[socket_path], folder=folder)

    @classmethod
    def mail(cls, lmtp_socket, lmtp_port, imap_port, users):
        """LMTP and IMAP. users: {name: (password, quota rule or None)};
        mail is stored as the unprivileged mail_user (nobody under root)."""
        folder = tempfile.mkdtemp(prefix="surel-dovecot-")
        os.chmod(folder, 0o755)
        mail_user = "nobody" if os.getuid() == 0 else cls.run_user()
        pw = pwd.getpwnam(mail_user)
        mail_root = os.path.join(folder, "mail")
        os.mkdir(mail_root)
        os.chown(mail_root, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(folder, "passwd"), "w") as f:
            for name, (password, quota) in users.items():
                extra = "userdb_quota_rule=*:storage=%s" % quota if quota else ""
                f.write("%s:{PLAIN}%s::::::%s\n" % (name, password, extra))
        # Login processes refuse root: Debian's dovenull and dovecot then.
        u = cls.run_user()
        login = "dovenull" if u == "root" else u
        internal = "dovecot" if u == "root" else u
        os.chmod(os.path.join(folder, "passwd"), 0o644)
        return cls("""protocols = lmtp imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_username_format = %Ln
default_internal_user = {iu}
default_login_user = {lu}
first_valid_uid = 1
mail_location = maildir:{m}/%n
mail_plugins = quota
lmtp_rcpt_check_quota = yes
quota_full_tempfail = yes
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
  default_fields = uid={mu} gid={mg} home={m}/%n
}}
plugin {{
  quota = maildir:User quota
}}
service lmtp {{
  unix_listener {ls} {{
    mode = 0666
  }}
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lp}
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {ip}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
""".format(d=folder, iu=internal, lu=login, m=mail_root, mu=pw.pw_uid, mg=pw.pw_gid, ls=lmtp_socket,
           lp=lmtp_port, ip=imap_port),
            ready_paths=[lmtp_socket], ready_ports=[lmtp_port, imap_port], folder=folder)

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        sigkill([self.proc.pid])
        self.proc.wait()
        for pid in subprocess.run(["pgrep", "-f", self.dir], capture_output=True,
                                  text=True).stdout.split():
            sigkill([int(pid)])
        shutil.rmtree(self.dir, ignore_errors=True)
