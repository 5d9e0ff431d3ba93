"""fastloss.sgd_epoch with batch_size > 1: the mini-batch C epochs against the NumPy
mini-batch loop (fastloss.reference.linear.minibatch_epoch), against
linear_value_and_grad's weighted mean (one plain step per batch), against torch.optim
stepped on each batch's mean loss (Lion: fastloss.optim's functional update per batch),
batch_size=1 as the per-sample epoch, resuming, the update counter, and the kernel's own
label checks. Bad batch sizes are in
tests/test_linear.py's BAD_INPUTS."""

from __future__ import annotations

import itertools
import pickle
from typing import Any, Dict

import numpy as np
import pytest

import fastloss
from fastloss import _linear
from fastloss.linear import LOSSES, OPTIMIZERS, EpochState
from fastloss.reference.linear import minibatch_epoch
from _optim_cases import torch_scalars_in
from _support import assert_same_run, fresh_params, make_problem, run_both

N = 23
#: 1 (per sample), a short last batch (23 = 7 x 3 + 2), n, and more than n (one batch)
BATCH_SIZES = (1, 3, N, 40)
#: memory order x intercept x weights x shuffle x alpha x schedule
VARIANTS = list(itertools.product(("C", "F"), (True, False), (False, True), (False, True),
                                  (0.0, 0.01), ("constant", "invscaling")))


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_batch_epochs_match_the_numpy_loop(loss: str, optimizer: str, batch_size: int,
                                           dtype: Any) -> None:
    """Every loss x optimizer x dtype x batch size over the variants: the C epochs equal the
    NumPy mini-batch loop, to 1e-10 in float64 (float32: to its rounding)."""
    rng = np.random.default_rng([LOSSES.index(loss), OPTIMIZERS.index(optimizer), batch_size])
    for order, has_b, weighted, shuffle, alpha, schedule in VARIANTS[::3]:
        X, y, shape = make_problem(rng, loss, N, 4, dtype, order)
        coef, intercept = fresh_params(rng, shape, dtype, has_b)
        sw = rng.uniform(0, 2, size=N) if weighted else None
        out = run_both(X, y, coef, intercept, loss=loss, optimizer=optimizer, lr=0.05,
                       learning_rate=schedule, alpha=alpha, epsilon=0.7, sample_weight=sw,
                       shuffle=shuffle, seed=7, n_epochs=2, batch_size=batch_size)
        assert_same_run(out, dtype, f"{order} b={has_b} w={weighted} shuffle={shuffle} "
                                    f"alpha={alpha} {schedule}", factor64=1.0)
        assert out["c"][3].t == 2 * -(-N // batch_size)  # one update per batch


@pytest.mark.parametrize("loss", ["squared_error", "softmax"])
def test_batch_variants_match_the_numpy_loop(loss: str, dtype: Any) -> None:
    """Nesterov, AdamW's decay, non-default hyper-parameters, sliced X, zero weights."""
    rng = np.random.default_rng(4)
    X, y, shape = make_problem(rng, loss, 30, 5, dtype)
    wide = np.zeros((30, 10), dtype)
    wide[:, ::2] = X
    cases = [
        dict(optimizer="momentum", momentum=0.5, nesterov=True, alpha=0.1, batch_size=4),
        dict(optimizer="adamw", alpha=0.5, betas=(0.5, 0.9), eps=1e-3, batch_size=7),
        dict(optimizer="rmsprop", rho=0.5, learning_rate="invscaling", power_t=0.7,
             batch_size=2),
        dict(optimizer="sgd", lr=0.3, alpha=0.05, Xc=wide[:, ::2], batch_size=8),
        # the second batch of 5 weighs nothing: it moves coef by the L2 term alone
        dict(optimizer="adagrad", sample_weight=np.repeat([1.0, 0.0, 2.0, 0.5, 1.0, 3.0], 5),
             alpha=0.1, batch_size=5),
    ]
    for case in cases:
        case = dict(case)
        Xc = case.pop("Xc", X)
        coef, intercept = fresh_params(rng, shape, dtype)
        out = run_both(Xc, y, coef, intercept, loss=loss, n_epochs=2, **case)
        assert_same_run(out, dtype, str(case), factor64=1.0)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", LOSSES)
def test_batch_size_one_is_the_per_sample_epoch_bit_for_bit(loss: str, optimizer: str,
                                                            dtype: Any) -> None:
    rng = np.random.default_rng(8)
    X, y, shape = make_problem(rng, loss, 19, 3, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    kw: Dict[str, Any] = dict(loss=loss, optimizer=optimizer, lr=0.05, alpha=0.01,
                              sample_weight=rng.uniform(0, 2, 19), shuffle=True, seed=1,
                              n_epochs=2)
    runs = []
    for extra in ({}, {"batch_size": 1}):
        W, b = coef.copy(), intercept.copy()
        mean, st = fastloss.sgd_epoch(X, y, W, b, **kw, **extra)
        runs.append([W.tobytes(), b.tobytes(), np.float64(mean).tobytes(), st.t]
                    + [a.tobytes() for a in st.coef_state + st.intercept_state])
    assert runs[0] == runs[1] and runs[0][3] == 38


def test_unweighted_batches_of_one_are_per_sample_sgd(rng64: np.random.Generator) -> None:
    """The NumPy mini-batch loop with batches of one unweighted sample is the per-sample
    loop (so both specifications agree where they overlap)."""
    X, y, shape = make_problem(rng64, "logistic", 12, 3, np.float64)
    coef, intercept = fresh_params(rng64, shape, np.float64)
    hyper: Dict[str, Any] = dict(loss="logistic", optimizer="adam", learning_rate="constant",
                                 lr=0.1, power_t=0.25, alpha=0.01, epsilon=1.0, momentum=0.9,
                                 nesterov=False, beta1=0.9, beta2=0.999, eps=1e-8, rho=0.99)
    results = []
    for batched in (False, True):
        W, b = coef.copy(), intercept.copy()
        state = [np.zeros_like(W), np.zeros_like(b), np.zeros_like(W), np.zeros_like(b)]
        if batched:
            total, t = minibatch_epoch(X, y, W, b, state, None, None, 0, batch_size=1, **hyper)
        else:
            total, t = fastloss.reference.sgd_epoch(X, y, W, b, state, None, None, 0, **hyper)
        results.append((total, t, W, b))
    (t1, n1, W1, b1), (t2, n2, W2, b2) = results
    assert n1 == n2 == 12 and t1 == pytest.approx(t2, rel=1e-14)
    np.testing.assert_allclose(W1, W2, rtol=1e-14)
    np.testing.assert_allclose(b1, b2, rtol=1e-14)


@pytest.mark.parametrize("loss", LOSSES)
def test_each_batch_steps_with_linear_value_and_grad(loss: str, dtype: Any) -> None:
    """Plain sgd with batches: each update is coef -= lr * (the gradient that
    linear_value_and_grad gives for that batch, weights included): batches of 3 in the
    shuffled order, a short last batch, one batch of zero total weight (no data gradient)."""
    rng = np.random.default_rng(9)
    n, lr, alpha = 14, 0.1, 0.02
    X, y, shape = make_problem(rng, loss, n, 4, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    sw = rng.uniform(0.5, 2.0, n)
    order = np.random.default_rng([5, 0]).permutation(n)  # epoch 0 of seed 5
    sw[order[3:6]] = 0.0  # the second batch
    W, b = coef.copy(), intercept.copy()
    mean, st = fastloss.sgd_epoch(X, y, W, b, loss=loss, lr=lr, alpha=alpha, sample_weight=sw,
                                  shuffle=True, seed=5, batch_size=3)
    total = 0.0
    for first in range(0, n, 3):
        rows = order[first:first + 3]
        value, g, gb = fastloss.linear_value_and_grad(X[rows], y[rows], coef, intercept,
                                                      loss=loss, sample_weight=sw[rows])
        total += float(value) * sw[rows].sum() if sw[rows].sum() else 0.0
        # sgd's L2 step is the clamped shrink: max(0, 1 - lr alpha) = 1 - lr alpha here
        coef = (1 - dtype.type(lr * alpha)) * coef - dtype.type(lr) * g
        intercept = intercept - dtype.type(lr) * gb
    assert st.t == 5
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(W, coef, **tol)
    np.testing.assert_allclose(b, intercept, **tol)
    assert mean == pytest.approx(total / sw.sum(), rel=tol["rtol"])


def test_one_batch_of_everything_is_a_full_gradient_step(dtype: Any) -> None:
    rng = np.random.default_rng(10)
    X, y, shape = make_problem(rng, "softmax", 20, 3, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    value, g, gb = fastloss.linear_value_and_grad(X, y, coef, intercept, loss="softmax")
    for batch_size in (20, 21, 2**62):
        W, b = coef.copy(), intercept.copy()
        mean, st = fastloss.sgd_epoch(X, y, W, b, loss="softmax", lr=0.5,
                                      batch_size=batch_size)
        assert st.t == 1 and mean == pytest.approx(float(value), rel=1e-5)
        tol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(W, coef - dtype.type(0.5) * g, rtol=tol, atol=tol)
        np.testing.assert_allclose(b, intercept - dtype.type(0.5) * gb, rtol=tol, atol=tol)


TORCH_RULES = [("sgd", {}), ("momentum", {"momentum": 0.9, "nesterov": True}),
               ("adagrad", {}), ("rmsprop", {"rho": 0.9}), ("adam", {"betas": (0.8, 0.95)}),
               ("adamw", {"betas": (0.8, 0.95)}), ("nadam", {"betas": (0.8, 0.95)}),
               ("nadam", {"momentum_decay": 0.01, "decoupled_weight_decay": True}),
               ("radam", {}), ("radam", {"decoupled_weight_decay": True}),
               ("adamax", {"betas": (0.8, 0.95)})]


@pytest.mark.parametrize("optimizer, options", TORCH_RULES)
@pytest.mark.parametrize("loss", ["squared_error", "logistic", "softmax"])
def test_batch_epoch_is_torch_optim_per_batch(loss: str, optimizer: str,
                                              options: Dict[str, Any]) -> None:
    """torch.optim stepped once per batch of 5 (the last of 3) on the batch's mean loss
    (weight_decay = alpha on coef, 0 on the intercept) makes the same trajectory."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    n, alpha, lr, batch_size = 23, 0.01, 0.05, 5
    X, y, shape = make_problem(rng, loss, n, 3, np.float64)
    coef, intercept = fresh_params(rng, shape, np.float64)
    w, b = torch.tensor(coef, requires_grad=True), torch.tensor(intercept, requires_grad=True)
    decay = 0.0 if optimizer == "sgd" else alpha  # plain sgd: no L2 here (its shrink clamps)
    groups = [{"params": [w], "weight_decay": decay}, {"params": [b], "weight_decay": 0.0}]
    # the options NAdam/RAdam/Adamax take under the same names (torch's)
    adam_kw = {k: v for k, v in options.items()
               if k in ("betas", "momentum_decay", "decoupled_weight_decay")}
    torch_class, kw = {
        "sgd": (torch.optim.SGD, {}),
        "momentum": (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}),
        "adagrad": (torch.optim.Adagrad, {"eps": 1e-10}),
        "rmsprop": (torch.optim.RMSprop, {"alpha": 0.9, "eps": 1e-8}),
        "adam": (torch.optim.Adam, {"betas": (0.8, 0.95), "eps": 1e-8}),
        "adamw": (torch.optim.AdamW, {"betas": (0.8, 0.95), "eps": 1e-8}),
        "nadam": (torch.optim.NAdam, {"eps": 1e-8, **adam_kw}),
        "radam": (torch.optim.RAdam, {"eps": 1e-8, **adam_kw}),
        "adamax": (torch.optim.Adamax, {"eps": 1e-8, **adam_kw}),
    }[optimizer]
    opt = torch_class(groups, lr=lr, **kw)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    with torch_scalars_in(torch, np.float64):  # NAdam's mu_product in float64, as ours
        Xt, yt = torch.tensor(X), torch.tensor(y)
        for first in range(0, n, batch_size):
            rows = slice(first, first + batch_size)
            opt.zero_grad()
            z = Xt[rows] @ w + (b if loss == "softmax" else b[0])
            if loss == "squared_error":
                batch_loss = (0.5 * (z - yt[rows]) ** 2).mean()
            elif loss == "logistic":
                batch_loss = torch.nn.functional.binary_cross_entropy_with_logits(z, yt[rows])
            else:
                batch_loss = torch.nn.functional.cross_entropy(z, yt[rows])
            batch_loss.backward()
            opt.step()
    _, st = fastloss.sgd_epoch(X, y, coef, intercept, loss=loss, optimizer=optimizer, lr=lr,
                               alpha=decay, batch_size=batch_size, **options)
    assert st.t == 5
    np.testing.assert_allclose(coef, w.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(intercept, b.detach().numpy(), rtol=1e-12, atol=1e-15)
    if optimizer == "nadam":  # torch's per-tensor mu_product, one for both here
        assert st.mu_product == pytest.approx(float(opt.state[w]["mu_product"]), rel=1e-15)


@pytest.mark.parametrize("batch_size", [1, 5])
@pytest.mark.parametrize("loss", ["squared_error", "logistic", "softmax"])
def test_lion_epoch_is_the_functional_lion_per_batch(loss: str, batch_size: int,
                                                     dtype: Any) -> None:
    """Lion (optax's, fastloss.optim.Lion's): fastloss.optim.functional.lion_update stepped
    once per batch (per sample with batch_size=1) on linear_value_and_grad's gradient,
    weight_decay = alpha on coef and 0 on the intercept, gives the same trajectory."""
    rng = np.random.default_rng(13)
    n, alpha, lr, betas = 23, 0.1, 0.01, (0.8, 0.95)
    X, y, shape = make_problem(rng, loss, n, 3, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    W, b = coef.copy(), intercept.copy()
    m_w, m_b = np.zeros_like(W), np.zeros_like(b)
    for first in range(0, n, batch_size):
        rows = slice(first, first + batch_size)
        _, g, gb = fastloss.linear_value_and_grad(X[rows], y[rows], W, b, loss=loss)
        fastloss.optim.functional.lion_update(W, g, m_w, lr=lr, betas=betas,
                                              weight_decay=alpha)
        fastloss.optim.functional.lion_update(b, gb, m_b, lr=lr, betas=betas)
    _, st = fastloss.sgd_epoch(X, y, coef, intercept, loss=loss, optimizer="lion", lr=lr,
                               alpha=alpha, betas=betas, batch_size=batch_size)
    assert st.t == -(-n // batch_size)
    # the sign steps are exact; only the gradients' sums are rounded differently
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(coef, W, **tol)
    np.testing.assert_allclose(intercept, b, **tol)
    np.testing.assert_allclose(st.coef_state[0], m_w, **tol)


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "nadam", "radam", "adamax", "lion"])
def test_resumed_batch_epochs_equal_one_long_run(optimizer: str, dtype: Any) -> None:
    """The state carries the buffers and the update count across calls (and pickling):
    three calls of one epoch are one call of three epochs."""
    rng = np.random.default_rng(12)
    X, y, shape = make_problem(rng, "softmax", 31, 4, dtype)
    coef, intercept = fresh_params(rng, shape, dtype)
    kw = dict(loss="softmax", optimizer=optimizer, lr=0.03, learning_rate="invscaling",
              alpha=0.01, shuffle=True, seed=3, batch_size=4)
    W1, b1 = coef.copy(), intercept.copy()
    _, st1 = fastloss.sgd_epoch(X, y, W1, b1, n_epochs=3, **kw)
    W2, b2 = coef.copy(), intercept.copy()
    st2 = None
    for _ in range(3):
        _, st2 = fastloss.sgd_epoch(X, y, W2, b2, st2, **kw)
        st2 = pickle.loads(pickle.dumps(st2))
    assert W1.tobytes() == W2.tobytes() and b1.tobytes() == b2.tobytes()
    assert st1.losses == st2.losses and (st1.t, st1.epochs) == (st2.t, st2.epochs) == (24, 3)
    assert st1.mu_product == st2.mu_product  # NAdam's (1.0 for the others)


def test_update_counter_counts_batches() -> None:
    """t may start near the int64 limit when the batches' updates still fit: 6 samples in
    batches of 4 are 2 updates an epoch."""
    X, y = np.ones((6, 2)), np.ones(6)
    state = EpochState("sgd", t=2**63 - 5)
    coef = np.zeros(2)
    _, state = fastloss.sgd_epoch(X, y, coef, None, state, lr=1e-3, n_epochs=2, batch_size=4)
    assert state.t == 2**63 - 1 and np.isfinite(coef).all()


def test_kernel_stops_before_a_batch_with_a_bad_label() -> None:
    """The binding trusts its caller; the mini-batch kernel still checks every label and
    order entry it reads, and applies no part of the batch that holds a bad one."""
    X = np.ones((4, 2))
    hyper = dict(loss="softmax", optimizer="adam", learning_rate="constant", lr=0.1,
                 power_t=0.25, alpha=0.0, epsilon=1.0, momentum=0.0, nesterov=False,
                 beta1=0.9, beta2=0.999, eps=1e-8, rho=0.99)
    for bad in (3, -1, 2**62):
        labels = np.array([0, 1, 2, bad], np.int64)
        coef, b = np.zeros((2, 3)), np.zeros(3)
        bufs = [np.zeros_like(coef), np.zeros_like(b), np.zeros_like(coef), np.zeros_like(b)]
        state = EpochState("adam")
        work = np.zeros(2 * 2 + 2 * 3 + 3 * 3)
        _, where = _linear.sgd_epoch(X, None, labels, coef, b, bufs[0], bufs[1], bufs[2],
                                     bufs[3], None, None, work, 0, **hyper, state=state,
                                     weight_sum=4.0, batch_size=2)
        # the first batch (visits 0, 1) is applied; the second stops at visit 3
        assert (where, state.t, state.epochs) == (3, 1, 0)
        after_one = coef.copy()
        ref = np.zeros((2, 3))
        _linear.sgd_epoch(X[:2], None, labels[:2], ref, np.zeros(3), np.zeros((2, 3)),
                          np.zeros(3), np.zeros((2, 3)), np.zeros(3), None, None, work, 0,
                          **hyper, state=EpochState("adam"), weight_sum=2.0, batch_size=2)
        np.testing.assert_array_equal(after_one, ref)
        order = np.array([0, 1, 2, 4 if bad == 3 else bad], np.int64)
        state = EpochState("sgd")
        W = np.zeros(2)
        _, where = _linear.sgd_epoch(X, np.ones(4), None, W, None, None, None, None, None,
                                     order, None, work, 0, **{**hyper, "loss": "squared_error",
                                                              "optimizer": "sgd"},
                                     state=state, weight_sum=4.0, batch_size=3)
        assert (where, state.t, state.epochs) == (3, 1, 0)
