"""Gradient clipping over a list of gradient arrays: ``torch.nn.utils``' four functions.

torch keeps them in ``torch.nn.utils`` and takes the parameters (reading each ``.grad``);
fastloss has no modules, so they live in :mod:`fastloss.optim` and take the gradients
themselves, the list an optimizer's ``step`` takes (``None`` entries are skipped, as a
parameter without ``.grad`` is in torch)::

    total = clip_grad_norm_(grads, max_norm=1.0)   # before opt.step(grads)

* :func:`get_total_norm` -- ``||(||g_1||_p, ..., ||g_k||_p)||_p``, the p-norm of all the
  elements together (``p = inf``: the largest ``|x|``);
* :func:`clip_grads_with_norm_` -- every gradient times ``min(1, max_norm / (total_norm +
  1e-6))``, in place;
* :func:`clip_grad_norm_` -- the two: returns the total norm;
* :func:`clip_grad_value_` -- every element clamped to ``[-clip_value, clip_value]``.

Each is one fused pass over all the arrays in one compiled call: the norm reads every
array once, accumulating ``|x|^p`` in float64 in the list's order (deterministic: the same
arrays give the same bits, for orders 1, 2 and inf on any x86-64 too); the scaling and
clamping read and write each once (and the scaling is skipped when the factor is 1, which
changes no bit). Gradients are float32 or
float64 arrays of any shape, mixed freely; contiguous arrays (C or Fortran order) and 1-D
strided views are used in place, other layouts through a temporary copy. Every array is
checked (type, dtype, writeable, no two sharing memory) before any is written.

Differences from torch: the total norm is a Python float computed in float64 (torch
returns a tensor of the gradients' dtype); ``norm_type`` must be positive (torch also takes
0 and negative orders, whose "total" is of little use); ``max_norm`` and ``clip_value``
must be ``>= 0`` (torch's negative values flip or collapse the gradients); ``foreach`` is
accepted and ignored (the pass is fused either way).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np

from fastloss import _optim
from fastloss._validation import NON_NEGATIVE, POSITIVE, check_flag, check_real, reject_masked

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]

Grads = Union[np.ndarray, Sequence[Optional[np.ndarray]]]
#: torch's guard against dividing by a zero norm
_EPS = 1e-6


def _items(grads: Any, name: str) -> Tuple[Any, ...]:
    """The gradients as a tuple (one array alone is a list of one, as in torch)."""
    if isinstance(grads, np.ndarray):
        return (grads,)
    if type(grads) is tuple:
        return grads
    if isinstance(grads, (str, bytes, dict)):
        raise TypeError(f"{name} must be a list of arrays, got {type(grads).__name__}")
    try:
        return tuple(grads)
    except TypeError:
        raise TypeError(f"{name} must be a list of arrays, got {type(grads).__name__}") from None


def _prepared(items: Tuple[Any, ...], name: str, write: bool
              ) -> Tuple[Tuple[np.ndarray, ...], List[Tuple[np.ndarray, np.ndarray]]]:
    """The checked path: every gradient checked (a TypeError/ValueError naming it, before
    anything is written), then as the kernels take them: the arrays, and the (gradient,
    copy) pairs whose copy is to be written back (layouts that are not one strided run)."""
    arrays: List[np.ndarray] = []
    copies: List[Tuple[np.ndarray, np.ndarray]] = []
    for i, g in enumerate(items):
        if g is None:
            continue
        label = f"{name}[{i}]"
        reject_masked(g, label)
        if not isinstance(g, np.ndarray):
            raise TypeError(f"{label} must be a NumPy array of float32 or float64, "
                            f"got {type(g).__name__}")
        if g.dtype not in (np.float32, np.float64):
            raise TypeError(f"{label} must be float32 or float64, got {g.dtype}")
        if write and not g.flags.writeable:
            raise ValueError(f"{label} is read-only: it is clipped in place")
        arrays.append(g.view(np.ndarray))
    if write:
        _check_disjoint(arrays, [f"{name}[{i}]" for i, g in enumerate(items) if g is not None])
    ready: List[np.ndarray] = []
    for g in arrays:
        if not _optim.runs_ok((g,), False):
            work = np.ascontiguousarray(g, dtype=g.dtype.newbyteorder("="))
            if write:
                copies.append((g, work))
            g = work
        ready.append(g)
    return tuple(ready), copies


def _byte_bounds(a: np.ndarray) -> Tuple[int, int]:
    """The addresses of ``a``'s first and one past its last byte (numpy's byte_bounds)."""
    lo = hi = a.__array_interface__["data"][0]
    for n, stride in zip(a.shape, a.strides):
        reach = (n - 1) * stride
        lo, hi = (lo + reach, hi) if reach < 0 else (lo, hi + reach)
    return lo, hi + a.itemsize


def _check_disjoint(arrays: List[np.ndarray], names: List[str]) -> None:
    """ValueError if two arrays share memory (a gradient written twice); sorted by their
    byte bounds, so only neighbours are compared exactly."""
    spans = sorted((_byte_bounds(a), k) for k, a in enumerate(arrays) if a.size)
    reach = None  # the open span reaching furthest so far
    for (lo, hi), k in spans:
        if reach is not None and lo < reach[0][1]:
            j = reach[1]
            if np.shares_memory(arrays[j], arrays[k]):
                first, second = sorted((j, k))
                raise ValueError(f"{names[second]} shares memory with {names[first]}: each "
                                 "is written in place")
        if reach is None or hi > reach[0][1]:
            reach = ((lo, hi), k)


def _norm_kind(norm_type: Any) -> Tuple[int, float]:
    """(the kernel's kind, p) for ``norm_type``: a real > 0, or inf."""
    if isinstance(norm_type, (bool, np.bool_)) or not isinstance(norm_type, numbers.Real):
        raise TypeError(f"norm_type must be a real number, got {norm_type!r}")
    p = float(norm_type)
    if p == math.inf:
        return _optim.NORM_MAX, p
    p = check_real(norm_type, "norm_type", POSITIVE)
    if p == 1.0:
        return _optim.NORM_ONE, p
    if p == 2.0:
        return _optim.NORM_TWO, p
    return _optim.NORM_POW, p


def _bound(value: Any, name: str) -> float:
    """A real >= 0, infinity included (torch's idiom ``max_norm=inf``: no clipping)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if float(value) == math.inf:
        return math.inf
    return check_real(value, name, NON_NEGATIVE)


def _check_foreach(foreach: Any) -> None:
    if foreach is not None:
        check_flag(foreach, "foreach")


def get_total_norm(grads: Grads, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Optional[bool] = None) -> float:
    """The ``norm_type``-norm of all the gradients' elements together (torch's
    ``torch.nn.utils.get_total_norm``): ``(sum |x|^p) ** (1/p)``, or ``max |x|`` for
    ``norm_type=inf``; 0.0 for no gradients. One read of each array, accumulated in float64.

    Parameters
    ----------
    grads : array or list of arrays (None entries skipped)
    norm_type : float > 0 or inf, default 2.0
    error_if_nonfinite : bool, default False
        Raise RuntimeError if the norm is NaN or infinite (as torch).
    foreach : None or bool
        Accepted for torch's signature; the pass is fused either way.

    Returns
    -------
    float
    """
    items = _items(grads, "grads")
    kind, p = _norm_kind(norm_type)
    error_if_nonfinite = check_flag(error_if_nonfinite, "error_if_nonfinite")
    _check_foreach(foreach)
    total = _optim.runs_norm(items, kind, p)
    if total is None:
        total = _optim.runs_norm(_prepared(items, "grads", False)[0], kind, p)
        assert total is not None
    if kind == _optim.NORM_TWO:
        total = math.sqrt(total)
    elif kind == _optim.NORM_POW:
        total = total ** (1.0 / p)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return float(total)


def _for_writing(items: Tuple[Any, ...]
                 ) -> Tuple[Tuple[Any, ...], List[Tuple[np.ndarray, np.ndarray]]]:
    """The gradients checked for writing in place, as the kernels take them, and the
    (gradient, copy) pairs to write back after (see :func:`_prepared`)."""
    if _optim.runs_ok(items, True):
        return items, []
    return _prepared(items, "grads", True)


def _in_place(pass_: Callable[..., bool], ready: Tuple[Any, ...], *args: float) -> None:
    """``pass_(ready, *args)``: one call, or one per array when their byte ranges meet
    without sharing an element (``a[::2]`` and ``a[1::2]``; checked exactly before)."""
    if not pass_(ready, *args):
        for g in ready:
            ran = pass_((g,), *args)
            assert ran


def _write_back(copies: List[Tuple[np.ndarray, np.ndarray]]) -> None:
    for g, work in copies:
        g[...] = work


def _total_norm_value(total_norm: Any) -> float:
    """``total_norm`` as a float >= 0, NaN or inf (torch then scales by the non-finite
    factor): a real number, a 0-d array or anything with ``__float__`` but a bool or str."""
    if isinstance(total_norm, (bool, np.bool_, str, bytes)):
        raise TypeError(f"total_norm must be a real number, got {total_norm!r}")
    try:
        v = float(total_norm)
    except (TypeError, ValueError):
        raise TypeError(f"total_norm must be a real number, got {total_norm!r}") from None
    if v < 0:
        raise ValueError(f"total_norm must be >= 0 (a norm), got {total_norm!r}")
    return v


def clip_grads_with_norm_(grads: Grads, max_norm: float, total_norm: float,
                          foreach: Optional[bool] = None) -> None:
    """Scale every gradient in place by ``min(1, max_norm / (total_norm + 1e-6))`` (torch's
    ``torch.nn.utils.clip_grads_with_norm_``): one read-write pass over each array, none
    when the factor is 1. A NaN or infinite ``total_norm`` scales by the factor it gives
    (NaN, 0), as in torch.

    Parameters
    ----------
    grads : array or list of arrays (None entries skipped), written in place
    max_norm : float >= 0 (inf: no clipping)
    total_norm : float >= 0, e.g. from :func:`get_total_norm`
    foreach : None or bool (accepted, ignored)
    """
    items = _items(grads, "grads")
    max_norm = _bound(max_norm, "max_norm")
    total = _total_norm_value(total_norm)
    _check_foreach(foreach)
    ready, copies = _for_writing(items)
    coef = max_norm / (total + _EPS)
    if not coef >= 1.0:  # torch multiplies by 1 too, which changes no bit; NaN scales
        _in_place(_optim.runs_scale, ready, coef)
        _write_back(copies)


def clip_grad_norm_(grads: Grads, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: Optional[bool] = None) -> float:
    """Clip the gradients' total norm to ``max_norm`` in place; return the norm before
    (torch's ``torch.nn.utils.clip_grad_norm_``): :func:`get_total_norm`, then
    :func:`clip_grads_with_norm_`. Two fused passes at most: a read of every array, then
    (only if the norm exceeds ``max_norm``) a read-write.

    Parameters
    ----------
    grads : array or list of arrays (None entries skipped), written in place
    max_norm : float >= 0 (inf: only the norm)
    norm_type : float > 0 or inf, default 2.0
    error_if_nonfinite : bool, default False
        RuntimeError, before anything is written, if the norm is NaN or infinite.
    foreach : None or bool (accepted, ignored)

    Returns
    -------
    float
        The total norm of the gradients as they were.
    """
    items = _items(grads, "grads")
    max_norm = _bound(max_norm, "max_norm")
    ready, copies = _for_writing(items)  # every gradient checked before the norm's errors
    total = get_total_norm(ready, norm_type, error_if_nonfinite, foreach)
    coef = max_norm / (total + _EPS)
    if not coef >= 1.0:
        _in_place(_optim.runs_scale, ready, coef)
        _write_back(copies)
    return total


def clip_grad_value_(grads: Grads, clip_value: float, foreach: Optional[bool] = None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place (torch's
    ``torch.nn.utils.clip_grad_value_``; NaN stays NaN): one read-write pass.

    Parameters
    ----------
    grads : array or list of arrays (None entries skipped), written in place
    clip_value : float >= 0 (inf: no change)
    foreach : None or bool (accepted, ignored)
    """
    items = _items(grads, "grads")
    clip_value = _bound(clip_value, "clip_value")
    _check_foreach(foreach)
    ready, copies = _for_writing(items)
    _in_place(_optim.runs_clamp, ready, -clip_value, clip_value)
    _write_back(copies)
