"""LinearRegression's GLM losses on the log link (poisson, gamma, tweedie) against
scikit-learn's PoissonRegressor / GammaRegressor / TweedieRegressor(link="log"), and the
pinball loss against QuantileRegressor(alpha=0): coefficients, predictions, D^2 / R^2 scores,
float32, sample weights, the stochastic optimizers, bad targets."""

from __future__ import annotations

import warnings
from typing import Any, Dict, Tuple

import numpy as np
import pytest

from fastloss import reference
from fastloss.models import LinearRegression
from fastloss.models import _glm

GLMS = [("poisson", {}, "PoissonRegressor"), ("gamma", {}, "GammaRegressor"),
        ("tweedie", {"power": 1.5}, "TweedieRegressor"),
        ("tweedie", {"power": 3.0}, "TweedieRegressor"),
        ("tweedie", {"power": 1.0}, "TweedieRegressor"),
        ("tweedie", {"power": 0.0}, "TweedieRegressor"),
        ("tweedie", {"power": -1.0}, "TweedieRegressor")]


def _glm_problem(loss: str, seed: int = 0, n: int = 400, d: int = 5, power: float = 1.5
                 ) -> Tuple[np.ndarray, np.ndarray]:
    """X (n, d) with columns of different scales and offsets, and targets of mean
    exp(X w + 0.5) in the loss's domain (counts for poisson; gamma draws otherwise)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * [1.0, 0.5, 2.0, 1.0, 0.3][:d] + [0.0, 1.0, 0.0, -1.0, 2.0][:d]
    mu = np.exp((X - X.mean(axis=0)) / X.std(axis=0) @ (0.3 * rng.normal(size=d)) + 0.5)
    if loss == "tweedie" and power <= 0:  # any real targets: negative ones too
        return X, mu + rng.normal(size=n)
    if loss == "poisson" or (loss == "tweedie" and power < 2):
        y = rng.poisson(mu).astype(np.float64)
        if loss == "tweedie" and power > 1:  # compound: zeros and continuous positives
            y = y * rng.gamma(2.0, 0.5, size=n)
        return X, y
    return X, rng.gamma(2.0, mu / 2.0)


def _sklearn(name: str, kw: Dict[str, Any], **common: Any) -> Any:
    linear_model = pytest.importorskip("sklearn.linear_model")
    extra = dict(kw, link="log") if name == "TweedieRegressor" else {}
    # Newton-Cholesky to 1e-12: the exact optimum to rounding
    return getattr(linear_model, name)(solver="newton-cholesky", tol=1e-12, max_iter=1000,
                                       **extra, **common)


# power 3: scikit-learn's Newton steps fall back to its lbfgs (which converges too)
@pytest.mark.filterwarnings("ignore:The inner solver of NewtonCholeskySolver")
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
@pytest.mark.parametrize("loss,kw,peer", GLMS, ids=lambda v: str(v))
def test_matches_scikit_learn_glm(loss: str, kw: Dict[str, Any], peer: str, alpha: float,
                                  fit_intercept: bool) -> None:
    """The same alpha gives the same coefficients (the objectives are normalized alike) to
    1e-6 relative; predict, score (D^2) as theirs."""
    X, y = _glm_problem(loss, power=kw.get("power", 1.5))
    theirs = _sklearn(peer, kw, alpha=alpha, fit_intercept=fit_intercept).fit(X, y)
    ours = LinearRegression(loss=loss, alpha=alpha, fit_intercept=fit_intercept, tol=1e-10,
                            max_iter=1000, **kw).fit(X, y)
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-7 * scale)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-6, abs=1e-7)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), rel=1e-6)
    assert ours.n_iter_ < 200


@pytest.mark.parametrize("loss,kw,peer", GLMS[:3], ids=lambda v: str(v))
def test_sample_weight_and_float32(loss: str, kw: Dict[str, Any], peer: str) -> None:
    """Weights as scikit-learn's (and an integer weight as a repeated row); float32 X fits
    the float64 optimum to float32's precision."""
    X, y = _glm_problem(loss, seed=1)
    sw = np.random.default_rng(2).integers(0, 4, size=len(y)).astype(np.float64)
    theirs = _sklearn(peer, kw, alpha=0.01).fit(X, y, sample_weight=sw)
    ours = LinearRegression(loss=loss, alpha=0.01, tol=1e-10, max_iter=1000, **kw)
    ours.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    rows = np.repeat(np.arange(len(y)), sw.astype(int))
    repeated = LinearRegression(loss=loss, alpha=0.01, tol=1e-10, max_iter=1000, **kw)
    np.testing.assert_allclose(repeated.fit(X[rows], y[rows]).coef_, ours.coef_, rtol=1e-6,
                               atol=1e-8)
    assert ours.score(X, y, sw) == pytest.approx(theirs.score(X, y, sw), rel=1e-6)
    single = LinearRegression(loss=loss, alpha=0.01, tol=1e-6, max_iter=1000, **kw)
    single.fit(X.astype(np.float32), y, sample_weight=sw)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, theirs.coef_, rtol=2e-3, atol=2e-4)


