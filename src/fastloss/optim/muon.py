"""``muon_update`` and ``Muon`` (torch.optim.Muon: momentum orthogonalized by Newton-Schulz).

Not a row of :mod:`fastloss.optim._registry`: the registry's rules are one elementwise pass,
while Muon's step orthogonalizes the (Nesterov) momentum of a 2-D parameter with a few
quintic Newton-Schulz iterations, matrix products that NumPy's matmul (BLAS) runs; there is
no C kernel of its own: the elementwise steps run on existing C passes (the momentum's
at::lerp on grad_utils' averaging pass, the update on the SGD rule's ``add(alpha=)``) and
Newton-Schulz on :mod:`fastloss.reference.muon`, the specification, which the ``"numpy"``
backend runs whole (the two agree bit for bit). The one difference from torch: the
iteration runs in the parameter's dtype (float32 or float64), where torch casts to bfloat16
(so its update carries bfloat16's ~3 significant digits). The class runs on the optimizer
base class's checked path (:class:`fastloss.optim.optimizer.Optimizer`).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from fastloss import _optim
from fastloss._validation import (NON_NEGATIVE, REAL, check_choice, check_flag, check_int,
                                  check_real)
from fastloss.optim._update import (Update, _check_array, _check_disjoint, _check_grad,
                                    _check_like, _use_c, _whole)
from fastloss.optim.optimizer import Optimizer, Params, State
from fastloss.optim.sgd import sgd_update
from fastloss.reference import muon as reference
from fastloss.reference.adafactor import _lerp as _reference_lerp

__all__ = ["muon_update", "Muon"]

Coefficients = Tuple[float, float, float]

#: torch's defaults (Keller Jordan's quintic)
NS_COEFFICIENTS: Coefficients = reference.NS_COEFFICIENTS
#: torch raises for ns_steps >= 100 ("for computational efficiency")
_MAX_NS_STEPS = 99
_ADJUST_LR_FNS = (None, "original", "match_rms_adamw")


def _check_hyper(lr: Any, weight_decay: Any, momentum: Any, nesterov: Any,
                 ns_coefficients: Any, eps: Any, ns_steps: Any,
                 adjust_lr_fn: Any) -> Dict[str, Any]:
    if not isinstance(ns_coefficients, (tuple, list)) or len(ns_coefficients) != 3:
        raise TypeError("ns_coefficients must be a tuple of three numbers (a, b, c), got "
                        f"{ns_coefficients!r}")
    coefficients = tuple(check_real(v, f"ns_coefficients[{i}]", REAL)
                         for i, v in enumerate(ns_coefficients))
    return dict(lr=check_real(lr, "lr", NON_NEGATIVE),
                weight_decay=check_real(weight_decay, "weight_decay", NON_NEGATIVE),
                momentum=check_real(momentum, "momentum", NON_NEGATIVE),
                nesterov=check_flag(nesterov, "nesterov"),
                ns_coefficients=coefficients,
                eps=check_real(eps, "eps", NON_NEGATIVE),
                ns_steps=check_int(ns_steps, "ns_steps", 0, _MAX_NS_STEPS),
                adjust_lr_fn=check_choice(adjust_lr_fn, "adjust_lr_fn", _ADJUST_LR_FNS))


def _check_2d(param: np.ndarray, name: str) -> None:
    if param.ndim != 2:
        raise ValueError(f"{name} has shape {param.shape}: Muon only supports 2-D parameters "
                         "(optimize biases, embeddings and others with e.g. AdamW)")


def _prepare(param: Any, grad: Any, momentum_buffer: Any, h: Dict[str, Any],
             whole: bool = True) -> Update:
    """The checked update, ready to run: whole under Ctrl-C and never raising from
    floating-point state (``_whole``), or with ``whole=False`` bare, for a caller that runs
    it so already (``Optimizer.step``)."""
    p = _check_array(param, "param")
    _check_2d(p, "param")
    buf = _check_array(momentum_buffer, "momentum_buffer")
    _check_like(buf, "momentum_buffer", p)
    _check_disjoint((p, buf), ("param", "momentum_buffer"))
    g = _check_grad(grad, p, (p, buf))
    if p.size == 0:  # nothing to update (torch divides by zero for 0 columns)
        return lambda: None
    def update() -> None:
        if _use_c():
            _step(p, g, buf, h)
        else:
            reference.muon_update(p, g, buf, **h)

    return _whole(update) if whole else update


def _lerp(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start.lerp_(end, weight)``: grad_utils' C pass (at::lerp), or the reference's where
    that declines (a strided ``end``)."""
    if not _optim.runs_average((start,), (end,), _optim.AVERAGE_LERP, weight):
        _reference_lerp(start, end, weight)


