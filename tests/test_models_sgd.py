"""LinearRegression's scikit-learn SGD options (optimizer="sgd"): penalty, l1_ratio,
average, lr_schedule="optimal", against SGDRegressor fitted with the same settings."""

from __future__ import annotations

import warnings
from typing import Any, Dict

import numpy as np
import pytest

from fastloss.models import LinearRegression

SETTINGS = [
    dict(penalty="l1", alpha=0.01),
    dict(penalty="elasticnet", alpha=0.01, l1_ratio=0.4),
    dict(average=True, alpha=0.001),
    dict(average=150, alpha=0.1, lr_schedule="optimal"),
    dict(loss="epsilon_insensitive", epsilon=0.1, alpha=1e-3),
    dict(loss="squared_epsilon_insensitive", epsilon=0.1, alpha=1e-3),
]


@pytest.mark.parametrize("kw", SETTINGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_matches_sgdregressor(kw: Dict[str, Any]) -> None:
    """coef_, intercept_ and predictions equal SGDRegressor's (no shuffling, tol=None) to
    1e-9; with average they are the averaged weights, as there."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(0)
    X = 0.3 * rng.normal(size=(200, 5))  # "optimal" starts at eta ~ alpha^(-1/4)
    y = X @ rng.normal(size=5) + 0.5 + 0.1 * rng.normal(size=200)
    schedule = kw.get("lr_schedule", "invscaling")
    sk_kw = {k: v for k, v in kw.items() if k != "lr_schedule"}
    ours = LinearRegression(optimizer="sgd", lr=0.01, max_iter=5, tol=None, shuffle=False,
                            **kw)
    theirs = linear_model.SGDRegressor(eta0=0.01, max_iter=5, tol=None, shuffle=False,
                                       learning_rate=schedule, **sk_kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9, atol=1e-12)
    if kw.get("average"):  # the averaged model is not the last iterate
        assert np.abs(ours.coef_ - ours._W).max() > 1e-6


@pytest.mark.parametrize("kw,match", [
    (dict(penalty="l1", optimizer="lbfgs"), "penalty='l1' needs optimizer='sgd'"),
    (dict(average=True, optimizer="adam"), "average needs optimizer='sgd'"),
    (dict(lr_schedule="optimal", optimizer="sgd"), "needs optimizer='sgd' and alpha > 0"),
    (dict(penalty="l0", optimizer="sgd"), "penalty must be one of"),
    (dict(l1_ratio=2.0, optimizer="sgd"), "l1_ratio"),
    (dict(average=-2, optimizer="sgd"), "average must be an int"),
])
def test_bad_options(kw: Dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LinearRegression(**kw).fit(np.eye(3), np.ones(3))


def test_adaptive_matches_sgdregressor() -> None:
    """lr_schedule="adaptive" is SGDRegressor(learning_rate="adaptive"): the rate divided by
    5 after n_iter_no_change epochs without a tol improvement, the fit stopping when it
    would go below 1e-6: the same weights and number of epochs (no penalty, where both
    stop on the same mean epoch loss)."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(3)
    X = rng.normal(size=(100, 4))
    y = X @ rng.normal(size=4) + 0.3 * rng.normal(size=100)
    ours = LinearRegression(optimizer="sgd", lr=0.05, lr_schedule="adaptive", tol=1e-3,
                            n_iter_no_change=2, max_iter=300, shuffle=False)
    theirs = linear_model.SGDRegressor(eta0=0.05, learning_rate="adaptive", penalty=None,
                                       tol=1e-3, n_iter_no_change=2, max_iter=300,
                                       shuffle=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ > 10
    assert ours._current_lr() < 0.05 / 5 ** 3  # divided several times
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-9)


def test_epsilon_insensitive_needs_sgd() -> None:
    """Plain SGD alone trains the epsilon-insensitive losses: "auto" is it, others raise."""
    X, y = np.random.default_rng(1).normal(size=(2, 30, 3))
    y = y[:, 0]
    kw = dict(loss="epsilon_insensitive", max_iter=3, tol=None, random_state=0)
    np.testing.assert_array_equal(LinearRegression(**kw).fit(X, y).coef_,
                                  LinearRegression(optimizer="sgd", **kw).fit(X, y).coef_)
    with pytest.raises(ValueError, match="loss='epsilon_insensitive' needs optimizer='sgd'"):
        LinearRegression(loss="epsilon_insensitive", optimizer="lbfgs").fit(np.eye(3),
                                                                            np.ones(3))
