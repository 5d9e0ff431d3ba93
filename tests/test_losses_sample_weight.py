"""``sample_weight`` of the elementwise losses against what it means (scikit-learn's
convention): a weight k (an integer) is the element repeated k times, so on both backends
and for every loss of the registry, reduction and dtype

* the reduced value equals the loss of the repeated input ("mean": sum(sw l) / sum(sw);
  "batchmean": per sample of the repeated batch);
* the gradient (and the Hessian) at an element is the sum of the repeated input's over the
  element's copies;
* "none" gives sw times the unweighted element losses; weights of 1 change nothing.

The values against torch's unreduced loss times the weights: tests/test_losses_peers.py;
bad weights: tests/test_losses_bad_input.py."""

from __future__ import annotations

from typing import Any, Dict, Tuple

import numpy as np
import pytest

import fastloss
from fastloss.losses._registry import LOSSES
from _support import BACKENDS, assert_close

ROWS = [row for row in LOSSES.values() if row.kind == "elementwise"]
N = 23


def _case(row: Any, dtype: Any, rng: np.random.Generator
          ) -> Tuple[np.ndarray, np.ndarray, Dict[str, np.ndarray], np.ndarray]:
    """Inputs of the row, its torch weights (if it takes them) and integer counts 0..3."""
    x, y = row.data(rng, (N,), dtype)
    torch_weights = {name: rng.uniform(0.5, 2.0, N).astype(dtype)
                     for name in row.weights if name != "sample_weight"}
    counts = rng.integers(0, 4, N)
    counts[:2] = (0, 3)  # a dropped element and a repeated one, whatever the draw
    return x, y, torch_weights, counts


PARAMS = [pytest.param(row, reduction, id=f"{row.name}-{reduction}")
          for row in ROWS for reduction in row.reductions]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("row, reduction", PARAMS)
def test_integer_weights_repeat_elements(row, reduction, backend, dtype):
    rng = np.random.default_rng(len(row.name))
    x, y, torch_weights, counts = _case(row, dtype, rng)
    sw = counts.astype(dtype)
    copies = np.repeat(np.arange(N), counts)  # the element each repeated entry copies
    repeated = {k: v[copies] for k, v in torch_weights.items()}
    f, f_both = (getattr(fastloss, row.name + s) for s in ("", "_value_and_grad"))
    with fastloss.use_backend(backend):
        value, grad = f_both(x, y, reduction=reduction, sample_weight=sw, **torch_weights)
        rep_value, rep_grad = f_both(x[copies], y[copies], reduction=reduction, **repeated)
        plain = f(x, y, reduction="none", **torch_weights)
        ones = f_both(x, y, reduction=reduction, sample_weight=np.ones(N, dtype),
                      **torch_weights)
        unweighted = f_both(x, y, reduction=reduction, **torch_weights)
        pair = (getattr(fastloss, row.name + "_grad_hess")(
            x, y, reduction=reduction, sample_weight=sw, **torch_weights),
            getattr(fastloss, row.name + "_grad_hess")(
                x[copies], y[copies], reduction=reduction, **repeated)) if row.hessian else None
    scale = float(np.abs(plain.astype(np.float64) * counts).sum())
    if reduction == "none":
        assert_close(value, sw * plain, dtype)
    else:
        assert_close(value, rep_value, dtype, scale=scale / max(1.0, counts.sum()) * 2)
    # ("none": the derivative of the sum of the unreduced losses, the same sum of copies)
    summed = np.bincount(copies, weights=rep_grad.astype(np.float64), minlength=N)
    assert_close(grad, summed, dtype, floor=float(np.abs(grad).max()))
    assert_close(ones[0], unweighted[0], dtype, scale=None if reduction == "none" else scale)
    assert_close(ones[1], unweighted[1], dtype)
    if pair is not None:
        (g, h), (_, rep_h) = pair
        assert_close(g, grad, dtype)
        h_summed = np.bincount(copies, weights=rep_h.astype(np.float64), minlength=N)
        assert_close(h, h_summed, dtype, floor=float(np.abs(h).max()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_row_weights_broadcast_over_the_other_axes(backend, dtype):
    """An (N, 1) sample weight is the same weight for each element of row i."""
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(5, 4)).astype(dtype), rng.normal(size=(5, 4)).astype(dtype)
    sw = rng.uniform(0.1, 2.0, (5, 1)).astype(dtype)
    with fastloss.use_backend(backend):
        for reduction in ("mean", "sum", "none"):
            got = fastloss.huber_loss_value_and_grad(x, y, reduction, sample_weight=sw)
            full = fastloss.huber_loss_value_and_grad(x, y, reduction,
                                                      sample_weight=np.repeat(sw, 4, axis=1))
            assert_close(got[0], full[0], dtype)
            assert_close(got[1], full[1], dtype)


@pytest.mark.parametrize("backend", BACKENDS)
def test_all_zero_weights_mean_is_nan(backend):
    x = np.array([0.5, -1.0])
    with fastloss.use_backend(backend), np.errstate(all="ignore"):
        assert np.isnan(fastloss.mse_loss(x, 0 * x, sample_weight=np.zeros(2)))
        assert fastloss.mse_loss(x, 0 * x, reduction="sum", sample_weight=np.zeros(2)) == 0
