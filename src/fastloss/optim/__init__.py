"""Optimizers for NumPy parameters: torch.optim's algorithms on fused C update kernels.

Two layers, as in PyTorch:

* :mod:`fastloss.optim.functional` -- one step on one array, in place
  (``sgd_update``, ``adagrad_update``, ``rmsprop_update``, ``adam_update``,
  ``adamw_update``), the caller holding the state arrays;
* optimizer classes with ``torch.optim``'s names, defaults and ``param_groups``
  (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``) that own the state and update a
  list of arrays from a matching list of gradients: ``opt.step(grads)``.

>>> import numpy as np
>>> from fastloss.optim import Adam
>>> w = np.zeros(3)
>>> opt = Adam([w], lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.0])])
>>> w.round(6).tolist()
[-0.1, 0.1, 0.0]
"""

from importlib.util import find_spec as _find_spec

from fastloss.optim import functional
from fastloss.optim.functional import (
    adagrad_update,
    adam_update,
    adamw_update,
    rmsprop_update,
    sgd_update,
)
from fastloss.optim.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = [
    "functional",
    "sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "adamw_update",
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
]

# optim/cg.py (minimize_cg) and optim/lr_scheduler.py are written by another part of issue 3;
# they join the package as soon as their files exist.
if _find_spec("fastloss.optim.cg") is not None:
    from fastloss.optim.cg import minimize_cg  # type: ignore[import-untyped,unused-ignore]
    __all__.append("minimize_cg")
if _find_spec("fastloss.optim.lr_scheduler") is not None:
    from fastloss.optim import lr_scheduler  # type: ignore[attr-defined,unused-ignore]
    __all__.append("lr_scheduler")
