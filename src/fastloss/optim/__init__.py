"""Optimizers for NumPy parameters: torch.optim's algorithms on fused C update kernels.

The layout follows PyTorch:

* :mod:`fastloss.optim.functional` -- one step on one array, in place, one fused pass
  (``sgd_update``, ``adam_update``, ... one per update rule of
  :mod:`fastloss.optim._registry`), the caller holding the state arrays;
* optimizer classes with ``torch.optim``'s names, defaults and ``param_groups``
  (``SGD``, ``Adagrad``, ``RMSprop``, ``Adam``, ``AdamW``, ``Adamax``, ``NAdam``, ``RAdam``,
  ``Adadelta``, ``Rprop``, ``ASGD``, and ``Lion``, optax.lion's) that own the state and
  update a list of arrays from a matching list of gradients: ``opt.step(grads)``;
  ``Adafactor`` (``torch.optim.Adafactor``, factored second moments), its own kernel;
  ``Muon`` (``torch.optim.Muon``, 2-D parameters, Newton-Schulz orthogonalized momentum),
  NumPy's matmul;
* :mod:`fastloss.optim.lr_scheduler` -- learning-rate schedules over ``param_groups``;
* :mod:`fastloss.optim.swa_utils` -- parameter averaging (SWA, EMA) and ``SWALR``;
* gradient clipping over a list of gradients (``torch.nn.utils``' functions, here):
  :func:`clip_grad_norm_`, :func:`clip_grad_value_`, :func:`get_total_norm`,
  :func:`clip_grads_with_norm_`;
* :func:`minimize_cg` -- nonlinear conjugate gradient for a ``fun`` returning (value, grad);
* :func:`minimize_lbfgs` -- L-BFGS for the same ``fun`` (SciPy's L-BFGS-B without bounds),
  and :class:`LBFGS`, ``torch.optim.LBFGS`` whose ``step(closure)`` takes (loss, grads).

>>> import numpy as np
>>> from fastloss.optim import Adam
>>> w = np.zeros(3)
>>> opt = Adam([w], lr=0.1)
>>> opt.step([np.array([1.0, -1.0, 0.0])])
>>> w.round(6).tolist()
[-0.1, 0.1, 0.0]
"""


from fastloss.optim._registry import *  # noqa: F401,F403  (every rule's update and class)
from fastloss.optim._registry import CLASSES, UPDATES
from fastloss.optim import functional
from fastloss.optim import optimizers as optimizers
from fastloss.optim.optimizer import Optimizer
from fastloss.optim.cg import CGResult, minimize_cg
from fastloss.optim.lbfgs import LBFGS, LBFGSResult, minimize_lbfgs
from fastloss.optim.adafactor import Adafactor
from fastloss.optim.muon import Muon
from fastloss.optim import lr_scheduler
from fastloss.optim import swa_utils
from fastloss.optim.clip_grad import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,
                                      get_total_norm)

__all__ = ["functional", "Optimizer", "CGResult", "minimize_cg", "LBFGSResult", "minimize_lbfgs",
           "LBFGS", "Adafactor", "Muon", "lr_scheduler", "swa_utils", "clip_grad_norm_",
           "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]
__all__ += UPDATES + CLASSES  # from the registry's rows
