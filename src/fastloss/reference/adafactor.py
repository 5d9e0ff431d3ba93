"""Adafactor's step in NumPy, operation for operation as torch 2.13's
``_single_tensor_adafactor``: the specification of csrc/adafactor.c, and what
:func:`fastloss.optim.adafactor.adafactor_update` runs on the "numpy" backend. (Not in
:mod:`.optim`: Adafactor is not a row of the update rules' registry.)

Sums of squares are taken in float64 and their square roots rounded to the parameter's dtype,
where torch's ``norm`` returns a tensor; ``lerp`` and ``add(alpha=)`` as torch's vectorized
kernels round them (:func:`fastloss.reference.optim._muladd`).
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from fastloss.reference.optim import _muladd

__all__ = ["adafactor_update"]

Array = np.ndarray


def _norm(a: Array, axis: Optional[int] = None) -> Any:
    """torch.norm(a, dim=axis, keepdim=True) (the whole array for None), in a's dtype."""
    a64 = a.astype(np.float64)
    return np.sqrt(np.sum(a64 * a64, axis=axis, keepdims=axis is not None)).astype(a.dtype)


def _lerp(start: Array, end: Array, weight: float) -> None:
    """``start.lerp_(end, weight)`` in place, as at::lerp: ``start + w (end - start)`` for
    ``|w| < 0.5``, else ``end + (w - 1)(end - start)``, each one fused multiply-add."""
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        start[...] = _muladd(w, end - start, start)
    else:
        start[...] = _muladd(w - start.dtype.type(1), end - start, end)


def adafactor_update(param: Array, grad: Array, step: int, *, row_var: Optional[Array] = None,
                     col_var: Optional[Array] = None, variance: Optional[Array] = None,
                     lr: float = 1e-2, beta2_decay: float = -0.8,
                     eps: Tuple[Optional[float], float] = (None, 1e-3), d: float = 1.0,
                     weight_decay: float = 0.0, maximize: bool = False) -> None:
    dtype = param.dtype.type
    g = -grad if maximize else grad
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = float(np.finfo(param.dtype).eps)
    step_float = float(step)
    one_minus_beta2_t = step_float ** beta2_decay
    rho_t = min(lr, 1 / (step_float ** 0.5))
    alpha = max(eps2, float(_norm(param)) / (param.size ** 0.5)) * rho_t
    if weight_decay != 0:
        param *= dtype(1 - lr * weight_decay)
    if param.ndim > 1:
        assert row_var is not None and col_var is not None
        row_mean = _norm(g, -1) ** 2 / dtype(g.shape[-1])
        _lerp(row_var, row_mean, one_minus_beta2_t)
        col_mean = _norm(g, -2) ** 2 / dtype(g.shape[-2])
        _lerp(col_var, col_mean, one_minus_beta2_t)
        var_estimate = row_var @ col_var
        row_mean_var = np.mean(row_var, axis=-2, keepdims=True, dtype=np.float64)
        var_estimate /= np.maximum(row_mean_var.astype(param.dtype), dtype(eps1))
    else:
        assert variance is not None
        _lerp(variance, g * g, one_minus_beta2_t)
        var_estimate = variance.copy()
    update = 1 / np.sqrt(np.maximum(var_estimate, dtype(eps1 * eps1)))
    update *= g
    denom = max(1.0, float(_norm(update)) / ((update.size ** 0.5) * d))
    param[...] = _muladd(-alpha / denom, update, param)
