"""``rmsprop_update`` and ``RMSprop`` (torch.optim.RMSprop), and the row ``RULES["rmsprop"]``;
laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE
from fastloss.optim._rule import FLAG, MAXIMIZE, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["rmsprop_update", "RMSprop"]

_ROW = register(UpdateRule(
    "rmsprop", "rmsprop",
    (Param("lr", NON_NEGATIVE, 1e-2), Param("alpha", NON_NEGATIVE, 0.99),
     Param("eps", NON_NEGATIVE, 1e-8), Param("weight_decay", NON_NEGATIVE, 0.0),
     Param("momentum", NON_NEGATIVE, 0.0), Param("centered", FLAG, False), MAXIMIZE),
    (StateArray("square_avg", "square_avg", "zeros"),
     StateArray("grad_avg", "grad_avg", "zeros", lambda h: h["centered"], "centered=True"),
     StateArray("momentum_buffer", "momentum_buffer", "zeros", lambda h: h["momentum"] > 0,
                "momentum > 0")),
    "RMSprop",
    # alpha 0.3: grad_avg's lerp weight 0.7 takes at::lerp's second formula
    variants={"lr": (0.01,), "alpha": (0.99, 0.3), "weight_decay": (0.0, 0.05),
              "momentum": (0.0, 0.9), "centered": (False, True), "maximize": (False, True)},
    lerp_params=("alpha",)))
_FAST = _fast_update(_ROW)


def rmsprop_update(param: np.ndarray, grad: np.ndarray, square_avg: np.ndarray, *,
                   grad_avg: Optional[np.ndarray] = None,
                   momentum_buffer: Optional[np.ndarray] = None, lr: float = 1e-2,
                   alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                   momentum: float = 0.0, centered: bool = False, maximize: bool = False,
                   n_threads: Optional[int] = None) -> None:
    r"""One RMSprop step (``torch.optim.RMSprop``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0)
        square_avg = alpha * square_avg + (1 - alpha) * g * g
        if centered:
            grad_avg = lerp(grad_avg, g, 1 - alpha)  (grad_avg + (1 - alpha)(g - grad_avg))
            avg = sqrt(square_avg - grad_avg * grad_avg) + eps
        else:
            avg = sqrt(square_avg) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        square_avg: the running average of squared gradients; updated in place.
        grad_avg: the running average of gradients, required when ``centered``.
        momentum_buffer: ``buf``, required when ``momentum > 0``.
        lr, alpha, eps, weight_decay, momentum: as in PyTorch (defaults 1e-2, 0.99, 1e-8,
            0, 0).
        centered: normalize by the estimated variance instead of the second moment.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps,
            weight_decay, momentum, centered, maximize):
        return
    h = _check(_ROW, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                              momentum=momentum, centered=centered, maximize=maximize))
    _prepare(_ROW, param, grad, (square_avg, grad_avg, momentum_buffer), h, n_threads)()


# ---- the optimizer class -------------------------------------------------------

class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``).

    The update is :func:`fastloss.optim.functional.rmsprop_update`; the state of a
    parameter is ``{"step", "square_avg"}`` plus ``"momentum_buffer"`` when
    ``momentum > 0`` and ``"grad_avg"`` when ``centered``, all starting at zero.
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0, momentum: float = 0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered,
                                      maximize=maximize))
