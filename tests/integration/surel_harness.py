"""surel_harness - the old name of harness.core, kept so existing imports work.

The module object is harness.core itself (not a copy), so names, private
helpers and monkeypatching are shared. New tests import harness.core.
"""
import sys

from harness import core as _module

sys.modules[__name__] = _module
