"""fastloss.models.LinearRegression: the noiseless solution with every optimizer, the ridge
closed form (and scikit-learn's Ridge: what alpha means), robust losses against outliers,
and the closed-form R^2 on the California housing data (when present)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import fastloss
from _models_support import least_squares, regression_problem, settings_for
from _support import housing_csv
from fastloss.models import REGRESSION_OPTIMIZERS, LinearRegression


@pytest.mark.parametrize("optimizer", REGRESSION_OPTIMIZERS)
def test_linear_regression_recovers_noiseless_solution(optimizer, rng):
    X, y, coef = regression_problem(rng)
    model = LinearRegression(optimizer=optimizer,
                             **settings_for(optimizer, random_state=0, tol=None)).fit(X, y)
    np.testing.assert_allclose(model.coef_, coef, atol=2e-2)
    assert model.intercept_ == pytest.approx(0.7, abs=2e-2)
    assert model.score(X, y) > 0.999
    assert model.n_iter_ >= 1
    if optimizer == "cholesky":  # a direct solve: no iterates to record
        assert model.loss_curve_ == [] and model.n_iter_ == 1
    else:
        assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_linear_regression_cg_matches_ridge_closed_form(rng):
    X, y, _ = regression_problem(rng, noise=0.5)
    model = LinearRegression(optimizer="cg", alpha=0.3, max_iter=500, tol=1e-10).fit(X, y)
    w, b = least_squares(X, y, alpha=0.3)
    np.testing.assert_allclose(model.coef_, w, rtol=1e-6, atol=1e-7)
    assert model.intercept_ == pytest.approx(b, abs=1e-7)


def test_squared_error_alpha_means_what_it_means_in_scikit_learn(rng):
    """loss="squared_error" is 0.5 r^2 (scikit-learn's SGDRegressor): the objective
    mean(0.5 r^2) + alpha/2 |w|^2 has the minimizer of Ridge(alpha=n * alpha)."""
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X, y, _ = regression_problem(rng, noise=0.5)
    model = LinearRegression(optimizer="cg", alpha=0.3, max_iter=500, tol=1e-10).fit(X, y)
    ridge = sklearn_linear.Ridge(alpha=0.3 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(model.coef_, ridge.coef_, rtol=1e-6, atol=1e-7)
    assert model.intercept_ == pytest.approx(ridge.intercept_, abs=1e-7)


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_ignore_outliers(loss, rng):
    X, y, coef = regression_problem(rng, n=600)
    y_dirty = y.copy()
    y_dirty[:30] += 50.0  # 5% gross outliers
    robust = LinearRegression(loss=loss, optimizer="adam", lr=0.02, max_iter=300,
                              random_state=0, tol=None).fit(X, y_dirty)
    squared = LinearRegression(optimizer="cg", max_iter=300).fit(X, y_dirty)
    err_robust = np.abs(robust.coef_ - coef).max()
    err_squared = np.abs(squared.coef_ - coef).max()
    assert err_robust < 0.1
    assert err_robust < err_squared / 3


@pytest.mark.parametrize("optimizer", ["cg", "adam"])
def test_housing_reaches_closed_form_r2(optimizer):
    X, y = fastloss.datasets.load_housing(housing_csv())
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    y = y / 1e5  # in units of $100k, so a learning rate of order 0.01 fits
    w, b = least_squares(X, y)
    best_r2 = 1 - np.sum((X @ w + b - y) ** 2) / np.sum((y - y.mean()) ** 2)
    settings = dict(max_iter=500, tol=1e-8) if optimizer == "cg" else \
        dict(lr=0.01, max_iter=40, batch_size=64, tol=None, random_state=0)
    model = LinearRegression(optimizer=optimizer, **settings).fit(X, y)
    assert model.score(X, y) >= best_r2 - 0.005


def test_cholesky_needs_squared_error_and_fit_intercept_false_fits_none(rng):
    X, y, coef = regression_problem(rng)
    with pytest.raises(ValueError, match="needs loss='squared_error'"):
        LinearRegression(optimizer="cholesky", loss="huber").fit(X, y)
    y0 = X @ coef  # no intercept in the data
    for optimizer in ("cholesky", "lbfgs", "sgd"):
        model = LinearRegression(optimizer=optimizer, fit_intercept=False, random_state=0,
                                 tol=None if optimizer == "sgd" else 1e-8,
                                 max_iter=60).fit(X, y0 + 5.0)
        assert model.intercept_ == 0.0
        w, *_ = np.linalg.lstsq(X, y0 + 5.0, rcond=None)
        np.testing.assert_allclose(model.coef_, w, atol=2e-2 if optimizer == "sgd" else 1e-6)


def _housing_split():
    """The demo's problem (fastloss demo housing): the 8 numeric columns, an 80/20 split,
    standardized on the training rows, y in $100k; and the least-squares test R^2."""
    from fastloss import _demo

    X, y = fastloss.datasets.load_housing(housing_csv())
    X_tr, X_te, y_tr, y_te = _demo._split(X[:, :8], y / 1e5, 0.2, seed=0)
    X_tr, X_te = _demo._standardize(X_tr, X_te)
    w, b = least_squares(X_tr, y_tr)
    pred = X_te @ w + b
    best = 1 - np.sum((y_te - pred) ** 2) / np.sum((y_te - y_te.mean()) ** 2)
    return X_tr, X_te, y_tr, y_te, best


def test_defaults_reach_least_squares_on_housing():
    """LinearRegression() within 0.001 of the least-squares test R^2, every optimizer with
    its default hyper-parameters (seeds 0-2) within 0.005."""
    X_tr, X_te, y_tr, y_te, best = _housing_split()
    assert LinearRegression().fit(X_tr, y_tr).score(X_te, y_te) >= best - 0.001
    for optimizer in REGRESSION_OPTIMIZERS:
        for seed in range(3):
            model = LinearRegression(optimizer=optimizer, random_state=seed).fit(X_tr, y_tr)
            assert model.score(X_te, y_te) >= best - 0.005, (optimizer, seed)


def test_reaching_max_iter_warns_convergence_warning(rng):
    from fastloss.models import ConvergenceWarning

    X, y, _ = regression_problem(rng, noise=0.5)
    X = X * [1, 10, 100, 1000, 1e4]  # ill-conditioned: 3 iterations cannot converge
    for optimizer in ("lbfgs", "cg", "adam"):
        with pytest.warns(ConvergenceWarning, match="max_iter=3"):
            LinearRegression(optimizer=optimizer, max_iter=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LinearRegression().fit(X / [1, 10, 100, 1000, 1e4], y)  # converges: no warning
        LinearRegression(optimizer="adam", max_iter=3, tol=None).fit(X, y)  # no tolerance
    sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
    with pytest.warns(sklearn_exceptions.ConvergenceWarning):
        LinearRegression(optimizer="lbfgs", max_iter=1).fit(X, y)


@pytest.mark.parametrize("optimizer", ["lbfgs", "cg"])
def test_full_batch_solvers_converge_on_raw_unscaled_features(optimizer, rng):
    """The standardized coordinates: features in wildly different units and offsets converge
    to the closed form in about as many iterations as standardized ones."""
    X, y, _ = regression_problem(rng, noise=0.5)
    raw = X * [1, 10, 100, 1e3, 1e4] + [0, -100, 5e3, 1e5, -3e6]
    fitted = LinearRegression(optimizer=optimizer, tol=1e-8, max_iter=200).fit(raw, y)
    w, b = least_squares(raw, y)
    np.testing.assert_allclose(fitted.predict(raw), raw @ w + b, rtol=1e-6, atol=1e-6)
    scaled = LinearRegression(optimizer=optimizer, tol=1e-8, max_iter=200).fit(X, y)
    assert fitted.n_iter_ <= 2 * scaled.n_iter_ + 5
