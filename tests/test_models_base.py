"""The training machinery the estimators share (fastloss.models._base): seeds, early
stopping, partial_fit against fit, set_params between partial fits, float32, the "numpy"
backend, pickling a model mid-training, and a clear error when training diverges."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import fastloss
from _models_support import regression_problem
from fastloss.models import LinearRegression, SoftmaxRegression


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
    updates = -(-len(y) // model.batch_size)  # one Adam step per batch
    assert adam_state.optimizer == "adam" and adam_state.t == updates
    before = model.coef_.copy()
    model.set_params(lr=0.0).partial_fit(X, y)  # same state, new rate: 0 moves nothing
    assert model._opt_state is adam_state and adam_state.t == 2 * updates
    np.testing.assert_array_equal(model.coef_, before)
    # the rate decays per update, on the update count the state carries: as sgd_epoch
    # resumed from a copy of that state
    W, b, state = model.coef_.copy(), np.array([model.intercept_]), copy.deepcopy(adam_state)
    model.set_params(lr=0.5, lr_schedule="invscaling").partial_fit(X, y)
    fastloss.sgd_epoch(X, y, W, b, state, optimizer="adam", lr=0.5, learning_rate="invscaling",
                       power_t=model.power_t, batch_size=model.batch_size, shuffle=True)
    np.testing.assert_array_equal(model.coef_, W)
    assert model._opt_state.t == state.t == 3 * updates
    model.set_params(optimizer="momentum", lr=0.01).partial_fit(X, y)
    assert model._opt_state.optimizer == "momentum"  # fresh state for the new optimizer
    assert model._opt_state.t == updates
    model.set_params(optimizer="sgd", lr=0.001).partial_fit(X, y)
    assert model._opt_state.optimizer == "sgd" and model._opt_state.t == len(y)
    assert model.n_iter_ == 5 and np.isfinite(model.coef_).all()


def test_minibatch_training_runs_one_sgd_epoch_per_epoch(rng):
    """The mini-batch optimizers train by fastloss.sgd_epoch(batch_size=...), one call per
    epoch, the rule's state carried from epoch to epoch (and AdamW's decay on coef only)."""
    X, y, _ = regression_problem(rng, noise=0.3)
    model = LinearRegression(optimizer="adamw", lr=0.05, alpha=0.1, batch_size=16, max_iter=3,
                             tol=None, shuffle=False, lr_schedule="invscaling").fit(X, y)
    coef, b = np.zeros(X.shape[1]), np.zeros(1)
    _, state = fastloss.sgd_epoch(X, y, coef, b, optimizer="adamw", lr=0.05, alpha=0.1,
                                  learning_rate="invscaling", power_t=model.power_t,
                                  batch_size=16, n_epochs=3)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.intercept_ == b[0] and model.loss_curve_ == state.losses
    assert model._opt_state.t == state.t == 3 * 25  # 400 samples in batches of 16


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


@pytest.mark.parametrize("optimizer", ["lbfgs", "cg"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_full_batch_fit_rejects_non_finite_X_before_changing_the_model(optimizer, bad, rng):
    """The full-batch fits find NaN/inf from the column moments (not a separate pass over X);
    a fitted model keeps its parameters."""
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=60)
    model = LinearRegression(optimizer=optimizer, loss="huber").fit(X, y)
    coef = model.coef_.copy()
    X[7, 1] = bad
    with pytest.raises(ValueError, match="NaN or inf"):
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


@pytest.mark.filterwarnings("ignore")
def test_full_batch_fit_takes_huge_finite_X(rng):
    """Squares that overflow are not mistaken for NaN/inf in X."""
    X = rng.normal(size=(40, 2)) * 1e160
    y = (X[:, 0] > 0).astype(int)
    SoftmaxRegression(max_iter=3).fit(X, y)  # no "NaN or inf" ValueError


@pytest.mark.parametrize("model", [
    lambda: SoftmaxRegression(alpha=1e-3),
    lambda: LinearRegression(optimizer="lbfgs", loss="huber"),
])
def test_float32_full_batch_fit_minimizes_in_float32(model, rng, monkeypatch):
    """float32 X is not copied to float64: the objective runs in float32 and the fit lands
    on the float64 fit's minimum to float32's precision, without a convergence warning."""
    import warnings

    from fastloss import linear

    seen = set()
    objective = linear.objective

    def recording(X, *args, **kw):
        seen.add(X.dtype)
        return objective(X, *args, **kw)

    monkeypatch.setattr(linear, "objective", recording)
    X = rng.normal(size=(400, 5)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0]) + 2.0
    z = X @ np.array([0.5, -0.05, 4.0, 0.2, -1.0])
    y = (np.digitize(z, np.quantile(z, [0.3, 0.7])) if isinstance(model(), SoftmaxRegression)
         else z + 0.2 * rng.normal(size=400))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m32 = model().fit(X.astype(np.float32), y)
    assert seen == {np.dtype(np.float32)}
    m64 = model().fit(X, y)
    assert m32.coef_.dtype == np.float32
    np.testing.assert_allclose(m32.coef_, m64.coef_, rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(m32.intercept_, m64.intercept_, rtol=2e-3, atol=2e-3)
