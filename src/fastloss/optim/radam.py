"""``radam_update`` and ``RAdam`` (torch.optim.RAdam: Adam with the variance of the adaptive
learning rate rectified), and the row ``RULES["radam"]``; laid out as
:mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN
from fastloss.optim._rule import (FLAG, LR, MAXIMIZE, BenchCase, Param, StateArray, UpdateRule,
                                  register)
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["radam_update", "RAdam"]

_ROW = register(UpdateRule(
    "radam", "radam",
    (LR, Param("betas", UNIT_OPEN, (0.9, 0.999), ("beta1", "beta2"), pair=True),
     Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, 0.0),
     Param("decoupled_weight_decay", FLAG, False, ("decoupled",)), MAXIMIZE),
    (StateArray("exp_avg", "exp_avg", "zeros"), StateArray("exp_avg_sq", "exp_avg_sq", "zeros")),
    "RAdam", arguments=("step",),
    # torch.optim's CPU RAdam has no fused implementation: its foreach one is the fastest
    bench=(BenchCase("radam", torch_options={"foreach": True}),),
    # beta1 = 0.3: exp_avg's lerp weight 0.7 takes at::lerp's second formula; with either
    # beta2 the first steps are unrectified (rho_t <= 5) and the later ones rectified, so
    # every trajectory of the tests crosses the branch
    variants={"lr": (0.01,), "betas": ((0.9, 0.999), (0.3, 0.9)), "eps": (1e-8, 1e-6),
              "weight_decay": (0.0, 0.05), "decoupled_weight_decay": (False, True),
              "maximize": (False, True)},
    lerp_params=("betas",)))
_FAST = _fast_update(_ROW)


def radam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, step: int, *, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False,
                 maximize: bool = False, n_threads: Optional[int] = None) -> None:
    r"""One RAdam step (``torch.optim.RAdam``), in place.

    ::

        g = -grad if maximize else grad
        p = p * (1 - lr * weight_decay)         (if decoupled_weight_decay, weight_decay != 0)
        g = g + weight_decay * p                (if not decoupled, weight_decay != 0: L2)
        exp_avg = lerp(exp_avg, g, 1 - beta1)   (exp_avg + (1 - beta1)(g - exp_avg))
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        bc1, bc2 = 1 - beta1**step, 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / bc2          (Python floats, per step)
        if rho_t > 5:
            rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            p = p - exp_avg / bc1 * lr * (sqrt(bc2) / (sqrt(exp_avg_sq) + eps)) * rect
        else:
            p = p - exp_avg / bc1 * lr

    The branch is taken once per call (it depends on the step alone); ``sqrt(bc2) / x`` is
    PyTorch's ``reciprocal(x) * sqrt(bc2)``.

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg, exp_avg_sq: first and second moment estimates; updated in place.
        step: the 1-based step count after increment.
        lr, betas, eps, weight_decay: as in PyTorch (defaults 1e-3, (0.9, 0.999), 1e-8, 0).
        decoupled_weight_decay: decay the parameters (AdamW-style) instead of the L2 term.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay,
            decoupled_weight_decay, maximize):
        return
    h = _check(_ROW, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                          decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))
    _prepare(_ROW, param, grad, (exp_avg, exp_avg_sq), h, n_threads, step=_check_step(step))()


# ---- the optimizer class -------------------------------------------------------

class RAdam(Optimizer):
    """RAdam (``torch.optim.RAdam``), without torch's ``foreach``, ``differentiable`` and
    ``capturable`` (implementation choices: the update is one fused kernel here).

    The update is :func:`fastloss.optim.functional.radam_update`; the state of a parameter
    is ``{"step", "exp_avg", "exp_avg_sq"}``, all starting at zero.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))
