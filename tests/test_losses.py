"""The public functions on the compiled ("c") backend against the NumPy reference.

The reference (``fastloss.reference``, also the "numpy" backend) is the specification;
``tests/test_reference.py`` checks it against finite differences, hand-derived values and
PyTorch. Here every loss, form, reduction, weighting, dtype and shape of the compiled
backend is compared with it.
"""

from __future__ import annotations

import threading
import tracemalloc
from typing import Any, Dict, Tuple

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastloss
from fastloss import reference
from fastloss.losses._registry import LOSSES
from _support import (
    assert_close,
    assert_grad_type,
    assert_value_type,
    numpy_backend,
)

REDUCTIONS = ("mean", "sum", "none")
SHAPES = [(), (0,), (1,), (7,), (17,), (1001,), (3, 5), (4, 17)]
HYPOTHESIS = settings(max_examples=40, deadline=None)


def forms(name: str) -> Tuple[Any, Any, Any]:
    return (getattr(fastloss, name), getattr(fastloss, name + "_grad"),
            getattr(fastloss, name + "_value_and_grad"))


def call_all_forms(name: str, *args: Any, **kwargs: Any) -> Dict[str, Any]:
    """Value, grad and value_and_grad of ``name`` on the active backend."""
    f, f_grad, f_both = forms(name)
    both = f_both(*args, **kwargs)
    assert isinstance(both, tuple) and len(both) == 2
    return {"value": f(*args, **kwargs), "grad": f_grad(*args, **kwargs),
            "both_value": both[0], "both_grad": both[1]}


# ---- elementwise losses ------------------------------------------------------------------

ELEMENTWISE = [row for row in LOSSES.values() if row.kind == "elementwise"]
ALL_ELEMENTWISE = [row.name for row in ELEMENTWISE]
ELEMENTWISE_VARIANTS = [(row.name, variant) for row in ELEMENTWISE for variant in row.variants]
# mean = sum(w l) / sum(w) for these; mean(w l) for the others (PyTorch's semantics)
MEAN_BY_WEIGHT_SUM = {row.name for row in ELEMENTWISE if row.weighted_mean == "weight_sum"}
# losses whose value is a function of x - y alone (no cancellation between other terms)
DIFFERENCE_LOSSES = {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"}


def elementwise_data(name: str, shape: tuple, dtype: Any, rng: np.random.Generator,
                     log_target: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """The registry's typical inputs of loss ``name`` (log-probability targets for
    ``log_target``)."""
    x, y = LOSSES[name].data(rng, shape, dtype)
    if log_target:
        y = np.log(rng.uniform(0.05, 1.0, shape)).astype(dtype)
    return x, y


def weight_like(kind: str, shape: tuple, dtype: Any, rng: np.random.Generator,
                low: float = 0.1, high: float = 2.0) -> Any:
    if kind == "full":
        return np.asarray(rng.uniform(low, high, shape), dtype)
    if kind == "bcast":  # broadcast along the last axis (0-d stays 0-d)
        return np.asarray(rng.uniform(low, high, shape[-1:]), dtype)
    raise AssertionError(kind)


def elementwise_case(name: str, spec: Dict[str, Any], shape: tuple, dtype: Any,
                     rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any]]:
    kwargs = dict(spec)
    x, y = elementwise_data(name, shape, dtype, rng, spec.get("log_target", False))
    if "weight" in kwargs:
        kwargs["weight"] = weight_like(kwargs["weight"], shape, dtype, rng)
    if "pos_weight" in kwargs:
        kwargs["pos_weight"] = weight_like(kwargs["pos_weight"], shape, dtype, rng, 0.5, 3.0)
    return x, y, kwargs


def mean_denominator(name: str, x: np.ndarray, kwargs: Dict[str, Any], reduction: str) -> float:
    if reduction == "sum" or reduction == "none":
        return 1.0
    if reduction == "batchmean":
        return float(x.shape[0]) if x.ndim else 1.0
    if name in MEAN_BY_WEIGHT_SUM and kwargs.get("weight") is not None:
        return float(np.broadcast_to(kwargs["weight"], x.shape).astype(np.float64).sum())
    return float(x.size)


def reduced_scale(elements: Any, denominator: float) -> float:
    """Magnitude of a reduced value's terms: sum |w l| / D (for an absolute tolerance)."""
    e = np.abs(np.asarray(elements, dtype=np.float64))
    e = e[np.isfinite(e)]
    return float(e.sum()) / abs(denominator) if denominator else 0.0


def elementwise_params():
    for name, spec in ELEMENTWISE_VARIANTS:
        for reduction in LOSSES[name].reductions:
            label = "-".join(f"{k}={v}" for k, v in spec.items()) or "plain"
            yield pytest.param(name, spec, reduction, id=f"{name}-{label}-{reduction}")


def check_against_reference(got: Dict[str, Any], want: Dict[str, Any], dtype: Any,
                            reduction: str, shape: tuple, value_scale: float,
                            grad_floor: float) -> None:
    for key in ("value", "both_value"):
        assert_value_type(got[key], dtype, reduction, shape if reduction == "none" else None)
    for key in ("grad", "both_grad"):
        assert_grad_type(got[key], dtype, shape)
    scale = None if reduction == "none" else value_scale
    assert_close(got["value"], want["value"], dtype, scale=scale)
    assert_close(got["both_value"], want["value"], dtype, scale=scale)
    assert_close(got["both_value"], want["both_value"], dtype, scale=scale)
    assert_close(got["grad"], want["grad"], dtype, floor=grad_floor)
    assert_close(got["both_grad"], want["grad"], dtype, floor=grad_floor)
    assert_close(got["both_grad"], want["both_grad"], dtype, floor=grad_floor)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, spec, reduction", list(elementwise_params()))
def test_elementwise_matches_reference(name, spec, reduction, shape, dtype, rng):
    x, y, kwargs = elementwise_case(name, spec, shape, dtype, rng)
    kwargs["reduction"] = reduction
    got = call_all_forms(name, x, y, **kwargs)
    if reduction == "batchmean" and x.size == 0:
        # the reference raises here (see test_kl_div_batchmean_empty_batch_is_nan): 0 / 0
        assert np.isnan(got["value"]) and np.isnan(got["both_value"])
        assert got["grad"].shape == got["both_grad"].shape == shape
        return
    with numpy_backend():
        want = call_all_forms(name, x, y, **kwargs)
        elements = getattr(fastloss, name)(x, y, **{**kwargs, "reduction": "none"})
    if reduction != "none" and x.size == 0:
        assert np.isnan(want["value"]) if reduction != "sum" else want["value"] == 0
    denominator = mean_denominator(name, x, kwargs, reduction)
    grad_floor = 0.0
    if name == "binary_cross_entropy_with_logits" and denominator:  # sigmoid(x) - y cancels
        grad_floor = 6.0 / denominator  # max weight 2 * max pos_weight 3
    check_against_reference(got, want, dtype, reduction, shape,
                            reduced_scale(elements, denominator), grad_floor)


@pytest.mark.parametrize("name, spec", ELEMENTWISE_VARIANTS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(ELEMENTWISE_VARIANTS)])
def test_numpy_backend_is_the_reference(name, spec, dtype, rng):
    """Under use_backend("numpy") the public functions return what fastloss.reference does."""
    shape = (4, 6)
    x, y, kwargs = elementwise_case(name, spec, shape, dtype, rng)
    ref_kwargs = dict(kwargs)
    for key in ("weight", "pos_weight"):  # the reference takes weights already broadcast
        if key in ref_kwargs:
            ref_kwargs[key] = np.broadcast_to(np.asarray(ref_kwargs[key], dtype), shape)
    for reduction in REDUCTIONS:
        with numpy_backend():
            value, grad = getattr(fastloss, name + "_value_and_grad")(
                x, y, reduction=reduction, **kwargs)
        ref_value, ref_grad = getattr(reference, name + "_value_and_grad")(
            x, y, reduction=reduction, **ref_kwargs)
        np.testing.assert_array_equal(value, ref_value)
        np.testing.assert_array_equal(grad, ref_grad)
        np.testing.assert_array_equal(
            getattr(reference, name)(x, y, reduction=reduction, **ref_kwargs), ref_value)


