"""fastloss.models.LinearRegression: the noiseless solution with every optimizer, the ridge
closed form (and scikit-learn's Ridge: what alpha means), robust losses against outliers,
and the closed-form R^2 on the California housing data (when present)."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from _models_support import least_squares, regression_problem, settings_for
from _support import housing_csv
from fastloss.models import OPTIMIZERS, LinearRegression


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_linear_regression_recovers_noiseless_solution(optimizer, rng):
    X, y, coef = regression_problem(rng)
    model = LinearRegression(optimizer=optimizer,
                             **settings_for(optimizer, random_state=0, tol=None)).fit(X, y)
    np.testing.assert_allclose(model.coef_, coef, atol=2e-2)
    assert model.intercept_ == pytest.approx(0.7, abs=2e-2)
    assert model.score(X, y) > 0.999
    assert len(model.loss_curve_) >= 1 and model.n_iter_ >= 1
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
    # constant-rate Adam ends where its steps jitter: at lr=0.01 in batches of 64 the final
    # R^2 missed the bound for about half the seeds; here the worst of 24 seeds is 0.002 off
    settings = dict(max_iter=500, tol=1e-8) if optimizer == "cg" else \
        dict(lr=0.003, max_iter=40, batch_size=256, tol=None, random_state=0)
    model = LinearRegression(optimizer=optimizer, **settings).fit(X, y)
    assert model.score(X, y) >= best_r2 - 0.005
