"""The public functions on the compiled ("c") backend against the NumPy reference.

The reference (``fastloss.reference``, also the "numpy" backend) is the specification;
``tests/test_reference.py`` checks it against finite differences and hand-derived values,
``tests/test_losses_peers.py`` against PyTorch and scikit-learn. Here every loss, form,
reduction, weighting, dtype and shape of the compiled backend is compared with it (random
values; hypothesis); the edge values (empty, NaN/inf, all-ignored labels, extreme logits) are
in ``tests/test_losses_edge_values.py``, the input forms in ``tests/test_losses_inputs.py``,
bad input in ``tests/test_losses_bad_input.py``, large threaded inputs in
``tests/test_losses_threads.py``.
"""

from __future__ import annotations

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
    ALL_ELEMENTWISE,
    REDUCTIONS,
    assert_close,
    assert_grad_type,
    assert_value_type,
    ce_case,
    elementwise_data,
    numpy_backend,
    reduced_scale,
)

SHAPES = [(), (0,), (1,), (7,), (17,), (1001,), (3, 5), (4, 17)]
HYPOTHESIS = settings(max_examples=40, deadline=None)


def forms(name: str) -> Tuple[Any, Any, Any]:
    return (getattr(fastloss, name), getattr(fastloss, name + "_grad"),
            getattr(fastloss, name + "_value_and_grad"))


def call_all_forms(name: str, *args: Any, **kwargs: Any) -> Dict[str, Any]:
    """Value, grad and value_and_grad of ``name`` on the active backend, and grad_hess
    (keys "gh_grad", "hess") where the loss has one."""
    f, f_grad, f_both = forms(name)
    both = f_both(*args, **kwargs)
    assert isinstance(both, tuple) and len(both) == 2
    got = {"value": f(*args, **kwargs), "grad": f_grad(*args, **kwargs),
           "both_value": both[0], "both_grad": both[1]}
    if LOSSES[name].hessian:
        pair = getattr(fastloss, name + "_grad_hess")(*args, **kwargs)
        assert isinstance(pair, tuple) and len(pair) == 2
        got["gh_grad"], got["hess"] = pair
    return got


# ---- elementwise losses ------------------------------------------------------------------

ELEMENTWISE = [row for row in LOSSES.values() if row.kind == "elementwise"]
ELEMENTWISE_VARIANTS = [(row.name, variant) for row in ELEMENTWISE for variant in row.variants]
# mean = sum(w l) / sum(w) for these; mean(w l) for the others (PyTorch's semantics)
MEAN_BY_WEIGHT_SUM = {row.name for row in ELEMENTWISE if row.weighted_mean == "weight_sum"}
# losses whose value is a function of x - y alone (no cancellation between other terms)
DIFFERENCE_LOSSES = {"mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"}


def weight_like(kind: str, shape: tuple, dtype: Any, rng: np.random.Generator,
                low: float = 0.1, high: float = 2.0) -> Any:
    if kind == "full":
        return np.asarray(rng.uniform(low, high, shape), dtype)
    if kind == "bcast":  # broadcast along the last axis (0-d stays 0-d)
        return np.asarray(rng.uniform(low, high, shape[-1:]), dtype)
    if kind == "rows":  # one weight per index of the first axis: (N, 1, ...)
        return np.asarray(rng.uniform(low, high, shape[:1] + (1,) * (len(shape) - 1)), dtype)
    raise AssertionError(kind)


def elementwise_case(name: str, spec: Dict[str, Any], shape: tuple, dtype: Any,
                     rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any]]:
    kwargs = dict(spec)
    x, y = elementwise_data(name, shape, dtype, rng, spec.get("log_target", False))
    if "weight" in kwargs:
        kwargs["weight"] = weight_like(kwargs["weight"], shape, dtype, rng)
    if "sample_weight" in kwargs:
        kwargs["sample_weight"] = weight_like(kwargs["sample_weight"], shape, dtype, rng)
    if "pos_weight" in kwargs:
        kwargs["pos_weight"] = weight_like(kwargs["pos_weight"], shape, dtype, rng, 0.5, 3.0)
    return x, y, kwargs


def mean_denominator(name: str, x: np.ndarray, kwargs: Dict[str, Any], reduction: str) -> float:
    if reduction == "sum" or reduction == "none":
        return 1.0
    sw = kwargs.get("sample_weight")
    sw = 1.0 if sw is None else np.broadcast_to(sw, x.shape).astype(np.float64)
    if reduction == "batchmean":
        batch = float(x.shape[0]) if x.ndim else 1.0
        return batch if np.isscalar(sw) else float(np.sum(sw)) * batch / max(x.size, 1)
    if name in MEAN_BY_WEIGHT_SUM and kwargs.get("weight") is not None:
        return float((np.broadcast_to(kwargs["weight"], x.shape) * sw).sum())
    return float(x.size) if np.isscalar(sw) else float(np.sum(sw))




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
    if "hess" in want:
        assert_grad_type(got["hess"], dtype, shape)
        assert_close(got["gh_grad"], want["grad"], dtype, floor=grad_floor)
        assert_close(got["hess"], want["hess"], dtype, floor=grad_floor)


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
    for key in ("weight", "pos_weight", "sample_weight"):  # the reference takes them broadcast
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


