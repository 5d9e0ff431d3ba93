"""Sample and class weights in fastloss.models (_base._fit, SoftmaxRegression._weights):
integer weights equal repeated rows for the full-batch optimizers, class_weight="balanced"
equals its sample weights, dict class weights, and bad weights raise before training."""

from __future__ import annotations

import numpy as np
import pytest

from _models_support import regression_problem
from fastloss.models import LinearRegression, SoftmaxRegression

FULL_BATCH = [dict(optimizer="lbfgs", tol=1e-10, max_iter=500),
              dict(optimizer="cg", tol=1e-10, max_iter=1000),
              dict(optimizer="cholesky")]


@pytest.mark.parametrize("settings", FULL_BATCH, ids=lambda s: s["optimizer"])
def test_integer_sample_weight_equals_repeated_rows(settings, rng):
    X, y, _ = regression_problem(rng, n=120, noise=0.5)
    w = rng.integers(0, 4, size=120)
    weighted = LinearRegression(alpha=0.01, **settings).fit(X, y, sample_weight=w)
    repeated = LinearRegression(alpha=0.01, **settings).fit(np.repeat(X, w, axis=0),
                                                              np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7, atol=1e-8)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, abs=1e-8)


def test_weighted_cholesky_is_the_weighted_ridge_closed_form(rng):
    X, y, _ = regression_problem(rng, n=200, noise=0.5)
    w = rng.uniform(0.1, 3.0, size=200)
    alpha = 0.2
    model = LinearRegression(optimizer="cholesky", alpha=alpha).fit(X, y, sample_weight=w)
    # d/dtheta [sum w (A theta - y)^2 / (2 sum w) + alpha/2 |coef|^2] = 0, intercept free
    A = np.hstack([X, np.ones((200, 1))])
    H = A.T @ (w[:, None] * A) / w.sum()
    H[:5, :5] += alpha * np.eye(5)
    theta = np.linalg.solve(H, A.T @ (w * y) / w.sum())
    np.testing.assert_allclose(model.coef_, theta[:5], rtol=1e-10)
    assert model.intercept_ == pytest.approx(theta[5], rel=1e-10)


def test_weights_scale_free_and_zero_weight_rows_ignored(rng):
    X, y, _ = regression_problem(rng, n=100, noise=0.5)
    w = rng.uniform(0.5, 2.0, size=100)
    a = LinearRegression(tol=1e-10).fit(X, y, sample_weight=w)
    b = LinearRegression(tol=1e-10).fit(X, y, sample_weight=7.5 * w)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-7)
    w[:30] = 0.0
    y_bad = y.copy()
    y_bad[:30] = 1e6  # what a zero weight must hide
    c = LinearRegression(tol=1e-10).fit(X, y_bad, sample_weight=w)
    d = LinearRegression(tol=1e-10).fit(X[30:], y[30:], sample_weight=w[30:])
    np.testing.assert_allclose(c.coef_, d.coef_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_stochastic_optimizers_take_weights(optimizer, rng):
    """Weight 0 on a block of corrupted rows: the stochastic fit ignores them."""
    X, y, coef = regression_problem(rng, n=400)
    w = np.ones(400)
    w[:100] = 0.0
    y_bad = y.copy()
    y_bad[:100] += 100.0
    model = LinearRegression(optimizer=optimizer, random_state=0, max_iter=200, tol=None,
                             lr=0.05 if optimizer == "adam" else None).fit(
        X, y_bad, sample_weight=w)
    np.testing.assert_allclose(model.coef_, coef, atol=0.05)


def test_bad_sample_weight_raises_before_training(rng):
    X, y, _ = regression_problem(rng, n=20)
    model = LinearRegression()
    for bad, error, match in [(np.ones(19), ValueError, r"sample_weight.shape == \(19,\)"),
                              (-np.ones(20), ValueError, "finite and >= 0"),
                              (np.full(20, np.nan), ValueError, "finite and >= 0"),
                              (np.zeros(20), ValueError, "at least one non-zero"),
                              (np.array(["a"] * 20), TypeError, "real numeric")]:
        with pytest.raises(error, match=match):
            model.fit(X, y, sample_weight=bad)
        assert not hasattr(model, "coef_")
    scalar = LinearRegression(optimizer="cholesky").fit(X, y, sample_weight=3.0)
    plain = LinearRegression(optimizer="cholesky").fit(X, y)
    np.testing.assert_allclose(scalar.coef_, plain.coef_, rtol=1e-12)


def _classes(rng, n=300):
    X = rng.normal(size=(n, 3))
    y = np.where(X[:, 0] > 0.8, 2, np.where(X[:, 1] > 0, 1, 0))  # imbalanced
    return X, y


def test_class_weight_balanced_equals_its_sample_weights(rng):
    X, y = _classes(rng)
    counts = np.bincount(y)
    sw = (len(y) / (3 * counts))[y]
    balanced = SoftmaxRegression(class_weight="balanced", tol=1e-10).fit(X, y)
    weighted = SoftmaxRegression(tol=1e-10).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(balanced.coef_, weighted.coef_, rtol=1e-6, atol=1e-8)
    plain = SoftmaxRegression(tol=1e-10).fit(X, y)
    assert not np.allclose(plain.coef_, balanced.coef_, atol=1e-3)


def test_class_weight_dict_multiplies_sample_weight(rng):
    X, y = _classes(rng)
    labels = np.array(["a", "b", "c"])[y]
    sw = rng.uniform(0.5, 1.5, size=len(y))
    cw = {"a": 2.0, "c": 0.5}  # "b" keeps 1
    by_dict = SoftmaxRegression(class_weight=cw, tol=1e-10).fit(X, labels, sample_weight=sw)
    by_hand = SoftmaxRegression(tol=1e-10).fit(
        X, labels, sample_weight=sw * np.array([2.0, 1.0, 0.5])[y])
    np.testing.assert_allclose(by_dict.coef_, by_hand.coef_, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="not classes"):
        SoftmaxRegression(class_weight={"z": 1.0}).fit(X, labels)
    with pytest.raises(ValueError, match="class_weight must be"):
        SoftmaxRegression(class_weight="auto").fit(X, labels)
    with pytest.raises(ValueError, match=r"class_weight\['a'\] must be"):
        SoftmaxRegression(class_weight={"a": -1.0}).fit(X, labels)
    with pytest.raises(ValueError, match="not supported by partial_fit"):
        SoftmaxRegression(class_weight="balanced").partial_fit(X, labels)
