"""How the losses refuse bad input, on both backends: the exception type and the argument
named (shapes, dtypes, labels, reductions, weights, parameters, n_threads), ``out=`` that is
unusable or overlaps an input (and stays untouched when a call fails), ``ignore_index`` with
probability targets, and the out-of-range errors of ``binary_cross_entropy`` and of labels
(message content, and no memory the size of the input spent on reporting)."""

from __future__ import annotations

import re
from typing import Any, List, Tuple

import numpy as np
import pytest

import fastloss
from _support import BACKENDS, FORMS, traced_peak


# ---- the exception, and the argument it names --------------------------------------------

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
    # targets of -1 and 1 (hinge losses)
    ("hinge-target-half", "hinge_loss", (f64(3), np.array([1.0, 0.5, -1.0])), {}, ValueError,
     r"target\[1\] = 0.5"),
    ("squared-hinge-target-0", "squared_hinge_loss", (f64(2, 2), np.array([[1.0, 0], [0, 1]])),
     {}, ValueError, r"2 elements are not, the first is target\[0, 1\]"),
    ("modified-huber-target-inf", "modified_huber_loss", (f64(2), np.array([np.inf, 1.0])), {},
     ValueError, "target"),
    # sample weights: as many dimensions as the input, broadcastable, finite, >= 0
    ("sw-shape", "mse_loss", (f64(3), f64(3)), {"sample_weight": f64(4)}, ValueError,
     "sample_weight"),
    ("sw-fewer-dims", "huber_loss", (f64(3, 3), f64(3, 3)), {"sample_weight": f64(3)},
     ValueError, "sample_weight"),
    ("sw-more-dims", "l1_loss", (f64(3), f64(3)), {"sample_weight": f64(1, 3)}, ValueError,
     "sample_weight"),
    ("sw-rows-mismatch", "kl_div", (f64(4, 2), f64(4, 2)), {"sample_weight": f64(3, 1)},
     ValueError, "sample_weight"),
    ("sw-negative", "mse_loss", (f64(3), f64(3)), {"sample_weight": np.array([1, -1, 1.0])},
     ValueError, r"sample_weight\[1\] = -1"),
    ("sw-nan", "binary_cross_entropy", (half(2, 2), half(2, 2)),
     {"sample_weight": np.array([[1.0], [np.nan]])}, ValueError, r"sample_weight\[1, 0\]"),
    ("sw-inf", "binary_cross_entropy_with_logits", (f64(3), f64(3)),
     {"sample_weight": np.array([np.inf, 1, 1])}, ValueError, "sample_weight"),
    ("sw-f32-overflow", "smooth_l1_loss", (np.zeros(2, np.float32), np.zeros(2, np.float32)),
     {"sample_weight": np.array([1.0, 1e39])}, ValueError, "sample_weight"),
    ("sw-complex", "mse_loss", (f64(3), f64(3)), {"sample_weight": np.zeros(3, complex)},
     TypeError, "sample_weight"),
    ("sw-str", "kl_div", (f64(2), f64(2)), {"sample_weight": np.array(["a", "b"])},
     TypeError, "sample_weight"),
    # cross_entropy input shape
    ("ce-1d", "cross_entropy", (f64(3), np.array([0, 1, 2])), {}, ValueError, "input"),
    ("ce-3d-target", "cross_entropy", (f64(2, 3, 4), np.zeros((2, 3), np.int64)), {},
     ValueError, "input"),
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
    ("mse_loss", (f64(3), f64(3)), {"sample_weight": np.array([1.0, np.nan, 1.0])}),
    ("huber_loss", (f64(3), f64(3)), {"sample_weight": np.array([0.5, -0.5, 1.0])}),
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


# ---- cross_entropy: ignore_index with probability targets --------------------------------

