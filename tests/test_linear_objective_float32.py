"""The fused objective's float32 pass on float64 X (``linear.objective(..., float32=True)``,
csrc/objective_impl.h's ``x_float64``: each block rounded to float as it is gathered), the
first stage of the models' L-BFGS: it is the float32 objective of X rounded to float32, so it
equals the float32 kernel on ``X.astype(np.float32)`` wherever both take the transposed path
(bitwise), and the "numpy" backend's composition on that rounded copy (to float32's
tolerance), for every loss, layout, weights and thread count."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np
import pytest

from fastloss import _sparse, linear
from fastloss.linear import LOSSES
from _support import assert_close, fresh_params, make_problem, numpy_backend

# several blocks of 128 rows (float32) and a partial tile at the end
N_ROWS = 1100


def _problem(loss: str, d: int = 7, n: int = N_ROWS, seed: int = 11
             ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X, y, shape = make_problem(rng, loss, n, d, np.float64)
    coef, b = fresh_params(rng, shape, np.float32)
    return X, y, coef, b, rng.uniform(0, 2, size=n)


def _layout(X: np.ndarray, layout: str) -> np.ndarray:
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    big = np.zeros((2 * X.shape[0], X.shape[1]), X.dtype)
    big[::2] = X
    return big[::2]  # "rows_sliced": row stride 2 d


def _objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, b: Optional[np.ndarray],
               sw: Optional[np.ndarray], loss: str, n_threads: int = 1, **kw: Any) -> Any:
    param = linear.loss_param(loss, epsilon=0.7, power=1.5, quantile=0.3)
    return linear.objective(X, y, coef, b, sw, loss, 0.25, param, n_threads, **kw)


def _rounded(X: np.ndarray, y: np.ndarray, sw: Optional[np.ndarray], loss: str
             ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """X (in its own layout), float targets and weights rounded to float32."""
    y32 = y if loss == "softmax" else y.astype(np.float32)
    return (X.astype(np.float32, order="K"), y32,
            None if sw is None else sw.astype(np.float32))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ["C", "F", "rows_sliced"])
@pytest.mark.parametrize("loss", LOSSES)
def test_equals_the_float32_kernel_on_rounded_x(loss: str, layout: str, weighted: bool
                                                ) -> None:
    # d = 7: below the row-wise path's 8 features, so the float32 kernel gathers too
    X, y, coef, b, sw = _problem(loss)
    Xl = _layout(X, layout)
    w = sw if weighted else None
    value, g, gb = _objective(Xl, y, coef, b, w, loss, float32=True)
    assert value.dtype == np.float32 and g.dtype == np.float32 and gb.dtype == np.float32
    X32, y32, w32 = _rounded(Xl, y, w, loss)
    want = _objective(X32, y32, coef, b, w32, loss)
    assert value == want[0]
    np.testing.assert_array_equal(g, want[1])
    np.testing.assert_array_equal(gb, want[2])
    with numpy_backend():
        ref = _objective(Xl, y, coef, b, w, loss, float32=True)
    assert_close(value, ref[0], np.float32, factor=4)
    assert_close(g, ref[1], np.float32, factor=8)
    assert_close(gb, ref[2], np.float32, factor=8, floor=1.0)


@pytest.mark.parametrize("d", [8, 20, 64, 100])
@pytest.mark.parametrize("loss", ["logistic", "poisson", "softmax"])
def test_wide_rows_match_the_composition(loss: str, d: int) -> None:
    # one output and 8..64 features: the float32 kernel reads rows in place, this pass
    # still gathers (its rows are doubles); softmax gathers at every d
    X, y, coef, b, sw = _problem(loss, d=d, seed=d)
    value, g, gb = _objective(X, y, coef, b, sw, loss, float32=True)
    with numpy_backend():
        ref = _objective(X, y, coef, b, sw, loss, float32=True)
    assert_close(value, ref[0], np.float32, factor=4)
    assert_close(g, ref[1], np.float32, factor=8)
    assert_close(gb, ref[2], np.float32, factor=8, floor=1.0)


@pytest.mark.parametrize("loss", ["squared_error", "softmax"])
def test_threads_are_reproducible_and_agree(loss: str) -> None:
    X, y, coef, b, sw = _problem(loss, d=30, n=9000)
    one = _objective(X, y, coef, b, sw, loss, 1, float32=True)
    two = _objective(X, y, coef, b, sw, loss, 2, float32=True)
    again = _objective(X, y, coef, b, sw, loss, 2, float32=True)
    assert two[0] == again[0]
    np.testing.assert_array_equal(two[1], again[1])
    assert_close(two[0], one[0], np.float32, factor=4)
    assert_close(two[1], one[1], np.float32, factor=8)


@pytest.mark.parametrize("n", [0, 1, 9])
def test_few_rows(n: int) -> None:
    X, y, coef, b, _ = _problem("softmax", n=n)
    value, g, gb = _objective(X, y, coef, b, None, "softmax", float32=True)
    X32, y32, _w = _rounded(X, y, None, "softmax")
    want = _objective(X32, y32, coef, b, None, "softmax")
    np.testing.assert_array_equal(value, want[0])  # NaN (no rows) equals NaN here
    np.testing.assert_array_equal(g, want[1])
    np.testing.assert_array_equal(gb, want[2])


@pytest.mark.parametrize("bad", [np.nan, 1e39])  # 1e39 rounds to inf in float32
def test_values_that_do_not_round_to_finite_floats_propagate(bad: float) -> None:
    X, y, coef, b, _ = _problem("logistic")
    X[5, 3] = bad
    value, g, _gb = _objective(X, y, coef, b, None, "logistic", float32=True)
    with numpy_backend():
        ref = _objective(X, y, coef, b, None, "logistic", float32=True)
    assert not np.isfinite(value) and not np.isfinite(ref[0])
    assert not np.isfinite(g).all()


def test_needs_dense_float64_x() -> None:
    X, y, coef, b, _ = _problem("squared_error")
    with pytest.raises(ValueError, match="dense float64 X"):
        _objective(X.astype(np.float32), y, coef, b, None, "squared_error", float32=True)
    csr = _sparse.csr_rows(pytest.importorskip("scipy.sparse").csr_matrix(X))
    with pytest.raises(ValueError, match="dense float64 X"):
        _objective(csr, y, coef, b, None, "squared_error", float32=True)
