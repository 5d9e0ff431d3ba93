"""early_stopping on a held-out validation_fraction in the stochastic estimators:
scikit-learn's rule (given scikit-learn's split, the same epochs and weights as
SGDRegressor / SGDClassifier), the held-out samples never trained on, the split (sizes,
stratification), and the combinations that raise."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from fastloss.models import LinearRegression, SGDClassifier, SoftmaxRegression
from fastloss.models import _base
from fastloss.models._early_stopping import validation_split


def _regression(seed: int = 0, n: int = 300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, X @ rng.normal(size=4) + 0.3 + 0.5 * rng.normal(size=n)


def _use_split_of(monkeypatch: Any, mask: np.ndarray) -> None:
    monkeypatch.setattr(_base, "validation_split",
                        lambda n, fraction, rng, labels=None: (np.flatnonzero(~mask),
                                                               np.flatnonzero(mask)))


@pytest.mark.parametrize("kind", ["regressor", "classifier"])
def test_matches_scikit_learn_given_its_split(monkeypatch: Any, kind: str) -> None:
    """With scikit-learn's held-out mask, fit stops after the same epoch with the same
    weights as SGDRegressor / SGDClassifier(early_stopping=True): the score (R^2 /
    accuracy) on the held-out part after each epoch, no improvement while score < best +
    tol, n_iter_no_change of those in a row. (alpha=0: scikit-learn scores its weight
    vector unscaled, which is the model only without shrinkage.)"""
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _regression(1)
    common = dict(early_stopping=True, validation_fraction=0.2, n_iter_no_change=3,
                  shuffle=False, max_iter=200, alpha=0.0)
    if kind == "regressor":
        theirs = linear_model.SGDRegressor(eta0=0.001, tol=1e-4, random_state=0, **common)
        ours: Any = LinearRegression(optimizer="sgd", lr=0.001, tol=1e-4, **common)
    else:
        y = np.where(y > 0.3, "pos", "neg")
        theirs = linear_model.SGDClassifier(learning_rate="constant", eta0=0.001, tol=1e-3,
                                            random_state=0, **common)
        ours = SGDClassifier(learning_rate="constant", eta0=0.001, tol=1e-3, **common)
    mask = theirs._make_validation_split(y, sample_mask=np.ones(len(y), bool))
    _use_split_of(monkeypatch, mask)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.fit(X, y)
        ours.fit(X, y)
    assert 3 < ours.n_iter_ == theirs.n_iter_ < 200
    np.testing.assert_allclose(np.ravel(ours.coef_), np.ravel(theirs.coef_), rtol=1e-9)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9)
    assert len(ours.validation_scores_) == ours.n_iter_
    Xh = X[mask]
    assert ours.validation_scores_[-1] == pytest.approx(ours.score(Xh, y[mask]), rel=1e-12)


@pytest.mark.parametrize("model", [
    LinearRegression(optimizer="adam", lr=0.01, batch_size=16, random_state=0),
    SoftmaxRegression(optimizer="sgd", lr=0.05, random_state=0),
    SGDClassifier(random_state=0, average=True),
], ids=["adam", "softmax", "sgdclassifier"])
def test_held_out_samples_are_not_trained_on(model: Any) -> None:
    """Without a stopping tolerance, a fit with early_stopping is the same fit on the
    training part alone (the split drawn first from the model's stream)."""
    X, y = _regression(2, n=200)
    if not isinstance(model, LinearRegression):
        y = np.digitize(y, [0.0, 0.6]) if isinstance(model, SoftmaxRegression) else y > 0.3
    model.set_params(tol=None, max_iter=4, shuffle=False, early_stopping=True,
                     validation_fraction=0.25)
    labels = None if isinstance(model, LinearRegression) else np.unique(y,
                                                                        return_inverse=True)[1]
    train, held = validation_split(len(y), 0.25, np.random.default_rng(0), labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        held_out_fit = model.fit(X, y)
        coef = np.copy(held_out_fit.coef_)
        scores = list(held_out_fit.validation_scores_)
        plain = model.set_params(early_stopping=False).fit(X[train], y[train])
    np.testing.assert_array_equal(coef, plain.coef_)
    assert len(scores) == 4 and plain.validation_scores_ is None
    assert scores[-1] == pytest.approx(model.score(X[held], y[held]), rel=1e-12)


def test_split_sizes_and_strata() -> None:
    rng = np.random.default_rng(3)
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    train, held = validation_split(100, 0.15, rng, labels)
    assert len(held) == 15 and len(train) == 85
    assert np.all(np.diff(train) > 0) and np.all(np.diff(held) > 0)
    assert np.bincount(labels[held]).tolist() == [8, 4, 3]  # 7.5, 4.5, 3 -> largest parts
    assert len(validation_split(10, 0.11, rng)[1]) == 2  # ceil, as ShuffleSplit
    again = validation_split(100, 0.15, np.random.default_rng(3), labels)
    np.testing.assert_array_equal(again[1], held)


@pytest.mark.parametrize("model,call,match", [
    (LinearRegression(optimizer="sgd", early_stopping=True, validation_fraction=0.99),
     "fit", "led to an empty set"),
    (LinearRegression(optimizer="sgd", early_stopping=True), "partial_fit",
     "early_stopping should be False with partial_fit"),
    (LinearRegression(optimizer="lbfgs", early_stopping=True), "fit",
     "needs a stochastic optimizer, got optimizer='lbfgs'"),
    (LinearRegression(early_stopping=True), "fit", "got optimizer='cholesky'"),
    (LinearRegression(optimizer="sgd", early_stopping=True, validation_fraction=1.0), "fit",
     "validation_fraction"),
    (SGDClassifier(early_stopping="yes"), "fit", "early_stopping"),
])
def test_bad_settings(model: Any, call: str, match: str) -> None:
    X, y = _regression(4, n=20)
    if isinstance(model, SGDClassifier):
        y = y > 0.3
    with pytest.raises((ValueError, TypeError), match=match):
        getattr(model, call)(X, y)


def test_all_zero_held_out_weights_raise() -> None:
    X, y = _regression(5, n=40)
    model = LinearRegression(optimizer="sgd", early_stopping=True, random_state=0)
    _, held = validation_split(40, 0.1, np.random.default_rng(0))
    sw = np.ones(40)
    sw[held] = 0
    with pytest.raises(ValueError, match="validation set are all zero"):
        model.fit(X, y, sample_weight=sw)
