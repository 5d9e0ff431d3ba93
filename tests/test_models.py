"""fastloss.models: exact solutions on synthetic data, every optimizer, the estimator API, the
real data sets (when present), and scikit-learn's estimator checks (when installed)."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss
from _support import housing_csv
from fastloss.models import OPTIMIZERS, LinearRegression, NotFittedError, SoftmaxRegression

# settings under which each optimizer converges on the small standardized problems below
SETTINGS = {
    "sgd": dict(lr=0.01, max_iter=60),
    "momentum": dict(lr=0.05, max_iter=150, batch_size=16),
    "adagrad": dict(lr=0.5, max_iter=200, batch_size=16),
    "rmsprop": dict(lr=0.01, max_iter=150, batch_size=16),
    "adam": dict(lr=0.05, max_iter=150, batch_size=16),
    "adamw": dict(lr=0.05, max_iter=150, batch_size=16),
    "cg": dict(max_iter=200, tol=1e-10),
}


def _settings(optimizer, **overrides):
    return {**SETTINGS[optimizer], **overrides}


def _regression_problem(rng, n=400, d=5, noise=0.0):
    X = rng.normal(size=(n, d))
    coef = rng.normal(size=d)
    y = X @ coef + 0.7 + noise * rng.normal(size=n)
    return X, y, coef


def _least_squares(X, y, alpha=0.0):
    """Closed form of mean(0.5 (Xw + b - y)^2) + alpha/2 |w|^2 (intercept unpenalized)."""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))])
    H = A.T @ A / n
    H[:d, :d] += alpha * np.eye(d)
    sol = np.linalg.solve(H, A.T @ y / n)
    return sol[:d], sol[d]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_linear_regression_recovers_noiseless_solution(optimizer, rng):
    X, y, coef = _regression_problem(rng)
    model = LinearRegression(optimizer=optimizer,
                             **_settings(optimizer, random_state=0, tol=None)).fit(X, y)
    np.testing.assert_allclose(model.coef_, coef, atol=2e-2)
    assert model.intercept_ == pytest.approx(0.7, abs=2e-2)
    assert model.score(X, y) > 0.999
    assert len(model.loss_curve_) >= 1 and model.n_iter_ >= 1
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_linear_regression_cg_matches_ridge_closed_form(rng):
    X, y, _ = _regression_problem(rng, noise=0.5)
    model = LinearRegression(optimizer="cg", alpha=0.3, max_iter=500, tol=1e-10).fit(X, y)
    w, b = _least_squares(X, y, alpha=0.3)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6, atol=1e-7)
    assert model.intercept_ == pytest.approx(b, abs=1e-7)


def test_squared_error_alpha_means_what_it_means_in_scikit_learn(rng):
    """loss="squared_error" is 0.5 r^2 (scikit-learn's SGDRegressor): the objective
    mean(0.5 r^2) + alpha/2 |w|^2 has the minimizer of Ridge(alpha=n * alpha)."""
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y, _ = _regression_problem(rng, noise=0.5)
    model = LinearRegression(optimizer="cg", alpha=0.3, max_iter=500, tol=1e-10).fit(X, y)
    ridge = sklearn_linear.Ridge(alpha=0.3 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(model.coef_, ridge.coef_, rtol=1e-6, atol=1e-7)
    assert model.intercept_ == pytest.approx(ridge.intercept_, abs=1e-7)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_ignore_outliers(loss, rng):
    X, y, coef = _regression_problem(rng, n=600)
    y_dirty = y.copy()
    y_dirty[:30] += 50.0  # 5% gross outliers
    robust = LinearRegression(loss=loss, optimizer="adam", lr=0.02, max_iter=300,
                              random_state=0, tol=None).fit(X, y_dirty)
    squared = LinearRegression(optimizer="cg", max_iter=300).fit(X, y_dirty)
    err_robust = np.abs(robust.coef_ - coef).max()
    err_squared = np.abs(squared.coef_ - coef).max()
    assert err_robust < 0.1
    assert err_robust < err_squared / 3


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_softmax_regression_separates_blobs(optimizer, rng):
    centers = np.array([[0.0, 4.0], [4.0, 0.0], [-4.0, -4.0]])
    y = np.repeat(np.arange(3), 60)
    X = centers[y] + rng.normal(size=(180, 2))
    settings = _settings(optimizer, random_state=0)
    if optimizer == "cg":
        settings.update(alpha=1e-2)  # separable data: the penalty keeps the minimum finite
    model = SoftmaxRegression(optimizer=optimizer, **settings).fit(X, y)
    assert model.score(X, y) > 0.97
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert model.coef_.shape == (3, 2) and model.intercept_.shape == (3,)
    assert (model.predict(X) == model.classes_[proba.argmax(axis=1)]).all()


def test_softmax_cg_matches_reference_objective_minimum(rng):
    """At the CG solution the gradient of the penalized mean cross-entropy vanishes."""
    X = rng.normal(size=(200, 3))
    y = rng.integers(0, 4, size=200)
    model = SoftmaxRegression(optimizer="cg", alpha=0.1, max_iter=1000, tol=1e-9).fit(X, y)
    with fastloss.use_backend("numpy"):
        z = X @ model.coef_.T + model.intercept_
        _, dz = fastloss.cross_entropy_value_and_grad(z, y)
    np.testing.assert_allclose(X.T @ dz + 0.1 * model.coef_.T, 0.0, atol=1e-7)
    np.testing.assert_allclose(dz.sum(axis=0), 0.0, atol=1e-7)


def test_string_labels_and_binary_case(rng):
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    model = SoftmaxRegression(optimizer="adam", lr=0.1, max_iter=100, random_state=1).fit(X, y)
    assert list(model.classes_) == ["no", "yes"]
    assert model.score(X, y) > 0.95
    assert model.predict(X[:3]).dtype == y.dtype


def test_same_seed_same_model_other_seed_differs(rng):
    X, y, _ = _regression_problem(rng, noise=1.0)
    fits = [LinearRegression(optimizer="adam", max_iter=5, tol=None, random_state=s).fit(X, y)
            for s in (3, 3, 4)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert not np.array_equal(fits[0].coef_, fits[2].coef_)


def test_early_stopping_stops_before_max_iter(rng):
    X, y, _ = _regression_problem(rng, noise=1.0)
    model = LinearRegression(optimizer="adam", lr=0.05, max_iter=500, tol=1e-3,
                             n_iter_no_change=3, random_state=0).fit(X, y)
    assert model.n_iter_ < 500
    no_stop = LinearRegression(optimizer="adam", lr=0.05, max_iter=20, tol=None,
                               random_state=0).fit(X, y)
    assert no_stop.n_iter_ == 20


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_partial_fit_continues_like_fit(optimizer, rng):
    X, y, _ = _regression_problem(rng, noise=0.1)
    full = LinearRegression(optimizer=optimizer, max_iter=4, tol=None, random_state=7).fit(X, y)
    part = LinearRegression(optimizer=optimizer, max_iter=4, tol=None, random_state=7)
    for _ in range(4):
        part.partial_fit(X, y)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12)
    assert part.n_iter_ == 4


def test_set_params_between_partial_fits_takes_effect(rng):
    X, y, _ = _regression_problem(rng, noise=0.1)
    model = LinearRegression(optimizer="adam", lr=0.01, random_state=0).partial_fit(X, y)
    adam_state = model._opt_state
    model.set_params(lr=0.5).partial_fit(X, y)
    assert model._opt_state is adam_state and adam_state.lr == 0.5  # same state, new rate
    model.set_params(optimizer="momentum").partial_fit(X, y)
    assert type(model._opt_state).__name__ == "SGD"  # fresh state for the new optimizer
    model.set_params(optimizer="sgd", lr=0.001).partial_fit(X, y)
    assert type(model._opt_state).__name__ == "EpochState"
    assert model.n_iter_ == 4 and np.isfinite(model.coef_).all()


def test_partial_fit_classes_and_unseen_label(rng):
    X = rng.normal(size=(30, 2))
    model = SoftmaxRegression(max_iter=1)
    model.partial_fit(X, np.zeros(30, dtype=int), classes=[0, 1, 2])
    assert list(model.classes_) == [0, 1, 2] and model.coef_.shape == (3, 2)
    with pytest.raises(ValueError, match="not seen"):
        model.partial_fit(X, np.full(30, 5))


def test_float32_stays_float32(rng):
    X, y, coef = _regression_problem(rng)
    model = LinearRegression(optimizer="adam", lr=0.05, max_iter=100, tol=None,
                             random_state=0).fit(X.astype(np.float32), y.astype(np.float32))
    assert model.coef_.dtype == np.float32
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model.coef_, coef, atol=5e-2)


def test_numpy_backend_gives_the_same_model(rng):
    X, y, _ = _regression_problem(rng, noise=0.3)
    c_model = LinearRegression(optimizer="adam", max_iter=10, tol=None, random_state=0).fit(X, y)
    with fastloss.use_backend("numpy"):
        np_model = LinearRegression(optimizer="adam", max_iter=10, tol=None,
                                    random_state=0).fit(X, y)
    np.testing.assert_allclose(c_model.coef_, np_model.coef_, rtol=1e-9, atol=1e-12)


def test_pickle_round_trip(rng):
    X, y, _ = _regression_problem(rng)
    model = LinearRegression(optimizer="adam", max_iter=3, random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    clone.partial_fit(X, y)
    model.partial_fit(X, y)
    np.testing.assert_array_equal(clone.coef_, model.coef_)


def test_params_repr_and_errors(rng):
    model = LinearRegression(lr=0.5)
    assert model.get_params()["lr"] == 0.5
    assert "lr=0.5" in repr(model)
    assert model.set_params(optimizer="cg") is model and model.optimizer == "cg"
    with pytest.raises(ValueError, match="Invalid parameter 'learning_rate'"):
        model.set_params(learning_rate=1)
    X, y, _ = _regression_problem(rng, n=20)
    with pytest.raises(NotFittedError):
        LinearRegression().predict(X)
    for bad, error, match in [(dict(optimizer="lbfgs"), ValueError, "optimizer must be"),
                              (dict(loss="hinge"), ValueError, "loss must be"),
                              (dict(lr=-1.0), ValueError, "lr must be"),
                              (dict(lr=float("nan")), ValueError, "lr must be"),
                              (dict(lr="fast"), TypeError, "lr must be a real number"),
                              (dict(max_iter=0), ValueError, "max_iter must be"),
                              (dict(batch_size=2.5), TypeError, "batch_size must be an int"),
                              (dict(tol=-1.0), ValueError, "tol must be"),
                              (dict(epsilon=0.0), ValueError, "epsilon must be")]:
        with pytest.raises(error, match=match):
            LinearRegression(**bad).fit(X, y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(X, y[:-1])
    with pytest.raises(ValueError, match="NaN or inf"):
        LinearRegression().fit(np.where(X > 1, np.nan, X), y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        LinearRegression().fit(X[:, 0], y)
    fitted = LinearRegression(max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but LinearRegression is expecting 5"):
        fitted.predict(X[:, :4])
    with pytest.raises(ValueError, match="continuous"):
        SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError, match="only one class"):
        SoftmaxRegression().fit(X, np.zeros(20))


def test_diverging_training_raises_a_clear_error(rng):
    X, y, _ = _regression_problem(rng)
    with pytest.raises(FloatingPointError, match="lower lr"):
        LinearRegression(optimizer="momentum", lr=1e3, max_iter=50, tol=None).fit(X * 1e3, y)


# ---- the tutorial's applications on the real data ---------------------------------------

def test_iris_matches_logistic_regression_accuracy():
    sklearn = pytest.importorskip("sklearn")  # noqa: F841 - iris ships with scikit-learn
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = fastloss.datasets.load_iris()
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    scaler = StandardScaler().fit(X_tr)
    X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
    ref = LogisticRegression(max_iter=1000).fit(X_tr, y_tr).score(X_te, y_te)
    for optimizer in OPTIMIZERS:
        settings = _settings(optimizer, random_state=0, alpha=1e-2 if optimizer == "cg" else 0.0)
        acc = SoftmaxRegression(optimizer=optimizer, **settings).fit(X_tr, y_tr).score(X_te, y_te)
        assert acc >= ref - 0.02, (optimizer, acc, ref)


@pytest.mark.parametrize("optimizer", ["cg", "adam"])
def test_housing_reaches_closed_form_r2(optimizer):
    X, y = fastloss.datasets.load_housing(housing_csv())
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = y / 1e5  # in units of $100k, so a learning rate of order 0.01 fits
    w, b = _least_squares(X, y)
    best_r2 = 1 - np.sum((X @ w + b - y) ** 2) / np.sum((y - y.mean()) ** 2)
    settings = dict(max_iter=500, tol=1e-8) if optimizer == "cg" else \
        dict(lr=0.01, max_iter=40, batch_size=64, tol=None, random_state=0)
    model = LinearRegression(optimizer=optimizer, **settings).fit(X, y)
    assert model.score(X, y) >= best_r2 - 0.005


# ---- scikit-learn compatibility ---------------------------------------------------------

def _sklearn_checks():
    try:
        # the tags API (and expected_failed_checks) the models speak: scikit-learn >= 1.6
        from sklearn.utils import Tags  # noqa: F401
        from sklearn.utils.estimator_checks import parametrize_with_checks
    except ImportError:
        return pytest.mark.skip(reason="scikit-learn >= 1.6 not installed")
    sgd = LinearRegression(optimizer="sgd", lr=1e-5, max_iter=20, random_state=0)

    def expected_failures(estimator):
        # Plain per-sample SGD at a fixed rate cannot both stay finite on the checks' unscaled
        # data (X ~ 100) and reach R^2 > 0.5 in 20 epochs on their scaled data; the adam and cg
        # configurations pass every check.
        if estimator is sgd:
            return {"check_regressors_train": "fixed-rate SGD tuned for unscaled X is too slow"}
        return {}

    return parametrize_with_checks([
        LinearRegression(optimizer="cg", max_iter=100),
        LinearRegression(optimizer="adam", max_iter=30, random_state=0),
        sgd,
        SoftmaxRegression(optimizer="adam", lr=0.05, max_iter=50, random_state=0),
        SoftmaxRegression(optimizer="cg", alpha=1e-3, max_iter=100),
    ], expected_failed_checks=expected_failures)


@pytest.mark.filterwarnings("ignore:Estimator .* does not inherit from")
@_sklearn_checks()
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_pipeline_with_standard_scaler(rng):
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y, _ = _regression_problem(rng)
    X = X * [1, 10, 100, 1000, 0.01]
    pipe = make_pipeline(StandardScaler(), LinearRegression(optimizer="cg", max_iter=200))
    assert pipe.fit(X, y).score(X, y) > 0.9999
    again = clone(pipe).fit(X, y)
    np.testing.assert_allclose(again.predict(X), pipe.predict(X))
