"""Accuracy of the transcendental losses against exact values (mpmath, 60 digits).

The losses are computed from the float inputs taken as exact numbers, and the kernels'
results must lie within 4 ulp (of the result's dtype) of that exact value, over logits from
1e-3 to 1e7 in magnitude: where the loss is large (it is then mostly ``max - x_y``, or
``|x|``) and where it is tiny (a confident, correct prediction: a sum of terms
``exp(-gap)``), in float32 and float64.
"""

from __future__ import annotations

from typing import Any, List

import numpy as np
import pytest

import fastloss

mpmath = pytest.importorskip("mpmath")
mpmath.mp.dps = 60
mpf = mpmath.mpf

MAX_ULP = 4.0
SCALES = (1e-3, 1.0, 10.0, 30.0, 1e3, 1e5, 1e7)


def ulp_error(got: Any, exact: Any, dtype: np.dtype) -> float:
    """|got - exact| in units of the last place of exact rounded to dtype."""
    nearest = dtype.type(float(exact))
    unit = np.spacing(abs(nearest)) if nearest != 0 else np.finfo(dtype).smallest_subnormal
    return float(abs(mpf(float(got)) - exact) / mpf(float(unit)))


def exact_cross_entropy(row: np.ndarray, label: int) -> Any:
    """logsumexp(row) - row[label], exactly: (max - x_y) + log1p(sum of the other terms)."""
    top = int(np.argmax(row))
    m = mpf(float(row[top]))
    rest = mpmath.fsum(mpmath.exp(mpf(float(v)) - m) for k, v in enumerate(row) if k != top)
    return (m - mpf(float(row[label]))) + mpmath.log1p(rest)


