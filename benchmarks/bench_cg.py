"""Time to gtol of fastloss.optim.minimize_cg beside scipy.optimize.minimize(method="CG").

Two problems, each one benchmark group per line-search constant c2 (so a table compares
the minimizers on the same objective):

* least squares on California housing (20433 x 13: 8 standardized features + one-hot
  ocean_proximity, target in $100k), from ``$FASTLOSS_HOUSING_CSV`` or else
  ``../shared/data/california_housing.csv`` (``_support.find_housing_csv``); a synthetic
  least-squares problem of the same shape (20640 x 13) when neither is there;
* L2-regularized softmax regression on iris (sklearn's copy) through
  ``fastloss.cross_entropy_value_and_grad``.

Implementations: ``fastloss`` (minimize_cg, C loss kernels), ``fastloss-numpy`` (minimize_cg
with the NumPy reference backend) and ``scipy`` (scipy CG on the same C-backed objective).
Iterations and evaluations go to ``extra_info`` (``nit``, ``nfev``), shown by
``--benchmark-columns=...`` or in ``--benchmark-json``.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from _support import find_housing_csv, housing_least_squares
from fastloss.optim import minimize_cg

IMPLS = ["fastloss", "fastloss-numpy", "scipy"]
GTOL = 1e-5


def _housing():
    """(X, y, label): the housing design matrix, or a synthetic stand-in of its shape."""
    path = find_housing_csv()
    if path is not None:
        return (*housing_least_squares(path), "housing")
    rng = np.random.default_rng(0)
    # correlated columns, like rooms / bedrooms / households in the real data
    mixing = np.eye(13) + 0.9 * rng.normal(size=(13, 13)) / np.sqrt(13)
    x = rng.normal(size=(20640, 13)) @ mixing
    return x, x @ rng.normal(size=13) + 0.5 * rng.normal(size=20640), "synthetic"


def _iris():
    datasets = pytest.importorskip("sklearn.datasets")
    features, labels = datasets.load_iris(return_X_y=True)
    features = (features - features.mean(axis=0)) / features.std(axis=0)
    return np.hstack([features, np.ones((len(labels), 1))]), labels


@pytest.fixture(scope="module")
def housing():
    return _housing()


def _least_squares(x, y):
    def fun(w):
        value, dpred = fastloss.mse_loss_value_and_grad(x @ w, y)
        return 0.5 * float(value), 0.5 * (x.T @ dpred)
    return fun


def _softmax(x, labels, l2=1e-3):
    def fun(w):
        w = w.reshape(x.shape[1], 3)
        value, dlogits = fastloss.cross_entropy_value_and_grad(x @ w, labels)
        return float(value) + 0.5 * l2 * float(np.sum(w * w)), (x.T @ dlogits + l2 * w).ravel()
    return fun


def _run(benchmark, impl, fun, x0, c2):
    if impl == "scipy":
        optimize = pytest.importorskip("scipy.optimize")
        options = {"gtol": GTOL, "c2": c2}
        res = benchmark(lambda: optimize.minimize(fun, x0, jac=True, method="CG",
                                                  options=options))
    else:
        backend = "c" if impl == "fastloss" else "numpy"

        def run():
            with fastloss.use_backend(backend):
                return minimize_cg(fun, x0, gtol=GTOL, c2=c2)
        res = benchmark(run)
    benchmark.extra_info.update(nit=int(res.nit), nfev=int(res.nfev), success=bool(res.success))
    return res


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("c2", [0.4, 0.1])
def bench_least_squares(benchmark, housing, c2, impl):
    x, y, label = housing
    benchmark.group = f"CG least squares {label} {x.shape[0]}x{x.shape[1]} gtol={GTOL:g} c2={c2}"
    res = _run(benchmark, impl, _least_squares(x, y), np.zeros(x.shape[1]), c2)
    assert res.success
    exact = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.linalg.norm(res.x - exact) < 0.1


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("c2", [0.4, 0.1])
def bench_iris_softmax(benchmark, c2, impl):
    x, labels = _iris()
    benchmark.group = f"CG softmax regression iris 150x5x3 l2=1e-3 gtol={GTOL:g} c2={c2}"
    res = _run(benchmark, impl, _softmax(x, labels), np.zeros(x.shape[1] * 3), c2)
    assert res.success
    assert np.max(np.abs(res.jac)) <= GTOL
