"""e2e_harness - the old name of harness.e2e, kept so existing imports work.

The module object is harness.e2e itself (not a copy), so names, private
helpers and monkeypatching are shared. New tests import harness.e2e.
"""
import sys

from harness import e2e as _module

sys.modules[__name__] = _module
