"""The fused linear-model objective kernel (csrc/objective_impl.h) behind
linear_value_and_grad and linear_hessp: against the reference objective (value), the "numpy"
backend's composition of X @ W, the loss functions and X.T @ dz (gradient), and
reference.linear_hessp, over every loss, dtype, layout of X, weights, alpha and thread
count; edge shapes, NaN/inf, finite differences, bad input."""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss.linear import HESSP_LOSSES, LOSSES
from _support import assert_close, fresh_params, make_problem, numpy_backend

# n crosses several blocks and ends in a partial tile (blocks are whole tiles of 32/64 rows)
N_ROWS = 1100


def _layout(X: np.ndarray, layout: str) -> np.ndarray:
    """X in one memory layout: C, F, row-sliced (row stride 2d), column-sliced (copied by
    linear_value_and_grad), reversed rows (negative row stride)."""
    if layout == "C":
        return np.ascontiguousarray(X)
    if layout == "F":
        return np.asfortranarray(X)
    if layout == "rows_sliced":
        big = np.zeros((2 * X.shape[0], X.shape[1]), X.dtype)
        big[::2] = X
        return big[::2]
    if layout == "cols_sliced":
        big = np.zeros((X.shape[0], 2 * X.shape[1]), X.dtype)
        big[:, ::2] = X
        return big[:, ::2]
    assert layout == "reversed"
    return np.ascontiguousarray(X[::-1])[::-1]


LAYOUTS = ("C", "F", "rows_sliced", "cols_sliced", "reversed")


def _problem(loss: str, dtype: Any, n: int = N_ROWS, d: int = 7, seed: int = 3
             ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X, y, shape = make_problem(rng, loss, n, d, dtype)
    coef, b = fresh_params(rng, shape, dtype)
    sw = rng.uniform(0, 2, size=n).astype(dtype)
    return X, y, coef, b, sw


def _composed(X: np.ndarray, *args: Any, **kw: Any) -> Any:
    """The "numpy" backend's objective: X @ W, the reference losses, X.T @ dz."""
    with numpy_backend():
        return fastloss.linear_value_and_grad(X, *args, **kw)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("loss", LOSSES)
def test_kernel_matches_reference(loss: str, layout: str, weighted: bool, intercept: bool,
                                  dtype: Any) -> None:
    X, y, coef, b, sw = _problem(loss, dtype)
    Xl = _layout(X, layout)
    b_ = b if intercept else None
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.25 if weighted else 0.0, epsilon=0.7,
                              sample_weight=sw if weighted else None)
    value, g, gb = fastloss.linear_value_and_grad(Xl, y, coef, b_, **kw)
    assert value.dtype == dtype and g.dtype == dtype and g.shape == coef.shape
    expected = reference.linear_loss(X, y, coef, b_, **kw)
    assert_close(value, expected, dtype, factor=4)
    v_c, g_c, gb_c = _composed(X, y, coef, b_, **kw)
    # sums over 1100 rows: tolerance scaled by the rows (rounding grows with the count)
    assert_close(g, g_c, dtype, factor=8)
    if intercept:
        assert gb is not None and gb.shape == b.shape and gb.dtype == dtype
        assert_close(gb, gb_c, dtype, factor=8, floor=1.0)
    else:
        assert gb is None


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("layout", ("C", "F", "cols_sliced"))
@pytest.mark.parametrize("loss", HESSP_LOSSES)
def test_hessp_matches_reference(loss: str, layout: str, weighted: bool, dtype: Any) -> None:
    X, y, coef, b, sw = _problem(loss, dtype, seed=4)
    rng = np.random.default_rng(5)
    v, vb = rng.normal(size=coef.shape).astype(dtype), rng.normal(size=b.shape).astype(dtype)
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.5, sample_weight=sw if weighted else None)
    h, hb = fastloss.linear_hessp(_layout(X, layout), y, coef, b, v, vb, **kw)
    h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, v, vb, **kw)
    assert h.dtype == dtype and h.shape == coef.shape and hb is not None
    assert hb.shape == b.shape and hb.dtype == dtype
    assert_close(h, h_ref, dtype, factor=8)
    assert_close(hb, hb_ref, dtype, factor=8, floor=1.0)
    # without intercept: the Hessian wrt coef alone
    h0, hb0 = fastloss.linear_hessp(X, y, coef, None, v, None, **kw)
    h0_ref, _ = reference.linear_hessp(X, y, coef, None, v, None, **kw)
    assert hb0 is None
    assert_close(h0, h0_ref, dtype, factor=8)


