"""fastloss.optim.minimize_cg: convergence on problems with known minimizers, SciPy parity
on California-housing least squares, softmax regression on iris, and argument checking."""

from __future__ import annotations

from typing import Any, Callable, Iterator, List, Tuple

import numpy as np
import pytest

import fastloss
from _support import Counting, housing_csv, housing_least_squares, single_thread_blas
from fastloss.optim import CGResult, minimize_cg, minimize_lbfgs


@pytest.fixture(autouse=True, scope="module")
def _single_thread_blas() -> Iterator[None]:
    """The matrix-vector products here are small: BLAS threads only add overhead."""
    with single_thread_blas():
        yield


def _spd(rng: np.random.Generator, n: int, cond: float) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (q * np.geomspace(1.0, cond, n)) @ q.T


def _quadratic(a: np.ndarray, b: np.ndarray) -> Callable[[np.ndarray], Tuple[float, np.ndarray]]:
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        ax = a @ x
        return 0.5 * float(x @ ax) - float(b @ x), ax - b
    return fun


def _rosenbrock(x: np.ndarray) -> Tuple[float, np.ndarray]:
    a, b = x[:-1], x[1:]
    value = float(np.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2))
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * a * (b - a * a) - 2.0 * (1.0 - a)
    grad[1:] += 200.0 * (b - a * a)
    return value, grad


def _rosenbrock_2d(x: np.ndarray) -> Tuple[float, np.ndarray]:
    value, grad = _rosenbrock(x.ravel())
    return value, grad.reshape(x.shape)


@pytest.mark.parametrize("n", [2, 3, 5, 10, 20, 50])
@pytest.mark.parametrize("cond", [1.0, 10.0, 1e3])
def test_quadratic_exact_minimizer(n: int, cond: float) -> None:
    rng = np.random.default_rng(n)
    a = _spd(rng, n, cond)
    b = rng.normal(size=n)
    expected = np.linalg.solve(a, b)
    fun = Counting(_quadratic(a, b))
    res = minimize_cg(fun, np.zeros(n), gtol=1e-10)
    assert res.success and res.status == 0, res.message
    assert np.max(np.abs(res.jac)) <= 1e-10
    # the error is bounded by ||g|| / lambda_min (lambda_min = 1)
    np.testing.assert_allclose(res.x, expected, rtol=0, atol=1e-9)
    assert res.nfev == res.njev == len(fun.points)
    assert 1 <= res.nit <= res.nfev
    assert res.fun == pytest.approx(_quadratic(a, b)(expected)[0], rel=1e-12, abs=1e-12)


def test_any_shape_and_float32_x0() -> None:
    rng = np.random.default_rng(1)
    a = _spd(rng, 12, 10.0)
    b = rng.normal(size=12)
    flat = _quadratic(a, b)
    seen: List[Tuple[Tuple[int, ...], np.dtype]] = []

    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        seen.append((x.shape, x.dtype))
        value, grad = flat(x.ravel())
        return value, grad.reshape(3, 4)

    x0 = np.zeros((3, 4), dtype=np.float32)
    res = minimize_cg(fun, x0, gtol=1e-9)
    assert res.success
    assert res.x.shape == res.jac.shape == (3, 4)
    assert res.x.dtype == res.jac.dtype == np.float64
    assert set(seen) == {((3, 4), np.dtype(np.float64))}
    np.testing.assert_allclose(res.x.ravel(), np.linalg.solve(a, b), atol=1e-8)
    assert isinstance(res.fun, float)


def test_size_one_and_integer_x0() -> None:
    res = minimize_cg(lambda x: (float((x[0] - 3.0) ** 2), 2.0 * (x - 3.0)), [10])
    assert res.success
    assert res.x.shape == (1,)
    np.testing.assert_allclose(res.x, [3.0], atol=1e-6)