# ---- cross_entropy and nll_loss ----------------------------------------------------------

CE_SHAPES = [(1, 1), (1, 7), (4, 17), (17, 3), (0, 5), (5, 1001), (300, 10), (2, 2049)]


def ce_params():
    for target in ("labels", "probs"):
        for weighted in (False, True):
            for smoothing in (0.0, 0.1):
                ignores = ("none", "default", "custom") if target == "labels" else ("none",)
                for ignore in ignores:
                    for reduction in REDUCTIONS:
                        yield pytest.param(
                            target, weighted, smoothing, ignore, reduction,
                            id=f"{target}-w{int(weighted)}-ls{smoothing}-ign_{ignore}-{reduction}")


def labels_for(n: int, c: int, ignore: str, rng: np.random.Generator) -> Tuple[np.ndarray, int]:
    """Labels in [0, c) and the ignore_index to use: -100 rows ('default') or a class."""
    labels = rng.integers(0, c, n)
    # row 0 is never ignored: all-ignored batches have their own tests
    if ignore == "default":
        labels[1::3] = -100
        return labels, -100
    if ignore == "custom":  # ignore_index 1 is a valid class index (unless c == 1)
        ignore_index = 1
        labels[labels == ignore_index] = 0
        labels[1::4] = ignore_index
        return labels, ignore_index
    return labels, -100


def ce_case(shape, target_kind, weighted, ignore, dtype, rng, scale=3.0):
    n, c = shape
    x = np.asarray(rng.normal(0.0, scale, shape), dtype)
    w = np.asarray(rng.uniform(0.2, 2.0, c), dtype) if weighted else None
    if target_kind == "probs":
        t = rng.uniform(0.0, 1.0, shape) ** 3
        t = np.asarray(t / np.maximum(t.sum(axis=1, keepdims=True), 1e-30), dtype)
        return x, t, w, -100
    labels, ignore_index = labels_for(n, c, ignore, rng)
    return x, labels, w, ignore_index


def ce_denominator(target, w, ignore_index, reduction, n):
    """PyTorch's mean denominator: N for probabilities, sum of w[y] over kept labels."""
    if reduction != "mean":
        return 1.0
    if target.ndim == 2:
        return float(n)
    kept = target[target != ignore_index]
    return float(kept.size if w is None else w.astype(np.float64)[kept].sum())


@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("target_kind, weighted, smoothing, ignore, reduction", list(ce_params()))
def test_cross_entropy_matches_reference(target_kind, weighted, smoothing, ignore, reduction,
                                         shape, dtype, rng):
    x, t, w, ignore_index = ce_case(shape, target_kind, weighted, ignore, dtype, rng)
    args = (x, t, w, ignore_index, reduction, smoothing)
    got = call_all_forms("cross_entropy", *args)
    with numpy_backend():
        want = call_all_forms("cross_entropy", *args)
        rows = fastloss.cross_entropy(x, t, w, ignore_index, "none", smoothing)
    denominator = ce_denominator(t, w, ignore_index, reduction, shape[0])
    row_shape = (shape[0],)
    for key in ("value", "both_value"):
        assert_value_type(got[key], dtype, reduction, row_shape)
    for key in ("grad", "both_grad"):
        assert_grad_type(got[key], dtype, shape)
    # row losses and gradients may cancel to ~0 (C = 1): floor the tolerance on the terms
    w_max = 1.0 if w is None else float(w.max())
    per_row = 1.0 / denominator if denominator else 0.0
    row_floor = (float(np.abs(x).max(initial=0.0)) + 1.0) * w_max
    scale = (None if reduction == "none" else
             reduced_scale(rows, denominator) + row_floor * shape[0] * per_row)
    for key in ("value", "both_value"):
        assert_close(got[key], want["value"], dtype, scale=scale, floor=row_floor)
    for key in ("grad", "both_grad"):
        assert_close(got[key], want["grad"], dtype, floor=w_max * per_row)


def nll_params():
    for weighted in (False, True):
        for ignore in ("none", "default", "custom"):
            for reduction in REDUCTIONS:
                yield pytest.param(weighted, ignore, reduction,
                                   id=f"w{int(weighted)}-ign_{ignore}-{reduction}")


@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("weighted, ignore, reduction", list(nll_params()))
def test_nll_loss_matches_reference(weighted, ignore, reduction, shape, dtype, rng):
    x, labels, w, ignore_index = ce_case(shape, "labels", weighted, ignore, dtype, rng)
    x = np.asarray(x - np.log(np.exp(x.astype(np.float64)).sum(axis=1, keepdims=True)), dtype)
    args = (x, labels, w, ignore_index, reduction)
    got = call_all_forms("nll_loss", *args)
    with numpy_backend():
        want = call_all_forms("nll_loss", *args)
        rows = fastloss.nll_loss(x, labels, w, ignore_index, "none")
    for key in ("value", "both_value"):
        assert_value_type(got[key], dtype, reduction, (shape[0],))
        denominator = ce_denominator(labels, w, ignore_index, reduction, shape[0])
        scale = None if reduction == "none" else reduced_scale(rows, denominator)
        assert_close(got[key], want["value"], dtype, scale=scale)
    for key in ("grad", "both_grad"):
        assert_grad_type(got[key], dtype, shape)
        assert_close(got[key], want["grad"], dtype)


# ---- hypothesis: random shapes and values -----------------------------------------------

def _floats(dtype, lo, hi):
    return st.floats(lo, hi, allow_nan=False, width=np.dtype(dtype).itemsize * 8)


