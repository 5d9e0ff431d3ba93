"""fastloss.linear: the per-sample SGD epoch (C kernel vs the reference loop), resuming,
convergence, bad input and input forms. The mini-batch helpers (linear_value_and_grad,
minibatch_step) are in ``tests/test_linear_minibatch.py``."""

from __future__ import annotations

import itertools
import pickle
import warnings
import zlib
from typing import Any, Dict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

import fastloss
from fastloss.linear import LOSSES, OPTIMIZERS, EpochState
from _optim_cases import torch_scalars_in
from _support import assert_same_run, fresh_params, make_problem, run_both


# ---- kernel vs reference -------------------------------------------------------------------

VARIANTS = list(itertools.product(("C", "F"), (False, True), (False, True), (0.0, 0.01),
                                  ("constant", "invscaling")))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_epoch_matches_reference(loss: str, optimizer: str, dtype: Any) -> None:
    """Every loss x optimizer x dtype, over memory order x shuffle x sample_weight x alpha
    x learning rate schedule: the C epoch equals the reference loop to rounding."""
    # a seed of the names that is the same in every process (hash() of a str is not)
    rng = np.random.default_rng(zlib.crc32(f"{loss}/{optimizer}".encode()))
    for order, shuffle, weighted, alpha, schedule in VARIANTS:
        X, y, shape = make_problem(rng, loss, 23, 4, dtype, order)
        coef, intercept = fresh_params(rng, shape, dtype)
        sw = rng.uniform(0, 2, size=len(y)) if weighted else None
        out = run_both(X, y, coef, intercept, loss=loss, optimizer=optimizer, lr=0.05,
                       learning_rate=schedule, alpha=alpha, epsilon=0.7, sample_weight=sw,
                       shuffle=shuffle, seed=7, n_epochs=2)
        assert_same_run(out, dtype, f"{order} shuffle={shuffle} weighted={weighted} "
                                    f"alpha={alpha} {schedule}")
        assert out["c"][3].t == 2 * len(y)


@pytest.mark.parametrize("loss", LOSSES)
def test_epoch_variants_match_reference(loss: str, dtype: Any) -> None:
    """Nesterov, no intercept, non-default hyper-parameters, sliced X."""
    rng = np.random.default_rng(3)
    X, y, shape = make_problem(rng, loss, 40, 6, dtype)
    cases = [
        dict(optimizer="momentum", momentum=0.5, nesterov=True),
        dict(optimizer="adam", betas=(0.5, 0.9), eps=1e-3, intercept=False),
        dict(optimizer="rmsprop", rho=0.5, eps=1e-4, learning_rate="invscaling", power_t=0.7),
        dict(optimizer="adagrad", eps=0.0, alpha=0.1, intercept=False),
        dict(optimizer="sgd", lr=0.2, Xslice=True),
    ]
    for case in cases:
        case = dict(case)
        has_b = case.pop("intercept", True)
        Xc = X
        if case.pop("Xslice", False):  # every other column of a wider array: strided rows
            wide = np.zeros((X.shape[0], 2 * X.shape[1]), dtype)
            wide[:, ::2] = X
            Xc = wide[:, ::2]
        coef, intercept = fresh_params(rng, shape, dtype, has_b)
        out = run_both(Xc, y, coef, intercept, loss=loss, **case)
        assert_same_run(out, dtype, str(case))


@pytest.mark.parametrize("d", [1, 16, 64, 65, 150])
def test_sgd_paths_match_reference(d: int, dtype: Any) -> None:
    """Plain SGD has two kernels, a latency-hiding one for short rows and the direct loop
    (switch at 512 bytes of coefficients): both equal the reference loop."""
    rng = np.random.default_rng(d)
    for order, shuffle, weighted, alpha, schedule in VARIANTS[::3]:
        for loss in ("squared_error", "huber", "logistic"):
            X, y, shape = make_problem(rng, loss, 15, d, dtype, order)
            X /= np.sqrt(d)
            coef, intercept = fresh_params(rng, shape, dtype, intercept=not weighted)
            sw = rng.uniform(0, 2, size=len(y)) if weighted else None
            out = run_both(X, y, coef, intercept, loss=loss, lr=0.1, learning_rate=schedule,
                           alpha=alpha, sample_weight=sw, shuffle=shuffle, seed=1, n_epochs=2)
            assert_same_run(out, dtype, f"{loss} {order} shuffle={shuffle} w={weighted} "
                                        f"alpha={alpha} {schedule}")


