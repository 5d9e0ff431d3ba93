"""Lion against its peer, optax.lion (torch.optim has no Lion): 100 steps of the optimizer
class and of ``optax.lion`` + ``optax.apply_updates`` from the same start and gradients,
over the row's named cases (tests/_optim_cases.py); optax has no ``maximize``, so a
maximizing run is compared with optax fed the negated gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import _optim_cases as cases
from _support import assert_close
from fastloss import optim

ROW = cases.CLASS_ROWS["Lion"]
CASES = cases.named_cases(ROW)


@pytest.mark.parametrize("options", [o for _, o in CASES], ids=[label for label, _ in CASES])
def test_matches_optax_lion(options: Any, dtype: Any, rng: Any) -> None:
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    values = {p.name: p.default for p in ROW.params}
    values.update(options)
    beta1, beta2 = values["betas"]
    sign = -1.0 if values["maximize"] else 1.0
    start = rng.normal(size=(6, 7)).astype(dtype)
    grads = [(0.5 + rng.normal(size=start.shape)).astype(dtype) for _ in range(100)]
    ours = start.copy()
    opt = optim.Lion([ours], **options)
    tx = optax.lion(values["lr"], b1=beta1, b2=beta2, weight_decay=values["weight_decay"])
    theirs = jnp.asarray(start)
    opt_state = tx.init(theirs)
    for g in grads:
        opt.step([g])
        updates, opt_state = tx.update(jnp.asarray(sign * g), opt_state, theirs)
        theirs = optax.apply_updates(theirs, updates)
    assert np.asarray(theirs).dtype == dtype
    assert_close(ours, np.asarray(theirs), dtype, factor=10)
    assert_close(opt.state[0]["exp_avg"], np.asarray(opt_state[0].mu), dtype, factor=10)


def test_lion_moves_each_element_by_lr_times_the_sign(rng: Any) -> None:
    # the paper's update, derived by hand: with exp_avg = 0 the first step is
    # p - lr * sign((1 - beta1) g) - lr * wd * p, and exp_avg becomes (1 - beta2) g
    p = rng.normal(size=50)
    g = rng.normal(size=50)
    g[:3] = 0.0
    start = p.copy()
    opt = optim.Lion([p], lr=0.1, betas=(0.8, 0.9), weight_decay=0.5)
    opt.step([g])
    np.testing.assert_allclose(p, start - 0.1 * np.sign(g) - 0.1 * 0.5 * start, rtol=1e-15)
    np.testing.assert_allclose(opt.state[0]["exp_avg"], 0.1 * g, rtol=1e-15)