# one output, C-ordered rows of 8..64 features: the pass reads rows in place (8-column chunks,
# a last partial chunk overlapping the one before); 65 is past that path, 7 before it
ROWWISE_D = (8, 13, 20, 64, 65)
SINGLE_OUTPUT = tuple(loss for loss in LOSSES if loss != "softmax")


@pytest.mark.parametrize("layout", ("C", "rows_sliced", "reversed"))
@pytest.mark.parametrize("d", ROWWISE_D)
@pytest.mark.parametrize("loss", SINGLE_OUTPUT)
def test_rowwise_pass_matches_reference(loss: str, d: int, layout: str, dtype: Any) -> None:
    X, y, coef, b, sw = _problem(loss, dtype, n=N_ROWS + 5, d=d, seed=20 + d)
    Xl = _layout(X, layout)
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.25, epsilon=0.7, sample_weight=sw)
    value, g, gb = fastloss.linear_value_and_grad(Xl, y, coef, b, **kw)
    assert_close(value, reference.linear_loss(X, y, coef, b, **kw), dtype, factor=4)
    _, g_c, gb_c = _composed(X, y, coef, b, **kw)
    assert_close(g, g_c, dtype, factor=8)
    assert_close(gb, gb_c, dtype, factor=8, floor=1.0)
    if loss in HESSP_LOSSES:
        rng = np.random.default_rng(d)
        v = rng.normal(size=coef.shape).astype(dtype)
        vb = rng.normal(size=b.shape).astype(dtype)
        hkw = dict(loss=loss, alpha=0.25, sample_weight=sw)
        h, hb = fastloss.linear_hessp(Xl, y, coef, b, v, vb, **hkw)
        h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, v, vb, **hkw)
        assert_close(h, h_ref, dtype, factor=8)
        assert_close(hb, hb_ref, dtype, factor=8, floor=1.0)


@pytest.mark.parametrize("column", [0, 5, 7, 8, 12])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_rowwise_pass_counts_each_column_once(column: int, bad: float) -> None:
    """d = 13: columns 5-7 sit in both the first chunk and the overlapping last one; a
    non-finite value there must reach z once (an inf times a masked-out 0 would be NaN), and
    only its own row's z."""
    X, y, coef, b, _ = _problem("squared_error", np.float64, n=40, d=13, seed=30)
    X[17, column] = bad
    coef[column] = 0.5
    got = fastloss.linear_value_and_grad(X, y, coef, b, loss="squared_error")
    with np.errstate(all="ignore"):
        want = _composed(X, y, coef, b, loss="squared_error")
    for a, e in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(e))
    finite = np.delete(np.arange(40), 17)
    ok = fastloss.linear_value_and_grad(X[finite], y[finite], coef, b, loss="squared_error")
    ref = reference.linear_loss(X[finite], y[finite], coef, b, loss="squared_error")
    assert_close(ok[0], ref, np.float64, factor=4)


def _numeric_jacobian_vector(grad: Callable[[np.ndarray, np.ndarray], Tuple[Any, Any]],
                             coef: np.ndarray, b: np.ndarray, v: np.ndarray, vb: np.ndarray,
                             h: float = 1e-5) -> Tuple[np.ndarray, np.ndarray]:
    """(g(p + h v) - g(p - h v)) / 2h: the Hessian times v by central differences."""
    up = grad(coef + h * v, b + h * vb)
    down = grad(coef - h * v, b - h * vb)
    return (up[0] - down[0]) / (2 * h), (up[1] - down[1]) / (2 * h)


@pytest.mark.parametrize("loss", HESSP_LOSSES)
def test_hessp_vs_finite_differences_of_the_gradient(loss: str) -> None:
    X, y, coef, b, sw = _problem(loss, np.float64, n=300, d=5, seed=6)
    rng = np.random.default_rng(7)
    v, vb = rng.normal(size=coef.shape), rng.normal(size=b.shape)
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.3, sample_weight=sw)

    def grad(c: np.ndarray, bb: np.ndarray) -> Tuple[Any, Any]:
        return fastloss.linear_value_and_grad(X, y, c, bb, **kw)[1:]

    h, hb = fastloss.linear_hessp(X, y, coef, b, v, vb, **kw)
    fd, fdb = _numeric_jacobian_vector(grad, coef, b, v, vb)
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(hb, fdb, rtol=1e-6, atol=1e-8)


