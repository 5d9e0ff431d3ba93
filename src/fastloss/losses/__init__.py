"""Loss functions, their gradients, and both at once, for NumPy arrays.

Names, argument order (prediction first, then target) and semantics follow
``torch.nn.functional``, so the numbers match PyTorch to rounding. Every loss ``L`` comes
in three forms, and a twice-differentiable elementwise one in a fourth::

    L(input, target, ...)                  -> value
    L_grad(input, target, ..., out=None)   -> dvalue/dinput, same shape as input
    L_value_and_grad(input, target, ..., out=None) -> (value, grad), from one pass
    L_grad_hess(input, target, ..., out=None) -> (grad, hess), from one pass

``hess`` is the diagonal of the Hessian of the (reduced) value w.r.t. the input, which for
an elementwise loss is the whole Hessian (scikit-learn's ``gradient_hessian``), scaled by
the reduction as the gradient is; ``out`` is then a pair ``(grad, hess)`` of arrays. A loss
whose Hessian is 0 almost everywhere (l1) has no ``L_grad_hess``; the registry's
``hessian`` column says which have one.

Conventions shared by every function here:

* ``reduction`` is ``"mean"`` (default), ``"sum"`` or ``"none"``. Reduced values are NumPy
  scalars of the input's dtype; ``"none"`` returns the per-element (or per-row) losses. For
  ``"none"`` the gradient is that of the *sum* of the unreduced losses, i.e. each element's
  own derivative.
* dtypes: ``input`` is float32 or float64; integer and bool arrays, like Python lists and
  scalars, are converted to float64 (then ``out`` must be float64 too). The result, the
  gradient and all arithmetic use the input's dtype; the target and weights are cast to
  it. Sums are accumulated in float64 whatever the dtype. Masked arrays are refused
  (``np.asarray`` would drop the mask): fill them first.
* Shapes: the target has the input's shape (no implicit broadcasting, unlike PyTorch which
  only warns); elementwise weights broadcast to the input's shape.
* ``sample_weight`` (keyword only, every elementwise loss; scikit-learn's per-sample weights
  next to torch's ``weight``): finite, non-negative, of the input's shape or one that
  broadcasts to it with as many dimensions (``(N, 1)``: a weight per row of ``(N, C)``).
  It multiplies each element's loss (``"none"``: ``sw l``; ``"sum"``: ``sum(sw l)``) and
  ``"mean"`` divides by ``sum(sw)`` (scikit-learn's convention) where torch's mean divides
  by N, by ``sum(weight sw)`` where torch's divides by ``sum(weight)``; the gradient and
  Hessian are those of that value.
* Non-contiguous inputs are copied to a contiguous buffer first; read-only inputs are fine.
  ``out`` must be a C-contiguous, writeable array of the input's shape and dtype that does
  not overlap any input; it is returned.
* NaN in, NaN out: a NaN input or target gives a NaN loss and NaN gradient where it
  enters, never an exception.
* The mean of an empty input is NaN, as in PyTorch; its sum is 0.
* ``n_threads``: ``None`` uses :func:`fastloss.get_num_threads` for inputs of at least
  ``fastloss.THREADING_THRESHOLD`` elements and one thread below that. Results are
  deterministic for a given thread count.
* The active backend (:func:`fastloss.set_backend`) decides whether the compiled kernels or
  the NumPy reference (:mod:`fastloss.reference`) run; both get the same validation.
"""

from __future__ import annotations

import functools
import operator
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from fastloss import _backend, _config, _losses, reference
from fastloss._validation import (
    Interval,
    Intervals,
    check_choice,
    check_flag,
    check_real,
    first_where,
    reject_masked,
)
from fastloss.losses._registry import LOSSES, Choice, Loss

# Spelled out for type checkers and readers; tests/test_loss_registry.py checks that it is
# _registry.PUBLIC_NAMES (three functions per row of LOSSES), then losses.ctc's.
__all__ = [
    "mse_loss", "mse_loss_grad", "mse_loss_value_and_grad", "mse_loss_grad_hess",
    "l1_loss", "l1_loss_grad", "l1_loss_value_and_grad",
    "huber_loss", "huber_loss_grad", "huber_loss_value_and_grad", "huber_loss_grad_hess",
    "smooth_l1_loss", "smooth_l1_loss_grad", "smooth_l1_loss_value_and_grad",
    "smooth_l1_loss_grad_hess",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_value_and_grad", "binary_cross_entropy_grad_hess",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "binary_cross_entropy_with_logits_value_and_grad",
    "binary_cross_entropy_with_logits_grad_hess",
    "cross_entropy", "cross_entropy_grad", "cross_entropy_value_and_grad",
    "cross_entropy_grad_hess",
    "nll_loss", "nll_loss_grad", "nll_loss_value_and_grad", "nll_loss_grad_hess",
    "kl_div", "kl_div_grad", "kl_div_value_and_grad", "kl_div_grad_hess",
    "soft_margin_loss", "soft_margin_loss_grad", "soft_margin_loss_value_and_grad",
    "soft_margin_loss_grad_hess", "poisson_nll_loss", "poisson_nll_loss_grad",
    "poisson_nll_loss_value_and_grad", "poisson_nll_loss_grad_hess", "hinge_embedding_loss",
    "hinge_embedding_loss_grad", "hinge_embedding_loss_value_and_grad", "log_cosh_loss",
    "log_cosh_loss_grad", "log_cosh_loss_value_and_grad", "log_cosh_loss_grad_hess",
    "hinge_loss", "hinge_loss_grad", "hinge_loss_value_and_grad", "squared_hinge_loss",
    "squared_hinge_loss_grad", "squared_hinge_loss_value_and_grad",
    "squared_hinge_loss_grad_hess", "modified_huber_loss", "modified_huber_loss_grad",
    "modified_huber_loss_value_and_grad", "modified_huber_loss_grad_hess",
    "epsilon_insensitive_loss", "epsilon_insensitive_loss_grad",
    "epsilon_insensitive_loss_value_and_grad", "pinball_loss", "pinball_loss_grad",
    "pinball_loss_value_and_grad", "gamma_nll_loss", "gamma_nll_loss_grad",
    "gamma_nll_loss_value_and_grad", "gamma_nll_loss_grad_hess", "tweedie_loss",
    "tweedie_loss_grad", "tweedie_loss_value_and_grad", "tweedie_loss_grad_hess",
    "multi_margin_loss", "multi_margin_loss_grad", "multi_margin_loss_value_and_grad",
    "multi_margin_loss_grad_hess",
    "multilabel_soft_margin_loss", "multilabel_soft_margin_loss_grad",
    "multilabel_soft_margin_loss_value_and_grad", "multilabel_soft_margin_loss_grad_hess",
    "multilabel_margin_loss", "multilabel_margin_loss_grad",
    "multilabel_margin_loss_value_and_grad", "multilabel_margin_loss_grad_hess",
    "cosine_embedding_loss", "cosine_embedding_loss_grad",
    "cosine_embedding_loss_value_and_grad",
    "triplet_margin_loss", "triplet_margin_loss_grad", "triplet_margin_loss_value_and_grad",
    "margin_ranking_loss", "margin_ranking_loss_grad", "margin_ranking_loss_value_and_grad",
    "gaussian_nll_loss", "gaussian_nll_loss_grad", "gaussian_nll_loss_value_and_grad",
    "gaussian_nll_loss_grad_hess",
    "sigmoid_focal_loss", "sigmoid_focal_loss_grad", "sigmoid_focal_loss_value_and_grad",
    "sigmoid_focal_loss_grad_hess",
    # not rows of the registry: losses.ctc (a dynamic program per sample, its own kernel)
    "ctc_loss", "ctc_loss_grad", "ctc_loss_value_and_grad",
]

FloatArray = NDArray[np.floating[Any]]
#: A reduced loss is a NumPy scalar of the input's dtype; reduction="none" gives an array.
LossValue = Union[np.floating[Any], FloatArray]
#: the ``out`` of a ``*_grad_hess`` function: arrays for the gradient and the Hessian
OutPair = Tuple[FloatArray, FloatArray]

_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_REDUCTIONS = ("mean", "sum", "none")

# what a call computes: a set of bits (_GRAD_HESS: the gradient and the Hessian's diagonal)
_VALUE, _GRAD, _BOTH, _HESS = 1, 2, 3, 4
_GRAD_HESS = _GRAD | _HESS
_SUFFIX = {_VALUE: "", _GRAD: "_grad", _BOTH: "_value_and_grad", _GRAD_HESS: "_grad_hess"}


# ---- validation -------------------------------------------------------------------------

def _contiguous(a: Any, dtype: Optional[np.dtype[Any]] = None) -> Any:
    """A C-contiguous copy (or view) of ``a``; unlike ``np.ascontiguousarray`` keeps 0-d."""
    return np.asarray(a, dtype=dtype, order="C")


def _as_float(a: Any, name: str) -> FloatArray:
    """``a`` as a C-contiguous float32/float64 ndarray (a no-op when it already is one).

    Integer and bool arrays, like Python lists and scalars of numbers, become float64.
    """
    if type(a) is np.ndarray:
        dt = a.dtype
        if dt is _F64 or dt is _F32:
            return a if a.flags.c_contiguous else _contiguous(a)
        if dt.kind == "f" and dt.itemsize in (4, 8):  # non-native byte order
            return _contiguous(a, _F64 if dt.itemsize == 8 else _F32)
        if dt.kind in "biu":  # as a list of ints would be
            return _contiguous(a, _F64)
        if dt.kind == "O":
            raise TypeError(f"{name} must be a numeric array, got an object array")
        raise TypeError(f"{name} must be a float32, float64, integer or bool array, got "
                        f"dtype {dt}")
    reject_masked(a, name)
    arr = np.asarray(a)
    if type(arr) is not np.ndarray:
        arr = arr.view(np.ndarray)
    return _as_float(arr, name)


def _as_dtype(a: Any, dtype: np.dtype[Any], name: str) -> FloatArray:
    """``a`` cast to ``dtype``, C-contiguous; only real numbers are accepted."""
    if type(a) is np.ndarray and a.dtype is dtype:
        return a if a.flags.c_contiguous else _contiguous(a)
    reject_masked(a, name)
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    return _contiguous(arr, dtype)


def _as_array(a: Any, name: str) -> np.ndarray:
    """``np.asarray(a)`` for an argument that is not yet an ndarray; masked arrays refused."""
    reject_masked(a, name)
    return np.asarray(a)


def _check_reduction(reduction: str, allowed: Tuple[str, ...] = _REDUCTIONS) -> None:
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {allowed}, got {reduction!r}")


def _broadcast_weight(weight: Any, x: FloatArray, name: str) -> FloatArray:
    w = _as_dtype(weight, x.dtype, name)
    if w.shape != x.shape:
        try:
            w = _contiguous(np.broadcast_to(w, x.shape))
        except ValueError:
            raise ValueError(f"{name} of shape {w.shape} does not broadcast to the input's "
                             f"shape {x.shape}") from None
    return w


def _prepare_out(out: Any, shape: Tuple[int, ...], dtype: np.dtype[Any],
                 *inputs: Optional[np.ndarray], name: str = "out") -> FloatArray:
    if out is None:
        return np.empty(shape, dtype)
    if type(out) is not np.ndarray:
        reject_masked(out, name)
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"{name} must have dtype {dtype} (the input's), got {out.dtype}")
    if out.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the input's), got {out.shape}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    for a in inputs:
        if a is not None and np.may_share_memory(out, a):
            raise ValueError(f"{name} must not overlap an input array")
    return out


def _prepare_out_pair(out: Any, shape: Tuple[int, ...], dtype: np.dtype[Any],
                      *inputs: Optional[np.ndarray]) -> Tuple[FloatArray, FloatArray]:
    """The (grad, hess) arrays of a ``*_grad_hess`` call: ``out`` is None or a pair, each
    an array checked as :func:`_prepare_out`'s (or None: a new one), not overlapping."""
    if out is None:
        return np.empty(shape, dtype), np.empty(shape, dtype)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"out must be None or a tuple (grad, hess) of two arrays, got "
                        f"{type(out).__name__}")
    grad = _prepare_out(out[0], shape, dtype, *inputs, name="out[0]")
    hess = _prepare_out(out[1], shape, dtype, *inputs, grad, name="out[1]")
    return grad, hess


def _sample_weight(sample_weight: Any, x: FloatArray) -> FloatArray:
    """``sample_weight`` checked and broadcast to the input's shape.

    It has the input's shape, or one that broadcasts to it with as many dimensions (an
    ``(N, 1)`` weight per row of an ``(N, C)`` input): a 1-d ``(N,)`` weight of an ``(N, N)``
    input would broadcast along the wrong axis, so fewer dimensions are refused. Every
    weight is finite and non-negative (scikit-learn's ``_check_sample_weight`` refuses
    NaN/inf always and negative weights where it asks ``only_non_negative``; a negative
    weight makes the weighted mean meaningless here, so it is always refused).
    """
    with np.errstate(over="ignore"):  # a weight too large for float32 becomes inf: refused
        sw = _as_dtype(sample_weight, x.dtype, "sample_weight")
    if sw.ndim != x.ndim:
        raise ValueError(f"sample_weight must have the input's shape {x.shape} or one that "
                         f"broadcasts to it with as many dimensions (e.g. (N, 1) for a "
                         f"weight per row), got shape {sw.shape}")
    _check_sample_weight_values(sw.reshape(-1), sw.shape)
    return _broadcast_weight(sw, x, "sample_weight")


def _check_sample_weight_values(flat: FloatArray, shape: Tuple[int, ...]) -> None:
    """ValueError unless every weight is finite and non-negative; ``flat``: the weights of
    ``shape`` in C order (the message gives the first bad one's index in ``shape``)."""
    if flat.size and not (flat.min() >= 0 and flat.max() < np.inf):  # NaN fails both
        bad = first_where(flat, lambda block: ~((block >= 0) & (block < np.inf)))
        raise ValueError(f"sample_weight must be finite and non-negative, got "
                         f"sample_weight[{_where(bad, shape)}] = {flat[bad]}")


def _checker(loss: Loss, name: str) -> Callable[[Any], Any]:
    """The check of the parameter ``name`` of ``loss``, from its registry row: a function of
    the value returning it checked (a float, a bool, an int)."""
    constraint = next(p.constraint for p in loss.params if p.name == name)
    if isinstance(constraint, Choice):
        return lambda v: check_choice(v, name, constraint.values)
    if constraint == "int64":
        return _check_ignore_index
    if constraint == "flag":
        return lambda v: v if v is True or v is False else check_flag(v, name)
    assert not isinstance(constraint, str)
    if isinstance(constraint, Intervals):
        return lambda v: check_real(v, name, constraint)
    lo, hi = constraint.lo, constraint.hi
    return lambda v: v if type(v) is float and lo < v < hi else check_real(v, name, constraint)


def _scalar(dtype: np.dtype[Any], value: float) -> np.floating[Any]:
    return dtype.type(value)


def _mean(total: float, denominator: float) -> float:
    return total / denominator if denominator != 0 else (np.nan if total == 0 else total * np.inf)


def _check_input_range(x: FloatArray, interval: Interval) -> None:
    """ValueError unless every element of ``x`` is in the closed ``interval`` (NaN passes:
    NaN in, NaN out); binary_cross_entropy's probabilities.

    One vectorized pass in C counts the offenders and finds the first, so the error path
    allocates nothing the size of ``x`` either.
    """
    count, first = _losses.count_outside(x, interval.lo, interval.hi)
    if count:
        index = np.unravel_index(first, x.shape)
        where = ", ".join(str(int(i)) for i in index) if index else "()"
        raise ValueError(f"input must hold probabilities in {interval}: {count} element"
                         f"{'s are' if count > 1 else ' is'} outside, the first is "
                         f"input[{where}] = {x.flat[first]}")


def _check_target_values(y: FloatArray, values: Tuple[float, float]) -> None:
    """ValueError unless every element of ``y`` is one of ``values`` (NaN passes); one pass
    in C, as :func:`_check_input_range`."""
    count, first = _losses.count_not_either(y, values[0], values[1])
    if count:
        index = np.unravel_index(first, y.shape)
        where = ", ".join(str(int(i)) for i in index) if index else "()"
        raise ValueError(f"target must hold {values[0]:g} or {values[1]:g}: {count} element"
                         f"{'s are' if count > 1 else ' is'} not, the first is "
                         f"target[{where}] = {y.flat[first]}")


# ---- elementwise losses -----------------------------------------------------------------

class _Kernel(NamedTuple):
    """An elementwise loss as one call runs it: its row, which of its C kernels, and the
    row's facts a call reads (copied out of the row: small calls are short)."""

    loss: Loss
    code: int
    reductions: Tuple[str, ...]
    input_range: Optional[Interval]
    by_weight_sum: bool
    target_values: Optional[Tuple[float, float]]


def _kernel(loss: Loss, kernel: str = "") -> _Kernel:
    """``loss`` running its C kernel ``kernel`` (default: its first)."""
    return _Kernel(loss, _losses.ELEMENTWISE_LOSSES[kernel or next(iter(loss.kernels))],
                   loss.reductions, loss.input_range, loss.weighted_mean == "weight_sum",
                   loss.target_values)


