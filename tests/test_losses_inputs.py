"""What the losses accept and how they refuse: integer inputs, ``ignore_index`` with
probability targets, and the out-of-range errors of ``binary_cross_entropy`` and of labels
(message content, and no memory the size of the input spent on reporting)."""

from __future__ import annotations

import re
import tracemalloc
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest

import fastloss

BACKENDS = ["c", "numpy"]
FORMS = ["", "_grad", "_value_and_grad"]


def traced_peak(call: Callable[[], Any]) -> int:
    """Peak bytes NumPy and Python allocate during ``call()`` (NumPy reports its array
    buffers to tracemalloc); exceptions propagate after tracing stops."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


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