def _weights(dtype, hi):
    # exact zeros, or weights that are not so tiny that 1 / sum(w) overflows float32
    return st.one_of(st.just(0.0), _floats(dtype, 2.0**-7, hi))


@st.composite
def elementwise_inputs(draw, name, dtype):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9))
    (xlo, xhi), (ylo, yhi) = LOSSES[name].domain
    xs, ys = _floats(dtype, xlo, xhi), _floats(dtype, ylo, yhi)
    x = draw(hnp.arrays(dtype, shape, elements=xs))
    y = draw(hnp.arrays(dtype, shape, elements=ys))
    w = draw(hnp.arrays(dtype, shape, elements=_weights(dtype, 4.0))) \
        if "weight" in LOSSES[name].weights and draw(st.booleans()) else None
    reduction = draw(st.sampled_from(REDUCTIONS))
    return x, y, w, reduction


def _term_magnitudes(name, x, y, w, elements):
    """Per-element magnitude of the terms summed into each loss (cancellation bound)."""
    l = np.abs(np.asarray(elements, np.float64))
    if name not in DIFFERENCE_LOSSES:
        l = l + np.abs(x.astype(np.float64)) + np.abs(y.astype(np.float64)) + \
            (1.0 if w is None else np.abs(w.astype(np.float64)))
    return l


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ALL_ELEMENTWISE)
@HYPOTHESIS
@given(data=st.data())
def test_elementwise_hypothesis(name, dtype, data):
    x, y, w, reduction = data.draw(elementwise_inputs(name, dtype))
    kwargs: Dict[str, Any] = {"reduction": reduction}
    if w is not None:
        kwargs["weight"] = w
    value, grad = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
    with numpy_backend(), np.errstate(all="ignore"):
        ref_value, ref_grad = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
        elements = getattr(fastloss, name)(x, y, **{**kwargs, "reduction": "none"})
    assert_value_type(value, dtype, reduction, x.shape)
    assert_grad_type(grad, dtype, x.shape)
    terms = _term_magnitudes(name, x, y, w, elements)
    denominator = mean_denominator(name, x, kwargs, reduction)
    if reduction == "none":
        scale = float(terms.max(initial=0.0))
    else:
        scale = reduced_scale(terms, denominator)
    assert_close(value, ref_value, dtype, scale=scale, factor=4)
    grad_scale = None
    if name == "binary_cross_entropy_with_logits" and denominator:  # sigmoid(x) - y cancels
        grad_scale = float(1.0 if w is None else np.abs(w).max(initial=0.0)) / denominator
    assert_close(grad, ref_grad, dtype, scale=grad_scale, factor=4)


@st.composite
def ce_inputs(draw, dtype):
    n = draw(st.integers(0, 9))
    c = draw(st.integers(1, 12))
    x = draw(hnp.arrays(dtype, (n, c), elements=_floats(dtype, -30.0, 30.0)))
    if draw(st.booleans()):
        t = draw(hnp.arrays(np.int64, (n,), elements=st.sampled_from(list(range(c)) + [-100])))
    else:
        t = draw(hnp.arrays(dtype, (n, c), elements=_floats(dtype, 0.0, 1.0)))
    w = draw(hnp.arrays(dtype, (c,), elements=_weights(dtype, 3.0))) \
        if draw(st.booleans()) else None
    smoothing = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))
    reduction = draw(st.sampled_from(REDUCTIONS))
    return x, t, w, smoothing, reduction


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@HYPOTHESIS
@given(data=st.data())
def test_cross_entropy_hypothesis(dtype, data):
    x, t, w, smoothing, reduction = data.draw(ce_inputs(dtype))
    n, c = x.shape
    denominator = ce_denominator(t, w, -100, reduction, n)
    # a zero mean denominator with labels has its own tests (test_all_labels_ignored_*,
    # test_zero_total_class_weight_mean), where the backends are known to differ
    assume(not (t.ndim == 1 and reduction == "mean" and denominator == 0))
    args = (x, t, w, -100, reduction, smoothing)
    value, grad = fastloss.cross_entropy_value_and_grad(*args)
    with numpy_backend(), np.errstate(all="ignore"):
        ref_value, ref_grad = fastloss.cross_entropy_value_and_grad(*args)
    assert_value_type(value, dtype, reduction, (n,))
    assert_grad_type(grad, dtype, x.shape)
    # a row loss sums terms w_k t_k (lse - x_k): it cancels to within eps * |x| * sum_k w_k t_k
    w_max = 1.0 if w is None else max(float(w.max()), 1e-30)
    row_weight = w_max * (float(t.sum(axis=1).max(initial=0.0)) + 1.0 if t.ndim == 2 else 1.0)
    row_scale = (float(np.abs(x).max(initial=0.0)) + 1.0) * row_weight
    per_row = 1.0 / denominator if denominator else 0.0
    if reduction == "none":
        scale = row_scale
    else:
        scale = row_scale * n * per_row if denominator else None
    assert_close(value, ref_value, dtype, scale=scale, factor=4)
    grad_scale = row_weight * (per_row if reduction == "mean" else 1.0) or None
    assert_close(grad, ref_grad, dtype, scale=grad_scale, factor=4)


# ---- edge cases --------------------------------------------------------------------------

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
    y[4] = 0.5  # a target that enters the loss (kl_div's y = 0 would not)
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


def _noncontiguous_cases(name, rng, dtype):
    xb, yb = elementwise_data(name, (12, 10), dtype, rng)
    yield "step", xb[::2, ::3], yb[1::2, ::3]
    yield "transposed", xb.T, yb.T
    yield "fortran", np.asfortranarray(xb), yb.T.copy().T
    yield "reversed-1d", xb[::-1, 0], yb[:, 1]


@pytest.mark.parametrize("name", ALL_ELEMENTWISE)
def test_noncontiguous_elementwise(name, dtype, rng):
    for label, x, y in _noncontiguous_cases(name, rng, dtype):
        assert not x.flags.c_contiguous and not y.flags.c_contiguous, label
        w = np.asarray(rng.uniform(0.5, 2.0, x.shape[::-1]), dtype).T  # non-contiguous too
        kwargs = {} if name == "kl_div" else {"weight": w}
        for reduction in REDUCTIONS:
            got = getattr(fastloss, name + "_value_and_grad")(x, y, reduction=reduction, **kwargs)
            want = getattr(fastloss, name + "_value_and_grad")(
                np.ascontiguousarray(x), np.ascontiguousarray(y), reduction=reduction,
                **{k: np.ascontiguousarray(v) for k, v in kwargs.items()})
            assert_close(got[0], want[0], dtype)
            assert_close(got[1], want[1], dtype)
            assert got[1].shape == x.shape and got[1].flags.c_contiguous


