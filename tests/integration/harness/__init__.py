"""harness - the integration tests' helpers, one package.

    core     sandbox instances (`surel sandbox`), binaries, waits with a
             deadline, queue-file records           (was surel_harness)
    attr     the attribute-list wire format: encode, decode, AttrReader
    master   bin/master on a hand-written instance  (was master_harness)
    qmgr     master + qmgr + test agent/bounce      (was qmgr_harness)
    e2e      whole-system helpers: raw SMTP, batches, kills (was e2e_harness)
    smtpd    smtpd + cleanup instances              (was smtpd_harness)
    sink     a scriptable SMTP/LMTP server that records what the
             client (smtp/) sends
    rules    the shared rule tables of tests/rules/ (recipients, cleanup status)

The old module names (surel_harness.py, ...) are kept as aliases of these
modules, so tests written against them keep working.
"""