def test_tweedie_powers_up_to_zero_take_any_targets() -> None:
    """Power <= 0 (scikit-learn's domain: any real y) trains on negative targets where
    power >= 1 refuses them; weighted, as scikit-learn's."""
    X, y = _glm_problem("tweedie", power=-0.5, seed=4)
    assert (y < 0).any()
    sw = np.random.default_rng(5).uniform(0.5, 2.0, size=len(y))
    theirs = _sklearn("TweedieRegressor", {"power": -0.5}, alpha=0.02).fit(X, y,
                                                                          sample_weight=sw)
    ours = LinearRegression(loss="tweedie", power=-0.5, alpha=0.02, tol=1e-10,
                            max_iter=1000).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6, atol=1e-8)
    assert ours.score(X, y, sw) == pytest.approx(theirs.score(X, y, sw), rel=1e-6)
    with pytest.raises(ValueError, match="y must be >= 0"):
        LinearRegression(loss="tweedie", power=1.0).fit(X, y)


def test_d2_score_is_scikit_learns(rng: np.random.Generator) -> None:
    """_glm.d2_score equals scikit-learn's d2_tweedie_score, weighted and not, every power."""
    metrics = pytest.importorskip("sklearn.metrics")
    y = rng.gamma(2.0, 1.0, size=50)
    z = rng.normal(size=50) * 0.3
    sw = rng.uniform(0.1, 2.0, size=50)
    for power in (-1.0, 0.0, 1.0, 1.5, 2.0, 3.0):
        for w in (None, sw):
            expected = metrics.d2_tweedie_score(y, np.exp(z), sample_weight=w, power=power)
            assert _glm.d2_score(y, z, w, power) == pytest.approx(expected, rel=1e-12)
    # Poisson counts with zeros
    counts = rng.poisson(1.0, size=50).astype(float)
    assert _glm.d2_score(counts, z, None, 1.0) == pytest.approx(
        metrics.d2_tweedie_score(counts, np.exp(z), power=1.0), rel=1e-12)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "cg"])
@pytest.mark.parametrize("loss", ["poisson", "gamma", "tweedie"])
def test_other_optimizers_reach_the_optimum(loss: str, optimizer: str) -> None:
    """Per-sample SGD, a mini-batch rule and CG train the GLMs to near the lbfgs optimum
    (standardized X: the stochastic rates of the housing demo)."""
    X, y = _glm_problem(loss, seed=3)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    best = LinearRegression(loss=loss, alpha=0.01, tol=1e-10, max_iter=1000).fit(X, y)
    settings: Dict[str, Any] = (dict(max_iter=500, tol=1e-8) if optimizer == "cg" else
                                dict(lr=0.01, max_iter=100, tol=None, random_state=0))
    model = LinearRegression(loss=loss, alpha=0.01, optimizer=optimizer, **settings).fit(X, y)
    np.testing.assert_allclose(model.coef_, best.coef_, atol=3e-2 if optimizer != "cg"
                               else 1e-6)
    assert model.score(X, y) == pytest.approx(best.score(X, y), abs=5e-3)


