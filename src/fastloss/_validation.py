"""Argument checks shared by every public module (losses, linear, models, optim).

Each takes the argument's name for its message, so the error names what the caller passed.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, Tuple

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


def check_disjoint(arrays: Tuple[np.ndarray, ...], names: Sequence[str]) -> None:
    """ValueError if two of these C-contiguous arrays, each written in place, share memory."""
    hit = _optim.first_overlap(tuple(arrays))
    if hit is not None:
        raise ValueError(f"{names[hit[1]]} shares memory with {names[hit[0]]}: "
                         "each is updated in place")


def reject_masked(a: Any, name: str) -> None:
    """TypeError if ``a`` is a masked array.

    ``np.asarray`` drops a mask silently, so the masked-out values would be used as if
    they were data. Every array argument goes through this before it is converted.
    """
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name} must not be a masked array (its mask would be ignored); "
                        f"fill it first: {name}.filled(value)")


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
