"""The ``"dask"`` family (optional: only when ``dask`` and ``distributed`` are installed):
fastloss on a 2-worker ``distributed.LocalCluster`` (one thread each, loopback only,
started on first use and kept for the run) vs one process in memory, vs dask-ml.

n counts elements, as in the ``linear`` family: ``n / 100`` rows of 100 features, in 10
row chunks, generated and persisted on the cluster (untimed); the in-memory peers get the
same rows computed into this process.

* ``objective_d100``: one evaluation of the L2-free logistic objective and its gradient:
  :meth:`fastloss.dask.PreparedData.value_and_grad` (one round trip) vs the NumPy textbook
  evaluation in one process (``X @ w``, ``logaddexp``, ``X.T @ r``).
* ``logistic_fit_d100``: a binary fit to the default tolerance: ``SoftmaxRegression``
  (L-BFGS, ``alpha = 1e-4``) on the Dask arrays vs the same model in memory (``"numpy"``)
  vs scikit-learn's ``LogisticRegression`` in memory with the same objective
  (``C = 2 / (alpha n)``: two softmax columns carry half the penalty each) vs dask-ml's
  ``LogisticRegression(solver="lbfgs")`` on the Dask arrays (it penalizes the intercept).
* ``least_squares_d100``: ``LinearRegression(optimizer="cholesky")`` on the Dask arrays vs
  the centered normal equations in NumPy in one process (``X.T @ X``, ``X.T @ y``, the
  column means, a solve) vs dask-ml's ``LinearRegression`` (lbfgs).

Agreement: the objective value (evaluation), the fitted model's objective (fastloss on
the cluster vs in memory); the peers, whose objectives differ, opt out.
"""

from __future__ import annotations

import atexit
import importlib.util
from typing import Any, Dict, List

import numpy as np

from fastloss.bench import peers
from fastloss.bench.cases import Case, Impls, Work

FEATURES = 100
CHUNKS = 10
ALPHA = 1e-4
#: the smallest n: 10 chunks of at least 100 rows
MIN_SIZE = FEATURES * CHUNKS * 100

_cluster: Dict[str, Any] = {}


def available() -> bool:
    """Whether dask.array and distributed are installed (nothing is imported)."""
    return all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))


def client() -> Any:
    """The current ``distributed.Client``, or one on a LocalCluster started for this run."""
    import distributed

    try:
        return distributed.default_client()
    except ValueError:
        pass
    if "client" not in _cluster:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None)
        _cluster["cluster"], _cluster["client"] = cluster, distributed.Client(cluster)
        atexit.register(_close)
    return _cluster["client"]


def _close() -> None:
    if "client" in _cluster:
        _cluster.pop("client").close()
        _cluster.pop("cluster").close()