def test_jac_callable_counts_calls() -> None:
    rng = np.random.default_rng(2)
    a = _spd(rng, 8, 50.0)
    b = rng.normal(size=8)
    both = _quadratic(a, b)
    fun = Counting(lambda x: both(x)[0])
    jac = Counting(lambda x: both(x)[1])
    res = minimize_cg(fun, np.ones(8), jac=jac, gtol=1e-9)
    assert res.success
    assert res.nfev == len(fun.points) and res.njev == len(jac.points)
    # the gradient is only needed where the line search tests the slope
    assert res.njev <= res.nfev
    np.testing.assert_allclose(res.x, np.linalg.solve(a, b), atol=1e-8)


def test_args_are_passed() -> None:
    rng = np.random.default_rng(3)
    a = _spd(rng, 5, 10.0)
    b = rng.normal(size=5)

    def fun(x: np.ndarray, a_: np.ndarray, b_: np.ndarray) -> Tuple[float, np.ndarray]:
        return _quadratic(a_, b_)(x)

    res = minimize_cg(fun, np.zeros(5), (a, b), gtol=1e-9)
    np.testing.assert_allclose(res.x, np.linalg.solve(a, b), atol=1e-8)
    # a non-tuple argument is wrapped as a 1-tuple, as in SciPy
    res1 = minimize_cg(lambda x, s: (float(np.sum((x - s) ** 2)), 2 * (x - s)), np.zeros(3), 2.0)
    np.testing.assert_allclose(res1.x, 2.0, atol=1e-6)


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [-1.0] * 5, [0.0] * 10])
def test_rosenbrock(x0: List[float]) -> None:
    res = minimize_cg(_rosenbrock, np.array(x0), gtol=1e-8)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, 1.0, atol=1e-6)
    assert res.fun < 1e-12


@pytest.mark.parametrize("norm", [np.inf, 2.0, 1.0])
def test_stops_on_the_requested_norm(norm: float) -> None:
    res = minimize_cg(_rosenbrock, np.array([-1.2, 1.0, 0.5]), gtol=1e-6, norm=norm)
    assert res.success
    assert np.linalg.norm(res.jac, ord=norm) <= 1e-6
    # the norm is computed on the returned gradient (it is the one at the returned x)
    np.testing.assert_array_equal(res.jac, _rosenbrock(res.x)[1])


@pytest.mark.parametrize("minimize", [minimize_cg, minimize_lbfgs])  # the same line search
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_non_finite_values_in_the_line_search_backtrack(bad: float, minimize: Any) -> None:
    # minimum at 1.5, undefined beyond 2: the bracketing phase overshoots into it
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        if x[0] >= 2.0:
            return bad, np.full(1, bad)
        return float((x[0] - 1.5) ** 2), 2.0 * (x - 1.5)

    res = minimize(fun, np.array([-1000.0]), gtol=1e-8)
    assert res.success, res.message
    np.testing.assert_allclose(res.x, [1.5], atol=1e-8)


def test_non_finite_gradient_in_the_line_search_backtracks() -> None:
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        g = 2.0 * (x - 1.5)
        return float((x[0] - 1.5) ** 2), g if x[0] < 2.0 else np.full(1, np.nan)

    res = minimize_cg(fun, np.array([-1000.0]), gtol=1e-8)
    assert res.success
    np.testing.assert_allclose(res.x, [1.5], atol=1e-8)


def test_line_search_failure_is_reported_not_raised() -> None:
    # the gradient points the wrong way: no step decreases f, so the search must fail cleanly
    res = minimize_cg(lambda x: (float(x @ x), -2.0 * x), np.array([1.0, 2.0]))
    assert not res.success and res.status == 2
    np.testing.assert_array_equal(res.x, [1.0, 2.0])


def test_callback_every_iteration() -> None:
    seen: List[np.ndarray] = []
    x0 = np.array([[-1.2, 1.0]])
    res = minimize_cg(_rosenbrock_2d, x0, callback=seen.append)
    assert res.success
    assert len(seen) == res.nit
    assert all(xk.shape == (1, 2) for xk in seen)
    np.testing.assert_array_equal(seen[-1], res.x)
    # copies, not views of a buffer that changes
    assert len({xk.tobytes() for xk in seen}) == len(seen)