def test_noncontiguous_rows(dtype, rng):
    base = np.asarray(rng.normal(size=(12, 10)), dtype)
    labels_base = rng.integers(0, 5, 48)
    w_base = np.asarray(rng.uniform(0.5, 2, 20), dtype)
    for x in (base[:5].T, np.asfortranarray(base[:, :5]), base[::2, ::2]):
        assert not x.flags.c_contiguous
        n, c = x.shape
        labels = labels_base[::3][:n]
        w = w_base[::2][:c]
        target_probs = np.asfortranarray(np.full((n, c), 1.0 / c, dtype))
        for target in (labels, target_probs):
            for reduction in REDUCTIONS:
                args = (x, target, w, -100, reduction, 0.1)
                got = fastloss.cross_entropy_value_and_grad(*args)
                want = fastloss.cross_entropy_value_and_grad(
                    np.ascontiguousarray(x), np.ascontiguousarray(target), w.copy(), -100,
                    reduction, 0.1)
                assert_close(got[0], want[0], dtype)
                assert_close(got[1], want[1], dtype)
        x_log = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        got = fastloss.nll_loss_value_and_grad(x_log, labels, w)
        want = fastloss.nll_loss_value_and_grad(np.ascontiguousarray(x_log), labels.copy(),
                                                w.copy())
        assert_close(got[0], want[0], dtype)
        assert_close(got[1], want[1], dtype)


def _readonly(*arrays):
    out = []
    for a in arrays:
        a = a.copy()
        a.flags.writeable = False
        out.append(a)
    return out


def test_readonly_inputs(dtype, rng):
    for name in ALL_ELEMENTWISE:
        x, y = elementwise_data(name, (3, 7), dtype, rng)
        w = np.asarray(rng.uniform(0.5, 2, 7), dtype)
        kwargs = {} if name == "kl_div" else {"weight": w}
        want = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
        rx, ry, rw = _readonly(x, y, w)
        kwargs = {} if name == "kl_div" else {"weight": rw}
        got = getattr(fastloss, name + "_value_and_grad")(rx, ry, **kwargs)
        assert_close(got[0], want[0], dtype)
        assert_close(got[1], want[1], dtype)
    x, labels, w, _ = ce_case((6, 4), "labels", True, "none", dtype, rng)
    want = fastloss.cross_entropy_value_and_grad(x, labels, w, label_smoothing=0.1)
    rx, rl, rw = _readonly(x, labels, w)
    got = fastloss.cross_entropy_value_and_grad(rx, rl, rw, label_smoothing=0.1)
    assert_close(got[0], want[0], dtype)
    assert_close(got[1], want[1], dtype)
    got = fastloss.nll_loss_value_and_grad(rx, rl, rw)
    want = fastloss.nll_loss_value_and_grad(x, labels, w)
    assert_close(got[0], want[0], dtype)
    assert_close(got[1], want[1], dtype)


def _all_grad_calls(dtype, rng):
    """(name, args, kwargs) covering every loss's grad-taking forms."""
    for name in ALL_ELEMENTWISE:
        x, y = elementwise_data(name, (5, 3), dtype, rng)
        yield name, (x, y), {"reduction": "sum"}
    x, labels, w, _ = ce_case((5, 3), "labels", True, "none", dtype, rng)
    yield "cross_entropy", (x, labels, w), {"label_smoothing": 0.1}
    yield "cross_entropy", (x, np.full((5, 3), 1 / 3, dtype)), {}
    yield "nll_loss", (x, labels, w), {}


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_out_is_filled_and_returned(backend, dtype, rng):
    with fastloss.use_backend(backend):
        for name, args, kwargs in _all_grad_calls(dtype, rng):
            expected_value, expected_grad = getattr(fastloss, name + "_value_and_grad")(
                *args, **kwargs)
            out = np.full(args[0].shape, 7.0, dtype)
            res = getattr(fastloss, name + "_grad")(*args, out=out, **kwargs)
            assert res is out, name
            assert_close(out, expected_grad, dtype)
            out = np.full(args[0].shape, 7.0, dtype)
            value, res = getattr(fastloss, name + "_value_and_grad")(*args, out=out, **kwargs)
            assert res is out, name
            assert_close(value, expected_value, dtype)
            assert_close(out, expected_grad, dtype)