def _probability_case() -> Tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.normal(size=(4, 3)), rng.dirichlet(np.ones(3), 4)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("ignore_index", [0, 1, 2, 3, 10**12])
def test_ignore_index_with_probability_target_raises(ignore_index: int, form: str,
                                                     backend: str) -> None:
    x, probs = _probability_case()
    with fastloss.use_backend(backend):
        with pytest.raises(ValueError, match="^ignore_index is not supported for floating "
                                             "point target$"):
            getattr(fastloss, "cross_entropy" + form)(x, probs, ignore_index=ignore_index)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("ignore_index", [-100, -1, -(2**63)])
def test_negative_ignore_index_with_probability_target_is_fine(ignore_index: int,
                                                               backend: str) -> None:
    x, probs = _probability_case()
    with fastloss.use_backend(backend):
        value = fastloss.cross_entropy(x, probs, ignore_index=ignore_index)
        assert value == fastloss.cross_entropy(x, probs)


@pytest.mark.parametrize("ignore_index", [-100, -1, 0, 2, 7])
def test_ignore_index_with_probability_target_as_torch(ignore_index: int) -> None:
    torch = pytest.importorskip("torch")
    x, probs = _probability_case()
    try:
        expected = float(torch.nn.functional.cross_entropy(
            torch.from_numpy(x), torch.from_numpy(probs), ignore_index=ignore_index))
    except RuntimeError as exc:
        with pytest.raises(ValueError, match=re.escape(str(exc))):
            fastloss.cross_entropy(x, probs, ignore_index=ignore_index)
        assert ignore_index >= 0
    else:
        assert ignore_index < 0
        assert fastloss.cross_entropy(x, probs, ignore_index=ignore_index) == \
            pytest.approx(expected, rel=1e-12)


# ---- binary_cross_entropy: which elements are outside [0, 1] -----------------------------

def _bce_message(x: np.ndarray) -> str:
    outside = (x < 0) | (x > 1)  # NaN compares False: not counted
    count = int(outside.sum())
    first = tuple(int(i) for i in np.argwhere(outside)[0]) if x.ndim else ()
    where = ", ".join(map(str, first)) if first else "()"
    elements = f"{count} element{'s are' if count > 1 else ' is'}"
    return (f"input must hold probabilities in [0, 1]: {elements} outside, the first is "
            f"input[{where}] = {x[first]}")


def _bce_inputs(dtype: Any) -> List[np.ndarray]:
    rng = np.random.default_rng(6)
    cases = [np.array(1.5), np.array([0.5, np.nan, -0.25, 2.0, 0.0]),
             np.array([np.nan, np.inf, 0.5])]
    grid = rng.uniform(0, 1, (3, 4, 5))
    grid[0, 1, 2], grid[2, 3, 4], grid[1, 0, 0] = np.nan, -1e-3, 7.0
    cases.append(grid)
    late = np.full((37, 19), 0.5)  # the only offender last: past every vector block
    late[-1, -1] = -np.inf
    cases.append(late)
    cases.append(np.array([[1.0, 0.0], [1.0 + 1e-6, -1e-30]]))
    return [c.astype(dtype) for c in cases]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_out_of_range_message(dtype: Any, backend: str) -> None:
    for x in _bce_inputs(dtype):
        with fastloss.use_backend(backend):
            for form in FORMS:
                with pytest.raises(ValueError, match=f"^{re.escape(_bce_message(x))}$"):
                    getattr(fastloss, "binary_cross_entropy" + form)(x, np.zeros_like(x))


def test_bce_message_reports_the_first_offender_of_a_non_contiguous_input() -> None:
    # positions are those of the array as given (C order), not of an internal copy
    base = np.full((6, 4), 0.5)
    base[4, 2], base[1, 3] = 3.0, -2.0
    x = base.T  # in memory x[3, 1] = -2.0 comes first; in C order x[2, 4] = 3.0 does
    with pytest.raises(ValueError, match=re.escape("2 elements are outside, the first is "
                                                   "input[2, 4] = 3.0")):
        fastloss.binary_cross_entropy(x, np.zeros_like(x))