# scikit-learn's half losses of our GLM losses, with tweedie's power
SKLEARN_GLM = [("poisson", "HalfPoissonLoss", None), ("gamma", "HalfGammaLoss", None),
               ("tweedie", "HalfTweedieLoss", 1.5), ("tweedie", "HalfTweedieLoss", 0.0),
               ("tweedie", "HalfTweedieLoss", -1.0)]


@pytest.mark.parametrize("power", [-1.5, 0.0, 1.0, 1.3, 2.0, 2.5, 3.0])
@pytest.mark.parametrize("weighted", [False, True])
def test_tweedie_hessp_every_power(power: float, weighted: bool, dtype: Any) -> None:
    """Powers 1 and 2 run poisson's and gamma's rule, the others tweedie's: each against the
    reference and, in float64, central differences of the gradient."""
    X, y, coef, b, sw = _problem("gamma", dtype, n=N_ROWS, d=6, seed=40)
    rng = np.random.default_rng(41)
    v, vb = rng.normal(size=coef.shape).astype(dtype), rng.normal(size=b.shape).astype(dtype)
    kw: Dict[str, Any] = dict(loss="tweedie", power=power, alpha=0.2,
                              sample_weight=sw if weighted else None)
    h, hb = fastloss.linear_hessp(X, y, coef, b, v, vb, **kw)
    h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, v, vb, **kw)
    assert_close(h, h_ref, dtype, factor=8)
    assert_close(hb, hb_ref, dtype, factor=8, floor=1.0)
    if dtype == np.float64:
        def grad(c: np.ndarray, bb: np.ndarray) -> Tuple[Any, Any]:
            return fastloss.linear_value_and_grad(X, y, c, bb, **kw)[1:]

        fd, fdb = _numeric_jacobian_vector(grad, coef, b, v, vb)
        np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(hb, fdb, rtol=1e-6, atol=1e-8)
    if power == 1.0:  # the same function as poisson
        hp = fastloss.linear_hessp(X, y, coef, b, v, vb, **{**kw, "loss": "poisson"})
        np.testing.assert_array_equal(h, hp[0])


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("loss, name, power", SKLEARN_GLM)
def test_glm_hessp_matches_sklearn(loss: str, name: str, power: Optional[float],
                                   intercept: bool) -> None:
    """scikit-learn's LinearModelLoss.gradient_hessian_product (private API) of the same
    half loss: the same gradient and Hessian-vector product (it divides by the weights' sum
    as we do; its l2_reg_strength is our alpha; coef laid out as r_[coef, intercept]);
    tweedie's powers <= 0 on targets of both signs."""
    pytest.importorskip("sklearn")
    sk_loss = pytest.importorskip("sklearn._loss.loss")
    sk_linear = pytest.importorskip("sklearn.linear_model._linear_loss")
    X, y, coef, b, sw = _problem(loss, np.float64, n=500, d=5, seed=42)
    if power is not None and power <= 0:
        y[::3] -= 2.0
    base = getattr(sk_loss, name)(power=power) if power is not None else getattr(sk_loss, name)()
    model = sk_linear.LinearModelLoss(base, fit_intercept=intercept)
    b_ = b if intercept else None
    rng = np.random.default_rng(43)
    v, vb = rng.normal(size=coef.shape), rng.normal(size=b.shape)
    vb_ = vb if intercept else None
    w_sk, v_sk = (np.r_[coef, b], np.r_[v, vb]) if intercept else (coef, v)
    grad_sk, hessp_sk = model.gradient_hessian_product(w_sk, X, y, sample_weight=sw,
                                                       l2_reg_strength=0.3)
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.3, sample_weight=sw)
    if power is not None:
        kw["power"] = power
    _, g, gb = fastloss.linear_value_and_grad(X, y, coef, b_, **kw)
    h, hb = fastloss.linear_hessp(X, y, coef, b_, v, vb_, **kw)
    ours_g = np.r_[g, gb] if intercept else g
    ours_h = np.r_[h, hb] if intercept else h
    np.testing.assert_allclose(ours_g, grad_sk, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours_h, hessp_sk(v_sk), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("loss, y_bad, match", [
    ("poisson", -1.0, r"y must be >= 0 for loss='poisson'"),
    ("gamma", 0.0, r"y must be > 0 for loss='gamma'"),
    ("tweedie", -1.0, r"y must be >= 0 for loss='tweedie' with power=1.5"),
])
def test_glm_hessp_checks_targets(loss: str, y_bad: float, match: str) -> None:
    X, y, coef, b = _single()
    y = np.ones(4)
    y[2] = y_bad
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend), pytest.raises(ValueError, match=match):
            fastloss.linear_hessp(X, y, coef, b, coef, b, loss=loss)
    with pytest.raises(ValueError, match="power"):
        fastloss.linear_hessp(X, np.ones(4), coef, b, coef, b, loss="tweedie", power=0.5)


