"""fastloss.linear's mini-batch helpers: linear_value_and_grad (vs finite differences of the
reference objective, and vs the "numpy" backend) and minibatch_step (with a stand-in
optimizer)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fastloss
from fastloss import reference
from fastloss.linear import LOSSES
from _support import assert_close, fresh_params, make_problem, numpy_backend


def _numeric_grad(f: Any, a: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.zeros_like(a)
    for idx in np.ndindex(a.shape):
        old = a[idx]
        a[idx] = old + h
        up = f()
        a[idx] = old - h
        down = f()
        a[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", LOSSES)
def test_value_and_grad_vs_finite_differences(loss: str, weighted: bool) -> None:
    rng = np.random.default_rng(14)
    X, y, shape = make_problem(rng, loss, 25, 4, np.float64)
    coef, b = fresh_params(rng, shape, np.float64)
    if loss in ("absolute", "huber"):  # keep residuals off the kinks
        y = y + 0.05 * np.sign(y - (X @ coef + b[0]))
    sw = rng.uniform(0.5, 2, size=25) if weighted else None
    kw = dict(loss=loss, alpha=0.3, epsilon=0.8, sample_weight=sw)
    value, g_coef, g_b = fastloss.linear_value_and_grad(X, y, coef, b, **kw)

    def objective() -> float:
        return reference.linear_loss(X, y, coef, b, **kw)

    assert value.dtype == np.float64
    assert float(value) == pytest.approx(objective(), rel=1e-12)
    np.testing.assert_allclose(g_coef, _numeric_grad(objective, coef), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(g_b, _numeric_grad(objective, b), rtol=1e-6, atol=1e-8)
    assert g_coef.shape == coef.shape and g_b.shape == b.shape
    with numpy_backend():
        value_ref, g_coef_ref, g_b_ref = fastloss.linear_value_and_grad(X, y, coef, b, **kw)
    assert_close(value, value_ref, np.float64)
    assert_close(g_coef, g_coef_ref, np.float64)


@pytest.mark.parametrize("loss", LOSSES)
def test_value_and_grad_float32_and_no_intercept(loss: str) -> None:
    rng = np.random.default_rng(15)
    X, y, shape = make_problem(rng, loss, 30, 3, np.float32)
    coef, _ = fresh_params(rng, shape, np.float32)
    value, g_coef, g_b = fastloss.linear_value_and_grad(X, y, coef, None, loss=loss)
    assert g_b is None and g_coef.dtype == np.float32 and value.dtype == np.float32
    v64, g64, _ = fastloss.linear_value_and_grad(X.astype(np.float64), y if loss == "softmax"
                                                 else y.astype(np.float64),
                                                 coef.astype(np.float64), None, loss=loss)
    np.testing.assert_allclose(value, v64, rtol=1e-5)
    np.testing.assert_allclose(g_coef, g64, rtol=1e-4, atol=1e-6)


def test_value_and_grad_empty_batch() -> None:
    value, g, gb = fastloss.linear_value_and_grad(np.zeros((0, 2)), np.zeros(0), np.ones(2),
                                                  np.zeros(1), alpha=1.0)
    assert np.isnan(value)
    np.testing.assert_array_equal(g, np.ones(2))
    np.testing.assert_array_equal(gb, np.zeros(1))


def test_value_and_grad_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="loss"):
        fastloss.linear_value_and_grad(np.ones((2, 2)), np.ones(2), np.ones(2), None, loss="x")
    with pytest.raises(ValueError, match="class label"):
        fastloss.linear_value_and_grad(np.ones((2, 2)), np.array([0, 5]), np.ones((2, 3)),
                                       None, loss="softmax")
    coef = np.ones(2)
    coef.flags.writeable = False  # read-only parameters are fine for a gradient
    fastloss.linear_value_and_grad(np.ones((2, 2)), np.ones(2), coef, None)


class PlainSGD:
    """A stand-in for the fastloss.optim classes: step(grads) in the order of params."""

    def __init__(self, params: list, lr: float) -> None:
        self.params, self.lr, self.calls = params, lr, 0

    def step(self, grads: list) -> None:
        assert len(grads) == len(self.params)
        for p, g in zip(self.params, grads):
            assert p.shape == g.shape and p.dtype == g.dtype
            p -= self.lr * g
        self.calls += 1


@pytest.mark.parametrize("loss", ["squared_error", "softmax"])
def test_minibatch_step_descends(loss: str, dtype: Any) -> None:
    rng = np.random.default_rng(16)
    X, y, shape = make_problem(rng, loss, 64, 4, dtype)
    coef, b = fresh_params(rng, shape, dtype)
    opt = PlainSGD([coef, b], lr=0.1)
    values = [float(fastloss.minibatch_step(opt, X, y, coef, b, loss=loss, alpha=1e-3))
              for _ in range(30)]
    assert opt.calls == 30 and values[-1] < values[0]
    # one step equals the hand-written step with linear_value_and_grad
    c2, b2 = coef.copy(), b.copy()
    _, gc, gb = fastloss.linear_value_and_grad(X, y, c2, b2, loss=loss, alpha=1e-3)
    fastloss.minibatch_step(opt, X, y, coef, b, loss=loss, alpha=1e-3)
    np.testing.assert_array_equal(coef, c2 - dtype.type(0.1) * gc)
    np.testing.assert_array_equal(b, b2 - dtype.type(0.1) * gb)


def test_minibatch_step_without_intercept_and_bad_optimizer() -> None:
    X, y = np.ones((4, 2)), np.ones(4)
    coef = np.zeros(2)
    opt = PlainSGD([coef], lr=0.1)
    fastloss.minibatch_step(opt, X, y, coef, None)
    assert coef.any()
    with pytest.raises(TypeError, match="step"):
        fastloss.minibatch_step(object(), X, y, coef, None)
