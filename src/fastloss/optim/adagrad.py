"""``adagrad_update`` and ``Adagrad`` (torch.optim.Adagrad), and the row ``RULES["adagrad"]``;
laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE
from fastloss.optim._rule import MAXIMIZE, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["adagrad_update", "Adagrad"]

_ROW = register(UpdateRule(
    "adagrad", "adagrad",
    (Param("lr", NON_NEGATIVE, 1e-2), Param("lr_decay", NON_NEGATIVE, 0.0),
     Param("weight_decay", NON_NEGATIVE, 0.0),
     Param("initial_accumulator_value", NON_NEGATIVE, 0.0, (), class_only=True),
     Param("eps", NON_NEGATIVE, 1e-10), MAXIMIZE),
    (StateArray("sum", "state_sum", "initial_accumulator_value"),),
    "Adagrad", arguments=("step",),
    variants={"lr": (0.05,), "lr_decay": (0.0, 0.01), "weight_decay": (0.0, 0.05),
              "initial_accumulator_value": (0.0, 0.1), "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def adagrad_update(param: np.ndarray, grad: np.ndarray, state_sum: np.ndarray, step: int, *,
                   lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                   eps: float = 1e-10, maximize: bool = False,
                   n_threads: Optional[int] = None) -> None:
    r"""One Adagrad step (``torch.optim.Adagrad``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = state_sum + g * g
        p = p - clr * g / (sqrt(state_sum) + eps)

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        state_sum: the running sum of squared gradients (PyTorch's ``state["sum"]``, which
            starts at ``initial_accumulator_value``); updated in place.
        step: the 1-based step count after increment.
        lr, lr_decay, weight_decay, eps: as in PyTorch (defaults 1e-2, 0, 0, 1e-10).
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize):
        return
    h = _check(_ROW, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                              maximize=maximize))
    _prepare(_ROW, param, grad, (state_sum,), h, n_threads, step=_check_step(step))()


# ---- the optimizer class -------------------------------------------------------

class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``).

    The update is :func:`fastloss.optim.functional.adagrad_update`; the state of a
    parameter, created with it, is ``{"step": int, "sum": array}`` with ``sum`` filled with
    ``initial_accumulator_value``.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _init_state(self, index: int, param: np.ndarray, group: Dict[str, Any]) -> None:
        # as PyTorch, which creates Adagrad's state with the parameter, not at its first step
        init = float(group["initial_accumulator_value"])
        self.state[index] = {"step": 0, "sum": np.full(param.shape, init, param.dtype)}
