"""Timing and the agreement check.

Implementations are timed in interleaved rounds (:func:`time_interleaved`): every round
times each implementation once, in an order that rotates from round to round, so a burst of
load from another process hits all of them alike. One sample is ``loops`` back-to-back
calls (``loops`` calibrated so a sample lasts long enough for the clock); rounds repeat
until the case's time budget is spent (at least :data:`MIN_ROUNDS`). Reported: the median
and the minimum seconds per call.

Before timing, :func:`check_agreement` compares every implementation with ``"numpy"``.
"""

from __future__ import annotations

import gc
import math
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from fastloss.bench.cases import Impls, Work

MIN_ROUNDS = 3
MAX_ROUNDS = 2000
#: the shortest sample worth timing: below it the clock and loop overhead show
MIN_SAMPLE_S = 2e-4


def _calibrate(fn: Callable[[], Any], min_sample: float) -> int:
    """Calls per sample so that one sample lasts at least ``min_sample`` seconds."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample or loops >= 1 << 20:
            return loops
        # aim a little past the target from the measured rate, at most 10x per step
        loops = min(loops * 10, max(loops + 1, math.ceil(loops * 1.2 * min_sample / max(
            elapsed, 1e-9))))


def time_interleaved(impls: Impls, budget: float, min_rounds: int = MIN_ROUNDS
                     ) -> Dict[str, Dict[str, float]]:
    """Median and minimum seconds per call of each callable, from interleaved rounds."""
    names = list(impls)
    min_sample = max(MIN_SAMPLE_S, budget / (20 * len(names)))
    loops = {name: _calibrate(impls[name], min_sample) for name in names}
    samples: Dict[str, List[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection inside one sample would be charged to one implementation
    try:
        start = time.perf_counter()
        rounds = 0
        while rounds < min_rounds or (time.perf_counter() - start < budget
                                      and rounds < MAX_ROUNDS):
            shift = rounds % len(names)
            for name in names[shift:] + names[:shift]:
                fn, k = impls[name], loops[name]
                t0 = time.perf_counter()
                for _ in range(k):
                    fn()
                samples[name].append((time.perf_counter() - t0) / k)
            rounds += 1
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: {"median_s": float(np.median(samples[name])),
                   "min_s": float(np.min(samples[name])),
                   "rounds": rounds, "loops": loops[name]} for name in names}


def _leading_value(result: Any) -> Any:
    """The value a check compares: a float, a float64 copy of an array, or None."""
    if result is None:
        return None
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, np.ndarray):
        return result.astype(np.float64)  # a copy: later calls may update it in place
    try:
        return float(result)
    except (TypeError, ValueError):
        return None


def _disagreement(value: Any, expected: Any, rtol: float) -> Optional[str]:
    """Why ``value`` is not ``expected`` to ``rtol``, or None when it is."""
    if isinstance(value, float) and isinstance(expected, float):
        if math.isclose(value, expected, rel_tol=rtol, abs_tol=rtol * 1e-3):
            return None
        return f"gives {value!r}, numpy {expected!r}"
    value, expected = np.asarray(value), np.asarray(expected)
    if value.shape != expected.shape:
        return f"gives shape {value.shape}, numpy {expected.shape}"
    # relative to the largest entry: an update of 1e-3 next to one of 1e-9 is still right
    # when the small one is off by a relative 1e-3
    scale = float(np.nanmax(np.abs(expected), initial=0.0))
    if np.allclose(value, expected, rtol=rtol, atol=rtol * scale, equal_nan=True):
        return None
    with np.errstate(invalid="ignore"):
        worst = float(np.nanmax(np.abs(value - expected), initial=np.nan))
    return f"differs from numpy by up to {worst:.3g} (largest |numpy| entry {scale:.3g})"


def check_agreement(impls: Impls, dtype: np.dtype) -> List[str]:
    """Call each implementation once (its ``check`` if it is a :class:`Work` with one);
    name those whose value differs from numpy's.

    Compared: the first element of a returned tuple, or the returned value (a number, or
    an array compared elementwise relative to its largest entry); None opts out.
    """
    def first(fn: Callable[[], Any]) -> Any:
        check = fn.check if isinstance(fn, Work) and fn.check is not None else fn
        return _leading_value(check())

    expected = first(impls["numpy"])
    rtol = 1e-3 if dtype == np.float32 else 1e-7
    bad = []
    for name, fn in impls.items():
        if name == "numpy":
            continue
        value = first(fn)
        if value is None or expected is None:
            continue
        problem = _disagreement(value, expected, rtol)
        if problem is not None:
            bad.append(f"{name} {problem}")
    return bad


def counts_of(impls: Impls) -> Dict[str, Dict[str, int]]:
    """``{impl: what one call counted}`` of the implementations that count (a
    :class:`Work` with ``counts``: a solver's iterations and evaluations)."""
    return {k: f.counts() for k, f in impls.items() if isinstance(f, Work) and f.counts}


def units_and_calls(impls: Impls) -> Dict[str, Tuple[int, Callable[[], Any]]]:
    """``{impl: (units of work per call, the callable to time)}``: a :class:`Work`'s
    ``units`` and ``call``, 1 and the callable itself otherwise."""
    return {k: (f.units, f.call) if isinstance(f, Work) else (1, f) for k, f in impls.items()}