def _data(n: int, dtype: np.dtype, seed: int, kind: str) -> Any:
    """(X, y) on the cluster, persisted, and the same in memory."""
    import dask.array as da

    client()
    rows = n // FEATURES
    state = da.random.RandomState(seed)
    X = state.normal(size=(rows, FEATURES), chunks=(-(-rows // CHUNKS), FEATURES))
    w = np.random.default_rng(seed).normal(size=FEATURES) / np.sqrt(FEATURES)
    z = X @ w + state.normal(size=rows, chunks=X.chunks[0])
    y = (z > 0).astype(np.int64) if kind == "labels" else z + 0.5
    X, y = X.astype(dtype).persist(), y.persist()
    # copies: what compute() returns may sit unaligned in the message buffer, where NumPy's
    # products skip BLAS (~8x slower); a fresh array is what an in-memory user has
    return X, y, np.array(X.compute()), np.array(y.compute())


def _objective(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    import fastloss.dask

    X, y, Xn, yn = _data(n, dtype, int(rng.integers(2**31)), "labels")
    y_float, yn_float = y.astype(dtype), yn.astype(dtype)
    data = fastloss.dask.prepare(X, y_float, loss="logistic")
    coef = (0.1 * rng.normal(size=FEATURES)).astype(dtype)
    b = np.zeros(1, dtype)

    def textbook() -> Any:
        z = Xn @ coef + b[0]
        value = np.mean(np.logaddexp(0, z) - yn_float * z)
        r = (1 / (1 + np.exp(-z)) - yn_float) / len(z)
        return value, Xn.T @ r, r.sum()

    return {"fastloss": lambda: data.value_and_grad(coef, b, "logistic"), "numpy": textbook}


def _fit_objective(model: Any, Xn: np.ndarray, yn: np.ndarray, loss: str) -> float:
    """The fitted model's objective on the in-memory data (its own loss and alpha)."""
    from fastloss import linear_value_and_grad

    W = model._W.astype(np.float64)
    b = model._b.astype(np.float64)
    t = yn if loss == "softmax" else yn.astype(np.float64)
    return float(linear_value_and_grad(Xn.astype(np.float64), t, W, b, loss=loss,
                                       alpha=float(model.alpha))[0])


def _dask_ml() -> Any:
    return peers.dask_ml_linear_model()


def _logistic_fit(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    from fastloss.models import SoftmaxRegression

    X, y, Xn, yn = _data(n, dtype, int(rng.integers(2**31)), "labels")

    def ours(Xa: Any, ya: Any) -> Work:
        def fit() -> Any:
            return SoftmaxRegression(alpha=ALPHA).fit(Xa, ya)

        return Work(fit, check=lambda: _fit_objective(fit(), Xn, yn, "softmax"),
                    counts=lambda: {"nit": int(fit().n_iter_)})

    impls: Impls = {"fastloss": ours(X, y), "numpy": ours(Xn, yn)}
    sklearn = peers.sklearn_linear_models()
    if sklearn is not None:
        C = 2.0 / (ALPHA * len(yn))
        impls["sklearn"] = Work(lambda: sklearn.LogisticRegression(C=C).fit(Xn, yn),
                                check=lambda: None)
    dml = _dask_ml()
    if dml is not None:
        impls["dask-ml"] = Work(lambda: dml.LogisticRegression(solver="lbfgs").fit(X, y),
                                check=lambda: None)
    return impls


def _least_squares(n: int, dtype: np.dtype, rng: np.random.Generator) -> Impls:
    from fastloss.models import LinearRegression

    X, y, Xn, yn = _data(n, dtype, int(rng.integers(2**31)), "real")

    def fit() -> Any:
        return LinearRegression(optimizer="cholesky").fit(X, y)

    def normal_equations() -> Any:
        # the textbook pass without copies of X: X^T X (a syrk), X^T y, the column means
        rows = len(yn)
        mean, y_mean = Xn.sum(axis=0) / rows, float(yn.sum()) / rows
        gram = (Xn.T @ Xn) / rows - np.outer(mean, mean)
        coef = np.linalg.solve(gram, (Xn.T @ yn) / rows - mean * y_mean)
        return np.append(coef, y_mean - float(mean @ coef))

    def residual(theta: np.ndarray) -> float:
        r = Xn.astype(np.float64) @ theta[:-1] + theta[-1] - yn
        return 0.5 * float(r @ r) / len(yn)

    impls: Impls = {
        "fastloss": Work(fit, check=lambda: residual(np.append(fit().coef_,
                                                               fit().intercept_))),
        "numpy": Work(normal_equations, check=lambda: residual(normal_equations()))}
    dml = _dask_ml()
    if dml is not None:
        impls["dask-ml"] = Work(lambda: dml.LinearRegression(solver="lbfgs").fit(X, y),
                                check=lambda: None)
    return impls


def dask_cases() -> List[Case]:
    """The family's cases (module docstring); empty without dask and distributed."""
    if not available():
        return []
    rows = f"(n/{FEATURES}, {FEATURES}) X in {CHUNKS} row chunks on a 2-worker LocalCluster"
    return [
        Case(f"objective_d{FEATURES}", _objective, min_size=MIN_SIZE,
             label=f"Dask objective d={FEATURES}",
             what=f"one logistic value+gradient, fastloss.dask vs NumPy in one process, {rows}"),
        Case(f"logistic_fit_d{FEATURES}", _logistic_fit, min_size=MIN_SIZE,
             label=f"Dask logistic fit d={FEATURES}",
             what=f"binary SoftmaxRegression fit (L-BFGS, alpha={ALPHA:g}), {rows}"),
        Case(f"least_squares_d{FEATURES}", _least_squares, min_size=MIN_SIZE,
             label=f"Dask least squares d={FEATURES}",
             what=f"LinearRegression(optimizer='cholesky'), {rows}"),
    ]