def logits(rng: np.random.Generator, n: int, c: int, dtype: np.dtype) -> List[Any]:
    """(logits, labels) per scale: half the rows have their label at the max, by a margin
    of 0 to 20 (small losses), the other half random labels."""
    cases = []
    for scale in SCALES:
        x = (rng.uniform(-1, 1, size=(n, c)) * scale).astype(dtype)
        y = rng.integers(0, c, n)
        half = np.arange(n // 2)
        x[half, y[half]] = x[half].max(axis=1) + dtype.type(rng.uniform(0, 20))
        cases.append((x, y))
    return cases


@pytest.mark.parametrize("c", [2, 10, 100, 1000, 3000])
def test_cross_entropy_within_4_ulp(dtype: np.dtype, c: int) -> None:
    rng = np.random.default_rng(c)
    n = 40 if c <= 100 else 6
    for x, y in logits(rng, n, c, dtype):
        values = fastloss.cross_entropy(x, y, reduction="none")  # value-only path
        with_grad, _ = fastloss.cross_entropy_value_and_grad(x, y, reduction="none")
        for i in range(n):
            exact = exact_cross_entropy(x[i], int(y[i]))
            for got in (values[i], with_grad[i]):
                err = ulp_error(got, exact, dtype)
                assert err <= MAX_ULP, (c, x[i].max(), y[i], float(got), str(exact), err)


def test_cross_entropy_large_logits_keep_their_digits(dtype: np.dtype) -> None:
    # the cases: lse = max + log(sum) rounds to the spacing of max, so the loss lost
    # digits at 1e4 and vanished at 1e7 in float32
    for scale in (1e4, 1e6, 1e7):
        x = np.array([[scale, scale - 0.5, scale - 3.0], [scale, scale, -scale]], dtype)
        y = np.array([0, 1])
        got = fastloss.cross_entropy(x, y, reduction="none")
        for i in range(2):
            assert ulp_error(got[i], exact_cross_entropy(x[i], int(y[i])), dtype) <= MAX_ULP


def exact_bce_with_logits(x: float, y: float, pos_weight: float) -> Any:
    # (1 - y) x + lw log(1 + exp(-x)), lw = 1 + (pw - 1) y; for x < 0 rewritten with
    # log(1 + exp(-x)) = -x + log(1 + exp(x)), which 60 digits need at x = -700
    xm, ym, pw = mpf(x), mpf(y), mpf(pos_weight)
    lw = 1 + (pw - 1) * ym
    if x >= 0:
        return (1 - ym) * xm + lw * mpmath.log1p(mpmath.exp(-xm))
    return -pw * ym * xm + lw * mpmath.log1p(mpmath.exp(xm))


def exact_bce_with_logits_grad(x: float, y: float, pos_weight: float) -> Any:
    # lw sigmoid(x) - pos_weight y, written without cancellation (60 digits are not enough
    # for 1 - sigmoid(140))
    xm, ym = mpf(x), mpf(y)
    return (1 - ym) / (1 + mpmath.exp(-xm)) - mpf(pos_weight) * ym / (1 + mpmath.exp(xm))


@pytest.mark.parametrize("pos_weight", [None, 3.0])
def test_bce_with_logits_within_4_ulp(dtype: np.dtype, pos_weight: Any) -> None:
    rng = np.random.default_rng(7)
    n = 400
    x = (np.exp(rng.uniform(np.log(1e-3), np.log(1e7), n)) * rng.choice([-1, 1], n)).astype(dtype)
    y = rng.integers(0, 2, n).astype(dtype)
    y[::4] = rng.uniform(0, 1, n // 4 + (n % 4 > 0)).astype(dtype)  # soft targets too
    pw = 1.0 if pos_weight is None else pos_weight
    loss, grad = fastloss.binary_cross_entropy_with_logits_value_and_grad(
        x, y, reduction="none", pos_weight=None if pos_weight is None else np.full(n, pw, dtype))
    for i in range(n):
        xi, yi = float(x[i]), float(y[i])
        err = ulp_error(loss[i], exact_bce_with_logits(xi, yi, pw), dtype)
        assert err <= MAX_ULP, (xi, yi, float(loss[i]), err)
        if yi in (0.0, 1.0):  # hard labels: no cancellation in the exact gradient either
            err = ulp_error(grad[i], exact_bce_with_logits_grad(xi, yi, pw), dtype)
            assert err <= MAX_ULP, ("grad", xi, yi, float(grad[i]), err)


@pytest.mark.parametrize("x", [-13.0, -20.0, -33.0, -40.0, -100.0, -700.0])
def test_bce_with_logits_small_losses(x: float) -> None:
    # y = 0 and a very negative logit: the loss log1p(exp(x)) is tiny, and was lost when
    # log1p was added to |x| before x cancelled it (0 below x = -33 in float64)
    got = fastloss.binary_cross_entropy_with_logits(np.array([x]), np.array([0.0]),
                                                    reduction="sum")
    assert got > 0
    assert ulp_error(got, exact_bce_with_logits(x, 0.0, 1.0), np.dtype(np.float64)) <= MAX_ULP


def test_sgd_epoch_logistic_loss_keeps_small_values() -> None:
    # one sample, z = 40, y = 1: softplus(40) - 40 = log1p(exp(-40)) ~ 4e-18 (was 0)
    coef = np.array([40.0])
    mean, _ = fastloss.sgd_epoch(np.array([[1.0]]), np.array([1.0]), coef, None,
                                 loss="logistic", lr=1e-300)
    assert ulp_error(mean, mpmath.log1p(mpmath.exp(-40)), np.dtype(np.float64)) <= MAX_ULP
    with fastloss.use_backend("numpy"):
        mean_ref, _ = fastloss.sgd_epoch(np.array([[1.0]]), np.array([1.0]), coef.copy(), None,
                                         loss="logistic", lr=1e-300)
    assert ulp_error(mean_ref, mpmath.log1p(mpmath.exp(-40)), np.dtype(np.float64)) <= MAX_ULP


def test_sgd_epoch_softmax_loss_at_large_logits() -> None:
    # z = (1e7, 1e7 - 2) in float64: the loss is log1p(exp(-2)) + 0 for label 0
    X = np.array([[1.0]])
    coef = np.array([[1e7, 1e7 - 2.0]])
    mean, _ = fastloss.sgd_epoch(X, np.array([1]), coef, None, loss="softmax", lr=1e-300)
    exact = mpf(2) + mpmath.log1p(mpmath.exp(-2))
    assert ulp_error(mean, exact, np.dtype(np.float64)) <= MAX_ULP
