"""The models' two-stage L-BFGS (models/_base.py, ``_fit_full_batch``): the softmax objective
of dense float64 X is minimized first in float32 (on X rounded block by block), then in
float64 from there. The fit must end at the float64 objective's minimum, as the float64-only
fit does; the stage is used only where it applies. ``FLOAT32_STAGE_MIN_VALUES`` is lowered
so that small problems take it."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import pytest

import fastloss
from fastloss import linear
from fastloss.models import LinearRegression, SoftmaxRegression, _base


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Dict[str, int]:
    """Counts the objective's evaluations in float32 (the first stage) and in float64."""
    counts = {"float32": 0, "float64": 0}
    objective = linear.objective

    def counted(*args: Any, float32: bool = False, **kwargs: Any) -> Any:
        counts["float32" if float32 else "float64"] += 1
        return objective(*args, float32=float32, **kwargs)

    monkeypatch.setattr(linear, "objective", counted)
    return counts


@pytest.fixture
def always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_base, "FLOAT32_STAGE_MIN_VALUES", 0)


def _data(rng: np.random.Generator, n: int = 3000, d: int = 12, classes: int = 4) -> Any:
    # raw features: offsets and scales, as the solver's standardized coordinates expect
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 20.0, size=d) + rng.uniform(-50, 50, d)
    z = ((X - X.mean(axis=0)) / X.std(axis=0)) @ rng.normal(size=(d, classes))
    return X, np.argmax(z + rng.gumbel(size=z.shape), axis=1)


def _objective(model: SoftmaxRegression, X: np.ndarray, y: np.ndarray,
               sample_weight: Any = None) -> float:
    value = fastloss.linear_value_and_grad(X, y, np.ascontiguousarray(model.coef_.T),
                                           model.intercept_, loss="softmax",
                                           alpha=model.alpha, sample_weight=sample_weight)[0]
    return float(value)


@pytest.mark.parametrize("weighted", [False, True])
def test_reaches_the_float64_fits_minimum(always: None, calls: Dict[str, int],
                                          monkeypatch: pytest.MonkeyPatch, weighted: bool,
                                          rng: np.random.Generator) -> None:
    X, y = _data(rng)
    sw = rng.uniform(0.2, 3.0, size=len(y)) if weighted else None
    params = dict(alpha=1e-3, tol=1e-7, class_weight="balanced")
    staged = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
    assert calls["float32"] > 0 and calls["float64"] >= 1
    monkeypatch.setattr(_base, "FLOAT32_STAGE_MIN_VALUES", X.size + 1)
    calls["float32"] = 0
    plain = SoftmaxRegression(**params).fit(X, y, sample_weight=sw)
    assert calls["float32"] == 0
    weights = plain._weights(plain._class_indices(y, X, reset=False), sw, partial=False)
    f_staged, f_plain = (_objective(m, X, y, weights) for m in (staged, plain))
    assert f_staged == pytest.approx(f_plain, rel=1e-11)
    np.testing.assert_allclose(staged.coef_, plain.coef_, atol=2e-5 * np.abs(plain.coef_).max())
    np.testing.assert_allclose(staged.intercept_, plain.intercept_, atol=1e-3)
    for model in (staged, plain):
        assert len(model.loss_curve_) == model.n_iter_ > 0


def test_float32_does_the_work_and_float64_confirms(always: None, calls: Dict[str, int],
                                                    rng: np.random.Generator) -> None:
    X, y = _data(rng)
    model = SoftmaxRegression(alpha=1e-3).fit(X, y)  # tol = 1e-4
    # one float64 evaluation: float32's minimizer already meets tol in float64
    assert calls["float64"] == 1 and calls["float32"] > 5
    assert model.n_iter_ == len(model.loss_curve_)
    # the curve: float32 values first, then the float64 ones (none here: no iteration)
    assert model.loss_curve_[-1] == pytest.approx(_objective(model, X, y), rel=1e-6)


def test_max_iter_counts_both_stages(always: None, calls: Dict[str, int],
                                     rng: np.random.Generator) -> None:
    X, y = _data(rng)
    with pytest.warns(Warning, match="max_iter=3"):
        model = SoftmaxRegression(max_iter=3).fit(X, y)
    assert model.n_iter_ == 3 and calls["float32"] >= 3 and calls["float64"] == 1


def test_large_x_takes_the_stage_by_default(calls: Dict[str, int],
                                            rng: np.random.Generator) -> None:
    X, y = _data(rng, n=_base.FLOAT32_STAGE_MIN_VALUES // 12 + 1)
    with pytest.warns(Warning, match="max_iter=2"):
        SoftmaxRegression(max_iter=2).fit(X[:1000], y[:1000])  # 12000 values: float64 only
    assert calls["float32"] == 0
    with pytest.warns(Warning, match="max_iter=2"):
        SoftmaxRegression(max_iter=2).fit(X, y)
    assert calls["float32"] > 0


@pytest.mark.parametrize("case", ["beyond_float32", "zero_weight", "float32_x", "cg",
                                  "single_output"])
def test_stage_is_skipped_where_it_does_not_apply(always: None, calls: Dict[str, int],
                                                  case: str, rng: np.random.Generator) -> None:
    X, y = _data(rng, n=400)
    sw = None
    model: Any = SoftmaxRegression(alpha=1e-2)
    if case == "beyond_float32":
        X[7, 2] = 1e39  # rounds to inf in float32
    elif case == "zero_weight":
        sw = np.ones(len(y))
        sw[3] = 0.0  # a row the second moments do not see
    elif case == "float32_x":
        X = X.astype(np.float32)
    elif case == "cg":
        model = SoftmaxRegression(alpha=1e-2, optimizer="cg")
    else:
        model = LinearRegression(loss="poisson", alpha=1e-2)
        y = rng.poisson(np.exp(0.01 * (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()))
    model.fit(X, y, sample_weight=sw)
    assert calls["float32"] == 0 and calls["float64"] > 0
    assert np.isfinite(model.coef_).all()


def test_fits_float32_bounds_each_value_by_the_moments() -> None:
    half = 0.5 * float(np.finfo(np.float32).max)
    X = np.array([[1.0, -2.0], [3.0, half * 0.99]])
    second = (X * X).mean(axis=0)
    assert _base._fits_float32(second, *_base._weight_range(None, 2))
    X[1, 1] = half * 1.01
    assert not _base._fits_float32((X * X).mean(axis=0), *_base._weight_range(None, 2))
    w = np.array([3.0, 1e-3])  # the large row lightly weighted: still bounded, by min(w)
    wsecond = (w[:, None] * X * X).sum(axis=0) / w.sum()
    assert not _base._fits_float32(wsecond, *_base._weight_range(w, 2))
    assert not _base._fits_float32(second, *_base._weight_range(np.array([1.0, 0.0]), 2))
    assert not _base._fits_float32(np.zeros(2), *_base._weight_range(None, 0))
    assert _base._weight_range(np.array([2.0, 0.5]), 2) == (2.5, 0.5)
