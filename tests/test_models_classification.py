"""fastloss.models.SoftmaxRegression: separable blobs with every optimizer, the CG solution
against the reference objective's gradient, string and binary labels, partial_fit with
classes=, and scikit-learn's LogisticRegression accuracy on iris."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from _models_support import settings_for
from fastloss.models import OPTIMIZERS, SoftmaxRegression


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_softmax_regression_separates_blobs(optimizer, rng):
    centers = np.array([[0.0, 4.0], [4.0, 0.0], [-4.0, -4.0]])
    y = np.repeat(np.arange(3), 60)
    X = centers[y] + rng.normal(size=(180, 2))
    settings = settings_for(optimizer, random_state=0)
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


def test_partial_fit_classes_and_unseen_label(rng):
    X = rng.normal(size=(30, 2))
    model = SoftmaxRegression(max_iter=1)
    model.partial_fit(X, np.zeros(30, dtype=int), classes=[0, 1, 2])
    assert list(model.classes_) == [0, 1, 2] and model.coef_.shape == (3, 2)
    with pytest.raises(ValueError, match="not seen"):
        model.partial_fit(X, np.full(30, 5))


@pytest.mark.parametrize("labels", ["int8_full_range", "uint8", "int64_offset", "uint64",
                                    "wide_int64", "float", "str"])
def test_labels_of_every_kind_map_to_sorted_classes(labels, rng):
    """classes_ is np.unique(y) (values and dtype) and every sample's class index points at
    its label, whichever path turns labels into indices (small integer ranges are counted,
    other labels sorted)."""
    y = {"int8_full_range": rng.integers(-128, 128, 400).astype(np.int8),
         "uint8": rng.integers(250, 256, 400).astype(np.uint8),
         "int64_offset": rng.integers(-10**12, -10**12 + 5, 400),
         "uint64": rng.integers(0, 4, 400).astype(np.uint64) + np.uint64(2**63),
         "wide_int64": rng.integers(-2**40, 2**40, 400),
         "float": rng.integers(-2, 3, 400).astype(np.float64),
         "str": rng.choice(np.array(["b", "a", "c"]), 400)}[labels]
    X = rng.normal(size=(len(y), 2))
    model = SoftmaxRegression(optimizer="sgd", max_iter=1, random_state=0).fit(X, y)
    expected = np.unique(y)
    assert model.classes_.dtype == expected.dtype
    np.testing.assert_array_equal(model.classes_, expected)
    np.testing.assert_array_equal(model.classes_[model._class_indices(y, X, reset=False)], y)
    assert np.isin(model.predict(X), expected).all()


def test_partial_fit_classes_outside_the_labels_range(rng):
    """classes= may name classes below and above every label of a batch: the indices still
    point into classes_, and a label that is no class is rejected."""
    X = rng.normal(size=(40, 2))
    model = SoftmaxRegression(optimizer="sgd", max_iter=1)
    model.partial_fit(X, np.repeat([3, 5], 20), classes=[-7, 3, 5, 900])
    np.testing.assert_array_equal(model._class_indices(np.array([5, 3, 3]), X[:3], reset=False),
                                  [2, 1, 1])
    with pytest.raises(ValueError, match="not seen"):
        model.partial_fit(X, np.repeat([3, 4], 20))


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
        settings = settings_for(optimizer, random_state=0, alpha=1e-2 if optimizer == "cg" else 0.0)
        acc = SoftmaxRegression(optimizer=optimizer, **settings).fit(X_tr, y_tr).score(X_te, y_te)
        assert acc >= ref - 0.02, (optimizer, acc, ref)


def test_predict_log_proba_is_log_of_predict_proba_and_stable(rng):
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)
    model = SoftmaxRegression().fit(X, y)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(model.predict_proba(X)),
                               rtol=1e-10, atol=1e-12)
    far = np.array([[1e4, 1e4]])  # logits far apart: probabilities underflow to 0
    log_p = model.predict_log_proba(far)
    assert np.isfinite(log_p).all() and log_p.max() == 0.0


def test_lbfgs_default_minimizes_logistic_regressions_objective(rng):
    """With alpha = 1 / (C n), SoftmaxRegression() and scikit-learn's LogisticRegression(C)
    minimize the same multinomial objective: the same training log-loss to 1e-4."""
    sklearn_linear = pytest.importorskip("sklearn.linear_model")
    X = rng.normal(size=(600, 4))
    y = rng.integers(0, 3, size=600)
    y[X[:, 0] > 1] = 2
    C = 0.5
    ours = SoftmaxRegression(alpha=1.0 / (C * 600)).fit(X, y)
    ref = sklearn_linear.LogisticRegression(C=C).fit(X, y)

    def log_loss(p):
        return -np.mean(np.log(p[np.arange(600), y]))

    assert log_loss(ours.predict_proba(X)) == pytest.approx(log_loss(ref.predict_proba(X)),
                                                            abs=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-3)
