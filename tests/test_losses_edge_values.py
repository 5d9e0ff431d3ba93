"""The losses at their edge values, on both backends: extreme logits, probabilities 0 and 1,
all-ignored labels and zero total class weight, empty batches, NaN and infinities (by hand,
and everywhere the reference puts them), masked (-inf) logits, short rows across blocks."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss.losses._registry import LOSSES
from _support import ALL_ELEMENTWISE, REDUCTIONS, assert_close, elementwise_data, numpy_backend


def test_bce_with_logits_extreme_logits(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0, 50.0, -50.0, 1e4], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.5], dtype)
    pw = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 1.0, 1.5, 2.0], dtype)
    value, grad = fastloss.binary_cross_entropy_with_logits_value_and_grad(x, y, reduction="none")
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    # by hand: x=1e4,y=0 -> loss 1e4, grad sigmoid(1e4)=1; x=-1e4,y=1 -> 1e4, grad -1;
    # x=1e4,y=1 -> 0, 0; x=-1e4,y=0 -> 0, 0; x=0,y=1 -> log 2, -1/2
    np.testing.assert_allclose(value[:5], [1e4, 1e4, 0.0, 0.0, np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(grad[:5], [1.0, -1.0, 0.0, 0.0, -0.5], rtol=1e-6, atol=1e-30)
    for kwargs in ({}, {"pos_weight": pw}, {"weight": pw[::-1].copy()}):
        for reduction in REDUCTIONS:
            v, g = fastloss.binary_cross_entropy_with_logits_value_and_grad(
                x, y, reduction=reduction, **kwargs)
            with numpy_backend():
                rv, rg = fastloss.binary_cross_entropy_with_logits_value_and_grad(
                    x, y, reduction=reduction, **kwargs)
            assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
            assert_close(v, rv, dtype)
            assert_close(g, rg, dtype)


def test_cross_entropy_extreme_logits(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [-1e4, 0.0, 1e4]],
                 dtype)
    labels = np.array([1, 2, 0, 1])
    rows = fastloss.cross_entropy(x, labels, reduction="none")
    # by hand: lse = row max (+ log 3 / + log 2 for ties), loss = lse - x_y; lse is rounded
    # to the dtype's spacing at 1e4
    np.testing.assert_allclose(rows, [2e4, np.log(3), np.log(2), 1e4], rtol=1e-6,
                               atol=4 * np.spacing(dtype.type(1e4)))
    w = np.array([0.5, 2.0, 1.0], dtype)
    probs = np.array([[0.2, 0.3, 0.5]] * 4, dtype)
    for target, weight, smoothing in [(labels, None, 0.0), (labels, w, 0.1), (probs, w, 0.0),
                                      (probs, None, 0.1)]:
        for reduction in REDUCTIONS:
            args = (x, target, weight, -100, reduction, smoothing)
            v, g = fastloss.cross_entropy_value_and_grad(*args)
            with numpy_backend():
                rv, rg = fastloss.cross_entropy_value_and_grad(*args)
            assert np.all(np.isfinite(v)) and np.all(np.isfinite(g))
            assert_close(v, rv, dtype)
            assert_close(g, rg, dtype)


def test_binary_cross_entropy_probabilities_0_and_1(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.5], dtype)
    value, grad = fastloss.binary_cross_entropy_value_and_grad(p, y, reduction="none")
    # -(y max(log p, -100) + (1-y) max(log(1-p), -100)); the logs clamp at -100
    np.testing.assert_array_equal(value, [0.0, 0.0, 100.0, 100.0, 50.0, 50.0])
    # (p - y) / max(p (1 - p), 1e-12)
    np.testing.assert_allclose(grad, np.array([0.0, 0.0, -1e12, 1e12, -0.5e12, 0.5e12]),
                               rtol=1e-6)
    with numpy_backend():
        ref_value, ref_grad = fastloss.binary_cross_entropy_value_and_grad(p, y, reduction="none")
    assert_close(value, ref_value, dtype)
    assert_close(grad, ref_grad, dtype)
    assert fastloss.binary_cross_entropy(p, y, reduction="sum") == pytest.approx(300.0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_all_labels_ignored(name, backend, dtype):
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], dtype)
    labels = np.array([-100, -100])
    w = np.array([1.0, 2.0, 3.0], dtype)
    with fastloss.use_backend(backend), np.errstate(all="ignore"):
        assert np.isnan(getattr(fastloss, name)(x, labels))  # 0 / 0
        assert np.isnan(getattr(fastloss, name)(x, labels, w))
        total, grad = getattr(fastloss, name + "_value_and_grad")(x, labels, reduction="sum")
        assert total == 0 and total.dtype == dtype
        np.testing.assert_array_equal(grad, np.zeros_like(x))
        rows, grad = getattr(fastloss, name + "_value_and_grad")(x, labels, reduction="none")
        np.testing.assert_array_equal(rows, [0.0, 0.0])
        np.testing.assert_array_equal(grad, np.zeros_like(x))


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name, kwargs", [
    ("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.1}), ("nll_loss", {})])
def test_all_labels_ignored_mean_has_zero_gradient(name, kwargs, backend, dtype):
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], dtype)
    labels = np.array([-100, -100])
    with fastloss.use_backend(backend), np.errstate(all="ignore"):
        for w in (None, np.array([1.0, 2.0, 3.0], dtype)):
            value, grad = getattr(fastloss, name + "_value_and_grad")(x, labels, w, **kwargs)
            assert np.isnan(value) and value.dtype == dtype
            np.testing.assert_array_equal(grad, np.zeros_like(x))
            np.testing.assert_array_equal(getattr(fastloss, name + "_grad")(
                x, labels, w, **kwargs), np.zeros_like(x))


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_zero_total_class_weight_mean(name, backend, dtype):
    x = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], dtype)
    labels = np.array([0, 0])
    w = np.array([0.0, 1.0, 1.0], dtype)  # every label is of a class with weight 0
    with fastloss.use_backend(backend), np.errstate(all="ignore"):
        value, grad = getattr(fastloss, name + "_value_and_grad")(x, labels, w)
    # by hand: loss sum 0 over total weight 0 -> NaN; d/dx = (0-weighted terms) / 0 = NaN
    # where the label row enters (all of it for cross_entropy, the label entry for nll)
    assert np.isnan(value)
    if name == "cross_entropy":
        assert np.all(np.isnan(grad))
    else:
        assert np.all(np.isnan(grad[:, 0])) and np.all(grad[:, 1:] == 0)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_empty_batch_mean_is_nan_and_sum_is_zero(backend, dtype):
    with fastloss.use_backend(backend):
        x = np.zeros((0, 4), dtype)
        for target in (np.zeros(0, np.int64), np.zeros((0, 4), dtype)):
            assert np.isnan(fastloss.cross_entropy(x, target))
            assert fastloss.cross_entropy(x, target, reduction="sum") == 0
            assert fastloss.cross_entropy_grad(x, target).shape == (0, 4)
        assert np.isnan(fastloss.mse_loss(np.zeros(0, dtype), np.zeros(0, dtype)))
        assert fastloss.mse_loss(np.zeros(0, dtype), np.zeros(0, dtype), reduction="sum") == 0


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("shape", [(0,), (0, 3)], ids=str)
def test_kl_div_batchmean_empty_batch_is_nan(shape, backend, dtype):
    x = np.zeros(shape, dtype)
    with fastloss.use_backend(backend), np.errstate(invalid="ignore", divide="ignore"):
        value, grad = fastloss.kl_div_value_and_grad(x, x, reduction="batchmean")
        assert np.isnan(value) and value.dtype == dtype
        assert grad.shape == shape
        assert np.isnan(fastloss.kl_div(x, x, reduction="batchmean"))

@pytest.mark.parametrize("where", ["input", "target"])
@pytest.mark.parametrize("name", ALL_ELEMENTWISE)
def test_nan_in_nan_out_elementwise(name, where, dtype, rng):
    x, y = elementwise_data(name, (9,), dtype, rng)
    # a target that enters the loss (kl_div's y = 0 would not), of the values it takes
    y[4] = 0.5 if LOSSES[name].target_values is None else LOSSES[name].target_values[1]
    (x if where == "input" else y)[4] = np.nan
    for reduction in REDUCTIONS:
        value, grad = getattr(fastloss, name + "_value_and_grad")(x, y, reduction=reduction)
        with numpy_backend():
            ref_value, ref_grad = getattr(fastloss, name + "_value_and_grad")(
                x, y, reduction=reduction)
        if reduction == "none":
            assert np.isnan(value[4]) and np.all(np.isfinite(np.delete(value, 4)))
        else:
            assert np.isnan(value)
        if not (name == "kl_div" and where == "input"):  # kl_div's gradient is -y: no x
            assert np.isnan(grad[4])
        assert np.all(np.isfinite(np.delete(grad, 4)))
        assert_close(value, ref_value, dtype)
        assert_close(grad, ref_grad, dtype)


@pytest.mark.parametrize("where", ["input", "target"])
def test_nan_in_nan_out_rows(where, dtype, rng):
    x = np.asarray(rng.normal(size=(4, 5)), dtype)
    probs = np.full((4, 5), 0.2, dtype)
    labels = np.array([0, 1, 2, 3])
    if where == "input":
        x[1, 3] = np.nan
    else:
        probs[1, 3] = np.nan
    targets = [probs] + ([labels] if where == "input" else [])
    for target in targets:
        for reduction in REDUCTIONS:
            value, grad = fastloss.cross_entropy_value_and_grad(x, target, reduction=reduction)
            with numpy_backend():
                ref_value, ref_grad = fastloss.cross_entropy_value_and_grad(
                    x, target, reduction=reduction)
            if reduction == "none":
                assert np.isnan(value[1]) and np.all(np.isfinite(np.delete(value, 1)))
            else:
                assert np.isnan(value)
            assert np.all(np.isnan(grad[1]))
            assert np.all(np.isfinite(np.delete(grad, 1, axis=0)))
            assert_close(value, ref_value, dtype)
            assert_close(grad, ref_grad, dtype)
    if where == "input":  # nll_loss: NaN at a label entry gives a NaN loss for that row
        log_p = np.asarray(rng.normal(size=(4, 5)), dtype)
        log_p[1, labels[1]] = np.nan
        rows = fastloss.nll_loss(log_p, labels, reduction="none")
        assert np.isnan(rows[1]) and np.all(np.isfinite(np.delete(rows, 1)))
        assert np.isnan(fastloss.nll_loss(log_p, labels))
        with numpy_backend():
            assert_close(rows, fastloss.nll_loss(log_p, labels, reduction="none"), dtype)


@pytest.mark.parametrize("c", [1, 2, 10, 15, 16])
def test_cross_entropy_short_rows_across_blocks(c, dtype, rng):
    # rows of c < 16 run plain (not omp simd) row loops, in blocks of 4 KB of logits
    # (csrc/losses_impl.h): n spans several blocks and a partial last one, with special rows
    # in different blocks; c = 16 is the first omp simd width
    n = 1007
    x = np.asarray(rng.normal(0.0, 3.0, (n, c)), dtype)
    x[5, -1] = np.nan  # NaN row
    x[300, 0] = -np.inf  # a masked logit (an all -inf row, NaN, when c == 1)
    x[600, :] = -np.inf  # all -inf: NaN, as in PyTorch
    x[n - 1, :] = 1e4  # large equal logits: lse = 1e4 + log(c)
    w = np.asarray(rng.uniform(0.2, 2.0, c), dtype)
    labels = rng.integers(0, c, n)
    labels[::9] = -100
    probs = np.asarray(rng.dirichlet(np.ones(c), n), dtype)
    for target, weight, smoothing in [(labels, None, 0.0), (labels, w, 0.1), (probs, None, 0.0),
                                      (probs, w, 0.1)]:
        args = (x, target, weight, -100, "none", smoothing)
        value, grad = fastloss.cross_entropy_value_and_grad(*args)
        only_value = fastloss.cross_entropy(*args)
        with numpy_backend(), np.errstate(all="ignore"):
            ref_value, ref_grad = fastloss.cross_entropy_value_and_grad(*args)
        assert np.isnan(value[5]) and np.isnan(value[600]) and np.isnan(grad[600]).all()
        assert_close(value, ref_value, dtype, scale=1e4)
        assert_close(only_value, ref_value, dtype, scale=1e4)
        # gradients cancel to ~0 when c == 1: tolerance on the terms (w <= 2), not the result
        assert_close(grad, ref_grad, dtype, floor=2.0)


def test_infinities(dtype):
    inf = np.inf
    x = np.array([inf, -inf, 1.0], dtype)
    y = np.array([0.0, 0.0, 1.0], dtype)
    # by hand, element by element
    expected = {
        "mse_loss": ([inf, inf, 0.0], [inf, -inf, 0.0]),
        "l1_loss": ([inf, inf, 0.0], [1.0, -1.0, 0.0]),
        "huber_loss": ([inf, inf, 0.0], [1.0, -1.0, 0.0]),
        "smooth_l1_loss": ([inf, inf, 0.0], [1.0, -1.0, 0.0]),
    }
    for name, (values, grads) in expected.items():
        value, grad = getattr(fastloss, name + "_value_and_grad")(x, y, reduction="none")
        np.testing.assert_array_equal(value, values, err_msg=name)
        np.testing.assert_array_equal(grad, grads, err_msg=name)
        assert getattr(fastloss, name)(x, y, reduction="sum") == inf
    # logit +inf with target 0: loss inf, gradient sigmoid(inf) = 1
    value, grad = fastloss.binary_cross_entropy_with_logits_value_and_grad(
        np.array([inf, 2.0], dtype), np.array([0.0, 1.0], dtype), reduction="none")
    assert value[0] == inf and grad[0] == 1.0
    # kl_div: a log-probability of -inf where the target is positive: y log y - y x = inf
    value, grad = fastloss.kl_div_value_and_grad(np.array([-inf, -1.0], dtype),
                                                 np.array([0.5, 0.5], dtype), reduction="none")
    assert value[0] == inf
    np.testing.assert_array_equal(grad, [-0.5, -0.5])


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_cross_entropy_masked_logits(backend, dtype):
    # a masked (-inf) logit: finite loss, zero gradient there
    logits = np.array([[0.0, -np.inf, 1.0], [2.0, 1.0, -np.inf]], dtype)
    labels = np.array([0, 1])
    # by hand: row 0 lse = log(1 + e), loss = log(1 + e); row 1 lse = 1 + log(e + 1),
    # loss = lse - 1 = log(1 + e); softmax of the label column is 1 / (1 + e)
    p = 1 / (1 + np.e)
    with fastloss.use_backend(backend):
        for w in (None, np.array([1.0, 2.0, 0.5], dtype)):
            rows, grad = fastloss.cross_entropy_value_and_grad(logits, labels, w,
                                                               reduction="none")
            w_y = np.array([1.0, 1.0]) if w is None else np.array([1.0, 2.0])
            np.testing.assert_allclose(rows, w_y * np.log1p(np.e), rtol=1e-6)
            assert grad[0, 1] == 0 and grad[1, 2] == 0
            np.testing.assert_allclose(grad[[0, 1], labels], w_y * (p - 1), rtol=1e-6)
            value = fastloss.cross_entropy(logits, labels, w)
            np.testing.assert_allclose(value, np.log1p(np.e), rtol=1e-6)


def _grid(xs, ys, dtype):
    x, y = np.meshgrid(np.array(xs, dtype), np.array(ys, dtype))
    return x.ravel(), y.ravel()


INF_GRIDS = [
    # (name, kwargs, inputs, targets): every combination, infinities included
    ("mse_loss", {}, [np.inf, -np.inf, 0.0, 1.0, -2.0], [np.inf, -np.inf, 0.0, 1.5]),
    ("l1_loss", {}, [np.inf, -np.inf, 0.0, 1.0, -2.0], [np.inf, -np.inf, 0.0, 1.5]),
    ("huber_loss", {"delta": 0.5}, [np.inf, -np.inf, 0.0, 1.0, -2.0],
     [np.inf, -np.inf, 0.0, 1.5]),
    ("smooth_l1_loss", {"beta": 0.5}, [np.inf, -np.inf, 0.0, 1.0, -2.0],
     [np.inf, -np.inf, 0.0, 1.5]),
    ("smooth_l1_loss", {"beta": 0.0}, [np.inf, -np.inf, 0.0, 1.0], [np.inf, 0.0, 1.5]),
    ("binary_cross_entropy_with_logits", {}, [np.inf, -np.inf, 0.0, 3.0, -3.0],
     [0.0, 0.3, 1.0]),
    ("binary_cross_entropy_with_logits", {"pos_weight": 2.0}, [np.inf, -np.inf, 0.0, 3.0],
     [0.0, 0.3, 1.0]),
    ("kl_div", {}, [-np.inf, -1.0, 0.0], [0.0, 0.5, 1.0]),
    ("kl_div", {"log_target": True}, [-np.inf, -1.0, 0.0], [-np.inf, -1.0, 0.0]),
]


@pytest.mark.parametrize("name, kwargs, xs, ys", INF_GRIDS,
                         ids=[f"{g[0]}-{i}" for i, g in enumerate(INF_GRIDS)])
def test_infinities_match_reference(name, kwargs, xs, ys, dtype):
    """Wherever infinities go, the C backend produces what the reference does."""
    x, y = _grid(xs, ys, dtype)
    if "pos_weight" in kwargs:
        kwargs = {**kwargs, "pos_weight": np.full(x.shape, kwargs["pos_weight"], dtype)}
    with np.errstate(all="ignore"):
        for reduction in REDUCTIONS:
            v, g = getattr(fastloss, name + "_value_and_grad")(x, y, reduction=reduction,
                                                                **kwargs)
            with numpy_backend():
                rv, rg = getattr(fastloss, name + "_value_and_grad")(
                    x, y, reduction=reduction, **kwargs)
            assert_close(v, rv, dtype)
            assert_close(g, rg, dtype)