@pytest.mark.parametrize("loss", LOSSES)
def test_gradient_vs_finite_differences_across_blocks(loss: str) -> None:
    """Many blocks, F-ordered X and weights: the gradient is that of the value."""
    X, y, coef, b, sw = _problem(loss, np.float64, n=N_ROWS, d=3, seed=8)
    X = np.asfortranarray(X)
    if loss in ("absolute", "huber"):  # keep residuals off the kinks
        y = y + 0.05 * np.sign(y - (X @ coef + b[0]))
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.1, epsilon=0.8, sample_weight=sw)
    _, g, gb = fastloss.linear_value_and_grad(X, y, coef, b, **kw)
    for p, gp in ((coef, g), (b, gb)):
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + 1e-6
            up = float(fastloss.linear_value_and_grad(X, y, coef, b, **kw)[0])
            p[idx] = old - 1e-6
            down = float(fastloss.linear_value_and_grad(X, y, coef, b, **kw)[0])
            p[idx] = old
            fd[idx] = (up - down) / 2e-6
        np.testing.assert_allclose(gp, fd, rtol=1e-5, atol=1e-7)


# ---- threads -------------------------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_threads_are_bitwise_reproducible_and_agree(loss: str, dtype: Any) -> None:
    # 2 threads need >= 2 x 2048 rows (FL_OBJ_MIN_ROWS_PER_THREAD)
    X, y, coef, b, sw = _problem(loss, dtype, n=9000, d=9, seed=9)
    kw: Dict[str, Any] = dict(loss=loss, alpha=0.1, sample_weight=sw)
    results = {}
    for nt in (1, 2):
        first = fastloss.linear_value_and_grad(X, y, coef, b, n_threads=nt, **kw)
        for _ in range(3):
            again = fastloss.linear_value_and_grad(X, y, coef, b, n_threads=nt, **kw)
            for a, e in zip(again, first):
                np.testing.assert_array_equal(a, e)
        results[nt] = first
    for a, e in zip(results[2], results[1]):
        assert_close(a, e, dtype, factor=8, floor=1.0)
    if loss in HESSP_LOSSES:
        v = np.ones_like(coef)
        h1 = fastloss.linear_hessp(X, y, coef, b, v, b, loss=loss, n_threads=1)
        h2 = fastloss.linear_hessp(X, y, coef, b, v, b, loss=loss, n_threads=2)
        for _ in range(2):
            for a, e in zip(fastloss.linear_hessp(X, y, coef, b, v, b, loss=loss, n_threads=2),
                            h2):
                np.testing.assert_array_equal(a, e)
        for a, e in zip(h2, h1):
            assert_close(a, e, dtype, factor=8, floor=1.0)


_needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork")
_needs_openmp = pytest.mark.skipif(not fastloss.config()["openmp"], reason="built without OpenMP")


def _objective_in_child(n_threads: Optional[int]) -> float:
    X = np.ones((8192, 4))
    return float(fastloss.linear_value_and_grad(X, np.zeros(8192), np.ones(4), np.zeros(1),
                                                n_threads=n_threads)[0])


@_needs_fork
@_needs_openmp
def test_fork_after_threaded_objective_finishes() -> None:
    import multiprocessing

    assert _objective_in_child(2) == 8.0  # threads started: 0.5 (4 x 1)^2
    with multiprocessing.get_context("fork").Pool(2) as pool:
        result = pool.map_async(_objective_in_child, [None, 2, 2])
        assert result.get(timeout=60) == [8.0] * 3