def test_callback_stop_iteration() -> None:
    def stop_at_three(xk: np.ndarray, calls: List[int] = []) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise StopIteration

    res = minimize_cg(_rosenbrock, np.array([-1.2, 1.0]), callback=stop_at_three)
    assert res.status == 99 and not res.success
    assert res.nit == 3


def test_maxiter() -> None:
    x0 = np.array([-1.2, 1.0])
    fun = Counting(_rosenbrock)
    res = minimize_cg(fun, x0, maxiter=0)
    assert res.status == 1 and not res.success and res.nit == 0
    assert res.nfev == 1 and len(fun.points) == 1
    np.testing.assert_array_equal(res.x, x0)
    np.testing.assert_array_equal(res.jac, _rosenbrock(x0)[1])
    res5 = minimize_cg(_rosenbrock, x0, maxiter=5)
    assert res5.status == 1 and res5.nit == 5 and res5.fun < res.fun
    # a start that already meets gtol is a success even with maxiter=0
    res_ok = minimize_cg(_rosenbrock, np.ones(2), maxiter=0)
    assert res_ok.success and res_ok.nit == 0


@pytest.mark.parametrize("n", [1, 2])
def test_default_maxiter_is_200_n(n: int) -> None:
    # -sum(log x) has its infimum at infinity; with a loose curvature condition (c2=0.9)
    # each step grows x by a bounded factor, so the run outlasts 200 n iterations
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        return -float(np.sum(np.log(x))), -1.0 / x

    res = minimize_cg(fun, np.arange(1.0, n + 1.0), gtol=1e-300, c2=0.9)
    assert res.status == 1 and res.nit == 200 * n
    assert res.message == "Maximum number of iterations has been exceeded."


def test_underflowing_slope_stops_cleanly() -> None:
    # gradients ~1e-155 make g.p underflow to 0: a clean precision-loss stop, no crash
    res = minimize_cg(lambda x: (-float(np.sum(np.log(x))), -1.0 / x), np.ones(1),
                      gtol=1e-300)
    assert res.status == 2 and res.nit > 0
    assert np.all(np.isfinite(res.x)) and res.x[0] > 1e100


def test_result_is_dict_like() -> None:
    res = minimize_cg(_rosenbrock, np.array([-1.2, 1.0]))
    assert isinstance(res, CGResult)
    assert set(res.keys()) == {"x", "fun", "jac", "nit", "nfev", "njev", "success", "status",
                               "message"}
    assert res["nit"] == res.nit and res["message"] == "Optimization terminated successfully."
    assert dict((k, res[k]) for k in res)["fun"] == res.fun
    with pytest.raises(KeyError):
        res["hess"]


def test_x0_is_not_modified() -> None:
    x0 = np.array([-1.2, 1.0])
    before = x0.tobytes()
    minimize_cg(_rosenbrock, x0)
    assert x0.tobytes() == before


