"""qmgr_harness - the old name of harness.qmgr, kept so existing imports work.

The module object is harness.qmgr itself (not a copy), so names, private
helpers and monkeypatching are shared. New tests import harness.qmgr.
"""
import sys

from harness import qmgr as _module

sys.modules[__name__] = _module
