"""harness.rules - the shared rule tables of tests/rules/, for Python tests.

The same files the Check suites read (tests/unit/rules_table.inc), so a
live test and a unit test cannot expect different answers:
    recipients()      tests/rules/recipients.table
    cleanup_status()  tests/rules/cleanup_status.table
"""
import os

RULES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules")


def _lines(name):
    with open(os.path.join(RULES_DIR, name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                yield line


def recipients():
    """(conf {name: value}, [users], {alias: value}, [row dicts with rcpt,
    delim, smtpd, class, transport, local])."""
    conf, users, aliases, rows = {}, [], {}, []
    for line in _lines("recipients.table"):
        word, _, rest = line.partition(" ")
        if word == "conf":
            name, _, value = rest.partition("=")
            conf[name.strip()] = value.strip()
        elif word == "user":
            users.append(rest.strip())
        elif word == "alias":
            name, value = rest.split()
            aliases[name] = value
        else:
            fields = line.split()
            if len(fields) != 6:
                raise AssertionError("bad row: %r" % line)
            rows.append(dict(zip(("rcpt", "delim", "smtpd", "class", "transport", "local"),
                                 fields)))
    return conf, users, aliases, rows


def cleanup_status():
    """[(status, smtp code, enhanced code, permanent (bool), text)]."""
    rows = []
    for line in _lines("cleanup_status.table"):
        status, smtp, dsn, verdict, text = line.split(None, 4)
        if verdict not in ("permanent", "temporary"):
            raise AssertionError("bad row: %r" % line)
        rows.append((int(status), int(smtp), dsn, verdict == "permanent", text))
    return rows


def cleanup_reply(status):
    """The SMTP reply every program gives for a cleanup status."""
    for st, smtp, dsn, _, text in cleanup_status():
        if st == status:
            return "%d %s Error: %s" % (smtp, dsn, text)
    raise KeyError(status)
