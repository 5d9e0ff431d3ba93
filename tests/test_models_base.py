"""The training machinery the estimators share (fastloss.models._base): seeds, early
stopping, partial_fit against fit, set_params between partial fits, float32, the "numpy"
backend, pickling a model mid-training, and a clear error when training diverges."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import fastloss
from _models_support import regression_problem
from fastloss.models import LinearRegression


def test_same_seed_same_model_other_seed_differs(rng):
    X, y, _ = regression_problem(rng, noise=1.0)
    fits = [LinearRegression(optimizer="adam", max_iter=5, tol=None, random_state=s).fit(X, y)
            for s in (3, 3, 4)]
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert not np.array_equal(fits[0].coef_, fits[2].coef_)


def test_early_stopping_stops_before_max_iter(rng):
    X, y, _ = regression_problem(rng, noise=1.0)
    model = LinearRegression(optimizer="adam", lr=0.05, max_iter=500, tol=1e-3,
                             n_iter_no_change=3, random_state=0).fit(X, y)
    assert model.n_iter_ < 500
    no_stop = LinearRegression(optimizer="adam", lr=0.05, max_iter=20, tol=None,
                               random_state=0).fit(X, y)
    assert no_stop.n_iter_ == 20


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_partial_fit_continues_like_fit(optimizer, rng):
    X, y, _ = regression_problem(rng, noise=0.1)
    full = LinearRegression(optimizer=optimizer, max_iter=4, tol=None, random_state=7).fit(X, y)
    part = LinearRegression(optimizer=optimizer, max_iter=4, tol=None, random_state=7)
    for _ in range(4):
        part.partial_fit(X, y)
    np.testing.assert_allclose(part.coef_, full.coef_, rtol=1e-12)
    assert part.n_iter_ == 4


def test_set_params_between_partial_fits_takes_effect(rng):
    X, y, _ = regression_problem(rng, noise=0.1)
    model = LinearRegression(optimizer="adam", lr=0.01, random_state=0,
                             lr_schedule="constant").partial_fit(X, y)
    adam_state = model._opt_state
    model.set_params(lr=0.5).partial_fit(X, y)
    assert model._opt_state is adam_state and adam_state.lr == 0.5  # same state, new rate
    model.set_params(lr_schedule="invscaling").partial_fit(X, y)  # the rate decays per step
    steps = model._steps
    assert adam_state.lr == pytest.approx(0.5 / steps ** 0.25)
    model.set_params(optimizer="momentum").partial_fit(X, y)
    assert type(model._opt_state).__name__ == "SGD"  # fresh state for the new optimizer
    model.set_params(optimizer="sgd", lr=0.001).partial_fit(X, y)
    assert type(model._opt_state).__name__ == "EpochState"
    assert model.n_iter_ == 5 and np.isfinite(model.coef_).all()


def test_float32_stays_float32(rng):
    X, y, coef = regression_problem(rng)
    model = LinearRegression(optimizer="adam", lr=0.05, max_iter=100, tol=None,
                             random_state=0).fit(X.astype(np.float32), y.astype(np.float32))
    assert model.coef_.dtype == np.float32
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(model.coef_, coef, atol=5e-2)


def test_numpy_backend_gives_the_same_model(rng):
    X, y, _ = regression_problem(rng, noise=0.3)
    c_model = LinearRegression(optimizer="adam", max_iter=10, tol=None, random_state=0).fit(X, y)
    with fastloss.use_backend("numpy"):
        np_model = LinearRegression(optimizer="adam", max_iter=10, tol=None,
                                    random_state=0).fit(X, y)
    np.testing.assert_allclose(c_model.coef_, np_model.coef_, rtol=1e-9, atol=1e-12)


def test_pickle_round_trip(rng):
    X, y, _ = regression_problem(rng)
    model = LinearRegression(optimizer="adam", max_iter=3, random_state=0).fit(X, y)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.predict(X), model.predict(X))
    clone.partial_fit(X, y)
    model.partial_fit(X, y)
    np.testing.assert_array_equal(clone.coef_, model.coef_)


def test_diverging_training_raises_a_clear_error(rng):
    X, y, _ = regression_problem(rng)
    with pytest.raises(FloatingPointError, match="lower lr"):
        LinearRegression(optimizer="momentum", lr=1e3, max_iter=50, tol=None).fit(X * 1e3, y)
