"""One optimizer step on one parameter array, in place: the functional core of fastloss.optim.

Each ``*_update`` function applies one step of a ``torch.optim`` algorithm to ``param`` and
its state arrays, in place, in one fused pass (compiled backend) or in NumPy (the
``"numpy"`` backend, :mod:`fastloss.reference.optim`). The formulas are PyTorch's
``_single_tensor_*`` functions (torch 2.13, ``differentiable=False, capturable=False``),
operation for operation, so trajectories agree with PyTorch to rounding.

Conventions shared by every function here:

* ``param`` and the state arrays are updated in place: each must be a writeable,
  C-contiguous ``numpy.ndarray`` of dtype float32 or float64 (native byte order); the state
  arrays have ``param``'s shape and dtype and share no memory with it or with each other.
* ``grad`` is a ``numpy.ndarray`` of ``param``'s shape and dtype; it is only read, and may
  be non-contiguous (it is then copied).
* State arrays every call needs are positional; those only an option needs are keywords,
  required exactly when the option is on (``momentum_buffer`` when ``momentum != 0``,
  ``grad_avg`` when ``centered``, ``max_exp_avg_sq`` when ``amsgrad``).
* ``step`` is the 1-based step count *after* increment (the caller counts: 1 on the first
  call). Hyper-parameters are real numbers: non-negative and finite, betas in ``[0, 1)``.
* Arithmetic is in the arrays' dtype with hyper-parameters rounded to it, as in PyTorch;
  per-call scalars (bias corrections, step sizes) are computed once in float64.
* Every argument is checked before any array is touched: after a ``TypeError`` or
  ``ValueError`` all arrays are byte-identical to what they were. The common call (Python
  float hyper-parameters, bool flags, arrays as the kernels want them) is checked and run
  in one compiled call; anything else goes through the checks below, which raise or copy.
* An update is applied whole on both backends: a Ctrl-C during it is raised when it is
  done, and floating-point state (``np.errstate(all="raise")``) never interrupts it.
* ``n_threads``: ``None`` uses :func:`fastloss.get_num_threads` for arrays of at least
  ``fastloss.THREADING_THRESHOLD`` elements and one thread below. Results do not depend on
  the thread count.

Below, ``g`` is the gradient after the sign flip (``-grad`` if ``maximize``) and, where
noted, the L2 term; ``p`` is ``param``; all operations are elementwise.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, NamedTuple, Optional, Tuple

import numpy as np

from fastloss import _atomic, _backend, _config, _optim
from fastloss._validation import reject_masked
from fastloss._validation import INT64_MAX, check_disjoint, to_float
from fastloss.reference import optim as _ref

__all__ = ["sgd_update", "adagrad_update", "rmsprop_update", "adam_update", "adamw_update"]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_INF = float("inf")

#: the largest step count (state["step"] is an int64 in torch's checkpoints)
MAX_STEP = INT64_MAX

#: a prepared update: everything checked, calling it runs the kernel
Update = Callable[[], None]


# ---- validation -------------------------------------------------------------------------

def _check_array(a: Any, name: str) -> np.ndarray:
    """``a`` as an array the kernels may update in place, or a clear error."""
    if not isinstance(a, np.ndarray) or isinstance(a, np.ma.MaskedArray):
        reject_masked(a, name)
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(a).__name__}")
    dt = a.dtype
    if dt is not _F64 and dt is not _F32 and dt != _F64 and dt != _F32:
        if dt.kind == "f" and dt.itemsize in (4, 8):
            raise TypeError(f"{name} must be float32 or float64 in native byte order, "
                            f"got dtype {dt.str}")
        raise TypeError(f"{name} must be a float32 or float64 array, got dtype {dt}")
    flags = a.flags
    if not flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous: it is updated in place")
    if not flags.writeable:
        raise ValueError(f"{name} is read-only: it is updated in place")
    return a


def _check_like(a: np.ndarray, name: str, param: np.ndarray) -> None:
    if a.shape != param.shape:
        raise ValueError(f"{name} has shape {a.shape}, expected param's shape {param.shape}")
    if a.dtype != param.dtype:
        raise TypeError(f"{name} has dtype {a.dtype}, expected param's dtype {param.dtype}")


def _check_state(a: Any, name: str, param: np.ndarray) -> None:
    _check_like(_check_array(a, name), name, param)


#: the arrays a kernel writes (C-contiguous, checked) must not share memory
_check_disjoint = check_disjoint


def _check_grad(grad: Any, param: np.ndarray, written: Tuple[np.ndarray, ...]) -> np.ndarray:
    """``grad`` as a C-contiguous array the kernel may read while it writes ``written``."""
    if not isinstance(grad, np.ndarray) or isinstance(grad, np.ma.MaskedArray):
        reject_masked(grad, "grad")
        raise TypeError(f"grad must be a numpy.ndarray, got {type(grad).__name__}")
    _check_like(grad, "grad", param)
    if not grad.flags.c_contiguous:
        return np.ascontiguousarray(grad)
    if _optim.first_overlap((grad,) + written) is not None:  # `written` are disjoint
        return grad.copy()  # the kernels read grad while writing the others
    return grad


def _check_hyper(value: Any, name: str, upper: float = _INF) -> float:
    """A finite real ``>= 0`` (and ``< upper``), as a Python float."""
    t = type(value)
    if t is float or t is int:  # the common case, kept cheap for small calls
        v = to_float(value)
        if 0.0 <= v < upper:
            return v
    elif isinstance(value, (str, bytes, np.ndarray, list, tuple)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    else:
        try:
            v = to_float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be a real number, got {value!r}") from None
        if 0.0 <= v < upper:
            return v
    expected = f"in [0, {upper:g})" if upper != _INF else "finite and >= 0"
    raise ValueError(f"{name} must be {expected}, got {value!r}")


def _check_betas(betas: Any) -> Tuple[float, float]:
    if type(betas) is tuple and len(betas) == 2:
        return _check_hyper(betas[0], "betas[0]", 1.0), _check_hyper(betas[1], "betas[1]", 1.0)
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"betas must be a pair of numbers (beta1, beta2), got {betas!r}") \
            from None
    return _check_hyper(b1, "betas[0]", 1.0), _check_hyper(b2, "betas[1]", 1.0)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return bool(value)


def _check_step(step: Any) -> int:
    if isinstance(step, (bool, np.bool_)):
        raise TypeError(f"step must be an int >= 1, got {step!r}")
    try:
        s = operator.index(step)
    except TypeError:
        if isinstance(step, (float, np.floating)) and float(step).is_integer():
            s = int(step)  # PyTorch keeps the step count in a float tensor
        else:
            raise TypeError(f"step must be an int >= 1, got {step!r}") from None
    if not 1 <= s <= MAX_STEP:
        raise ValueError(f"step must be in [1, 2**63 - 1] (the count after increment), got "
                         f"{step!r}")
    return s


def _required(value: Any, name: str, why: str) -> Any:
    if value is None:
        raise ValueError(f"{name} is required when {why}")
    return value


def _use_c() -> bool:
    return _backend.get_backend() == "c"


def _whole(update: Update) -> Update:
    """A NumPy-backend update (several NumPy operations) run as the kernel runs: whole
    under Ctrl-C, and never raising from floating-point state (``np.errstate``)."""
    def run() -> None:
        with _atomic.deferred_interrupt(), np.errstate(all="ignore"):
            update()
    return run


# ---- checked hyper-parameters ---------------------------------------------------------------
# Checked once per call (Optimizer.step: once per group, not once per array).

class SGDHyper(NamedTuple):
    lr: float
    momentum: float
    dampening: float
    weight_decay: float
    nesterov: bool
    maximize: bool


class AdagradHyper(NamedTuple):
    lr: float
    lr_decay: float
    weight_decay: float
    eps: float
    maximize: bool


class RMSpropHyper(NamedTuple):
    lr: float
    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool
    maximize: bool


class AdamHyper(NamedTuple):
    lr: float
    beta1: float
    beta2: float
    eps: float
    weight_decay: float
    amsgrad: bool
    maximize: bool
    decoupled: bool


def _sgd_hyper(lr: Any, momentum: Any, dampening: Any, weight_decay: Any, nesterov: Any,
               maximize: Any) -> SGDHyper:
    h = SGDHyper(_check_hyper(lr, "lr"), _check_hyper(momentum, "momentum"),
                 _check_hyper(dampening, "dampening"), _check_hyper(weight_decay, "weight_decay"),
                 _check_flag(nesterov, "nesterov"), _check_flag(maximize, "maximize"))
    if h.nesterov and (h.momentum <= 0 or h.dampening != 0):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening == 0")
    return h


def _adagrad_hyper(lr: Any, lr_decay: Any, weight_decay: Any, eps: Any,
                   maximize: Any) -> AdagradHyper:
    return AdagradHyper(_check_hyper(lr, "lr"), _check_hyper(lr_decay, "lr_decay"),
                        _check_hyper(weight_decay, "weight_decay"), _check_hyper(eps, "eps"),
                        _check_flag(maximize, "maximize"))


def _rmsprop_hyper(lr: Any, alpha: Any, eps: Any, weight_decay: Any, momentum: Any,
                   centered: Any, maximize: Any) -> RMSpropHyper:
    return RMSpropHyper(_check_hyper(lr, "lr"), _check_hyper(alpha, "alpha"),
                        _check_hyper(eps, "eps"), _check_hyper(weight_decay, "weight_decay"),
                        _check_hyper(momentum, "momentum"), _check_flag(centered, "centered"),
                        _check_flag(maximize, "maximize"))


def _adam_hyper(lr: Any, betas: Any, eps: Any, weight_decay: Any, amsgrad: Any, maximize: Any,
                decoupled: bool) -> AdamHyper:
    b1, b2 = _check_betas(betas)
    return AdamHyper(_check_hyper(lr, "lr"), b1, b2, _check_hyper(eps, "eps"),
                     _check_hyper(weight_decay, "weight_decay"), _check_flag(amsgrad, "amsgrad"),
                     _check_flag(maximize, "maximize"), decoupled)


# ---- prepared updates: arrays checked, kernel not yet run --------------------------------------
# Optimizer.step prepares every array first and runs them all only if nothing failed.

def _prepare_sgd(param: Any, grad: Any, momentum_buffer: Any, first_step: bool, h: SGDHyper,
                 n_threads: Optional[int]) -> Update:
    p = _check_array(param, "param")
    buf = None
    if h.momentum != 0:
        buf = _required(momentum_buffer, "momentum_buffer", "momentum != 0")
        _check_state(buf, "momentum_buffer", p)
        _check_disjoint((p, buf), ("param", "momentum_buffer"))
    g = _check_grad(grad, p, (p,) if buf is None else (p, buf))
    nt = _config.resolve_threads(n_threads, p.size)
    if _use_c():
        return lambda: _optim.sgd(p, g, buf, h.lr, h.momentum, h.dampening, h.weight_decay,
                                  h.nesterov, h.maximize, first_step, nt)
    return _whole(lambda: _ref.sgd_update(
        p, g, momentum_buffer=buf, first_step=first_step, lr=h.lr, momentum=h.momentum,
        dampening=h.dampening, weight_decay=h.weight_decay, nesterov=h.nesterov,
        maximize=h.maximize))


def _prepare_adagrad(param: Any, grad: Any, state_sum: Any, step: int, h: AdagradHyper,
                     n_threads: Optional[int]) -> Update:
    p = _check_array(param, "param")
    _check_state(state_sum, "state_sum", p)
    _check_disjoint((p, state_sum), ("param", "state_sum"))
    g = _check_grad(grad, p, (p, state_sum))
    nt = _config.resolve_threads(n_threads, p.size)
    if _use_c():
        return lambda: _optim.adagrad(p, g, state_sum, step, h.lr, h.lr_decay, h.weight_decay,
                                      h.eps, h.maximize, nt)
    return _whole(lambda: _ref.adagrad_update(
        p, g, state_sum, step, lr=h.lr, lr_decay=h.lr_decay, weight_decay=h.weight_decay,
        eps=h.eps, maximize=h.maximize))


def _prepare_rmsprop(param: Any, grad: Any, square_avg: Any, grad_avg: Any,
                     momentum_buffer: Any, h: RMSpropHyper, n_threads: Optional[int]) -> Update:
    p = _check_array(param, "param")
    _check_state(square_avg, "square_avg", p)
    written: Tuple[np.ndarray, ...] = (p, square_avg)
    names: Tuple[str, ...] = ("param", "square_avg")
    ga = buf = None
    if h.centered:
        ga = _required(grad_avg, "grad_avg", "centered=True")
        _check_state(ga, "grad_avg", p)
        written, names = written + (ga,), names + ("grad_avg",)
    if h.momentum > 0:
        buf = _required(momentum_buffer, "momentum_buffer", "momentum > 0")
        _check_state(buf, "momentum_buffer", p)
        written, names = written + (buf,), names + ("momentum_buffer",)
    _check_disjoint(written, names)
    g = _check_grad(grad, p, written)
    nt = _config.resolve_threads(n_threads, p.size)
    if _use_c():
        return lambda: _optim.rmsprop(p, g, square_avg, ga, buf, h.lr, h.alpha, h.eps,
                                      h.weight_decay, h.momentum, h.maximize, nt)
    return _whole(lambda: _ref.rmsprop_update(
        p, g, square_avg, grad_avg=ga, momentum_buffer=buf, lr=h.lr, alpha=h.alpha, eps=h.eps,
        weight_decay=h.weight_decay, momentum=h.momentum, centered=h.centered,
        maximize=h.maximize))


_ADAM_NAMES = ("param", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")


def _prepare_adam(param: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, step: int,
                  max_exp_avg_sq: Any, h: AdamHyper, n_threads: Optional[int]) -> Update:
    p = _check_array(param, "param")
    _check_state(exp_avg, "exp_avg", p)
    _check_state(exp_avg_sq, "exp_avg_sq", p)
    vmax = None
    if h.amsgrad:
        vmax = _required(max_exp_avg_sq, "max_exp_avg_sq", "amsgrad=True")
        _check_state(vmax, "max_exp_avg_sq", p)
    written = (p, exp_avg, exp_avg_sq) if vmax is None else (p, exp_avg, exp_avg_sq, vmax)
    _check_disjoint(written, _ADAM_NAMES)
    g = _check_grad(grad, p, written)
    nt = _config.resolve_threads(n_threads, p.size)
    if _use_c():
        return lambda: _optim.adam(p, g, exp_avg, exp_avg_sq, vmax, step, h.lr, h.beta1,
                                   h.beta2, h.eps, h.weight_decay, h.decoupled, h.maximize, nt)
    ref = _ref.adamw_update if h.decoupled else _ref.adam_update
    return _whole(lambda: ref(
        p, g, exp_avg, exp_avg_sq, step, lr=h.lr, betas=(h.beta1, h.beta2), eps=h.eps,
        weight_decay=h.weight_decay, amsgrad=h.amsgrad, max_exp_avg_sq=vmax,
        maximize=h.maximize))


# ---- public functions -------------------------------------------------------------------

def sgd_update(param: np.ndarray, grad: np.ndarray, *,
               momentum_buffer: Optional[np.ndarray] = None, first_step: bool = False,
               lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
               weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False,
               n_threads: Optional[int] = None) -> None:
    r"""One step of stochastic gradient descent (``torch.optim.SGD``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0)
        if momentum != 0:
            buf = g                                  (first_step: PyTorch's clone)
            buf = momentum * buf + (1 - dampening) * g   (later steps)
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        momentum_buffer: ``buf``, required when ``momentum != 0``; updated in place.
        first_step: the buffer holds nothing yet (PyTorch's ``momentum_buffer is None``): it
            is set to ``g`` rather than averaged.
        lr, momentum, dampening, weight_decay: as in PyTorch (defaults 1e-3, 0, 0, 0).
        nesterov: Nesterov momentum; needs ``momentum > 0`` and ``dampening == 0``.
        maximize: ascend instead of descend.
        n_threads: see the module docstring.
    """
    if n_threads is None and _use_c() and _optim.sgd_fast(
            param, grad, momentum_buffer, first_step, lr, momentum, dampening, weight_decay,
            nesterov, maximize, _config.THREADING_THRESHOLD, _config.large_call_threads):
        return
    h = _sgd_hyper(lr, momentum, dampening, weight_decay, nesterov, maximize)
    _prepare_sgd(param, grad, momentum_buffer, _check_flag(first_step, "first_step"), h,
                 n_threads)()


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
        n_threads: see the module docstring.
    """
    if n_threads is None and _use_c() and _optim.adagrad_fast(
            param, grad, state_sum, step, lr, lr_decay, weight_decay, eps, maximize,
            _config.THREADING_THRESHOLD, _config.large_call_threads):
        return
    h = _adagrad_hyper(lr, lr_decay, weight_decay, eps, maximize)
    _prepare_adagrad(param, grad, state_sum, _check_step(step), h, n_threads)()


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
        n_threads: see the module docstring.
    """
    if n_threads is None and _use_c() and _optim.rmsprop_fast(
            param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
            momentum, centered, maximize, _config.THREADING_THRESHOLD, _config.large_call_threads):
        return
    h = _rmsprop_hyper(lr, alpha, eps, weight_decay, momentum, centered, maximize)
    _prepare_rmsprop(param, grad, square_avg, grad_avg, momentum_buffer, h, n_threads)()


def adam_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                exp_avg_sq: np.ndarray, step: int, *, lr: float = 1e-3,
                betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                weight_decay: float = 0.0, amsgrad: bool = False,
                max_exp_avg_sq: Optional[np.ndarray] = None, maximize: bool = False,
                n_threads: Optional[int] = None) -> None:
    r"""One Adam step (``torch.optim.Adam``), in place.

    ::

        g = -grad if maximize else grad
        g = g + weight_decay * p                     (if weight_decay != 0: L2 penalty)
        exp_avg = lerp(exp_avg, g, 1 - beta1)        (exp_avg + (1 - beta1)(g - exp_avg))
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        if amsgrad:
            max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)   (NaN propagates)
        v = max_exp_avg_sq if amsgrad else exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = sqrt(v) / sqrt(1 - beta2**step) + eps
        p = p - step_size * exp_avg / denom

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg, exp_avg_sq: first and second moment estimates; updated in place.
        step: the 1-based step count after increment (the bias corrections use it).
        lr, betas, eps: as in PyTorch (defaults 1e-3, (0.9, 0.999), 1e-8).
        weight_decay: L2 penalty added to the gradient (default 0); see ``adamw_update``
            for decoupled decay.
        amsgrad: normalize by the running maximum ``max_exp_avg_sq`` (then required).
        max_exp_avg_sq: the running maximum of ``exp_avg_sq``; updated in place.
        maximize: ascend instead of descend.
        n_threads: see the module docstring.
    """
    if n_threads is None and _use_c() and _optim.adam_fast(
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, betas, eps,
            weight_decay, amsgrad, maximize, False, _config.THREADING_THRESHOLD,
            _config.large_call_threads):
        return
    h = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, False)
    _prepare_adam(param, grad, exp_avg, exp_avg_sq, _check_step(step), max_exp_avg_sq, h,
                  n_threads)()


def adamw_update(param: np.ndarray, grad: np.ndarray, exp_avg: np.ndarray,
                 exp_avg_sq: np.ndarray, step: int, *, lr: float = 1e-3,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False,
                 max_exp_avg_sq: Optional[np.ndarray] = None, maximize: bool = False,
                 n_threads: Optional[int] = None) -> None:
    r"""One AdamW step (``torch.optim.AdamW``: decoupled weight decay), in place.

    ::

        p = p * (1 - lr * weight_decay)              (first; no L2 term in g)
        g = -grad if maximize else grad
        exp_avg = lerp(exp_avg, g, 1 - beta1)        (exp_avg + (1 - beta1)(g - exp_avg))
        exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
        if amsgrad:
            max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq)   (NaN propagates)
        v = max_exp_avg_sq if amsgrad else exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = sqrt(v) / sqrt(1 - beta2**step) + eps
        p = p - step_size * exp_avg / denom

    Args:
        param: the parameters ``p``, any shape; updated in place.
        grad: the gradient, ``param``'s shape and dtype.
        exp_avg, exp_avg_sq: first and second moment estimates; updated in place.
        step: the 1-based step count after increment (the bias corrections use it).
        lr, betas, eps: as in PyTorch (defaults 1e-3, (0.9, 0.999), 1e-8).
        weight_decay: decoupled decay rate (default 1e-2, as in PyTorch).
        amsgrad: normalize by the running maximum ``max_exp_avg_sq`` (then required).
        max_exp_avg_sq: the running maximum of ``exp_avg_sq``; updated in place.
        maximize: ascend instead of descend.
        n_threads: see the module docstring.
    """
    if n_threads is None and _use_c() and _optim.adam_fast(
            param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, betas, eps,
            weight_decay, amsgrad, maximize, True, _config.THREADING_THRESHOLD,
            _config.large_call_threads):
        return
    h = _adam_hyper(lr, betas, eps, weight_decay, amsgrad, maximize, True)
    _prepare_adam(param, grad, exp_avg, exp_avg_sq, _check_step(step), max_exp_avg_sq, h,
                  n_threads)()
