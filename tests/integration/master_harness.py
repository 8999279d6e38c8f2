"""master_harness - the old name of harness.master, kept so existing imports work.

The module object is harness.master itself (not a copy), so names, private
helpers and monkeypatching are shared. New tests import harness.master.
"""
import sys

from harness import master as _module

sys.modules[__name__] = _module