# ---- edge shapes and values ----------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_empty_batch_gives_nan_and_the_penalty(loss: str, dtype: Any) -> None:
    X, y, coef, b, _ = _problem(loss, dtype, n=0, d=3)
    value, g, gb = fastloss.linear_value_and_grad(X, y, coef, b, loss=loss, alpha=2.0)
    assert np.isnan(value)
    np.testing.assert_array_equal(g, dtype.type(2.0) * coef)
    np.testing.assert_array_equal(gb, np.zeros_like(b))
    if loss in HESSP_LOSSES:
        h, hb = fastloss.linear_hessp(X, y, coef, b, coef, b, loss=loss, alpha=2.0)
        np.testing.assert_array_equal(h, dtype.type(2.0) * coef)
        np.testing.assert_array_equal(hb, np.zeros_like(b))


@pytest.mark.parametrize("shape", [(1, 5), (37, 1), (70, 0), (3, 40)],
                         ids=["one_row", "d1", "d0", "wide"])
@pytest.mark.parametrize("loss", LOSSES)
def test_edge_shapes_match_the_composition(loss: str, shape: Tuple[int, int],
                                           dtype: Any) -> None:
    n, d = shape
    X, y, coef, b, sw = _problem(loss, dtype, n=n, d=d, seed=10)
    for layout in ("C", "F"):
        kw: Dict[str, Any] = dict(loss=loss, alpha=0.2, sample_weight=sw)
        got = fastloss.linear_value_and_grad(_layout(X, layout), y, coef, b, **kw)
        want = _composed(X, y, coef, b, **kw)
        for a, e in zip(got, want):
            assert_close(a, e, dtype, factor=4, floor=1.0)


def test_softmax_with_two_classes(dtype: Any) -> None:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(500, 6)).astype(dtype)
    y = rng.integers(0, 2, 500)
    coef, b = (0.3 * rng.normal(size=(6, 2))).astype(dtype), np.zeros(2, dtype)
    got = fastloss.linear_value_and_grad(X, y, coef, b, loss="softmax")
    want = _composed(X, y, coef, b, loss="softmax")
    for a, e in zip(got, want):
        assert_close(a, e, dtype, factor=4, floor=1.0)
    # softmax over 2 classes is the logistic loss of the logit difference
    diff = (coef[:, 1] - coef[:, 0]).copy()
    logistic = fastloss.linear_value_and_grad(X, y.astype(dtype), diff, b[1:] - b[:1],
                                              loss="logistic")
    assert_close(got[0], logistic[0], dtype, factor=4)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("loss", LOSSES)
def test_non_finite_x_propagates_like_the_composition(loss: str, bad: float,
                                                      dtype: Any) -> None:
    X, y, coef, b, _ = _problem(loss, dtype, n=200, d=4, seed=12)
    X[17, 2] = bad
    got = fastloss.linear_value_and_grad(X, y, coef, b, loss=loss)
    with np.errstate(all="ignore"):
        want = _composed(X, y, coef, b, loss=loss)
    assert np.isnan(got[0]) == np.isnan(want[0])
    for a, e in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
        np.testing.assert_array_equal(np.isinf(a), np.isinf(e))


def test_non_contiguous_parameters_are_read_correctly() -> None:
    X, y, coef, b, _ = _problem("softmax", np.float64, n=300, d=5, seed=13)
    wide = np.zeros((5, 2 * coef.shape[1]))
    wide[:, ::2] = coef
    got = fastloss.linear_value_and_grad(X, y, wide[:, ::2], b, loss="softmax")
    want = fastloss.linear_value_and_grad(X, y, coef, b, loss="softmax")
    for a, e in zip(got, want):
        np.testing.assert_array_equal(a, e)


# ---- bad input -----------------------------------------------------------------------------

def _single() -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return np.ones((4, 2)), np.zeros(4), np.ones(2), np.zeros(1)


