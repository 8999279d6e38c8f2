"""libmilter_filter - a filter on Debian's libmilter (python3-milter).

Run by test_milter.py under /usr/bin/python3 (the interpreter the Debian
binding is built for): `libmilter_filter.py PORT LOGFILE`. It listens on
inet:PORT@127.0.0.1 and appends one JSON line per callback to LOGFILE
(the stage, its arguments and the macros libmilter handed over), so the
test sees what the real filter library made of surel's packets. Rules:
a sender with "reject" in it gets 550 5.7.1 with the filter's own text
(smfi_setreply), a recipient with "tempfail" in it 451 4.7.1, the rest
continue; at the end of the message a Subject with "libreject" gets 550
5.7.1 and one with "libedit" an added header, a changed Subject and a
new body (smfi_addheader, smfi_chgheader, smfi_replacebody).
"""
import json
import sys

import Milter

PORT, LOGFILE = int(sys.argv[1]), sys.argv[2]


def log(**kw):
    with open(LOGFILE, "a") as f:
        f.write(json.dumps(kw) + "\n")


class TestFilter(Milter.Base):

    def macros(self, *names):
        return {n: self.getsymval(n) for n in names}

    def connect(self, hostname, family, hostaddr):
        log(stage="connect", host=hostname, addr=str(hostaddr),
            macros=self.macros("j", "{daemon_name}", "v", "_"))
        return Milter.CONTINUE

    def hello(self, heloname):
        log(stage="helo", helo=heloname)
        return Milter.CONTINUE

    def envfrom(self, mailfrom, *params):
        log(stage="mail", sender=mailfrom, params=list(params),
            macros=self.macros("{mail_addr}"))
        if "reject" in mailfrom:
            self.setreply("550", "5.7.1", "libmilter says no")
            return Milter.REJECT
        return Milter.CONTINUE

    def envrcpt(self, to, *params):
        log(stage="rcpt", rcpt=to, macros=self.macros("{rcpt_addr}"))
        if "tempfail" in to:
            self.setreply("451", "4.7.1", "libmilter says later")
            return Milter.TEMPFAIL
        return Milter.CONTINUE

    def data(self):
        log(stage="data", macros=self.macros("i"))
        return Milter.CONTINUE

    def header(self, name, value):
        self.headers = getattr(self, "headers", []) + [[name, value]]
        return Milter.CONTINUE

    def eoh(self):
        log(stage="eoh", headers=self.headers)
        self.body_bytes = b""
        return Milter.CONTINUE

    def body(self, chunk):
        self.body_bytes += chunk
        return Milter.CONTINUE

    def eom(self):
        subject = dict((n.lower(), v) for n, v in self.headers).get("subject", "")
        log(stage="eom", body=self.body_bytes.decode("latin-1"), macros=self.macros("i"))
        self.headers = []
        if "libreject" in subject:
            self.setreply("550", "5.7.1", "libmilter rejects the content")
            return Milter.REJECT
        if "libedit" in subject:
            self.addheader("X-Libmilter", "edited")
            self.chgheader("Subject", 1, "libmilter changed it")
            self.replacebody(b"libmilter body\r\n")
        return Milter.CONTINUE

    def close(self):
        log(stage="close")
        return Milter.CONTINUE


Milter.factory = TestFilter
Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.CHGBODY)
log(stage="start")
Milter.runmilter("surel-test", "inet:%d@127.0.0.1" % PORT, timeout=30)
