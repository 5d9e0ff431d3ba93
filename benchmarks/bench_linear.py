"""Per-sample SGD epochs: fastloss.sgd_epoch vs the reference Python loop and scikit-learn.

Groups are (rule, n samples, d features, dtype), so each table reads as a speedup table
for the same work. The reference loop runs only at n = 2000 (about 10 us per sample);
at n = 10^5 fastloss is compared with scikit-learn's ``SGDRegressor.partial_fit`` (one
epoch, constant learning rate, no penalty, no shuffling: the same updates as ours).
``extra_info["samples"]`` holds n, so samples/s = samples / time.
"""

import warnings

import numpy as np
import pytest
from _peers import DTYPES, skip_unless

import fastloss

try:
    from sklearn.linear_model import SGDRegressor
except ImportError:
    SGDRegressor = None

LR = 1e-3
SIZES = [2000, 10**5]
FEATURES = [10, 100]


def _data(n, d, dtype, loss="squared_error"):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d)).astype(dtype)
    z = X.astype(np.float64) @ rng.normal(size=d) / np.sqrt(d)
    if loss == "softmax":
        return X, np.digitize(z, [-0.5, 0.5])
    if loss == "logistic":
        return X, (z > 0).astype(dtype)
    return X, z.astype(dtype)


def _params(d, dtype, loss):
    if loss == "softmax":
        return np.zeros((d, 3), dtype), np.zeros(3, dtype)
    return np.zeros(d, dtype), np.zeros(1, dtype)


@pytest.mark.parametrize("impl", ["fastloss", "numpy", "sklearn"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", FEATURES)
@pytest.mark.parametrize("n", SIZES)
def bench_sgd_epoch(benchmark, n, d, dtype, impl):
    """Plain SGD, squared error, constant learning rate: one epoch over n samples."""
    X, y = _data(n, d, dtype)
    benchmark.group = f"sgd_epoch sgd n={n:.0e} d={d} {dtype}"
    benchmark.extra_info["samples"] = n
    coef, b = _params(d, dtype, "squared_error")
    if impl == "sklearn":
        skip_unless(SGDRegressor, "scikit-learn")
        model = SGDRegressor(learning_rate="constant", eta0=LR, penalty=None, shuffle=False,
                             max_iter=1, tol=None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            benchmark(model.partial_fit, X, y)
        assert np.all(np.isfinite(model.coef_))
        return
    if impl == "numpy" and n > 2000:
        pytest.skip("the reference loop is timed on n = 2000 (compare per sample)")
    with fastloss.use_backend("c" if impl == "fastloss" else "numpy"):
        mean, state = benchmark(fastloss.sgd_epoch, X, y, coef, b, lr=LR)
    assert np.isfinite(mean) and np.all(np.isfinite(coef))


RULES = [("squared_error", "momentum"), ("squared_error", "adam"), ("logistic", "sgd"),
         ("huber", "rmsprop"), ("softmax", "sgd"), ("softmax", "adam")]


@pytest.mark.parametrize("impl", ["fastloss", "numpy"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("loss,optimizer", RULES)
def bench_sgd_epoch_rules(benchmark, loss, optimizer, n, dtype, impl):
    """Other losses and update rules at d = 10 (softmax: 3 classes)."""
    d = 10
    X, y = _data(n, d, dtype, loss)
    benchmark.group = f"sgd_epoch {loss}+{optimizer} n={n:.0e} d={d} {dtype}"
    benchmark.extra_info["samples"] = n
    if impl == "numpy" and n > 2000:
        pytest.skip("the reference loop is timed on n = 2000 (compare per sample)")
    coef, b = _params(d, dtype, loss)
    with fastloss.use_backend("c" if impl == "fastloss" else "numpy"):
        mean, _ = benchmark(fastloss.sgd_epoch, X, y, coef, b, loss=loss,
                            optimizer=optimizer, lr=LR)
    assert np.isfinite(mean)


@pytest.mark.parametrize("impl", ["fastloss", "numpy"])
@pytest.mark.parametrize("loss", ["squared_error", "softmax"])
def bench_linear_value_and_grad(benchmark, loss, impl):
    """A mini-batch gradient (256 x 100, float32): loss kernels + BLAS vs the reference."""
    X, y = _data(256, 100, "float32", loss)
    coef, b = _params(100, "float32", loss)
    benchmark.group = f"linear_value_and_grad {loss} 256x100 float32"
    with fastloss.use_backend("c" if impl == "fastloss" else "numpy"):
        value, _, _ = benchmark(fastloss.linear_value_and_grad, X, y, coef, b, loss=loss)
    assert np.isfinite(value)