@pytest.mark.parametrize("loss", sorted(set(LOSSES) - set(HESSP_LOSSES)))
def test_hessp_rejects_losses_without_second_derivative(loss: str) -> None:
    X, y, coef, b = _single()
    with pytest.raises(ValueError, match=f"linear_hessp.*loss={loss!r}"):
        fastloss.linear_hessp(X, y, coef, b, coef, b, loss=loss)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_threads=0), ValueError, "n_threads"),
    (dict(n_threads=1.5), TypeError, "n_threads"),
    (dict(alpha=-1.0), ValueError, "alpha"),
    (dict(loss="hinge"), ValueError, "loss"),
])
def test_bad_scalars_raise_naming_the_argument(kwargs: Dict[str, Any], error: type,
                                               match: str) -> None:
    X, y, coef, b = _single()
    kw = {"loss": "squared_error", **kwargs}
    with pytest.raises(error, match=match):
        fastloss.linear_value_and_grad(X, y, coef, b, **kw)
    with pytest.raises(error, match=match):
        fastloss.linear_hessp(X, y, coef, b, coef, b, **kw)


@pytest.mark.parametrize("kwargs, match", [
    (dict(loss="poisson"), r"y must be >= 0 for loss='poisson' .*, found -"),
    (dict(loss="gamma"), r"y must be > 0 for loss='gamma'"),
    (dict(loss="tweedie", power=1.2), r"y must be >= 0 for loss='tweedie' with power=1.2"),
    (dict(loss="tweedie", power=float("nan")), "power must be finite"),
    (dict(loss="pinball", quantile=-0.5), "quantile must be"),
])
def test_glm_targets_and_parameters_raise_naming_them(kwargs: Dict[str, Any],
                                                      match: str) -> None:
    X, y, coef, b = _single()
    y = y.copy()
    y[1] = -1.0
    with pytest.raises(ValueError, match=match):
        fastloss.linear_value_and_grad(X, y, coef, b, **kwargs)
    with numpy_backend(), pytest.raises(ValueError, match=match):
        fastloss.linear_value_and_grad(X, y, coef, b, **kwargs)


def test_hessp_bad_vectors_raise_naming_them() -> None:
    X, y, coef, b = _single()
    with pytest.raises(ValueError, match="vec_coef"):
        fastloss.linear_hessp(X, y, coef, b, np.ones(3), b, loss="squared_error")
    with pytest.raises(TypeError, match="vec_coef"):
        fastloss.linear_hessp(X, y, coef, b, coef.astype(np.float32), b, loss="squared_error")
    with pytest.raises(TypeError, match="vec_coef"):
        fastloss.linear_hessp(X, y, coef, b, [1.0, 1.0], b, loss="squared_error")
    with pytest.raises(ValueError, match="vec_intercept"):
        fastloss.linear_hessp(X, y, coef, b, coef, np.ones(2), loss="squared_error")
    with pytest.raises(ValueError, match="vec_intercept must be None"):
        fastloss.linear_hessp(X, y, coef, None, coef, b, loss="squared_error")
    with pytest.raises(TypeError, match="vec_intercept"):
        fastloss.linear_hessp(X, y, coef, b, coef, None, loss="squared_error")
    with pytest.raises(ValueError, match="class label"):
        fastloss.linear_hessp(X, np.array([0, 1, 2, 3]), np.ones((2, 3)), None,
                              np.ones((2, 3)), None, loss="softmax")


def test_hessp_numpy_backend_is_the_reference(dtype: Any) -> None:
    X, y, coef, b, sw = _problem("softmax", dtype, n=200, d=4, seed=14)
    with numpy_backend():
        h, hb = fastloss.linear_hessp(X, y, coef, b, coef, b, loss="softmax", sample_weight=sw)
    h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, coef, b, loss="softmax",
                                           sample_weight=sw)
    assert h.dtype == dtype and hb is not None and hb.dtype == dtype
    assert_close(h, h_ref, dtype)
    assert_close(hb, hb_ref, dtype)


@pytest.mark.parametrize("loss", LOSSES)
def test_objective_reads_targets_and_weights_of_other_dtypes(loss: str) -> None:
    """linear.objective (what the models call, unvalidated) converts what the kernel reads:
    float32 targets / weights and int32 labels next to float64 X give the float64 result
    (reading float32 memory as float64 once gave an infinite objective)."""
    from fastloss import linear

    X, y, coef, b, sw = _problem(loss, np.float64, n=300, d=4, seed=15)
    y_other = y.astype(np.int32) if loss == "softmax" else y.astype(np.float32)
    y_same = y_other.astype(np.int64 if loss == "softmax" else np.float64)
    got = linear.objective(X, y_other, coef, b, sw.astype(np.float32), loss, 0.1, 1.0)
    want = linear.objective(X, y_same, coef, b, sw.astype(np.float32).astype(np.float64),
                            loss, 0.1, 1.0)
    for a, e in zip(got, want):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("classes", [1, 4, 5, 6, 7, 10, 13])
