"""Muon's step in NumPy, operation for operation as torch 2.13's ``_single_tensor_muon``, but
with the Newton-Schulz iteration in the parameter's dtype (torch runs it in bfloat16): the
specification of :func:`fastloss.optim.muon.muon_update`, which runs it on both backends (the
step is matrix products, NumPy's matmul is the engine). (Not in :mod:`.optim`: Muon is not a
row of the update rules' registry.)

``lerp`` and ``add(alpha=)`` are rounded as torch's vectorized CPU kernels round them
(:func:`fastloss.reference.optim._muladd`); the Frobenius norm is summed in float64 and
rounded to the parameter's dtype.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from fastloss.reference.adafactor import _lerp, _norm
from fastloss.reference.optim import _muladd

__all__ = ["zeropower_via_newtonschulz", "muon_adjusted_lr", "muon_update"]

Array = np.ndarray

#: Keller Jordan's quintic coefficients and step count, torch's defaults
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def zeropower_via_newtonschulz(grad: Array,
                               ns_coefficients: Tuple[float, float, float] = NS_COEFFICIENTS,
                               ns_steps: int = NS_STEPS, eps: float = 1e-7) -> Array:
    """The orthogonalized ``grad`` (a new array, ``grad``'s shape and dtype): ``ns_steps``
    quintic Newton-Schulz iterations ``X <- a X + (b A + c A A) X``, ``A = X X^T``, from
    ``X = G / max(||G||_F, eps)``, on the wide orientation of G (transposed when it has
    more rows than columns, so that ``A`` is the smaller Gram matrix)."""
    dtype = grad.dtype.type
    a, b, c = (dtype(v) for v in ns_coefficients)
    tall = grad.shape[0] > grad.shape[1]
    x = grad.T if tall else grad
    x = x / max(_norm(x), dtype(eps))
    for _ in range(ns_steps):
        gram = x @ x.T
        gram_update = b * gram + c * (gram @ gram)  # torch.addmm(gram, gram, gram, b, c)
        x = a * x + gram_update @ x  # torch.addmm(x, gram_update, x, beta=a)
    return x.T if tall else x


def muon_adjusted_lr(lr: float, adjust_lr_fn: Optional[str], shape: Tuple[int, ...]) -> float:
    """torch's ``_adjust_lr``: ``lr sqrt(max(1, A / B))`` ("original", None) or
    ``0.2 lr sqrt(max(A, B))`` ("match_rms_adamw") for an ``A x B`` parameter."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * max(1.0, rows / cols) ** 0.5
    return lr * 0.2 * max(rows, cols) ** 0.5


def muon_update(param: Array, grad: Array, momentum_buffer: Array, *, lr: float = 1e-3,
                weight_decay: float = 0.1, momentum: float = 0.95, nesterov: bool = True,
                ns_coefficients: Tuple[float, float, float] = NS_COEFFICIENTS,
                eps: float = 1e-7, ns_steps: int = NS_STEPS,
                adjust_lr_fn: Optional[str] = None) -> None:
    _lerp(momentum_buffer, grad, 1 - momentum)
    if nesterov:
        update = grad.astype(grad.dtype, copy=True)
        _lerp(update, momentum_buffer, momentum)
    else:
        update = momentum_buffer
    ortho = zeropower_via_newtonschulz(update, ns_coefficients, ns_steps, eps)
    adjusted_lr = muon_adjusted_lr(lr, adjust_lr_fn, param.shape)
    param *= param.dtype.type(1 - lr * weight_decay)
    param[...] = _muladd(-adjusted_lr, ortho, param)
