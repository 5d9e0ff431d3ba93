"""``asgd_update`` and ``ASGD`` (torch.optim.ASGD: averaged stochastic gradient descent),
and the row ``RULES["asgd"]``; laid out as :mod:`fastloss.optim.sgd`."""

from __future__ import annotations

from typing import Optional

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, REAL
from fastloss.optim._rule import MAXIMIZE, BenchCase, Param, StateArray, UpdateRule, register
from fastloss.optim._update import _check, _fast_update, _check_step, _prepare, _use_c
from fastloss.optim.optimizer import Optimizer, Params

__all__ = ["asgd_update", "ASGD"]

_ROW = register(UpdateRule(
    "asgd", "asgd",
    (Param("lr", NON_NEGATIVE, 1e-2), Param("lambd", NON_NEGATIVE, 1e-4),
     Param("alpha", NON_NEGATIVE, 0.75), Param("t0", REAL, 1e6),
     Param("weight_decay", NON_NEGATIVE, 0.0), MAXIMIZE),
    (StateArray("ax", "ax", "zeros"), StateArray("mu", "mu", "ones", scalar=True),
     StateArray("eta", "eta", "lr", scalar=True)),
    "ASGD", arguments=("step",),
    # torch.optim's CPU ASGD has no fused implementation: its foreach one is the fastest
    bench=(BenchCase("asgd", torch_options={"foreach": True}),),
    # torch's own tests: lambd 0.1, lr 0.02, t0 100, weight_decay 0.1, maximize; t0 = 50
    # starts the averaging (mu != 1) inside the tests' trajectories
    variants={"lr": (0.02,), "lambd": (1e-4, 0.1), "alpha": (0.75, 0.5), "t0": (1e6, 50.0),
              "weight_decay": (0.0, 0.1), "maximize": (False, True)}))
_FAST = _fast_update(_ROW)


def asgd_update(param: np.ndarray, grad: np.ndarray, ax: np.ndarray, mu: np.ndarray,
                eta: np.ndarray, step: int, *, lr: float = 1e-2, lambd: float = 1e-4,
                alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0.0,
                maximize: bool = False, n_threads: Optional[int] = None) -> None:
    r"""One ASGD step (``torch.optim.ASGD``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0: L2 penalty)
        p = p * (1 - lambd * eta)
        p = p - eta * g
        ax = ax + (p - ax) * mu if mu != 1 else p
        eta = lr / (1 + lambd * lr * step)**alpha     (for the next step)
        mu = 1 / max(1, step - t0)

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        ax: the averaged parameters; updated in place.
        mu, eta: the averaging weight and the step size this step uses (``1`` and ``lr``
            before the first), 0-d arrays of ``param``'s dtype, replaced by the next
            step's in place (torch: 0-d tensors of its default dtype).
        step: the 1-based step count after increment.
        lr, lambd, alpha, t0, weight_decay: as in PyTorch (defaults 1e-2, 1e-4, 0.75, 1e6,
            0); ``lr`` sets the next ``eta`` only.
        maximize: ascend instead of descend.
        n_threads: see :mod:`fastloss.optim.functional`.
    """
    if n_threads is None and _use_c() and _optim.update_fast(
            _FAST, param, grad, ax, mu, eta, step, lr, lambd, alpha, t0, weight_decay,
            maximize):
        return
    h = _check(_ROW, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                          maximize=maximize))
    _prepare(_ROW, param, grad, (ax, mu, eta), h, n_threads, step=_check_step(step))()


# ---- the optimizer class -------------------------------------------------------

class ASGD(Optimizer):
    """ASGD (``torch.optim.ASGD``), without torch's ``foreach``, ``differentiable`` and
    ``capturable`` (implementation choices: the update is one fused kernel here);
    ``maximize`` is keyword-only, as in the other optimizers (torch's is positional, after
    ``foreach``).

    The update is :func:`fastloss.optim.functional.asgd_update`; the state of a parameter
    is ``{"step", "eta", "mu", "ax"}``: ``ax`` starting at zero, ``eta`` at the group's
    ``lr`` and ``mu`` at 1, both 0-d arrays of the parameter's dtype (torch keeps them in
    0-d tensors of its default dtype).
    """

    _rule = _ROW

    def __init__(self, params: Params, lr: float = 1e-2, lambd: float = 1e-4,
                 alpha: float = 0.75, t0: float = 1e6, weight_decay: float = 0, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, maximize=maximize))
