"""fastloss.optim's gradient clipping (clip_grad.py) against torch.nn.utils and by hand."""

from __future__ import annotations

import math
from typing import Any, Callable, List

import numpy as np
import pytest

from _support import DTYPES
from fastloss.optim import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

NORM_TYPES = (1.0, 2.0, math.inf, 3.0, 0.5)


def _rtol(dtype: Any) -> float:
    return 1e-12 if dtype == np.float64 else 1e-6


def _grads(dtype: Any, seed: int = 0, empty: bool = True) -> List[np.ndarray]:
    """Gradients in every layout the functions take: C, Fortran, a 1-D step, a reversed
    view, a 2-D slice (not one strided run: read through a copy), 0-d, zero-size."""
    rng = np.random.default_rng(seed)

    def draw(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(dtype)

    grads = [draw(3, 4), np.asfortranarray(draw(5, 3)), draw(11)[::3], draw(7)[::-2],
             draw(6, 8)[:, 1:6:2], np.array(draw(1)[0]), draw(40, 25)]
    return grads + [draw(0, 3)] if empty else grads


def _torch_params(grads: List[np.ndarray]) -> List[Any]:
    torch = pytest.importorskip("torch")
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g.copy()).dtype))
        p.grad = torch.from_numpy(np.array(g))
        params.append(p)
    return params


def _assert_grads(grads: List[np.ndarray], params: List[Any], rtol: float) -> None:
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", NORM_TYPES)
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(dtype: Any, norm_type: float, max_norm: float) -> None:
    torch = pytest.importorskip("torch")
    grads = _grads(dtype, empty=norm_type != math.inf)  # torch's inf-norm fails on size 0
    params = _torch_params(grads)
    before = [g.copy() for g in grads]
    expected = float(torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type))
    total = clip_grad_norm_(grads, max_norm, norm_type=norm_type)
    assert type(total) is float
    assert total == pytest.approx(expected, rel=_rtol(dtype))
    _assert_grads(grads, params, _rtol(dtype))
    if total < max_norm:  # no clipping: not a bit changed
        for g, b in zip(grads, before):
            assert g.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", NORM_TYPES)
