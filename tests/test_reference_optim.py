"""The optimizer reference's float32 fused multiply-add (``reference.optim._muladd``, how
torch's vectorized CPU kernels round add(alpha=), addcmul and lerp) against exact
arithmetic: mpmath at float32's precision, one rounding of the exact ``a * b + c``."""

from __future__ import annotations

from typing import Any, Dict

import mpmath
import numpy as np
import pytest

from fastloss.reference.optim import _muladd, textbook_rounding

F32 = np.float32


def _exact_fma32(a: float, b: float, c: float) -> float:
    """float32(a * b + c) rounded once (mpmath at 24 bits, then exact to float32)."""
    with mpmath.workprec(24):
        return float(mpmath.fadd(mpmath.fmul(a, b, exact=True), c, rounding="n"))


def _check(a: Any, b: np.ndarray, c: np.ndarray) -> None:
    got = _muladd(a, b, c)
    assert got.dtype == F32
    expected = [_exact_fma32(float(F32(a)), float(bi), float(ci)) for bi, ci in zip(b, c)]
    np.testing.assert_array_equal(got, np.array(expected, F32))


def test_double_rounding_through_float64_is_avoided() -> None:
    """a * b + c = (1 + 2**-23) + 2**-24 - 2**-60: float64 rounds it to the float32 midpoint
    1 + 2**-23 + 2**-24, which ties to even upward; once rounded it stays 1 + 2**-23."""
    a = F32(2.0 ** -24 * (1 + 2.0 ** -18))
    b = np.array([1 - 2.0 ** -18, -(1 - 2.0 ** -18)], F32)
    c = np.array([1 + 2.0 ** -23, -(1 + 2.0 ** -23)], F32)
    naive = (np.float64(a) * b.astype(np.float64) + c).astype(F32)
    assert naive[0] == F32(1 + 2.0 ** -22)  # the double rounding this test is about
    _check(a, b, c)
    assert _muladd(a, b, c)[0] == F32(1 + 2.0 ** -23)


@pytest.mark.parametrize("spread", [1.0, 1e-4, 1e4])
def test_random_operands_round_once(spread: float, rng: Any) -> None:
    b = (rng.normal(size=2000) * spread).astype(F32)
    c = rng.normal(size=2000).astype(F32)
    _check(F32(rng.normal()), b, c)
    # array factors (addcmul's value * t1), exact cancellations and zeros
    a = rng.normal(size=2000).astype(F32)
    np.testing.assert_array_equal(_muladd(a, b, -(a * b)), (a.astype(np.float64) * b
                                                            - (a * b)).astype(F32))
    np.testing.assert_array_equal(_muladd(F32(0), b, c), c)


def test_special_values_propagate_and_float64_is_unfused() -> None:
    c = np.array([1.0, np.inf, np.nan, -np.inf], F32)
    got = _muladd(2.0, np.array([np.inf, 1.0, 1.0, np.inf], F32), c)
    np.testing.assert_array_equal(got, np.array([np.inf, np.inf, np.nan, np.nan], F32))
    x = np.array([0.1, 0.7, 1e-300])
    np.testing.assert_array_equal(_muladd(3.3, x, x), 3.3 * x + x)


def test_textbook_rounding_is_two_roundings_and_is_restored(rng: Any) -> None:
    """Inside ``textbook_rounding`` (what the benchmarks time as the NumPy baseline) float32
    ``a * b + c`` rounds twice, as NumPy's ``a * b + c``; outside, and after an exception
    inside, the oracle's one rounding again."""
    a = F32(0.3)
    b = rng.normal(size=4000).astype(F32)
    c = rng.normal(size=4000).astype(F32)
    once = _muladd(a, b, c)
    with textbook_rounding():
        twice = _muladd(a, b, c)
    np.testing.assert_array_equal(twice, a * b + c)
    assert not np.array_equal(once, twice)  # some of 4000 round differently
    np.testing.assert_allclose(twice, once, rtol=2.0 ** -22, atol=2.0 ** -22)
    with pytest.raises(ZeroDivisionError):
        with textbook_rounding():
            1 / 0
    np.testing.assert_array_equal(_muladd(a, b, c), once)


def test_textbook_rounding_is_per_thread(rng: Any) -> None:
    """A benchmark's baseline inside ``textbook_rounding`` in one thread leaves the oracle
    exact in another, running meanwhile."""
    import threading

    a = F32(0.3)
    b = rng.normal(size=4000).astype(F32)
    c = rng.normal(size=4000).astype(F32)
    once = _muladd(a, b, c)
    inside, other_done = threading.Event(), threading.Event()
    got: Dict[str, np.ndarray] = {}

    def other() -> None:
        inside.wait(10)
        got["other"] = _muladd(a, b, c)
        other_done.set()

    worker = threading.Thread(target=other)
    worker.start()
    with textbook_rounding():
        inside.set()
        assert other_done.wait(10)
        got["here"] = _muladd(a, b, c)
    worker.join(10)
    np.testing.assert_array_equal(got["other"], once)
    np.testing.assert_array_equal(got["here"], a * b + c)