def _elementwise(spec: _Kernel, mode: int, input: Any, target: Any, reduction: str,
                 weight: Any, out: Any, n_threads: Optional[int], param: float = 0.0,
                 pos_weight: Any = None, ref_kwargs: Optional[Dict[str, Any]] = None,
                 sample_weight: Any = None,
                 kernel_weight: Optional[Callable[[FloatArray], FloatArray]] = None) -> Any:
    """An elementwise loss on its kernel (or the reference). ``kernel_weight``: a function
    of the target giving a weight of each element that the kernel multiplies the losses by
    (sigmoid_focal_loss's alpha_t; the reference computes it from ``ref_kwargs``); it does
    not enter the mean's denominator."""
    x = _as_float(input, "input")
    y = _as_dtype(target, x.dtype, "target")
    if y.shape != x.shape:
        raise ValueError(f"target shape {y.shape} must equal input shape {x.shape}")
    if reduction not in spec.reductions:
        _check_reduction(reduction, spec.reductions)
    w = None if weight is None else _broadcast_weight(weight, x, "weight")
    a = None if pos_weight is None else _broadcast_weight(pos_weight, x, "pos_weight")
    sw = None if sample_weight is None else _sample_weight(sample_weight, x)
    if spec.input_range is not None and x.size:
        _check_input_range(x, spec.input_range)
    if spec.target_values is not None and y.size:
        _check_target_values(y, spec.target_values)
    hess = None
    if mode & _HESS:
        grad, hess = _prepare_out_pair(out, x.shape, x.dtype, x, y, w, a, sw)
    elif mode & _GRAD:
        grad = _prepare_out(out, x.shape, x.dtype, x, y, w, a, sw)
    else:
        grad = None
    nt = _config.resolve_threads(n_threads, x.size)  # validates n_threads on both backends

    if _backend.get_backend() == "numpy":
        kwargs: Dict[str, Any] = {"reduction": reduction}
        if weight is not None:
            kwargs["weight"] = w
        if pos_weight is not None:
            kwargs["pos_weight"] = a
        if sw is not None:
            kwargs["sample_weight"] = sw
        if ref_kwargs:
            kwargs.update(ref_kwargs)
        result = _reference(spec.loss.name + _SUFFIX[mode], x, y, **kwargs)
        return _finish_reference(mode, result, grad, hess)

    if kernel_weight is not None:
        w = kernel_weight(y)
    # torch's weight and the sample weights multiply; the weighted mean divides by
    # sum(weight * sample_weight) where torch's divides by sum(weight), by sum(sample_weight)
    # where torch's divides by N (scikit-learn's convention: mean = sum(sw l) / sum(sw))
    # (asarray: the product of 0-d arrays is a NumPy scalar, which the binding cannot take)
    w_sum = w if sw is None else (sw if w is None else np.asarray(w * sw))
    if reduction == "batchmean":  # per sample of the first axis: sum(sw) / (size / N)
        denominator = float(x.shape[0]) if x.ndim else 1.0
        if sw is not None:
            denominator = (float(sw.sum(dtype=np.float64)) * denominator / x.size
                           if x.size else 0.0)
    elif w is not None and spec.by_weight_sum:
        assert w_sum is not None
        denominator = float(w_sum.sum(dtype=np.float64))
    elif sw is not None:
        denominator = float(sw.sum(dtype=np.float64))
    else:
        denominator = float(x.size)
    w = w_sum
    mean = reduction in ("mean", "batchmean")
    scale = (1.0 / denominator if denominator else np.inf) if mean else 1.0
    elems = np.empty(x.shape, x.dtype) if reduction == "none" and mode & _VALUE else None
    want = (_losses.WANT_GRAD if mode & _GRAD else 0) | (
        _losses.WANT_HESS if mode & _HESS else 0) | (
        (_losses.WANT_ELEMENTS if elems is not None else _losses.WANT_SUM)
        if mode & _VALUE else 0)
    total = _losses.elementwise(spec.code, x, y, w, a, param, scale, grad, hess, elems, want,
                                nt)
    if mode == _GRAD:
        return grad
    if mode == _GRAD_HESS:
        return grad, hess
    if elems is not None:
        value: Any = elems
    else:
        value = _scalar(x.dtype, _mean(total, denominator) if mean else total)
    return value if mode == _VALUE else (value, grad)


def _reference(name: str, *args: Any, **kwargs: Any) -> Any:
    """The NumPy reference of a loss, with the kernels' semantics: floating-point state
    (``np.errstate``) never raises; NaN and inf come out as values."""
    with np.errstate(all="ignore"):
        return getattr(reference, name)(*args, **kwargs)


def _finish_reference(mode: int, result: Any, out: Optional[np.ndarray],
                      hess_out: Optional[np.ndarray] = None) -> Any:
    """Put a reference gradient (and Hessian) into ``out`` (``hess_out``), so both backends
    return the same objects."""
    if mode == _VALUE:
        return result
    if mode == _GRAD_HESS:
        assert out is not None and hess_out is not None
        np.copyto(out, result[0])
        np.copyto(hess_out, result[1])
        return out, hess_out
    grad = result if mode == _GRAD else result[1]
    assert out is not None
    np.copyto(out, grad)
    return out if mode == _GRAD else (result[0], out)


_MSE_SPEC = _kernel(LOSSES["mse_loss"])
_L1_SPEC = _kernel(LOSSES["l1_loss"])
_HUBER_SPEC = _kernel(LOSSES["huber_loss"])
_SMOOTH_L1_SPEC = _kernel(LOSSES["smooth_l1_loss"])
_SMOOTH_L1_AS_L1_SPEC = _kernel(LOSSES["smooth_l1_loss"], "l1")
_BCE_SPEC = _kernel(LOSSES["binary_cross_entropy"])
_BCE_LOGITS_SPEC = _kernel(LOSSES["binary_cross_entropy_with_logits"])
_KL_DIV_SPEC = _kernel(LOSSES["kl_div"])
_KL_DIV_LOG_SPEC = _kernel(LOSSES["kl_div"], "kl_div_log")
_HUBER_DELTA = _checker(LOSSES["huber_loss"], "delta")
_SMOOTH_L1_BETA = _checker(LOSSES["smooth_l1_loss"], "beta")
_KL_DIV_LOG_TARGET = _checker(LOSSES["kl_div"], "log_target")
_CE_LABEL_SMOOTHING = _checker(LOSSES["cross_entropy"], "label_smoothing")


def mse_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
             weight: Optional[ArrayLike] = None, sample_weight: Optional[ArrayLike] = None,
             n_threads: Optional[int] = None) -> LossValue:
    r"""Mean squared error, ``l_i = w_i (x_i - y_i)^2``.

    Args:
        input: predictions ``x``, any shape, float32 or float64.
        target: targets ``y``, the same shape.
        reduction: ``"mean"`` (``sum(l) / sum(w)``; ``sum(l) / N`` without weights),
            ``"sum"`` or ``"none"``.
        weight: optional per-element weights ``w``, broadcast to the input's shape. As in
            PyTorch 2.13's ``F.mse_loss(weight=)``, the weighted mean divides by ``sum(w)``.
        sample_weight: optional per-sample weights (module docstring); they multiply ``w``.
        n_threads: threads for this call (see the module docstring).

    Gradient: ``2 w_i (x_i - y_i) / D`` with ``D`` the mean's denominator (1 for "sum").
    """
    return _elementwise(_MSE_SPEC, _VALUE, input, target, reduction, weight, None, n_threads,
                        sample_weight=sample_weight)


