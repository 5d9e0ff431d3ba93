"""``lion_update`` and ``Lion`` (the Lion optimizer of Chen et al. 2023, "Symbolic Discovery
of Optimization Algorithms", with optax.lion's arithmetic; torch.optim has none), and the row
``RULES["lion"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, UNIT_OPEN
from fastloss.optim._rule import MAXIMIZE, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["lion_update", "Lion"]

_ROW = register(UpdateRule(
    "lion", "lion",
    (Param("lr", NON_NEGATIVE, 1e-4),
     Param("betas", UNIT_OPEN, (0.9, 0.99), ("beta1", "beta2"), pair=True),
     Param("weight_decay", NON_NEGATIVE, 0.0), MAXIMIZE),
    (StateArray("exp_avg", "exp_avg", "zeros"),),
    # no torch.optim class: the parity tests and the benchmarks' peer are optax.lion's
    "Lion", counts_steps=False, in_torch=False,
    variants={"lr": (0.01,), "betas": ((0.9, 0.99), (0.3, 0.6)),
              "weight_decay": (0.0, 0.05), "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def lion_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray, *,
                lr: float = 1e-4, betas: Tuple[float, float] = (0.9, 0.99),
                weight_decay: float = 0.0, maximize: bool = False,
                n_threads: Optional[int] = None) -> None:
    r"""One Lion step, in place: optax.lion's update (``optax.apply_updates`` included).

    ::

        g = -grad if maximize else grad
        u = sign((1 - beta1) * g + beta1 * exp_avg)    (0 stays 0, NaN propagates)
        u = u + weight_decay * p                       (if weight_decay != 0: decoupled)
        p = p - lr * u                                 (optax: p + (-lr) * u)
        exp_avg = (1 - beta2) * g + beta2 * exp_avg

    The decay is decoupled, as in the paper and optax: ``p - lr * weight_decay * p`` with
    the sign step, not an L2 term in ``g``. optax's ``mask`` and ``mu_dtype`` have no
    counterpart (one array per call; the state has ``param``'s dtype).

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg: the momentum (optax's ``mu``); updated in place.
        lr, betas, weight_decay: the paper's (defaults 1e-4, (0.9, 0.99), 0).
        maximize: ascend instead of descend (as torch.optim's optimizers).
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, exp_avg, lr, betas, weight_decay, maximize):
        return
    h = _check(_ROW, dict(lr=lr, betas=betas, weight_decay=weight_decay, maximize=maximize))
    _prepare(_ROW, param, grad, (exp_avg,), h, n_threads)()


# ---- the optimizer class -------------------------------------------------------

class Lion(Optimizer):
    """Lion, in torch.optim's form (param_groups, ``state_dict``, ``maximize``).

    The update is :func:`fastloss.optim.functional.lion_update`; the state of a parameter
    is ``{"exp_avg"}``, starting at zero (no step count: the update uses none).
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-4,
                 betas: Tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize))