def test_training_loop_reusing_out_allocates_nothing(rng):
    n = 100_000
    x = rng.normal(size=n)
    y = rng.normal(size=n)
    g = np.empty_like(x)
    logits = rng.normal(size=(n // 10, 10))
    labels = rng.integers(0, 10, n // 10)
    G = np.empty_like(logits)
    for _ in range(2):  # warm up
        fastloss.mse_loss_value_and_grad(x, y, out=g)
        fastloss.cross_entropy_value_and_grad(logits, labels, out=G)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        for _ in range(5):
            value, grad = fastloss.mse_loss_value_and_grad(x, y, out=g)
            assert grad is g
            grad = fastloss.binary_cross_entropy_with_logits_grad(x, y, out=g)
            value, grad = fastloss.cross_entropy_value_and_grad(logits, labels, out=G)
            assert grad is G
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < x.nbytes // 10, peak  # no array-sized allocation

    # and the check can fail: without out= every call allocates the gradient
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fastloss.mse_loss_value_and_grad(x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= x.nbytes


def test_python_lists_and_scalars():
    # mse of [1, 2] vs [1, 0] = (0 + 4) / 2 = 2; gradient 2 (x - y) / 2 = [0, 2]
    value, grad = fastloss.mse_loss_value_and_grad([1, 2], [1, 0])
    assert value == 2.0 and value.dtype == np.float64
    np.testing.assert_array_equal(grad, [0.0, 2.0])
    assert grad.dtype == np.float64
    # 0-d: (3 - 1)^2 = 4 (Python-scalar target + 0-d input: test_0d_input_with_scalars_to_convert)
    assert fastloss.mse_loss(3.0, np.array(1.0)) == 4.0
    assert fastloss.l1_loss([[1.0, -1.0]], [[0.0, 0.0]], reduction="sum") == 2.0
    # cross_entropy of uniform logits = log C, lists of lists and int labels
    assert fastloss.cross_entropy([[0.0, 0.0, 0.0, 0.0]], [2]) == pytest.approx(np.log(4))
    # a probability target given as nested lists of floats
    assert fastloss.cross_entropy([[0.0, 0.0]], [[0.5, 0.5]]) == pytest.approx(np.log(2))
    assert fastloss.nll_loss([[-1.0, -2.0]], [1]) == 2.0


def test_big_endian_inputs(dtype, rng):
    be = np.dtype(dtype).newbyteorder(">")
    for name in ALL_ELEMENTWISE:
        x, y = elementwise_data(name, (17,), dtype, rng)
        w = np.asarray(rng.uniform(0.5, 2, 17), dtype)
        kwargs = {} if name == "kl_div" else {"weight": w}
        want = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
        kwargs_be = {} if name == "kl_div" else {"weight": w.astype(be)}
        got = getattr(fastloss, name + "_value_and_grad")(x.astype(be), y.astype(be),
                                                          **kwargs_be)
        assert got[0].dtype == np.dtype(dtype) and got[1].dtype == np.dtype(dtype)
        assert_close(got[0], want[0], dtype)
        assert_close(got[1], want[1], dtype)
    x, labels, w, _ = ce_case((6, 4), "labels", True, "none", dtype, rng)
    for target in (labels, np.full((6, 4), 0.25, dtype)):
        for reduction in REDUCTIONS:
            want = fastloss.cross_entropy_value_and_grad(x, target, reduction=reduction)
            got = fastloss.cross_entropy_value_and_grad(
                x.astype(be), target.astype(target.dtype.newbyteorder(">")),
                reduction=reduction)
            assert got[0].dtype == np.dtype(dtype) and got[1].dtype == np.dtype(dtype)
            assert_close(got[0], want[0], dtype)
            assert_close(got[1], want[1], dtype)
    # class weights with a big-endian target and weights (native input)
    want = fastloss.cross_entropy_value_and_grad(x, labels, w)
    got = fastloss.cross_entropy_value_and_grad(x, labels.astype(">i8"), w.astype(be))
    assert_close(got[0], want[0], dtype)
    assert_close(got[1], want[1], dtype)
    got = fastloss.nll_loss(x, labels.astype(">i4"), w.astype(be))
    assert_close(got, fastloss.nll_loss(x, labels, w), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64],
    ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_big_endian_input_with_class_weights(name, dtype, rng):
    x, labels, w, _ = ce_case((6, 4), "labels", True, "none", np.dtype(dtype), rng)
    want_value, want_grad = getattr(fastloss, name + "_value_and_grad")(x, labels, w)
    value, grad = getattr(fastloss, name + "_value_and_grad")(x.astype(x.dtype.newbyteorder(">")),
                                                              labels, w)
    assert_close(value, want_value, dtype)
    assert_close(grad, want_grad, dtype)


@pytest.mark.parametrize("case", ["python-target", "float32-target", "python-weight",
                                  "python-pos_weight", "big-endian-input"])
def test_0d_input_with_scalars_to_convert(case):
    x, y = np.array(3.0), np.array(1.0)
    kwargs: Dict[str, Any] = {}
    name = "mse_loss"
    if case == "python-target":
        y = 1.0
    elif case == "float32-target":
        y = np.array(1.0, np.float32)
    elif case == "python-weight":
        kwargs["weight"] = 0.5
    elif case == "python-pos_weight":
        name = "binary_cross_entropy_with_logits"
        x, y = np.array(0.0), np.array(1.0)
        kwargs["pos_weight"] = 2.0
    else:
        x = x.astype(">f8")
    value, grad = getattr(fastloss, name + "_value_and_grad")(x, y, reduction="sum", **kwargs)
    # by hand: mse (3 - 1)^2 = 4, gradient 2 (3 - 1) = 4 (times w = 0.5 when weighted);
    # bce-logits at x = 0, y = 1, pos_weight 2: 2 log 2, gradient 2 * 1/2 - 2 = -1
    if name == "mse_loss":
        w = kwargs.get("weight", 1.0)
        assert value == 4.0 * w and grad.shape == () and grad == 4.0 * w
    else:
        assert value == pytest.approx(2 * np.log(2)) and grad == pytest.approx(-1.0)


def test_0d_input_with_0d_arrays_of_its_dtype():
    # sum: 0.5 (3 - 1)^2 = 2, gradient 0.5 * 2 (3 - 1) = 2; the weighted mean divides by
    # sum(w) = 0.5: 4 and 4
    value, grad = fastloss.mse_loss_value_and_grad(np.array(3.0), np.array(1.0),
                                                   weight=np.array(0.5), reduction="sum")
    assert value == 2.0 and grad.shape == () and grad == 2.0
    value, grad = fastloss.mse_loss_value_and_grad(np.array(3.0), np.array(1.0),
                                                   weight=np.array(0.5))
    assert value == 4.0 and grad.shape == () and grad == 4.0
    value = fastloss.binary_cross_entropy_with_logits(np.array(0.0), np.array(1.0),
                                                      pos_weight=np.array(2.0))
    assert value == pytest.approx(2 * np.log(2))


def test_target_and_weights_cast_to_input_dtype(rng):
    x32 = rng.normal(size=10).astype(np.float32)
    y64 = rng.normal(size=10)
    w64 = rng.uniform(0.5, 2, 10)
    value, grad = fastloss.mse_loss_value_and_grad(x32, y64, weight=w64)
    assert value.dtype == np.float32 and grad.dtype == np.float32
    want = fastloss.mse_loss_value_and_grad(x32, y64.astype(np.float32),
                                            weight=w64.astype(np.float32))
    assert_close(value, want[0], np.float32)
    assert_close(grad, want[1], np.float32)
    # an integer target is accepted and cast too
    assert fastloss.l1_loss(np.array([1.5, 2.5]), np.array([1, 2])) == 0.5


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
        kwargs = {} if name == "kl_div" else {"weight": np.asarray(
            rng.uniform(0.5, 2.0, N_THREADED), dtype)}
        yield name, (x, y), kwargs, True
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
            rows = getattr(fastloss, name)(*args, reduction="none", n_threads=nt, **kwargs)
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


# ---- backend switch ----------------------------------------------------------------------

@pytest.fixture
def restore_backend():
    before = fastloss.get_backend()
    yield
    fastloss.set_backend(before)


def test_default_backend_is_c():
    assert fastloss.get_backend() == "c"


def test_set_backend(restore_backend):
    fastloss.set_backend("numpy")
    assert fastloss.get_backend() == "numpy"
    fastloss.set_backend("c")
    assert fastloss.get_backend() == "c"
    with pytest.raises(ValueError, match="backend"):
        fastloss.set_backend("fortran")
    assert fastloss.get_backend() == "c"


def test_use_backend_restores(restore_backend):
    assert fastloss.get_backend() == "c"
    with fastloss.use_backend("numpy"):
        assert fastloss.get_backend() == "numpy"
        with fastloss.use_backend("c"):
            assert fastloss.get_backend() == "c"
        assert fastloss.get_backend() == "numpy"
    assert fastloss.get_backend() == "c"
    with pytest.raises(KeyError):
        with fastloss.use_backend("numpy"):
            assert fastloss.get_backend() == "numpy"
            raise KeyError("boom")
    assert fastloss.get_backend() == "c"
    fastloss.set_backend("numpy")
    with fastloss.use_backend("c"):
        assert fastloss.get_backend() == "c"
    assert fastloss.get_backend() == "numpy"


def test_use_backend_invalid_name():
    with pytest.raises(ValueError, match="backend"):
        with fastloss.use_backend("cuda"):
            pass  # pragma: no cover
    assert fastloss.get_backend() == "c"


def test_use_backend_does_not_leak_across_threads():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def worker():
        with fastloss.use_backend("numpy"):
            seen["worker"] = fastloss.get_backend()
            inside.set()
            release.wait(10)

    t = threading.Thread(target=worker)
    t.start()
    try:
        assert inside.wait(10)
        seen["main"] = fastloss.get_backend()
    finally:
        release.set()
        t.join(10)
    assert seen == {"worker": "numpy", "main": "c"}

    # and the other way round: a thread started inside use_backend sees the default
    with fastloss.use_backend("numpy"):
        t = threading.Thread(target=lambda: seen.__setitem__("child", fastloss.get_backend()))
        t.start()
        t.join(10)
    assert seen["child"] == "c"


def test_backend_really_switches_implementation(monkeypatch, restore_backend):
    """use_backend("numpy") calls fastloss.reference; "c" does not."""
    calls = []
    real = reference.mse_loss_value_and_grad

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(reference, "mse_loss_value_and_grad", spy)
    x = np.array([1.0, 2.0])
    fastloss.mse_loss_value_and_grad(x, x)
    assert calls == []
    with fastloss.use_backend("numpy"):
        fastloss.mse_loss_value_and_grad(x, x)
    assert calls == [1]
    fastloss.set_backend("numpy")
    fastloss.mse_loss_value_and_grad(x, x)
    assert calls == [1, 1]


# ---- bad input ---------------------------------------------------------------------------

def f64(*shape):
    return np.zeros(shape, np.float64)


def half(*shape):
    return np.full(shape, 0.5)


BAD_CALLS = [
    # mismatched shapes
    ("shape", "mse_loss", (f64(3), f64(4)), {}, ValueError, "target"),
    ("shape2d", "l1_loss", (f64(2, 3), f64(3, 2)), {}, ValueError, "target"),
    ("shape-kl", "kl_div", (f64(3), f64(3, 1)), {}, ValueError, "target"),
    ("shape-bce", "binary_cross_entropy", (half(3), half(2)), {}, ValueError, "target"),
    # input dtypes (integer and bool arrays are accepted: tests/test_losses_inputs.py)
    ("complex", "mse_loss", (np.zeros(3, complex), f64(3)), {}, TypeError, "input"),
    ("float16", "mse_loss", (np.zeros(3, np.float16), f64(3)), {}, TypeError, "input"),
    ("longdouble", "mse_loss", (np.zeros(3, np.longdouble), f64(3)), {}, TypeError, "input"),
    ("object", "mse_loss", (np.array([1.0, None]), f64(2)), {}, TypeError, "input"),
    ("object-list", "mse_loss", ([1.0, "a"], f64(2)), {}, TypeError, "input"),
    ("str", "mse_loss", (np.array(["a", "b"]), f64(2)), {}, TypeError, "input"),
    ("masked", "mse_loss", (np.ma.masked_array(f64(2)), f64(2)), {}, TypeError, "input"),
    ("complex-target", "mse_loss", (f64(3), np.zeros(3, complex)), {}, TypeError, "target"),
    ("ce-complex-input", "cross_entropy", (np.zeros((2, 3), complex), np.array([0, 1])), {},
     TypeError, "input"),
    ("nll-f16-input", "nll_loss", (np.zeros((2, 3), np.float16), np.array([0, 1])), {},
     TypeError, "input"),
    # labels
    ("label-high", "cross_entropy", (f64(2, 3), np.array([0, 3])), {}, ValueError, "target"),
    ("label-neg", "cross_entropy", (f64(2, 3), np.array([-1, 0])), {}, ValueError, "target"),
    ("label-custom-ignore", "cross_entropy", (f64(2, 3), np.array([-100, 0])),
     {"ignore_index": 5}, ValueError, "target"),
    ("nll-label-high", "nll_loss", (f64(2, 3), np.array([0, 7])), {}, ValueError, "target"),
    ("nll-label-neg", "nll_loss", (f64(2, 3), np.array([-2, 0])), {}, ValueError, "target"),
    ("label-shape", "cross_entropy", (f64(2, 3), np.array([0, 1, 2])), {}, ValueError,
     "target"),
    ("label-2d-int", "cross_entropy", (f64(2, 3), np.zeros((2, 3), np.int64)), {},
     ValueError, "target"),
    ("nll-label-shape", "nll_loss", (f64(2, 3), np.array([[0, 1]])), {}, ValueError,
     "target"),
    ("nll-float-labels", "nll_loss", (f64(2, 3), np.array([0.0, 1.0])), {}, TypeError,
     "target"),
    ("nll-bool-labels", "nll_loss", (f64(2, 3), np.array([True, False])), {}, TypeError,
     "target"),
    ("ce-complex-labels", "cross_entropy", (f64(2, 3), np.array([0j, 1j])), {}, TypeError,
     "target"),
    ("prob-shape", "cross_entropy", (f64(2, 3), np.full((2, 4), 0.25)), {}, ValueError,
     "target"),
    ("prob-shape-3d", "cross_entropy", (f64(2, 3), np.full((2, 3, 1), 0.25)), {}, ValueError,
     "target"),
    ("ignore-index-float", "cross_entropy", (f64(2, 3), np.array([0, 1])),
     {"ignore_index": 1.5}, TypeError, "ignore_index"),
    ("ignore-index-huge", "nll_loss", (f64(2, 3), np.array([0, 1])),
     {"ignore_index": 2**70}, ValueError, "ignore_index"),
    # BCE probabilities
    ("bce-above-1", "binary_cross_entropy", (np.array([0.5, 1.5]), half(2)), {}, ValueError,
     "input"),
    ("bce-below-0", "binary_cross_entropy", (np.array([-1e-9, 0.5]), half(2)), {},
     ValueError, "input"),
    ("bce-inf", "binary_cross_entropy", (np.array([0.5, np.inf]), half(2)), {}, ValueError,
     "input"),
    ("bce-f32-above-1", "binary_cross_entropy", (np.array([1.01], np.float32), half(1)), {},
     ValueError, "input"),
    # reductions
    ("reduction", "mse_loss", (f64(3), f64(3)), {"reduction": "avg"}, ValueError,
     "reduction"),
    ("reduction-none-obj", "l1_loss", (f64(3), f64(3)), {"reduction": None}, ValueError,
     "reduction"),
    ("reduction-batchmean", "mse_loss", (f64(3), f64(3)), {"reduction": "batchmean"},
     ValueError, "reduction"),
    ("reduction-kl", "kl_div", (f64(3), f64(3)), {"reduction": "Mean"}, ValueError,
     "reduction"),
    ("reduction-ce", "cross_entropy", (f64(2, 3), np.array([0, 1])),
     {"reduction": "batchmean"}, ValueError, "reduction"),
    ("reduction-nll", "nll_loss", (f64(2, 3), np.array([0, 1])), {"reduction": "max"},
     ValueError, "reduction"),
    ("reduction-bcel", "binary_cross_entropy_with_logits", (f64(3), f64(3)),
     {"reduction": ""}, ValueError, "reduction"),
    # weights
    ("weight-shape", "mse_loss", (f64(3), f64(3)), {"weight": f64(4)}, ValueError, "weight"),
    ("weight-shape-2d", "huber_loss", (f64(2, 3), f64(2, 3)), {"weight": f64(2)},
     ValueError, "weight"),
    ("weight-bigger", "l1_loss", (f64(3), f64(3)), {"weight": f64(2, 3)}, ValueError,
     "weight"),
    ("weight-complex", "smooth_l1_loss", (f64(3), f64(3)), {"weight": np.zeros(3, complex)},
     TypeError, "weight"),
    ("weight-bce", "binary_cross_entropy", (half(3), half(3)), {"weight": f64(2)},
     ValueError, "weight"),
    ("pos-weight-shape", "binary_cross_entropy_with_logits", (f64(4, 3), f64(4, 3)),
     {"pos_weight": f64(4)}, ValueError, "pos_weight"),
    ("pos-weight-str", "binary_cross_entropy_with_logits", (f64(3), f64(3)),
     {"pos_weight": np.array(["a", "b", "c"])}, TypeError, "pos_weight"),
    ("class-weight-shape", "cross_entropy", (f64(2, 3), np.array([0, 1])),
     {"weight": f64(2)}, ValueError, "weight"),
    ("class-weight-2d", "cross_entropy", (f64(2, 3), np.full((2, 3), 1 / 3)),
     {"weight": f64(1, 3)}, ValueError, "weight"),
    ("nll-class-weight-shape", "nll_loss", (f64(2, 3), np.array([0, 1])),
     {"weight": f64(4)}, ValueError, "weight"),
    # cross_entropy input shape
    ("ce-1d", "cross_entropy", (f64(3), np.array([0, 1, 2])), {}, ValueError, "input"),
    ("ce-3d", "cross_entropy", (f64(2, 3, 4), np.zeros((2, 4), np.int64)), {}, ValueError,
     "input"),
    ("ce-0d", "cross_entropy", (f64(), np.array(0)), {}, ValueError, "input"),
    ("ce-c0", "cross_entropy", (f64(2, 0), np.array([0, 0])), {}, ValueError, "input"),
    ("nll-1d", "nll_loss", (f64(3), np.array([0, 1, 2])), {}, ValueError, "input"),
    ("nll-c0", "nll_loss", (f64(2, 0), np.array([0, 0])), {}, ValueError, "input"),
    # parameters
    ("delta-neg", "huber_loss", (f64(3), f64(3)), {"delta": -1.0}, ValueError, "delta"),
    ("delta-zero", "huber_loss", (f64(3), f64(3)), {"delta": 0.0}, ValueError, "delta"),
    ("delta-nan", "huber_loss", (f64(3), f64(3)), {"delta": float("nan")}, ValueError,
     "delta"),
    ("delta-inf", "huber_loss", (f64(3), f64(3)), {"delta": float("inf")}, ValueError,
     "delta"),
    ("delta-none", "huber_loss", (f64(3), f64(3)), {"delta": None}, TypeError, "delta"),
    ("delta-str", "huber_loss", (f64(3), f64(3)), {"delta": "1"}, TypeError, "delta"),
    ("beta-str", "smooth_l1_loss", (f64(3), f64(3)), {"beta": "1"}, TypeError, "beta"),
    ("beta-neg", "smooth_l1_loss", (f64(3), f64(3)), {"beta": -0.5}, ValueError, "beta"),
    ("beta-none", "smooth_l1_loss", (f64(3), f64(3)), {"beta": None}, TypeError, "beta"),
    ("ls-above-1", "cross_entropy", (f64(2, 3), np.array([0, 1])),
     {"label_smoothing": 1.5}, ValueError, "label_smoothing"),
    ("ls-neg", "cross_entropy", (f64(2, 3), np.array([0, 1])),
     {"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    ("ls-nan", "cross_entropy", (f64(2, 3), np.full((2, 3), 1 / 3)),
     {"label_smoothing": float("nan")}, ValueError, "label_smoothing"),
    # n_threads
    ("threads-0", "mse_loss", (f64(3), f64(3)), {"n_threads": 0}, ValueError, "n_threads"),
    ("threads-neg", "kl_div", (f64(3), f64(3)), {"n_threads": -2}, ValueError, "n_threads"),
    ("threads-str", "mse_loss", (f64(3), f64(3)), {"n_threads": "2"}, TypeError, "n_threads"),
    ("threads-float", "l1_loss", (f64(3), f64(3)), {"n_threads": 2.0}, TypeError, "n_threads"),
    ("threads-bool", "huber_loss", (f64(3), f64(3)), {"n_threads": True}, TypeError,
     "n_threads"),
    ("threads-ce", "cross_entropy", (f64(2, 3), np.array([0, 1])), {"n_threads": 0},
     ValueError, "n_threads"),
    ("threads-ce-str", "cross_entropy", (f64(2, 3), np.array([0, 1])), {"n_threads": "1"},
     TypeError, "n_threads"),
]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("form", ["", "_grad", "_value_and_grad"])
@pytest.mark.parametrize("case, name, args, kwargs, error, match", BAD_CALLS,
                         ids=[c[0] for c in BAD_CALLS])
def test_bad_input_raises(case, name, args, kwargs, error, match, form, backend):
    with fastloss.use_backend(backend):
        with pytest.raises(error, match=match):
            getattr(fastloss, name + form)(*args, **kwargs)


def test_ignore_index_labels_are_allowed():
    x = np.zeros((3, 4))
    # -100 (the default) and a custom negative / out-of-range ignore_index pass validation
    assert fastloss.cross_entropy(x, np.array([-100, 1, 2])) == pytest.approx(np.log(4))
    assert fastloss.cross_entropy(x, np.array([-7, 1, -7]), ignore_index=-7) == \
        pytest.approx(np.log(4))
    assert fastloss.nll_loss(x - 1.0, np.array([9, 0, 9]), ignore_index=9) == 1.0
    with pytest.raises(ValueError, match="target"):  # -100 is a bad label once not ignored
        fastloss.cross_entropy(x, np.array([-100, 1, 2]), ignore_index=-7)


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_cross_entropy_float_labels_raise_type_error(backend):
    with fastloss.use_backend(backend):
        with pytest.raises(TypeError, match="target"):
            fastloss.cross_entropy(f64(3, 4), np.array([0.0, 1.0, 2.0]))


def test_uint64_label_that_wraps_to_ignore_index_is_rejected():
    labels = np.array([0, 2**64 - 100], dtype=np.uint64)
    with pytest.raises(ValueError, match="target"):
        fastloss.cross_entropy(f64(2, 4), labels)


def test_uint_labels_in_range_are_fine():
    labels = np.array([0, 3], dtype=np.uint8)
    assert fastloss.cross_entropy(f64(2, 4), labels) == pytest.approx(np.log(4))


BAD_OUT = [
    ("dtype", lambda x: np.zeros(x.shape, np.float32), TypeError, "out"),
    ("shape", lambda x: np.zeros(x.shape[::-1] + (1,)), ValueError, "out"),
    ("not-array", lambda x: np.zeros(x.shape).tolist(), TypeError, "out"),
    ("noncontiguous", lambda x: np.zeros((x.shape[0] * 2,) + x.shape[1:])[::2], ValueError,
     "out"),
    ("fortran", lambda x: np.asfortranarray(np.zeros(x.shape)), ValueError, "out"),
    ("readonly", lambda x: np.lib.stride_tricks.as_strided(np.zeros(x.shape), writeable=False),
     ValueError, "out"),
    ("subclass", lambda x: np.zeros(x.shape).view(np.recarray), TypeError, "out"),
]


def _bad_out_calls():
    x = np.random.default_rng(1).normal(size=(4, 3))
    y = np.abs(np.tanh(x))
    labels = np.array([0, 1, 2, 1])
    yield "mse_loss", (x, y), {}
    yield "binary_cross_entropy_with_logits", (x, y), {"pos_weight": np.ones(3)}
    yield "kl_div", (x, y), {}
    yield "cross_entropy", (x, labels), {}
    yield "cross_entropy", (x, np.full((4, 3), 1 / 3)), {}
    yield "nll_loss", (x, labels), {}


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("form", ["_grad", "_value_and_grad"])
@pytest.mark.parametrize("case, make, error, match", BAD_OUT, ids=[c[0] for c in BAD_OUT])
def test_bad_out(case, make, error, match, form, backend):
    with fastloss.use_backend(backend):
        for name, args, kwargs in _bad_out_calls():
            out = make(args[0])
            snapshot = np.array(out, copy=True)
            with pytest.raises(error, match=match):
                getattr(fastloss, name + form)(*args, out=out, **kwargs)
            np.testing.assert_array_equal(np.asarray(out), snapshot)


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("form", ["_grad", "_value_and_grad"])
def test_out_overlapping_an_input(form, backend):
    rng = np.random.default_rng(2)
    with fastloss.use_backend(backend):
        x = rng.normal(size=(4, 3))
        y = rng.normal(size=(4, 3))
        w = rng.uniform(size=(4, 3))
        for out_is, args, kwargs in [("input", (x, y), {}), ("target", (x, y), {}),
                                     ("weight", (x, y), {"weight": w})]:
            out = {"input": x, "target": y, "weight": w}[out_is]
            before = out.copy()
            with pytest.raises(ValueError, match="overlap"):
                getattr(fastloss, "mse_loss" + form)(*args, out=out, **kwargs)
            np.testing.assert_array_equal(out, before)
        # a view overlapping part of the input
        big = rng.normal(size=(8, 3))
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "l1_loss" + form)(big[:4], y, out=big[2:6])
        pw = rng.uniform(size=(4, 3))
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "binary_cross_entropy_with_logits" + form)(
                x, np.abs(np.tanh(y)), pos_weight=pw, out=pw)
        probs = np.full((4, 3), 1 / 3)
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "cross_entropy" + form)(x, probs, out=probs)
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "cross_entropy" + form)(x, np.array([0, 1, 2, 0]), out=x)
        buf = np.ones(12)  # class weights that are the first row of out
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "nll_loss" + form)(x, np.array([0, 1, 2, 0]), buf[:3],
                                                 out=buf.reshape(4, 3))
        with pytest.raises(ValueError, match="overlap"):
            getattr(fastloss, "cross_entropy" + form)(x, np.array([0, 1, 2, 0]), buf[:3],
                                                      out=buf.reshape(4, 3))