def mse_loss_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                  weight: Optional[ArrayLike] = None, sample_weight: Optional[ArrayLike] = None,
                  out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                  ) -> FloatArray:
    """Gradient of :func:`mse_loss` with respect to ``input``; written into ``out`` if given."""
    return _elementwise(_MSE_SPEC, _GRAD, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def mse_loss_value_and_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                            weight: Optional[ArrayLike] = None,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                            ) -> Tuple[LossValue, FloatArray]:
    """``(mse_loss(...), mse_loss_grad(...))`` from one pass over memory."""
    return _elementwise(_MSE_SPEC, _BOTH, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def mse_loss_grad_hess(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                       weight: Optional[ArrayLike] = None,
                       sample_weight: Optional[ArrayLike] = None, out: Optional[OutPair] = None,
                       n_threads: Optional[int] = None) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`mse_loss`: the Hessian's diagonal ``2 w_i / D`` (the loss
    is separable: its Hessian w.r.t. the input is diagonal). ``out``: ``(grad, hess)``."""
    return _elementwise(_MSE_SPEC, _GRAD_HESS, input, target, reduction, weight, out,
                        n_threads, sample_weight=sample_weight)


def l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
            weight: Optional[ArrayLike] = None, sample_weight: Optional[ArrayLike] = None,
            n_threads: Optional[int] = None) -> LossValue:
    r"""Mean absolute error, ``l_i = w_i |x_i - y_i|``.

    ``reduction`` and ``weight`` as in :func:`mse_loss` (weighted mean divides by
    ``sum(w)``, as PyTorch 2.13's ``F.l1_loss(weight=)``). Gradient: ``w_i sign(x_i - y_i) / D``
    (0 where ``x_i == y_i``, like ``torch.sign``). No ``l1_loss_grad_hess``: the Hessian is 0
    almost everywhere (scikit-learn's ``AbsoluteError`` stores 1 instead, a placeholder
    its gradient boosting needs, not the Hessian).
    """
    return _elementwise(_L1_SPEC, _VALUE, input, target, reduction, weight, None, n_threads,
                        sample_weight=sample_weight)


def l1_loss_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                 weight: Optional[ArrayLike] = None, sample_weight: Optional[ArrayLike] = None,
                 out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                 ) -> FloatArray:
    """Gradient of :func:`l1_loss` with respect to ``input``."""
    return _elementwise(_L1_SPEC, _GRAD, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def l1_loss_value_and_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                           weight: Optional[ArrayLike] = None,
                           sample_weight: Optional[ArrayLike] = None,
                           out: Optional[FloatArray] = None,
                           n_threads: Optional[int] = None) -> Tuple[LossValue, FloatArray]:
    """``(l1_loss(...), l1_loss_grad(...))`` from one pass over memory."""
    return _elementwise(_L1_SPEC, _BOTH, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def _huber(mode: int, input: Any, target: Any, reduction: str, delta: Any, weight: Any,
           sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    d = _HUBER_DELTA(delta)
    return _elementwise(_HUBER_SPEC, mode, input, target, reduction, weight, out, n_threads,
                        d, ref_kwargs={"delta": d}, sample_weight=sample_weight)


def huber_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
               delta: float = 1.0, weight: Optional[ArrayLike] = None, *,
               sample_weight: Optional[ArrayLike] = None,
               n_threads: Optional[int] = None) -> LossValue:
    r"""Huber loss with threshold ``delta > 0``; with ``d = x - y``::

        l_i = w_i * (0.5 d^2                    if |d| < delta
                     delta (|d| - 0.5 delta)    otherwise)

    Gradient: ``w_i clip(d, -delta, delta) / D``. As in PyTorch 2.13's
    ``F.huber_loss(weight=)``, the weighted ``"mean"`` is ``mean(w l)`` (divides by N, not
    by ``sum(w)`` as mse/l1 do).
    """
    return _huber(_VALUE, input, target, reduction, delta, weight, sample_weight, None,
                  n_threads)


def huber_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                    delta: float = 1.0, weight: Optional[ArrayLike] = None, *,
                    sample_weight: Optional[ArrayLike] = None,
                    out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                    ) -> FloatArray:
    """Gradient of :func:`huber_loss` with respect to ``input``."""
    return _huber(_GRAD, input, target, reduction, delta, weight, sample_weight, out,
                  n_threads)


def huber_loss_value_and_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                              delta: float = 1.0, weight: Optional[ArrayLike] = None, *,
                              sample_weight: Optional[ArrayLike] = None,
                              out: Optional[FloatArray] = None,
                              n_threads: Optional[int] = None) -> Tuple[LossValue, FloatArray]:
    """``(huber_loss(...), huber_loss_grad(...))`` from one pass over memory."""
    return _huber(_BOTH, input, target, reduction, delta, weight, sample_weight, out,
                  n_threads)


def huber_loss_grad_hess(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                         delta: float = 1.0, weight: Optional[ArrayLike] = None, *,
                         sample_weight: Optional[ArrayLike] = None,
                         out: Optional[OutPair] = None, n_threads: Optional[int] = None
                         ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`huber_loss`: ``hess_i = w_i / D`` where
    ``|x_i - y_i| <= delta`` and 0 outside (at the kinks ``|d| = delta``: 1, the derivative
    of the clipped gradient on its closed interval, as scikit-learn's ``HuberLoss``)."""
    return _huber(_GRAD_HESS, input, target, reduction, delta, weight, sample_weight, out,
                  n_threads)


def _smooth_l1(mode: int, input: Any, target: Any, reduction: str, beta: Any, weight: Any,
               sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    b = _SMOOTH_L1_BETA(beta)
    spec = _SMOOTH_L1_SPEC if b > 0 else _SMOOTH_L1_AS_L1_SPEC  # PyTorch: exactly l1_loss
    return _elementwise(spec, mode, input, target, reduction, weight, out, n_threads, b,
                        ref_kwargs={"beta": b}, sample_weight=sample_weight)


def smooth_l1_loss(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                   beta: float = 1.0, weight: Optional[ArrayLike] = None,
                   sample_weight: Optional[ArrayLike] = None,
                   n_threads: Optional[int] = None) -> LossValue:
    r"""Smooth L1 loss with threshold ``beta >= 0``; with ``d = x - y``::

        l_i = w_i * (0.5 d^2 / beta      if |d| < beta
                     |d| - 0.5 beta      otherwise)

    ``beta = 0`` is :func:`l1_loss`. Gradient: ``w_i clip(d / beta, -1, 1) / D``.
    ``weight`` is a fastloss addition (PyTorch's ``smooth_l1_loss`` has none), with the
    weighted-mean semantics of mse/l1: ``"mean"`` is ``sum(w l) / sum(w)``.
    """
    return _smooth_l1(_VALUE, input, target, reduction, beta, weight, sample_weight, None,
                      n_threads)


def smooth_l1_loss_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                        beta: float = 1.0, weight: Optional[ArrayLike] = None,
                        sample_weight: Optional[ArrayLike] = None,
                        out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                        ) -> FloatArray:
    """Gradient of :func:`smooth_l1_loss` with respect to ``input``."""
    return _smooth_l1(_GRAD, input, target, reduction, beta, weight, sample_weight, out,
                      n_threads)


def smooth_l1_loss_value_and_grad(input: ArrayLike, target: ArrayLike, *,
                                  reduction: str = "mean", beta: float = 1.0,
                                  weight: Optional[ArrayLike] = None,
                                  sample_weight: Optional[ArrayLike] = None,
                                  out: Optional[FloatArray] = None,
                                  n_threads: Optional[int] = None
                                  ) -> Tuple[LossValue, FloatArray]:
    """``(smooth_l1_loss(...), smooth_l1_loss_grad(...))`` from one pass over memory."""
    return _smooth_l1(_BOTH, input, target, reduction, beta, weight, sample_weight, out,
                      n_threads)


def smooth_l1_loss_grad_hess(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                             beta: float = 1.0, weight: Optional[ArrayLike] = None,
                             sample_weight: Optional[ArrayLike] = None,
                             out: Optional[OutPair] = None, n_threads: Optional[int] = None
                             ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`smooth_l1_loss`: ``hess_i = w_i / (beta D)`` where
    ``|x_i - y_i| <= beta`` (the kinks included, as :func:`huber_loss_grad_hess`), 0
    outside; ``beta = 0`` (the l1 loss) gives 0 everywhere."""
    return _smooth_l1(_GRAD_HESS, input, target, reduction, beta, weight, sample_weight, out,
                      n_threads)


def binary_cross_entropy(input: ArrayLike, target: ArrayLike,
                         weight: Optional[ArrayLike] = None, reduction: str = "mean", *,
                         sample_weight: Optional[ArrayLike] = None,
                         n_threads: Optional[int] = None) -> LossValue:
    r"""Binary cross-entropy of probabilities ``p`` (``input``, in [0, 1]) and targets ``y``::

        l_i = -w_i (y_i max(log p_i, -100) + (1 - y_i) max(log(1 - p_i), -100))

    The logs are clamped at -100 as in PyTorch, so ``p`` exactly 0 or 1 gives a finite
    loss. Gradient (PyTorch's): ``w_i (p_i - y_i) / max((1 - p_i) p_i, 1e-12) / D``.
    ``"mean"`` is ``mean(w l)`` (divides by N), as in PyTorch. ``input`` outside [0, 1]
    raises ValueError giving how many elements are outside and the first of them (NaN
    passes through). Prefer
    :func:`binary_cross_entropy_with_logits`, which is stable for any logit.
    """
    return _elementwise(_BCE_SPEC, _VALUE, input, target, reduction, weight, None, n_threads,
                        sample_weight=sample_weight)


def binary_cross_entropy_grad(input: ArrayLike, target: ArrayLike,
                              weight: Optional[ArrayLike] = None, reduction: str = "mean", *,
                              sample_weight: Optional[ArrayLike] = None,
                              out: Optional[FloatArray] = None,
                              n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`binary_cross_entropy` with respect to ``input``."""
    return _elementwise(_BCE_SPEC, _GRAD, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def binary_cross_entropy_value_and_grad(input: ArrayLike, target: ArrayLike,
                                        weight: Optional[ArrayLike] = None,
                                        reduction: str = "mean", *,
                                        sample_weight: Optional[ArrayLike] = None,
                                        out: Optional[FloatArray] = None,
                                        n_threads: Optional[int] = None
                                        ) -> Tuple[LossValue, FloatArray]:
    """``(binary_cross_entropy(...), binary_cross_entropy_grad(...))`` from one pass."""
    return _elementwise(_BCE_SPEC, _BOTH, input, target, reduction, weight, out, n_threads,
                        sample_weight=sample_weight)


def binary_cross_entropy_grad_hess(input: ArrayLike, target: ArrayLike,
                                   weight: Optional[ArrayLike] = None, reduction: str = "mean",
                                   *, sample_weight: Optional[ArrayLike] = None,
                                   out: Optional[OutPair] = None,
                                   n_threads: Optional[int] = None
                                   ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`binary_cross_entropy`:
    ``hess_i = w_i (y_i / p_i^2 + (1 - y_i) / (1 - p_i)^2) / D``, computed as
    ``(p^2 - 2 p y + y) / max((1 - p) p, 1e-12)^2`` (the gradient's clamp; PyTorch's double
    backward adds 1e-12 to ``p`` and ``1 - p`` instead: equal to ``1e-12 / min(p, 1 - p)``
    relative)."""
    return _elementwise(_BCE_SPEC, _GRAD_HESS, input, target, reduction, weight, out,
                        n_threads, sample_weight=sample_weight)


def binary_cross_entropy_with_logits(input: ArrayLike, target: ArrayLike,
                                     weight: Optional[ArrayLike] = None,
                                     reduction: str = "mean",
                                     pos_weight: Optional[ArrayLike] = None, *,
                                     sample_weight: Optional[ArrayLike] = None,
                                     n_threads: Optional[int] = None) -> LossValue:
    r"""Binary cross-entropy of logits ``x`` (sigmoid applied inside), stable for any finite
    logit. With ``lw_i = 1 + (pos_weight_i - 1) y_i``::

        l_i = w_i ((1 - y_i) x_i + lw_i log(1 + exp(-x_i)))
        dl_i/dx_i = w_i (lw_i sigmoid(x_i) - pos_weight_i y_i)

    ``weight`` and ``pos_weight`` broadcast to the input's shape (``pos_weight`` of shape
    ``(C,)`` weights the positives of each of C classes in the last axis). ``"mean"`` is
    ``mean(w l)``, as in PyTorch.
    """
    return _elementwise(_BCE_LOGITS_SPEC, _VALUE, input, target, reduction, weight, None,
                        n_threads, pos_weight=pos_weight, sample_weight=sample_weight)


def binary_cross_entropy_with_logits_grad(input: ArrayLike, target: ArrayLike,
                                          weight: Optional[ArrayLike] = None,
                                          reduction: str = "mean",
                                          pos_weight: Optional[ArrayLike] = None, *,
                                          sample_weight: Optional[ArrayLike] = None,
                                          out: Optional[FloatArray] = None,
                                          n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`binary_cross_entropy_with_logits` with respect to ``input``."""
    return _elementwise(_BCE_LOGITS_SPEC, _GRAD, input, target, reduction, weight, out,
                        n_threads, pos_weight=pos_weight, sample_weight=sample_weight)


def binary_cross_entropy_with_logits_value_and_grad(
        input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
        reduction: str = "mean", pos_weight: Optional[ArrayLike] = None, *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[FloatArray] = None,
        n_threads: Optional[int] = None) -> Tuple[LossValue, FloatArray]:
    """``(binary_cross_entropy_with_logits(...), ..._grad(...))`` from one pass."""
    return _elementwise(_BCE_LOGITS_SPEC, _BOTH, input, target, reduction, weight, out,
                        n_threads, pos_weight=pos_weight, sample_weight=sample_weight)


def binary_cross_entropy_with_logits_grad_hess(
        input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
        reduction: str = "mean", pos_weight: Optional[ArrayLike] = None, *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[OutPair] = None,
        n_threads: Optional[int] = None) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`binary_cross_entropy_with_logits`:
    ``hess_i = w_i lw_i sigmoid(x_i) sigmoid(-x_i) / D`` (scikit-learn's
    ``HalfBinomialLoss``: ``p (1 - p)``)."""
    return _elementwise(_BCE_LOGITS_SPEC, _GRAD_HESS, input, target, reduction, weight, out,
                        n_threads, pos_weight=pos_weight, sample_weight=sample_weight)


def _kl_div(mode: int, input: Any, target: Any, reduction: str, log_target: bool,
            sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    log = _KL_DIV_LOG_TARGET(log_target)
    return _elementwise(_KL_DIV_LOG_SPEC if log else _KL_DIV_SPEC, mode, input, target,
                        reduction, None, out, n_threads, ref_kwargs={"log_target": log},
                        sample_weight=sample_weight)


def kl_div(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
           log_target: bool = False, sample_weight: Optional[ArrayLike] = None,
           n_threads: Optional[int] = None) -> LossValue:
    r"""Kullback-Leibler divergence, PyTorch's ``F.kl_div``: ``input`` holds log-probabilities
    ``x``, ``target`` probabilities ``y`` (log-probabilities if ``log_target``)::

        l_i = y_i log y_i - y_i x_i        (0 where y_i = 0)     dl/dx = -y_i
        l_i = exp(y_i) (y_i - x_i)         (log_target)          dl/dx = -exp(y_i)

    ``reduction``: ``"batchmean"`` (sum / input.shape[0], the true KL divergence per
    sample), ``"mean"`` (PyTorch's default: sum / number of elements), ``"sum"``, ``"none"``.
    With ``sample_weight``, ``"batchmean"`` divides ``sum(sw l)`` by ``sum(sw)`` over the
    size of one sample (``input.size / input.shape[0]``): the weighted mean of the samples'
    divergences.
    """
    return _kl_div(_VALUE, input, target, reduction, log_target, sample_weight, None,
                   n_threads)


def kl_div_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                log_target: bool = False, sample_weight: Optional[ArrayLike] = None,
                out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                ) -> FloatArray:
    """Gradient of :func:`kl_div` with respect to ``input``."""
    return _kl_div(_GRAD, input, target, reduction, log_target, sample_weight, out, n_threads)


def kl_div_value_and_grad(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                          log_target: bool = False, sample_weight: Optional[ArrayLike] = None,
                          out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                          ) -> Tuple[LossValue, FloatArray]:
    """``(kl_div(...), kl_div_grad(...))`` from one pass over memory."""
    return _kl_div(_BOTH, input, target, reduction, log_target, sample_weight, out, n_threads)


def kl_div_grad_hess(input: ArrayLike, target: ArrayLike, *, reduction: str = "mean",
                     log_target: bool = False, sample_weight: Optional[ArrayLike] = None,
                     out: Optional[OutPair] = None, n_threads: Optional[int] = None
                     ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`kl_div`; the loss is linear in ``input``: ``hess = 0``."""
    return _kl_div(_GRAD_HESS, input, target, reduction, log_target, sample_weight, out,
                   n_threads)


# ---- the losses added with issue 12: torch.nn.functional's, scikit-learn's, optax's ------

def _run(spec: _Kernel, mode: int, input: Any, target: Any, reduction: str,
         sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    """A loss without parameters (nor torch weights) on its kernel."""
    return _elementwise(spec, mode, input, target, reduction, None, out, n_threads,
                        sample_weight=sample_weight)


_soft_margin = functools.partial(_run, _kernel(LOSSES["soft_margin_loss"]))
_log_cosh = functools.partial(_run, _kernel(LOSSES["log_cosh_loss"]))
_hinge = functools.partial(_run, _kernel(LOSSES["hinge_loss"]))
_squared_hinge = functools.partial(_run, _kernel(LOSSES["squared_hinge_loss"]))
_modified_huber = functools.partial(_run, _kernel(LOSSES["modified_huber_loss"]))

_POISSON = LOSSES["poisson_nll_loss"]
#: (log_input, full) -> the kernel
_POISSON_SPECS = {(True, False): _kernel(_POISSON, "poisson_log"),
                  (False, False): _kernel(_POISSON, "poisson"),
                  (True, True): _kernel(_POISSON, "poisson_log_full"),
                  (False, True): _kernel(_POISSON, "poisson_full")}
_POISSON_LOG_INPUT = _checker(_POISSON, "log_input")
_POISSON_FULL = _checker(_POISSON, "full")
_POISSON_EPS = _checker(_POISSON, "eps")


def _poisson_nll(mode: int, input: Any, target: Any, log_input: Any, full: Any, eps: Any,
                 reduction: str, sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    log, f, e = _POISSON_LOG_INPUT(log_input), _POISSON_FULL(full), _POISSON_EPS(eps)
    return _elementwise(_POISSON_SPECS[log, f], mode, input, target, reduction, None, out,
                        n_threads, e, ref_kwargs={"log_input": log, "full": f, "eps": e},
                        sample_weight=sample_weight)


def _with_param(loss: Loss, name: str) -> Callable[..., Any]:
    """The runner of a loss whose one real parameter ``name`` is its kernel's ``param``."""
    spec, check = _kernel(loss), _checker(loss, name)

    def run(mode: int, input: Any, target: Any, value: Any, reduction: str,
            sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
        v = check(value)
        return _elementwise(spec, mode, input, target, reduction, None, out, n_threads, v,
                            ref_kwargs={name: v}, sample_weight=sample_weight)

    return run


_hinge_embedding = _with_param(LOSSES["hinge_embedding_loss"], "margin")
_epsilon_insensitive = _with_param(LOSSES["epsilon_insensitive_loss"], "epsilon")
_pinball = _with_param(LOSSES["pinball_loss"], "quantile")

_GAMMA = LOSSES["gamma_nll_loss"]
_GAMMA_SPECS = {True: _kernel(_GAMMA, "gamma_log"), False: _kernel(_GAMMA, "gamma")}
_GAMMA_LOG_INPUT = _checker(_GAMMA, "log_input")


def _gamma_nll(mode: int, input: Any, target: Any, log_input: Any, reduction: str,
               sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    log = _GAMMA_LOG_INPUT(log_input)
    return _elementwise(_GAMMA_SPECS[log], mode, input, target, reduction, None, out,
                        n_threads, ref_kwargs={"log_input": log}, sample_weight=sample_weight)


_TWEEDIE = LOSSES["tweedie_loss"]
#: (log_input, power) -> the kernel; powers 1 and 2 are the Poisson and gamma rules (with
#: eps = 0), which the general Tweedie rule leaves out (see loss_rules.h)
_TWEEDIE_SPECS = {(True, None): _kernel(_TWEEDIE, "tweedie_log"),
                  (False, None): _kernel(_TWEEDIE, "tweedie"),
                  (True, 1.0): _kernel(_TWEEDIE, "poisson_log"),
                  (False, 1.0): _kernel(_TWEEDIE, "poisson"),
                  (True, 2.0): _kernel(_TWEEDIE, "gamma_log"),
                  (False, 2.0): _kernel(_TWEEDIE, "gamma")}
_TWEEDIE_POWER = _checker(_TWEEDIE, "power")
_TWEEDIE_LOG_INPUT = _checker(_TWEEDIE, "log_input")


def _tweedie(mode: int, input: Any, target: Any, power: Any, log_input: Any, reduction: str,
             sample_weight: Any, out: Any, n_threads: Optional[int]) -> Any:
    p, log = _TWEEDIE_POWER(power), _TWEEDIE_LOG_INPUT(log_input)
    if p <= 0 and not log:
        raise ValueError(f"power={p:g} (<= 0) needs log_input=True: scikit-learn's "
                         "HalfTweedieLoss on the log link (the mean's own form is offered "
                         "for power >= 1)")
    special = p if p in (1.0, 2.0) else None
    return _elementwise(_TWEEDIE_SPECS[log, special], mode, input, target, reduction, None,
                        out, n_threads, 0.0 if special else p,
                        ref_kwargs={"power": p, "log_input": log}, sample_weight=sample_weight)


def soft_margin_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                     sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
                    ) -> LossValue:
    r"""Soft margin loss of scores ``x`` and targets ``y = +-1``, PyTorch's
    ``F.soft_margin_loss``: ``l_i = log(1 + exp(-y_i x_i))``, computed stably.
    Gradient ``-y_i sigmoid(-y_i x_i) / D``; ``"mean"`` divides by N (``sum(sw)``).
    """
    return _soft_margin(_VALUE, input, target, reduction, sample_weight, None, n_threads)


def soft_margin_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                          sample_weight: Optional[ArrayLike] = None,
                          out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                         ) -> FloatArray:
    """Gradient of :func:`soft_margin_loss` with respect to ``input``."""
    return _soft_margin(_GRAD, input, target, reduction, sample_weight, out, n_threads)


def soft_margin_loss_value_and_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                                    *, sample_weight: Optional[ArrayLike] = None,
                                    out: Optional[FloatArray] = None,
                                    n_threads: Optional[int] = None
                                   ) -> Tuple[LossValue, FloatArray]:
    """``(soft_margin_loss(...), soft_margin_loss_grad(...))`` from one pass over memory."""
    return _soft_margin(_BOTH, input, target, reduction, sample_weight, out, n_threads)


def soft_margin_loss_grad_hess(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                               sample_weight: Optional[ArrayLike] = None,
                               out: Optional[OutPair] = None, n_threads: Optional[int] = None
                              ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`soft_margin_loss`: ``hess_i = y_i^2 sigmoid(y_i x_i)
    sigmoid(-y_i x_i) / D``."""
    return _soft_margin(_GRAD_HESS, input, target, reduction, sample_weight, out, n_threads)


def poisson_nll_loss(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                     full: bool = False, eps: float = 1e-8, reduction: str = "mean", *,
                     sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
                    ) -> LossValue:
    r"""Poisson negative log-likelihood, PyTorch's ``F.poisson_nll_loss``::

        l_i = exp(x_i) - y_i x_i                 (log_input: x is the log-rate)
        l_i = x_i - y_i log(x_i + eps)           (log_input=False: x is the rate)

    ``full`` adds Stirling's approximation of ``log(y!)``,
    ``y log y - y + log(2 pi y) / 2`` where ``y > 1`` (0 elsewhere), as PyTorch; it does not
    depend on ``x``. Gradient ``exp(x) - y`` / ``1 - y / (x + eps)``, over ``D``. With
    ``log_input`` and not ``full`` it is scikit-learn's ``HalfPoissonLoss``.
    """
    return _poisson_nll(_VALUE, input, target, log_input, full, eps, reduction, sample_weight,
                        None, n_threads)


def poisson_nll_loss_grad(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                          full: bool = False, eps: float = 1e-8, reduction: str = "mean", *,
                          sample_weight: Optional[ArrayLike] = None,
                          out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                         ) -> FloatArray:
    """Gradient of :func:`poisson_nll_loss` with respect to ``input``."""
    return _poisson_nll(_GRAD, input, target, log_input, full, eps, reduction, sample_weight, out,
                        n_threads)


def poisson_nll_loss_value_and_grad(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                                    full: bool = False, eps: float = 1e-8,
                                    reduction: str = "mean", *,
                                    sample_weight: Optional[ArrayLike] = None,
                                    out: Optional[FloatArray] = None,
                                    n_threads: Optional[int] = None
                                   ) -> Tuple[LossValue, FloatArray]:
    """``(poisson_nll_loss(...), poisson_nll_loss_grad(...))`` from one pass over memory."""
    return _poisson_nll(_BOTH, input, target, log_input, full, eps, reduction, sample_weight, out,
                        n_threads)


def poisson_nll_loss_grad_hess(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                               full: bool = False, eps: float = 1e-8, reduction: str = "mean", *,
                               sample_weight: Optional[ArrayLike] = None,
                               out: Optional[OutPair] = None, n_threads: Optional[int] = None
                              ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`poisson_nll_loss`: ``hess_i = exp(x_i) / D`` (log_input) or
    ``y_i / (x_i + eps)^2 / D``."""
    return _poisson_nll(_GRAD_HESS, input, target, log_input, full, eps, reduction, sample_weight,
                        out, n_threads)


def hinge_embedding_loss(input: ArrayLike, target: ArrayLike, margin: float = 1.0,
                         reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                         n_threads: Optional[int] = None) -> LossValue:
    r"""Hinge embedding loss, PyTorch's ``F.hinge_embedding_loss``: ``l_i = x_i`` where
    ``y_i = 1``, ``max(0, margin - x_i)`` where ``y_i = -1`` (a target of neither value takes
    both terms, as PyTorch; a NaN target gives NaN). Gradient ``1`` / ``-[margin - x >= 0]``
    over ``D``. Piecewise linear: no Hessian.
    """
    return _hinge_embedding(_VALUE, input, target, margin, reduction, sample_weight, None,
                            n_threads)


def hinge_embedding_loss_grad(input: ArrayLike, target: ArrayLike, margin: float = 1.0,
                              reduction: str = "mean", *,
                              sample_weight: Optional[ArrayLike] = None,
                              out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                             ) -> FloatArray:
    """Gradient of :func:`hinge_embedding_loss` with respect to ``input``."""
    return _hinge_embedding(_GRAD, input, target, margin, reduction, sample_weight, out, n_threads)


def hinge_embedding_loss_value_and_grad(input: ArrayLike, target: ArrayLike, margin: float = 1.0,
                                        reduction: str = "mean", *,
                                        sample_weight: Optional[ArrayLike] = None,
                                        out: Optional[FloatArray] = None,
                                        n_threads: Optional[int] = None
                                       ) -> Tuple[LossValue, FloatArray]:
    """``(hinge_embedding_loss(...), hinge_embedding_loss_grad(...))`` from one pass."""
    return _hinge_embedding(_BOTH, input, target, margin, reduction, sample_weight, out, n_threads)


def log_cosh_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                  sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
                 ) -> LossValue:
    r"""Log-cosh loss (optax's ``log_cosh``): ``l_i = log(cosh(x_i - y_i))``, computed as
    ``|d| + log1p(exp(-2 |d|)) - log 2`` (no overflow). Gradient ``tanh(x_i - y_i) / D``.
    """
    return _log_cosh(_VALUE, input, target, reduction, sample_weight, None, n_threads)


def log_cosh_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                       sample_weight: Optional[ArrayLike] = None,
                       out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                      ) -> FloatArray:
    """Gradient of :func:`log_cosh_loss` with respect to ``input``."""
    return _log_cosh(_GRAD, input, target, reduction, sample_weight, out, n_threads)


def log_cosh_loss_value_and_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                                 sample_weight: Optional[ArrayLike] = None,
                                 out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                                ) -> Tuple[LossValue, FloatArray]:
    """``(log_cosh_loss(...), log_cosh_loss_grad(...))`` from one pass over memory."""
    return _log_cosh(_BOTH, input, target, reduction, sample_weight, out, n_threads)


def log_cosh_loss_grad_hess(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[OutPair] = None, n_threads: Optional[int] = None
                           ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`log_cosh_loss`: ``hess_i = (1 - tanh(x_i - y_i)^2) / D``."""
    return _log_cosh(_GRAD_HESS, input, target, reduction, sample_weight, out, n_threads)


def hinge_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
               sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
              ) -> LossValue:
    r"""Hinge loss of scores ``x`` and targets ``y`` in {-1, 1} (checked: anything else
    raises ValueError), scikit-learn's SGD ``Hinge``: ``l_i = max(0, 1 - y_i x_i)``.
    Gradient ``-y_i / D`` where ``y_i x_i <= 1`` (the kink included, as scikit-learn), 0
    elsewhere. Piecewise linear: no Hessian.
    """
    return _hinge(_VALUE, input, target, reduction, sample_weight, None, n_threads)


def hinge_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                    sample_weight: Optional[ArrayLike] = None, out: Optional[FloatArray] = None,
                    n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`hinge_loss` with respect to ``input``."""
    return _hinge(_GRAD, input, target, reduction, sample_weight, out, n_threads)


def hinge_loss_value_and_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                              sample_weight: Optional[ArrayLike] = None,
                              out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                             ) -> Tuple[LossValue, FloatArray]:
    """``(hinge_loss(...), hinge_loss_grad(...))`` from one pass over memory."""
    return _hinge(_BOTH, input, target, reduction, sample_weight, out, n_threads)


def squared_hinge_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                       sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
                      ) -> LossValue:
    r"""Squared hinge loss, scikit-learn's SGD ``SquaredHinge``, targets in {-1, 1}
    (checked): ``l_i = max(0, 1 - y_i x_i)^2``; gradient ``-2 y_i max(0, 1 - y_i x_i) / D``.
    """
    return _squared_hinge(_VALUE, input, target, reduction, sample_weight, None, n_threads)


def squared_hinge_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                           ) -> FloatArray:
    """Gradient of :func:`squared_hinge_loss` with respect to ``input``."""
    return _squared_hinge(_GRAD, input, target, reduction, sample_weight, out, n_threads)


def squared_hinge_loss_value_and_grad(input: ArrayLike, target: ArrayLike,
                                      reduction: str = "mean", *,
                                      sample_weight: Optional[ArrayLike] = None,
                                      out: Optional[FloatArray] = None,
                                      n_threads: Optional[int] = None
                                     ) -> Tuple[LossValue, FloatArray]:
    """``(squared_hinge_loss(...), squared_hinge_loss_grad(...))`` from one pass over memory."""
    return _squared_hinge(_BOTH, input, target, reduction, sample_weight, out, n_threads)


def squared_hinge_loss_grad_hess(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                                 sample_weight: Optional[ArrayLike] = None,
                                 out: Optional[OutPair] = None, n_threads: Optional[int] = None
                                ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`squared_hinge_loss`: ``hess_i = 2 y_i^2 / D`` where ``y_i x_i <
    1``, 0 elsewhere (at the kink ``y x = 1``: 0, the one-sided value of the flat side)."""
    return _squared_hinge(_GRAD_HESS, input, target, reduction, sample_weight, out, n_threads)


def modified_huber_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                        sample_weight: Optional[ArrayLike] = None, n_threads: Optional[int] = None
                       ) -> LossValue:
    r"""Modified Huber loss, scikit-learn's SGD ``ModifiedHuber``, targets in {-1, 1}
    (checked); with ``z = y x``: ``l = 0`` (``z >= 1``), ``(1 - z)^2`` (``-1 <= z < 1``),
    ``-4 z`` (``z < -1``); gradient ``0``, ``-2 y (1 - z)``, ``-4 y``, over ``D``.
    """
    return _modified_huber(_VALUE, input, target, reduction, sample_weight, None, n_threads)


def modified_huber_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                             sample_weight: Optional[ArrayLike] = None,
                             out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                            ) -> FloatArray:
    """Gradient of :func:`modified_huber_loss` with respect to ``input``."""
    return _modified_huber(_GRAD, input, target, reduction, sample_weight, out, n_threads)


def modified_huber_loss_value_and_grad(input: ArrayLike, target: ArrayLike,
                                       reduction: str = "mean", *,
                                       sample_weight: Optional[ArrayLike] = None,
                                       out: Optional[FloatArray] = None,
                                       n_threads: Optional[int] = None
                                      ) -> Tuple[LossValue, FloatArray]:
    """``(modified_huber_loss(...), modified_huber_loss_grad(...))`` from one pass over memory."""
    return _modified_huber(_BOTH, input, target, reduction, sample_weight, out, n_threads)


def modified_huber_loss_grad_hess(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                                  sample_weight: Optional[ArrayLike] = None,
                                  out: Optional[OutPair] = None, n_threads: Optional[int] = None
                                 ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`modified_huber_loss`: ``hess_i = 2 y_i^2 / D`` on ``-1 <= z <
    1``, 0 elsewhere."""
    return _modified_huber(_GRAD_HESS, input, target, reduction, sample_weight, out, n_threads)


def epsilon_insensitive_loss(input: ArrayLike, target: ArrayLike, epsilon: float = 0.1,
                             reduction: str = "mean", *,
                             sample_weight: Optional[ArrayLike] = None,
                             n_threads: Optional[int] = None) -> LossValue:
    r"""Epsilon-insensitive loss, scikit-learn's SGD ``EpsilonInsensitive``:
    ``l_i = max(0, |x_i - y_i| - epsilon)``, ``epsilon >= 0``. Gradient
    ``sign(x_i - y_i) / D`` outside the tube ``|x - y| <= epsilon``, 0 inside. Piecewise
    linear: no Hessian.
    """
    return _epsilon_insensitive(_VALUE, input, target, epsilon, reduction, sample_weight, None,
                                n_threads)


def epsilon_insensitive_loss_grad(input: ArrayLike, target: ArrayLike, epsilon: float = 0.1,
                                  reduction: str = "mean", *,
                                  sample_weight: Optional[ArrayLike] = None,
                                  out: Optional[FloatArray] = None,
                                  n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`epsilon_insensitive_loss` with respect to ``input``."""
    return _epsilon_insensitive(_GRAD, input, target, epsilon, reduction, sample_weight, out,
                                n_threads)


def epsilon_insensitive_loss_value_and_grad(input: ArrayLike, target: ArrayLike,
                                            epsilon: float = 0.1, reduction: str = "mean", *,
                                            sample_weight: Optional[ArrayLike] = None,
                                            out: Optional[FloatArray] = None,
                                            n_threads: Optional[int] = None
                                           ) -> Tuple[LossValue, FloatArray]:
    """``(epsilon_insensitive_loss(...), epsilon_insensitive_loss_grad(...))`` from one pass over
    memory."""
    return _epsilon_insensitive(_BOTH, input, target, epsilon, reduction, sample_weight, out,
                                n_threads)


def pinball_loss(input: ArrayLike, target: ArrayLike, quantile: float = 0.5,
                 reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                 n_threads: Optional[int] = None) -> LossValue:
    r"""Pinball (quantile) loss, scikit-learn's ``PinballLoss``, ``0 < quantile < 1``: with
    ``d = y - x``, ``l = q d`` (``d >= 0``), ``(q - 1) d`` (``d < 0``); gradient ``-q``
    (``y >= x``) or ``1 - q``, over ``D``. Piecewise linear: no Hessian (scikit-learn stores
    1, a placeholder for its gradient boosting).
    """
    return _pinball(_VALUE, input, target, quantile, reduction, sample_weight, None, n_threads)


def pinball_loss_grad(input: ArrayLike, target: ArrayLike, quantile: float = 0.5,
                      reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                      out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                     ) -> FloatArray:
    """Gradient of :func:`pinball_loss` with respect to ``input``."""
    return _pinball(_GRAD, input, target, quantile, reduction, sample_weight, out, n_threads)


def pinball_loss_value_and_grad(input: ArrayLike, target: ArrayLike, quantile: float = 0.5,
                                reduction: str = "mean", *,
                                sample_weight: Optional[ArrayLike] = None,
                                out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                               ) -> Tuple[LossValue, FloatArray]:
    """``(pinball_loss(...), pinball_loss_grad(...))`` from one pass over memory."""
    return _pinball(_BOTH, input, target, quantile, reduction, sample_weight, out, n_threads)


def gamma_nll_loss(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                   reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                   n_threads: Optional[int] = None) -> LossValue:
    r"""Gamma deviance, scikit-learn's ``HalfGammaLoss`` (its ``loss``: constant terms
    dropped): ``l_i = x_i + y_i exp(-x_i)`` of the log-mean ``x`` (``log_input``), or
    ``log x_i + y_i / x_i`` of the mean ``x`` (``log_input=False``). Gradient
    ``1 - y exp(-x)`` / ``(1 - y / x) / x``, over ``D``. Positive targets.
    """
    return _gamma_nll(_VALUE, input, target, log_input, reduction, sample_weight, None, n_threads)


def gamma_nll_loss_grad(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                        reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                        out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                       ) -> FloatArray:
    """Gradient of :func:`gamma_nll_loss` with respect to ``input``."""
    return _gamma_nll(_GRAD, input, target, log_input, reduction, sample_weight, out, n_threads)


def gamma_nll_loss_value_and_grad(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                                  reduction: str = "mean", *,
                                  sample_weight: Optional[ArrayLike] = None,
                                  out: Optional[FloatArray] = None,
                                  n_threads: Optional[int] = None) -> Tuple[LossValue, FloatArray]:
    """``(gamma_nll_loss(...), gamma_nll_loss_grad(...))`` from one pass over memory."""
    return _gamma_nll(_BOTH, input, target, log_input, reduction, sample_weight, out, n_threads)


def gamma_nll_loss_grad_hess(input: ArrayLike, target: ArrayLike, log_input: bool = True,
                             reduction: str = "mean", *,
                             sample_weight: Optional[ArrayLike] = None,
                             out: Optional[OutPair] = None, n_threads: Optional[int] = None
                            ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`gamma_nll_loss`: ``hess_i = y_i exp(-x_i) / D`` (log_input) or
    ``(2 y_i / x_i - 1) / x_i^2 / D``."""
    return _gamma_nll(_GRAD_HESS, input, target, log_input, reduction, sample_weight, out,
                      n_threads)


def tweedie_loss(input: ArrayLike, target: ArrayLike, power: float = 1.5, log_input: bool = True,
                 reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
                 n_threads: Optional[int] = None) -> LossValue:
    r"""Tweedie deviance, scikit-learn's ``HalfTweedieLoss`` (constant terms dropped), of the
    log-mean ``x`` (``log_input``; of the mean ``mu = x`` otherwise, power >= 1 only),
    ``power <= 0`` or ``>= 1``::

        l = mu^(2-p) / (2-p) - y mu^(1-p) / (1-p)   (p = 1: mu - y log mu; p = 2: log mu + y / mu)

    Gradient ``mu^(2-p) - y mu^(1-p)`` in ``x = log mu`` (``mu^(1-p) - y mu^(-p)`` in ``mu``),
    over ``D``. Powers ``<= 0`` (any target; 0: the squared error of ``mu``, up to its
    constant ``y^2 / 2``) take ``log_input=True``: scikit-learn's identity-link form there
    admits negative means, which ``mu^(1-p)`` does not.
    """
    return _tweedie(_VALUE, input, target, power, log_input, reduction, sample_weight, None,
                    n_threads)


def tweedie_loss_grad(input: ArrayLike, target: ArrayLike, power: float = 1.5,
                      log_input: bool = True, reduction: str = "mean", *,
                      sample_weight: Optional[ArrayLike] = None, out: Optional[FloatArray] = None,
                      n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`tweedie_loss` with respect to ``input``."""
    return _tweedie(_GRAD, input, target, power, log_input, reduction, sample_weight, out,
                    n_threads)


def tweedie_loss_value_and_grad(input: ArrayLike, target: ArrayLike, power: float = 1.5,
                                log_input: bool = True, reduction: str = "mean", *,
                                sample_weight: Optional[ArrayLike] = None,
                                out: Optional[FloatArray] = None, n_threads: Optional[int] = None
                               ) -> Tuple[LossValue, FloatArray]:
    """``(tweedie_loss(...), tweedie_loss_grad(...))`` from one pass over memory."""
    return _tweedie(_BOTH, input, target, power, log_input, reduction, sample_weight, out,
                    n_threads)


def tweedie_loss_grad_hess(input: ArrayLike, target: ArrayLike, power: float = 1.5,
                           log_input: bool = True, reduction: str = "mean", *,
                           sample_weight: Optional[ArrayLike] = None,
                           out: Optional[OutPair] = None, n_threads: Optional[int] = None
                          ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`tweedie_loss`: ``hess = (2-p) mu^(2-p) - (1-p) y mu^(1-p)`` in
    ``x = log mu`` (``(1-p) mu^(-p) + p y mu^(-p-1)`` in ``mu``), over ``D``."""
    return _tweedie(_GRAD_HESS, input, target, power, log_input, reduction, sample_weight, out,
                    n_threads)


# ---- losses over rows of classes: (C,), (N, C) or (N, C, d1, ..., dk) -------------------

class _ClassInput(NamedTuple):
    """An input with a class axis as the kernels read it.

    ``x`` is the input ((C,), (N, C) or (N, C, d1, ..., dk), C-contiguous), ``batch`` the shape
    of its targets, sample weights and ``reduction="none"`` losses (``()``, ``(N,)`` or
    ``(N, d1, ..., dk)``), ``c`` the number of classes. The kernels read the class axis with
    its stride (d1 ... dk) in place; only when that stride is > 1 and a row is longer than
    their gather block (``_losses.STRIDED_MAX_CLASSES``) is the input copied with its class
    axis moved last (``moved``: one more read and write of the input, and of the gradient).
    """

    x: FloatArray
    batch: Tuple[int, ...]
    c: int
    moved: bool
    #: the class axis is the last one (multilabel_soft_margin_loss: ``(..., C)``, PyTorch's
    #: ``class_dim = input.dim() - 1``): the rows are contiguous
    class_last: bool = False

    def kernel(self, a: np.ndarray) -> np.ndarray:
        """``a`` (the input's shape) as the kernel reads it: (1, C) for an unbatched input, the
        class axis moved last (a copy, (N d1 ... dk, C)) when ``moved``, else ``a`` itself
        ((rows, C) when the class axis is last)."""
        if self.class_last:
            return a.reshape(-1, self.c)
        if self.moved:
            return _contiguous(np.moveaxis(a, 1, -1)).reshape(-1, self.c)
        return a.reshape(1, self.c) if a.ndim == 1 else a

    def restore(self, rows: np.ndarray, dest: np.ndarray) -> None:
        """Write the kernel's rows (of :meth:`kernel` of a ``moved`` input) to ``dest``."""
        np.copyto(dest, np.moveaxis(rows.reshape(self.batch + (self.c,)), -1, 1))


def _class_input(input: Any) -> _ClassInput:
    x = _as_float(input, "input")
    if x.ndim == 0:
        raise ValueError("input must have shape (C,), (N, C) or (N, C, d1, ..., dk), got "
                         "shape ()")
    c = x.shape[0] if x.ndim == 1 else x.shape[1]
    if c == 0:
        raise ValueError("input must have at least one class (C >= 1), got shape "
                         f"{x.shape}")
    batch = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    moved = x.ndim > 2 and c > _losses.STRIDED_MAX_CLASSES and int(np.prod(x.shape[2:])) > 1
    return _ClassInput(x, batch, c, moved)


def _class_last_input(input: Any) -> _ClassInput:
    """An input ``(..., C)`` whose last axis holds the classes."""
    x = _as_float(input, "input")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"input must have shape (..., C) with C >= 1 classes, got shape "
                         f"{x.shape}")
    return _ClassInput(x, x.shape[:-1], x.shape[-1], False, class_last=True)


def _class_weight(weight: Any, rows: _ClassInput) -> Optional[FloatArray]:
    if weight is None:
        return None
    w = _as_dtype(weight, rows.x.dtype, "weight")
    if w.shape != (rows.c,):
        raise ValueError(f"weight must have shape (C,) = ({rows.c},), got {w.shape}")
    return w


def _row_sample_weight(sample_weight: Any, rows: _ClassInput) -> Optional[FloatArray]:
    """One weight per row (the targets' shape), flat in C order, or None. Every weight is
    finite and non-negative (as the elementwise losses' sample weights: a negative weight
    makes the weighted mean meaningless)."""
    if sample_weight is None:
        return None
    with np.errstate(over="ignore"):  # a weight too large for float32 becomes inf: refused
        sw = _as_dtype(sample_weight, rows.x.dtype, "sample_weight")
    if sw.shape != rows.batch:
        raise ValueError(f"sample_weight must have the shape of the targets' rows {rows.batch} "
                         f"(input of shape {rows.x.shape}), got {sw.shape}")
    sw = sw.reshape(-1)
    _check_sample_weight_values(sw, rows.batch)
    return sw


def _labels(target: Any, rows: _ClassInput, w: Optional[FloatArray],
            sw: Optional[FloatArray], ignore_index: int) -> Tuple[np.ndarray, float]:
    """Labels as flat int64 (one per row) and the mean's denominator: the sum of
    ``sample_weight * w[y]`` over kept rows (PyTorch's ``sum w[y]`` without sample weights)."""
    t = target if type(target) is np.ndarray else _as_array(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class labels, got dtype {t.dtype}")
    c = rows.c
    if t.shape != rows.batch:
        raise ValueError(f"target must have shape {rows.batch} (the input's shape "
                         f"{rows.x.shape} without its class axis), got {t.shape}")
    if t.dtype.kind == "u" and t.dtype.itemsize == 8 and t.size and t.max() > 2**63 - 1:
        bad = first_where(t, lambda block: block > 2**63 - 1)  # no n-sized temporary
        raise ValueError(f"target[{_where(bad, t.shape)}] = {t.flat[bad]} is not a class index "
                         f"in [0, {c})")
    labels = _contiguous(t, np.dtype(np.int64)).reshape(-1)
    total, bad = _losses.label_weight_total(labels, c, w, ignore_index,
                                            rows.x.dtype == _F64, sw)
    if bad >= 0:
        raise ValueError(f"target[{_where(bad, t.shape)}] = {t.flat[bad]} is not a class index "
                         f"in [0, {c}) nor ignore_index ({ignore_index})")
    return labels, total


def _where(flat: int, shape: Tuple[int, ...]) -> str:
    """The index of flat position ``flat`` of an array of ``shape``, as ``i, j``."""
    return ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) if shape else ""


def _check_unchanged(bad: int, rows: _ClassInput, ignore_index: int) -> None:
    """The kernels check every label again as they read it (another thread may change the
    caller's array meanwhile) and report a row whose label was then out of range."""
    if bad >= 0:
        raise ValueError(f"target changed during the call: when the kernel read "
                         f"target[{_where(bad, rows.batch)}] it was not a class index in "
                         f"[0, {rows.c}) nor ignore_index ({ignore_index}); no result (out, if "
                         f"given, is partly written)")


def _check_ignore_index(ignore_index: Any) -> int:
    if type(ignore_index) is int and -(2**63) <= ignore_index < 2**63:  # the common case
        return ignore_index
    try:
        i = operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"ignore_index must be an int, got {ignore_index!r}") from None
    if not -(2**63) <= i < 2**63:
        raise ValueError(f"ignore_index must fit in int64, got {i}")
    return i


def _row_outputs(mode: int, rows: _ClassInput, out: Any, inputs: Tuple[Any, ...]
                 ) -> Tuple[Optional[FloatArray], Optional[FloatArray]]:
    """The gradient and Hessian arrays ``mode`` writes (``out``, checked, or new ones)."""
    x = rows.x
    if mode == _GRAD_HESS:
        return _prepare_out_pair(out, x.shape, x.dtype, *inputs)
    return (_prepare_out(out, x.shape, x.dtype, *inputs) if mode & _GRAD else None), None


def _rows_call(mode: int, rows: _ClassInput, reduction: str, denominator: float, out: Any,
               inputs: Tuple[Any, ...], ignore: int,
               kernel: Callable[..., Tuple[float, int]]) -> Any:
    """Run ``kernel(x, scale, grad, hess, elems, want) -> (total, bad)`` (the call's other
    arguments bound) over the rows of ``rows`` and assemble what ``mode`` returns: value,
    grad, both, or (grad, hess). ``inputs``: the arrays ``out`` must not overlap."""
    x = rows.x
    grad, hess = _row_outputs(mode, rows, out, inputs)
    scale = (1.0 / denominator if denominator else np.inf) if reduction == "mean" else 1.0
    elems = np.empty(rows.batch, x.dtype) if reduction == "none" and mode & _VALUE else None
    want = (_losses.WANT_GRAD if mode & _GRAD else 0) | (
        (_losses.WANT_ELEMENTS if elems is not None else _losses.WANT_SUM)
        if mode & _VALUE else 0)
    if rows.moved:
        rows_shape = (x.size // rows.c, rows.c)
        g = np.empty(rows_shape, x.dtype) if grad is not None else None
        h = np.empty(rows_shape, x.dtype) if hess is not None else None
        total, bad = kernel(rows.kernel(x), scale, g, h, elems, want)
        if grad is not None and g is not None:
            rows.restore(g, grad)
        if hess is not None and h is not None:
            rows.restore(h, hess)
    else:
        total, bad = kernel(rows.kernel(x), scale, None if grad is None else rows.kernel(grad),
                            None if hess is None else rows.kernel(hess), elems, want)
    _check_unchanged(bad, rows, ignore)
    if mode == _GRAD:
        return grad
    if mode == _GRAD_HESS:
        return grad, hess
    if elems is not None:
        value: Any = elems
    elif reduction == "mean":
        value = _scalar(x.dtype, _mean(total, denominator))
    else:
        value = _scalar(x.dtype, total)
    return value if mode == _VALUE else (value, grad)


def _cross_entropy(mode: int, input: Any, target: Any, weight: Any, ignore_index: Any,
                   reduction: str, label_smoothing: Any, out: Any, n_threads: Optional[int],
                   sample_weight: Any = None) -> Any:
    rows = _class_input(input)
    x = rows.x
    w = _class_weight(weight, rows)
    ignore = _check_ignore_index(ignore_index)
    _check_reduction(reduction)
    q = _CE_LABEL_SMOOTHING(label_smoothing)
    t = target if type(target) is np.ndarray else _as_array(target, "target")
    sw = _row_sample_weight(sample_weight, rows)
    if t.dtype.kind == "f" and t.ndim < x.ndim:
        raise TypeError(f"target must hold integer class labels of shape {rows.batch} or float "
                        f"class probabilities of shape {x.shape}, got dtype {t.dtype} and "
                        f"shape {t.shape}")
    probs: Optional[FloatArray] = None
    if t.dtype.kind == "f":  # class probabilities: the mean divides by N (or sum(sw))
        probs = _as_dtype(t, x.dtype, "target")
        if probs.shape != x.shape:
            raise ValueError(f"probability target must have the input's shape {x.shape}, "
                             f"got {probs.shape}")
        if ignore >= 0:  # PyTorch's check and message; a negative index ignores nothing
            raise ValueError("ignore_index is not supported for floating point target")
        labels = None
        denominator = float(int(np.prod(rows.batch)) if sw is None
                            else sw.sum(dtype=np.float64))
    else:
        labels, denominator = _labels(t, rows, w, sw, ignore)
    nt = _config.resolve_threads(n_threads, x.size)

    if _backend.get_backend() == "numpy":
        ref_target = probs if labels is None else labels.reshape(rows.batch)
        result = _reference("cross_entropy" + _SUFFIX[mode], x, ref_target, w, ignore,
                            reduction, q, sample_weight=None if sw is None
                            else sw.reshape(rows.batch))
        return _finish_reference(mode, result, *_row_outputs(mode, rows, out, (x, w, t, sw)))

    if probs is not None:
        tk = rows.kernel(probs)

        def kernel(xk: Any, scale: float, g: Any, h: Any, e: Any, want: int
                   ) -> Tuple[float, int]:
            return _losses.cross_entropy_prob(xk, tk, w, q, scale, g, e, want, nt, sw, h), -1
    else:
        label_rows = labels

        def kernel(xk: Any, scale: float, g: Any, h: Any, e: Any, want: int
                   ) -> Tuple[float, int]:
            assert label_rows is not None
            return _losses.cross_entropy_index(xk, label_rows, w, ignore, q, scale, g, e, want,
                                               nt, sw, h)
    return _rows_call(mode, rows, reduction, denominator, out, (x, w, t, sw), ignore, kernel)



def cross_entropy(input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
                  ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0, *, sample_weight: Optional[ArrayLike] = None,
                  n_threads: Optional[int] = None) -> LossValue:
    r"""Softmax cross-entropy of logits ``x``, PyTorch's ``F.cross_entropy``.

    Shapes as PyTorch: ``input`` is ``(N, C)``, ``(N, C, d1, ..., dk)`` (the class axis
    second; each of the ``N d1 ... dk`` positions is a row of C logits) or unbatched
    ``(C,)``; ``target`` is integer class labels of shape ``(N,)``, ``(N, d1, ..., dk)``
    or ``()``, or class probabilities of the input's shape (a float array). With
    ``lse_i = log sum_k exp(x_ik)`` (computed stably), class weights ``w`` (default 1) and
    label smoothing ``q``:

    * labels: ``l_i = (1 - q) w_{y_i} (lse_i - x_{i,y_i}) + (q / C) sum_k w_k (lse_i - x_ik)``;
      rows with ``y_i == ignore_index`` contribute 0 (loss and gradient). ``"mean"`` divides
      by ``sum_i w_{y_i}`` over the kept rows (NaN if every row is ignored, with a zero
      gradient, as in PyTorch).
    * probabilities: ``l_i = sum_k w_k t_ik (lse_i - x_ik)`` with ``t = (1 - q) y + q / C``;
      ``"mean"`` divides by the number of rows. As in PyTorch, ``ignore_index >= 0`` raises
      ValueError ("ignore_index is not supported for floating point target"); a negative one
      (the default -100) ignores nothing.

    ``sample_weight`` (a fastloss addition; PyTorch has none, pytorch#264): one weight
    ``s_i`` per row, of the targets' shape ``(N, d1, ..., dk)``. It multiplies a row's loss,
    gradient and Hessian, next to the class weights: ``"mean"`` is ``sum_i s_i l_i / D``
    with ``D = sum_i s_i w_{y_i}`` over the kept rows for labels (scikit-learn's
    ``sum(s l) / sum(s)`` when ``weight`` is None, PyTorch's ``sum w_{y_i}`` when
    ``sample_weight`` is None) and ``D = sum_i s_i`` for probabilities.

    The gradient is ``softmax(x) * sum_k w_k t_ik - w t`` (labels: ``t`` one-hot, smoothed),
    divided by the mean's denominator, of the input's shape. ``reduction="none"`` gives the
    row losses, of the targets' shape (0-d for an unbatched input).
    """
    return _cross_entropy(_VALUE, input, target, weight, ignore_index, reduction,
                          label_smoothing, None, n_threads, sample_weight)


def cross_entropy_grad(input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
                       ignore_index: int = -100, reduction: str = "mean",
                       label_smoothing: float = 0.0, *,
                       sample_weight: Optional[ArrayLike] = None,
                       out: Optional[FloatArray] = None,
                       n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`cross_entropy` with respect to the logits, of the input's shape."""
    return _cross_entropy(_GRAD, input, target, weight, ignore_index, reduction,
                          label_smoothing, out, n_threads, sample_weight)


def cross_entropy_value_and_grad(input: ArrayLike, target: ArrayLike,
                                 weight: Optional[ArrayLike] = None, ignore_index: int = -100,
                                 reduction: str = "mean", label_smoothing: float = 0.0, *,
                                 sample_weight: Optional[ArrayLike] = None,
                                 out: Optional[FloatArray] = None,
                                 n_threads: Optional[int] = None
                                 ) -> Tuple[LossValue, FloatArray]:
    """``(cross_entropy(...), cross_entropy_grad(...))`` from one pass over the logits."""
    return _cross_entropy(_BOTH, input, target, weight, ignore_index, reduction,
                          label_smoothing, out, n_threads, sample_weight)


class _RowKernel(NamedTuple):
    """A row-wise loss of class labels as one call runs it: its row and its C kernel."""

    loss: Loss
    code: int


def _row_kernel(loss: Loss, kernel: str = "") -> _RowKernel:
    """``loss`` running its C kernel ``kernel`` (default: its first)."""
    return _RowKernel(loss, _losses.ROWWISE_LOSSES[kernel or next(iter(loss.kernels))])


#: the ignore_index of a loss that ignores no label: the one int64 that is no class index,
#: refused with the other labels out of range
_NO_IGNORE = -(2**63)


def _labelled_rows(spec: _RowKernel, mode: int, input: Any, target: Any, weight: Any,
                   ignore_index: Any, reduction: str, out: Any, param: float = 0.0,
                   n_threads: Optional[int] = 1, sample_weight: Any = None,
                   ref_kwargs: Optional[Dict[str, Any]] = None) -> Any:
    """A loss of rows of classes and labels on the kernels of row_rules.h: checks, the mean's
    denominator (``weighted_mean == "weight_sum"``: the sum of sample_weight * w[y] over kept
    rows, as PyTorch without sample weights; ``"count"``: the number of rows, or the sum of
    the sample weights), the numpy backend, the call. ``ignore_index`` None: the loss has
    none, every label must be a class index. ``n_threads`` defaults to 1: nll_loss
    (PyTorch's signature) takes none, and one thread keeps its sums those of the serial
    kernel it had. ``ref_kwargs``: the reference's keyword arguments beyond the common ones."""
    loss = spec.loss
    rows = _class_input(input)
    x = rows.x
    if x.ndim > 2 and not loss.spatial:
        raise ValueError(f"input must have shape (C,) or (N, C), got shape {x.shape}")
    w = _class_weight(weight, rows)
    ignore = _NO_IGNORE if ignore_index is None else _check_ignore_index(ignore_index)
    _check_reduction(reduction, loss.reductions)
    sw = _row_sample_weight(sample_weight, rows)
    by_weight_sum = loss.weighted_mean == "weight_sum"
    labels, denominator = _labels(target, rows, w if by_weight_sum else None, sw, ignore)
    if ignore_index is None and labels.size and labels.min() == _NO_IGNORE:
        bad = int(np.argmin(labels))
        raise ValueError(f"target[{_where(bad, rows.batch)}] = {_NO_IGNORE} is not a class "
                         f"index in [0, {rows.c})")
    inputs = (x, w, labels, sw, target if type(target) is np.ndarray else None)
    nt = 1 if n_threads == 1 else _config.resolve_threads(n_threads, x.size)
    if _backend.get_backend() == "numpy":
        kwargs = dict(ref_kwargs or {})
        if ignore_index is not None:
            kwargs["ignore_index"] = ignore
        result = _reference(loss.name + _SUFFIX[mode], x, labels.reshape(rows.batch), weight=w,
                            reduction=reduction, sample_weight=None if sw is None
                            else sw.reshape(rows.batch), **kwargs)
        return _finish_reference(mode, result, *_row_outputs(mode, rows, out, inputs))

    def kernel(xk: Any, scale: float, g: Any, h: Any, e: Any, want: int) -> Tuple[float, int]:
        return _losses.rowwise(spec.code, xk, labels, w, ignore, param, scale, g, e, want, nt,
                               sw, h)
    return _rows_call(mode, rows, reduction, denominator, out, inputs, ignore, kernel)


_NLL_SPEC = _row_kernel(LOSSES["nll_loss"])


def _nll(mode: int, input: Any, target: Any, weight: Any, ignore_index: Any, reduction: str,
         out: Any, sample_weight: Any) -> Any:
    return _labelled_rows(_NLL_SPEC, mode, input, target, weight, ignore_index, reduction, out,
                          sample_weight=sample_weight)


def nll_loss(input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
             ignore_index: int = -100, reduction: str = "mean", *,
             sample_weight: Optional[ArrayLike] = None) -> LossValue:
    r"""Negative log-likelihood of log-probabilities ``x`` and labels ``y``, PyTorch's
    ``F.nll_loss``: ``l_i = -w_{y_i} x_{i,y_i}``, 0 for rows with ``y_i == ignore_index``.
    Shapes as :func:`cross_entropy` with labels: ``input`` ``(N, C)``, ``(N, C, d1, ...,
    dk)`` or ``(C,)``, ``target`` ``(N,)``, ``(N, d1, ..., dk)`` or ``()``. ``"mean"``
    divides by ``sum_i w_{y_i}`` over kept rows, as in PyTorch. The gradient is
    ``-w_{y_i} / D`` at ``(i, y_i)`` and 0 elsewhere. ``sample_weight`` ``s_i`` (one per
    row, a fastloss addition) as in :func:`cross_entropy`: ``l_i = -s_i w_{y_i} x_{i,y_i}``,
    ``D = sum_i s_i w_{y_i}`` over kept rows.
    """
    return _nll(_VALUE, input, target, weight, ignore_index, reduction, None, sample_weight)


def nll_loss_grad(input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
                  ignore_index: int = -100, reduction: str = "mean", *,
                  sample_weight: Optional[ArrayLike] = None,
                  out: Optional[FloatArray] = None) -> FloatArray:
    """Gradient of :func:`nll_loss` with respect to ``input``, of the input's shape."""
    return _nll(_GRAD, input, target, weight, ignore_index, reduction, out, sample_weight)


def nll_loss_value_and_grad(input: ArrayLike, target: ArrayLike,
                            weight: Optional[ArrayLike] = None, ignore_index: int = -100,
                            reduction: str = "mean", *,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[FloatArray] = None
                            ) -> Tuple[LossValue, FloatArray]:
    """``(nll_loss(...), nll_loss_grad(...))``."""
    return _nll(_BOTH, input, target, weight, ignore_index, reduction, out, sample_weight)


# ---- Hessians of the losses over rows of classes ----------------------------------------

def cross_entropy_grad_hess(input: ArrayLike, target: ArrayLike,
                            weight: Optional[ArrayLike] = None, ignore_index: int = -100,
                            reduction: str = "mean", label_smoothing: float = 0.0, *,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[OutPair] = None, n_threads: Optional[int] = None
                            ) -> Tuple[FloatArray, FloatArray]:
    r"""``(gradient, diagonal of the Hessian)`` of :func:`cross_entropy` with respect to the
    logits, both of the input's shape, from one pass.

    scikit-learn's ``HalfMultinomialLoss.gradient_hessian`` convention: the Hessian's
    diagonal only, ``d^2 L / dx_ik^2``. A row's loss is ``sum_k a_k (lse_i - x_ik)`` with
    ``a_k = (1 - q) w_{y_i} [k == y_i] + (q / C) w_k`` (labels) or ``a_k = w_k t_ik``
    (probabilities, ``t`` smoothed), so with ``A_i = sum_k a_k`` and ``p = softmax(x_i)``::

        grad_ik = s_i (A_i p_ik - a_k) / D        hess_ik = s_i A_i p_ik (1 - p_ik) / D

    (``D`` the mean's denominator, 1 for ``"sum"``/``"none"``; ``s_i`` the sample weight).
    Without class weights, smoothing or probabilities ``A_i = 1``: scikit-learn's
    ``p (1 - p)``, which it returns for ``"sum"`` (times ``sample_weight``). Ignored rows
    have 0 gradient and 0 Hessian.
    """
    return _cross_entropy(_GRAD_HESS, input, target, weight, ignore_index, reduction,
                          label_smoothing, out, n_threads, sample_weight)


def nll_loss_grad_hess(input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
                       ignore_index: int = -100, reduction: str = "mean", *,
                       sample_weight: Optional[ArrayLike] = None,
                       out: Optional[OutPair] = None) -> Tuple[FloatArray, FloatArray]:
    """``(gradient, diagonal of the Hessian)`` of :func:`nll_loss` with respect to
    ``input``. The loss is linear in ``input``: the Hessian is 0 (an array of zeros of the
    input's shape, so that the pair has the shape of every ``*_grad_hess``)."""
    return _nll(_GRAD_HESS, input, target, weight, ignore_index, reduction, out, sample_weight)


# ---- margin losses over (N, C) rows and labels -----------------------------------------

_MULTI_MARGIN_SPEC = _row_kernel(LOSSES["multi_margin_loss"])
_MULTI_MARGIN_SQ_SPEC = _row_kernel(LOSSES["multi_margin_loss"], "multi_margin_sq")
_MULTI_MARGIN_P = _checker(LOSSES["multi_margin_loss"], "p")
_MULTI_MARGIN_MARGIN = _checker(LOSSES["multi_margin_loss"], "margin")


def _multi_margin(mode: int, input: Any, target: Any, p: Any, margin: Any, weight: Any,
                  reduction: str, out: Any, sample_weight: Any, n_threads: Optional[int]
                  ) -> Any:
    power = _MULTI_MARGIN_P(p)
    m = _MULTI_MARGIN_MARGIN(margin)
    return _labelled_rows(_MULTI_MARGIN_SPEC if power == 1 else _MULTI_MARGIN_SQ_SPEC, mode,
                          input, target, weight, None, reduction, out, m, n_threads,
                          sample_weight, {"p": 1 if power == 1 else 2, "margin": m})


def multi_margin_loss(input: ArrayLike, target: ArrayLike, p: int = 1, margin: float = 1.0,
                      weight: Optional[ArrayLike] = None, reduction: str = "mean", *,
                      sample_weight: Optional[ArrayLike] = None,
                      n_threads: Optional[int] = None) -> LossValue:
    r"""Multi-class hinge loss, PyTorch's ``F.multi_margin_loss``: for logits ``x`` of shape
    ``(N, C)`` (or ``(C,)``) and labels ``y`` (``(N,)``, or ``()``), ``p`` 1 or 2::

        l_i = (w_{y_i} / C) sum_{k != y_i} max(0, margin - x_{i,y_i} + x_ik)^p

    Gradient: ``(w_{y_i} / C) p z^(p-1)`` at each ``k`` with ``z = margin - x_{i,y_i} + x_ik
    > 0`` and minus their sum at ``y_i``. Labels must be class indices (there is no
    ``ignore_index``). ``"mean"`` divides by N, as PyTorch (class weights do not enter
    it); ``sample_weight`` ``s_i`` (one per row, a fastloss addition) multiplies ``l_i``
    and makes the mean ``sum(s l) / sum(s)``.
    """
    return _multi_margin(_VALUE, input, target, p, margin, weight, reduction, None,
                         sample_weight, n_threads)


def multi_margin_loss_grad(input: ArrayLike, target: ArrayLike, p: int = 1,
                           margin: float = 1.0, weight: Optional[ArrayLike] = None,
                           reduction: str = "mean", *,
                           sample_weight: Optional[ArrayLike] = None,
                           out: Optional[FloatArray] = None,
                           n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`multi_margin_loss` with respect to ``input``."""
    return _multi_margin(_GRAD, input, target, p, margin, weight, reduction, out,
                         sample_weight, n_threads)


def multi_margin_loss_value_and_grad(input: ArrayLike, target: ArrayLike, p: int = 1,
                                     margin: float = 1.0, weight: Optional[ArrayLike] = None,
                                     reduction: str = "mean", *,
                                     sample_weight: Optional[ArrayLike] = None,
                                     out: Optional[FloatArray] = None,
                                     n_threads: Optional[int] = None
                                     ) -> Tuple[LossValue, FloatArray]:
    """``(multi_margin_loss(...), multi_margin_loss_grad(...))`` from one pass."""
    return _multi_margin(_BOTH, input, target, p, margin, weight, reduction, out,
                         sample_weight, n_threads)


def multi_margin_loss_grad_hess(input: ArrayLike, target: ArrayLike, p: int = 1,
                                margin: float = 1.0, weight: Optional[ArrayLike] = None,
                                reduction: str = "mean", *,
                                sample_weight: Optional[ArrayLike] = None,
                                out: Optional[OutPair] = None,
                                n_threads: Optional[int] = None
                                ) -> Tuple[FloatArray, FloatArray]:
    """``(gradient, diagonal of the Hessian)`` of :func:`multi_margin_loss`: the Hessian is
    0 for ``p = 1`` (piecewise linear) and, for ``p = 2``, ``2 w_{y_i} / C`` at each active
    ``k`` and their sum at ``y_i`` (0 where ``z = 0``: the one-sided second derivative
    PyTorch's backward gives)."""
    return _multi_margin(_GRAD_HESS, input, target, p, margin, weight, reduction, out,
                         sample_weight, n_threads)


# ---- losses of rows and target rows: (..., C) inputs and targets of their shape ---------

def _target_rows(spec: _RowKernel, mode: int, input: Any, target: Any, weight: Any,
                 reduction: str, out: Any, sample_weight: Any, n_threads: Optional[int]
                 ) -> Any:
    """A loss of rows and target rows of the input's shape (the class axis last) on the
    kernels of row_rules.h whose target is a row: checks, the mean's denominator (the number
    of rows, or the sum of the sample weights), the numpy backend, the call."""
    rows = _class_last_input(input)
    x = rows.x
    t = _as_dtype(target, x.dtype, "target")
    if t.shape != x.shape:
        raise ValueError(f"target shape {t.shape} must equal input shape {x.shape}")
    w = _class_weight(weight, rows)
    _check_reduction(reduction, spec.loss.reductions)
    sw = _row_sample_weight(sample_weight, rows)
    denominator = float(x.size // rows.c if sw is None else sw.sum(dtype=np.float64))
    inputs = (x, t, w, sw)
    nt = _config.resolve_threads(n_threads, x.size)
    if _backend.get_backend() == "numpy":
        result = _reference(spec.loss.name + _SUFFIX[mode], x, t, weight=w, reduction=reduction,
                            sample_weight=None if sw is None else sw.reshape(rows.batch))
        return _finish_reference(mode, result, *_row_outputs(mode, rows, out, inputs))
    tk = rows.kernel(t)

    def kernel(xk: Any, scale: float, g: Any, h: Any, e: Any, want: int) -> Tuple[float, int]:
        return _losses.rowwise(spec.code, xk, None, w, 0, 0.0, scale, g, e, want, nt, sw, h, tk)
    return _rows_call(mode, rows, reduction, denominator, out, inputs, 0, kernel)


_MULTILABEL_SOFT_MARGIN_SPEC = _row_kernel(LOSSES["multilabel_soft_margin_loss"])


def multilabel_soft_margin_loss(input: ArrayLike, target: ArrayLike,
                                weight: Optional[ArrayLike] = None, reduction: str = "mean", *,
                                sample_weight: Optional[ArrayLike] = None,
                                n_threads: Optional[int] = None) -> LossValue:
    r"""Multi-label one-versus-all logistic loss, PyTorch's ``F.multilabel_soft_margin_loss``:
    logits ``x`` of shape ``(..., C)`` (the classes on the last axis) and targets ``t`` in
    [0, 1] of the same shape; per row::

        l_i = (1 / C) sum_k w_k (-(t_ik log sigmoid(x_ik) + (1 - t_ik) log sigmoid(-x_ik)))

    (each term :func:`binary_cross_entropy_with_logits`'s, stable for any logit). Gradient
    ``w_k (sigmoid(x_ik) - t_ik) / C``. ``weight``: one per class, shape ``(C,)`` (PyTorch
    also broadcasts other shapes; fastloss takes class weights only). ``"mean"`` divides by
    the number of rows (class weights stay out of it, as PyTorch); ``sample_weight`` ``s_i``
    (one per row, shape ``input.shape[:-1]``, a fastloss addition) multiplies ``l_i`` and
    makes the mean ``sum(s l) / sum(s)``. ``reduction="none"`` gives the row losses.
    """
    return _target_rows(_MULTILABEL_SOFT_MARGIN_SPEC, _VALUE, input, target, weight, reduction,
                        None, sample_weight, n_threads)


def multilabel_soft_margin_loss_grad(input: ArrayLike, target: ArrayLike,
                                     weight: Optional[ArrayLike] = None,
                                     reduction: str = "mean", *,
                                     sample_weight: Optional[ArrayLike] = None,
                                     out: Optional[FloatArray] = None,
                                     n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`multilabel_soft_margin_loss` with respect to ``input``."""
    return _target_rows(_MULTILABEL_SOFT_MARGIN_SPEC, _GRAD, input, target, weight, reduction,
                        out, sample_weight, n_threads)


def multilabel_soft_margin_loss_value_and_grad(
        input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
        reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
        out: Optional[FloatArray] = None, n_threads: Optional[int] = None
) -> Tuple[LossValue, FloatArray]:
    """``(multilabel_soft_margin_loss(...), multilabel_soft_margin_loss_grad(...))``."""
    return _target_rows(_MULTILABEL_SOFT_MARGIN_SPEC, _BOTH, input, target, weight, reduction,
                        out, sample_weight, n_threads)


def multilabel_soft_margin_loss_grad_hess(
        input: ArrayLike, target: ArrayLike, weight: Optional[ArrayLike] = None,
        reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
        out: Optional[OutPair] = None, n_threads: Optional[int] = None
) -> Tuple[FloatArray, FloatArray]:
    """``(gradient, diagonal of the Hessian)`` of :func:`multilabel_soft_margin_loss`:
    ``hess_ik = w_k sigmoid(x_ik) sigmoid(-x_ik) / C`` (times ``s_i / D``)."""
    return _target_rows(_MULTILABEL_SOFT_MARGIN_SPEC, _GRAD_HESS, input, target, weight,
                        reduction, out, sample_weight, n_threads)


# ---- losses of rows and rows of class indices: (C,) or (N, C) inputs, -1 padded targets --

def _index_rows(spec: _RowKernel, mode: int, input: Any, target: Any, reduction: str, out: Any,
                sample_weight: Any, n_threads: Optional[int]) -> Any:
    """A loss of rows and rows of class indices of the input's shape (PyTorch's
    multilabel_margin_loss target: each row's classes, then -1): checks (every index in
    [-1, C), as PyTorch, before anything is written), the mean's denominator (the number of
    rows, or the sum of the sample weights), the numpy backend, the call."""
    x = _as_float(input, "input")
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"input must have shape (C,) or (N, C) with C >= 1, got shape "
                         f"{x.shape}")
    rows = _ClassInput(x, x.shape[:-1], x.shape[-1], False, class_last=True)
    if rows.c > _losses.LABEL_ROW_MAX_CLASSES:
        raise ValueError(f"{spec.loss.name} takes at most {_losses.LABEL_ROW_MAX_CLASSES} "
                         f"classes, got input of shape {x.shape}")
    t = target if type(target) is np.ndarray else _as_array(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != x.shape:
        raise ValueError(f"target shape {t.shape} must equal input shape {x.shape}")
    if t.size and (t.min() < -1 or t.max() >= rows.c):
        bad = first_where(t, lambda block: (block < -1) | (block >= rows.c))
        raise ValueError(f"target[{_where(bad, t.shape)}] = {t.flat[bad]} is not a class index "
                         f"in [0, {rows.c}) nor -1 (the end of a row's list)")
    labels = _contiguous(t, np.dtype(np.int64))
    _check_reduction(reduction, spec.loss.reductions)
    sw = _row_sample_weight(sample_weight, rows)
    denominator = float(x.size // rows.c if sw is None else sw.sum(dtype=np.float64))
    inputs = (x, labels, sw)
    nt = _config.resolve_threads(n_threads, x.size)
    if _backend.get_backend() == "numpy":
        result = _reference(spec.loss.name + _SUFFIX[mode], x, labels, reduction=reduction,
                            sample_weight=None if sw is None else sw.reshape(rows.batch))
        return _finish_reference(mode, result, *_row_outputs(mode, rows, out, inputs))
    yk = rows.kernel(labels)

    def kernel(xk: Any, scale: float, g: Any, h: Any, e: Any, want: int) -> Tuple[float, int]:
        return _losses.rowwise(spec.code, xk, yk, None, 0, 0.0, scale, g, e, want, nt, sw, h)
    return _rows_call(mode, rows, reduction, denominator, out, inputs, -1, kernel)


_MULTILABEL_MARGIN_SPEC = _row_kernel(LOSSES["multilabel_margin_loss"])


def multilabel_margin_loss(input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
                           sample_weight: Optional[ArrayLike] = None,
                           n_threads: Optional[int] = None) -> LossValue:
    r"""Multi-label hinge loss, PyTorch's ``F.multilabel_margin_loss``: logits ``x`` of shape
    ``(N, C)`` (or ``(C,)``) and a target of the same shape holding each row's class indices
    ``y_i1, ..., y_iJ`` followed by -1 (what follows the first -1 does not count; every entry
    must be in [-1, C), as PyTorch checks). With ``T_i`` the set of a row's targets::

        l_i = (1 / C) sum_{j <= J} sum_{k not in T_i} max(0, 1 - x_{i,y_ij} + x_ik)

    (a class listed twice counts twice, as in PyTorch). Gradient ``1 / C`` at ``k`` and
    ``-1 / C`` at ``y_ij`` for each pair with ``1 - x_{i,y_ij} + x_ik > 0`` (0 at the kink,
    as PyTorch's backward). ``"mean"`` divides by N, as PyTorch; ``sample_weight`` ``s_i``
    (one per row, shape ``(N,)``, a fastloss addition) multiplies ``l_i`` and makes the mean
    ``sum(s l) / sum(s)``. At most ``fastloss._losses.LABEL_ROW_MAX_CLASSES`` (16384)
    classes (the kernel counts a row's targets on the stack). An empty batch gives NaN for
    ``"mean"`` and 0 for ``"sum"`` (PyTorch 2.13 returns uninitialized memory there).
    """
    return _index_rows(_MULTILABEL_MARGIN_SPEC, _VALUE, input, target, reduction, None,
                       sample_weight, n_threads)


def multilabel_margin_loss_grad(input: ArrayLike, target: ArrayLike, reduction: str = "mean",
                                *, sample_weight: Optional[ArrayLike] = None,
                                out: Optional[FloatArray] = None,
                                n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`multilabel_margin_loss` with respect to ``input``."""
    return _index_rows(_MULTILABEL_MARGIN_SPEC, _GRAD, input, target, reduction, out,
                       sample_weight, n_threads)


def multilabel_margin_loss_value_and_grad(
        input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[FloatArray] = None,
        n_threads: Optional[int] = None) -> Tuple[LossValue, FloatArray]:
    """``(multilabel_margin_loss(...), multilabel_margin_loss_grad(...))`` from one pass."""
    return _index_rows(_MULTILABEL_MARGIN_SPEC, _BOTH, input, target, reduction, out,
                       sample_weight, n_threads)


def multilabel_margin_loss_grad_hess(
        input: ArrayLike, target: ArrayLike, reduction: str = "mean", *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[OutPair] = None,
        n_threads: Optional[int] = None) -> Tuple[FloatArray, FloatArray]:
    """``(gradient, diagonal of the Hessian)`` of :func:`multilabel_margin_loss`: piecewise
    linear, the Hessian is 0."""
    return _index_rows(_MULTILABEL_MARGIN_SPEC, _GRAD_HESS, input, target, reduction, out,
                       sample_weight, n_threads)


# ---- losses of rows of several float inputs: the gradient is a tuple, one per input ---------

#: the gradients of a loss of several float inputs, in argument order
Grads = Tuple[FloatArray, ...]


def _prepare_outs(out: Any, arrays: Tuple[FloatArray, ...], inputs: Tuple[Any, ...]
                  ) -> Grads:
    """The gradient arrays of a loss of several float inputs: ``out`` None (new arrays) or a
    tuple of one array per float input, each checked as :func:`_prepare_out`'s, none
    overlapping an input or another."""
    x = arrays[0]
    if out is None:
        return tuple(np.empty(x.shape, x.dtype) for _ in arrays)
    if not isinstance(out, tuple) or len(out) != len(arrays):
        raise TypeError(f"out must be None or a tuple of {len(arrays)} arrays (one gradient "
                        f"per float input), got {type(out).__name__}")
    grads: Tuple[FloatArray, ...] = ()
    for j, o in enumerate(out):
        grads += (_prepare_out(o, x.shape, x.dtype, *inputs, *grads, name=f"out[{j}]"),)
    return grads


def _input_rows(spec: _RowKernel, mode: int, arrays: Tuple[Any, ...], target: Any,
                reduction: str, out: Any, sample_weight: Any, n_threads: Optional[int],
                param: float, params: Tuple[float, ...], ref_kwargs: Dict[str, Any]) -> Any:
    """A loss of rows of several float inputs (``arrays``, named by the registry row's
    ``inputs``; one shape (N, D) or (D,)) and, for cosine_embedding_loss, a target per row
    (1 or -1; any other value gives 0, as torch): checks, the mean's denominator (the number
    of rows, or the sum of the sample weights), the numpy backend, the call. The gradient is
    a tuple, one array per float input."""
    names = spec.loss.inputs
    x = _as_float(arrays[0], names[0])
    if x.ndim not in (1, 2):
        raise ValueError(f"{names[0]} must have shape (D,) or (N, D), got shape {x.shape}")
    xs: Tuple[FloatArray, ...] = (x,)
    for name, a in zip(names[1:], arrays[1:]):
        xs += (_as_dtype(a, x.dtype, name),)
        if xs[-1].shape != x.shape:
            raise ValueError(f"{name} shape {xs[-1].shape} must equal {names[0]} shape "
                             f"{x.shape}")
    rows = _ClassInput(x, x.shape[:-1], x.shape[-1], False, class_last=True)
    codes: Optional[np.ndarray] = None
    t: Optional[FloatArray] = None
    if spec.loss.row_target:
        t = _as_dtype(target, x.dtype, "target")
        if t.shape != rows.batch:
            raise ValueError(f"target must have shape {rows.batch} (one per row of "
                             f"{names[0]} of shape {x.shape}), got {t.shape}")
        codes = np.where(t == 1, 1, np.where(t == -1, -1, 0)).astype(np.int64).reshape(-1)
    _check_reduction(reduction, spec.loss.reductions)
    sw = _row_sample_weight(sample_weight, rows)
    n = int(np.prod(rows.batch))
    denominator = float(n if sw is None else sw.sum(dtype=np.float64))
    inputs = xs + (t, sw)
    grads = _prepare_outs(out, xs, inputs) if mode & _GRAD else None
    nt = _config.resolve_threads(n_threads, x.size * len(xs))
    if _backend.get_backend() == "numpy":
        args = xs + ((t,) if t is not None else ())
        result = _reference(spec.loss.name + _SUFFIX[mode], *args, reduction=reduction,
                            sample_weight=None if sw is None else sw.reshape(rows.batch),
                            **ref_kwargs)
        if grads is None:
            return result
        for g, r in zip(grads, result if mode == _GRAD else result[1]):
            np.copyto(g, r)
        return grads if mode == _GRAD else (result[0], grads)
    scale = (1.0 / denominator if denominator else np.inf) if reduction == "mean" else 1.0
    elems = np.empty(rows.batch, x.dtype) if reduction == "none" and mode & _VALUE else None
    want = (_losses.WANT_GRAD if mode & _GRAD else 0) | (
        (_losses.WANT_ELEMENTS if elems is not None else _losses.WANT_SUM)
        if mode & _VALUE else 0)
    c = rows.c
    total = _losses.rowwise_inputs(
        spec.code, tuple(a.reshape(n, c) for a in xs), codes, sw, param, params, scale,
        None if grads is None else tuple(g.reshape(n, c) for g in grads),
        None if elems is None else elems.reshape(-1), want, nt)
    if mode == _GRAD:
        return grads
    if elems is not None:
        value: Any = elems
    elif reduction == "mean":
        value = _scalar(x.dtype, _mean(total, denominator))
    else:
        value = _scalar(x.dtype, total)
    return value if mode == _VALUE else (value, grads)


_COSINE_EMBEDDING_SPEC = _row_kernel(LOSSES["cosine_embedding_loss"])
_COSINE_EMBEDDING_MARGIN = _checker(LOSSES["cosine_embedding_loss"], "margin")


def _cosine_embedding(mode: int, input1: Any, input2: Any, target: Any, margin: Any,
                      reduction: str, out: Any, sample_weight: Any, n_threads: Optional[int]
                      ) -> Any:
    m = _COSINE_EMBEDDING_MARGIN(margin)
    return _input_rows(_COSINE_EMBEDDING_SPEC, mode, (input1, input2), target, reduction, out,
                       sample_weight, n_threads, m, (), {"margin": m})


def cosine_embedding_loss(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                          margin: float = 0.0, reduction: str = "mean", *,
                          sample_weight: Optional[ArrayLike] = None,
                          n_threads: Optional[int] = None) -> LossValue:
    r"""Cosine embedding loss, PyTorch's ``F.cosine_embedding_loss``: rows ``a``, ``b`` of
    ``input1``, ``input2`` (shape ``(N, D)`` or ``(D,)``) and targets ``y`` (``(N,)`` or
    ``()``), with PyTorch's ``e = 1e-12`` (the float32 constant, for float64 too) added to
    each squared norm::

        cos_i = a.b / sqrt((|a|^2 + e) (|b|^2 + e))
        l_i = 1 - cos_i  (y_i = 1),   max(0, cos_i - margin)  (y_i = -1),   0 otherwise

    (a zero vector has ``cos = 0``). Gradients, a tuple ``(d/dinput1, d/dinput2)``: with
    ``m_a = |a|^2 + e``, ``dcos/da = b / sqrt(m_a m_b) - cos a / m_a`` (``b``'s alike), times
    -1 (``y = 1``) or 1 (``y = -1`` and ``cos >= margin``: at the kink the gradient passes,
    as torch's ``clamp_min``). ``"mean"`` divides by N; ``sample_weight`` ``s_i`` (one per
    row, a fastloss addition) multiplies ``l_i`` and makes the mean ``sum(s l) / sum(s)``.
    """
    return _cosine_embedding(_VALUE, input1, input2, target, margin, reduction, None,
                             sample_weight, n_threads)


def cosine_embedding_loss_grad(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                               margin: float = 0.0, reduction: str = "mean", *,
                               sample_weight: Optional[ArrayLike] = None,
                               out: Optional[Grads] = None,
                               n_threads: Optional[int] = None) -> Grads:
    """Gradients of :func:`cosine_embedding_loss`: ``(d/dinput1, d/dinput2)``, each of their
    shape; written into ``out`` (a tuple of two arrays) if given."""
    return _cosine_embedding(_GRAD, input1, input2, target, margin, reduction, out,
                             sample_weight, n_threads)


def cosine_embedding_loss_value_and_grad(
        input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0.0,
        reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
        out: Optional[Grads] = None, n_threads: Optional[int] = None
) -> Tuple[LossValue, Grads]:
    """``(cosine_embedding_loss(...), cosine_embedding_loss_grad(...))`` from one pass."""
    return _cosine_embedding(_BOTH, input1, input2, target, margin, reduction, out,
                             sample_weight, n_threads)


_TRIPLET_SPEC = _row_kernel(LOSSES["triplet_margin_loss"])
_TRIPLET_MARGIN = _checker(LOSSES["triplet_margin_loss"], "margin")
_TRIPLET_P = _checker(LOSSES["triplet_margin_loss"], "p")
_TRIPLET_EPS = _checker(LOSSES["triplet_margin_loss"], "eps")
_TRIPLET_SWAP = _checker(LOSSES["triplet_margin_loss"], "swap")


def _triplet(mode: int, anchor: Any, positive: Any, negative: Any, margin: Any, p: Any,
             eps: Any, swap: Any, reduction: str, out: Any, sample_weight: Any,
             n_threads: Optional[int]) -> Any:
    m, power, e = _TRIPLET_MARGIN(margin), _TRIPLET_P(p), _TRIPLET_EPS(eps)
    swapped = _TRIPLET_SWAP(swap)
    return _input_rows(_TRIPLET_SPEC, mode, (anchor, positive, negative), None, reduction, out,
                       sample_weight, n_threads, m, (power, e, 1.0 if swapped else 0.0),
                       {"margin": m, "p": power, "eps": e, "swap": swapped})


def triplet_margin_loss(anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike,
                        margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                        swap: bool = False, reduction: str = "mean", *,
                        sample_weight: Optional[ArrayLike] = None,
                        n_threads: Optional[int] = None) -> LossValue:
    r"""Triplet margin loss, PyTorch's ``F.triplet_margin_loss``: rows ``a``, ``b``, ``n`` of
    ``anchor``, ``positive``, ``negative`` (shape ``(N, D)`` or ``(D,)``), with torch's
    ``pairwise_distance`` ``d(u, v) = ||u - v + eps||_p`` (eps added to the difference)::

        l_i = max(0, margin + d(a, b) - d_neg),   d_neg = d(a, n)  (min(d(a, n), d(b, n))
                                                                    with ``swap``)

    Gradients, a tuple ``(d/danchor, d/dpositive, d/dnegative)``, from ``dd/du = sign(v)
    |v|^(p-1) / d^(p-1)`` (``v / d`` for ``p = 2``; 0 where ``d = 0``, as torch's norm
    backward); at the kink the gradient passes (torch's ``clamp_min``), a tie of the swap's
    distances splits it in halves (torch's ``min``). ``margin > 0`` (torch's check); ``p``
    a real ``>= 1`` (torch also takes ``0 < p < 1``, refused here: its gradient at a zero
    difference is not finite). ``"mean"`` divides by N; ``sample_weight`` ``s_i`` (one per
    row, a fastloss addition) multiplies ``l_i`` and makes the mean ``sum(s l) / sum(s)``.
    PyTorch's deprecated ``size_average`` and ``reduce`` are not taken.
    """
    return _triplet(_VALUE, anchor, positive, negative, margin, p, eps, swap, reduction, None,
                    sample_weight, n_threads)


def triplet_margin_loss_grad(anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike,
                             margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                             swap: bool = False, reduction: str = "mean", *,
                             sample_weight: Optional[ArrayLike] = None,
                             out: Optional[Grads] = None,
                             n_threads: Optional[int] = None) -> Grads:
    """Gradients of :func:`triplet_margin_loss`: ``(d/danchor, d/dpositive, d/dnegative)``;
    written into ``out`` (a tuple of three arrays) if given."""
    return _triplet(_GRAD, anchor, positive, negative, margin, p, eps, swap, reduction, out,
                    sample_weight, n_threads)


def triplet_margin_loss_value_and_grad(
        anchor: ArrayLike, positive: ArrayLike, negative: ArrayLike, margin: float = 1.0,
        p: float = 2.0, eps: float = 1e-6, swap: bool = False, reduction: str = "mean", *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[Grads] = None,
        n_threads: Optional[int] = None) -> Tuple[LossValue, Grads]:
    """``(triplet_margin_loss(...), triplet_margin_loss_grad(...))`` from one pass."""
    return _triplet(_BOTH, anchor, positive, negative, margin, p, eps, swap, reduction, out,
                    sample_weight, n_threads)


# ---- elementwise losses of two differentiated inputs: the gradient is a tuple -------------

#: the gradients (or Hessian diagonals) of a loss of two differentiated inputs, in argument
#: order
Pair = Tuple[FloatArray, FloatArray]


def _pair_outs(out: Any, shapes: Tuple[Tuple[int, ...], ...], dtype: np.dtype[Any],
               inputs: Tuple[Any, ...], name: str = "out") -> Pair:
    """Two arrays, one per differentiated input (of its shape): ``out`` None (new arrays) or a
    tuple of two, each checked as :func:`_prepare_out`'s, not overlapping an input or each
    other."""
    if out is None:
        return np.empty(shapes[0], dtype), np.empty(shapes[1], dtype)
    if not isinstance(out, tuple) or len(out) != 2:
        raise TypeError(f"{name} must be None or a tuple of 2 arrays (one per differentiated "
                        f"input), got {type(out).__name__}")
    first = _prepare_out(out[0], shapes[0], dtype, *inputs, name=f"{name}[0]")
    return first, _prepare_out(out[1], shapes[1], dtype, *inputs, first, name=f"{name}[1]")


def _sum_axes(shape: Tuple[int, ...], full: Tuple[int, ...]) -> Tuple[int, ...]:
    """The axes of ``full`` along which an array of ``shape`` broadcasts to it."""
    lead = (1,) * (len(full) - len(shape)) + shape
    return tuple(i for i, (m, n) in enumerate(zip(lead, full)) if m != n)


class _AuxInputs(NamedTuple):
    """A call of a loss of two differentiated inputs on a reads_aux 2 kernel: its arrays
    checked and converted (``a`` the second input broadcast to ``x``'s shape, ``a_shape`` its
    own shape), the arrays ``out`` must not overlap, and the kernel's parameter."""

    x: FloatArray
    y: FloatArray
    a: FloatArray
    a_shape: Tuple[int, ...]
    #: the axes of x along which the second input broadcasts (its derivatives are summed)
    a_axes: Tuple[int, ...]
    originals: Tuple[Any, ...]
    param: float
    #: a constant every element's loss adds (gaussian_nll_loss's full: log(2 pi) / 2)
    constant: float = 0.0


def _aux_inputs(spec: _Kernel, mode: int, call: _AuxInputs, reduction: str,
                sample_weight: Any, out: Any, n_threads: Optional[int],
                reference_call: Callable[[Optional[FloatArray]], Any]) -> Any:
    """Checks, the numpy backend, the kernel call and the results (value, the pair of
    gradients, both, or (gradients, Hessian diagonals)) of a loss of two differentiated
    inputs. "mean" divides by N (by sum(sample_weight)); the second input's derivatives are
    summed over the axes it broadcasts along. ``reference_call(sample_weight)``: the
    reference's ``_SUFFIX[mode]`` function on the call's arrays."""
    x, y, a = call.x, call.y, call.a
    if reduction not in spec.reductions:
        _check_reduction(reduction, spec.reductions)
    sw = None if sample_weight is None else _sample_weight(sample_weight, x)
    shapes = (x.shape, call.a_shape)
    inputs = call.originals + (x, y, a, sw)
    grads: Optional[Pair] = None
    hess: Optional[Pair] = None
    if mode & _HESS:
        if out is not None and (not isinstance(out, tuple) or len(out) != 2):
            raise TypeError(f"out must be None or a tuple (grads, hessians) of two pairs of "
                            f"arrays, got {type(out).__name__}")
        grads = _pair_outs(None if out is None else out[0], shapes, x.dtype, inputs, "out[0]")
        hess = _pair_outs(None if out is None else out[1], shapes, x.dtype, inputs + grads,
                          "out[1]")
    elif mode & _GRAD:
        grads = _pair_outs(out, shapes, x.dtype, inputs)
    nt = _config.resolve_threads(n_threads, x.size)

    if _backend.get_backend() == "numpy":
        result = reference_call(sw)
        if mode == _VALUE:
            return result
        ref_grads = result if mode == _GRAD else result[0] if mode == _GRAD_HESS else result[1]
        assert grads is not None
        for o, r in zip(grads, ref_grads):
            np.copyto(o, r)
        if mode == _GRAD:
            return grads
        if mode == _BOTH:
            return result[0], grads
        assert hess is not None
        for o, r in zip(hess, result[1]):
            np.copyto(o, r)
        return grads, hess

    denominator = float(x.size if sw is None else sw.sum(dtype=np.float64))
    mean = reduction == "mean"
    scale = (1.0 / denominator if denominator else np.inf) if mean else 1.0
    elems = np.empty(x.shape, x.dtype) if reduction == "none" and mode & _VALUE else None
    want = (_losses.WANT_GRAD if mode & _GRAD else 0) | (
        _losses.WANT_HESS if mode & _HESS else 0) | (
        (_losses.WANT_ELEMENTS if elems is not None else _losses.WANT_SUM)
        if mode & _VALUE else 0)
    # the kernel writes the second input's derivatives at x's shape; a broadcast one sums
    # them down
    axes = call.a_axes
    full = [None if p is None else (p[1] if not axes else np.empty(x.shape, x.dtype))
            for p in (grads, hess)]
    total = _losses.elementwise(spec.code, x, y, sw, a, call.param, scale,
                                None if grads is None else grads[0],
                                None if hess is None else hess[0], elems, want, nt,
                                aux_grad=full[0], aux_hess=full[1])
    if axes:
        for p, f in zip((grads, hess), full):
            if p is not None and f is not None:
                np.copyto(p[1], f.sum(axis=axes, dtype=np.float64).reshape(call.a_shape))
    if mode == _GRAD:
        return grads
    if mode == _GRAD_HESS:
        return grads, hess
    value: Any
    if elems is not None:
        if call.constant:
            elems += call.constant if sw is None else call.constant * sw
        value = elems
    else:
        total += call.constant * denominator
        value = _scalar(x.dtype, _mean(total, denominator) if mean else total)
    return value if mode == _VALUE else (value, grads)


def _same_shape(x: FloatArray, a: Any, name: str) -> FloatArray:
    arr = _as_dtype(a, x.dtype, name)
    if arr.shape != x.shape:
        raise ValueError(f"{name} shape {arr.shape} must equal the shape {x.shape} of the "
                         f"first input")
    return arr


_MARGIN_RANKING_SPEC = _kernel(LOSSES["margin_ranking_loss"])
_MARGIN_RANKING_MARGIN = _checker(LOSSES["margin_ranking_loss"], "margin")


def _margin_ranking(mode: int, input1: Any, input2: Any, target: Any, margin: Any,
                    reduction: str, sample_weight: Any, out: Any,
                    n_threads: Optional[int]) -> Any:
    m = _MARGIN_RANKING_MARGIN(margin)
    x1 = _as_float(input1, "input1")
    x2, y = _same_shape(x1, input2, "input2"), _same_shape(x1, target, "target")
    call = _AuxInputs(x1, y, x2, x2.shape, (), (input1, input2, target), m)
    return _aux_inputs(_MARGIN_RANKING_SPEC, mode, call, reduction, sample_weight, out,
                       n_threads, lambda sw: _reference(
                           "margin_ranking_loss" + _SUFFIX[mode], x1, x2, y, m, reduction,
                           sample_weight=sw))


def margin_ranking_loss(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                        margin: float = 0.0, reduction: str = "mean", *,
                        sample_weight: Optional[ArrayLike] = None,
                        n_threads: Optional[int] = None) -> LossValue:
    r"""Margin ranking loss, PyTorch's ``F.margin_ranking_loss``: scores ``x1``, ``x2`` and
    targets ``y`` (1: ``x1`` should rank higher, -1: lower), arrays of one shape::

        l_i = max(0, -y_i (x1_i - x2_i) + margin)

    Gradients, a tuple ``(d/dinput1, d/dinput2)``: ``(-y_i, y_i) / D`` where the hinge is
    active (``>= 0``: at the kink the gradient passes, as torch's ``clamp_min``), 0
    elsewhere; ``D`` the mean's denominator (N, or ``sum(sw)``; 1 for ``"sum"``). Piecewise
    linear: no Hessian. Unlike PyTorch the three arrays must have one shape (no
    broadcasting); its deprecated ``size_average`` and ``reduce`` are not taken.
    ``sample_weight`` ``s_i`` (a fastloss addition) multiplies ``l_i``; ``"mean"`` is then
    ``sum(s l) / sum(s)``.
    """
    return _margin_ranking(_VALUE, input1, input2, target, margin, reduction, sample_weight,
                           None, n_threads)


def margin_ranking_loss_grad(input1: ArrayLike, input2: ArrayLike, target: ArrayLike,
                             margin: float = 0.0, reduction: str = "mean", *,
                             sample_weight: Optional[ArrayLike] = None,
                             out: Optional[Pair] = None,
                             n_threads: Optional[int] = None) -> Pair:
    """Gradients of :func:`margin_ranking_loss`: ``(d/dinput1, d/dinput2)``; written into
    ``out`` (a tuple of two arrays) if given."""
    return _margin_ranking(_GRAD, input1, input2, target, margin, reduction, sample_weight,
                           out, n_threads)


def margin_ranking_loss_value_and_grad(
        input1: ArrayLike, input2: ArrayLike, target: ArrayLike, margin: float = 0.0,
        reduction: str = "mean", *, sample_weight: Optional[ArrayLike] = None,
        out: Optional[Pair] = None, n_threads: Optional[int] = None
) -> Tuple[LossValue, Pair]:
    """``(margin_ranking_loss(...), margin_ranking_loss_grad(...))`` from one pass."""
    return _margin_ranking(_BOTH, input1, input2, target, margin, reduction, sample_weight,
                           out, n_threads)


_GAUSSIAN = LOSSES["gaussian_nll_loss"]
_GAUSSIAN_SPEC = _kernel(_GAUSSIAN)
_GAUSSIAN_FULL = _checker(_GAUSSIAN, "full")
_GAUSSIAN_EPS = _checker(_GAUSSIAN, "eps")
_HALF_LOG_2PI = 0.5 * float(np.log(2 * np.pi))


def _gaussian_var(var: Any, x: FloatArray
                  ) -> Tuple[FloatArray, FloatArray, Tuple[int, ...]]:
    """``var`` as torch's gaussian_nll_loss takes it, of ``x``'s dtype, broadcast to
    ``x``'s shape, and the axes it broadcasts along: a number (torch's float var), or an
    array of the input's shape, of its shape less the last axis, or of its number of axes
    with one axis of size 1 where the input's differs. Every entry non-negative (NaN
    passes), as torch checks."""
    if np.ndim(var) == 0 and not isinstance(var, np.ndarray):  # a number, for every element
        if isinstance(var, (bool, np.bool_)) or not isinstance(var, (int, float, np.number)):
            raise TypeError(f"var must be a real number or array, got {type(var).__name__}")
        v = np.asarray(var, dtype=x.dtype)
        keep = v
    else:
        v = _as_dtype(var, x.dtype, "var")
        keep = v
        if v.shape != x.shape:
            if x.ndim and v.shape == x.shape[:-1]:
                keep = v[..., None]
            elif not (v.ndim == x.ndim and sum(1 for m, n in zip(x.shape, v.shape) if m != n)
                      == 1 and all(n == 1 for m, n in zip(x.shape, v.shape) if m != n)):
                raise ValueError(f"var of shape {v.shape} does not fit the input's shape "
                                 f"{x.shape}: it must have the input's shape, that shape "
                                 f"without its last axis, or one axis of size 1 where the "
                                 f"input's differs (torch's gaussian_nll_loss)")
    flat = v.reshape(-1)
    if flat.size and flat.min() < 0:
        bad = first_where(flat, lambda block: block < 0)
        raise ValueError(f"var must be non-negative (torch: var has negative entry/entries), "
                         f"got var[{_where(bad, v.shape)}] = {flat[bad]}")
    a = keep if keep.shape == x.shape else _contiguous(np.broadcast_to(keep, x.shape))
    return v, a, _sum_axes(keep.shape, x.shape)


def _gaussian_nll(mode: int, input: Any, target: Any, var: Any, full: Any, eps: Any,
                  reduction: str, sample_weight: Any, out: Any,
                  n_threads: Optional[int]) -> Any:
    f, e = _GAUSSIAN_FULL(full), _GAUSSIAN_EPS(eps)
    x = _as_float(input, "input")
    y = _same_shape(x, target, "target")
    v, a, axes = _gaussian_var(var, x)
    call = _AuxInputs(x, y, a, v.shape, axes, (input, target, var), e,
                      _HALF_LOG_2PI if f else 0.0)
    return _aux_inputs(_GAUSSIAN_SPEC, mode, call, reduction, sample_weight, out, n_threads,
                       lambda sw: _reference("gaussian_nll_loss" + _SUFFIX[mode], x, y, v, f,
                                             e, reduction, sample_weight=sw))


def gaussian_nll_loss(input: ArrayLike, target: ArrayLike, var: Union[ArrayLike, float],
                      full: bool = False, eps: float = 1e-6, reduction: str = "mean", *,
                      sample_weight: Optional[ArrayLike] = None,
                      n_threads: Optional[int] = None) -> LossValue:
    r"""Gaussian negative log-likelihood, PyTorch's ``F.gaussian_nll_loss``: means ``x``
    (``input``), samples ``y`` (``target``, the input's shape) and variances ``var``::

        l_i = (log v_i + (x_i - y_i)^2 / v_i) / 2     (+ log(2 pi) / 2 with ``full``)

    with ``v = max(var, eps)``. ``var``, as torch: of the input's shape, of that shape
    without its last axis (one variance per row), with one axis of size 1 where the input's
    differs (broadcast along it), or a number. A negative entry raises ValueError (NaN
    passes), as torch. ``eps > 0`` (torch does not check it).

    Gradients, a tuple ``(d/dinput, d/dvar)``, over the mean's denominator ``D`` (N, or
    ``sum(sw)``; 1 for ``"sum"``): ``(x - y) / v`` and ``(1 / v - (x - y)^2 / v^2) / 2``,
    the latter of var's shape (summed over the axis it broadcasts along; 0-d for a number).
    As torch's autograd gives it, the gradient in var is the gradient in ``v`` also where
    ``var < eps`` (torch clamps a clone of var in place under ``no_grad``, so the clamp
    passes the gradient through). The target is not differentiated.
    ``sample_weight`` ``s_i`` (a fastloss addition, of the input's shape or broadcasting to
    it with as many axes) multiplies ``l_i``; ``"mean"`` is then ``sum(s l) / sum(s)``.
    """
    return _gaussian_nll(_VALUE, input, target, var, full, eps, reduction, sample_weight,
                         None, n_threads)


def gaussian_nll_loss_grad(input: ArrayLike, target: ArrayLike, var: Union[ArrayLike, float],
                           full: bool = False, eps: float = 1e-6, reduction: str = "mean", *,
                           sample_weight: Optional[ArrayLike] = None,
                           out: Optional[Pair] = None,
                           n_threads: Optional[int] = None) -> Pair:
    """Gradients of :func:`gaussian_nll_loss`: ``(d/dinput, d/dvar)``, of the input's and of
    var's shape; written into ``out`` (a tuple of two arrays) if given."""
    return _gaussian_nll(_GRAD, input, target, var, full, eps, reduction, sample_weight, out,
                         n_threads)


def gaussian_nll_loss_value_and_grad(
        input: ArrayLike, target: ArrayLike, var: Union[ArrayLike, float], full: bool = False,
        eps: float = 1e-6, reduction: str = "mean", *,
        sample_weight: Optional[ArrayLike] = None, out: Optional[Pair] = None,
        n_threads: Optional[int] = None) -> Tuple[LossValue, Pair]:
    """``(gaussian_nll_loss(...), gaussian_nll_loss_grad(...))`` from one pass."""
    return _gaussian_nll(_BOTH, input, target, var, full, eps, reduction, sample_weight, out,
                         n_threads)


def gaussian_nll_loss_grad_hess(
        input: ArrayLike, target: ArrayLike, var: Union[ArrayLike, float], full: bool = False,
        eps: float = 1e-6, reduction: str = "mean", *,
        sample_weight: Optional[ArrayLike] = None,
        out: Optional[Tuple[Pair, Pair]] = None,
        n_threads: Optional[int] = None) -> Tuple[Pair, Pair]:
    """``((d/dinput, d/dvar), (h_input, h_var))``: the gradients of
    :func:`gaussian_nll_loss` and the diagonals of the input's and var's blocks of its
    Hessian, ``1 / v`` and ``(x - y)^2 / v^3 - 1 / (2 v^2)`` over ``D`` (var's summed over the
    axis it broadcasts along: each variance enters only its own elements). The mixed block
    (``-(x - y) / v^2``) is not returned. ``out``: ``((grad, grad), (hess, hess))``."""
    return _gaussian_nll(_GRAD_HESS, input, target, var, full, eps, reduction, sample_weight,
                         out, n_threads)


# ---- torchvision's sigmoid_focal_loss ------------------------------------------------------

_FOCAL = LOSSES["sigmoid_focal_loss"]
_FOCAL_SPEC = _kernel(_FOCAL)
_FOCAL_ALPHA = _checker(_FOCAL, "alpha")
_FOCAL_GAMMA = _checker(_FOCAL, "gamma")


def _sigmoid_focal(mode: int, input: Any, target: Any, alpha: Any, gamma: Any,
                   reduction: str, sample_weight: Any, out: Any,
                   n_threads: Optional[int]) -> Any:
    a, g = _FOCAL_ALPHA(alpha), _FOCAL_GAMMA(gamma)

    def alpha_t(y: FloatArray) -> FloatArray:  # alpha y + (1 - alpha)(1 - y), an array
        w = np.empty_like(y)
        np.multiply(y, y.dtype.type(2 * a - 1), out=w)
        w += y.dtype.type(1 - a)
        return w

    return _elementwise(_FOCAL_SPEC, mode, input, target, reduction, None, out, n_threads, g,
                        ref_kwargs={"alpha": a, "gamma": g}, sample_weight=sample_weight,
                        kernel_weight=alpha_t if a >= 0 else None)


def sigmoid_focal_loss(input: ArrayLike, target: ArrayLike, alpha: float = 0.25,
                       gamma: float = 2.0, reduction: str = "none", *,
                       sample_weight: Optional[ArrayLike] = None,
                       n_threads: Optional[int] = None) -> LossValue:
    r"""Focal loss of logits ``x`` and binary targets ``y`` (in [0, 1]),
    ``torchvision.ops.sigmoid_focal_loss`` (RetinaNet's)::

        p = sigmoid(x),  p_t = p y + (1 - p)(1 - y)
        l_i = alpha_t ce_i (1 - p_t)^gamma,  alpha_t = alpha y + (1 - alpha)(1 - y)

    ``ce`` the loss of :func:`binary_cross_entropy_with_logits`; ``alpha < 0`` drops
    ``alpha_t`` (torchvision's); ``gamma >= 0`` (``0^0 = 1``: ``gamma = 0`` is the
    alpha-weighted cross-entropy). The default reduction is ``"none"``, as torchvision's;
    ``"mean"`` divides by N (``sum(sw)`` with ``sample_weight``, a fastloss addition).
    ``1 - p_t`` is computed as ``y sigmoid(-x) + (1 - y) sigmoid(x)``: the same number
    without the cancellation of ``1 - p_t`` where ``p_t`` is near 1 (torchvision's rounds
    there). torchvision names the arrays ``inputs`` and ``targets``.

    Gradient, with ``q = 1 - p_t``, ``r = dq/dx / q = (1 - 2 y) p (1 - p) / q``:
    ``alpha_t q^gamma (ce' + gamma ce r) / D``, ``ce' = p - y`` (``D`` the mean's
    denominator, 1 for "sum" and "none").
    """
    return _sigmoid_focal(_VALUE, input, target, alpha, gamma, reduction, sample_weight,
                          None, n_threads)


def sigmoid_focal_loss_grad(input: ArrayLike, target: ArrayLike, alpha: float = 0.25,
                            gamma: float = 2.0, reduction: str = "none", *,
                            sample_weight: Optional[ArrayLike] = None,
                            out: Optional[FloatArray] = None,
                            n_threads: Optional[int] = None) -> FloatArray:
    """Gradient of :func:`sigmoid_focal_loss` with respect to ``input``."""
    return _sigmoid_focal(_GRAD, input, target, alpha, gamma, reduction, sample_weight, out,
                          n_threads)


def sigmoid_focal_loss_value_and_grad(input: ArrayLike, target: ArrayLike, alpha: float = 0.25,
                                      gamma: float = 2.0, reduction: str = "none", *,
                                      sample_weight: Optional[ArrayLike] = None,
                                      out: Optional[FloatArray] = None,
                                      n_threads: Optional[int] = None
                                      ) -> Tuple[LossValue, FloatArray]:
    """``(sigmoid_focal_loss(...), sigmoid_focal_loss_grad(...))`` from one pass."""
    return _sigmoid_focal(_BOTH, input, target, alpha, gamma, reduction, sample_weight, out,
                          n_threads)


def sigmoid_focal_loss_grad_hess(input: ArrayLike, target: ArrayLike, alpha: float = 0.25,
                                 gamma: float = 2.0, reduction: str = "none", *,
                                 sample_weight: Optional[ArrayLike] = None,
                                 out: Optional[OutPair] = None,
                                 n_threads: Optional[int] = None
                                 ) -> Tuple[FloatArray, FloatArray]:
    """``(grad, hess)`` of :func:`sigmoid_focal_loss`: ``hess_i = alpha_t q^gamma (ce'' +
    2 gamma ce' r + gamma ce r ((gamma - 1) r + 1 - 2 p)) / D``, ``ce'' = p (1 - p)``."""
    return _sigmoid_focal(_GRAD_HESS, input, target, alpha, gamma, reduction, sample_weight,
                          out, n_threads)


# CTC is not a row of LOSSES: its module builds on the helpers above (hence imported last).
from fastloss.losses.ctc import ctc_loss, ctc_loss_grad, ctc_loss_value_and_grad  # noqa: E402