def _good(x: np.ndarray) -> Tuple[float, np.ndarray]:
    return float(x @ x), 2.0 * x


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"x0": np.array([1.0, np.nan])}, ValueError, "x0 must be finite"),
    ({"x0": np.array([np.inf])}, ValueError, "x0 must be finite"),
    ({"x0": np.array([], dtype=float)}, ValueError, "at least one element"),
    ({"x0": np.array(["a"])}, TypeError, "x0 must be an array of real numbers"),
    ({"x0": np.array([1 + 2j])}, TypeError, "x0 must be an array of real numbers"),
    ({"x0": np.array([True])}, TypeError, "x0 must be an array of real numbers"),
    ({"gtol": 0.0}, ValueError, r"gtol must be finite and in \(0, inf\)"),
    ({"gtol": -1e-5}, ValueError, r"gtol must be finite and in \(0, inf\)"),
    ({"gtol": float("nan")}, ValueError, r"gtol must be finite and in \(0, inf\)"),
    ({"gtol": "1e-5"}, TypeError, "gtol must be a real number"),
    ({"maxiter": -1}, ValueError, r"maxiter must be an int in \[0, inf\)"),
    ({"maxiter": 1.5}, TypeError, "maxiter must be an int"),
    ({"maxiter": True}, TypeError, "maxiter must be an int"),
    ({"c1": 0.5, "c2": 0.4}, ValueError, "0 < c1 < c2 < 1"),
    ({"c1": 0.0}, ValueError, "0 < c1 < c2 < 1"),
    ({"c2": 1.0}, ValueError, r"c2 must be finite and in \[0, 1\)"),
    ({"c1": 0.4, "c2": 0.4}, ValueError, "0 < c1 < c2 < 1"),
    ({"norm": 0}, ValueError, "norm must be > 0"),
    ({"norm": float("nan")}, ValueError, "norm must be > 0"),
    ({"norm": "fro"}, TypeError, "norm must be a real number"),
    ({"jac": False}, TypeError, "jac must be True"),
    ({"jac": None}, TypeError, "jac must be True"),
    ({"callback": 3}, TypeError, "callback must be callable"),
    ({"fun": "f"}, TypeError, "fun must be callable"),
    ({"fun": lambda x: (np.inf, 2 * x)}, ValueError, "fun is not finite at x0"),
    ({"fun": lambda x: (np.nan, 2 * x)}, ValueError, "fun is not finite at x0"),
    ({"fun": lambda x: (1.0, np.full_like(x, np.nan))}, ValueError, "gradient is not finite"),
    ({"fun": lambda x: (1.0, np.zeros(5))}, ValueError, "gradient with 5 elements"),
    ({"fun": lambda x: float(x @ x)}, TypeError, r"pair \(value, gradient\)"),
    ({"fun": lambda x: (x, 2 * x)}, TypeError, "scalar value"),
    ({"fun": lambda x: ("a", 2 * x)}, TypeError, "real scalar value"),
    ({"fun": lambda x: float(x @ x), "jac": lambda x: "g"}, TypeError, "real gradient"),
    ({"fun": _good, "jac": lambda x: 2 * x}, TypeError, "jac callable, fun returns the value"),
    ({"fun": lambda x: float(x @ x), "jac": lambda x: np.ones(3)}, ValueError,
     "jac returned a gradient with 3 elements"),
])
def test_bad_input(kwargs: dict, exc: type, match: str) -> None:
    call = {"fun": _good, "x0": np.array([1.0, 2.0]), **kwargs}
    x0 = call.pop("x0")
    before = x0.tobytes()
    with pytest.raises(exc, match=match):
        minimize_cg(call.pop("fun"), x0, **call)
    assert x0.tobytes() == before


# --- California housing least squares, against scipy.optimize.minimize(method="CG") ------

@pytest.fixture(scope="module")
def housing() -> Tuple[np.ndarray, np.ndarray]:
    return housing_least_squares(housing_csv())


def _least_squares(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], Any]:
    n = len(y)

    def fun(w: np.ndarray) -> Tuple[float, np.ndarray]:
        r = x @ w - y
        return 0.5 * float(r @ r) / n, x.T @ r / n
    return fun