def test_sparse_X_trains_as_dense(rng: np.random.Generator) -> None:
    """CSR X: lbfgs over the stored entries reaches the dense fit's coefficients."""
    sparse = pytest.importorskip("scipy.sparse")
    X, y = _glm_problem("poisson", seed=4)
    X = np.where(np.abs(X) > 0.7, X, 0.0)
    dense = LinearRegression(loss="poisson", alpha=0.01, tol=1e-10, max_iter=1000).fit(X, y)
    csr = LinearRegression(loss="poisson", alpha=0.01, tol=1e-10, max_iter=1000)
    csr.fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def _pinball_objective(X: np.ndarray, y: np.ndarray, coef: np.ndarray, b: float,
                       q: float) -> float:
    return float(np.mean([reference.linear.loss1("pinball", float(z), float(t), q)[0]
                          for z, t in zip(X @ coef + b, y)]))


@pytest.mark.parametrize("quantile", [0.5, 0.2, 0.9])
def test_pinball_matches_quantile_regressor(quantile: float) -> None:
    """alpha=0: QuantileRegressor's linear program is the exact optimum; lbfgs on the
    piecewise-linear objective gets within 1e-4 relative of its value, the coefficients
    within 2e-2, the predicted quantile's coverage as its."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(5)
    X = rng.normal(size=(500, 4))
    y = X @ rng.normal(size=4) + 1.0 + rng.standard_t(3, size=500)
    theirs = linear_model.QuantileRegressor(quantile=quantile, alpha=0.0,
                                            solver="highs").fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a line search ends at a kink: fine here
        ours = LinearRegression(loss="pinball", quantile=quantile, tol=1e-10,
                                max_iter=2000).fit(X, y)
    best = _pinball_objective(X, y, theirs.coef_, theirs.intercept_, quantile)
    got = _pinball_objective(X, y, ours.coef_, ours.intercept_, quantile)
    assert best <= got <= best * (1 + 1e-4)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-2)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=5e-2)
    coverage = np.mean(y <= ours.predict(X))
    assert coverage == pytest.approx(quantile, abs=0.01)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=2e-3)  # R^2, as there


@pytest.mark.parametrize("loss,kw,y_bad,match", [
    ("poisson", {}, -1.0, r"loss='poisson': y must be >= 0, found -1.0 at y\[3\]"),
    ("gamma", {}, 0.0, r"loss='gamma': y must be > 0, found 0.0 at y\[3\]"),
    ("tweedie", {"power": 1.5}, -0.5, r"loss='tweedie' \(power=1.5\): y must be >= 0"),
    ("tweedie", {"power": 2.5}, 0.0, r"loss='tweedie' \(power=2.5\): y must be > 0"),
])
def test_targets_outside_the_domain(loss: str, kw: Dict[str, Any], y_bad: float,
                                    match: str) -> None:
    """scikit-learn's check, before anything trains: fit, partial_fit and score."""
    X, y = _glm_problem("gamma", n=20)
    y[3] = y_bad
    for call in ("fit", "partial_fit"):
        model = LinearRegression(loss=loss, **kw)
        with pytest.raises(ValueError, match="out of the valid range of " + match):
            getattr(model, call)(X, y)
        assert not hasattr(model, "coef_")
    fitted = LinearRegression(loss=loss, **kw).fit(X, np.abs(y) + 1.0)
    with pytest.raises(ValueError, match=match):
        fitted.score(X, y)


@pytest.mark.parametrize("kw,match", [
    (dict(loss="tweedie", power=0.5), r"power must be finite and in \(-inf, 0\] or \[1, inf\)"),
    (dict(loss="pinball", quantile=1.0), r"quantile must be finite and in \(0, 1\)"),
    (dict(loss="poisson", quantile=0.0), "quantile must be"),  # checked whatever the loss
    (dict(loss="poisson", optimizer="cholesky"), "needs loss='squared_error'"),
])
def test_bad_parameters(kw: Dict[str, Any], match: str) -> None:
    X, y = _glm_problem("poisson", n=20)
    with pytest.raises(ValueError, match=match):
        LinearRegression(**kw).fit(X, y)


def test_parameters_and_tags() -> None:
    params = LinearRegression().get_params()
    assert params["power"] == 1.5 and params["quantile"] == 0.5
    pytest.importorskip("sklearn")
    assert LinearRegression(loss="gamma").__sklearn_tags__().target_tags.positive_only
    assert not LinearRegression(loss="pinball").__sklearn_tags__().target_tags.positive_only
