"""Adam and AdamW (``torch.optim.Adam``, ``torch.optim.AdamW``): the functional updates and
the optimizer classes.

Laid out as :mod:`fastloss.optim.sgd` (torch/optim/adam.py and adamw.py); the rows
declared here are ``RULES["adam"]`` and ``RULES["adamw"]``, one C kernel (AdamW:
``decoupled``).

The conventions every functional update shares (arrays, checks, threads) are in
:mod:`fastloss.optim.functional`.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN
from fastloss.optim._rule import (FLAG, LR, MAXIMIZE, BenchCase, Param, StateArray, UpdateRule,
                                  register)
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["adam_update", "adamw_update", "Adam", "AdamW"]

_ADAM_STATE = (
    StateArray("exp_avg", "exp_avg", "zeros"),
    StateArray("exp_avg_sq", "exp_avg_sq", "zeros"),
    StateArray("max_exp_avg_sq", "max_exp_avg_sq", "zeros", lambda h: h["amsgrad"],
               "amsgrad=True"),
)


def _adam_params(weight_decay: float) -> Tuple[Param, ...]:
    return (LR, Param("betas", UNIT_OPEN, (0.9, 0.999), ("beta1", "beta2"), pair=True),
            Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, weight_decay),
            Param("amsgrad", FLAG, False), MAXIMIZE)


#: what the tests try (_rule.UpdateRule.variants); beta1 = 0.3: exp_avg's lerp weight 0.7
#: takes at::lerp's second formula
_ADAM_VARIANTS = {"lr": (0.01,), "betas": ((0.9, 0.999), (0.3, 0.6)),
                  "weight_decay": (0.0, 0.05), "amsgrad": (False, True),
                  "maximize": (False, True)}

#: torch.optim's fastest CPU Adam, the benchmarks' peer
_FUSED = {"fused": True}

_ADAM_ROW = register(UpdateRule(
    "adam", "adam",
    _adam_params(0.0) + (Param("decoupled_weight_decay", FLAG, False, ("decoupled",),
                               class_only=True),),
    _ADAM_STATE, "Adam", arguments=("step",), fixed={"decoupled": False},
    bench=(BenchCase("adam", torch_options=_FUSED),
           BenchCase("adam_100_arrays", torch_options=_FUSED, arrays=100)),
    variants=dict(_ADAM_VARIANTS, eps=(1e-8, 1e-6)), lerp_params=("betas",)))
_ADAMW_ROW = register(UpdateRule(
    "adamw", "adam", _adam_params(1e-2), _ADAM_STATE, "AdamW", arguments=("step",),
    fixed={"decoupled": True}, bench=(BenchCase("adamw", torch_options=_FUSED),),
    variants=_ADAM_VARIANTS, lerp_params=("betas",)))
_ADAM_FAST, _ADAMW_FAST = _fast_update(_ADAM_ROW), _fast_update(_ADAMW_ROW)


def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, step: int, *, lr: float = 1e-3,
                betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0, amsgrad: bool = False,
                max_exp_avg_sq: Optional[np.ndarray] = None, maximize: bool = False,
                n_threads: Optional[int] = None) -> None:
    r"""One Adam step (``torch.optim.Adam``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0: L2 penalty)
        exp_avg = lerp(exp_avg, g, 1 - beta1)        (exp_avg + (1 - beta1)(g - exp_avg))
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        if amsgrad:
            max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)   (NaN propagates)
        v = max_exp_avg_sq if amsgrad else exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = sqrt(v) / sqrt(1 - beta2**step) + eps
        p = p - step_size * exp_avg / denom

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg, exp_avg_sq: first and second moment estimates; updated in place.
        step: the 1-based step count after increment (the bias corrections use it).
        lr, betas, eps: as in PyTorch (defaults 1e-3, (0.9, 0.999), 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0); see ``adamw_update``
            for decoupled decay.
        amsgrad: normalize by the running maximum ``max_exp_avg_sq`` (then required).
        max_exp_avg_sq: the running maximum of ``exp_avg_sq``; updated in place.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    _adam(_ADAM_ROW, _ADAM_FAST, param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps,
          weight_decay, amsgrad, max_exp_avg_sq, maximize, n_threads)


def _adam(rule: UpdateRule, fast: _optim.FastUpdate, param: Any, grad: Any, exp_avg: Any,
          exp_avg_sq: Any, step: Any, lr: Any, betas: Any, eps: Any, weight_decay: Any,
          amsgrad: Any, max_exp_avg_sq: Any, maximize: Any, n_threads: Optional[int]) -> None:
    """adam_update and adamw_update: Adam's kernel, decoupled as ``rule`` says (``fast``:
    its fast path)."""
    if n_threads is None and _use_c() and _optim.update_fast(
            fast, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, betas, eps,
            weight_decay, amsgrad, maximize):
        return
    h = _check(rule, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                          amsgrad=amsgrad, maximize=maximize))
    _prepare(rule, param, grad, (exp_avg, exp_avg_sq, max_exp_avg_sq), h, n_threads,
             step=_check_step(step))()


def adamw_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, step: int, *, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 max_exp_avg_sq: Optional[np.ndarray] = None, maximize: bool = False,
                 n_threads: Optional[int] = None) -> None:
    r"""One AdamW step (``torch.optim.AdamW``: decoupled weight decay), in place.

    :func:`adam_update` with the weight decay applied to the parameters first,
    ``p = p * (1 - lr * weight_decay)``, and no L2 term in ``g``; the arguments are
    :func:`adam_update`'s, except ``weight_decay``: the decoupled decay rate (default 1e-2,
    as in PyTorch).
    """
    _adam(_ADAMW_ROW, _ADAMW_FAST, param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps,
          weight_decay, amsgrad, max_exp_avg_sq, maximize, n_threads)


# ---- the optimizer classes ------------------------------------------------------

class Adam(Optimizer):
    """Adam (``torch.optim.Adam``); ``decoupled_weight_decay=True`` makes it AdamW.

    The update is :func:`fastloss.optim.functional.adam_update` (``adamw_update`` when
    decoupled); the state of a parameter is ``{"step", "exp_avg", "exp_avg_sq"}`` plus
    ``"max_exp_avg_sq"`` when ``amsgrad``, all starting at zero.
    """

    _rule = _ADAM_ROW

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``): Adam with decoupled weight decay, default 1e-2.

    The update is :func:`fastloss.optim.functional.adamw_update`; the state is Adam's (the
    class runs Adam's row with ``decoupled_weight_decay=True``, as torch.optim's AdamW is
    Adam's subclass; its defaults are the ``adamw`` row's).
    """

    def __init__(self, params: Params, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
