"""libmilter_filter - a filter on Debian's libmilter (python3-milter).

Run by test_milter.py under /usr/bin/python3 (the interpreter the Debian
binding is built for): `libmilter_filter.py PORT LOGFILE`. It listens on
inet:PORT@127.0.0.1 and appends one JSON line per callback to LOGFILE
(the stage, its arguments and the macros libmilter handed over), so the
test sees what the real filter library made of surel's packets. Rules:
a sender with "reject" in it gets 550 5.7.1 with the filter's own text
(smfi_setreply), a recipient with "tempfail" in it 451 4.7.1, the rest
continue.
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

    def close(self):
        log(stage="close")
        return Milter.CONTINUE


Milter.factory = TestFilter
log(stage="start")
Milter.runmilter("surel-test", "inet:%d@127.0.0.1" % PORT, timeout=30)
