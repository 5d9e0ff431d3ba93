"""``adafactor_update`` and ``Adafactor`` (torch.optim.Adafactor: factored second moments).

Not a row of :mod:`fastloss.optim._registry`: the registry's rules keep state of the
parameter's shape and update it in one elementwise pass, while Adafactor keeps, for a
parameter of two or more dimensions, a row factor (the mean of ``g**2`` over the last axis,
shape ``(..., R, 1)``) and a column factor (over the second-to-last, ``(..., 1, C)``), and
its step needs two reductions (the parameter's RMS before it, the update's RMS before it is
applied). Its step is its own kernel, csrc/adafactor.c, operation for operation as torch
2.13's ``_single_tensor_adafactor``: three passes over a factored parameter (the sums of
``p**2`` and of ``g**2`` by rows and columns with the factors' update; the sum of ``u**2``;
the update of ``p``, ``u`` recomputed) and two over a vector, with no temporary of the
parameter's size (torch's step makes several). Its specification is
:mod:`fastloss.reference.adafactor`; the class runs on the optimizer base class's checked
path (:class:`fastloss.optim.optimizer.Optimizer`), and its steps after the first on
the compiled fast path, ``_optim.AdafactorPlan``, where every array is as the kernel takes
it.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, Interval, check_flag, check_real
from fastloss.optim._update import (MAX_STEP, Update, _check_array, _check_grad, _check_step,
                                    _use_c, _whole)
from fastloss.optim.optimizer import Optimizer, Params, State
from fastloss.reference import adafactor as reference

__all__ = ["adafactor_update", "Adafactor"]

#: torch's constraints: beta2_decay <= 0, d >= 1
_NON_POSITIVE = Interval(-math.inf, 0.0, lo_closed=False, hi_closed=True)
_AT_LEAST_ONE = Interval(1.0, math.inf)

Eps = Tuple[Optional[float], float]


def _check_hyper(lr: Any, beta2_decay: Any, eps: Any, d: Any, weight_decay: Any,
                 maximize: Any) -> Dict[str, Any]:
    if not isinstance(eps, (tuple, list)) or len(eps) != 2:
        raise TypeError(f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
    eps1 = None if eps[0] is None else check_real(eps[0], "eps[0]", NON_NEGATIVE)
    return dict(lr=check_real(lr, "lr", NON_NEGATIVE),
                beta2_decay=check_real(beta2_decay, "beta2_decay", _NON_POSITIVE),
                eps=(eps1, check_real(eps[1], "eps[1]", NON_NEGATIVE)),
                d=check_real(d, "d", _AT_LEAST_ONE),
                weight_decay=check_real(weight_decay, "weight_decay", NON_NEGATIVE),
                maximize=check_flag(maximize, "maximize"))


#: the state entries AdafactorPlan looks up: the factors, the unfactored variance
_STATE_NAMES = ("row_var", "col_var", "variance")


def _factored(param: np.ndarray) -> bool:
    return param.ndim > 1


def _state_shapes(param: np.ndarray) -> Dict[str, Tuple[int, ...]]:
    """The state arrays a parameter keeps, by name, with their shapes (torch's)."""
    shape = param.shape
    if _factored(param):
        return {"row_var": shape[:-1] + (1,), "col_var": shape[:-2] + (1,) + shape[-1:]}
    return {"variance": shape}


def _step(param: np.ndarray, grad: np.ndarray, state: Dict[str, np.ndarray], step: int,
          h: Dict[str, Any]) -> None:
    """One step on checked arguments: the fused kernel (csrc/adafactor.c), or on the
    "numpy" backend the reference, fastloss.reference.adafactor. An empty parameter steps
    as nothing (torch divides by its size, 0, and raises ZeroDivisionError)."""
    if param.size == 0:
        return
    if not _use_c():
        reference.adafactor_update(param, grad, step, row_var=state.get("row_var"),
                                   col_var=state.get("col_var"),
                                   variance=state.get("variance"), **h)
        return
    _optim.adafactor(_kernel_hyper(h), param, grad, state.get("row_var"),
                     state.get("col_var"), state.get("variance"), float(step))


def _kernel_hyper(h: Dict[str, Any]) -> _optim.AdafactorHyper:
    """Checked hyper-parameters as the kernel takes them (eps[0] None: the parameter's
    machine epsilon, resolved per dtype by the binding)."""
    eps1, eps2 = h["eps"]
    return _optim.AdafactorHyper(h["lr"], h["beta2_decay"], eps1, eps2, h["d"],
                                 h["weight_decay"], h["maximize"])


def _check_state(state: Dict[str, Any], param: np.ndarray, written: List[np.ndarray]) -> None:
    for name, shape in _state_shapes(param).items():
        a = _check_array(state.get(name), name) if state.get(name) is not None else None
        if a is None:
            raise ValueError(f"{name} is required for a parameter of {param.ndim} dimensions")
        if a.shape != shape or a.dtype != param.dtype:
            raise ValueError(f"{name} has shape {a.shape} and dtype {a.dtype}, expected "
                             f"{shape} and param's dtype {param.dtype}")
        if any(np.shares_memory(a, b) for b in written):
            raise ValueError(f"{name} shares memory with another array: each is updated in "
                             "place")
        written.append(a)


def _prepare(param: Any, grad: Any, state: Dict[str, Any], step: int,
             h: Dict[str, Any]) -> Update:
    p = _check_array(param, "param")
    written = [p]
    _check_state(state, p, written)
    g = _check_grad(grad, p, tuple(written))
    arrays = {name: state[name] for name in _state_shapes(p)}
    return _whole(lambda: _step(p, g, arrays, step, h))


def adafactor_update(param: np.ndarray, grad: np.ndarray, step: int, *,
                     row_var: Optional[np.ndarray] = None,
                     col_var: Optional[np.ndarray] = None,
                     variance: Optional[np.ndarray] = None, lr: float = 1e-2,
                     beta2_decay: float = -0.8, eps: Eps = (None, 1e-3), d: float = 1.0,
                     weight_decay: float = 0.0, maximize: bool = False) -> None:
    r"""One Adafactor step (``torch.optim.Adafactor``), in place.

    ::

        g = -grad if maximize else grad
        eps1 = eps[0] if given, else the dtype's machine epsilon
        beta2_t = 1 - step**beta2_decay;   rho = min(lr, 1 / sqrt(step))
        alpha = max(eps[1], rms(p)) * rho                     (rms: sqrt(mean(x**2)))
        p = p * (1 - lr * weight_decay)                       (if weight_decay != 0)
        if p.ndim >= 2:   (factored; R, C the last two axes' lengths)
            row_var = lerp(row_var, ||g||**2 over the last axis / C, 1 - beta2_t)
            col_var = lerp(col_var, ||g||**2 over the second-to-last axis / R, 1 - beta2_t)
            v = row_var @ col_var / max(mean(row_var over R), eps1)
        else:
            variance = lerp(variance, g * g, 1 - beta2_t);  v = variance
        u = g / sqrt(max(v, eps1**2))
        p = p - alpha / max(1, rms(u) / d) * u

    Fused: a few passes over the arrays in C, no temporary of ``param``'s size (see the
    module docstring); the sums of squares in float64.

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        step: the 1-based step count after increment.
        row_var, col_var: for ``param.ndim >= 2`` (then required): the factors, of shapes
            ``param.shape[:-1] + (1,)`` and ``param.shape[:-2] + (1, C)``; updated in place.
        variance: for ``param.ndim <= 1`` (then required): ``param``'s shape; in place.
        lr, beta2_decay, eps, d, weight_decay: as in PyTorch (defaults 1e-2, -0.8,
            (None, 1e-3), 1.0, 0): ``beta2_decay <= 0``, ``d >= 1``.
        maximize: ascend instead of descend.
    """
    h = _check_hyper(lr, beta2_decay, eps, d, weight_decay, maximize)
    state = {"row_var": row_var, "col_var": col_var, "variance": variance}
    _prepare(param, grad, state, _check_step(step), h)()


class Adafactor(Optimizer):
    """Adafactor (``torch.optim.Adafactor``), without torch's ``foreach``.

    The update is :func:`adafactor_update` (fused, in C); the state of a parameter is
    ``{"step", "row_var", "col_var"}`` for two or more dimensions, ``{"step",
    "variance"}`` otherwise, all starting at zero at the parameter's first step, as in
    torch. Steps after a parameter's first take the compiled fast path
    (``_optim.AdafactorPlan``) where the arrays allow, the checked path otherwise; both
    give the same bits. An empty parameter steps as nothing, where torch's step raises
    ZeroDivisionError (it divides by the parameter's size).
    """

    def __init__(self, params: Params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: Eps = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d,
                                      weight_decay=weight_decay, maximize=maximize))

    def _hyper(self, group: Dict[str, Any]) -> Any:
        return _check_hyper(group["lr"], group["beta2_decay"], group["eps"], group["d"],
                            group["weight_decay"], group["maximize"])

    def _new_plan(self) -> _optim.AdafactorPlan:
        return _optim.AdafactorPlan()

    def _fast_spec(self, hyper: Any) -> Any:
        return _kernel_hyper(hyper), _STATE_NAMES

    def _prepare(self, param: np.ndarray, grad: Any, state: Optional[State],
                 hyper: Any) -> Tuple[Update, State]:
        new = dict(state) if state else {}
        step = new.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
            raise TypeError(f"state['step'] must be an int, got {step!r}")
        new["step"] = _check_step(int(step) + 1)
        for name, shape in _state_shapes(param).items():
            if new.get(name) is None:
                new[name] = np.zeros(shape, param.dtype)
        return _prepare(param, grad, new, new["step"], hyper), new

    def _load_entry(self, index: int, param: np.ndarray, entry: Any) -> State:
        where = f"state_dict['state'][{index}]"
        if not isinstance(entry, dict):
            raise TypeError(f"{where} must be a dict")
        shapes = _state_shapes(param)
        out: State = {}
        for name, value in entry.items():
            if name == "step":
                if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or \
                        not 0 <= value < MAX_STEP:
                    raise ValueError(f"{where}['step'] must be an int in [0, 2**63 - 2], "
                                     f"got {value!r}")
                out[name] = int(value)
            elif name in shapes:
                if not isinstance(value, np.ndarray) or value.shape != shapes[name] or \
                        value.dtype != param.dtype:
                    raise ValueError(f"{where}[{name!r}] must be an array of shape "
                                     f"{shapes[name]} and dtype {param.dtype}")
                out[name] = np.array(value, order="C", copy=True)
            else:
                raise ValueError(f"{where} has an unknown entry {name!r}")
        return out
