"""Per-parameter scalar state (``StateArray.scalar``: NAdam's mu_product, ASGD's eta and
mu): 0-d arrays of the parameter's dtype, checked like the other state arrays, saved and
loaded by ``state_dict``, advanced by the kernel once per call."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fastloss import optim
from fastloss.optim import functional as F


def _nadam_args(dtype: Any = np.float64) -> Any:
    p = np.linspace(-1, 1, 6).astype(dtype)
    return p, np.ones(6, dtype), np.zeros(6, dtype), np.zeros(6, dtype), np.ones((), dtype)


@pytest.mark.parametrize("mu_product, error, match", [
    (np.ones(1), ValueError, "mu_product has shape"),
    (np.ones(6), ValueError, "mu_product has shape"),
    (np.ones((), np.float32), TypeError, "mu_product has dtype"),
    (1.0, TypeError, "mu_product must be a numpy.ndarray"),
])
def test_bad_scalar_state_is_rejected_before_any_write(mu_product: Any, error: Any,
                                                        match: str) -> None:
    p, g, m, v, _ = _nadam_args()
    before = [a.copy() for a in (p, m, v)]
    with pytest.raises(error, match=match):
        F.nadam_update(p, g, m, v, mu_product, 1, lr=0.1)
    for a, b in zip((p, m, v), before):
        assert np.array_equal(a, b)


def test_scalar_state_aliasing_a_state_array_is_rejected() -> None:
    p, g, m, v, _ = _nadam_args()
    with pytest.raises(ValueError, match="mu_product shares memory with exp_avg"):
        F.nadam_update(p, g, m, v, m[2:3].reshape(()), 1, lr=0.1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nadam_mu_product_is_the_product_of_mu_in_the_params_dtype(dtype: Any) -> None:
    # by hand: mu_t = beta1 (1 - 0.5 * 0.96 ** (t * momentum_decay)), multiplied up in the
    # parameter's dtype, one rounding per step
    p = np.ones(3, dtype)
    opt = optim.NAdam([p], lr=0.01, betas=(0.8, 0.99), momentum_decay=0.05)
    expected = dtype(1)
    for t in range(1, 6):
        opt.step([np.ones(3, dtype)])
        expected = dtype(expected * dtype(0.8 * (1.0 - 0.5 * 0.96 ** (t * 0.05))))
        state = opt.state[0]["mu_product"]
        assert state.shape == () and state.dtype == dtype and state == expected


def test_asgd_eta_and_mu_follow_the_step() -> None:
    # by hand: after step t, eta = lr / (1 + lambd lr t) ** alpha and mu = 1 / max(1, t - t0);
    # step t uses the values step t - 1 left (lr and 1 before the first)
    p = np.zeros(4)
    opt = optim.ASGD([p], lr=0.1, lambd=0.5, alpha=0.75, t0=2.0)
    for t in range(1, 6):
        eta = float(opt.state[0]["eta"]) if t > 1 else 0.1  # (the step writes it)
        before = p.copy()
        opt.step([np.ones(4)])
        np.testing.assert_array_equal(p, before * (1 - 0.5 * float(eta)) - float(eta))
        assert float(opt.state[0]["eta"]) == 0.1 / (1 + 0.5 * 0.1 * t) ** 0.75
        assert float(opt.state[0]["mu"]) == 1 / max(1, t - 2.0)


def test_scalar_state_round_trips_and_loads_from_a_float() -> None:
    p, q = np.linspace(0, 1, 5), np.linspace(0, 1, 5)
    opt, other = optim.NAdam([p], lr=0.01), optim.NAdam([q], lr=0.01)
    g = np.full(5, 0.3)
    for _ in range(3):
        opt.step([g])
    saved = opt.state_dict()
    assert saved["state"][0]["mu_product"] is not opt.state[0]["mu_product"]
    saved["state"][0]["mu_product"] = float(saved["state"][0]["mu_product"])  # torch's item()
    q[...] = p
    other.load_state_dict(saved)
    loaded = other.state[0]["mu_product"]
    assert loaded.shape == () and loaded.dtype == q.dtype
    opt.step([g])
    other.step([g])
    np.testing.assert_array_equal(p, q)
    assert other.state[0]["mu_product"] == opt.state[0]["mu_product"]


def test_loading_a_scalar_state_of_the_wrong_shape_fails_and_changes_nothing() -> None:
    p = np.zeros(5)
    opt = optim.NAdam([p], lr=0.01)
    opt.step([np.ones(5)])
    saved = opt.state_dict()
    saved["state"][0]["mu_product"] = np.ones(5)
    before = opt.state_dict()
    with pytest.raises(ValueError, match="mu_product.*0-d array"):
        opt.load_state_dict(saved)
    assert opt.state[0]["mu_product"] == before["state"][0]["mu_product"]
