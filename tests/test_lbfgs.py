"""fastloss.optim.minimize_lbfgs against scipy.optimize.minimize(method="L-BFGS-B") and its
stopping rules, the two-loop recursion against the dense BFGS update, argument checking;
fastloss.optim.LBFGS against torch.optim.LBFGS."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Tuple

import numpy as np
import pytest

import fastloss
from _support import Counting, single_thread_blas
from fastloss.bench.solvers import (LOGISTIC_FEATURES, logistic_objective, rosenbrock,
                                    rosenbrock_start)
from fastloss.optim import LBFGSResult, minimize_lbfgs
from fastloss.optim.lbfgs import _History

EPS = float(np.finfo(np.float64).eps)
#: the options that make SciPy's L-BFGS-B stop by the rules minimize_lbfgs defaults to
SCIPY_OPTIONS = {"maxcor": 10, "gtol": 1e-5, "ftol": 64 * EPS, "maxiter": 15000, "maxls": 50}


@pytest.fixture(autouse=True, scope="module")
def _single_thread_blas() -> Iterator[None]:
    with single_thread_blas():
        yield


_rosenbrock = rosenbrock(np.float64)
_rosenbrock_start = rosenbrock_start


def _logistic_problem(dtype: Any = np.float64
                      ) -> Tuple[Callable[[np.ndarray], Tuple[float, np.ndarray]], int]:
    """L2-regularized logistic regression through fastloss.linear_value_and_grad on
    2000 x 20 badly scaled features (column scales 1 to 10), with an intercept; the
    parameter vector is (coef, intercept)."""
    rng = np.random.default_rng(0)
    n, d = 2000, 20
    X = rng.normal(size=(n, d)) * np.geomspace(1.0, 10.0, d)
    w = rng.normal(size=d) / np.sqrt(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(np.float64)
    Xd, yd = X.astype(dtype), y.astype(dtype)

    def fun(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        t = theta.astype(dtype)
        value, g_coef, g_int = fastloss.linear_value_and_grad(
            Xd, yd, t[:d], t[d:], loss="logistic", alpha=1e-3)
        assert g_int is not None
        return float(value), np.concatenate([g_coef, g_int])

    return fun, d + 1


def _assert_matches_scipy(res: LBFGSResult, ref: Any) -> None:
    assert res.success, res.message
    assert ref.success, ref.message
    # f within 1e-8 of SciPy's optimum, relative to max(|f|, 1) (Rosenbrock's optimum is 0)
    assert abs(res.fun - ref.fun) <= 1e-8 * max(abs(ref.fun), 1.0)
    assert res.nit <= 1.5 * ref.nit
    assert np.max(np.abs(res.jac)) <= SCIPY_OPTIONS["gtol"] or res.message.endswith(
        "ftol.")


@pytest.mark.parametrize("n", [2, 10, 100])
def test_rosenbrock_matches_scipy(n: int) -> None:
    optimize = pytest.importorskip("scipy.optimize")
    x0 = _rosenbrock_start(n)
    fun = Counting(_rosenbrock)
    res = minimize_lbfgs(fun, x0)
    ref = optimize.minimize(_rosenbrock, x0, jac=True, method="L-BFGS-B",
                            options=SCIPY_OPTIONS)
    _assert_matches_scipy(res, ref)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-4)
    assert res.nfev == res.njev == len(fun.points)
    np.testing.assert_array_equal(res.jac, _rosenbrock(res.x)[1])


def test_logistic_regression_matches_scipy() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    fun, size = _logistic_problem()
    x0 = np.zeros(size)
    res = minimize_lbfgs(fun, x0)
    ref = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", options=SCIPY_OPTIONS)
    _assert_matches_scipy(res, ref)
    # strongly convex (alpha = 1e-3): ||x - x*|| <= ||g|| / alpha for both answers
    bound = (np.linalg.norm(res.jac) + np.linalg.norm(fun(ref.x)[1])) / 1e-3
    assert np.linalg.norm(res.x - ref.x) <= bound


def test_tight_tolerance_stops_on_the_relative_reduction() -> None:
    fun, size = _logistic_problem()
    values: List[float] = []
    res = minimize_lbfgs(fun, np.zeros(size), gtol=0.0, callback=lambda x: values.append(
        fun(x)[0]))
    assert res.success and res.status == 0
    assert res.message == "Converged: the relative reduction of f is <= ftol."
    f_old, f_new = values[-2], values[-1]
    assert f_new == res.fun
    assert f_old - f_new <= 64 * EPS * max(abs(f_old), abs(f_new), 1.0)
    # and no earlier iteration met it
    assert all(a - b > 64 * EPS * max(abs(a), abs(b), 1.0)
               for a, b in zip(values[:-2], values[1:-1]))


def test_float32_x0_is_computed_in_float64() -> None:
    x0 = _rosenbrock_start(6)
    seen = set()

    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        seen.add((x.shape, x.dtype))
        return _rosenbrock(x)

    res32 = minimize_lbfgs(fun, x0.astype(np.float32))
    res64 = minimize_lbfgs(_rosenbrock, x0.astype(np.float32).astype(np.float64))
    assert seen == {((6,), np.dtype(np.float64))}
    assert res32.x.dtype == res32.jac.dtype == np.float64
    assert (res32.nit, res32.nfev) == (res64.nit, res64.nfev)
    np.testing.assert_array_equal(res32.x, res64.x)


def test_float32_objective_ends_by_ftol_not_by_failed_line_searches() -> None:
    # its rounding (~1e-7 relative) stops progress near the optimum; allowing only float64's
    # rounding there, the last line searches failed on noise: 141 calls for 35 iterations
    fun = logistic_objective(500, np.float32, np.random.default_rng(0))
    res = minimize_lbfgs(fun, np.zeros(LOGISTIC_FEATURES + 1))
    assert res.success, res.message
    assert res.nfev <= res.nit + 10


def test_float32_objective_converges() -> None:
    # an objective computed in float32: its rounding (~1e-7 relative) limits what gtol can
    # be reached, not the method
    fun32, size = _logistic_problem(np.float32)
    fun64, _ = _logistic_problem()
    res = minimize_lbfgs(fun32, np.zeros(size, np.float32), gtol=1e-4)
    best = minimize_lbfgs(fun64, np.zeros(size), gtol=1e-8)
    assert res.status in (0, 2), res.message
    assert np.max(np.abs(fun64(res.x)[1])) <= 1e-3
    assert res.fun == pytest.approx(best.fun, rel=1e-5)


def test_shape_is_kept_and_args_are_passed() -> None:
    def fun(x: np.ndarray, center: np.ndarray) -> Tuple[float, np.ndarray]:
        assert x.shape == (2, 3)
        return float(np.sum((x - center) ** 2)), 2.0 * (x - center)

    center = np.arange(6.0).reshape(2, 3)
    res = minimize_lbfgs(fun, np.zeros((2, 3)), args=(center,))
    assert res.x.shape == res.jac.shape == (2, 3)
    np.testing.assert_allclose(res.x, center, atol=1e-6)
    # a non-tuple argument is wrapped as a 1-tuple, as in SciPy
    res1 = minimize_lbfgs(lambda x, c: (float(np.sum((x - c) ** 2)), 2 * (x - c)), [0, 0],
                          args=3.0)
    np.testing.assert_allclose(res1.x, 3.0, atol=1e-6)


def test_x0_is_not_modified() -> None:
    x0 = _rosenbrock_start(4)
    before = x0.tobytes()
    res = minimize_lbfgs(_rosenbrock, x0)
    assert res.success
    assert x0.tobytes() == before


def test_callback_every_iteration_and_stop_iteration() -> None:
    seen: List[np.ndarray] = []
    def rosenbrock_2d(x: np.ndarray) -> Tuple[float, np.ndarray]:
        value, grad = _rosenbrock(x.ravel())
        return value, grad.reshape(x.shape)

    res = minimize_lbfgs(rosenbrock_2d, np.array([[-1.2, 1.0]]), callback=seen.append)
    assert res.success
    assert len(seen) == res.nit
    assert all(xk.shape == (1, 2) for xk in seen)
    np.testing.assert_array_equal(seen[-1], res.x)
    assert len({xk.tobytes() for xk in seen}) == len(seen)  # copies, not one buffer

    calls: List[int] = []

    def stop_at_three(xk: np.ndarray) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise StopIteration

    res = minimize_lbfgs(_rosenbrock, np.array([-1.2, 1.0]), callback=stop_at_three)
    assert res.status == 99 and not res.success and res.nit == 3
    assert res.message == "`callback` raised `StopIteration`."


def test_maxiter() -> None:
    x0 = np.array([-1.2, 1.0])
    fun = Counting(_rosenbrock)
    res = minimize_lbfgs(fun, x0, maxiter=0)
    assert res.status == 1 and not res.success and res.nit == 0 and res.nfev == 1
    assert res.message == "Maximum number of iterations has been exceeded."
    np.testing.assert_array_equal(res.x, x0)
    res5 = minimize_lbfgs(_rosenbrock, x0, maxiter=5)
    assert res5.status == 1 and res5.nit == 5 and res5.fun < res.fun
    # a start that already meets gtol is a success even with maxiter=0
    res_ok = minimize_lbfgs(_rosenbrock, np.ones(2), maxiter=0)
    assert res_ok.success and res_ok.nit == 0


def test_line_search_failure_is_reported() -> None:
    # the gradient points the wrong way: no step decreases f
    res = minimize_lbfgs(lambda x: (float(x @ x), -2.0 * x), np.array([1.0, 2.0]))
    assert res.status == 2 and not res.success
    assert "line search" in res.message
    np.testing.assert_array_equal(res.x, [1.0, 2.0])


def test_maxls_bounds_each_line_search() -> None:
    # |x - 1e6| smoothed: from 0, with a unit first step growing at most 10x per trial,
    # the bracketing phase needs more trial points than maxls=2 allows
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        r = np.sqrt(1.0 + (x - 1e6) ** 2)
        return float(r[0]), (x - 1e6) / r

    fun_few = Counting(fun)
    short = minimize_lbfgs(fun_few, np.zeros(1), maxls=2)
    assert short.status == 2
    assert short.nfev == 1 + 2  # x0, then one line search of 2 (no history to clear)
    assert minimize_lbfgs(fun, np.zeros(1)).success


def test_result_is_dict_like() -> None:
    res = minimize_lbfgs(_rosenbrock, np.array([-1.2, 1.0]))
    assert isinstance(res, LBFGSResult)
    assert set(res.keys()) == {"x", "fun", "jac", "nit", "nfev", "njev", "success", "status",
                               "message"}
    assert res["nit"] == res.nit
    assert "LBFGSResult(" in repr(res)


# ---- the two-loop recursion and the history ---------------------------------------------

def _dense_inverse_hessian(pairs: List[Tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """H from gamma I (gamma = s'y / y'y of the newest pair) by the BFGS update
    H <- (I - rho s y') H (I - rho y s') + rho s s' over the pairs, oldest first (N&W
    eq. 7.19)."""
    n = pairs[0][0].size
    s_new, y_new = pairs[-1]
    h = (s_new @ y_new) / (y_new @ y_new) * np.eye(n)
    for s, y in pairs:
        rho = 1.0 / (s @ y)
        v = np.eye(n) - rho * np.outer(y, s)
        h = v.T @ h @ v + rho * np.outer(s, s)
    return h


@pytest.mark.parametrize("backend", ["c", "numpy"])
@pytest.mark.parametrize("m", [1, 3, 5])
def test_two_loop_recursion_is_the_bfgs_update_of_the_last_m_pairs(m: int, backend: str
                                                                    ) -> None:
    """The history's direction (the C kernel, or the NumPy reference) is -H g for the BFGS
    matrix of the last m pairs, also after pairs are evicted."""
    with fastloss.use_backend(backend):
        _check_two_loop(m)


def _check_two_loop(m: int) -> None:
    rng = np.random.default_rng(m)
    n = 6
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = (q * np.geomspace(1.0, 100.0, n)) @ q.T  # y = A s: every pair has curvature
    history = _History(m, n)
    kept: List[Tuple[np.ndarray, np.ndarray]] = []
    x, g = rng.normal(size=n), rng.normal(size=n)
    out = np.empty(n)
    for _ in range(2 * m + 1):
        s = rng.normal(size=n)
        x_new, g_new = x + s, g + a @ s
        history.push(x_new, x, g_new, g)
        kept = (kept + [(x_new - x, g_new - g)])[-m:]
        x, g = x_new, g_new
        direction = history.direction(g, out)
        assert direction is out
        np.testing.assert_allclose(direction, -_dense_inverse_hessian(kept) @ g,
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [1, 7, 100, 1001])
@pytest.mark.parametrize("m", [1, 4, 10])
def test_two_loop_kernel_matches_the_reference(m: int, n: int) -> None:
    """csrc/lbfgs.c against reference.lbfgs_direction on a history that has wrapped (rows
    kept out of order), pairs of mixed scales, every count of kept pairs."""
    rng = np.random.default_rng(100 * m + n)
    history = _History(m, n)
    x, g = rng.normal(size=n), rng.normal(size=n)
    wrapped = False
    for _ in range(3 * m + 2):
        s = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3)
        x_new, g_new = x + s, g + s * rng.uniform(0.5, 2.0, size=n)
        history.push(x_new, x, g_new, g)
        x, g = x_new, g_new
        got = history.direction(g, np.empty(n))
        want = fastloss.reference.lbfgs_direction(g, history.s, history.y, history.rho,
                                                  history.order, history.gamma)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14 * np.abs(want).max())
        wrapped |= history.order != sorted(history.order)
    assert wrapped or m == 1  # one kept pair: its row alternates between the two


def test_minimize_lbfgs_numpy_backend_takes_the_same_path() -> None:
    """The NumPy two-loop recursion and the kernel give the same iterates to rounding."""
    fun = rosenbrock(np.float64)
    x0 = rosenbrock_start(10)
    c = minimize_lbfgs(fun, x0)
    with fastloss.use_backend("numpy"):
        ref = minimize_lbfgs(fun, x0)
    assert (c.nit, c.nfev) == (ref.nit, ref.nfev)
    np.testing.assert_allclose(c.x, ref.x, rtol=1e-9)


def test_pairs_without_curvature_are_skipped() -> None:
    history = _History(2, 3)
    x, g = np.zeros(3), np.ones(3)
    history.push(x + 1.0, x, g + 1.0, g)  # s'y = 3 > 0: kept
    assert len(history.order) == 1
    kept = (history.s[history.order[0]].copy(), history.y[history.order[0]].copy())
    history.push(x + 1.0, x, g - 1.0, g)  # s'y < 0: skipped, the kept pair untouched
    history.push(x + 1.0, x, g, g)        # y = 0: s'y = 0 <= eps y'y: skipped
    assert len(history.order) == 1
    np.testing.assert_array_equal(history.s[history.order[0]], kept[0])
    np.testing.assert_array_equal(history.y[history.order[0]], kept[1])
    assert history.gamma == 1.0  # s'y / y'y of the kept pair (3 / 3)


# ---- argument checking ----------------------------------------------------------------

def _good(x: np.ndarray) -> Tuple[float, np.ndarray]:
    return float(x @ x), 2.0 * x


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"x0": np.array([1.0, np.nan])}, ValueError, "x0 must be finite"),
    ({"x0": np.array([], dtype=float)}, ValueError, "at least one element"),
    ({"x0": np.array(["a"])}, TypeError, "x0 must be an array of real numbers"),
    ({"x0": np.array([True])}, TypeError, "x0 must be an array of real numbers"),
    ({"x0": np.ma.masked_array([1.0, 2.0], [0, 1])}, TypeError, "x0 must not be a masked"),
    ({"m": 0}, ValueError, r"m must be an int in \[1, inf\)"),
    ({"m": 2.0}, TypeError, "m must be an int"),
    ({"gtol": -1e-5}, ValueError, r"gtol must be finite and in \[0, inf\)"),
    ({"gtol": float("nan")}, ValueError, r"gtol must be finite and in \[0, inf\)"),
    ({"gtol": "1e-5"}, TypeError, "gtol must be a real number"),
    ({"ftol": -1.0}, ValueError, r"ftol must be finite and in \[0, inf\)"),
    ({"ftol": None}, TypeError, "ftol must be a real number"),
    ({"maxiter": -1}, ValueError, r"maxiter must be an int in \[0, inf\)"),
    ({"maxiter": True}, TypeError, "maxiter must be an int"),
    ({"maxiter": None}, TypeError, "maxiter must be an int"),
    ({"maxls": 0}, ValueError, r"maxls must be an int in \[1, inf\)"),
    ({"c1": 0.95}, ValueError, "0 < c1 < c2 < 1"),
    ({"c1": 0.0}, ValueError, "0 < c1 < c2 < 1"),
    ({"c2": 1.0}, ValueError, r"c2 must be finite and in \[0, 1\)"),
    ({"callback": 3}, TypeError, "callback must be callable"),
    ({"fun": "f"}, TypeError, "fun must be callable"),
    ({"fun": lambda x: (np.inf, 2 * x)}, ValueError, "fun is not finite at x0"),
    ({"fun": lambda x: (1.0, np.full_like(x, np.nan))}, ValueError, "gradient is not finite"),
    ({"fun": lambda x: (1.0, np.zeros(5))}, ValueError, "gradient with 5 elements"),
    ({"fun": lambda x: float(x @ x)}, TypeError, r"pair \(value, gradient\)"),
    ({"fun": lambda x: (x, 2 * x)}, TypeError, "scalar value"),
    ({"fun": lambda x: (1.0, "g")}, TypeError, "real gradient"),
])
def test_bad_input(kwargs: dict, exc: type, match: str) -> None:
    call = {"fun": _good, "x0": np.array([1.0, 2.0]), **kwargs}
    x0 = call.pop("x0")
    before = np.array(x0, copy=True)
    with pytest.raises(exc, match=match):
        minimize_lbfgs(call.pop("fun"), x0, **call)
    np.testing.assert_array_equal(np.asarray(x0), before)


def test_args_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        minimize_lbfgs(_good, np.ones(2), ())  # type: ignore[misc]


# ---- LBFGS against torch.optim.LBFGS --------------------------------------------------------

def _quadratic_problem() -> Callable[[np.ndarray], Tuple[float, np.ndarray]]:
    rng = np.random.default_rng(5)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    a = (q * np.geomspace(1.0, 100.0, 12)) @ q.T
    b = rng.normal(size=12)

    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        ax = a @ x
        return 0.5 * float(x @ ax) - float(b @ x), ax - b

    return fun


#: (objective, start, the parameters' sizes): several params, one flat vector
TORCH_PROBLEMS = {
    "rosenbrock": (_rosenbrock, _rosenbrock_start(10), [3, 7]),
    "quadratic": (_quadratic_problem(), np.zeros(12), [4, 1, 7]),
}


class _Pair:
    """The same objective driving fastloss.optim.LBFGS and torch.optim.LBFGS: both closures
    call ``fun`` (NumPy) on the concatenated parameters, so only the optimizers' own
    arithmetic can differ."""

    def __init__(self, problem: str, **hyper: Any) -> None:
        torch = pytest.importorskip("torch")
        self.fun, x0, sizes = TORCH_PROBLEMS[problem]
        self.cuts = np.cumsum(sizes)[:-1]
        self.params = [p.copy() for p in np.split(x0, self.cuts)]
        self.tensors = [torch.tensor(p, requires_grad=True) for p in np.split(x0, self.cuts)]
        self.opt = fastloss.optim.LBFGS(self.params, **hyper)
        self.topt = torch.optim.LBFGS(self.tensors, **hyper)

    def closure(self) -> Tuple[float, List[np.ndarray]]:
        value, grad = self.fun(np.concatenate(self.params))
        return value, np.split(grad, self.cuts)

    def torch_closure(self) -> float:
        import torch

        value, grad = self.fun(np.concatenate([t.detach().numpy() for t in self.tensors]))
        for t, g in zip(self.tensors, np.split(grad, self.cuts)):
            t.grad = torch.from_numpy(g.copy())
        return value

    def x(self) -> np.ndarray:
        return np.concatenate(self.params)

    def torch_x(self) -> np.ndarray:
        return np.concatenate([t.detach().numpy() for t in self.tensors])


@pytest.mark.parametrize("problem", list(TORCH_PROBLEMS))
@pytest.mark.parametrize("hyper", [
    {"lr": 0.1, "max_iter": 5},
    {"lr": 0.1, "max_iter": 7, "history_size": 3},
    {"line_search_fn": "strong_wolfe", "max_iter": 5},
    {"line_search_fn": "strong_wolfe", "max_iter": 6, "history_size": 3, "max_eval": 8},
    # a first trial step far too short: the search extrapolates
    {"line_search_fn": "strong_wolfe", "max_iter": 5, "lr": 1e-3},
], ids=["fixed-step", "fixed-step-history3", "strong-wolfe", "strong-wolfe-history3",
        "strong-wolfe-extrapolating"])
def test_lbfgs_follows_torch(problem: str, hyper: Dict[str, Any]) -> None:
    pair = _Pair(problem, **hyper)
    start = pair.fun(pair.x())[0]
    for _ in range(4):  # the state carries over between step calls
        loss = pair.opt.step(pair.closure)
        torch_loss = pair.topt.step(pair.torch_closure)
        assert loss == pytest.approx(torch_loss, rel=1e-10)
        x, tx = pair.x(), pair.torch_x()
        assert np.max(np.abs(x - tx)) <= 1e-10 * max(1.0, np.max(np.abs(tx)))
        ours, theirs = pair.opt.state[0], pair.topt.state[pair.tensors[0]]
        assert (ours["func_evals"], ours["n_iter"]) == (theirs["func_evals"], theirs["n_iter"])
        assert len(ours["old_dirs"]) == len(theirs["old_dirs"]) <= hyper.get(
            "history_size", 100)
    assert pair.fun(pair.x())[0] < start


def test_lbfgs_converges_with_strong_wolfe() -> None:
    pair = _Pair("rosenbrock", line_search_fn="strong_wolfe", max_iter=200)
    pair.opt.step(pair.closure)
    np.testing.assert_allclose(pair.x(), 1.0, atol=1e-5)


def test_lbfgs_defaults_are_torchs() -> None:
    torch = pytest.importorskip("torch")
    import inspect

    ours = inspect.signature(fastloss.optim.LBFGS).parameters
    theirs = inspect.signature(torch.optim.LBFGS).parameters
    assert list(ours) == list(theirs)
    assert {k: p.default for k, p in ours.items()} == {k: p.default for k, p in theirs.items()}
    w = np.zeros(3)
    assert fastloss.optim.LBFGS([w], max_iter=8).defaults == torch.optim.LBFGS(
        [torch.zeros(3)], max_iter=8).defaults  # max_eval = max_iter * 5 // 4


def test_lbfgs_float32_params() -> None:
    fun = _quadratic_problem()
    w = np.zeros(12, np.float32)

    def closure() -> Tuple[float, List[np.ndarray]]:
        value, grad = fun(w.astype(np.float64))
        return value, [grad.astype(np.float32)]

    opt = fastloss.optim.LBFGS([w], line_search_fn="strong_wolfe", max_iter=100)
    opt.step(closure)
    assert w.dtype == np.float32
    assert opt.state[0]["d"].dtype == np.float32
    assert np.max(np.abs(fun(w.astype(np.float64))[1])) <= 1e-4


def test_lbfgs_none_gradient_is_zero() -> None:
    w, frozen = np.zeros(2), np.ones(3)
    opt = fastloss.optim.LBFGS([w, frozen], line_search_fn="strong_wolfe")
    opt.step(lambda: (float(np.sum((w - 1.0) ** 2)), [2.0 * (w - 1.0), None]))
    np.testing.assert_allclose(w, 1.0, atol=1e-7)
    np.testing.assert_array_equal(frozen, 1.0)


def test_lbfgs_state_dict_round_trip_continues_the_same_run() -> None:
    pytest.importorskip("torch")  # only for _Pair's setup
    first = _Pair("rosenbrock", line_search_fn="strong_wolfe", max_iter=4)
    first.opt.step(first.closure)
    saved = first.opt.state_dict()
    second = _Pair("rosenbrock", line_search_fn="strong_wolfe", max_iter=4)
    for p, q in zip(second.params, first.params):
        p[...] = q
    second.opt.load_state_dict(saved)
    for _ in range(2):
        first.opt.step(first.closure)
        second.opt.step(second.closure)
    np.testing.assert_array_equal(first.x(), second.x())
    assert first.opt.state[0]["func_evals"] == second.opt.state[0]["func_evals"]


@pytest.mark.parametrize("entry, exc, match", [
    ({"d": np.zeros(3)}, ValueError, r"\['d'\] must be a float64 array of shape \(10,\)"),
    ({"old_dirs": [np.zeros(10)], "old_stps": [], "ro": []}, ValueError, "same length"),
    ({"n_iter": -1}, ValueError, "n_iter"),
    ({"ro": [1.0, "x"]}, TypeError, r"\['ro'\]\[1\] must be a real number"),
    ({"bogus": 1}, ValueError, "unknown entry 'bogus'"),
])
def test_lbfgs_load_state_dict_checks(entry: Dict[str, Any], exc: type, match: str) -> None:
    w = np.zeros(10)
    opt = fastloss.optim.LBFGS([w])
    saved = opt.state_dict()
    saved["state"] = {0: entry}
    with pytest.raises(exc, match=match):
        opt.load_state_dict(saved)
    assert opt.state == {}


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"lr": -1.0}, ValueError, r"lr must be finite and in \[0, inf\)"),
    ({"max_iter": 0}, ValueError, r"max_iter must be an int in \[1, inf\)"),
    ({"max_eval": 0}, ValueError, r"max_eval must be an int in \[1, inf\)"),
    ({"tolerance_grad": -1.0}, ValueError, "tolerance_grad must be finite"),
    ({"tolerance_change": "x"}, TypeError, "tolerance_change must be a real number"),
    ({"history_size": 0}, ValueError, r"history_size must be an int in \[1, inf\)"),
    ({"line_search_fn": "backtracking"}, ValueError, "line_search_fn must be one of"),
])
def test_lbfgs_bad_hyper_parameters(kwargs: Dict[str, Any], exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        fastloss.optim.LBFGS([np.zeros(2)], **kwargs)


def test_lbfgs_bad_params() -> None:
    with pytest.raises(ValueError, match="parameter groups"):
        fastloss.optim.LBFGS([{"params": [np.zeros(2)]}, {"params": [np.zeros(2)]}])
    with pytest.raises(TypeError, match="share one dtype"):
        fastloss.optim.LBFGS([np.zeros(2), np.zeros(2, np.float32)])
    with pytest.raises(TypeError, match="float32 or float64"):
        fastloss.optim.LBFGS([np.zeros(2, np.int64)])
    opt = fastloss.optim.LBFGS([np.zeros(2)])
    with pytest.raises(ValueError, match="parameter groups"):
        opt.add_param_group({"params": [np.zeros(2)]})


@pytest.mark.parametrize("closure, exc, match", [
    (lambda: 1.0, TypeError, r"pair \(loss, grads\)"),
    (lambda: ("a", [np.zeros(2)]), TypeError, "loss must be a real number"),
    (lambda: (1.0, np.zeros(2)), TypeError, "grads must be a list"),
    (lambda: (1.0, [np.zeros(2), np.zeros(2)]), ValueError, "2 gradients for 1 parameters"),
    (lambda: (1.0, [np.zeros(3)]), ValueError, r"grads\[0\] has shape \(3,\)"),
    (lambda: (1.0, [np.array(["a", "b"])]), TypeError, r"grads\[0\] must be an array of real"),
])
def test_lbfgs_bad_closure(closure: Callable[[], Any], exc: type, match: str) -> None:
    w = np.array([1.0, 2.0])
    opt = fastloss.optim.LBFGS([w])
    with pytest.raises(exc, match=match):
        opt.step(closure)
    np.testing.assert_array_equal(w, [1.0, 2.0])  # the first evaluation is at the start
    with pytest.raises(TypeError, match="needs a closure"):
        opt.step([np.zeros(2)])
