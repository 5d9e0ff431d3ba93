"""``NAME_grad_hess`` of the elementwise losses: the Hessian's diagonal against central
finite differences of the gradient (float64, both backends, every row with a Hessian and its
variants), the gradient it returns against ``NAME_grad``, and the rows without one. The
Hessians against the reference on every shape and dtype: tests/test_losses.py; against
``torch.autograd.functional.hessian``: tests/test_losses_peers.py."""

from __future__ import annotations

import numpy as np
import pytest

import fastloss
from fastloss.losses._registry import LOSSES
from _support import BACKENDS, assert_close

HESSIAN_ROWS = [row for row in LOSSES.values() if row.kind == "elementwise" and row.hessian]
CASES = [pytest.param(row, variant, id=f"{row.name}-{i}")
         for row in HESSIAN_ROWS for i, variant in enumerate(row.variants)]
SHAPE = (6, 5)


def _kwargs(variant, rng):
    kinds = {"full": SHAPE, "bcast": SHAPE[-1:], "rows": SHAPE[:1] + (1,)}
    return {k: (rng.uniform(0.5, 2.0, kinds[v]) if v in kinds else v)
            for k, v in variant.items()}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("row, variant", CASES)
def test_hessian_is_the_derivative_of_the_gradient(row, variant, reduction, backend):
    rng = np.random.default_rng(11)
    x, y = row.data(rng, SHAPE, np.float64)
    if variant.get("log_target"):
        y = np.log(rng.uniform(0.05, 1.0, SHAPE))
    kw = {"reduction": reduction, **_kwargs(variant, rng)}
    grad_of = getattr(fastloss, row.name + "_grad")
    with fastloss.use_backend(backend):
        g, h = getattr(fastloss, row.name + "_grad_hess")(x, y, **kw)
        step = 1e-6 * np.maximum(1.0, np.abs(x))
        if row.input_range is not None:  # probabilities: stay inside (0, 1)
            step = np.minimum(step, 0.5 * np.minimum(x, 1 - x))
        # the loss is a sum of functions of one element each: g_i depends on x_i alone
        numeric = (grad_of(x + step, y, **kw) - grad_of(x - step, y, **kw)) / (2 * step)
        assert_close(g, grad_of(x, y, **kw), np.float64)
    np.testing.assert_allclose(h, numeric, rtol=1e-6, atol=1e-7 * float(np.abs(h).max()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_huber_hessian_at_and_beyond_the_kinks(backend):
    """1 on the closed [-delta, delta] (scikit-learn's HuberLoss), 0 outside; NaN in, NaN
    out."""
    x = np.array([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5, np.nan])
    with fastloss.use_backend(backend):
        _, h = fastloss.huber_loss_grad_hess(x, np.zeros_like(x), reduction="sum", delta=1.0)
        _, h1 = fastloss.smooth_l1_loss_grad_hess(x, np.zeros_like(x), reduction="sum",
                                                  beta=0.5)
        _, h0 = fastloss.smooth_l1_loss_grad_hess(x, np.zeros_like(x), reduction="sum",
                                                  beta=0.0)
    np.testing.assert_array_equal(h, [0, 1, 1, 1, 1, 0, np.nan])
    np.testing.assert_array_equal(h1, [0, 0, 2, 2, 0, 0, np.nan])
    np.testing.assert_array_equal(h0, [0, 0, 0, 0, 0, 0, np.nan])  # beta = 0: the l1 loss


def test_losses_without_a_hessian_have_no_grad_hess():
    """A Hessian of 0 almost everywhere (l1) is no Hessian to offer (scikit-learn's
    AbsoluteError stores 1, a placeholder for its gradient boosting)."""
    for row in LOSSES.values():
        if row.kind == "elementwise" and not row.hessian:
            assert not hasattr(fastloss, row.name + "_grad_hess"), row.name
    assert not hasattr(fastloss, "l1_loss_grad_hess")
