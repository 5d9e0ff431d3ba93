"""``adamax_update`` and ``Adamax`` (torch.optim.Adamax: Adam with the infinity norm), and the
row ``RULES["adamax"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN
from fastloss.optim._rule import MAXIMIZE, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["adamax_update", "Adamax"]

_ROW = register(UpdateRule(
    "adamax", "adamax",
    (Param("lr", NON_NEGATIVE, 2e-3),
     Param("betas", UNIT_OPEN, (0.9, 0.999), ("beta1", "beta2"), pair=True),
     Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, 0.0), MAXIMIZE),
    (StateArray("exp_avg", "exp_avg", "zeros"), StateArray("exp_inf", "exp_inf", "zeros")),
    "Adamax", arguments=("step",),
    # beta1 = 0.3: exp_avg's lerp weight 0.7 takes at::lerp's second formula
    variants={"lr": (0.01,), "betas": ((0.9, 0.999), (0.3, 0.6)), "eps": (1e-8, 1e-6),
              "weight_decay": (0.0, 0.05), "maximize": (False, True)},
    lerp_params=("betas",)))
_FAST = _fast_update(_ROW)


def adamax_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                  exp_inf: np.ndarray, step: int, *, lr: float = 2e-3,
                  betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                  weight_decay: float = 0.0, maximize: bool = False,
                  n_threads: Optional[int] = None) -> None:
    r"""One Adamax step (``torch.optim.Adamax``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0: L2 penalty)
        exp_avg = lerp(exp_avg, g, 1 - beta1)        (exp_avg + (1 - beta1)(g - exp_avg))
        exp_inf = maximum(beta2 * exp_inf, |g| + eps)    (NaN propagates, as torch.maximum)
        clr = lr / (1 - beta1**step)
        p = p - clr * exp_avg / exp_inf

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg: the first moment estimate; updated in place.
        exp_inf: the exponentially weighted infinity norm; updated in place.
        step: the 1-based step count after increment (the bias correction uses it).
        lr, betas, eps, weight_decay: as in PyTorch (defaults 2e-3, (0.9, 0.999), 1e-8, 0).
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, exp_avg, exp_inf, step, lr, betas, eps, weight_decay,
            maximize):
        return
    h = _check(_ROW, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                          maximize=maximize))
    _prepare(_ROW, param, grad, (exp_avg, exp_inf), h, n_threads, step=_check_step(step))()


# ---- the optimizer class -------------------------------------------------------

class Adamax(Optimizer):
    """Adamax (``torch.optim.Adamax``), without torch's ``foreach``, ``differentiable`` and
    ``capturable`` (implementation choices: the update is one fused kernel here).

    The update is :func:`fastloss.optim.functional.adamax_update`; the state of a parameter
    is ``{"step", "exp_avg", "exp_inf"}``, all starting at zero.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 2e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))