def test_softmax_every_class_remainder(classes: int, dtype: Any) -> None:
    """The gradient tiles take outputs in fours, then a pair, then a single: every
    remainder of C mod 4, with d not a multiple of the tiles' 2, 4 or 8 features."""
    rng = np.random.default_rng(16)
    X = rng.normal(size=(700, 11)).astype(dtype)
    y = rng.integers(0, classes, 700)
    coef = (0.3 * rng.normal(size=(11, classes))).astype(dtype)
    b = (0.1 * rng.normal(size=classes)).astype(dtype)
    got = fastloss.linear_value_and_grad(X, y, coef, b, loss="softmax", alpha=0.1)
    want = _composed(X, y, coef, b, loss="softmax", alpha=0.1)
    for a, e in zip(got, want):
        assert_close(a, e, dtype, factor=8, floor=1.0)
    v = rng.normal(size=coef.shape).astype(dtype)
    h, hb = fastloss.linear_hessp(X, y, coef, b, v, b, loss="softmax")
    h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, v, b, loss="softmax")
    assert_close(h, h_ref, dtype, factor=8, floor=1.0)
    assert_close(hb, hb_ref, dtype, factor=8, floor=1.0)


@pytest.mark.parametrize("hessp", [False, True])
def test_kernel_checks_labels_it_reads(hessp: bool) -> None:
    """The binding trusts its caller (another thread may change y after the check); the
    kernel loads each label once, checks it, counts a bad row with weight 0 and reports it
    (linear_value_and_grad then raises ValueError): no read outside the class columns."""
    from fastloss import _linear

    rng = np.random.default_rng(17)
    X = rng.normal(size=(40, 3))
    coef, b = rng.normal(size=(3, 4)), np.zeros(4)
    for bad in (4, -1, 2**62):
        labels = rng.integers(0, 4, 40)
        labels[21] = bad
        out = np.full(3 * 4 + 4, np.nan)  # gradient (3, 4) and intercept (4,)
        total, where = _linear.objective(X, None, labels, coef, b, coef if hessp else None,
                                         b if hessp else None, None, "softmax", hessp, 1 / 40,
                                         0.0, 1.0, out[:12].reshape(3, 4), out[12:16], 1)
        if not hessp:  # hessp reads no label
            assert where == 21
            keep = np.arange(40) != 21
            v, g, gb = _composed(X[keep], labels[keep], coef, b, loss="softmax")
            assert total / 40 == pytest.approx(float(v) * 39 / 40, rel=1e-12)
            np.testing.assert_allclose(out[:12].reshape(3, 4), g * 39 / 40, rtol=1e-12)
    with pytest.raises(ValueError, match="class label"):
        fastloss.linear_value_and_grad(X, labels, coef, b, loss="softmax")


@pytest.mark.parametrize("power", [0.0, -2.0])
def test_tweedie_powers_up_to_zero_take_any_targets(power: float, dtype: Any) -> None:
    """Power <= 0: negative targets are in the domain (scikit-learn's HalfTweedieLoss);
    the objective and the Hessian product agree with the reference on both backends."""
    X, y, coef, b, sw = _problem("gamma", dtype, n=300, d=4, seed=44)
    y = (y - 1.5).astype(dtype)
    assert (y < 0).any()
    kw: Dict[str, Any] = dict(loss="tweedie", power=power, alpha=0.1, sample_weight=sw)
    v = np.ones_like(coef)
    want = reference.linear_loss(X, y, coef, b, **kw)
    h_ref, hb_ref = reference.linear_hessp(X, y, coef, b, v, b, **kw)
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend):
            value = fastloss.linear_value_and_grad(X, y, coef, b, **kw)[0]
            h, hb = fastloss.linear_hessp(X, y, coef, b, v, b, **kw)
        assert_close(value, want, dtype, factor=4)
        assert_close(h, h_ref, dtype, factor=8)
        assert_close(hb, hb_ref, dtype, factor=8, floor=1.0)