def test_memory_orders_agree(dtype: Any) -> None:
    """C-ordered, F-ordered and sliced X give the same epoch (the same arithmetic)."""
    rng = np.random.default_rng(5)
    X, y, shape = make_problem(rng, "squared_error", 50, 7, dtype)
    results = []
    for Xv in (X, np.asfortranarray(X), np.concatenate([X, X], axis=1)[:, :7],
               np.ascontiguousarray(X[::-1])[::-1]):
        coef = np.zeros(shape, dtype)
        b = np.zeros(1, dtype)
        fastloss.sgd_epoch(Xv, y, coef, b, optimizer="adam", lr=0.01)
        results.append(coef.tobytes() + b.tobytes())
    assert all(r == results[0] for r in results)


def test_shuffle_order_is_the_documented_permutation() -> None:
    rng = np.random.default_rng(0)
    X, y, shape = make_problem(rng, "squared_error", 30, 3, np.float64)
    coef_a, coef_b = np.zeros(3), np.zeros(3)
    _, st = fastloss.sgd_epoch(X, y, coef_a, None, shuffle=True, seed=11, n_epochs=2)
    for e in range(2):
        perm = np.random.default_rng([11, e]).permutation(30)
        fastloss.sgd_epoch(X[perm], y[perm], coef_b, None)
    np.testing.assert_array_equal(coef_a, coef_b)
    assert st.seed == 11 and st.epochs == 2


def test_shuffle_without_seed_keeps_its_seed() -> None:
    rng = np.random.default_rng(0)
    X, y, _ = make_problem(rng, "squared_error", 30, 3, np.float64)
    coef = np.zeros(3)
    _, st = fastloss.sgd_epoch(X, y, coef, None, shuffle=True)
    assert isinstance(st.seed, int)
    seed = st.seed
    fastloss.sgd_epoch(X, y, coef, None, st, shuffle=True)
    assert st.seed == seed


