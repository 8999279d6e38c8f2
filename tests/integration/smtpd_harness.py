"""smtpd_harness - the old name of harness.smtpd, kept so existing imports work.

The module object is harness.smtpd itself (not a copy), so names, private
helpers and monkeypatching are shared. New tests import harness.smtpd.
"""
import sys

from harness import smtpd as _module

sys.modules[__name__] = _module