# the losses of (N, C) rows and labels that run a row_rules.h kernel (not cross_entropy's own)
LABELLED_ROWS = [row.name for row in LOSSES.values() if row.kind == "rows" and row.kernels]


def labelled_row_params():
    for name in LABELLED_ROWS:
        has_ignore = any(p.name == "ignore_index" for p in LOSSES[name].params)
        for weighted in (False, True):
            for ignore in ("none", "default", "custom") if has_ignore else ("none",):
                for reduction in REDUCTIONS:
                    yield pytest.param(name, weighted, ignore, reduction,
                                       id=f"{name}-w{int(weighted)}-ign_{ignore}-{reduction}")


@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
@pytest.mark.parametrize("name, weighted, ignore, reduction", list(labelled_row_params()))
def test_labelled_row_losses_match_reference(name, weighted, ignore, reduction, shape, dtype,
                                             rng):
    row = LOSSES[name]
    has_ignore = any(p.name == "ignore_index" for p in row.params)
    _, labels, w, ignore_index = ce_case(shape, "labels", weighted, ignore, dtype, rng)
    x, _ = row.data(rng, shape, dtype)
    kwargs = {"weight": w, "reduction": reduction}
    if has_ignore:
        kwargs["ignore_index"] = ignore_index
    got = call_all_forms(name, x, labels, **kwargs)
    with numpy_backend():
        want = call_all_forms(name, x, labels, **kwargs)
        rows = getattr(fastloss, name)(x, labels, **{**kwargs, "reduction": "none"})
    for key in ("value", "both_value"):
        assert_value_type(got[key], dtype, reduction, (shape[0],))
        denominator = (ce_denominator(labels, w, ignore_index, reduction, shape[0])
                       if row.weighted_mean == "weight_sum" or reduction != "mean"
                       else float(shape[0]))
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
    if LOSSES[name].target_values is not None:  # targets of two values (hinge losses)
        ys = st.sampled_from(LOSSES[name].target_values)
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
    # sigmoid(x) - y cancels, in both gradients: float32 rounds it to a few ulp of 1, not of
    # the difference (at x = 1e-5, y = 0.5 the focal loss's float32 reference is 0.7 % off
    # the exact gradient, the kernel 0.14 %), so the tolerance is of the terms' size
    if name in ("binary_cross_entropy_with_logits", "sigmoid_focal_loss") and denominator:
        grad_scale = float(1.0 if w is None else np.abs(w).max(initial=0.0)) / denominator
    assert_close(grad, ref_grad, dtype, scale=grad_scale, factor=4)


def test_focal_loss_gradient_where_sigmoid_cancels_the_target():
    """x = 1e-5, y = 0.5 (found by the hypothesis test in CI): the float32 gradient is a
    difference of terms near 1/2; the kernel's is within a few float32 ulp of 1 (its terms'
    size) of the exact value (float64), as its reference's is."""
    x, y = np.array(1e-5, np.float32), np.array(0.5, np.float32)
    exact = fastloss.sigmoid_focal_loss_grad(x.astype(np.float64), y.astype(np.float64))
    got = fastloss.sigmoid_focal_loss_grad(x, y)
    with numpy_backend():
        ref = fastloss.sigmoid_focal_loss_grad(x, y)
    eps = float(np.finfo(np.float32).eps)
    assert abs(float(got) - float(exact)) <= 4 * eps
    assert abs(float(ref) - float(exact)) <= 4 * eps


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


@pytest.mark.parametrize("power", [0.0, -1.0])
def test_tweedie_powers_up_to_zero_need_the_log_link(power: float) -> None:
    """Powers <= 0 are scikit-learn's HalfTweedieLoss on the log-mean (any target, negative
    ones too); the mean's own form (log_input=False) refuses them, naming power and
    log_input, rather than return NaN at negative means (scikit-learn's identity form
    takes those)."""
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    y = np.array([-3.0, 0.0, 1.5, 4.0])
    got = fastloss.tweedie_loss(x, y, power=power, reduction="none")
    mu = np.exp(x)
    want = mu ** (2 - power) / (2 - power) - y * mu ** (1 - power) / (1 - power)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    with pytest.raises(ValueError, match="power=.*log_input=True"):
        fastloss.tweedie_loss(mu, y, power=power, log_input=False)
    with pytest.raises(ValueError, match=r"power must be finite and in \(-inf, 0\] or"):
        fastloss.tweedie_loss(x, y, power=0.5)
