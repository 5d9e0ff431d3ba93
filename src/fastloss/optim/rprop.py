"""``rprop_update`` and ``Rprop`` (torch.optim.Rprop: resilient backpropagation), and the
row ``RULES["rprop"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Any, Mapping, Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, POSITIVE
from fastloss.optim._rule import MAXIMIZE, BenchCase, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["rprop_update", "Rprop"]


def _check_etas_and_sizes(h: Mapping[str, Any]) -> None:
    if not 0 < h["etaminus"] < 1 < h["etaplus"]:
        raise ValueError(f"etas must satisfy 0 < etaminus < 1 < etaplus, got "
                         f"({h['etaminus']}, {h['etaplus']})")
    if h["step_size_min"] > h["step_size_max"]:
        raise ValueError(f"step_sizes must satisfy step_size_min <= step_size_max, got "
                         f"({h['step_size_min']}, {h['step_size_max']})")


_ROW = register(UpdateRule(
    "rprop", "rprop",
    # lr only starts step_size off (torch's functional rprop takes none)
    (Param("lr", NON_NEGATIVE, 1e-2, (), class_only=True),
     Param("etas", POSITIVE, (0.5, 1.2), ("etaminus", "etaplus"), pair=True),
     Param("step_sizes", NON_NEGATIVE, (1e-6, 50.0), ("step_size_min", "step_size_max"),
           pair=True),
     MAXIMIZE),
    (StateArray("prev", "prev", "zeros"), StateArray("step_size", "step_size", "lr")),
    "Rprop", check=_check_etas_and_sizes,
    # torch.optim's CPU Rprop has no fused implementation: its foreach one is the fastest
    bench=(BenchCase("rprop", torch_options={"foreach": True}),),
    # step_sizes (1e-3, 0.02) around lr: both clamps bind along the tests' trajectories
    variants={"lr": (0.01,), "etas": ((0.5, 1.2), (0.3, 1.5)),
              "step_sizes": ((1e-6, 50.0), (1e-3, 0.02)), "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def rprop_update(param: np.ndarray, grad: np.ndarray, prev: np.ndarray, step_size: np.ndarray,
                 *, etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50.0), maximize: bool = False,
                 n_threads: Optional[int] = None) -> None:
    r"""One Rprop step (``torch.optim.Rprop``), in place.

    ::

        g = -grad if maximize else grad
        f = etaplus if g * prev > 0, etaminus if g * prev < 0, 1 if it is 0 (NaN stays)
        step_size = clamp(step_size * f, step_size_min, step_size_max)
        g = 0 where f == etaminus                     (the sign flipped: no move, forget)
        p = p - sign(g) * step_size
        prev = g

    ``lr`` is not an argument: it is only ``step_size``'s initial value (the optimizer
    class fills ``step_size`` with it, as torch does).

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        prev: the previous step's (masked) gradient; updated in place.
        step_size: the per-element step sizes; updated in place.
        etas: ``(etaminus, etaplus)``, with ``0 < etaminus < 1 < etaplus`` (default
            (0.5, 1.2)).
        step_sizes: ``(step_size_min, step_size_max)``, non-negative, min <= max (default
            (1e-6, 50); torch does not check the order, clamping to the max).
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, prev, step_size, etas, step_sizes, maximize):
        return
    h = _check(_ROW, dict(etas=etas, step_sizes=step_sizes, maximize=maximize))
    _prepare(_ROW, param, grad, (prev, step_size), h, n_threads)()


# ---- the optimizer class -------------------------------------------------------

class Rprop(Optimizer):
    """Rprop (``torch.optim.Rprop``), without torch's ``foreach``, ``differentiable`` and
    ``capturable`` (implementation choices: the update is one fused kernel here).

    The update is :func:`fastloss.optim.functional.rprop_update`; the state of a parameter
    is ``{"step", "prev", "step_size"}``: ``prev`` starting at zero, ``step_size`` at the
    group's ``lr`` (when the parameter first steps).
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-2,
                 etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50), *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes,
                                      maximize=maximize))
