"""The optimizer classes, with torch.optim's names, signatures and defaults.

Each is a row of :mod:`fastloss.optim._registry` (``_rule``) behind torch.optim's
constructor, defined with its rule's functional update in the rule's module
(:mod:`fastloss.optim.sgd`, ``.adagrad``, ``.rmsprop``, ``.adam``: torch.optim's layout) and
re-exported here from the registry; :class:`fastloss.optim.optimizer.Optimizer` derives
everything else from the row (checks, state, the checked and compiled step).
tests/test_optim_registry.py checks that the constructors' defaults are the rows'.
"""

from __future__ import annotations

from fastloss.optim._registry import *  # noqa: F401,F403  (every rule's update and class)
from fastloss.optim._registry import CLASSES
from fastloss.optim.optimizer import Optimizer

__all__ = ["Optimizer"]
__all__ += CLASSES  # from the registry's rows
