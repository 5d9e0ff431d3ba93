"""``nadam_update`` and ``NAdam`` (torch.optim.NAdam: Adam with Nesterov momentum), and the
row ``RULES["nadam"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN
from fastloss.optim._rule import (FLAG, MAXIMIZE, BenchCase, Param, StateArray, UpdateRule,
                                  register)
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["nadam_update", "NAdam"]

_ROW = register(UpdateRule(
    "nadam", "nadam",
    (Param("lr", NON_NEGATIVE, 2e-3),
     Param("betas", UNIT_OPEN, (0.9, 0.999), ("beta1", "beta2"), pair=True),
     Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, 0.0),
     Param("momentum_decay", NON_NEGATIVE, 4e-3),
     Param("decoupled_weight_decay", FLAG, False, ("decoupled",)), MAXIMIZE),
    (StateArray("exp_avg", "exp_avg", "zeros"), StateArray("exp_avg_sq", "exp_avg_sq", "zeros"),
     StateArray("mu_product", "mu_product", "ones", scalar=True)),
    "NAdam", arguments=("step",),
    # torch.optim's CPU NAdam has no fused implementation: its foreach one is the fastest
    bench=(BenchCase("nadam", torch_options={"foreach": True}),),
    # beta1 = 0.3: exp_avg's lerp weight 0.7 takes at::lerp's second formula; torch's own
    # tests: weight_decay 0.1 and 0.9, momentum_decay 6e-3, decoupled_weight_decay
    variants={"lr": (0.01,), "betas": ((0.9, 0.999), (0.3, 0.6)), "eps": (1e-8, 1e-6),
              "weight_decay": (0.0, 0.1), "momentum_decay": (4e-3, 6e-3),
              "decoupled_weight_decay": (False, True), "maximize": (False, True)},
    lerp_params=("betas",)))
_FAST = _fast_update(_ROW)


def nadam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, mu_product: np.ndarray, step: int, *,
                 lr: float = 2e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, maximize: bool = False,
                 n_threads: Optional[int] = None) -> None:
    r"""One NAdam step (``torch.optim.NAdam``), in place.

    ::

        g = -grad if maximize else grad
        p = p * (1 - lr * weight_decay)         (if decoupled_weight_decay, weight_decay != 0)
        g = g + weight_decay * p                (if not decoupled, weight_decay != 0: L2)
        mu = beta1 * (1 - 0.5 * 0.96**(step * momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96**((step + 1) * momentum_decay))
        mu_product = mu_product * mu                               (in param's dtype)
        exp_avg = lerp(exp_avg, g, 1 - beta1)   (exp_avg + (1 - beta1)(g - exp_avg))
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        denom = sqrt(exp_avg_sq / (1 - beta2**step)) + eps
        p = p - lr * (1 - mu) / (1 - mu_product) * g / denom
        p = p - lr * mu_next / (1 - mu_product * mu_next) * exp_avg / denom

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg, exp_avg_sq: first and second moment estimates; updated in place.
        mu_product: the product of the momentum cache ``mu`` over the steps before this
            one (1 before the first): a 0-d array of ``param``'s dtype, updated in place
            (torch: a 0-d tensor of its default dtype).
        step: the 1-based step count after increment.
        lr, betas, eps, weight_decay, momentum_decay: as in PyTorch (defaults 2e-3,
            (0.9, 0.999), 1e-8, 0, 4e-3).
        decoupled_weight_decay: decay the parameters (AdamW-style) instead of the L2 term.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, exp_avg, exp_avg_sq, mu_product, step, lr, betas, eps,
            weight_decay, momentum_decay, decoupled_weight_decay, maximize):
        return
    h = _check(_ROW, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                          momentum_decay=momentum_decay,
                          decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))
    _prepare(_ROW, param, grad, (exp_avg, exp_avg_sq, mu_product), h, n_threads,
             step=_check_step(step))()


# ---- the optimizer class -------------------------------------------------------

class NAdam(Optimizer):
    """NAdam (``torch.optim.NAdam``), without torch's ``foreach``, ``differentiable`` and
    ``capturable`` (implementation choices: the update is one fused kernel here).

    The update is :func:`fastloss.optim.functional.nadam_update`; the state of a parameter
    is ``{"step", "exp_avg", "exp_avg_sq", "mu_product"}``: the moments starting at zero,
    ``mu_product`` a 0-d array of the parameter's dtype starting at 1 (torch keeps it in a
    0-d tensor of its default dtype: float32 unless ``torch.set_default_dtype`` says
    otherwise, so float64 parameters agree with torch run under
    ``torch.set_default_dtype(torch.float64)``).
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 2e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))
