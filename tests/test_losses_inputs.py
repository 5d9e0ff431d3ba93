"""What the losses accept: integer and bool arrays (cast to float64 like lists of ints),
non-contiguous, read-only and big-endian arrays, Python lists and scalars, 0-d inputs, targets
and weights of another dtype (cast to the input's), and ``out=`` (filled, returned, reused
without allocating). How they refuse the rest: ``tests/test_losses_bad_input.py``."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
import pytest

import fastloss
from _support import (
    ALL_ELEMENTWISE,
    WEIGHTED,
    BACKENDS,
    REDUCTIONS,
    assert_close,
    ce_case,
    elementwise_data,
    traced_peak,
)


# ---- integer and bool arrays are inputs like lists of ints ------------------------------

INT_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
              np.uint64, np.bool_]

# (loss, input values, target, extra kwargs); inputs are non-negative 0/1 so that every
# integer dtype, bool included, holds them, and valid for binary_cross_entropy
_X01 = [[0, 1, 1], [1, 0, 1]]
_T = np.array([[0.25, 0.5, 1.0], [0.0, 0.75, 0.5]])
INT_INPUT_CASES: List[Tuple[str, Any, Any, Dict[str, Any]]] = [
    ("mse_loss", _X01, _T, {}),
    ("l1_loss", _X01, _T, {"weight": np.array([1.0, 2.0, 0.5])}),
    ("huber_loss", _X01, _T, {"delta": 0.5}),
    ("smooth_l1_loss", _X01, _T, {"beta": 0.5}),
    ("binary_cross_entropy", _X01, _T, {}),
    ("binary_cross_entropy_with_logits", _X01, _T, {"pos_weight": np.array([1.0, 2.0, 3.0])}),
    ("kl_div", _X01, _T, {"reduction": "batchmean"}),
    ("cross_entropy", _X01, np.array([2, 0]), {}),
    ("cross_entropy", _X01, _T / _T.sum(axis=1, keepdims=True), {"label_smoothing": 0.1}),
    ("nll_loss", _X01, np.array([1, 2]), {"weight": np.array([1.0, 2.0, 0.5])}),
]


def _all_forms(name: str, x: Any, t: Any, kwargs: Dict[str, Any]) -> List[Any]:
    value = getattr(fastloss, name)(x, t, **kwargs)
    grad = getattr(fastloss, name + "_grad")(x, t, **kwargs)
    both = getattr(fastloss, name + "_value_and_grad")(x, t, **kwargs)
    return [value, grad, both[0], both[1]]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("int_dtype", INT_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name, x, target, kwargs", INT_INPUT_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(INT_INPUT_CASES)])
def test_integer_array_input_is_cast_to_float64_like_a_list(name: str, x: Any, target: Any,
                                                            kwargs: Dict[str, Any],
                                                            int_dtype: Any,
                                                            backend: str) -> None:
    with fastloss.use_backend(backend):
        expected = _all_forms(name, np.array(x, np.float64), target, kwargs)
        from_list = _all_forms(name, x, target, kwargs)
        from_array = _all_forms(name, np.array(x, int_dtype), target, kwargs)
    for e, a, b in zip(expected, from_list, from_array):
        assert np.asarray(a).dtype == np.asarray(b).dtype == np.float64
        np.testing.assert_array_equal(a, e)
        np.testing.assert_array_equal(b, e)


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_input_and_target_arrays_and_out(backend: str) -> None:
    x, t = np.array([3, -1, 2], np.int32), np.array([1, 1, 0], np.int64)
    with fastloss.use_backend(backend):
        # mse of [3, -1, 2] vs [1, 1, 0]: (4 + 4 + 4) / 3 = 4; gradient 2 (x - t) / 3
        out = np.empty(3)
        value, grad = fastloss.mse_loss_value_and_grad(x, t, out=out)
        assert value == 4.0 and value.dtype == np.float64 and grad is out
        np.testing.assert_allclose(grad, [4 / 3, -4 / 3, 4 / 3], rtol=1e-15)
        # the input is float64 now, so out= must be too
        with pytest.raises(TypeError, match=r"out must have dtype float64"):
            fastloss.mse_loss_grad(x, t, out=np.empty(3, np.float32))


@pytest.mark.parametrize("dtype", [np.complex128, np.float16, np.str_, object])
def test_other_dtypes_are_still_refused(dtype: Any) -> None:
    x = np.array([1, 0], dtype=dtype)
    with pytest.raises(TypeError, match="input must be"):
        fastloss.mse_loss(x, np.zeros(2))


# ---- layouts, read-only, byte order, lists and scalars, dtype casts, out= ----------------

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
        kwargs = {"weight": w} if WEIGHTED[name] else {}
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
        kwargs = {"weight": w} if WEIGHTED[name] else {}
        want = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
        rx, ry, rw = _readonly(x, y, w)
        kwargs = {"weight": rw} if WEIGHTED[name] else {}
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

    def loop() -> None:
        for _ in range(5):
            value, grad = fastloss.mse_loss_value_and_grad(x, y, out=g)
            assert grad is g
            grad = fastloss.binary_cross_entropy_with_logits_grad(x, y, out=g)
            value, grad = fastloss.cross_entropy_value_and_grad(logits, labels, out=G)
            assert grad is G

    peak = traced_peak(loop)
    assert peak < x.nbytes // 10, peak  # no array-sized allocation
    # and the check can fail: without out= every call allocates the gradient
    assert traced_peak(lambda: fastloss.mse_loss_value_and_grad(x, y)) >= x.nbytes


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
        kwargs = {"weight": w} if WEIGHTED[name] else {}
        want = getattr(fastloss, name + "_value_and_grad")(x, y, **kwargs)
        kwargs_be = {"weight": w.astype(be)} if WEIGHTED[name] else {}
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
