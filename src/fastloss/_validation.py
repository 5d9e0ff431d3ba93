"""Argument checks shared by every public module (losses, linear, models, optim, cg).

One vocabulary, in the manner of numpy.random's ``check_constraint(value, name, CONS_*)``
and scikit-learn's ``Interval``: a scalar is checked against a constraint, and the message
says, in one format, what ``name`` must be and what it got::

    check_real(lr, "lr", NON_NEGATIVE)   # TypeError:  lr must be a real number, got 'x'
                                         # ValueError: lr must be finite and in [0, inf), got -1
    check_int(max_iter, "max_iter", 1)   # ValueError: max_iter must be an int in [1, inf), got 0
    check_flag(nesterov, "nesterov")     # TypeError:  nesterov must be a bool, got 1
    check_choice(loss, "loss", LOSSES)   # ValueError: loss must be one of (...), got 'x'

The same parameter has the same constraint everywhere (``lr`` is ``NON_NEGATIVE``, as in
torch.optim, for the optimizers, the per-sample epochs and the models alike).
"""

from __future__ import annotations

import math
import numbers
import operator
import sys
from typing import Any, Callable, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from fastloss import _optim  # the compiled byte-range test of check_disjoint

#: elements per block when a check scans an array in pieces (a few hundred kB of
#: temporaries at most, whatever the array's size)
_BLOCK = 1 << 16

#: the largest int64: counters the kernels keep (update and step counts) must stay below it
INT64_MAX = 2**63 - 1


def to_float(value: Any) -> float:
    """``float(value)``, with an int beyond float range as +-inf: range checks then report
    it as not finite, naming the argument, instead of an OverflowError naming nothing."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


class Interval(NamedTuple):
    """The real numbers from ``lo`` to ``hi``; each end included when its flag says so."""

    lo: float
    hi: float
    lo_closed: bool = True
    hi_closed: bool = False

    def __contains__(self, v: object) -> bool:
        """Whether the float ``v`` is finite and in the interval (False for NaN and inf)."""
        assert isinstance(v, float)
        lo, hi = self.lo, self.hi
        if lo < v < hi:  # finite: the bounds are finite or infinite, v strictly between
            return True
        return v - v == 0.0 and ((v == lo and self.lo_closed) or (v == hi and self.hi_closed))

    def __str__(self) -> str:
        left, right = "[" if self.lo_closed else "(", "]" if self.hi_closed else ")"
        return f"{left}{self.lo:g}, {self.hi:g}{right}"


class Intervals(NamedTuple):
    """The union of some :class:`Interval` s (a value in any of them), such as Tweedie's
    powers ``(-inf, 0]`` or ``[1, inf)`` (scikit-learn's list of ``Interval`` constraints)."""

    parts: Tuple[Interval, ...]

    def __contains__(self, v: object) -> bool:
        return any(v in part for part in self.parts)

    def __str__(self) -> str:
        return " or ".join(str(part) for part in self.parts)


_INF = math.inf
#: the constraint kinds; a value must also be finite
REAL = Interval(-_INF, _INF, False, False)
NON_NEGATIVE = Interval(0.0, _INF)
POSITIVE = Interval(0.0, _INF, lo_closed=False)
UNIT = Interval(0.0, 1.0, hi_closed=True)   # [0, 1]
UNIT_OPEN = Interval(0.0, 1.0)              # [0, 1): a decay rate such as Adam's beta


def _real_type_error(value: Any, name: str) -> TypeError:
    return TypeError(f"{name} must be a real number, got {value!r}")


def check_real(value: Any, name: str, interval: Union[Interval, Intervals] = REAL) -> float:
    """``value`` as a finite Python float in ``interval``.

    Python and NumPy ints and floats (any ``numbers.Real``) are real numbers; bools,
    strings, arrays and None are not (TypeError). Out of range, NaN or inf: ValueError.
    """
    t = type(value)
    if t is float:  # the common cases, kept cheap for small calls
        v = value
    elif t is int:
        v = to_float(value)
    elif isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise _real_type_error(value, name)
    else:
        v = to_float(value)
    if v in interval:
        return v
    raise ValueError(f"{name} must be finite and in {interval}, got {value!r}")


def check_int(value: Any, name: str, lo: int, hi: Optional[int] = None) -> int:
    """``value`` as a Python int in ``[lo, hi]`` (``hi`` None: no upper bound). Anything
    with ``__index__`` but bool is an int."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    try:
        i = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r}") from None
    if i < lo or (hi is not None and i > hi):
        raise ValueError(f"{name} must be an int in [{lo}, {'inf)' if hi is None else f'{hi}]'}"
                         f", got {value!r}")
    return i


def check_pair(value: Any, name: str, interval: Interval = REAL) -> Tuple[float, float]:
    """Two reals in ``interval`` (e.g. Adam's ``betas``), checked as ``name[0]``, ``name[1]``."""
    if type(value) is not tuple or len(value) != 2:
        try:
            value = tuple(value)
        except TypeError:
            value = ()
        if len(value) != 2:
            raise TypeError(f"{name} must be a pair of real numbers, got {value!r}")
    first = check_real(value[0], f"{name}[0]", interval)
    return first, check_real(value[1], f"{name}[1]", interval)


def check_flag(value: Any, name: str) -> bool:
    """``value`` as a bool; only ``bool`` and ``numpy.bool_`` are flags (1 and "yes" are not)."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {value!r}")


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``, else ValueError listing them."""
    try:
        if value in choices:
            return value
    except TypeError:  # an unhashable value
        pass
    raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


def check_disjoint(arrays: Tuple[np.ndarray, ...], names: Sequence[str]) -> None:
    """ValueError if two of these C-contiguous arrays, each written in place, share memory."""
    hit = _optim.first_overlap(tuple(arrays))
    if hit is not None:
        raise ValueError(f"{names[hit[1]]} shares memory with {names[hit[0]]}: "
                         "each is updated in place")


def is_dask_collection(a: Any) -> bool:
    """Whether ``a`` is a Dask collection (array, dataframe, delayed, ...).

    Never imports Dask: an object can only be a Dask collection once ``dask`` is imported,
    so for everyone else this is one dictionary look-up.
    """
    test = getattr(sys.modules.get("dask"), "is_dask_collection", None)  # None mid-import
    return test is not None and bool(test(a))


def reject_masked(a: Any, name: str) -> None:
    """TypeError if ``a`` is a masked array or a Dask collection.

    ``np.asarray`` drops a mask silently, so the masked-out values would be used as if
    they were data; on a Dask array it silently computes the whole array into this process.
    Every array argument goes through this before it is converted.
    """
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (its mask would be ignored); "
                        f"fill it first: {name}.filled(value)")
    if is_dask_collection(a):
        raise TypeError(f"{name} is a Dask collection: fastloss's kernels take in-memory "
                        f"arrays and would compute it whole into this process; use "
                        f"fastloss.dask (e.g. fastloss.dask.linear_value_and_grad) or the "
                        f"models' fit/predict, which run on the cluster")


def first_where(a: np.ndarray, predicate: Callable[[np.ndarray], np.ndarray]) -> int:
    """Index of the first element of the 1-D array ``a`` where ``predicate`` (an
    elementwise test returning a boolean array) holds, or -1.

    For error messages: scans ``a`` in blocks of ``_BLOCK`` elements, so finding the
    offender costs O(1) extra memory instead of a boolean temporary the size of ``a``.
    """
    for start in range(0, a.shape[0], _BLOCK):
        hits = np.flatnonzero(predicate(a[start:start + _BLOCK]))
        if hits.size:
            return start + int(hits[0])
    return -1