def _step(p: np.ndarray, g: np.ndarray, buf: np.ndarray, h: Dict[str, Any]) -> None:
    """:func:`fastloss.reference.muon.muon_update` on checked arrays, its elementwise steps
    in C: the same operations, rounded alike (float32's fused multiply-adds in fmaf, where
    the reference emulates them at ~10x NumPy's cost)."""
    momentum = h["momentum"]
    _lerp(buf, g, 1 - momentum)
    update = buf
    if h["nesterov"]:
        update = g.copy()
        _lerp(update, buf, momentum)
    ortho = reference.zeropower_via_newtonschulz(update, h["ns_coefficients"], h["ns_steps"],
                                                 h["eps"])
    p *= p.dtype.type(1 - h["lr"] * h["weight_decay"])
    sgd_update(p, ortho, lr=reference.muon_adjusted_lr(h["lr"], h["adjust_lr_fn"], p.shape))


def muon_update(param: np.ndarray, grad: np.ndarray, momentum_buffer: np.ndarray, *,
                lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                nesterov: bool = True, ns_coefficients: Coefficients = NS_COEFFICIENTS,
                eps: float = 1e-7, ns_steps: int = 5,
                adjust_lr_fn: Optional[str] = None) -> None:
    r"""One Muon step (``torch.optim.Muon``), in place.

    ::

        B = lerp(B, g, 1 - momentum)                 (B: momentum_buffer; B = mu B + (1-mu) g)
        U = lerp(g, B, momentum) if nesterov else B
        X = U / max(||U||_F, eps)                    (U transposed first if it has more rows)
        repeat ns_steps times:                       (quintic Newton-Schulz, (a, b, c))
            A = X X^T;   X = a X + (b A + c A A) X
        p = p * (1 - lr * weight_decay)              (decoupled weight decay, lr unadjusted)
        p = p - adjusted_lr * X                      (X transposed back)
        adjusted_lr = lr * sqrt(max(1, R / C))       (adjust_lr_fn None or "original")
                    = lr * 0.2 * sqrt(max(R, C))     ("match_rms_adamw")

    for a parameter of ``R`` rows and ``C`` columns. The difference from torch: the
    Newton-Schulz iteration runs in ``param``'s dtype (float32 or float64), torch's in
    bfloat16 (see the module docstring); the rest is torch's, operation for operation.
    ``X`` is a few temporaries of ``param``'s size and two ``min(R, C)`` squared (matmul).

    Args:
        param: the parameters ``p``, a 2-D ``(R, C)`` float32 or float64 array, in place
            (an empty one is left as it is; torch's step divides by zero for ``C = 0``).
        grad: the gradient, ``param``'s shape and dtype (any strides).
        momentum_buffer: ``B``, ``param``'s shape and dtype, zeros before the first step
            (torch's initial state); updated in place.
        lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps,
        adjust_lr_fn: as in PyTorch (defaults 1e-3, 0.1, 0.95, True, (3.4445, -4.775,
            2.0315), 1e-7, 5, None). Stricter than torch: ``eps >= 0`` and ``ns_steps`` an
            int in ``[0, 99]`` are checked up front (torch checks ``ns_steps < 100`` at the
            step, and ``eps`` never).
    """
    h = _check_hyper(lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps,
                     adjust_lr_fn)
    _prepare(param, grad, momentum_buffer, h)()


class Muon(Optimizer):
    """Muon (``torch.optim.Muon``) for 2-D parameters.

    The update is :func:`muon_update`, Newton-Schulz in the parameter's dtype where torch's
    is in bfloat16; the state of a parameter is ``{"momentum_buffer"}``, zeros created at
    its first step, as in torch (no step count). Every parameter must be 2-D (ValueError at
    construction and in ``add_param_group``, as torch). Steps run on the base class's
    checked path.
    """

    _state_arrays = ("momentum_buffer",)

    def __init__(self, params: Params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: Coefficients = NS_COEFFICIENTS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: Optional[str] = None) -> None:
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=ns_coefficients,
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))

    def _check_param(self, param: Any, name: str) -> None:
        super()._check_param(param, name)
        _check_2d(param, name)

    def _hyper(self, group: Dict[str, Any]) -> Any:
        return _check_hyper(group["lr"], group["weight_decay"], group["momentum"],
                            group["nesterov"], group["ns_coefficients"], group["eps"],
                            group["ns_steps"], group["adjust_lr_fn"])

    def _prepare(self, param: np.ndarray, grad: Any, state: Optional[State],
                 hyper: Any) -> Tuple[Update, State]:
        new = dict(state) if state else {}
        if new.get("momentum_buffer") is None:
            new["momentum_buffer"] = np.zeros_like(param)
        # the base class's step runs it whole (deferred Ctrl-C, np.errstate) already
        return _prepare(param, grad, new["momentum_buffer"], hyper, whole=False), new


