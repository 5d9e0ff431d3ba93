"""The update rules, one module each, imported here in the public API's order: the one list
fastloss.optim's layers are derived from.

Each rule's module (:mod:`fastloss.optim.sgd`, ...: torch.optim's layout) holds its row,
declared with :func:`fastloss.optim._rule.register` (what a row says:
:class:`~fastloss.optim._rule.UpdateRule`), its functional update and its optimizer class,
and lists both in its ``__all__``. Importing the modules fills :data:`RULES`;
:mod:`fastloss.optim`, :mod:`fastloss.optim.functional` and :mod:`fastloss.optim.optimizers`
re-export their names from here (a star import, so type checkers see each name), and the
checks, the fast-path packing, the state and step plans, the test matrices and the benchmark
cases come from the rows.

AdamW is Adam's kernel with decoupled weight decay (``fixed={"decoupled": True}``), as in
torch.optim, where ``AdamW`` is ``Adam(decoupled_weight_decay=True)``.
"""

from __future__ import annotations

from fastloss.optim.sgd import *  # noqa: F401,F403
from fastloss.optim.adagrad import *  # noqa: F401,F403
from fastloss.optim.rmsprop import *  # noqa: F401,F403
from fastloss.optim.adam import *  # noqa: F401,F403
from fastloss.optim.adamax import *  # noqa: F401,F403
from fastloss.optim.nadam import *  # noqa: F401,F403
from fastloss.optim.radam import *  # noqa: F401,F403
from fastloss.optim.adadelta import *  # noqa: F401,F403
from fastloss.optim.rprop import *  # noqa: F401,F403
from fastloss.optim.asgd import *  # noqa: F401,F403
from fastloss.optim.lion import *  # noqa: F401,F403

from fastloss.optim._rule import RULES as RULES  # noqa: E402  (filled by the imports above)
from fastloss.optim._rule import Param as Param, StateArray as StateArray  # noqa: E402
from fastloss.optim._rule import UpdateRule as UpdateRule  # noqa: E402

# No __all__: a star import of this module takes every public name above (type checkers
# read it so); each face's own __all__ lists what it publishes, from the rows.

#: what the faces publish: every row's functional update and optimizer class
UPDATES = [row.update for row in RULES.values()]
CLASSES = list(dict.fromkeys(row.torch_class for row in RULES.values()))