def test_bce_error_allocates_nothing_the_size_of_the_input() -> None:
    # a 1e7-element input (80 MB) with one offender, last; the check used to build three
    # boolean temporaries of 10 MB each to find it
    x = np.full(10**7, 0.5)
    x[-1] = 1.5
    target = np.zeros_like(x)

    def call() -> None:
        with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
            fastloss.binary_cross_entropy(x, target)

    assert traced_peak(call) < 100_000  # bytes; the input is 80 MB


def test_uint64_label_error_allocates_nothing_the_size_of_the_labels() -> None:
    n = 2**21
    logits = np.zeros((n, 2))
    labels = np.zeros(n, np.uint64)
    labels[n - 3] = 2**64 - 1  # beyond int64

    def call() -> None:
        with pytest.raises(ValueError, match=rf"target\[{n - 3}\] = {2**64 - 1} is not a "
                                             r"class index"):
            fastloss.cross_entropy(logits, labels)

    assert traced_peak(call) < labels.nbytes // 20  # 16 MB of labels


# ---- *_grad_hess: the same checks, and its out=(grad, hess) --------------------------------

HESSIAN_BAD_CALLS = [c for c in BAD_CALLS if hasattr(fastloss, c[1] + "_grad_hess")]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case, name, args, kwargs, error, match", HESSIAN_BAD_CALLS,
                         ids=[c[0] for c in HESSIAN_BAD_CALLS])
def test_bad_input_raises_in_grad_hess(case, name, args, kwargs, error, match, backend):
    with fastloss.use_backend(backend):
        with pytest.raises(error, match=match):
            getattr(fastloss, name + "_grad_hess")(*args, **kwargs)


BAD_OUT_PAIRS = [
    ("array", lambda: f64(3), TypeError, "tuple"),
    ("list", lambda: [f64(3), f64(3)], TypeError, "tuple"),
    ("triple", lambda: (f64(3), f64(3), f64(3)), TypeError, "tuple"),
    ("hess-dtype", lambda: (f64(3), np.zeros(3, np.float32)), TypeError, r"out\[1\]"),
    ("grad-shape", lambda: (f64(4), f64(3)), ValueError, r"out\[0\]"),
    ("hess-list", lambda: (f64(3), [0.0, 0.0, 0.0]), TypeError, r"out\[1\]"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case, make, error, match", BAD_OUT_PAIRS,
                         ids=[c[0] for c in BAD_OUT_PAIRS])
def test_bad_grad_hess_out(case, make, error, match, backend):
    with fastloss.use_backend(backend):
        with pytest.raises(error, match=match):
            fastloss.mse_loss_grad_hess(f64(3), f64(3), out=make())


@pytest.mark.parametrize("backend", BACKENDS)
def test_grad_hess_out_pair_must_not_overlap(backend):
    buf = np.zeros(6)
    x = np.ones(3)
    with fastloss.use_backend(backend):
        with pytest.raises(ValueError, match=r"out\[1\] must not overlap"):
            fastloss.huber_loss_grad_hess(x, x, out=(buf[:3], buf[:3]))
        with pytest.raises(ValueError, match=r"out\[0\] must not overlap"):
            fastloss.huber_loss_grad_hess(buf[:3], x, out=(buf[:3], np.zeros(3)))
        sw = np.ones(3)
        with pytest.raises(ValueError, match="overlap"):
            fastloss.mse_loss_grad_hess(x, x, sample_weight=sw, out=(sw, np.zeros(3)))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name, args, kwargs", FAILING_WITH_OUT[:6],
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(FAILING_WITH_OUT[:6])])
def test_failing_grad_hess_leaves_out_untouched(name, args, kwargs, backend):
    grad = np.arange(args[0].size, dtype=np.float64).reshape(args[0].shape) + 0.25
    hess = grad + 1.0
    snapshot = grad.tobytes() + hess.tobytes()
    with fastloss.use_backend(backend):
        with pytest.raises((TypeError, ValueError)):
            getattr(fastloss, name + "_grad_hess")(*args, out=(grad, hess), **kwargs)
    assert grad.tobytes() + hess.tobytes() == snapshot
