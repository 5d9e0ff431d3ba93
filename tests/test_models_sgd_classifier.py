"""SGDClassifier: scikit-learn's SGDClassifier for two classes, fitted with the same
settings (shuffle=False, tol=None) on dense and CSR X; probabilities; class weights; the
inputs it refuses."""

from __future__ import annotations

import warnings
from typing import Any, Dict

import numpy as np
import pytest

from fastloss.models import SGDClassifier

SETTINGS = [
    dict(),  # hinge, l2, "optimal": scikit-learn's defaults
    # (log_loss: alpha=0.01 keeps |z| < 18, where scikit-learn's gradient is exact)
    dict(loss="log_loss", alpha=0.01),
    dict(loss="modified_huber", penalty="elasticnet"),
    dict(loss="squared_hinge", learning_rate="constant", eta0=0.01),
    dict(loss="hinge", learning_rate="invscaling", eta0=0.1, penalty="l1"),
    dict(class_weight="balanced"),
    dict(loss="log_loss", alpha=0.01, class_weight={"a": 2.0}, average=True),
]


def _problem(seed: int = 0, n: int = 200, d: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.where(X @ rng.normal(size=d) + 0.3 + 0.5 * rng.normal(size=n) > 0, "b", "a")
    return X, y


def _fit_both(X: Any, y: Any, sample_weight: Any = None, **kw: Any):
    linear_model = pytest.importorskip("sklearn.linear_model")
    ours = SGDClassifier(max_iter=5, tol=None, shuffle=False, **kw)
    theirs = linear_model.SGDClassifier(max_iter=5, tol=None, shuffle=False, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y, sample_weight=sample_weight)
        theirs.fit(X, y, sample_weight=sample_weight)
    return ours, theirs


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", SETTINGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_matches_sgdclassifier(kw: Dict[str, Any], sparse: bool) -> None:
    """coef_, intercept_, decision_function, predict and (where scikit-learn has it)
    predict_proba equal SGDClassifier's to 1e-9 relative, on dense and CSR X."""
    X, y = _problem()
    if sparse:
        X = pytest.importorskip("scipy.sparse").csr_matrix(np.where(np.abs(X) > 0.8, X, 0))
    ours, theirs = _fit_both(X, y, **kw)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.coef_.shape == theirs.coef_.shape == (1, 5)
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9,
                               atol=1e-9 * scale)
    np.testing.assert_allclose(ours.decision_function(X), theirs.decision_function(X),
                               rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert hasattr(ours, "predict_proba") == hasattr(theirs, "predict_proba")
    if hasattr(theirs, "predict_proba"):
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X),
                                   rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_sample_weight_and_partial_fit_match_sgdclassifier() -> None:
    """sample_weight multiplies each step as there; partial_fit continues as there."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _problem(1)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y))
    ours, theirs = _fit_both(X, y, sample_weight=sw, loss="log_loss", alpha=0.01,
                             class_weight={"b": 0.5})
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    ours = SGDClassifier(shuffle=False, learning_rate="constant", eta0=0.05)
    theirs = linear_model.SGDClassifier(shuffle=False, learning_rate="constant", eta0=0.05)
    for _ in range(3):
        ours.partial_fit(X[:50], y[:50], classes=["a", "b"])
        theirs.partial_fit(X[:50], y[:50], classes=["a", "b"])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9)


def test_learns_a_separable_problem() -> None:
    X, y = _problem(3, n=400)
    model = SGDClassifier(random_state=0).fit(X, y)
    assert model.score(X, y) > 0.85
    assert set(model.predict(X)) == {"a", "b"}


@pytest.mark.parametrize("kw,match", [
    (dict(loss="log"), "loss must be one of"),
    (dict(learning_rate="constant"), "eta0 must be"),
    (dict(learning_rate="optimal", alpha=0.0), "needs alpha > 0"),
    (dict(learning_rate="fast"), "learning_rate must be one of"),
    (dict(penalty="l3"), "penalty must be one of"),
    (dict(class_weight="even"), "class_weight must be None, 'balanced' or a dict"),
])
def test_bad_input(kw: Dict[str, Any], match: str) -> None:
    X, y = _problem(4, n=30)
    with pytest.raises(ValueError, match=match):
        SGDClassifier(**kw).fit(X, y)


def test_no_proba_for_hinge() -> None:
    X, y = _problem(5, n=30)
    model = SGDClassifier(max_iter=3, tol=None).fit(X, y)
    assert not hasattr(model, "predict_proba")
    with pytest.raises(AttributeError, match="not available for loss='hinge'"):
        model.predict_proba(X)
