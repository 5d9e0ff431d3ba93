"""The NumPy reference for the optimizer updates: torch.optim's algorithms written plainly.

Each function updates ``param`` and its state arrays in place, exactly as the function of the
same name in :mod:`fastloss.optim.functional` (whose docstrings give the formulas), following
the ``_single_tensor_*`` functions of ``torch.optim`` term by term. It is what the compiled
kernels are tested against, and the ``"numpy"`` backend.

The functions trust their inputs (validation lives in :mod:`fastloss.optim.functional`):
arrays of one float dtype and one shape, state arrays present when their option needs them,
hyper-parameters as Python floats (so float32 arrays stay float32), ``step`` the 1-based step
count after increment.
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Tuple

import numpy as np

Array = np.ndarray

#: Per thread, ``textbook``: whether :func:`_muladd` rounds twice as textbook NumPy does
#: (the speed baseline ``fastloss bench`` times, inside :class:`textbook_rounding`) instead
#: of emulating torch's float32 fused multiply-add (the oracle: exact, ~10x the cost of
#: ``a * b + c``). Thread-local, so a benchmark's baseline in one thread leaves the oracle
#: exact in the others.
_rounding = threading.local()


class textbook_rounding:
    """``with textbook_rounding():`` the updates round float32 ``a * b + c`` twice, as the
    NumPy code a user writes does, instead of emulating torch's one rounding exactly: what
    the benchmarks time as the NumPy baseline (the results differ in the last bits only),
    in the calling thread. A class, not a generator: entering costs a few hundred ns per
    step."""

    def __enter__(self) -> None:
        self._saved = getattr(_rounding, "textbook", False)
        _rounding.textbook = True

    def __exit__(self, *exc: Any) -> None:
        _rounding.textbook = self._saved

__all__ = ["sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "adamw_update",
           "adamax_update", "nadam_update", "radam_update", "adadelta_update", "rprop_update",
           "asgd_update", "lion_update"]


def _muladd(a: Any, b: Any, c: Array) -> Array:
    """``a * b + c`` as torch's vectorized CPU kernels round ``add(alpha=)``, ``addcmul`` and
    ``lerp``: float32 with one rounding (a fused multiply-add), float64 with two (NumPy has
    no fma; torch's differs by a float64 rounding). The float32 fma is exact: the product of
    two float32 is exact in float64, the sum is rounded to odd there (its rounding error by
    TwoSum, the last bit set where inexact), and rounding that to float32 is then correct."""
    if c.dtype != np.float32 or getattr(_rounding, "textbook", False):
        return a * b + c
    # a Python-float factor rounded to float32 first, as torch (and the kernel) take it
    p = np.asarray(a, np.float32).astype(np.float64) * np.asarray(b, np.float64)
    c64 = c.astype(np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf is NaN, as torch's fma gives; the
        s = p + c64                      # error term of an infinite s is NaN, unused
        back = s - p
        err = (p - (s - back)) + (c64 - back)
        to_odd = (err != 0) & np.isfinite(s) & (s.view(np.int64) & 1 == 0)
        s = np.where(to_odd, np.nextafter(s, np.copysign(np.inf, err)), s)
    return s.astype(np.float32)


def _lerp(start: Array, end: Array, weight: float) -> None:
    """``start.lerp_(end, weight)`` in place for ``|weight| < 0.5`` (at::lerp's first formula,
    ``start + weight (end - start)``, as a fused multiply-add: :func:`_muladd`)."""
    start[...] = _muladd(start.dtype.type(weight), end - start, start)


def sgd_update(param: Array, grad: Array, *, momentum_buffer: Optional[Array] = None,
               first_step: bool = False, lr: float = 1e-3, momentum: float = 0.0,
               dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
               maximize: bool = False) -> None:
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = _muladd(weight_decay, param, g)
    if momentum != 0:
        assert momentum_buffer is not None
        if first_step:
            momentum_buffer[...] = g
        else:
            momentum_buffer[...] = _muladd(1 - dampening, g, momentum_buffer * momentum)
        g = _muladd(momentum, momentum_buffer, g) if nesterov else momentum_buffer
    param[...] = _muladd(-lr, g, param)


def adagrad_update(param: Array, grad: Array, state_sum: Array, step: int, *,
                   lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                   eps: float = 1e-10, maximize: bool = False) -> None:
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += g * g
    param -= clr * g / (np.sqrt(state_sum) + eps)


def rmsprop_update(param: Array, grad: Array, square_avg: Array, *,
                   grad_avg: Optional[Array] = None, momentum_buffer: Optional[Array] = None,
                   lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                   weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                   maximize: bool = False) -> None:
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = _muladd(weight_decay, param, g)
    square_avg[...] = _muladd((1 - alpha) * g, g, square_avg * alpha)
    if centered:
        assert grad_avg is not None
        _lerp(grad_avg, g, 1 - alpha)
        avg = np.sqrt(_muladd(-grad_avg, grad_avg, square_avg)) + eps
    else:
        avg = np.sqrt(square_avg) + eps
    if momentum > 0:
        assert momentum_buffer is not None
        momentum_buffer *= momentum
        momentum_buffer += g / avg
        param[...] = _muladd(-lr, momentum_buffer, param)
    else:
        param -= lr * g / avg


def _adam_moments(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, lr: float,
                  betas: Tuple[float, float], weight_decay: float, maximize: bool,
                  decoupled: bool) -> Array:
    """Adam's first steps, shared by Adam, RAdam and NAdam: the weight decay (decoupled:
    ``param`` shrunk; else an L2 term in ``g``), both moments updated; returns ``g``."""
    beta1, beta2 = betas
    if decoupled:
        param *= 1 - lr * weight_decay
    g = -grad if maximize else grad
    if weight_decay != 0 and not decoupled:
        g = _muladd(weight_decay, param, g)
    _lerp(exp_avg, g, 1 - beta1)
    exp_avg_sq[...] = _muladd((1 - beta2) * g, g, exp_avg_sq * beta2)
    return g


def _adam(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, step: int, lr: float,
          betas: Tuple[float, float], eps: float, weight_decay: float, amsgrad: bool,
          max_exp_avg_sq: Optional[Array], maximize: bool, decoupled: bool) -> None:
    beta1, beta2 = betas
    _adam_moments(param, grad, exp_avg, exp_avg_sq, lr, betas, weight_decay, maximize,
                  decoupled)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    if amsgrad:
        assert max_exp_avg_sq is not None
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    denom = np.sqrt(second) / bias_correction2 ** 0.5 + eps
    param -= step_size * exp_avg / denom


def adam_update(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, step: int, *,
                lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0, amsgrad: bool = False,
                max_exp_avg_sq: Optional[Array] = None, maximize: bool = False) -> None:
    _adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, amsgrad,
          max_exp_avg_sq, maximize, decoupled=False)


def adamw_update(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, step: int, *,
                 lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 max_exp_avg_sq: Optional[Array] = None, maximize: bool = False) -> None:
    _adam(param, grad, exp_avg, exp_avg_sq, step, lr, betas, eps, weight_decay, amsgrad,
          max_exp_avg_sq, maximize, decoupled=True)


def adamax_update(param: Array, grad: Array, exp_avg: Array, exp_inf: Array, step: int, *,
                  lr: float = 2e-3, betas: Tuple[float, float] = (0.9, 0.999),
                  eps: float = 1e-8, weight_decay: float = 0.0, maximize: bool = False) -> None:
    beta1, beta2 = betas
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = _muladd(weight_decay, param, g)
    _lerp(exp_avg, g, 1 - beta1)
    exp_inf *= beta2
    np.maximum(exp_inf, np.abs(g) + eps, out=exp_inf)  # NaN propagates, as torch.maximum
    clr = lr / (1 - beta1 ** step)
    param -= clr * exp_avg / exp_inf


def radam_update(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array, step: int, *,
                 lr: float = 1e-3, betas: Tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0,
                 decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
    beta1, beta2 = betas
    _adam_moments(param, grad, exp_avg, exp_avg_sq, lr, betas, weight_decay, maximize,
                  decoupled_weight_decay and weight_decay != 0)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * beta2 ** step / bias_correction2
    update = exp_avg / bias_correction1 * lr
    if rho_t > 5:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        # torch: a float over a tensor is the tensor's reciprocal times the float
        adaptive = np.reciprocal(np.sqrt(exp_avg_sq) + eps) * bias_correction2 ** 0.5
        update = update * adaptive * rect
    param -= update


def adadelta_update(param: Array, grad: Array, square_avg: Array, acc_delta: Array, *,
                    lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                    weight_decay: float = 0.0, maximize: bool = False) -> None:
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = _muladd(weight_decay, param, g)
    square_avg *= rho
    square_avg[...] = _muladd((1 - rho) * g, g, square_avg)
    delta = np.sqrt(acc_delta + eps) / np.sqrt(square_avg + eps) * g
    acc_delta *= rho
    acc_delta[...] = _muladd((1 - rho) * delta, delta, acc_delta)
    param[...] = _muladd(-lr, delta, param)


def lion_update(param: Array, grad: Array, exp_avg: Array, *, lr: float = 1e-4,
                betas: Tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0,
                maximize: bool = False) -> None:
    beta1, beta2 = betas
    g = -grad if maximize else grad
    u = np.sign((1 - beta1) * g + beta1 * exp_avg)
    if weight_decay != 0:
        u = u + weight_decay * param
    exp_avg[...] = (1 - beta2) * g + beta2 * exp_avg
    param -= lr * u


def rprop_update(param: Array, grad: Array, prev: Array, step_size: Array, *,
                 etas: Tuple[float, float] = (0.5, 1.2),
                 step_sizes: Tuple[float, float] = (1e-6, 50.0), maximize: bool = False) -> None:
    etaminus, etaplus = etas
    step_size_min, step_size_max = step_sizes
    g = -grad if maximize else grad
    product = g * prev
    factor = np.where(product > 0, etaplus, np.where(product < 0, etaminus, 1.0))
    factor = np.where(np.isnan(product), product, factor).astype(param.dtype)
    step_size *= factor
    np.clip(step_size, step_size_min, step_size_max, out=step_size)
    g = np.where(factor == param.dtype.type(etaminus), 0, g).astype(param.dtype)
    param -= np.sign(g) * step_size
    prev[...] = g


def nadam_update(param: Array, grad: Array, exp_avg: Array, exp_avg_sq: Array,
                 mu_product: Array, step: int, *, lr: float = 2e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, maximize: bool = False) -> None:
    beta1, beta2 = betas
    g = _adam_moments(param, grad, exp_avg, exp_avg_sq, lr, betas, weight_decay, maximize,
                      decoupled_weight_decay and weight_decay != 0)
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
    mu_product *= mu  # a 0-d array: in its dtype, as torch's 0-d tensor
    product = float(mu_product)
    denom = np.sqrt(exp_avg_sq / (1 - beta2 ** step)) + eps
    param += (-lr * (1.0 - mu) / (1.0 - product)) * g / denom
    param += (-lr * mu_next / (1.0 - product * mu_next)) * exp_avg / denom


def asgd_update(param: Array, grad: Array, ax: Array, mu: Array, eta: Array, step: int, *,
                lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                weight_decay: float = 0.0, maximize: bool = False) -> None:
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = _muladd(weight_decay, param, g)
    eta_value, mu_value = float(eta), mu.copy()
    param *= 1 - lambd * eta_value
    param[...] = _muladd(-eta_value, g, param)
    if mu_value != 1:
        ax += (param - ax) * mu_value
    else:
        ax[...] = param
    eta[...] = lr / (1 + lambd * lr * step) ** alpha  # 0-d arrays: rounded to their dtype
    mu[...] = 1 / max(1, step - t0)
