"""SGD (``torch.optim.SGD``): the update rule's row, the functional update and the class.

As torch/optim/sgd.py holds ``sgd`` and ``SGD``; this module also declares the row,
``RULES["sgd"]`` (what a row says: :class:`fastloss.optim._rule.UpdateRule`). The checks and
the kernel call come from the row (:mod:`fastloss.optim._update`), the class's state and step
from :class:`fastloss.optim.optimizer.Optimizer`; :mod:`fastloss.optim._registry` lists this
module, and the public modules re-export ``__all__``.

The conventions every functional update shares (arrays, checks, threads) are in
:mod:`fastloss.optim.functional`.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, check_flag
from fastloss.optim._rule import (FLAG, LR, MAXIMIZE, BenchCase, Param, StateArray, UpdateRule,
                                  register)
from fastloss.optim._update import _check, _fast_update, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["sgd_update", "SGD"]

def _check_nesterov(h: Mapping[str, Any]) -> None:
    if h["nesterov"] and (h["momentum"] <= 0 or h["dampening"] != 0):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening == 0")



_ROW = register(UpdateRule(
    "sgd", "sgd",
    (LR, Param("momentum", NON_NEGATIVE, 0.0), Param("dampening", NON_NEGATIVE, 0.0),
     Param("weight_decay", NON_NEGATIVE, 0.0), Param("nesterov", FLAG, False), MAXIMIZE),
    (StateArray("momentum_buffer", "momentum_buffer", "first_grad",
                lambda h: h["momentum"] != 0, "momentum != 0"),),
    "SGD", arguments=("first_step",), counts_steps=False, check=_check_nesterov,
    bench=(BenchCase("sgd_momentum", {"momentum": 0.9}),),
    # the check leaves nesterov on only with momentum and no dampening
    variants={"lr": (0.05,), "momentum": (0.0, 0.9), "dampening": (0.0, 0.2),
              "weight_decay": (0.0, 0.05), "nesterov": (False, True),
              "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def sgd_update(param: np.ndarray, grad: np.ndarray, *,
               momentum_buffer: Optional[np.ndarray] = None, first_step: bool = False,
               lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
               weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False,
               n_threads: Optional[int] = None) -> None:
    r"""One step of stochastic gradient descent (``torch.optim.SGD``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0)
        if momentum != 0:
            buf = g                                  (first_step: PyTorch's clone)
            buf = momentum * buf + (1 - dampening) * g   (later steps)
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        momentum_buffer: ``buf``, required when ``momentum != 0``; updated in place.
        first_step: the buffer holds nothing yet (PyTorch's ``momentum_buffer is None``): it
            is set to ``g`` rather than averaged.
        lr, momentum, dampening, weight_decay: as in PyTorch (defaults 1e-3, 0, 0, 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, momentum_buffer, first_step, lr, momentum, dampening,
            weight_decay, nesterov, maximize):
        return
    h = _check(_ROW, dict(lr=lr, momentum=momentum, dampening=dampening,
                          weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))
    _prepare(_ROW, param, grad, (momentum_buffer,), h, n_threads,
             first_step=check_flag(first_step, "first_step"))()


# ---- the optimizer class -------------------------------------------------------

class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (``torch.optim.SGD``).

    The update is :func:`fastloss.optim.functional.sgd_update`; the state of a parameter
    is ``{"momentum_buffer": array}`` once it has stepped with ``momentum != 0``.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))
