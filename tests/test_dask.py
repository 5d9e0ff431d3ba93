"""fastloss on a real Dask cluster: the distributed objective and the models' fit against
the in-memory results, lazy predictions, the plain kernels' TypeError, a lost worker.

A 2-worker LocalCluster (processes, loopback only) serves the whole module; every call
that waits on it is bounded (``_bounded``), so a broken cluster fails a test instead of
hanging the suite."""

import concurrent.futures
import os
import subprocess
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

import fastloss  # noqa: E402
import fastloss.dask as fdask  # noqa: E402
from fastloss.models import LinearRegression, SoftmaxRegression  # noqa: E402

from _support import fresh_params, make_problem  # noqa: E402

#: seconds any one test may wait on the cluster
LIMIT = 60
CHUNK = 70  # rows per chunk: several chunks per worker, a ragged last one


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    c = distributed.Client(cluster, timeout=LIMIT)
    try:
        yield c
    finally:
        c.close(timeout=LIMIT)
        cluster.close(timeout=LIMIT)


def _bounded(func, *args, **kwargs):
    """``func(*args, **kwargs)``, failing the test if it takes more than LIMIT seconds."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        return pool.submit(func, *args, **kwargs).result(timeout=LIMIT)
    except concurrent.futures.TimeoutError:
        pytest.fail(f"{func.__name__} did not return within {LIMIT} s")
    finally:
        pool.shutdown(wait=False)


def _rows(a):
    return da.from_array(a, chunks=(CHUNK,) + a.shape[1:])


def _relative(actual, expected):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-12))


# ---- the distributed objective ----------------------------------------------------------

OBJECTIVE_CASES = [(loss, c) for loss in ("squared_error", "absolute", "huber", "logistic")
                   for c in (1,)] + [("softmax", 2), ("softmax", 5)]


@pytest.mark.parametrize("loss,n_classes", OBJECTIVE_CASES)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_objective_matches_in_memory(client, loss, n_classes, weighted, intercept, dtype):
    rng = np.random.default_rng([7, n_classes, weighted, intercept])
    X, y, shape = make_problem(rng, loss, 500, 4, dtype)
    if loss == "softmax":
        y = rng.integers(0, n_classes, size=len(y))
        shape = (4, n_classes)
    coef, b = fresh_params(rng, shape, dtype, intercept)
    w = rng.random(len(y)).astype(dtype) if weighted else None
    kw = dict(loss=loss, alpha=0.1, epsilon=0.7, sample_weight=w)
    expected = fastloss.linear_value_and_grad(X, y, coef, b, **kw)
    got = _bounded(fdask.linear_value_and_grad, _rows(X), _rows(y), coef, b,
                   **dict(kw, sample_weight=None if w is None else _rows(w)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert got[0].dtype == dtype and got[1].dtype == dtype and got[1].shape == coef.shape
    np.testing.assert_allclose(got[0], expected[0], rtol=rtol)
    np.testing.assert_allclose(got[1], expected[1], rtol=rtol, atol=rtol * 1e-2)
    if intercept:
        np.testing.assert_allclose(got[2], expected[2], rtol=rtol, atol=rtol * 1e-2)
    else:
        assert got[2] is None


def test_prepared_data_is_reused_across_evaluations(client):
    rng = np.random.default_rng(1)
    X, y, shape = make_problem(rng, "logistic", 300, 3, np.float64)
    w = rng.integers(0, 4, size=300).astype(np.float64)
    data = _bounded(fdask.prepare, _rows(X), _rows(y), _rows(w), loss="logistic")
    try:
        assert (data.n_samples, data.n_features) == (300, 3)
        assert data.weight_sum == w.sum() and len(data.parts) == -(-300 // CHUNK)
        for seed in range(3):
            coef, b = fresh_params(np.random.default_rng(seed), shape, np.float64)
            got = _bounded(fdask.linear_value_and_grad, data, None, coef, b, loss="logistic")
            want = fastloss.linear_value_and_grad(X, y, coef, b, loss="logistic",
                                                  sample_weight=w)
            np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
            np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    finally:
        data.release()


@pytest.mark.parametrize("bad,match", [
    ("nan_x", "X contains NaN"), ("labels", "0 or 1"), ("weights", "finite and >= 0"),
    ("numpy_x", "dask.array.Array"), ("length", "500 entries")])
def test_objective_bad_input(client, bad, match):
    rng = np.random.default_rng(2)
    X, y, shape = make_problem(rng, "logistic", 500, 3, np.float64)
    coef, b = fresh_params(rng, shape, np.float64)
    w = np.ones(500)
    Xd = _rows(X)
    if bad == "nan_x":
        X[321, 1] = np.nan
        Xd = _rows(X)
    elif bad == "labels":
        y[3] = 2.0
    elif bad == "weights":
        w[10] = -1.0
    elif bad == "numpy_x":
        Xd = X
    elif bad == "length":
        y = y[:-1]
    with pytest.raises((TypeError, ValueError), match=match):
        _bounded(fdask.linear_value_and_grad, Xd, y, coef, b, loss="logistic",
                 sample_weight=w)


# ---- the models' fit --------------------------------------------------------------------

def _regression(rng, n=600, d=5):
    X = rng.normal(size=(n, d)) * np.linspace(1.0, 3.0, d)
    y = X @ rng.normal(size=d) + 0.5 + 0.3 * rng.normal(size=n)
    return X, y


def _classes(rng, n_classes, n=600, d=4):
    X = rng.normal(size=(n, d))
    logits = X @ rng.normal(size=(d, n_classes)) + 0.3 * rng.normal(size=(n, n_classes))
    return X, np.argmax(logits, axis=1)


def _assert_same_model(got, want, rtol):
    assert _relative(got.coef_, want.coef_) < rtol
    assert _relative(got.intercept_, want.intercept_) < rtol


@pytest.mark.parametrize("optimizer", ["lbfgs", "cg", "cholesky"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_regression_fit_matches_in_memory(client, optimizer, fit_intercept):
    X, y = _regression(np.random.default_rng(3))
    params = dict(optimizer=optimizer, alpha=0.01, fit_intercept=fit_intercept, tol=1e-8)
    want = LinearRegression(**params).fit(X, y)
    got = _bounded(LinearRegression(**params).fit, _rows(X), _rows(y))
    _assert_same_model(got, want, 1e-4)
    assert got.n_features_in_ == 5


def test_huber_fit_matches_in_memory(client):
    X, y = _regression(np.random.default_rng(4))
    want = LinearRegression(loss="huber", alpha=0.01).fit(X, y)
    got = _bounded(LinearRegression(loss="huber", alpha=0.01).fit, _rows(X), _rows(y))
    _assert_same_model(got, want, 1e-4)


def test_absolute_error_fit_reaches_the_in_memory_objective(client):
    # the absolute error is not smooth: L-BFGS stops anywhere in a flat neighbourhood, at a
    # point that last-bit differences move (~3e-4 here, objectives 2e-6 apart), so compare
    # the objective reached
    X, y = _regression(np.random.default_rng(4))
    want = LinearRegression(loss="absolute_error", alpha=0.01).fit(X, y)
    got = _bounded(LinearRegression(loss="absolute_error", alpha=0.01).fit, _rows(X), _rows(y))

    def objective(m):
        return fastloss.linear_value_and_grad(X, y, m.coef_, np.array([m.intercept_]),
                                              loss="absolute", alpha=0.01)[0]

    assert objective(got) == pytest.approx(objective(want), rel=1e-5)


@pytest.mark.parametrize("n_classes", [2, 5])
def test_softmax_fit_matches_in_memory(client, n_classes):
    X, t = _classes(np.random.default_rng(5), n_classes)
    labels = np.array(["a", "b", "c", "d", "e"])[t]  # any sortable labels
    want = SoftmaxRegression(alpha=1e-3).fit(X, labels)
    got = _bounded(SoftmaxRegression(alpha=1e-3).fit, _rows(X), _rows(labels))
    assert list(got.classes_) == list(want.classes_)
    _assert_same_model(got, want, 1e-4)


def test_five_class_accuracy_matches_scikit_learn(client):
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, t = _classes(np.random.default_rng(14), 5, n=1500)
    t[::7] = np.random.default_rng(15).integers(0, 5, size=len(t[::7]))  # label noise
    sk = linear_model.LogisticRegression(C=1.0).fit(X, t)
    # alpha = 1 / (C n): the objective scikit-learn minimizes for more than two classes
    got = _bounded(SoftmaxRegression(alpha=1.0 / len(t)).fit, _rows(X), _rows(t))
    accuracy = _bounded(got.score, _rows(X), _rows(t))
    assert abs(accuracy - sk.score(X, t)) <= 0.005


def test_integer_sample_weight_equals_in_memory_weighted_fit(client):
    rng = np.random.default_rng(6)
    X, y = _regression(rng)
    w = rng.integers(0, 4, size=len(y))
    want = LinearRegression(tol=1e-8).fit(X, y, sample_weight=w)
    # and an integer weight counts as repeated rows
    repeated = LinearRegression(optimizer="cholesky").fit(np.repeat(X, w, axis=0),
                                                          np.repeat(y, w))
    got = _bounded(LinearRegression(tol=1e-8).fit, _rows(X), _rows(y), sample_weight=_rows(w))
    _assert_same_model(got, want, 1e-4)
    _assert_same_model(got, repeated, 1e-4)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 2: 0.5}])
def test_class_weight_equals_in_memory(client, class_weight):
    rng = np.random.default_rng(7)
    X, t = _classes(rng, 3)
    w = rng.random(len(t))
    want = SoftmaxRegression(class_weight=class_weight).fit(X, t, sample_weight=w)
    got = _bounded(SoftmaxRegression(class_weight=class_weight).fit, _rows(X), _rows(t),
                   sample_weight=w)  # in-memory weights with Dask X: aligned to X's chunks
    _assert_same_model(got, want, 1e-4)


@pytest.mark.parametrize("optimizer,batch_size", [("sgd", 1), ("adam", 10)])
def test_unshuffled_epochs_equal_in_memory(client, optimizer, batch_size):
    # chunk after chunk in order, the optimizer state carried along, is the in-memory epoch
    # (batches of 10 do not straddle the chunks of 70 rows)
    X, y = _regression(np.random.default_rng(8), n=420)
    params = dict(optimizer=optimizer, batch_size=batch_size, shuffle=False, max_iter=4,
                  tol=None, lr=0.01)
    want = LinearRegression(**params).fit(X, y)
    got = _bounded(LinearRegression(**params).fit, _rows(X), _rows(y))
    _assert_same_model(got, want, 1e-10)
    np.testing.assert_allclose(got.loss_curve_, want.loss_curve_, rtol=1e-10)


def test_shuffled_sgd_reaches_the_optimum(client):
    X, y = _regression(np.random.default_rng(9))
    best = LinearRegression(optimizer="cholesky").fit(X, y)
    got = _bounded(LinearRegression(optimizer="sgd", random_state=0, max_iter=30).fit,
                   _rows(X), _rows(y))
    assert _relative(got.coef_, best.coef_) < 0.05
    again = _bounded(LinearRegression(optimizer="sgd", random_state=0, max_iter=30).fit,
                     _rows(X), _rows(y))
    np.testing.assert_array_equal(again.coef_, got.coef_)  # reproducible from the seed


def test_fit_bad_input(client):
    X, y = _regression(np.random.default_rng(10))
    y[5] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        _bounded(LinearRegression().fit, _rows(X), _rows(y))
    with pytest.raises(ValueError, match="at least 2 classes"):
        _bounded(SoftmaxRegression().fit, _rows(X), _rows(np.zeros(len(y), int)))
    with pytest.raises(TypeError, match="partial_fit"):
        LinearRegression().partial_fit(_rows(X), _rows(y))


# ---- the GLM losses -----------------------------------------------------------------------

def _glm_targets(rng, loss, X, power=1.5):
    """Targets of mean exp(0.3 X w + 0.5) in the loss's domain: counts (poisson), compound
    Poisson-gamma with zeros (tweedie, power < 2), gamma draws; any reals for pinball."""
    z = 0.3 * X @ rng.normal(size=X.shape[1]) / np.sqrt(X.shape[1]) + 0.5
    if loss == "pinball":
        return z + rng.normal(size=len(z))
    y = rng.poisson(np.exp(z)).astype(np.float64)
    if loss == "poisson":
        return y
    if loss == "tweedie" and power < 2:
        return y * rng.gamma(2.0, 0.5, size=len(z))
    return rng.gamma(2.0, np.exp(z) / 2.0)


GLM_CASES = [("poisson", {}), ("gamma", {}), ("tweedie", {"power": 1.5}),
             ("tweedie", {"power": 3.0}), ("pinball", {"quantile": 0.3})]


@pytest.mark.parametrize("loss,kw", GLM_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_glm_objective_matches_in_memory(client, loss, kw, weighted, dtype):
    rng = np.random.default_rng([21, weighted, len(loss)])
    X = rng.normal(size=(500, 4)).astype(dtype)
    y = _glm_targets(rng, loss, X, kw.get("power", 1.5)).astype(dtype)
    coef, b = fresh_params(rng, (4,), dtype)
    w = rng.random(len(y)).astype(dtype) if weighted else None
    args = dict(kw, loss=loss, alpha=0.1, sample_weight=w)
    expected = fastloss.linear_value_and_grad(X, y, coef, b, **args)
    got = _bounded(fdask.linear_value_and_grad, _rows(X), _rows(y), coef, b,
                   **dict(args, sample_weight=None if w is None else _rows(w)))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert got[0].dtype == dtype and got[1].dtype == dtype
    np.testing.assert_allclose(got[0], expected[0], rtol=rtol)
    np.testing.assert_allclose(got[1], expected[1], rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(got[2], expected[2], rtol=rtol, atol=rtol * 1e-2)


@pytest.mark.parametrize("loss,kw", GLM_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("optimizer", ["lbfgs", "cg"])
def test_glm_fit_matches_in_memory(client, loss, kw, optimizer):
    rng = np.random.default_rng([22, len(loss)])
    X = rng.normal(size=(600, 5)) * np.linspace(0.5, 1.5, 5)
    y = _glm_targets(rng, loss, X, kw.get("power", 1.5))
    w = rng.uniform(0.5, 2.0, size=len(y))
    params = dict(kw, loss=loss, optimizer=optimizer, alpha=0.01, tol=1e-10, max_iter=500)
    want = LinearRegression(**params).fit(X, y, sample_weight=w)
    got = _bounded(LinearRegression(**params).fit, _rows(X), _rows(y), sample_weight=_rows(w))
    # pinball is not smooth: L-BFGS stops anywhere in a flat neighbourhood (see the
    # absolute error above): compare the objective reached
    if loss == "pinball":
        def objective(m):
            return fastloss.linear_value_and_grad(X, y, m.coef_, np.array([m.intercept_]),
                                                  sample_weight=w, loss=loss, alpha=0.01,
                                                  **kw)[0]

        assert objective(got) == pytest.approx(objective(want), rel=1e-5)
    else:
        _assert_same_model(got, want, 1e-6)
    np.testing.assert_allclose(_bounded(lambda: got.predict(_rows(X)).compute()),
                               got.predict(X), rtol=1e-12)


@pytest.mark.parametrize("loss,kw", GLM_CASES, ids=lambda v: str(v))
@pytest.mark.parametrize("weighted", [False, True])
def test_glm_score_matches_in_memory(client, loss, kw, weighted):
    """score on Dask arrays: D^2 (the share of the deviance explained) for the log-link
    losses, R^2 for pinball, as the in-memory score."""
    rng = np.random.default_rng([25, weighted, len(loss)])
    X = rng.normal(size=(500, 4))
    y = _glm_targets(rng, loss, X, kw.get("power", 1.5))
    w = rng.uniform(0.5, 2.0, size=len(y)) if weighted else None
    reg = LinearRegression(loss=loss, alpha=0.01, **kw).fit(X, y)
    want = reg.score(X, y, w)
    if loss != "pinball":  # (a 0.3-quantile's R^2 is below 0) a real fit: not the null model
        assert 0.01 < want < 1.0
    got = _bounded(reg.score, _rows(X), _rows(y), None if w is None else _rows(w))
    assert got == pytest.approx(want, rel=1e-12)


def test_glm_score_checks_targets_like_in_memory(client):
    rng = np.random.default_rng(26)
    X = rng.normal(size=(300, 3))
    y = _glm_targets(rng, "gamma", X)
    reg = LinearRegression(loss="gamma").fit(X, y)
    y[211] = y[250] = 0.0  # the first, in a later chunk, is named with its global index
    match = r"valid range of loss='gamma': y must be > 0, found 0.0 at y\[211\]"
    with pytest.raises(ValueError, match=match):
        reg.score(X, y)
    with pytest.raises(ValueError, match=match):
        _bounded(reg.score, _rows(X), _rows(y))


def test_glm_stochastic_epochs_equal_in_memory(client):
    """Unshuffled per-sample SGD of the poisson loss, chunk after chunk, from the log-mean
    intercept: the in-memory epochs."""
    rng = np.random.default_rng(23)
    X = rng.normal(size=(420, 4))
    y = _glm_targets(rng, "poisson", X)
    params = dict(loss="poisson", optimizer="sgd", shuffle=False, max_iter=3, tol=None,
                  lr=0.01)
    want = LinearRegression(**params).fit(X, y)
    got = _bounded(LinearRegression(**params).fit, _rows(X), _rows(y))
    _assert_same_model(got, want, 1e-10)
    np.testing.assert_allclose(got.loss_curve_, want.loss_curve_, rtol=1e-10)


@pytest.mark.parametrize("loss,kw,bad,match", [
    ("poisson", {}, -1.0, r"valid range of loss='poisson': y must be >= 0, found -1.0 at "
                          r"y\[211\]"),
    ("gamma", {}, 0.0, r"valid range of loss='gamma': y must be > 0, found 0.0 at y\[211\]"),
    ("tweedie", {"power": 2.5}, 0.0, r"loss='tweedie' \(power=2.5\): y must be > 0"),
])
def test_glm_fit_checks_targets_like_in_memory(client, loss, kw, bad, match):
    rng = np.random.default_rng(24)
    X = rng.normal(size=(300, 3))
    y = _glm_targets(rng, "gamma", X)
    y[211] = bad
    y[250] = bad  # a later one, in another chunk: the first is named
    with pytest.raises(ValueError, match=match):
        LinearRegression(loss=loss, **kw).fit(X, y)
    with pytest.raises(ValueError, match=match):
        _bounded(LinearRegression(loss=loss, **kw).fit, _rows(X), _rows(y))
    coef, b = np.zeros(3), np.zeros(1)
    in_memory = r"y must be .* for loss=.*, found .* at y\[211\]"
    with pytest.raises(ValueError, match=in_memory):
        fastloss.linear_value_and_grad(X, y, coef, b, loss=loss, **kw)
    with pytest.raises(ValueError, match=in_memory):
        _bounded(fdask.linear_value_and_grad, _rows(X), _rows(y), coef, b, loss=loss, **kw)


# ---- lazy predictions -------------------------------------------------------------------

def test_predictions_are_lazy_and_equal_in_memory(client):
    rng = np.random.default_rng(11)
    X, t = _classes(rng, 3)
    clf = SoftmaxRegression().fit(X, t)
    Xd = _rows(X)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        lazy = getattr(clf, method)(Xd)
        assert isinstance(lazy, da.Array), method
        np.testing.assert_allclose(_bounded(lazy.compute), getattr(clf, method)(X),
                                   rtol=1e-12, err_msg=method)
    assert _bounded(clf.score, Xd, _rows(t)) == pytest.approx(clf.score(X, t), abs=1e-15)
    binary = SoftmaxRegression().fit(X, t == 0)
    assert binary.decision_function(Xd).shape == (len(t),)
    Xr, y = _regression(rng)
    w = rng.random(len(y))
    reg = LinearRegression().fit(Xr, y)
    np.testing.assert_allclose(_bounded(reg.predict(_rows(Xr)).compute), reg.predict(Xr),
                               rtol=1e-12)
    assert _bounded(reg.score, _rows(Xr), _rows(y), _rows(w)) == pytest.approx(
        reg.score(Xr, y, w), rel=1e-12)


# ---- the plain kernels refuse Dask input ------------------------------------------------

def test_kernels_raise_type_error_on_dask_input():
    x = da.ones((100,), chunks=25)
    X = da.ones((100, 3), chunks=(25, 3))
    calls = {
        "mse_loss": lambda: fastloss.mse_loss(x, np.ones(100)),
        "cross_entropy": lambda: fastloss.cross_entropy(X, np.zeros(100, int)),
        "sgd_epoch": lambda: fastloss.sgd_epoch(X, np.ones(100), np.zeros(3), None),
        "linear_value_and_grad": lambda: fastloss.linear_value_and_grad(
            X, np.ones(100), np.zeros(3), None),
        "sgd update": lambda: fastloss.optim.SGD([np.zeros(100)], lr=0.1).step([x]),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError, match="fastloss.dask"):
            call()


def test_import_error_names_the_extra():
    code = "import sys; sys.modules['dask'] = None; import fastloss.dask"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=LIMIT)
    assert proc.returncode != 0
    assert 'pip install "fastloss[dask]"' in proc.stderr


def test_fit_never_gathers_the_data_to_the_client(client):
    # X (32 MB) is made on the workers; the client holds a fit's coefficients, gradients and
    # task messages only: its allocations stay well below 10% of X's size
    import tracemalloc

    X = da.random.RandomState(0).normal(size=(80_000, 50), chunks=(8_000, 50)).persist()
    y = (X[:, 0] - X[:, 1] > 0).astype(int).persist()
    _bounded(distributed.wait, [X, y])
    tracemalloc.start()
    try:
        model = _bounded(SoftmaxRegression(max_iter=5, tol=None).fit, X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.n_iter_ == 5
    assert peak < 0.1 * X.nbytes, f"the client allocated {peak} bytes during the fit"


# ---- a lost worker ----------------------------------------------------------------------

def test_fit_survives_a_killed_worker(client, monkeypatch):
    X, t = _classes(np.random.default_rng(12), 3, n=900)
    want = SoftmaxRegression(tol=1e-8).fit(X, t)
    calls = [0]
    evaluate = fdask.PreparedData.value_and_grad

    async def die():  # a coroutine: client.run(wait=False) takes only those
        os._exit(1)

    def kill_during_fit(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 3:  # mid-fit: a worker holding parts dies abruptly
            victim = sorted(client.scheduler_info()["workers"])[0]
            client.run(die, workers=[victim], wait=False)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(fdask.PreparedData, "value_and_grad", kill_during_fit)
    got = _bounded(SoftmaxRegression(tol=1e-8).fit, _rows(X), _rows(t))
    assert calls[0] > 3
    _assert_same_model(got, want, 1e-6)
    # the nanny brings the worker back: the cluster is whole for the tests after this one
    _bounded(client.wait_for_workers, 2, timeout=LIMIT)


def test_fit_raises_clearly_when_lost_data_cannot_be_recomputed(client, monkeypatch):
    # scattered data have no lineage: with its worker gone, the fit must end in a clear
    # exception within the bound, never wait for data that nobody can bring back
    X, t = _classes(np.random.default_rng(13), 3, n=700)
    victim = sorted(client.scheduler_info()["workers"])[0]
    blocks = [da.from_delayed(dask.delayed(client.scatter(X[i:i + CHUNK], workers=[victim])),
                              shape=X[i:i + CHUNK].shape, dtype=X.dtype)
              for i in range(0, len(X), CHUNK)]
    Xd = da.concatenate(blocks)
    calls = [0]
    evaluate = fdask.PreparedData.value_and_grad

    async def die():
        os._exit(1)

    def kill_during_fit(self, *args, **kwargs):
        calls[0] += 1
        if calls[0] == 2:
            client.run(die, workers=[victim], wait=False)
        return evaluate(self, *args, **kwargs)

    monkeypatch.setattr(fdask.PreparedData, "value_and_grad", kill_during_fit)
    with pytest.raises(RuntimeError, match="lost data"):
        _bounded(SoftmaxRegression(tol=1e-8).fit, Xd, _rows(t))
    _bounded(client.wait_for_workers, 2, timeout=LIMIT)



@pytest.mark.parametrize("n_classes,weighted", [(3, True), (2, False)])
def test_float32_first_stage_on_the_workers(client, monkeypatch, n_classes, weighted):
    """SoftmaxRegression's float32 first stage (lowered to every size here) runs on the
    workers too: the fit ends at the in-memory fit's minimum, and its path is the float32
    objective's (the curve's first values are not the float64 fit's)."""
    from fastloss.models import _base

    rng = np.random.default_rng(41)
    X, t = _classes(rng, n_classes, n=700, d=6)
    w = rng.uniform(0.5, 2.0, size=len(t)) if weighted else None
    params = dict(alpha=1e-3, tol=1e-6)
    plain = _bounded(SoftmaxRegression(**params).fit, _rows(X), _rows(t), sample_weight=w)
    monkeypatch.setattr(_base, "FLOAT32_STAGE_MIN_VALUES", 0)
    want = SoftmaxRegression(**params).fit(X, t, sample_weight=w)
    got = _bounded(SoftmaxRegression(**params).fit, _rows(X), _rows(t), sample_weight=w)
    _assert_same_model(got, want, 1e-4)
    _assert_same_model(got, plain, 1e-4)
    assert len(got.loss_curve_) == got.n_iter_
    assert got.loss_curve_[0] != plain.loss_curve_[0]
    assert got.loss_curve_[0] == pytest.approx(plain.loss_curve_[0], rel=1e-5)


def test_convergence_warning_points_at_the_callers_fit(client):
    """The ConvergenceWarning of a fit on Dask arrays names the line that called fit (not a
    frame inside fastloss.dask), as the in-memory fit's does."""
    import warnings

    X, t = _classes(np.random.default_rng(42), 3)

    def fit_and_record():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            SoftmaxRegression(max_iter=2).fit(_rows(X), _rows(t))
        return caught

    caught = _bounded(fit_and_record)
    found = [w for w in caught if "max_iter=2" in str(w.message)]
    assert found and all(w.filename == __file__ for w in found)
