"""The pytest-benchmark layer over ``fastloss bench``'s cases (:mod:`fastloss.bench`).

``bench_<family>.py`` is ``time_case`` parametrized by ``cases_of(family)``: every case of
the family x implementation x size x dtype. A test times the same zero-argument callable
the command times (``benchmark(call)``); its group is the command's row, ``family.kernel
n=1e6 float64``, so pytest-benchmark's table for a group compares the implementations like
the command's row does. The command's agreement check runs once per (case, size, dtype),
before the first implementation is timed, and fails the implementations it names.
Times are per call; ``extra_info`` holds ``units_per_call`` (the samples of an epoch) and
``unit``, to turn them into the command's per-sample times.

Sizes: ``fastloss bench --quick``'s (10^3, 10^5, 10^6); FASTLOSS_BENCH_LARGE=1 adds 10^7
(marked slow).
"""

import os

import numpy as np
import pytest

from fastloss.bench import FAMILIES, IMPLEMENTATIONS, QUICK_SIZES, check_agreement
from fastloss.bench.peers import PEER_PACKAGES, PEERS, missing_peers
from fastloss.bench.report import format_size
from fastloss.bench.runner import implementations
from fastloss.bench.timing import units_and_calls

SIZES = list(QUICK_SIZES) + ([10**7] if os.environ.get("FASTLOSS_BENCH_LARGE") else [])
DTYPES = ("float64", "float32")


def cases_of(family):
    """``pytest.mark.parametrize("case, n, dtype, impl", ...)`` over the family's cases,
    with the command's kernel names in the ids (``mse-1000000-float64-torch``)."""
    params = [pytest.param(case, n, dtype, impl, id=f"{case.name}-{n}-{dtype}-{impl}",
                           marks=[pytest.mark.slow] if n >= 10**7 else [])
              for case in FAMILIES[family] for n in case.sizes_of(SIZES)
              for dtype in DTYPES for impl in IMPLEMENTATIONS]
    return pytest.mark.parametrize("case, n, dtype, impl", params)


# the implementations of the (case, n, dtype) being timed, with the problems its agreement
# check found: one entry, since the tests of one case follow each other (impl varies fastest)
_current = {}


def _checked_implementations(case, n, dtype):
    key = (case.name, n, dtype)
    if key not in _current:
        _current.clear()
        impls = implementations(case, n, dtype)
        if "torch" in impls:
            import torch

            torch.set_num_threads(1)  # one thread, like fastloss and the BLAS
        _current[key] = impls, check_agreement(impls, np.dtype(dtype))
    return _current[key]


def time_case(benchmark, family, case, n, dtype, impl):
    """Time ``impl`` of ``case`` at (n, dtype) with pytest-benchmark; skip an implementation
    the case does not have (a peer not installed or without that kernel)."""
    impls, problems = _checked_implementations(case, n, dtype)
    if impl not in impls:
        if impl in PEERS and missing_peers([impl]):
            pytest.skip(f"{impl} is not installed (pip install {PEER_PACKAGES[impl]})")
        pytest.skip(f"{impl} has no counterpart of {family}.{case.name}")
    mine = [p for p in problems if p.startswith(f"{impl} ")]
    assert not mine, f"{family}.{case.name} n={format_size(n)} {dtype}: {'; '.join(mine)}"
    units, call = units_and_calls(impls)[impl]
    benchmark.group = f"{family}.{case.name} n={format_size(n)} {dtype}"
    benchmark.extra_info.update(units_per_call=units, unit=f"per {case.unit}")
    benchmark(call)
