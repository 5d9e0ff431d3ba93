"""scipy.sparse X in the estimators: per-sample SGD through sgd_epoch's O(nnz) epoch
(against SGDRegressor on the same CSR matrix), the full-batch solvers through the
objective's CSR path (against the same fit on the dense matrix), the column moments from the
stored entries, and the combinations that raise."""

from __future__ import annotations

import warnings
from typing import Any, Dict, List

import numpy as np
import pytest

from fastloss import _sparse
from fastloss.models import LinearRegression, SGDClassifier, SoftmaxRegression
from fastloss.models._base import _column_moments

sp = pytest.importorskip("scipy.sparse")


def _sparse_problem(seed: int = 0, n: int = 300, d: int = 40):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=0.1, random_state=seed, format="csr")
    y = X @ rng.normal(size=d) + 0.5 + 0.1 * rng.normal(size=n)
    return X, y


@pytest.mark.parametrize("kw", [dict(alpha=1e-3), dict(penalty="l1", alpha=0.01),
                                dict(average=True, alpha=1e-3)],
                         ids=lambda kw: "-".join(map(str, kw.values())))
def test_sgd_on_csr_matches_sgdregressor(kw: Dict[str, Any]) -> None:
    """fit and then partial_fit on CSR X are SGDRegressor's on the same matrix (its sparse
    intercept decay 0.01 included) to 1e-9; predict and score on CSR X are those on the
    dense matrix. (With an L1 part, SGDRegressor.partial_fit starts the cumulative
    truncation again; fastloss's state carries it on, so there only fit is compared.)"""
    linear_model = pytest.importorskip("sklearn.linear_model")
    X, y = _sparse_problem()
    ours = LinearRegression(optimizer="sgd", lr=0.01, max_iter=5, tol=None, shuffle=False,
                            **kw)
    theirs = linear_model.SGDRegressor(eta0=0.01, max_iter=5, tol=None, shuffle=False, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
        if kw.get("penalty") != "l1":
            ours.partial_fit(X, y)
            theirs.partial_fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-9, atol=1e-12)
    assert ours.intercept_ == pytest.approx(theirs.intercept_[0], rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(ours.predict(X), ours.predict(X.toarray()), rtol=1e-12)
    assert ours.score(X, y) == pytest.approx(ours.score(X.toarray(), y), rel=1e-12)


@pytest.mark.parametrize("make,n_classes", [
    (lambda: LinearRegression(optimizer="sgd", max_iter=6, tol=None, shuffle=False), 0),
    (lambda: SGDClassifier(max_iter=6, tol=None, shuffle=False), 2),
    (lambda: SGDClassifier(max_iter=6, tol=None, shuffle=False), 4)],
    ids=["LinearRegression", "SGDClassifier-binary", "SGDClassifier-4-classes"])
def test_csr_structure_is_checked_once_per_fit(make: Any, n_classes: int,
                                               monkeypatch: Any) -> None:
    """The CSR structure is checked once per fit (one-vs-rest: once for all the classes),
    not once per epoch, and the fit is the one each epoch checking it gives."""
    X, y = _sparse_problem(3)
    if n_classes:
        y = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    checked: List[Any] = []
    real = _sparse.csr_rows

    def counting(X: Any, name: str = "X", check_indices: bool = True) -> Any:
        if not isinstance(X, _sparse.CsrRows):
            checked.append(X)
        return real(X, name, check_indices)

    monkeypatch.setattr(_sparse, "csr_rows", counting)
    model = make().fit(X, y)
    assert len(checked) == 1
    monkeypatch.setattr(_sparse, "csr_rows", real)
    each_epoch = make()
    each_epoch.max_iter = 1
    each_epoch.fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(5):
            each_epoch.partial_fit(X, y)
    np.testing.assert_array_equal(model.coef_, each_epoch.coef_)
    np.testing.assert_array_equal(model.intercept_, each_epoch.intercept_)


@pytest.mark.parametrize("model", [
    LinearRegression(optimizer="lbfgs", alpha=0.01, tol=1e-10),
    LinearRegression(optimizer="cg", loss="huber", alpha=0.01, tol=1e-10, max_iter=500),
    SoftmaxRegression(alpha=0.01, tol=1e-10),
], ids=["lbfgs", "cg-huber", "softmax"])
def test_full_batch_on_csr_matches_dense(model: Any) -> None:
    """The full-batch solvers reach the same minimizer from CSR X (objective over the stored
    entries, moments without densifying) as from the dense matrix, with sample weights."""
    X, y = _sparse_problem(1)
    if isinstance(model, SoftmaxRegression):
        y = np.digitize(y, np.quantile(y, [0.3, 0.7]))
    sw = np.random.default_rng(2).uniform(0.5, 2.0, size=len(y))
    sparse_fit = model.fit(X, y, sample_weight=sw)
    coef, intercept = sparse_fit.coef_.copy(), np.copy(sparse_fit.intercept_)
    dense_fit = model.fit(X.toarray(), y, sample_weight=sw)
    np.testing.assert_allclose(coef, dense_fit.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(intercept, dense_fit.intercept_, rtol=1e-6, atol=1e-8)


def test_auto_on_csr_is_lbfgs_at_the_least_squares_solution() -> None:
    """optimizer="auto" does not build a Gram matrix of sparse X: it runs L-BFGS, reaching
    the normal equations' solution that "auto" finds on the dense matrix."""
    X, y = _sparse_problem(3)
    sparse_fit = LinearRegression(tol=1e-10).fit(X, y)
    assert sparse_fit.n_iter_ > 1  # iterations, not one Cholesky solve
    dense_fit = LinearRegression().fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("centred", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_column_moments_match_dense(centred: bool, weighted: bool) -> None:
    X, _ = _sparse_problem(4, n=50, d=7)
    sw = np.random.default_rng(5).uniform(0, 3, size=50) if weighted else None
    for got, want in zip(_column_moments(X, sw, centred),
                         _column_moments(X.toarray(), sw, centred)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_other_formats_are_converted() -> None:
    """A COO (or any) sparse X is taken as CSR, as scikit-learn does; integer values too."""
    X, y = _sparse_problem(6)
    want = LinearRegression(optimizer="lbfgs").fit(X, y).coef_
    got = LinearRegression(optimizer="lbfgs").fit(X.tocoo(), y).coef_
    np.testing.assert_array_equal(got, want)
    Xi = sp.csr_matrix(np.eye(4, dtype=np.int64))
    fitted = LinearRegression(optimizer="lbfgs").fit(Xi, np.arange(4.0))
    np.testing.assert_allclose(fitted.predict(Xi), np.arange(4.0), atol=1e-4)


@pytest.mark.parametrize("model,match", [
    (LinearRegression(optimizer="adam"), "optimizer='lbfgs', 'cg' or 'sgd', got optimizer='adam'"),
    (LinearRegression(optimizer="cholesky"), "got optimizer='cholesky'"),
    (SoftmaxRegression(optimizer="sgd"), "optimizer='lbfgs' or 'cg', got optimizer='sgd'"),
])
def test_unsupported_solvers_raise(model: Any, match: str) -> None:
    X, y = _sparse_problem(7, n=30, d=5)
    with pytest.raises(ValueError, match=match):
        model.fit(X, (y > 0.5).astype(int))


def test_non_finite_and_unfitted_state_untouched() -> None:
    """NaN among the stored values raises scikit-learn's error before any weight changes."""
    X, y = _sparse_problem(8, n=30, d=5)
    model = LinearRegression(optimizer="sgd", max_iter=2, tol=None).fit(X, y)
    coef = model.coef_.copy()
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        model.partial_fit(bad, y)
    np.testing.assert_array_equal(model.coef_, coef)
