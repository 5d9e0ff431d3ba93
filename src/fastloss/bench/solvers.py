"""The ``"solvers"`` family: a whole minimization, :func:`fastloss.optim.minimize_lbfgs`
vs ``scipy.optimize.minimize(method="L-BFGS-B")`` on the same ``fun``, from the same start,
with the same stopping rules (SciPy's L-BFGS-B options as scikit-learn passes them:
``maxcor=10, gtol=1e-5, ftol=64 eps, maxls=50``).

* ``rosenbrock_100``: the Rosenbrock function in 100 dimensions from (-1.2, 1, -1.2, ...),
  in NumPy (a problem of one size: it runs at n = 100 whatever the run's sizes);
* ``logistic_d20``: L2-regularized logistic regression (``alpha = 1e-2``, an intercept) on
  n / 20 samples of 20 badly scaled features, through ``fastloss.linear.objective`` (the
  linear models' objective).

Each call minimizes from the start; the agreement check compares the optima ``f*``. The
``"numpy"`` implementation is minimize_lbfgs on the NumPy reference backend (for
Rosenbrock, whose ``fun`` is NumPy either way, the same work as ``"fastloss"``). Iterations
and evaluations go to each result's ``counts``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import numpy as np

import fastloss
from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, Work
from fastloss.optim import minimize_lbfgs

#: minimize_lbfgs's defaults, in SciPy's option names (scikit-learn's choices)
SCIPY_OPTIONS = {"maxcor": 10, "gtol": 1e-5, "ftol": 64 * float(np.finfo(np.float64).eps),
                 "maxiter": 15000, "maxls": 50}
ROSENBROCK_DIMENSION = 100
LOGISTIC_FEATURES = 20
LOGISTIC_ALPHA = 1e-2

Fun = Callable[[np.ndarray], Tuple[float, np.ndarray]]


def rosenbrock(dtype: Any) -> Fun:
    """The Rosenbrock function ``sum 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2`` and its
    gradient, computed in ``dtype`` (the tests use it too)."""
    def fun(x: np.ndarray) -> Tuple[float, np.ndarray]:
        x = x.astype(dtype, copy=False)
        a, b = x[:-1], x[1:]
        t = b - a * a
        grad = np.zeros_like(x)
        grad[:-1] = -400 * a * t - 2 * (1 - a)
        grad[1:] += 200 * t
        return float(np.sum(100 * t * t + (1 - a) ** 2)), grad

    return fun


def rosenbrock_start(n: int) -> np.ndarray:
    """The classic start (-1.2, 1, -1.2, 1, ...) in n dimensions."""
    x0 = np.full(n, -1.2)
    x0[1::2] = 1.0
    return x0


def logistic_objective(rows: int, dtype: Any, rng: np.random.Generator) -> Fun:
    """``fun(theta)`` of L2-regularized logistic regression (alpha = LOGISTIC_ALPHA, an
    intercept) on ``rows`` samples of LOGISTIC_FEATURES badly scaled features (column
    scales 1 to 10), X and y in ``dtype``; ``theta = (coef, intercept)``."""
    d = LOGISTIC_FEATURES
    X = (rng.normal(size=(rows, d)) * np.geomspace(1.0, 10.0, d)).astype(dtype)
    w = rng.normal(size=d) / np.sqrt(d)
    y = (rng.random(rows) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(dtype)

    def fun(theta: np.ndarray) -> Tuple[float, np.ndarray]:
        t = theta.astype(dtype, copy=False)
        value, g_coef, g_int = fastloss.linear.objective(X, y, t[:d], t[d:], None, "logistic",
                                                         LOGISTIC_ALPHA, 1.0)
        return float(value), np.concatenate([g_coef, np.asarray(g_int)])

    return fun


def _impls(fun: Fun, x0: np.ndarray) -> Impls:
    """minimize_lbfgs (C and NumPy backends) and SciPy's L-BFGS-B on ``fun`` from ``x0``."""
    def ours(backend: str) -> Work:
        def solve() -> Any:
            with fastloss.use_backend(backend):
                return minimize_lbfgs(fun, x0)

        return Work(lambda: solve().fun, counts=lambda: _counts(solve()))

    impls: Impls = {"fastloss": ours("c"), "numpy": ours("numpy")}
    optimize = peers.scipy_optimize()
    if optimize is not None:
        def scipy_solve() -> Any:
            return optimize.minimize(fun, x0, jac=True, method="L-BFGS-B",
                                     options=SCIPY_OPTIONS)

        impls["scipy"] = Work(lambda: scipy_solve().fun, counts=lambda: _counts(scipy_solve()))
    return impls


def _counts(res: Any) -> Dict[str, int]:
    return {"nit": int(res.nit), "nfev": int(res.nfev)}


def solver_cases() -> List[Case]:
    """The family's cases (module docstring)."""
    def rosenbrock_case(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        return _impls(rosenbrock(dtype), rosenbrock_start(n))

    def logistic(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
        return _impls(logistic_objective(n // LOGISTIC_FEATURES, dtype, rng),
                      np.zeros(LOGISTIC_FEATURES + 1))

    what = "minimize_lbfgs to gtol=1e-5 vs scipy L-BFGS-B with the same options"
    return [
        Case(f"rosenbrock_{ROSENBROCK_DIMENSION}", rosenbrock_case,
             sizes=(ROSENBROCK_DIMENSION,), label=f"L-BFGS, Rosenbrock n={ROSENBROCK_DIMENSION}",
             what=f"{what}, Rosenbrock in {ROSENBROCK_DIMENSION} dimensions"),
        Case(f"logistic_d{LOGISTIC_FEATURES}", logistic, min_size=500 * LOGISTIC_FEATURES,
             label=f"L-BFGS, L2-logistic d={LOGISTIC_FEATURES}",
             what=f"{what}, L2-logistic (alpha={LOGISTIC_ALPHA:g}) on (n/{LOGISTIC_FEATURES}, "
                  f"{LOGISTIC_FEATURES}) X via fastloss.linear.objective"),
    ]
