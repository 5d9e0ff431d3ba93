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


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("average", [True, 10, 150, 300])
def test_averaged_partial_fit_continues_one_run(average: Any, n_classes: int) -> None:
    """With average, k partial_fit calls over X equal one epoch over k copies of X
    (SGDClassifier fitted on the stacked copies), whether averaging starts before, inside or
    after a call. scikit-learn's own partial_fit does not: once averaging is on, its binary
    fit does not keep the running (unaveraged) intercept between calls, and drifts from its
    one-run fit (by ~0.4 in coef_ here); its SGDRegressor keeps it and agrees with itself."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _problem(5) if n_classes == 2 else _multiclass_problem(5, k=3)
    kw: Dict[str, Any] = dict(average=average, shuffle=False, alpha=1e-3)
    ours = SGDClassifier(**kw)
    for calls in range(1, 5):
        ours.partial_fit(X, y, classes=np.unique(y))
        one_run = linear_model.SGDClassifier(max_iter=1, tol=None, **kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one_run.fit(np.vstack([X] * calls), np.concatenate([y] * calls))
        scale = np.abs(one_run.coef_).max()
        np.testing.assert_allclose(ours.coef_, one_run.coef_, rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(ours.intercept_, one_run.intercept_, rtol=1e-9,
                                   atol=1e-9 * scale)


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


# ---- more than two classes: one-vs-rest, as scikit-learn

def _multiclass_problem(seed: int = 0, n: int = 240, d: int = 5, k: int = 4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    scores = X @ rng.normal(size=(d, k)) + 0.5 * rng.normal(size=(n, k))
    return X, np.array(["a", "b", "c", "d", "e"][:k])[np.argmax(scores, axis=1)]


OVR_SETTINGS = [
    dict(),
    dict(loss="log_loss", alpha=0.01),
    dict(loss="modified_huber", learning_rate="constant", eta0=0.01),
    dict(loss="squared_hinge", learning_rate="constant", eta0=0.01, penalty="l1"),
    dict(loss="hinge", learning_rate="invscaling", eta0=0.1, penalty="elasticnet"),
    dict(class_weight="balanced"),
    dict(loss="log_loss", alpha=0.01, class_weight={"a": 2.0, "c": 0.5}, average=True),
    dict(average=100),
    dict(learning_rate="adaptive", eta0=0.1),
]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kw", OVR_SETTINGS, ids=lambda kw: "-".join(map(str, kw.values())))
def test_one_vs_rest_matches_sgdclassifier(kw: Dict[str, Any], sparse: bool) -> None:
    """Four classes: coef_ (4, d), intercept_, decision_function (n, 4), predict (argmax) and
    predict_proba (one-vs-rest normalized) equal SGDClassifier's to 1e-9 relative."""
    X, y = _multiclass_problem()
    if sparse:
        X = pytest.importorskip("scipy.sparse").csr_matrix(np.where(np.abs(X) > 0.8, X, 0))
    ours, theirs = _fit_both(X, y, **kw)
    np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    assert ours.coef_.shape == theirs.coef_.shape == (4, 5)
    assert ours.intercept_.shape == theirs.intercept_.shape == (4,)
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9,
                               atol=1e-9 * scale)
    z = ours.decision_function(X)
    assert z.shape == (len(y), 4)
    np.testing.assert_allclose(z, theirs.decision_function(X), rtol=1e-9, atol=1e-9 * scale)
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.n_iter_ == theirs.n_iter_ == 5
    assert hasattr(ours, "predict_proba") == hasattr(theirs, "predict_proba")
    if hasattr(theirs, "predict_proba"):
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X),
                                   rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_one_vs_rest_is_each_class_binary_fit() -> None:
    """Class k's row is the binary fit of "k or not" (the positives weighted by k's class
    weight, the rest by 1), bit for bit; with tol each class stops on its own, n_iter_ is
    the most any ran; the stopping warns once."""
    X, y = _multiclass_problem(1)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, size=len(y))
    kw: Dict[str, Any] = dict(loss="log_loss", alpha=0.01, shuffle=False, max_iter=40)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ovr = SGDClassifier(class_weight={"b": 3.0}, **kw).fit(X, y, sample_weight=sw)
    epochs = []
    for k, label in enumerate(ovr.classes_):
        positive = y == label
        weight = sw * np.where(positive, 3.0 if label == "b" else 1.0, 1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            binary = SGDClassifier(**kw).fit(X, positive, sample_weight=weight)
        np.testing.assert_array_equal(ovr.coef_[k], binary.coef_[0])
        np.testing.assert_array_equal(ovr.intercept_[k], binary.intercept_[0])
        epochs.append(binary.n_iter_)
    assert ovr.n_iter_ == max(epochs) and len(ovr.loss_curve_) == max(epochs)
    converged = [w for w in caught if "max_iter" in str(w.message)]
    assert len(converged) == (1 if max(epochs) == 40 else 0)


def test_one_vs_rest_partial_fit_and_sample_weight_match_sgdclassifier() -> None:
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _multiclass_problem(2)
    sw = np.random.default_rng(4).uniform(0.2, 3.0, size=len(y))
    ours, theirs = _fit_both(X, y, sample_weight=sw, class_weight={"b": 0.5})
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9)
    # the first batch lacks class "d": classes= names it
    ours = SGDClassifier(shuffle=False, learning_rate="constant", eta0=0.05)
    theirs = linear_model.SGDClassifier(shuffle=False, learning_rate="constant", eta0=0.05)
    first = y != "d"
    for rows in (first[:40], slice(40, 80), slice(80, 120)):
        batch = (X[:40][rows], y[:40][rows]) if isinstance(rows, np.ndarray) else (X[rows],
                                                                                   y[rows])
        ours.partial_fit(*batch, classes=list("abcd"))
        theirs.partial_fit(*batch, classes=list("abcd"))
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="not supported by partial_fit"):
        SGDClassifier(class_weight="balanced").partial_fit(X, y)


def test_one_vs_rest_early_stopping_and_shuffle() -> None:
    """early_stopping scores each class's binary accuracy on one held-out part (split
    stratified by class): the held-out rows are never trained on; shuffled fits are
    reproducible from random_state."""
    X, y = _multiclass_problem(5, n=400)
    model = SGDClassifier(early_stopping=True, random_state=0, n_iter_no_change=3)
    model.fit(X, y)
    assert model.coef_.shape == (4, 5) and model.score(X, y) > 0.7
    assert model.validation_scores_ is not None
    assert len(model.validation_scores_) == len(model.loss_curve_) == model.n_iter_
    assert all(0.0 <= s <= 1.0 for s in model.validation_scores_)
    again = SGDClassifier(early_stopping=True, random_state=0, n_iter_no_change=3).fit(X, y)
    np.testing.assert_array_equal(again.coef_, model.coef_)
    shuffled = SGDClassifier(random_state=1, max_iter=20, tol=None).fit(X, y)
    assert shuffled.score(X, y) > 0.7


def test_one_vs_rest_modified_huber_all_zero_rows_are_uniform() -> None:
    """Rows whose every class has clip(z) = -1 get uniform probabilities, as scikit-learn."""
    X, y = _multiclass_problem(6, k=3)
    model = SGDClassifier(loss="modified_huber", max_iter=5, tol=None).fit(X, y)
    far = -1e3 * np.ones((2, 5)) @ np.eye(5)
    model._ovr_weights = (np.zeros((5, 3)), np.full(3, -5.0))  # every score below -1
    np.testing.assert_allclose(model.predict_proba(far), 1 / 3)
