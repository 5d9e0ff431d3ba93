"""The losses on large inputs, where the kernels run on threads: float32 sums keep their
accuracy, results agree across thread counts (elementwise values and gradients bitwise, only
the sum's rounding differs) and are deterministic for a given count, and match the
reference."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from _support import (
    ALL_ELEMENTWISE,
    WEIGHTED,
    assert_close,
    ce_case,
    elementwise_data,
    numpy_backend,
    reduced_scale,
)


@pytest.mark.parametrize("n", [1_000_003, pytest.param(10_000_019, marks=pytest.mark.slow)])
def test_float32_sum_accuracy(n, rng):
    x = rng.normal(size=n).astype(np.float32)
    y = (x + rng.normal(0.0, 0.5, n)).astype(np.float32)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    exact_sum = float(np.sum((x64 - y64) ** 2))
    assert fastloss.mse_loss(x, y, reduction="sum") == pytest.approx(exact_sum, rel=1e-6)
    assert fastloss.mse_loss(x, y) == pytest.approx(exact_sum / n, rel=1e-6)
    exact_l1 = float(np.abs(x64 - y64).sum())
    assert fastloss.l1_loss(x, y, reduction="sum") == pytest.approx(exact_l1, rel=1e-6)
    value, _ = fastloss.mse_loss_value_and_grad(x, y)
    assert value == pytest.approx(exact_sum / n, rel=1e-6)


def test_float32_sum_accuracy_two_million(rng):
    n = 2_000_000
    x = rng.uniform(0.0, 1.0, n).astype(np.float32)
    y = np.zeros(n, np.float32)
    # sum of x^2 in float64 of the float32 values (each square exact in float64)
    exact = float(np.sum(x.astype(np.float64) ** 2))
    for nt in (1, 2):
        assert float(fastloss.mse_loss(x, y, reduction="sum", n_threads=nt)) == \
            pytest.approx(exact, rel=1e-6)


# ---- threads -----------------------------------------------------------------------------

N_THREADED = 600_000
assert N_THREADED > fastloss.THREADING_THRESHOLD


def _threaded_calls(dtype, rng):
    for name in ALL_ELEMENTWISE:
        x, y = elementwise_data(name, (N_THREADED,), dtype, rng)
        kwargs = {"weight": np.asarray(
            rng.uniform(0.5, 2.0, N_THREADED), dtype)} if WEIGHTED[name] else {}
        # a reduced value (sigmoid_focal_loss's default is "none", torchvision's)
        yield name, (x, y), {**kwargs, "reduction": "mean"}, True
    x, labels, w, _ = ce_case((N_THREADED // 10, 10), "labels", True, "default", dtype, rng)
    yield "cross_entropy", (x, labels, w), {"label_smoothing": 0.1}, False
    probs = np.asarray(rng.dirichlet(np.ones(10), N_THREADED // 10), dtype)
    yield "cross_entropy", (x, probs), {}, False


def test_n_threads_agree_and_are_deterministic(dtype, rng):
    for name, args, kwargs, elementwise in _threaded_calls(dtype, rng):
        f_both = getattr(fastloss, name + "_value_and_grad")
        results = {}
        for nt in (1, 2):
            v, g = f_both(*args, n_threads=nt, **kwargs)
            v_again, g_again = f_both(*args, n_threads=nt, **kwargs)
            # deterministic for a given thread count: bitwise identical
            assert v.tobytes() == v_again.tobytes(), (name, nt)
            assert g.tobytes() == g_again.tobytes(), (name, nt)
            rows = getattr(fastloss, name)(*args, **{**kwargs, "reduction": "none"},
                                           n_threads=nt)
            results[nt] = (v, g, rows)
        (v1, g1, r1), (v2, g2, r2) = results[1], results[2]
        rows_scale = reduced_scale(r1, float(args[0].shape[0]))
        assert_close(v2, v1, dtype, scale=max(rows_scale, abs(float(v1))))
        if elementwise:  # csrc/losses.h: only the sum's rounding depends on n_threads
            np.testing.assert_array_equal(g2, g1, err_msg=name)
            np.testing.assert_array_equal(r2, r1, err_msg=name)
        else:
            assert_close(g2, g1, dtype)
            assert_close(r2, r1, dtype)
        # the default for a large input is get_num_threads(), same bits as asking for it
        v_default, g_default = f_both(*args, **kwargs)
        v_n, g_n = f_both(*args, n_threads=fastloss.get_num_threads(), **kwargs)
        assert v_default.tobytes() == v_n.tobytes()
        assert g_default.tobytes() == g_n.tobytes()


def test_n_threads_matches_reference_on_large_input(rng):
    x = rng.normal(size=N_THREADED)
    y = rng.normal(size=N_THREADED)
    with numpy_backend():
        want_v, want_g = fastloss.huber_loss_value_and_grad(x, y, delta=0.5)
    for nt in (1, 2, 3, 64, 1000):
        v, g = fastloss.huber_loss_value_and_grad(x, y, delta=0.5, n_threads=nt)
        assert_close(v, want_v, np.float64)
        assert_close(g, want_g, np.float64)