def test_get_total_norm_and_clip_with_norm_match_torch(dtype: Any, norm_type: float) -> None:
    torch = pytest.importorskip("torch")
    grads = _grads(dtype, seed=1, empty=False)
    params = _torch_params(grads)
    expected = torch.nn.utils.get_total_norm([p.grad for p in params], norm_type)
    total = get_total_norm(grads, norm_type)
    assert total == pytest.approx(float(expected), rel=_rtol(dtype))
    torch.nn.utils.clip_grads_with_norm_(params, 0.3, expected)
    clip_grads_with_norm_(grads, 0.3, total)
    _assert_grads(grads, params, _rtol(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_clip_grad_value_matches_torch(dtype: Any) -> None:
    torch = pytest.importorskip("torch")
    grads = _grads(dtype, seed=2)
    grads[0][0, :3] = [np.nan, np.inf, -np.inf]
    params = _torch_params(grads)
    torch.nn.utils.clip_grad_value_(params, 0.7)
    clip_grad_value_(grads, 0.7)
    for g, p in zip(grads, params):
        np.testing.assert_array_equal(g, p.grad.numpy())  # exact, NaN where torch has NaN
    assert np.isnan(grads[0][0, 0]) and grads[0][0, 1] == dtype(0.7)


def test_mixed_dtypes_match_torch() -> None:
    torch = pytest.importorskip("torch")
    grads = _grads(np.float64, 3, empty=False)[:3] + _grads(np.float32, 4, empty=False)[:3]
    params = _torch_params(grads)
    expected = float(torch.nn.utils.clip_grad_norm_(params, 0.5))
    assert clip_grad_norm_(grads, 0.5) == pytest.approx(expected, rel=1e-6)
    _assert_grads(grads, params, 1e-6)


def test_hand_values() -> None:
    g = [np.array([3.0, 0.0]), np.array([[-4.0]])]
    assert get_total_norm(g) == 5.0
    assert get_total_norm(g, 1) == 7.0
    assert get_total_norm(g, math.inf) == 4.0
    assert get_total_norm(g, 3) == pytest.approx((27 + 64) ** (1 / 3), rel=1e-15)
    total = clip_grad_norm_(g, 1.0)
    assert total == 5.0
    coef = 1.0 / (5.0 + 1e-6)
    assert g[0].tolist() == [3.0 * coef, 0.0] and g[1].tolist() == [[-4.0 * coef]]


def test_float32_norm_is_accumulated_in_float64() -> None:
    """The sum of squares of float32 gradients equals the exact one to float64 rounding (a
    float32 accumulator would be off by ~1e-4 over 10^6 elements)."""
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(10**4).astype(np.float32) for _ in range(100)]
    exact = math.sqrt(math.fsum(float(v) ** 2 for g in grads for v in g.astype(np.float64)))
    assert get_total_norm(grads) == pytest.approx(exact, rel=1e-13)
    assert get_total_norm(grads) == get_total_norm(grads)  # deterministic: same bits


def test_empty_none_and_single_array() -> None:
    assert get_total_norm([]) == 0.0 and clip_grad_norm_([], 1.0) == 0.0
    clip_grad_value_([], 1.0)
    g = np.array([3.0, 4.0])
    assert clip_grad_norm_([None, g, None], 10.0) == 5.0
    assert get_total_norm(g) == 5.0  # one array: a list of one, as in torch
    clip_grad_value_(g, 3.5)
    assert g.tolist() == [3.0, 3.5]
    assert get_total_norm([np.zeros((0, 4)), np.zeros(0, np.float32)], math.inf) == 0.0


def test_views_are_clipped_in_place() -> None:
    """A strided view is written in place; the elements between its own are not touched."""
    base = np.arange(12.0)
    view = base[::3]
    grid = np.arange(24.0).reshape(4, 6)
    block = grid[1:3, ::2]  # not one strided run: through a copy, written back
    clip_grad_value_([view, block], 5.0)
    assert base.tolist() == [0, 1, 2, 3, 4, 5, 5, 7, 8, 5, 10, 11]
    assert grid[1:3, ::2].max() == 5.0 and grid[1:3, 1::2].min() == 7.0
    assert grid[0].tolist() == list(np.arange(6.0))


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_norm(value: float) -> None:
    torch = pytest.importorskip("torch")
    grads = _grads(np.float64, 6, empty=False)
    grads[2][1] = value
    before = [g.copy() for g in grads]
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(grads, 1.0, error_if_nonfinite=True)
    for g, b in zip(grads, before):  # nothing written
        np.testing.assert_array_equal(g, b)
    params = _torch_params(grads)
    expected = float(torch.nn.utils.clip_grad_norm_(params, 1.0))
    total = clip_grad_norm_(grads, 1.0)
    assert (math.isnan(total) and math.isnan(expected)) or total == expected
    for g, p in zip(grads, params):  # scaled by the non-finite factor, as torch
        np.testing.assert_array_equal(g, p.grad.numpy())


def _bad_calls() -> List[Any]:
    def two_views() -> List[np.ndarray]:
        a = np.zeros(10)
        return [a[:6], a[4:]]

    def read_only() -> List[np.ndarray]:
        a = np.ones(3)
        a.flags.writeable = False
        return [np.ones(2), a]

    ok = [np.ones(3), np.ones((2, 2), np.float32)]
    return [
        ("array of ints", lambda: [np.ones(2), np.ones(3, dtype=np.int64)], clip_grad_norm_,
         TypeError, r"grads\[1\] must be float32 or float64"),
        ("list", lambda: [np.ones(2), [1.0, 2.0]], clip_grad_norm_, TypeError,
         r"grads\[1\] must be a NumPy array"),
        ("masked", lambda: [np.ma.masked_array(np.ones(2))], clip_grad_value_, TypeError,
         "masked"),
        ("read-only", read_only, clip_grad_norm_, ValueError, r"grads\[1\] is read-only"),
        ("overlap", two_views, clip_grad_norm_, ValueError,
         r"grads\[1\] shares memory with grads\[0\]"),
        ("overlap value", two_views, clip_grad_value_, ValueError, "shares memory"),
        ("not a list", lambda: 3.0, clip_grad_norm_, TypeError, "grads must be a list"),
    ] + [(f"norm_type={v!r}", lambda: ok, lambda g, m, v=v: clip_grad_norm_(g, m, norm_type=v),
          exc, "norm_type") for v, exc in [(0, ValueError), (-1.0, ValueError),
                                           (math.nan, ValueError), ("2", TypeError),
                                           (True, TypeError)]] + [
        ("max_norm<0", lambda: ok, lambda g, m: clip_grad_norm_(g, -1.0), ValueError,
         "max_norm"),
        ("max_norm nan", lambda: ok, lambda g, m: clip_grad_norm_(g, math.nan), ValueError,
         "max_norm"),
        ("clip_value<0", lambda: ok, lambda g, m: clip_grad_value_(g, -0.5), ValueError,
         "clip_value"),
        ("foreach", lambda: ok, lambda g, m: clip_grad_norm_(g, m, foreach=1), TypeError,
         "foreach"),
        ("error_if_nonfinite", lambda: ok,
         lambda g, m: clip_grad_norm_(g, m, error_if_nonfinite="yes"), TypeError,
         "error_if_nonfinite"),
        ("total_norm<0", lambda: ok, lambda g, m: clip_grads_with_norm_(g, m, -1.0),
         ValueError, "total_norm"),
        ("total_norm str", lambda: ok, lambda g, m: clip_grads_with_norm_(g, m, "1"),
         TypeError, "total_norm"),
    ]


@pytest.mark.parametrize("label, make, call, exc, match", _bad_calls(),
                         ids=[c[0] for c in _bad_calls()])
def test_bad_input_is_rejected_before_any_write(label: str, make: Callable[[], Any],
                                                call: Callable[..., Any], exc: type,
                                                match: str) -> None:
    grads = make()
    # a first, valid gradient of size > 0 that a partial write would change
    arrays = [g for g in (grads if isinstance(grads, list) else []) if isinstance(g, np.ndarray)]
    before = [np.array(g) for g in arrays]
    with pytest.raises(exc, match=match):
        call(grads, 1e-3)
    for g, b in zip(arrays, before):
        np.testing.assert_array_equal(np.asarray(g), b)


def test_inf_bounds_leave_gradients_alone() -> None:
    g = [np.array([1e300, -2.0])]
    assert clip_grad_norm_(g, math.inf, norm_type=math.inf) == 1e300
    clip_grad_value_(g, math.inf)
    assert g[0].tolist() == [1e300, -2.0]


def _lane_sum(x: np.ndarray, term: Callable[[np.ndarray], np.ndarray]) -> float:
    """The kernel's order, in NumPy: 32 lanes over x, the tail into the first lanes, then
    the lanes added in order."""
    lanes = np.zeros(32)
    v = x.astype(np.float64)
    full = len(v) // 32 * 32
    for row in v[:full].reshape(-1, 32):
        lanes += term(row)
    lanes[:len(v) - full] += term(v[full:])
    total = 0.0
    for value in lanes:
        total += value
    return total


@pytest.mark.parametrize("dtype", DTYPES)
def test_norm_summation_order_is_fixed(dtype: Any) -> None:
    """The sums of orders 1 and 2 follow one fixed order (lanes, then arrays in list order),
    whatever the vector width of the machine: bit for bit this NumPy transcription."""
    rng = np.random.default_rng(7)
    grads = [rng.standard_normal(n).astype(dtype) for n in (1000, 37, 5, 64, 3001)]
    for p, term in [(1, np.abs), (2, np.square)]:
        total = 0.0
        for g in grads:
            total += _lane_sum(g, term)
        assert get_total_norm(grads, p) == (total if p == 1 else math.sqrt(total))


def test_interleaved_views() -> None:
    """Views whose byte ranges meet without sharing an element are clipped, each once."""
    base = np.arange(1.0, 11.0)
    even, odd = base[::2], base[1::2]
    clip_grad_value_([even, odd], 6.0)
    assert base.tolist() == [1, 2, 3, 4, 5, 6, 6, 6, 6, 6]
    total = clip_grad_norm_([even, odd], 1.0)
    assert total == pytest.approx(math.sqrt(float(np.square(np.arange(1.0, 11.0).clip(
        max=6.0)).sum())), rel=1e-15)
    assert get_total_norm(base) == pytest.approx(1.0, rel=1e-5)
