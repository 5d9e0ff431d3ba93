"""``adadelta_update`` and ``Adadelta`` (torch.optim.Adadelta), and the row
``RULES["adadelta"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT
from fastloss.optim._rule import MAXIMIZE, BenchCase, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["adadelta_update", "Adadelta"]

_ROW = register(UpdateRule(
    "adadelta", "adadelta",
    (Param("lr", NON_NEGATIVE, 1.0), Param("rho", UNIT, 0.9), Param("eps", NON_NEGATIVE, 1e-6),
     Param("weight_decay", NON_NEGATIVE, 0.0), MAXIMIZE),
    (StateArray("square_avg", "square_avg", "zeros"),
     StateArray("acc_delta", "acc_delta", "zeros")),
    "Adadelta",
    # torch.optim's CPU Adadelta has no fused implementation: its foreach one is the fastest
    bench=(BenchCase("adadelta", torch_options={"foreach": True}),),
    # torch's own tests: lr 0.01, weight_decay 0.1 and 0.9 with rho 0.95, maximize
    variants={"lr": (0.5,), "rho": (0.9, 0.95), "eps": (1e-6, 1e-4),
              "weight_decay": (0.0, 0.1), "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def adadelta_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray,
                    acc_delta: np.ndarray, *, lr: float = 1.0, rho: float = 0.9,
                    eps: float = 1e-6, weight_decay: float = 0.0, maximize: bool = False,
                    n_threads: Optional[int] = None) -> None:
    r"""One Adadelta step (``torch.optim.Adadelta``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0: L2 penalty)
        square_avg = rho * square_avg + (1 - rho) * g * g
        delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta * delta
        p = p - lr * delta

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        square_avg: the running average of squared gradients; updated in place.
        acc_delta: the running average of squared updates; updated in place.
        lr, rho, eps, weight_decay: as in PyTorch (defaults 1.0, 0.9, 1e-6, 0); ``rho`` in
            [0, 1].
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
        return
    h = _check(_ROW, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                          maximize=maximize))
    _prepare(_ROW, param, grad, (square_avg, acc_delta), h, n_threads)()


# ---- the optimizer class -------------------------------------------------------

class Adadelta(Optimizer):
    """Adadelta (``torch.optim.Adadelta``), without torch's ``foreach``, ``differentiable``
    and ``capturable`` (implementation choices: the update is one fused kernel here).

    The update is :func:`fastloss.optim.functional.adadelta_update`; the state of a
    parameter is ``{"step", "square_avg", "acc_delta"}``, all starting at zero.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))
