"""The optimizer classes, with torch.optim's names, signatures and defaults.

Each is a row of :mod:`fastloss.optim._registry` (``_rule``) behind torch.optim's
constructor; :class:`fastloss.optim.optimizer.Optimizer` derives everything else from the
row (checks, state, the checked and compiled step). tests/test_optim_registry.py checks
that the constructors' defaults are the rows'.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np

from fastloss.optim._registry import RULES
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum (``torch.optim.SGD``).

    The update is :func:`fastloss.optim.functional.sgd_update`; the state of a parameter
    is ``{"momentum_buffer": array}`` once it has stepped with ``momentum != 0``.
    """

    _rule = RULES["sgd"]

    def __init__(self, params: Params, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``).

    The update is :func:`fastloss.optim.functional.adagrad_update`; the state of a
    parameter, created with it, is ``{"step": int, "sum": array}`` with ``sum`` filled with
    ``initial_accumulator_value``.
    """

    _rule = RULES["adagrad"]

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


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``).

    The update is :func:`fastloss.optim.functional.rmsprop_update`; the state of a
    parameter is ``{"step", "square_avg"}`` plus ``"momentum_buffer"`` when
    ``momentum > 0`` and ``"grad_avg"`` when ``centered``, all starting at zero.
    """

    _rule = RULES["rmsprop"]

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))


class Adam(Optimizer):
    """Adam (``torch.optim.Adam``); ``decoupled_weight_decay=True`` makes it AdamW.

    The update is :func:`fastloss.optim.functional.adam_update` (``adamw_update`` when
    decoupled); the state of a parameter is ``{"step", "exp_avg", "exp_avg_sq"}`` plus
    ``"max_exp_avg_sq"`` when ``amsgrad``, all starting at zero.
    """

    _rule = RULES["adam"]

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