@pytest.mark.parametrize("form", ["_grad", "_value_and_grad"])
def test_nll_out_overlapping_labels_is_rejected(form):
    buf = np.zeros(8)
    labels = buf[:2].view(np.int64)
    labels[:] = [1, 2]
    x = np.random.default_rng(3).normal(size=(2, 4))
    with pytest.raises(ValueError, match="overlap"):
        getattr(fastloss, "nll_loss" + form)(x, labels, out=buf.reshape(2, 4))


def test_cross_entropy_out_overlapping_labels_is_rejected():
    buf = np.zeros(8)
    labels = buf[:2].view(np.int64)
    labels[:] = [1, 2]
    with pytest.raises(ValueError, match="overlap"):
        fastloss.cross_entropy_grad(np.zeros((2, 4)), labels, out=buf.reshape(2, 4))


FAILING_WITH_OUT = [
    ("mse_loss", (f64(3), f64(3)), {"reduction": "avg"}),
    ("mse_loss", (f64(3), f64(3)), {"n_threads": 0}),
    ("mse_loss", (f64(3), f64(3)), {"weight": f64(2)}),
    ("huber_loss", (f64(3), f64(3)), {"delta": -1.0}),
    ("binary_cross_entropy", (np.array([0.2, 2.0, 0.3]), f64(3)), {}),
    ("kl_div", (f64(3), f64(3)), {"reduction": "bad"}),
    ("cross_entropy", (f64(3, 1), np.array([0, 5, 0])), {}),
    ("cross_entropy", (f64(3, 1), np.array([0, 0, 0])), {"label_smoothing": 2.0}),
    ("cross_entropy", (f64(3, 1), np.array([0, 0, 0])), {"n_threads": "x"}),
    ("nll_loss", (f64(3, 1), np.array([0, 0, 0])), {"weight": f64(3)}),
]


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("form", ["_grad", "_value_and_grad"])
@pytest.mark.parametrize("name, args, kwargs", FAILING_WITH_OUT,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(FAILING_WITH_OUT)])
def test_failing_call_leaves_out_untouched(name, args, kwargs, form, backend):
    out = np.arange(args[0].size, dtype=np.float64).reshape(args[0].shape) + 0.25
    snapshot = out.tobytes()
    with fastloss.use_backend(backend):
        with pytest.raises((TypeError, ValueError)):
            getattr(fastloss, name + form)(*args, out=out, **kwargs)
    assert out.tobytes() == snapshot


# ---- backends agree on the kind of object returned --------------------------------------

@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_reduction_none_on_0d_input_returns_array(backend):
    with fastloss.use_backend(backend):
        value = fastloss.mse_loss(np.array(3.0), np.array(1.0), reduction="none")
    assert type(value) is np.ndarray and value.shape == () and value == 4.0


@pytest.mark.parametrize("name", ["mse_loss", "kl_div", "binary_cross_entropy_with_logits"])
def test_reduced_value_is_numpy_scalar_on_both_backends(name, dtype):
    x = np.array([-0.5, -1.5, -0.25], dtype)
    y = np.array([0.25, 0.5, 0.25], dtype)
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend):
            for reduction in ("mean", "sum"):
                v = getattr(fastloss, name)(x, y, reduction=reduction)
                assert type(v) is np.dtype(dtype).type, (backend, reduction)
            v = getattr(fastloss, name)(x, y, reduction="none")
            assert type(v) is np.ndarray and v.dtype == dtype