def test_housing_shape(housing: Tuple[np.ndarray, np.ndarray]) -> None:
    x, y = housing
    assert x.shape == (20433, 13) and y.shape == (20433,)
    np.testing.assert_allclose(x[:, :8].mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(x[:, :8].std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(x[:, 8:].sum(axis=1), 1.0)


@pytest.mark.parametrize("c2", [0.4, 0.1])
@pytest.mark.parametrize("gtol", [1e-5, 1e-6])
def test_housing_least_squares_vs_scipy(housing: Tuple[np.ndarray, np.ndarray], c2: float,
                                        gtol: float) -> None:
    optimize = pytest.importorskip("scipy.optimize")
    x, y = housing
    fun = _least_squares(x, y)
    w0 = np.zeros(x.shape[1])
    exact = np.linalg.lstsq(x, y, rcond=None)[0]
    res = minimize_cg(fun, w0, gtol=gtol, c2=c2)
    ref = optimize.minimize(fun, w0, jac=True, method="CG", options={"gtol": gtol, "c2": c2})
    assert res.success and ref.success
    assert np.max(np.abs(res.jac)) <= gtol
    assert res.nit <= ref.nit
    # For a quadratic, ||w - w*||_2 <= ||g(w)||_2 / lambda_min(X'X/n): both answers lie in
    # these balls around the exact minimizer, so they agree to the accuracy both reached.
    # (Which of the two lands closer is decided by rounding, e.g. the BLAS thread count.)
    lam_min = np.linalg.eigvalsh(x.T @ x / len(y))[0]
    bound = np.linalg.norm(res.jac) / lam_min
    ref_bound = np.linalg.norm(fun(ref.x)[1]) / lam_min
    assert np.linalg.norm(res.x - exact) <= bound * (1 + 1e-6)
    assert np.linalg.norm(res.x - ref.x) <= (bound + ref_bound) * (1 + 1e-6)
    # gtol bounds the error in the objective the same way: f - f* <= ||g||^2 / (2 lambda_min)
    f_exact = fun(exact)[0]
    assert res.fun - f_exact <= np.linalg.norm(res.jac) ** 2 / (2 * lam_min) + 1e-15


# --- softmax regression on iris with fastloss's cross-entropy ------------------------------

def _softmax_regression(x: np.ndarray, labels: np.ndarray, n_classes: int, l2: float
                        ) -> Callable[[np.ndarray], Tuple[float, np.ndarray]]:
    def fun(w: np.ndarray) -> Tuple[float, np.ndarray]:
        value, dlogits = fastloss.cross_entropy_value_and_grad(x @ w, labels)
        return float(value) + 0.5 * l2 * float(np.sum(w * w)), x.T @ dlogits + l2 * w
    return fun


@pytest.mark.parametrize("backend", ["c", "numpy"])
def test_iris_softmax_regression(backend: str) -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_iris(return_X_y=True)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    x = np.hstack([features, np.ones((len(labels), 1))])
    fun = _softmax_regression(x, labels, 3, l2=1e-3)
    with fastloss.use_backend(backend):
        res = minimize_cg(fun, np.zeros((5, 3)), gtol=1e-6)
    assert res.success, res.message
    assert res.x.shape == (5, 3)
    assert np.max(np.abs(res.jac)) <= 1e-6
    # the gradient at the answer, recomputed in plain NumPy: near zero
    z = x @ res.x
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1.0
    grad = x.T @ p / len(labels) + 1e-3 * res.x
    assert np.max(np.abs(grad)) <= 1e-6 * (1 + 1e-6)
    assert np.mean(np.argmax(z, axis=1) == labels) >= 0.95


def test_iris_matches_scipy() -> None:
    datasets = pytest.importorskip("sklearn.datasets")
    optimize = pytest.importorskip("scipy.optimize")
    features, labels = datasets.load_iris(return_X_y=True)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    x = np.hstack([features, np.ones((len(labels), 1))])
    fun = _softmax_regression(x, labels, 3, l2=1e-2)
    flat = lambda w: (lambda v, g: (v, g.ravel()))(*fun(w.reshape(5, 3)))  # noqa: E731
    res = minimize_cg(fun, np.zeros((5, 3)), gtol=1e-8)
    ref = optimize.minimize(flat, np.zeros(15), jac=True, method="CG", options={"gtol": 1e-8})
    assert res.success
    # strongly convex (l2 = 1e-2): the minimizer is unique; ||x - x*|| <= ||g|| / l2
    np.testing.assert_allclose(res.x.ravel(), ref.x, atol=2e-6)


# --- the line search itself ------------------------------------------------------------

def _line_search_problems() -> List[Tuple[str, Callable[[np.ndarray], Any], np.ndarray]]:
    rng = np.random.default_rng(7)
    a = _spd(rng, 6, 1e4)
    return [
        ("quadratic", _quadratic(a, rng.normal(size=6)), rng.normal(size=6)),
        ("rosenbrock", _rosenbrock, np.array([-1.2, 1.0, 0.3, -0.5])),
        ("logsumexp", _logsumexp_ridge, rng.normal(size=5) * 3),
    ]


def _logsumexp_ridge(x: np.ndarray) -> Tuple[float, np.ndarray]:
    e = np.exp(x - x.max())
    return float(x.max() + np.log(e.sum())) + 0.5 * float(x @ x), e / e.sum() + x


@pytest.mark.parametrize("c1, c2", [(1e-4, 0.4), (1e-4, 0.1), (0.3, 0.35), (1e-4, 0.9)])
@pytest.mark.parametrize("alpha1", [1e-6, 1.0, 1e4])
@pytest.mark.parametrize("jac_callable", [False, True])
def test_line_search_strong_wolfe(c1: float, c2: float, alpha1: float,
                                  jac_callable: bool) -> None:
    from fastloss.optim import _line_search, _minimize

    for name, fun, x in _line_search_problems():
        jac: Any = True
        f_only: Callable[..., Any] = fun
        if jac_callable:
            f_only, jac = (lambda x, fun=fun: fun(x)[0]), (lambda x, fun=fun: fun(x)[1])
        obj = _minimize.Objective(f_only, jac, (), x.shape)
        f0, g0 = fun(x)
        rng = np.random.default_rng(len(name))
        for p in (-g0, -g0 + 0.5 * np.linalg.norm(g0) * rng.normal(size=x.size)):
            slope = float(g0 @ p)
            if slope >= 0:
                continue
            pt = _line_search.line_search(obj, x, p, f0, slope, alpha1, c1, c2)
            assert pt is not None, (name, alpha1)
            f, g = fun(x + pt.a * p)
            assert f <= f0 + c1 * pt.a * slope + _line_search.F_ROUNDING * abs(f0), name
            assert abs(float(g @ p)) <= c2 * abs(slope), name
            np.testing.assert_array_equal(pt.x, x + pt.a * p)
            assert pt.f == f and pt.g is not None
            np.testing.assert_array_equal(pt.g, g)


# --- fun and jac get a private copy of the trial point ---------------------------------

def _scribbling(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun``, then overwrites its argument (a caller must not hand out its own iterate)."""
    def wrapped(x: np.ndarray, *args: Any) -> Any:
        out = fun(x, *args)
        x[...] = -7.0
        return out
    return wrapped


def test_fun_that_modifies_its_argument_does_not_change_the_run() -> None:
    x0 = np.array([-1.2, 1.0, 0.3])
    clean = minimize_cg(_rosenbrock, x0, gtol=1e-8)
    dirty = minimize_cg(_scribbling(_rosenbrock), x0, gtol=1e-8)
    assert clean.success and dirty.success
    assert (dirty.nit, dirty.nfev) == (clean.nit, clean.nfev)
    np.testing.assert_array_equal(dirty.x, clean.x)
    np.testing.assert_array_equal(dirty.jac, clean.jac)


def test_jac_that_modifies_its_argument_does_not_change_the_run() -> None:
    def value(x: np.ndarray) -> float:
        return _rosenbrock(x)[0]

    def grad(x: np.ndarray) -> np.ndarray:
        return _rosenbrock(x)[1]

    x0 = np.array([-1.2, 1.0, 0.3])
    clean = minimize_cg(value, x0, jac=grad, gtol=1e-8)
    for fun, jac in [(value, _scribbling(grad)), (_scribbling(value), _scribbling(grad))]:
        dirty = minimize_cg(fun, x0, jac=jac, gtol=1e-8)
        assert dirty.success
        assert (dirty.nit, dirty.nfev, dirty.njev) == (clean.nit, clean.nfev, clean.njev)
        np.testing.assert_array_equal(dirty.x, clean.x)


# --- invariance to the scale of the objective ------------------------------------------

def _scaled(fun: Callable[..., Any], scale: float) -> Callable[..., Any]:
    def scaled(x: np.ndarray) -> Tuple[float, np.ndarray]:
        value, grad = fun(x)
        return scale * value, scale * grad
    return scaled


def _scale_problems() -> List[Tuple[str, Callable[..., Any], np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    a = _spd(rng, 10, 100.0)
    b = rng.normal(size=10)
    return [("quadratic", _quadratic(a, b), np.zeros(10), np.linalg.solve(a, b)),
            ("rosenbrock", _rosenbrock, np.array([-1.2, 1.0]), np.ones(2))]


@pytest.mark.parametrize("exponent", [-166, -100, -80, -50, -1, 1, 50, 100, 166])
def test_power_of_two_scaled_objective_gives_the_same_run(exponent: int) -> None:
    # f -> 2^k f scales every quantity of the method by a power of two, exactly: the run
    # (each trial step, each iterate) must be the unscaled one, bit for bit, k = -166
    # (~1e-50) to 166 (~1e50). With a first step of min(1, 1/||g||) small scales failed.
    scale = 2.0 ** exponent
    for name, fun, x0, _ in _scale_problems():
        ref = minimize_cg(fun, x0, gtol=1e-6)
        res = minimize_cg(_scaled(fun, scale), x0, gtol=1e-6 * scale)
        assert ref.success and res.success, (name, res.message)
        assert (res.nit, res.nfev) == (ref.nit, ref.nfev), name
        np.testing.assert_array_equal(res.x, ref.x)
        np.testing.assert_array_equal(res.jac, scale * ref.jac)


@pytest.mark.parametrize("exponent", [-50, -40, -30, -24, -20, -10, 0, 10, 20, 30, 40, 50])
def test_objective_scaled_by_a_power_of_ten_reaches_the_minimizer(exponent: int) -> None:
    scale = 10.0 ** exponent
    for name, fun, x0, minimizer in _scale_problems():
        res = minimize_cg(_scaled(fun, scale), x0, gtol=1e-7 * scale)
        assert res.success, (name, res.message)
        # ||x - x*|| <= ||g|| / (scale lambda_min) near the minimizer (lambda_min of the
        # unscaled Hessian: 1 for the quadratic, ~0.4 for Rosenbrock at (1, 1)): ~4e-7 here
        np.testing.assert_allclose(res.x, minimizer, rtol=0, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("exponent", [0, 10, 30, 50])
def test_scaled_objective_matches_scipy(exponent: int) -> None:
    # SciPy 1.17's CG reaches these minimizers only for scales >= 1: from min(1, 1.01/||g||)
    # its first step on a tiny gradient is too short (it stops with precision loss)
    optimize = pytest.importorskip("scipy.optimize")
    scale = 10.0 ** exponent
    for name, fun, x0, minimizer in _scale_problems():
        f = _scaled(fun, scale)
        res = minimize_cg(f, x0, gtol=1e-7 * scale)
        ref = optimize.minimize(f, x0, jac=True, method="CG", options={"gtol": 1e-7 * scale})
        assert res.success, name
        if ref.success:
            np.testing.assert_allclose(res.x, ref.x, rtol=0, atol=2e-5, err_msg=name)
        else:
            # SciPy stops with precision loss on the quadratic at 1e10 with some NumPy/BLAS
            # builds (seen with SciPy 1.17.1, NumPy 2.4): ours still has to reach the minimizer
            assert ref.status == 2, (name, ref.message)
            np.testing.assert_allclose(res.x, minimizer, rtol=0, atol=1e-5, err_msg=name)