# ---- resuming ------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", ["squared_error", "softmax"])
def test_resumed_epochs_equal_one_long_run(loss: str, optimizer: str, dtype: Any) -> None:
    rng = np.random.default_rng(1)
    X, y, shape = make_problem(rng, loss, 31, 5, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    kw = dict(loss=loss, optimizer=optimizer, lr=0.03, learning_rate="invscaling",
              alpha=0.01, shuffle=True, seed=3)
    W1, b1 = coef.copy(), intercept.copy()
    mean1, st1 = fastloss.sgd_epoch(X, y, W1, b1, n_epochs=3, **kw)
    W2, b2 = coef.copy(), intercept.copy()
    _, st2 = fastloss.sgd_epoch(X, y, W2, b2, **kw)
    st2 = pickle.loads(pickle.dumps(st2))  # the state survives pickling
    fastloss.sgd_epoch(X, y, W2, b2, st2, **kw)
    mean2, st2 = fastloss.sgd_epoch(X, y, W2, b2, st2, **kw)
    assert W1.tobytes() == W2.tobytes() and b1.tobytes() == b2.tobytes()
    assert mean1 == mean2 and st1.losses == st2.losses
    assert (st1.t, st1.epochs) == (st2.t, st2.epochs) == (93, 3)
    for a, b in zip(st1.coef_state + st1.intercept_state, st2.coef_state + st2.intercept_state):
        assert a.tobytes() == b.tobytes()
    assert st1.mu_product == st2.mu_product  # NAdam's (1.0 for the others)


def test_state_layout() -> None:
    coef, b = np.zeros((4, 3)), np.zeros(3)
    X, y = np.ones((2, 4)), np.array([0, 2])
    _, st = fastloss.sgd_epoch(X, y, coef, b, loss="softmax", optimizer="adam")
    assert isinstance(st, EpochState) and st.optimizer == "adam" and st.t == 2
    assert [a.shape for a in st.coef_state] == [(4, 3), (4, 3)]
    assert [a.shape for a in st.intercept_state] == [(3,), (3,)]
    _, st = fastloss.sgd_epoch(X, np.array([1.0, 2.0]), np.zeros(4), None)
    assert st.coef_state == () and st.intercept_state == ()


# ---- against scikit-learn and known solutions ----------------------------------------------

@pytest.mark.parametrize("schedule,alpha", [("constant", 0.0), ("invscaling", 0.001)])
def test_squared_error_matches_sklearn_sgdregressor(schedule: str, alpha: float) -> None:
    """squared_error + sgd is scikit-learn's SGDRegressor epoch (0.5 r^2, same updates)."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(2)
    X, y, _ = make_problem(rng, "squared_error", 200, 6, np.float64)
    model = linear_model.SGDRegressor(
        learning_rate=schedule, eta0=0.01, power_t=0.25, alpha=alpha,
        penalty="l2" if alpha else None, shuffle=False, max_iter=1, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    coef, b = np.zeros(6), np.zeros(1)
    fastloss.sgd_epoch(X, y, coef, b, lr=0.01, learning_rate=schedule, alpha=alpha)
    np.testing.assert_allclose(coef, model.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, model.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lr,alpha", [(1.0, 2.0), (0.5, 30.0), (0.9, 5.0)])
def test_large_l2_step_is_clamped_as_sklearn(lr: float, alpha: float) -> None:
    """lr * alpha > 1: scikit-learn scales the weights by max(0, 1 - eta alpha) (they drop to
    zero instead of flipping sign and diverging); sgd_epoch does the same, on both backends."""
    linear_model = pytest.importorskip("sklearn.linear_model")
    rng = np.random.default_rng(3)
    X, y, _ = make_problem(rng, "squared_error", 60, 4, np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)  # keep the loss steps themselves stable
    model = linear_model.SGDRegressor(learning_rate="constant", eta0=lr, alpha=alpha,
                                      penalty="l2", shuffle=False, max_iter=3, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    for backend in ("c", "numpy"):
        coef, b = np.zeros(4), np.zeros(1)
        with fastloss.use_backend(backend):
            fastloss.sgd_epoch(X, y, coef, b, lr=lr, alpha=alpha, n_epochs=3)
        assert np.abs(coef).max() < 10  # no divergence (1e13 / NaN before)
        np.testing.assert_allclose(coef, model.coef_, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, model.intercept_, rtol=1e-9, atol=1e-12)


def test_converges_to_known_solution(dtype: Any) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 5)).astype(dtype)
    w_true, b_true = np.array([1.0, -2.0, 0.5, 0.0, 3.0]), 0.7
    y = (X.astype(np.float64) @ w_true + b_true).astype(dtype)
    for optimizer, lr in [("sgd", 0.02), ("momentum", 0.005), ("adam", 0.01)]:
        coef, b = np.zeros(5, dtype), np.zeros(1, dtype)
        mean, st = fastloss.sgd_epoch(X, y, coef, b, optimizer=optimizer, lr=lr, n_epochs=30,
                                      shuffle=True, seed=0)
        tol = 1e-3 if np.dtype(dtype) == np.float32 else 1e-5
        if optimizer == "adam":  # a constant Adam step keeps jittering at the scale of lr
            tol = 2e-2
        np.testing.assert_allclose(coef, w_true, atol=tol, err_msg=optimizer)
        np.testing.assert_allclose(b, [b_true], atol=tol, err_msg=optimizer)
        assert st.losses[-1] < st.losses[0] / 100


def test_classifiers_learn(dtype: Any) -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(600, 4)).astype(dtype)
    w = np.array([[2.0, -1.0, 0.0], [0.0, 2.0, -2.0], [1.0, 0.0, 1.0], [-1.0, 1.0, 0.0]])
    labels = np.argmax(X.astype(np.float64) @ w, axis=1)
    coef, b = np.zeros((4, 3), dtype), np.zeros(3, dtype)
    _, st = fastloss.sgd_epoch(X, labels, coef, b, loss="softmax", optimizer="adam", lr=0.05,
                               n_epochs=10, shuffle=True, seed=1)
    assert np.mean(np.argmax(X @ coef + b, axis=1) == labels) > 0.95
    assert st.losses[-1] < st.losses[0]
    yb = (X[:, 0] - X[:, 1] > 0).astype(dtype)
    coef1, b1 = np.zeros(4, dtype), np.zeros(1, dtype)
    fastloss.sgd_epoch(X, yb, coef1, b1, loss="logistic", lr=0.1, n_epochs=10)
    assert np.mean(((X @ coef1 + b1) > 0) == (yb == 1)) > 0.97


def test_robust_losses_fit_the_median_line() -> None:
    """absolute and huber resist a few huge outliers that drag squared_error away."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(400, 1))
    y = 2.0 * X[:, 0]
    y[:20] += 1e3
    for loss in ("absolute", "huber"):
        coef = np.zeros(1)
        fastloss.sgd_epoch(X, y, coef, None, loss=loss, lr=0.01, n_epochs=20, shuffle=True,
                           seed=0, learning_rate="invscaling")
        assert abs(coef[0] - 2.0) < 0.1, loss


# ---- edge cases ----------------------------------------------------------------------------

@pytest.mark.parametrize("loss", LOSSES)
def test_sizes_zero_and_one(loss: str, dtype: Any) -> None:
    rng = np.random.default_rng(9)
    for n, d in [(0, 3), (1, 3), (5, 1), (1, 1), (4, 0)]:
        X, y, shape = make_problem(rng, loss, n, d, dtype)
        coef, intercept = fresh_params(rng, shape, dtype)
        out = run_both(X, y, coef, intercept, loss=loss, optimizer="adam", lr=0.1)
        if n == 0:
            assert np.isnan(out["c"][0]) and out["c"][3].t == 0
            assert out["c"][1].tobytes() == coef.tobytes()
        else:
            assert np.isfinite(out["c"][0])
            assert_same_run(out, dtype, f"n={n} d={d}")


@pytest.mark.parametrize("loss", LOSSES)
def test_nan_in_X_gives_nan_coef(loss: str, dtype: Any) -> None:
    rng = np.random.default_rng(10)
    X, y, shape = make_problem(rng, loss, 10, 3, dtype)
    X[4, 1] = np.nan
    for backend in ("c", "numpy"):
        coef, b = fresh_params(rng, shape, dtype)
        with fastloss.use_backend(backend):
            mean, _ = fastloss.sgd_epoch(X, y, coef, b, loss=loss)
        assert np.isnan(mean), backend
        assert np.isnan(coef).any() and np.isnan(b).all(), backend


def test_zero_total_weight_gives_nan_mean() -> None:
    X, y = np.ones((3, 2)), np.ones(3)
    coef = np.zeros(2)
    mean, _ = fastloss.sgd_epoch(X, y, coef, None, sample_weight=np.zeros(3))
    assert np.isnan(mean) and not coef.any()


def test_readonly_and_list_inputs_are_fine() -> None:
    X = np.ones((3, 2))
    X.flags.writeable = False
    y = [1, 2, 3]
    coef = np.zeros(2)
    mean, _ = fastloss.sgd_epoch(X, y, coef, None)
    assert mean > 0 and coef.any()
    coef2 = np.zeros(2)
    fastloss.sgd_epoch([[1, 1], [1, 1], [1, 1]], y, coef2, None)
    assert coef.tobytes() == coef2.tobytes()


def test_mean_loss_is_before_each_update() -> None:
    X, y = np.array([[1.0]]), np.array([3.0])
    coef, b = np.zeros(1), np.zeros(1)
    mean, _ = fastloss.sgd_epoch(X, y, coef, b, lr=0.1, sample_weight=[2.0])
    assert mean == 0.5 * 9.0  # the weighted mean of one sample is its loss
    assert coef[0] == pytest.approx(0.1 * 2.0 * 3.0) and b[0] == pytest.approx(0.6)


# ---- bad input -----------------------------------------------------------------------------

def _good() -> Dict[str, Any]:
    rng = np.random.default_rng(12)
    X = rng.normal(size=(6, 3))
    return dict(X=X, y=rng.normal(size=6), coef=np.zeros(3), intercept=np.zeros(1))


def _softmax_good() -> Dict[str, Any]:
    rng = np.random.default_rng(13)
    return dict(X=rng.normal(size=(6, 3)), y=np.array([0, 1, 2, 0, 1, 2]),
                coef=np.zeros((3, 3)), intercept=np.zeros(3), loss="softmax")


def _aliased_state(optimizer: str) -> EpochState:
    """Buffers for coef (3,) and intercept (1,) of _good() that share memory."""
    if optimizer == "adam":
        z, zb = np.zeros(3), np.zeros(1)
        return EpochState("adam", coef_state=(z, z), intercept_state=(zb, np.zeros(1)))
    buf = np.zeros(3)
    return EpochState(optimizer, coef_state=(buf,), intercept_state=(buf[2:],))


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


BAD_INPUTS = [
    (dict(loss="hinge"), ValueError, "loss"),
    # the GLM losses' targets (_good's y has negative values) and parameters
    (dict(loss="poisson"), ValueError, r"y must be >= 0 for loss='poisson' .*, found -"),
    (dict(loss="gamma"), ValueError, r"y must be > 0 for loss='gamma' .*, found -0.05"),
    (dict(loss="tweedie", power=2.5), ValueError, "y must be > 0 for loss='tweedie' with power"),
    (dict(loss="tweedie", power=0.5), ValueError,
     r"power must be finite and in \(-inf, 0\] or \[1, inf\)"),
    (dict(loss="pinball", quantile=1.0), ValueError, r"quantile must be finite and in \(0, 1"),
    (dict(optimizer="lbfgs"), ValueError, "optimizer"),
    (dict(learning_rate="optimal"), ValueError, "learning_rate"),
    (dict(lr=-0.1), ValueError, "lr"),
    (dict(lr=float("nan")), ValueError, "lr"),
    (dict(lr="fast"), TypeError, "lr"),
    (dict(power_t=-1.0), ValueError, "power_t"),
    (dict(alpha=-0.1), ValueError, "alpha"),
    (dict(alpha=float("inf")), ValueError, "alpha"),
    (dict(epsilon=0.0), ValueError, "epsilon"),
    (dict(momentum=-0.5), ValueError, "momentum"),
    (dict(betas=(1.0, 0.9), optimizer="adam"), ValueError, r"betas\[0\]"),
    (dict(betas=(0.9, -0.1)), ValueError, r"betas\[1\]"),
    (dict(betas=0.9), TypeError, "betas"),
    (dict(eps=-1e-8), ValueError, "eps"),
    (dict(rho=1.5), ValueError, "rho"),
    (dict(nesterov=True), ValueError, "nesterov"),
    (dict(nesterov=1, optimizer="momentum"), TypeError, "nesterov"),
    (dict(betas=(0.9, 1.0), optimizer="lion"), ValueError, r"betas\[1\]"),
    (dict(momentum_decay=-0.1, optimizer="nadam"), ValueError, "momentum_decay"),
    (dict(decoupled_weight_decay=1, optimizer="nadam"), TypeError, "decoupled_weight_decay"),
    (dict(decoupled_weight_decay=True, optimizer="adam"), ValueError,
     "decoupled_weight_decay=True needs optimizer 'nadam' or 'radam'"),
    (dict(state=EpochState("nadam", coef_state=(np.zeros(3), np.zeros(3)),
                           intercept_state=(np.zeros(1), np.zeros(1)), mu_product=1.5),
          optimizer="nadam"), ValueError, r"state.mu_product must be finite and in \[0, 1\]"),
    (dict(state=EpochState("nadam", coef_state=(np.zeros(3), np.zeros(3)),
                           intercept_state=(np.zeros(1), np.zeros(1)), mu_product="1"),
          optimizer="nadam"), TypeError, "state.mu_product"),
    (dict(shuffle="yes"), TypeError, "shuffle"),
    (dict(seed=-1, shuffle=True), ValueError, "seed"),
    (dict(seed=1.5, shuffle=True), TypeError, "seed"),
    (dict(n_epochs=0), ValueError, "n_epochs"),
    (dict(n_epochs=2.0), TypeError, "n_epochs"),
    (dict(batch_size=0), ValueError, "batch_size must be"),
    (dict(batch_size=-3), ValueError, "batch_size must be"),
    (dict(batch_size=2.0), TypeError, "batch_size must be an int"),
    (dict(batch_size=True), TypeError, "batch_size must be an int"),
    (dict(batch_size=None), TypeError, "batch_size must be an int"),
    (dict(batch_size=2**63), ValueError, "batch_size must be"),
    (dict(X=np.ones(6)), ValueError, "X must be 2-D"),
    (dict(X=np.ones((6, 3), dtype=np.int64)), TypeError, "X must be a float32"),
    (dict(X=np.ones((6, 3), dtype=np.complex128)), TypeError, "X must be a float32"),
    (dict(X=np.ma.masked_array(np.ones((6, 3)))), TypeError, "masked"),
    (dict(coef=np.zeros(3, np.float32)), TypeError, "coef must have dtype float64"),
    (dict(coef=np.zeros(4)), ValueError, "coef must have shape"),
    (dict(coef=np.zeros(6)[::2]), ValueError, "coef must be C-contiguous"),
    (dict(coef=_readonly(np.zeros(3))), ValueError, "coef is read-only"),
    (dict(coef=[0.0, 0.0, 0.0]), TypeError, "coef must be a numpy.ndarray"),
    (dict(intercept=np.zeros(())), ValueError, "intercept must have shape"),
    (dict(intercept=np.zeros(2)), ValueError, "intercept must have shape"),
    (dict(intercept=0.0), TypeError, "intercept must be a numpy.ndarray"),
    (dict(intercept=np.zeros(1, np.float32)), TypeError, "intercept must have dtype"),
    (dict(y=np.ones(5)), ValueError, "y must be 1-D with 6"),
    (dict(y=np.ones((6, 1))), ValueError, "y must be 1-D"),
    (dict(y=np.array(["a"] * 6)), TypeError, "y must be a real"),
    (dict(y=np.array([0, 1, 2, 0, 1, 0.0]), loss="logistic"), ValueError, "0 or 1"),
    (dict(sample_weight=-np.ones(6)), ValueError, "sample_weight"),
    (dict(sample_weight=np.full(6, np.nan)), ValueError, "sample_weight"),
    (dict(sample_weight=np.ones(5)), ValueError, "sample_weight"),
    (dict(state="adam"), TypeError, "state"),
    (dict(state=EpochState("adam")), ValueError, "state holds 'adam'"),
    (dict(state=EpochState("momentum"), optimizer="momentum"), ValueError, "state.coef_state"),
    (dict(state=EpochState("momentum", coef_state=(np.zeros(4),),
                           intercept_state=(np.zeros(1),)), optimizer="momentum"),
     ValueError, r"state.coef_state\[0\] must have shape"),
    (dict(state=EpochState("sgd", t=-1)), ValueError, "state.t"),
    # values that pass the type checks but do not fit the kernel's types
    (dict(lr=10**400), ValueError, "lr must be finite"),
    (dict(alpha=10**400), ValueError, "alpha must be finite"),
    (dict(n_epochs=2**63), ValueError, "n_epochs"),
    (dict(state=EpochState("sgd", t=2**63)), ValueError, "state.t"),
    (dict(state=EpochState("sgd", t=2**63 - 6), n_epochs=2), ValueError, "int64 update counter"),
    # batches of 4 of the 6 samples: 2 updates per epoch, 4 left for 3 epochs
    (dict(state=EpochState("sgd", t=2**63 - 5), n_epochs=3, batch_size=4), ValueError,
     "int64 update counter"),
    # a hand-built state is checked whole before anything runs
    (dict(state=EpochState("sgd", losses=())), TypeError, "state.losses must be a list"),
    (dict(state=EpochState("sgd", t=True)), TypeError, "state.t must be an int"),
    (dict(state=EpochState("sgd", seed=-3)), ValueError, "state.seed"),
    # state buffers that alias each other (or the intercept's) would give NaN weights
    (dict(state=_aliased_state("adam"), optimizer="adam"), ValueError,
     r"state.coef_state\[1\] shares memory with state.coef_state\[0\]"),
    (dict(state=_aliased_state("momentum"), optimizer="momentum"), ValueError,
     r"state.intercept_state\[0\] shares memory with state.coef_state\[0\]"),
]

SOFTMAX_BAD_INPUTS = [
    (dict(y=np.array([0, 1, 3, 0, 1, 2])), ValueError, "class label 3 outside"),
    (dict(y=np.array([0, 1, -1, 0, 1, 2])), ValueError, "class label -1 outside"),
    (dict(y=np.array([0, 1, 2, 0, 1, 2.0])), TypeError, "integer class labels"),
    (dict(coef=np.zeros(3)), ValueError, "coef must be 2-D"),
    (dict(intercept=np.zeros(1)), ValueError, r"intercept must have shape \(3,\)"),
]


def _check_rejected(args: Dict[str, Any], exc: type, match: str) -> None:
    X, y, coef, intercept = args.pop("X"), args.pop("y"), args.pop("coef"), args.pop("intercept")
    state = args.pop("state", None)
    arrays = [a for a in (X, y, coef, intercept) if isinstance(a, np.ndarray)]
    if isinstance(state, EpochState):
        arrays += list(state.coef_state + state.intercept_state)
    before = [a.tobytes() for a in arrays]
    for backend in ("c", "numpy"):
        with fastloss.use_backend(backend):
            with pytest.raises(exc, match=match):
                fastloss.sgd_epoch(X, y, coef, intercept, state, **args)
    assert [a.tobytes() for a in arrays] == before  # nothing was modified


@pytest.mark.parametrize("change,exc,match", BAD_INPUTS)
def test_bad_input_is_rejected_before_any_change(change: Dict[str, Any], exc: type,
                                                 match: str) -> None:
    args = _good()
    args.update(change)
    _check_rejected(args, exc, match)


@pytest.mark.parametrize("change,exc,match", SOFTMAX_BAD_INPUTS)
def test_bad_softmax_input_is_rejected(change: Dict[str, Any], exc: type, match: str) -> None:
    args = _softmax_good()
    args.update(change)
    _check_rejected(args, exc, match)


def test_overlapping_arrays_are_rejected() -> None:
    buf = np.zeros((7, 3))
    X = buf[:6]
    coef = buf[6]  # a view into the same buffer, but disjoint from X
    fastloss.sgd_epoch(X, np.ones(6), coef, None)  # disjoint views are fine
    buf = np.zeros((6, 3))
    args = dict(X=buf, y=np.ones(6), coef=buf[2], intercept=None)
    _check_rejected(args, ValueError, "coef must not share memory with X")
    w = np.zeros(4)
    args = dict(X=np.ones((6, 3)), y=np.ones(6), coef=w[:3], intercept=w[2:3])
    _check_rejected(args, ValueError, "intercept must not share memory with coef")


def test_state_with_other_dtype_is_rejected() -> None:
    args = _good()
    _, st = fastloss.sgd_epoch(args["X"], args["y"], args["coef"], args["intercept"],
                               optimizer="adam")
    args = _good()
    args["X"] = args["X"].astype(np.float32)
    args["coef"] = args["coef"].astype(np.float32)
    args["intercept"] = args["intercept"].astype(np.float32)
    args.update(state=st, optimizer="adam")
    _check_rejected(args, TypeError, r"state.coef_state\[0\] must have dtype float32")


# ---- input forms ---------------------------------------------------------------------------

def test_label_dtypes_and_byte_order(dtype: Any) -> None:
    """Any integer label dtype works for softmax; big-endian X and y are read correctly."""
    rng = np.random.default_rng(17)
    X, y, shape = make_problem(rng, "softmax", 20, 3, dtype)
    results = []
    for labels in (y, y.astype(np.int32), y.astype(np.uint8)):
        coef = np.zeros(shape, dtype)
        fastloss.sgd_epoch(X, labels, coef, None, loss="softmax")
        results.append(coef.tobytes())
    coef = np.zeros(shape, dtype)
    fastloss.sgd_epoch(X.astype(X.dtype.newbyteorder(">")), y, coef, None, loss="softmax")
    results.append(coef.tobytes())
    assert all(r == results[0] for r in results)


@settings(max_examples=40, deadline=None)
@given(n=hst.integers(0, 12), d=hst.integers(0, 9), loss=hst.sampled_from(LOSSES),
       optimizer=hst.sampled_from(OPTIMIZERS), f32=hst.booleans(),
       seed=hst.integers(0, 2**16))
def test_random_shapes_match_reference(n: int, d: int, loss: str, optimizer: str, f32: bool,
                                       seed: int) -> None:
    dtype = np.dtype(np.float32 if f32 else np.float64)
    rng = np.random.default_rng(seed)
    X, y, shape = make_problem(rng, loss, n, d, dtype, "F" if seed % 2 else "C")
    coef, intercept = fresh_params(rng, shape, dtype, intercept=seed % 3 != 0)
    out = run_both(X, y, coef, intercept, loss=loss, optimizer=optimizer, lr=0.05,
                   alpha=0.01 * (seed % 2), shuffle=seed % 5 == 0, seed=seed)
    assert_same_run(out, dtype, f"n={n} d={d} {loss} {optimizer}")


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_lr_zero_is_accepted_and_changes_nothing(optimizer, rng):
    """lr >= 0 for every update rule, as in torch.optim (and fastloss.optim): lr = 0 runs the
    epoch (losses recorded, state advanced) without moving the parameters."""
    X, y = rng.normal(size=(7, 3)), rng.normal(size=7)
    coef, b = rng.normal(size=3), np.array([0.5])
    coef0, b0 = coef.copy(), b.copy()
    mean, st = fastloss.sgd_epoch(X, y, coef, b, optimizer=optimizer, lr=0.0)
    np.testing.assert_array_equal(coef, coef0)
    np.testing.assert_array_equal(b, b0)
    assert st.t == 7 and np.isfinite(mean)


TORCH_RULES = [("momentum", {"momentum": 0.9}), ("momentum", {"momentum": 0.9, "nesterov": True}),
               ("adagrad", {}), ("rmsprop", {"rho": 0.9}), ("adam", {"betas": (0.8, 0.95)}),
               ("adamw", {"betas": (0.8, 0.95)}), ("nadam", {"betas": (0.8, 0.95)}),
               ("nadam", {"momentum_decay": 0.01, "decoupled_weight_decay": True}),
               ("radam", {"betas": (0.8, 0.95)}), ("radam", {"decoupled_weight_decay": True}),
               ("adamax", {"betas": (0.8, 0.95)})]


@pytest.mark.parametrize("loss", ["squared_error", "logistic"])
@pytest.mark.parametrize("optimizer, options", TORCH_RULES)
def test_epoch_rule_is_torch_optim_per_sample(optimizer: str, options: Dict[str, Any],
                                              loss: str) -> None:
    """A momentum/adagrad/rmsprop/adam/adamw/nadam/radam/adamax epoch is torch.optim's
    optimizer stepped once per sample on that sample's gradient (weight_decay = alpha on coef
    only, dampening 0, lr_decay 0, RMSprop alpha = rho). Lion per sample:
    tests/test_linear_batches.py::test_lion_epoch_is_the_functional_lion_per_batch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    n, d, alpha, lr = 50, 3, 0.01, 0.05
    X, y, shape = make_problem(rng, loss, n, d, np.float64)
    coef, intercept = fresh_params(rng, shape, np.float64)
    w, b = torch.tensor(coef, requires_grad=True), torch.tensor(intercept, requires_grad=True)
    groups = [{"params": [w], "weight_decay": alpha}, {"params": [b], "weight_decay": 0.0}]
    if optimizer == "momentum":
        opt = torch.optim.SGD(groups, lr=lr, momentum=options["momentum"],
                              nesterov=options.get("nesterov", False))
    elif optimizer == "adagrad":
        opt = torch.optim.Adagrad(groups, lr=lr, eps=1e-10)
    elif optimizer == "rmsprop":
        opt = torch.optim.RMSprop(groups, lr=lr, alpha=options["rho"], eps=1e-8)
    elif optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=lr, betas=options["betas"], eps=1e-8)
    elif optimizer == "adamw":  # the groups' weight_decay: decoupled on coef, none on b
        opt = torch.optim.AdamW(groups, lr=lr, betas=options["betas"], eps=1e-8)
    else:  # NAdam, RAdam, Adamax take the epoch's options under the same names
        opt = {"nadam": torch.optim.NAdam, "radam": torch.optim.RAdam,
               "adamax": torch.optim.Adamax}[optimizer](groups, lr=lr, eps=1e-8, **options)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    with torch_scalars_in(torch, np.float64):  # NAdam's mu_product in float64, as ours
        for i in range(n):
            opt.zero_grad()
            z = Xt[i] @ w + b[0]
            if loss == "squared_error":
                sample_loss = 0.5 * (z - yt[i]) ** 2
            else:
                sample_loss = torch.nn.functional.binary_cross_entropy_with_logits(z, yt[i])
            sample_loss.backward()
            opt.step()
    fastloss.sgd_epoch(X, y, coef, intercept, loss=loss, optimizer=optimizer, lr=lr,
                       alpha=alpha, **options)
    np.testing.assert_allclose(coef, w.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(intercept, b.detach().numpy(), rtol=1e-12, atol=1e-15)
